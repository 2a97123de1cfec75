//! VEX: OpenVEX documents change the verdict on a faked Trivy report (`--trivy-report`), show
//! in report.json, report.md and SARIF, and give the image's own vex.openvex.json; malformed
//! documents stop the scan (exit 2) naming the file and the JSON pointer.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::support::*;

const DIGEST: &str = "sha256:5b0a4c2d34a5e0e1d1b7c0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9";
const OTHER: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000001";
const SSL_PURL: &str = "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12.8";

/// A Trivy JSON report (schema 2, as `trivy image --format json` writes it) of a pushed nginx
/// image: a CRITICAL with a fix (fails the default HIGH threshold) and a LOW.
fn trivy_report(dir: &Path) -> PathBuf {
    let r = json!({
        "SchemaVersion": 2,
        "ArtifactName": "registry.example/golden/nginx:1.27",
        "ArtifactType": "container_image",
        "Metadata": {
            "OS": { "Family": "debian", "Name": "12.8" },
            "ImageID": "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "RepoTags": ["registry.example/golden/nginx:1.27"],
            "RepoDigests": [format!("registry.example/golden/nginx@{DIGEST}")]
        },
        "Results": [{
            "Target": "registry.example/golden/nginx:1.27 (debian 12.8)",
            "Class": "os-pkgs",
            "Type": "debian",
            "Vulnerabilities": [
                {
                    "VulnerabilityID": "CVE-2024-0001",
                    "PkgName": "libssl3",
                    "PkgIdentifier": { "PURL": SSL_PURL },
                    "InstalledVersion": "3.0.11-1~deb12u2",
                    "FixedVersion": "3.0.15-1~deb12u1",
                    "Status": "fixed",
                    "Severity": "CRITICAL",
                    "Title": "openssl: a planted critical"
                },
                {
                    "VulnerabilityID": "CVE-2024-0002",
                    "PkgName": "zlib1g",
                    "PkgIdentifier": { "PURL": "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64" },
                    "InstalledVersion": "1:1.2.13.dfsg-1",
                    "Status": "affected",
                    "Severity": "LOW"
                }
            ]
        }]
    });
    write(dir, "trivy.json", r.to_string().as_bytes())
}

fn oci_purl(digest: &str) -> String {
    format!(
        "pkg:oci/nginx@{}?repository_url=registry.example/golden/nginx",
        digest.replace(':', "%3A")
    )
}

/// The image's purl as golden-scan writes it (qualifier values percent-encoded).
fn own_purl() -> String {
    format!(
        "pkg:oci/nginx@{}?repository_url=registry.example%2Fgolden%2Fnginx",
        DIGEST.replace(':', "%3A")
    )
}

fn vex_doc(statements: Value) -> Value {
    json!({
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": "https://example.invalid/vex/golden-nginx-1",
        "author": "Golden images team",
        "timestamp": "2026-01-10T10:00:00Z",
        "version": 1,
        "statements": statements
    })
}

fn not_affected(product: &str) -> Value {
    json!({
        "vulnerability": { "name": "CVE-2024-0001" },
        "products": [{ "@id": product, "subcomponents": [{ "@id": "pkg:deb/debian/libssl3" }] }],
        "status": "not_affected",
        "justification": "vulnerable_code_not_in_execute_path",
        "impact_statement": "nginx never calls the affected function"
    })
}

fn scan(dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> (i32, PathBuf, String) {
    let out = dir.join("out");
    let report = trivy_report(dir);
    let mut args = vec![
        "--trivy-report",
        report.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let (code, _, err) = golden_scan(&args, env);
    (code, out, err)
}

fn item<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["vulnerabilities"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["id"] == id)
        .unwrap()
}

#[test]
fn a_critical_with_a_fix_fails_and_a_not_affected_statement_makes_it_pass() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = scan(dir.path(), &[], &[]);
    assert_eq!(code, 1, "{err}");
    let r = read_json(&out.join("report.json"));
    assert_eq!(r["policy"]["failures"][0]["ids"], json!(["CVE-2024-0001"]));
    assert_eq!(item(&r, "CVE-2024-0001")["purl"], SSL_PURL);

    let vex = write(
        dir.path(),
        "nginx.vex.json",
        vex_doc(json!([not_affected(&oci_purl(DIGEST))]))
            .to_string()
            .as_bytes(),
    );
    let (code, out, err) = scan(dir.path(), &["--vex", vex.to_str().unwrap()], &[]);
    assert_eq!(code, 0, "{err}");
    let r = read_json(&out.join("report.json"));
    assert_eq!(r["policy"]["passed"], true);
    let v = item(&r, "CVE-2024-0001");
    let source = format!("{}#/statements/0", vex.display());
    assert_eq!(
        v["vex"],
        json!({
            "status": "not_affected",
            "justification": "vulnerable_code_not_in_execute_path",
            "impact_statement": "nginx never calls the affected function",
            "timestamp": "2026-01-10T10:00:00Z",
            "source": source
        })
    );
    assert_eq!(
        v["suppressed"],
        format!(
            "VEX not_affected (vulnerable_code_not_in_execute_path): nginx never calls the affected function [{source}]"
        )
    );
    // Still in the report, no longer counted.
    assert_eq!(r["summary"]["suppressed"], 1);
    assert_eq!(r["summary"]["vulnerabilities"], json!({"LOW": 1}));
    let notes = r["policy"]["notes"].as_array().unwrap();
    assert!(
        notes
            .iter()
            .any(|n| n == "1 vulnerability suppressed by VEX statements (not_affected or fixed)"),
        "{notes:?}"
    );
    assert!(
        notes.iter().any(|n| n
            == &json!(format!(
                "VEX: 1 statement(s) read from {}; 1 of them decided findings of this image",
                vex.display()
            ))),
        "{notes:?}"
    );
    // The LOW one has no statement.
    assert!(item(&r, "CVE-2024-0002").get("vex").is_none());

    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("### VEX decisions (1 finding(s))"), "{md}");
    assert!(
        md.contains("| CVE-2024-0001 | libssl3 | CRITICAL | not_affected (suppressed) | vulnerable\\_code\\_not\\_in\\_execute\\_path: nginx never calls the affected function |"),
        "{md}"
    );
}

#[test]
fn an_affected_statement_keeps_the_finding_open_with_its_action() {
    let dir = tempfile::tempdir().unwrap();
    // An older not_affected in one file, a later affected in another: the later one wins.
    let old = write(
        dir.path(),
        "old.json",
        vex_doc(json!([not_affected(&oci_purl(DIGEST))]))
            .to_string()
            .as_bytes(),
    );
    let new = write(
        dir.path(),
        "new.json",
        vex_doc(json!([{
            "vulnerability": { "name": "CVE-2024-0001" },
            "products": [{ "@id": "registry.example/golden/nginx" }],
            "status": "affected",
            "action_statement": "rebuild on the 2026-02 base",
            "timestamp": "2026-02-01T00:00:00Z"
        }]))
        .to_string()
        .as_bytes(),
    );
    // GOLDEN_VEX: one path per line, blank lines ignored.
    let list = format!("{}\n\n{}\n", new.display(), old.display());
    let (code, out, err) = scan(dir.path(), &[], &[("GOLDEN_VEX", &list)]);
    assert_eq!(code, 1, "{err}");
    let r = read_json(&out.join("report.json"));
    let v = item(&r, "CVE-2024-0001");
    assert_eq!(v["vex"]["status"], "affected");
    assert_eq!(v["vex"]["action_statement"], "rebuild on the 2026-02 base");
    assert!(v.get("suppressed").is_none());
    assert_eq!(r["policy"]["failures"][0]["ids"], json!(["CVE-2024-0001"]));
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        md.contains("| **affected** (open) | rebuild on the 2026-02 base |"),
        "{md}"
    );
    // Nothing suppressed by VEX: no document of the image's own, and no SARIF suppression.
    assert!(!out.join("vex.openvex.json").exists());
    let sarif = read_json(&out.join("report.sarif"));
    let res = &sarif["runs"][0]["results"][0];
    assert_eq!(res["ruleId"], "CVE-2024-0001");
    assert!(res.get("suppressions").is_none(), "{res}");
}

#[test]
fn statements_for_other_images_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let vex = write(
        dir.path(),
        "v.json",
        vex_doc(json!([
            not_affected(&oci_purl(OTHER)),
            not_affected("pkg:oci/tomcat"),
            not_affected("registry.example/golden/tomcat:1.27"),
            not_affected("pkg:deb/debian/libssl3"),
        ]))
        .to_string()
        .as_bytes(),
    );
    let (code, out, err) = scan(dir.path(), &["--vex", vex.to_str().unwrap()], &[]);
    assert_eq!(code, 1, "{err}");
    let r = read_json(&out.join("report.json"));
    assert!(item(&r, "CVE-2024-0001").get("vex").is_none());
    let notes = r["policy"]["notes"].as_array().unwrap();
    assert!(
        notes.iter().any(|n| n
            .as_str()
            .unwrap()
            .starts_with("VEX: 4 statement(s) read from ")
            && n.as_str()
                .unwrap()
                .ends_with("; 0 of them decided findings of this image")),
        "{notes:?}"
    );
}

#[test]
fn sarif_carries_an_external_suppression_and_still_validates() {
    let dir = tempfile::tempdir().unwrap();
    let vex = write(
        dir.path(),
        "v.json",
        vex_doc(json!([not_affected(&oci_purl(DIGEST))]))
            .to_string()
            .as_bytes(),
    );
    let (code, out, err) = scan(dir.path(), &["--vex", vex.to_str().unwrap()], &[]);
    assert_eq!(code, 0, "{err}");
    validate(
        &third_party("schemas/sarif-schema-2.1.0.json"),
        &out.join("report.sarif"),
    );
    let sarif = read_json(&out.join("report.sarif"));
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 1, "{results:?}");
    assert_eq!(results[0]["ruleId"], "CVE-2024-0001");
    assert_eq!(
        results[0]["suppressions"],
        json!([{
            "kind": "external",
            "status": "accepted",
            "justification": format!("not_affected (vulnerable_code_not_in_execute_path): nginx never calls the affected function [{}#/statements/0]", vex.display())
        }])
    );
}

#[test]
fn the_images_own_vex_document_restates_the_decisions_for_the_image() {
    let dir = tempfile::tempdir().unwrap();
    let vex = write(
        dir.path(),
        "v.json",
        vex_doc(json!([
            not_affected(&oci_purl(DIGEST)),
            // Fixed, for the LOW one, by repository name (no digest).
            {
                "vulnerability": { "name": "CVE-2024-0002", "aliases": ["DLA-1-1"] },
                "products": [{ "identifiers": { "purl": "pkg:oci/nginx" } }],
                "status": "fixed",
                "timestamp": "2026-01-11T00:00:00Z"
            },
            // Affected statements are not the image's decisions.
            {
                "vulnerability": { "name": "CVE-2024-0003" },
                "products": [{ "@id": "pkg:oci/nginx" }],
                "status": "affected",
                "action_statement": "n/a"
            }
        ]))
        .to_string()
        .as_bytes(),
    );
    let gh = dir.path().join("gh-output");
    std::fs::write(&gh, "").unwrap();
    let (code, out, err) = scan(
        dir.path(),
        &["--vex", vex.to_str().unwrap()],
        &[("GITHUB_OUTPUT", gh.to_str().unwrap())],
    );
    assert_eq!(code, 0, "{err}");
    let path = out.join("vex.openvex.json");
    let text = std::fs::read_to_string(&gh).unwrap();
    assert!(text.contains(&path.display().to_string()), "{text}");
    let doc = read_json(&path);
    // Exactly the v0.2.0 document fields, all present.
    let mut keys: Vec<&str> = doc
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "@context",
            "@id",
            "author",
            "role",
            "statements",
            "timestamp",
            "tooling",
            "version"
        ]
    );
    assert_eq!(doc["@context"], "https://openvex.dev/ns/v0.2.0");
    assert!(doc["@id"].as_str().unwrap().starts_with("urn:uuid:"));
    let product = own_purl();
    assert_eq!(
        doc["statements"],
        json!([
            {
                "vulnerability": { "name": "CVE-2024-0001" },
                "timestamp": "2026-01-10T10:00:00Z",
                "products": [{
                    "@id": product,
                    "identifiers": { "purl": product },
                    "subcomponents": [{ "@id": SSL_PURL }]
                }],
                "status": "not_affected",
                "justification": "vulnerable_code_not_in_execute_path",
                "status_notes": format!("nginx never calls the affected function (from {}#/statements/0)", vex.display())
            },
            {
                "vulnerability": { "name": "CVE-2024-0002", "aliases": ["DLA-1-1"] },
                "timestamp": "2026-01-11T00:00:00Z",
                "products": [{
                    "@id": product,
                    "identifiers": { "purl": product },
                    "subcomponents": [{ "@id": "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64" }]
                }],
                "status": "fixed",
                "status_notes": format!("from {}#/statements/1", vex.display())
            }
        ])
    );
    // Our own reader takes it back as valid OpenVEX, and it decides the same findings.
    let again = golden_scan::vex::load(&[golden_scan::vex::VexSource {
        path: path.clone(),
        origin: "test".into(),
    }])
    .unwrap();
    assert_eq!(again.statements.len(), 2);
    let vex2 = write(dir.path(), "again.json", &std::fs::read(&path).unwrap());
    let (code, out2, err) = {
        let d2 = dir.path().join("second");
        std::fs::create_dir_all(&d2).unwrap();
        scan(&d2, &["--vex", vex2.to_str().unwrap()], &[])
    };
    assert_eq!(code, 0, "{err}");
    let r = read_json(&out2.join("report.json"));
    assert_eq!(r["summary"]["suppressed"], 2);
}

#[test]
fn the_policy_vex_list_is_relative_to_the_policy_file() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("conf");
    std::fs::create_dir_all(conf.join("vex")).unwrap();
    write(
        &conf.join("vex"),
        "nginx.json",
        vex_doc(json!([not_affected(&oci_purl(DIGEST))]))
            .to_string()
            .as_bytes(),
    );
    let policy = write(
        &conf,
        "policy.yaml",
        b"schema: 1\nvex:\n  - vex/nginx.json\n",
    );
    let (code, out, err) = scan(dir.path(), &["--policy", policy.to_str().unwrap()], &[]);
    assert_eq!(code, 0, "{err}");
    let r = read_json(&out.join("report.json"));
    assert_eq!(
        item(&r, "CVE-2024-0001")["vex"]["source"],
        format!("{}#/statements/0", conf.join("vex/nginx.json").display())
    );

    // A missing file names the policy line; an empty entry is a located policy error.
    let policy = write(
        &conf,
        "p2.yaml",
        b"schema: 1\nvex:\n  - vex/nginx.json\n  - vex/missing.json\n",
    );
    let (code, _, err) = scan(dir.path(), &["--policy", policy.to_str().unwrap()], &[]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(&format!(
            "failed to read VEX document `{}`",
            conf.join("vex/missing.json").display()
        )) && err.contains(&format!("(from policy {}:4)", policy.display())),
        "{err}"
    );
    let policy = write(&conf, "p3.yaml", b"schema: 1\nvex:\n  - ''\n");
    let (code, _, err) = scan(dir.path(), &["--policy", policy.to_str().unwrap()], &[]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(&format!("{}:3:", policy.display())) && err.contains("vex[0] is empty"),
        "{err}"
    );
}

#[test]
fn a_malformed_document_is_an_error_naming_file_and_pointer_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut st = not_affected(&oci_purl(DIGEST));
    st["status"] = json!("fixd");
    let bad = write(
        dir.path(),
        "vex.json",
        vex_doc(json!([
            not_affected("pkg:oci/nginx"),
            not_affected("pkg:oci/nginx"),
            st
        ]))
        .to_string()
        .as_bytes(),
    );
    let (code, out, err) = scan(dir.path(), &["--vex", bad.to_str().unwrap()], &[]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(&format!(
            "{}: /statements/2/status: unknown status \"fixd\" (expected not_affected, affected, fixed, under_investigation)",
            bad.display()
        )),
        "{err}"
    );
    assert!(!out.exists(), "no output for a scan that stopped");
    let (code, _, err) = scan(
        dir.path(),
        &["--vex", dir.path().join("nope.json").to_str().unwrap()],
        &[],
    );
    assert_eq!(code, 2);
    assert!(
        err.contains("nope.json") && err.contains("(from --vex (GOLDEN_VEX))"),
        "{err}"
    );
}
