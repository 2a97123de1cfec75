//! Inputs (discovery, broken files, plan, baseline) and file outputs (summary.json, metrics.prom,
//! job summary, step outputs, exit codes), through the real binary.

use golden_contracts::Document;
use golden_report::summary::{ImageStatus, ProblemKind, ProblemSeverity, RunSummary};
use serde_json::json;
use std::path::Path;
use std::process::{Command, Output};

use crate::fixtures::{self, Img, write_set};
use crate::{fixture, report};

/// Run the binary with a clean environment (no GitHub Actions variables leak in from CI).
pub fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_golden-report"));
    c.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn kinds(s: &RunSummary) -> Vec<(ProblemKind, Option<String>)> {
    s.problems
        .iter()
        .map(|p| (p.kind, p.image.clone()))
        .collect()
}

#[test]
fn missing_empty_corrupt_and_newer_files_are_each_reported() {
    let r = report(&fixture("mixed"), None);
    let k = kinds(&r.summary);
    for want in [
        (ProblemKind::Empty, Some("aspnet-8.0-debian".to_string())),
        (ProblemKind::Corrupt, Some("dotnet-8.0-debian".to_string())),
        (
            ProblemKind::NewerSchema,
            Some("springboot-3-debian".to_string()),
        ),
        (
            ProblemKind::MissingScanReport,
            Some("tomcat-10-debian".to_string()),
        ),
        (
            ProblemKind::Corrupt,
            Some("unknown:stray/build-record.json".to_string()),
        ),
    ] {
        assert!(k.contains(&want), "{want:?} not in {k:#?}");
    }
    // Each such image has a failing row; the SARIF file is ignored, and listed as such.
    for id in [
        "aspnet-8.0-debian",
        "dotnet-8.0-debian",
        "springboot-3-debian",
        "tomcat-10-debian",
        "unknown:stray/build-record.json",
    ] {
        let img = r.summary.images.iter().find(|i| i.id == id).unwrap();
        assert_eq!(img.status, ImageStatus::Incomplete, "{id}");
        assert!(!img.problems.is_empty());
    }
    assert_eq!(
        r.summary.ignored_files,
        vec!["scan-base-debian/report.sarif.json".to_string()]
    );
    assert!(
        r.summary
            .problems
            .iter()
            .all(|p| p.severity == ProblemSeverity::Error)
    );
    assert_eq!(r.summary.totals.problems, 5);
}

#[test]
fn a_scan_report_without_build_record_and_a_planned_image_without_anything() {
    let dir = tempfile::tempdir().unwrap();
    let img = Img::new("alpine-only-scan", "alpine", "base", "3.20");
    img.scan_report()
        .write(&dir.path().join("scan/report.json"))
        .unwrap();
    // A dangling link named like a document: unreadable, reported.
    #[cfg(unix)]
    std::os::unix::fs::symlink("/nonexistent/target.json", dir.path().join("gone.json")).unwrap();
    // A plan naming one more image.
    let plan = serde_json::json!({
        "schema": 1, "event": "pull_request", "rebuild": "changed", "config": "configs/build-config.yaml",
        "bases": {"include": [{
            "id": "base-redhat", "stage": "base", "os": "redhat", "platform": "base", "name": "base-redhat",
            "version": "9", "dockerfile": "base-images/redhat/Dockerfile", "context": ".",
            "image": "goldenimages.azurecr.io/golden/base-redhat",
            "tags": ["goldenimages.azurecr.io/golden/base-redhat:9-redhat"],
            "policy": "configs/policy.yaml", "offline": false
        }]},
        "platforms": {"include": []}
    });
    let plan_path = dir.path().join("plan.json");
    std::fs::write(&plan_path, plan.to_string()).unwrap();
    let out = tempfile::tempdir().unwrap();
    let mut cfg = crate::config(dir.path(), out.path());
    cfg.plan = Some(plan_path);
    let r = golden_report::app::build_report(&cfg).unwrap();
    let k = kinds(&r.summary);
    assert!(k.contains(&(
        ProblemKind::MissingBuildRecord,
        Some("alpine-only-scan".into())
    )));
    assert!(k.contains(&(ProblemKind::MissingImage, Some("base-redhat".into()))));
    #[cfg(unix)]
    assert!(
        r.summary
            .problems
            .iter()
            .any(|p| p.kind == ProblemKind::Unreadable && p.path.as_deref() == Some("gone.json")),
        "{:#?}",
        r.summary.problems
    );
    let redhat = r
        .summary
        .images
        .iter()
        .find(|i| i.id == "base-redhat")
        .unwrap();
    assert_eq!(redhat.os.as_deref(), Some("redhat"));
    assert_eq!(
        redhat.name,
        "goldenimages.azurecr.io/golden/base-redhat:9-redhat"
    );
}

#[test]
fn an_empty_input_is_a_problem_not_a_silent_green() {
    let dir = tempfile::tempdir().unwrap();
    let r = report(dir.path(), None);
    assert_eq!(r.summary.totals.images, 0);
    assert_eq!(r.summary.problems[0].kind, ProblemKind::NoInput);
    assert!(r.any_failed());
}

#[test]
fn a_second_document_of_a_kind_keeps_the_newer_and_warns() {
    let dir = tempfile::tempdir().unwrap();
    write_set(dir.path(), &fixtures::green());
    let base = &fixtures::green()[0];
    // A rerun's build record, started earlier: ignored. A later scan report: used.
    let mut older = base.build_record();
    older.started_at = "2026-11-27T01:00:00Z".into();
    older
        .write(&dir.path().join("rerun/build-record.json"))
        .unwrap();
    let mut newer = base.scan_report();
    newer.scanned_at = "2026-11-27T04:00:00Z".into();
    newer.write(&dir.path().join("rerun/report.json")).unwrap();
    let r = report(dir.path(), None);
    let dups: Vec<(Option<&str>, &str)> = r
        .summary
        .problems
        .iter()
        .filter(|p| p.kind == ProblemKind::Duplicate)
        .map(|p| {
            assert_eq!(p.severity, ProblemSeverity::Warning);
            assert_eq!(p.image.as_deref(), Some("base-debian"));
            (p.path.as_deref(), p.message.as_str())
        })
        .collect();
    assert_eq!(
        dups,
        vec![
            (
                Some("rerun/build-record.json"),
                "second build record for `base-debian`: using `build-base-debian/build-record.json` (newer), ignoring `rerun/build-record.json`"
            ),
            (
                Some("scan-base-debian/report.json"),
                "second scan report for `base-debian`: using `rerun/report.json` (newer), ignoring `scan-base-debian/report.json`"
            ),
        ]
    );
    let img = &r.summary.images[0];
    assert_eq!(img.id, "base-debian");
    assert_eq!(img.status, ImageStatus::Ok);
    assert_eq!(
        img.sources,
        vec!["build-base-debian/build-record.json", "rerun/report.json"]
    );
    assert!(!r.any_failed());
}

/// The green set with scan reports that carry no `entry_id` (an older scanner): they join their
/// build record by image id, else by tag, else by the scanned reference alone.
fn write_green_without_entry_ids(dir: &Path, imgs: &[Img]) {
    write_set(dir, imgs);
    for (n, img) in imgs.iter().enumerate() {
        let mut s = img.scan_report();
        s.entry_id = None;
        if n > 0 {
            s.image.id = None;
        }
        if n > 1 {
            s.image.tags.clear();
        }
        s.write(&dir.join(format!("scan-{}/report.json", img.id)))
            .unwrap();
    }
}

#[test]
fn scan_reports_without_entry_id_join_their_build_in_input_baseline_and_registry_subjects() {
    let input = tempfile::tempdir().unwrap();
    let baseline = tempfile::tempdir().unwrap();
    write_green_without_entry_ids(input.path(), &fixtures::green());
    write_green_without_entry_ids(baseline.path(), &fixtures::green());
    let r = report(input.path(), Some(baseline.path()));
    assert!(r.summary.problems.is_empty(), "{:#?}", r.summary.problems);
    let ids: Vec<&str> = r.summary.images.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(
        ids,
        vec!["base-debian", "nginx-1.26-debian", "python-3.11-debian"]
    );
    for i in &r.summary.images {
        assert_eq!(i.sources.len(), 2, "{}: {:?}", i.id, i.sources);
        let d = i.baseline.as_ref().unwrap();
        assert!(d.found && d.compared_scan, "{}: {d:#?}", i.id);
    }
    // The registry baseline looks up one published tag per image, not one more per scan report.
    let found = golden_report::discover::discover(input.path()).unwrap();
    let subjects = golden_report::registry::subjects(&found, None);
    let want: Vec<(String, String)> = fixtures::green()
        .iter()
        .map(|i| (i.id.clone(), i.tag()))
        .collect();
    assert_eq!(subjects, want);

    // With a pull request's plan, the entry's `published` moving tag wins over the tags the run
    // made up (`…-sha-<commit>`, `…-pr-<N>`: never published, they would compare with nothing).
    let entries: Vec<serde_json::Value> = fixtures::green()
        .iter()
        .map(|i| {
            serde_json::json!({
                "id": i.id, "stage": "platform", "os": "debian", "platform": "x", "name": i.id,
                "version": "1", "dockerfile": "Dockerfile", "context": ".",
                "image": format!("r/{}", i.id), "published": format!("r/{}:1", i.id),
                "tags": [format!("r/{}:1-sha-0123abc", i.id), format!("r/{}:1-pr-7", i.id)],
                "policy": "configs/policy.yaml", "offline": true
            })
        })
        .collect();
    let plan: golden_contracts::plan::Plan = serde_json::from_value(serde_json::json!({
        "schema": 1, "event": "pull_request", "rebuild": "changed", "config": "c.yaml",
        "architectures": ["amd64"], "bases": {"include": []}, "platforms": {"include": entries}
    }))
    .unwrap();
    let subjects = golden_report::registry::subjects(&found, Some(&plan));
    let want: Vec<(String, String)> = fixtures::green()
        .iter()
        .map(|i| (i.id.clone(), format!("r/{}:1", i.id)))
        .collect();
    assert_eq!(
        subjects, want,
        "the build records' own tags lost to the plan's"
    );
}

#[test]
fn baseline_diff_finds_new_fixed_size_and_packages() {
    let r = report(&fixture("green"), Some(&fixture("baseline")));
    let base = &r.summary.images[0];
    assert_eq!(base.id, "base-debian");
    let d = base.baseline.as_ref().unwrap();
    assert!(d.found && d.compared_scan);
    assert_eq!(d.size_change, Some(2 * 1024 * 1024));
    let ids =
        |v: &[golden_report::summary::VulnRef]| v.iter().map(|x| x.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&d.new_vulnerabilities), vec!["CVE-2024-2961"]);
    assert_eq!(ids(&d.fixed_vulnerabilities), vec!["CVE-2024-45490"]);
    assert_eq!(d.packages_added[0].name, "ca-certificates");
    assert_eq!(d.packages_removed[0].name, "libexpat1");
    assert_eq!(d.packages_changed.len(), 2);
    let python = r
        .summary
        .images
        .iter()
        .find(|i| i.id == "python-3.11-debian")
        .unwrap();
    assert!(!python.baseline.as_ref().unwrap().found);
    assert_eq!(r.summary.totals.new_vulnerabilities, 1);
    assert_eq!(r.summary.totals.fixed_vulnerabilities, 1);
}

#[test]
fn absent_baseline_directory_is_a_warning() {
    let r = report(&fixture("green"), Some(Path::new("/nonexistent/baseline")));
    assert!(r.summary.baseline.is_none());
    assert_eq!(r.summary.problems.len(), 1);
    assert_eq!(r.summary.problems[0].severity, ProblemSeverity::Warning);
    assert!(!r.any_failed());
}

#[test]
fn binary_writes_every_output_atomically_and_exits_by_the_rules() {
    let out = tempfile::tempdir().unwrap();
    let step_summary = out.path().join("step-summary.md");
    let gh_output = out.path().join("gh-output");
    let o = run(
        &[
            "--input",
            fixture("mixed").to_str().unwrap(),
            "--output",
            out.path().join("reports").to_str().unwrap(),
        ],
        &[
            ("GITHUB_STEP_SUMMARY", step_summary.to_str().unwrap()),
            ("GITHUB_OUTPUT", gh_output.to_str().unwrap()),
        ],
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let reports = out.path().join("reports");
    let s = RunSummary::read(&reports.join("summary.json")).unwrap();
    assert_eq!(s.schema, 1);
    assert_eq!(s.totals.images, 9);
    let names: Vec<String> = std::fs::read_dir(&reports)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(sorted, vec!["metrics.prom", "summary.json", "summary.md"]);
    let summary_md = std::fs::read_to_string(&step_summary).unwrap();
    assert!(summary_md.contains("## ❌ Golden images: 7 of 9 failed"));
    assert!(summary_md.len() < golden_gha::SUMMARY_LIMIT);
    let outputs =
        golden_gha::parse_env_file(&std::fs::read_to_string(&gh_output).unwrap()).unwrap();
    assert!(outputs.contains(&("status".into(), "failed".into())));
    assert!(outputs.contains(&("failed".into(), "7".into())));

    // --fail-on-failure: 1 with failures, 0 when green.
    let o = run(
        &[
            "--input",
            fixture("mixed").to_str().unwrap(),
            "--output",
            out.path().join("r2").to_str().unwrap(),
            "--fail-on-failure",
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(1));
    // Boolean variables accept the usual spellings.
    for (v, code) in [("1", 1), ("yes", 1), ("false", 0), ("0", 0)] {
        let o = run(
            &[
                "--input",
                fixture("mixed").to_str().unwrap(),
                "--output",
                out.path().join("r2").to_str().unwrap(),
            ],
            &[("GOLDEN_FAIL_ON_FAILURE", v)],
        );
        assert_eq!(o.status.code(), Some(code), "GOLDEN_FAIL_ON_FAILURE={v}");
    }
    let o = run(
        &[
            "--output",
            out.path().join("r3").to_str().unwrap(),
            "--fail-on-failure",
        ],
        &[("GOLDEN_INPUT", fixture("green").to_str().unwrap())],
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn usage_and_runtime_errors_exit_2_with_a_clear_message() {
    let o = run(&["--input", "/nonexistent/artifacts"], &[]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("input directory `/nonexistent/artifacts` does not exist"),
        "{err}"
    );
    let o = run(&[], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--input"));
    let o = run(&["--bogus"], &[]);
    assert_eq!(o.status.code(), Some(2));
    // A plan that is not a plan names the file.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("plan.json"), "{").unwrap();
    let o = run(
        &[
            "--input",
            fixture("green").to_str().unwrap(),
            "--output",
            dir.path().join("out").to_str().unwrap(),
            "--plan",
            dir.path().join("plan.json").to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("plan.json"));
}

#[test]
fn configuration_errors_exit_2_and_say_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let green = fixture("green");
    let green = green.to_str().unwrap();
    let out = dir.path().join("out");
    let out = out.to_str().unwrap();
    let fails = |args: &[&str], env: &[(&str, &str)], want: &[&str]| {
        let o = run(args, env);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        for w in want {
            assert!(err.contains(w), "{args:?}: `{w}` not in {err}");
        }
    };
    // The nightly alert without a token: the files are written, then the run stops.
    fails(
        &["--input", green, "--output", out, "--alert"],
        &[],
        &["needs GITHUB_TOKEN", "issues: write", "--no-alert"],
    );
    assert!(dir.path().join("out/summary.json").exists());
    fails(
        &["--input", green, "--output", out, "--alert", "--no-alert"],
        &[],
        &["contradict"],
    );
    fails(
        &["--input", green, "--output", out],
        &[
            ("GOLDEN_BASELINE", green),
            ("GOLDEN_BASELINE_REGISTRY", "true"),
        ],
        &["two baselines", "set one"],
    );
    fails(
        &["--input", green, "--output", out, "--pr", "3"],
        &[("GITHUB_TOKEN", "t0ken"), ("GITHUB_REPOSITORY", "no-slash")],
        &["`no-slash` is not `owner/name`"],
    );
    // An output folder that cannot be created names the file.
    std::fs::write(dir.path().join("a-file"), "").unwrap();
    let blocked = dir.path().join("a-file/reports");
    fails(
        &["--input", green, "--output", blocked.to_str().unwrap()],
        &[],
        &["failed to write", "a-file/reports/summary.json"],
    );
    // post-comment: a missing file, then a good file without a token.
    let missing = dir.path().join("missing.json");
    fails(
        &["post-comment", "--file", missing.to_str().unwrap()],
        &[],
        &["failed to read comment file", "missing.json"],
    );
    let file = dir.path().join("pr-comment.json");
    golden_report::comment_file::CommentFile::new(
        3,
        "k".into(),
        golden_report::pr_comment::CommentData {
            totals: Default::default(),
            images: vec![],
            images_omitted: 0,
            regressions: vec![],
        },
    )
    .write(&file)
    .unwrap();
    fails(
        &["post-comment", "--file", file.to_str().unwrap()],
        &[],
        &["needs GITHUB_TOKEN", "pull-requests: write"],
    );
}

/// Parse OpenMetrics text strictly enough to catch format mistakes: TYPE before samples, one
/// block per family, quoted and escaped label values, `# EOF` last.
/// (family, labels, value).
type Sample = (String, Vec<(String, String)>, f64);

fn check_openmetrics(text: &str) -> Vec<Sample> {
    assert!(text.ends_with("# EOF\n"), "no # EOF at the end");
    let mut samples = Vec::new();
    let mut seen_families = std::collections::HashSet::new();
    let mut current = String::new();
    for line in text.lines() {
        if line == "# EOF" {
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, ty) = rest.split_once(' ').unwrap();
            assert_eq!(ty, "gauge");
            assert!(
                seen_families.insert(name.to_string()),
                "family {name} twice"
            );
            current = name.to_string();
            continue;
        }
        if let Some(rest) = line
            .strip_prefix("# HELP ")
            .or_else(|| line.strip_prefix("# UNIT "))
        {
            assert!(rest.starts_with(&current), "{line}");
            if let Some(u) = line.strip_prefix("# UNIT ") {
                let unit = u.split_once(' ').unwrap().1;
                assert!(current.ends_with(&format!("_{unit}")), "{line}");
            }
            continue;
        }
        // name{labels} value
        let (name_labels, value) = line.rsplit_once(' ').unwrap();
        let value: f64 = value.parse().unwrap();
        let (name, labels) = match name_labels.split_once('{') {
            Some((n, l)) => (n, l.strip_suffix('}').unwrap()),
            None => (name_labels, ""),
        };
        assert_eq!(name, current, "sample outside its family: {line}");
        let mut parsed = Vec::new();
        let mut chars = labels.chars().peekable();
        while chars.peek().is_some() {
            let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
            assert_eq!(chars.next(), Some('"'), "{line}");
            let mut val = String::new();
            loop {
                match chars.next().unwrap() {
                    '\\' => match chars.next().unwrap() {
                        'n' => val.push('\n'),
                        c @ ('\\' | '"') => val.push(c),
                        c => panic!("bad escape \\{c} in {line}"),
                    },
                    '"' => break,
                    '\n' => panic!("raw newline"),
                    c => val.push(c),
                }
            }
            parsed.push((key, val));
            if chars.peek() == Some(&',') {
                chars.next();
            }
        }
        samples.push((name.to_string(), parsed, value));
    }
    samples
}

#[test]
fn metrics_are_valid_openmetrics_with_escaped_labels() {
    let dir = tempfile::tempdir().unwrap();
    let mut imgs = fixtures::mixed();
    imgs.extend(fixtures::hostile());
    write_set(dir.path(), &imgs);
    let r = report(dir.path(), None);
    let text = golden_report::metrics::render(&r.summary);
    let samples = check_openmetrics(&text);
    let get = |name: &str, image: &str, extra: Option<(&str, &str)>| {
        samples
            .iter()
            .find(|(n, l, _)| {
                n == name
                    && l.iter().any(|(k, v)| k == "image" && v == image)
                    && extra.is_none_or(|(ek, ev)| l.iter().any(|(k, v)| k == ek && v == ev))
            })
            .map(|s| s.2)
    };
    assert_eq!(
        samples
            .iter()
            .find(|(n, l, _)| n == "golden_builds" && l[0].1 == "failure")
            .unwrap()
            .2,
        1.0
    );
    assert_eq!(
        get("golden_image_build_success", "nginx-1.26-debian", None),
        Some(0.0)
    );
    assert_eq!(
        get(
            "golden_image_vulnerabilities",
            "python-3.11-debian",
            Some(("severity", "critical"))
        ),
        Some(1.0)
    );
    assert_eq!(
        get(
            "golden_image_compliance_failures",
            "python-3.11-debian",
            None
        ),
        Some(1.0)
    );
    assert_eq!(
        get("golden_image_size_bytes", "base-debian", None),
        Some((74 * 1024 * 1024 + 123_456) as f64)
    );
    assert_eq!(
        get("golden_build_duration_seconds", "base-debian", None),
        Some(42.5)
    );
    // The hostile image id round-trips through the label escaping.
    let hostile = &fixtures::hostile()[0];
    assert_eq!(
        get("golden_image_policy_passed", &hostile.id, None),
        Some(0.0)
    );
    let version = samples
        .iter()
        .find(|(n, l, _)| {
            n == "golden_image_policy_passed" && l.iter().any(|(_, v)| v == &hostile.id)
        })
        .unwrap()
        .1
        .iter()
        .find(|(k, _)| k == "version")
        .unwrap()
        .1
        .clone();
    assert_eq!(version, hostile.version);
}

#[test]
fn summary_json_refuses_a_newer_schema() {
    let r = report(&fixture("green"), None);
    let mut v = serde_json::to_value(&r.summary).unwrap();
    v["schema"] = serde_json::json!(golden_report::summary::SUMMARY_SCHEMA + 1);
    let e = RunSummary::from_json(Path::new("summary.json"), &v.to_string()).unwrap_err();
    assert!(e.to_string().contains("newer"), "{e}");
    // And the current one round-trips.
    let text = serde_json::to_string(&r.summary).unwrap();
    assert_eq!(
        RunSummary::from_json(Path::new("summary.json"), &text).unwrap(),
        r.summary
    );
}

/// A two-architecture run: each architecture's build record and scan report is its own entry
/// (and one row per image in the Markdown).
/// Before, the second record of an id was a "duplicate" and the newer won, so an arm64 build
/// failure that started before the amd64 build was reported as a green image.
#[test]
fn each_architecture_is_its_own_row_and_a_failed_one_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let ok = Img::new("nginx-1.27-debian", "debian", "nginx", "1.27");
    let mut failed = ok.clone();
    failed.build_ok = false;
    // amd64: built and scanned, later than the arm64 failure.
    let mut b = ok.build_record();
    b.arch = Some("amd64".into());
    b.started_at = "2026-11-27T03:00:00Z".into();
    b.write(
        &dir.path()
            .join("golden-report-nginx-amd64/build-record.json"),
    )
    .unwrap();
    ok.scan_report()
        .write(
            &dir.path()
                .join("golden-report-nginx-amd64/scan/report.json"),
        )
        .unwrap();
    let mut f = failed.build_record();
    f.arch = Some("arm64".into());
    f.started_at = "2026-11-27T02:00:00Z".into();
    f.write(
        &dir.path()
            .join("golden-report-nginx-arm64/build-record.json"),
    )
    .unwrap();
    // The base: built for amd64 only, although the plan asks for both.
    let base = Img::new("base-debian", "debian", "base", "12");
    let mut bb = base.build_record();
    bb.arch = Some("amd64".into());
    bb.write(
        &dir.path()
            .join("golden-report-base-amd64/build-record.json"),
    )
    .unwrap();
    base.scan_report()
        .write(&dir.path().join("golden-report-base-amd64/scan/report.json"))
        .unwrap();
    let entry = |id: &str, platform: &str, version: &str| {
        serde_json::json!({
            "id": id, "stage": if platform == "base" { "base" } else { "platform" },
            "os": "debian", "platform": platform, "name": id, "version": version,
            "dockerfile": "Dockerfile", "context": ".", "image": format!("r/{id}"),
            "tags": [format!("r/{id}:{version}")], "policy": "configs/policy.yaml", "offline": true
        })
    };
    let plan = serde_json::json!({
        "schema": 1, "event": "schedule", "rebuild": "all", "config": "configs/build-config.yaml",
        "architectures": ["amd64", "arm64"],
        "bases": {"include": [entry("base-debian", "base", "12")]},
        "platforms": {"include": [entry("nginx-1.27-debian", "nginx", "1.27")]}
    });
    let plan_path = dir.path().join("plan.json");
    std::fs::write(&plan_path, plan.to_string()).unwrap();
    let out = tempfile::tempdir().unwrap();
    let mut cfg = crate::config(dir.path(), out.path());
    cfg.plan = Some(plan_path);
    let r = golden_report::app::build_report(&cfg).unwrap();

    let rows: Vec<(String, Option<String>, ImageStatus, String)> = r
        .summary
        .images
        .iter()
        .map(|i| (i.id.clone(), i.arch.clone(), i.status, i.name.clone()))
        .collect();
    let find = |id: &str, arch: &str| {
        rows.iter()
            .find(|(i, a, _, _)| i == id && a.as_deref() == Some(arch))
            .unwrap_or_else(|| panic!("no row {id} {arch} in {rows:#?}"))
            .clone()
    };
    assert_eq!(find("nginx-1.27-debian", "amd64").2, ImageStatus::Ok);
    let arm = find("nginx-1.27-debian", "arm64");
    assert_eq!(arm.2, ImageStatus::BuildFailed, "{rows:#?}");
    assert!(
        arm.3.ends_with(" (arm64)"),
        "the row names its architecture: {}",
        arm.3
    );
    assert_eq!(find("base-debian", "amd64").2, ImageStatus::Ok);
    let missing = find("base-debian", "arm64");
    assert_eq!(missing.2, ImageStatus::Incomplete, "{rows:#?}");
    assert!(
        r.summary
            .problems
            .iter()
            .any(|p| p.kind == ProblemKind::MissingImage
                && p.image.as_deref() == Some("base-debian")
                && p.message.contains("planned for arm64")),
        "{:#?}",
        r.summary.problems
    );
    // No "duplicate" warning: two architectures are not two copies.
    assert!(
        !r.summary
            .problems
            .iter()
            .any(|p| p.kind == ProblemKind::Duplicate),
        "{:#?}",
        r.summary.problems
    );
    assert!(r.any_failed());
    assert_eq!(r.summary.totals.images, 4);
    // The rendered summary has one row per image, a status column per architecture, and
    // names the failed architecture in the row and in the details.
    let text = golden_report::markdown::render(
        &r,
        &golden_report::markdown::RenderOptions::unlimited(None),
    );
    assert!(text.contains("| | Image | amd64 | arm64 | OS |"), "{text}");
    assert!(
        text.contains("| ❌ | **nginx-1.27-debian** | ✅ | ❌ |"),
        "{text}"
    );
    assert!(
        text.contains("| ⚠️ | **base-debian** | ✅ | ⚠️ |"),
        "{text}"
    );
    assert_eq!(
        text.matches("| **nginx-1.27-debian** |").count(),
        1,
        "{text}"
    );
    assert!(
        text.contains("nginx-1.27-debian: build failed on arm64 ·"),
        "{text}"
    );
}

/// A fork controls `pr-comment.json`: whatever the poster echoes from it in an error (the key,
/// a field name, a value) is escaped and neutralised, so it cannot become a workflow command
/// on either stream, and the field is named.
#[test]
fn poster_errors_cannot_inject_workflow_commands() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pr-comment.json");
    let data = json!({"totals": {"images": 0, "ok": 0, "failed": 0, "build_failed": 0,
        "policy_failed": 0, "incomplete": 0, "problems": 0,
        "vulnerabilities": {"critical": 0, "high": 0, "medium": 0, "low": 0, "unknown": 0},
        "new_vulnerabilities": 0, "fixed_vulnerabilities": 0}, "images": []});
    for (doc, field) in [
        (
            json!({"schema": 2, "pr": 3, "key": "k\r::add-mask::x", "data": data}),
            "`key`",
        ),
        (
            json!({"schema": 2, "pr": 3, "key": "k\r\n::warning::x", "data": data}),
            "`key`",
        ),
        (
            json!({"schema": 2, "pr": 3, "key": "k\u{2028}::stop-commands::x", "data": data}),
            "`key`",
        ),
        (
            json!({"schema": 2, "pr": 3, "key": "k", "data": data, "\r::error::x": 1}),
            "unknown field",
        ),
    ] {
        std::fs::write(&file, doc.to_string()).unwrap();
        let o = run(
            &["post-comment", "--file", file.to_str().unwrap()],
            &[("GITHUB_ACTIONS", "true")],
        );
        assert_eq!(o.status.code(), Some(2));
        let stdout = String::from_utf8_lossy(&o.stdout);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(stderr.contains(field), "{stderr}");
        for text in [&stdout, &stderr] {
            let c = golden_gha::runner_log::commands(text);
            assert!(c.is_empty(), "{c:?} in {text:?}");
        }
    }
}
