//! Docker Engine access.
//!
//! Architecture invariant: only this crate speaks to the Docker Engine API (through bollard).
//! Binaries get an [`Engine`] and call methods on it; they never build requests themselves.
//!
//! - [`Engine::connect`] honours `DOCKER_HOST` (unix socket, tcp), negotiates the API version
//!   (Debian's 20.10 engine speaks 1.41; bollard's default is newer) and turns "nothing
//!   listening" into one clear error.
//! - [`Engine::export_image`] streams `docker save` output into any async writer.

use std::time::Duration;

use bollard::Docker;
use futures_util::StreamExt;
use tokio::io::{AsyncWrite, AsyncWriteExt};

pub use bollard;

/// Long enough for a large build context upload or image export.
const TIMEOUT: Duration = Duration::from_secs(3600);

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("no Docker engine at {host}: start dockerd (scripts/ensure-docker.sh) or set DOCKER_HOST")]
    NotRunning {
        host: String,
        #[source]
        source: bollard::errors::Error,
    },
    #[error("unsupported DOCKER_HOST `{host}`: use unix:///path/to/docker.sock or tcp://host:port")]
    BadHost {
        host: String,
        #[source]
        source: bollard::errors::Error,
    },
    #[error("image `{0}` not found in the engine")]
    ImageNotFound(String),
    #[error("failed to {action} `{object}`")]
    Api {
        action: &'static str,
        object: String,
        #[source]
        source: bollard::errors::Error,
    },
    #[error("failed to write the export of `{image}`")]
    Write {
        image: String,
        #[source]
        source: std::io::Error,
    },
}

/// A connected, version-negotiated engine.
#[derive(Clone)]
pub struct Engine {
    docker: Docker,
    host: String,
    api_version: String,
}

impl Engine {
    /// Connect using `DOCKER_HOST` (or the default socket) and negotiate the API version.
    pub async fn connect() -> Result<Engine, EngineError> {
        let host = std::env::var("DOCKER_HOST").ok().filter(|h| !h.is_empty());
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
            source,
        };
        let secs = TIMEOUT.as_secs();
        // A unix socket that does not exist means "no engine", not "bad host".
        let absent = |source| EngineError::NotRunning {
            host: shown.clone(),
            source,
        };
        let docker = match host {
            None => Docker::connect_with_unix(
                "/var/run/docker.sock",
                secs,
                bollard::API_DEFAULT_VERSION,
            )
            .map_err(absent)?,
            Some(h) if h.starts_with("unix://") => {
                Docker::connect_with_unix(h, secs, bollard::API_DEFAULT_VERSION).map_err(absent)?
            }
            Some(h) if h.starts_with("tcp://") || h.starts_with("http://") => {
                Docker::connect_with_http(h, secs, bollard::API_DEFAULT_VERSION).map_err(bad)?
            }
            Some(_) => Docker::connect_with_defaults().map_err(bad)?,
        };
        let not_running = |source| EngineError::NotRunning {
            host: shown.clone(),
            source,
        };
        let docker = docker.negotiate_version().await.map_err(not_running)?;
        let version = docker.version().await.map_err(not_running)?;
        Ok(Engine {
            docker,
            host: shown.clone(),
            api_version: version.api_version.unwrap_or_default(),
        })
    }

    /// The underlying bollard client (for crates that extend the engine layer).
    pub fn docker(&self) -> &Docker {
        &self.docker
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    /// API version the engine reports (e.g. `1.41`).
    pub fn api_version(&self) -> &str {
        &self.api_version
    }

    /// Inspect an image by name or id; `ImageNotFound` when the engine does not have it.
    pub async fn inspect_image(
        &self,
        image: &str,
    ) -> Result<bollard::models::ImageInspect, EngineError> {
        match self.docker.inspect_image(image).await {
            Ok(i) => Ok(i),
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => Err(EngineError::ImageNotFound(image.to_string())),
            Err(source) => Err(EngineError::Api {
                action: "inspect image",
                object: image.to_string(),
                source,
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
        let mut stream = self.docker.export_image(image);
        let mut written = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|source| EngineError::Api {
                action: "export image",
                object: image.to_string(),
                source,
            })?;
            out.write_all(&chunk)
                .await
                .map_err(|source| EngineError::Write {
                    image: image.to_string(),
                    source,
                })?;
            written += chunk.len() as u64;
        }
        out.flush().await.map_err(|source| EngineError::Write {
            image: image.to_string(),
            source,
        })?;
        Ok(written)
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
    async fn closed_tcp_port_gives_the_clear_error() {
        // Bind then drop a listener: the port is (almost certainly) closed now.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let host = format!("tcp://127.0.0.1:{port}");
        let msg = Engine::connect_to(Some(&host)).await.err().unwrap().to_string();
        assert!(msg.contains(&host), "{msg}");
    }
}
