//! Which hosts a credential may be sent to.
//!
//! Credentials from the environment (GitHub OIDC / service principal → ACR, `GOLDEN_ACR_REFRESH_TOKEN`,
//! `GOLDEN_REGISTRY_TOKEN`, `GOLDEN_REGISTRY_USERNAME`/`PASSWORD`) name no registry, so they are
//! bound here to:
//! - the push target: every registry the caller writes to ([`crate::Client::authorize`] with a
//!   push scope, uploads, mounts, manifest PUTs, attachments);
//! - the configured registry: `GOLDEN_REGISTRY`;
//! - the explicit allow-list: `GOLDEN_AUTH_HOSTS` (comma-separated `host[:port]`, `*.domain`
//!   for every host under a domain) and [`crate::ClientOptions::auth_hosts`];
//! - a registry given its own method ([`crate::ClientOptions::registry_auth`], `--from-auth`);
//! - for the Azure methods only: ACR login servers (`*.azurecr.io`, `*.azurecr.cn`,
//!   `*.azurecr.us`).
//!
//! Every other registry gets no environment credential (anonymous). Docker config credentials
//! are bound by their own key (`auths`/`credHelpers` name the host). Whatever the method, a
//! credential is only sent to the registry itself and to a token realm on the same host, or on
//! an allowed host (Docker Hub's `auth.docker.io` counts as Docker Hub's own).
//!
//! A host is `host[:port]`: two loopback registries on different ports are different hosts.

use std::collections::BTreeSet;

use reqwest::Url;

use crate::env::Env;
use crate::env_vars as ev;
pub(crate) use crate::http::is_loopback_host;
#[cfg(test)]
use crate::http::is_loopback_registry;
use crate::http::split_port;

const ACR_SUFFIXES: [&str; 3] = [".azurecr.io", ".azurecr.cn", ".azurecr.us"];
const DOCKER_HUB: [&str; 4] = [
    "docker.io",
    "index.docker.io",
    "registry-1.docker.io",
    "registry.hub.docker.com",
];
const DOCKER_HUB_AUTH: &str = "auth.docker.io";

/// `host[:port]` in one spelling: lower case, no trailing dot, the https default port dropped,
/// Docker Hub's aliases as `docker.io`.
pub(crate) fn normalize(registry: &str) -> String {
    let lower = registry.trim().to_ascii_lowercase();
    let (host, port) = split_port(&lower);
    let host = host.trim_end_matches('.');
    let host = if DOCKER_HUB.contains(&host) {
        "docker.io"
    } else {
        host
    };
    let host = if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    };
    match port {
        Some("443") | None => host,
        Some(p) => format!("{host}:{p}"),
    }
}

/// `host[:port]` of a URL, normalised like a registry (the port only when it is not the
/// scheme's default).
pub(crate) fn url_host(url: &Url) -> String {
    // `host_str` keeps the brackets of an IPv6 address.
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(p) => normalize(&format!("{host}:{p}")),
        None => normalize(host),
    }
}

/// An Azure Container Registry login server.
pub(crate) fn is_acr_host(registry: &str) -> bool {
    let n = normalize(registry);
    let host = split_port(&n).0;
    ACR_SUFFIXES
        .iter()
        .any(|s| host.len() > s.len() && host.ends_with(s))
}

/// Hosts credentials may be sent to, beyond each credential's own registry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthHosts {
    /// Normalised `host[:port]`, or `*.domain` patterns.
    entries: BTreeSet<String>,
}

impl AuthHosts {
    /// The allow-list from `env` (`GOLDEN_AUTH_HOSTS`, `GOLDEN_REGISTRY`) plus `extra`
    /// (push targets, [`crate::ClientOptions::auth_hosts`], per-registry methods).
    pub fn from_env(env: &Env, extra: impl IntoIterator<Item = impl AsRef<str>>) -> AuthHosts {
        let mut entries = BTreeSet::new();
        let listed = env.get(ev::GOLDEN_AUTH_HOSTS).unwrap_or_default();
        let configured = env.get(ev::GOLDEN_REGISTRY).unwrap_or_default();
        for raw in listed
            .split([',', ' ', '\n'])
            .chain(std::iter::once(configured.as_str()))
        {
            // GOLDEN_REGISTRY may carry a namespace (`host/ns`); only the host is bound.
            let h = raw.trim().split('/').next().unwrap_or_default();
            if !h.is_empty() {
                entries.insert(normalize(h));
            }
        }
        for h in extra {
            let h = h.as_ref().trim();
            if !h.is_empty() {
                entries.insert(normalize(h));
            }
        }
        AuthHosts { entries }
    }

    /// Whether `host` (`host[:port]`) is allowed.
    pub fn allows(&self, host: &str) -> bool {
        let n = normalize(host);
        if self.entries.contains(&n) {
            return true;
        }
        let bare = split_port(&n).0;
        self.entries.iter().any(|e| {
            e.strip_prefix("*.").is_some_and(|domain| {
                bare.len() > domain.len() + 1 && bare.ends_with(&format!(".{domain}"))
            })
        })
    }

    /// The entries, for messages.
    pub fn describe(&self) -> String {
        if self.entries.is_empty() {
            "none".into()
        } else {
            self.entries.iter().cloned().collect::<Vec<_>>().join(", ")
        }
    }
}

/// Whether a token realm on `realm_host` belongs to `registry` itself (same `host[:port]`, or
/// Docker Hub's token service for Docker Hub).
pub(crate) fn same_service(registry: &str, realm_host: &str) -> bool {
    let r = normalize(registry);
    let t = normalize(realm_host);
    r == t || (r == "docker.io" && t == DOCKER_HUB_AUTH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_an_ip_address_not_a_prefix() {
        for yes in [
            "127.0.0.1",
            "127.1.2.3",
            "localhost",
            "LOCALHOST",
            "::1",
            "[::1]",
        ] {
            assert!(is_loopback_host(yes), "{yes}");
        }
        for no in [
            "127.evil.example",
            "127.0.0.1.nip.io",
            "localhost.evil.example",
            "10.0.0.1",
            "::2",
            "",
        ] {
            assert!(!is_loopback_host(no), "{no}");
        }
        assert!(is_loopback_registry("127.0.0.1:5000"));
        assert!(is_loopback_registry("localhost:5000"));
        assert!(is_loopback_registry("[::1]:5000"));
        assert!(!is_loopback_registry("127.evil.example:5000"));
        assert!(!is_loopback_registry("127.evil.example"));
    }

    #[test]
    fn hosts_compare_with_their_port() {
        assert_eq!(normalize("MyACR.azurecr.io:443"), "myacr.azurecr.io");
        assert_eq!(normalize("index.docker.io"), "docker.io");
        assert_eq!(normalize("127.0.0.1:5000"), "127.0.0.1:5000");
        assert_ne!(normalize("127.0.0.1:5000"), normalize("127.0.0.1:5001"));
        let u = Url::parse("https://r.example:443/oauth2/token").unwrap();
        assert_eq!(url_host(&u), "r.example");
        let u = Url::parse("http://127.0.0.1:5001/token").unwrap();
        assert_eq!(url_host(&u), "127.0.0.1:5001");
        let u = Url::parse("http://[::1]:5001/token").unwrap();
        assert_eq!(url_host(&u), "[::1]:5001");
        assert!(same_service("docker.io", "auth.docker.io"));
        assert!(same_service("r.example", "R.example:443"));
        assert!(!same_service("127.0.0.1:5000", "127.0.0.1:5001"));
        assert!(!same_service("r.example", "auth.docker.io"));
    }

    #[test]
    fn acr_login_servers() {
        assert!(is_acr_host("myacr.azurecr.io"));
        assert!(is_acr_host("myacr.azurecr.cn:443"));
        assert!(!is_acr_host("azurecr.io"));
        assert!(!is_acr_host("myacr.azurecr.io.evil.example"));
        assert!(!is_acr_host("docker.io"));
    }

    #[test]
    fn allow_list_from_env_and_extra() {
        let env = Env::from_pairs([
            (
                "GOLDEN_AUTH_HOSTS",
                "a.example, 127.0.0.1:5000,*.corp.example",
            ),
            ("GOLDEN_REGISTRY", "reg.example/golden"),
        ]);
        let h = AuthHosts::from_env(&env, ["target.example:8443"]);
        for yes in [
            "a.example",
            "A.example:443",
            "127.0.0.1:5000",
            "x.corp.example",
            "reg.example",
            "target.example:8443",
        ] {
            assert!(h.allows(yes), "{yes}");
        }
        for no in [
            "127.0.0.1:5001",
            "corp.example",
            "xcorp.example",
            "b.example",
            "target.example",
        ] {
            assert!(!h.allows(no), "{no}");
        }
        assert!(!AuthHosts::from_env(&Env::from_pairs::<&str, &str>([]), [""]).allows("a"));
    }
}
