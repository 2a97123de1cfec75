//! Two-architecture runs: one row per image with a status column per architecture, in the
//! job summary and the PR comment (snapshots), and per-architecture metric series.

use golden_contracts::Document;
use golden_contracts::push::{
    Arch, INDEX_RECORD_SCHEMA, ImageIndex, IndexKind, IndexManifest, IndexRecord,
    PUSH_RECORD_SCHEMA, PushKind, PushRecord, PushResult,
};
use golden_contracts::scan::{PolicyFailure, Severity};
use golden_report::aggregate::Report;
use golden_report::markdown::{RenderOptions, render};
use golden_report::pr_comment::{self, CommentData};
use golden_report::summary::ImageStatus;
use std::path::Path;

use crate::fixtures::{Img, digest, vuln};
use crate::{RUN_URL, report};

const KEY: &str = "golden-images:configs/build-config.yaml";

/// Write `img`'s documents for `arch` as that architecture's matrix job uploads them; no
/// scan report when `scanned` is false.
fn write_arch(dir: &Path, img: &Img, arch: &str, scanned: bool) {
    let folder = dir.join(format!("golden-report-{}-{arch}", img.id));
    let image_id = digest(&format!("{}-{arch}-config", img.id));
    let mut b = img.build_record();
    b.arch = Some(arch.into());
    b.image_id = img.build_ok.then(|| image_id.clone());
    b.write(&folder.join("build-record.json")).unwrap();
    if scanned && img.build_ok {
        let mut s = img.scan_report();
        s.image.architecture = Some(arch.into());
        s.image.id = Some(image_id);
        s.image.digest = Some(digest(&format!("{}-{arch}-manifest", img.id)));
        s.write(&folder.join("scan/report.json")).unwrap();
    }
}

fn nginx() -> Img {
    let mut i = Img::new("nginx-1.26-debian", "debian", "nginx", "1.26.2");
    i.vulns = vec![vuln(
        "CVE-2024-5535",
        "openssl",
        "3.0.15-1~deb12u1",
        Some("3.0.15-1~deb12u2"),
        Severity::High,
    )];
    i
}

fn base() -> Img {
    Img::new("base-debian", "debian", "base", "12")
}

/// The arm64 image of `img`: a little smaller.
fn arm(img: &Img) -> Img {
    let mut a = img.clone();
    a.size -= 3 * 1024 * 1024;
    a
}

/// Every output a person reads: the job summary, then the PR comment.
fn rendered(r: &Report) -> String {
    let summary = render(r, &RenderOptions::unlimited(Some(RUN_URL.into())));
    let data = CommentData::from_report(r);
    data.validate().unwrap();
    let comment = pr_comment::render(&data, Some(RUN_URL), KEY.len() + 10);
    format!("{summary}\n======== PR comment ========\n\n{comment}")
}

/// Each table keeps the cell count of its head.
fn assert_tables_are_rectangular(text: &str) {
    let mut expected: Option<usize> = None;
    for line in text.lines() {
        if !line.starts_with('|') {
            expected = None;
            continue;
        }
        let cells = line.replace("\\|", "").matches('|').count();
        match expected {
            None => expected = Some(cells),
            Some(n) => assert_eq!(cells, n, "{line}"),
        }
    }
}

fn two_arch_report(write: impl Fn(&Path)) -> Report {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path());
    report(dir.path(), None)
}

#[test]
fn two_architectures_all_passing_are_one_row_per_image() {
    let r = two_arch_report(|d| {
        for img in [base(), nginx()] {
            write_arch(d, &img, "amd64", true);
            write_arch(d, &arm(&img), "arm64", true);
        }
    });
    assert_eq!(
        r.summary.images.len(),
        4,
        "summary.json keeps an entry per arch"
    );
    let text = rendered(&r);
    assert_tables_are_rectangular(&text);
    assert_eq!(
        text.matches("| **nginx-1.26-debian** |").count(),
        1,
        "{text}"
    );
    assert_eq!(text.matches("| `nginx-1.26-debian` |").count(), 1, "{text}");
    assert!(text.contains("(same on amd64, arm64)") || text.contains("**Same on amd64, arm64:**"));
    insta::assert_snapshot!("two_arch_all_green", text);
}

#[test]
fn a_policy_failure_on_one_architecture_fails_the_row_and_names_it() {
    let r = two_arch_report(|d| {
        write_arch(d, &base(), "amd64", true);
        write_arch(d, &arm(&base()), "arm64", true);
        write_arch(d, &nginx(), "amd64", true);
        let mut bad = arm(&nginx());
        bad.vulns.push(vuln(
            "CVE-2024-9999",
            "libc6",
            "2.36-9+deb12u9",
            None,
            Severity::Critical,
        ));
        bad.policy_failures = vec![PolicyFailure {
            rule: "severity-threshold".into(),
            message: "1 critical vulnerability at or above the threshold".into(),
            ids: vec!["CVE-2024-9999".into()],
        }];
        write_arch(d, &bad, "arm64", true);
    });
    let text = rendered(&r);
    assert_tables_are_rectangular(&text);
    // Worst first: the failing image leads, failed on arm64, passed on amd64.
    let first_row = text
        .lines()
        .find(|l| l.starts_with("| ") && l.contains("**"))
        .unwrap();
    assert!(
        first_row.starts_with("| ⛔ | **nginx-1.26-debian** | ✅ | ⛔ |"),
        "{first_row}"
    );
    assert!(
        text.contains("nginx-1.26-debian: policy failed on arm64 ·"),
        "{text}"
    );
    assert!(
        text.contains("| ⛔ | `nginx-1.26-debian` | ✅ | ⛔ |"),
        "{text}"
    );
    assert!(text.contains("failed on `arm64`"), "{text}");
    insta::assert_snapshot!("two_arch_policy_failed_on_arm64", text);
}

#[test]
fn a_missing_scan_on_one_architecture_makes_the_row_incomplete() {
    let r = two_arch_report(|d| {
        write_arch(d, &nginx(), "amd64", true);
        write_arch(d, &arm(&nginx()), "arm64", false);
    });
    let entry = |arch: &str| {
        r.summary
            .images
            .iter()
            .find(|i| i.arch.as_deref() == Some(arch))
            .unwrap()
            .status
    };
    assert_eq!(entry("amd64"), ImageStatus::Ok);
    assert_eq!(entry("arm64"), ImageStatus::Incomplete);
    let text = rendered(&r);
    assert_tables_are_rectangular(&text);
    assert!(
        text.contains("| ⚠️ | **nginx-1.26-debian** | ✅ | ⚠️ |"),
        "{text}"
    );
    assert!(text.contains("incomplete on arm64"), "{text}");
    assert!(text.contains("no scan report was found"), "{text}");
    insta::assert_snapshot!("two_arch_arm64_scan_missing", text);
}

#[test]
fn an_index_record_gives_the_row_its_index_digest() {
    let index = digest("nginx-index");
    let r = two_arch_report(|d| {
        let img = nginx();
        write_arch(d, &img, "amd64", true);
        write_arch(d, &arm(&img), "arm64", true);
        let manifest = |arch: Arch, a: &str| IndexManifest {
            arch,
            digest: digest(&format!("{}-{a}-manifest", img.id)),
            reference: format!(
                "r.io/golden/nginx@{}",
                digest(&format!("{}-{a}-manifest", img.id))
            ),
        };
        IndexRecord {
            schema: INDEX_RECORD_SCHEMA,
            kind: IndexKind::IndexRecord,
            indexes: vec![ImageIndex {
                id: img.id.clone(),
                result: PushResult::Success,
                registry: "r.io".into(),
                image: "r.io/golden/nginx".into(),
                digest: Some(index.clone()),
                reference: Some(format!("r.io/golden/nginx@{index}")),
                manifests: vec![
                    manifest(Arch::Amd64, "amd64"),
                    manifest(Arch::Arm64, "arm64"),
                ],
                tags: vec!["r.io/golden/nginx:1.26.2-debian".into()],
                tags_not_moved: Vec::new(),
                error: None,
            }],
        }
        .write(&d.join("index/index-record.json"))
        .unwrap();
    });
    assert!(
        r.summary
            .images
            .iter()
            .all(|i| i.index_digest.as_deref() == Some(index.as_str())),
        "{:#?}",
        r.summary.images
    );
    let text = rendered(&r);
    assert_tables_are_rectangular(&text);
    let short = format!("index `{}`", &index[..19]);
    assert_eq!(
        text.matches(&short).count(),
        2,
        "job summary and comment: {text}"
    );
    assert!(text.contains(&format!("**Index:** {index}")), "{text}");
    insta::assert_snapshot!("two_arch_with_index", text);
}

#[test]
fn metrics_have_a_series_per_architecture() {
    let r = two_arch_report(|d| {
        write_arch(d, &nginx(), "amd64", true);
        write_arch(d, &arm(&nginx()), "arm64", true);
    });
    let text = golden_report::metrics::render(&r.summary);
    for arch in ["amd64", "arm64"] {
        let line = format!(
            "golden_image_size_bytes{{image=\"nginx-1.26-debian\",os=\"debian\",platform=\"nginx\",version=\"1.26.2\",arch=\"{arch}\"}}"
        );
        assert!(text.contains(&line), "{line} missing:\n{text}");
    }
    // No two samples share a name and labels.
    let samples: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.rsplit_once(' ').map(|(k, _)| k))
        .collect();
    let unique: std::collections::BTreeSet<&&str> = samples.iter().collect();
    assert_eq!(unique.len(), samples.len(), "{text}");
}

/// A push record as golden-push writes it for `arch`; `measured`: with the push's duration,
/// bytes sent and compressed size (an older golden-push wrote none of them).
fn write_push(dir: &Path, img: &Img, arch: Arch, measured: bool) {
    let m = digest(&format!("{}-{arch}-manifest", img.id));
    PushRecord {
        schema: PUSH_RECORD_SCHEMA,
        kind: PushKind::PushRecord,
        id: img.id.clone(),
        result: PushResult::Success,
        registry: "r.io".into(),
        image: "r.io/golden/nginx".into(),
        arch,
        digest: Some(m.clone()),
        reference: Some(format!("r.io/golden/nginx@{m}")),
        tags: vec![format!("r.io/golden/nginx:1.26.2-debian-{arch}")],
        tags_not_moved: Vec::new(),
        referrers: Vec::new(),
        uploaded: 2,
        blobs: 3,
        bytes_uploaded: measured.then_some(1_048_576),
        compressed_size: measured.then_some(31_457_280),
        duration_seconds: measured.then_some(12.5),
        index: None,
        error: None,
    }
    .write(&dir.join(format!("push-{arch}/push-record.json")))
    .unwrap();
}

#[test]
fn push_records_give_duration_bytes_and_compressed_size_series_when_they_have_them() {
    // amd64 pushed by a golden-push that measures, arm64 by an older one.
    let r = two_arch_report(|d| {
        let img = nginx();
        write_arch(d, &img, "amd64", true);
        write_arch(d, &arm(&img), "arm64", true);
        write_push(d, &img, Arch::Amd64, true);
        write_push(d, &arm(&img), Arch::Arm64, false);
    });
    let push = |arch: &str| {
        r.summary
            .images
            .iter()
            .find(|i| i.arch.as_deref() == Some(arch))
            .and_then(|i| i.push.clone())
            .unwrap_or_else(|| panic!("{arch}: no push in {:#?}", r.summary.images))
    };
    let amd = push("amd64");
    assert!(amd.succeeded);
    assert_eq!(
        (
            amd.duration_seconds,
            amd.bytes_uploaded,
            amd.compressed_size
        ),
        (Some(12.5), Some(1_048_576), Some(31_457_280))
    );
    let older = push("arm64");
    assert_eq!(
        (
            older.duration_seconds,
            older.bytes_uploaded,
            older.compressed_size
        ),
        (None, None, None)
    );
    let text = golden_report::metrics::render(&r.summary);
    let labels = |arch: &str| {
        format!(
            "{{image=\"nginx-1.26-debian\",os=\"debian\",platform=\"nginx\",version=\"1.26.2\",arch=\"{arch}\"}}"
        )
    };
    for (name, value) in [
        ("golden_push_duration_seconds", "12.5"),
        ("golden_push_uploaded_bytes", "1048576"),
        ("golden_image_compressed_size_bytes", "31457280"),
    ] {
        let line = format!("{name}{} {value}\n", labels("amd64"));
        assert!(text.contains(&line), "{line} missing:\n{text}");
        assert!(
            !text.contains(&format!("{name}{}", labels("arm64"))),
            "arm64's record has no {name}:\n{text}"
        );
        assert_eq!(
            text.lines()
                .filter(|l| l.starts_with(&format!("{name}{{")))
                .count(),
            1,
            "{text}"
        );
    }
    assert!(
        text.contains("# UNIT golden_push_uploaded_bytes bytes\n"),
        "{text}"
    );

    // Only older records: no push family at all (and the rest as before).
    let r = two_arch_report(|d| {
        let img = nginx();
        write_arch(d, &img, "amd64", true);
        write_arch(d, &arm(&img), "arm64", true);
        write_push(d, &img, Arch::Amd64, false);
        write_push(d, &arm(&img), Arch::Arm64, false);
    });
    assert!(r.summary.images.iter().all(|i| i.push.is_some()));
    let text = golden_report::metrics::render(&r.summary);
    for name in [
        "golden_push_duration_seconds",
        "golden_push_uploaded_bytes",
        "golden_image_compressed_size_bytes",
    ] {
        assert!(!text.contains(name), "{name}:\n{text}");
    }
    assert!(text.contains("golden_image_size_bytes{"), "{text}");
    assert!(text.ends_with("# EOF\n"), "{text}");
}

/// 130 images on two architectures, with many findings: one row per image in both renderings,
/// the PR comment under GitHub's limit, the job summary under 1 MiB, every table rectangular.
#[test]
fn a_hundred_and_thirty_two_arch_images_fit_with_one_row_each() {
    let dir = tempfile::tempdir().unwrap();
    for img in crate::fixtures::many(130) {
        write_arch(dir.path(), &img, "amd64", true);
        write_arch(dir.path(), &arm(&img), "arm64", true);
    }
    let r = report(dir.path(), None);
    assert_eq!(r.summary.images.len(), 260);
    let data = CommentData::from_report(&r);
    data.validate().unwrap();
    let comment = pr_comment::render(&data, Some(RUN_URL), KEY.len() + 10);
    assert!(comment.chars().count() < golden_report::markdown::COMMENT_LIMIT);
    let summary = render(&r, &RenderOptions::job_summary(Some(RUN_URL.into())));
    assert!(
        summary.len() < golden_gha::SUMMARY_LIMIT,
        "{}",
        summary.len()
    );
    for text in [&comment, &summary] {
        assert_tables_are_rectangular(text);
    }
    for n in 0..130 {
        let id = format!("platform{n:02}-1.{n}-debian");
        assert_eq!(summary.matches(&format!("| **{id}** |")).count(), 1, "{id}");
        assert_eq!(comment.matches(&format!("| `{id}` |")).count(), 1, "{id}");
    }
    assert!(summary.contains("| ⛔ | **platform00-1.0-debian** | ⛔ | ⛔ |"));
}

/// An architecture named by a hostile build record is escaped in the job summary and coerced
/// in the PR comment: no table breaks, no link.
#[test]
fn hostile_architecture_names_cannot_break_the_tables() {
    let r = two_arch_report(|d| {
        write_arch(d, &nginx(), "amd64", true);
        write_arch(d, &nginx(), "arm|64](https://evil.example)", true);
    });
    let text = rendered(&r);
    assert_tables_are_rectangular(&text);
    // Markdown is not interpreted inside `<summary>` (HTML-escaped there, like image names).
    let markdown: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with("<summary>"))
        .collect();
    for line in markdown {
        assert!(!line.contains("](https://evil"), "{line}");
    }
    assert!(text.contains("| arm\\|64\\]\\(https"), "{text}");
    assert!(
        text.contains("| `arm_64__https_/evil.example_` |"),
        "{text}"
    );
}

/// Package counts per ecosystem, one row per image like the main table: one value when every
/// architecture has it, else `arch: value` per architecture.
#[test]
fn package_counts_per_ecosystem_are_one_row_per_image() {
    let kinds = |kv: &[(&str, u64)]| -> std::collections::BTreeMap<String, u64> {
        kv.iter().map(|(k, n)| (k.to_string(), *n)).collect()
    };
    let (amd, arm_kinds) = (
        kinds(&[("dpkg", 120), ("maven", 36)]),
        kinds(&[("dpkg", 118), ("maven", 36)]),
    );
    let r = two_arch_report(|d| {
        let mut n = nginx();
        n.kinds = amd.clone();
        write_arch(d, &n, "amd64", true);
        let mut a = arm(&n);
        a.kinds = arm_kinds.clone();
        write_arch(d, &a, "arm64", true);
        let mut b = base();
        b.kinds = kinds(&[("dpkg", 80)]);
        write_arch(d, &b, "amd64", true);
        write_arch(d, &arm(&b), "arm64", true);
    });
    let text = rendered(&r);
    assert_tables_are_rectangular(&text);
    let total = |m: &std::collections::BTreeMap<String, u64>| m.values().sum::<u64>();
    let summary_row = format!(
        "| **nginx-1.26-debian** | amd64: {} · arm64: {} | amd64: {} · arm64: {} | {} |",
        total(&amd),
        total(&arm_kinds),
        amd["dpkg"],
        arm_kinds["dpkg"],
        amd["maven"]
    );
    let comment_row = format!(
        "| `nginx-1.26-debian` | `amd64`: {} · `arm64`: {} | `amd64`: {} · `arm64`: {} | {} |",
        total(&amd),
        total(&arm_kinds),
        amd["dpkg"],
        arm_kinds["dpkg"],
        amd["maven"]
    );
    for row in [summary_row, comment_row] {
        assert_eq!(text.matches(&row).count(), 1, "{row}\n{text}");
    }
    // Equal on both architectures: one value; no maven in the base: a dash.
    assert!(text.contains("| **base-debian** | 80 | 80 | — |"), "{text}");
    assert!(text.contains("| `base-debian` | 80 | 80 | — |"), "{text}");
}
