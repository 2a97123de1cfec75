//! Integration tests. Tests named `docker_*` use the real engine (nextest runs them one at a
//! time) and fail, never skip, when no engine answers: run scripts/ensure-docker.sh. Tests named
//! `registry_*` also start real registries (scripts/registry.sh) and push with skopeo.

mod acr_pull;
mod archive;
mod base_pull;
mod bootstrap;

mod builds;
mod cache;
mod common;
mod dockerignore_peer;
mod errors;
mod plan_chain;
