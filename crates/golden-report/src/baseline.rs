//! The baseline a run is compared with: the previous run's reports (`--baseline DIR`) or the
//! reports attached as OCI referrers to the published tags (`--baseline-registry`).
//!
//! Problems with the baseline are warnings: they never fail an image, but they are reported.

use golden_contracts::build::BuildRecord;
use golden_contracts::scan::ScanReport;
use std::collections::HashMap;
use std::path::Path;

use crate::discover::{DiscoverError, ScanOwners, discover};
use crate::summary::{Problem, ProblemKind, ProblemSeverity};

#[derive(Debug, Clone, Default)]
pub struct Baseline {
    /// `dir:<path>` or `registry`.
    pub source: String,
    /// By plan entry id, and also by `id@arch` when the documents name their architecture (a
    /// multi-arch run compares each architecture with the same architecture of the baseline).
    pub images: HashMap<String, BaselineImage>,
    pub problems: Vec<Problem>,
}

#[derive(Debug, Clone)]
pub struct BaselineImage {
    /// Where this image's documents came from (file or registry reference).
    pub source: String,
    pub build: Option<BuildRecord>,
    pub scan: Option<ScanReport>,
}

impl Baseline {
    /// Add one image's documents (later documents of the same kind replace earlier ones only
    /// when newer).
    pub fn insert(
        &mut self,
        id: &str,
        source: &str,
        build: Option<BuildRecord>,
        scan: Option<ScanReport>,
    ) {
        let e = self
            .images
            .entry(id.to_string())
            .or_insert_with(|| BaselineImage {
                source: source.to_string(),
                build: None,
                scan: None,
            });
        if let Some(b) = build
            && e.build
                .as_ref()
                .is_none_or(|old| b.started_at >= old.started_at)
        {
            e.build = Some(b);
        }
        if let Some(s) = scan
            && e.scan
                .as_ref()
                .is_none_or(|old| s.scanned_at >= old.scanned_at)
        {
            e.scan = Some(s);
        }
    }

    /// The baseline of entry `id` on `arch`: that architecture's documents when the baseline
    /// has them, else the entry's (a baseline without architectures, or the registry's).
    pub fn get(&self, id: &str, arch: Option<&str>) -> Option<&BaselineImage> {
        arch.and_then(|a| self.images.get(&format!("{id}@{a}")))
            .or_else(|| self.images.get(id))
    }

    /// [`Baseline::insert`] under the entry id and, when known, under `id@arch` too.
    fn insert_arch(
        &mut self,
        id: &str,
        arch: Option<&str>,
        source: &str,
        build: Option<BuildRecord>,
        scan: Option<ScanReport>,
    ) {
        if let Some(a) = arch {
            self.insert(&format!("{id}@{a}"), source, build.clone(), scan.clone());
        }
        self.insert(id, source, build, scan);
    }

    pub fn warn(&mut self, path: Option<String>, image: Option<String>, message: String) {
        self.problems.push(Problem {
            kind: ProblemKind::Baseline,
            severity: ProblemSeverity::Warning,
            path,
            image,
            message: format!("baseline: {message}"),
        });
    }
}

/// Outcome of loading a baseline directory.
pub enum DirBaseline {
    Loaded(Baseline),
    /// The directory does not exist (first run, expired artifact): compare with nothing, and
    /// say so.
    Absent(Problem),
}

/// Read the previous run's reports from `dir` (same discovery rules as the input).
pub fn from_dir(dir: &Path) -> Result<DirBaseline, DiscoverError> {
    let found = match discover(dir) {
        Ok(f) => f,
        Err(DiscoverError::Missing(p)) => {
            return Ok(DirBaseline::Absent(Problem {
                kind: ProblemKind::Baseline,
                severity: ProblemSeverity::Warning,
                path: None,
                image: None,
                message: format!(
                    "baseline: directory `{}` does not exist; nothing to compare with (first run, or the previous run's artifact expired)",
                    p.display()
                ),
            }));
        }
        Err(e) => return Err(e),
    };
    let mut b = Baseline {
        source: format!("dir:{}", dir.display()),
        ..Baseline::default()
    };
    let owners = ScanOwners::new(found.builds.iter().map(|f| &f.doc));
    for f in found.builds {
        let id = f.doc.id.clone();
        let arch = f.doc.arch.clone();
        b.insert_arch(&id, arch.as_deref(), &f.path, Some(f.doc), None);
    }
    for f in found.scans {
        let arch = f.doc.image.architecture.clone();
        b.insert_arch(
            &owners.owner(&f.doc),
            arch.as_deref(),
            &f.path,
            None,
            Some(f.doc),
        );
    }
    for p in found.problems {
        b.warn(
            Some(p.path),
            p.id_hint,
            format!("{} (this image is compared with nothing)", p.message),
        );
    }
    if b.images.is_empty() {
        b.warn(
            None,
            None,
            format!(
                "no build record or scan report found under `{}`",
                dir.display()
            ),
        );
    }
    Ok(DirBaseline::Loaded(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(id: &str, arch: Option<&str>, size: u64) -> BuildRecord {
        let mut v = serde_json::json!({
            "schema": 1, "id": id, "result": "success", "size": size,
            "duration_seconds": 1.0, "started_at": "2026-01-01T00:00:00Z"
        });
        if let Some(a) = arch {
            v["arch"] = a.into();
        }
        serde_json::from_value(v).expect("build record")
    }

    #[test]
    fn each_architecture_is_compared_with_the_same_architecture() {
        let mut b = Baseline::default();
        b.insert_arch(
            "nginx",
            Some("amd64"),
            "a",
            Some(build("nginx", Some("amd64"), 80)),
            None,
        );
        b.insert_arch(
            "nginx",
            Some("arm64"),
            "b",
            Some(build("nginx", Some("arm64"), 100)),
            None,
        );
        let size = |arch| b.get("nginx", arch).and_then(|i| i.build.as_ref()?.size);
        assert_eq!(size(Some("amd64")), Some(80));
        assert_eq!(size(Some("arm64")), Some(100));
        // A run (or a baseline) without architectures still finds the entry.
        assert!(size(None).is_some());
        assert_eq!(size(Some("s390x")), size(None));
        // A baseline without architectures serves every architecture of the run.
        let mut old = Baseline::default();
        old.insert_arch("nginx", None, "c", Some(build("nginx", None, 70)), None);
        assert_eq!(
            old.get("nginx", Some("arm64"))
                .and_then(|i| i.build.as_ref()?.size),
            Some(70)
        );
    }
}
