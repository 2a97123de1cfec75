//! "Packages per ecosystem": the table of package counts per kind that the job summary and the
//! PR comment both show when a scan report counts its packages per kind; every cell checked
//! against the counts the fixtures were written with.

use golden_report::comment_file::CommentFile;
use golden_report::escape::{md, truncate};
use golden_report::markdown::{COMMENT_LIMIT, RenderOptions, render};
use golden_report::pr_comment::{self, CommentData, MAX_IMAGES, Pattern};
use std::collections::BTreeMap;

use crate::fixtures::{self, Img, write_set};
use crate::{RUN_URL, fixture, report};

fn kinds(kv: &[(&str, u64)]) -> BTreeMap<String, u64> {
    kv.iter().map(|(k, n)| (k.to_string(), *n)).collect()
}

/// The green run without vulnerabilities (no details anywhere), each image counting its
/// packages per kind.
fn green_with_kinds() -> Vec<Img> {
    let mut imgs = fixtures::green();
    let per_image: [&[(&str, u64)]; 3] = [
        &[("dpkg", 88)],
        &[("dpkg", 120), ("golang", 7)],
        &[("pypi", 41), ("dpkg", 131), ("apk", 2), ("cargo", 3)],
    ];
    for (i, k) in imgs.iter_mut().zip(per_image) {
        i.vulns.clear();
        i.kinds = kinds(k);
    }
    imgs
}

/// Split a table line on the `|` that are not escaped.
fn cells(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut prev = None;
    for c in line.chars() {
        if c == '|' && prev != Some('\\') {
            out.push(cur.trim().to_string());
            cur.clear();
        } else {
            cur.push(c);
        }
        prev = Some(c);
    }
    out.remove(0);
    out
}

/// The packages table of `body`: its head and its rows, as cells.
fn packages_table(body: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let section = body
        .split("### Packages per ecosystem\n\n")
        .nth(1)
        .unwrap_or_else(|| panic!("no packages table:\n{body}"));
    let lines: Vec<&str> = section.lines().take_while(|l| l.starts_with('|')).collect();
    assert!(lines.len() >= 3, "{section}");
    (
        cells(lines[0]),
        lines[2..].iter().map(|l| cells(l)).collect(),
    )
}

fn summary(r: &golden_report::aggregate::Report) -> String {
    render(r, &RenderOptions::job_summary(Some(RUN_URL.into())))
}

fn comment(r: &golden_report::aggregate::Report) -> String {
    let data = CommentData::from_report(r);
    data.validate().unwrap();
    pr_comment::render(&data, Some(RUN_URL), 60)
}

/// Every row keeps the cell count of its table's head.
fn assert_tables_are_rectangular(text: &str) {
    let mut expected: Option<usize> = None;
    for line in text.lines() {
        if !line.starts_with('|') {
            expected = None;
            continue;
        }
        let n = cells(line).len();
        match expected {
            None => expected = Some(n),
            Some(e) => assert_eq!(n, e, "{line}\n{text}"),
        }
    }
}

#[test]
fn an_all_green_run_shows_its_package_counts_per_ecosystem_in_both_places() {
    let dir = tempfile::tempdir().unwrap();
    let imgs = green_with_kinds();
    write_set(dir.path(), &imgs);
    let r = report(dir.path(), None);
    assert_eq!(r.summary.totals.failed, 0);
    let by_id: BTreeMap<&str, &BTreeMap<String, u64>> =
        imgs.iter().map(|i| (i.id.as_str(), &i.kinds)).collect();
    let order: Vec<&str> = r.summary.images.iter().map(|i| i.id.as_str()).collect();
    for (what, body, mark) in [
        ("job summary", summary(&r), "**"),
        ("PR comment", comment(&r), "`"),
    ] {
        let label = |id: &str| format!("{mark}{id}{mark}");
        // A green run has no details: the counts are in the table or nowhere.
        assert!(!body.contains("<details>"), "{what}:\n{body}");
        assert_tables_are_rectangular(&body);
        let (head, rows) = packages_table(&body);
        let kind_head: Vec<String> = head[2..]
            .iter()
            .map(|h| h.trim_matches('`').to_string())
            .collect();
        assert_eq!(&head[..2], ["Image", "Total"], "{what}");
        // OS package kinds first (dpkg, apk, rpm order), then the others alphabetically;
        // rpm occurs nowhere, so it has no column.
        assert_eq!(
            kind_head,
            ["dpkg", "apk", "cargo", "golang", "pypi"],
            "{what}"
        );
        // One row per image, in the main table's order.
        let row_ids: Vec<String> = rows.iter().map(|r| r[0].clone()).collect();
        let want: Vec<String> = order.iter().map(|id| label(id)).collect();
        assert_eq!(row_ids, want, "{what}");
        for row in &rows {
            let id = order.iter().find(|id| label(id) == row[0]).unwrap();
            let input = by_id[id];
            assert_eq!(
                row[1],
                input.values().sum::<u64>().to_string(),
                "{what}: {id} total"
            );
            for (k, cell) in kind_head.iter().zip(&row[2..]) {
                let want = input
                    .get(k)
                    .map(|n| n.to_string())
                    .unwrap_or_else(|| "—".into());
                assert_eq!(cell, &want, "{what}: {id} {k}");
            }
        }
    }
    let body = comment(&r);
    let section = body
        .split("\n### Packages per ecosystem")
        .nth(1)
        .unwrap()
        .split("\n_Report by")
        .next()
        .unwrap();
    insta::assert_snapshot!("packages_all_green_comment", section);
}

#[test]
fn hostile_package_kinds_cannot_break_the_table() {
    let dir = tempfile::tempdir().unwrap();
    let hostile = [
        ("dpkg", 10u64),
        ("<script>alert(1)</script>", 3),
        ("a|b", 4),
        ("`tick`", 5),
        ("new\nline | injected |", 6),
    ];
    let mut imgs = fixtures::green();
    imgs.truncate(1);
    imgs[0].vulns.clear();
    imgs[0].kinds = kinds(&hostile);
    write_set(dir.path(), &imgs);
    let r = report(dir.path(), None);

    // The job summary: every kind escaped, in its own column with its own count.
    let s = summary(&r);
    assert_tables_are_rectangular(&s);
    assert!(!s.contains("<script"), "{s}");
    let (head, rows) = packages_table(&s);
    assert_eq!(head.len(), 2 + hostile.len(), "{head:?}");
    assert_eq!(rows.len(), 1);
    for (k, n) in hostile {
        let col = head
            .iter()
            .position(|h| *h == md(&truncate(k, 40)))
            .unwrap_or_else(|| panic!("no column for {k:?}: {head:?}"));
        assert_eq!(rows[0][col], n.to_string(), "{k:?}");
    }
    assert_eq!(
        rows[0][1],
        hostile.iter().map(|(_, n)| n).sum::<u64>().to_string()
    );

    // The comment: kinds made to fit their pattern, in code spans, each count where it was.
    let data = CommentData::from_report(&r);
    data.validate().unwrap();
    let c = pr_comment::render(&data, Some(RUN_URL), 60);
    assert_tables_are_rectangular(&c);
    assert!(!c.contains("<script") && !c.contains("a|b"), "{c}");
    let (head, rows) = packages_table(&c);
    assert_eq!(head.len(), 2 + hostile.len(), "{head:?}");
    for h in &head[2..] {
        let k = h
            .strip_prefix('`')
            .and_then(|h| h.strip_suffix('`'))
            .unwrap_or_else(|| panic!("{h} not in a code span"));
        assert!(Pattern::Kind.matches(k), "{k:?}");
    }
    let mut shown: Vec<u64> = rows[0][2..].iter().map(|c| c.parse().unwrap()).collect();
    let mut want: Vec<u64> = hostile.iter().map(|(_, n)| *n).collect();
    shown.sort_unstable();
    want.sort_unstable();
    assert_eq!(shown, want);
    // The poster reads the same file back and accepts it.
    let f = dir.path().join("pr-comment.json");
    CommentFile::new(4, "k".into(), data.clone())
        .write(&f)
        .unwrap();
    assert_eq!(CommentFile::read(&f).unwrap().data, data);
}

#[test]
fn without_counts_per_kind_there_is_no_table() {
    // The committed fixtures are scan reports of before `packages_by_kind`.
    let r = report(&fixture("green"), None);
    assert!(
        r.summary
            .images
            .iter()
            .all(|i| i.scan.as_ref().unwrap().packages_by_kind.is_empty())
    );
    for body in [summary(&r), comment(&r)] {
        assert!(!body.contains("Packages per ecosystem"), "{body}");
    }
    let json = serde_json::to_string(&CommentData::from_report(&r)).unwrap();
    assert!(!json.contains("packages_by_kind"), "{json}");
    // One image that counts them is enough for the table; the others show dashes.
    let dir = tempfile::tempdir().unwrap();
    let mut imgs = fixtures::green();
    imgs[2].kinds = kinds(&[("dpkg", 5)]);
    write_set(dir.path(), &imgs);
    let r = report(dir.path(), None);
    let (head, rows) = packages_table(&comment(&r));
    assert_eq!(head, ["Image", "Total", "`dpkg`"]);
    let python = rows
        .iter()
        .find(|r| r[0] == "`python-3.11-debian`")
        .unwrap();
    assert_eq!(python[1..], ["5", "5"]);
    let base = rows.iter().find(|r| r[0] == "`base-debian`").unwrap();
    let base_packages = imgs[0].packages.len().to_string();
    assert_eq!(base[1..], [base_packages.as_str(), "—"]);
}

/// 300 images counting twelve kinds: the comment stays under GitHub's limit, the main table is
/// exactly what it is without the package counts, and the packages table is cut short with a
/// note (or left out with one).
#[test]
fn a_huge_report_keeps_its_main_table_and_stays_under_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let mut imgs = fixtures::green();
    imgs.truncate(1);
    imgs[0].vulns.clear();
    imgs[0].kinds = (0..12)
        .map(|n| (format!("ecosystem-{n:02}"), 100_000 + n as u64))
        .collect();
    write_set(dir.path(), &imgs);
    let r = report(dir.path(), None);
    let one = CommentData::from_report(&r);
    let mut data = one.clone();
    data.images = (0..MAX_IMAGES)
        .map(|n| {
            let mut i = one.images[0].clone();
            i.id = format!("image-{n:03}");
            i
        })
        .collect();
    data.totals.images = MAX_IMAGES as u64;
    data.totals.ok = MAX_IMAGES as u64;
    data.validate().unwrap();
    let mut without = data.clone();
    for i in &mut without.images {
        i.packages_by_kind.clear();
    }
    let reserved = 60;
    let body = pr_comment::render(&data, Some(RUN_URL), reserved);
    let plain = pr_comment::render(&without, Some(RUN_URL), reserved);
    let n = body.chars().count();
    assert!(n <= COMMENT_LIMIT - reserved, "{n} characters");
    let main = |b: &str| -> Vec<String> {
        b.split("\n### Packages per ecosystem")
            .next()
            .unwrap()
            .lines()
            .filter(|l| l.starts_with('|'))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(main(&body), main(&plain), "the main table changed");
    assert_eq!(
        main(&body).iter().filter(|l| l.contains("`image-")).count(),
        MAX_IMAGES,
        "every image in the main table"
    );
    // Cut short, with the kinds beyond the column cap in one `other` column.
    let (head, rows) = packages_table(&body);
    assert_eq!(head.last().map(String::as_str), Some("other"));
    assert!(rows.len() < MAX_IMAGES, "{} rows", rows.len());
    let note = format!(
        "_The package counts of {} more images are not listed here;",
        MAX_IMAGES - rows.len()
    );
    assert!(body.contains(&note), "{body}");
}

/// The job summary of 200 images with many findings and counts per kind: under 1 MiB, the main
/// table and the packages table whole, the details trimmed first.
#[test]
fn the_job_summary_keeps_the_package_counts_before_the_details() {
    let dir = tempfile::tempdir().unwrap();
    let mut imgs = fixtures::many(200);
    for (n, i) in imgs.iter_mut().enumerate() {
        i.kinds = kinds(&[("dpkg", 100 + n as u64), ("npm", 7)]);
    }
    write_set(dir.path(), &imgs);
    let r = report(dir.path(), None);
    let s = summary(&r);
    assert!(s.len() < golden_gha::SUMMARY_LIMIT, "{} bytes", s.len());
    assert!(s.contains("1 MiB limit"), "the details were not trimmed");
    assert_eq!(s.matches("| ⛔ | **platform").count(), 200);
    let (head, rows) = packages_table(&s);
    assert_eq!(head, ["Image", "Total", "dpkg", "npm"]);
    assert_eq!(rows.len(), 200);
    for i in &imgs {
        let row = rows
            .iter()
            .find(|r| r[0] == format!("**{}**", i.id))
            .unwrap_or_else(|| panic!("{} missing", i.id));
        assert_eq!(row[2], i.kinds["dpkg"].to_string());
    }
    assert!(s.find("Packages per ecosystem") < s.find("### Details"));
}
