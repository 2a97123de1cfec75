//! Where the image comes from: the Docker engine (inspected first; exported only when some
//! layer or the config must actually be sent) or a `docker save` archive (`docker-archive:PATH`).
//!
//! A `docker save` tar is indexed once (entry offsets, symlinks resolved), so layers are read
//! straight out of it by offset, in parallel, without unpacking anything.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use golden_oci::{ImageConfigFile, parse_archive_manifest};
use golden_registry::digest::sha256_digest;
use golden_registry::types::Platform;

/// The `IMAGE` argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageInput {
    /// An engine image name or id.
    Engine(String),
    /// A `docker save` archive.
    Archive(PathBuf),
}

impl ImageInput {
    pub fn parse(s: &str) -> Result<ImageInput> {
        let s = s.trim();
        if s.is_empty() {
            return Err(Error::Usage(
                "IMAGE is empty: give an engine image (name or id) or docker-archive:PATH".into(),
            ));
        }
        if let Some(p) = s.strip_prefix("docker-archive:") {
            if p.is_empty() {
                return Err(Error::Usage(
                    "`docker-archive:` needs a path (docker-archive:PATH)".into(),
                ));
            }
            return Ok(ImageInput::Archive(PathBuf::from(p)));
        }
        if let Some((scheme, _)) = s.split_once(':')
            && matches!(
                scheme,
                "oci" | "oci-archive" | "docker" | "docker-daemon" | "dir" | "containers-storage"
            )
        {
            return Err(Error::Usage(format!(
                "image source `{scheme}:` is not supported: use an engine image name/id or docker-archive:PATH (for registry-to-registry use `golden-push copy`)"
            )));
        }
        Ok(ImageInput::Engine(s.to_string()))
    }
}

/// What is known about the image before any layer is read.
#[derive(Debug, Clone)]
pub struct ImageMeta {
    /// Digest of the config blob. For engine images this is the image id, which equals the
    /// config digest on the classic image store (confirmed after an export).
    pub config_digest: String,
    pub diff_ids: Vec<String>,
    pub labels: BTreeMap<String, String>,
    pub platform: Platform,
}

/// A `docker save` archive, indexed.
#[derive(Debug)]
pub struct Archive {
    pub path: PathBuf,
    pub config_bytes: Vec<u8>,
    pub meta: ImageMeta,
    /// `(offset, size)` of each layer tar inside the archive, in diff-id order.
    pub layers: Vec<(u64, u64)>,
}

fn normalize(p: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    parts.join("/")
}

fn read_at(file: &mut File, offset: u64, size: u64, what: &str) -> Result<Vec<u8>> {
    if size > 64 << 20 {
        return Err(Error::Image(format!(
            "{what} is {size} bytes, more than expected for a JSON document"
        )));
    }
    file.seek(SeekFrom::Start(offset))?;
    let mut buf = vec![0u8; size as usize];
    file.read_exact(&mut buf)
        .map_err(Error::file(format!("failed to read {what}")))?;
    Ok(buf)
}

/// Index a `docker save` archive (legacy layout or the OCI-layout variant of newer engines).
pub fn read_archive(path: &Path) -> Result<Archive> {
    let shown = path.display().to_string();
    let file = File::open(path).map_err(Error::file(format!(
        "failed to open docker archive `{shown}`"
    )))?;
    let mut archive = tar::Archive::new(file);
    let mut files: HashMap<String, (u64, u64)> = HashMap::new();
    let mut links: HashMap<String, String> = HashMap::new();
    let entries = archive
        .entries_with_seek()
        .map_err(Error::file(format!("`{shown}` is not a tar archive")))?;
    for entry in entries {
        let entry = entry.map_err(|source| Error::File {
            what: format!("`{shown}`: corrupt tar entry (truncated archive?)"),
            source,
        })?;
        let name = normalize(&String::from_utf8_lossy(&entry.path_bytes()));
        let kind = entry.header().entry_type();
        if kind.is_symlink() || kind.is_hard_link() {
            if let Some(target) = entry.link_name_bytes() {
                let target = String::from_utf8_lossy(&target).to_string();
                let resolved = if kind.is_symlink() {
                    let dir = name.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
                    normalize(&format!("{dir}/{target}"))
                } else {
                    normalize(&target)
                };
                links.insert(name, resolved);
            }
        } else if kind.is_file() {
            files.insert(name, (entry.raw_file_position(), entry.size()));
        }
    }
    let lookup = |name: &str| -> Option<(u64, u64)> {
        let mut n = normalize(name);
        for _ in 0..16 {
            if let Some(f) = files.get(&n) {
                return Some(*f);
            }
            n = links.get(&n)?.clone();
        }
        None
    };
    let mut file = File::open(path).map_err(Error::file(format!(
        "failed to open docker archive `{shown}`"
    )))?;
    let (off, size) = lookup("manifest.json").ok_or_else(|| {
        Error::Image(format!("`{shown}` has no manifest.json: is it a `docker save` archive (not an OCI layout or a root filesystem tar)?"))
    })?;
    let manifest_bytes = read_at(&mut file, off, size, "manifest.json")?;
    let manifest = parse_archive_manifest(&manifest_bytes).map_err(Error::json(format!(
        "`{shown}`: manifest.json is not a docker save manifest"
    )))?;
    let entry = match manifest.as_slice() {
        [one] => one,
        [] => {
            return Err(Error::Image(format!(
                "`{shown}`: manifest.json lists no image"
            )));
        }
        many => {
            return Err(Error::Image(format!(
                "`{shown}` holds {} images ({}); save one image per archive",
                many.len(),
                many.iter()
                    .map(|e| e
                        .repo_tags
                        .clone()
                        .unwrap_or_default()
                        .join(",")
                        .to_string())
                    .collect::<Vec<_>>()
                    .join("; ")
            )));
        }
    };
    let (coff, csize) = lookup(&entry.config).ok_or_else(|| {
        Error::Image(format!(
            "`{shown}`: manifest.json names config `{}`, which is not in the archive",
            entry.config
        ))
    })?;
    let config_bytes = read_at(&mut file, coff, csize, "the image config")?;
    let config: ImageConfigFile =
        serde_json::from_slice(&config_bytes).map_err(|source| Error::Json {
            what: format!(
                "`{shown}`: config `{}` is not an image config",
                entry.config
            ),
            source,
        })?;
    let diff_ids = config
        .rootfs
        .as_ref()
        .map(|r| r.diff_ids.clone())
        .unwrap_or_default();
    if diff_ids.len() != entry.layers.len() {
        return Err(Error::Image(format!(
            "`{shown}`: manifest.json lists {} layers but the config's rootfs.diff_ids has {}",
            entry.layers.len(),
            diff_ids.len()
        )));
    }
    let mut layers = Vec::new();
    for (i, l) in entry.layers.iter().enumerate() {
        layers.push(lookup(l).ok_or_else(|| {
            Error::Image(format!(
                "`{shown}`: layer {} (`{l}`) is not in the archive",
                i + 1
            ))
        })?);
    }
    let labels = config
        .config
        .as_ref()
        .and_then(|c| c.labels.clone())
        .unwrap_or_default();
    let meta = ImageMeta {
        config_digest: sha256_digest(&config_bytes),
        diff_ids,
        labels,
        platform: Platform::from_config(&config)
            .map_err(|e| Error::Image(format!("`{shown}`: config `{}` {e}", entry.config)))?,
    };
    Ok(Archive {
        path: path.to_path_buf(),
        config_bytes,
        meta,
        layers,
    })
}

/// Where the engine stores the image (inspect `GraphDriver`): driver name and overlay2 `UpperDir`.
#[derive(Debug, Clone, Default)]
pub struct GraphDriver {
    pub name: String,
    pub upper_dir: Option<String>,
}

/// Metadata of an engine image from `inspect` (no export).
pub async fn engine_meta(
    engine: &golden_engine::Engine,
    image: &str,
) -> Result<(String, ImageMeta, GraphDriver)> {
    let info = engine
        .inspect_image(image)
        .await
        .map_err(Error::engine(format!(
            "failed to inspect engine image `{image}`"
        )))?;
    let id = info
        .id
        .clone()
        .ok_or_else(|| Error::Image(format!("the engine returned no id for `{image}`")))?;
    let diff_ids = info
        .root_fs
        .as_ref()
        .and_then(|r| r.layers.clone())
        .unwrap_or_default();
    let labels: BTreeMap<String, String> = info
        .config
        .as_ref()
        .and_then(|c| c.labels.clone())
        .unwrap_or_default()
        .into_iter()
        .collect();
    let driver = info
        .graph_driver
        .as_ref()
        .map(|g| GraphDriver {
            name: g.name.clone(),
            upper_dir: g.data.get("UpperDir").cloned(),
        })
        .unwrap_or_default();
    // The inspect view carries the config's platform fields; read them by the same rule.
    let platform = Platform::from_config(&ImageConfigFile {
        architecture: info.architecture.clone(),
        os: info.os.clone(),
        variant: info.variant.clone(),
        os_version: info.os_version.clone(),
        ..ImageConfigFile::default()
    })
    .map_err(|e| Error::Image(format!("the engine's config of `{image}` {e}")))?;
    Ok((
        id.clone(),
        ImageMeta {
            config_digest: id,
            diff_ids,
            labels,
            platform,
        },
        driver,
    ))
}

/// Export an engine image into `spool` (a file in `dir`) and index it.
pub async fn export_engine_image(
    engine: &golden_engine::Engine,
    id: &str,
    dir: &Path,
) -> Result<Archive> {
    let spool = dir.join("export.tar");
    let mut f = tokio::fs::File::create(&spool)
        .await
        .map_err(Error::file(format!(
            "failed to create `{}`",
            spool.display()
        )))?;
    let mut w = tokio::io::BufWriter::with_capacity(1 << 20, &mut f);
    engine
        .export_image(id, &mut w)
        .await
        .map_err(Error::engine(format!(
            "failed to export `{id}` from the engine"
        )))?;
    drop(w);
    f.sync_data().await.ok();
    drop(f);
    let path = spool.clone();
    tokio::task::spawn_blocking(move || read_archive(&path))
        .await
        .map_err(Error::task("archive indexer"))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_input_forms() {
        assert_eq!(
            ImageInput::parse("nginx:1").unwrap(),
            ImageInput::Engine("nginx:1".into())
        );
        assert_eq!(
            ImageInput::parse("docker-archive:/tmp/a.tar").unwrap(),
            ImageInput::Archive("/tmp/a.tar".into())
        );
        assert_eq!(
            ImageInput::parse("sha256:abc").unwrap(),
            ImageInput::Engine("sha256:abc".into())
        );
        assert!(
            ImageInput::parse("oci:/x")
                .unwrap_err()
                .to_string()
                .contains("not supported")
        );
        assert!(ImageInput::parse("docker-archive:").is_err());
    }

    fn tar_with(entries: &[(&str, &[u8])], links: &[(&str, &str)]) -> tempfile::NamedTempFile {
        let f = tempfile::NamedTempFile::new().unwrap();
        let mut b = tar::Builder::new(f.reopen().unwrap());
        for (name, data) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            b.append_data(&mut h, name, *data).unwrap();
        }
        for (name, target) in links {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(tar::EntryType::Symlink);
            h.set_size(0);
            b.append_link(&mut h, name, target).unwrap();
        }
        b.finish().unwrap();
        f
    }

    #[test]
    fn indexes_legacy_and_oci_layout_archives() {
        let layer: &[u8] = b"layer-bytes";
        let diff = sha256_digest(layer);
        let config = format!(
            r#"{{"architecture":"arm64","variant":"v8","os":"linux","config":{{"Labels":{{"org.opencontainers.image.version":"1"}}}},"rootfs":{{"type":"layers","diff_ids":["{diff}"]}}}}"#
        );
        let manifest = r#"[{"Config":"cfg.json","RepoTags":["x:1"],"Layers":["abc/layer.tar"]}]"#;
        let f = tar_with(
            &[
                ("blobs/sha256/l1", layer),
                ("cfg.json", config.as_bytes()),
                ("manifest.json", manifest.as_bytes()),
            ],
            &[("abc/layer.tar", "../blobs/sha256/l1")],
        );
        let a = read_archive(f.path()).unwrap();
        assert_eq!(a.meta.diff_ids, vec![diff]);
        assert_eq!(a.meta.platform.display(), "linux/arm64/v8");
        assert_eq!(a.meta.labels["org.opencontainers.image.version"], "1");
        assert_eq!(a.meta.config_digest, sha256_digest(config.as_bytes()));
        let (off, size) = a.layers[0];
        let bytes = std::fs::read(f.path()).unwrap();
        assert_eq!(&bytes[off as usize..(off + size) as usize], layer);
    }

    #[test]
    fn bad_archives_say_what_is_wrong() {
        let f = tar_with(&[("x", b"y")], &[]);
        let e = read_archive(f.path()).unwrap_err().to_string();
        assert!(e.contains("no manifest.json"), "{e}");
        let f = tar_with(
            &[
                ("cfg.json", br#"{"rootfs":{"type":"layers","diff_ids":[]}}"#),
                (
                    "manifest.json",
                    br#"[{"Config":"cfg.json","Layers":["a/layer.tar"]}]"#,
                ),
            ],
            &[],
        );
        let e = read_archive(f.path()).unwrap_err().to_string();
        assert!(
            e.contains("lists 1 layers but the config's rootfs.diff_ids has 0"),
            "{e}"
        );
        let f = tar_with(
            &[
                (
                    "cfg.json",
                    br#"{"os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#,
                ),
                ("manifest.json", br#"[{"Config":"cfg.json","Layers":[]}]"#),
            ],
            &[],
        );
        let e = read_archive(f.path()).unwrap_err().to_string();
        assert!(e.contains("config `cfg.json` has no `architecture`"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        let junk = dir.path().join("junk.tar");
        std::fs::write(&junk, vec![7u8; 3000]).unwrap();
        assert!(read_archive(&junk).is_err());
        let e = format!(
            "{:#}",
            read_archive(&dir.path().join("missing.tar")).unwrap_err()
        );
        assert!(e.contains("failed to open docker archive"), "{e}");
    }
}
