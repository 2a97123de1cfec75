//! Shared OCI vocabulary: image references (parsed the way the docker CLI parses them),
//! media types, and the `manifest.json` of a `docker save` archive.
//!
//! Architecture invariant: no I/O here. The registry client (golden-registry) and the engine
//! access (golden-engine) use these types; neither re-implements reference parsing.

pub mod digest;
mod reference;

pub use reference::{Reference, ReferenceError, valid_digest};

use serde::{Deserialize, Serialize};

/// Media types used by the golden binaries.
pub mod media {
    pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
    pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
    pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
    pub const OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
    pub const OCI_LAYER_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";
    pub const OCI_LAYER_TAR: &str = "application/vnd.oci.image.layer.v1.tar";
    pub const OCI_EMPTY: &str = "application/vnd.oci.empty.v1+json";
    pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
    pub const DOCKER_MANIFEST_LIST: &str =
        "application/vnd.docker.distribution.manifest.list.v2+json";
    pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
    pub const DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
}

/// One entry of a `docker save` archive's `manifest.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchiveManifestEntry {
    /// Path of the config JSON inside the archive.
    #[serde(rename = "Config")]
    pub config: String,
    #[serde(rename = "RepoTags", default)]
    pub repo_tags: Option<Vec<String>>,
    /// Paths of the layer tars inside the archive, base layer first.
    #[serde(rename = "Layers")]
    pub layers: Vec<String>,
}

/// Parse a `docker save` `manifest.json`.
pub fn parse_archive_manifest(
    bytes: &[u8],
) -> Result<Vec<ArchiveManifestEntry>, serde_json::Error> {
    serde_json::from_slice(bytes)
}

/// The parts of an image config (OCI / docker) the golden binaries read.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ImageConfigFile {
    #[serde(default)]
    pub architecture: Option<String>,
    #[serde(default)]
    pub os: Option<String>,
    /// Architecture variant (`v8` of `arm64/v8`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// `os.version` (Windows images).
    #[serde(
        rename = "os.version",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub os_version: Option<String>,
    /// `os.features` (Windows images).
    #[serde(
        rename = "os.features",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub os_features: Option<Vec<String>>,
    #[serde(default)]
    pub created: Option<String>,
    #[serde(default)]
    pub config: Option<ContainerConfig>,
    #[serde(default)]
    pub rootfs: Option<RootFs>,
    #[serde(default)]
    pub history: Option<Vec<History>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ContainerConfig {
    #[serde(rename = "User", default)]
    pub user: Option<String>,
    #[serde(rename = "Env", default)]
    pub env: Option<Vec<String>>,
    #[serde(rename = "ExposedPorts", default)]
    pub exposed_ports: Option<std::collections::BTreeMap<String, serde_json::Value>>,
    #[serde(rename = "Volumes", default)]
    pub volumes: Option<std::collections::BTreeMap<String, serde_json::Value>>,
    #[serde(rename = "Labels", default)]
    pub labels: Option<std::collections::BTreeMap<String, String>>,
    #[serde(rename = "Healthcheck", default)]
    pub healthcheck: Option<Healthcheck>,
    #[serde(rename = "Entrypoint", default)]
    pub entrypoint: Option<Vec<String>>,
    #[serde(rename = "Cmd", default)]
    pub cmd: Option<Vec<String>>,
    #[serde(rename = "WorkingDir", default)]
    pub working_dir: Option<String>,
    #[serde(rename = "StopSignal", default)]
    pub stop_signal: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Healthcheck {
    #[serde(rename = "Test", default)]
    pub test: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RootFs {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub diff_ids: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    #[serde(default)]
    pub created: Option<String>,
    #[serde(default)]
    pub created_by: Option<String>,
    #[serde(default)]
    pub empty_layer: Option<bool>,
    #[serde(default)]
    pub comment: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_dockle_fixture_configs() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures/third-party/dockle");
        for name in [
            "root_default.json",
            "apk_cache.json",
            "apt_update_upgrade.json",
        ] {
            let text = std::fs::read_to_string(dir.join(name)).unwrap();
            let cfg: ImageConfigFile =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(cfg.history.is_some_and(|h| !h.is_empty()), "{name}");
        }
    }

    #[test]
    fn parses_a_docker_save_manifest() {
        let m = parse_archive_manifest(
            br#"[{"Config":"abc.json","RepoTags":["x:1"],"Layers":["l1/layer.tar","l2/layer.tar"]}]"#,
        )
        .unwrap();
        assert_eq!(m[0].layers.len(), 2);
    }
}
