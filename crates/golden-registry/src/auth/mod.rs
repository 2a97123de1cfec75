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
pub(crate) mod token;

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
}

impl Auth {
    /// Anonymous access.
    pub fn anonymous() -> Auth {
        Auth {
            kind: AuthKind::Anonymous,
            credential: Credential::Anonymous,
            description: "anonymous".into(),
        }
    }

    /// Resolve the auth method for `registry` (`host[:port]`) from `env`, in the documented
    /// order, or the forced `kind`. A forced method whose inputs are missing is an error naming
    /// the missing variable; in `Auto` mode a method whose inputs are missing is skipped.
    pub fn detect(env: &Env, registry: &str, kind: AuthKind) -> Result<Auth, AuthError> {
        let kind = match kind {
            AuthKind::Auto => match env.get(ev::GOLDEN_AUTH) {
                Some(v) => v.parse()?,
                None => AuthKind::Auto,
            },
            k => k,
        };
        match kind {
            AuthKind::Auto => {}
            AuthKind::GithubOidc => return azure::github_oidc(env),
            AuthKind::ServicePrincipal => return azure::service_principal(env),
            AuthKind::Token => {
                return direct_token(env)?.ok_or(AuthError::MissingEnv {
                    method: "token",
                    var: "GOLDEN_ACR_REFRESH_TOKEN, GOLDEN_REGISTRY_TOKEN or GOLDEN_REGISTRY_USERNAME+GOLDEN_REGISTRY_PASSWORD",
                });
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
        let azure_ids = env.has(ev::AZURE_CLIENT_ID) && env.has(ev::AZURE_TENANT_ID);
        if azure_ids
            && env.has(ev::ACTIONS_ID_TOKEN_REQUEST_URL)
            && env.has(ev::ACTIONS_ID_TOKEN_REQUEST_TOKEN)
        {
            return azure::github_oidc(env);
        }
        if azure_ids && env.has(ev::AZURE_CLIENT_SECRET) {
            return azure::service_principal(env);
        }
        if let Some(a) = direct_token(env)? {
            return Ok(a);
        }
        if let Some(a) = docker::from_config(env, registry)? {
            return Ok(a);
        }
        Ok(Auth::anonymous())
    }
}

fn direct_token(env: &Env) -> Result<Option<Auth>, AuthError> {
    if let Some(t) = env.get(ev::GOLDEN_ACR_REFRESH_TOKEN) {
        return Ok(Some(Auth {
            kind: AuthKind::Token,
            credential: Credential::RefreshToken(Secret::new(t)),
            description: "token (ACR refresh token from GOLDEN_ACR_REFRESH_TOKEN)".into(),
        }));
    }
    if let Some(t) = env.get(ev::GOLDEN_REGISTRY_TOKEN) {
        return Ok(Some(Auth {
            kind: AuthKind::Token,
            credential: Credential::AccessToken(Secret::new(t)),
            description: "token (access token from GOLDEN_REGISTRY_TOKEN)".into(),
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

/// An access request for one repository: `repository:<name>:pull` or `...:pull,push`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Scope {
    pub repository: String,
    pub push: bool,
}

impl Scope {
    pub fn pull(repository: &str) -> Scope {
        Scope {
            repository: repository.to_string(),
            push: false,
        }
    }
    pub fn push(repository: &str) -> Scope {
        Scope {
            repository: repository.to_string(),
            push: true,
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.push {
            write!(f, "repository:{}:pull,push", self.repository)
        } else {
            write!(f, "repository:{}:pull", self.repository)
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
        "http" if is_loopback_host(url.host_str().unwrap_or_default()) => Ok(url),
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

pub(crate) fn is_loopback_host(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h == "localhost" || h == "::1" || h.starts_with("127.")
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
        let a = Auth::detect(&env(&all[5..]), "r.azurecr.io", AuthKind::Auto).unwrap();
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
            let a = Auth::detect(&env(&pairs), "r", AuthKind::Auto).unwrap();
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
}
