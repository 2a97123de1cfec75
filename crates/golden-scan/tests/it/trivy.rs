//! Trivy: the real reports in the fixtures, the runner (a fake `trivy` on PATH that asserts its
//! arguments), an absent Trivy, old and incomplete reports.

use std::os::unix::fs::PermissionsExt;

use serde_json::json;

use crate::support::*;

fn counts(report: &serde_json::Value) -> (serde_json::Value, serde_json::Value) {
    (
        report["summary"]["vulnerabilities"].clone(),
        report["summary"]["vulnerabilities_by_status"].clone(),
    )
}

#[test]
fn alpine_310_report_normalises_to_exact_counts() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let (code, _, err) = golden_scan(
        &[
            "--trivy-report",
            third_party("trivy/alpine-310.json").to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(code, 0, "{err}");
    let r = read_json(&out.join("report.json"));
    assert_eq!(counts(&r), (json!({"MEDIUM": 4}), json!({"fixed": 4})));
    assert_eq!(r["summary"]["fixable"], 4);
    assert_eq!(r["vulnerabilities"]["status"], "scanned");
    assert_eq!(
        r["image"]["reference"],
        "testdata/fixtures/images/alpine-310.tar.gz"
    );
    assert_eq!(r["os"]["family"], "alpine");
    let first = &r["vulnerabilities"]["items"][0];
    assert_eq!(first["id"], "CVE-2019-1549");
    assert_eq!(first["package"], "libcrypto1.1");
    assert_eq!(first["installed"], "1.1.1c-r0");
    assert_eq!(first["fixed"], "1.1.1d-r0");
    assert_eq!(
        first["layer"],
        "sha256:03901b4a2ea88eeaad62dbe59b072b28b6efa00491962b8741081c5df50c65e0"
    );
    assert!(first["cvss"].as_f64().is_some());
    for f in ["report.sarif", "report.md", "sbom.cdx.json"] {
        assert!(out.join(f).is_file(), "{f}");
    }
}

#[test]
fn centos_7_report_normalises_to_exact_counts() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let (code, _, err) = golden_scan(
        &[
            "--trivy-report",
            third_party("trivy/centos-7.json").to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(code, 0, "{err}");
    let r = read_json(&out.join("report.json"));
    assert_eq!(
        counts(&r),
        (
            json!({"LOW": 2, "MEDIUM": 1}),
            json!({"fixed": 2, "will_not_fix": 1})
        )
    );
    let bash = r["vulnerabilities"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["package"] == "bash")
        .unwrap();
    assert_eq!(bash["status"], "will_not_fix");
    assert!(bash.get("fixed").is_none());
    assert_eq!(
        r["vulnerabilities"]["items"][0]["installed"],
        "1:1.0.2k-16.el7"
    );
    // Policy: MEDIUM fails a MEDIUM threshold, and only_fixed still counts the fixed one.
    let pol = write(
        dir.path(),
        "p.yaml",
        b"schema: 1\nvulnerabilities:\n  fail_on: MEDIUM\n  only_fixed: true\n",
    );
    let (code, _, _) = golden_scan(
        &[
            "--trivy-report",
            third_party("trivy/centos-7.json").to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--policy",
            pol.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(code, 1);
    let r = read_json(&out.join("report.json"));
    assert_eq!(r["policy"]["failures"][0]["rule"], "severity-threshold");
    assert_eq!(r["policy"]["failures"][0]["ids"], json!(["CVE-2019-1559"]));
}

#[test]
fn old_schema_and_missing_fields_are_read_with_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let legacy = write(
        dir.path(),
        "legacy.json",
        br#"[{"Target":"img (debian 9)","Type":"debian","Vulnerabilities":[{"VulnerabilityID":"CVE-1","PkgName":"a","InstalledVersion":"1","FixedVersion":"2","Severity":"CRITICAL"},{"VulnerabilityID":"CVE-2","PkgName":"b","Severity":"weird"},{"PkgName":"no-id"}]}]"#,
    );
    let out = dir.path().join("out");
    let (code, _, err) = golden_scan(
        &[
            "--trivy-report",
            legacy.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(code, 1, "CRITICAL fails the default policy: {err}");
    let r = read_json(&out.join("report.json"));
    assert_eq!(
        counts(&r),
        (
            json!({"CRITICAL": 1, "UNKNOWN": 1}),
            json!({"affected": 1, "fixed": 1})
        )
    );
    let w = r["warnings"].to_string();
    assert!(
        w.contains("pre-0.20") && w.contains("without a VulnerabilityID"),
        "{w}"
    );
    assert!(err.contains("pre-0.20"), "{err}");

    let broken = write(
        dir.path(),
        "broken.json",
        b"{\"SchemaVersion\": 2, \"Results\": [",
    );
    let out2 = dir.path().join("out2");
    let (code, _, err) = golden_scan(
        &[
            "--trivy-report",
            broken.to_str().unwrap(),
            "-o",
            out2.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(code, 2);
    assert!(
        err.contains("broken.json") && err.contains("not JSON"),
        "{err}"
    );
    assert!(
        !out2.join("report.json").exists(),
        "nothing is written on error"
    );
}

fn small_archive(dir: &std::path::Path) -> std::path::PathBuf {
    let layers = vec![debian_layer().bytes()];
    let cfg = config(
        &layers,
        &[("/bin/sh -c #(nop) ADD file:x in / ", false)],
        json!({"User": "10001", "Healthcheck": {"Test": ["CMD", "true"]}}),
    );
    write(dir, "img.tar", &docker_archive(&layers, &cfg, "img:1"))
}

fn fake_trivy(dir: &std::path::Path, body: &str) -> std::path::PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let p = bin.join("trivy");
    std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    bin
}

fn path_with(bin: &std::path::Path) -> String {
    format!("{}:/usr/bin:/bin", bin.display())
}

#[test]
fn runs_trivy_from_path_with_the_expected_arguments() {
    let dir = tempfile::tempdir().unwrap();
    let archive = small_archive(dir.path());
    let cache = dir.path().join("cache");
    let expected = format!(
        "image --format json --quiet --scanners vuln --cache-dir {} --skip-db-update --skip-java-db-update --input {}",
        cache.display(),
        archive.display()
    );
    let bin = fake_trivy(
        dir.path(),
        &format!(
            "if [ \"$*\" != \"{expected}\" ]; then echo \"unexpected arguments: $*\" >&2; exit 3; fi\ncat '{}'",
            third_party("trivy/centos-7.json").display()
        ),
    );
    let out = dir.path().join("out");
    let image = format!("docker-archive:{}", archive.display());
    let (code, _, err) = golden_scan(
        &[
            &image,
            "-o",
            out.to_str().unwrap(),
            "--trivy-cache-dir",
            cache.to_str().unwrap(),
        ],
        &[
            ("PATH", &path_with(&bin)),
            ("GOLDEN_TRIVY_SKIP_DB_UPDATE", "true"),
        ],
    );
    assert_eq!(code, 0, "{err}");
    let r = read_json(&out.join("report.json"));
    assert_eq!(r["vulnerabilities"]["status"], "scanned", "{err}");
    assert_eq!(counts(&r).0, json!({"LOW": 2, "MEDIUM": 1}));
    // The image's own inventory is there too.
    assert_eq!(r["summary"]["packages"], 2);
}

#[test]
fn a_failing_trivy_is_an_error_and_an_absent_one_is_reported_once() {
    let dir = tempfile::tempdir().unwrap();
    let archive = small_archive(dir.path());
    let image = format!("docker-archive:{}", archive.display());
    let bin = fake_trivy(
        dir.path(),
        "echo 'FATAL db download failed: ::error::injected' >&2\nexit 1",
    );
    let out = dir.path().join("out");
    let (code, _, err) = golden_scan(
        &[&image, "-o", out.to_str().unwrap()],
        &[("PATH", &path_with(&bin))],
    );
    // Exit 2 (vulnerabilities unknown is never a pass), the report still written.
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("Trivy failed") && err.contains("Trivy's default DB repository"),
        "{err}"
    );
    let r = read_json(&out.join("report.json"));
    assert_eq!(r["vulnerabilities"]["status"], "failed");
    assert!(
        r["vulnerabilities"]["note"]
            .as_str()
            .unwrap()
            .contains("db download failed")
    );
    assert_eq!(r["policy"]["failures"][0]["rule"], "vulnerability-scan");

    // No trivy anywhere on PATH.
    let empty = dir.path().join("empty-bin");
    std::fs::create_dir_all(&empty).unwrap();
    let (code, _, err) = golden_scan(
        &[&image, "-o", out.to_str().unwrap()],
        &[("PATH", empty.to_str().unwrap())],
    );
    assert_eq!(code, 0, "{err}");
    let r = read_json(&out.join("report.json"));
    assert_eq!(r["vulnerabilities"]["status"], "unavailable");
    assert_eq!(
        err.matches("trivy not found").count(),
        1,
        "said exactly once:\n{err}"
    );
    // With require_scan the same is a policy failure.
    let pol = write(
        dir.path(),
        "p.yaml",
        b"schema: 1\nvulnerabilities:\n  require_scan: true\n",
    );
    let (code, _, _) = golden_scan(
        &[
            &image,
            "-o",
            out.to_str().unwrap(),
            "--policy",
            pol.to_str().unwrap(),
        ],
        &[("PATH", empty.to_str().unwrap())],
    );
    assert_eq!(code, 1);
    // require_scan: [events]: required on a listed event only; none (a local run) is not.
    let pol = write(
        dir.path(),
        "e.yaml",
        b"schema: 1\nvulnerabilities:\n  require_scan: [schedule, pull_request]\ncompliance:\n  required: none\n",
    );
    let with_event = |event: Option<&str>| {
        let mut env = vec![("PATH", empty.to_str().unwrap())];
        if let Some(e) = event {
            env.push(("GITHUB_EVENT_NAME", e));
        }
        let (code, _, err) = golden_scan(
            &[
                &image,
                "-o",
                out.to_str().unwrap(),
                "--policy",
                pol.to_str().unwrap(),
            ],
            &env,
        );
        (code, read_json(&out.join("report.json")), err)
    };
    let (code, r, err) = with_event(Some("pull_request"));
    assert_eq!(code, 1, "{err}");
    let msg = r["policy"]["failures"][0]["message"].as_str().unwrap();
    assert!(
        msg.contains("not scanned") && msg.contains("`pull_request` events"),
        "{msg}"
    );
    let (code, r, err) = with_event(Some("push"));
    assert_eq!(code, 0, "{err}");
    assert_eq!(r["vulnerabilities"]["status"], "unavailable");
    let (code, _, err) = with_event(None);
    assert_eq!(code, 0, "a local run has no event: {err}");
    // --trivy off: disabled, silent.
    let (code, _, err) = golden_scan(
        &[&image, "-o", out.to_str().unwrap(), "--trivy", "off"],
        &[],
    );
    assert_eq!(code, 0);
    assert!(!err.contains("trivy not found"), "{err}");
    assert_eq!(
        read_json(&out.join("report.json"))["vulnerabilities"]["status"],
        "disabled"
    );
    // --trivy off where the policy requires a scan for the event: not scanned is a failure,
    // named as off (not as a missing Trivy); on an event the policy does not list, a note.
    let off_with_event = |event: &str| {
        let (code, _, err) = golden_scan(
            &[
                &image,
                "-o",
                out.to_str().unwrap(),
                "--trivy",
                "off",
                "--policy",
                pol.to_str().unwrap(),
            ],
            &[("GITHUB_EVENT_NAME", event)],
        );
        (code, read_json(&out.join("report.json")), err)
    };
    let (code, r, err) = off_with_event("schedule");
    assert_eq!(code, 1, "{err}");
    assert_eq!(r["vulnerabilities"]["status"], "disabled");
    let msg = r["policy"]["failures"][0]["message"].as_str().unwrap();
    assert!(
        msg.contains("disabled")
            && msg.contains("`schedule` events")
            && !msg.contains("not available"),
        "{msg}"
    );
    let (code, r, err) = off_with_event("push");
    assert_eq!(code, 0, "{err}");
    assert_eq!(r["policy"]["passed"], true);
}

#[test]
fn trivy_gets_an_allow_listed_environment_and_its_arguments_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let archive = small_archive(dir.path());
    let dump = dir.path().join("dump");
    let bin = fake_trivy(
        dir.path(),
        &format!(
            "env > '{d}.env'\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done > '{d}.argv'\ncat '{r}'",
            d = dump.display(),
            r = third_party("trivy/centos-7.json").display()
        ),
    );
    let out = dir.path().join("out");
    let image = format!("docker-archive:{}", archive.display());
    let (code, _, err) = golden_scan(
        &[&image, "-o", out.to_str().unwrap()],
        &[
            ("PATH", &path_with(&bin)),
            ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "oidc-request-secret"),
            ("ACTIONS_ID_TOKEN_REQUEST_URL", "http://127.0.0.1:9/token"),
            ("AZURE_CLIENT_SECRET", "azure-secret"),
            ("GITHUB_TOKEN", "gh-secret"),
            ("GOLDEN_REGISTRY_PASSWORD", "registry-secret"),
            ("TRIVY_DB_REPOSITORY", "mirror.invalid/db"),
            ("SSL_CERT_FILE", "/etc/ssl/certs/ca.pem"),
            ("HOME", "/home/scanner"),
        ],
    );
    assert_eq!(code, 0, "{err}");
    let env = std::fs::read_to_string(dump.with_extension("env")).unwrap();
    for secret in [
        "oidc-request-secret",
        "ACTIONS_ID_TOKEN_REQUEST_URL",
        "azure-secret",
        "gh-secret",
        "registry-secret",
    ] {
        assert!(!env.contains(secret), "Trivy saw `{secret}`:\n{env}");
    }
    let vars: Vec<&str> = env
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, _)| k)
        .collect();
    for want in ["PATH", "HOME", "TRIVY_DB_REPOSITORY", "SSL_CERT_FILE"] {
        assert!(vars.contains(&want), "Trivy did not get {want}:\n{env}");
    }
    // Nothing but the allow-list (and what sh itself sets) reaches Trivy.
    for k in &vars {
        assert!(
            golden_scan::trivy::env_allowed(k) || ["PWD", "SHLVL", "_", "OLDPWD"].contains(k),
            "unexpected variable `{k}` in Trivy's environment:\n{env}"
        );
    }
    let argv = std::fs::read_to_string(dump.with_extension("argv")).unwrap();
    assert_eq!(
        argv.lines().collect::<Vec<_>>(),
        [
            "image",
            "--format",
            "json",
            "--quiet",
            "--scanners",
            "vuln",
            "--input",
            archive.to_str().unwrap()
        ]
    );
}
