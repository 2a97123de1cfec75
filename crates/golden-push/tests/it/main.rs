//! Integration tests of golden-push against real registries (Debian's docker-registry, started
//! per test on a random loopback port) and, for `docker_*` tests, the real Docker engine. Only
//! Entra ID and GitHub's OIDC endpoint are faked (wiremock, asserting what they receive).
//! Test names start with `registry_` or `docker_` so nextest runs them one at a time.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod support;

mod auth;
mod faults;
mod front;
mod hints;
mod images;
mod push;
mod replicate;
mod sign;
