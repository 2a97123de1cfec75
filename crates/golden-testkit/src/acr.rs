//! An ACR-compatible token service in front of distribution's `auth: token` mode.
//!
//! - `POST /oauth2/exchange` (`grant_type=access_token`, `service`, `tenant`, `access_token` =
//!   an Entra token this service accepts) answers an ACR refresh token;
//! - `POST /oauth2/token` (`grant_type=refresh_token`, `service`, `scope`, `refresh_token`) and
//!   `GET /oauth2/token` with Basic credentials answer an RS256 JWT access token whose `access`
//!   claim grants the asked scopes (never `push` on `readonly/*` repositories).
//!
//! The registry verifies the JWT with the certificate of [`SigningKey`]
//! (`scripts/registry.sh start --token-realm ... --token-issuer ... --token-cert ...`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, MutexGuard};

use anyhow::{Context as _, Result, bail};
use base64::Engine as _;
use bytes::Bytes;
use hyper::Request;
use serde_json::json;

use crate::http::{self, Reply, field, form};
use crate::journal::Journal;

fn b64url(b: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

fn base32(b: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::new();
    let (mut buf, mut bits) = (0u32, 0u32);
    for &x in b {
        buf = (buf << 8) | x as u32;
        bits += 8;
        while bits >= 5 {
            out.push(A[((buf >> (bits - 5)) & 31) as usize] as char);
            bits -= 5;
        }
    }
    if bits > 0 {
        out.push(A[((buf << (5 - bits)) & 31) as usize] as char);
    }
    out
}

fn openssl(args: &[&str], stdin: Option<&[u8]>) -> Result<Vec<u8>> {
    use std::io::Write as _;
    let mut child = Command::new("openssl")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("cannot run openssl (install the openssl package)")?;
    let mut input = child.stdin.take().context("openssl stdin")?;
    if let Some(s) = stdin {
        input.write_all(s).context("writing to openssl")?;
    }
    drop(input);
    let out = child.wait_with_output().context("waiting for openssl")?;
    if !out.status.success() {
        bail!(
            "openssl {}: {}",
            args.first().unwrap_or(&""),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(out.stdout)
}

/// An RSA signing key and the self-signed certificate the registry trusts.
pub struct SigningKey {
    /// PEM private key.
    pub key: PathBuf,
    /// PEM certificate (the registry's `rootcertbundle`).
    pub cert: PathBuf,
    /// libtrust key id of the public key (what distribution looks `kid` up by).
    pub kid: String,
}

impl SigningKey {
    /// Generate `<name>.key` and `<name>.crt` in `dir`.
    pub fn generate(dir: &Path, name: &str) -> Result<SigningKey> {
        let key = dir.join(format!("{name}.key"));
        let cert = dir.join(format!("{name}.crt"));
        let (k, c) = (key.display().to_string(), cert.display().to_string());
        openssl(
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "1",
                "-subj",
                "/CN=golden-test-token",
                "-keyout",
                &k,
                "-out",
                &c,
            ],
            None,
        )?;
        let der = openssl(&["pkey", "-in", &k, "-pubout", "-outform", "DER"], None)?;
        use sha2::Digest as _;
        let hash = sha2::Sha256::digest(&der);
        let s = base32(&hash[..30]);
        let kid = s
            .as_bytes()
            .chunks(4)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join(":");
        Ok(SigningKey { key, cert, kid })
    }

    /// An RS256 JWT of `claims`.
    pub fn sign(&self, claims: &serde_json::Value) -> Result<String> {
        let header = json!({"typ": "JWT", "alg": "RS256", "kid": self.kid});
        let input = format!(
            "{}.{}",
            b64url(header.to_string().as_bytes()),
            b64url(claims.to_string().as_bytes())
        );
        let k = self.key.display().to_string();
        let sig = openssl(&["dgst", "-sha256", "-sign", &k], Some(input.as_bytes()))?;
        Ok(format!("{input}.{}", b64url(&sig)))
    }
}

/// What the token service accepts.
#[derive(Clone, Debug)]
pub struct AcrConfig {
    /// JWT `iss` (the registry's `issuer`).
    pub issuer: String,
    /// The registry's `service` (JWT `aud`).
    pub service: String,
    /// The Entra tenant `/oauth2/exchange` must name.
    pub tenant: String,
    /// Basic credentials `GET /oauth2/token` accepts (None: Basic is refused). Like an ACR
    /// token with a `_repositories_pull` scope map, they get `pull` and nothing else.
    pub basic: Option<(String, String)>,
}

/// What the token service saw and issued.
#[derive(Default)]
pub struct AcrState {
    /// Requests seen: ("METHOD /path", form or query pairs).
    pub requests: Vec<(String, Vec<(String, String)>)>,
    /// Refresh tokens `POST /oauth2/token` accepts (exchanged ones are added).
    pub valid_refresh: Vec<String>,
    /// Entra access tokens `/oauth2/exchange` accepts.
    pub entra_tokens: Vec<String>,
    /// Access tokens (JWTs) issued.
    pub issued: Vec<String>,
    /// Successful exchanges.
    pub exchanges: usize,
}

/// The running token service.
pub struct TokenService {
    /// Where it listens (127.0.0.1).
    pub addr: std::net::SocketAddr,
    /// What it saw and issued.
    pub state: Arc<Mutex<AcrState>>,
    /// The signing key (replace it to make the registry refuse earlier tokens).
    pub key: Arc<Mutex<Arc<SigningKey>>>,
    /// What it accepts.
    pub config: AcrConfig,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl TokenService {
    /// Start on a random loopback port with `state` as the initial state. With `upstream`
    /// (`host:port` of a distribution registry in token mode whose realm is this service), it
    /// is also the registry's front, like an ACR login server: `/v2/...` is forwarded there and
    /// `/oauth2/...` answered here, on one host.
    pub async fn start(
        config: AcrConfig,
        key: SigningKey,
        state: AcrState,
        journal: Journal,
        upstream: Option<String>,
    ) -> Result<TokenService> {
        let state = Arc::new(Mutex::new(state));
        let key = Arc::new(Mutex::new(Arc::new(key)));
        let (st, k, cfg) = (state.clone(), key.clone(), config.clone());
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .context("building the front's HTTP client")?;
        let handler: http::AsyncHandler = Arc::new(move |req: Request<Bytes>| {
            let (cfg, st, k, journal) = (cfg.clone(), st.clone(), k.clone(), journal.clone());
            let (client, upstream) = (client.clone(), upstream.clone());
            Box::pin(async move {
                match upstream {
                    Some(up) if !req.uri().path().starts_with("/oauth2/") => {
                        http::forward(&client, &up, req).await
                    }
                    _ => token_service(&cfg, &st, &k, &journal, req),
                }
            })
        });
        let addr = http::serve_async(handler)
            .await
            .context("binding the token service")?;
        Ok(TokenService {
            addr,
            state,
            key,
            config,
        })
    }

    /// The realm URL (`http://127.0.0.1:PORT/oauth2/token`).
    pub fn realm(&self) -> String {
        format!("http://{}/oauth2/token", self.addr)
    }

    /// The form/query pairs of every request to `what` ("POST /oauth2/exchange").
    pub fn requests(&self, what: &str) -> Vec<Vec<(String, String)>> {
        lock(&self.state)
            .requests
            .iter()
            .filter(|(w, _)| w == what)
            .map(|(_, f)| f.clone())
            .collect()
    }
}

fn deny(code: u16, msg: &str) -> Reply {
    http::json(
        code,
        &json!({"errors": [{"code": "UNAUTHORIZED", "message": msg}]}),
    )
}

fn token_service(
    cfg: &AcrConfig,
    st: &Mutex<AcrState>,
    key: &Mutex<Arc<SigningKey>>,
    journal: &Journal,
    req: Request<Bytes>,
) -> Reply {
    let m = req.method().to_string();
    let p = req.uri().path().to_string();
    let fields = if m == "POST" {
        form(&String::from_utf8_lossy(req.body()))
    } else {
        form(req.uri().query().unwrap_or(""))
    };
    lock(st).requests.push((format!("{m} {p}"), fields.clone()));
    let logged = json!(
        fields
            .iter()
            .map(|(k, v)| json!([k, v]))
            .collect::<Vec<_>>()
    );
    let (ok, note, reply) = answer(cfg, st, key, journal, &m, &p, &fields, &req);
    journal.record("acr", &m, &p, ok, &note, logged);
    reply
}

#[allow(clippy::too_many_arguments)]
fn answer(
    cfg: &AcrConfig,
    st: &Mutex<AcrState>,
    key: &Mutex<Arc<SigningKey>>,
    journal: &Journal,
    m: &str,
    p: &str,
    fields: &[(String, String)],
    req: &Request<Bytes>,
) -> (bool, String, Reply) {
    match (m, p) {
        ("POST", "/oauth2/exchange") => {
            let entra_ok = field(fields, "access_token")
                .is_some_and(|t| lock(st).entra_tokens.iter().any(|e| e == t));
            if field(fields, "grant_type") != Some("access_token")
                || !entra_ok
                || field(fields, "tenant") != Some(cfg.tenant.as_str())
                || field(fields, "service") != Some(cfg.service.as_str())
            {
                let msg = "exchange refused: wrong grant, tenant, service or Entra token";
                return (false, msg.into(), deny(401, msg));
            }
            let rt = crate::token("acr-refresh");
            journal.secret(&rt);
            let mut s = lock(st);
            s.valid_refresh.push(rt.clone());
            s.exchanges += 1;
            (
                true,
                "refresh token issued".into(),
                http::json(200, &json!({"refresh_token": rt})),
            )
        }
        ("POST", "/oauth2/token") | ("GET", "/oauth2/token") => {
            if m == "POST" {
                let rt = field(fields, "refresh_token").unwrap_or_default();
                if field(fields, "grant_type") != Some("refresh_token")
                    || !lock(st).valid_refresh.iter().any(|v| v == rt)
                {
                    return (
                        false,
                        "invalid refresh token".into(),
                        deny(401, "invalid refresh token"),
                    );
                }
            } else {
                let want = cfg.basic.as_ref().map(|(u, pw)| {
                    format!(
                        "Basic {}",
                        base64::engine::general_purpose::STANDARD.encode(format!("{u}:{pw}"))
                    )
                });
                if want.is_none() || http::header(req, "authorization") != want.as_deref() {
                    return (
                        false,
                        "basic credentials required".into(),
                        deny(401, "basic credentials required"),
                    );
                }
            }
            if field(fields, "service") != Some(cfg.service.as_str()) {
                return (false, "wrong service".into(), deny(400, "wrong service"));
            }
            let pull_only = m == "GET";
            let mut access = Vec::new();
            let scopes = fields
                .iter()
                .filter(|(k, _)| k == "scope")
                .flat_map(|(_, v)| v.split(' ').map(str::to_string).collect::<Vec<_>>());
            for s in scopes.filter(|s| !s.is_empty()) {
                let parts: Vec<&str> = s.splitn(3, ':').collect();
                if parts.len() != 3 || parts[0] != "repository" {
                    continue;
                }
                // Policy: `readonly/*` repositories never get push.
                let actions: Vec<&str> = parts[2]
                    .split(',')
                    .filter(|a| !(parts[1].starts_with("readonly/") && *a == "push"))
                    .filter(|a| !pull_only || *a == "pull")
                    .collect();
                access.push(json!({"type": "repository", "name": parts[1], "actions": actions}));
            }
            let n = crate::now();
            let claims = json!({
                "iss": cfg.issuer, "sub": "golden-test", "aud": cfg.service,
                "exp": n + 600, "nbf": n.saturating_sub(30), "iat": n,
                "jti": uuid::Uuid::new_v4().simple().to_string(), "access": access,
            });
            let k = lock(key).clone();
            match k.sign(&claims) {
                Ok(jwt) => {
                    journal.secret(&jwt);
                    lock(st).issued.push(jwt.clone());
                    let body = json!({"token": jwt, "access_token": jwt, "expires_in": 600});
                    (
                        true,
                        format!("access token for {} scope(s)", access.len()),
                        http::json(200, &body),
                    )
                }
                Err(e) => (
                    false,
                    format!("signing failed: {e:#}"),
                    http::reply(500, "signing failed"),
                ),
            }
        }
        _ => (
            false,
            "unexpected request".into(),
            http::reply(404, "not found"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kid_is_libtrust_shaped() {
        let dir = tempfile::tempdir().unwrap();
        let k = SigningKey::generate(dir.path(), "k").unwrap();
        let groups: Vec<&str> = k.kid.split(':').collect();
        assert_eq!(groups.len(), 12, "{}", k.kid);
        assert!(groups.iter().all(|g| g.len() == 4));
        let jwt = k.sign(&json!({"a": 1})).unwrap();
        assert_eq!(jwt.split('.').count(), 3);
    }
}
