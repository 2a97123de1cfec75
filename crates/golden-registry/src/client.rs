//! The client: one HTTP connection pool, per-registry auth state, and the request loop
//! (authorise → send with retries → on 401 re-authorise once → classify errors).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use reqwest::header::{HeaderValue, WWW_AUTHENTICATE};
use reqwest::{Response, StatusCode, Url};

use crate::auth::challenge::{self, Challenge};
use crate::auth::hosts;
use crate::auth::token::{self, TokenFailure, TokenRequest};
use crate::auth::{Auth, AuthHosts, AuthKind, Credential, NULL_GUID_USERNAME, Scope, checked_url};
use crate::env::Env;
use crate::error::{AuthError, ErrorBody, RegistryError};
use crate::http::{Http, HttpSettings, Req, is_loopback_registry, registry_base};
pub use crate::retry::RetryPolicy;
use crate::retry::{self};
use crate::secret::Secret;

/// Settings of a [`Client`].
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Auth method for every registry (`Auto` = the documented detection order).
    pub auth: AuthKind,
    /// Per-registry override (`host[:port]` → method), e.g. the source of a copy.
    pub registry_auth: HashMap<String, AuthKind>,
    /// Where auth inputs are read from.
    pub env: Env,
    /// Hosts (`host[:port]`, `*.domain`) that credentials from the environment may be sent
    /// to, besides the registries written to (push targets), `GOLDEN_REGISTRY`,
    /// `GOLDEN_AUTH_HOSTS` and the keys of `registry_auth` (see [`AuthHosts`]).
    pub auth_hosts: Vec<String>,
    /// Allow plain HTTP to non-loopback registries.
    pub insecure: bool,
    pub retry: RetryPolicy,
    /// Upload chunk size in bytes (blobs up to this size go in one request).
    pub chunk_size: usize,
    pub user_agent: String,
    pub connect_timeout: Duration,
    /// Maximum time without progress on a read.
    pub read_timeout: Duration,
}

impl ClientOptions {
    /// What the connection pools need.
    pub(crate) fn http_settings(&self) -> HttpSettings {
        HttpSettings {
            user_agent: self.user_agent.clone(),
            connect_timeout: self.connect_timeout,
            read_timeout: self.read_timeout,
        }
    }
}

impl Default for ClientOptions {
    fn default() -> Self {
        let HttpSettings {
            user_agent,
            connect_timeout,
            read_timeout,
        } = HttpSettings::default();
        ClientOptions {
            auth: AuthKind::Auto,
            registry_auth: HashMap::new(),
            env: Env::process(),
            auth_hosts: Vec::new(),
            insecure: false,
            retry: RetryPolicy::default(),
            chunk_size: 8 << 20,
            user_agent,
            connect_timeout,
            read_timeout,
        }
    }
}

/// An OCI distribution client. Cheap to clone (shared pool and token caches).
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) http: Http,
    pub(crate) opts: ClientOptions,
    registries: Mutex<HashMap<String, Arc<RegistryHandle>>>,
    /// Registries written to (push targets): credentials from the environment are bound to
    /// them.
    targets: Mutex<std::collections::BTreeSet<String>>,
}

/// Per-registry state.
pub(crate) struct RegistryHandle {
    pub(crate) host: String,
    pub(crate) base: Url,
    pub(crate) auth: Auth,
    /// Whether the environment's credentials were bound to this registry when `auth` was
    /// resolved (if not, becoming a push target resolves it again).
    bound: bool,
    state: tokio::sync::Mutex<AuthState>,
    current: RwLock<Option<Arc<CachedAuth>>>,
}

#[derive(Default)]
struct AuthState {
    challenge: Option<Challenge>,
    /// Union of the scopes asked so far (repository → access level, see [`Scope::level`]).
    wanted: BTreeMap<String, u8>,
    /// ACR refresh token from the exchange (Azure methods).
    refresh: Option<Secret>,
}

struct CachedAuth {
    header: Option<HeaderValue>,
    /// `None`: covers everything (no auth, Basic, a given access token).
    scopes: Option<BTreeMap<String, u8>>,
    expires: Option<Instant>,
}

impl CachedAuth {
    fn covers(&self, scopes: &[Scope]) -> bool {
        if self.expires.is_some_and(|e| Instant::now() >= e) {
            return false;
        }
        match &self.scopes {
            None => true,
            Some(have) => scopes
                .iter()
                .all(|s| have.get(&s.repository).is_some_and(|l| *l >= s.level())),
        }
    }
}

impl Client {
    /// A client with `options`. Auth is resolved per registry on first use.
    pub fn new(options: ClientOptions) -> Result<Client, RegistryError> {
        let http = Http::new(&options.http_settings())?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                opts: options,
                registries: Mutex::new(HashMap::new()),
                targets: Mutex::new(std::collections::BTreeSet::new()),
            }),
        })
    }

    pub fn options(&self) -> &ClientOptions {
        &self.inner.opts
    }

    /// An Entra ID access token for `scope` (e.g. `https://vault.azure.net/.default` for Azure
    /// Key Vault) from the same federation a push to ACR uses: GitHub OIDC when its variables
    /// are there (`AZURE_CLIENT_ID`, `AZURE_TENANT_ID`, `ACTIONS_ID_TOKEN_REQUEST_*`), else the
    /// service principal's `AZURE_CLIENT_SECRET`. The token is a [`Secret`] (never printed).
    pub async fn entra_token(&self, scope: &str) -> Result<Secret, AuthError> {
        let env = &self.inner.opts.env;
        let auth = match crate::auth::azure::github_oidc(env) {
            Ok(a) => a,
            Err(oidc) => crate::auth::azure::service_principal(env).map_err(|_| oidc)?,
        };
        let Credential::Azure(az) = auth.credential else {
            // Both methods above always give an Azure credential.
            return Err(AuthError::MissingEnv {
                method: "github-oidc",
                var: crate::env_vars::AZURE_CLIENT_ID,
            });
        };
        az.with_scope(scope).entra_token(&self.inner.http).await
    }

    /// The auth method in use for `registry` (resolving it if needed).
    pub fn auth_for(&self, registry: &str) -> Result<Auth, RegistryError> {
        Ok(self.registry(registry)?.auth.clone())
    }

    /// The credential for `registry` in the form a docker client logs in with (`docker login`,
    /// a Docker engine's `X-Registry-Auth`), for an engine that pulls by itself. The Entra → ACR
    /// exchange (GitHub OIDC, service principal) runs here: its ACR refresh token comes back as
    /// [`Credential::RefreshToken`] (the password of [`NULL_GUID_USERNAME`]), cached like the
    /// one a push obtains. Every other method is returned as detected; never
    /// [`Credential::Azure`].
    pub async fn login_credential(&self, registry: &str) -> Result<Credential, RegistryError> {
        let reg = self.registry(registry)?;
        let az = match &reg.auth.credential {
            Credential::Azure(az) => az.clone(),
            other => return Ok(other.clone()),
        };
        let mut st = reg.state.lock().await;
        if let Some(rt) = &st.refresh {
            return Ok(Credential::RefreshToken(rt.clone()));
        }
        if st.challenge.is_none() {
            st.challenge = Some(self.ping(&reg).await?);
        }
        // The exchange endpoint is on the registry itself, never where a challenge points.
        let exchange = exchange_on_registry(&reg)?;
        let service = match &st.challenge {
            Some(Challenge::Bearer { service, .. }) => {
                service.clone().unwrap_or_else(|| reg.host.clone())
            }
            _ => reg.host.clone(),
        };
        let rt = az
            .acr_refresh_token(&self.inner.http, &reg.host, &exchange, &service)
            .await?;
        st.refresh = Some(rt.clone());
        Ok(Credential::RefreshToken(rt))
    }

    /// The state of a registry read from (or not yet known to be written to).
    pub(crate) fn registry(&self, host: &str) -> Result<Arc<RegistryHandle>, RegistryError> {
        self.registry_for(host, false)
    }

    /// The state of a registry written to: a push target, to which credentials from the
    /// environment are bound.
    pub(crate) fn target(&self, host: &str) -> Result<Arc<RegistryHandle>, RegistryError> {
        self.registry_for(host, true)
    }

    fn registry_for(&self, host: &str, write: bool) -> Result<Arc<RegistryHandle>, RegistryError> {
        let mut map = self
            .inner
            .registries
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let newly_bound = write
            && self
                .inner
                .targets
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(hosts::normalize(host));
        if newly_bound && map.get(host).is_some_and(|r| !r.bound) {
            // Resolved before it was known to be a push target: resolve again with the binding.
            map.remove(host);
        }
        if let Some(r) = map.get(host) {
            return Ok(r.clone());
        }
        let kind = self
            .inner
            .opts
            .registry_auth
            .get(host)
            .copied()
            .unwrap_or(self.inner.opts.auth);
        let opts = &self.inner.opts;
        let targets = self
            .inner
            .targets
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let allowed = AuthHosts::from_env(
            &opts.env,
            opts.auth_hosts
                .iter()
                .chain(opts.registry_auth.keys())
                .chain(targets.iter()),
        );
        let bound = allowed.allows(host);
        let auth = Auth::detect_for(&opts.env, host, kind, &allowed)?;
        tracing::debug!("registry {host}: auth {}", auth.description);
        let base = registry_base(host, is_loopback_registry(host) || opts.insecure)?;
        let handle = Arc::new(RegistryHandle {
            host: host.to_string(),
            base,
            auth,
            bound,
            state: tokio::sync::Mutex::new(AuthState::default()),
            current: RwLock::new(None),
        });
        map.insert(host.to_string(), handle.clone());
        Ok(handle)
    }

    /// `{base}/v2/{repository}/{suffix}`.
    pub(crate) fn url(
        &self,
        reg: &RegistryHandle,
        repository: &str,
        suffix: &str,
    ) -> Result<Url, RegistryError> {
        reg.base
            .join(&format!("v2/{repository}/{suffix}"))
            .map_err(|e| {
                RegistryError::Invalid(format!("bad URL for `{repository}/{suffix}`: {e}"))
            })
    }

    /// Get a token covering `scopes` now (e.g. push on the target and pull on mount sources),
    /// so later requests reuse it. Optional: every request authorises itself.
    pub async fn authorize(&self, registry: &str, scopes: &[Scope]) -> Result<(), RegistryError> {
        let reg = if scopes.iter().any(|s| s.push) {
            self.target(registry)?
        } else {
            self.registry(registry)?
        };
        self.authorization(&reg, scopes, false).await.map(|_| ())
    }

    /// Send `req` with the auth `scopes` need; re-authorise once on 401; 401/403 after that
    /// become [`RegistryError::Denied`] naming the scopes and the auth method.
    pub(crate) async fn execute(
        &self,
        reg: &RegistryHandle,
        req: &Req,
        scopes: &[Scope],
    ) -> Result<Response, RegistryError> {
        let mut reauthorised = false;
        loop {
            let authz = self.authorization(reg, scopes, reauthorised).await?;
            let sent = self
                .inner
                .http
                .send(&self.inner.opts.retry, req, authz.as_ref(), &reg.base)
                .await;
            let resp = match sent {
                Ok((resp, _)) => resp,
                Err((source, attempts)) => {
                    return Err(RegistryError::Transport {
                        registry: reg.host.clone(),
                        action: req.action,
                        object: req.object.clone(),
                        attempts,
                        source,
                    });
                }
            };
            let status = resp.status();
            if status == StatusCode::UNAUTHORIZED && !reauthorised {
                reauthorised = true;
                let header = resp
                    .headers()
                    .get(WWW_AUTHENTICATE)
                    .and_then(|h| h.to_str().ok())
                    .and_then(challenge::parse);
                tracing::debug!(
                    "{} {}: 401, re-authorising ({})",
                    req.action,
                    req.object,
                    if header.is_some() {
                        "new challenge"
                    } else {
                        "no challenge"
                    }
                );
                self.invalidate(reg, header).await;
                continue;
            }
            if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
                let body = ErrorBody::parse(&crate::body::read_error_body(resp).await);
                return Err(self.denied(reg, scopes, status.as_u16(), body));
            }
            return Ok(resp);
        }
    }

    fn denied(
        &self,
        reg: &RegistryHandle,
        scopes: &[Scope],
        status: u16,
        body: ErrorBody,
    ) -> RegistryError {
        let wants_push = scopes.iter().any(|s| s.push);
        let wants_delete = scopes.iter().any(|s| s.delete);
        let hint = match (reg.auth.kind, wants_push) {
            (AuthKind::Anonymous, _) => {
                "hint: no credentials were found for this registry; use one of the auth methods (GitHub OIDC, service principal, GOLDEN_ACR_REFRESH_TOKEN, `docker login`) or --auth. Credentials from the environment only go to the push target, GOLDEN_REGISTRY, ACR login servers (Azure methods) and the hosts listed in GOLDEN_AUTH_HOSTS"
            }
            (_, true) if wants_delete => {
                "hint: the identity needs delete rights on the repository (ACR: AcrDelete; ABAC-mode registries: `Container Registry Repository Contributor`; repository-scoped tokens: content/delete in the scope map; distribution: storage.delete.enabled)"
            }
            (_, true) => {
                "hint: the identity needs push rights on the repository (ACR: AcrPush; ABAC-mode registries: `Container Registry Repository Writer`; repository-scoped tokens: content/write in the scope map)"
            }
            (_, false) => {
                "hint: the identity needs pull rights on the repository (ACR: AcrPull; ABAC-mode registries: `Container Registry Repository Reader`)"
            }
        };
        RegistryError::Denied(Box::new(crate::error::Denied {
            registry: reg.host.clone(),
            scopes: if scopes.is_empty() {
                "registry access".to_string()
            } else {
                scopes
                    .iter()
                    .map(|s| s.to_string())
                    .collect::<Vec<_>>()
                    .join(" ")
            },
            method: reg.auth.description.clone(),
            status,
            body,
            hint,
        }))
    }

    async fn invalidate(&self, reg: &RegistryHandle, new_challenge: Option<Challenge>) {
        let mut st = reg.state.lock().await;
        if let Some(c) = new_challenge {
            st.challenge = Some(c);
        }
        *reg.current.write().unwrap_or_else(|p| p.into_inner()) = None;
    }

    async fn ping(&self, reg: &RegistryHandle) -> Result<Challenge, RegistryError> {
        let url = reg
            .base
            .join("v2/")
            .map_err(|e| RegistryError::Invalid(e.to_string()))?;
        let sent = retry::send(&self.inner.opts.retry, true, "ping", || {
            self.inner.http.for_url(&url).get(url.clone())
        })
        .await;
        let resp = match sent {
            Ok((r, _)) => r,
            Err((source, attempts)) => {
                return Err(RegistryError::Transport {
                    registry: reg.host.clone(),
                    action: "reach",
                    object: url.to_string(),
                    attempts,
                    source,
                });
            }
        };
        match resp.status().as_u16() {
            200..=299 => Ok(Challenge::None),
            401 => Ok(resp
                .headers()
                .get(WWW_AUTHENTICATE)
                .and_then(|h| h.to_str().ok())
                .and_then(challenge::parse)
                .unwrap_or(Challenge::Basic)),
            status => Err(RegistryError::NotARegistry {
                registry: reg.host.clone(),
                url: url.to_string(),
                status,
            }),
        }
    }

    /// The `Authorization` header for a request needing `scopes` (None: send nothing).
    async fn authorization(
        &self,
        reg: &RegistryHandle,
        scopes: &[Scope],
        force_new: bool,
    ) -> Result<Option<HeaderValue>, RegistryError> {
        if !force_new
            && let Some(c) = reg
                .current
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .as_ref()
            && c.covers(scopes)
        {
            return Ok(c.header.clone());
        }
        let mut st = reg.state.lock().await;
        // Someone else may have refreshed while we waited.
        if !force_new
            && let Some(c) = reg
                .current
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .as_ref()
            && c.covers(scopes)
        {
            return Ok(c.header.clone());
        }
        if st.challenge.is_none() {
            st.challenge = Some(self.ping(reg).await?);
        }
        for s in scopes {
            let e = st.wanted.entry(s.repository.clone()).or_insert(0);
            *e = (*e).max(s.level());
        }
        let challenge = st.challenge.clone().unwrap_or(Challenge::None);
        let cached = match challenge {
            Challenge::None => CachedAuth {
                header: None,
                scopes: None,
                expires: None,
            },
            Challenge::Basic => CachedAuth {
                header: self.basic_for(reg, &mut st).await?,
                scopes: None,
                expires: None,
            },
            Challenge::Bearer { realm, service, .. } => {
                self.bearer_for(reg, &mut st, &realm, service.as_deref())
                    .await?
            }
        };
        let header = cached.header.clone();
        *reg.current.write().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(cached));
        Ok(header)
    }

    async fn basic_for(
        &self,
        reg: &RegistryHandle,
        st: &mut AuthState,
    ) -> Result<Option<HeaderValue>, RegistryError> {
        Ok(match &reg.auth.credential {
            Credential::Anonymous => None,
            Credential::Basic { username, password } => token::basic_header(username, password),
            Credential::RefreshToken(t) => token::basic_header(NULL_GUID_USERNAME, t),
            Credential::AccessToken(t) => token::bearer_header(t),
            Credential::Azure(az) => {
                let rt = match &st.refresh {
                    Some(rt) => rt.clone(),
                    None => {
                        let url = exchange_on_registry(reg)?;
                        let rt = az
                            .acr_refresh_token(&self.inner.http, &reg.host, &url, &reg.host)
                            .await?;
                        st.refresh = Some(rt.clone());
                        rt
                    }
                };
                token::basic_header(NULL_GUID_USERNAME, &rt)
            }
        })
    }

    /// The token realm of a bearer challenge: https, or http on a loopback host (any scheme
    /// with `insecure`).
    fn realm_url(&self, realm: &str) -> Result<Url, RegistryError> {
        if self.inner.opts.insecure {
            return Url::parse(realm).map_err(|e| {
                RegistryError::from(AuthError::BadUrl {
                    what: "token realm",
                    url: realm.to_string(),
                    reason: e.to_string(),
                })
            });
        }
        Ok(checked_url("token realm of the registry challenge", realm)?)
    }

    async fn bearer_for(
        &self,
        reg: &RegistryHandle,
        st: &mut AuthState,
        realm: &str,
        service: Option<&str>,
    ) -> Result<CachedAuth, RegistryError> {
        if let Credential::AccessToken(t) = &reg.auth.credential {
            return Ok(CachedAuth {
                header: token::bearer_header(t),
                scopes: None,
                expires: None,
            });
        }
        let realm_url = self.realm_url(realm)?;
        let realm_host = hosts::url_host(&realm_url);
        if !reg.auth.may_send_to(&reg.host, &realm_host) {
            return Err(RegistryError::from(AuthError::ForeignRealm {
                registry: reg.host.clone(),
                realm: realm.to_string(),
                realm_host,
                method: reg.auth.description.clone(),
            }));
        }
        let scopes: Vec<String> = st
            .wanted
            .iter()
            .map(|(repo, level)| Scope::with_level(repo, *level).to_string())
            .collect();
        let policy = &self.inner.opts.retry;
        let http = &self.inner.http;
        let started = Instant::now();
        let fetch = |how| token::fetch(http, policy, &realm_url, service, &scopes, how);
        let result = match &reg.auth.credential {
            Credential::Anonymous => fetch(TokenRequest::Anonymous).await,
            Credential::Basic { username, password } if username == NULL_GUID_USERNAME => {
                fetch(TokenRequest::Refresh(password.clone())).await
            }
            Credential::Basic { username, password } => {
                fetch(TokenRequest::Basic(username.clone(), password.clone())).await
            }
            Credential::RefreshToken(t) => fetch(TokenRequest::Refresh(t.clone())).await,
            Credential::AccessToken(_) => unreachable_access_token(),
            Credential::Azure(az) => {
                // On the registry itself: a challenge names where to get tokens, not where to
                // hand over an Entra token.
                let exchange = exchange_on_registry(reg)?;
                let svc = service.unwrap_or(&reg.host).to_string();
                let mut fresh = false;
                let rt = match &st.refresh {
                    Some(rt) => rt.clone(),
                    None => {
                        fresh = true;
                        az.acr_refresh_token(http, &reg.host, &exchange, &svc)
                            .await?
                    }
                };
                let mut r = fetch(TokenRequest::Refresh(rt.clone())).await;
                if matches!(r, Err(TokenFailure::Refused { status: 401, .. })) && !fresh {
                    // The cached ACR refresh token expired: run the whole chain again once.
                    tracing::debug!("ACR refresh token refused; exchanging a new one");
                    let rt2 = az
                        .acr_refresh_token(http, &reg.host, &exchange, &svc)
                        .await?;
                    r = fetch(TokenRequest::Refresh(rt2.clone())).await;
                    st.refresh = Some(rt2);
                } else {
                    st.refresh = Some(rt);
                }
                r
            }
        };
        let tok = result.map_err(|f| match f {
            TokenFailure::Transport(source) => RegistryError::from(AuthError::Transport {
                what: "the registry token service",
                url: realm.to_string(),
                source,
            }),
            TokenFailure::Refused { status, body } => {
                RegistryError::from(AuthError::TokenRefused {
                    registry: reg.host.clone(),
                    realm: realm.to_string(),
                    scopes: scopes.join(" "),
                    method: reg.auth.description.clone(),
                    status,
                    body,
                })
            }
            TokenFailure::BadReply(reason) => RegistryError::from(AuthError::BadReply {
                what: "the registry token service",
                url: realm.to_string(),
                reason,
            }),
        })?;
        // Refresh a little before the end of life (a fifth of it, at most 30 s).
        let margin = (tok.lifetime / 5).min(Duration::from_secs(30));
        tracing::debug!(
            "token for {} ({} scope(s)) valid {} s",
            reg.host,
            scopes.len(),
            tok.lifetime.as_secs()
        );
        Ok(CachedAuth {
            header: token::bearer_header(&tok.value),
            scopes: Some(st.wanted.clone()),
            expires: Some(started + tok.lifetime.saturating_sub(margin)),
        })
    }

    /// Map a non-success reply to the most specific error.
    pub(crate) async fn error_for(
        &self,
        reg: &RegistryHandle,
        repository: &str,
        resp: Response,
        action: &'static str,
        object: &str,
    ) -> RegistryError {
        let status = resp.status().as_u16();
        let body = ErrorBody::parse(&crate::body::read_error_body(resp).await);
        if body.has_code("NAME_UNKNOWN") {
            return RegistryError::NameUnknown {
                registry: reg.host.clone(),
                repository: repository.to_string(),
                body,
            };
        }
        if status == 404 && (body.has_code("MANIFEST_UNKNOWN") || action.contains("manifest")) {
            return RegistryError::ManifestUnknown {
                reference: object.to_string(),
            };
        }
        if status == 404 && (body.has_code("BLOB_UNKNOWN") || action.contains("blob")) {
            return RegistryError::BlobUnknown {
                repository: format!("{}/{repository}", reg.host),
                digest: object.to_string(),
            };
        }
        RegistryError::Status {
            action,
            object: object.to_string(),
            status,
            body,
        }
    }
}

/// ACR's exchange endpoint on the registry itself (`https://<registry>/oauth2/exchange`),
/// whatever realm its challenge names.
fn exchange_on_registry(reg: &RegistryHandle) -> Result<Url, RegistryError> {
    reg.base
        .join("oauth2/exchange")
        .map_err(|e| RegistryError::Invalid(e.to_string()))
}

/// An access token never goes through the token service (handled before the match).
fn unreachable_access_token() -> Result<token::Token, TokenFailure> {
    Err(TokenFailure::BadReply(
        "internal: access tokens are sent as-is".into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_follow_the_loopback_rule() {
        assert_eq!(
            registry_base("127.0.0.1:5000", true).unwrap().as_str(),
            "http://127.0.0.1:5000/"
        );
        assert_eq!(
            registry_base("docker.io", false).unwrap().as_str(),
            "https://registry-1.docker.io/"
        );
        let c = Client::new(ClientOptions {
            env: Env::from_pairs([("DOCKER_CONFIG", "/nonexistent-golden")]),
            ..ClientOptions::default()
        })
        .unwrap();
        assert_eq!(c.registry("localhost:5000").unwrap().base.scheme(), "http");
        assert_eq!(
            c.registry("myacr.azurecr.io").unwrap().base.scheme(),
            "https"
        );
        // Names that merely start like loopback addresses get https.
        for name in [
            "127.evil.example:5000",
            "127.0.0.1.nip.io",
            "localhost.evil.example",
        ] {
            assert_eq!(c.registry(name).unwrap().base.scheme(), "https", "{name}");
        }
        assert_eq!(c.registry("[::1]:5000").unwrap().base.scheme(), "http");
    }

    #[tokio::test]
    async fn login_credential_runs_the_acr_exchange_once() {
        use wiremock::matchers::{body_string_contains, method, path};
        use wiremock::{Mock, MockServer, ResponseTemplate};
        let server = MockServer::start().await;
        let host = server.uri().trim_start_matches("http://").to_string();
        Mock::given(method("GET"))
            .and(path("/v2/"))
            .respond_with(
                ResponseTemplate::new(401).insert_header(
                    "www-authenticate",
                    format!(
                        r#"Bearer realm="{}/oauth2/token",service="acr.test""#,
                        server.uri()
                    )
                    .as_str(),
                ),
            )
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/tenant-1/oauth2/v2.0/token"))
            .and(body_string_contains("client_secret=sp-secret"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(serde_json::json!({"access_token": "entra-at"})),
            )
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/oauth2/exchange"))
            .and(body_string_contains("service=acr.test"))
            .and(body_string_contains("access_token=entra-at"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(serde_json::json!({"refresh_token": "acr-rt"})),
            )
            .expect(1)
            .mount(&server)
            .await;
        let c = Client::new(ClientOptions {
            env: Env::from_pairs([
                ("AZURE_CLIENT_ID", "client-1".to_string()),
                ("AZURE_TENANT_ID", "tenant-1".to_string()),
                ("AZURE_CLIENT_SECRET", "sp-secret".to_string()),
                ("AZURE_AUTHORITY_HOST", server.uri()),
                ("GOLDEN_AUTH_HOSTS", host.clone()),
            ]),
            ..ClientOptions::default()
        })
        .unwrap();
        for _ in 0..2 {
            match c.login_credential(&host).await.unwrap() {
                Credential::RefreshToken(t) => assert_eq!(t.expose(), "acr-rt"),
                other => panic!("{other:?}"),
            }
        }
        // Other methods come back as detected, without a request.
        let c = Client::new(ClientOptions {
            env: Env::from_pairs([
                ("GOLDEN_REGISTRY_USERNAME", "u"),
                ("GOLDEN_REGISTRY_PASSWORD", "p"),
                ("GOLDEN_AUTH_HOSTS", "myacr.azurecr.io"),
            ]),
            ..ClientOptions::default()
        })
        .unwrap();
        match c.login_credential("myacr.azurecr.io").await.unwrap() {
            Credential::Basic { username, password } => {
                assert_eq!((username.as_str(), password.expose()), ("u", "p"))
            }
            other => panic!("{other:?}"),
        }
        server.verify().await;
    }

    #[test]
    fn cached_auth_coverage() {
        let mut have = BTreeMap::new();
        have.insert("a".to_string(), 1);
        have.insert("b".to_string(), 0);
        let c = CachedAuth {
            header: None,
            scopes: Some(have),
            expires: Some(Instant::now() + Duration::from_secs(60)),
        };
        assert!(c.covers(&[Scope::push("a"), Scope::pull("b")]));
        assert!(!c.covers(&[Scope::push("b")]));
        assert!(!c.covers(&[Scope::pull("c")]));
        // Delete is above push: a push token does not cover it.
        assert!(!c.covers(&[Scope::delete("a")]));
        assert_eq!(
            Scope::delete("a").to_string(),
            "repository:a:pull,push,delete"
        );
        let expired = CachedAuth {
            header: None,
            scopes: None,
            expires: Some(Instant::now() - Duration::from_secs(1)),
        };
        assert!(!expired.covers(&[]));
    }
}
