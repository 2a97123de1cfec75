//! Phases 2 and 3: hints "diff-id → compressed blob" (the local cache, the previous manifest of
//! the target tag, the base image) and the plan of every distinct layer: already in the
//! target, mounted from the base repository, or to be sent. Registry hints are verified first
//! ([`super::verify`]).

use std::collections::{HashMap, HashSet};

use bytes::Bytes;
use golden_oci::{ImageConfigFile, Reference, media};
use golden_registry::types::{ImageManifest, ParsedManifest};
use golden_registry::{Client, MountOutcome, RegistryError, Scope, UploadSession};
use tokio::sync::Semaphore;

use super::metadata::Previous;
use super::verify::Verifier;
use super::{BASE_DIGEST_LABEL, BASE_NAME_LABEL, BlobReport, PushOptions, Session, short};
use crate::cache::LayerCache;
use crate::error::Result;
use crate::gzip;
use crate::source::ImageMeta;
use crate::tags::repo_ref;

#[derive(Debug, Clone)]
pub(super) struct Hint {
    pub digest: String,
    pub size: u64,
    /// Repository to mount from (`None`: only useful if the target already has it).
    pub from: Option<Reference>,
    pub origin: &'static str,
    /// Produced by golden-push itself: the local cache, written after golden-push compressed
    /// the layer (and checked its diff-id) or verified a registry blob. Registry hints (the
    /// previous tag, the base image) are only claims of whoever pushed those manifests: their
    /// blob is downloaded and checked against the diff-id before it is reused.
    pub trusted: bool,
}

#[derive(Debug)]
pub(super) enum Plan {
    Done(BlobReport),
    Send(Option<UploadSession>),
}

fn is_gzip_layer(mt: &str) -> bool {
    mt == media::OCI_LAYER_GZIP || mt == media::DOCKER_LAYER_GZIP
}

/// What phase 2 found.
pub(super) struct Hints {
    /// Candidate blobs of each diff-id.
    pub map: HashMap<String, Vec<Hint>>,
    /// Blobs of the manifest the target tag points at (they are in the repository).
    pub in_tag: HashSet<String>,
    /// The base image and the digest its reference resolved to (for the annotations).
    pub base_resolved: Option<(Reference, String)>,
}

/// What phase 3 decided.
pub(super) struct LayerPlan {
    pub plans: HashMap<String, Plan>,
    /// Size of the config when the target has it.
    pub config_present: Option<u64>,
    /// Diff-ids whose layer must be sent.
    pub to_send: Vec<String>,
}

impl Session<'_> {
    /// Phase 2, hints: the previous manifest of the tag, the base image (pull on its repository too),
    /// the local cache.
    pub(super) async fn hints(&mut self, previous: Previous) -> Result<Hints> {
        let base = resolve_base(self.opts, &self.meta);
        if let Some(b) = &base
            && b.repository != self.target.repository
        {
            self.client
                .authorize(
                    &self.target.registry,
                    &[
                        Scope::push(&self.target.repository),
                        Scope::pull(&b.repository),
                    ],
                )
                .await?;
        }
        let mut hints = Hints {
            map: HashMap::new(),
            in_tag: HashSet::new(),
            base_resolved: None,
        };
        self.cache = self
            .opts
            .cache_dir
            .as_ref()
            .map(|d| LayerCache::new(d, &gzip::format_id(self.opts.level)));
        if let Some(c) = &self.cache {
            for d in &self.meta.diff_ids {
                if let Some((digest, size)) = c.get(d) {
                    hints.map.entry(d.clone()).or_default().push(Hint {
                        digest,
                        size,
                        from: None,
                        origin: "local cache",
                        trusted: true,
                    });
                }
            }
        }
        self.previous_hints(previous, &mut hints).await?;
        if let Some(b) = &base {
            self.base_hints(b, &mut hints).await;
        }
        Ok(hints)
    }

    /// The blobs of the manifest the target tag points at (for this platform).
    async fn previous_hints(
        &self,
        (previous, previous_config): Previous,
        hints: &mut Hints,
    ) -> Result<()> {
        let (client, target, meta) = (self.client, &self.target, &self.meta);
        if let Some(prev) = previous
            && let Some(m) = tolerate_missing(platform_manifest(client, target, prev, meta).await)?
        {
            hints.in_tag = m.layers.iter().map(|l| l.digest.clone()).collect();
            if let Err(e) = collect_hints(
                client,
                target,
                &m,
                meta,
                (None, "previous tag"),
                previous_config.as_ref(),
                &mut hints.map,
            )
            .await
            {
                self.log
                    .detail(&format!("previous manifest not usable as a hint: {e}"));
            }
        }
        Ok(())
    }

    /// The blobs of the base image `b` (mountable from its repository); never fails the push.
    async fn base_hints(&self, b: &Reference, hints: &mut Hints) {
        let (client, meta, log) = (self.client, &self.meta, self.log);
        match tolerate_missing(client.try_get_manifest(b).await) {
            Ok(Some(fetched)) => {
                let digest = fetched.digest.clone();
                let base_repo = repo_ref(b);
                match tolerate_missing(platform_manifest(client, &base_repo, fetched, meta).await) {
                    Ok(Some(m)) => {
                        if let Err(e) = collect_hints(
                            client,
                            &base_repo,
                            &m,
                            meta,
                            (Some(base_repo.clone()), "base image"),
                            None,
                            &mut hints.map,
                        )
                        .await
                        {
                            log.detail(&format!("base image {b} not usable as a hint: {e}"));
                        }
                    }
                    Ok(None) => {}
                    Err(e) => log.detail(&format!("base image {b} not usable as a hint: {e}")),
                }
                hints.base_resolved = Some((b.clone(), digest));
            }
            Ok(None) => log.detail(&format!(
                "base image {b} not found in the registry; layers will be uploaded"
            )),
            Err(e) => log.detail(&format!(
                "base image {b} not readable ({e}); layers will be uploaded"
            )),
        }
    }

    /// Phase 3: plan every distinct layer (concurrently), then ask for the config.
    pub(super) async fn plan(&self, hints: &Hints) -> Result<LayerPlan> {
        let mut unique: Vec<String> = Vec::new();
        for d in &self.meta.diff_ids {
            if !unique.contains(d) {
                unique.push(d.clone());
            }
        }
        let verifier = Verifier {
            sem: Semaphore::new(self.opts.jobs.max(1)),
            sizes: self
                .archive
                .as_ref()
                .map(|a| {
                    a.meta
                        .diff_ids
                        .iter()
                        .cloned()
                        .zip(a.layers.iter().map(|(_, len)| *len))
                        .collect()
                })
                .unwrap_or_default(),
            cache: self.cache.as_ref(),
            log: self.log,
        };
        let client = self.client;
        let planned = futures_util::future::join_all(unique.iter().map(|d| {
            let h = hints.map.get(d).cloned().unwrap_or_default();
            let (target, in_tag, verifier) = (self.target.clone(), &hints.in_tag, &verifier);
            async move { plan_layer(client, &target, d, &h, in_tag, verifier).await }
        }))
        .await;
        let mut plans: HashMap<String, Plan> = HashMap::new();
        for (d, p) in unique.iter().zip(planned) {
            plans.insert(d.clone(), p?);
        }
        let config_present = client
            .blob_exists(&self.target, &self.meta.config_digest)
            .await?;
        let to_send: Vec<String> = unique
            .iter()
            .filter(|d| matches!(plans.get(*d), Some(Plan::Send(_))))
            .cloned()
            .collect();
        Ok(LayerPlan {
            plans,
            config_present,
            to_send,
        })
    }
}

/// The base image to reuse layers from: `--base`, else the base-name label — only in the
/// target's registry (mounts do not cross registries).
fn resolve_base(opts: &PushOptions, meta: &ImageMeta) -> Option<Reference> {
    let from_label = || {
        let name = meta.labels.get(BASE_NAME_LABEL)?;
        let mut r = Reference::parse(name).ok()?;
        if r.digest.is_none()
            && let Some(d) = meta.labels.get(BASE_DIGEST_LABEL)
            && golden_registry::digest::is_sha256(d)
        {
            r.digest = Some(d.clone());
        }
        Some(r)
    };
    let base = opts.base.clone().or_else(from_label)?;
    (base.registry == opts.to.registry).then_some(base)
}

/// Pick the manifest for `platform` out of an index.
async fn platform_manifest(
    client: &Client,
    repo: &Reference,
    fetched: golden_registry::FetchedManifest,
    meta: &ImageMeta,
) -> Result<Option<ImageManifest>, RegistryError> {
    match fetched.parse()? {
        ParsedManifest::Image(m) => Ok(Some(m)),
        ParsedManifest::Index(i) => {
            let Some(d) = i.manifests.iter().find(|d| {
                d.platform.as_ref().is_some_and(|p| {
                    p.os == meta.platform.os
                        && p.architecture == meta.platform.architecture
                        && (meta.platform.variant.is_none() || p.variant == meta.platform.variant)
                })
            }) else {
                return Ok(None);
            };
            match client
                .get_manifest(&repo.with_digest(&d.digest))
                .await?
                .parse()?
            {
                ParsedManifest::Image(m) => Ok(Some(m)),
                ParsedManifest::Index(_) => Ok(None),
            }
        }
    }
}

/// Add the diff-id → blob pairs of `manifest` (config fetched from `repo`) to `hints`.
async fn collect_hints(
    client: &Client,
    repo: &Reference,
    manifest: &ImageManifest,
    meta: &ImageMeta,
    (from, origin): (Option<Reference>, &'static str),
    prefetched: Option<&(String, Bytes)>,
    hints: &mut HashMap<String, Vec<Hint>>,
) -> Result<(), RegistryError> {
    let diff_ids = if manifest.config.digest == meta.config_digest {
        meta.diff_ids.clone()
    } else {
        let bytes = match prefetched {
            Some((d, b)) if *d == manifest.config.digest => b.clone(),
            _ => {
                client
                    .get_blob_bytes(repo, &manifest.config.digest, 16 << 20)
                    .await?
            }
        };
        match serde_json::from_slice::<ImageConfigFile>(&bytes) {
            Ok(c) => c.rootfs.map(|r| r.diff_ids).unwrap_or_default(),
            Err(_) => return Ok(()),
        }
    };
    if diff_ids.len() != manifest.layers.len() {
        return Ok(());
    }
    for (diff, layer) in diff_ids.iter().zip(&manifest.layers) {
        if !is_gzip_layer(&layer.media_type) || !layer.urls.is_empty() {
            continue;
        }
        let list = hints.entry(diff.clone()).or_default();
        match list.iter_mut().find(|h| h.digest == layer.digest) {
            // Already known (e.g. from the cache): keep its trust, learn where to mount from.
            Some(h) => {
                if h.from.is_none() {
                    h.from = from.clone();
                }
            }
            None => list.push(Hint {
                digest: layer.digest.clone(),
                size: layer.size,
                from: from.clone(),
                origin,
                trusted: false,
            }),
        }
    }
    Ok(())
}

pub(super) fn tolerate_missing<T>(
    r: Result<Option<T>, RegistryError>,
) -> Result<Option<T>, RegistryError> {
    match r {
        Err(e) if e.is_not_found() => Ok(None),
        other => other,
    }
}

/// Decide what to do with one layer given its hints. Registry hints are reused only after
/// [`Verifier::check`]; the local cache's are trusted.
async fn plan_layer(
    client: &Client,
    target: &Reference,
    diff_id: &str,
    hints: &[Hint],
    in_tag: &HashSet<String>,
    verifier: &Verifier<'_>,
) -> Result<Plan, RegistryError> {
    // Blobs referenced by the manifest the target tag points at are in the repository (a
    // registry refuses a manifest whose blobs are missing): no need to ask again. Then `HEAD`.
    let ordered = hints
        .iter()
        .filter(|h| in_tag.contains(&h.digest))
        .chain(hints.iter().filter(|h| !in_tag.contains(&h.digest)));
    // A blob refused once is not downloaded again to be mounted.
    let mut refused: HashSet<&str> = HashSet::new();
    for h in ordered {
        let (size, from) = if in_tag.contains(&h.digest) {
            (h.size, "previous tag")
        } else {
            match client.blob_exists(target, &h.digest).await? {
                Some(size) => (if size > 0 { size } else { h.size }, h.origin),
                None => continue,
            }
        };
        if !h.trusted && !verifier.check(client, target, diff_id, h, size).await {
            refused.insert(&h.digest);
            continue;
        }
        return Ok(Plan::Done(BlobReport {
            diff_id: None,
            digest: h.digest.clone(),
            size,
            action: "exists".into(),
            from: Some(from.to_string()),
        }));
    }
    let mut session = None;
    for h in hints {
        let Some(src) = &h.from else { continue };
        if refused.contains(h.digest.as_str()) {
            continue;
        }
        if !h.trusted && !verifier.check(client, src, diff_id, h, h.size).await {
            continue;
        }
        match client.mount_blob(target, &h.digest, src).await {
            Ok(MountOutcome::Mounted) => {
                return Ok(Plan::Done(BlobReport {
                    diff_id: None,
                    digest: h.digest.clone(),
                    size: h.size,
                    action: "mounted".into(),
                    from: Some(src.name()),
                }));
            }
            Ok(MountOutcome::Upload(s)) => {
                verifier.log.detail(&format!(
                    "mount of {} from {} refused (202): uploading instead",
                    short(&h.digest),
                    src.name()
                ));
                session = Some(s);
                break;
            }
            Err(e) if e.is_not_found() => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(Plan::Send(session))
}
