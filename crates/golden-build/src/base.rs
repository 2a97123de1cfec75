//! The base image: found in the engine, or pulled from its registry through the engine with the
//! credentials `golden-registry` detects (GitHub OIDC → Entra → ACR refresh token, service
//! principal, refresh/access token, username/password, docker config, anonymous), then resolved
//! to its immutable image id (what `BASE_IMAGE` gets) and its registry digest (what
//! `org.opencontainers.image.base.digest` records).
//!
//! Order: the engine has the reference → use it (no pull); else, unless pulling is disabled
//! (`--no-pull-base`) or the base is rebuilt in this run (`base_in_plan`: it must come from the
//! base job, not from the registry), `POST /images/create` with `X-Registry-Auth`.

use golden_engine::{Engine, EngineError, PullError, PullStatus, RegistryAuth};
use golden_oci::Reference;
use golden_oci::digest::is_sha256;
use golden_registry::{AuthKind, Credential, NULL_GUID_USERNAME};

/// The base image, resolved to something immutable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedBase {
    /// As referenced (for the record).
    pub reference: String,
    /// `org.opencontainers.image.base.name`: the reference without a digest.
    pub name: String,
    /// `org.opencontainers.image.base.digest`: the registry (manifest) digest when known — the
    /// pinned digest, the digest the pull reported, or the image's only `RepoDigests` entry for
    /// the repository — else the engine's image id.
    pub digest: String,
    /// What `BASE_IMAGE` gets: the engine's image id (`sha256:...`).
    pub build_arg: String,
    /// True when golden-build pulled it in this run.
    pub pulled: bool,
}

impl ResolvedBase {
    /// A base golden-build pulled in this run: the digest the pull reported, else the image id.
    fn pulled(reference: &str, name: String, p: Pulled) -> Self {
        ResolvedBase {
            reference: reference.to_string(),
            name,
            digest: p.registry_digest.unwrap_or_else(|| p.image_id.clone()),
            build_arg: p.image_id,
            pulled: true,
        }
    }
}

/// How a base that is not in the engine may be obtained.
#[derive(Debug, Clone)]
pub struct BaseOptions {
    /// Pull a base the engine does not have (false: `--no-pull-base`).
    pub pull: bool,
    /// Auth method for the registry (`--auth`, `GOLDEN_AUTH`; `Auto` = detection order).
    pub auth: AuthKind,
    /// The environment auth inputs are read from (a snapshot of the process environment).
    pub vars: Vec<(String, String)>,
    /// Registries the image itself is tagged for: in `Auto` mode the Entra methods apply to
    /// them (and to ACR hosts) only.
    pub own_registries: Vec<String>,
    /// The base is rebuilt in this run (the plan entry's `base_in_plan`, reference from the
    /// entry): it must be in the engine (loaded from the base job), never pulled.
    pub rebuilt_in_run: bool,
    /// Plan id of the base entry (for hints).
    pub base_entry: Option<String>,
    /// The entry's OS (for hints).
    pub os: Option<String>,
    /// Do not print pull progress.
    pub quiet: bool,
    /// `--pull`: pull a registry base even when the engine has it (a newer one may be
    /// published), unless it is rebuilt in this run.
    pub refresh: bool,
}

impl Default for BaseOptions {
    fn default() -> Self {
        BaseOptions {
            pull: true,
            auth: AuthKind::Auto,
            vars: std::env::vars().collect(),
            own_registries: Vec::new(),
            rebuilt_in_run: false,
            base_entry: None,
            os: None,
            quiet: false,
            refresh: false,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BaseError {
    #[error(
        "base image `{reference}` is not in the engine and is not a registry reference; hint: build the base first{base_hint}, load its archive (`golden-build load FILE`), or pass --base-image REGISTRY/NAME:TAG or NAME@sha256:..."
    )]
    Missing {
        reference: String,
        base_hint: String,
    },
    #[error(
        "base image `{reference}` is not in the engine and pulling it is disabled (--no-pull-base / GOLDEN_NO_PULL_BASE); hint: build the base first{base_hint}, load its archive (`golden-build load FILE`), or allow the pull"
    )]
    PullDisabled {
        reference: String,
        base_hint: String,
    },
    #[error(
        "base image `{reference}` is rebuilt in this run (the entry's `base_in_plan`) but is not in the engine; hint: load the base job's archive first (`golden-build load FILE`, the `base-handoff` input of the build action) or build the base{base_hint}; the published base is not pulled: it would be the previous build"
    )]
    RebuiltInRun {
        reference: String,
        base_hint: String,
    },
    #[error("failed to get credentials for `{registry}` to pull the base image `{reference}`")]
    Credentials {
        reference: String,
        registry: String,
        #[source]
        source: golden_registry::RegistryError,
    },
    #[error(
        "the registry `{registry}` refused to let the engine pull the base image `{reference}` (auth: {method}): {message}; hint: {hint}"
    )]
    Denied {
        reference: String,
        registry: String,
        method: String,
        message: String,
        hint: String,
    },
    #[error(
        "base image `{reference}` is not in the registry `{registry}`: {message}; hint: the base was never published (or its tag was removed): rebuild it in the same run ({rebuild}){base_hint}, or push it first"
    )]
    NotPublished {
        reference: String,
        registry: String,
        message: String,
        rebuild: String,
        base_hint: String,
    },
    #[error(
        "failed to pull the base image `{reference}` from `{registry}`: {message}; hint: {hint}"
    )]
    PullFailed {
        reference: String,
        registry: String,
        message: String,
        hint: String,
    },
    #[error(
        "the engine pulled `{reference}` but has no image for it afterwards; hint: check the engine log (journalctl -u docker)"
    )]
    Vanished {
        reference: String,
        #[source]
        source: EngineError,
    },
    #[error(transparent)]
    Engine(#[from] EngineError),
}

/// The Entra inputs (GitHub OIDC and service principal need both ids).
const ENTRA_VARS: [&str; 3] = ["AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET"];

/// An Azure Container Registry host (public cloud, China, US Government).
pub fn is_acr_host(registry: &str) -> bool {
    let host = registry
        .split(':')
        .next()
        .unwrap_or(registry)
        .to_ascii_lowercase();
    [".azurecr.io", ".azurecr.cn", ".azurecr.us"]
        .iter()
        .any(|s| host.ends_with(s))
}

/// Whether the Entra methods may apply to `registry`: always when a method is forced; in `Auto`
/// mode only for ACR hosts and the image's own registries (Entra credentials are for the
/// organisation's ACR; a public upstream on Docker Hub continues the detection without them:
/// token, docker config, anonymous).
fn entra_applies(opts: &BaseOptions, registry: &str) -> bool {
    opts.auth != AuthKind::Auto
        || is_acr_host(registry)
        || opts.own_registries.iter().any(|r| r == registry)
}

/// The auth inputs for `registry`.
fn auth_env(opts: &BaseOptions, registry: &str) -> golden_registry::Env {
    let entra = entra_applies(opts, registry);
    golden_registry::Env::from_pairs(
        opts.vars
            .iter()
            .filter(|(k, _)| entra || !ENTRA_VARS.contains(&k.as_str()))
            .cloned(),
    )
}

pub(crate) fn strip_digest(reference: &str) -> &str {
    match reference.split_once('@') {
        Some((name, _)) if !name.is_empty() => name,
        _ => reference,
    }
}

/// An image id (`sha256:<hex>`, or a bare hex id of 12 to 64 digits): never pulled.
pub(crate) fn looks_like_id(reference: &str) -> bool {
    let hex = reference.strip_prefix("sha256:").unwrap_or(reference);
    (12..=64).contains(&hex.len()) && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// True when the reference names its registry (`host[:port]/...`, `localhost/...`).
pub(crate) fn names_registry(reference: &str) -> bool {
    reference.split_once('/').is_some_and(|(first, _)| {
        first.contains('.') || first.contains(':') || first == "localhost"
    })
}

/// The one registry digest `RepoDigests` records for the reference's repository, if exactly one.
fn repo_digest_for(repo_digests: &[String], reference: &Reference) -> Option<String> {
    let mut found: Vec<String> = repo_digests
        .iter()
        .filter_map(|rd| Reference::parse(rd).ok())
        .filter(|r| r.registry == reference.registry && r.repository == reference.repository)
        .filter_map(|r| r.digest)
        .filter(|d| is_sha256(d))
        .collect();
    found.sort();
    found.dedup();
    match found.as_slice() {
        [one] => Some(one.clone()),
        _ => None,
    }
}

fn base_hint(opts: &BaseOptions) -> String {
    opts.base_entry
        .as_ref()
        .map(|b| format!(" (`golden-build --plan plan.json --id {b}`)"))
        .unwrap_or_default()
}

/// Resolve `reference` (a name, tag or id in the engine, or a registry reference to pull).
pub async fn resolve_base(
    engine: &Engine,
    reference: &str,
    opts: &BaseOptions,
) -> Result<ResolvedBase, BaseError> {
    let parsed = Reference::parse(reference).ok();
    let pinned = parsed.as_ref().and_then(|r| r.digest.clone());
    let name = strip_digest(reference).to_string();
    let refresh = opts.refresh
        && opts.pull
        && !opts.rebuilt_in_run
        && names_registry(reference)
        && !looks_like_id(reference);
    if let (true, Some(p)) = (refresh, parsed.as_ref()) {
        let pulled = pull(engine, reference, p, opts, "base image (--pull)").await?;
        return Ok(ResolvedBase::pulled(reference, name, pulled));
    }
    match engine.inspect_image(reference).await {
        Ok(image) => {
            let id = image.id.unwrap_or_default();
            let digest = pinned
                .or_else(|| {
                    parsed.as_ref().and_then(|r| {
                        repo_digest_for(image.repo_digests.as_deref().unwrap_or_default(), r)
                    })
                })
                .unwrap_or_else(|| id.clone());
            return Ok(ResolvedBase {
                reference: reference.to_string(),
                name,
                digest,
                build_arg: id,
                pulled: false,
            });
        }
        Err(EngineError::ImageNotFound(_)) => {}
        Err(e) => return Err(e.into()),
    }
    let parsed = match parsed {
        Some(p) if !looks_like_id(reference) => p,
        _ => {
            return Err(BaseError::Missing {
                reference: reference.to_string(),
                base_hint: base_hint(opts),
            });
        }
    };
    if opts.rebuilt_in_run {
        return Err(BaseError::RebuiltInRun {
            reference: reference.to_string(),
            base_hint: base_hint(opts),
        });
    }
    if !opts.pull {
        return Err(BaseError::PullDisabled {
            reference: reference.to_string(),
            base_hint: base_hint(opts),
        });
    }
    let pulled = pull(engine, reference, &parsed, opts, "base image").await?;
    Ok(ResolvedBase::pulled(reference, name, pulled))
}

/// What a pull produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pulled {
    pub image_id: String,
    /// The manifest digest in the registry (the pinned one, or what the engine reported).
    pub registry_digest: Option<String>,
}

/// The `X-Registry-Auth` content for a credential (`None`: anonymous). An ACR refresh token is
/// the password of the null-GUID user, as `docker login` sends it; an access token is a
/// `registrytoken` the engine sends as `Bearer`.
pub fn engine_credentials(credential: &Credential, registry: &str) -> Option<RegistryAuth> {
    let server = registry.to_string();
    match credential {
        Credential::Anonymous | Credential::Azure(_) => None,
        Credential::Basic { username, password } => Some(RegistryAuth::Password {
            server,
            username: username.clone(),
            password: password.clone(),
        }),
        Credential::RefreshToken(t) => Some(RegistryAuth::Password {
            server,
            username: NULL_GUID_USERNAME.to_string(),
            password: t.clone(),
        }),
        Credential::AccessToken(t) => Some(RegistryAuth::Token {
            server,
            token: t.clone(),
        }),
    }
}

/// What a failed pull means, from the engine's status and message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failure {
    Denied,
    NotFound,
    Other,
}

/// Whether `code` stands in `message` as a status code of its own: not a part of a longer number
/// and not a port (`127.0.0.1:40173` names no 401), nor a part of an address or a digest.
fn has_status_code(message: &str, code: &str) -> bool {
    let b = message.as_bytes();
    message.match_indices(code).any(|(i, _)| {
        let before = i.checked_sub(1).map(|j| b[j]);
        let after = b.get(i + code.len()).copied();
        let glued =
            |c: u8| c.is_ascii_alphanumeric() || matches!(c, b':' | b'.' | b'/' | b'-' | b'_');
        !before.is_some_and(glued) && !after.is_some_and(|c| c.is_ascii_alphanumeric() || c == b'.')
    })
}

fn classify(status: Option<u16>, message: &str) -> Failure {
    let m = message.to_ascii_lowercase();
    let denied = [
        "unauthorized",
        "authentication required",
        "no basic auth credentials",
        "denied",
        "forbidden",
        "invalid username/password",
        "incorrect username or password",
    ]
    .iter()
    .any(|p| m.contains(p))
        || has_status_code(&m, "401")
        || has_status_code(&m, "403");
    let not_found = status == Some(404)
        || [
            "manifest unknown",
            "name unknown",
            "not found",
            "does not exist",
        ]
        .iter()
        .any(|p| m.contains(p));
    match (denied, not_found) {
        // Docker Hub says "pull access denied ... repository does not exist or may require
        // 'docker login'" for both: a refusal names the auth method, which is the better hint.
        (true, _) => Failure::Denied,
        (false, true) => Failure::NotFound,
        (false, false) => Failure::Other,
    }
}

fn denied_hint(kind: AuthKind, registry: &str, opts: &BaseOptions) -> String {
    let has = |k: &str| {
        opts.vars
            .iter()
            .any(|(n, v)| n == k && !v.trim().is_empty())
    };
    match kind {
        AuthKind::Anonymous | AuthKind::Auto => {
            let mut h = format!(
                "no credentials were found for `{registry}`: in GitHub Actions give the job `permissions: id-token: write` and set AZURE_CLIENT_ID and AZURE_TENANT_ID (Entra federated credential), or set AZURE_CLIENT_SECRET (service principal), GOLDEN_ACR_REFRESH_TOKEN, GOLDEN_REGISTRY_USERNAME/GOLDEN_REGISTRY_PASSWORD, or run `docker login {registry}` (DOCKER_CONFIG)"
            );
            if !entra_applies(opts, registry) && has("AZURE_CLIENT_ID") {
                h.push_str(&format!(
                    "; the Entra credentials (AZURE_CLIENT_ID) are used automatically only for ACR hosts and the image's own registry, not `{registry}`: force them with --auth github-oidc or service-principal (GOLDEN_AUTH)"
                ));
            } else if has("AZURE_CLIENT_ID")
                && !has("AZURE_CLIENT_SECRET")
                && !has("ACTIONS_ID_TOKEN_REQUEST_URL")
            {
                h.push_str(
                    "; AZURE_CLIENT_ID is set but ACTIONS_ID_TOKEN_REQUEST_URL is not: the job lacks `permissions: id-token: write`",
                );
            }
            h
        }
        AuthKind::GithubOidc | AuthKind::ServicePrincipal => format!(
            "the Entra identity (AZURE_CLIENT_ID) needs pull rights on the repository in `{registry}` (ACR: AcrPull; ABAC-mode registries: `Container Registry Repository Reader`)"
        ),
        AuthKind::Token | AuthKind::DockerConfig => format!(
            "the credentials for `{registry}` were refused or lack pull rights: check the user and password or token (expired? another registry's?)"
        ),
    }
}

fn rebuild_hint(opts: &BaseOptions) -> String {
    let os = opts
        .os
        .as_ref()
        .map(|o| format!(" `{o}`"))
        .unwrap_or_default();
    format!(
        "`golden-plan --rebuild all`, workflow input `rebuild: all`, or an OS filter that includes the base OS{os}"
    )
}

/// Pull `parsed` through the engine with the credentials golden-registry resolves for its
/// registry (and for that registry only: the credential is bound to it). `what` names the image
/// in progress lines (`base image`, `cache image`).
pub(crate) async fn pull(
    engine: &Engine,
    reference: &str,
    parsed: &Reference,
    opts: &BaseOptions,
    what: &str,
) -> Result<Pulled, BaseError> {
    let registry = parsed.registry.clone();
    let cred_err = |source| BaseError::Credentials {
        reference: reference.to_string(),
        registry: registry.clone(),
        source,
    };
    let client = golden_registry::Client::new(golden_registry::ClientOptions {
        auth: opts.auth,
        env: auth_env(opts, &registry),
        // The image's own registries (its push targets) may receive the environment's
        // credentials; any other base registry gets them only via GOLDEN_AUTH_HOSTS.
        auth_hosts: opts.own_registries.clone(),
        ..golden_registry::ClientOptions::default()
    })
    .map_err(cred_err)?;
    let auth = client.auth_for(&registry).map_err(cred_err)?;
    let credential = client.login_credential(&registry).await.map_err(cred_err)?;
    let credentials = engine_credentials(&credential, &registry);
    if !opts.quiet {
        eprintln!(
            "{}",
            golden_gha::neutralize(&format!(
                "pulling {what} {reference} (auth: {})",
                auth.description
            ))
        );
    }

    let tag = parsed.manifest_reference().to_string();
    let name = parsed.name();
    let fail = |status: Option<u16>, message: String| {
        let message = message.trim().to_string();
        let implicit = if names_registry(reference) {
            String::new()
        } else {
            format!(
                " (`{reference}` names no registry, so `{registry}` was asked; build or load the base first{}, or name its registry)",
                base_hint(opts)
            )
        };
        match classify(status, &message) {
            Failure::Denied => BaseError::Denied {
                reference: reference.to_string(),
                registry: registry.clone(),
                method: auth.description.clone(),
                message,
                hint: denied_hint(auth.kind, &registry, opts) + &implicit,
            },
            Failure::NotFound => BaseError::NotPublished {
                reference: reference.to_string(),
                registry: registry.clone(),
                message,
                rebuild: rebuild_hint(opts),
                base_hint: base_hint(opts) + &implicit,
            },
            Failure::Other => BaseError::PullFailed {
                reference: reference.to_string(),
                registry: registry.clone(),
                message,
                hint: format!(
                    "the engine at {} pulls by itself and must reach `{registry}` (plain HTTP only for loopback registries 127.0.0.0/8 or the engine's insecure-registries; a private CA belongs in /etc/docker/certs.d/{registry}/ca.crt){implicit}",
                    engine.host()
                ),
            },
        }
    };
    let quiet = opts.quiet;
    let pulled = engine
        .pull_image(&name, &tag, credentials, |st: PullStatus<'_>| {
            if !quiet && !st.progress {
                let line = match st.id {
                    Some(id) => format!("  {id}: {}", st.status),
                    None => format!("  {}", st.status),
                };
                eprintln!("{}", golden_gha::neutralize(&line));
            }
        })
        .await;
    let reported = match pulled {
        Ok(d) => d.filter(|d| is_sha256(d)),
        Err(PullError::Refused {
            status, message, ..
        }) => return Err(fail(status, message)),
        Err(PullError::Engine(e)) => return Err(e.into()),
    };

    // What was pulled, by the reference the engine now knows it under.
    let local = match &parsed.digest {
        Some(d) => format!("{name}@{d}"),
        None => format!("{name}:{tag}"),
    };
    let image = engine
        .inspect_image(&local)
        .await
        .map_err(|source| BaseError::Vanished {
            reference: reference.to_string(),
            source,
        })?;
    let image_id = image.id.clone().unwrap_or_default();
    let registry_digest = parsed
        .digest
        .clone()
        .or(reported)
        .or_else(|| repo_digest_for(image.repo_digests.as_deref().unwrap_or_default(), parsed));
    if !opts.quiet {
        eprintln!(
            "pulled {what} {reference}: id {image_id}{}",
            registry_digest
                .as_deref()
                .map(|d| format!(", registry digest {d}"))
                .unwrap_or_default()
        );
    }
    Ok(Pulled {
        image_id,
        registry_digest,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const D1: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
    const D2: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";

    #[test]
    fn repo_digest_matches_the_repository_only_and_must_be_unique() {
        let r = Reference::parse("127.0.0.1:5000/golden/base:12").unwrap();
        let rds = vec![
            format!("127.0.0.1:5000/golden/other@{D2}"),
            format!("127.0.0.1:5000/golden/base@{D1}"),
        ];
        assert_eq!(repo_digest_for(&rds, &r).as_deref(), Some(D1));
        // Docker Hub entries are recorded with the familiar name.
        let hub = Reference::parse("debian:12").unwrap();
        assert_eq!(
            repo_digest_for(&[format!("debian@{D2}")], &hub).as_deref(),
            Some(D2)
        );
        // Two digests for the repository: ambiguous.
        let both = vec![
            format!("127.0.0.1:5000/golden/base@{D1}"),
            format!("127.0.0.1:5000/golden/base@{D2}"),
        ];
        assert_eq!(repo_digest_for(&both, &r), None);
        assert_eq!(repo_digest_for(&[], &r), None);
    }

    #[test]
    fn entra_inputs_reach_acr_and_own_registries_only_in_auto_mode() {
        let opts = BaseOptions {
            vars: vec![
                ("AZURE_CLIENT_ID".into(), "c".into()),
                ("AZURE_TENANT_ID".into(), "t".into()),
                ("AZURE_CLIENT_SECRET".into(), "s".into()),
                ("DOCKER_CONFIG".into(), "/nonexistent-golden".into()),
            ],
            own_registries: vec!["127.0.0.1:5000".into()],
            ..BaseOptions::default()
        };
        let kind = |registry: &str| {
            let env = auth_env(&opts, registry);
            let hosts = golden_registry::AuthHosts::from_env(&env, &opts.own_registries);
            golden_registry::Auth::detect_for(&env, registry, AuthKind::Auto, &hosts)
                .unwrap()
                .kind
        };
        assert_eq!(kind("myacr.azurecr.io"), AuthKind::ServicePrincipal);
        assert_eq!(kind("myacr.azurecr.cn:443"), AuthKind::ServicePrincipal);
        assert_eq!(kind("127.0.0.1:5000"), AuthKind::ServicePrincipal);
        assert_eq!(kind("docker.io"), AuthKind::Anonymous);
        let forced = BaseOptions {
            auth: AuthKind::ServicePrincipal,
            ..opts.clone()
        };
        assert!(entra_applies(&forced, "docker.io"));
        assert!(
            denied_hint(AuthKind::Anonymous, "docker.io", &opts).contains("--auth github-oidc")
        );
    }

    #[test]
    fn ids_are_not_pulled_and_registries_are_recognised() {
        assert!(looks_like_id(D1));
        assert!(looks_like_id("0123456789ab"));
        assert!(!looks_like_id("golden/base:12"));
        assert!(names_registry("myacr.azurecr.io/golden/base-debian:12"));
        assert!(names_registry("127.0.0.1:5000/b:1"));
        assert!(names_registry("localhost/b"));
        assert!(!names_registry("golden/base:1"));
        assert!(!names_registry("busybox"));
    }

    #[test]
    fn engine_messages_are_classified() {
        for m in [
            "unauthorized: authentication required",
            "Head \"http://127.0.0.1:5000/v2/a/manifests/1\": no basic auth credentials",
            "pull access denied for x, repository does not exist or may require 'docker login': denied: requested access to the resource is denied",
            "unauthorized: authentication required, visit https://aka.ms/acr/authorization for more information.",
        ] {
            assert_eq!(classify(Some(500), m), Failure::Denied, "{m}");
        }
        for m in [
            "manifest for 127.0.0.1:5000/a:2 not found: manifest unknown: manifest unknown",
            "repository 127.0.0.1:5000/nope not found: name unknown: repository name not known to registry",
            // A port that contains 401 or 403 is no status (the CI flake: port 40173).
            "manifest for 127.0.0.1:40173/a:1 not found: manifest unknown: manifest unknown",
            "manifest for 127.0.0.1:34031/a:1 not found: manifest unknown",
            "manifest for 127.0.0.1:40300/a@sha256:4013403a not found: manifest unknown",
        ] {
            assert_eq!(classify(Some(404), m), Failure::NotFound, "{m}");
        }
        for m in [
            "received unexpected HTTP status: 401 Unauthorized",
            "unexpected status code 403",
            "error: 403",
        ] {
            assert_eq!(classify(Some(500), m), Failure::Denied, "{m}");
        }
        assert_eq!(
            classify(
                Some(500),
                "Get \"http://127.0.0.1:40173/v2/\": dial tcp 127.0.0.1:40173: connect: connection refused"
            ),
            Failure::Other
        );
    }

    #[test]
    fn credentials_map_like_docker_login() {
        let s = golden_registry::Secret::new;
        let c = engine_credentials(
            &Credential::RefreshToken(s("acr-refresh-token")),
            "myacr.example",
        );
        assert_eq!(
            c,
            Some(RegistryAuth::Password {
                server: "myacr.example".into(),
                username: NULL_GUID_USERNAME.into(),
                password: s("acr-refresh-token"),
            })
        );
        let c = engine_credentials(
            &Credential::Basic {
                username: "u".into(),
                password: s("p"),
            },
            "r",
        );
        assert_eq!(
            c,
            Some(RegistryAuth::Password {
                server: "r".into(),
                username: "u".into(),
                password: s("p"),
            })
        );
        let c = engine_credentials(&Credential::AccessToken(s("at")), "r");
        assert_eq!(
            c,
            Some(RegistryAuth::Token {
                server: "r".into(),
                token: s("at"),
            })
        );
        assert!(engine_credentials(&Credential::Anonymous, "r").is_none());
    }
}
