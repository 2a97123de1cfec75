//! The pinned Trivy for real (`.venv/bin/trivy`, installed by scripts/setup.sh), against the
//! small vulnerability DB of tests/fixtures/trivy-db/advisories.yaml that golden-testkit builds
//! and pushes to a real local registry (scripts/registry.sh), on the hardened Debian base and
//! the nginx image (built when the engine does not have them). No Trivy, no engine or no
//! registry: these tests FAIL, they never skip.
//!
//! As the workflow does, the DB is downloaded once (the first scan) into a shared cache and
//! every later scan runs with --skip-db-update: the registry is stopped after the download, so a
//! scan that tried to fetch it again would fail.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use golden_testkit::trivydb::{Expect, Fixture};
use serde_json::Value;

use crate::registry::Registry;
use crate::support::*;

const BASE: &str = "goldenimages.azurecr.io/golden/base-debian:12";
const NGINX: &str = "goldenimages.azurecr.io/golden/nginx:1.22-debian";
const NGINX_ID: &str = "nginx-1.22-debian";
const DB_REPO: &str = "golden-test/trivy-db";
const JAVA_DB_REPO: &str = "golden-test/trivy-java-db";

fn trivy_bin() -> PathBuf {
    let p = fixture(".venv/bin/trivy");
    assert!(
        p.is_file(),
        "the pinned Trivy is required at {}: run scripts/setup.sh",
        p.display()
    );
    let out = Command::new(&p).arg("--version").output().unwrap();
    let v = String::from_utf8_lossy(&out.stdout);
    assert!(
        v.contains("Version: 0.69.3"),
        "{} is not Trivy 0.69.3: {v}",
        p.display()
    );
    p
}

fn docker_ok(args: &[&str]) -> bool {
    Command::new("docker")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("docker engine required: run scripts/ensure-docker.sh ({e})"))
        .status
        .success()
}

/// The image `tag`, built with `script args` when the engine does not have it.
fn ensure_image(tag: &str, script: &str, args: &[&str]) {
    assert!(
        docker_ok(&["version", "--format", "{{.Server.Version}}"]),
        "docker engine required: run scripts/ensure-docker.sh"
    );
    if docker_ok(&["image", "inspect", tag]) {
        return;
    }
    let out = Command::new(fixture(script))
        .args(args)
        .current_dir(fixture(""))
        .output()
        .unwrap_or_else(|e| panic!("failed to run {script}: {e}"));
    assert!(
        out.status.success(),
        "{script} {args:?} failed (needed for {tag}):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn ensure_images() {
    ensure_image(BASE, "scripts/build-base.sh", &["debian"]);
    ensure_image(NGINX, "scripts/build-platforms.sh", &["--only", NGINX_ID]);
}

/// Build the fixture's DBs and push them to `reg`.
fn publish(reg: &Registry) -> Fixture {
    let f = fixture("tests/fixtures/trivy-db/advisories.yaml");
    let db = format!("127.0.0.1:{}/{DB_REPO}", reg.port);
    let java = format!("127.0.0.1:{}/{JAVA_DB_REPO}", reg.port);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(golden_testkit::trivydb::publish(&f, &db, Some(&java), None))
        .unwrap_or_else(|e| panic!("cannot publish the test DB: {e:#}"));
    Fixture::load(&f).unwrap()
}

struct Scan {
    code: i32,
    report: Value,
    sarif: Value,
    markdown: String,
    err: String,
}

fn scan(image: &str, out: &Path, extra: &[&str]) -> Scan {
    let trivy = trivy_bin();
    let mut args = vec![
        image,
        "-o",
        out.to_str().unwrap(),
        "--trivy",
        trivy.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let (code, _, err) = golden_scan(&args, &[]);
    let read = |f: &str| std::fs::read_to_string(out.join(f)).unwrap_or_default();
    Scan {
        code,
        report: serde_json::from_str(&read("report.json")).unwrap_or(Value::Null),
        sarif: serde_json::from_str(&read("report.sarif")).unwrap_or(Value::Null),
        markdown: read("report.md"),
        err,
    }
}

/// Trivy itself on `image`, from the shared cache (no download).
fn trivy_json(image: &str, cache: &Path, format: &str) -> Value {
    let out = Command::new(trivy_bin())
        .args(["image", "--quiet", "--format", format, "--cache-dir"])
        .arg(cache)
        .args([
            "--skip-db-update",
            "--skip-java-db-update",
            "--scanners",
            "vuln",
            image,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "trivy {format} on {image} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// (id, package, installed, fixed, severity, status)
type Finding = (String, String, String, String, String, String);

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

fn trivy_findings(t: &Value) -> BTreeSet<Finding> {
    let mut out = BTreeSet::new();
    for r in t["Results"].as_array().into_iter().flatten() {
        for v in r["Vulnerabilities"].as_array().into_iter().flatten() {
            out.insert((
                s(&v["VulnerabilityID"]),
                s(&v["PkgName"]),
                s(&v["InstalledVersion"]),
                s(&v["FixedVersion"]),
                s(&v["Severity"]),
                s(&v["Status"]),
            ));
        }
    }
    out
}

fn report_findings(r: &Value) -> BTreeSet<Finding> {
    r["vulnerabilities"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                s(&v["id"]),
                s(&v["package"]),
                s(&v["installed"]),
                s(&v["fixed"]),
                s(&v["severity"]),
                s(&v["status"]),
            )
        })
        .collect()
}

/// The SARIF results of vulnerabilities: id, package, installed, status from the properties,
/// severity from the rule's tags, fixed version from the message.
fn sarif_findings(sarif: &Value) -> BTreeSet<Finding> {
    let run = &sarif["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let mut out = BTreeSet::new();
    for r in run["results"].as_array().unwrap() {
        let rule = &rules[r["ruleIndex"].as_u64().unwrap() as usize];
        let tags: Vec<String> = rule["properties"]["tags"]
            .as_array()
            .into_iter()
            .flatten()
            .map(s)
            .collect();
        if !tags.iter().any(|t| t == "vulnerability") {
            continue;
        }
        let severity = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"]
            .into_iter()
            .find(|x| tags.iter().any(|t| t == x))
            .unwrap_or_default();
        let text = s(&r["message"]["text"]);
        let fixed = text
            .split("(fixed in ")
            .nth(1)
            .map(|t| t.trim_end_matches(')').to_string())
            .unwrap_or_default();
        let p = &r["properties"];
        out.insert((
            s(&r["ruleId"]),
            s(&p["package"]),
            s(&p["installed"]),
            fixed,
            severity.to_string(),
            s(&p["status"]),
        ));
    }
    out
}

/// Markdown text with its backslash escapes (`\~`, `\|`, ...) undone.
fn unescape(cell: &str) -> String {
    let mut out = String::new();
    let mut chars = cell.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, chars.peek()) {
            ('\\', Some(n)) if n.is_ascii_punctuation() => {
                out.push(*n);
                chars.next();
            }
            _ => out.push(c),
        }
    }
    out
}

/// The report.md vulnerability table rows: (id, package, installed, fixed-or-status, severity).
fn markdown_rows(md: &str) -> BTreeSet<(String, String, String, String, String)> {
    md.lines()
        .filter(|l| l.starts_with("| CVE-"))
        .map(|l| {
            let c: Vec<String> = l
                .trim_matches('|')
                .split('|')
                .map(|c| unescape(c.trim()))
                .collect();
            (
                c[0].clone(),
                c[1].clone(),
                c[2].clone(),
                c[3].clone(),
                c[4].clone(),
            )
        })
        .collect()
}

/// What the fixture says Trivy must report in an image with `packages` (report.json's
/// inventory): every binary package of the advisory's source package, for `fixed` and
/// `affected`; nothing for `not_reported`.
fn expected_from_fixture(f: &Fixture, packages: &Value) -> BTreeSet<(String, String, String)> {
    let mut by_source: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for p in packages.as_array().unwrap() {
        if p["kind"] != "dpkg" {
            continue;
        }
        let src = p["source_name"]
            .as_str()
            .unwrap_or(p["name"].as_str().unwrap());
        by_source
            .entry(src.to_string())
            .or_default()
            .push(s(&p["name"]));
    }
    let mut out = BTreeSet::new();
    for a in &f.advisories {
        let status = match a.expect {
            Expect::Fixed => "fixed",
            Expect::Affected => "affected",
            Expect::NotReported => continue,
        };
        for bin in by_source.get(&a.source_package).into_iter().flatten() {
            out.insert((a.id.clone(), bin.clone(), status.to_string()));
        }
    }
    out
}

fn check_round_trip(image: &str, out: &Path, cache: &Path, f: &Fixture) -> BTreeSet<String> {
    let c = cache.to_str().unwrap();
    // SARIF carries what the policy counts (at or above fail_on): UNKNOWN counts everything.
    let pol = write(
        out.parent().unwrap(),
        "all.yaml",
        b"schema: 1\nvulnerabilities:\n  fail_on: UNKNOWN\n",
    );
    let sc = scan(
        image,
        out,
        &[
            "--trivy-cache-dir",
            c,
            "--skip-db-update",
            "--policy",
            pol.to_str().unwrap(),
        ],
    );
    assert!(sc.code == 0 || sc.code == 1, "{image}: {}", sc.err);
    assert_eq!(
        sc.report["vulnerabilities"]["status"], "scanned",
        "{}",
        sc.err
    );
    assert_eq!(sc.report["vulnerabilities"]["scanner"], "trivy 0.69.3");
    let ours = report_findings(&sc.report);
    let theirs = trivy_findings(&trivy_json(image, cache, "json"));
    assert!(!theirs.is_empty(), "Trivy found nothing in {image}");
    assert_eq!(
        ours, theirs,
        "{image}: report.json differs from Trivy's JSON"
    );
    assert_eq!(
        sarif_findings(&sc.sarif),
        theirs,
        "{image}: report.sarif differs from Trivy's JSON"
    );
    let md: BTreeSet<_> = theirs
        .iter()
        .map(|(id, p, inst, fixed, sev, status)| {
            let col = if fixed.is_empty() {
                status.clone()
            } else {
                fixed.clone()
            };
            (id.clone(), p.clone(), inst.clone(), col, sev.clone())
        })
        .collect();
    assert_eq!(
        markdown_rows(&sc.markdown),
        md,
        "{image}: report.md differs from Trivy's JSON"
    );
    // And both say what the fixture's author expected.
    let got: BTreeSet<(String, String, String)> = ours
        .iter()
        .map(|(id, p, _, _, _, st)| (id.clone(), p.clone(), st.clone()))
        .collect();
    assert_eq!(
        got,
        expected_from_fixture(f, &sc.report["packages"]),
        "{image}: findings differ from the fixture's `expect`"
    );
    // Trivy's SBOM and our inventory list the same Debian packages.
    let cdx = trivy_json(image, cache, "cyclonedx");
    let trivy_pkgs: BTreeSet<(String, String)> = cdx["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| s(&c["purl"]).starts_with("pkg:deb/"))
        .map(|c| (s(&c["name"]), s(&c["version"])))
        .collect();
    let our_pkgs: BTreeSet<(String, String)> = sc.report["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["kind"] == "dpkg")
        .map(|p| (s(&p["name"]), s(&p["version"])))
        .collect();
    assert!(our_pkgs.len() > 50, "{image}: {} packages", our_pkgs.len());
    assert_eq!(
        our_pkgs, trivy_pkgs,
        "{image}: golden-scan's inventory and Trivy's CycloneDX SBOM differ"
    );
    ours.iter().map(|x| x.4.clone()).collect()
}

#[test]
fn docker_real_trivy_findings_match_trivy_and_drive_the_policy() {
    let trivy = trivy_bin();
    ensure_images();
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("trivy-cache");
    let reg = Registry::start();
    let f = publish(&reg);
    let repo = format!("127.0.0.1:{}/{DB_REPO}", reg.port);
    let java = format!("127.0.0.1:{}/{JAVA_DB_REPO}", reg.port);

    // The run's one download (as the workflow's trivy-db job): both DBs into the shared cache.
    for flag in ["--download-db-only", "--download-java-db-only"] {
        let out = Command::new(&trivy)
            .args(["image", flag, "--no-progress", "--cache-dir"])
            .arg(&cache)
            .args(["--db-repository", &repo, "--java-db-repository", &java])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "trivy {flag} from {repo}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // From now on nothing may be fetched: the registry is gone.
    drop(reg);

    let mut severities = check_round_trip(BASE, &dir.path().join("base"), &cache, &f);
    severities.extend(check_round_trip(
        NGINX,
        &dir.path().join("nginx"),
        &cache,
        &f,
    ));
    assert_eq!(
        severities.into_iter().collect::<Vec<_>>(),
        ["CRITICAL", "HIGH", "LOW", "MEDIUM", "UNKNOWN"],
        "the fixture plants one finding of each severity"
    );

    // Policy: the planted CRITICAL with a fix fails it; an ignore covering it (expiring later)
    // lets the image pass; once expired it fails again.
    let c = cache.to_str().unwrap();
    let policy = |name: &str, ignore: &str| {
        let text = format!(
            "schema: 1\nvulnerabilities:\n  fail_on: CRITICAL\n  require_scan: true\ncompliance:\n  required: none\nignore:\n{ignore}"
        );
        write(dir.path(), name, text.as_bytes())
    };
    let today = chrono::Utc::now().date_naive();
    let entry = |expires: chrono::NaiveDate| {
        format!(
            "  - id: CVE-2099-0001\n    package: libc6\n    reason: test\n    expires: {expires}\n  - id: CVE-2099-0001\n    package: libc-bin\n    reason: test\n    expires: {expires}\n"
        )
    };
    let run = |pol: &Path| {
        scan(
            BASE,
            &dir.path().join("policy"),
            &[
                "--trivy-cache-dir",
                c,
                "--skip-db-update",
                "--policy",
                pol.to_str().unwrap(),
            ],
        )
    };
    let sc = run(&policy("none.yaml", "  []\n"));
    assert_eq!(sc.code, 1, "{}", sc.err);
    assert_eq!(
        sc.report["policy"]["failures"][0]["rule"],
        "severity-threshold"
    );
    let ids = sc.report["policy"]["failures"][0]["ids"].to_string();
    assert!(ids.contains("CVE-2099-0001"), "{ids}");

    let sc = run(&policy(
        "later.yaml",
        &entry(today + chrono::Duration::days(30)),
    ));
    assert_eq!(sc.code, 0, "{}\n{}", sc.err, sc.report["policy"]);
    assert_eq!(sc.report["summary"]["suppressed"], 2);

    let sc = run(&policy(
        "expired.yaml",
        &entry(today - chrono::Duration::days(1)),
    ));
    assert_eq!(sc.code, 1, "{}", sc.err);
    assert!(
        sc.report["policy"].to_string().contains("expired"),
        "{}",
        sc.report["policy"]
    );

    // VEX on the real Trivy's findings: `not_affected` for this image makes the planted
    // CRITICAL pass (suppressed, with the justification); `affected` keeps it failing.
    let vex = |name: &str, status: &str, extra: &str| {
        let doc = format!(
            r#"{{"@context":"https://openvex.dev/ns/v0.2.0","@id":"urn:test:{name}","author":"test","timestamp":"2026-01-01T00:00:00Z","version":1,
"statements":[{{"vulnerability":{{"name":"CVE-2099-0001"}},"products":[{{"@id":"{BASE}"}}],"status":"{status}"{extra}}}]}}"#
        );
        write(dir.path(), name, doc.as_bytes())
    };
    let none = policy("none-vex.yaml", "  []\n");
    let with_vex = |file: &Path| {
        scan(
            BASE,
            &dir.path().join("policy"),
            &[
                "--trivy-cache-dir",
                c,
                "--skip-db-update",
                "--policy",
                none.to_str().unwrap(),
                "--vex",
                file.to_str().unwrap(),
            ],
        )
    };
    let sc = with_vex(&vex(
        "na.json",
        "not_affected",
        r#","justification":"vulnerable_code_not_in_execute_path""#,
    ));
    assert_eq!(sc.code, 0, "{}\n{}", sc.err, sc.report["policy"]);
    let marked: Vec<&Value> = sc.report["vulnerabilities"]["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|v| v["id"] == "CVE-2099-0001")
        .collect();
    assert!(!marked.is_empty(), "Trivy still reports the finding");
    assert!(
        marked.iter().all(|v| v["vex"]["status"] == "not_affected"
            && v["vex"]["justification"] == "vulnerable_code_not_in_execute_path"),
        "{marked:?}"
    );
    let sc = with_vex(&vex(
        "affected.json",
        "affected",
        r#","action_statement":"upgrade glibc""#,
    ));
    assert_eq!(
        sc.code, 1,
        "an affected statement keeps it failing: {}",
        sc.err
    );
}

#[test]
fn docker_real_trivy_missing_or_corrupt_db_is_an_error_naming_the_repository() {
    trivy_bin();
    ensure_image(BASE, "scripts/build-base.sh", &["debian"]);
    let dir = tempfile::tempdir().unwrap();
    let reg = Registry::start();
    let f = publish(&reg);
    assert!(!f.advisories.is_empty());
    let expect_error = |sc: &Scan, what: &str, needle: &str| {
        assert_eq!(
            sc.code, 2,
            "{what}: exit {} (not an error):\n{}",
            sc.code, sc.err
        );
        assert!(sc.err.contains("Trivy failed"), "{what}:\n{}", sc.err);
        assert!(
            sc.err.contains(needle),
            "{what}: `{needle}` not named:\n{}",
            sc.err
        );
        assert_eq!(sc.report["vulnerabilities"]["status"], "failed", "{what}");
        assert_eq!(sc.report["policy"]["passed"], false, "{what}");
    };

    // A repository the registry does not have.
    let missing = format!("127.0.0.1:{}/golden-test/no-such-db", reg.port);
    let cache = dir.path().join("c1");
    let sc = scan(
        BASE,
        &dir.path().join("o1"),
        &[
            "--trivy-cache-dir",
            cache.to_str().unwrap(),
            "--trivy-db-repository",
            &missing,
        ],
    );
    expect_error(&sc, "missing repository", &missing);

    // An empty cache with --skip-db-update (the shared DB never arrived).
    let repo = format!("127.0.0.1:{}/{DB_REPO}", reg.port);
    let sc = scan(
        BASE,
        &dir.path().join("o2"),
        &[
            "--trivy-cache-dir",
            dir.path().join("c2").to_str().unwrap(),
            "--skip-db-update",
            "--trivy-db-repository",
            &repo,
        ],
    );
    expect_error(&sc, "empty cache", &repo);

    // A corrupt DB in the cache.
    let c3 = dir.path().join("c3");
    let sc = scan(
        BASE,
        &dir.path().join("o3"),
        &[
            "--trivy-cache-dir",
            c3.to_str().unwrap(),
            "--trivy-db-repository",
            &repo,
        ],
    );
    assert_eq!(
        sc.report["vulnerabilities"]["status"], "scanned",
        "{}",
        sc.err
    );
    let db = c3.join("db/trivy.db");
    let mut bytes = std::fs::read(&db).unwrap();
    bytes[16..32].fill(0xff); // the first meta page's magic, version, page size
    bytes[4096 + 16..4096 + 32].fill(0xff); // and the second's
    std::fs::write(&db, bytes).unwrap();
    let sc = scan(
        BASE,
        &dir.path().join("o4"),
        &[
            "--trivy-cache-dir",
            c3.to_str().unwrap(),
            "--skip-db-update",
            "--trivy-db-repository",
            &repo,
        ],
    );
    expect_error(&sc, "corrupt DB", &repo);
}

/// A jar (a zip, entries stored) holding a manifest and Maven's pom.properties.
fn jar(group: &str, artifact: &str, version: &str) -> Vec<u8> {
    let files = [
        (
            "META-INF/MANIFEST.MF".to_string(),
            format!(
                "Manifest-Version: 1.0\r\nImplementation-Title: {artifact}\r\nImplementation-Version: {version}\r\n\r\n"
            ),
        ),
        (
            format!("META-INF/maven/{group}/{artifact}/pom.properties"),
            format!("groupId={group}\nartifactId={artifact}\nversion={version}\n"),
        ),
    ];
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data) in &files {
        let mut crc = flate2::Crc::new();
        crc.update(data.as_bytes());
        let (crc, size, offset) = (crc.sum(), data.len() as u32, out.len() as u32);
        let common = |v: &mut Vec<u8>| {
            v.extend_from_slice(&20u16.to_le_bytes()); // version needed
            v.extend_from_slice(&0u16.to_le_bytes()); // flags
            v.extend_from_slice(&0u16.to_le_bytes()); // stored
            v.extend_from_slice(&0u16.to_le_bytes()); // time
            v.extend_from_slice(&0x21u16.to_le_bytes()); // date 1980-01-01
            v.extend_from_slice(&crc.to_le_bytes());
            v.extend_from_slice(&size.to_le_bytes());
            v.extend_from_slice(&size.to_le_bytes());
            v.extend_from_slice(&(name.len() as u16).to_le_bytes());
            v.extend_from_slice(&0u16.to_le_bytes()); // extra
        };
        out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        common(&mut out);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(data.as_bytes());
        central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        central.extend_from_slice(&20u16.to_le_bytes()); // version made by
        common(&mut central);
        central.extend_from_slice(&[0; 8]); // comment len, disk, internal attrs
        central.extend_from_slice(&0u32.to_le_bytes()); // external attrs
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
    }
    let (cd_offset, cd_size) = (out.len() as u32, central.len() as u32);
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&[0; 4]); // disk numbers
    out.extend_from_slice(&(files.len() as u16).to_le_bytes());
    out.extend_from_slice(&(files.len() as u16).to_le_bytes());
    out.extend_from_slice(&cd_size.to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes()); // comment
    out
}

#[test]
fn docker_real_trivy_scans_an_image_with_jars_offline_from_the_mirrors_java_db() {
    trivy_bin();
    let dir = tempfile::tempdir().unwrap();
    let layer = Layer::new()
        .dir("app/", 0o755)
        .file(
            "app/demo.jar",
            0o644,
            &jar("org.example.golden", "demo", "1.2.3"),
        )
        .bytes();
    let cfg = config(
        std::slice::from_ref(&layer),
        &[("COPY demo.jar /app/", false)],
        serde_json::json!({ "User": "10001" }),
    );
    let archive = dir.path().join("jar-image.tar");
    std::fs::write(
        &archive,
        docker_archive(&[layer], &cfg, "golden-test/jar-image:1"),
    )
    .unwrap();
    let image = format!("docker-archive:{}", archive.display());
    let policy = dir.path().join("policy.yaml");
    std::fs::write(&policy, "schema: 1\ncompliance:\n  required: none\n").unwrap();
    let reg = Registry::start();
    publish(&reg);
    let db = format!("127.0.0.1:{}/{DB_REPO}", reg.port);
    let java = format!("127.0.0.1:{}/{JAVA_DB_REPO}", reg.port);

    // The mirror's (empty) Java DB: the jar is analysed, nothing is fetched from elsewhere.
    let cache = dir.path().join("cache");
    let sc = scan(
        &image,
        &dir.path().join("out"),
        &[
            "--policy",
            policy.to_str().unwrap(),
            "--trivy-cache-dir",
            cache.to_str().unwrap(),
            "--trivy-db-repository",
            &db,
            "--trivy-java-db-repository",
            &java,
        ],
    );
    assert_eq!(sc.code, 0, "{}", sc.err);
    assert_eq!(
        sc.report["vulnerabilities"]["status"], "scanned",
        "{}",
        sc.err
    );
    let meta: Value = serde_json::from_slice(
        &std::fs::read(cache.join("java-db/metadata.json"))
            .unwrap_or_else(|e| panic!("Trivy did not fetch the Java DB into the cache: {e}")),
    )
    .unwrap();
    assert_eq!(meta["Version"], 1, "{meta}");
    assert!(cache.join("java-db/trivy-java.db").is_file());

    // Trivy's language packages agree with golden-scan's on a fat jar (a jar nested in it,
    // deflated entries with data descriptors) beside a plain one: the same Maven purls. (The
    // jars are built by `lang::Zip`: `jar` above writes a central directory Trivy cannot read,
    // which golden-scan, reading local headers, does not need.)
    let fat = crate::lang::Zip::new()
        .add(
            "META-INF/maven/org.example.golden/fat-app/pom.properties",
            b"groupId=org.example.golden\nartifactId=fat-app\nversion=4.0.1\n",
            true,
            true,
        )
        .add(
            "BOOT-INF/lib/nested-lib-2.5.jar",
            &crate::lang::library_jar("org.example.nested", "nested-lib", "2.5"),
            false,
            false,
        )
        .finish();
    let layer2 = Layer::new()
        .dir("app/", 0o755)
        .file(
            "app/demo-1.2.3.jar",
            0o644,
            &crate::lang::library_jar("org.example.golden", "demo", "1.2.3"),
        )
        .file("app/fat-app-4.0.1.jar", 0o644, &fat)
        .bytes();
    let cfg2 = config(
        std::slice::from_ref(&layer2),
        &[("COPY . /app/", false)],
        serde_json::json!({ "User": "10001" }),
    );
    let archive2 = dir.path().join("fat-image.tar");
    std::fs::write(
        &archive2,
        docker_archive(&[layer2], &cfg2, "golden-test/fat-image:1"),
    )
    .unwrap();
    let out = Command::new(trivy_bin())
        .args([
            "image",
            "--quiet",
            "--format",
            "json",
            "--list-all-pkgs",
            "--cache-dir",
        ])
        .arg(&cache)
        .args([
            "--skip-db-update",
            "--skip-java-db-update",
            "--scanners",
            "vuln",
            "--input",
        ])
        .arg(&archive2)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "trivy on {}: {}",
        archive2.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let trivy_report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let maven = |purls: Vec<&str>| -> BTreeSet<String> {
        purls
            .into_iter()
            .filter(|p| p.starts_with("pkg:maven/"))
            .map(|p| p.split('?').next().unwrap_or(p).to_string())
            .collect()
    };
    let theirs = maven(
        trivy_report["Results"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|r| r["Packages"].as_array().into_iter().flatten())
            .filter_map(|p| p["Identifier"]["PURL"].as_str())
            .collect(),
    );
    let (code, stdout, stderr) = golden_scan(
        &[
            &format!("docker-archive:{}", archive2.display()),
            "--trivy",
            "off",
            "--format",
            "json",
            "--policy",
            policy.to_str().unwrap(),
            "-o",
            dir.path().join("out-fat").to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(code, 0, "{stderr}");
    let ours_report: Value = serde_json::from_str(&stdout).unwrap();
    let ours = maven(
        ours_report["packages"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|p| p["purl"].as_str())
            .collect(),
    );
    assert_eq!(ours.len(), 3, "demo, fat-app and the nested lib: {ours:#?}");
    assert_eq!(
        ours, theirs,
        "golden-scan (left) and Trivy (right) list different Maven packages"
    );

    // A Java DB repository the mirror does not have: an error naming it, never a pass.
    let missing = format!("127.0.0.1:{}/golden-test/no-such-java-db", reg.port);
    let sc = scan(
        &image,
        &dir.path().join("out2"),
        &[
            "--policy",
            policy.to_str().unwrap(),
            "--trivy-cache-dir",
            dir.path().join("cache2").to_str().unwrap(),
            "--trivy-db-repository",
            &db,
            "--trivy-java-db-repository",
            &missing,
        ],
    );
    assert_eq!(
        sc.code, 2,
        "a missing Java DB must be an error:\n{}",
        sc.err
    );
    assert!(sc.err.contains(&missing), "{}", sc.err);
    assert_eq!(sc.report["vulnerabilities"]["status"], "failed");
}
