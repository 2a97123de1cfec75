//! `golden-push attach SUBJECT FILE` and `golden-push referrers SUBJECT`.

use std::collections::BTreeMap;
use std::path::Path;

use bytes::Bytes;
use golden_oci::Reference;
use golden_registry::{Client, Descriptor};
use serde::Serialize;

use crate::Log;
use crate::error::{Error, Result};
use crate::report::short;

/// Media type of an attached file, from its name.
pub fn guess_media_type(path: &Path) -> &'static str {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if name.ends_with(".sarif") || name.ends_with(".sarif.json") {
        "application/sarif+json"
    } else if name.ends_with(".cdx.json") || name.ends_with(".cyclonedx.json") {
        "application/vnd.cyclonedx+json"
    } else if name.ends_with(".spdx.json") {
        "application/spdx+json"
    } else if name.ends_with(".openvex.json") {
        "application/openvex+json"
    } else if name.ends_with(".json") {
        "application/json"
    } else if name.ends_with(".md") {
        "text/markdown"
    } else if name.ends_with(".txt") || name.ends_with(".log") {
        "text/plain"
    } else {
        "application/octet-stream"
    }
}

/// Result of `attach`.
#[derive(Debug, Clone, Serialize)]
pub struct AttachReport {
    pub digest: String,
    pub reference: String,
    pub subject: String,
    pub artifact_type: String,
    pub media_type: String,
    pub size: u64,
    /// The referrers tag schema (`sha256-<hex>`) was updated (registry without referrers API).
    pub fallback_tag: bool,
}

const MAX_ATTACH_BYTES: u64 = 256 << 20;

/// `golden-push attach SUBJECT FILE --artifact-type TYPE`.
pub async fn attach(
    client: &Client,
    subject: &Reference,
    file: &Path,
    artifact_type: &str,
    media_type: Option<&str>,
    annotations: BTreeMap<String, String>,
    log: &Log,
) -> Result<AttachReport> {
    let meta = std::fs::metadata(file)
        .map_err(Error::file(format!("failed to read `{}`", file.display())))?;
    if !meta.is_file() {
        return Err(Error::Usage(format!("`{}` is not a file", file.display())));
    }
    if meta.len() > MAX_ATTACH_BYTES {
        return Err(Error::Usage(format!(
            "`{}` is {} bytes; attachments are limited to {MAX_ATTACH_BYTES}",
            file.display(),
            meta.len()
        )));
    }
    let data =
        std::fs::read(file).map_err(Error::file(format!("failed to read `{}`", file.display())))?;
    let media_type = media_type
        .unwrap_or_else(|| guess_media_type(file))
        .to_string();
    let mut layer_ann = BTreeMap::new();
    if let Some(name) = file.file_name() {
        layer_ann.insert(
            "org.opencontainers.image.title".to_string(),
            name.to_string_lossy().to_string(),
        );
    }
    let size = data.len() as u64;
    let attached = client
        .attach_artifact(
            subject,
            artifact_type,
            vec![(Bytes::from(data), media_type.clone(), layer_ann)],
            annotations,
        )
        .await
        .map_err(Error::registry_at(format!(
            "failed to attach `{}` to {subject}",
            file.display()
        )))?;
    let repo = format!("{}/{}", subject.registry, subject.repository);
    let subject_digest = match &subject.digest {
        Some(d) => d.clone(),
        None => client.resolve_digest(subject).await?.digest,
    };
    log.line(&format!(
        "attached {} ({artifact_type}) to {repo}@{} as {}{}",
        file.display(),
        short(&subject_digest),
        short(&attached.descriptor.digest),
        if attached.used_fallback_tag {
            " (referrers tag schema)"
        } else {
            ""
        }
    ));
    Ok(AttachReport {
        reference: format!("{repo}@{}", attached.descriptor.digest),
        digest: attached.descriptor.digest,
        subject: format!("{repo}@{subject_digest}"),
        artifact_type: artifact_type.to_string(),
        media_type,
        size,
        fallback_tag: attached.used_fallback_tag,
    })
}

/// `golden-push referrers SUBJECT`.
pub async fn referrers(
    client: &Client,
    subject: &Reference,
    artifact_type: Option<&str>,
) -> Result<Vec<Descriptor>> {
    client
        .referrers(subject, artifact_type)
        .await
        .map_err(Error::registry_at(format!(
            "failed to list the referrers of {subject}"
        )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types_by_name() {
        assert_eq!(
            guess_media_type(Path::new("r/scan.sarif")),
            "application/sarif+json"
        );
        assert_eq!(
            guess_media_type(Path::new("sbom.cdx.json")),
            "application/vnd.cyclonedx+json"
        );
        assert_eq!(
            guess_media_type(Path::new("report.json")),
            "application/json"
        );
        assert_eq!(
            guess_media_type(Path::new("out/vex.openvex.json")),
            "application/openvex+json"
        );
        assert_eq!(
            guess_media_type(Path::new("x.bin")),
            "application/octet-stream"
        );
    }
}
