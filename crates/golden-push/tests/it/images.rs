//! Engine images (pull and run what was pushed; base-layer mounts; warm pushes), and the
//! `index`, `copy`, `attach` and `referrers` subcommands.

use std::process::Command;

use crate::support::*;

fn docker(args: &[&str]) -> String {
    let out = Command::new("docker")
        .args(args)
        .output()
        .expect("run docker");
    assert!(
        out.status.success(),
        "docker {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Images (and containers) this test created, removed on drop.
struct Images(Vec<String>);

impl Drop for Images {
    fn drop(&mut self) {
        for i in &self.0 {
            let _ = Command::new("docker").args(["rmi", "-f", i]).output();
        }
    }
}

fn unique(name: &str) -> String {
    format!("golden-push-test-{name}-{}", std::process::id())
}

/// Build an image from busybox-static (copied into scratch) plus `extra` Dockerfile lines.
fn build(images: &mut Images, name: &str, from: Option<&str>, extra: &str) -> String {
    let ctx = tempfile::tempdir().unwrap();
    let tag = format!("{name}:1");
    let dockerfile = match from {
        None => {
            std::fs::create_dir_all(ctx.path().join("bin")).unwrap();
            std::fs::copy("/bin/busybox", ctx.path().join("bin/busybox"))
                .expect("/bin/busybox (Debian busybox-static) is required: run scripts/setup.sh");
            format!("FROM scratch\nCOPY bin/ /bin/\n{extra}\n")
        }
        Some(base) => format!("FROM {base}\n{extra}\n"),
    };
    std::fs::write(ctx.path().join("Dockerfile"), dockerfile).unwrap();
    docker(&["build", "-q", "-t", &tag, &ctx.path().display().to_string()]);
    images.0.push(tag.clone());
    tag
}

#[tokio::test(flavor = "multi_thread")]
async fn docker_push_then_pull_and_run_and_archive_gives_the_same_digest() {
    require_engine();
    let reg = Registry::start();
    let mut images = Images(Vec::new());
    let name = unique("run");
    let image = build(
        &mut images,
        &name,
        None,
        "LABEL org.opencontainers.image.title=run-test\nRUN [\"/bin/busybox\", \"sh\", \"-c\", \"echo hello from golden-push > /hello\"]\nCMD [\"/bin/busybox\", \"cat\", \"/hello\"]",
    );
    let to = format!("{}/golden/run:1", reg.host());
    let run = golden_push(&[&image, "--to", &to, "--format", "json"], &[]).await;
    run.ok();
    let digest = run.output("digest").to_string();
    // As root on a local engine the layers come from the layer store (verified), else from
    // the engine export: either way the same bytes.
    let source = run.json()["layer_source"].as_str().unwrap().to_string();
    assert!(
        source == "engine-layer-store" || source == "engine-export",
        "{source}"
    );

    let info: serde_json::Value = serde_json::from_str(&skopeo(&to, false, None).unwrap()).unwrap();
    assert_eq!(info["Digest"], digest.as_str());
    validate_oci_schema(
        &skopeo(&to, true, None).unwrap(),
        "image-manifest-schema.json",
    );

    let pinned = format!("{}/golden/run@{digest}", reg.host());
    docker(&["pull", "-q", &pinned]);
    images.0.push(pinned.clone());
    let out = docker(&["run", "--rm", &pinned]);
    assert_eq!(out, "hello from golden-push");
    let repo_digests = docker(&["inspect", "--format", "{{json .RepoDigests}}", &pinned]);
    assert!(repo_digests.contains(&digest), "{repo_digests}");

    // The same image as a docker-archive pushes to the same digest (no engine involved).
    let dir = tempfile::tempdir().unwrap();
    let tar = dir.path().join("img.tar");
    docker(&["save", "-o", &tar.display().to_string(), &image]);
    let other = Registry::start();
    let run2 = golden_push(
        &[
            &format!("docker-archive:{}", tar.display()),
            "--to",
            &format!("{}/golden/run:1", other.host()),
        ],
        &[],
    )
    .await;
    run2.ok();
    assert_eq!(run2.output("digest"), digest);

    // The engine export path gives the same digest.
    let third = Registry::start();
    let run3 = golden_push(
        &[
            &image,
            "--to",
            &format!("{}/golden/run:1", third.host()),
            "--layer-store",
            "off",
            "--format",
            "json",
        ],
        &[],
    )
    .await;
    run3.ok();
    assert_eq!(run3.json()["layer_source"], "engine-export");
    assert_eq!(run3.output("digest"), digest);

    // Unchanged re-push: the engine image is not even exported.
    let again = golden_push(&[&image, "--to", &to, "--format", "json"], &[]).await;
    again.ok();
    assert_eq!(again.json()["exported"], false, "{}", again.stderr);
    assert_eq!(again.json()["layer_source"], "none");
    assert_eq!(again.output("digest"), digest);
}

#[tokio::test(flavor = "multi_thread")]
async fn docker_base_layers_are_mounted_and_warm_push_sends_only_the_top_layer() {
    require_engine();
    let reg = Registry::start();
    let mut images = Images(Vec::new());
    let base = build(
        &mut images,
        &unique("base"),
        None,
        "RUN [\"/bin/busybox\", \"sh\", \"-c\", \"echo base > /base\"]",
    );
    let base_ref = format!("{}/golden/base:1", reg.host());
    golden_push(&[&base, "--to", &base_ref], &[]).await.ok();

    let label = format!("LABEL org.opencontainers.image.base.name={base_ref}");
    let child = build(
        &mut images,
        &unique("child"),
        Some(&base),
        &format!("{label}\nRUN [\"/bin/busybox\", \"sh\", \"-c\", \"echo one > /top\"]"),
    );
    let child_ref = format!("{}/golden/child:1", reg.host());
    let run = golden_push(&[&child, "--to", &child_ref, "--format", "json"], &[]).await;
    run.ok();
    let r = run.json();
    let layers = r["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 3, "{r}");
    for l in &layers[..2] {
        assert_eq!(l["action"], "mounted", "{}", run.stderr);
        assert_eq!(l["from"], format!("{}/golden/base", reg.host()));
    }
    assert_eq!(layers[2]["action"], "uploaded");
    let m: serde_json::Value =
        serde_json::from_str(&skopeo(&child_ref, true, None).unwrap()).unwrap();
    assert_eq!(
        m["annotations"]["org.opencontainers.image.base.name"],
        base_ref.as_str()
    );
    assert!(
        m["annotations"]["org.opencontainers.image.base.digest"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );

    // Warm: only the top layer changed → it alone is sent.
    let child2 = build(
        &mut images,
        &unique("child2"),
        Some(&base),
        &format!("{label}\nRUN [\"/bin/busybox\", \"sh\", \"-c\", \"echo two > /top\"]"),
    );
    let run = golden_push(&[&child2, "--to", &child_ref, "--format", "json"], &[]).await;
    run.ok();
    let r = run.json();
    let actions: Vec<&str> = r["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["exists", "exists", "uploaded"], "{}", run.stderr);
    docker(&["pull", "-q", &child_ref]);
    images.0.push(child_ref.clone());
    assert_eq!(
        docker(&["run", "--rm", &child_ref, "/bin/busybox", "cat", "/top"]),
        "two"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn registry_index_of_two_architectures() {
    let reg = Registry::start();
    let dir = tempfile::tempdir().unwrap();
    let mut digests = Vec::new();
    for arch in ["amd64", "arm64"] {
        let a = small_archive(dir.path(), &format!("multi-{arch}"), arch);
        let r = golden_push(
            &[
                &format!("docker-archive:{}", a.display()),
                "--to",
                &format!("{}/golden/multi:{arch}", reg.host()),
            ],
            &[],
        )
        .await;
        r.ok();
        digests.push(r.output("digest").to_string());
    }
    let to = format!("{}/golden/multi:1.0", reg.host());
    let run = golden_push(
        &[
            "index",
            "--to",
            &to,
            &digests[0],
            &digests[1],
            "--annotation",
            "org.opencontainers.image.version=1.0",
            "--format",
            "json",
        ],
        &[],
    )
    .await;
    run.ok();
    assert_eq!(
        run.json()["platforms"],
        serde_json::json!(["linux/amd64", "linux/arm64"])
    );
    let raw = skopeo(&to, true, None).unwrap();
    assert_eq!(sha256(raw.as_bytes()), run.output("digest"));
    validate_oci_schema(&raw, "image-index-schema.json");
    let idx: serde_json::Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(idx["mediaType"], "application/vnd.oci.image.index.v1+json");
    assert_eq!(
        idx["annotations"]["org.opencontainers.image.version"],
        "1.0"
    );
    let plats: Vec<String> = idx["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            format!(
                "{}/{}",
                m["platform"]["os"].as_str().unwrap(),
                m["platform"]["architecture"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(plats, ["linux/amd64", "linux/arm64"]);
    assert_eq!(idx["manifests"][0]["digest"], digests[0].as_str());
    // skopeo resolves the index to the amd64 image by default.
    let info: serde_json::Value = serde_json::from_str(&skopeo(&to, false, None).unwrap()).unwrap();
    assert_eq!(info["Architecture"], "amd64");

    // The same platform twice is refused.
    let run = golden_push(&["index", "--to", &to, &digests[0], &digests[0]], &[]).await;
    run.failed();
    assert!(
        run.stderr
            .contains("two manifests for platform linux/amd64"),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn registry_copy_between_registries_and_within_one() {
    let a = Registry::start();
    let b = Registry::start();
    let dir = tempfile::tempdir().unwrap();
    let archive = small_archive(dir.path(), "copy", "amd64");
    let src = format!("{}/staging/app:1", a.host());
    let pushed = golden_push(
        &[
            &format!("docker-archive:{}", archive.display()),
            "--to",
            &src,
        ],
        &[],
    )
    .await;
    pushed.ok();
    let digest = pushed.output("digest").to_string();

    // To another registry: blobs streamed, same digest, DST without tag takes SRC's tag.
    let run = golden_push(
        &[
            "copy",
            &src,
            &format!("{}/dr/app", b.host()),
            "--format",
            "json",
        ],
        &[],
    )
    .await;
    run.ok();
    assert_eq!(run.output("digest"), digest);
    assert_eq!(run.output("tags"), format!("{}/dr/app:1", b.host()));
    for blob in run.json()["blobs"].as_array().unwrap() {
        assert_eq!(blob["action"], "copied");
    }
    let info: serde_json::Value =
        serde_json::from_str(&skopeo(&format!("{}/dr/app:1", b.host()), false, None).unwrap())
            .unwrap();
    assert_eq!(info["Digest"], digest.as_str());

    // Promotion inside one registry: blobs are mounted, not transferred.
    let run = golden_push(
        &[
            "copy",
            &format!("{}/staging/app@{digest}", a.host()),
            &format!("{}/prod/app:1.0", a.host()),
            "--format",
            "json",
        ],
        &[],
    )
    .await;
    run.ok();
    for blob in run.json()["blobs"].as_array().unwrap() {
        assert_eq!(blob["action"], "mounted", "{}", run.stderr);
    }
    assert_eq!(run.output("digest"), digest);

    // An index copies with its children.
    let arm = small_archive(dir.path(), "copy-arm", "arm64");
    let arm_pushed = golden_push(
        &[
            &format!("docker-archive:{}", arm.display()),
            "--to",
            &format!("{}/staging/app:arm", a.host()),
        ],
        &[],
    )
    .await;
    arm_pushed.ok();
    let idx = golden_push(
        &[
            "index",
            "--to",
            &format!("{}/staging/app:multi", a.host()),
            &digest,
            arm_pushed.output("digest"),
        ],
        &[],
    )
    .await;
    idx.ok();
    let run = golden_push(
        &[
            "copy",
            &format!("{}/staging/app:multi", a.host()),
            &format!("{}/dr/app:multi", b.host()),
        ],
        &[],
    )
    .await;
    run.ok();
    assert_eq!(run.output("digest"), idx.output("digest"));
    let raw = skopeo(&format!("{}/dr/app:multi", b.host()), true, None).unwrap();
    assert_eq!(sha256(raw.as_bytes()), idx.output("digest"));
    // The arm64 child is in the destination too.
    skopeo(
        &format!("{}/dr/app@{}", b.host(), arm_pushed.output("digest")),
        true,
        None,
    )
    .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn registry_attach_and_referrers_use_the_tag_schema_fallback() {
    let reg = Registry::start();
    let dir = tempfile::tempdir().unwrap();
    let archive = small_archive(dir.path(), "subject", "amd64");
    let to = format!("{}/golden/subject:1", reg.host());
    let pushed = golden_push(
        &[
            &format!("docker-archive:{}", archive.display()),
            "--to",
            &to,
        ],
        &[],
    )
    .await;
    pushed.ok();
    let digest = pushed.output("digest").to_string();

    let report = dir.path().join("scan-report.json");
    std::fs::write(&report, br#"{"schema":1,"verdict":"pass"}"#).unwrap();
    let sbom = dir.path().join("sbom.cdx.json");
    std::fs::write(&sbom, br#"{"bomFormat":"CycloneDX"}"#).unwrap();
    let scan_type = "application/vnd.golden.scan-report.v1+json";
    let run = golden_push(
        &[
            "attach",
            &to,
            &report.display().to_string(),
            "--artifact-type",
            scan_type,
            "--annotation",
            "org.opencontainers.image.created=2026-01-01T00:00:00Z",
            "--format",
            "json",
        ],
        &[],
    )
    .await;
    run.ok();
    let attached = run.json();
    assert_eq!(
        attached["fallback_tag"], true,
        "distribution 2.8 has no referrers API"
    );
    assert_eq!(
        attached["subject"],
        format!("{}/golden/subject@{digest}", reg.host())
    );
    let art_digest = run.output("digest").to_string();
    let sbom_run = golden_push(
        &[
            "attach",
            &format!("{}/golden/subject@{digest}", reg.host()),
            &sbom.display().to_string(),
            "--artifact-type",
            "application/vnd.cyclonedx+json",
        ],
        &[],
    )
    .await;
    sbom_run.ok();

    // The artifact manifest is a valid OCI manifest with subject + artifactType.
    let raw = skopeo(
        &format!("{}/golden/subject@{art_digest}", reg.host()),
        true,
        None,
    )
    .unwrap();
    validate_oci_schema(&raw, "image-manifest-schema.json");
    let m: serde_json::Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(m["artifactType"], scan_type);
    assert_eq!(m["subject"]["digest"], digest.as_str());
    assert_eq!(
        m["config"]["mediaType"],
        "application/vnd.oci.empty.v1+json"
    );
    assert_eq!(m["layers"][0]["mediaType"], "application/json");
    assert_eq!(
        m["layers"][0]["annotations"]["org.opencontainers.image.title"],
        "scan-report.json"
    );

    // The referrers tag schema index exists under sha256-<hex>.
    let fallback = format!("{}/golden/subject:sha256-{}", reg.host(), &digest[7..]);
    let idx: serde_json::Value =
        serde_json::from_str(&skopeo(&fallback, true, None).unwrap()).unwrap();
    assert_eq!(idx["manifests"].as_array().unwrap().len(), 2);

    // referrers lists both; the filter keeps one; the tag subject resolves to the digest.
    let all = golden_push(&["referrers", &to, "--format", "json"], &[]).await;
    all.ok();
    let list = all.json();
    assert_eq!(list.as_array().unwrap().len(), 2, "{list}");
    assert_eq!(all.output("count"), "2");
    let only = golden_push(&["referrers", &to, "--artifact-type", scan_type], &[]).await;
    only.ok();
    let lines: Vec<&str> = only.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{}", only.stdout);
    assert!(
        lines[0].starts_with(&art_digest) && lines[0].contains(scan_type),
        "{}",
        lines[0]
    );

    // Attaching the same file again changes nothing (same artifact digest, no duplicate entry).
    let again = golden_push(
        &[
            "attach",
            &to,
            &report.display().to_string(),
            "--artifact-type",
            scan_type,
            "--annotation",
            "org.opencontainers.image.created=2026-01-01T00:00:00Z",
        ],
        &[],
    )
    .await;
    again.ok();
    assert_eq!(again.output("digest"), art_digest);
    let idx: serde_json::Value =
        serde_json::from_str(&skopeo(&fallback, true, None).unwrap()).unwrap();
    assert_eq!(idx["manifests"].as_array().unwrap().len(), 2);

    // A subject that does not exist is a clear error.
    let missing = golden_push(
        &[
            "attach",
            &format!("{}/golden/subject:nope", reg.host()),
            &report.display().to_string(),
            "--artifact-type",
            scan_type,
        ],
        &[],
    )
    .await;
    missing.failed();
    assert!(
        missing.stderr.contains("manifest `") && missing.stderr.contains(":nope` not found"),
        "{}",
        missing.stderr
    );
}
