//! Credentials: which method applies to a registry ([`Auth::detect`]) and the token protocols
//! (registry bearer challenge, ACR exchange, Entra, GitHub OIDC).
//!
//! Auto-detection order (first whose inputs are present wins; `GOLDEN_AUTH` / `--auth` forces
//! one):
//! 1. `github-oidc`: `ACTIONS_ID_TOKEN_REQUEST_URL` + `ACTIONS_ID_TOKEN_REQUEST_TOKEN` +
//!    `AZURE_CLIENT_ID` + `AZURE_TENANT_ID` → GitHub ID token (audience
//!    `api://AzureADTokenExchange`) → Entra token (client assertion) → ACR `/oauth2/exchange` →
//!    ACR refresh token → `/oauth2/token` with the scopes needed → bearer.
//! 2. `service-principal`: `AZURE_CLIENT_ID` + `AZURE_TENANT_ID` + `AZURE_CLIENT_SECRET` → Entra
//!    token (client secret) → same exchange.
//! 3. `token`: `GOLDEN_ACR_REFRESH_TOKEN` (ACR refresh token, e.g. `az acr login
//!    --expose-token`), `GOLDEN_REGISTRY_TOKEN` (access token used as-is) or
//!    `GOLDEN_REGISTRY_USERNAME` + `GOLDEN_REGISTRY_PASSWORD`.
//! 4. `docker-config`: `$DOCKER_CONFIG/config.json` (or `~/.docker/config.json`) `auths`
//!    (`auth`, `username`/`password`, `identitytoken` = refresh token), `credHelpers`,
//!    `credsStore` (`docker-credential-<helper> get`).
//! 5. `anonymous`: no credentials; registry bearer challenges are still answered (anonymous
//!    token), which is what public repositories need.

pub(crate) mod azure;
pub(crate) mod challenge;
pub(crate) mod docker;
pub(crate) mod hosts;
pub(crate) mod token;

pub use hosts::AuthHosts;

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use crate::env::Env;
use crate::env_vars as ev;
use crate::error::AuthError;
use crate::secret::Secret;

pub use azure::AZURE_CONTAINER_REGISTRY_SCOPE;

/// The username ACR (and docker) use to say "the password is a refresh token".
pub const NULL_GUID_USERNAME: &str = "00000000-0000-0000-0000-000000000000";

/// An auth method, as named on the command line (`--auth`) and in `GOLDEN_AUTH`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuthKind {
    /// Detect in the documented order.
    #[default]
    Auto,
    GithubOidc,
    ServicePrincipal,
    Token,
    DockerConfig,
    Anonymous,
}

impl AuthKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthKind::Auto => "auto",
            AuthKind::GithubOidc => "github-oidc",
            AuthKind::ServicePrincipal => "service-principal",
            AuthKind::Token => "token",
            AuthKind::DockerConfig => "docker-config",
            AuthKind::Anonymous => "anonymous",
        }
    }
}

impl fmt::Display for AuthKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AuthKind {
    type Err = AuthError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.trim() {
            "" | "auto" => AuthKind::Auto,
            "github-oidc" | "oidc" => AuthKind::GithubOidc,
            "service-principal" | "sp" => AuthKind::ServicePrincipal,
            "token" => AuthKind::Token,
            "docker-config" | "docker" => AuthKind::DockerConfig,
            "anonymous" | "none" => AuthKind::Anonymous,
            other => return Err(AuthError::UnknownMethod(other.to_string())),
        })
    }
}

/// What is presented to a registry or its token service.
#[derive(Debug, Clone)]
pub enum Credential {
    /// Nothing (anonymous bearer tokens are still fetched when challenged).
    Anonymous,
    /// Username and password: HTTP Basic, or Basic on the token service's GET. A username of
    /// [`NULL_GUID_USERNAME`] marks the password as an ACR refresh token.
    Basic { username: String, password: Secret },
    /// A refresh token (ACR refresh token, docker `identitytoken`): OAuth2 POST to the realm.
    RefreshToken(Secret),
    /// An access token, sent as-is as `Authorization: Bearer`.
    AccessToken(Secret),
    /// Entra ID → ACR exchange (GitHub OIDC or client secret).
    Azure(Arc<azure::AzureCredential>),
}

/// The auth method resolved for one registry.
#[derive(Debug, Clone)]
pub struct Auth {
    pub kind: AuthKind,
    pub credential: Credential,
    /// Human description for messages (never contains a secret), e.g.
    /// `docker-config (/home/u/.docker/config.json, credHelpers: acr-env)`.
    pub description: String,
    /// Hosts this credential may be sent to besides its registry (token realms elsewhere are
    /// refused unless listed here).
    pub hosts: AuthHosts,
}

impl Auth {
    /// Anonymous access.
    pub fn anonymous() -> Auth {
        Auth {
            kind: AuthKind::Anonymous,
            credential: Credential::Anonymous,
            description: "anonymous".into(),
            hosts: AuthHosts::default(),
        }
    }

    /// Resolve the auth method for `registry` (`host[:port]`) from `env`, in the documented
    /// order, or the forced `kind`, bound to the hosts `env` allows (`GOLDEN_AUTH_HOSTS`,
    /// `GOLDEN_REGISTRY`); see [`Auth::detect_for`].
    pub fn detect(env: &Env, registry: &str, kind: AuthKind) -> Result<Auth, AuthError> {
        Auth::detect_for(
            env,
            registry,
            kind,
            &AuthHosts::from_env(env, std::iter::empty::<&str>()),
        )
    }

    /// Resolve the auth method for `registry` (`host[:port]`) from `env`, in the documented
    /// order, or the forced `kind`. A forced method whose inputs are missing is an error naming
    /// the missing variable; in `Auto` mode a method whose inputs are missing is skipped.
    ///
    /// Credentials from the environment are bound to hosts: they apply only when `hosts`
    /// allows `registry` (the Azure methods also on ACR login servers). Elsewhere `Auto`
    /// continues with the docker config, then anonymous access; a forced method is an error
    /// saying how to allow the host. Docker config credentials are bound by their own key.
    pub fn detect_for(
        env: &Env,
        registry: &str,
        kind: AuthKind,
        hosts: &AuthHosts,
    ) -> Result<Auth, AuthError> {
        let mut auth = Auth::resolve(env, registry, kind, hosts)?;
        auth.hosts = hosts.clone();
        Ok(auth)
    }

    fn resolve(
        env: &Env,
        registry: &str,
        kind: AuthKind,
        hosts: &AuthHosts,
    ) -> Result<Auth, AuthError> {
        let kind = match kind {
            AuthKind::Auto => match env.get(ev::GOLDEN_AUTH) {
                Some(v) => v.parse()?,
                None => AuthKind::Auto,
            },
            k => k,
        };
        let env_bound = hosts.allows(registry);
        let azure_bound = env_bound || hosts::is_acr_host(registry);
        let unbound = |method: &str, azure: bool| AuthError::NotApplicable {
            method: method.to_string(),
            registry: registry.to_string(),
            reason: format!(
                "its credentials are only sent to the push target, GOLDEN_REGISTRY{} and the hosts in GOLDEN_AUTH_HOSTS (allowed now: {}); add `{registry}` to GOLDEN_AUTH_HOSTS if it should receive them, or choose another method for it",
                if azure { ", ACR login servers" } else { "" },
                hosts.describe()
            ),
        };
        match kind {
            AuthKind::Auto => {}
            // Inputs first (a missing variable is the more useful message), then the binding.
            AuthKind::GithubOidc => {
                let a = azure::github_oidc(env)?;
                return if azure_bound {
                    Ok(a)
                } else {
                    Err(unbound("github-oidc", true))
                };
            }
            AuthKind::ServicePrincipal => {
                let a = azure::service_principal(env)?;
                return if azure_bound {
                    Ok(a)
                } else {
                    Err(unbound("service-principal", true))
                };
            }
            AuthKind::Token => {
                let found = direct_token(env)?.ok_or(AuthError::MissingEnv {
                    method: "token",
                    var: "GOLDEN_ACR_REFRESH_TOKEN, GOLDEN_REGISTRY_TOKEN or GOLDEN_REGISTRY_USERNAME+GOLDEN_REGISTRY_PASSWORD",
                })?;
                return if env_bound {
                    Ok(found)
                } else {
                    Err(unbound("token", false))
                };
            }
            AuthKind::DockerConfig => {
                return docker::from_config(env, registry)?.ok_or_else(|| {
                    AuthError::NotApplicable {
                        method: "docker-config".into(),
                        registry: registry.to_string(),
                        reason: format!(
                            "no credentials for it in {} (run `docker login {registry}`)",
                            docker::config_path(env)
                                .map(|p| p.display().to_string())
                                .unwrap_or_else(|| "~/.docker/config.json".into())
                        ),
                    }
                });
            }
            AuthKind::Anonymous => return Ok(Auth::anonymous()),
        }
        let mut withheld: Vec<&str> = Vec::new();
        let azure_ids = env.has(ev::AZURE_CLIENT_ID) && env.has(ev::AZURE_TENANT_ID);
        if azure_ids
            && env.has(ev::ACTIONS_ID_TOKEN_REQUEST_URL)
            && env.has(ev::ACTIONS_ID_TOKEN_REQUEST_TOKEN)
        {
            if azure_bound {
                return azure::github_oidc(env);
            }
            withheld.push("github-oidc");
        } else if azure_ids && env.has(ev::AZURE_CLIENT_SECRET) {
            if azure_bound {
                return azure::service_principal(env);
            }
            withheld.push("service-principal");
        }
        if let Some(a) = direct_token(env)? {
            if env_bound {
                return Ok(a);
            }
            withheld.push("token");
        }
        if let Some(a) = docker::from_config(env, registry)? {
            return Ok(a);
        }
        let mut a = Auth::anonymous();
        if !withheld.is_empty() {
            a.description = format!(
                "anonymous ({} credentials are not sent to `{registry}`: it is not the push target, GOLDEN_REGISTRY or in GOLDEN_AUTH_HOSTS)",
                withheld.join(" and ")
            );
        }
        Ok(a)
    }

    /// Whether this credential may be sent to a token realm on `realm_host` (`host[:port]`)
    /// for `registry`: the registry's own host, or an allowed one. Anonymous access sends
    /// nothing, so any realm will do.
    pub fn may_send_to(&self, registry: &str, realm_host: &str) -> bool {
        matches!(self.credential, Credential::Anonymous)
            || hosts::same_service(registry, realm_host)
            || self.hosts.allows(realm_host)
    }
}

fn direct_token(env: &Env) -> Result<Option<Auth>, AuthError> {
    if let Some(t) = env.get(ev::GOLDEN_ACR_REFRESH_TOKEN) {
        return Ok(Some(Auth {
            kind: AuthKind::Token,
            credential: Credential::RefreshToken(Secret::new(t)),
            description: "token (ACR refresh token from GOLDEN_ACR_REFRESH_TOKEN)".into(),
            hosts: AuthHosts::default(),
        }));
    }
    if let Some(t) = env.get(ev::GOLDEN_REGISTRY_TOKEN) {
        return Ok(Some(Auth {
            kind: AuthKind::Token,
            credential: Credential::AccessToken(Secret::new(t)),
            description: "token (access token from GOLDEN_REGISTRY_TOKEN)".into(),
            hosts: AuthHosts::default(),
        }));
    }
    match (
        env.get(ev::GOLDEN_REGISTRY_USERNAME),
        env.get(ev::GOLDEN_REGISTRY_PASSWORD),
    ) {
        (Some(u), Some(p)) => Ok(Some(Auth {
            kind: AuthKind::Token,
            credential: Credential::Basic {
                username: u.clone(),
                password: Secret::new(p),
            },
            description: format!(
                "token (username `{u}` and password from GOLDEN_REGISTRY_USERNAME/PASSWORD)"
            ),
            hosts: AuthHosts::default(),
        })),
        (Some(_), None) => Err(AuthError::MissingEnv {
            method: "token",
            var: "GOLDEN_REGISTRY_PASSWORD",
        }),
        (None, Some(_)) => Err(AuthError::MissingEnv {
            method: "token",
            var: "GOLDEN_REGISTRY_USERNAME",
        }),
        (None, None) => Ok(None),
    }
}

/// An access request for one repository: `repository:<name>:pull`, `...:pull,push` or
/// `...:pull,push,delete` (deleting manifests: ACR and distribution ask for `delete`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Scope {
    pub repository: String,
    pub push: bool,
    pub delete: bool,
}

impl Scope {
    pub fn pull(repository: &str) -> Scope {
        Scope::with_level(repository, 0)
    }
    pub fn push(repository: &str) -> Scope {
        Scope::with_level(repository, 1)
    }
    pub fn delete(repository: &str) -> Scope {
        Scope::with_level(repository, 2)
    }
    /// 0 pull, 1 pull+push, 2 pull+push+delete (each level includes the ones below).
    pub fn level(&self) -> u8 {
        if self.delete { 2 } else { u8::from(self.push) }
    }
    pub fn with_level(repository: &str, level: u8) -> Scope {
        Scope {
            repository: repository.to_string(),
            push: level >= 1,
            delete: level >= 2,
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.level() {
            0 => write!(f, "repository:{}:pull", self.repository),
            1 => write!(f, "repository:{}:pull,push", self.repository),
            _ => write!(f, "repository:{}:pull,push,delete", self.repository),
        }
    }
}

/// Check an endpoint URL: https, or http on a loopback host.
pub(crate) fn checked_url(what: &'static str, raw: &str) -> Result<reqwest::Url, AuthError> {
    let url = reqwest::Url::parse(raw).map_err(|e| AuthError::BadUrl {
        what,
        url: raw.to_string(),
        reason: e.to_string(),
    })?;
    match url.scheme() {
        "https" => Ok(url),
        "http" if hosts::is_loopback_host(url.host_str().unwrap_or_default()) => Ok(url),
        "http" => Err(AuthError::InsecureUrl {
            what,
            url: raw.to_string(),
        }),
        other => Err(AuthError::BadUrl {
            what,
            url: raw.to_string(),
            reason: format!("scheme `{other}` is not https"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::from_pairs(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    const OIDC: [(&str, &str); 4] = [
        (
            "ACTIONS_ID_TOKEN_REQUEST_URL",
            "https://gh.example/token?x=1",
        ),
        ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "req-token"),
        ("AZURE_CLIENT_ID", "11111111-2222-3333-4444-555555555555"),
        ("AZURE_TENANT_ID", "tenant-1"),
    ];

    #[test]
    fn detection_follows_the_documented_order() {
        let mut all: Vec<(&str, &str)> = OIDC.to_vec();
        all.extend([
            ("AZURE_CLIENT_SECRET", "sp-secret"),
            ("GOLDEN_ACR_REFRESH_TOKEN", "rt"),
        ]);
        let a = Auth::detect(&env(&all), "r.azurecr.io", AuthKind::Auto).unwrap();
        assert_eq!(a.kind, AuthKind::GithubOidc);
        let a = Auth::detect(&env(&all[2..]), "r.azurecr.io", AuthKind::Auto).unwrap();
        assert_eq!(a.kind, AuthKind::ServicePrincipal);
        let mut token = all[5..].to_vec();
        token.push(("GOLDEN_AUTH_HOSTS", "r.azurecr.io"));
        let a = Auth::detect(&env(&token), "r.azurecr.io", AuthKind::Auto).unwrap();
        assert_eq!(a.kind, AuthKind::Token);
        assert!(matches!(a.credential, Credential::RefreshToken(_)));
        let none = Env::from_pairs([("DOCKER_CONFIG", "/nonexistent-golden")]);
        let a = Auth::detect(&none, "r.azurecr.io", AuthKind::Auto).unwrap();
        assert_eq!(a.kind, AuthKind::Anonymous);
        // GOLDEN_AUTH forces a method.
        let mut forced = all.clone();
        forced.push(("GOLDEN_AUTH", "anonymous"));
        assert_eq!(
            Auth::detect(&env(&forced), "r", AuthKind::Auto)
                .unwrap()
                .kind,
            AuthKind::Anonymous
        );
    }

    #[test]
    fn forced_method_with_missing_inputs_names_the_variable() {
        let e = Auth::detect(&env(&[("AZURE_CLIENT_ID", "c")]), "r", AuthKind::GithubOidc)
            .unwrap_err()
            .to_string();
        assert!(e.contains("AZURE_TENANT_ID"), "{e}");
        let e = Auth::detect(
            &env(&[("GOLDEN_REGISTRY_USERNAME", "u")]),
            "r",
            AuthKind::Auto,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("GOLDEN_REGISTRY_PASSWORD"), "{e}");
        assert!(
            "bogus"
                .parse::<AuthKind>()
                .unwrap_err()
                .to_string()
                .contains("known:")
        );
    }

    #[test]
    fn descriptions_never_contain_secrets() {
        for pairs in [
            vec![("GOLDEN_ACR_REFRESH_TOKEN", "s3cr3t-value")],
            vec![("GOLDEN_REGISTRY_TOKEN", "s3cr3t-value")],
            vec![
                ("GOLDEN_REGISTRY_USERNAME", "u"),
                ("GOLDEN_REGISTRY_PASSWORD", "s3cr3t-value"),
            ],
            vec![
                ("AZURE_CLIENT_ID", "c"),
                ("AZURE_TENANT_ID", "t"),
                ("AZURE_CLIENT_SECRET", "s3cr3t-value"),
            ],
        ] {
            let mut pairs = pairs;
            pairs.push(("GOLDEN_AUTH_HOSTS", "r"));
            let a = Auth::detect(&env(&pairs), "r", AuthKind::Auto).unwrap();
            assert_ne!(a.kind, AuthKind::Anonymous);
            let shown = format!("{} {:?}", a.description, a);
            assert!(!shown.contains("s3cr3t-value"), "{shown}");
        }
    }

    #[test]
    fn urls_must_be_https_except_loopback() {
        assert!(checked_url("x", "https://login.microsoftonline.com").is_ok());
        assert!(checked_url("x", "http://127.0.0.1:8080/a").is_ok());
        assert!(checked_url("x", "http://localhost:1").is_ok());
        assert!(checked_url("x", "http://[::1]:1").is_ok());
        // A name that starts like a loopback address is still a name.
        assert!(checked_url("x", "http://127.evil.example/token").is_err());
        assert!(checked_url("x", "http://localhost.evil.example/token").is_err());
        let e = checked_url("authority host", "http://login.example")
            .unwrap_err()
            .to_string();
        assert!(e.contains("must use https"), "{e}");
        assert!(checked_url("x", "ftp://a").is_err());
    }

    #[test]
    fn scopes_render_like_the_token_spec() {
        assert_eq!(Scope::pull("a/b").to_string(), "repository:a/b:pull");
        assert_eq!(Scope::push("a").to_string(), "repository:a:pull,push");
    }

    const SP: [(&str, &str); 4] = [
        ("AZURE_CLIENT_ID", "c"),
        ("AZURE_TENANT_ID", "t"),
        ("AZURE_CLIENT_SECRET", "sp-secret"),
        ("DOCKER_CONFIG", "/nonexistent-golden"),
    ];

    #[test]
    fn azure_credentials_go_to_acr_and_allowed_hosts_only() {
        let sp = env(&SP);
        for (registry, kind) in [
            ("myacr.azurecr.io", AuthKind::ServicePrincipal),
            ("myacr.azurecr.cn:443", AuthKind::ServicePrincipal),
            ("docker.io", AuthKind::Anonymous),
            ("ghcr.io", AuthKind::Anonymous),
            ("myacr.azurecr.io.evil.example", AuthKind::Anonymous),
            ("127.0.0.1:5000", AuthKind::Anonymous),
        ] {
            let a = Auth::detect(&sp, registry, AuthKind::Auto).unwrap();
            assert_eq!(a.kind, kind, "{registry}");
        }
        let a = Auth::detect(&sp, "docker.io", AuthKind::Auto).unwrap();
        assert!(
            a.description
                .contains("service-principal credentials are not sent to `docker.io`"),
            "{}",
            a.description
        );
        // Allowed explicitly, by GOLDEN_REGISTRY, or as a push target (extra hosts).
        let mut listed = SP.to_vec();
        listed.push(("GOLDEN_AUTH_HOSTS", "127.0.0.1:5000"));
        let a = Auth::detect(&env(&listed), "127.0.0.1:5000", AuthKind::Auto).unwrap();
        assert_eq!(a.kind, AuthKind::ServicePrincipal);
        let a = Auth::detect(&env(&listed), "127.0.0.1:5001", AuthKind::Auto).unwrap();
        assert_eq!(a.kind, AuthKind::Anonymous, "another port is another host");
        let mut configured = SP.to_vec();
        configured.push(("GOLDEN_REGISTRY", "reg.example/golden"));
        let a = Auth::detect(&env(&configured), "reg.example", AuthKind::Auto).unwrap();
        assert_eq!(a.kind, AuthKind::ServicePrincipal);
        let target = AuthHosts::from_env(&sp, ["push.example:8443"]);
        let a = Auth::detect_for(&sp, "push.example:8443", AuthKind::Auto, &target).unwrap();
        assert_eq!(a.kind, AuthKind::ServicePrincipal);
    }

    #[test]
    fn token_credentials_go_to_allowed_hosts_only_not_acr_in_general() {
        for pairs in [
            vec![("GOLDEN_ACR_REFRESH_TOKEN", "rt")],
            vec![("GOLDEN_REGISTRY_TOKEN", "at")],
            vec![
                ("GOLDEN_REGISTRY_USERNAME", "u"),
                ("GOLDEN_REGISTRY_PASSWORD", "p"),
            ],
        ] {
            let mut pairs = pairs;
            pairs.push(("DOCKER_CONFIG", "/nonexistent-golden"));
            let e = env(&pairs);
            for unbound in ["docker.io", "other.azurecr.io", "127.0.0.1:5000"] {
                let a = Auth::detect(&e, unbound, AuthKind::Auto).unwrap();
                assert_eq!(a.kind, AuthKind::Anonymous, "{unbound} {pairs:?}");
            }
            let bound = AuthHosts::from_env(&e, ["127.0.0.1:5000"]);
            let a = Auth::detect_for(&e, "127.0.0.1:5000", AuthKind::Auto, &bound).unwrap();
            assert_eq!(a.kind, AuthKind::Token);
        }
    }

    #[test]
    fn a_forced_method_is_not_sent_to_an_unbound_host() {
        let e = Auth::detect(&env(&SP), "docker.io", AuthKind::ServicePrincipal)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("docker.io") && e.contains("GOLDEN_AUTH_HOSTS"),
            "{e}"
        );
        let e = Auth::detect(
            &env(&[("GOLDEN_REGISTRY_TOKEN", "at")]),
            "docker.io",
            AuthKind::Token,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("GOLDEN_AUTH_HOSTS"), "{e}");
        // Forcing it for an ACR login server is fine.
        let a = Auth::detect(&env(&SP), "x.azurecr.io", AuthKind::ServicePrincipal).unwrap();
        assert_eq!(a.kind, AuthKind::ServicePrincipal);
    }

    #[test]
    fn realms_on_other_hosts_need_an_allowed_host() {
        let mut pairs = SP.to_vec();
        pairs.push(("GOLDEN_AUTH_HOSTS", "127.0.0.1:5000,auth.example"));
        let a = Auth::detect(&env(&pairs), "127.0.0.1:5000", AuthKind::Auto).unwrap();
        assert!(a.may_send_to("127.0.0.1:5000", "127.0.0.1:5000"));
        assert!(a.may_send_to("127.0.0.1:5000", "auth.example"));
        assert!(!a.may_send_to("127.0.0.1:5000", "127.0.0.1:5001"));
        assert!(!a.may_send_to("127.0.0.1:5000", "evil.example"));
        // Nothing is sent anonymously: any realm will do.
        assert!(Auth::anonymous().may_send_to("docker.io", "evil.example"));
    }
}
