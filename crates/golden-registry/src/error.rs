//! Errors, split by phase: getting credentials ([`AuthError`]) and talking to the registry
//! ([`RegistryError`]). Messages say what failed, on which object, what the registry answered,
//! and (where the user can act) how to fix it. They never contain a secret: registry and token
//! service bodies are quoted, request headers never are.

use std::fmt;

/// Failures while resolving or exchanging credentials.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("auth method `{method}` needs the environment variable {var}")]
    MissingEnv {
        method: &'static str,
        var: &'static str,
    },
    #[error(
        "unknown auth method `{0}` (known: auto, github-oidc, service-principal, token, docker-config, anonymous)"
    )]
    UnknownMethod(String),
    #[error(
        "{what} `{url}` must use https (plain http is only allowed for loopback hosts, e.g. in tests)"
    )]
    InsecureUrl { what: &'static str, url: String },
    #[error("{what} `{url}` is not a valid URL: {reason}")]
    BadUrl {
        what: &'static str,
        url: String,
        reason: String,
    },
    #[error("failed to reach {what} at `{url}`")]
    Transport {
        what: &'static str,
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error(
        "GitHub refused the OIDC token request (HTTP {status}): {body}; hint: the job needs `permissions: id-token: write`"
    )]
    GithubOidc { status: u16, body: String },
    #[error(
        "Entra ID refused the token request for client `{client_id}` in tenant `{tenant}` using {method} (HTTP {status}): {body}{hint}"
    )]
    Entra {
        method: &'static str,
        client_id: String,
        tenant: String,
        status: u16,
        body: String,
        hint: &'static str,
    },
    #[error(
        "registry `{registry}` refused to exchange the Entra token for an ACR refresh token at `{url}` (HTTP {status}): {body}; hint: the identity needs a role on the registry (AcrPush, or `Container Registry Repository Writer` on ABAC-mode registries)"
    )]
    Exchange {
        registry: String,
        url: String,
        status: u16,
        body: String,
    },
    #[error(
        "token service `{realm}` refused `{scopes}` for registry `{registry}` (HTTP {status}) using auth method {method}: {body}"
    )]
    TokenRefused {
        registry: String,
        realm: String,
        scopes: String,
        method: String,
        status: u16,
        body: String,
    },
    #[error("bad reply from {what} `{url}`: {reason}")]
    BadReply {
        what: &'static str,
        url: String,
        reason: String,
    },
    #[error("failed to read the docker config `{path}`: {reason}")]
    DockerConfig { path: String, reason: String },
    #[error("credential helper `docker-credential-{helper}` failed for `{registry}`: {reason}")]
    CredentialHelper {
        helper: String,
        registry: String,
        reason: String,
    },
    #[error(
        "registry `{registry}` sent its token requests to `{realm}` on another host (`{realm_host}`); the credential ({method}) is not sent there; hint: if that token service belongs to the registry, add `{realm_host}` to GOLDEN_AUTH_HOSTS"
    )]
    ForeignRealm {
        registry: String,
        realm: String,
        realm_host: String,
        method: String,
    },
    #[error("auth method {method} does not apply to registry `{registry}`: {reason}")]
    NotApplicable {
        method: String,
        registry: String,
        reason: String,
    },
}

/// One error of a registry error body (`{"errors":[{"code","message","detail"}]}`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApiError {
    pub code: String,
    pub message: String,
    pub detail: String,
}

/// The decoded body of an error reply (or the raw text when it is not the spec's JSON).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorBody {
    pub errors: Vec<ApiError>,
    pub raw: String,
}

impl ErrorBody {
    /// Decode a reply body; keeps at most 2 KiB of raw text. Line breaks become spaces: a
    /// registry's text is untrusted and must not start a line of our output (in GitHub Actions
    /// a line starting with `::` is a workflow command).
    pub fn parse(bytes: &[u8]) -> ErrorBody {
        let one_line = |s: &str| s.replace(['\r', '\n'], " ");
        let mut raw = one_line(String::from_utf8_lossy(bytes).trim());
        if raw.len() > 2048 {
            let mut cut = 2048;
            while !raw.is_char_boundary(cut) {
                cut -= 1;
            }
            raw.truncate(cut);
            raw.push_str("...");
        }
        let mut errors = Vec::new();
        if let Ok(v) = serde_json::from_slice::<serde_json::Value>(bytes)
            && let Some(list) = v.get("errors").and_then(|e| e.as_array())
        {
            for e in list {
                let text =
                    |k: &str| one_line(e.get(k).and_then(|c| c.as_str()).unwrap_or_default());
                errors.push(ApiError {
                    code: text("code"),
                    message: text("message"),
                    detail: match e.get("detail") {
                        None | Some(serde_json::Value::Null) => String::new(),
                        Some(serde_json::Value::String(s)) => one_line(s),
                        Some(other) => other.to_string(),
                    },
                });
            }
        }
        ErrorBody { errors, raw }
    }

    pub fn has_code(&self, code: &str) -> bool {
        self.errors.iter().any(|e| e.code == code)
    }
}

impl fmt::Display for ErrorBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.errors.is_empty() {
            if self.raw.is_empty() {
                return f.write_str("(empty body)");
            }
            return f.write_str(&self.raw);
        }
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{}: {}", e.code, e.message)?;
            if !e.detail.is_empty() {
                write!(f, " ({})", e.detail)?;
            }
        }
        Ok(())
    }
}

/// Failures while talking to a registry.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error(transparent)]
    Auth(Box<AuthError>),
    #[error(
        "failed to reach registry `{registry}` ({action} `{object}`) after {attempts} attempt(s)"
    )]
    Transport {
        registry: String,
        action: &'static str,
        object: String,
        attempts: u32,
        #[source]
        source: reqwest::Error,
    },
    #[error(transparent)]
    Denied(Box<Denied>),
    #[error("repository `{repository}` is unknown to registry `{registry}`: {body}")]
    NameUnknown {
        registry: String,
        repository: String,
        body: ErrorBody,
    },
    #[error("manifest `{reference}` not found")]
    ManifestUnknown { reference: String },
    #[error("blob `{digest}` not found in `{repository}`")]
    BlobUnknown { repository: String, digest: String },
    #[error("registry rejected the manifest for `{reference}` (HTTP {status}): {body}")]
    ManifestRejected {
        reference: String,
        status: u16,
        body: ErrorBody,
    },
    #[error("digest mismatch for {what}: expected `{expected}`, got `{actual}`")]
    DigestMismatch {
        what: String,
        expected: String,
        actual: String,
    },
    #[error(
        "registry `{registry}` refuses to delete `{object}` (HTTP {status}: {body}); hint: deletes are turned off or not granted: distribution needs `storage.delete.enabled: true`, ACR an identity with delete rights (the AcrDelete role, or a repository-scoped token with `content/delete`)"
    )]
    DeleteRefused {
        registry: String,
        object: String,
        status: u16,
        body: ErrorBody,
    },
    #[error("failed to {action} `{object}`: registry answered HTTP {status}: {body}")]
    Status {
        action: &'static str,
        object: String,
        status: u16,
        body: ErrorBody,
    },
    #[error("bad reply from registry `{registry}` ({action} `{object}`): {reason}")]
    BadReply {
        registry: String,
        action: &'static str,
        object: String,
        reason: String,
    },
    #[error("`{registry}` is not an OCI registry: GET {url} answered HTTP {status}")]
    NotARegistry {
        registry: String,
        url: String,
        status: u16,
    },
    #[error("failed to {action} `{object}`")]
    Io {
        action: &'static str,
        object: String,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid argument: {0}")]
    Invalid(String),
}

/// 401/403 after re-authorising: which scopes, which auth method, what the registry said.
#[derive(Debug, thiserror::Error)]
#[error(
    "registry `{registry}` refused `{scopes}` (HTTP {status}: {body}) using auth method {method}; {hint}"
)]
pub struct Denied {
    pub registry: String,
    pub scopes: String,
    pub method: String,
    pub status: u16,
    pub body: ErrorBody,
    pub hint: &'static str,
}

impl From<AuthError> for RegistryError {
    fn from(e: AuthError) -> Self {
        RegistryError::Auth(Box::new(e))
    }
}

impl RegistryError {
    /// True for "not there" answers (unknown manifest, blob or repository).
    pub fn is_not_found(&self) -> bool {
        matches!(
            self,
            RegistryError::ManifestUnknown { .. }
                | RegistryError::BlobUnknown { .. }
                | RegistryError::NameUnknown { .. }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_body_renders_codes_and_details() {
        let b = ErrorBody::parse(
            br#"{"errors":[{"code":"MANIFEST_INVALID","message":"manifest invalid","detail":{"reason":"x"}},{"code":"BLOB_UNKNOWN","message":"blob unknown to registry","detail":"sha256:aa"}]}"#,
        );
        assert!(b.has_code("BLOB_UNKNOWN"));
        assert_eq!(
            b.to_string(),
            r#"MANIFEST_INVALID: manifest invalid ({"reason":"x"}); BLOB_UNKNOWN: blob unknown to registry (sha256:aa)"#
        );
        assert_eq!(
            ErrorBody::parse(b"404 page not found\n").to_string(),
            "404 page not found"
        );
        assert_eq!(ErrorBody::parse(b"").to_string(), "(empty body)");
        // Untrusted text never starts a line of output.
        let b = ErrorBody::parse(b"oops\n::set-output name=x::y");
        assert!(!b.to_string().contains('\n'), "{b}");
        let b = ErrorBody::parse(br#"{"errors":[{"code":"X","message":"a\n::add-mask::b"}]}"#);
        assert!(!b.to_string().contains('\n'), "{b}");
        let long = ErrorBody::parse(&vec![b'x'; 5000]);
        assert!(long.raw.len() < 2100);
    }
}
