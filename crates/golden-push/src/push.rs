//! `golden-push IMAGE --to REF`: blobs first, then the config, then the manifest (by digest),
//! then every tag.
//!
//! 1. Image metadata: engine `inspect` (diff-ids, labels, platform) or the indexed archive.
//! 2. Hints "diff-id → compressed blob": the previous manifest of the target tag (its config's
//!    `rootfs.diff_ids` align with its layers), the base image (`--base` or the
//!    `org.opencontainers.image.base.name` label, same registry: mountable) and the local cache.
//!    Only the local cache is trusted (golden-push wrote it after compressing the layer itself
//!    or verifying a blob). A registry hint is whatever anyone with push rights on that
//!    repository wrote: its blob is downloaded, gunzipped and hashed, and reused only when the
//!    hash is the layer's diff-id (then it goes to the cache); otherwise a warning, and the
//!    image's own layer is sent.
//! 3. Per layer: `HEAD` in the target → exists; else mount from the base repository (201) →
//!    mounted; else (or on 202) the layer must be sent.
//! 4. Only if a layer or the config must be sent, the image is exported from the engine (an
//!    unchanged re-push never exports anything). Layers are compressed one after the other with
//!    all cores (parallel deterministic gzip), and each is uploaded (chunked, bounded
//!    concurrency) while the next compresses. Just before uploading, `HEAD` again: a blob
//!    uploaded by an interrupted earlier run is skipped.
//! 5. Config, then the manifest by digest. No tag moves here: the caller attaches the
//!    referrers (report, SBOM, build record) to the digest first, then [`set_tags`] moves the
//!    tags one after the other, so a failure anywhere before leaves every tag where it was, and
//!    a tag failing is reported with exactly the tags that moved.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result, anyhow, bail};
use bytes::Bytes;
use golden_oci::{ImageConfigFile, Reference, media};
use golden_registry::types::{Descriptor, ImageManifest, ParsedManifest, to_bytes};
use golden_registry::{Client, MountOutcome, RegistryError, Scope, UploadSession};
use serde::Serialize;
use tokio::sync::Semaphore;

use crate::Log;
use crate::cache::LayerCache;
use crate::gzip;
pub use crate::report::{BlobReport, human, short};
use crate::source::{self, Archive, ImageInput, ImageMeta};
use crate::stream::ChannelReader;
use crate::tags::repo_ref;
pub use crate::tags::{TagOutcome, all_tags, checked_tag, set_tags};
use golden_engine::layer_store::{LayerReader, LayerStore};

/// Default gzip level: 3 gives blobs about 3% larger than level 6 for about 40% less CPU
/// (measured on the Debian platform images; see README).
pub const DEFAULT_LEVEL: u32 = 3;

pub const BASE_NAME_LABEL: &str = "org.opencontainers.image.base.name";
pub const BASE_DIGEST_LABEL: &str = "org.opencontainers.image.base.digest";

/// Settings of one push.
#[derive(Debug, Clone)]
pub struct PushOptions {
    pub image: String,
    pub to: Reference,
    /// Extra tags in the same repository.
    pub tags: Vec<String>,
    /// Repository (and tag/digest) of the base image, to reuse and mount its layers.
    pub base: Option<Reference>,
    /// Extra manifest annotations (override those derived from labels).
    pub annotations: BTreeMap<String, String>,
    pub level: u32,
    pub threads: usize,
    pub jobs: usize,
    pub cache_dir: Option<PathBuf>,
    pub work_dir: Option<PathBuf>,
    /// Read layers from a local engine's overlay2 layer store when readable (verified against
    /// the diff-ids; falls back to the engine export).
    pub layer_store: bool,
    /// Upload layers larger than a chunk while they compress.
    pub stream: bool,
}

/// Result of a push (printed with `--format json`).
#[derive(Debug, Clone, Serialize)]
pub struct PushReport {
    pub digest: String,
    /// `registry/repository@sha256:...`
    pub reference: String,
    /// Tags that point at `digest` (fully qualified): empty until [`set_tags`] ran.
    pub tags: Vec<String>,
    /// Tag names still to set ([`set_tags`]: after the referrers are attached).
    #[serde(skip)]
    pub pending_tags: Vec<String>,
    #[serde(skip)]
    pub repository: Reference,
    #[serde(skip)]
    pub manifest: Bytes,
    /// The image's architecture as its config names it.
    #[serde(skip)]
    pub architecture: String,
    pub media_type: String,
    pub size: u64,
    pub platform: String,
    pub config: BlobReport,
    pub layers: Vec<BlobReport>,
    /// Whether the image had to be exported from the engine.
    pub exported: bool,
    /// Where layer bytes came from: `none` (nothing to send), `archive`, `engine-export`,
    /// `engine-layer-store`.
    pub layer_source: String,
    pub seconds: f64,
}

#[derive(Debug, Clone)]
struct Hint {
    digest: String,
    size: u64,
    /// Repository to mount from (`None`: only useful if the target already has it).
    from: Option<Reference>,
    origin: &'static str,
    /// Produced by golden-push itself: the local cache, written after golden-push compressed
    /// the layer (and checked its diff-id) or verified a registry blob. Registry hints (the
    /// previous tag, the base image) are only claims of whoever pushed those manifests: their
    /// blob is downloaded and checked against the diff-id before it is reused.
    trusted: bool,
}

#[derive(Debug)]
enum Plan {
    Done(BlobReport),
    Send(Option<UploadSession>),
}

fn is_gzip_layer(mt: &str) -> bool {
    mt == media::OCI_LAYER_GZIP || mt == media::DOCKER_LAYER_GZIP
}

/// Manifest annotations: `org.opencontainers.image.*` labels, the resolved base image, then the
/// explicit ones.
pub fn annotations_for(
    labels: &BTreeMap<String, String>,
    base: Option<(&Reference, &str)>,
    extra: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut a: BTreeMap<String, String> = labels
        .iter()
        .filter(|(k, _)| k.starts_with("org.opencontainers.image."))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if let Some((name, digest)) = base {
        a.entry(BASE_DIGEST_LABEL.into())
            .or_insert_with(|| digest.to_string());
        let mut shown = name.clone();
        shown.digest = None;
        a.entry(BASE_NAME_LABEL.into())
            .or_insert_with(|| shown.to_string());
    }
    for (k, v) in extra {
        a.insert(k.clone(), v.clone());
    }
    a
}

/// The image manifest for `config` and `layers`.
pub fn build_manifest(
    config: Descriptor,
    layers: Vec<Descriptor>,
    annotations: BTreeMap<String, String>,
) -> ImageManifest {
    let mut m = ImageManifest::new(config);
    m.layers = layers;
    m.annotations = annotations;
    m
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

fn tolerate_missing<T>(r: Result<Option<T>, RegistryError>) -> Result<Option<T>, RegistryError> {
    match r {
        Err(e) if e.is_not_found() => Ok(None),
        other => other,
    }
}

/// Checks registry hints before they are reused: downloads the hinted blob (streamed, never
/// more than the size it should have), gunzips it and compares the sha256 of the uncompressed
/// stream with the layer's diff-id.
struct Verifier<'a> {
    /// Downloads at once (`--jobs`).
    sem: Semaphore,
    /// Uncompressed size of each layer, when known (archives): a longer stream is refused
    /// as soon as it passes it.
    sizes: HashMap<String, u64>,
    /// Verified mappings are remembered here (a rerun trusts them without downloading).
    cache: Option<&'a LayerCache>,
    log: &'a Log,
}

/// Why a hinted blob was not reused.
enum Rejection {
    /// Its content is not the layer (or not a gzip stream of it): warned about.
    Content(String),
    /// It could not be read (transport, registry error): reported as a detail.
    Unreadable(String),
}

/// A blocking `Read` over the chunks of a download (for the gzip decoder on a blocking
/// thread). The sender closing is the end of the stream.
struct ChunkReader {
    rx: tokio::sync::mpsc::Receiver<Bytes>,
    cur: Bytes,
}

impl std::io::Read for ChunkReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.cur.is_empty() {
            match self.rx.blocking_recv() {
                Some(b) => self.cur = b,
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.cur.len());
        buf[..n].copy_from_slice(&self.cur[..n]);
        bytes::Buf::advance(&mut self.cur, n);
        Ok(n)
    }
}

struct HashWriter(golden_registry::digest::Sha256Hasher);

impl std::io::Write for HashWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Verifier<'_> {
    /// Reuse `hint` for layer `diff_id` only if blob `hint.digest` in `repo` is exactly `size`
    /// bytes and gunzips to `diff_id`. A verified mapping goes to the local cache; a rejected
    /// one is reported (a warning naming the layer, the blob and the repository).
    async fn check(
        &self,
        client: &Client,
        repo: &Reference,
        diff_id: &str,
        hint: &Hint,
        size: u64,
    ) -> bool {
        let result = {
            let _permit = self.sem.acquire().await;
            uncompressed_digest(
                client,
                repo,
                &hint.digest,
                size,
                self.sizes.get(diff_id).copied(),
            )
            .await
        };
        let what = format!(
            "layer {diff_id}: the {} maps it to blob {} in {}",
            hint.origin,
            hint.digest,
            repo.name()
        );
        match result {
            Ok(d) if d == diff_id => {
                if let Some(c) = self.cache {
                    c.put(diff_id, &hint.digest, size);
                }
                true
            }
            Ok(d) => {
                self.log.warning(&format!(
                    "{what}, whose content is another layer ({d}): not reused, this image's own layer is uploaded"
                ));
                false
            }
            Err(Rejection::Content(why)) => {
                self.log.warning(&format!(
                    "{what}, which {why}: not reused, this image's own layer is uploaded"
                ));
                false
            }
            Err(Rejection::Unreadable(why)) => {
                self.log.detail(&format!(
                    "{what}, which could not be verified ({why}): this image's own layer is uploaded"
                ));
                false
            }
        }
    }
}

/// The diff-id of blob `digest` in `repo`: downloaded (refused beyond `size` bytes, and unless
/// exactly `size` bytes), its digest checked, gunzipped (several members allowed, nothing
/// after them) on a blocking thread and hashed, never kept.
async fn uncompressed_digest(
    client: &Client,
    repo: &Reference,
    digest: &str,
    size: u64,
    uncompressed: Option<u64>,
) -> Result<String, Rejection> {
    use std::io::Read;
    let mut download = client
        .blob_download(repo, digest)
        .await
        .map_err(|e| Rejection::Unreadable(e.to_string()))?;
    if let Some(n) = download.size.filter(|n| *n != size) {
        return Err(Rejection::Content(format!(
            "is {n} bytes, not the {size} bytes it should have"
        )));
    }
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(8);
    let decoder = tokio::task::spawn_blocking(move || -> std::io::Result<(String, u64)> {
        let reader = ChunkReader {
            rx,
            cur: Bytes::new(),
        };
        let limit = uncompressed.map_or(u64::MAX, |n| n.saturating_add(1));
        let mut h = HashWriter(golden_registry::digest::Sha256Hasher::new());
        let n = std::io::copy(
            &mut flate2::read::MultiGzDecoder::new(reader).take(limit),
            &mut h,
        )?;
        Ok((h.0.finish(), n))
    });
    let mut read = 0u64;
    let fed: Result<(), Rejection> = async {
        while let Some(c) = download.chunk().await.map_err(|e| match e {
            RegistryError::DigestMismatch { .. } => Rejection::Content(e.to_string()),
            e => Rejection::Unreadable(e.to_string()),
        })? {
            read += c.len() as u64;
            if read > size {
                return Err(Rejection::Content(format!(
                    "is more than the {size} bytes it should have"
                )));
            }
            if tx.send(c).await.is_err() {
                // The decoder stopped early: its error says why.
                break;
            }
        }
        Ok(())
    }
    .await;
    drop(tx);
    let decoded = decoder
        .await
        .map_err(|e| Rejection::Unreadable(format!("decoder stopped: {e}")))?;
    fed?;
    let (diff_id, n) =
        decoded.map_err(|e| Rejection::Content(format!("is not a gzip stream ({e})")))?;
    if let Some(u) = uncompressed.filter(|u| n > *u) {
        return Err(Rejection::Content(format!(
            "decompresses to more than the layer's {u} bytes"
        )));
    }
    if read != size {
        return Err(Rejection::Content(format!(
            "is {read} bytes, not the {size} bytes it should have"
        )));
    }
    Ok(diff_id)
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

/// Push an image.
pub async fn push(client: &Client, opts: &PushOptions, log: &Log) -> Result<PushReport> {
    let started = Instant::now();
    let tags = all_tags(&opts.to, &opts.tags)?;
    let target = repo_ref(&opts.to);
    let input = ImageInput::parse(&opts.image)?;

    // 1. metadata, and at the same time the registry's view of the target tag
    let metadata = async {
        match &input {
            ImageInput::Archive(p) => {
                let p = p.clone();
                let a = tokio::task::spawn_blocking(move || source::read_archive(&p))
                    .await
                    .context("archive indexer stopped")??;
                Ok::<_, anyhow::Error>((
                    None,
                    None,
                    a.meta.clone(),
                    Some(a),
                    source::GraphDriver::default(),
                ))
            }
            ImageInput::Engine(name) => {
                let e = golden_engine::Engine::connect()
                    .await
                    .context("failed to connect to the Docker engine")?;
                let (id, meta, d) = source::engine_meta(&e, name).await?;
                Ok((Some(e), Some(id), meta, None, d))
            }
        }
    };
    let previous = async {
        client
            .authorize(&target.registry, &[Scope::push(&target.repository)])
            .await?;
        let m = tolerate_missing(client.try_get_manifest(&opts.to.with_tag(&tags[0])).await)?;
        // Its config too (it maps diff-ids to blobs), while the engine is still answering.
        let mut config = None;
        if let Some(f) = &m
            && let Ok(ParsedManifest::Image(im)) = f.parse()
            && let Ok(b) = client
                .get_blob_bytes(&target, &im.config.digest, 16 << 20)
                .await
        {
            config = Some((im.config.digest.clone(), b));
        }
        Ok::<_, RegistryError>((m, config))
    };
    let (metadata, previous) = tokio::join!(metadata, previous);
    let (engine, engine_id, meta, mut archive, driver) = metadata?;
    let (previous, previous_config) = previous?;
    if meta.diff_ids.is_empty() {
        bail!("image `{}` has no layers: nothing to push", opts.image);
    }
    log.line(&format!(
        "pushing {} ({}, {} layers) to {}",
        opts.image,
        meta.platform.display(),
        meta.diff_ids.len(),
        target.name()
    ));

    // 2. hints: the previous manifest of the tag, the base image (pull on its repository too)
    let base = resolve_base(opts, &meta);
    if let Some(b) = &base
        && b.repository != target.repository
    {
        client
            .authorize(
                &target.registry,
                &[Scope::push(&target.repository), Scope::pull(&b.repository)],
            )
            .await?;
    }
    let mut hints: HashMap<String, Vec<Hint>> = HashMap::new();
    let cache = opts
        .cache_dir
        .as_ref()
        .map(|d| LayerCache::new(d, &gzip::format_id(opts.level)));
    if let Some(c) = &cache {
        for d in &meta.diff_ids {
            if let Some((digest, size)) = c.get(d) {
                hints.entry(d.clone()).or_default().push(Hint {
                    digest,
                    size,
                    from: None,
                    origin: "local cache",
                    trusted: true,
                });
            }
        }
    }
    let mut in_tag: HashSet<String> = HashSet::new();
    if let Some(prev) = previous
        && let Some(m) = tolerate_missing(platform_manifest(client, &target, prev, &meta).await)?
    {
        in_tag = m.layers.iter().map(|l| l.digest.clone()).collect();
        if let Err(e) = collect_hints(
            client,
            &target,
            &m,
            &meta,
            (None, "previous tag"),
            previous_config.as_ref(),
            &mut hints,
        )
        .await
        {
            log.detail(&format!("previous manifest not usable as a hint: {e}"));
        }
    }
    let mut base_resolved: Option<(Reference, String)> = None;
    if let Some(b) = &base {
        match tolerate_missing(client.try_get_manifest(b).await) {
            Ok(Some(fetched)) => {
                let digest = fetched.digest.clone();
                let base_repo = repo_ref(b);
                match tolerate_missing(platform_manifest(client, &base_repo, fetched, &meta).await)
                {
                    Ok(Some(m)) => {
                        if let Err(e) = collect_hints(
                            client,
                            &base_repo,
                            &m,
                            &meta,
                            (Some(base_repo.clone()), "base image"),
                            None,
                            &mut hints,
                        )
                        .await
                        {
                            log.detail(&format!("base image {b} not usable as a hint: {e}"));
                        }
                    }
                    Ok(None) => {}
                    Err(e) => log.detail(&format!("base image {b} not usable as a hint: {e}")),
                }
                base_resolved = Some((b.clone(), digest));
            }
            Ok(None) => log.detail(&format!(
                "base image {b} not found in the registry; layers will be uploaded"
            )),
            Err(e) => log.detail(&format!(
                "base image {b} not readable ({e}); layers will be uploaded"
            )),
        }
    }
    // 3. plan every distinct layer (concurrently), and the config
    let mut unique: Vec<String> = Vec::new();
    for d in &meta.diff_ids {
        if !unique.contains(d) {
            unique.push(d.clone());
        }
    }
    let verifier = Verifier {
        sem: Semaphore::new(opts.jobs.max(1)),
        sizes: archive
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
        cache: cache.as_ref(),
        log,
    };
    let planned = futures_util::future::join_all(unique.iter().map(|d| {
        let h = hints.get(d).cloned().unwrap_or_default();
        let (target, in_tag, verifier) = (target.clone(), &in_tag, &verifier);
        async move { plan_layer(client, &target, d, &h, in_tag, verifier).await }
    }))
    .await;
    let mut plans: HashMap<String, Plan> = HashMap::new();
    for (d, p) in unique.iter().zip(planned) {
        plans.insert(d.clone(), p?);
    }
    let config_present = client.blob_exists(&target, &meta.config_digest).await?;
    let to_send: Vec<String> = unique
        .iter()
        .filter(|d| matches!(plans.get(*d), Some(Plan::Send(_))))
        .cloned()
        .collect();

    // 4. where bytes come from, only when some are needed: the archive, the local engine's
    //    layer store (verified), or an engine export.
    let work = match &opts.work_dir {
        Some(d) => {
            std::fs::create_dir_all(d)
                .with_context(|| format!("failed to create work dir `{}`", d.display()))?;
            tempfile::Builder::new()
                .prefix("golden-push-")
                .tempdir_in(d)
        }
        None => tempfile::Builder::new().prefix("golden-push-").tempdir(),
    }
    .context("failed to create a temporary directory")?;
    let needs_bytes = !to_send.is_empty() || config_present.is_none();
    let mut store: Option<LayerStore> = None;
    let mut store_config: Option<Vec<u8>> = None;
    if needs_bytes
        && archive.is_none()
        && opts.layer_store
        && let Some(id) = &engine_id
    {
        let needed: Vec<usize> = to_send
            .iter()
            .filter_map(|d| meta.diff_ids.iter().position(|x| x == d))
            .collect();
        store = LayerStore::locate(
            &driver.name,
            driver.upper_dir.as_deref(),
            id,
            &meta.diff_ids,
            &needed,
        );
        if let Some(s) = &store
            && config_present.is_none()
        {
            store_config = s.config_bytes(id);
            if store_config.is_none() {
                store = None;
            }
        }
        if store.is_some() {
            log.detail("reading layers from the local engine's layer store (verified against the diff-ids)");
        }
    }
    let mut exported = false;
    if needs_bytes && archive.is_none() && store.is_none() {
        archive = Some(
            export(
                engine.as_ref(),
                engine_id.as_deref(),
                &meta,
                &opts.image,
                work.path(),
                log,
            )
            .await?,
        );
        exported = true;
    }
    let config_digest = match &archive {
        Some(a) => a.meta.config_digest.clone(),
        None => meta.config_digest.clone(),
    };
    // The config goes up next to the layers.
    let config_task = match config_present {
        Some(_) if config_digest == meta.config_digest => None,
        _ => {
            let bytes = match (&archive, &store_config) {
                (Some(a), _) => a.config_bytes.clone(),
                (None, Some(b)) => b.clone(),
                (None, None) => bail!("internal: config missing but no image data"),
            };
            let (client, target, digest) = (client.clone(), target.clone(), config_digest.clone());
            // The planning step asked already when the digest is the one it asked about.
            let known_absent = config_present.is_none() && config_digest == meta.config_digest;
            Some(tokio::spawn(async move {
                let n = bytes.len() as u64;
                let sent = head_then_upload(&client, &target, &digest, None, known_absent, |s| {
                    let (client, target, digest) = (client.clone(), target.clone(), digest.clone());
                    async move {
                        let mut data: &[u8] = &bytes;
                        client
                            .upload_reader(&target, &mut data, &digest, Some(s))
                            .await
                            .map(|_| ())
                    }
                })
                .await?;
                Ok::<_, RegistryError>((n, if sent { "uploaded" } else { "exists" }))
            }))
        }
    };

    // 5. compress (largest first, so the big uploads overlap the remaining compression) and
    //    upload what must be sent
    let mut reports: HashMap<String, BlobReport> = HashMap::new();
    for (d, p) in &plans {
        if let Plan::Done(r) = p {
            let mut r = r.clone();
            r.diff_id = Some(d.clone());
            log.line(&format!(
                "  layer {} {:>10}  {}{}",
                short(&r.digest),
                human(r.size),
                r.action,
                r.from
                    .as_ref()
                    .map(|f| format!(" ({f})"))
                    .unwrap_or_default()
            ));
            reports.insert(d.clone(), r);
        }
    }
    let mut used_store = false;
    if !to_send.is_empty() {
        let mut order: Vec<(String, usize, u64)> = Vec::new();
        for d in &to_send {
            let idx = meta
                .diff_ids
                .iter()
                .position(|x| x == d)
                .ok_or_else(|| anyhow!("internal: unknown diff-id {d}"))?;
            let size = match (&archive, &store) {
                (Some(a), _) => a.layers[idx].1,
                (None, Some(s)) => {
                    let l = s.layers[idx].clone();
                    tokio::task::spawn_blocking(move || LayerReader::tar_size(&l))
                        .await
                        .context("layer sizer stopped")?
                        .unwrap_or(0)
                }
                _ => 0,
            };
            order.push((d.clone(), idx, size));
        }
        order.sort_by(|a, b| b.2.cmp(&a.2).then(a.1.cmp(&b.1)));

        let sem = Arc::new(Semaphore::new(opts.jobs.max(1)));
        let chunk = client.options().chunk_size as u64;
        let mut uploads = tokio::task::JoinSet::new();
        let mut plans = plans;
        for (n, (d, idx, size)) in order.iter().enumerate() {
            let out = work.path().join(format!("layer-{n}.gz"));
            let (level, threads) = (opts.level, opts.threads.max(1));
            let t = Instant::now();
            let mut session = match plans.remove(d) {
                Some(Plan::Send(s)) => s,
                _ => None,
            };
            // A layer bigger than a chunk is uploaded while it compresses; its file is kept
            // for a retry. Its digest is only known at the end: the registry is asked then.
            let mut streaming = None;
            let mut tx = None;
            if opts.stream && *size > chunk {
                let (sender, rx) = tokio::sync::mpsc::channel::<Bytes>(8);
                let (client, target, sem, s) =
                    (client.clone(), target.clone(), sem.clone(), session.take());
                streaming = Some(tokio::spawn(async move {
                    let _permit = sem.acquire_owned().await;
                    let mut reader = ChannelReader::new(rx);
                    client.upload_streaming(&target, &mut reader, s).await
                }));
                tx = Some(sender);
            }
            let mut compressed = None;
            let mut stream_dirty = false;
            if archive.is_none()
                && let Some(s) = &store
            {
                let layer = s.layers[*idx].clone();
                let (out2, tx2) = (out.clone(), tx.clone());
                let r =
                    tokio::task::spawn_blocking(move || -> std::io::Result<gzip::Compressed> {
                        let mut reader = LayerReader::open(&layer)?;
                        let f = gzip::TeeWriter::new(std::fs::File::create(&out2)?, tx2.clone());
                        let c = gzip::compress_reader(&mut reader, f, level, threads)?;
                        end_stream(tx2);
                        Ok(c)
                    })
                    .await
                    .context("compressor stopped")?;
                stream_dirty = !matches!(&r, Ok(c) if c.diff_id == *d);
                match r {
                    Ok(c) if c.diff_id == *d => {
                        used_store = true;
                        compressed = Some(c);
                    }
                    Ok(c) => log.detail(&format!(
                        "layer store copy of layer {} hashes to {}, not {d}: using the engine export",
                        idx + 1,
                        c.diff_id
                    )),
                    Err(e) => log.detail(&format!(
                        "layer store unreadable for layer {} ({e}): using the engine export",
                        idx + 1
                    )),
                }
            }
            let c = match compressed {
                Some(c) => c,
                None => {
                    if archive.is_none() {
                        archive = Some(
                            export(
                                engine.as_ref(),
                                engine_id.as_deref(),
                                &meta,
                                &opts.image,
                                work.path(),
                                log,
                            )
                            .await?,
                        );
                        exported = true;
                    }
                    let a = archive
                        .as_ref()
                        .ok_or_else(|| anyhow!("internal: layers to send but no image data"))?;
                    let (off, len) = a.layers[*idx];
                    let (src, out2) = (a.path.clone(), out.clone());
                    // A stream that already carried bytes of a failed attempt cannot be reused:
                    // its upload fails and the file is uploaded instead.
                    let tx2 = if stream_dirty { None } else { tx.clone() };
                    let c = tokio::task::spawn_blocking(
                        move || -> std::io::Result<gzip::Compressed> {
                            use std::io::{Read, Seek, SeekFrom};
                            let mut input = std::fs::File::open(&src)?;
                            input.seek(SeekFrom::Start(off))?;
                            let f =
                                gzip::TeeWriter::new(std::fs::File::create(&out2)?, tx2.clone());
                            let c = gzip::compress_stream(
                                &mut input.take(len),
                                len,
                                f,
                                level,
                                threads,
                            )?;
                            end_stream(tx2);
                            Ok(c)
                        },
                    )
                    .await
                    .context("compressor stopped")?
                    .with_context(|| {
                        format!("failed to compress layer {} of `{}`", idx + 1, opts.image)
                    })?;
                    if c.diff_id != *d {
                        bail!(
                            "layer {} of `{}` does not match its diff-id (expected {d}, read {}): the image data is corrupt",
                            idx + 1,
                            opts.image,
                            c.diff_id
                        );
                    }
                    c
                }
            };
            drop(tx);
            log.detail(&format!(
                "compressed layer {} {} → {} in {:.1} s",
                short(&c.digest),
                human(c.uncompressed),
                human(c.size),
                t.elapsed().as_secs_f64()
            ));
            if let Some(cache) = &cache {
                cache.put(d, &c.digest, c.size);
            }
            let (client, target, sem, d) = (client.clone(), target.clone(), sem.clone(), d.clone());
            uploads.spawn(async move {
                let t = Instant::now();
                if let Some(task) = streaming {
                    match task.await {
                        Ok(Ok(u)) if u.digest == c.digest => {
                            let _ = std::fs::remove_file(&out);
                            let action = if u.already_present { "exists" } else { "uploaded" };
                            return Ok::<_, RegistryError>((d, c, action, t.elapsed().as_secs_f64()));
                        }
                        Ok(Ok(u)) => tracing::warn!(
                            "streamed upload of layer {d} hashed to {}, expected {}: uploading the file",
                            u.digest,
                            c.digest
                        ),
                        Ok(Err(e)) => tracing::warn!("streamed upload of {} failed ({e}): uploading the file", c.digest),
                        Err(e) => tracing::warn!("streamed upload task stopped ({e}): uploading the file"),
                    }
                }
                let _permit = sem.acquire_owned().await;
                let action = if head_then_upload(&client, &target, &c.digest, session, false, |s| {
                    let (client, target, out, digest) = (client.clone(), target.clone(), out.clone(), c.digest.clone());
                    async move { client.upload_file(&target, &out, &digest, Some(s)).await.map(|_| ()) }
                })
                .await?
                {
                    "uploaded"
                } else {
                    "exists"
                };
                let _ = std::fs::remove_file(&out);
                Ok((d, c, action, t.elapsed().as_secs_f64()))
            });
            // Report uploads that are done while the next layer compresses.
            while let Some(res) = uploads.try_join_next() {
                let (d, c, action, secs) = res.context("upload task stopped")??;
                report_upload(log, &mut reports, d, &c, action, secs);
            }
        }
        while let Some(res) = uploads.join_next().await {
            let (d, c, action, secs) = res.context("upload task stopped")??;
            report_upload(log, &mut reports, d, &c, action, secs);
        }
    }
    let layer_source = if to_send.is_empty() {
        "none"
    } else if matches!(input, ImageInput::Archive(_)) {
        "archive"
    } else if used_store && !exported {
        "engine-layer-store"
    } else {
        "engine-export"
    };

    // 6. config (its upload ran next to the layers)
    let (config_size, config_action) = match config_task {
        None => (config_present.unwrap_or(0), "exists"),
        Some(task) => task.await.context("config upload stopped")??,
    };
    let config_size = if config_size == 0 {
        archive
            .as_ref()
            .map(|a| a.config_bytes.len() as u64)
            .or(store_config.as_ref().map(|b| b.len() as u64))
            .unwrap_or(0)
    } else {
        config_size
    };
    log.line(&format!(
        "  config {} {:>9}  {config_action}",
        short(&config_digest),
        human(config_size)
    ));

    // 7. manifest by digest, then tags
    let mut layers = Vec::new();
    let mut layer_reports = Vec::new();
    for d in &meta.diff_ids {
        let r = reports
            .get(d)
            .ok_or_else(|| anyhow!("internal: no blob for layer {d}"))?;
        layers.push(Descriptor::new(
            media::OCI_LAYER_GZIP,
            r.digest.clone(),
            r.size,
        ));
        layer_reports.push(r.clone());
    }
    let annotations = annotations_for(
        &meta.labels,
        base_resolved.as_ref().map(|(r, d)| (r, d.as_str())),
        &opts.annotations,
    );
    let manifest = build_manifest(
        Descriptor::new(media::OCI_CONFIG, config_digest.clone(), config_size),
        layers,
        annotations,
    );
    let bytes = Bytes::from(to_bytes(&manifest));
    let size = bytes.len() as u64;
    let digest = golden_registry::digest::sha256_digest(&bytes);
    client
        .put_manifest(&target, &digest, bytes.clone(), media::OCI_MANIFEST)
        .await
        .context("failed to push the manifest (no tag was changed)")?;
    let reference = format!("{}@{digest}", target.name());
    log.line(&format!(
        "  manifest {} stored (no tag moved yet)",
        short(&digest)
    ));
    Ok(PushReport {
        digest,
        reference,
        tags: Vec::new(),
        pending_tags: tags,
        repository: target.clone(),
        manifest: bytes,
        architecture: meta.platform.architecture.clone(),
        media_type: media::OCI_MANIFEST.into(),
        size,
        platform: meta.platform.display(),
        config: BlobReport {
            diff_id: None,
            digest: config_digest,
            size: config_size,
            action: config_action.into(),
            from: None,
        },
        layers: layer_reports,
        exported,
        layer_source: layer_source.into(),
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Export the engine image into `dir` and check it is the image that was inspected.
async fn export(
    engine: Option<&golden_engine::Engine>,
    id: Option<&str>,
    meta: &ImageMeta,
    image: &str,
    dir: &std::path::Path,
    log: &Log,
) -> Result<Archive> {
    let (Some(e), Some(id)) = (engine, id) else {
        bail!("internal: no engine to export `{image}` from");
    };
    let t = Instant::now();
    let a = source::export_engine_image(e, id, dir).await?;
    if a.meta.diff_ids != meta.diff_ids {
        bail!(
            "the engine's export of `{image}` does not match its inspect data (diff-ids differ): was the image replaced during the push?"
        );
    }
    log.detail(&format!(
        "exported {image} from the engine in {:.1} s",
        t.elapsed().as_secs_f64()
    ));
    Ok(a)
}

/// Ask whether the repository has `digest` while opening an upload session (one round trip
/// instead of two); upload with `send` when it does not. True when uploaded.
async fn head_then_upload<F, Fut>(
    client: &Client,
    target: &Reference,
    digest: &str,
    session: Option<UploadSession>,
    known_absent: bool,
    send: F,
) -> Result<bool, RegistryError>
where
    F: FnOnce(UploadSession) -> Fut,
    Fut: std::future::Future<Output = Result<(), RegistryError>>,
{
    if known_absent {
        let s = match session {
            Some(s) => s,
            None => client.start_upload(target).await?,
        };
        send(s).await?;
        return Ok(true);
    }
    let (exists, session) = match session {
        Some(s) => (client.blob_exists(target, digest).await?, s),
        None => {
            let (e, s) = tokio::join!(
                client.blob_exists(target, digest),
                client.start_upload(target)
            );
            (e?, s?)
        }
    };
    if exists.is_some() {
        let (client, target) = (client.clone(), target.clone());
        tokio::spawn(async move { client.cancel_upload_session(&target, &session).await });
        return Ok(false);
    }
    send(session).await?;
    Ok(true)
}

/// Tell the streaming upload that the layer is complete (an empty chunk), so it commits.
fn end_stream(tx: Option<tokio::sync::mpsc::Sender<Bytes>>) {
    if let Some(tx) = tx {
        let _ = tx.blocking_send(Bytes::new());
    }
}

fn report_upload(
    log: &Log,
    reports: &mut HashMap<String, BlobReport>,
    d: String,
    c: &gzip::Compressed,
    action: &str,
    secs: f64,
) {
    log.line(&format!(
        "  layer {} {:>10}  {action} ({secs:.1} s)",
        short(&c.digest),
        human(c.size)
    ));
    reports.insert(
        d.clone(),
        BlobReport {
            diff_id: Some(d),
            digest: c.digest.clone(),
            size: c.size,
            action: action.into(),
            from: None,
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_validated_and_deduplicated() {
        let to = Reference::parse("127.0.0.1:5000/golden/app:1.2").unwrap();
        assert_eq!(
            all_tags(&to, &["1.2".into(), "latest".into(), "1.2-sha-abc".into()]).unwrap(),
            vec!["1.2", "latest", "1.2-sha-abc"]
        );
        let bare = Reference::parse("127.0.0.1:5000/golden/app").unwrap();
        assert_eq!(all_tags(&bare, &[]).unwrap(), vec!["latest"]);
        let e = all_tags(&to, &["bad tag!".into()]).unwrap_err().to_string();
        assert!(e.contains("bad tag!"), "{e}");
        let pinned = to.with_digest(&format!("sha256:{}", "a".repeat(64)));
        assert!(
            all_tags(&pinned, &[])
                .unwrap_err()
                .to_string()
                .contains("pinned to a digest")
        );
    }

    #[test]
    fn annotations_come_from_oci_labels_base_and_flags() {
        let mut labels = BTreeMap::new();
        labels.insert(
            "org.opencontainers.image.version".to_string(),
            "1.22".to_string(),
        );
        labels.insert("maintainer".to_string(), "x".to_string());
        let base = Reference::parse("r.io/golden/base-debian:12").unwrap();
        let mut extra = BTreeMap::new();
        extra.insert(
            "org.opencontainers.image.version".to_string(),
            "override".to_string(),
        );
        let a = annotations_for(&labels, Some((&base, "sha256:bb")), &extra);
        assert_eq!(a["org.opencontainers.image.version"], "override");
        assert_eq!(a[BASE_DIGEST_LABEL], "sha256:bb");
        assert_eq!(a[BASE_NAME_LABEL], "r.io/golden/base-debian:12");
        assert!(!a.contains_key("maintainer"));
    }

    #[test]
    fn human_sizes() {
        assert_eq!(human(5), "5 B");
        assert_eq!(human(1536), "1.5 KiB");
        assert_eq!(human(3 << 20), "3.0 MiB");
    }
}
