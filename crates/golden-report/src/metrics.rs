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
//! | `golden_image_vulnerabilities` | image labels + `severity` | counted vulnerabilities |
//! | `golden_image_compliance_failures` | image labels | failed compliance checks |
//! | `golden_image_new_vulnerabilities` / `golden_image_fixed_vulnerabilities` | image labels | versus the baseline (only with one) |
//!
//! Image labels: `image` (plan entry id), `os`, `platform`, `version` (empty when unknown).

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

fn image_labels(i: &ImageSummary) -> String {
    format!(
        "image=\"{}\",os=\"{}\",platform=\"{}\",version=\"{}\"",
        escape_label(&i.id),
        escape_label(i.os.as_deref().unwrap_or("")),
        escape_label(i.platform.as_deref().unwrap_or("")),
        escape_label(i.version.as_deref().unwrap_or("")),
    )
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
    let t = &s.totals;
    {
        let mut f = Family::start(
            &mut out,
            "golden_builds",
            "Image builds in this run by result.",
            None,
        );
        f.sample("golden_builds", "result=\"success\"", t.builds_succeeded);
        f.sample("golden_builds", "result=\"failure\"", t.builds_failed);
    }
    {
        let mut f = Family::start(
            &mut out,
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
    }
    {
        let mut f = Family::start(
            &mut out,
            "golden_report_problems",
            "Missing, unreadable or invalid input documents.",
            None,
        );
        f.sample("golden_report_problems", "", t.problems);
    }
    let with_build: Vec<&ImageSummary> = s.images.iter().filter(|i| i.build.is_some()).collect();
    let with_scan: Vec<&ImageSummary> = s.images.iter().filter(|i| i.scan.is_some()).collect();
    if !with_build.is_empty() {
        let mut f = Family::start(
            &mut out,
            "golden_image_build_success",
            "1 when the image built, 0 when its build failed.",
            None,
        );
        for i in &with_build {
            let ok = i.build.as_ref().is_some_and(|b| b.succeeded);
            f.sample("golden_image_build_success", &image_labels(i), u8::from(ok));
        }
    }
    if !with_scan.is_empty() {
        let mut f = Family::start(
            &mut out,
            "golden_image_policy_passed",
            "1 when the image passed its scan policy, 0 when it failed.",
            None,
        );
        for i in &with_scan {
            let ok = i.scan.as_ref().is_some_and(|s| s.policy_passed);
            f.sample("golden_image_policy_passed", &image_labels(i), u8::from(ok));
        }
    }
    if !with_build.is_empty() {
        let mut f = Family::start(
            &mut out,
            "golden_build_duration_seconds",
            "Wall time of the image build.",
            Some("seconds"),
        );
        for i in &with_build {
            if let Some(b) = &i.build {
                f.sample(
                    "golden_build_duration_seconds",
                    &image_labels(i),
                    float(b.duration_seconds),
                );
            }
        }
    }
    let sized: Vec<&ImageSummary> = s.images.iter().filter(|i| i.size.is_some()).collect();
    if !sized.is_empty() {
        let mut f = Family::start(
            &mut out,
            "golden_image_size_bytes",
            "Uncompressed image size.",
            Some("bytes"),
        );
        for i in &sized {
            if let Some(sz) = i.size {
                f.sample("golden_image_size_bytes", &image_labels(i), sz);
            }
        }
    }
    if !with_scan.is_empty() {
        let mut f = Family::start(
            &mut out,
            "golden_image_vulnerabilities",
            "Vulnerabilities counted by the scan (suppressed ones excluded) by severity.",
            None,
        );
        for i in &with_scan {
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
        let mut f = Family::start(
            &mut out,
            "golden_image_compliance_failures",
            "Compliance checks that failed.",
            None,
        );
        for i in &with_scan {
            if let Some(sc) = &i.scan {
                f.sample(
                    "golden_image_compliance_failures",
                    &image_labels(i),
                    sc.compliance.fail,
                );
            }
        }
    }
    let compared: Vec<&ImageSummary> = s
        .images
        .iter()
        .filter(|i| i.baseline.as_ref().is_some_and(|d| d.compared_scan))
        .collect();
    if !compared.is_empty() {
        let mut f = Family::start(
            &mut out,
            "golden_image_new_vulnerabilities",
            "Vulnerabilities not in the baseline.",
            None,
        );
        for i in &compared {
            if let Some(d) = &i.baseline {
                f.sample(
                    "golden_image_new_vulnerabilities",
                    &image_labels(i),
                    d.new_vulnerabilities.len(),
                );
            }
        }
        let mut f = Family::start(
            &mut out,
            "golden_image_fixed_vulnerabilities",
            "Baseline vulnerabilities no longer present.",
            None,
        );
        for i in &compared {
            if let Some(d) = &i.baseline {
                f.sample(
                    "golden_image_fixed_vulnerabilities",
                    &image_labels(i),
                    d.fixed_vulnerabilities.len(),
                );
            }
        }
    }
    out.push_str("# EOF\n");
    out
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
