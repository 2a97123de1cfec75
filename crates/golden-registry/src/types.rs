//! OCI image-spec documents as they travel on the wire: descriptors, image manifests (also the
//! docker v2 schema 2 manifest, which has the same shape), image indexes (also docker manifest
//! lists) and platforms.
//!
//! Serialisation is deterministic: fields in spec order, maps sorted, empty optionals omitted, no
//! whitespace. The digest of a document is the sha256 of exactly the bytes [`to_bytes`] returns.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use golden_oci::{ImageConfigFile, media};

/// A content descriptor (`mediaType`, `digest`, `size`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    pub media_type: String,
    pub digest: String,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub urls: Vec<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
}

impl Descriptor {
    pub fn new(media_type: impl Into<String>, digest: impl Into<String>, size: u64) -> Descriptor {
        Descriptor {
            media_type: media_type.into(),
            digest: digest.into(),
            size,
            urls: Vec::new(),
            annotations: BTreeMap::new(),
            platform: None,
            artifact_type: None,
        }
    }
}

/// The platform of an index entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Platform {
    pub architecture: String,
    pub os: String,
    #[serde(
        rename = "os.version",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub os_version: Option<String>,
    #[serde(
        rename = "os.features",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub os_features: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

/// The image config lacks a platform field every image must have (`os` or `architecture`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("has no `{field}`")]
pub struct MissingPlatformField {
    /// `os` or `architecture`.
    pub field: &'static str,
}

impl Platform {
    /// The platform of an image, from its config: the one rule every caller uses.
    ///
    /// - `os` and `architecture` are required: absent or empty is an error naming the field
    ///   (checked in that order); no default is assumed, so an image is never labelled
    ///   `linux/amd64` because its config forgot to say.
    /// - `variant`, `os.version` and `os.features` are optional: absent or empty is `None`.
    ///
    /// The error's text ("has no `os`") is meant to follow the name of the config.
    pub fn from_config(config: &ImageConfigFile) -> Result<Platform, MissingPlatformField> {
        fn required(
            v: &Option<String>,
            field: &'static str,
        ) -> Result<String, MissingPlatformField> {
            v.as_deref()
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .ok_or(MissingPlatformField { field })
        }
        fn optional(v: &Option<String>) -> Option<String> {
            v.as_deref().filter(|s| !s.is_empty()).map(str::to_string)
        }
        Ok(Platform {
            os: required(&config.os, "os")?,
            architecture: required(&config.architecture, "architecture")?,
            os_version: optional(&config.os_version),
            os_features: config.os_features.clone().filter(|f| !f.is_empty()),
            variant: optional(&config.variant),
        })
    }

    /// `linux/amd64`, `linux/arm64/v8`.
    pub fn display(&self) -> String {
        match &self.variant {
            Some(v) => format!("{}/{}/{v}", self.os, self.architecture),
            None => format!("{}/{}", self.os, self.architecture),
        }
    }
}

/// An OCI image manifest (`application/vnd.oci.image.manifest.v1+json`), also used for artifacts
/// (`artifactType`, `subject`) and to read docker v2 schema 2 manifests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageManifest {
    pub schema_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    pub config: Descriptor,
    #[serde(default)]
    pub layers: Vec<Descriptor>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Descriptor>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl ImageManifest {
    /// A new OCI image manifest with no layers.
    pub fn new(config: Descriptor) -> ImageManifest {
        ImageManifest {
            schema_version: 2,
            media_type: Some(media::OCI_MANIFEST.to_string()),
            artifact_type: None,
            config,
            layers: Vec::new(),
            subject: None,
            annotations: BTreeMap::new(),
        }
    }
}

/// An OCI image index (`application/vnd.oci.image.index.v1+json`); also reads docker manifest
/// lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageIndex {
    pub schema_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    #[serde(default)]
    pub manifests: Vec<Descriptor>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Descriptor>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl ImageIndex {
    /// A new, empty OCI image index.
    pub fn new() -> ImageIndex {
        ImageIndex {
            schema_version: 2,
            media_type: Some(media::OCI_INDEX.to_string()),
            artifact_type: None,
            manifests: Vec::new(),
            subject: None,
            annotations: BTreeMap::new(),
        }
    }
}

impl Default for ImageIndex {
    fn default() -> Self {
        Self::new()
    }
}

/// A manifest, decoded according to its media type.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)] // parsed once per fetch; boxing would only hurt callers
pub enum ParsedManifest {
    Image(ImageManifest),
    Index(ImageIndex),
}

/// True for the index / manifest-list media types.
pub fn is_index_media_type(mt: &str) -> bool {
    mt == media::OCI_INDEX || mt == media::DOCKER_MANIFEST_LIST
}

/// True for the image-manifest media types this client understands.
pub fn is_manifest_media_type(mt: &str) -> bool {
    mt == media::OCI_MANIFEST || mt == media::DOCKER_MANIFEST
}

impl ParsedManifest {
    /// Decode `bytes` served with `media_type` (falls back to the document's own `mediaType`,
    /// then to its shape: `manifests` → index, `config` → image manifest).
    pub fn parse(bytes: &[u8], media_type: &str) -> Result<ParsedManifest, String> {
        let value: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| format!("not JSON: {e}"))?;
        let declared = value
            .get("mediaType")
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string();
        let mt = if is_index_media_type(media_type) || is_manifest_media_type(media_type) {
            media_type.to_string()
        } else {
            declared
        };
        let as_index = if is_index_media_type(&mt) {
            true
        } else if is_manifest_media_type(&mt) {
            false
        } else if value.get("manifests").is_some() {
            true
        } else if value.get("config").is_some() {
            false
        } else {
            return Err(format!("unsupported manifest media type `{mt}`"));
        };
        if value.get("schemaVersion").and_then(|v| v.as_u64()) != Some(2) {
            return Err("schemaVersion is not 2 (schema 1 manifests are not supported)".into());
        }
        if as_index {
            serde_json::from_value(value)
                .map(ParsedManifest::Index)
                .map_err(|e| format!("invalid image index: {e}"))
        } else {
            serde_json::from_value(value)
                .map(ParsedManifest::Image)
                .map_err(|e| format!("invalid image manifest: {e}"))
        }
    }
}

/// The canonical bytes of a document (compact JSON, fields in declaration order).
pub fn to_bytes<T: Serialize>(doc: &T) -> Vec<u8> {
    // Serialising these plain structs cannot fail (string keys, no custom serialisers).
    serde_json::to_vec(doc).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn platform(config: &str) -> Result<Platform, MissingPlatformField> {
        Platform::from_config(&serde_json::from_str(config).unwrap())
    }

    #[test]
    fn platform_requires_os_and_architecture() {
        let e = platform(r#"{"architecture":"amd64"}"#).unwrap_err();
        assert_eq!(e.field, "os");
        assert_eq!(e.to_string(), "has no `os`");
        assert_eq!(
            platform(r#"{"os":"","architecture":"amd64"}"#)
                .unwrap_err()
                .field,
            "os"
        );
        let e = platform(r#"{"os":"linux"}"#).unwrap_err();
        assert_eq!(e.to_string(), "has no `architecture`");
        assert_eq!(
            platform(r#"{"os":"linux","architecture":""}"#)
                .unwrap_err()
                .field,
            "architecture"
        );
        assert_eq!(platform("{}").unwrap_err().field, "os");
    }

    #[test]
    fn platform_variant_present_or_absent() {
        let p = platform(r#"{"os":"linux","architecture":"arm64","variant":"v8"}"#).unwrap();
        assert_eq!(p.variant.as_deref(), Some("v8"));
        assert_eq!(p.display(), "linux/arm64/v8");
        let p = platform(r#"{"os":"linux","architecture":"amd64"}"#).unwrap();
        assert_eq!(
            p,
            Platform {
                architecture: "amd64".into(),
                os: "linux".into(),
                os_version: None,
                os_features: None,
                variant: None,
            }
        );
        assert_eq!(p.display(), "linux/amd64");
        let p = platform(r#"{"os":"linux","architecture":"amd64","variant":""}"#).unwrap();
        assert_eq!(p.variant, None);
    }

    #[test]
    fn platform_carries_os_version_and_features() {
        let p = platform(
            r#"{"os":"windows","architecture":"amd64","os.version":"10.0.20348.2113","os.features":["win32k"]}"#,
        )
        .unwrap();
        assert_eq!(p.os_version.as_deref(), Some("10.0.20348.2113"));
        assert_eq!(p.os_features, Some(vec!["win32k".to_string()]));
        assert_eq!(
            String::from_utf8(to_bytes(&p)).unwrap(),
            r#"{"architecture":"amd64","os":"windows","os.version":"10.0.20348.2113","os.features":["win32k"]}"#
        );
        let p =
            platform(r#"{"os":"linux","architecture":"amd64","os.version":"","os.features":[]}"#)
                .unwrap();
        assert_eq!((p.os_version, p.os_features), (None, None));
    }

    #[test]
    fn manifest_serialises_in_spec_order_without_empty_fields() {
        let mut m = ImageManifest::new(Descriptor::new(media::OCI_CONFIG, "sha256:aa", 2));
        m.layers
            .push(Descriptor::new(media::OCI_LAYER_GZIP, "sha256:bb", 3));
        m.annotations
            .insert("org.opencontainers.image.title".into(), "x".into());
        let s = String::from_utf8(to_bytes(&m)).unwrap();
        assert_eq!(
            s,
            r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:aa","size":2},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:bb","size":3}],"annotations":{"org.opencontainers.image.title":"x"}}"#
        );
        match ParsedManifest::parse(s.as_bytes(), "").unwrap() {
            ParsedManifest::Image(back) => assert_eq!(back, m),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn parses_docker_list_and_rejects_schema1() {
        let list = br#"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json","manifests":[{"mediaType":"application/vnd.docker.distribution.manifest.v2+json","digest":"sha256:aa","size":1,"platform":{"architecture":"arm64","os":"linux","variant":"v8"}}]}"#;
        match ParsedManifest::parse(list, media::DOCKER_MANIFEST_LIST).unwrap() {
            ParsedManifest::Index(i) => {
                assert_eq!(
                    i.manifests[0].platform.as_ref().unwrap().display(),
                    "linux/arm64/v8"
                )
            }
            other => panic!("{other:?}"),
        }
        let err = ParsedManifest::parse(br#"{"schemaVersion":1,"config":{}}"#, "").unwrap_err();
        assert!(err.contains("schema 1"), "{err}");
        assert!(
            ParsedManifest::parse(b"nope", "")
                .unwrap_err()
                .contains("not JSON")
        );
    }
}
