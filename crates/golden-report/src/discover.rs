//! Find build records and scan reports under a directory (the downloaded artifacts of every
//! matrix job, one folder each), recognising them by content rather than by file name.
//!
//! Every `*.json` file is looked at:
//! - a JSON object shaped like a build record (`schema`, `id`, `result`, ...) or a scan report
//!   (`schema`, `tool`, `image`, `vulnerabilities`/`policy`) is parsed with its contract type;
//! - a file that is empty, unreadable, not JSON, invalid for its contract, of a newer schema or
//!   too large becomes a [`FileProblem`] (never dropped);
//! - any other JSON (SARIF, CycloneDX, Trivy's own report, our `summary.json`) is listed as
//!   ignored;
//! - an audit timeline (`history-*.json`, what `golden-report history --format json` prints)
//!   is recognised by its name, never read as a document here and never a problem, whatever
//!   it holds: it is listed as ignored and in [`Discovery::histories`], for the catalog site.

use golden_contracts::build::BuildRecord;
use golden_contracts::push::{IndexRecord, PushRecord};
use golden_contracts::scan::ScanReport;
use golden_contracts::{DocError, Document};
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use crate::summary::ProblemKind;

/// Files larger than this are not read (a scan report of a large image is a few MiB).
pub const MAX_DOCUMENT_BYTES: u64 = 128 * 1024 * 1024;

/// A folder holding this file is a catalog written by `golden-report site` (its downloads are
/// copies of the run's documents): never searched, so a site kept inside the input folder
/// (`reports/site/` of `make local`) does not count every document twice.
pub const SITE_MARKER: &str = ".golden-site";

#[derive(Debug, thiserror::Error)]
pub enum DiscoverError {
    #[error("input directory `{0}` does not exist")]
    Missing(PathBuf),
    #[error("input `{0}` is not a directory (pass the folder that holds the downloaded artifacts)")]
    NotADirectory(PathBuf),
    #[error("failed to read input directory `{path}`")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DocKind {
    BuildRecord,
    ScanReport,
    PushRecord,
    IndexRecord,
}

impl DocKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DocKind::BuildRecord => "build record",
            DocKind::ScanReport => "scan report",
            DocKind::PushRecord => "push record",
            DocKind::IndexRecord => "index record",
        }
    }
}

/// A document found, with its path relative to the root.
#[derive(Debug, Clone)]
pub struct Found<T> {
    pub path: String,
    /// Directory part of `path` (`""` at the root): artifacts come one folder per job.
    pub dir: String,
    pub doc: T,
}

/// A file that should have been a document and is not usable.
#[derive(Debug, Clone)]
pub struct FileProblem {
    pub path: String,
    pub dir: String,
    pub kind: ProblemKind,
    /// What the file was taken for, when its name or content says so.
    pub doc_kind: Option<DocKind>,
    /// The image id found in a file that parsed as JSON but not as its contract.
    pub id_hint: Option<String>,
    pub message: String,
}

#[derive(Debug, Default)]
pub struct Discovery {
    pub builds: Vec<Found<BuildRecord>>,
    pub scans: Vec<Found<ScanReport>>,
    /// golden-push's push records (`--record`) and index records.
    pub pushes: Vec<Found<PushRecord>>,
    pub indexes: Vec<Found<IndexRecord>>,
    pub problems: Vec<FileProblem>,
    pub ignored: Vec<String>,
    /// Audit timelines (`history-*.json`, [`is_history_document`]), relative paths in order;
    /// also in `ignored`.
    pub histories: Vec<String>,
}

/// An audit timeline of `golden-report history` by its file name: `history-*.json`.
pub fn is_history_document(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.starts_with("history-") && n.ends_with(".json")
}

impl Discovery {
    pub fn is_empty(&self) -> bool {
        self.builds.is_empty() && self.scans.is_empty() && self.problems.is_empty()
    }
}

/// Which image a scan report belongs to: its `entry_id`; else the build record with the same
/// image id, or one sharing a tag (or the scanned reference); else the scanned reference.
/// The same rule for the input, the baseline folder and the registry baseline's subjects.
#[derive(Debug, Default)]
pub struct ScanOwners {
    by_image_id: HashMap<String, String>,
    by_tag: HashMap<String, String>,
}

impl ScanOwners {
    /// Index the build records (the first one with an image id or tag wins).
    pub fn new<'a>(builds: impl IntoIterator<Item = &'a BuildRecord>) -> Self {
        let mut o = ScanOwners::default();
        for b in builds {
            if let Some(iid) = &b.image_id {
                o.by_image_id
                    .entry(iid.clone())
                    .or_insert_with(|| b.id.clone());
            }
            for t in &b.tags {
                o.by_tag.entry(t.clone()).or_insert_with(|| b.id.clone());
            }
        }
        o
    }

    /// The image id `s` is grouped under.
    pub fn owner(&self, s: &ScanReport) -> String {
        if let Some(id) = &s.entry_id {
            return id.clone();
        }
        s.image
            .id
            .as_ref()
            .and_then(|i| self.by_image_id.get(i))
            .or_else(|| {
                s.image
                    .tags
                    .iter()
                    .chain(std::iter::once(&s.image.reference))
                    .find_map(|t| self.by_tag.get(t))
            })
            .cloned()
            .unwrap_or_else(|| s.image.reference.clone())
    }
}

fn rel(root: &Path, p: &Path) -> String {
    p.strip_prefix(root)
        .unwrap_or(p)
        .to_string_lossy()
        .replace('\\', "/")
}

fn dir_of(rel_path: &str) -> String {
    match rel_path.rfind('/') {
        Some(i) => rel_path[..i].to_string(),
        None => String::new(),
    }
}

/// Guess the kind from the file name alone (used when the content cannot tell).
fn kind_from_name(name: &str) -> Option<DocKind> {
    let n = name.to_ascii_lowercase();
    if n.ends_with("push-record.json") {
        Some(DocKind::PushRecord)
    } else if n.ends_with("index-record.json") {
        Some(DocKind::IndexRecord)
    } else if n.contains("build-record") || n.contains("build_record") || n == "record.json" {
        Some(DocKind::BuildRecord)
    } else if n == "report.json" || n.ends_with("scan-report.json") || n.ends_with(".report.json") {
        Some(DocKind::ScanReport)
    } else {
        None
    }
}

/// Decide from content whether a JSON value is one of our documents.
fn kind_from_content(v: &Value) -> Option<DocKind> {
    let o = v.as_object()?;
    // Documents of other tools that may share a folder with ours.
    if o.contains_key("bomFormat") || o.contains_key("runs") || o.contains_key("SchemaVersion") {
        return None;
    }
    match o.get("kind").and_then(Value::as_str) {
        Some("golden-push-record") => return Some(DocKind::PushRecord),
        Some("golden-index-record") => return Some(DocKind::IndexRecord),
        _ => {}
    }
    if !o.contains_key("schema") {
        return None;
    }
    let has = |k: &str| o.contains_key(k);
    if has("result") && (has("id") || has("duration_seconds") || has("started_at")) {
        return Some(DocKind::BuildRecord);
    }
    if has("tool") && has("image") && (has("vulnerabilities") || has("policy") || has("scanned_at"))
    {
        return Some(DocKind::ScanReport);
    }
    None
}

fn problem_from_doc_error(e: &DocError) -> ProblemKind {
    match e {
        DocError::Read { .. } | DocError::Write { .. } => ProblemKind::Unreadable,
        DocError::Empty { .. } => ProblemKind::Empty,
        DocError::Parse { .. } => ProblemKind::Invalid,
        DocError::NewerSchema { .. } => ProblemKind::NewerSchema,
    }
}

fn id_hint(v: &Value) -> Option<String> {
    let o = v.as_object()?;
    o.get("id")
        .or_else(|| o.get("entry_id"))
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// Search `root` recursively. Only a missing or unreadable root is an error; everything below
/// it that goes wrong is collected in [`Discovery::problems`].
pub fn discover(root: &Path) -> Result<Discovery, DiscoverError> {
    let meta = std::fs::metadata(root).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            DiscoverError::Missing(root.to_path_buf())
        } else {
            DiscoverError::Read {
                path: root.to_path_buf(),
                source: e,
            }
        }
    })?;
    if !meta.is_dir() {
        return Err(DiscoverError::NotADirectory(root.to_path_buf()));
    }
    let mut out = Discovery::default();
    let mut files = Vec::new();
    let mut seen_dirs = HashSet::new();
    walk(root, root, &mut files, &mut seen_dirs, &mut out).map_err(|source| {
        DiscoverError::Read {
            path: root.to_path_buf(),
            source,
        }
    })?;
    files.sort();
    for f in files {
        read_one(root, &f, &mut out);
    }
    Ok(out)
}

fn walk(
    root: &Path,
    dir: &Path,
    files: &mut Vec<PathBuf>,
    seen: &mut HashSet<PathBuf>,
    out: &mut Discovery,
) -> std::io::Result<()> {
    // Follow symlinked folders, but never twice (a link loop ends here).
    let canon = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    if !seen.insert(canon) {
        return Ok(());
    }
    if dir != root && dir.join(SITE_MARKER).is_file() {
        out.ignored.push(format!("{}/", rel(root, dir)));
        return Ok(());
    }
    let entries = std::fs::read_dir(dir)?;
    let mut paths: Vec<PathBuf> = Vec::new();
    for entry in entries {
        match entry {
            Ok(e) => paths.push(e.path()),
            Err(e) => {
                let r = rel(root, dir);
                out.problems.push(FileProblem {
                    dir: r.clone(),
                    path: r,
                    kind: ProblemKind::Unreadable,
                    doc_kind: None,
                    id_hint: None,
                    message: format!("failed to list an entry of this folder: {e}"),
                });
            }
        }
    }
    paths.sort();
    for p in paths {
        match std::fs::metadata(&p) {
            Ok(m) if m.is_dir() => {
                if let Err(e) = walk(root, &p, files, seen, out) {
                    let r = rel(root, &p);
                    out.problems.push(FileProblem {
                        dir: r.clone(),
                        path: r,
                        kind: ProblemKind::Unreadable,
                        doc_kind: None,
                        id_hint: None,
                        message: format!("failed to read folder: {e}"),
                    });
                }
            }
            Ok(m) if m.is_file() => {
                let is_json = p
                    .extension()
                    .is_some_and(|e| e.to_string_lossy().eq_ignore_ascii_case("json"));
                if is_json {
                    files.push(p);
                }
            }
            Ok(_) => {}
            Err(e) => {
                // A dangling symlink or a permission problem: say so when it looks like ours.
                let name = p
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                if name.to_ascii_lowercase().ends_with(".json") {
                    let r = rel(root, &p);
                    out.problems.push(FileProblem {
                        dir: dir_of(&r),
                        path: r,
                        kind: ProblemKind::Unreadable,
                        doc_kind: kind_from_name(&name),
                        id_hint: None,
                        message: format!("failed to read file: {e}"),
                    });
                }
            }
        }
    }
    Ok(())
}

fn read_one(root: &Path, path: &Path, out: &mut Discovery) {
    let r = rel(root, path);
    let dir = dir_of(&r);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if is_history_document(&name) {
        out.ignored.push(r.clone());
        out.histories.push(r);
        return;
    }
    let by_name = kind_from_name(&name);
    let problem = |kind, doc_kind, id_hint, message: String| FileProblem {
        path: r.clone(),
        dir: dir.clone(),
        kind,
        doc_kind,
        id_hint,
        message,
    };
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    if size > MAX_DOCUMENT_BYTES {
        out.problems.push(problem(
            ProblemKind::TooLarge,
            by_name,
            None,
            format!(
                "{size} bytes is more than the {MAX_DOCUMENT_BYTES} bytes a build record or scan report can be; not read"
            ),
        ));
        return;
    }
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            out.problems.push(problem(
                ProblemKind::Unreadable,
                by_name,
                None,
                format!("failed to read: {e}"),
            ));
            return;
        }
    };
    match classify_bytes(&r, &name, bytes) {
        Classified::Build(doc) => out.builds.push(Found {
            path: r,
            dir,
            doc: *doc,
        }),
        Classified::Scan(doc) => out.scans.push(Found {
            path: r,
            dir,
            doc: *doc,
        }),
        Classified::Push(doc) => out.pushes.push(Found {
            path: r,
            dir,
            doc: *doc,
        }),
        Classified::Index(doc) => out.indexes.push(Found {
            path: r,
            dir,
            doc: *doc,
        }),
        Classified::Ignored => out.ignored.push(r),
        Classified::Problem {
            kind,
            doc_kind,
            id_hint,
            message,
        } => out.problems.push(problem(kind, doc_kind, id_hint, message)),
    }
}

/// What a file's bytes turned out to be.
#[derive(Debug)]
pub enum Classified {
    Build(Box<BuildRecord>),
    Scan(Box<ScanReport>),
    Push(Box<PushRecord>),
    Index(Box<IndexRecord>),
    /// JSON that is none of ours.
    Ignored,
    Problem {
        kind: ProblemKind,
        doc_kind: Option<DocKind>,
        id_hint: Option<String>,
        message: String,
    },
}

/// Classify one document by content (`label` names it in errors, `name` is its file name,
/// used only as a hint). Shared by the input, the baseline directory and registry artifacts.
pub fn classify_bytes(label: &str, name: &str, bytes: Vec<u8>) -> Classified {
    let by_name = kind_from_name(name);
    let problem = |kind, doc_kind, id_hint, message: String| Classified::Problem {
        kind,
        doc_kind,
        id_hint,
        message,
    };
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            return problem(
                ProblemKind::Corrupt,
                by_name,
                None,
                format!(
                    "not UTF-8 text (byte {}): not a JSON document",
                    e.utf8_error().valid_up_to()
                ),
            );
        }
    };
    if text.trim().is_empty() {
        let what = by_name.map(DocKind::as_str).unwrap_or("JSON document");
        return problem(
            ProblemKind::Empty,
            by_name,
            None,
            format!(
                "empty file (expected a {what}); the job that wrote it probably failed before writing"
            ),
        );
    }
    let value: Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) => {
            return problem(
                ProblemKind::Corrupt,
                by_name,
                None,
                format!("not valid JSON: {e}; the file is truncated or corrupt"),
            );
        }
    };
    let kind = match kind_from_content(&value) {
        Some(k) => k,
        None => {
            // A file named like ours but shaped like nothing we know is a problem, not noise.
            if let Some(k) = by_name
                && (value.as_object().is_some_and(|o| o.contains_key("schema"))
                    || !value.is_object())
            {
                return problem(
                    ProblemKind::Invalid,
                    Some(k),
                    id_hint(&value),
                    format!("named like a {} but does not have its fields", k.as_str()),
                );
            }
            return Classified::Ignored;
        }
    };
    let hint = id_hint(&value);
    let path = Path::new(label);
    match kind {
        DocKind::BuildRecord => match BuildRecord::from_json(path, &text) {
            Ok(doc) => Classified::Build(Box::new(doc)),
            Err(e) => problem(problem_from_doc_error(&e), Some(kind), hint, error_text(&e)),
        },
        DocKind::ScanReport => match ScanReport::from_json(path, &text) {
            Ok(doc) => Classified::Scan(Box::new(doc)),
            Err(e) => problem(problem_from_doc_error(&e), Some(kind), hint, error_text(&e)),
        },
        DocKind::PushRecord => match PushRecord::from_json(path, &text) {
            Ok(doc) => Classified::Push(Box::new(doc)),
            Err(e) => problem(problem_from_doc_error(&e), Some(kind), hint, error_text(&e)),
        },
        DocKind::IndexRecord => match IndexRecord::from_json(path, &text) {
            Ok(doc) => Classified::Index(Box::new(doc)),
            Err(e) => problem(problem_from_doc_error(&e), Some(kind), hint, error_text(&e)),
        },
    }
}

/// The error with its causes, on one line.
pub fn error_text(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(c) = src {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        src = c.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn content_decides_the_kind() {
        assert_eq!(
            kind_from_content(&json!({"schema":1,"id":"a","result":"success"})),
            Some(DocKind::BuildRecord)
        );
        assert_eq!(
            kind_from_content(&json!({"schema":1,"tool":{},"image":{},"policy":{}})),
            Some(DocKind::ScanReport)
        );
        assert_eq!(
            kind_from_content(&json!({"bomFormat":"CycloneDX","schema":1})),
            None
        );
        assert_eq!(
            kind_from_content(&json!({"version":"2.1.0","runs":[]})),
            None
        );
        assert_eq!(kind_from_content(&json!([1, 2])), None);
    }

    #[test]
    fn names_give_a_hint() {
        assert_eq!(
            kind_from_name("build-record.json"),
            Some(DocKind::BuildRecord)
        );
        assert_eq!(kind_from_name("report.json"), Some(DocKind::ScanReport));
        assert_eq!(kind_from_name("report.sarif.json"), None);
        assert!(is_history_document("history-nginx-1.26-debian.json"));
        assert!(is_history_document("HISTORY-x.JSON"));
        assert!(!is_history_document("history.json"));
        assert!(!is_history_document("run-history-summary.json"));
        assert!(!is_history_document("history-x.json.bak"));
    }

    #[test]
    fn audit_timelines_are_listed_by_name_and_never_a_problem() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("audit")).unwrap();
        std::fs::write(dir.path().join("audit/history-a.json"), "{not json").unwrap();
        std::fs::write(
            dir.path().join("history-b.json"),
            r#"{"schema":1,"id":"x","result":"success"}"#,
        )
        .unwrap();
        let d = discover(dir.path()).unwrap();
        assert_eq!(d.histories, ["audit/history-a.json", "history-b.json"]);
        assert_eq!(d.ignored, d.histories);
        assert!(d.problems.is_empty() && d.builds.is_empty(), "{d:?}");
    }

    #[test]
    fn missing_root_is_an_error() {
        let err = discover(Path::new("/nonexistent/golden-report-input")).unwrap_err();
        assert!(err.to_string().contains("does not exist"));
    }
}
