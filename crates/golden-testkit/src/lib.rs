//! Fakes for running the workflows end to end on one machine, with no network but loopback.
//!
//! Everything here stands in for a service the workflows talk to on GitHub and Azure:
//! - [`acr::TokenService`]: ACR's token service (`/oauth2/exchange`, `/oauth2/token`) issuing
//!   RS256 JWTs that distribution's `auth: token` mode verifies (key and certificate from the
//!   openssl CLI), so a real `docker-registry` behaves like an ACR;
//! - [`fakes::entra`]: Entra ID's token endpoint, answering only the exact client-assertion form
//!   with the GitHub OIDC token this kit issued;
//! - [`fakes::oidc`]: GitHub's OIDC token endpoint (`ACTIONS_ID_TOKEN_REQUEST_URL`);
//! - [`fakes::github`]: the GitHub REST calls golden-report makes (issues, comments, labels,
//!   pulls), checking the token and the request shapes.
//!
//! - [`trivydb`]: a small Trivy vulnerability DB (BoltDB written by [`bolt`]) and an empty Java
//!   DB built from `tests/fixtures/trivy-db/advisories.yaml`, pushed to a test registry as the
//!   OCI artifacts Trivy downloads (`golden-testkit trivy-db`).
//!
//! Every request is logged to a [`journal::Journal`] (`requests.jsonl`, secrets never written in
//! clear), and every secret the fakes issue is listed in `issued-secrets.txt`, so a scenario can
//! assert what was sent and search every log for a leaked credential.

pub mod acr;
pub mod bolt;
pub mod fakes;
pub mod http;
pub mod journal;
pub mod kit;
pub mod trivydb;

/// A random token with a recognisable prefix (the prefix says which fake issued it).
pub fn token(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

/// Seconds since the epoch.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}
