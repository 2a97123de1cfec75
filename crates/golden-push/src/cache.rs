//! Local memory of "this diff-id compressed to that blob" (per compressor format), so a rerun
//! after a failure — or a push of the same layer to another repository — knows the blob digest
//! without recompressing, and can skip the layer with one `HEAD`.
//!
//! Entries are written only by golden-push: after it compressed a layer (whose diff-id it
//! computed while reading it) or after it downloaded a registry blob and checked that it
//! gunzips to the diff-id. That is why push trusts them without downloading the blob; the
//! directory must be as trusted as the pushing job (do not restore it from a cache that less
//! trusted jobs can write).
//!
//! Layout: `<dir>/layers/<format>/<diff-id hex>` containing `sha256:<hex> <size>`.
//! Written atomically (temp file + rename); unreadable entries are ignored.

use std::io::Write;
use std::path::{Path, PathBuf};

/// The cache directory to use: `--cache-dir`, else `$XDG_CACHE_HOME/golden-push`, else
/// `$HOME/.cache/golden-push`.
pub fn default_dir() -> Option<PathBuf> {
    if let Some(x) = std::env::var_os("XDG_CACHE_HOME").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(x).join("golden-push"));
    }
    std::env::var_os("HOME")
        .filter(|v| !v.is_empty())
        .map(|h| PathBuf::from(h).join(".cache").join("golden-push"))
}

#[derive(Debug, Clone)]
pub struct LayerCache {
    dir: PathBuf,
}

fn hex_of(diff_id: &str) -> Option<&str> {
    let h = diff_id.strip_prefix("sha256:")?;
    (h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit())).then_some(h)
}

impl LayerCache {
    pub fn new(base: &Path, format: &str) -> LayerCache {
        LayerCache {
            dir: base.join("layers").join(format),
        }
    }

    /// The blob digest and size recorded for `diff_id`.
    pub fn get(&self, diff_id: &str) -> Option<(String, u64)> {
        let text = std::fs::read_to_string(self.dir.join(hex_of(diff_id)?)).ok()?;
        let (d, s) = text.trim().split_once(' ')?;
        if !golden_registry::digest::is_sha256(d) {
            return None;
        }
        Some((d.to_string(), s.parse().ok()?))
    }

    /// Record a compression result; failures only cost a recompression later.
    pub fn put(&self, diff_id: &str, digest: &str, size: u64) {
        let Some(hex) = hex_of(diff_id) else { return };
        let write = || -> std::io::Result<()> {
            std::fs::create_dir_all(&self.dir)?;
            let mut tmp = tempfile::NamedTempFile::new_in(&self.dir)?;
            writeln!(tmp, "{digest} {size}")?;
            tmp.persist(self.dir.join(hex)).map_err(|e| e.error)?;
            Ok(())
        };
        if let Err(e) = write() {
            tracing::debug!("layer cache: cannot record {diff_id}: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_bad_input() {
        let dir = tempfile::tempdir().unwrap();
        let c = LayerCache::new(dir.path(), "gzip-x");
        let diff = format!("sha256:{}", "a".repeat(64));
        let dig = format!("sha256:{}", "b".repeat(64));
        assert!(c.get(&diff).is_none());
        c.put(&diff, &dig, 42);
        assert_eq!(c.get(&diff), Some((dig, 42)));
        c.put("sha256:../../etc", "x", 1);
        assert!(c.get("sha256:../../etc").is_none());
        std::fs::write(
            dir.path().join("layers/gzip-x").join("c".repeat(64)),
            "garbage",
        )
        .unwrap();
        assert!(c.get(&format!("sha256:{}", "c".repeat(64))).is_none());
    }
}
