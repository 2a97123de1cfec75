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
    /// By plan entry id.
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
        b.insert(&id, &f.path, Some(f.doc), None);
    }
    for f in found.scans {
        b.insert(&owners.owner(&f.doc), &f.path, None, Some(f.doc));
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
