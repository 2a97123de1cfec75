//! Where an image comes from: the Docker engine (streamed `docker save`, never spooled to
//! disk), a `docker-archive:` / `oci-archive:` file (plain, gzip or zstd), an OCI layout
//! directory (`oci:`), or a registry (`registry:REF`).

use std::fs::File;
use std::io::{self, Read, Seek};
use std::path::{Path, PathBuf};

use golden_engine::{Engine, EngineError};
use tokio_util::io::SyncIoBridge;

use crate::archive::{Collector, Image};
use crate::error::ScanError;
use crate::layer::{self, Sniff};
use crate::limits::Limits;

/// A parsed image argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Engine image name or id; `fallback_registry` when a registry host is named and the
    /// engine does not have it.
    Engine {
        image: String,
        fallback_registry: bool,
    },
    Archive(PathBuf),
    OciDir(PathBuf),
    Registry(String),
}

impl Source {
    pub fn parse(arg: &str) -> Result<Source, ScanError> {
        let arg = arg.trim();
        if arg.is_empty() {
            return Err(ScanError::Usage("the image argument is empty".into()));
        }
        for prefix in ["docker-archive:", "oci-archive:"] {
            if let Some(p) = arg.strip_prefix(prefix) {
                if p.is_empty() {
                    return Err(ScanError::Usage(format!(
                        "`{arg}`: missing path after `{prefix}`"
                    )));
                }
                // skopeo writes `docker-archive:PATH:name:tag`; the path is before any `:ref`.
                let path = match p.split_once(':') {
                    Some((file, _)) if !Path::new(p).exists() && Path::new(file).exists() => file,
                    _ => p,
                };
                return Ok(Source::Archive(PathBuf::from(path)));
            }
        }
        if let Some(p) = arg.strip_prefix("oci:") {
            let dir = p
                .split_once(':')
                .map(|(d, _)| d)
                .filter(|d| Path::new(d).is_dir())
                .unwrap_or(p);
            return Ok(Source::OciDir(PathBuf::from(dir)));
        }
        for prefix in ["registry:", "docker://"] {
            if let Some(r) = arg.strip_prefix(prefix) {
                golden_oci::Reference::parse(r).map_err(|e| ScanError::Usage(e.to_string()))?;
                return Ok(Source::Registry(r.to_string()));
            }
        }
        for prefix in ["docker-daemon:", "docker:"] {
            if let Some(r) = arg.strip_prefix(prefix) {
                return Ok(Source::Engine {
                    image: r.to_string(),
                    fallback_registry: false,
                });
            }
        }
        // A path to an existing archive or layout works without a prefix.
        let p = Path::new(arg);
        if p.is_file() {
            return Ok(Source::Archive(p.to_path_buf()));
        }
        if p.is_dir() && p.join("index.json").is_file() {
            return Ok(Source::OciDir(p.to_path_buf()));
        }
        Ok(Source::Engine {
            image: arg.to_string(),
            fallback_registry: names_registry(arg),
        })
    }
}

/// Does the reference name a registry host explicitly (`host.tld/...`, `host:port/...`,
/// `localhost/...`)?
pub fn names_registry(reference: &str) -> bool {
    if reference.starts_with("sha256:") || !reference.contains('/') {
        return false;
    }
    let first = reference.split('/').next().unwrap_or("");
    first.contains('.') || first.contains(':') || first == "localhost"
}

/// Analyse an archive file (docker-archive, OCI archive; plain tar, gzip or zstd) or an OCI
/// layout directory.
pub fn analyze_path(path: &Path, what: &str, want_tag: Option<&str>) -> Result<Image, ScanError> {
    analyze_path_with(path, what, want_tag, Limits::default())
}

/// [`analyze_path`] within the given memory bounds.
pub fn analyze_path_with(
    path: &Path,
    what: &str,
    want_tag: Option<&str>,
    limits: Limits,
) -> Result<Image, ScanError> {
    if path.is_dir() {
        if !path.join("index.json").is_file() {
            return Err(ScanError::archive(
                what,
                "a directory without `index.json` is not an OCI layout",
            ));
        }
        let mut c = Collector::with_limits(what, limits);
        c.read_oci_dir(path)?;
        return c.finish(want_tag);
    }
    let open_err = |source| ScanError::Open {
        path: path.to_path_buf(),
        source,
    };
    let mut f = File::open(path).map_err(open_err)?;
    let mut head = Vec::with_capacity(512);
    (&mut f)
        .take(512)
        .read_to_end(&mut head)
        .and_then(|_| f.rewind())
        .map_err(open_err)?;
    if head.is_empty() {
        return Err(ScanError::archive(what, "the file is empty"));
    }
    let mut c = Collector::with_limits(what, limits);
    match layer::sniff(&head) {
        Sniff::Gzip => {
            let dec = flate2::read::MultiGzDecoder::new(io::BufReader::with_capacity(256 << 10, f));
            c.read_tar_stream(dec)?;
        }
        Sniff::Zstd => {
            let dec =
                ruzstd::decoding::StreamingDecoder::new(io::BufReader::with_capacity(256 << 10, f))
                    .map_err(|e| {
                        ScanError::archive(what, format!("not a readable zstd stream: {e}"))
                    })?;
            c.read_tar_stream(dec)?;
        }
        Sniff::Tar | Sniff::EmptyTar => c.read_tar_file(f)?,
        Sniff::Json => {
            return Err(ScanError::archive(
                what,
                "this is a JSON file, not an image archive (a Trivy report goes to --trivy-report)",
            ));
        }
        Sniff::Unknown => {
            return Err(ScanError::archive(
                what,
                "not a tar, gzip or zstd file: expected `docker save` output, a skopeo docker-archive or an OCI archive",
            ));
        }
    }
    c.finish(want_tag)
}

/// Analyse a byte stream holding an image archive (e.g. an export in progress).
pub fn analyze_stream<R: Read>(
    r: R,
    what: &str,
    want_tag: Option<&str>,
) -> Result<Image, ScanError> {
    analyze_stream_with(r, what, want_tag, Limits::default())
}

/// [`analyze_stream`] within the given memory bounds.
pub fn analyze_stream_with<R: Read>(
    r: R,
    what: &str,
    want_tag: Option<&str>,
    limits: Limits,
) -> Result<Image, ScanError> {
    let mut c = Collector::with_limits(what, limits);
    c.read_tar_stream(r)?;
    c.finish(want_tag)
}

/// What the engine says about an image, besides its content.
#[derive(Debug, Clone, Default)]
pub struct EngineFacts {
    pub repo_tags: Vec<String>,
    pub repo_digests: Vec<String>,
}

/// Stream `docker save IMAGE` from the engine straight into the archive walker.
pub async fn analyze_engine(
    engine: &Engine,
    image: &str,
    limits: Limits,
) -> Result<(Image, EngineFacts), ScanError> {
    let inspect = engine.inspect_image(image).await?;
    let facts = EngineFacts {
        repo_tags: inspect.repo_tags.unwrap_or_default(),
        repo_digests: inspect.repo_digests.unwrap_or_default(),
    };
    let (mut writer, reader) = tokio::io::duplex(1 << 20);
    let bridge = SyncIoBridge::new(reader);
    let what = format!("engine image {image}");
    let want = image.to_string();
    let walker = tokio::task::spawn_blocking(move || {
        analyze_stream_with(bridge, &what, Some(&want), limits)
    });
    let exported = async {
        let r = engine.export_image(image, &mut writer).await;
        drop(writer);
        r
    };
    let (exported, walked) = tokio::join!(exported, walker);
    let walked = walked.map_err(|e| {
        ScanError::archive(
            image,
            format!("the archive walker stopped unexpectedly: {e}"),
        )
    })?;
    match (exported, walked) {
        (Ok(_), Ok(img)) => Ok((img, facts)),
        // The walker stopped reading (it failed): its error is the real one.
        (Err(EngineError::Write { .. }), Err(e)) => Err(e),
        (Err(e), _) => Err(ScanError::Engine(e)),
        (Ok(_), Err(e)) => Err(e),
    }
}
