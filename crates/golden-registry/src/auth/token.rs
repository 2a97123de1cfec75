//! The registry token protocol (distribution's token spec, which ACR implements):
//! - `GET realm?service=S&scope=A&scope=B` anonymously or with HTTP Basic;
//! - `POST realm` form `grant_type=refresh_token&service=S&scope=A B&refresh_token=R&client_id=..`
//!   for refresh tokens (ACR refresh tokens, docker identity tokens).
//!
//! The reply is `{"token"|"access_token": "...", "expires_in": N}`.

use std::time::Duration;

use base64::Engine as _;
use reqwest::Url;
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderValue};
use serde::Deserialize;

use crate::retry::{self, RetryPolicy};
use crate::secret::Secret;

/// Spec default when the reply has no `expires_in`.
const DEFAULT_LIFETIME: Duration = Duration::from_secs(60);

/// How to ask the token service (the secrets are shared `Arc`s: cheap to pass by value).
pub(crate) enum TokenRequest {
    Anonymous,
    Basic(String, Secret),
    Refresh(Secret),
}

pub(crate) struct Token {
    pub value: Secret,
    pub lifetime: Duration,
}

pub(crate) enum TokenFailure {
    Transport(reqwest::Error),
    Refused { status: u16, body: String },
    BadReply(String),
}

#[derive(Deserialize)]
struct Reply {
    token: Option<String>,
    access_token: Option<String>,
    expires_in: Option<u64>,
}

/// A `Basic` header value, marked sensitive so no debug output shows it.
pub(crate) fn basic_header(user: &str, password: &Secret) -> Option<HeaderValue> {
    let raw =
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{}", password.expose()));
    let mut v = HeaderValue::from_str(&format!("Basic {raw}")).ok()?;
    v.set_sensitive(true);
    Some(v)
}

/// A `Bearer` header value, marked sensitive.
pub(crate) fn bearer_header(token: &Secret) -> Option<HeaderValue> {
    let mut v = HeaderValue::from_str(&format!("Bearer {}", token.expose())).ok()?;
    v.set_sensitive(true);
    Some(v)
}

/// Seconds until the `exp` claim of a JWT, when the token is one (no signature check: this is
/// only used to refresh early).
pub(crate) fn jwt_remaining(token: &str) -> Option<Duration> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let exp = v.get("exp")?.as_u64()?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_secs();
    Some(Duration::from_secs(exp.saturating_sub(now)))
}

pub(crate) async fn fetch(
    http: &crate::http::Http,
    policy: &RetryPolicy,
    realm: &Url,
    service: Option<&str>,
    scopes: &[String],
    how: TokenRequest,
) -> Result<Token, TokenFailure> {
    let sent = match &how {
        TokenRequest::Refresh(rt) => {
            let joined = scopes.join(" ");
            let mut form: Vec<(&str, &str)> = vec![
                ("grant_type", "refresh_token"),
                ("client_id", "golden-registry"),
                ("refresh_token", rt.expose()),
            ];
            if let Some(s) = service {
                form.push(("service", s));
            }
            if !joined.is_empty() {
                form.push(("scope", &joined));
            }
            retry::send(policy, true, "token request", || {
                http.for_url(realm)
                    .post(realm.clone())
                    .header(ACCEPT, "application/json")
                    .form(&form)
            })
            .await
        }
        TokenRequest::Anonymous | TokenRequest::Basic(..) => {
            let mut url = realm.clone();
            {
                let mut q = url.query_pairs_mut();
                if let Some(s) = service {
                    q.append_pair("service", s);
                }
                for s in scopes {
                    q.append_pair("scope", s);
                }
            }
            let authz = match &how {
                TokenRequest::Basic(u, p) => basic_header(u, p),
                _ => None,
            };
            retry::send(policy, true, "token request", || {
                let mut r = http
                    .for_url(&url)
                    .get(url.clone())
                    .header(ACCEPT, "application/json");
                if let Some(a) = &authz {
                    r = r.header(AUTHORIZATION, a.clone());
                }
                r
            })
            .await
        }
    };
    let resp = sent.map_err(|(e, _)| TokenFailure::Transport(e))?.0;
    let status = resp.status();
    if !status.is_success() {
        let body =
            crate::error::ErrorBody::parse(&crate::body::read_error_body(resp).await).to_string();
        return Err(TokenFailure::Refused {
            status: status.as_u16(),
            body,
        });
    }
    let bytes = crate::body::read_capped(resp, crate::body::MAX_TOKEN_REPLY)
        .await
        .map_err(|e| match e {
            crate::body::ReadError::Transport(e) => TokenFailure::Transport(e),
            too_large => TokenFailure::BadReply(too_large.to_string()),
        })?;
    let reply: Reply = serde_json::from_slice(&bytes)
        .map_err(|e| TokenFailure::BadReply(format!("not the token JSON: {e}")))?;
    let value = reply
        .token
        .filter(|t| !t.is_empty())
        .or(reply.access_token.filter(|t| !t.is_empty()))
        .ok_or_else(|| {
            TokenFailure::BadReply("no `token` or `access_token` in the reply".into())
        })?;
    let mut lifetime = reply
        .expires_in
        .filter(|s| *s > 0)
        .map(Duration::from_secs)
        .unwrap_or(DEFAULT_LIFETIME);
    if let Some(jwt) = jwt_remaining(&value) {
        lifetime = lifetime.min(jwt);
    }
    Ok(Token {
        value: Secret::new(value),
        lifetime,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jwt_expiry_is_read_without_verification() {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(format!(r#"{{"exp":{}}}"#, now + 100));
        let left = jwt_remaining(&format!("e30.{payload}.sig")).unwrap();
        assert!(left.as_secs() > 90 && left.as_secs() <= 100);
        assert!(jwt_remaining("opaque-token").is_none());
    }

    #[test]
    fn headers_are_sensitive() {
        let s = Secret::new("abc");
        let b = bearer_header(&s).unwrap();
        assert!(b.is_sensitive());
        assert_eq!(format!("{b:?}"), "Sensitive");
        assert!(basic_header("u", &s).unwrap().is_sensitive());
    }
}
