//! `golden-push copy SRC DST` (registry to registry, by digest, blob by blob) and
//! `golden-push index --to REF MANIFEST...` (an OCI index over per-platform manifests).

use std::collections::BTreeMap;

use bytes::Bytes;
use futures_util::StreamExt;
use golden_contracts::units::human_bytes;
use golden_oci::{ImageConfigFile, Reference, media};
use golden_registry::types::{Descriptor, ImageIndex, ParsedManifest, Platform, to_bytes};
use golden_registry::{Client, FetchedManifest, MountOutcome, RegistryError, Scope};
use serde::Serialize;

use crate::Log;
use crate::error::{Error, Result};
use crate::report::{BlobReport, short};
use crate::tags::{all_tags, checked_tag};

/// Result of `copy` and `index`.
#[derive(Debug, Clone, Serialize)]
pub struct ManifestReport {
    pub digest: String,
    pub reference: String,
    pub tags: Vec<String>,
    pub media_type: String,
    pub size: u64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub platforms: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub blobs: Vec<BlobReport>,
    /// The artifacts attached to the copied manifests (signatures, attestations, reports, SBOM,
    /// VEX), copied with them, recursively (`copy` without `--no-referrers`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub referrers: Vec<ReferrerCopy>,
}

/// One referrer carried by `copy`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ReferrerCopy {
    pub digest: String,
    /// The manifest it is attached to.
    pub subject: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    /// `copied`, or `exists` when the destination already had it (still linked: listed among
    /// the subject's referrers there).
    pub action: String,
}

/// Referrers of referrers are followed this deep (a signature of a report is depth 2).
const MAX_REFERRER_DEPTH: u32 = 4;

/// An index stored by digest, its tags not set yet ([`crate::tags::set_tags`] does that).
#[derive(Debug, Clone)]
pub struct IndexBuilt {
    pub report: ManifestReport,
    /// The architecture of each manifest, in the order given.
    pub architectures: Vec<String>,
    /// Tag names to set.
    pub tags: Vec<String>,
    pub repository: Reference,
    pub bytes: Bytes,
}

fn repo_of(r: &Reference) -> Reference {
    Reference {
        registry: r.registry.clone(),
        repository: r.repository.clone(),
        tag: None,
        digest: None,
    }
}

async fn copy_blob(
    client: &Client,
    src: &Reference,
    dst: &Reference,
    desc: &Descriptor,
) -> Result<BlobReport, RegistryError> {
    let report = |action: &str, from: Option<String>| BlobReport {
        diff_id: None,
        digest: desc.digest.clone(),
        size: desc.size,
        action: action.into(),
        from,
    };
    if !desc.urls.is_empty() {
        // Foreign (non-distributable) layers are fetched from their URLs, never copied.
        return Ok(report("skipped (foreign layer)", None));
    }
    if client.blob_exists(dst, &desc.digest).await?.is_some() {
        return Ok(report("exists", None));
    }
    let mut session = None;
    if src.registry == dst.registry && src.repository != dst.repository {
        match client.mount_blob(dst, &desc.digest, src).await? {
            MountOutcome::Mounted => return Ok(report("mounted", Some(src.name()))),
            MountOutcome::Upload(s) => session = Some(s),
        }
    }
    let mut last = None;
    for _ in 0..2 {
        let mut download = client.blob_download(src, &desc.digest).await?;
        match client
            .upload_download(dst, &mut download, &desc.digest, session.take())
            .await
        {
            Ok(_) => return Ok(report("copied", Some(src.name()))),
            Err(e @ RegistryError::Transport { .. }) => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| RegistryError::Invalid("copy failed".into())))
}

/// Copy the manifest `fetched` (from `src`) and everything it references into `dst`, children
/// first; the manifest itself is pushed by digest (no tag). Returns the blob reports.
async fn copy_tree(
    client: &Client,
    src: &Reference,
    dst: &Reference,
    fetched: &FetchedManifest,
    jobs: usize,
    log: &Log,
    depth: u32,
) -> Result<Vec<BlobReport>> {
    if depth > 4 {
        return Err(Error::Image(format!(
            "index nesting deeper than 4 levels at {}",
            fetched.digest
        )));
    }
    let mut reports = Vec::new();
    match fetched.parse()? {
        ParsedManifest::Index(index) => {
            for child in &index.manifests {
                let m = client
                    .get_manifest(&src.with_digest(&child.digest))
                    .await
                    .map_err(|source| {
                        Error::registry(
                            format!(
                                "failed to read {} of index {}",
                                child.digest, fetched.digest
                            ),
                            source,
                        )
                    })?;
                let sub = Box::pin(copy_tree(client, src, dst, &m, jobs, log, depth + 1)).await?;
                reports.extend(sub);
            }
        }
        ParsedManifest::Image(m) => {
            let mut blobs = vec![m.config.clone()];
            blobs.extend(m.layers.iter().cloned());
            if let Some(s) = &m.subject {
                // An artifact's subject must exist first; copy it too.
                if client
                    .head_manifest(&dst.with_digest(&s.digest))
                    .await?
                    .is_none()
                {
                    let sm = client.get_manifest(&src.with_digest(&s.digest)).await?;
                    let sub =
                        Box::pin(copy_tree(client, src, dst, &sm, jobs, log, depth + 1)).await?;
                    reports.extend(sub);
                }
            }
            let results: Vec<Result<BlobReport, RegistryError>> =
                futures_util::stream::iter(blobs.iter())
                    .map(|d| copy_blob(client, src, dst, d))
                    .buffer_unordered(jobs.max(1))
                    .collect()
                    .await;
            for r in results {
                let r = r?;
                log.line(&format!(
                    "  blob {} {:>10}  {}",
                    short(&r.digest),
                    human_bytes(r.size),
                    r.action
                ));
                reports.push(r);
            }
        }
    }
    client
        .put_manifest(
            dst,
            &fetched.digest,
            fetched.bytes.clone(),
            &fetched.media_type,
        )
        .await
        .map_err(|source| {
            Error::registry(
                format!(
                    "failed to push manifest {} to {}",
                    fetched.digest,
                    dst.name()
                ),
                source,
            )
        })?;
    Ok(reports)
}

/// Copy `src` (tag or digest) to `dst`; tags: DST's tag (else SRC's), then `extra`.
pub async fn copy(
    client: &Client,
    src: &Reference,
    dst: &Reference,
    extra: &[String],
    with_referrers: bool,
    jobs: usize,
    log: &Log,
) -> Result<ManifestReport> {
    let src_repo = repo_of(src);
    let dst_repo = repo_of(dst);
    let mut scopes = vec![Scope::push(&dst_repo.repository)];
    if src.registry == dst.registry && src.repository != dst.repository {
        scopes.push(Scope::pull(&src_repo.repository));
    } else if src.registry != dst.registry {
        client
            .authorize(&src.registry, &[Scope::pull(&src_repo.repository)])
            .await?;
    }
    client.authorize(&dst.registry, &scopes).await?;
    let fetched = client
        .get_manifest(src)
        .await
        .map_err(Error::registry_at(format!(
            "failed to read the source {src}"
        )))?;
    if let Some(d) = &dst.digest
        && *d != fetched.digest
    {
        return Err(Error::Usage(format!(
            "DST {dst} is pinned to a digest that differs from the source's {}",
            fetched.digest
        )));
    }
    let mut tags = Vec::new();
    if let Some(t) = dst.tag.clone().or_else(|| {
        if dst.digest.is_none() {
            src.tag.clone()
        } else {
            None
        }
    }) {
        tags.push(checked_tag(&dst_repo, &t)?);
    }
    for t in extra {
        let t = checked_tag(&dst_repo, t)?;
        if !tags.contains(&t) {
            tags.push(t);
        }
    }
    log.line(&format!(
        "copying {src} ({}) to {}",
        short(&fetched.digest),
        dst_repo.name()
    ));
    let blobs = copy_tree(client, &src_repo, &dst_repo, &fetched, jobs, log, 0).await?;
    // Referrers before any tag: a consumer who pulls the tag finds its signatures and reports.
    let referrers = if with_referrers {
        copy_referrers(client, &src_repo, &dst_repo, &fetched, jobs, log).await?
    } else {
        Vec::new()
    };
    for t in &tags {
        client
            .put_manifest(&dst_repo, t, fetched.bytes.clone(), &fetched.media_type)
            .await
            .map_err(|source| {
                Error::registry(format!("failed to tag {}:{t}", dst_repo.name()), source)
            })?;
    }
    Ok(ManifestReport {
        reference: format!("{}@{}", dst_repo.name(), fetched.digest),
        digest: fetched.digest.clone(),
        tags: tags
            .iter()
            .map(|t| format!("{}:{t}", dst_repo.name()))
            .collect(),
        media_type: fetched.media_type.clone(),
        size: fetched.bytes.len() as u64,
        platforms: Vec::new(),
        blobs,
        referrers,
    })
}

/// The digests a manifest stands for as a subject: itself, and for an index its children.
fn subjects_of(fetched: &FetchedManifest) -> Result<Vec<String>> {
    let mut out = vec![fetched.digest.clone()];
    if let ParsedManifest::Index(index) = fetched.parse()? {
        out.extend(index.manifests.iter().map(|d| d.digest.clone()));
    }
    Ok(out)
}

/// Copy every referrer of `root` (and of its children when it is an index), then theirs,
/// breadth first, by digest. Each is linked among its subject's referrers at the destination
/// (the referrers API indexes it on push; else the tag schema is updated, merged and
/// verified). A referrer already at the destination is linked, not copied again.
pub async fn copy_referrers(
    client: &Client,
    src: &Reference,
    dst: &Reference,
    root: &FetchedManifest,
    jobs: usize,
    log: &Log,
) -> Result<Vec<ReferrerCopy>> {
    let mut done = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    let mut level = subjects_of(root)?;
    for depth in 0..MAX_REFERRER_DEPTH {
        let mut next = Vec::new();
        for subject in &level {
            let listed = client
                .referrers(&src.with_digest(subject), None)
                .await
                .map_err(Error::registry_at(format!(
                    "failed to list the referrers of {}@{subject}",
                    src.name()
                )))?;
            for desc in listed {
                if !seen.insert(desc.digest.clone()) {
                    continue;
                }
                let present = client
                    .head_manifest(&dst.with_digest(&desc.digest))
                    .await
                    .map_err(Error::registry_at(format!(
                        "failed to check {}@{}",
                        dst.name(),
                        desc.digest
                    )))?
                    .is_some();
                if !present {
                    let m = client
                        .get_manifest(&src.with_digest(&desc.digest))
                        .await
                        .map_err(Error::registry_at(format!(
                            "failed to read the referrer {}@{}",
                            src.name(),
                            desc.digest
                        )))?;
                    Box::pin(copy_tree(client, src, dst, &m, jobs, log, 1)).await?;
                }
                client
                    .link_referrer(dst, subject, &desc, false)
                    .await
                    .map_err(Error::registry_at(format!(
                        "failed to list {} among the referrers of {}@{subject}",
                        desc.digest,
                        dst.name()
                    )))?;
                log.line(&format!(
                    "  referrer {} {}  {}",
                    short(&desc.digest),
                    desc.artifact_type
                        .as_deref()
                        .unwrap_or("(no artifact type)"),
                    if present { "exists" } else { "copied" }
                ));
                done.push(ReferrerCopy {
                    digest: desc.digest.clone(),
                    subject: subject.clone(),
                    artifact_type: desc.artifact_type.clone(),
                    action: if present { "exists" } else { "copied" }.to_string(),
                });
                next.push(desc.digest);
            }
        }
        if next.is_empty() {
            break;
        }
        if depth + 1 == MAX_REFERRER_DEPTH {
            log.line(&format!(
                "  referrers nested deeper than {MAX_REFERRER_DEPTH} levels were not followed"
            ));
        }
        level = next;
    }
    Ok(done)
}

/// The platform of an image manifest, from its config.
async fn platform_of(client: &Client, repo: &Reference, config: &Descriptor) -> Result<Platform> {
    let bytes = client
        .get_blob_bytes(repo, &config.digest, 16 << 20)
        .await?;
    let cfg: ImageConfigFile = serde_json::from_slice(&bytes).map_err(|source| Error::Json {
        what: format!("config {} is not an image config", config.digest),
        source,
    })?;
    Platform::from_config(&cfg).map_err(|e| Error::Image(format!("config {} {e}", config.digest)))
}

/// Build and push an OCI index over `manifests` (digests in the target repository, or full
/// references — copied into the target repository first when they live elsewhere).
pub async fn index(
    client: &Client,
    to: &Reference,
    manifests: &[String],
    extra: &[String],
    annotations: BTreeMap<String, String>,
    jobs: usize,
    log: &Log,
) -> Result<IndexBuilt> {
    if manifests.is_empty() {
        return Err(Error::Usage(format!(
            "give at least one per-platform manifest (a digest in {} or a full reference)",
            to.name()
        )));
    }
    let tags = all_tags(to, extra)?;
    let target = repo_of(to);
    client
        .authorize(&target.registry, &[Scope::push(&target.repository)])
        .await?;
    let mut index = ImageIndex::new();
    let mut platforms = Vec::new();
    let mut architectures = Vec::new();
    for m in manifests {
        let m = m.trim();
        let r = if golden_registry::digest::is_sha256(m) {
            target.with_digest(m)
        } else {
            Reference::parse(m).map_err(Error::reference(format!(
                "`{m}` is neither a digest nor an image reference"
            )))?
        };
        let local = if r.registry == target.registry && r.repository == target.repository {
            r.clone()
        } else {
            let fetched = client
                .get_manifest(&r)
                .await
                .map_err(Error::registry_at(format!("failed to read {r}")))?;
            log.line(&format!("copying {r} into {}", target.name()));
            copy_tree(client, &repo_of(&r), &target, &fetched, jobs, log, 0).await?;
            target.with_digest(&fetched.digest)
        };
        let fetched = client.get_manifest(&local).await.map_err(|source| {
            Error::registry(
                format!("failed to read manifest {m} in {}", target.name()),
                source,
            )
        })?;
        let image = match fetched.parse()? {
            ParsedManifest::Image(i) => i,
            ParsedManifest::Index(_) => {
                return Err(Error::Usage(format!(
                    "{m} is itself an index: give the per-platform manifests"
                )));
            }
        };
        let platform = platform_of(client, &target, &image.config).await?;
        let shown = platform.display();
        if platforms.contains(&shown) {
            return Err(Error::Usage(format!(
                "two manifests for platform {shown} (the second is {m})"
            )));
        }
        log.line(&format!("  {} {shown}", short(&fetched.digest)));
        platforms.push(shown);
        architectures.push(platform.architecture.clone());
        let mut d = fetched.descriptor();
        d.platform = Some(platform);
        index.manifests.push(d);
    }
    index.annotations = annotations;
    let bytes = Bytes::from(to_bytes(&index));
    let digest = golden_registry::digest::sha256_digest(&bytes);
    client
        .put_manifest(&target, &digest, bytes.clone(), media::OCI_INDEX)
        .await
        .map_err(Error::registry_at(
            "failed to push the index (no tag was changed)",
        ))?;
    log.line(&format!(
        "  index {} stored (no tag moved yet)",
        short(&digest)
    ));
    Ok(IndexBuilt {
        report: ManifestReport {
            reference: format!("{}@{digest}", target.name()),
            digest,
            tags: Vec::new(),
            media_type: media::OCI_INDEX.into(),
            size: bytes.len() as u64,
            platforms,
            blobs: Vec::new(),
            referrers: Vec::new(),
        },
        architectures,
        tags,
        repository: target,
        bytes,
    })
}
