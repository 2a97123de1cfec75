//! Plan-driven: the real planner plans a tiny base and a tiny platform on it (test catalog in
//! tests/fixtures/build/plan); golden-build builds the base from `--plan/--id`, then the
//! platform from `GOLDEN_ENTRY` as a matrix job would, and the platform records the base's id.

use std::path::PathBuf;
use std::process::Command;

use crate::common::*;

/// `golden-plan` from the same target directory, built when missing.
fn golden_plan() -> PathBuf {
    let ours = PathBuf::from(env!("CARGO_BIN_EXE_golden-build"));
    let plan = ours.with_file_name("golden-plan");
    if !plan.exists() {
        let profile_release = ours
            .parent()
            .and_then(|p| p.file_name())
            .is_some_and(|n| n == "release");
        let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        c.args(["build", "-q", "-p", "golden-plan", "--bin", "golden-plan"])
            .current_dir(repo());
        if profile_release {
            c.arg("--release");
        }
        let status = c.status().expect("cargo runs");
        assert!(status.success(), "building golden-plan failed");
    }
    assert!(plan.exists(), "golden-plan not found at {}", plan.display());
    plan
}

#[test]
fn docker_plan_base_then_platform_records_the_base_id() {
    let bb = busybox();
    let fix = fixtures().join("plan");
    let tmp = tempfile::tempdir().expect("tempdir");
    let plan_file = tmp.path().join("plan.json");

    let mut planner = Command::new(golden_plan());
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy();
        if k.starts_with("GITHUB_") || k.starts_with("GOLDEN_") {
            planner.env_remove(&*k);
        }
    }
    let out = planner
        .args([
            "--config",
            "configs/build-config.yaml",
            "--repo-root",
            ".",
            "--event",
            "local",
            "--format",
            "json",
        ])
        .arg("--output")
        .arg(&plan_file)
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .current_dir(&fix)
        .output()
        .expect("golden-plan runs");
    assert!(
        out.status.success(),
        "golden-plan failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&plan_file).expect("plan written"))
            .expect("plan json");
    let base = &plan["bases"]["include"][0];
    let platform = &plan["platforms"]["include"][0];
    assert_eq!(base["id"], "base-alpine");
    assert_eq!(platform["id"], "tiny-0.1-alpine");
    assert_eq!(platform["base"], "base-alpine");

    let mut cleanup = Cleanup::default();
    for t in base["tags"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(platform["tags"].as_array().into_iter().flatten())
    {
        cleanup.add(t.as_str().expect("tag"));
    }

    // The base: from the plan file by id. Its pinned upstream cannot be pulled here, so the
    // busybox test image stands in for it (--base-image overrides UPSTREAM).
    let base_record = tmp.path().join("base.json");
    let out = run(golden_build(&fix)
        .arg("--plan")
        .arg(&plan_file)
        .args([
            "--id",
            "base-alpine",
            "--repo-root",
            ".",
            "--mode",
            "dockerfile",
            "--base-image",
            &bb,
        ])
        .arg("--record")
        .arg(&base_record));
    assert_eq!(out.code, 0, "{}", out.both());
    let base_tag = base["tags"][0].as_str().expect("base tag");
    let base_id = inspect(base_tag)
        .and_then(|i| i.id)
        .expect("base built and tagged");
    for t in base["tags"].as_array().into_iter().flatten() {
        assert_eq!(
            inspect(t.as_str().unwrap_or_default())
                .and_then(|i| i.id)
                .as_deref(),
            Some(base_id.as_str()),
            "{t}"
        );
    }

    // The platform: the entry as a matrix job passes it (`toJSON(matrix)`).
    let platform_record = tmp.path().join("platform.json");
    let out = run(golden_build(&fix)
        .env("GOLDEN_ENTRY", platform.to_string())
        .env("GOLDEN_RECORD", &platform_record)
        .args(["--repo-root", "."]));
    assert_eq!(out.code, 0, "{}", out.both());
    let platform_tag = platform["tags"][0].as_str().expect("platform tag");
    let labels = labels_of(platform_tag);
    assert_eq!(
        labels.get("org.opencontainers.image.base.digest"),
        Some(&base_id),
        "the platform's base label is the base image's id: {labels:?}"
    );
    assert_eq!(labels["org.opencontainers.image.base.name"], base_tag);
    assert_eq!(
        labels["org.opencontainers.image.title"],
        "golden tiny 0.1 on alpine"
    );

    let rec: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&platform_record).expect("record"))
            .expect("json");
    assert_eq!(rec["id"], "tiny-0.1-alpine");
    assert_eq!(rec["os"], "alpine");
    assert_eq!(rec["platform"], "tiny");
    assert_eq!(rec["base_digest"].as_str(), Some(base_id.as_str()));
    assert_eq!(rec["base_image"].as_str(), Some(base_tag));
    let brec: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&base_record).expect("record"))
            .expect("json");
    assert_eq!(brec["image_id"].as_str(), Some(base_id.as_str()));
}
