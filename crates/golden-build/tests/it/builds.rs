//! Real builds against the engine: tags, labels, build args, records, outputs, failures, logs.

use crate::common::*;

#[test]
fn docker_scratch_build_applies_every_tag_label_and_build_arg() {
    engine();
    let mut cleanup = Cleanup::default();
    let d = tempfile::tempdir().expect("tempdir");
    write_tree(
        d.path(),
        &[
            ("hello.txt", "hello\n"),
            (
                "Dockerfile",
                "FROM scratch\nARG FLAVOUR=none\nLABEL flavour=${FLAVOUR}\nCOPY hello.txt /hello.txt\n",
            ),
        ],
    );
    let t1 = cleanup.add(&unique_tag("scratch"));
    let t2 = cleanup.add(&unique_tag("scratch"));
    let outputs = d.path().join("github_output");
    let out = run(golden_build(d.path())
        .args([
            "--repo-root",
            ".",
            "--context",
            ".",
            "--tag",
            &t1,
            "--tag",
            &t2,
        ])
        .args([
            "--build-arg",
            "FLAVOUR=vanilla",
            "--label",
            "team=qa",
            "--record",
            "out/record.json",
        ])
        .env("GITHUB_OUTPUT", &outputs)
        .env("GITHUB_SHA", "0123456789abcdef0123456789abcdef01234567")
        .env("GITHUB_SERVER_URL", "https://github.example")
        .env("GITHUB_REPOSITORY", "org/golden")
        .env("SOURCE_DATE_EPOCH", "1700000000"));
    assert_eq!(out.code, 0, "{}", out.both());
    assert!(
        out.stdout.contains("Step 1/"),
        "build output is streamed\n{}",
        out.both()
    );

    let a = inspect(&t1).expect("first tag exists");
    let b = inspect(&t2).expect("second tag exists");
    assert_eq!(a.id, b.id, "both tags point at one image");
    let labels = labels_of(&t1);
    assert_eq!(
        labels.get("flavour").map(String::as_str),
        Some("vanilla"),
        "build arg landed: {labels:?}"
    );
    assert_eq!(labels.get("team").map(String::as_str), Some("qa"));
    assert_eq!(
        labels["org.opencontainers.image.created"],
        "2023-11-14T22:13:20Z"
    );
    assert_eq!(
        labels["org.opencontainers.image.revision"],
        "0123456789abcdef0123456789abcdef01234567"
    );
    assert_eq!(
        labels["org.opencontainers.image.source"],
        "https://github.example/org/golden"
    );
    assert!(
        labels.contains_key("org.opencontainers.image.title"),
        "{labels:?}"
    );
    assert!(
        labels.contains_key("org.opencontainers.image.version"),
        "{labels:?}"
    );

    let rec: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(d.path().join("out/record.json")).expect("record"),
    )
    .expect("record json");
    assert_eq!(rec["schema"], 1);
    assert_eq!(rec["result"], "success");
    assert_eq!(rec["image_id"].as_str(), a.id.as_deref());
    assert_eq!(rec["tags"], serde_json::json!([t1, t2]));
    assert_eq!(rec["size"].as_u64(), a.size.map(|s| s as u64));
    assert_eq!(rec["labels"]["team"], "qa");
    assert!(rec["duration_seconds"].as_f64().is_some_and(|s| s > 0.0));

    let text = std::fs::read_to_string(&outputs).expect("GITHUB_OUTPUT written");
    let parsed = golden_gha::parse_env_file(&text).expect("valid env file");
    let get = |k: &str| parsed.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    assert_eq!(get("image-id"), a.id.clone());
    assert_eq!(get("tags"), Some(format!("{t1}\n{t2}")));
    assert_eq!(get("size"), a.size.map(|s| s.to_string()));
    assert_eq!(get("result").as_deref(), Some("success"));
    assert!(get("duration").is_some());
    assert!(get("record").is_some_and(|r| r.ends_with("out/record.json")));
}

#[test]
fn docker_failing_run_exits_2_naming_the_step_and_last_lines() {
    let bb = busybox();
    let d = tempfile::tempdir().expect("tempdir");
    let dockerfile = format!(
        "FROM {bb}\nRUN echo preparing\n# the next step fails\nRUN echo about to fail && \\\n    echo 'last words' && exit 3\nRUN echo never\n"
    );
    write_tree(d.path(), &[("Dockerfile", &dockerfile)]);
    let tag = unique_tag("fail");
    let mut cleanup = Cleanup::default();
    let out = run(golden_build(d.path()).args([
        "--repo-root",
        ".",
        "--context",
        ".",
        "-t",
        &tag,
        "--record",
        "r.json",
    ]));
    cleanup.add_built(&out.stdout);
    assert_eq!(out.code, 2, "{}", out.both());
    assert!(
        out.stderr
            .contains("failed at `Step 3/5 : RUN echo about to fail"),
        "{}",
        out.both()
    );
    assert!(
        out.stderr.contains("(Dockerfile:4)"),
        "step mapped to its line\n{}",
        out.both()
    );
    assert!(
        out.stderr.contains("returned a non-zero code: 3"),
        "{}",
        out.both()
    );
    assert!(
        out.stderr.contains("last ") && out.stderr.contains("  | last words"),
        "{}",
        out.both()
    );
    let rec: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(d.path().join("r.json")).expect("failure record"),
    )
    .expect("json");
    assert_eq!(rec["result"], "failure");
    assert!(
        rec["error"]["step"]
            .as_str()
            .unwrap_or("")
            .starts_with("Step 3/5 : RUN echo about to fail"),
        "{rec}"
    );
    assert!(
        rec["error"]["last_lines"]
            .as_array()
            .is_some_and(|l| l.iter().any(|x| x == "last words")),
        "{rec}"
    );
    assert!(rec.get("image_id").is_none(), "{rec}");
    assert!(inspect(&tag).is_none(), "a failed build leaves no tag");
}

#[test]
fn docker_actions_logs_are_grouped_and_fenced() {
    let bb = busybox();
    let mut cleanup = Cleanup::default();
    let d = tempfile::tempdir().expect("tempdir");
    write_tree(
        d.path(),
        &[(
            "Dockerfile",
            &format!("FROM {bb}\nRUN echo '::add-mask::leak' && echo '::error::injected'\n"),
        )],
    );
    let tag = cleanup.add(&unique_tag("fence"));
    let out = run(golden_build(d.path())
        .args([
            "--repo-root",
            ".",
            "--context",
            ".",
            "-t",
            &tag,
            "--no-cache",
        ])
        .env("GITHUB_ACTIONS", "true"));
    assert_eq!(out.code, 0, "{}", out.both());
    let lines: Vec<&str> = out.stdout.lines().collect();
    let group = lines
        .iter()
        .position(|l| l.starts_with("::group::"))
        .expect("group opened");
    let stop = lines
        .iter()
        .position(|l| l.starts_with("::stop-commands::"))
        .expect("fence opened");
    let token = lines[stop].trim_start_matches("::stop-commands::");
    let close = lines
        .iter()
        .position(|l| *l == format!("::{token}::"))
        .expect("fence closed");
    let end = lines
        .iter()
        .position(|l| *l == "::endgroup::")
        .expect("group closed");
    let injected = lines
        .iter()
        .position(|l| *l == "::error::injected")
        .expect("output printed");
    assert!(
        group < stop && stop < injected && injected < close && close < end,
        "{}",
        out.both()
    );
}

#[test]
fn docker_dockerfile_outside_context_and_target_stage() {
    let bb = busybox();
    let mut cleanup = Cleanup::default();
    let d = tempfile::tempdir().expect("tempdir");
    write_tree(
        d.path(),
        &[
            ("ctx/data.txt", "data\n"),
            (
                "docker/app.Dockerfile",
                &format!(
                    "FROM {bb} AS first\nCOPY . /ctx/\nRUN ls -a /ctx > /ctx.list\nFROM first AS second\nRUN exit 9\n"
                ),
            ),
        ],
    );
    let tag = cleanup.add(&unique_tag("outside"));
    let out = run(golden_build(d.path()).args([
        "--repo-root",
        ".",
        "--context",
        "ctx",
        "--dockerfile",
        "docker/app.Dockerfile",
        "--target",
        "first",
        "-t",
        &tag,
        "--label",
        "stage=first",
    ]));
    assert_eq!(
        out.code,
        0,
        "--target stops before the failing stage\n{}",
        out.both()
    );
    // The Dockerfile travelled as a hidden entry the daemon removes again: COPY . never sees it.
    assert!(!out.stdout.contains(".dockerfile."), "{}", out.both());
    let labels = labels_of(&tag);
    assert_eq!(
        labels.get("stage").map(String::as_str),
        Some("first"),
        "labels land in the target stage: {labels:?}"
    );
    assert!(
        labels.contains_key("org.opencontainers.image.created"),
        "{labels:?}"
    );
}

#[test]
fn docker_base_image_is_resolved_to_its_id() {
    let bb = busybox();
    let bb_id = inspect(&bb).and_then(|i| i.id).expect("busybox id");
    let mut cleanup = Cleanup::default();
    let d = tempfile::tempdir().expect("tempdir");
    write_tree(
        d.path(),
        &[(
            "Dockerfile",
            "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nARG BASE_IMAGE\nLABEL used-base=${BASE_IMAGE}\nRUN echo on-base > /on-base\n",
        )],
    );
    let tag = cleanup.add(&unique_tag("chained"));
    let out = run(golden_build(d.path()).args([
        "--repo-root",
        ".",
        "--context",
        ".",
        "-t",
        &tag,
        "--base-image",
        &bb,
    ]));
    assert_eq!(out.code, 0, "{}", out.both());
    let labels = labels_of(&tag);
    assert_eq!(labels["org.opencontainers.image.base.name"], bb);
    assert_eq!(labels["org.opencontainers.image.base.digest"], bb_id);
    assert_eq!(labels["used-base"], bb_id, "BASE_IMAGE is the immutable id");

    // A base that is not in the engine, with pulling disabled: a clear error with the ways out.
    let absent = |extra: &[&str]| {
        run(golden_build(d.path())
            .args([
                "--repo-root",
                ".",
                "--context",
                ".",
                "--base-image",
                "golden-build-test-absent:nope",
                "--record",
                "r.json",
            ])
            .args(extra))
    };
    let out = absent(&["--no-pull-base"]);
    assert_eq!(out.code, 2, "{}", out.both());
    assert!(
        out.stderr.contains(
            "base image `golden-build-test-absent:nope` is not in the engine and pulling it is disabled"
        ),
        "{}",
        out.both()
    );
    assert!(out.stderr.contains("golden-build load"), "{}", out.both());
    // Pulled: the reference names no registry, so Docker Hub is asked (unreachable here, a
    // refusal with internet access), and the error says so.
    let out = absent(&[]);
    assert_eq!(out.code, 2, "{}", out.both());
    assert!(
        out.stderr.contains("golden-build-test-absent:nope")
            && out
                .stderr
                .contains("names no registry, so `docker.io` was asked"),
        "{}",
        out.both()
    );
    // An image id the engine does not have is never pulled.
    let out = run(golden_build(d.path()).args([
        "--repo-root",
        ".",
        "--context",
        ".",
        "--base-image",
        "sha256:0000000000000000000000000000000000000000000000000000000000000000",
    ]));
    assert_eq!(out.code, 2, "{}", out.both());
    assert!(
        out.stderr
            .contains("is not in the engine and is not a registry reference"),
        "{}",
        out.both()
    );
}

#[test]
fn docker_builds_on_the_bootstrapped_debian_base() {
    // The hardened Debian base comes from the Debian archive (`scripts/build-base.sh debian`,
    // what `make base-debian` runs). When the engine does not have it yet, build it: this test
    // must not pass without having built on it.
    const BASE: &str = "goldenimages.azurecr.io/golden/base-debian:12";
    if inspect(BASE).is_none() {
        let out = std::process::Command::new(repo().join("scripts/build-base.sh"))
            .arg("debian")
            .current_dir(repo())
            .env_remove("GOLDEN_REGISTRY")
            .env_remove("GOLDEN_NAMESPACE")
            .output()
            .expect("run scripts/build-base.sh debian");
        assert!(
            out.status.success(),
            "scripts/build-base.sh debian failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let base = BASE.to_string();
    let mut cleanup = Cleanup::default();
    let d = tempfile::tempdir().expect("tempdir");
    write_tree(
        d.path(),
        &[(
            "Dockerfile",
            "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nUSER 0\nRUN test -f /etc/debian_version && cat /etc/debian_version\nUSER 10001\n",
        )],
    );
    let tag = cleanup.add(&unique_tag("on-debian"));
    let out = run(golden_build(d.path()).args([
        "--repo-root",
        ".",
        "--context",
        ".",
        "-t",
        &tag,
        "--base-image",
        &base,
    ]));
    assert_eq!(out.code, 0, "{}", out.both());
    let base_id = inspect(&base).and_then(|i| i.id).expect("base id");
    assert_eq!(
        labels_of(&tag)["org.opencontainers.image.base.digest"],
        base_id
    );
}
