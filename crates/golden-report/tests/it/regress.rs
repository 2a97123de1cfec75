//! Regressions (issue 21): every kind triggered by a fixture pair, none on an unchanged pair,
//! thresholds at the edge, the build-time median over history (odd and even counts), an
//! unreadable history file, and the outputs (summary.json, Markdown, PR comment, metrics, exit
//! code with --fail-on-regression) through the real binary.

use golden_contracts::Document;
use golden_contracts::build::BuildRecord;
use golden_contracts::scan::{CheckStatus, Severity};
use golden_report::aggregate::Report;
use golden_report::app::build_report;
use golden_report::regress::{Measure, Regression, RegressionKind, Settings};
use golden_report::summary::{ProblemKind, ProblemSeverity, RunSummary};
use std::path::{Path, PathBuf};

use crate::config;
use crate::fixtures::{Img, green, vuln, write_set};
use crate::inputs::run;

/// Write `imgs` under `dir`, with each build's duration from `secs` (by position).
fn write_with_durations(dir: &Path, imgs: &[Img], secs: &[f64]) {
    write_set(dir, imgs);
    for (i, s) in imgs.iter().zip(secs) {
        let p = dir
            .join(format!("build-{}", i.id))
            .join("build-record.json");
        let mut b = BuildRecord::read(&p).unwrap();
        b.duration_seconds = *s;
        b.write(&p).unwrap();
    }
}

fn report_with(input: &Path, baseline: Option<&Path>, s: Settings) -> Report {
    let out = tempfile::tempdir().unwrap();
    let mut cfg = config(input, out.path());
    cfg.baseline = baseline.map(Path::to_path_buf);
    cfg.regress = s;
    build_report(&cfg).unwrap()
}

/// `now` against `before` with default thresholds and no history.
fn pair(before: &[Img], now: &[Img]) -> Vec<Regression> {
    let d = tempfile::tempdir().unwrap();
    write_set(&d.path().join("base"), before);
    write_set(&d.path().join("now"), now);
    report_with(
        &d.path().join("now"),
        Some(&d.path().join("base")),
        Settings::default(),
    )
    .summary
    .regressions
}

fn one_image(size: u64) -> Img {
    let mut i = Img::new("nginx-1.26-debian", "debian", "nginx", "1.26");
    i.size = size;
    i
}

#[test]
fn an_unchanged_pair_has_no_regressions() {
    assert_eq!(pair(&green(), &green()), vec![]);
    // The green fixture against its baseline: it grew (under 10 %), one new LOW vulnerability
    // without a fix: nothing counts.
    let d = tempfile::tempdir().unwrap();
    write_set(&d.path().join("base"), &crate::fixtures::baseline());
    write_set(&d.path().join("now"), &green());
    let r = report_with(
        &d.path().join("now"),
        Some(&d.path().join("base")),
        Settings::default(),
    );
    assert!(r.summary.totals.new_vulnerabilities > 0);
    assert_eq!(r.summary.regressions, vec![]);
}

/// "More than 10 %": 100 MB -> 110 MB is exactly 10 % and is not a regression; one byte more is.
#[test]
fn size_grown_more_than_the_threshold_exactly_the_threshold_is_not() {
    let before = [one_image(100_000_000)];
    assert_eq!(pair(&before, &[one_image(110_000_000)]), vec![]);
    let r = pair(&before, &[one_image(110_000_001)]);
    assert_eq!(r.len(), 1, "{r:#?}");
    assert_eq!(r[0].kind, RegressionKind::Size);
    assert_eq!(r[0].image, "nginx-1.26-debian");
    assert_eq!(r[0].before, Some(Measure::Count(100_000_000)));
    assert_eq!(r[0].after, Measure::Count(110_000_001));
    assert_eq!(r[0].threshold, Some(10.0));
    assert!(
        r[0].message.contains("size grew 10.0 %"),
        "{}",
        r[0].message
    );
    // A shrinking image is never a regression.
    assert_eq!(pair(&before, &[one_image(50_000_000)]), vec![]);
    // A lower threshold catches smaller growth.
    let d = tempfile::tempdir().unwrap();
    write_set(&d.path().join("base"), &before);
    write_set(&d.path().join("now"), &[one_image(106_000_000)]);
    let s = Settings {
        size_percent: 5.0,
        ..Settings::default()
    };
    let r = report_with(&d.path().join("now"), Some(&d.path().join("base")), s);
    assert_eq!(r.summary.regressions.len(), 1);
    assert_eq!(r.summary.regressions[0].threshold, Some(5.0));
}

#[test]
fn a_new_critical_or_high_vulnerability_with_a_fix_regresses_others_do_not() {
    let before = one_image(80_000_000);
    let mut now = before.clone();
    now.vulns = vec![
        vuln(
            "CVE-2026-0001",
            "openssl",
            "3.0.15-1",
            Some("3.0.15-2"),
            Severity::High,
        ),
        vuln(
            "CVE-2026-0002",
            "zlib1g",
            "1.2.13",
            None,
            Severity::Critical,
        ),
        vuln(
            "CVE-2026-0003",
            "libc6",
            "2.36-9",
            Some("2.36-10"),
            Severity::Medium,
        ),
        vuln(
            "CVE-2026-0004",
            "libexpat1",
            "2.5.0-1",
            Some("2.5.0-2"),
            Severity::Critical,
        ),
    ];
    let r = pair(&[before], &[now]);
    let subjects: Vec<_> = r.iter().map(|x| (x.kind, x.subject.clone())).collect();
    assert_eq!(
        subjects,
        vec![
            (
                RegressionKind::NewFixableVulnerability,
                Some("CVE-2026-0001 openssl".into())
            ),
            (
                RegressionKind::NewFixableVulnerability,
                Some("CVE-2026-0004 libexpat1".into())
            ),
        ]
    );
    assert_eq!(r[1].after, Measure::Text("CRITICAL".into()));
    assert_eq!(r[1].before, None);
    assert!(
        r[1].message.contains("fixed in 2.5.0-2"),
        "{}",
        r[1].message
    );
}

#[test]
fn a_check_that_passed_in_the_baseline_and_fails_now_regresses() {
    let mut before = one_image(80_000_000);
    before.checks[1].status = CheckStatus::Fail; // HEALTH failed already.
    let mut now = before.clone();
    now.checks[0].status = CheckStatus::Fail; // USER passed, fails now.
    now.checks[2].status = CheckStatus::Warn; // SETUID: a warning is not a failure.
    let r = pair(&[before], &[now]);
    assert_eq!(r.len(), 1, "{r:#?}");
    assert_eq!(r[0].kind, RegressionKind::Compliance);
    assert_eq!(r[0].subject.as_deref(), Some("GOLDEN-USER-001"));
    assert_eq!(r[0].before, Some(Measure::Text("pass".into())));
    assert_eq!(r[0].after, Measure::Text("fail".into()));
    assert!(r[0].message.contains("CIS 4.1"), "{}", r[0].message);
}

/// Earlier runs' summaries with `secs` as the build duration of `img`.
fn history(dir: &Path, img: &Img, secs: &[f64]) {
    for (n, s) in secs.iter().enumerate() {
        let run = tempfile::tempdir().unwrap();
        write_with_durations(run.path(), std::slice::from_ref(img), &[*s]);
        let r = report_with(run.path(), None, Settings::default());
        // Any depth.
        r.summary
            .write(
                &dir.join(format!("run-{n}"))
                    .join("nested")
                    .join("summary.json"),
            )
            .unwrap();
    }
}

fn build_time(input: &Path, baseline: Option<&Path>, hist: &Path) -> Report {
    report_with(
        input,
        baseline,
        Settings {
            history: Some(hist.to_path_buf()),
            ..Settings::default()
        },
    )
}

fn build_time_regressions(r: &Report) -> Vec<&Regression> {
    r.summary
        .regressions
        .iter()
        .filter(|x| x.kind == RegressionKind::BuildTime)
        .collect()
}

#[test]
fn build_time_over_the_median_of_an_odd_history() {
    let img = one_image(80_000_000);
    let d = tempfile::tempdir().unwrap();
    let hist = d.path().join("history");
    // Median of 100, 300, 110 is 110 (the outlier does not move it).
    history(&hist, &img, &[100.0, 300.0, 110.0]);
    for (secs, want) in [(137.0, false), (137.5, false), (140.0, true)] {
        let now = d.path().join(format!("now-{secs}"));
        write_with_durations(&now, std::slice::from_ref(&img), &[secs]);
        let r = build_time(&now, None, &hist);
        let b = build_time_regressions(&r);
        assert_eq!(b.len(), usize::from(want), "{secs} s: {b:#?}");
        if want {
            assert_eq!(b[0].before, Some(Measure::Seconds(110.0)));
            assert_eq!(b[0].after, Measure::Seconds(140.0));
            assert_eq!(b[0].threshold, Some(25.0));
            assert!(
                b[0].message.contains("median 110 s of 3 earlier builds"),
                "{}",
                b[0].message
            );
        }
    }
}

/// Three history runs plus the baseline's build record: four samples, the median is the mean
/// of the two middle ones; the 30 s minimum growth holds back a 25.2 % (29 s) slowdown.
#[test]
fn build_time_over_the_median_of_an_even_history_with_the_baseline_and_a_minimum() {
    let img = one_image(80_000_000);
    let d = tempfile::tempdir().unwrap();
    let hist = d.path().join("history");
    history(&hist, &img, &[100.0, 300.0, 110.0]);
    let base = d.path().join("base");
    write_with_durations(&base, std::slice::from_ref(&img), &[120.0]);
    // Median (110 + 120) / 2 = 115.
    for (secs, want) in [(144.0, false), (146.0, true)] {
        let now = d.path().join(format!("now-{secs}"));
        write_with_durations(&now, std::slice::from_ref(&img), &[secs]);
        let r = build_time(&now, Some(&base), &hist);
        let b = build_time_regressions(&r);
        assert_eq!(b.len(), usize::from(want), "{secs} s: {b:#?}");
        if want {
            assert_eq!(b[0].before, Some(Measure::Seconds(115.0)));
        }
    }
}

#[test]
fn an_unreadable_history_file_is_a_warning_and_the_rest_is_used() {
    let img = one_image(80_000_000);
    let d = tempfile::tempdir().unwrap();
    let hist = d.path().join("history");
    history(&hist, &img, &[100.0]);
    let bad = hist.join("broken").join("summary.json");
    std::fs::create_dir_all(bad.parent().unwrap()).unwrap();
    std::fs::write(&bad, "{ not json").unwrap();
    let now = d.path().join("now");
    write_with_durations(&now, std::slice::from_ref(&img), &[200.0]);
    let r = build_time(&now, None, &hist);
    let warn: Vec<_> = r
        .summary
        .problems
        .iter()
        .filter(|p| p.kind == ProblemKind::History)
        .collect();
    assert_eq!(warn.len(), 1, "{:#?}", r.summary.problems);
    assert_eq!(warn[0].severity, ProblemSeverity::Warning);
    assert!(
        warn[0].path.as_deref().unwrap().ends_with("summary.json"),
        "{warn:?}"
    );
    // The readable file still counts, and the warning fails nothing.
    assert_eq!(build_time_regressions(&r).len(), 1);
    assert_eq!(r.summary.totals.problems, 0);
    assert!(!r.any_failed());
    // A missing history folder is a warning too.
    let r = build_time(&now, None, &d.path().join("nope"));
    assert!(
        r.summary
            .problems
            .iter()
            .any(|p| p.kind == ProblemKind::History && p.message.contains("does not exist"))
    );
}

/// All four kinds at once, through the binary: summary.json, summary.md, metrics.prom, the
/// PR comment data, and the exit code (0 unless --fail-on-regression).
#[test]
fn the_binary_reports_regressions_everywhere_and_fails_only_when_asked() {
    let d = tempfile::tempdir().unwrap();
    let mut before = one_image(100_000_000);
    before.packages.truncate(3);
    let mut now = before.clone();
    now.size = 120_000_000;
    now.vulns = vec![vuln(
        "CVE-2026-0001",
        "openssl",
        "3.0.15-1",
        Some("3.0.15-2"),
        Severity::High,
    )];
    now.checks[0].status = CheckStatus::Fail;
    let base = d.path().join("base");
    let input = d.path().join("now");
    write_with_durations(&base, std::slice::from_ref(&before), &[100.0]);
    write_with_durations(&input, std::slice::from_ref(&now), &[200.0]);
    let out: PathBuf = d.path().join("out");
    let args = [
        "--input",
        input.to_str().unwrap(),
        "--baseline",
        base.to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
        "--no-job-summary",
    ];
    let o = run(&args, &[]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let s = RunSummary::read(&out.join("summary.json")).unwrap();
    let kinds: Vec<_> = s.regressions.iter().map(|r| r.kind).collect();
    assert_eq!(
        kinds,
        vec![
            RegressionKind::Size,
            RegressionKind::NewFixableVulnerability,
            RegressionKind::Compliance,
            RegressionKind::BuildTime,
        ]
    );
    // The stable shape.
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(
        v["regressions"][0],
        serde_json::json!({
            "image": "nginx-1.26-debian", "kind": "size", "before": 100_000_000u64,
            "after": 120_000_000u64, "threshold": 10.0,
            "message": s.regressions[0].message,
        })
    );
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(md.contains("### Regressions"), "{md}");
    assert!(md.contains("**build time**"), "{md}");
    let prom = std::fs::read_to_string(out.join("metrics.prom")).unwrap();
    for kind in [
        "size",
        "new_fixable_vulnerability",
        "compliance",
        "build_time",
    ] {
        let line = format!("golden_regressions{{image=\"nginx-1.26-debian\",kind=\"{kind}\"}} 1");
        assert!(prom.contains(&line), "{line} in {prom}");
    }
    assert!(prom.ends_with("# EOF\n"));

    // The PR comment, from the same data a fork's poster would validate.
    let r = crate::report(&input, Some(&base));
    let data = golden_report::pr_comment::CommentData::from_report(&r);
    data.validate().unwrap();
    assert_eq!(data.regressions.len(), 4, "{data:#?}");
    let body = golden_report::pr_comment::render(&data, Some(crate::RUN_URL), 0);
    assert!(body.contains("### Regressions"), "{body}");
    assert!(
        body.contains("`CVE-2026-0001` in `openssl` (HIGH)"),
        "{body}"
    );
    assert!(body.contains("**size** +20.0 %"), "{body}");
    assert!(
        body.contains("`GOLDEN-USER-001` passed before, fails now"),
        "{body}"
    );

    // --fail-on-regression (and its variable) turn them into exit 1.
    let o = run(&args, &[("GOLDEN_FAIL_ON_REGRESSION", "true")]);
    assert_eq!(o.status.code(), Some(1));
    // A higher threshold (by variable) drops the size regression.
    let o = run(&args, &[("GOLDEN_REGRESSION_SIZE_PERCENT", "25")]);
    assert_eq!(o.status.code(), Some(0));
    let s = RunSummary::read(&out.join("summary.json")).unwrap();
    assert!(s.regressions.iter().all(|r| r.kind != RegressionKind::Size));
    // A bad threshold names the flag.
    let o = run(&args, &[("GOLDEN_REGRESSION_SIZE_PERCENT", "-3")]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("--regression-size-percent"), "{err}");
    // Without history and baseline, build times are not checked, and the log says so once.
    let o = run(
        &[
            "--input",
            input.to_str().unwrap(),
            "--output",
            out.to_str().unwrap(),
            "--no-job-summary",
        ],
        &[],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(
        err.matches("build times are not checked").count(),
        1,
        "{err}"
    );
}

/// The PR comment's regressions come from a file a fork controls: the poster validates them
/// like the rest, naming the field.
#[test]
fn the_poster_refuses_a_hostile_regression_in_the_comment_file() {
    let mut data = golden_report::pr_comment::CommentData {
        totals: Default::default(),
        images: vec![],
        images_omitted: 0,
        regressions: vec![],
    };
    let good: golden_report::pr_comment::CommentRegression = serde_json::from_value(
        serde_json::json!({"image": "nginx", "kind": "compliance", "id": "GOLDEN-USER-001"}),
    )
    .unwrap();
    data.regressions = vec![good.clone()];
    data.validate().unwrap();
    for (field, bad) in [
        (
            "regressions[0].image",
            serde_json::json!({"image": "x](https://evil.example)", "kind": "size"}),
        ),
        (
            "regressions[0].id",
            serde_json::json!({"image": "x", "kind": "compliance", "id": "@everyone"}),
        ),
        (
            "regressions[0].package",
            serde_json::json!({"image": "x", "kind": "new_fixable_vulnerability", "id": "CVE-1-2", "package": "<img src=x>"}),
        ),
    ] {
        data.regressions = vec![serde_json::from_value(bad).unwrap()];
        let e = data.validate().unwrap_err();
        assert_eq!(e.field, field);
    }
    data.regressions = vec![good; golden_report::pr_comment::MAX_REGRESSIONS + 1];
    assert_eq!(data.validate().unwrap_err().field, "regressions");
    // An unknown field is refused outright.
    assert!(
        serde_json::from_value::<golden_report::pr_comment::CommentRegression>(
            serde_json::json!({"image": "x", "kind": "size", "message": "free text"})
        )
        .is_err()
    );
}
