//! Regressions: what got worse versus the baseline (and, for build times, versus the history of
//! earlier runs), as typed findings in `summary.json` ([`RunSummary::regressions`]).
//!
//! | kind | when | before / after | threshold |
//! |---|---|---|---|
//! | `size` | the image grew by MORE than `size_percent` % of the baseline image | bytes | percent |
//! | `new_fixable_vulnerability` | a vulnerability new versus the baseline, CRITICAL or HIGH, with a fixed version | `null` / severity | none |
//! | `compliance` | a check that passed in the baseline scan fails now | `pass` / `fail` | none |
//! | `build_time` | the build took MORE than `build_time_percent` % over the median of the earlier builds, and at least [`BUILD_TIME_MIN_SECONDS`] more | seconds (median) / seconds | percent |
//!
//! "More than": growth of exactly the threshold is not a regression (10 % of 100 MB is 110 MB:
//! not flagged; 110 MB and one byte is). A regression never fails the policy or the image; it
//! changes the exit code only with `--fail-on-regression`.
//!
//! Architecture invariant: detection reads the report and the baseline, never the network;
//! unreadable history is a warning ([`ProblemKind::History`]), never an error.

use golden_contracts::Document;
use golden_contracts::build::BuildResult;
use golden_contracts::scan::{CheckStatus, Severity};
use golden_contracts::units::human_bytes;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use crate::baseline::Baseline;
use crate::summary::{ImageSummary, Problem, ProblemKind, ProblemSeverity, RunSummary};

/// Default of `--regression-size-percent`.
pub const DEFAULT_SIZE_PERCENT: f64 = 10.0;
/// Default of `--regression-build-time-percent`: hosted runners vary by 10-20 % from one run to
/// the next (runner load, layer cache hits), so 25 % over the median flags a real slowdown (a
/// lost cache, a new heavy step) without a weekly false alarm.
pub const DEFAULT_BUILD_TIME_PERCENT: f64 = 25.0;
/// A build must also be at least this many seconds slower than the median: a 20 s build that
/// takes 28 s is noise, not a regression.
pub const BUILD_TIME_MIN_SECONDS: f64 = 30.0;
/// History files larger than this are skipped with a warning.
const MAX_HISTORY_FILE: u64 = 64 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegressionKind {
    Size,
    NewFixableVulnerability,
    Compliance,
    BuildTime,
}

impl RegressionKind {
    pub const ALL: [RegressionKind; 4] = [
        RegressionKind::Size,
        RegressionKind::NewFixableVulnerability,
        RegressionKind::Compliance,
        RegressionKind::BuildTime,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            RegressionKind::Size => "size",
            RegressionKind::NewFixableVulnerability => "new_fixable_vulnerability",
            RegressionKind::Compliance => "compliance",
            RegressionKind::BuildTime => "build_time",
        }
    }
    /// Human name, for Markdown and messages.
    pub fn text(self) -> &'static str {
        match self {
            RegressionKind::Size => "size",
            RegressionKind::NewFixableVulnerability => "new fixable vulnerability",
            RegressionKind::Compliance => "compliance",
            RegressionKind::BuildTime => "build time",
        }
    }
}

/// A measured value: bytes (a count), seconds, or a word (`pass`, `fail`, `HIGH`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Measure {
    Count(u64),
    Seconds(f64),
    Text(String),
}

/// One regression of one image (and architecture).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Regression {
    /// Plan entry id.
    pub image: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
    pub kind: RegressionKind,
    /// What regressed inside the image: `CVE-2024-1234 openssl` (vulnerability id and
    /// package), or the check id (`GOLDEN-USER-001`); absent for `size` and `build_time`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// The baseline's value (bytes; median seconds; `pass`), `null` for a new vulnerability.
    pub before: Option<Measure>,
    /// This run's value (bytes; seconds; `fail`; the vulnerability's severity).
    pub after: Measure,
    /// The threshold in percent (`size`, `build_time`), else `null`.
    pub threshold: Option<f64>,
    /// One line for people.
    pub message: String,
}

impl Regression {
    /// Stable identity, free of volatile values: `image@arch:kind:subject`.
    pub fn key(&self) -> String {
        let mut k = self.image.clone();
        if let Some(a) = &self.arch {
            k.push('@');
            k.push_str(a);
        }
        k.push(':');
        k.push_str(self.kind.as_str());
        if let Some(s) = &self.subject {
            k.push(':');
            k.push_str(s);
        }
        k
    }
}

/// Thresholds and the history folder.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub size_percent: f64,
    pub build_time_percent: f64,
    /// Earlier runs' `summary.json` files (any depth).
    pub history: Option<PathBuf>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            size_percent: DEFAULT_SIZE_PERCENT,
            build_time_percent: DEFAULT_BUILD_TIME_PERCENT,
            history: None,
        }
    }
}

/// Earlier build durations per image key (`id` or `id@arch`), successful builds only.
#[derive(Debug, Clone, Default)]
pub struct History {
    pub durations: HashMap<String, Vec<f64>>,
    /// Files read.
    pub files: usize,
    pub problems: Vec<Problem>,
}

fn history_warning(path: &Path, message: String) -> Problem {
    Problem {
        kind: ProblemKind::History,
        severity: ProblemSeverity::Warning,
        path: Some(path.display().to_string()),
        image: None,
        message: format!("history: {message} (skipped; build times are compared without it)"),
    }
}

/// Read every `summary.json` (and `*-summary.json`) under `dir`, at any depth. Unreadable
/// files and folders are warnings.
/// Every `summary.json` / `*-summary.json` below `dir` (any depth), sorted; and the folders that
/// could not be listed, each with the reason. The one walk the history readers share (the
/// regression baseline here, the catalog site's charts).
pub fn summary_files(dir: &Path) -> (Vec<std::path::PathBuf>, Vec<(std::path::PathBuf, String)>) {
    let mut stack = vec![dir.to_path_buf()];
    let mut files = Vec::new();
    let mut unlisted = Vec::new();
    while let Some(d) = stack.pop() {
        let entries = match std::fs::read_dir(&d) {
            Ok(e) => e,
            Err(e) => {
                unlisted.push((d, format!("cannot list the folder: {e}")));
                continue;
            }
        };
        for e in entries.flatten() {
            let p = e.path();
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_dir() {
                stack.push(p);
            } else if p
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n == "summary.json" || n.ends_with("-summary.json"))
            {
                files.push(p);
            }
        }
    }
    files.sort();
    (files, unlisted)
}

pub fn read_history(dir: &Path) -> History {
    let mut h = History::default();
    if !dir.is_dir() {
        h.problems.push(history_warning(
            dir,
            "--history folder does not exist or is not a folder".into(),
        ));
        return h;
    }
    let (files, unlisted) = summary_files(dir);
    for (d, why) in unlisted {
        h.problems.push(history_warning(&d, why));
    }
    for p in files {
        if std::fs::metadata(&p).is_ok_and(|m| m.len() > MAX_HISTORY_FILE) {
            h.problems.push(history_warning(
                &p,
                format!("larger than {MAX_HISTORY_FILE} bytes"),
            ));
            continue;
        }
        match RunSummary::read(&p) {
            Ok(s) => {
                h.files += 1;
                for i in &s.images {
                    if let Some(b) = i.build.as_ref().filter(|b| b.succeeded)
                        && b.duration_seconds.is_finite()
                        && b.duration_seconds > 0.0
                    {
                        h.durations
                            .entry(i.key())
                            .or_default()
                            .push(b.duration_seconds);
                    }
                }
            }
            Err(e) => h.problems.push(history_warning(&p, format!("{e:#}"))),
        }
    }
    h
}

/// The median (mean of the two middle values for an even count); `None` when empty.
pub fn median(values: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

/// Whether `after` grew more than `percent` % over `before` (exactly the threshold is not).
pub fn grew_more_than(before: f64, after: f64, percent: f64) -> bool {
    before >= 0.0 && (after - before) * 100.0 > before * percent
}

fn pct(before: f64, after: f64) -> f64 {
    if before > 0.0 {
        (after - before) * 100.0 / before
    } else {
        0.0
    }
}

fn label(i: &ImageSummary) -> String {
    match &i.arch {
        Some(a) => format!("{} ({a})", i.id),
        None => i.id.clone(),
    }
}

fn finding(
    i: &ImageSummary,
    kind: RegressionKind,
    subject: Option<String>,
    (before, after): (Option<Measure>, Measure),
    threshold: Option<f64>,
    message: String,
) -> Regression {
    Regression {
        image: i.id.clone(),
        arch: i.arch.clone(),
        kind,
        subject,
        before,
        after,
        threshold,
        message,
    }
}

/// Regressions of one image versus its baseline diff and baseline scan report, and its build
/// time versus `samples` (earlier successful build durations).
fn image_regressions(
    i: &ImageSummary,
    baseline: Option<&Baseline>,
    samples: &[f64],
    s: &Settings,
) -> Vec<Regression> {
    let mut out = Vec::new();
    let name = label(i);
    if let Some(d) = i.baseline.as_ref().filter(|d| d.found) {
        if let (Some(before), Some(now)) = (d.size_before, i.size)
            && before > 0
            && grew_more_than(before as f64, now as f64, s.size_percent)
        {
            out.push(finding(
                i,
                RegressionKind::Size,
                None,
                (Some(Measure::Count(before)), Measure::Count(now)),
                Some(s.size_percent),
                format!(
                    "{name}: size grew {:.1} % ({} -> {}), over the {} % threshold",
                    pct(before as f64, now as f64),
                    human_bytes(before),
                    human_bytes(now),
                    s.size_percent
                ),
            ));
        }
        for v in &d.new_vulnerabilities {
            let fixed = v.fixed.as_deref().map(str::trim).filter(|f| !f.is_empty());
            if let Some(fixed) = fixed
                && v.severity >= Severity::High
            {
                out.push(finding(
                    i,
                    RegressionKind::NewFixableVulnerability,
                    Some(format!("{} {}", v.id, v.package)),
                    (None, Measure::Text(v.severity.as_str().to_string())),
                    None,
                    format!(
                        "{name}: new {} vulnerability {} in {} {} (fixed in {fixed})",
                        v.severity.as_str(),
                        v.id,
                        v.package,
                        v.installed
                    ),
                ));
            }
        }
    }
    // Compliance: the baseline scan's passing checks that fail now.
    let prev_scan = baseline
        .and_then(|b| b.get(&i.id, i.arch.as_deref()))
        .and_then(|p| p.scan.as_ref());
    if let (Some(prev), Some(now)) = (prev_scan, i.scan.as_ref()) {
        let passed: BTreeMap<&str, &str> = prev
            .compliance
            .iter()
            .filter(|c| c.status == CheckStatus::Pass)
            .map(|c| (c.id.as_str(), c.title.as_str()))
            .collect();
        let mut seen = std::collections::BTreeSet::new();
        for c in now.checks.iter().filter(|c| c.status == CheckStatus::Fail) {
            if passed.contains_key(c.id.as_str()) && seen.insert(c.id.clone()) {
                let cis = c
                    .cis
                    .as_deref()
                    .map(|x| format!(" (CIS {x})"))
                    .unwrap_or_default();
                out.push(finding(
                    i,
                    RegressionKind::Compliance,
                    Some(c.id.clone()),
                    (
                        Some(Measure::Text("pass".into())),
                        Measure::Text("fail".into()),
                    ),
                    None,
                    format!(
                        "{name}: check {}{cis} \"{}\" passed in the baseline and fails now",
                        c.id, c.title
                    ),
                ));
            }
        }
    }
    // Build time versus the median of the earlier builds.
    if let Some(b) = i.build.as_ref().filter(|b| b.succeeded)
        && let Some(m) = median(samples)
        && m > 0.0
        && grew_more_than(m, b.duration_seconds, s.build_time_percent)
        && b.duration_seconds - m >= BUILD_TIME_MIN_SECONDS
    {
        out.push(finding(
            i,
            RegressionKind::BuildTime,
            None,
            (
                Some(Measure::Seconds(m)),
                Measure::Seconds(b.duration_seconds),
            ),
            Some(s.build_time_percent),
            format!(
                "{name}: build took {:.0} s, {:.1} % over the median {:.0} s of {} earlier builds (threshold {} %)",
                b.duration_seconds,
                pct(m, b.duration_seconds),
                m,
                samples.len(),
                s.build_time_percent
            ),
        ));
    }
    out
}

/// Detect the run's regressions and store them (and the history's warnings) in `summary`.
/// `history` is read by the caller ([`read_history`]) so tests can feed their own.
pub fn apply(
    summary: &mut RunSummary,
    baseline: Option<&Baseline>,
    history: Option<&History>,
    s: &Settings,
) {
    if history.is_none() && baseline.is_none() {
        eprintln!(
            "golden-report: no --history and no baseline: build times are not checked for regressions"
        );
    }
    let mut found = Vec::new();
    for i in &summary.images {
        let mut samples: Vec<f64> = history
            .and_then(|h| h.durations.get(&i.key()))
            .cloned()
            .unwrap_or_default();
        if let Some(b) = baseline
            .and_then(|b| b.get(&i.id, i.arch.as_deref()))
            .and_then(|p| p.build.as_ref())
            .filter(|b| b.result == BuildResult::Success)
            && b.duration_seconds.is_finite()
            && b.duration_seconds > 0.0
        {
            samples.push(b.duration_seconds);
        }
        found.extend(image_regressions(i, baseline, &samples, s));
    }
    found.sort_by(|a, b| {
        a.image
            .cmp(&b.image)
            .then_with(|| a.arch.cmp(&b.arch))
            .then_with(|| a.kind.cmp(&b.kind))
            .then_with(|| a.subject.cmp(&b.subject))
    });
    summary.regressions = found;
    if let Some(h) = history {
        summary.problems.extend(h.problems.iter().cloned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[5.0]), Some(5.0));
        assert_eq!(median(&[9.0, 1.0, 5.0]), Some(5.0));
        assert_eq!(median(&[9.0, 1.0, 5.0, 3.0]), Some(4.0));
    }

    #[test]
    fn exactly_the_threshold_is_not_a_regression() {
        assert!(!grew_more_than(100.0, 110.0, 10.0));
        assert!(grew_more_than(100.0, 110.0001, 10.0));
        assert!(!grew_more_than(100.0, 90.0, 10.0));
        // Large sizes stay exact.
        let b = 80.0 * 1024.0 * 1024.0;
        assert!(!grew_more_than(b, b + b / 10.0, 10.0));
        assert!(grew_more_than(b, b + b / 10.0 + 1.0, 10.0));
    }

    #[test]
    fn key_has_no_volatile_values() {
        let r = Regression {
            image: "nginx".into(),
            arch: Some("arm64".into()),
            kind: RegressionKind::NewFixableVulnerability,
            subject: Some("CVE-1-2 openssl".into()),
            before: None,
            after: Measure::Text("HIGH".into()),
            threshold: None,
            message: "changes every run".into(),
        };
        assert_eq!(
            r.key(),
            "nginx@arm64:new_fixable_vulnerability:CVE-1-2 openssl"
        );
    }
}
