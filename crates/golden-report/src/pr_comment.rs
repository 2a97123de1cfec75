//! The pull-request comment as data: [`CommentData`] is what a pull-request run hands to the
//! trusted poster (inside `pr-comment.json`, see [`crate::comment_file`]), and [`render`] is the
//! one renderer of the sticky comment, used by both paths (a same-repository run posting
//! directly, and the `workflow_run` poster posting for a fork).
//!
//! A fork controls every byte of the file, so the poster never posts text from it: it reads
//! numbers, enums and a few short strings, each checked against a strict pattern
//! ([`CommentData::validate`]) and shown only inside code spans, where GitHub makes no links,
//! mentions, issue references or HTML entities. The run link is built by the poster itself.
//!
//! The producer ([`CommentData::from_report`]) applies the same patterns, so an honest run
//! always writes a file the poster accepts: a value that does not fit is replaced (image ids
//! and names, with `_` for each character outside the pattern) or left out (and counted).

use golden_contracts::scan::{ScannerStatus, Severity, VexJustification, VexStatus};
use golden_contracts::units::human_bytes;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::aggregate::Report;
use crate::arch_rows::{self, ImageRow, per_arch};
use crate::escape::safe_url;
pub(crate) use crate::markdown::status_icon;
use crate::markdown::{COMMENT_LIMIT, Counts, headline, human_change, status_parts};
use crate::packages::Columns;
use crate::pr_comment_arch;
use crate::summary::{ImageStatus, ImageSummary};

/// At most this many images in a file.
pub const MAX_IMAGES: usize = 300;
/// At most this many vulnerabilities listed per image.
pub const MAX_VULNS_PER_IMAGE: usize = 20;
/// At most this many package kinds per image.
pub const MAX_KINDS_PER_IMAGE: usize = 24;

/// Counts by severity (all five, fixed keys).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Severities {
    pub critical: u64,
    pub high: u64,
    pub medium: u64,
    pub low: u64,
    pub unknown: u64,
}

impl Severities {
    fn from_map(m: &std::collections::BTreeMap<String, u64>) -> Self {
        let g = |s: Severity| m.get(s.as_str()).copied().unwrap_or(0);
        Severities {
            critical: g(Severity::Critical),
            high: g(Severity::High),
            medium: g(Severity::Medium),
            low: g(Severity::Low),
            unknown: g(Severity::Unknown),
        }
    }
    fn in_order(&self) -> [(&'static str, u64); 5] {
        [
            ("critical", self.critical),
            ("high", self.high),
            ("medium", self.medium),
            ("low", self.low),
            ("unknown", self.unknown),
        ]
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommentTotals {
    pub images: u64,
    pub ok: u64,
    pub failed: u64,
    pub build_failed: u64,
    pub policy_failed: u64,
    pub incomplete: u64,
    /// Problems with severity `error`.
    pub problems: u64,
    pub vulnerabilities: Severities,
    /// Images compared with a baseline (absent without one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline_images: Option<u64>,
    pub new_vulnerabilities: u64,
    pub fixed_vulnerabilities: u64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Compliance {
    pub pass: u64,
    pub fail: u64,
    pub warn: u64,
    pub info: u64,
    pub skip: u64,
}

/// One vulnerability of the details list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommentVuln {
    /// `CVE-2024-1234`, `GHSA-xxxx-xxxx-xxxx`, `DSA-5678-1`, ...
    pub id: String,
    pub severity: Severity,
    pub package: String,
    pub installed: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed: Option<String>,
}

/// A suppressed vulnerability of the details list: why it is not counted, as enums only (the
/// free-text reason stays in the job summary).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommentSuppressed {
    pub id: String,
    pub severity: Severity,
    pub package: String,
    /// The VEX status; absent when a policy ignore entry suppressed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vex_status: Option<VexStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub justification: Option<VexJustification>,
}

/// One image row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommentImage {
    /// Plan entry id.
    pub id: String,
    /// Architecture of this entry (`amd64`, `arm64`) when the documents name it; a
    /// multi-architecture run has one entry per architecture, rendered as one row per id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
    pub status: ImageStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Versus the baseline, when it has the image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_change: Option<i64>,
    /// A baseline was given and does not have this image.
    #[serde(default)]
    pub new_image: bool,
    /// `sha256:<hex>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// `sha256:<hex>` of the image's multi-architecture index, when one was built.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index_digest: Option<String>,
    /// Absent when the image was not scanned at all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scanner: Option<ScannerStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vulnerabilities: Option<Severities>,
    /// New / fixed versus the baseline, when the scans were compared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_vulnerabilities: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed_vulnerabilities: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compliance: Option<Compliance>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_passed: Option<bool>,
    #[serde(default)]
    pub policy_failures: u64,
    /// True when `vulns` are the ones new versus the baseline.
    #[serde(default)]
    pub new_only: bool,
    #[serde(default)]
    pub vulns: Vec<CommentVuln>,
    /// Vulnerabilities not listed (over the cap, or not fitting the patterns).
    #[serde(default)]
    pub vulns_omitted: u64,
    /// Suppressed vulnerabilities (VEX or policy ignore), not counted above.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub suppressed: Vec<CommentSuppressed>,
    /// Suppressed vulnerabilities not listed (over the cap, or not fitting the patterns).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub suppressed_omitted: u64,
    /// The scan report's package count (absent when not scanned, and in files of older
    /// versions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub packages: Option<u64>,
    /// Packages per ecosystem (`dpkg`, `maven`, ...), kinds checked against
    /// [`Pattern::Kind`], at most [`MAX_KINDS_PER_IMAGE`]; absent when the scan report does not
    /// count them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub packages_by_kind: BTreeMap<String, u64>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// The comment's content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommentData {
    pub totals: CommentTotals,
    pub images: Vec<CommentImage>,
    /// Images not listed (over [`MAX_IMAGES`]).
    #[serde(default)]
    pub images_omitted: u64,
    /// Regressions versus the baseline (at most [`MAX_REGRESSIONS`]); absent when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub regressions: Vec<CommentRegression>,
}

/// At most this many regressions in a file.
pub const MAX_REGRESSIONS: usize = 50;

/// A regression as the comment shows it: numbers, enums and pattern-checked ids only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommentRegression {
    pub image: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
    pub kind: crate::regress::RegressionKind,
    /// Vulnerability or check id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    /// Bytes (`size`) or whole seconds (`build_time`, the median).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<u64>,
}

impl CommentRegression {
    fn from_regression(r: &crate::regress::Regression) -> Self {
        use crate::regress::{Measure, RegressionKind};
        let num = |m: Option<&Measure>| match m {
            Some(Measure::Count(n)) => Some(*n),
            Some(Measure::Seconds(s)) if s.is_finite() && *s >= 0.0 => Some(s.round() as u64),
            _ => None,
        };
        let (id, package) = match r.subject.as_deref() {
            Some(s) => match s.split_once(' ') {
                Some((a, b)) => (Some(a.to_string()), Some(b.to_string())),
                None => (Some(s.to_string()), None),
            },
            None => (None, None),
        };
        let severity = match (&r.kind, &r.after) {
            (RegressionKind::NewFixableVulnerability, Measure::Text(t)) => {
                serde_json::from_value(serde_json::Value::String(t.clone())).ok()
            }
            _ => None,
        };
        CommentRegression {
            image: Pattern::Id.coerce(&r.image),
            arch: opt(&r.arch, Pattern::Id),
            kind: r.kind,
            id: opt(&id, Pattern::VulnId),
            package: opt(&package, Pattern::Package),
            severity,
            before: num(r.before.as_ref()),
            after: num(Some(&r.after)),
        }
    }

    /// One Markdown line: ids in code spans, numbers formatted here.
    fn line(&self) -> String {
        use crate::regress::RegressionKind;
        let mut out = format!("- 📉 {}", code(&self.image));
        if let Some(a) = &self.arch {
            let _ = write!(out, " ({})", code(a));
        }
        let _ = write!(out, " **{}**", self.kind.text());
        let change = |b: u64, a: u64| {
            if b > 0 {
                format!("{:+.1} %", (a as f64 - b as f64) * 100.0 / b as f64)
            } else {
                String::new()
            }
        };
        match self.kind {
            RegressionKind::Size => {
                if let (Some(b), Some(a)) = (self.before, self.after) {
                    let _ = write!(
                        out,
                        " {} ({} → {})",
                        change(b, a),
                        human_bytes(b),
                        human_bytes(a)
                    );
                }
            }
            RegressionKind::BuildTime => {
                if let (Some(b), Some(a)) = (self.before, self.after) {
                    let _ = write!(out, " {} (median {b} s → {a} s)", change(b, a));
                }
            }
            RegressionKind::NewFixableVulnerability => {
                if let Some(id) = &self.id {
                    let _ = write!(out, " {}", code(id));
                }
                if let Some(p) = &self.package {
                    let _ = write!(out, " in {}", code(p));
                }
                if let Some(s) = self.severity {
                    let _ = write!(out, " ({})", s.as_str());
                }
            }
            RegressionKind::Compliance => {
                if let Some(id) = &self.id {
                    let _ = write!(out, " {}", code(id));
                }
                out.push_str(" passed before, fails now");
            }
        }
        out.push('\n');
        out
    }
}

/// The comment's `### Regressions` section (empty when none).
fn regressions_section(d: &CommentData) -> String {
    if d.regressions.is_empty() {
        return String::new();
    }
    let mut out = String::from("\n### Regressions\n\n");
    for r in &d.regressions {
        out.push_str(&r.line());
    }
    out
}

/// The strict patterns of the string fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pattern {
    /// Plan entry ids (and `unknown:<path>`): letters, digits, `.`, `_`, `-`, `:`, `/`, `+`.
    Id,
    /// OS names (`debian 12`, `alpine 3.20.1`): letters, digits, space, `.`, `_`, `-`, `+`, `(`, `)`.
    Os,
    /// Versions: letters, digits, `.`, `_`, `-`, `+`, `:`, `~`, `^`, and `, ` (lists of fixed
    /// versions).
    Version,
    /// Package names: letters, digits, `.`, `_`, `-`, `+`, `:`, `/`, `@`.
    Package,
    /// Vulnerability ids: an uppercase letter, then letters, digits, `-`, `_`, `.`, `:`; one
    /// `-` at least.
    VulnId,
    /// `algorithm:hex` (32 to 128 lowercase hex digits).
    Digest,
    /// Package kinds (`dpkg`, `python-pkg`, `dotnet-core`): letters, digits, `.`, `_`, `-`,
    /// `+`.
    Kind,
}

impl Pattern {
    pub fn max_len(self) -> usize {
        match self {
            Pattern::Id => 128,
            Pattern::Os => 64,
            Pattern::Version => 128,
            Pattern::Package => 128,
            Pattern::VulnId => 64,
            Pattern::Digest => 150,
            Pattern::Kind => 32,
        }
    }

    fn allows(self, c: char) -> bool {
        let base = c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '+');
        match self {
            Pattern::Id => base || matches!(c, ':' | '/'),
            Pattern::Os => base || matches!(c, ' ' | '(' | ')'),
            Pattern::Version => base || matches!(c, ':' | '~' | '^' | ',' | ' '),
            Pattern::Package => base || matches!(c, ':' | '/' | '@'),
            Pattern::VulnId => (base && c != '+') || c == ':',
            Pattern::Digest => c.is_ascii_lowercase() || c.is_ascii_digit() || c == ':',
            Pattern::Kind => base,
        }
    }

    /// What the pattern accepts, for error messages.
    pub fn describe(self) -> &'static str {
        match self {
            Pattern::Id => {
                "letters, digits, `.`, `_`, `-`, `+`, `:` and `/`, starting with a letter or digit"
            }
            Pattern::Os => "letters, digits, spaces, `.`, `_`, `-`, `+`, `(` and `)`",
            Pattern::Version => {
                "letters, digits, `.`, `_`, `-`, `+`, `:`, `~`, `^`, `,` and spaces, starting with a letter or digit"
            }
            Pattern::Package => {
                "letters, digits, `.`, `_`, `-`, `+`, `:`, `/` and `@`, starting with a letter, digit or `@`"
            }
            Pattern::VulnId => {
                "an uppercase letter, then letters, digits, `-`, `_`, `.` and `:`, with at least one `-` (CVE-2024-1234)"
            }
            Pattern::Digest => "`sha256:` and 64 lowercase hex digits (algorithm:hex)",
            Pattern::Kind => {
                "letters, digits, `.`, `_`, `-` and `+`, starting with a letter or digit"
            }
        }
    }

    /// Whether `v` matches.
    pub fn matches(self, v: &str) -> bool {
        let Some(first) = v.chars().next() else {
            return false;
        };
        if v.len() > self.max_len() || !v.chars().all(|c| self.allows(c)) {
            return false;
        }
        // Nothing that reads as a link, even outside a code span.
        if v.contains("://") || v.to_ascii_lowercase().contains("www.") {
            return false;
        }
        match self {
            Pattern::Id | Pattern::Os | Pattern::Kind => first.is_ascii_alphanumeric(),
            Pattern::Version => first.is_ascii_alphanumeric() && !v.ends_with(' '),
            Pattern::Package => first.is_ascii_alphanumeric() || first == '@',
            Pattern::VulnId => first.is_ascii_uppercase() && v.contains('-'),
            Pattern::Digest => match v.split_once(':') {
                Some((alg, hex)) => {
                    !alg.is_empty()
                        && alg.len() <= 16
                        && alg
                            .chars()
                            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
                        && (32..=128).contains(&hex.len())
                        && hex.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f'))
                }
                None => false,
            },
        }
    }

    /// Make `v` match by replacing every other character with `_` (producer side, for the
    /// required fields).
    fn coerce(self, v: &str) -> String {
        let mut s: String = v
            .chars()
            .map(|c| if self.allows(c) { c } else { '_' })
            .take(self.max_len())
            .collect();
        s = s.replace("://", "_/").replace("www.", "www_");
        s = s.replace("WWW.", "WWW_");
        if s.is_empty() {
            return "unnamed".into();
        }
        if !s.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            s.insert(0, 'x');
            s.truncate(self.max_len());
        }
        if self.matches(&s) {
            s
        } else {
            "unnamed".into()
        }
    }
}

/// A field that failed validation: its path (`images[3].vulns[0].id`) and the problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub problem: String,
}

/// A list of `len` entries where at most `max` are allowed; the error names the field.
fn at_most(field: impl Into<String>, len: usize, max: usize) -> Result<(), FieldError> {
    if len > max {
        return Err(FieldError {
            field: field.into(),
            problem: format!("has {len} entries, more than {max}"),
        });
    }
    Ok(())
}

fn check(field: impl FnOnce() -> String, v: &str, p: Pattern) -> Result<(), FieldError> {
    if p.matches(v) {
        return Ok(());
    }
    Err(FieldError {
        field: field(),
        problem: format!(
            "{} is not allowed here: expected {} (at most {} characters)",
            golden_gha::quote(v, 60),
            p.describe(),
            p.max_len()
        ),
    })
}

fn opt(v: &Option<String>, p: Pattern) -> Option<String> {
    v.as_deref().filter(|s| p.matches(s)).map(str::to_string)
}

impl CommentData {
    /// The comment's data from a report (producer side: never fails, see the module docs).
    pub fn from_report(report: &Report) -> Self {
        let s = &report.summary;
        let t = &s.totals;
        let totals = CommentTotals {
            images: t.images,
            ok: t.ok,
            failed: t.failed,
            build_failed: t.build_failed,
            policy_failed: t.policy_failed,
            incomplete: t.incomplete,
            problems: t.problems,
            vulnerabilities: Severities::from_map(&t.vulnerabilities),
            baseline_images: s.baseline.as_ref().map(|b| b.images),
            new_vulnerabilities: t.new_vulnerabilities,
            fixed_vulnerabilities: t.fixed_vulnerabilities,
        };
        let images: Vec<CommentImage> = s
            .images
            .iter()
            .take(MAX_IMAGES)
            .map(|i| image(i, report))
            .collect();
        CommentData {
            images_omitted: (s.images.len() - images.len()) as u64,
            totals,
            images,
            regressions: s
                .regressions
                .iter()
                .take(MAX_REGRESSIONS)
                .map(CommentRegression::from_regression)
                .collect(),
        }
    }

    /// Check every string against its pattern and every list against its cap; the error
    /// names the field.
    pub fn validate(&self) -> Result<(), FieldError> {
        at_most("images", self.images.len(), MAX_IMAGES)?;
        for (n, i) in self.images.iter().enumerate() {
            let f = |name: &str| format!("images[{n}].{name}");
            check(|| f("id"), &i.id, Pattern::Id)?;
            if let Some(v) = &i.arch {
                check(|| f("arch"), v, Pattern::Id)?;
            }
            if let Some(v) = &i.index_digest {
                check(|| f("index_digest"), v, Pattern::Digest)?;
            }
            if let Some(v) = &i.os {
                check(|| f("os"), v, Pattern::Os)?;
            }
            if let Some(v) = &i.version {
                check(|| f("version"), v, Pattern::Version)?;
            }
            if let Some(v) = &i.digest {
                check(|| f("digest"), v, Pattern::Digest)?;
            }
            at_most(f("vulns"), i.vulns.len(), MAX_VULNS_PER_IMAGE)?;
            for (k, v) in i.vulns.iter().enumerate() {
                let g = |name: &str| format!("images[{n}].vulns[{k}].{name}");
                check(|| g("id"), &v.id, Pattern::VulnId)?;
                check(|| g("package"), &v.package, Pattern::Package)?;
                check(|| g("installed"), &v.installed, Pattern::Version)?;
                if let Some(x) = &v.fixed {
                    check(|| g("fixed"), x, Pattern::Version)?;
                }
            }
            at_most(
                f("packages_by_kind"),
                i.packages_by_kind.len(),
                MAX_KINDS_PER_IMAGE,
            )?;
            for k in i.packages_by_kind.keys() {
                check(|| f("packages_by_kind"), k, Pattern::Kind)?;
            }
            at_most(f("suppressed"), i.suppressed.len(), MAX_VULNS_PER_IMAGE)?;
            for (k, v) in i.suppressed.iter().enumerate() {
                let g = |name: &str| format!("images[{n}].suppressed[{k}].{name}");
                check(|| g("id"), &v.id, Pattern::VulnId)?;
                check(|| g("package"), &v.package, Pattern::Package)?;
            }
        }
        at_most("regressions", self.regressions.len(), MAX_REGRESSIONS)?;
        for (n, r) in self.regressions.iter().enumerate() {
            let f = |name: &str| format!("regressions[{n}].{name}");
            check(|| f("image"), &r.image, Pattern::Id)?;
            if let Some(v) = &r.arch {
                check(|| f("arch"), v, Pattern::Id)?;
            }
            if let Some(v) = &r.id {
                check(|| f("id"), v, Pattern::VulnId)?;
            }
            if let Some(v) = &r.package {
                check(|| f("package"), v, Pattern::Package)?;
            }
        }
        Ok(())
    }
}

fn image(i: &ImageSummary, report: &Report) -> CommentImage {
    let scan = i.scan.as_ref();
    let compared = i
        .baseline
        .as_ref()
        .filter(|d| d.compared_scan && scan.is_some());
    let shown = report.shown_vulns.get(&i.key());
    let mut vulns = Vec::new();
    let mut omitted = 0u64;
    for v in shown.map(|s| s.items.as_slice()).unwrap_or_default() {
        let fixed = v.fixed.as_ref().filter(|f| !f.is_empty());
        let ok = Pattern::VulnId.matches(&v.id)
            && Pattern::Package.matches(&v.package)
            && Pattern::Version.matches(&v.installed)
            && fixed.is_none_or(|f| Pattern::Version.matches(f));
        if !ok || vulns.len() >= MAX_VULNS_PER_IMAGE {
            omitted += 1;
            continue;
        }
        vulns.push(CommentVuln {
            id: v.id.clone(),
            severity: v.severity,
            package: v.package.clone(),
            installed: v.installed.clone(),
            fixed: fixed.cloned(),
        });
    }
    let (suppressed, suppressed_omitted) = suppressed(i);
    CommentImage {
        id: Pattern::Id.coerce(&i.id),
        arch: i.arch.as_deref().map(|a| Pattern::Id.coerce(a)),
        status: i.status,
        os: opt(&i.os, Pattern::Os),
        version: opt(&i.version, Pattern::Version),
        size: i.size,
        size_change: i
            .baseline
            .as_ref()
            .filter(|d| d.found)
            .and_then(|d| d.size_change),
        new_image: i.baseline.as_ref().is_some_and(|d| !d.found),
        digest: opt(&i.digest, Pattern::Digest),
        index_digest: opt(&i.index_digest, Pattern::Digest),
        scanner: scan.map(|s| s.scanner_status),
        vulnerabilities: scan.map(|s| Severities::from_map(&s.vulnerabilities)),
        new_vulnerabilities: compared.map(|d| d.new_vulnerabilities.len() as u64),
        fixed_vulnerabilities: compared.map(|d| d.fixed_vulnerabilities.len() as u64),
        compliance: scan.map(|s| Compliance {
            pass: s.compliance.pass,
            fail: s.compliance.fail,
            warn: s.compliance.warn,
            info: s.compliance.info,
            skip: s.compliance.skip,
        }),
        policy_passed: scan.map(|s| s.policy_passed),
        policy_failures: scan.map(|s| s.policy_failures.len() as u64).unwrap_or(0),
        new_only: shown.is_some_and(|s| s.new_only),
        vulns,
        vulns_omitted: omitted,
        suppressed,
        suppressed_omitted,
        packages: scan.map(|s| s.packages),
        packages_by_kind: scan
            .map(|s| packages_by_kind(&s.packages_by_kind))
            .unwrap_or_default(),
    }
}

/// The kinds as the patterns allow them (a kind that does not fit is coerced, and kinds that
/// end up the same are added up), the first [`MAX_KINDS_PER_IMAGE`] in the tables' order
/// ([`crate::packages::kind_order`]); kinds counting nothing are left out.
fn packages_by_kind(m: &BTreeMap<String, u64>) -> BTreeMap<String, u64> {
    let mut all: BTreeMap<String, u64> = BTreeMap::new();
    for (k, n) in m.iter().filter(|(_, n)| **n > 0) {
        let slot = all.entry(Pattern::Kind.coerce(k)).or_default();
        *slot = slot.saturating_add(*n);
    }
    let mut kinds: Vec<(String, u64)> = all.into_iter().collect();
    kinds.sort_by(|a, b| crate::packages::kind_order(&a.0, &b.0));
    kinds.into_iter().take(MAX_KINDS_PER_IMAGE).collect()
}

/// The image's suppressed vulnerabilities that fit the patterns (at most
/// [`MAX_VULNS_PER_IMAGE`]), and how many were left out.
fn suppressed(i: &ImageSummary) -> (Vec<CommentSuppressed>, u64) {
    let mut out = Vec::new();
    let mut omitted = 0u64;
    for v in i.scan.iter().flat_map(|s| s.suppressed_vulns.iter()) {
        let ok = Pattern::VulnId.matches(&v.id) && Pattern::Package.matches(&v.package);
        if !ok || out.len() >= MAX_VULNS_PER_IMAGE {
            omitted += 1;
            continue;
        }
        out.push(CommentSuppressed {
            id: v.id.clone(),
            severity: v.severity,
            package: v.package.clone(),
            vex_status: v.vex_status,
            justification: v.justification,
        });
    }
    (out, omitted)
}

/// A validated value in a code span (the patterns exclude backticks and `|`).
pub(crate) fn code(s: &str) -> String {
    format!("`{s}`")
}

fn header(d: &CommentData) -> String {
    let t = &d.totals;
    let counts = Counts {
        images: t.images,
        ok: t.ok,
        failed: t.failed,
        build_failed: t.build_failed,
        policy_failed: t.policy_failed,
        incomplete: t.incomplete,
        problems: t.problems,
    };
    let mut out = headline(&counts);
    let g = arch_rows::group(&d.images);
    let mut parts = status_parts(
        &counts,
        g.multi_arch()
            .then(|| arch_rows::count_line(&g, t.images, code)),
    );
    if t.problems > 0 {
        parts.push(format!("{} problems (see the job summary)", t.problems));
    }
    let vulns: Vec<String> = t
        .vulnerabilities
        .in_order()
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(k, n)| format!("{n} {k}"))
        .collect();
    let unscanned = d
        .images
        .iter()
        .filter(|i| i.scanner != Some(ScannerStatus::Scanned))
        .count();
    let scanned = d.images.len() - unscanned;
    if vulns.is_empty() && scanned > 0 {
        parts.push(if unscanned == 0 {
            "no vulnerabilities".into()
        } else {
            format!("no vulnerabilities in the {scanned} scanned")
        });
    } else if !vulns.is_empty() {
        parts.push(format!("vulnerabilities: {}", vulns.join(", ")));
    }
    if unscanned > 0 {
        parts.push(format!(
            "vulnerabilities not scanned for {unscanned} image{}",
            if unscanned == 1 { "" } else { "s" }
        ));
    }
    if let Some(b) = t.baseline_images {
        parts.push(format!(
            "versus baseline: +{} new, −{} fixed ({b} images compared)",
            t.new_vulnerabilities, t.fixed_vulnerabilities
        ));
    }
    let _ = writeln!(out, "{}\n", parts.join(" · "));
    out
}

const TABLE_HEAD: &str = "| | Image | OS | Version | Size (change) | Vulnerabilities C / H / M / L / U | New / fixed | Compliance | Policy | Digest |\n|---|---|---|---|---|---|---|---|---|---|\n";

fn row(i: &CommentImage) -> String {
    format!(
        "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
        status_icon(i.status),
        code(&i.id),
        os_cell(i),
        version_cell(i),
        size_cell(i),
        vulns_cell(i),
        new_fixed_cell(i),
        compliance_cell(i),
        policy_cell(i),
        digest_cell(i.digest.as_deref()),
    )
}

fn dash() -> String {
    "—".to_string()
}

pub(crate) fn os_cell(i: &CommentImage) -> String {
    i.os.as_deref().map(code).unwrap_or_else(dash)
}

pub(crate) fn version_cell(i: &CommentImage) -> String {
    i.version.as_deref().map(code).unwrap_or_else(dash)
}

pub(crate) fn size_cell(i: &CommentImage) -> String {
    match i.size {
        Some(sz) if i.new_image => format!("{} (new)", human_bytes(sz)),
        Some(sz) => match i.size_change {
            Some(c) => format!("{} ({})", human_bytes(sz), human_change(c)),
            None => human_bytes(sz),
        },
        None => dash(),
    }
}

pub(crate) fn vulns_cell(i: &CommentImage) -> String {
    match (i.scanner, i.vulnerabilities) {
        (Some(ScannerStatus::Scanned), Some(v)) => v
            .in_order()
            .iter()
            .map(|(k, n)| {
                if *n > 0 && (*k == "critical" || *k == "high") {
                    format!("**{n}**")
                } else {
                    n.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join(" / "),
        (Some(ScannerStatus::Disabled), _) => "not scanned (disabled)".into(),
        (Some(ScannerStatus::Unavailable), _) => "⚠️ scanner unavailable".into(),
        (Some(ScannerStatus::Failed), _) => "⚠️ scanner failed".into(),
        _ => dash(),
    }
}

pub(crate) fn new_fixed_cell(i: &CommentImage) -> String {
    match (i.new_vulnerabilities, i.fixed_vulnerabilities) {
        (Some(n), Some(f)) => format!("+{n} / −{f}"),
        _ if i.new_image => "new image".into(),
        _ => dash(),
    }
}

pub(crate) fn compliance_cell(i: &CommentImage) -> String {
    match i.compliance {
        Some(c) if c.fail > 0 => format!("❌ {} failed", c.fail),
        Some(c) if c.pass + c.warn + c.info + c.skip == 0 => dash(),
        Some(c) if c.warn > 0 => format!("⚠️ {} passed, {} warn", c.pass, c.warn),
        Some(c) => format!("✅ {} passed", c.pass),
        None => dash(),
    }
}

pub(crate) fn policy_cell(i: &CommentImage) -> String {
    match i.policy_passed {
        Some(true) => "✅ pass".to_string(),
        Some(false) => format!("❌ fail ({})", i.policy_failures.max(1)),
        None if i.status == ImageStatus::BuildFailed => "not scanned".into(),
        None => dash(),
    }
}

/// `sha256:` and 12 hex digits in a code span (the value is validated as a digest).
pub(crate) fn digest_cell(d: Option<&str>) -> String {
    match d.and_then(|d| d.split_once(':')) {
        Some((alg, hex)) => code(&format!("{alg}:{}", &hex[..12.min(hex.len())])),
        None => dash(),
    }
}

fn details(i: &CommentImage) -> Option<String> {
    let suppressed = i.suppressed.len() as u64 + i.suppressed_omitted;
    if i.vulns.is_empty() && i.vulns_omitted == 0 && suppressed == 0 {
        return None;
    }
    let what = if i.new_only {
        "new vulnerabilities"
    } else {
        "vulnerabilities"
    };
    let total = i.vulns.len() as u64 + i.vulns_omitted;
    let also = if suppressed > 0 {
        format!(" (+{suppressed} suppressed)")
    } else {
        String::new()
    };
    let mut out = format!(
        "<details>\n<summary>{} {}: {total} {what}{also}</summary>\n\n",
        status_icon(i.status),
        code(&i.id)
    );
    out.push_str(&vuln_list(i));
    out.push_str("\n</details>\n");
    Some(out)
}

/// The vulnerability table of an entry, and how many more there are.
pub(crate) fn vuln_list(i: &CommentImage) -> String {
    let mut out = String::new();
    if !i.vulns.is_empty() {
        out.push_str("| Severity | ID | Package | Installed | Fixed |\n|---|---|---|---|---|\n");
        for v in &i.vulns {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                v.severity.as_str().to_ascii_lowercase(),
                code(&v.id),
                code(&v.package),
                code(&v.installed),
                v.fixed.as_deref().map(code).unwrap_or_else(|| "—".into())
            );
        }
    }
    if i.vulns_omitted > 0 {
        let _ = writeln!(
            out,
            "\n_{} more in the job summary and the image's scan report._",
            i.vulns_omitted
        );
    }
    suppressed_table(&mut out, i);
    out
}

/// Suppressed vulnerabilities with the VEX status and justification (enums, in code spans).
fn suppressed_table(out: &mut String, i: &CommentImage) {
    if i.suppressed.is_empty() && i.suppressed_omitted == 0 {
        return;
    }
    out.push_str("\n**Suppressed** (not counted)\n\n");
    if !i.suppressed.is_empty() {
        out.push_str(
            "| Severity | ID | Package | Suppressed by | Justification |\n|---|---|---|---|---|\n",
        );
        for v in &i.suppressed {
            let by = match v.vex_status {
                Some(s) => format!("VEX {}", code(s.as_str())),
                None => "policy ignore".into(),
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {by} | {} |",
                v.severity.as_str().to_ascii_lowercase(),
                code(&v.id),
                code(&v.package),
                v.justification
                    .map(|j| code(j.as_str()))
                    .unwrap_or_else(|| "—".into())
            );
        }
    }
    if i.suppressed_omitted > 0 {
        let _ = writeln!(
            out,
            "\n_{} more suppressed in the job summary._",
            i.suppressed_omitted
        );
    }
}

/// Render the comment (without the marker line) within GitHub's limit; `reserved` characters
/// are taken by the marker line. `run_url` must come from the trusted side (it is checked with
/// [`safe_url`] too).
pub fn render(d: &CommentData, run_url: Option<&str>, reserved: usize) -> String {
    let budget = COMMENT_LIMIT - 536 - reserved;
    let len = |s: &str| s.chars().count();
    let url = run_url.and_then(safe_url);
    let footer = match &url {
        Some(u) => format!("\n_Report by golden-report for [this run]({u})._\n"),
        None => "\n_Report by golden-report._\n".to_string(),
    };
    let pointer = match &url {
        Some(u) => format!("the full report is in the [job summary]({u})"),
        None => "the full report is in the run's job summary".to_string(),
    };
    let reserve = len(&pointer) + 200;
    let mut out = header(d);
    let g = arch_rows::group(&d.images);
    if g.multi_arch() {
        out.push_str(&pr_comment_arch::table_head(&g.arches));
    } else {
        out.push_str(TABLE_HEAD);
    }
    let mut left_out = d.images_omitted;
    let mut listed = 0;
    for i in &g.rows {
        let r = match i.entries.as_slice() {
            [e] if !g.multi_arch() => row(e),
            _ => pr_comment_arch::row(i, &g.arches),
        };
        if len(&out) + len(&r) + len(&footer) + reserve > budget {
            break;
        }
        out.push_str(&r);
        listed += 1;
    }
    left_out += (g.rows.len() - listed) as u64;
    if left_out > 0 {
        let _ = writeln!(
            out,
            "\n_{left_out} more images are not listed here; {pointer}._"
        );
    }
    let regressions = regressions_section(d);
    if len(&out) + len(&regressions) + len(&footer) + reserve <= budget {
        out.push_str(&regressions);
    } else if !d.regressions.is_empty() {
        let _ = writeln!(
            out,
            "\n_{} regressions are not listed here; {pointer}._",
            d.regressions.len()
        );
    }
    // In the room the table left: cut short or left out, never at the table's expense.
    let room = budget.saturating_sub(len(&out) + len(&footer) + reserve);
    out.push_str(&packages_section(&g.rows[..listed], room, &pointer));
    let blocks: Vec<String> = g.rows[..listed]
        .iter()
        .filter_map(|r| match r.entries.as_slice() {
            [e] if !g.multi_arch() => details(e),
            _ => pr_comment_arch::details(r),
        })
        .collect();
    if !blocks.is_empty() {
        let all: usize = blocks.iter().map(|b| len(b)).sum();
        if len(&out) + all + 20 + len(&footer) + reserve <= budget {
            out.push_str("\n### Details\n\n");
            for b in blocks {
                out.push_str(&b);
            }
        } else {
            out.push_str("\n### Details\n\n");
            let mut shown = 0;
            for b in &blocks {
                if len(&out) + len(b) + len(&footer) + reserve > budget {
                    break;
                }
                out.push_str(b);
                shown += 1;
            }
            let _ = writeln!(
                out,
                "\n_Details of {} more images were left out; {pointer}._",
                blocks.len() - shown
            );
        }
    }
    out.push_str(&footer);
    out
}

/// The "Packages per ecosystem" table ([`crate::packages`]) of the listed rows in at most
/// `room` characters: every kind in a code span (validated by [`Pattern::Kind`]); empty when no
/// image counts its packages per kind.
fn packages_section(rows: &[ImageRow<'_, CommentImage>], room: usize, pointer: &str) -> String {
    let cols = Columns::of(
        rows.iter()
            .flat_map(|r| r.entries.iter())
            .map(|i| &i.packages_by_kind),
    );
    if cols.is_empty() {
        return String::new();
    }
    let len = |s: &str| s.chars().count();
    let lines: Vec<String> = rows.iter().map(|r| packages_row(r, &cols)).collect();
    let fitted = crate::packages::fit(&cols.head(code), &lines, room, len, |n| {
        format!("\n_The package counts of {n} more images are not listed here; {pointer}._\n")
    });
    match fitted {
        Some(t) => t,
        None => {
            let note =
                format!("\n_Package counts per ecosystem are not listed here; {pointer}._\n");
            if len(&note) <= room {
                note
            } else {
                String::new()
            }
        }
    }
}

/// One image's row: the total and each kind's count, per architecture when they differ.
fn packages_row(r: &ImageRow<'_, CommentImage>, cols: &Columns) -> String {
    let e = &r.entries;
    let total = per_arch(e, code, |i| crate::packages::cell(i.packages));
    let cells: String = (0..cols.width())
        .map(|c| {
            format!(
                " {} |",
                per_arch(e, code, |i| crate::packages::cell(
                    cols.counts(&i.packages_by_kind)[c]
                ))
            )
        })
        .collect();
    format!("| {} | {total} |{cells}\n", code(r.id()))
}

#[cfg(test)]
pub(crate) mod tests_support {
    use super::*;

    pub(crate) fn vuln(id: &str) -> CommentVuln {
        CommentVuln {
            id: id.into(),
            severity: Severity::High,
            package: "openssl".into(),
            installed: "3.0.11-1~deb12u1".into(),
            fixed: Some("3.0.13-1~deb12u1".into()),
        }
    }

    pub(crate) fn sample() -> CommentData {
        CommentData {
            totals: CommentTotals {
                images: 1,
                failed: 1,
                policy_failed: 1,
                ..Default::default()
            },
            images: vec![CommentImage {
                id: "nginx-1.26-debian".into(),
                arch: None,
                status: ImageStatus::PolicyFailed,
                os: Some("debian 12".into()),
                version: Some("1.26.2".into()),
                size: Some(80_000_000),
                size_change: Some(-1200),
                new_image: false,
                digest: Some(format!("sha256:{}", "ab".repeat(32))),
                index_digest: None,
                scanner: Some(ScannerStatus::Scanned),
                vulnerabilities: Some(Severities {
                    high: 1,
                    ..Default::default()
                }),
                new_vulnerabilities: Some(1),
                fixed_vulnerabilities: Some(0),
                compliance: Some(Compliance {
                    pass: 20,
                    fail: 1,
                    ..Default::default()
                }),
                policy_passed: Some(false),
                policy_failures: 1,
                new_only: true,
                vulns: vec![vuln("CVE-2024-5535"), vuln("GHSA-abcd-efgh-2345")],
                vulns_omitted: 0,
                suppressed: vec![
                    CommentSuppressed {
                        id: "CVE-2024-0001".into(),
                        severity: Severity::Critical,
                        package: "libssl3".into(),
                        vex_status: Some(VexStatus::NotAffected),
                        justification: Some(VexJustification::VulnerableCodeNotInExecutePath),
                    },
                    CommentSuppressed {
                        id: "CVE-2024-0002".into(),
                        severity: Severity::Low,
                        package: "zlib1g".into(),
                        vex_status: None,
                        justification: None,
                    },
                ],
                suppressed_omitted: 0,
                packages: Some(143),
                packages_by_kind: BTreeMap::from([("dpkg".into(), 120), ("maven".into(), 23)]),
            }],
            images_omitted: 0,
            regressions: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use super::tests_support::{sample, vuln};

    #[test]
    fn patterns_accept_what_scanners_report() {
        for (p, v) in [
            (Pattern::Id, "nginx-1.26-debian"),
            (Pattern::Id, "unknown:scan/x/report.json"),
            (Pattern::Os, "debian 12"),
            (Pattern::Os, "alpine 3.20.1"),
            (Pattern::Version, "1:2.39.2-1.1"),
            (Pattern::Version, "3.0.13-1~deb12u1"),
            (Pattern::Version, "1.2.3, 1.3.0"),
            (Pattern::Package, "@babel/core"),
            (Pattern::Package, "libssl3"),
            (Pattern::VulnId, "CVE-2024-5535"),
            (Pattern::VulnId, "GHSA-abcd-efgh-2345"),
            (Pattern::VulnId, "RHSA-2023:1234"),
            (Pattern::VulnId, "TEMP-0841856-B18BAF"),
            (Pattern::Digest, &format!("sha256:{}", "0".repeat(64))),
        ] {
            assert!(p.matches(v), "{p:?} refuses {v}");
        }
    }

    #[test]
    fn patterns_refuse_links_references_html_and_invisible_characters() {
        for (p, v) in [
            (Pattern::Id, "a](https://evil.example)"),
            (Pattern::Id, "https://evil.example"),
            (Pattern::Id, "www.evil.example"),
            (Pattern::Id, "owner/repo#12"),
            (Pattern::Id, "#12"),
            (Pattern::Id, "@octocat"),
            (Pattern::Id, "a&amp;b"),
            (Pattern::Id, "<b>x</b>"),
            (Pattern::Id, "x`y"),
            (Pattern::Id, "a|b"),
            (Pattern::Id, "a\u{202E}b"),
            (Pattern::Id, "a\u{200B}b"),
            (Pattern::Id, "a\nb"),
            (Pattern::Id, ""),
            (Pattern::Id, &"a".repeat(129)),
            (Pattern::Os, "debian [x](y)"),
            (Pattern::Version, "1.0 https://x"),
            (Pattern::Package, "pkg#1"),
            (Pattern::VulnId, "cve-2024-1"),
            (Pattern::VulnId, "CVE2024"),
            (Pattern::VulnId, "CVE-1 x"),
            (Pattern::Digest, "sha256:XYZ"),
            (Pattern::Digest, "sha256:abc"),
        ] {
            assert!(!p.matches(v), "{p:?} accepts {v:?}");
        }
    }

    #[test]
    fn validation_names_the_field() {
        let mut d = sample();
        d.images[0].vulns[1].package = "x [link](https://evil.example)".into();
        let e = d.validate().unwrap_err();
        assert_eq!(e.field, "images[0].vulns[1].package");
        assert!(e.problem.contains("not allowed"), "{}", e.problem);
        let mut d = sample();
        d.images[0].id = "a\r::warning::x".into();
        let e = d.validate().unwrap_err();
        assert_eq!(e.field, "images[0].id");
        assert!(e.problem.contains("`a\\u{d}::warning::x`"), "{}", e.problem);
        let mut d = sample();
        d.images[0].vulns = (0..21).map(|n| vuln(&format!("CVE-2024-{n:04}"))).collect();
        assert_eq!(d.validate().unwrap_err().field, "images[0].vulns");
        let mut d = sample();
        d.images[0].suppressed[1].id = "CVE-1 <b>".into();
        assert_eq!(
            d.validate().unwrap_err().field,
            "images[0].suppressed[1].id"
        );
        let mut d = sample();
        d.images[0].suppressed[0].package = "@here".into();
        d.validate().unwrap();
        d.images[0].suppressed[0].package = "a b".into();
        assert_eq!(
            d.validate().unwrap_err().field,
            "images[0].suppressed[0].package"
        );
        let mut d = sample();
        let one = d.images[0].suppressed[0].clone();
        d.images[0].suppressed = vec![one; 21];
        assert_eq!(d.validate().unwrap_err().field, "images[0].suppressed");
        sample().validate().unwrap();
    }

    #[test]
    fn package_kinds_are_coerced_added_up_and_capped() {
        let m: BTreeMap<String, u64> = [
            ("dpkg", 10),
            ("a|b", 1),
            ("a<b", 2),
            ("none", 0),
            ("<script>", 3),
        ]
        .iter()
        .map(|(k, n)| (k.to_string(), *n))
        .chain((0..30).map(|n| (format!("z{n:02}"), 1)))
        .collect();
        let out = packages_by_kind(&m);
        assert_eq!(out.len(), MAX_KINDS_PER_IMAGE);
        assert!(out.keys().all(|k| Pattern::Kind.matches(k)), "{out:?}");
        // `a|b` and `a<b` both become `a_b`: one kind, both counts; a zero is no kind.
        assert_eq!(out.get("a_b"), Some(&3));
        assert_eq!(out.get("x_script_"), Some(&3));
        assert_eq!(out.get("dpkg"), Some(&10));
        assert!(!out.contains_key("none"));
        // The cap keeps the first kinds in the tables' order: dpkg, then alphabetically.
        assert!(
            out.contains_key("z00") && !out.contains_key("z29"),
            "{out:?}"
        );
    }

    #[test]
    fn coerce_makes_required_fields_valid() {
        assert_eq!(Pattern::Id.coerce("unknown:a b/c#1"), "unknown:a_b/c_1");
        assert_eq!(Pattern::Id.coerce("https://x"), "https_/x");
        assert_eq!(Pattern::Id.coerce("-x"), "x-x");
        assert_eq!(Pattern::Id.coerce(""), "unnamed");
        for v in ["", "\u{202E}", "www.x", "::", "a\r::add-mask::b"] {
            assert!(Pattern::Id.matches(&Pattern::Id.coerce(v)), "{v:?}");
        }
    }

    /// Strip code spans; what is left must hold no link, mention, reference, entity or HTML
    /// but the renderer's own.
    pub(crate) fn assert_inert(body: &str, run_url: Option<&str>) {
        let mut outside = String::new();
        for (n, part) in body.split('`').enumerate() {
            if n % 2 == 0 {
                outside.push_str(part);
            }
        }
        if let Some(u) = run_url {
            outside = outside.replace(&format!("]({u})"), "]");
        }
        for tag in ["<details>", "</details>", "<summary>", "</summary>"] {
            outside = outside.replace(tag, "");
        }
        for bad in [
            "](", "://", "www.", "@", "&", "<", ">", "#1", "#2", "#3", "#4", "#5", "#6", "#7",
            "#8", "#9", "#0",
        ] {
            assert!(
                !outside.contains(bad),
                "`{bad}` outside code spans:\n{body}"
            );
        }
        assert!(!body.chars().any(|c| (c.is_control() && c != '\n')
            || golden_gha::is_deceptive_format(c)
            || (golden_gha::is_line_break(c) && c != '\n')));
    }

    #[test]
    fn rendered_comment_is_inert_and_complete() {
        let url = "https://github.com/o/r/actions/runs/12";
        let body = render(&sample(), Some(url), 40);
        assert_inert(&body, Some(url));
        assert!(
            body.contains("## ❌ Golden images: 1 of 1 failed"),
            "{body}"
        );
        assert!(body.contains("| ⛔ | `nginx-1.26-debian` | `debian 12` | `1.26.2` | 76.3 MiB (−1.2 KiB) | 0 / **1** / 0 / 0 / 0 | +1 / −0 | ❌ 1 failed | ❌ fail (1) | `sha256:abababababab` |"), "{body}");
        assert!(
            body.contains(
                "| high | `CVE-2024-5535` | `openssl` | `3.0.11-1~deb12u1` | `3.0.13-1~deb12u1` |"
            ),
            "{body}"
        );
        assert!(
            body.contains("2 new vulnerabilities (+2 suppressed)"),
            "{body}"
        );
        // Suppressed findings, not counted, with the VEX status and justification.
        assert!(
            body.contains("| critical | `CVE-2024-0001` | `libssl3` | VEX `not_affected` | `vulnerable_code_not_in_execute_path` |"),
            "{body}"
        );
        assert!(
            body.contains("| low | `CVE-2024-0002` | `zlib1g` | policy ignore | — |"),
            "{body}"
        );
        assert!(body.contains(&format!("[this run]({url})")), "{body}");
        // The package counts per ecosystem of the sample (143: 120 dpkg, 23 maven).
        assert!(
            body.contains("| Image | Total | `dpkg` | `maven` |\n|---|---:|---:|---:|\n| `nginx-1.26-debian` | 143 | 120 | 23 |\n"),
            "{body}"
        );
    }

    #[test]
    fn many_images_stay_under_the_limit() {
        let mut d = sample();
        let one = d.images[0].clone();
        d.images = (0..MAX_IMAGES)
            .map(|n| {
                let mut i = one.clone();
                i.id = format!("image-{n}-{}", "x".repeat(100));
                i.vulns = (0..MAX_VULNS_PER_IMAGE)
                    .map(|k| vuln(&format!("CVE-2024-{k:05}")))
                    .collect();
                i
            })
            .collect();
        d.images_omitted = 7;
        d.validate().unwrap();
        let body = render(&d, None, 40);
        assert!(
            body.chars().count() < COMMENT_LIMIT - 40,
            "{}",
            body.chars().count()
        );
        assert!(body.contains("more images are not listed here"), "{body}");
        assert_inert(&body, None);
    }
}
