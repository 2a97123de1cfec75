//! The OCI distribution client of the golden binaries.
//!
//! Architecture invariant: this crate is the ONLY code that speaks the OCI distribution protocol
//! (`/v2/...`, token services, ACR's `/oauth2/exchange`). Binaries (`golden-push`, `golden-scan`,
//! `golden-report`) call a [`Client`]; they never build registry requests themselves.
//!
//! What it does:
//! - **auth** ([`Auth::detect`], [`AuthKind`]): GitHub OIDC → Entra client assertion → ACR
//!   refresh token; service principal secret → Entra → ACR; ACR refresh / registry access token
//!   or username/password given directly; `~/.docker/config.json` (auths, identity tokens,
//!   credential helpers); anonymous and registry bearer challenges (`WWW-Authenticate: Bearer`)
//!   and Basic. Every secret is wrapped in [`Secret`], which registers a `::add-mask::` with the
//!   runner the moment it exists and never prints itself. Tokens are cached per registry with
//!   the union of the scopes asked so far, refreshed before they expire and re-fetched once on a
//!   401 in the middle of a push.
//! - **transport**: plain HTTP only for loopback registries or [`ClientOptions::insecure`];
//!   retries with exponential backoff and jitter on connection errors, 429 (honouring
//!   `Retry-After`) and 5xx ([`RetryPolicy`]); registry error bodies decoded into clear errors
//!   ([`RegistryError`]).
//! - **content**: manifests ([`Client::get_manifest`], [`Client::put_manifest`]), blobs
//!   ([`Client::blob_exists`], [`Client::mount_blob`], chunked resumable uploads
//!   [`Client::upload_file`] / [`Client::upload_bytes`] / [`Client::upload_reader`] /
//!   [`Client::upload_streaming`] (digest computed on the fly), verified
//!   downloads [`Client::get_blob`], [`Client::get_blob_bytes`], [`Client::blob_download`]),
//!   tags ([`Client::list_tags`]) and referrers ([`Client::referrers`],
//!   [`Client::attach_artifact`]) with the referrers tag-schema fallback (`sha256-<hex>`) for
//!   registries without the referrers API (distribution 2.8).
//!
//! Everything read is digest-verified; every manifest sent is hashed here and compared with the
//! registry's `Docker-Content-Digest`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), golden_registry::RegistryError> {
//! use golden_registry::{Client, ClientOptions};
//! use golden_oci::Reference;
//! let client = Client::new(ClientOptions::default())?;
//! let image = Reference::parse("127.0.0.1:5000/golden/nginx:1.22-debian").unwrap();
//! let manifest = client.get_manifest(&image).await?;
//! println!("{} {}", manifest.media_type, manifest.digest);
//! let reports = client
//!     .referrers(&image.with_digest(&manifest.digest), Some("application/vnd.golden.scan-report.v1+json"))
//!     .await?;
//! for r in reports {
//!     let bytes = client.get_manifest(&image.with_digest(&r.digest)).await?;
//!     # let _ = bytes;
//! }
//! # Ok(()) }
//! ```

mod auth;
mod blobs;
mod body;
mod client;
/// sha256 digest helpers (they live in golden-oci; re-exported for callers of this crate).
pub use golden_oci::digest;
mod env;
mod error;
mod http;
mod manifests;
mod retry;
mod secret;
pub mod types;

pub use auth::{
    AZURE_CONTAINER_REGISTRY_SCOPE, Auth, AuthHosts, AuthKind, Credential, NULL_GUID_USERNAME,
    Scope,
};
pub use blobs::{BlobDownload, MountOutcome, UploadSession, Uploaded};
pub use client::{Client, ClientOptions, RetryPolicy};
pub use env::Env;
pub use error::{ApiError, AuthError, Denied, ErrorBody, RegistryError};
pub use manifests::{Attached, FetchedManifest, PushedManifest, referrers_fallback_tag};
pub use secret::Secret;
pub use types::{
    Descriptor, ImageIndex, ImageManifest, MissingPlatformField, ParsedManifest, Platform,
};

/// Re-exported so callers do not need a direct dependency for the reference type.
pub use golden_oci::{Reference, media};

/// Environment variable names read by this crate (documented in the README).
pub mod env_vars {
    /// Force one auth method (`auto`, `github-oidc`, `service-principal`, `token`,
    /// `docker-config`, `anonymous`).
    pub const GOLDEN_AUTH: &str = "GOLDEN_AUTH";
    /// An ACR refresh token (also what `az acr login --expose-token` prints as `accessToken`).
    pub const GOLDEN_ACR_REFRESH_TOKEN: &str = "GOLDEN_ACR_REFRESH_TOKEN";
    /// A registry access token used as-is as `Authorization: Bearer`.
    pub const GOLDEN_REGISTRY_TOKEN: &str = "GOLDEN_REGISTRY_TOKEN";
    /// Username/password (ACR admin user, repository-scoped token, any Basic-auth registry).
    pub const GOLDEN_REGISTRY_USERNAME: &str = "GOLDEN_REGISTRY_USERNAME";
    pub const GOLDEN_REGISTRY_PASSWORD: &str = "GOLDEN_REGISTRY_PASSWORD";
    /// Entra scope requested for the ACR exchange (default: the ACR audience).
    pub const GOLDEN_AZURE_SCOPE: &str = "GOLDEN_AZURE_SCOPE";
    /// Audience of the GitHub OIDC token (default `api://AzureADTokenExchange`).
    pub const GOLDEN_OIDC_AUDIENCE: &str = "GOLDEN_OIDC_AUDIENCE";
    pub const AZURE_CLIENT_ID: &str = "AZURE_CLIENT_ID";
    pub const AZURE_TENANT_ID: &str = "AZURE_TENANT_ID";
    pub const AZURE_CLIENT_SECRET: &str = "AZURE_CLIENT_SECRET";
    /// Entra authority host (sovereign clouds, tests). Default `https://login.microsoftonline.com`.
    pub const AZURE_AUTHORITY_HOST: &str = "AZURE_AUTHORITY_HOST";
    pub const ACTIONS_ID_TOKEN_REQUEST_URL: &str = "ACTIONS_ID_TOKEN_REQUEST_URL";
    pub const ACTIONS_ID_TOKEN_REQUEST_TOKEN: &str = "ACTIONS_ID_TOKEN_REQUEST_TOKEN";
    /// Hosts (`host[:port]` or `*.domain`, comma-separated) that credentials from the
    /// environment may be sent to, besides the push target and `GOLDEN_REGISTRY`.
    pub const GOLDEN_AUTH_HOSTS: &str = "GOLDEN_AUTH_HOSTS";
    /// The configured registry (`host[:port]`, optionally `/namespace`): credentials from the
    /// environment may be sent to it.
    pub const GOLDEN_REGISTRY: &str = "GOLDEN_REGISTRY";
    /// Extra variables (comma-separated names) passed to docker credential helpers, which
    /// otherwise run with a cleared environment and a fixed allow-list.
    pub const GOLDEN_CREDENTIAL_HELPER_ENV: &str = "GOLDEN_CREDENTIAL_HELPER_ENV";
    /// Directory of `config.json` (default `~/.docker`).
    pub const DOCKER_CONFIG: &str = "DOCKER_CONFIG";
}
