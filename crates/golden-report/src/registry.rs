//! `--baseline-registry`: the baseline is what is published. For each image of this run, its
//! primary tag is looked up in the registry, and the build record / scan report attached to it
//! as OCI referrers (`golden-push attach`) are read back.
//!
//! All registry access goes through `golden-registry` (auth auto-detected: ACR OIDC, service
//! principal, refresh token, docker config, anonymous). Registries without the referrers API
//! (distribution 2.8) work through the referrers tag schema, handled there.
//!
//! Nothing here fails the run: an image that is not published yet is a new image; a registry
//! that cannot be read is a baseline warning naming the reference.

use golden_contracts::plan::Plan;
use golden_registry::{Client, Descriptor, ParsedManifest, Reference, RegistryError};
use std::collections::BTreeMap;

use crate::baseline::Baseline;
use crate::discover::{Classified, Discovery, ScanOwners, classify_bytes, error_text};

/// Artifact type of a scan report attached to an image.
pub const SCAN_REPORT_ARTIFACT_TYPE: &str = "application/vnd.golden.scan-report.v1+json";
/// Artifact type of a build record attached to an image.
pub const BUILD_RECORD_ARTIFACT_TYPE: &str = "application/vnd.golden.build-record.v1+json";
/// Largest attached document read.
pub const MAX_ARTIFACT_BYTES: u64 = 64 * 1024 * 1024;
/// Annotation used to pick the newest of several attached documents.
const CREATED: &str = "org.opencontainers.image.created";

/// The published tag to compare each image with: `(image id, reference)`, from the plan (the
/// entry's `published` moving tag, else its first tag), else the build records (first tag),
/// else the scan reports.
pub fn subjects(found: &Discovery, plan: Option<&Plan>) -> Vec<(String, String)> {
    let mut m: BTreeMap<String, String> = BTreeMap::new();
    let owners = ScanOwners::new(found.builds.iter().map(|b| &b.doc));
    for s in &found.scans {
        let id = owners.owner(&s.doc);
        let tag = s
            .doc
            .image
            .tags
            .first()
            .cloned()
            .unwrap_or_else(|| s.doc.image.reference.clone());
        m.insert(id, tag);
    }
    for b in &found.builds {
        if let Some(t) = b.doc.tags.first() {
            m.insert(b.doc.id.clone(), t.clone());
        }
    }
    // The plan wins: its `published` moving tag (else its first tag) is what consumers pull.
    // A run's own tags can be ones never published (a pull request builds `…-sha-<commit>`
    // and `…-pr-<N>`), which would compare with nothing.
    if let Some(p) = plan {
        for e in p.entries() {
            if let Some(t) = e.published.as_ref().or(e.tags.first()) {
                m.insert(e.id.clone(), t.clone());
            }
        }
    }
    m.into_iter().collect()
}

fn newest(mut list: Vec<Descriptor>) -> Option<Descriptor> {
    list.sort_by(|a, b| {
        b.annotations
            .get(CREATED)
            .cmp(&a.annotations.get(CREATED))
            .then_with(|| a.digest.cmp(&b.digest))
    });
    list.into_iter().next()
}

/// Referrers of `subject` of `artifact_type`; for an index without any, those of its
/// platform manifests (linux/amd64 first).
async fn find_referrers(
    client: &Client,
    subject: &Reference,
    subject_desc: &Descriptor,
    artifact_type: &str,
) -> Result<Vec<Descriptor>, RegistryError> {
    let list = client.referrers(subject, Some(artifact_type)).await?;
    if !list.is_empty() || !golden_registry::types::is_index_media_type(&subject_desc.media_type) {
        return Ok(list);
    }
    let index = client.get_manifest(subject).await?;
    let ParsedManifest::Index(index) = index.parse()? else {
        return Ok(Vec::new());
    };
    let mut children = index.manifests;
    children.sort_by_key(|d| {
        let p = d.platform.as_ref();
        let amd64 = p.is_some_and(|p| p.os == "linux" && p.architecture == "amd64");
        !amd64
    });
    for child in children {
        let child_ref = subject.with_digest(&child.digest);
        let l = client.referrers(&child_ref, Some(artifact_type)).await?;
        if !l.is_empty() {
            return Ok(l);
        }
    }
    Ok(Vec::new())
}

/// Read every layer of artifact `artifact` (attached to `subject`) as documents.
async fn read_artifact(
    client: &Client,
    subject: &Reference,
    artifact: &Descriptor,
) -> Result<Vec<Classified>, RegistryError> {
    let m = client
        .get_manifest(&subject.with_digest(&artifact.digest))
        .await?;
    let ParsedManifest::Image(manifest) = m.parse()? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for layer in &manifest.layers {
        let bytes = client
            .get_blob_bytes(subject, &layer.digest, MAX_ARTIFACT_BYTES)
            .await?;
        let name = layer
            .annotations
            .get("org.opencontainers.image.title")
            .cloned()
            .unwrap_or_default();
        let label = format!(
            "{}@{} ({})",
            subject.name(),
            artifact.digest,
            if name.is_empty() {
                layer.digest.as_str()
            } else {
                name.as_str()
            }
        );
        out.push(classify_bytes(&label, &name, bytes.to_vec()));
    }
    Ok(out)
}

/// Load the published baseline of every subject.
pub async fn load(
    client: &Client,
    subjects: &[(String, String)],
    artifact_types: &[String],
) -> Baseline {
    let mut b = Baseline {
        source: "registry".into(),
        ..Baseline::default()
    };
    for (id, tag) in subjects {
        if let Err(e) = load_one(client, &mut b, id, tag, artifact_types).await {
            b.warn(
                Some(tag.clone()),
                Some(id.clone()),
                format!(
                    "failed to read the reports attached to `{tag}`: {}",
                    error_text(&e)
                ),
            );
        }
    }
    b
}

async fn load_one(
    client: &Client,
    b: &mut Baseline,
    id: &str,
    tag: &str,
    artifact_types: &[String],
) -> Result<(), RegistryError> {
    let r = match Reference::parse(tag) {
        Ok(r) => r,
        Err(e) => {
            b.warn(
                Some(tag.to_string()),
                Some(id.to_string()),
                format!("`{tag}` is not an image reference: {e}"),
            );
            return Ok(());
        }
    };
    // Not published (yet): a new image, nothing to compare with.
    let desc = match client.head_manifest(&r).await {
        Ok(Some(d)) => d,
        Ok(None) | Err(RegistryError::NameUnknown { .. }) => return Ok(()),
        Err(e) => return Err(e),
    };
    let subject = r.with_digest(&desc.digest);
    let mut found_any = false;
    for t in artifact_types {
        let list = find_referrers(client, &subject, &desc, t).await?;
        let Some(artifact) = newest(list) else {
            continue;
        };
        let source = format!("{}@{}", r.name(), artifact.digest);
        for doc in read_artifact(client, &subject, &artifact).await? {
            match doc {
                Classified::Build(d) => {
                    found_any = true;
                    b.insert(id, &source, Some(*d), None);
                }
                Classified::Scan(d) => {
                    found_any = true;
                    b.insert(id, &source, None, Some(*d));
                }
                Classified::Ignored | Classified::Push(_) | Classified::Index(_) => {}
                Classified::Problem { message, .. } => b.warn(
                    Some(source.clone()),
                    Some(id.to_string()),
                    format!("attached document is unusable: {message}"),
                ),
            }
        }
    }
    if !found_any {
        b.warn(
            Some(tag.to_string()),
            Some(id.to_string()),
            format!(
                "`{tag}` is published but has no attached {} (attach them with `golden-push attach`)",
                artifact_types.join(" / ")
            ),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newest_attachment_wins() {
        let mut a = Descriptor::new("m", "sha256:a", 1);
        a.annotations
            .insert(CREATED.into(), "2026-01-01T00:00:00Z".into());
        let mut b = Descriptor::new("m", "sha256:b", 1);
        b.annotations
            .insert(CREATED.into(), "2026-02-01T00:00:00Z".into());
        let c = Descriptor::new("m", "sha256:c", 1);
        assert_eq!(newest(vec![a, b.clone(), c]).unwrap().digest, b.digest);
        assert!(newest(Vec::new()).is_none());
    }
}
