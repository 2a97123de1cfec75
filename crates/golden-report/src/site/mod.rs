//! `golden-report site`: the golden image catalog, a static site rendered from the same
//! documents and the same aggregated model as the report ([`crate::discover`] +
//! [`crate::aggregate`]), plus earlier runs' `summary.json` files for the history charts and
//! the audit timelines of `golden-report history` found as `history-*.json` in the input
//! ([`audit`]).
//!
//! The site is self-contained: one stylesheet and one script inlined in every page and allowed
//! by hash in a strict Content-Security-Policy ([`html`]), no request to anything, relative
//! links only (works from `file://` and under a Pages sub-path), complete without JavaScript.
//!
//! Layout of the output folder:
//! `index.html`, `images/<slug>.html`, `files/<slug>/<arch>/<document>` (the downloads),
//! `summary.json` (this run) and `history/<run>-summary.json` (the runs charted, compacted), so
//! a later run can take its `--history` from the published site.
//!
//! The folder is written next to the target and renamed into place: a failed run leaves the
//! previous site as it was.

pub mod audit;
pub mod history;
pub mod html;
pub mod model;
pub mod pages;
pub mod signing;

use std::path::{Path, PathBuf};

use crate::aggregate::{Context, aggregate};
use crate::discover::{Found, discover};
use crate::summary::{Problem, RunInfo, RunSummary};
use model::{Documents, Image};
use pages::Download;

/// Settings of `golden-report site`.
#[derive(Debug, Clone)]
pub struct SiteConfig {
    pub input: PathBuf,
    pub history: Option<PathBuf>,
    /// The run's plan: planned images without documents are listed as missing, and each
    /// image page links its Dockerfile at the built commit.
    pub plan: Option<PathBuf>,
    pub output: PathBuf,
    pub run: RunInfo,
    /// RFC 3339 time of this run.
    pub now: String,
}

/// What was written.
#[derive(Debug, Clone)]
pub struct SiteOutcome {
    pub images: usize,
    pub pages: usize,
    /// Every file written.
    pub bytes: u64,
    /// The pages and summaries alone, without the downloads (the documents copied as they are).
    pub page_bytes: u64,
    pub history_runs: usize,
    /// Problems of the inputs (unreadable documents, history files), for the caller to print.
    pub problems: Vec<Problem>,
}

#[derive(Debug, thiserror::Error)]
pub enum SiteError {
    #[error(transparent)]
    Discover(#[from] crate::discover::DiscoverError),
    #[error("failed to read the plan")]
    Plan(#[source] golden_contracts::DocError),
    #[error(
        "refusing to replace `{0}`: it exists and is not a catalog written by `golden-report site` (no index.html); pass an empty or new folder"
    )]
    NotASite(PathBuf),
    #[error(
        "no image found under `{0}`: no build record or scan report (were the artifacts downloaded there?); the previous site, if any, was left as it was"
    )]
    NoImages(PathBuf),
    #[error("failed to write the site under `{path}`")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("failed to write `{path}`")]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SiteError + '_ {
    move |source| SiteError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Documents kept beside each scan report that the image page offers for download.
const SIBLINGS: [(&str, &str); 5] = [
    ("sbom.cdx.json", "SBOM (CycloneDX)"),
    ("report.sarif", "SARIF"),
    ("report.sarif.json", "SARIF"),
    ("vex.openvex.json", "VEX (OpenVEX)"),
    ("report.md", "Report (Markdown)"),
];

/// A rendered file: its path relative to the site root and its bytes.
pub type SiteFile = (String, Vec<u8>);

/// Read, aggregate and render the site into memory: every file, and what was rendered.
pub fn render(cfg: &SiteConfig) -> Result<(Vec<SiteFile>, SiteOutcome), SiteError> {
    let found = discover(&cfg.input)?;
    let (timelines, mut audit_problems) = audit::read(&cfg.input, &found.histories);
    let plan = match &cfg.plan {
        Some(p) => Some(
            <golden_contracts::plan::Plan as golden_contracts::Document>::read(p)
                .map_err(SiteError::Plan)?,
        ),
        None => None,
    };
    let dockerfiles: std::collections::BTreeMap<String, String> = plan
        .iter()
        .flat_map(|p| p.entries())
        .map(|e| (e.id.clone(), e.dockerfile.clone()))
        .collect();
    let docs = Documents {
        builds: found.builds.clone(),
        scans: found.scans.clone(),
        pushes: found.pushes.clone(),
        indexes: found
            .indexes
            .iter()
            .flat_map(|f| f.doc.indexes.iter().cloned())
            .collect(),
    };
    let report = aggregate(
        found,
        None,
        Context {
            input: cfg.input.display().to_string(),
            generated_at: cfg.now.clone(),
            run: cfg.run.clone(),
            plan,
            extra_problems: Vec::new(),
        },
    );
    let hist = history::read(cfg.history.as_deref(), &report.summary);
    let mut images = model::images(&report, &docs);
    for i in &mut images {
        i.dockerfile = dockerfiles.get(&i.id).cloned();
    }
    audit_problems.extend(audit::attach(&mut images, timelines));

    let mut files: Vec<SiteFile> = Vec::new();
    let mut pages_n = 0;
    for i in &images {
        let downloads = downloads(&cfg.input, i, &mut files)?;
        files.push((
            format!("images/{}.html", i.slug),
            pages::image(i, &images, &hist, &downloads, &report.summary.run).into_bytes(),
        ));
        pages_n += 1;
    }
    files.push((
        "index.html".into(),
        pages::index(&images, &report.summary, &hist).into_bytes(),
    ));
    pages_n += 1;
    let json = |p: &str, s: &RunSummary| {
        serde_json::to_vec(s).map_err(|source| SiteError::Json {
            path: PathBuf::from(p),
            source,
        })
    };
    files.push((
        crate::discover::SITE_MARKER.into(),
        b"Written by golden-report site: report inputs under this folder are copies, never read as a run's documents.\n".to_vec(),
    ));
    files.push((
        "summary.json".into(),
        json("summary.json", &report.summary)?,
    ));
    for s in hist
        .summaries
        .iter()
        .chain(std::iter::once(&report.summary))
    {
        let name = format!("history/{}-summary.json", run_stamp(&s.generated_at));
        let bytes = json(&name, &compact(s))?;
        files.push((name, bytes));
    }
    let mut problems = report.summary.problems.clone();
    problems.extend(hist.problems.iter().cloned());
    problems.extend(audit_problems);
    let outcome = SiteOutcome {
        images: images.len(),
        pages: pages_n,
        bytes: files.iter().map(|(_, b)| b.len() as u64).sum(),
        page_bytes: files
            .iter()
            .filter(|(p, _)| !p.starts_with("files/"))
            .map(|(_, b)| b.len() as u64)
            .sum(),
        history_runs: hist.runs,
        problems,
    };
    Ok((files, outcome))
}

/// A file name part from a run time: digits and `T`/`Z` only.
fn run_stamp(generated_at: &str) -> String {
    let s: String = generated_at
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(40)
        .collect();
    if s.is_empty() { "run".into() } else { s }
}

/// What the history charts need of a run, still a valid summary.json.
fn compact(s: &RunSummary) -> RunSummary {
    let mut s = s.clone();
    s.problems.clear();
    s.ignored_files.clear();
    s.regressions.clear();
    for i in &mut s.images {
        i.baseline = None;
        i.sources.clear();
        i.problems.clear();
        if let Some(scan) = &mut i.scan {
            scan.checks.clear();
            scan.suppressed_vulns.clear();
            scan.policy_failures.clear();
            scan.warnings.clear();
        }
    }
    s
}

/// The documents of an image offered for download, copied under `files/<slug>/<arch>/`.
fn downloads(
    input: &Path,
    i: &Image,
    files: &mut Vec<SiteFile>,
) -> Result<Vec<Download>, SiteError> {
    let mut out = Vec::new();
    for e in &i.entries {
        let dir = format!("files/{}/{}", i.slug, model::arch_slug(&e.arch));
        let mut add = |src: &Path, name: &str, label: &str| -> Result<(), SiteError> {
            let bytes = std::fs::read(src).map_err(io(src))?;
            let path = format!("{dir}/{name}");
            if files.iter().any(|(p, _)| *p == path) {
                return Ok(());
            }
            files.push((path.clone(), bytes));
            out.push(Download {
                arch: e.arch.clone(),
                label: label.into(),
                path,
            });
            Ok(())
        };
        if let Some(s) = &e.scan {
            let src = input.join(&s.path);
            add(&src, "report.json", "Scan report (report.json)")?;
            if let Some(parent) = src.parent() {
                for (name, label) in SIBLINGS {
                    let p = parent.join(name);
                    if p.is_file() {
                        add(&p, name, label)?;
                    }
                }
            }
        }
        let mut doc = |f: Option<&Found<()>>, name: &str, label: &str| -> Result<(), SiteError> {
            if let Some(f) = f {
                add(&input.join(&f.path), name, label)?;
            }
            Ok(())
        };
        doc(
            e.build.as_ref().map(unit).as_ref(),
            "build-record.json",
            "Build record",
        )?;
        doc(
            e.push.as_ref().map(unit).as_ref(),
            "push-record.json",
            "Push record",
        )?;
    }
    Ok(out)
}

fn unit<T>(f: &Found<T>) -> Found<()> {
    Found {
        path: f.path.clone(),
        dir: f.dir.clone(),
        doc: (),
    }
}

/// Render and write the site: into a fresh folder beside `output`, then renamed into place
/// (the previous site, if any, removed only after the new one is complete).
pub fn write_site(cfg: &SiteConfig) -> Result<SiteOutcome, SiteError> {
    let (files, outcome) = render(cfg)?;
    if outcome.images == 0 {
        return Err(SiteError::NoImages(cfg.input.clone()));
    }
    let out = &cfg.output;
    if out.exists() {
        let is_site = out.join("index.html").is_file();
        let empty = std::fs::read_dir(out)
            .map(|mut d| d.next().is_none())
            .unwrap_or(false);
        if !is_site && !empty {
            return Err(SiteError::NotASite(out.clone()));
        }
    }
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(io(&parent))?;
    let base = out
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "site".into());
    let tmp = parent.join(format!(".{base}.tmp-{}", std::process::id()));
    let old = parent.join(format!(".{base}.old-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let result = (|| {
        for (rel, bytes) in &files {
            let p = tmp.join(rel);
            if let Some(d) = p.parent() {
                std::fs::create_dir_all(d).map_err(io(d))?;
            }
            std::fs::write(&p, bytes).map_err(io(&p))?;
        }
        // An empty site still gets its folder.
        std::fs::create_dir_all(&tmp).map_err(io(&tmp))?;
        if out.exists() {
            std::fs::rename(out, &old).map_err(io(out))?;
        }
        std::fs::rename(&tmp, out).map_err(io(out))?;
        let _ = std::fs::remove_dir_all(&old);
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
        if !out.exists() && old.exists() {
            let _ = std::fs::rename(&old, out);
        }
    }
    result.map(|()| outcome)
}
