//! The HTTP transport: connection pools, requests ([`Req`]) sent with retries, the registry's
//! base URL (plain HTTP only when asked for: loopback registries or `insecure`), and the rule
//! that a request carries the registry's `Authorization` only on the registry's own origin.
//!
//! Depends on neither the client nor the auth flow: both use it.

use std::net::IpAddr;
use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use reqwest::{Method, Response, Url};

use crate::error::RegistryError;
use crate::retry::{self, RetryPolicy};

/// Settings of the connection pools (from [`crate::ClientOptions`]).
#[derive(Debug, Clone)]
pub(crate) struct HttpSettings {
    pub user_agent: String,
    pub connect_timeout: Duration,
    /// Maximum time without progress on a read.
    pub read_timeout: Duration,
}

/// The defaults of [`crate::ClientOptions`].
impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            user_agent: format!("golden-registry/{}", env!("CARGO_PKG_VERSION")),
            connect_timeout: Duration::from_secs(15),
            read_timeout: Duration::from_secs(120),
        }
    }
}

/// A request, rebuilt for each attempt (bodies are `Bytes`: cheap to resend).
pub(crate) struct Req {
    pub method: Method,
    pub url: Url,
    pub headers: HeaderMap,
    pub body: Option<Bytes>,
    /// Retry on connection errors (only for requests that are safe to repeat).
    pub retry_transport: bool,
    pub action: &'static str,
    pub object: String,
}

impl Req {
    pub fn new(method: Method, url: Url, action: &'static str, object: impl Into<String>) -> Req {
        Req {
            method,
            url,
            headers: HeaderMap::new(),
            body: None,
            retry_transport: true,
            action,
            object: object.into(),
        }
    }
    pub fn header(mut self, name: reqwest::header::HeaderName, value: &str) -> Req {
        if let Ok(v) = HeaderValue::from_str(value) {
            self.headers.insert(name, v);
        }
        self
    }
    pub fn body(mut self, body: Bytes) -> Req {
        self.body = Some(body);
        self
    }
    pub fn no_transport_retry(mut self) -> Req {
        self.retry_transport = false;
        self
    }
}

/// A loopback host (no port): `localhost` or an address in 127.0.0.0/8 or `::1`, parsed as an
/// IP address (`127.evil.example` is a name, not a loopback address).
pub(crate) fn is_loopback_host(host: &str) -> bool {
    let h = host
        .trim()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .trim_end_matches('.');
    h.eq_ignore_ascii_case("localhost") || h.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// A loopback registry (`host[:port]`).
pub(crate) fn is_loopback_registry(registry: &str) -> bool {
    is_loopback_host(split_port(registry.trim()).0)
}

/// Split `host[:port]` (also `[v6]:port`) into the host and the port, if any.
pub(crate) fn split_port(s: &str) -> (&str, Option<&str>) {
    if let Some(rest) = s.strip_prefix('[') {
        if let Some((h, after)) = rest.split_once(']') {
            return (h, after.strip_prefix(':'));
        }
        return (s, None);
    }
    match s.rsplit_once(':') {
        // One colon and digits after it: a port. More colons: a bare IPv6 address.
        Some((h, p))
            if !h.contains(':') && !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) =>
        {
            (h, Some(p))
        }
        _ => (s, None),
    }
}

/// `{scheme}://{host}/`: plain HTTP when `plain_http` (a loopback registry or `insecure`),
/// https otherwise; Docker Hub's API is on `registry-1.docker.io`.
pub(crate) fn registry_base(host: &str, plain_http: bool) -> Result<Url, RegistryError> {
    let api_host = if host == "docker.io" {
        "registry-1.docker.io"
    } else {
        host
    };
    let scheme = if plain_http { "http" } else { "https" };
    Url::parse(&format!("{scheme}://{api_host}/"))
        .map_err(|e| RegistryError::Invalid(format!("registry `{host}` is not a host[:port]: {e}")))
}

/// Two connection pools: plain HTTP (loopback registries, test endpoints), built at once, and
/// HTTPS, built on first use — loading the system's CA roots costs ~10 ms, which a push to a
/// local registry never needs.
pub(crate) struct Http {
    plain: reqwest::Client,
    tls: std::sync::OnceLock<reqwest::Client>,
    settings: HttpSettings,
}

impl Http {
    fn builder(settings: &HttpSettings) -> reqwest::ClientBuilder {
        reqwest::Client::builder()
            .user_agent(settings.user_agent.clone())
            .connect_timeout(settings.connect_timeout)
            .read_timeout(settings.read_timeout)
            .pool_idle_timeout(Duration::from_secs(60))
    }

    pub(crate) fn new(settings: &HttpSettings) -> Result<Http, RegistryError> {
        // No roots: this pool never completes a TLS handshake (only http:// URLs go here).
        let plain = Self::builder(settings)
            .tls_certs_only(Vec::new())
            .build()
            .map_err(|e| RegistryError::Invalid(format!("cannot build the HTTP client: {e}")))?;
        Ok(Http {
            plain,
            tls: std::sync::OnceLock::new(),
            settings: settings.clone(),
        })
    }

    /// The pool for `url`.
    pub(crate) fn for_url(&self, url: &Url) -> &reqwest::Client {
        if url.scheme() == "http" {
            return &self.plain;
        }
        self.tls.get_or_init(|| {
            Self::builder(&self.settings).build().unwrap_or_else(|e| {
                // Building with the platform verifier only fails without any CA roots; the
                // plain pool then fails the handshake with a clear TLS error.
                tracing::warn!("cannot build the HTTPS client: {e}");
                self.plain.clone()
            })
        })
    }

    /// Send `req` with retries ([`retry::send`]). `authz` is added only when the request's URL
    /// is on the origin of `base` (the registry's own): an upload `Location` may point
    /// elsewhere. Bodyless PUT/POST/PATCH get `Content-Length: 0`.
    pub(crate) async fn send(
        &self,
        policy: &RetryPolicy,
        req: &Req,
        authz: Option<&HeaderValue>,
        base: &Url,
    ) -> Result<(Response, u32), (reqwest::Error, u32)> {
        let what = format!("{} {}", req.action, req.object);
        retry::send(policy, req.retry_transport, &what, || {
            let mut b = self
                .for_url(&req.url)
                .request(req.method.clone(), req.url.clone())
                .headers(req.headers.clone());
            if let Some(h) = authz
                && same_origin(&req.url, base)
            {
                b = b.header(AUTHORIZATION, h.clone());
            }
            if let Some(body) = &req.body {
                b = b.body(body.clone());
            } else if req.method == Method::PUT
                || req.method == Method::POST
                || req.method == Method::PATCH
            {
                b = b.header(reqwest::header::CONTENT_LENGTH, "0");
            }
            b
        })
        .await
    }
}

/// Whether `url` is on the registry's own origin (scheme, host, port): only then does a
/// request carry the registry's `Authorization` (an upload `Location` may point elsewhere).
fn same_origin(url: &Url, base: &Url) -> bool {
    url.scheme() == base.scheme()
        && url.host_str().map(str::to_ascii_lowercase)
            == base.host_str().map(str::to_ascii_lowercase)
        && url.port_or_known_default() == base.port_or_known_default()
}
