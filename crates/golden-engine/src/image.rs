//! What [`crate::Engine::inspect_image`] reports about an image: the part of the engine's
//! `GET /images/{name}/json` answer the golden binaries read, in this crate's own types.
//!
//! Each field mirrors the engine's JSON: a field the engine may omit is an `Option` (absent and
//! empty stay apart), names follow the engine's (`RepoTags` is `repo_tags`).

use std::collections::HashMap;

/// An image as the engine describes it (`docker image inspect`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageInfo {
    /// The image id: `sha256:` and the digest of the image config (`Id`).
    pub id: Option<String>,
    /// The `name:tag` references pointing at the image in the engine (`RepoTags`).
    pub repo_tags: Option<Vec<String>>,
    /// `name@sha256:...` references the image was pulled or pushed as (`RepoDigests`): the
    /// manifest digest in that repository.
    pub repo_digests: Option<Vec<String>>,
    /// When the image was created, RFC 3339 as the engine writes it (`Created`).
    pub created: Option<String>,
    /// CPU architecture of the image's platform (`amd64`, `arm64`, ...).
    pub architecture: Option<String>,
    /// Architecture variant (`v8` for `arm64/v8`); often absent or empty.
    pub variant: Option<String>,
    /// Operating system of the image's platform (`linux`).
    pub os: Option<String>,
    /// Operating system version (Windows images); usually absent or empty.
    pub os_version: Option<String>,
    /// Total size of the image's layers in bytes (`Size`).
    pub size: Option<i64>,
    /// The run configuration of the image (`Config`), the parts read here.
    pub config: Option<ImageConfig>,
    /// The image's root filesystem (`RootFS`).
    pub root_fs: Option<RootFs>,
    /// The storage driver holding the image and its driver-specific data (`GraphDriver`).
    pub graph_driver: Option<GraphDriver>,
}

/// The parts of an image's run configuration (`Config`) that are read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageConfig {
    /// Image labels (`Labels`).
    pub labels: Option<HashMap<String, String>>,
    /// Environment as `NAME=value` entries (`Env`).
    pub env: Option<Vec<String>>,
}

/// An image's root filesystem (`RootFS`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RootFs {
    /// The diff ids (`sha256:` of each uncompressed layer tar), bottom layer first (`Layers`).
    pub layers: Option<Vec<String>>,
}

/// The storage driver holding an image (`GraphDriver`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GraphDriver {
    /// Driver name (`overlay2`, `vfs`, ...).
    pub name: String,
    /// Driver-specific data; for `overlay2`: `UpperDir`, `LowerDir`, `MergedDir`, `WorkDir`
    /// (host paths of the image's layer directories).
    pub data: HashMap<String, String>,
}

impl From<bollard::models::ImageInspect> for ImageInfo {
    fn from(i: bollard::models::ImageInspect) -> ImageInfo {
        ImageInfo {
            id: i.id,
            repo_tags: i.repo_tags,
            repo_digests: i.repo_digests,
            created: i.created,
            architecture: i.architecture,
            variant: i.variant,
            os: i.os,
            os_version: i.os_version,
            size: i.size,
            config: i.config.map(|c| ImageConfig {
                labels: c.labels,
                env: c.env,
            }),
            root_fs: i.root_fs.map(|r| RootFs { layers: r.layers }),
            graph_driver: i.graph_driver.map(|g| GraphDriver {
                name: g.name,
                data: g.data,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_engine_answer_maps_field_by_field() {
        // A 20.10 engine's answer (API 1.41), trimmed to what matters plus fields not kept.
        let json = r#"{
            "Id": "sha256:aa",
            "RepoTags": ["x:1"],
            "RepoDigests": ["x@sha256:bb"],
            "Created": "2023-11-14T22:13:20Z",
            "Architecture": "arm64",
            "Variant": "v8",
            "Os": "linux",
            "Size": 1234,
            "Author": "ignored",
            "Config": {"Labels": {"a": "b"}, "Env": ["X=1"], "User": "ignored"},
            "RootFS": {"Type": "layers", "Layers": ["sha256:cc"]},
            "GraphDriver": {"Name": "overlay2", "Data": {"UpperDir": "/u"}}
        }"#;
        let inspect: bollard::models::ImageInspect = serde_json::from_str(json).unwrap();
        let info = ImageInfo::from(inspect);
        assert_eq!(
            info,
            ImageInfo {
                id: Some("sha256:aa".into()),
                repo_tags: Some(vec!["x:1".into()]),
                repo_digests: Some(vec!["x@sha256:bb".into()]),
                created: Some("2023-11-14T22:13:20Z".into()),
                architecture: Some("arm64".into()),
                variant: Some("v8".into()),
                os: Some("linux".into()),
                os_version: None,
                size: Some(1234),
                config: Some(ImageConfig {
                    labels: Some([("a".to_string(), "b".to_string())].into()),
                    env: Some(vec!["X=1".into()]),
                }),
                root_fs: Some(RootFs {
                    layers: Some(vec!["sha256:cc".into()]),
                }),
                graph_driver: Some(GraphDriver {
                    name: "overlay2".into(),
                    data: [("UpperDir".to_string(), "/u".to_string())].into(),
                }),
            }
        );
        let empty: bollard::models::ImageInspect = serde_json::from_str("{}").unwrap();
        assert_eq!(ImageInfo::from(empty), ImageInfo::default());
    }
}
