//! Integration tests of golden-scan (one binary, modules per area). Tests named `docker_*` use
//! the real Docker engine and fail loudly without one.

mod archive;
mod docker;
mod dockle;
mod inventory;
mod outputs;
mod policy;
mod props;
mod support;
mod trivy;
