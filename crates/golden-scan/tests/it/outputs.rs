//! Output files: SARIF and CycloneDX validate against their schemas, SARIF caps, Markdown
//! snapshot, GITHUB_OUTPUT keys, exit codes.

use serde_json::json;

use crate::support::*;

/// An image with many planted violations, as a docker-archive.
pub fn violations_archive(dir: &std::path::Path) -> std::path::PathBuf {
    let l1 = debian_layer()
        .file(
            "etc/passwd",
            0o644,
            b"root:x:0:0:root:/root:/bin/sh\ntoor:x:0:0::/:/bin/sh\nnopw::1000:1000::/:/bin/sh\n",
        )
        .file("etc/shadow", 0o640, b"root::19000:0:99999:7:::\n")
        .file("usr/bin/passwd", 0o4755, b"\x7fELF")
        .file("srv/data/world.txt", 0o666, b"w")
        .dir("srv/drop", 0o777)
        .file(
            "etc/yum.repos.d/evil.repo",
            0o644,
            b"[evil]\nbaseurl=http://x\ngpgcheck=0\n",
        )
        .file(
            "etc/apt/sources.list.d/x.list",
            0o644,
            b"deb [trusted=yes] http://example.invalid/ ./\n",
        )
        .file("var/lib/apt/lists/deb_dists_main", 0o644, &[0u8; 5000])
        .file("app/.env", 0o600, b"DB_PASSWORD=hunter2\n")
        .file(
            "app/keys/server.pem",
            0o600,
            b"-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\n",
        )
        .dir("app/.git", 0o755)
        .bytes();
    let l2 = Layer::new()
        .file(
            "root/.ssh/id_rsa",
            0o600,
            b"-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbg==\n",
        )
        .file("app/.wh..env", 0o644, b"")
        .bytes();
    let layers = vec![l1, l2];
    let cfg = config(
        &layers,
        &[
            ("/bin/sh -c #(nop) ADD file:abc in / ", false),
            ("|1 API_TOKEN=s3cr3t /bin/sh -c apt-get update", false),
            ("/bin/sh -c #(nop) ADD file:def in /root/.ssh/id_rsa ", true),
            (
                "/bin/sh -c sudo apt-get dist-upgrade --allow-unauthenticated",
                true,
            ),
            ("/bin/sh -c #(nop)  EXPOSE 80", true),
        ],
        json!({
            "User": "toor",
            "Env": ["PATH=/bin", "DB_PASSWORD=hunter2", "GPG_KEY=ABCD", "EMPTY_SECRET="],
            "ExposedPorts": {"80/tcp": {}, "8080/tcp": {}},
            "Volumes": {"/proc": {}, "/data": {}},
        }),
    );
    write(
        dir,
        "violations.tar",
        &docker_archive(&layers, &cfg, "violations:1"),
    )
}

#[test]
fn every_planted_violation_fires_with_evidence_and_outputs_validate() {
    let dir = tempfile::tempdir().unwrap();
    let archive = violations_archive(dir.path());
    let out = dir.path().join("out");
    let gh = dir.path().join("github_output");
    std::fs::write(&gh, "").unwrap();
    let image = format!("docker-archive:{}", archive.display());
    let (code, stdout, err) = golden_scan(
        &[
            &image,
            "-o",
            out.to_str().unwrap(),
            "--trivy-report",
            third_party("trivy/centos-7.json").to_str().unwrap(),
        ],
        &[("GITHUB_OUTPUT", gh.to_str().unwrap())],
    );
    assert_eq!(code, 1, "{stdout}\n{err}");
    let r = read_json(&out.join("report.json"));
    let status = |id: &str| -> (String, String) {
        let c = r["compliance"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .unwrap_or_else(|| panic!("{id}"));
        (
            c["status"].as_str().unwrap().to_string(),
            c["evidence"].to_string(),
        )
    };
    let expect = [
        ("GOLDEN-USER-001", "fail", "`toor` has uid 0"),
        ("GOLDEN-HEALTHCHECK-001", "fail", "no HEALTHCHECK"),
        ("GOLDEN-UPDATE-001", "fail", "apt-get update"),
        (
            "GOLDEN-SETUID-001",
            "fail",
            "/usr/bin/passwd (mode 4755, setuid",
        ),
        ("GOLDEN-ADD-001", "fail", "history[2]"),
        (
            "GOLDEN-SECRET-001",
            "fail",
            "ENV DB_PASSWORD is set (value not shown)",
        ),
        (
            "GOLDEN-SECRET-002",
            "fail",
            "/app/.env: file name `.env` (layer 1; deleted or replaced later",
        ),
        (
            "GOLDEN-SECRET-003",
            "fail",
            "/root/.ssh/id_rsa: `OPENSSH PRIVATE KEY` header (layer 2)",
        ),
        ("GOLDEN-VERIFY-001", "fail", "gpgcheck=0"),
        ("GOLDEN-PASSWD-001", "fail", "`root` has an empty password"),
        ("GOLDEN-IDS-001", "fail", "uid 0 is shared by root, toor"),
        (
            "GOLDEN-PERM-001",
            "fail",
            "/srv/data/world.txt (mode 0666, file)",
        ),
        ("GOLDEN-CACHE-001", "fail", "/var/lib/apt/lists: 1 files"),
        ("GOLDEN-VOLUME-001", "fail", "VOLUME /proc"),
        ("GOLDEN-PORT-001", "fail", "EXPOSE 80/tcp"),
        ("GOLDEN-SUDO-001", "fail", "sudo apt-get"),
        ("GOLDEN-UPGRADE-001", "warn", "dist-upgrade"),
        ("GOLDEN-FILES-001", "info", "/app/.git"),
        ("GOLDEN-HARDEN-001", "info", "not built on a golden base"),
        ("GOLDEN-CACHE-002", "pass", ""),
        ("GOLDEN-PKG-001", "pass", ""),
    ];
    for (id, st, ev) in expect {
        let (got, evidence) = status(id);
        assert_eq!(got, st, "{id}: {evidence}");
        assert!(evidence.contains(ev), "{id}: `{ev}` not in {evidence}");
    }
    // Secret values never appear anywhere.
    for f in ["report.json", "report.md", "report.sarif", "sbom.cdx.json"] {
        let text = std::fs::read_to_string(out.join(f)).unwrap();
        assert!(
            !text.contains("hunter2") && !text.contains("s3cr3t") && !text.contains("b3Blbg"),
            "{f} leaks a secret"
        );
    }
    assert!(!stdout.contains("hunter2") && !err.contains("hunter2"));
    let (_, ev) = status("GOLDEN-SECRET-001");
    assert!(
        ev.contains("build arg API_TOKEN")
            && !ev.contains("GPG_KEY")
            && !ev.contains("EMPTY_SECRET"),
        "{ev}"
    );
    let (_, ev) = status("GOLDEN-VERIFY-001");
    assert!(
        ev.contains("trusted=yes") && ev.contains("--allow-unauthenticated"),
        "{ev}"
    );
    let (_, ev) = status("GOLDEN-PERM-001");
    assert!(
        ev.contains("/srv/drop (mode 0777, directory)") && !ev.contains("/tmp"),
        "{ev}"
    );

    // The verdict names the rules and ids.
    let failures = r["policy"]["failures"].as_array().unwrap();
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert!(failures[0]["ids"].as_array().unwrap().len() >= 15);

    // Schemas.
    validate(
        &third_party("schemas/sarif-schema-2.1.0.json"),
        &out.join("report.sarif"),
    );
    validate(
        &third_party("schemas/bom-1.6.schema.json"),
        &out.join("sbom.cdx.json"),
    );
    let sarif = read_json(&out.join("report.sarif"));
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    // Only policy-relevant: failed/warned checks; LOW/MEDIUM vulnerabilities are below HIGH.
    assert!(
        results
            .iter()
            .all(|r| r["ruleId"].as_str().unwrap().starts_with("GOLDEN-")),
        "{results:?}"
    );
    assert_eq!(results.len(), 17, "16 failed checks and 1 warning");
    let sbom = read_json(&out.join("sbom.cdx.json"));
    assert_eq!(
        sbom["components"].as_array().unwrap().len(),
        3,
        "os + 2 packages"
    );

    // GITHUB_OUTPUT.
    let text = std::fs::read_to_string(&gh).unwrap();
    let kv: std::collections::BTreeMap<String, String> = golden_gha::parse_env_file(&text)
        .unwrap()
        .into_iter()
        .collect();
    assert_eq!(kv["passed"], "false");
    assert_eq!(kv["critical"], "0");
    assert_eq!(kv["high"], "0");
    assert_eq!(kv["compliance-failures"], "16");
    assert_eq!(kv["report"], out.join("report.json").display().to_string());
    assert_eq!(kv["vex"], "", "no VEX decisions, no vex.openvex.json");
    assert!(!out.join("vex.openvex.json").exists());
}

#[test]
fn sarif_is_capped_with_a_note_and_still_validates() {
    let dir = tempfile::tempdir().unwrap();
    let vulns: Vec<_> = (0..3000)
        .map(|i| {
            json!({
                "VulnerabilityID": format!("CVE-2024-{i:05}"),
                "PkgName": format!("pkg{i}"),
                "InstalledVersion": "1.0",
                "Severity": if i % 3 == 0 { "CRITICAL" } else { "HIGH" },
                "Title": "x".repeat(3000),
            })
        })
        .collect();
    let report = json!({"SchemaVersion": 2, "ArtifactName": "big:1", "Results": [{"Target": "t", "Vulnerabilities": vulns}]});
    let p = write(
        dir.path(),
        "big.json",
        &serde_json::to_vec(&report).unwrap(),
    );
    let out = dir.path().join("out");
    let (code, _, err) = golden_scan(
        &[
            "--trivy-report",
            p.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(code, 1, "{err}");
    let sarif = read_json(&out.join("report.sarif"));
    let run = &sarif["runs"][0];
    assert_eq!(
        run["results"].as_array().unwrap().len(),
        golden_scan::output::sarif::MAX_RESULTS
    );
    assert_eq!(run["properties"]["truncated"], true);
    assert!(
        run["invocations"][0]["toolExecutionNotifications"][0]["message"]["text"]
            .as_str()
            .unwrap()
            .contains("truncated")
    );
    // Highest severity first.
    assert_eq!(run["results"][0]["level"], "error");
    assert!(
        run["results"]
            .as_array()
            .unwrap()
            .iter()
            .take(1000)
            .all(|r| r["message"]["text"]
                .as_str()
                .unwrap()
                .starts_with("CRITICAL"))
    );
    assert!(
        std::fs::metadata(out.join("report.sarif")).unwrap().len()
            < golden_scan::output::sarif::MAX_BYTES as u64
    );
    validate(
        &third_party("schemas/sarif-schema-2.1.0.json"),
        &out.join("report.sarif"),
    );
}

#[test]
fn markdown_summary_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let archive = violations_archive(dir.path());
    let out = dir.path().join("out");
    let image = format!("docker-archive:{}", archive.display());
    let (code, _, err) = golden_scan(
        &[
            &image,
            "-o",
            out.to_str().unwrap(),
            "--trivy-report",
            third_party("trivy/alpine-310.json").to_str().unwrap(),
            "--entry-id",
            "violations-1-debian",
        ],
        &[],
    );
    assert_eq!(code, 1, "{err}");
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    let tmp = dir.path().display().to_string();
    insta::with_settings!({filters => vec![
        (tmp.as_str(), "[TMP]"),
        (r"sha256:[0-9a-f]{11,12}(\.\.\.|…)", "sha256:[ID]..."),
    ]}, {
        insta::assert_snapshot!(md);
    });
}

#[test]
fn usage_errors_and_bad_archives_exit_2_without_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let (code, _, err) = golden_scan(&["-o", out.to_str().unwrap()], &[]);
    assert_eq!(code, 2);
    assert!(err.contains("nothing to scan"), "{err}");
    let archive = violations_archive(dir.path());
    let bytes = std::fs::read(&archive).unwrap();
    let cut = write(dir.path(), "cut.tar", &bytes[..bytes.len() / 2]);
    let (code, _, err) = golden_scan(
        &[
            &format!("docker-archive:{}", cut.display()),
            "-o",
            out.to_str().unwrap(),
            "--trivy",
            "off",
        ],
        &[],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("truncated or corrupt"), "{err}");
    assert!(!out.join("report.json").exists());
    let (code, _, err) = golden_scan(
        &[
            "docker-archive:/nonexistent/x.tar",
            "-o",
            out.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(code, 2);
    assert!(err.contains("/nonexistent/x.tar"), "{err}");
}

/// A plan entry whose tag is the violations archive.
fn plan_entry(archive: &std::path::Path) -> serde_json::Value {
    json!({
        "id": "base-debian", "stage": "base", "os": "debian", "platform": "base", "name": "base-debian",
        "version": "12", "dockerfile": "base-images/debian/Dockerfile", "context": ".", "image": "x/golden/base-debian",
        "tags": [format!("docker-archive:{}", archive.display())], "policy": "", "offline": true
    })
}

#[test]
fn plan_entry_json_from_the_environment_is_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let archive = violations_archive(dir.path());
    let out = dir.path().join("out");
    let entry = plan_entry(&archive);
    let (code, _, err) = golden_scan(
        &[
            "-o",
            out.to_str().unwrap(),
            "--trivy",
            "off",
            "--format",
            "json",
        ],
        &[("GOLDEN_ENTRY", &entry.to_string())],
    );
    assert_eq!(code, 1, "{err}");
    let r = read_json(&out.join("report.json"));
    assert_eq!(r["entry_id"], "base-debian");
    let sarif = read_json(&out.join("report.sarif"));
    assert_eq!(
        sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "base-images/debian/Dockerfile"
    );
    assert_eq!(
        sarif["runs"][0]["automationDetails"]["id"],
        "golden-scan/base-debian/"
    );
}

#[test]
fn an_entry_looked_up_in_a_plan_file_gives_the_image_and_dockerfile() {
    let dir = tempfile::tempdir().unwrap();
    let archive = violations_archive(dir.path());
    let plan = json!({
        "schema": 1, "event": "local", "rebuild": "all", "config": "images.yaml",
        "bases": { "include": [plan_entry(&archive)] }, "platforms": { "include": [] }
    });
    let plan = write(dir.path(), "plan.json", &serde_json::to_vec(&plan).unwrap());
    let out = dir.path().join("out");
    let (code, _, err) = golden_scan(
        &["-o", out.to_str().unwrap(), "--trivy", "off"],
        &[
            ("GOLDEN_PLAN", plan.to_str().unwrap()),
            ("GOLDEN_ENTRY", "base-debian"),
        ],
    );
    assert_eq!(code, 1, "{err}");
    let r = read_json(&out.join("report.json"));
    assert_eq!(r["entry_id"], "base-debian");
    assert_eq!(
        r["image"]["reference"],
        format!("docker-archive:{}", archive.display())
    );
    let sarif = read_json(&out.join("report.sarif"));
    assert_eq!(
        sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "base-images/debian/Dockerfile"
    );

    // An id the plan does not have: the error lists the ids it has.
    let out = dir.path().join("out-missing");
    let (code, _, err) = golden_scan(
        &[
            "--plan",
            plan.to_str().unwrap(),
            "--entry-id",
            "nginx-1-debian",
            "-o",
            out.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("has no entry `nginx-1-debian`") && err.contains("entries: base-debian"),
        "{err}"
    );
    assert!(!out.exists(), "no output on a usage error");
}

/// One bad invocation: arguments, environment, what stderr must contain.
type BadCase<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a [&'a str]);

#[test]
fn bad_flags_and_missing_inputs_are_errors_with_hints_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = out.to_str().unwrap();
    let cases: [BadCase<'_>; 5] = [
        // A bad --trivy is reported before the image is read (the archive does not exist
        // either: the Trivy error comes first).
        (
            &[
                "docker-archive:/nonexistent/x.tar",
                "-o",
                o,
                "--trivy",
                "/nonexistent/trivy",
            ],
            &[],
            &["--trivy `/nonexistent/trivy` does not exist", "hint:"],
        ),
        (
            &["--trivy-report", "/nonexistent/trivy.json", "-o", o],
            &[],
            &["failed to open `/nonexistent/trivy.json`"],
        ),
        (
            &[
                "--trivy-report",
                "/nonexistent/trivy.json",
                "-o",
                o,
                "--policy",
                "/nonexistent/policy.yaml",
            ],
            &[],
            &[
                "failed to read policy `/nonexistent/policy.yaml`",
                "hint: pass an existing file",
            ],
        ),
        (
            &["-o", o],
            &[("GOLDEN_ENTRY", r#"{"id": "base-debian","#)],
            &[
                "is not a plan entry",
                "line 1",
                "hint: pass one entry of the plan",
            ],
        ),
        // No engine behind DOCKER_HOST (a name without a registry host: no registry fallback).
        (
            &["golden-scan-test/nope:1", "-o", o, "--trivy", "off"],
            &[("DOCKER_HOST", "unix:///nonexistent/docker.sock")],
            &["no Docker engine", "scripts/ensure-docker.sh"],
        ),
    ];
    for (args, env, want) in cases {
        let (code, _, err) = golden_scan(args, env);
        assert_eq!(code, 2, "{args:?}: {err}");
        for w in want {
            assert!(err.contains(w), "{args:?}: `{w}` not in:\n{err}");
        }
        assert!(!out.exists(), "{args:?} wrote output");
    }
}
