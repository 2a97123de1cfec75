//! The outer image archive: a `docker save` tar (Docker 20.10: `<id>/layer.tar` entries before
//! `manifest.json`; Docker 25+: OCI layout `blobs/sha256/...` plus `manifest.json`), an OCI
//! archive or an OCI layout directory.
//!
//! Entries are classified as they stream by: small JSON documents are kept, layer tars are
//! walked at once (their order is only known from the manifest, which may come last), and the
//! rest is skipped. [`Collector::finish`] then reads the manifest and merges the layers in order.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Arc;

use golden_contracts::scan::LayerInfo;
use golden_oci::{ArchiveManifestEntry, ImageConfigFile};
use golden_registry::{Descriptor, ParsedManifest};

use crate::error::ScanError;
use crate::fs::Fs;
use crate::layer::{self, LayerFacts, Sniff};
use crate::limits::{self, JSON_LIMIT, Limits, MAX_LAYERS};
use crate::secrets;

/// A secret-looking file seen in some layer (it may have been deleted later: it is still in
/// the image's history).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerSecret {
    pub layer: usize,
    pub path: String,
    pub reason: String,
}

/// The analysed image: config, layers, merged filesystem.
#[derive(Debug)]
pub struct Image {
    /// Image id: sha256 of the config JSON.
    pub id: Option<String>,
    /// Manifest digest when the source knows it.
    pub digest: Option<String>,
    pub tags: Vec<String>,
    pub config: ImageConfigFile,
    pub layers: Vec<LayerInfo>,
    /// Credential-like file names and private-key headers per layer.
    pub layer_secrets: Vec<LayerSecret>,
    pub fs: Fs,
    /// Language packages still present in the merged filesystem, each with its layer.
    pub components: Vec<crate::lang::LangComponent>,
    pub warnings: Vec<String>,
}

/// Collects entries of an image archive in whatever order they come.
pub struct Collector {
    what: String,
    json: HashMap<String, Vec<u8>>,
    /// JSON documents over [`JSON_LIMIT`], not kept: (name, size).
    oversized: HashMap<String, u64>,
    /// Walked layers; a layer listed several times is shared, not copied.
    layers: HashMap<String, Arc<LayerFacts>>,
    /// Archive entries that are links to other entries (`docker save` writes a layer that
    /// occurs twice as `<id>/layer.tar -> ../<other>/layer.tar`).
    aliases: HashMap<String, String>,
    warnings: Vec<String>,
    /// Entries skipped as neither JSON nor a layer (only the first few are warned about).
    skipped: usize,
    limits: Limits,
}

fn clean_name(name: &str) -> String {
    match layer::normalize(name.as_bytes()) {
        layer::NormPath::Ok { path, .. } => path,
        _ => name.to_string(),
    }
}

enum Class {
    Json,
    Ignore,
    Sniff,
}

fn classify(name: &str) -> Class {
    match name {
        "manifest.json" | "index.json" | "oci-layout" | "repositories" => return Class::Json,
        _ => {}
    }
    if name.ends_with("/json") || name.ends_with("/VERSION") {
        // Legacy per-layer v1 metadata of `docker save`: not needed.
        return Class::Ignore;
    }
    if !name.contains('/') && name.ends_with(".json") {
        return Class::Json;
    }
    Class::Sniff
}

impl Collector {
    pub fn new(what: &str) -> Self {
        Self::with_limits(what, Limits::default())
    }

    /// A collector whose kept contents and entries count against `limits` (shared by the scan).
    pub fn with_limits(what: &str, limits: Limits) -> Self {
        Collector {
            what: what.to_string(),
            json: HashMap::new(),
            oversized: HashMap::new(),
            layers: HashMap::new(),
            aliases: HashMap::new(),
            warnings: Vec::new(),
            skipped: 0,
            limits,
        }
    }

    /// The bounds this collector charges.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Record a symlink or hardlink entry of the outer archive.
    fn add_alias<R: Read>(&mut self, entry: &tar::Entry<'_, R>) {
        let name = clean_name(&String::from_utf8_lossy(&entry.path_bytes()));
        let Some(target) = entry.link_name_bytes() else {
            return;
        };
        let target = String::from_utf8_lossy(&target).into_owned();
        let joined = if entry.header().entry_type().is_symlink() {
            match name.rsplit_once('/') {
                Some((dir, _)) if !target.starts_with('/') => format!("{dir}/{target}"),
                _ => target,
            }
        } else {
            target
        };
        if let layer::NormPath::Ok { path, .. } = layer::normalize(joined.as_bytes()) {
            self.aliases.insert(name, path);
        }
    }

    /// Count an entry of the outer archive against the entry cap.
    fn count_outer(&self) -> Result<(), ScanError> {
        self.limits
            .count_entry(|| "the image archive".to_string())
            .map_err(|e| ScanError::limit(&self.what, e))
    }

    /// Warn about an entry that is neither JSON nor a layer (the first 20; then counted).
    fn skip_unknown(&mut self, name: &str) {
        self.skipped += 1;
        if self.skipped <= 20 {
            self.warnings.push(format!(
                "`{name}` in `{}` is neither JSON nor a layer tar; skipped",
                self.what
            ));
        }
    }

    /// The name of a regular-file entry of the outer archive; links are recorded as aliases
    /// and everything else is skipped (`None` for both).
    fn file_entry<R: Read>(&mut self, entry: &tar::Entry<'_, R>) -> Option<String> {
        let kind = entry.header().entry_type();
        if kind.is_symlink() || kind.is_hard_link() {
            self.add_alias(entry);
        }
        kind.is_file()
            .then(|| String::from_utf8_lossy(&entry.path_bytes()).into_owned())
    }

    /// Follow archive-level links (a few hops at most).
    fn canonical(&self, name: &str) -> String {
        let mut cur = name.to_string();
        for _ in 0..8 {
            match self.aliases.get(&cur) {
                Some(next) => cur = next.clone(),
                None => break,
            }
        }
        cur
    }

    fn entry_err(&self, entry: &str, source: io::Error) -> ScanError {
        ScanError::entry(&self.what, entry, source)
    }

    fn keep_json(&mut self, name: &str, size: u64, r: &mut dyn Read) -> Result<(), ScanError> {
        if size > JSON_LIMIT {
            // Only an error when the manifest needs it (see `json_doc`).
            self.oversized.insert(name.to_string(), size);
            return Ok(());
        }
        self.limits
            .charge(size, &format!("JSON document `{name}`"))
            .map_err(|e| ScanError::limit(&self.what, e))?;
        let mut v = Vec::with_capacity(size as usize);
        r.take(size)
            .read_to_end(&mut v)
            .map_err(|e| self.entry_err(name, e))?;
        if (v.len() as u64) < size {
            return Err(self.entry_err(
                name,
                io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "file shorter than its header says",
                ),
            ));
        }
        self.json.insert(name.to_string(), v);
        Ok(())
    }

    /// Add the facts of a walked layer under its archive path (the registry source walks
    /// layers itself).
    pub fn add_layer(&mut self, name: &str, facts: LayerFacts) {
        self.layers.insert(name.to_string(), Arc::new(facts));
    }

    /// A JSON document the manifest needs: kept, within its limits, or an error naming it.
    fn json_doc(&self, name: &str, role: &str) -> Result<&[u8], ScanError> {
        if let Some(size) = self.oversized.get(name) {
            return Err(ScanError::Limit {
                what: self.what.clone(),
                detail: format!(
                    "{role} `{name}` is {size} bytes, over the {JSON_LIMIT}-byte limit for JSON documents; not read"
                ),
            });
        }
        let bytes = self.json.get(name).ok_or_else(|| {
            ScanError::archive(
                &self.what,
                format!("the {role} `{name}` named by the manifest is not in the archive"),
            )
        })?;
        limits::check_json(bytes).map_err(|e| ScanError::Limit {
            what: self.what.clone(),
            detail: format!("{role} `{name}` {e}"),
        })?;
        Ok(bytes)
    }

    /// Add a JSON document fetched elsewhere (registry source), under its archive path.
    pub fn add_json(&mut self, name: &str, bytes: Vec<u8>) {
        self.json.insert(name.to_string(), bytes);
    }

    /// Add a warning about the source.
    pub fn warn(&mut self, message: String) {
        self.warnings.push(message);
    }

    /// Accept one entry given as a stream (the stream is positioned at its first byte).
    pub fn accept_stream(
        &mut self,
        raw_name: &str,
        size: u64,
        r: &mut dyn Read,
    ) -> Result<(), ScanError> {
        let name = clean_name(raw_name);
        match classify(&name) {
            Class::Ignore => Ok(()),
            Class::Json => self.keep_json(&name, size, r),
            Class::Sniff => {
                let mut head = Vec::with_capacity(512);
                r.take(512)
                    .read_to_end(&mut head)
                    .map_err(|e| self.entry_err(&name, e))?;
                match layer::sniff(&head) {
                    Sniff::Json => {
                        let mut chained = io::Cursor::new(head).chain(r);
                        self.keep_json(&name, size, &mut chained)
                    }
                    Sniff::Unknown => {
                        if size > 0 {
                            self.skip_unknown(&name);
                        }
                        Ok(())
                    }
                    kind => {
                        let chained = io::Cursor::new(head).chain(r.take(size.saturating_sub(512)));
                        let mut facts = layer::walk_sniffed(kind, chained, &name, &self.limits)
                            .map_err(|e| self.entry_err(&name, e))?;
                        if kind == Sniff::Tar || kind == Sniff::EmptyTar {
                            facts.size = size;
                        }
                        self.add_layer(&name, facts);
                        Ok(())
                    }
                }
            }
        }
    }

    /// Accept one entry that lives at `offset..offset+size` of a file: uncompressed layers are
    /// walked with seeks, so bodies the scanner does not need are never read.
    pub fn accept_file(
        &mut self,
        raw_name: &str,
        file: &Arc<File>,
        offset: u64,
        size: u64,
    ) -> Result<(), ScanError> {
        let name = clean_name(raw_name);
        let mut section = Section::new(file.clone(), offset, size);
        match classify(&name) {
            Class::Ignore => Ok(()),
            Class::Json => self.keep_json(&name, size, &mut section),
            Class::Sniff => {
                let mut head = vec![0u8; size.min(512) as usize];
                section
                    .read_exact(&mut head)
                    .map_err(|e| self.entry_err(&name, e))?;
                section
                    .seek(SeekFrom::Start(0))
                    .map_err(|e| self.entry_err(&name, e))?;
                match layer::sniff(&head) {
                    Sniff::Json => self.keep_json(&name, size, &mut section),
                    Sniff::Unknown => {
                        if size > 0 {
                            self.skip_unknown(&name);
                        }
                        Ok(())
                    }
                    Sniff::Tar | Sniff::EmptyTar => {
                        let mut facts = layer::walk_seekable(section, &name, &self.limits)
                            .map_err(|e| self.entry_err(&name, e))?;
                        facts.size = size;
                        self.add_layer(&name, facts);
                        Ok(())
                    }
                    kind => {
                        let facts = layer::walk_sniffed(kind, section, &name, &self.limits)
                            .map_err(|e| self.entry_err(&name, e))?;
                        self.add_layer(&name, facts);
                        Ok(())
                    }
                }
            }
        }
    }

    /// Read an outer tar from a stream (engine export, compressed archive).
    pub fn read_tar_stream<R: Read>(&mut self, r: R) -> Result<(), ScanError> {
        let mut archive = tar::Archive::new(r);
        {
            let entries = archive
                .entries()
                .map_err(|e| self.entry_err("(archive header)", e))?;
            for entry in entries {
                let mut entry = entry.map_err(|e| self.entry_err("(next entry)", e))?;
                self.count_outer()?;
                if let Some(name) = self.file_entry(&entry) {
                    let size = entry.size();
                    self.accept_stream(&name, size, &mut entry)?;
                }
            }
        }
        // Read the end-of-archive padding too, so a writer feeding us (the engine export)
        // is never cut off mid-stream.
        let mut rest = archive.into_inner();
        io::copy(&mut rest, &mut io::sink()).map_err(|e| self.entry_err("(end of archive)", e))?;
        Ok(())
    }

    /// Read an outer tar from a file, seeking past what is not needed.
    pub fn read_tar_file(&mut self, file: File) -> Result<(), ScanError> {
        let file = Arc::new(file);
        let mut archive = tar::Archive::new(Section::new(file.clone(), 0, u64::MAX));
        let entries = archive
            .entries_with_seek()
            .map_err(|e| self.entry_err("(archive header)", e))?;
        let len = file.metadata().map(|m| m.len()).unwrap_or(u64::MAX);
        for entry in entries {
            let entry = entry.map_err(|e| self.entry_err("(next entry)", e))?;
            self.count_outer()?;
            let Some(name) = self.file_entry(&entry) else {
                continue;
            };
            let size = entry.size();
            let offset = entry.raw_file_position();
            // The body must really be there: a truncated archive is an error, not a short layer.
            if offset.saturating_add(size) > len {
                return Err(self.entry_err(
                    &name,
                    io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!(
                            "needs bytes {offset}..{} but the file has {len}",
                            offset.saturating_add(size)
                        ),
                    ),
                ));
            }
            self.accept_file(&name, &file, offset, size)?;
        }
        Ok(())
    }

    /// Read an OCI layout directory (`index.json`, `blobs/<alg>/<hex>`).
    pub fn read_oci_dir(&mut self, dir: &Path) -> Result<(), ScanError> {
        for name in ["index.json", "oci-layout"] {
            let p = dir.join(name);
            if p.exists() {
                let file = File::open(&p).map_err(|source| ScanError::Open {
                    path: p.clone(),
                    source,
                })?;
                let size = file
                    .metadata()
                    .map_err(|source| ScanError::Open { path: p, source })?
                    .len();
                self.keep_json(name, size, &mut &file)?;
            }
        }
        let blobs = dir.join("blobs");
        let algs = std::fs::read_dir(&blobs).map_err(|source| ScanError::Open {
            path: blobs.clone(),
            source,
        })?;
        for alg in algs.flatten() {
            let Ok(files) = std::fs::read_dir(alg.path()) else {
                continue;
            };
            for f in files.flatten() {
                self.count_outer()?;
                let path = f.path();
                let name = format!(
                    "blobs/{}/{}",
                    alg.file_name().to_string_lossy(),
                    f.file_name().to_string_lossy()
                );
                let file = File::open(&path).map_err(|source| ScanError::Open {
                    path: path.clone(),
                    source,
                })?;
                let size = file.metadata().map(|m| m.len()).unwrap_or(0);
                self.accept_file(&name, &Arc::new(file), 0, size)?;
            }
        }
        Ok(())
    }

    /// Resolve the manifest, merge the layers in order and build the [`Image`].
    /// `want` picks one image of a multi-image `docker save` by tag.
    pub fn finish(mut self, want: Option<&str>) -> Result<Image, ScanError> {
        let what = self.what.clone();
        if self.skipped > 20 {
            self.warnings.push(format!(
                "… and {} more entries of `{what}` that are neither JSON nor a layer tar",
                self.skipped - 20
            ));
        }
        let resolved = if self.json.contains_key("manifest.json")
            || self.oversized.contains_key("manifest.json")
        {
            let m = self.json_doc("manifest.json", "manifest")?;
            let entries: Vec<ArchiveManifestEntry> = golden_oci::parse_archive_manifest(m)
                .map_err(|e| {
                    ScanError::archive(&what, format!("`manifest.json` is not valid: {e}"))
                })?;
            if entries.is_empty() {
                return Err(ScanError::archive(&what, "`manifest.json` lists no image"));
            }
            let pick = want
                .and_then(|w| {
                    entries.iter().find(|e| {
                        e.repo_tags
                            .as_ref()
                            .is_some_and(|t| t.iter().any(|t| tag_matches(t, w)))
                    })
                })
                .unwrap_or(&entries[0]);
            if entries.len() > 1 {
                self.warnings.push(format!(
                    "`{what}` holds {} images; scanned the one with config `{}`",
                    entries.len(),
                    pick.config
                ));
            }
            Resolved {
                config: clean_name(&pick.config),
                layers: pick.layers.iter().map(|l| clean_name(l)).collect(),
                tags: pick.repo_tags.clone().unwrap_or_default(),
                digest: None,
            }
        } else if self.json.contains_key("index.json") || self.oversized.contains_key("index.json")
        {
            self.resolve_oci()?
        } else {
            return Err(ScanError::archive(
                &what,
                "no `manifest.json` or `index.json` found: not a docker-archive or OCI archive (is the file complete?)",
            ));
        };
        self.assemble(resolved)
    }

    /// Merge the layers a resolved manifest names, in order, and build the [`Image`] (the
    /// registry source resolves the manifest itself and calls this directly).
    pub fn assemble(mut self, resolved: Resolved) -> Result<Image, ScanError> {
        let what = self.what.clone();
        let Resolved {
            config: config_path,
            layers: layer_paths,
            tags,
            digest,
        } = resolved;
        if layer_paths.len() > MAX_LAYERS {
            return Err(ScanError::Limit {
                what: what.clone(),
                detail: format!(
                    "the manifest lists {} layers, more than the {MAX_LAYERS} an image may have",
                    layer_paths.len()
                ),
            });
        }
        let config_path = self.canonical(&config_path);
        let layer_paths: Vec<String> = layer_paths.iter().map(|p| self.canonical(p)).collect();
        let config_bytes = self.json_doc(&config_path, "image config")?;
        let config: ImageConfigFile = serde_json::from_slice(config_bytes).map_err(|e| {
            ScanError::archive(
                &what,
                format!("image config `{config_path}` is not valid JSON: {e}"),
            )
        })?;
        let id = Some(golden_oci::digest::sha256_digest(config_bytes));

        let diff_ids = config
            .rootfs
            .as_ref()
            .map(|r| r.diff_ids.clone())
            .unwrap_or_default();
        if !diff_ids.is_empty() && diff_ids.len() != layer_paths.len() {
            self.warnings.push(format!(
                "the config lists {} layers (diff_ids) but the manifest {}",
                diff_ids.len(),
                layer_paths.len()
            ));
        }
        let history: Vec<Option<String>> = config
            .history
            .as_ref()
            .map(|h| {
                h.iter()
                    .filter(|h| h.empty_layer != Some(true))
                    .map(|h| h.created_by.clone())
                    .collect()
            })
            .unwrap_or_default();

        let mut merged = Vec::with_capacity(layer_paths.len());
        let mut infos = Vec::with_capacity(layer_paths.len());
        let mut secrets_found = Vec::new();
        let mut layer_facts = Vec::with_capacity(layer_paths.len());
        for (i, path) in layer_paths.iter().enumerate() {
            // The same layer may appear twice (identical diffs); walked once, shared.
            let Some(facts) = self.layers.get(path).cloned() else {
                return Err(ScanError::archive(
                    &what,
                    format!(
                        "layer `{path}` named by the manifest is not in the archive (truncated archive?)"
                    ),
                ));
            };
            let diff_id = diff_ids.get(i).cloned().unwrap_or_else(|| {
                path.strip_prefix("blobs/")
                    .map(|p| p.replacen('/', ":", 1))
                    .unwrap_or_else(|| path.clone())
            });
            infos.push(LayerInfo {
                diff_id,
                size: facts.size,
                // History lines can carry build-arg values: never copy them verbatim.
                created_by: history
                    .get(i)
                    .cloned()
                    .flatten()
                    .map(|c| crate::history::redact(&c)),
            });
            for e in &facts.entries {
                if e.kind == layer::Kind::File
                    && let Some(reason) = secrets::secret_file_reason(&e.path)
                {
                    secrets_found.push(LayerSecret {
                        layer: i,
                        path: e.path.to_string(),
                        reason,
                    });
                }
            }
            for (path, label) in &facts.key_hits {
                secrets_found.push(LayerSecret {
                    layer: i,
                    path: path.clone(),
                    reason: format!("`{label}` header"),
                });
            }
            layer_facts.push(facts.clone());
            merged.push((path.clone(), facts));
        }
        let mut fs = Fs::merge(merged);
        let diff_ids: Vec<String> = infos.iter().map(|l| l.diff_id.clone()).collect();
        let components = crate::lang::surviving(&fs, &layer_facts, &diff_ids);
        let mut warnings = std::mem::take(&mut self.warnings);
        warnings.append(&mut fs.warnings);
        Ok(Image {
            id,
            digest,
            tags,
            config,
            layers: infos,
            layer_secrets: secrets_found,
            fs,
            components,
            warnings,
        })
    }

    /// OCI layout: index.json → (nested index) → image manifest.
    fn resolve_oci(&self) -> Result<Resolved, ScanError> {
        let what = &self.what;
        let parse = |path: &str| {
            let bytes = self.json_doc(path, "manifest blob")?;
            ParsedManifest::parse(bytes, "").map_err(|e| {
                ScanError::archive(
                    what,
                    format!("`{path}` is not a valid OCI index or manifest: {e}"),
                )
            })
        };
        let mut doc = parse("index.json")?;
        let mut tags = Vec::new();
        let mut digest = None;
        for _depth in 0..4 {
            let index = match doc {
                ParsedManifest::Image(m) => {
                    return Ok(Resolved {
                        config: blob_path(&m.config.digest),
                        layers: m.layers.iter().map(|l| blob_path(&l.digest)).collect(),
                        tags,
                        digest,
                    });
                }
                ParsedManifest::Index(index) => index,
            };
            let pick = pick_manifest(&index.manifests).ok_or_else(|| {
                ScanError::archive(what, "the OCI index lists no usable image manifest")
            })?;
            if let Some(t) = pick
                .annotations
                .get("io.containerd.image.name")
                .or_else(|| pick.annotations.get("org.opencontainers.image.ref.name"))
            {
                tags.push(t.clone());
            }
            digest = Some(pick.digest.clone());
            doc = parse(&blob_path(&pick.digest))?;
        }
        Err(ScanError::archive(
            what,
            "OCI indexes nested more than 4 deep",
        ))
    }
}

/// What a manifest resolves to: archive paths of the config and of the layers (in order), the
/// image's tags, and the manifest digest when known.
#[derive(Debug, Clone, Default)]
pub struct Resolved {
    pub config: String,
    pub layers: Vec<String>,
    pub tags: Vec<String>,
    pub digest: Option<String>,
}

pub fn blob_path(digest: &str) -> String {
    match digest.split_once(':') {
        Some((alg, hex)) => format!("blobs/{alg}/{hex}"),
        None => format!("blobs/{digest}"),
    }
}

/// This machine's architecture as OCI platforms name it (`amd64`, `arm64`).
pub(crate) fn arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

/// Pick an image manifest from an index (an OCI layout's or a registry's): linux/<this
/// machine's architecture> first, else the first usable one; attestation manifests
/// (`unknown/unknown`, `vnd.docker.reference.type`) are skipped.
pub(crate) fn pick_manifest(manifests: &[Descriptor]) -> Option<&Descriptor> {
    let usable: Vec<&Descriptor> = manifests
        .iter()
        .filter(|d| {
            d.platform.as_ref().is_none_or(|p| p.os != "unknown")
                && !d.annotations.contains_key("vnd.docker.reference.type")
        })
        .collect();
    usable
        .iter()
        .find(|d| {
            d.platform
                .as_ref()
                .is_some_and(|p| p.os == "linux" && p.architecture == arch())
        })
        .or_else(|| usable.first())
        .copied()
}

/// Does the archive tag `have` (`name:tag`) match the wanted reference `want`?
fn tag_matches(have: &str, want: &str) -> bool {
    if have == want {
        return true;
    }
    match (
        golden_oci::Reference::parse(have),
        golden_oci::Reference::parse(want),
    ) {
        (Ok(a), Ok(b)) => a.name() == b.name() && a.tag_or_latest() == b.tag_or_latest(),
        _ => false,
    }
}

/// A window `start..start+len` of a shared file, readable and seekable, with a small read
/// buffer that survives seeks inside it (tar headers are read 512 bytes at a time).
pub struct Section {
    file: Arc<File>,
    start: u64,
    len: u64,
    pos: u64,
    buf: Vec<u8>,
    buf_at: u64,
    buf_len: usize,
}

const SECTION_BUF: usize = 64 * 1024;

impl Section {
    pub fn new(file: Arc<File>, start: u64, len: u64) -> Self {
        Section {
            file,
            start,
            len,
            pos: 0,
            buf: Vec::new(),
            buf_at: 0,
            buf_len: 0,
        }
    }
}

impl Read for Section {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.len || out.is_empty() {
            return Ok(0);
        }
        let want = (out.len() as u64).min(self.len - self.pos) as usize;
        // Served from the buffer?
        if self.pos >= self.buf_at && self.pos < self.buf_at + self.buf_len as u64 {
            let off = (self.pos - self.buf_at) as usize;
            let n = want.min(self.buf_len - off);
            out[..n].copy_from_slice(&self.buf[off..off + n]);
            self.pos += n as u64;
            return Ok(n);
        }
        if want >= SECTION_BUF {
            let n = self.file.read_at(&mut out[..want], self.start + self.pos)?;
            self.pos += n as u64;
            return Ok(n);
        }
        if self.buf.is_empty() {
            self.buf = vec![0u8; SECTION_BUF];
        }
        let fill = (SECTION_BUF as u64).min(self.len - self.pos) as usize;
        let got = self
            .file
            .read_at(&mut self.buf[..fill], self.start + self.pos)?;
        self.buf_at = self.pos;
        self.buf_len = got;
        if got == 0 {
            return Ok(0);
        }
        let n = want.min(got);
        out[..n].copy_from_slice(&self.buf[..n]);
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for Section {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        let new = match pos {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
        };
        match new {
            Some(p) => {
                self.pos = p;
                Ok(p)
            }
            None => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek before the start",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn desc(os: &str, arch: &str, attestation: bool) -> Descriptor {
        let mut d = Descriptor::new(
            "application/vnd.oci.image.manifest.v1+json",
            format!("sha256:{os}{arch}"),
            1,
        );
        d.platform = Some(golden_registry::Platform {
            architecture: arch.into(),
            os: os.into(),
            os_version: None,
            os_features: None,
            variant: None,
        });
        if attestation {
            d.annotations.insert(
                "vnd.docker.reference.type".into(),
                "attestation-manifest".into(),
            );
        }
        d
    }

    #[test]
    fn picks_this_machines_platform_and_skips_attestations() {
        let ms = vec![
            desc("unknown", "unknown", true),
            desc("linux", "s390x", false),
            desc("linux", arch(), false),
        ];
        assert_eq!(
            pick_manifest(&ms).map(|d| d.digest.clone()),
            Some(format!("sha256:linux{}", arch()))
        );
        let other = vec![
            desc("unknown", "unknown", true),
            desc("linux", "s390x", false),
        ];
        assert_eq!(
            pick_manifest(&other).map(|d| d.digest.clone()),
            Some("sha256:linuxs390x".into())
        );
        assert!(pick_manifest(&[desc("unknown", "unknown", true)]).is_none());
    }
}
