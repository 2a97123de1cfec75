//! Integration tests of golden-xtask: every composite action under `actions/` executed the way
//! the GitHub runner executes it (inputs, `env:` substitution, `GITHUB_OUTPUT`/`GITHUB_ENV`/
//! `GITHUB_PATH`/`GITHUB_STEP_SUMMARY`, workflow commands, output mapping), against the real
//! golden binaries, the real engine (`docker_*` tests) and a real registry started with
//! scripts/registry.sh (`registry_*` tests); plus hostile inputs that must stay inert.

// Test helpers: a failed setup step should panic with its error.
#![allow(clippy::unwrap_used)]

mod chain;
mod env_docs;
mod harness;
mod injection;
mod lint;
mod plan;
mod setup;
mod trivy_action;
mod workflows;
