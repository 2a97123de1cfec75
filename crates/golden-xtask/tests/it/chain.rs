//! build → scan → push → report, each through its action, against the real binaries, the real
//! engine and a real registry (scripts/registry.sh on a random port).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use golden_contracts::Document;
use golden_contracts::build::{BuildRecord, BuildResult};
use golden_contracts::scan::ScanReport;

use crate::harness::*;

/// A tiny `FROM scratch` build context (no pull needed) inside `dir`, as its own repository root.
fn tiny_context(dir: &Path) -> PathBuf {
    let ctx = dir.join("tiny");
    std::fs::create_dir_all(&ctx).unwrap();
    std::fs::write(ctx.join("hello.txt"), "hello from golden-xtask\n").unwrap();
    std::fs::write(
        ctx.join("Dockerfile"),
        "FROM scratch\nCOPY hello.txt /hello.txt\nUSER 65532:65532\nLABEL org.opencontainers.image.title=tiny\n",
    )
    .unwrap();
    ctx
}

fn unique(prefix: &str) -> String {
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{prefix}-{}-{n}", std::process::id())
}

/// Removes the engine images it names when dropped.
struct Images(Vec<String>);
impl Drop for Images {
    fn drop(&mut self) {
        for i in &self.0 {
            let _ = Command::new("docker").args(["rmi", "-f", i]).output();
        }
    }
}

/// The scan action over `image` with Trivy off and `fail-on-policy: false`, into `t/<out>`.
fn scan_trivy_off(t: &Path, bins: &Path, image: &str, out: &str) -> golden_xtask::RunResult {
    runner("scan", t)
        .env("PATH", path_with(bins))
        .input("image", image)
        .input("output", t.join(out).display().to_string())
        .input("trivy", "off")
        .input("fail-on-policy", "false")
        .run()
        .unwrap()
}

fn build_tiny(t: &Path, tag: &str, save: Option<&Path>) -> golden_xtask::RunResult {
    let bins = golden_bins(&["golden-build"]);
    let ctx = tiny_context(t);
    let mut r = runner("build", t)
        .env("PATH", path_with(&bins))
        .input("working-directory", ctx.display().to_string())
        .input("repo-root", ctx.display().to_string())
        .input("context", ".")
        .input("id", "tiny")
        .input("tags", format!("{tag}\n{tag}-extra\n"))
        .input("labels", "org.example.test=yes")
        .input(
            "record",
            t.join("out/build-record.json").display().to_string(),
        );
    if let Some(s) = save {
        r = r.input("save", s.display().to_string());
    }
    r.run().unwrap()
}

#[test]
fn docker_build_writes_outputs_record_and_archive() {
    require_docker();
    let t = tempdir("build");
    let tag = format!("golden-xtask-it/{}:1", unique("tiny"));
    let _cleanup = Images(vec![tag.clone(), format!("{tag}-extra")]);
    let archive = t.path().join("handoff/image.tar.gz");
    let r = build_tiny(t.path(), &tag, Some(&archive));
    assert_ok(&r);
    assert_eq!(r.output("result"), "success");
    let id = r.output("image-id");
    assert!(id.starts_with("sha256:") && id.len() == 71, "{id}");
    assert_eq!(r.output("tags"), format!("{tag}\n{tag}-extra"));
    let record = BuildRecord::read(Path::new(r.output("record"))).unwrap();
    assert_eq!(record.id, "tiny");
    assert_eq!(record.result, BuildResult::Success);
    assert_eq!(record.image_id.as_deref(), Some(id));
    assert_eq!(
        record.labels.get("org.example.test").map(String::as_str),
        Some("yes")
    );
    assert_eq!(r.output("archive"), archive.display().to_string());
    assert!(std::fs::metadata(&archive).unwrap().len() > 0);
    // The archive holds both tags: removing them and loading it back restores them.
    let _ = Command::new("docker")
        .args(["rmi", "-f", &tag, &format!("{tag}-extra")])
        .output();
    let bins = golden_bins(&["golden-build"]);
    let load = Command::new(bins.join("golden-build"))
        .arg("load")
        .arg(&archive)
        .output()
        .unwrap();
    assert!(
        load.status.success(),
        "{}",
        String::from_utf8_lossy(&load.stderr)
    );
    let inspect = Command::new("docker")
        .args([
            "image",
            "inspect",
            "--format",
            "{{.Id}}",
            &format!("{tag}-extra"),
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&inspect.stdout).trim(), id);
}

#[test]
fn docker_failed_build_still_writes_the_record() {
    require_docker();
    let bins = golden_bins(&["golden-build"]);
    let t = tempdir("build");
    let ctx = tiny_context(t.path());
    std::fs::write(
        ctx.join("Dockerfile"),
        "FROM scratch\nCOPY missing-file.txt /x\n",
    )
    .unwrap();
    let r = runner("build", t.path())
        .env("PATH", path_with(&bins))
        .input("working-directory", ctx.display().to_string())
        .input("repo-root", ctx.display().to_string())
        .input("context", ".")
        .input("id", "broken")
        .input("tags", format!("golden-xtask-it/{}:1", unique("broken")))
        .input(
            "record",
            t.path().join("out/build-record.json").display().to_string(),
        )
        .input("save", t.path().join("never.tar.gz").display().to_string())
        .run()
        .unwrap();
    assert!(!r.success);
    assert_eq!(r.step("build").unwrap().exit_code, Some(2));
    assert_eq!(r.output("result"), "failure");
    let record = BuildRecord::read(&t.path().join("out/build-record.json")).unwrap();
    assert_eq!(record.result, BuildResult::Failure);
    assert_eq!(
        r.step("save").unwrap().outcome,
        golden_xtask::Outcome::Skipped,
        "nothing saved after a failure"
    );
}

#[test]
fn docker_scan_with_trivy_off_writes_the_four_outputs() {
    require_docker();
    let bins = golden_bins(&["golden-build", "golden-scan"]);
    let t = tempdir("scan");
    let tag = format!("golden-xtask-it/{}:1", unique("scan"));
    let _cleanup = Images(vec![tag.clone(), format!("{tag}-extra")]);
    let b = build_tiny(t.path(), &tag, None);
    assert_ok(&b);
    let r = scan_trivy_off(t.path(), &bins, b.output("image-id"), "out/scan");
    assert_ok(&r);
    let report = ScanReport::read(Path::new(r.output("report"))).unwrap();
    assert_eq!(r.output("passed"), report.policy.passed.to_string());
    assert_eq!(
        r.output("exit-code"),
        if report.policy.passed { "0" } else { "1" }
    );
    assert_eq!(
        r.output("compliance-failures"),
        report.summary.compliance_fail.to_string()
    );
    for out in ["sarif", "markdown", "sbom"] {
        assert!(
            Path::new(r.output(out)).is_file(),
            "{out}: {}",
            r.output(out)
        );
    }
    assert_eq!(
        r.output("output-dir"),
        t.path().join("out/scan").display().to_string()
    );
    assert_eq!(r.output("trivy-path"), "");
    assert!(
        r.uses.is_empty(),
        "trivy off: no DB cache, no SARIF upload: {:?}",
        r.uses
    );
    assert!(!r.summary.is_empty(), "report.md goes to the job summary");
    // With fail-on-policy, a failing image fails the step after the outputs are written.
    if !report.policy.passed {
        let r2 = runner("scan", t.path())
            .env("PATH", path_with(&bins))
            .input("image", b.output("image-id"))
            .input("output", t.path().join("out/scan2").display().to_string())
            .input("trivy", "off")
            .input("upload-sarif", "true")
            .run()
            .unwrap();
        assert!(!r2.success);
        assert_eq!(r2.uses.len(), 1, "SARIF still uploaded: {:?}", r2.uses);
        assert!(r2.uses[0].with["sarif_file"].ends_with("out/scan2/report.sarif"));
        assert_eq!(r2.uses[0].with["category"], "golden-scan");
    }
}

/// A fake Trivy release: `trivy` prints its version and writes files where the DB would go.
fn fake_trivy_release(root: &Path) -> (String, String) {
    let asset = match std::env::consts::ARCH {
        "aarch64" => "trivy_0.69.3_Linux-ARM64.tar.gz",
        _ => "trivy_0.69.3_Linux-64bit.tar.gz",
    };
    let stage = root.join("stage");
    std::fs::create_dir_all(&stage).unwrap();
    std::fs::write(
        stage.join("trivy"),
        "#!/bin/sh\nif [ \"$1\" = --version ]; then echo 'Version: 0.69.3'; exit 0; fi\n\
         dir=''; while [ $# -gt 0 ]; do [ \"$1\" = --cache-dir ] && dir=\"$2\"; shift; done\n\
         mkdir -p \"$dir/db\" && echo \"db from ${TRIVY_DB_REPOSITORY:-default}\" >\"$dir/db/trivy.db\"\n",
    )
    .unwrap();
    Command::new("chmod")
        .arg("755")
        .arg(stage.join("trivy"))
        .status()
        .unwrap();
    let dir = root.join("dl/v0.69.3");
    std::fs::create_dir_all(&dir).unwrap();
    assert!(
        Command::new("tar")
            .arg("-czf")
            .arg(dir.join(asset))
            .arg("-C")
            .arg(&stage)
            .arg("trivy")
            .status()
            .unwrap()
            .success()
    );
    let sha = sha256_file(&dir.join(asset));
    (format!("file://{}", root.join("dl").display()), sha)
}

#[test]
fn scan_installs_trivy_only_when_the_sha256_matches() {
    let t = tempdir("trivy");
    let (url, sha) = fake_trivy_release(t.path());
    // The built-in checksum is the real release's: the fake archive must be refused.
    let r = runner("scan", t.path())
        .input("download-db-only", "true")
        .input("trivy-download-url", url.clone())
        .run()
        .unwrap();
    assert!(!r.success);
    let err = r.commands.iter().find(|c| c.name == "error").unwrap();
    assert!(err.value.contains("refusing to install"), "{err:?}");
    assert!(
        err.value
            .contains("1816b632dfe529869c740c0913e36bd1629cb7688bd5634f4a858c1d57c88b75")
            || err
                .value
                .contains("7e3924a974e912e57b4a99f65ece7931f8079584dae12eb7845024f97087bdfd"),
        "{err:?}"
    );
    assert!(
        !t.path()
            .join("runner-temp/golden-trivy-0.69.3/trivy")
            .exists()
    );

    // With its own checksum pinned it installs, downloads the DB once and saves it to the cache.
    let r = runner("scan", t.path())
        .input("download-db-only", "true")
        .input("trivy-download-url", url)
        .input("trivy-sha256", sha)
        .input("trivy-db-key", "golden-trivy-db-test")
        .input(
            "trivy-db-repository",
            "mirror.example/trivy-db:2\nghcr.io/aquasecurity/trivy-db:2",
        )
        .on_uses(|c| {
            let mut o = BTreeMap::new();
            if c.uses.starts_with("actions/cache/restore@") {
                o.insert("cache-hit".into(), "false".into());
            }
            Ok(o)
        })
        .run()
        .unwrap();
    assert_ok(&r);
    let cache_dir = t.path().join("runner-temp/golden-trivy-cache");
    let db = std::fs::read_to_string(cache_dir.join("db/trivy.db")).unwrap();
    assert_eq!(
        db.trim(),
        "db from mirror.example/trivy-db:2,ghcr.io/aquasecurity/trivy-db:2"
    );
    let uses: Vec<_> = r
        .uses
        .iter()
        .map(|u| u.uses.split('@').next().unwrap().to_string())
        .collect();
    assert_eq!(uses, ["actions/cache/restore", "actions/cache/save"]);
    for u in &r.uses {
        assert_eq!(u.with["key"], "golden-trivy-db-test");
        assert_eq!(u.with["path"], cache_dir.display().to_string());
    }
    assert_eq!(r.output("trivy-db-key"), "golden-trivy-db-test");
    assert_eq!(
        r.step("scan").unwrap().outcome,
        golden_xtask::Outcome::Skipped,
        "the DB job scans nothing"
    );
}

#[test]
fn scan_refuses_a_floating_trivy_version() {
    let t = tempdir("trivy");
    let r = runner("scan", t.path())
        .input("trivy-version", "latest")
        .run()
        .unwrap();
    assert_fails_with(&r, "no tags like latest");
    let r = runner("scan", t.path())
        .input("trivy-version", "0.70.0")
        .run()
        .unwrap();
    assert_fails_with(&r, "pass input `trivy-sha256`");
}

/// The architecture name the push record carries (the workflows' `amd64`/`arm64`).
fn golden_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

fn entry_json(registry: &str, repo: &str) -> String {
    // A whole plan entry, as a matrix job's `toJSON(matrix.entry)` gives it.
    serde_json::json!({
        "id": "tiny-1-scratch", "stage": "platform", "os": "scratch", "platform": "tiny",
        "name": "tiny", "version": "1", "dockerfile": "Dockerfile", "context": ".",
        "image": format!("{registry}/{repo}"),
        "tags": [format!("{registry}/{repo}:1"), format!("{registry}/{repo}:1-20260101"), format!("{registry}/{repo}:1-sha-abcdef0")],
        "policy": "configs/policy.yaml", "offline": true,
    })
    .to_string()
}

fn registry_tags(host: &str, repo: &str) -> Vec<String> {
    let out = Command::new("curl")
        .args(["-sf", &format!("http://{host}/v2/{repo}/tags/list")])
        .output()
        .unwrap();
    assert!(out.status.success(), "tags/list of {repo}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut tags: Vec<String> = v["tags"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|t| t.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    tags.sort();
    tags
}

#[test]
fn registry_push_attach_then_repush_sends_nothing() {
    require_docker();
    let reg = Registry::start();
    let bins = golden_bins(&["golden-build", "golden-scan", "golden-push"]);
    let t = tempdir("push");
    let tag = format!("golden-xtask-it/{}:1", unique("push"));
    let _cleanup = Images(vec![tag.clone(), format!("{tag}-extra")]);
    let b = build_tiny(t.path(), &tag, None);
    assert_ok(&b);
    let s = scan_trivy_off(t.path(), &bins, b.output("image-id"), "out/scan");
    assert_ok(&s);

    let repo = "golden-xtask/tiny";
    let entry = entry_json(&reg.host(), repo);
    let push = |record: &Path| {
        runner("push", t.path())
            .env("PATH", path_with(&bins))
            .env("HOME", t.path().display().to_string())
            .input("image", b.output("image-id"))
            .input("entry", entry.clone())
            .input(
                "attach",
                format!(
                    "{}\n{}\n{}\n",
                    s.output("report"),
                    s.output("sbom"),
                    b.output("record")
                ),
            )
            .input("record", record.display().to_string())
            .run()
            .unwrap()
    };
    let r1 = push(&t.path().join("out/push-record.json"));
    assert_ok(&r1);
    let digest = r1.output("digest").to_string();
    assert!(
        digest.starts_with("sha256:") && digest.len() == 71,
        "{digest}"
    );
    assert_eq!(
        r1.output("reference"),
        format!("{}/{repo}@{digest}", reg.host())
    );
    assert!(
        r1.output("uploaded").parse::<u32>().unwrap() >= 2,
        "first push sends layer + config: {}",
        r1.output("uploaded")
    );
    let attached: Vec<&str> = r1.output("attached").lines().collect();
    assert_eq!(
        attached.len(),
        3,
        "report, SBOM and build record attached: {attached:?}"
    );
    // The scan ran before the push; the attached report carries the pushed digest.
    let report = ScanReport::read(Path::new(s.output("report"))).unwrap();
    assert_eq!(report.image.digest.as_deref(), Some(digest.as_str()));
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(r1.output("record")).unwrap()).unwrap();
    assert_eq!(record["kind"], "golden-push-record");
    assert_eq!(record["id"], "tiny-1-scratch");
    assert_eq!(record["digest"], digest.as_str());
    assert_eq!(record["referrers"].as_array().unwrap().len(), 3);
    assert_eq!(record["arch"], golden_arch());

    let tags = registry_tags(&reg.host(), repo);
    let fallback = format!("sha256-{}", digest.trim_start_matches("sha256:"));
    for want in ["1", "1-20260101", "1-sha-abcdef0", fallback.as_str()] {
        assert!(tags.iter().any(|t| t == want), "tag {want} in {tags:?}");
    }
    // The referrers are listed by golden-push (tag-schema fallback on distribution 2.8).
    let refs = Command::new(bins.join("golden-push"))
        .args(["referrers", &format!("{}/{repo}@{digest}", reg.host())])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&refs.stdout);
    assert!(
        text.contains("application/vnd.golden.scan-report.v1+json")
            && text.contains("application/vnd.cyclonedx+json")
            && text.contains("application/vnd.golden.build-record.v1+json"),
        "{text}"
    );

    // Same image again: same digest, nothing uploaded.
    let r2 = push(&t.path().join("out/push-record-2.json"));
    assert_ok(&r2);
    assert_eq!(r2.output("digest"), digest);
    assert_eq!(r2.output("uploaded"), "0", "{}", r2.log());

    // Per-architecture push then the merge into an index with the real tags.
    let r3 = runner("push", t.path())
        .env("PATH", path_with(&bins))
        .env("HOME", t.path().display().to_string())
        .input("image", b.output("image-id"))
        .input("entry", entry_json(&reg.host(), "golden-xtask/multi"))
        .input("arch-suffix", "amd64")
        .input(
            "record",
            t.path()
                .join("records/a/push-record.json")
                .display()
                .to_string(),
        )
        .run()
        .unwrap();
    assert_ok(&r3);
    assert_eq!(
        registry_tags(&reg.host(), "golden-xtask/multi"),
        ["1-amd64"]
    );
    let r4 = runner("push", t.path())
        .env("PATH", path_with(&bins))
        .env("HOME", t.path().display().to_string())
        .input("mode", "index")
        .input("records", t.path().join("records").display().to_string())
        .input("expect-arch", golden_arch())
        .input(
            "record",
            t.path()
                .join("index/index-record.json")
                .display()
                .to_string(),
        )
        .run()
        .unwrap();
    assert_ok(&r4);
    assert_eq!(
        registry_tags(&reg.host(), "golden-xtask/multi"),
        ["1", "1-20260101", "1-amd64", "1-sha-abcdef0"]
    );
    let idx: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(r4.output("record")).unwrap()).unwrap();
    assert_eq!(idx["kind"], "golden-index-record");
    assert_eq!(idx["indexes"][0]["manifests"][0]["arch"], golden_arch());
    assert_eq!(
        idx["indexes"][0]["manifests"][0]["reference"],
        r3.output("reference")
    );

    // The report over everything produced: one image, the digests output names it.
    let rep = runner("report", t.path())
        .env("PATH", path_with(&golden_bins(&["golden-report"])))
        .input("input", t.path().join("out").display().to_string())
        .input("output", t.path().join("summary").display().to_string())
        .input("comment", "false")
        .input("alert", "false")
        .run()
        .unwrap();
    assert_ok(&rep);
    let summary: serde_json::Value = serde_json::from_str(rep.output("summary")).unwrap();
    assert_eq!(summary["totals"]["images"], 1, "{summary}");
    let digests: serde_json::Value = serde_json::from_str(rep.output("digests")).unwrap();
    assert_eq!(digests["tiny-1-scratch"], r1.output("reference"));
    assert!(Path::new(rep.output("summary-json")).is_file());
    assert!(Path::new(rep.output("metrics")).is_file());
    assert!(
        rep.summary.contains("tiny"),
        "job summary written:\n{}",
        rep.summary
    );
}

#[test]
fn push_needs_an_image_and_a_target() {
    let bins = golden_bins(&["golden-push"]);
    let t = tempdir("push");
    let r = runner("push", t.path())
        .env("PATH", path_with(&bins))
        .run()
        .unwrap();
    assert_fails_with(&r, "input `image` is required");
    let r = runner("push", t.path())
        .env("PATH", path_with(&bins))
        .input("image", "x")
        .input("entry", "{\"tags\":[]}")
        .run()
        .unwrap();
    assert_fails_with(&r, "is not a plan entry");
}

#[test]
fn push_checks_every_attachment_before_pushing() {
    // The image does not exist: a push would fail with golden-push's error, not the action's.
    let bins = golden_bins(&["golden-push"]);
    let t = tempdir("push");
    let notes = t.path().join("notes.txt");
    std::fs::write(&notes, "x").unwrap();
    let push = |attach: String| {
        runner("push", t.path())
            .env("PATH", path_with(&bins))
            .input("image", "docker-archive:/nonexistent/golden-xtask.tar")
            .input("to", "127.0.0.1:9/golden-xtask/never:1")
            .input("attach", attach)
            .run()
            .unwrap()
    };
    // An unknown type: the message names the file and the way out (it used to be lost inside
    // `$( )`, and the image was pushed before the check).
    let r = push(notes.display().to_string());
    assert_fails_with(&r, "cannot tell the artifact type");
    assert_fails_with(&r, "write it as FILE=TYPE");
    let r = push(format!("{}/missing/report.json", t.path().display()));
    assert_fails_with(&r, "no file at");
    // With its type given the list is fine: the step gets to golden-push, which finds no archive.
    let r = push(format!("{}=text/plain", notes.display()));
    assert!(!r.success);
    assert!(
        !r.commands
            .iter()
            .any(|c| c.value.contains("input `attach`")),
        "{}",
        r.log()
    );
    assert!(
        r.step("push").unwrap().stderr.contains("golden-xtask.tar"),
        "{}",
        r.log()
    );
}

#[test]
fn report_writes_the_comment_file_for_the_poster_without_calling_github() {
    let bins = golden_bins(&["golden-report"]);
    let t = tempdir("report");
    let input = t.path().join("reports/golden-report-x");
    std::fs::create_dir_all(&input).unwrap();
    let record = BuildRecord {
        schema: golden_contracts::build::BUILD_RECORD_SCHEMA,
        id: "nginx-1.22-debian".into(),
        os: Some("debian".into()),
        platform: Some("nginx".into()),
        version: Some("1.22".into()),
        result: BuildResult::Failure,
        arch: None,
        image_id: None,
        tags: vec![],
        size: None,
        duration_seconds: 1.5,
        started_at: "2026-01-01T00:00:00Z".into(),
        base_image: None,
        base_digest: None,
        labels: BTreeMap::new(),
        cache: None,
        error: Some(golden_contracts::build::BuildError {
            message: "RUN failed".into(),
            step: Some("Step 2/3 : RUN false".into()),
            last_lines: vec![],
        }),
    };
    record.write(&input.join("build-record.json")).unwrap();
    let r = runner("report", t.path())
        .env("PATH", path_with(&bins))
        // A token is present, but `comment: file` must not use it.
        .env("GITHUB_API_URL", "http://127.0.0.1:9/never")
        .input("input", t.path().join("reports").display().to_string())
        .input("output", t.path().join("summary").display().to_string())
        .input("comment", "file")
        .input("pr", "42")
        .input("alert", "false")
        .input("github-token", "ghs_not_a_real_token")
        .input("fail-on-failure", "true")
        .run()
        .unwrap();
    assert!(!r.success, "fail-on-failure with a failed build");
    assert_eq!(r.step("report").unwrap().exit_code, Some(1), "{}", r.log());
    assert_eq!(r.output("status"), "failed");
    let file = r.output("comment-file");
    assert_eq!(
        file,
        t.path()
            .join("summary/pr-comment.json")
            .display()
            .to_string()
    );
    let c: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    assert_eq!(c["pr"], 42);
    // Schema 2: data for the trusted poster to render, never Markdown.
    assert_eq!(c["schema"], 2);
    assert!(c.get("body").is_none(), "{c}");
    assert!(
        c["data"]["images"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["id"] == "nginx-1.22-debian"),
        "{c}"
    );
    assert_eq!(r.output("digests"), "{}");
    let env = &r.step("report").unwrap().process_env;
    assert_eq!(
        env.get("GITHUB_TOKEN").map(String::as_str),
        Some("ghs_not_a_real_token"),
        "given to the step..."
    );
    assert!(
        r.commands
            .iter()
            .any(|c| c.name == "notice" && c.value.contains("no GITHUB_TOKEN")),
        "...but unset for golden-report in file mode:\n{}",
        r.log()
    );
}

#[test]
fn report_post_comment_refuses_a_file_that_is_not_a_comment() {
    let bins = golden_bins(&["golden-report"]);
    let t = tempdir("report");
    let file = t.path().join("pr-comment.json");
    std::fs::write(
        &file,
        r#"{"pr": 1, "key": "k", "body": "@everyone <img src=x>"}"#,
    )
    .unwrap();
    let r = runner("report", t.path())
        .env("PATH", path_with(&bins))
        .input("mode", "post-comment")
        .input("comment-file", file.display().to_string())
        .input("github-token", "ghs_x")
        .input("repository", "example/golden-images")
        .run()
        .unwrap();
    assert!(!r.success);
    assert_eq!(r.step("report").unwrap().exit_code, Some(2));
    assert!(
        r.step("report").unwrap().stderr.contains("comment file"),
        "{}",
        r.log()
    );
}
