//! Docker Engine access.
//!
//! Architecture invariant: only this crate speaks to the Docker Engine API (through bollard).
//! Binaries get an [`Engine`] and call methods on it; they never build requests themselves.
//! The API speaks this crate's own types ([`ImageInfo`], [`RegistryAuth`], [`ApiError`]):
//! bollard stays an implementation detail, no other crate depends on it.
//!
//! - [`Engine::connect`] honours `DOCKER_HOST` (unix socket, tcp), negotiates the API version
//!   (Debian's 20.10 engine speaks 1.41; bollard's default is newer) and turns "nothing
//!   listening" into one clear error.
//! - [`Engine::export_image`] streams `docker save` output into any async writer.
//! - [`Engine::build_image`] runs a classic-builder build from a streamed context tar and yields
//!   [`BuildEvent`]s; [`Engine::tag_image`], [`Engine::save_images`], [`Engine::load_images`]
//!   and [`Engine::remove_image`] cover the rest of an image's life in the engine;
//!   [`Engine::pull_image`] pulls with registry credentials.

use std::collections::{BTreeMap, HashMap};
mod auth;
mod image;
pub mod layer_store;

use std::time::Duration;

use bollard::Docker;
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use tokio::io::{AsyncWrite, AsyncWriteExt};

pub use auth::RegistryAuth;
pub use image::{GraphDriver, ImageConfig, ImageInfo, RootFs};

/// Long enough for a large build context upload or image export.
const TIMEOUT: Duration = Duration::from_secs(3600);

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(
        "no Docker engine at {host}: start dockerd (scripts/ensure-docker.sh) or set DOCKER_HOST"
    )]
    NotRunning {
        host: String,
        #[source]
        source: ApiError,
    },
    #[error("unsupported DOCKER_HOST `{host}`: use unix:///path/to/docker.sock or tcp://host:port")]
    BadHost {
        host: String,
        #[source]
        source: ApiError,
    },
    #[error(
        "DOCKER_HOST `{host}` with {setting}: this build talks to tcp:// engines in plain HTTP only and cannot verify TLS (DOCKER_CERT_PATH is not read); refusing rather than sending the engine API unencrypted. Use a unix socket (unix:///var/run/docker.sock, or forward one with `ssh -L /tmp/docker.sock:/var/run/docker.sock host`), or unset DOCKER_TLS_VERIFY/DOCKER_TLS for an engine that really listens in plain HTTP on a trusted (e.g. loopback) address"
    )]
    TlsUnsupported { host: String, setting: String },
    #[error("image `{0}` not found in the engine")]
    ImageNotFound(String),
    #[error("failed to {action} `{object}`")]
    Api {
        action: &'static str,
        object: String,
        #[source]
        source: ApiError,
    },
    #[error("failed to write the export of `{image}`")]
    Write {
        image: String,
        #[source]
        source: std::io::Error,
    },
    /// The builder reported an error (a failing instruction, a missing file, a bad Dockerfile).
    #[error("{message}")]
    BuildFailed { message: String },
    /// The engine refused an image archive (`docker load`).
    #[error("the engine refused the image archive: {message}")]
    Refused { message: String },
    #[error("invalid image reference `{0}` (expected `name[:tag]`)")]
    BadReference(String),
}

/// What the engine API client reported (a refused request, a lost connection, a timeout). It
/// reads (`Display`, `Debug`, `source`) exactly like the client's own error, which it hides.
pub struct ApiError(bollard::errors::Error);

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&self.0, f)
    }
}

impl std::fmt::Debug for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&self.0, f)
    }
}

impl std::error::Error for ApiError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(&self.0)
    }
}

/// A classic-builder build request (`POST /build`). The context tar is passed separately.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildOptions {
    /// Dockerfile path inside the context tar (slash-separated).
    pub dockerfile: String,
    /// The one tag the engine applies itself; more tags go through [`Engine::tag_image`].
    pub tag: Option<String>,
    pub build_args: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
    /// Build stage to stop at (`--target`).
    pub target: Option<String>,
    pub no_cache: bool,
    /// Always try to pull newer versions of `FROM` images.
    pub pull: bool,
    /// Images the builder may use as cache sources.
    pub cache_from: Vec<String>,
}

/// What a build reports while it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuildEvent {
    /// Builder output text: one line, several lines or a part of a line (keep the newlines).
    Output(String),
    /// Status of a pull the builder started for a `FROM` image (`id: status`).
    Status {
        id: Option<String>,
        status: String,
        /// True for repeated progress updates (Downloading/Extracting with byte counts).
        progress: bool,
    },
    /// The id of the built image (`sha256:...`).
    ImageId(String),
}

/// Split `name[:tag]` into the repository and the tag (`latest` when absent). A digest is refused:
/// a tag cannot point at a digest reference.
pub fn split_tag(reference: &str) -> Result<(&str, &str), EngineError> {
    let bad = || EngineError::BadReference(reference.to_string());
    if reference.is_empty() || reference.contains('@') || reference.chars().any(char::is_whitespace)
    {
        return Err(bad());
    }
    let last_slash = reference.rfind('/');
    match reference.rfind(':') {
        Some(i) if last_slash.is_none_or(|s| i > s) => {
            let (repo, tag) = (&reference[..i], &reference[i + 1..]);
            if repo.is_empty() || tag.is_empty() {
                return Err(bad());
            }
            Ok((repo, tag))
        }
        _ => Ok((reference, "latest")),
    }
}

fn to_hash(map: &BTreeMap<String, String>) -> HashMap<String, String> {
    map.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

/// Classify an error of `POST /build`: what the builder or the engine said about the build is a
/// [`EngineError::BuildFailed`] (a failing step, a Dockerfile parse error, a missing Dockerfile);
/// anything else (connection lost, timeout) stays an API error.
fn build_error(e: bollard::errors::Error, object: &str) -> EngineError {
    match e {
        bollard::errors::Error::DockerStreamError { error } => {
            EngineError::BuildFailed { message: error }
        }
        bollard::errors::Error::DockerResponseServerError {
            status_code,
            message,
        } if (400..=500).contains(&status_code) => EngineError::BuildFailed { message },
        source => EngineError::Api {
            action: "build image",
            object: object.to_string(),
            source: ApiError(source),
        },
    }
}

/// Write an image archive stream into `out`; `shown` names the image(s) in a write error.
/// Returns the bytes written.
async fn write_stream<W: AsyncWrite + Unpin>(
    stream: impl Stream<Item = Result<Bytes, EngineError>>,
    shown: &str,
    out: &mut W,
) -> Result<u64, EngineError> {
    let write_err = |source| EngineError::Write {
        image: shown.to_string(),
        source,
    };
    futures_util::pin_mut!(stream);
    let mut written = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        out.write_all(&chunk).await.map_err(write_err)?;
        written += chunk.len() as u64;
    }
    out.flush().await.map_err(write_err)?;
    Ok(written)
}

/// A connected, version-negotiated engine.
#[derive(Clone)]
pub struct Engine {
    docker: Docker,
    host: String,
    api_version: String,
}

/// The refusal for a tcp/http engine host when the environment asks for TLS (the docker
/// CLI's rule: any non-empty `DOCKER_TLS_VERIFY`, or `DOCKER_TLS`, means TLS).
fn tls_refusal(
    host: Option<&str>,
    tls_verify: Option<&str>,
    tls: Option<&str>,
) -> Option<EngineError> {
    let host = host?;
    if !(host.starts_with("tcp://") || host.starts_with("http://")) {
        return None;
    }
    let setting = match (tls_verify, tls) {
        (Some(_), _) => "DOCKER_TLS_VERIFY set",
        (None, Some(_)) => "DOCKER_TLS set",
        (None, None) => return None,
    };
    Some(EngineError::TlsUnsupported {
        host: host.to_string(),
        setting: setting.to_string(),
    })
}

impl Engine {
    /// Connect using `DOCKER_HOST` (or the default socket) and negotiate the API version.
    /// A `tcp://` host with `DOCKER_TLS_VERIFY` or `DOCKER_TLS` set is refused: TLS to the
    /// engine is not supported, and the docker CLI would use it there.
    pub async fn connect() -> Result<Engine, EngineError> {
        Self::connect_with(|n| std::env::var(n).ok()).await
    }

    /// [`Engine::connect`] reading the variables through `get`.
    async fn connect_with(get: impl Fn(&str) -> Option<String>) -> Result<Engine, EngineError> {
        let var = |n: &str| get(n).filter(|v| !v.is_empty());
        let host = var("DOCKER_HOST");
        if let Some(e) = tls_refusal(
            host.as_deref(),
            var("DOCKER_TLS_VERIFY").as_deref(),
            var("DOCKER_TLS").as_deref(),
        ) {
            return Err(e);
        }
        Self::connect_to(host.as_deref()).await
    }

    /// Connect to an explicit host (`unix:///path`, `tcp://host:port`, `http://host:port`), or
    /// to the default socket with `None`.
    pub async fn connect_to(host: Option<&str>) -> Result<Engine, EngineError> {
        let shown = host
            .map(str::to_string)
            .unwrap_or_else(|| "unix:///var/run/docker.sock".to_string());
        let bad = |source| EngineError::BadHost {
            host: shown.clone(),
            source: ApiError(source),
        };
        // Nothing listening (also: a unix socket that does not exist) means "no engine".
        let not_running = |source| EngineError::NotRunning {
            host: shown.clone(),
            source: ApiError(source),
        };
        let secs = TIMEOUT.as_secs();
        let docker = match host {
            None => Docker::connect_with_unix(
                "/var/run/docker.sock",
                secs,
                bollard::API_DEFAULT_VERSION,
            )
            .map_err(not_running)?,
            Some(h) if h.starts_with("unix://") => {
                Docker::connect_with_unix(h, secs, bollard::API_DEFAULT_VERSION)
                    .map_err(not_running)?
            }
            Some(h) if h.starts_with("tcp://") || h.starts_with("http://") => {
                Docker::connect_with_http(h, secs, bollard::API_DEFAULT_VERSION).map_err(bad)?
            }
            // Anything else (ssh://, npipe://, a typo): bollard names the unsupported scheme.
            Some(h) => Docker::connect_with_host(h).map_err(bad)?,
        };
        // One round trip: negotiation asks the engine for its version and keeps the lower one.
        let docker = docker.negotiate_version().await.map_err(not_running)?;
        let v = docker.client_version();
        Ok(Engine {
            docker,
            host: shown,
            api_version: format!("{}.{}", v.major_version, v.minor_version),
        })
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    /// The negotiated API version: the engine's (e.g. `1.41`), or bollard's when the engine is
    /// newer.
    pub fn api_version(&self) -> &str {
        &self.api_version
    }

    /// Inspect an image by name or id; `ImageNotFound` when the engine does not have it.
    pub async fn inspect_image(&self, image: &str) -> Result<ImageInfo, EngineError> {
        match self.docker.inspect_image(image).await {
            Ok(i) => Ok(i.into()),
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => Err(EngineError::ImageNotFound(image.to_string())),
            Err(source) => Err(EngineError::Api {
                action: "inspect image",
                object: image.to_string(),
                source: ApiError(source),
            }),
        }
    }

    /// Stream `docker save IMAGE` into `out`. Returns the number of bytes written.
    pub async fn export_image<W: AsyncWrite + Unpin>(
        &self,
        image: &str,
        out: &mut W,
    ) -> Result<u64, EngineError> {
        // Check first: a missing image otherwise surfaces as a confusing stream error.
        self.inspect_image(image).await?;
        let stream = self.docker.export_image(image).map(|chunk| {
            chunk.map_err(|source| EngineError::Api {
                action: "export image",
                object: image.to_string(),
                source: ApiError(source),
            })
        });
        write_stream(stream, image, out).await
    }

    /// Start a classic-builder build. `context` is the build context as a tar byte stream; it is
    /// sent while it is produced (never collected in memory). The returned stream yields output
    /// as it arrives and ends after the image id, or with [`EngineError::BuildFailed`] when a step
    /// fails.
    pub fn build_image<'a, S>(
        &'a self,
        options: &BuildOptions,
        context: S,
    ) -> impl Stream<Item = Result<BuildEvent, EngineError>> + Send + 'a
    where
        S: Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static,
    {
        use bollard::query_parameters::{BuildImageOptionsBuilder, BuilderVersion};
        let mut b = BuildImageOptionsBuilder::default()
            .dockerfile(&options.dockerfile)
            .buildargs(&to_hash(&options.build_args))
            .labels(&to_hash(&options.labels))
            .nocache(options.no_cache)
            .rm(true)
            .forcerm(true)
            .q(false)
            .version(BuilderVersion::BuilderV1);
        if let Some(t) = &options.tag {
            b = b.t(t);
        }
        if let Some(t) = &options.target {
            b = b.target(t);
        }
        if options.pull {
            b = b.pull("1");
        }
        if !options.cache_from.is_empty() {
            b = b.cachefrom(&options.cache_from);
        }
        let object = options
            .tag
            .clone()
            .unwrap_or_else(|| options.dockerfile.clone());
        self.docker
            .build_image(b.build(), None, Some(bollard::body_try_stream(context)))
            .flat_map(move |item| {
                let events: Vec<Result<BuildEvent, EngineError>> = match item {
                    Err(e) => vec![Err(build_error(e, &object))],
                    Ok(info) => {
                        let mut v = Vec::new();
                        if let Some(text) = info.stream {
                            v.push(Ok(BuildEvent::Output(text)));
                        }
                        if let Some(status) = info.status {
                            v.push(Ok(BuildEvent::Status {
                                id: info.id,
                                status,
                                progress: info.progress_detail.is_some_and(|p| p.total.is_some()),
                            }));
                        }
                        if let Some(id) = info.aux.and_then(|a| a.id) {
                            v.push(Ok(BuildEvent::ImageId(id)));
                        }
                        v
                    }
                };
                futures_util::stream::iter(events)
            })
    }

    /// Tag `image` (name or id) as `reference` (`name[:tag]`, `latest` when no tag).
    pub async fn tag_image(&self, image: &str, reference: &str) -> Result<(), EngineError> {
        use bollard::query_parameters::TagImageOptionsBuilder;
        let (repo, tag) = split_tag(reference)?;
        let opts = TagImageOptionsBuilder::default()
            .repo(repo)
            .tag(tag)
            .build();
        match self.docker.tag_image(image, Some(opts)).await {
            Ok(()) => Ok(()),
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => Err(EngineError::ImageNotFound(image.to_string())),
            Err(source) => Err(EngineError::Api {
                action: "tag image",
                object: format!("{image} as {reference}"),
                source: ApiError(source),
            }),
        }
    }

    /// Remove an image reference (a tag) or an image by id. With `force`, also when other tags
    /// point at the same image.
    pub async fn remove_image(&self, image: &str, force: bool) -> Result<(), EngineError> {
        use bollard::query_parameters::RemoveImageOptionsBuilder;
        let opts = RemoveImageOptionsBuilder::default().force(force).build();
        match self.docker.remove_image(image, Some(opts), None).await {
            Ok(_) => Ok(()),
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => Err(EngineError::ImageNotFound(image.to_string())),
            Err(source) => Err(EngineError::Api {
                action: "remove image",
                object: image.to_string(),
                source: ApiError(source),
            }),
        }
    }

    /// `docker save IMAGE...` (one archive holding every image) as a byte stream. Every image is
    /// checked first so a missing one gives [`EngineError::ImageNotFound`] instead of a broken
    /// archive.
    pub async fn save_images_stream(
        &self,
        images: &[String],
    ) -> Result<impl Stream<Item = Result<Bytes, EngineError>> + Send + 'static, EngineError> {
        for image in images {
            self.inspect_image(image).await?;
        }
        let names: Vec<&str> = images.iter().map(String::as_str).collect();
        let shown = images.join(" ");
        Ok(self.docker.export_images(&names).map(move |chunk| {
            chunk.map_err(|source| EngineError::Api {
                action: "save images",
                object: shown.clone(),
                source: ApiError(source),
            })
        }))
    }

    /// Stream `docker save IMAGE...` into `out`. Returns the bytes written.
    pub async fn save_images<W: AsyncWrite + Unpin>(
        &self,
        images: &[String],
        out: &mut W,
    ) -> Result<u64, EngineError> {
        let stream = self.save_images_stream(images).await?;
        write_stream(stream, &images.join(" "), out).await
    }

    /// `docker load`: send an image archive (plain or compressed: the engine detects gzip, bzip2
    /// and xz) as a stream. Returns the engine's messages (`Loaded image: name:tag`,
    /// `Loaded image ID: sha256:...`), one per loaded image.
    pub async fn load_images<S>(&self, archive: S) -> Result<Vec<String>, EngineError>
    where
        S: Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static,
    {
        use bollard::query_parameters::ImportImageOptionsBuilder;
        let opts = ImportImageOptionsBuilder::default().quiet(true).build();
        let mut stream = self.docker.import_image_stream(opts, archive, None);
        let mut messages = Vec::new();
        while let Some(item) = stream.next().await {
            let info = item.map_err(|e| match e {
                bollard::errors::Error::DockerStreamError { error } => {
                    EngineError::Refused { message: error }
                }
                source => EngineError::Api {
                    action: "load images",
                    object: "archive".to_string(),
                    source: ApiError(source),
                },
            })?;
            if let Some(text) = info.stream {
                messages.extend(
                    text.lines()
                        .map(str::trim)
                        .filter(|l| !l.is_empty())
                        .map(str::to_string),
                );
            }
        }
        Ok(messages)
    }
}

/// One progress line of a pull (`id: status`), for the caller to show.
#[derive(Debug, Clone, Copy)]
pub struct PullStatus<'a> {
    /// Layer id the line is about, when it is about one.
    pub id: Option<&'a str>,
    pub status: &'a str,
    /// A byte-progress update (usually not worth printing in CI logs).
    pub progress: bool,
}

/// Why a pull failed.
#[derive(Debug, thiserror::Error)]
pub enum PullError {
    /// The engine (or the registry behind it) refused: the caller classifies the message
    /// (denied, not found, unreachable) since the engine reports them all as text.
    #[error("the engine could not pull `{reference}`: {message}")]
    Refused {
        reference: String,
        status: Option<u16>,
        message: String,
    },
    #[error(transparent)]
    Engine(#[from] EngineError),
}

impl Engine {
    /// Pull `name` at `tag_or_digest` (`12`, `sha256:...`) with optional registry credentials,
    /// reporting each status line to `on_status`. Returns the manifest digest the engine
    /// reported (`Digest: sha256:...`), when it did.
    pub async fn pull_image(
        &self,
        name: &str,
        tag_or_digest: &str,
        credentials: Option<RegistryAuth>,
        mut on_status: impl FnMut(PullStatus<'_>),
    ) -> Result<Option<String>, PullError> {
        let reference = if tag_or_digest.starts_with("sha256:") {
            format!("{name}@{tag_or_digest}")
        } else {
            format!("{name}:{tag_or_digest}")
        };
        let options = bollard::query_parameters::CreateImageOptionsBuilder::default()
            .from_image(name)
            .tag(tag_or_digest)
            .build();
        let docker = self
            .docker
            .clone()
            .with_request_modifier(auth::url_safe_registry_auth);
        let credentials = credentials.map(auth::docker_credentials);
        let mut stream = docker.create_image(Some(options), None, credentials);
        let mut reported = None;
        while let Some(item) = stream.next().await {
            match item {
                Ok(info) => {
                    let Some(status) = info.status.as_deref() else {
                        continue;
                    };
                    if let Some(d) = status.strip_prefix("Digest:").map(str::trim)
                        && d.starts_with("sha256:")
                    {
                        reported = Some(d.to_string());
                    }
                    on_status(PullStatus {
                        id: info.id.as_deref(),
                        status,
                        progress: info.progress_detail.is_some_and(|p| p.total.is_some()),
                    });
                }
                Err(bollard::errors::Error::DockerResponseServerError {
                    status_code,
                    message,
                }) => {
                    return Err(PullError::Refused {
                        reference,
                        status: Some(status_code),
                        message,
                    });
                }
                Err(bollard::errors::Error::DockerStreamError { error }) => {
                    return Err(PullError::Refused {
                        reference,
                        status: None,
                        message: error,
                    });
                }
                Err(source) => {
                    return Err(EngineError::Api {
                        action: "pull image",
                        object: reference,
                        source: ApiError(source),
                    }
                    .into());
                }
            }
        }
        Ok(reported)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn nothing_listening_gives_the_clear_error() {
        let dir = std::env::temp_dir().join(format!("golden-engine-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let host = format!("unix://{}", dir.join("none.sock").display());
        let err = Engine::connect_to(Some(&host)).await.err().unwrap();
        let msg = err.to_string();
        assert!(
            msg.contains("no Docker engine at") && msg.contains("none.sock"),
            "{msg}"
        );
        assert!(msg.contains("start dockerd"), "{msg}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn unsupported_host_is_named_with_the_forms_that_work() {
        // The given host is used (not whatever DOCKER_HOST holds): its scheme is refused.
        let msg = Engine::connect_to(Some("ssh://builder.example"))
            .await
            .err()
            .unwrap()
            .to_string();
        assert!(
            msg.contains("unsupported DOCKER_HOST `ssh://builder.example`")
                && msg.contains("unix:///path/to/docker.sock or tcp://host:port"),
            "{msg}"
        );
    }

    #[tokio::test]
    async fn tls_verify_with_a_tcp_engine_sends_nothing() {
        // A listener that would answer in plain HTTP: nothing may reach it.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let host = format!("tcp://{}", listener.local_addr().unwrap());
        let accepted = tokio::spawn(async move { listener.accept().await.is_ok() });
        let vars = [
            ("DOCKER_HOST", host.clone()),
            ("DOCKER_TLS_VERIFY", "1".to_string()),
            ("DOCKER_CERT_PATH", "/certs".to_string()),
        ];
        let err =
            Engine::connect_with(|n| vars.iter().find(|(k, _)| *k == n).map(|(_, v)| v.clone()))
                .await
                .err()
                .unwrap();
        assert!(matches!(err, EngineError::TlsUnsupported { .. }), "{err}");
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(!accepted.is_finished(), "the engine was contacted");
        accepted.abort();
    }

    #[test]
    fn tcp_hosts_asking_for_tls_are_refused_not_sent_in_plain_http() {
        let msg = tls_refusal(Some("tcp://10.0.0.5:2376"), Some("1"), None)
            .unwrap()
            .to_string();
        assert!(
            msg.contains("tcp://10.0.0.5:2376")
                && msg.contains("DOCKER_TLS_VERIFY set")
                && msg.contains("cannot verify TLS"),
            "{msg}"
        );
        assert!(tls_refusal(Some("tcp://h:2376"), None, Some("1")).is_some());
        assert!(tls_refusal(Some("tcp://h:2375"), None, None).is_none());
        assert!(tls_refusal(Some("unix:///var/run/docker.sock"), Some("1"), None).is_none());
        assert!(tls_refusal(None, Some("1"), None).is_none());
    }

    #[test]
    fn api_errors_read_like_the_client_error() {
        let client = || bollard::errors::Error::DockerResponseServerError {
            status_code: 500,
            message: "boom".into(),
        };
        let wrapped = ApiError(client());
        assert_eq!(wrapped.to_string(), client().to_string());
        assert_eq!(format!("{wrapped:?}"), format!("{:?}", client()));
        let io = || bollard::errors::Error::IOError {
            err: std::io::Error::other("reset"),
        };
        let source = |e: &dyn std::error::Error| e.source().map(ToString::to_string);
        assert_eq!(source(&ApiError(io())), source(&io()));
    }

    #[test]
    fn tags_split_like_the_docker_cli() {
        assert_eq!(split_tag("a/b:1").unwrap(), ("a/b", "1"));
        assert_eq!(
            split_tag("127.0.0.1:5000/a/b").unwrap(),
            ("127.0.0.1:5000/a/b", "latest")
        );
        assert_eq!(
            split_tag("127.0.0.1:5000/a:v2").unwrap(),
            ("127.0.0.1:5000/a", "v2")
        );
        assert_eq!(split_tag("x").unwrap(), ("x", "latest"));
        for bad in ["", "a@sha256:00", "a:", ":b", "a b"] {
            assert!(split_tag(bad).is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn closed_tcp_port_gives_the_clear_error() {
        // Bind then drop a listener: the port is (almost certainly) closed now.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let host = format!("tcp://127.0.0.1:{port}");
        let msg = Engine::connect_to(Some(&host))
            .await
            .err()
            .unwrap()
            .to_string();
        assert!(msg.contains(&host), "{msg}");
    }
}
