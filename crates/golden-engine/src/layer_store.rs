//! Architecture note: this is the one place that reads the engine's on-disk layer store; it lives
//! in golden-engine so that only this crate knows how Docker keeps images.
//!
//! Fast path for a LOCAL engine whose data root is readable (root, `make local`): read a layer
//! straight from the engine's overlay2 layer store instead of `docker save`.
//!
//! Why: the engine API can only export whole images, and Docker 20.10 first writes the whole
//! export to its own temporary directory. For a warm push (one small new layer on top of a
//! large base) that costs seconds, while the layer itself is kilobytes.
//!
//! How: `inspect` tells where the engine keeps the image (`GraphDriver` overlay2 `UpperDir`,
//! whose parent is the data root). The layer database
//! (`<root>/image/overlay2/layerdb/sha256/<chain-id>/`) holds, per layer, the overlay2
//! directory (`cache-id`), the layer's diff-id (`diff`) and `tar-split.json.gz`: the tar
//! headers and padding of the original layer tar, with file bodies referenced by name. Replaying
//! it with the file bodies from `<root>/overlay2/<cache-id>/diff` reproduces the original layer
//! tar byte for byte — exactly what the engine itself does for `docker save` and `docker push`.
//!
//! Safety: every layer read this way is hashed while it streams and must equal its diff-id
//! (checked by the caller); the config must hash to the image id. Any mismatch, missing file
//! or permission problem means "not available": the push falls back to the engine export.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Component, Path, PathBuf};

use base64::Engine as _;
use flate2::read::GzDecoder;
use golden_oci::digest::sha256_digest;
use serde::Deserialize;

/// Where a local engine keeps one image's layers.
#[derive(Debug, Clone)]
pub struct LayerStore {
    /// Per layer (diff-id order): tar-split file and overlay2 diff directory.
    pub layers: Vec<StoredLayer>,
    /// Path of the config blob (`imagedb/content/sha256/<id>`).
    pub config: PathBuf,
}

#[derive(Debug, Clone)]
pub struct StoredLayer {
    pub tar_split: PathBuf,
    pub diff_dir: PathBuf,
}

fn read_trim(p: &Path) -> Option<String> {
    std::fs::read_to_string(p)
        .ok()
        .map(|s| s.trim().to_string())
}

/// Chain ids of `diff_ids` (`chain[0] = diff[0]`, `chain[i] = sha256(chain[i-1] + " " + diff[i])`).
pub fn chain_ids(diff_ids: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(diff_ids.len());
    for d in diff_ids {
        let next = match out.last() {
            None => d.clone(),
            Some(prev) => sha256_digest(format!("{prev} {d}").as_bytes()),
        };
        out.push(next);
    }
    out
}

impl LayerStore {
    /// Locate the layers `needed` (indices into `diff_ids`) of image `id` (`sha256:...`), given
    /// the inspect GraphDriver data. `None` unless each is there, readable and consistent.
    /// Layers not needed are not checked (their entries are left empty).
    pub fn locate(
        driver: &str,
        upper_dir: Option<&str>,
        id: &str,
        diff_ids: &[String],
        needed: &[usize],
    ) -> Option<LayerStore> {
        if driver != "overlay2" || diff_ids.is_empty() {
            return None;
        }
        let upper = PathBuf::from(upper_dir?);
        // <root>/overlay2/<cache-id>/diff
        let overlay = upper.parent()?.parent()?;
        if overlay.file_name()? != "overlay2" {
            return None;
        }
        let root = overlay.parent()?;
        let layerdb = root.join("image/overlay2/layerdb/sha256");
        let mut layers = Vec::with_capacity(diff_ids.len());
        for (i, (diff, chain)) in diff_ids.iter().zip(chain_ids(diff_ids)).enumerate() {
            if !needed.contains(&i) {
                layers.push(StoredLayer {
                    tar_split: PathBuf::new(),
                    diff_dir: PathBuf::new(),
                });
                continue;
            }
            let dir = layerdb.join(chain.strip_prefix("sha256:")?);
            if read_trim(&dir.join("diff"))? != *diff {
                return None;
            }
            let cache_id = read_trim(&dir.join("cache-id"))?;
            if cache_id.is_empty() || cache_id.contains('/') || cache_id.contains("..") {
                return None;
            }
            let tar_split = dir.join("tar-split.json.gz");
            let diff_dir = overlay.join(&cache_id).join("diff");
            // Readable? (a non-root user usually cannot read the data root)
            File::open(&tar_split).ok()?;
            std::fs::read_dir(&diff_dir).ok()?;
            layers.push(StoredLayer {
                tar_split,
                diff_dir,
            });
        }
        let config = root
            .join("image/overlay2/imagedb/content/sha256")
            .join(id.strip_prefix("sha256:")?);
        File::open(&config).ok()?;
        Some(LayerStore { layers, config })
    }

    /// The config blob, when it hashes to `id`.
    pub fn config_bytes(&self, id: &str) -> Option<Vec<u8>> {
        let b = std::fs::read(&self.config).ok()?;
        (sha256_digest(&b) == id).then_some(b)
    }
}

/// One tar-split entry (vbatts/tar-split `storage.Entry`): type 1 = file, 2 = raw segment.
#[derive(Deserialize)]
struct Entry {
    #[serde(rename = "type")]
    kind: u8,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    name_raw: Option<String>,
    #[serde(default)]
    size: i64,
    #[serde(default)]
    payload: Option<String>,
}

fn invalid(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

/// `name` as a path under the diff directory (no absolute paths, no `..`).
fn relative(name: &str) -> io::Result<PathBuf> {
    let mut out = PathBuf::new();
    for c in Path::new(name).components() {
        match c {
            Component::Normal(p) => out.push(p),
            Component::CurDir | Component::RootDir => {}
            _ => {
                return Err(invalid(format!(
                    "tar-split entry `{name}` escapes the layer"
                )));
            }
        }
    }
    Ok(out)
}

/// Replays a layer's tar-split with file bodies from its diff directory: the layer tar.
pub struct LayerReader {
    lines: io::Lines<BufReader<GzDecoder<File>>>,
    diff_dir: PathBuf,
    segment: io::Cursor<Vec<u8>>,
    file: Option<(io::Take<File>, u64, PathBuf)>,
}

impl LayerReader {
    pub fn open(layer: &StoredLayer) -> io::Result<LayerReader> {
        let f = File::open(&layer.tar_split)?;
        Ok(LayerReader {
            lines: BufReader::with_capacity(256 * 1024, GzDecoder::new(f)).lines(),
            diff_dir: layer.diff_dir.clone(),
            segment: io::Cursor::new(Vec::new()),
            file: None,
        })
    }

    /// Total size of the layer tar (one pass over the tar-split, no file bodies read).
    pub fn tar_size(layer: &StoredLayer) -> io::Result<u64> {
        let f = File::open(&layer.tar_split)?;
        let mut total = 0u64;
        for line in BufReader::new(GzDecoder::new(f)).lines() {
            let line = line?;
            if line.trim().is_empty() {
                continue;
            }
            let e: Entry =
                serde_json::from_str(&line).map_err(|e| invalid(format!("tar-split: {e}")))?;
            total += match e.kind {
                1 => e.size.max(0) as u64,
                2 => e
                    .payload
                    .as_deref()
                    .map(|p| {
                        p.len() as u64 / 4 * 3
                            - p.bytes().rev().take_while(|b| *b == b'=').count() as u64
                    })
                    .unwrap_or(0),
                _ => 0,
            };
        }
        Ok(total)
    }

    /// Advance to the next entry with bytes; false at the end.
    fn next_entry(&mut self) -> io::Result<bool> {
        loop {
            let Some(line) = self.lines.next() else {
                return Ok(false);
            };
            let line = line?;
            if line.trim().is_empty() {
                continue;
            }
            let e: Entry =
                serde_json::from_str(&line).map_err(|e| invalid(format!("tar-split: {e}")))?;
            match e.kind {
                2 => {
                    let raw = base64::engine::general_purpose::STANDARD
                        .decode(e.payload.unwrap_or_default())
                        .map_err(|e| invalid(format!("tar-split segment: {e}")))?;
                    if raw.is_empty() {
                        continue;
                    }
                    self.segment = io::Cursor::new(raw);
                    return Ok(true);
                }
                1 => {
                    if e.size <= 0 {
                        continue;
                    }
                    let name = match (e.name, e.name_raw) {
                        (Some(n), _) if !n.is_empty() => n,
                        (_, Some(raw)) => {
                            let b = base64::engine::general_purpose::STANDARD
                                .decode(raw)
                                .map_err(|e| invalid(format!("tar-split name: {e}")))?;
                            String::from_utf8(b)
                                .map_err(|_| invalid("tar-split: non-UTF-8 file name".into()))?
                        }
                        _ => return Err(invalid("tar-split: file entry without a name".into())),
                    };
                    let path = self.diff_dir.join(relative(&name)?);
                    let f = File::open(&path)?;
                    self.file = Some((f.take(e.size as u64), e.size as u64, path));
                    return Ok(true);
                }
                other => return Err(invalid(format!("tar-split: unknown entry type {other}"))),
            }
        }
    }
}

impl Read for LayerReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if let Some((f, left, path)) = self.file.as_mut() {
                let n = f.read(buf)?;
                if n > 0 {
                    *left -= n as u64;
                    return Ok(n);
                }
                if *left > 0 {
                    return Err(invalid(format!(
                        "`{}` is {left} bytes shorter than the layer recorded",
                        path.display()
                    )));
                }
                self.file = None;
            }
            let n = self.segment.read(buf)?;
            if n > 0 {
                return Ok(n);
            }
            if !self.next_entry()? {
                return Ok(0);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn chain_ids_follow_the_image_spec() {
        let d = vec!["sha256:aa".to_string(), "sha256:bb".to_string()];
        let c = chain_ids(&d);
        assert_eq!(c[0], "sha256:aa");
        assert_eq!(c[1], sha256_digest(b"sha256:aa sha256:bb"));
    }

    #[test]
    fn replays_a_tar_split_into_the_original_tar() {
        // Build a real tar, then the tar-split describing it (headers as segments).
        let dir = tempfile::tempdir().unwrap();
        let diff = dir.path().join("diff");
        std::fs::create_dir_all(diff.join("etc")).unwrap();
        let body = b"hello layer\n".repeat(100);
        std::fs::write(diff.join("etc/hello"), &body).unwrap();
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_size(body.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, "etc/hello", &body[..]).unwrap();
        let tar = b.into_inner().unwrap();
        let b64 = |x: &[u8]| base64::engine::general_purpose::STANDARD.encode(x);
        let pad = (512 - body.len() % 512) % 512;
        let lines = [
            serde_json::json!({"type": 2, "payload": b64(&tar[..512]), "position": 0}),
            serde_json::json!({"type": 1, "name": "./etc/hello", "size": body.len(), "payload": "AAAAAAAAAAA=", "position": 1}),
            serde_json::json!({"type": 2, "payload": b64(&tar[512 + body.len()..512 + body.len() + pad]), "position": 2}),
            serde_json::json!({"type": 2, "payload": b64(&tar[512 + body.len() + pad..]), "position": 3}),
        ];
        let ts = dir.path().join("tar-split.json.gz");
        let mut gz =
            flate2::write::GzEncoder::new(File::create(&ts).unwrap(), flate2::Compression::fast());
        for l in lines {
            writeln!(gz, "{l}").unwrap();
        }
        gz.finish().unwrap();
        let layer = StoredLayer {
            tar_split: ts,
            diff_dir: diff.clone(),
        };
        let mut out = Vec::new();
        LayerReader::open(&layer)
            .unwrap()
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, tar);
        assert_eq!(LayerReader::tar_size(&layer).unwrap(), tar.len() as u64);

        // A file that changed size is an error, not a silently different layer.
        std::fs::write(diff.join("etc/hello"), b"short").unwrap();
        let mut out = Vec::new();
        let e = LayerReader::open(&layer)
            .unwrap()
            .read_to_end(&mut out)
            .unwrap_err();
        assert!(e.to_string().contains("shorter"), "{e}");
    }

    #[test]
    fn names_cannot_escape() {
        assert!(relative("../etc/passwd").is_err());
        assert_eq!(relative("/./a/b").unwrap(), PathBuf::from("a/b"));
    }

    #[test]
    fn locate_needs_overlay2_and_a_consistent_layerdb() {
        assert!(
            LayerStore::locate(
                "vfs",
                Some("/x/overlay2/a/diff"),
                "sha256:aa",
                &["sha256:aa".into()],
                &[0]
            )
            .is_none()
        );
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let diff = "sha256:".to_string() + &"d".repeat(64);
        let id = "sha256:".to_string() + &"e".repeat(64);
        let layerdb = root
            .join("image/overlay2/layerdb/sha256")
            .join("d".repeat(64));
        std::fs::create_dir_all(&layerdb).unwrap();
        std::fs::write(layerdb.join("diff"), &diff).unwrap();
        std::fs::write(layerdb.join("cache-id"), "cacheone").unwrap();
        std::fs::write(layerdb.join("tar-split.json.gz"), b"").unwrap();
        std::fs::create_dir_all(root.join("overlay2/cacheone/diff")).unwrap();
        std::fs::create_dir_all(root.join("image/overlay2/imagedb/content/sha256")).unwrap();
        std::fs::write(
            root.join("image/overlay2/imagedb/content/sha256")
                .join("e".repeat(64)),
            b"{}",
        )
        .unwrap();
        let upper = root.join("overlay2/cacheone/diff").display().to_string();
        let s = LayerStore::locate(
            "overlay2",
            Some(&upper),
            &id,
            std::slice::from_ref(&diff),
            &[0],
        )
        .unwrap();
        assert_eq!(s.layers[0].diff_dir, root.join("overlay2/cacheone/diff"));
        assert!(s.config_bytes(&id).is_none(), "config must hash to the id");
        // A layerdb whose diff does not match is not used...
        std::fs::write(layerdb.join("diff"), "sha256:other").unwrap();
        assert!(
            LayerStore::locate(
                "overlay2",
                Some(&upper),
                &id,
                std::slice::from_ref(&diff),
                &[0]
            )
            .is_none()
        );
        // ...and is not even read when that layer is not needed.
        assert!(LayerStore::locate("overlay2", Some(&upper), &id, &[diff], &[]).is_some());
    }
}
