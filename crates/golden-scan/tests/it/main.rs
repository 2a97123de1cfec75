//! Integration tests of golden-scan (one binary, modules per area). Tests named `docker_*` use
//! the real Docker engine, `registry_*` a real local registry; both fail loudly without them.

// Test helpers: a failed setup step should panic with its error.
#![allow(clippy::unwrap_used)]

mod archive;
mod docker;
mod dockle;
mod inventory;
mod lang;
mod memory;
mod outputs;
mod policy;
mod props;
mod registry;
mod support;
mod trivy;
mod trivy_real;
mod vex;
