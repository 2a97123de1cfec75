//! `summary.json`: the machine-readable result of one reporter run (one document per run).
//!
//! Versioned like the other contracts: [`SUMMARY_SCHEMA`] is bumped only for incompatible
//! changes (a field removed, renamed or changing meaning); new fields are added as optional
//! (`#[serde(default)]`) without a bump. Readers refuse a newer schema with a hint
//! ([`golden_contracts::Document::from_json`]). Documented field by field in the crate README.

use golden_contracts::Document;
use golden_contracts::build::BuildError;
use golden_contracts::scan::{
    CheckStatus, PolicyFailure, ScannerStatus, Severity, VexJustification, VexStatus,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const SUMMARY_SCHEMA: u32 = 1;

/// The whole run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    pub schema: u32,
    /// `golden-report 0.1.0`.
    pub tool: String,
    /// RFC 3339 time the summary was made.
    pub generated_at: String,
    /// Where the run happened (GitHub context), when known.
    #[serde(default)]
    pub run: RunInfo,
    /// The input directory searched.
    pub input: String,
    /// The baseline compared against, when one was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<BaselineInfo>,
    pub totals: Totals,
    /// One entry per image and architecture, failed builds first (the table order).
    pub images: Vec<ImageSummary>,
    /// Everything that went wrong reading the inputs or the baseline.
    #[serde(default)]
    pub problems: Vec<Problem>,
    /// JSON files found under the input that are neither build records nor scan reports (SARIF,
    /// SBOMs, ...), so a misnamed or misshapen document can be spotted.
    #[serde(default)]
    pub ignored_files: Vec<String>,
    /// What got worse versus the baseline and the history ([`crate::regress`]), sorted by
    /// image, architecture, kind and subject; absent when none (older summaries parse).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub regressions: Vec<crate::regress::Regression>,
}

impl Document for RunSummary {
    const KIND: &'static str = "report summary";
    const SCHEMA: u32 = SUMMARY_SCHEMA;
    fn schema(&self) -> u32 {
        self.schema
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pull_request: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaselineInfo {
    /// `dir:<path>` or `registry`.
    pub source: String,
    /// Images found in the baseline.
    pub images: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    pub images: u64,
    /// Built (or scanned) and passed policy, no problem.
    pub ok: u64,
    /// Every image that is not ok (`build_failed + policy_failed + incomplete`).
    pub failed: u64,
    pub build_failed: u64,
    pub policy_failed: u64,
    /// Missing or unreadable documents: the image's result is unknown.
    pub incomplete: u64,
    /// Builds that succeeded / failed (images with a build record).
    pub builds_succeeded: u64,
    pub builds_failed: u64,
    /// Problems with severity `error`.
    pub problems: u64,
    /// Counted (not suppressed) vulnerabilities by severity over all images.
    pub vulnerabilities: BTreeMap<String, u64>,
    /// Versus the baseline (0 without one).
    pub new_vulnerabilities: u64,
    pub fixed_vulnerabilities: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImageStatus {
    /// Order matters: the table lists failed builds first.
    BuildFailed,
    Incomplete,
    PolicyFailed,
    Ok,
}

impl ImageStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ImageStatus::BuildFailed => "build_failed",
            ImageStatus::Incomplete => "incomplete",
            ImageStatus::PolicyFailed => "policy_failed",
            ImageStatus::Ok => "ok",
        }
    }
    pub fn failed(self) -> bool {
        self != ImageStatus::Ok
    }
}

/// One image of the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageSummary {
    /// Plan entry id (`base-debian`, `nginx-1.26-debian`); for orphaned files `unknown:<path>`.
    pub id: String,
    /// Architecture of this entry (`amd64`, `arm64`) when the documents name it; a multi-arch
    /// run has one entry per architecture, so a failure on one is reported as that
    /// architecture's (the Markdown groups them into one row per image, [`crate::arch_rows`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
    /// Display name: the primary tag (or the scanned reference), with ` (arch)` when the run
    /// has several architectures.
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    pub status: ImageStatus,
    /// Uncompressed size in bytes (build record, else scan report).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Manifest digest when pushed/known, else the image id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// Digest of the multi-architecture index `golden-push index` built for this image id
    /// (`sha256:...`), the same on every architecture's entry; absent without a successful
    /// index record. Entries of one id are grouped by `id`, told apart by `arch`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index_digest: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build: Option<BuildSummary>,
    /// This image's push record (golden-push `--record`, found under `--input` or
    /// `--push-records`), when there is one; the last one read wins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub push: Option<PushSummary>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scan: Option<ScanSummary>,
    /// Present when a baseline was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<BaselineDiff>,
    /// Problems attached to this image (missing or unreadable documents).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
    /// Input files this image was read from (relative to the input directory).
    #[serde(default)]
    pub sources: Vec<String>,
}

impl ImageSummary {
    /// Unique per row: `id`, or `id@arch` when the row has an architecture.
    pub fn key(&self) -> String {
        match &self.arch {
            Some(a) => format!("{}@{a}", self.id),
            None => self.id.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BuildSummary {
    pub succeeded: bool,
    pub duration_seconds: f64,
    pub started_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_digest: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<BuildError>,
    /// The build cache sources, as the build record gives them (absent: none were asked for).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache: Option<golden_contracts::build::CacheSources>,
}

/// What an image's push record says about the push (each value absent when the record does
/// not have it: records of older golden-push versions, or a push that failed early).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushSummary {
    pub succeeded: bool,
    /// Wall time of the push command (tags and referrers included).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_seconds: Option<f64>,
    /// Bytes of the blobs this push sent (0: the registry had every blob, or mounted them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes_uploaded: Option<u64>,
    /// The manifest's layer sizes plus its config size: what a pull downloads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compressed_size: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanSummary {
    pub scanned_at: String,
    pub scanner_status: ScannerStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scanner: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scanner_note: Option<String>,
    /// Counted vulnerabilities by severity (all five keys, suppressed excluded).
    pub vulnerabilities: BTreeMap<String, u64>,
    pub suppressed: u64,
    pub fixable: u64,
    pub packages: u64,
    /// Packages per kind (`dpkg`, `maven`, `pypi`, ...), from the scan report's summary.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub packages_by_kind: BTreeMap<String, u64>,
    pub compliance: ComplianceCounts,
    /// Checks with status `fail`, `warn` or `skip`, with their evidence.
    #[serde(default)]
    pub checks: Vec<CheckSummary>,
    pub policy_passed: bool,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub policy: String,
    #[serde(default)]
    pub policy_failures: Vec<PolicyFailure>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Vulnerabilities a VEX statement or a policy ignore entry suppressed (in the report, not
    /// in the counts), most severe first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub suppressed_vulns: Vec<SuppressedVuln>,
}

/// A suppressed vulnerability and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuppressedVuln {
    pub id: String,
    pub package: String,
    pub installed: String,
    pub severity: Severity,
    /// The VEX status (`not_affected`, `fixed`) when a VEX statement suppressed it; absent for
    /// a policy ignore entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vex_status: Option<VexStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub justification: Option<VexJustification>,
    /// Why: the VEX impact statement (if any) and the statement's `file#/pointer`, or the
    /// ignore entry's reason and expiry.
    pub reason: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComplianceCounts {
    pub pass: u64,
    pub fail: u64,
    pub warn: u64,
    pub info: u64,
    pub skip: u64,
    /// Non-passing results a policy ignore entry suppressed (not in the other counts).
    #[serde(default)]
    pub suppressed: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckSummary {
    pub id: String,
    pub title: String,
    pub status: CheckStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cis: Option<String>,
    #[serde(default)]
    pub evidence: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remediation: Option<String>,
}

/// A vulnerability as the diff lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VulnRef {
    pub id: String,
    pub package: String,
    pub installed: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed: Option<String>,
    pub severity: Severity,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageRef {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageChange {
    pub name: String,
    pub from: String,
    pub to: String,
}

/// The comparison of one image with its baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BaselineDiff {
    /// Whether the baseline has this image at all (false: a new image, nothing to compare).
    pub found: bool,
    /// Where the baseline documents came from (file or registry reference).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_before: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_change: Option<i64>,
    /// Whether vulnerabilities and packages could be compared (both sides have a scan report).
    pub compared_scan: bool,
    #[serde(default)]
    pub new_vulnerabilities: Vec<VulnRef>,
    #[serde(default)]
    pub fixed_vulnerabilities: Vec<VulnRef>,
    #[serde(default)]
    pub packages_added: Vec<PackageRef>,
    #[serde(default)]
    pub packages_removed: Vec<PackageRef>,
    #[serde(default)]
    pub packages_changed: Vec<PackageChange>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// A build record whose image has no scan report.
    MissingScanReport,
    /// A scan report whose image has no build record.
    MissingBuildRecord,
    /// A planned image (`--plan`) with neither document.
    MissingImage,
    /// No build record or scan report under the input at all.
    NoInput,
    Empty,
    Unreadable,
    /// Not JSON at all.
    Corrupt,
    /// JSON, but not a valid document of its kind.
    Invalid,
    NewerSchema,
    TooLarge,
    /// Two documents of the same kind for one image (the newest is used).
    Duplicate,
    /// Something wrong with the baseline (never fails an image).
    Baseline,
    /// A push or index record says the push (or the index) failed: which architecture,
    /// which tags did not move.
    PushFailed,
    /// An unreadable `--history` file or folder (never fails an image).
    History,
    /// A webhook receiver that did not accept the alert (never changes the exit code).
    Webhook,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProblemSeverity {
    /// The image's row fails.
    Error,
    /// Reported, does not fail anything.
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    pub kind: ProblemKind,
    pub severity: ProblemSeverity,
    /// The file concerned, relative to the input (or baseline) directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The image concerned, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    pub message: String,
}

/// Severity names in table order, as they appear in `vulnerabilities` maps.
pub fn severity_keys() -> impl Iterator<Item = &'static str> {
    Severity::ALL.iter().map(|s| s.as_str())
}

/// A map with all five severities at zero.
pub fn zero_severities() -> BTreeMap<String, u64> {
    severity_keys().map(|k| (k.to_string(), 0)).collect()
}
