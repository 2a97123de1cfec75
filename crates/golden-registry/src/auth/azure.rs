//! Entra ID → Azure Container Registry, without the az CLI.
//!
//! 1. GitHub OIDC: `GET $ACTIONS_ID_TOKEN_REQUEST_URL&audience=api://AzureADTokenExchange` with
//!    `Authorization: Bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN` → `{"value": "<jwt>"}`.
//! 2. Entra: `POST {authority}/{tenant}/oauth2/v2.0/token` (form: `client_id`,
//!    `grant_type=client_credentials`, `scope`, and `client_assertion_type` +
//!    `client_assertion=<GitHub JWT>` or `client_secret`) → `access_token`.
//! 3. ACR: `POST https://<registry>/oauth2/exchange` (form: `grant_type=access_token`,
//!    `service`, `tenant`, `access_token`) → `refresh_token`.
//! 4. The refresh token then answers the registry's bearer challenge like any refresh token
//!    (`POST /oauth2/token`, `grant_type=refresh_token`, the scopes needed) — see `token.rs`.
//!
//! Base URLs are injectable (`AZURE_AUTHORITY_HOST`, `ACTIONS_ID_TOKEN_REQUEST_URL`); plain
//! http is accepted only for loopback hosts (tests).

use std::sync::Arc;

use reqwest::Url;

use super::{Auth, AuthKind, Credential, checked_url};
use crate::env::Env;
use crate::env_vars as ev;
use crate::error::AuthError;
use crate::secret::Secret;

/// Entra scope for ACR: the registry audience, accepted even when the registry's
/// "authentication-as-arm" policy is disabled. Override with `GOLDEN_AZURE_SCOPE`.
pub const AZURE_CONTAINER_REGISTRY_SCOPE: &str = "https://containerregistry.azure.net/.default";
const DEFAULT_AUTHORITY: &str = "https://login.microsoftonline.com";
const DEFAULT_AUDIENCE: &str = "api://AzureADTokenExchange";
const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

#[derive(Debug)]
pub(crate) enum Assertion {
    GithubOidc {
        request_url: Url,
        request_token: Secret,
        audience: String,
    },
    ClientSecret(Secret),
}

/// Inputs of the Entra → ACR flow.
#[derive(Debug)]
pub struct AzureCredential {
    pub(crate) tenant: String,
    pub(crate) client_id: String,
    pub(crate) token_url: Url,
    pub(crate) scope: String,
    pub(crate) assertion: Assertion,
}

fn need(env: &Env, method: &'static str, var: &'static str) -> Result<String, AuthError> {
    env.get(var).ok_or(AuthError::MissingEnv { method, var })
}

fn token_url(env: &Env, tenant: &str) -> Result<Url, AuthError> {
    if tenant.is_empty()
        || !tenant
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
    {
        return Err(AuthError::BadUrl {
            what: "AZURE_TENANT_ID",
            url: tenant.to_string(),
            reason: "a tenant is a GUID or a domain name".into(),
        });
    }
    let host = env
        .get(ev::AZURE_AUTHORITY_HOST)
        .unwrap_or_else(|| DEFAULT_AUTHORITY.to_string());
    let base = checked_url("Entra authority host (AZURE_AUTHORITY_HOST)", &host)?;
    let base = if base.path().ends_with('/') {
        base
    } else {
        let mut b = base.clone();
        b.set_path(&format!("{}/", base.path()));
        b
    };
    base.join(&format!("{tenant}/oauth2/v2.0/token"))
        .map_err(|e| AuthError::BadUrl {
            what: "Entra authority host (AZURE_AUTHORITY_HOST)",
            url: host,
            reason: e.to_string(),
        })
}

fn scope(env: &Env) -> String {
    env.get(ev::GOLDEN_AZURE_SCOPE)
        .unwrap_or_else(|| AZURE_CONTAINER_REGISTRY_SCOPE.to_string())
}

/// Method 1: GitHub OIDC federation.
pub(crate) fn github_oidc(env: &Env) -> Result<Auth, AuthError> {
    const M: &str = "github-oidc";
    let client_id = need(env, M, ev::AZURE_CLIENT_ID)?;
    let tenant = need(env, M, ev::AZURE_TENANT_ID)?;
    let raw_url = need(env, M, ev::ACTIONS_ID_TOKEN_REQUEST_URL)?;
    let request_token = Secret::new(need(env, M, ev::ACTIONS_ID_TOKEN_REQUEST_TOKEN)?);
    let request_url = checked_url(
        "GitHub OIDC token URL (ACTIONS_ID_TOKEN_REQUEST_URL)",
        &raw_url,
    )?;
    let token_url = token_url(env, &tenant)?;
    let description = format!(
        "github-oidc (GitHub OIDC → Entra client `{client_id}` in tenant `{tenant}` → ACR exchange)"
    );
    Ok(Auth {
        kind: AuthKind::GithubOidc,
        credential: Credential::Azure(Arc::new(AzureCredential {
            tenant,
            client_id,
            token_url,
            scope: scope(env),
            assertion: Assertion::GithubOidc {
                request_url,
                request_token,
                audience: env
                    .get(ev::GOLDEN_OIDC_AUDIENCE)
                    .unwrap_or_else(|| DEFAULT_AUDIENCE.to_string()),
            },
        })),
        description,
        hosts: super::AuthHosts::default(),
    })
}

/// Method 2: service principal with a client secret.
pub(crate) fn service_principal(env: &Env) -> Result<Auth, AuthError> {
    const M: &str = "service-principal";
    let client_id = need(env, M, ev::AZURE_CLIENT_ID)?;
    let tenant = need(env, M, ev::AZURE_TENANT_ID)?;
    let secret = Secret::new(need(env, M, ev::AZURE_CLIENT_SECRET)?);
    let token_url = token_url(env, &tenant)?;
    let description = format!(
        "service-principal (Entra client `{client_id}` in tenant `{tenant}` with AZURE_CLIENT_SECRET → ACR exchange)"
    );
    Ok(Auth {
        kind: AuthKind::ServicePrincipal,
        credential: Credential::Azure(Arc::new(AzureCredential {
            tenant,
            client_id,
            token_url,
            scope: scope(env),
            assertion: Assertion::ClientSecret(secret),
        })),
        description,
        hosts: super::AuthHosts::default(),
    })
}

/// Send a request to a token endpoint (`what` at `url`, as messages name it) and read the
/// non-empty string `field` of its JSON reply. A refusal (not 2xx) becomes `refused(status,
/// body)`, the body quoted on one line.
async fn secret_field(
    request: reqwest::RequestBuilder,
    what: &'static str,
    url: &Url,
    field: &str,
    refused: impl FnOnce(u16, String) -> AuthError,
) -> Result<Secret, AuthError> {
    let bad_reply = |reason: String| AuthError::BadReply {
        what,
        url: url.to_string(),
        reason,
    };
    let resp = request
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|source| AuthError::Transport {
            what,
            url: url.to_string(),
            source,
        })?;
    let status = resp.status();
    if !status.is_success() {
        let body = crate::error::ErrorBody::parse(&crate::body::read_error_body(resp).await).raw;
        return Err(refused(status.as_u16(), body));
    }
    let bytes = crate::body::read_capped(resp, crate::body::MAX_TOKEN_REPLY)
        .await
        .map_err(|e| bad_reply(e.to_string()))?;
    let reply: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| bad_reply(e.to_string()))?;
    match reply.get(field).and_then(|v| v.as_str()) {
        Some(v) if !v.trim().is_empty() => Ok(Secret::new(v)),
        _ => Err(bad_reply(format!("no `{field}` in the reply"))),
    }
}

impl AzureCredential {
    /// The same credential for another Entra scope (Key Vault: `https://vault.azure.net/.default`).
    pub(crate) fn with_scope(&self, scope: &str) -> AzureCredential {
        AzureCredential {
            tenant: self.tenant.clone(),
            client_id: self.client_id.clone(),
            token_url: self.token_url.clone(),
            scope: scope.to_string(),
            assertion: match &self.assertion {
                Assertion::GithubOidc {
                    request_url,
                    request_token,
                    audience,
                } => Assertion::GithubOidc {
                    request_url: request_url.clone(),
                    request_token: request_token.clone(),
                    audience: audience.clone(),
                },
                Assertion::ClientSecret(s) => Assertion::ClientSecret(s.clone()),
            },
        }
    }

    /// A fresh GitHub ID token (they live minutes: fetched for each Entra request).
    async fn github_token(
        http: &crate::http::Http,
        request_url: &Url,
        request_token: &Secret,
        audience: &str,
    ) -> Result<Secret, AuthError> {
        let mut url = request_url.clone();
        url.query_pairs_mut().append_pair("audience", audience);
        let mut auth =
            reqwest::header::HeaderValue::from_str(&format!("Bearer {}", request_token.expose()))
                .map_err(|_| AuthError::BadReply {
                what: "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
                url: request_url.to_string(),
                reason: "the request token contains characters not allowed in a header".into(),
            })?;
        auth.set_sensitive(true);
        let request = http
            .for_url(&url)
            .get(url.clone())
            .header(reqwest::header::AUTHORIZATION, auth);
        secret_field(
            request,
            "the GitHub OIDC token endpoint",
            request_url,
            "value",
            |status, body| AuthError::GithubOidc { status, body },
        )
        .await
    }

    /// An Entra access token for [`AzureCredential::scope`].
    pub(crate) async fn entra_token(&self, http: &crate::http::Http) -> Result<Secret, AuthError> {
        let (method, secret_field_name, secret) = match &self.assertion {
            Assertion::GithubOidc {
                request_url,
                request_token,
                audience,
            } => (
                "a GitHub OIDC client assertion",
                "client_assertion",
                Self::github_token(http, request_url, request_token, audience).await?,
            ),
            Assertion::ClientSecret(s) => ("a client secret", "client_secret", s.clone()),
        };
        let mut form: Vec<(&str, &str)> = vec![
            ("client_id", &self.client_id),
            ("grant_type", "client_credentials"),
            ("scope", &self.scope),
        ];
        if secret_field_name == "client_assertion" {
            form.push(("client_assertion_type", ASSERTION_TYPE));
        }
        form.push((secret_field_name, secret.expose()));
        let request = http
            .for_url(&self.token_url)
            .post(self.token_url.clone())
            .form(&form);
        secret_field(
            request,
            "Entra ID",
            &self.token_url,
            "access_token",
            |status, body| {
                let hint = if body.contains("AADSTS70021") || body.contains("AADSTS700213") {
                    "; hint: no federated credential matches the GitHub token's subject (e.g. `repo:ORG/REPO:ref:refs/heads/main`, `repo:ORG/REPO:environment:NAME`, `repo:ORG/REPO:ref:refs/tags/v1.2.3`). Do not add a `pull_request` subject: any pull request's workflow code would get a push token; pull requests build and scan without pushing and need no id-token"
                } else if body.contains("AADSTS7000215") || body.contains("AADSTS7000222") {
                    "; hint: the client secret is wrong or expired"
                } else if body.contains("AADSTS700016") {
                    "; hint: AZURE_CLIENT_ID is not an application in this tenant"
                } else {
                    ""
                };
                AuthError::Entra {
                    method,
                    client_id: self.client_id.clone(),
                    tenant: self.tenant.clone(),
                    status,
                    body,
                    hint,
                }
            },
        )
        .await
    }

    /// Entra token → ACR refresh token via `POST <exchange_url>`.
    pub(crate) async fn acr_refresh_token(
        &self,
        http: &crate::http::Http,
        registry: &str,
        exchange_url: &Url,
        service: &str,
    ) -> Result<Secret, AuthError> {
        let entra = self.entra_token(http).await?;
        let form = [
            ("grant_type", "access_token"),
            ("service", service),
            ("tenant", &self.tenant),
            ("access_token", entra.expose()),
        ];
        let request = http
            .for_url(exchange_url)
            .post(exchange_url.clone())
            .form(&form);
        secret_field(
            request,
            "the ACR exchange endpoint",
            exchange_url,
            "refresh_token",
            |status, body| AuthError::Exchange {
                registry: registry.to_string(),
                url: exchange_url.to_string(),
                status,
                body,
            },
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wiremock::matchers::{body_string_contains, header, method, path, query_param};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    fn oidc_env(gh: &MockServer, entra: &MockServer) -> Env {
        Env::from_pairs([
            (
                "ACTIONS_ID_TOKEN_REQUEST_URL".to_string(),
                format!("{}/idtoken?api-version=2.0", gh.uri()),
            ),
            (
                "ACTIONS_ID_TOKEN_REQUEST_TOKEN".into(),
                "gh-request-token".into(),
            ),
            ("AZURE_CLIENT_ID".into(), "client-1".into()),
            ("AZURE_TENANT_ID".into(), "tenant-1".into()),
            ("AZURE_AUTHORITY_HOST".into(), entra.uri()),
        ])
    }

    #[tokio::test]
    async fn oidc_assertion_reaches_entra_and_exchange() {
        let gh = MockServer::start().await;
        let entra = MockServer::start().await;
        let acr = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/idtoken"))
            .and(query_param("api-version", "2.0"))
            .and(query_param("audience", "api://AzureADTokenExchange"))
            .and(header("authorization", "Bearer gh-request-token"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(serde_json::json!({"value": "gh.jwt.value"})),
            )
            .expect(1)
            .mount(&gh)
            .await;
        Mock::given(method("POST"))
            .and(path("/tenant-1/oauth2/v2.0/token"))
            .and(body_string_contains("client_id=client-1"))
            .and(body_string_contains("grant_type=client_credentials"))
            .and(body_string_contains(
                "client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer",
            ))
            .and(body_string_contains("client_assertion=gh.jwt.value"))
            .and(body_string_contains(
                "scope=https%3A%2F%2Fcontainerregistry.azure.net%2F.default",
            ))
            .respond_with(ResponseTemplate::new(200).set_body_json(
                serde_json::json!({"access_token": "entra-at", "token_type": "Bearer", "expires_in": 3599}),
            ))
            .expect(1)
            .mount(&entra)
            .await;
        Mock::given(method("POST"))
            .and(path("/oauth2/exchange"))
            .and(body_string_contains("grant_type=access_token"))
            .and(body_string_contains("service=myacr.azurecr.io"))
            .and(body_string_contains("tenant=tenant-1"))
            .and(body_string_contains("access_token=entra-at"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(serde_json::json!({"refresh_token": "acr-rt"})),
            )
            .expect(1)
            .mount(&acr)
            .await;
        let auth = github_oidc(&oidc_env(&gh, &entra)).unwrap();
        let Credential::Azure(az) = auth.credential else {
            panic!()
        };
        let http = crate::http::Http::new(&crate::http::HttpSettings::default()).unwrap();
        let url = Url::parse(&format!("{}/oauth2/exchange", acr.uri())).unwrap();
        let rt = az
            .acr_refresh_token(&http, "myacr.azurecr.io", &url, "myacr.azurecr.io")
            .await
            .unwrap();
        assert_eq!(rt.expose(), "acr-rt");
    }

    #[tokio::test]
    async fn entra_refusal_gives_a_hint_about_the_federated_subject() {
        let gh = MockServer::start().await;
        let entra = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(serde_json::json!({"value": "j"})),
            )
            .mount(&gh)
            .await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(400).set_body_json(serde_json::json!({
                "error": "invalid_request",
                "error_description": "AADSTS70021: No matching federated identity record found for presented assertion."
            })))
            .mount(&entra)
            .await;
        let auth = github_oidc(&oidc_env(&gh, &entra)).unwrap();
        let Credential::Azure(az) = auth.credential else {
            panic!()
        };
        let e = az
            .entra_token(&crate::http::Http::new(&crate::http::HttpSettings::default()).unwrap())
            .await
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("client-1") && e.contains("tenant-1") && e.contains("AADSTS70021"),
            "{e}"
        );
        assert!(e.contains("repo:ORG/REPO:ref:refs/heads/main"), "{e}");
        // A `pull_request` subject is warned against, never suggested.
        assert!(!e.contains("repo:ORG/REPO:pull_request"), "{e}");
        assert!(e.contains("Do not add a `pull_request` subject"), "{e}");
    }

    #[tokio::test]
    async fn github_refusal_mentions_the_permission() {
        let gh = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(403).set_body_string("forbidden"))
            .mount(&gh)
            .await;
        let auth = github_oidc(&oidc_env(&gh, &gh)).unwrap();
        let Credential::Azure(az) = auth.credential else {
            panic!()
        };
        let e = az
            .entra_token(&crate::http::Http::new(&crate::http::HttpSettings::default()).unwrap())
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("id-token: write"), "{e}");
    }

    #[tokio::test]
    async fn exchange_refusal_and_empty_replies_name_the_endpoint() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/tenant-1/oauth2/v2.0/token"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(serde_json::json!({"access_token": "entra-at"})),
            )
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/refused/oauth2/exchange"))
            .respond_with(ResponseTemplate::new(401).set_body_string(
                r#"{"errors":[{"code":"UNAUTHORIZED","message":"identity has no role"}]}"#,
            ))
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/empty/oauth2/exchange"))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({})))
            .mount(&server)
            .await;
        let auth = service_principal(&Env::from_pairs([
            ("AZURE_CLIENT_ID", "client-1".to_string()),
            ("AZURE_TENANT_ID", "tenant-1".to_string()),
            ("AZURE_CLIENT_SECRET", "sp-secret".to_string()),
            ("AZURE_AUTHORITY_HOST", server.uri()),
        ]))
        .unwrap();
        let Credential::Azure(az) = auth.credential else {
            panic!()
        };
        let http = crate::http::Http::new(&crate::http::HttpSettings::default()).unwrap();
        let exchange =
            |p: &str| Url::parse(&format!("{}/{p}/oauth2/exchange", server.uri())).unwrap();
        let e = az
            .acr_refresh_token(
                &http,
                "myacr.azurecr.io",
                &exchange("refused"),
                "myacr.azurecr.io",
            )
            .await
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("registry `myacr.azurecr.io` refused")
                && e.contains("HTTP 401")
                && e.contains("identity has no role")
                && e.contains("AcrPush"),
            "{e}"
        );
        let e = az
            .acr_refresh_token(
                &http,
                "myacr.azurecr.io",
                &exchange("empty"),
                "myacr.azurecr.io",
            )
            .await
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("the ACR exchange endpoint")
                && e.contains("no `refresh_token` in the reply"),
            "{e}"
        );
    }

    #[test]
    fn authority_host_must_be_https_unless_loopback_and_tenant_is_checked() {
        let e = token_url(
            &Env::from_pairs([("AZURE_AUTHORITY_HOST", "http://login.example")]),
            "t",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("must use https"), "{e}");
        let u = token_url(
            &Env::from_pairs([("AZURE_AUTHORITY_HOST", "https://login.microsoftonline.us/")]),
            "t-1",
        )
        .unwrap();
        assert_eq!(
            u.as_str(),
            "https://login.microsoftonline.us/t-1/oauth2/v2.0/token"
        );
        assert!(token_url(&Env::default(), "../x").is_err());
    }
}
