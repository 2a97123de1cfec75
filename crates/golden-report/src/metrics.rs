//! `metrics.prom`: the run in the OpenMetrics text format (gauges, one family after the other,
//! `# EOF` at the end), for a Pushgateway, a node-exporter textfile collector or an archive.
//!
//! | family | labels | value |
//! |---|---|---|
//! | `golden_builds` | `result` (`success`/`failure`) | builds in this run |
//! | `golden_images` | `status` (`ok`/`build_failed`/`policy_failed`/`incomplete`) | images in this run |
//! | `golden_report_problems` | | problems with severity `error` |
//! | `golden_image_build_success` | image labels | 1 built, 0 failed |
//! | `golden_image_policy_passed` | image labels | 1 passed, 0 failed |
//! | `golden_build_duration_seconds` | image labels | build wall time |
//! | `golden_image_size_bytes` | image labels | uncompressed size |
//! | `golden_image_compressed_size_bytes` | image labels | compressed size: manifest layers + config (push record) |
//! | `golden_push_duration_seconds` | image labels | push wall time (push record) |
//! | `golden_push_uploaded_bytes` | image labels | bytes the push sent (push record) |
//! | `golden_image_vulnerabilities` | image labels + `severity` | counted vulnerabilities |
//! | `golden_image_compliance_failures` | image labels | failed compliance checks |
//! | `golden_image_new_vulnerabilities` / `golden_image_fixed_vulnerabilities` | image labels | versus the baseline (only with one) |
//! | `golden_regressions` | `image`, `arch` (when known), `kind` | regressions of that kind (only images with one) |
//! | `golden_image_fixable_vulnerabilities` | image labels | counted vulnerabilities with a fix |
//! | `golden_image_new_fixable_vulnerabilities` | image labels + `severity` | new versus the baseline and fixable (only with one) |
//!
//! The documented table (names, types, labels) is docs/monitoring.md; a test keeps both in step.
//!
//! Image labels: `image` (plan entry id), `os`, `platform`, `version` (empty when unknown), and
//! `arch` (`amd64`, `arm64`) when the documents name the image's architecture: a multi-arch run
//! has one series per image and architecture.

use std::fmt::Write as _;

use crate::summary::{ImageStatus, ImageSummary, RunSummary, severity_keys};

/// Escape a label value: backslash, double quote and line feed.
pub fn escape_label(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            _ => out.push(c),
        }
    }
    out
}

/// The labels of an image's samples; `arch` only when the documents name the architecture, so
/// each architecture of a multi-arch run is its own series (and older runs keep their labels).
fn image_labels(i: &ImageSummary) -> String {
    let mut labels = format!(
        "image=\"{}\",os=\"{}\",platform=\"{}\",version=\"{}\"",
        escape_label(&i.id),
        escape_label(i.os.as_deref().unwrap_or("")),
        escape_label(i.platform.as_deref().unwrap_or("")),
        escape_label(i.version.as_deref().unwrap_or("")),
    );
    if let Some(a) = &i.arch {
        let _ = write!(labels, ",arch=\"{}\"", escape_label(a));
    }
    labels
}

struct Family<'a> {
    out: &'a mut String,
}

impl<'a> Family<'a> {
    fn start(out: &'a mut String, name: &str, help: &str, unit: Option<&str>) -> Self {
        let _ = writeln!(out, "# TYPE {name} gauge");
        if let Some(u) = unit {
            let _ = writeln!(out, "# UNIT {name} {u}");
        }
        let _ = writeln!(out, "# HELP {name} {help}");
        Family { out }
    }
    fn sample(&mut self, name: &str, labels: &str, value: impl std::fmt::Display) {
        if labels.is_empty() {
            let _ = writeln!(self.out, "{name} {value}");
        } else {
            let _ = writeln!(self.out, "{name}{{{labels}}} {value}");
        }
    }
}

fn float(v: f64) -> String {
    if v.is_finite() {
        // Always a valid OpenMetrics number (`12`, `12.5`).
        let s = format!("{v}");
        if s.contains('e') {
            format!("{v:.6}")
        } else {
            s
        }
    } else {
        "NaN".into()
    }
}

/// Render the whole file.
pub fn render(s: &RunSummary) -> String {
    let mut out = String::new();
    run_families(&mut out, s);
    image_families(&mut out, s);
    regression_family(&mut out, s);
    out.push_str("# EOF\n");
    out
}

/// The run-wide families: builds by result, images by status, problems.
fn run_families(out: &mut String, s: &RunSummary) {
    let t = &s.totals;
    let mut f = Family::start(
        out,
        "golden_builds",
        "Image builds in this run by result.",
        None,
    );
    f.sample("golden_builds", "result=\"success\"", t.builds_succeeded);
    f.sample("golden_builds", "result=\"failure\"", t.builds_failed);
    let mut f = Family::start(
        out,
        "golden_images",
        "Images in this run by reported status.",
        None,
    );
    for st in [
        ImageStatus::Ok,
        ImageStatus::BuildFailed,
        ImageStatus::PolicyFailed,
        ImageStatus::Incomplete,
    ] {
        let n = s.images.iter().filter(|i| i.status == st).count();
        f.sample("golden_images", &format!("status=\"{}\"", st.as_str()), n);
    }
    let mut f = Family::start(
        out,
        "golden_report_problems",
        "Missing, unreadable or invalid input documents.",
        None,
    );
    f.sample("golden_report_problems", "", t.problems);
}

/// The per-image families, each over the images it applies to and left out when there are
/// none.
fn image_families(out: &mut String, s: &RunSummary) {
    let with_build: Vec<&ImageSummary> = s.images.iter().filter(|i| i.build.is_some()).collect();
    let with_scan: Vec<&ImageSummary> = s.images.iter().filter(|i| i.scan.is_some()).collect();
    let sized: Vec<&ImageSummary> = s.images.iter().filter(|i| i.size.is_some()).collect();
    let compared: Vec<&ImageSummary> = s
        .images
        .iter()
        .filter(|i| i.baseline.as_ref().is_some_and(|d| d.compared_scan))
        .collect();
    image_family(
        out,
        ("golden_image_build_success", None),
        "1 when the image built, 0 when its build failed.",
        &with_build,
        |i| Some(u8::from(i.build.as_ref().is_some_and(|b| b.succeeded))),
    );
    image_family(
        out,
        ("golden_image_policy_passed", None),
        "1 when the image passed its scan policy, 0 when it failed.",
        &with_scan,
        |i| Some(u8::from(i.scan.as_ref().is_some_and(|s| s.policy_passed))),
    );
    image_family(
        out,
        ("golden_build_duration_seconds", Some("seconds")),
        "Wall time of the image build.",
        &with_build,
        |i| i.build.as_ref().map(|b| float(b.duration_seconds)),
    );
    image_family(
        out,
        ("golden_image_size_bytes", Some("bytes")),
        "Uncompressed image size.",
        &sized,
        |i| i.size,
    );
    push_families(out, &s.images);
    vulnerability_family(out, &with_scan);
    image_family(
        out,
        ("golden_image_compliance_failures", None),
        "Compliance checks that failed.",
        &with_scan,
        |i| i.scan.as_ref().map(|sc| sc.compliance.fail),
    );
    image_family(
        out,
        ("golden_image_new_vulnerabilities", None),
        "Vulnerabilities not in the baseline.",
        &compared,
        |i| i.baseline.as_ref().map(|d| d.new_vulnerabilities.len()),
    );
    image_family(
        out,
        ("golden_image_fixed_vulnerabilities", None),
        "Baseline vulnerabilities no longer present.",
        &compared,
        |i| i.baseline.as_ref().map(|d| d.fixed_vulnerabilities.len()),
    );
    fixability_families(out, &with_scan, &compared);
}

/// The push record's values: each family over the images whose push record has its value,
/// nothing when none has (records of older golden-push versions).
fn push_families(out: &mut String, images: &[ImageSummary]) {
    let having = |f: fn(&crate::summary::PushSummary) -> bool| -> Vec<&ImageSummary> {
        images
            .iter()
            .filter(|i| i.push.as_ref().is_some_and(f))
            .collect()
    };
    image_family(
        out,
        ("golden_image_compressed_size_bytes", Some("bytes")),
        "Compressed image size: the manifest's layers and config, what a pull downloads.",
        &having(|p| p.compressed_size.is_some()),
        |i| i.push.as_ref().and_then(|p| p.compressed_size),
    );
    image_family(
        out,
        ("golden_push_duration_seconds", Some("seconds")),
        "Wall time of the image push (referrers and tags included).",
        &having(|p| p.duration_seconds.is_some()),
        |i| i.push.as_ref().and_then(|p| p.duration_seconds).map(float),
    );
    image_family(
        out,
        ("golden_push_uploaded_bytes", Some("bytes")),
        "Bytes the push sent (blobs already in the registry or mounted count 0).",
        &having(|p| p.bytes_uploaded.is_some()),
        |i| i.push.as_ref().and_then(|p| p.bytes_uploaded),
    );
}

/// `golden_image_fixable_vulnerabilities` (every scanned image) and
/// `golden_image_new_fixable_vulnerabilities` by severity (versus the baseline): the data of
/// the "new fixable CRITICAL" alert (docs/monitoring/rules.yml).
fn fixability_families(out: &mut String, with_scan: &[&ImageSummary], compared: &[&ImageSummary]) {
    image_family(
        out,
        ("golden_image_fixable_vulnerabilities", None),
        "Counted vulnerabilities with a fixed version available.",
        with_scan,
        |i| i.scan.as_ref().map(|sc| sc.fixable),
    );
    if compared.is_empty() {
        return;
    }
    let mut f = Family::start(
        out,
        "golden_image_new_fixable_vulnerabilities",
        "Vulnerabilities not in the baseline that have a fixed version, by severity.",
        None,
    );
    for i in compared {
        let Some(d) = &i.baseline else { continue };
        let labels = image_labels(i);
        for k in severity_keys() {
            let n = d
                .new_vulnerabilities
                .iter()
                .filter(|v| v.fixed.is_some() && v.severity.as_str().eq_ignore_ascii_case(k))
                .count();
            f.sample(
                "golden_image_new_fixable_vulnerabilities",
                &format!("{labels},severity=\"{}\"", k.to_ascii_lowercase()),
                n,
            );
        }
    }
}

/// The family `(name, unit)` with one sample per image of `images` that `value` gives a
/// value for; nothing at all when `images` is empty.
fn image_family<V: std::fmt::Display>(
    out: &mut String,
    (name, unit): (&str, Option<&str>),
    help: &str,
    images: &[&ImageSummary],
    value: impl Fn(&ImageSummary) -> Option<V>,
) {
    if images.is_empty() {
        return;
    }
    let mut f = Family::start(out, name, help, unit);
    for i in images {
        if let Some(v) = value(i) {
            f.sample(name, &image_labels(i), v);
        }
    }
}

/// `golden_image_vulnerabilities`: one sample per scanned image and severity.
fn vulnerability_family(out: &mut String, with_scan: &[&ImageSummary]) {
    if with_scan.is_empty() {
        return;
    }
    let mut f = Family::start(
        out,
        "golden_image_vulnerabilities",
        "Vulnerabilities counted by the scan (suppressed ones excluded) by severity.",
        None,
    );
    for i in with_scan {
        if let Some(sc) = &i.scan {
            let labels = image_labels(i);
            for k in severity_keys() {
                let n = sc.vulnerabilities.get(k).copied().unwrap_or(0);
                f.sample(
                    "golden_image_vulnerabilities",
                    &format!("{labels},severity=\"{}\"", k.to_ascii_lowercase()),
                    n,
                );
            }
        }
    }
}

/// `golden_regressions`: one sample per image (and architecture) and kind that has any,
/// nothing when the run has none ([`crate::regress`]).
fn regression_family(out: &mut String, s: &RunSummary) {
    if s.regressions.is_empty() {
        return;
    }
    let mut counts: std::collections::BTreeMap<(&str, Option<&str>, &str), u64> =
        std::collections::BTreeMap::new();
    for r in &s.regressions {
        *counts
            .entry((&r.image, r.arch.as_deref(), r.kind.as_str()))
            .or_default() += 1;
    }
    let mut f = Family::start(
        out,
        "golden_regressions",
        "Regressions versus the baseline and the build-time history, by image and kind.",
        None,
    );
    for ((image, arch, kind), n) in counts {
        let mut labels = format!("image=\"{}\"", escape_label(image));
        if let Some(a) = arch {
            let _ = write!(labels, ",arch=\"{}\"", escape_label(a));
        }
        let _ = write!(labels, ",kind=\"{kind}\"");
        f.sample("golden_regressions", &labels, n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape_label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }

    #[test]
    fn floats_are_openmetrics_numbers() {
        assert_eq!(float(12.0), "12");
        assert_eq!(float(12.5), "12.5");
        assert_eq!(float(f64::NAN), "NaN");
        assert!(!float(1e-9).contains('e'));
    }
}
