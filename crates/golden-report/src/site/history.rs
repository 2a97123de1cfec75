//! History of earlier nightly runs (`--history`: their `summary.json` files, at any depth) and
//! the small SVG line charts drawn from it by the binary itself (no chart library, nothing
//! fetched).

use std::collections::BTreeMap;
use std::path::Path;

use golden_contracts::Document;

use super::html::esc;
use crate::summary::{Problem, ProblemKind, ProblemSeverity, RunSummary};

/// Most runs drawn per chart.
pub const MAX_RUNS: usize = 30;
/// Largest summary.json read from the history.
const MAX_FILE: u64 = 64 * 1024 * 1024;

/// One run's measures of one image.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub size: Option<u64>,
    /// Counted vulnerabilities (all severities).
    pub vulns: Option<u64>,
}

/// Per image id: (run time, point), oldest first.
#[derive(Debug, Clone, Default)]
pub struct History {
    pub series: BTreeMap<String, Vec<(String, Point)>>,
    pub runs: usize,
    /// The earlier runs charted (not the current one), oldest first.
    pub summaries: Vec<RunSummary>,
    pub problems: Vec<Problem>,
}

fn warning(path: &Path, message: String) -> Problem {
    Problem {
        kind: ProblemKind::History,
        severity: ProblemSeverity::Warning,
        path: Some(path.display().to_string()),
        image: None,
        message: format!("history: {message}"),
    }
}

/// The measures of one run, per image id (architectures merged: the largest).
pub fn points(s: &RunSummary) -> BTreeMap<String, Point> {
    let mut out: BTreeMap<String, Point> = BTreeMap::new();
    for i in &s.images {
        // Not scanned for vulnerabilities (Trivy off or failed): no point, not a zero.
        let vulns = i
            .scan
            .as_ref()
            .filter(|s| s.scanner_status == golden_contracts::scan::ScannerStatus::Scanned)
            .map(|s| s.vulnerabilities.values().sum());
        let p = out.entry(i.id.clone()).or_insert(Point {
            size: None,
            vulns: None,
        });
        p.size = p.size.max(i.size);
        p.vulns = p.vulns.max(vulns);
    }
    out
}

/// Read every `summary.json` (or `*-summary.json`) under `dir`, then add `current` as the
/// newest run. Unreadable files are warnings; runs are ordered by `generated_at`; a summary of
/// the current run (same time, or same run URL) is not counted twice.
pub fn read(dir: Option<&Path>, current: &RunSummary) -> History {
    let mut h = History::default();
    let mut runs: Vec<RunSummary> = Vec::new();
    if let Some(dir) = dir {
        if !dir.is_dir() {
            h.problems.push(warning(
                dir,
                "--history folder does not exist or is not a folder".into(),
            ));
        } else {
            let (files, unlisted) = crate::regress::summary_files(dir);
            for (d, why) in unlisted {
                h.problems.push(warning(&d, why));
            }
            for p in files {
                if std::fs::metadata(&p).is_ok_and(|m| m.len() > MAX_FILE) {
                    h.problems
                        .push(warning(&p, format!("larger than {MAX_FILE} bytes")));
                    continue;
                }
                match RunSummary::read(&p) {
                    Ok(s) => runs.push(s),
                    Err(e) => h.problems.push(warning(&p, format!("{e:#}"))),
                }
            }
        }
    }
    runs.sort_by(|a, b| a.generated_at.cmp(&b.generated_at));
    // A published site holds each run twice (summary.json and history/); the current run may
    // also be there when the history is read back from it.
    runs.dedup_by(|a, b| a.generated_at == b.generated_at);
    // The report job of the same workflow run kept its own summary of this run: one point.
    runs.retain(|r| {
        r.generated_at != current.generated_at
            && (current.run.run_url.is_none() || r.run.run_url != current.run.run_url)
    });
    let skip = runs.len().saturating_sub(MAX_RUNS - 1);
    let runs: Vec<RunSummary> = runs.into_iter().skip(skip).collect();
    for r in runs.iter().chain(std::iter::once(current)) {
        h.runs += 1;
        for (id, p) in points(r) {
            h.series
                .entry(id)
                .or_default()
                .push((r.generated_at.clone(), p));
        }
    }
    h.summaries = runs;
    h
}

/// A small line chart of `values` (oldest first) as an inline SVG element with a text
/// alternative; `None` when fewer than two values exist.
pub fn chart(label: &str, values: &[(String, u64)], fmt: impl Fn(u64) -> String) -> Option<String> {
    if values.len() < 2 {
        return None;
    }
    let (w, h, pad) = (320.0_f64, 80.0_f64, 6.0_f64);
    let max = values.iter().map(|v| v.1).max().unwrap_or(0);
    let min = values.iter().map(|v| v.1).min().unwrap_or(0);
    let span = (max - min).max(1) as f64;
    let step = (w - 2.0 * pad) / (values.len() - 1) as f64;
    let pts: Vec<(f64, f64)> = values
        .iter()
        .enumerate()
        .map(|(i, (_, v))| {
            let x = pad + step * i as f64;
            let y = h - pad - ((*v - min) as f64 / span) * (h - 2.0 * pad);
            (x, y)
        })
        .collect();
    let path: Vec<String> = pts.iter().map(|(x, y)| format!("{x:.1},{y:.1}")).collect();
    let mut dots = String::new();
    for ((x, y), (when, v)) in pts.iter().zip(values) {
        dots.push_str(&format!(
            "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"2.5\"><title>{}: {}</title></circle>",
            esc(when),
            esc(&fmt(*v))
        ));
    }
    let first = values.first().map(|v| fmt(v.1)).unwrap_or_default();
    let last = values.last().map(|v| fmt(v.1)).unwrap_or_default();
    let desc = format!(
        "{label} over the last {} runs: from {first} to {last} (lowest {}, highest {})",
        values.len(),
        fmt(min),
        fmt(max)
    );
    Some(format!(
        "<figure class=\"chart\"><svg role=\"img\" aria-label=\"{d}\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" xmlns=\"http://www.w3.org/2000/svg\"><polyline class=\"line\" fill=\"none\" points=\"{}\"/>{dots}</svg><figcaption>{d}</figcaption></figure>",
        path.join(" "),
        d = esc(&desc),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_needs_two_points_and_says_what_it_shows() {
        assert!(chart("Size", &[("t1".into(), 1)], |v| v.to_string()).is_none());
        let c = chart(
            "Size <b>",
            &[("t1".into(), 10), ("t2".into(), 30), ("t3".into(), 20)],
            |v| format!("{v} B"),
        )
        .unwrap_or_default();
        assert!(c.starts_with("<figure"));
        assert_eq!(c.matches("<circle").count(), 3);
        assert!(c.contains("from 10 B to 20 B (lowest 10 B, highest 30 B)"));
        assert!(c.contains("Size &lt;b&gt;"));
        // Highest value at the top, lowest at the bottom.
        assert!(c.contains("cy=\"6.0\"") && c.contains("cy=\"74.0\""));
    }
}
