//! Behaviour of the binary: git-driven change detection, outputs, overrides, errors.

use std::path::Path;
use std::process::Command;

use crate::{FIXED, golden_plan, shipped_config, stderr, stdout};
use golden_contracts::plan::Plan;

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.invalid")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.invalid")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A throwaway repository holding the shipped config, with a second commit applying `edit`.
fn repo_with_edit(edit: impl Fn(&str) -> String) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("configs")).unwrap();
    let original = std::fs::read_to_string(shipped_config()).unwrap();
    std::fs::write(dir.path().join("configs/build-config.yaml"), &original).unwrap();
    git(dir.path(), &["init", "-q", "-b", "main"]);
    git(dir.path(), &["add", "."]);
    git(dir.path(), &["commit", "-q", "-m", "base"]);
    git(dir.path(), &["checkout", "-q", "-b", "feature"]);
    std::fs::write(
        dir.path().join("configs/build-config.yaml"),
        edit(&original),
    )
    .unwrap();
    git(
        dir.path(),
        &["commit", "-q", "--allow-empty", "-am", "change"],
    );
    dir
}

fn plan_in(dir: &Path, extra: &[&str]) -> Plan {
    let cfg = dir.join("configs/build-config.yaml");
    let mut args: Vec<&str> = vec!["--config", cfg.to_str().unwrap(), "--format", "json"];
    args.extend_from_slice(&FIXED);
    args.extend_from_slice(extra);
    let out = golden_plan(&args, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_str(&stdout(&out)).unwrap()
}

#[test]
fn pr_changing_one_platforms_versions_in_the_config() {
    let dir = repo_with_edit(|t| {
        t.replace("      - version: \"3.12\"\n        bases: [alpine]\n        build_args: { PYTHON_VERSION: \"3.12\" }",
        "      - version: \"3.13\"\n        bases: [alpine]\n        build_args: { PYTHON_VERSION: \"3.13\" }")
    });
    let p = plan_in(
        dir.path(),
        &["--event", "pull_request", "--base-ref", "main"],
    );
    let ids: Vec<&str> = p.entries().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, ["python-3.13-alpine"]);
    assert_eq!(
        p.platforms.include[0].reasons,
        ["added in configs/build-config.yaml"]
    );
    insta::assert_json_snapshot!("pr_config_python_versions", p);
}

#[test]
fn config_edit_of_build_args_names_the_changed_fields_and_base_edit_propagates() {
    let dir = repo_with_edit(|t| {
        t.replace(
            "build_args: { JAVA_VERSION: \"17\", TOMCAT_MAJOR: \"10\" }",
            "build_args: { JAVA_VERSION: \"17\", TOMCAT_MAJOR: \"11\" }",
        )
        .replace("      variant: minbase", "      variant: essential")
    });
    let p = plan_in(
        dir.path(),
        &["--event", "pull_request", "--base-ref", "main"],
    );
    let tomcat = p
        .platforms
        .include
        .iter()
        .find(|e| e.id == "tomcat-10.1-debian")
        .unwrap();
    assert!(
        tomcat
            .reasons
            .iter()
            .any(|r| r.contains("changed (build_args)")),
        "{:?}",
        tomcat.reasons
    );
    let base = p
        .bases
        .include
        .iter()
        .find(|e| e.id == "base-debian")
        .expect("debian base rebuilt");
    assert!(base.reasons[0].contains("bootstrap"), "{:?}", base.reasons);
    // every debian platform follows its base; nothing else changed
    assert!(p.entries().all(|e| e.os == "debian"));
    assert_eq!(p.platforms.include.len(), 7);
}

#[test]
fn unknown_base_ref_explains_the_shallow_clone_fix() {
    let dir = repo_with_edit(|t| t.to_string());
    let cfg = dir.path().join("configs/build-config.yaml");
    let out = golden_plan(
        &[
            "--config",
            cfg.to_str().unwrap(),
            "--event",
            "pull_request",
            "--base-ref",
            "no-such-branch",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    let e = stderr(&out);
    assert!(
        e.contains("git does not know `no-such-branch`") && e.contains("fetch-depth: 0"),
        "{e}"
    );
}

#[test]
fn changed_rebuild_without_changes_is_a_usage_error() {
    let cfg = shipped_config();
    let out = golden_plan(
        &["--config", cfg.to_str().unwrap(), "--event", "pull_request"],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--changed-files FILE or --base-ref"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn github_output_round_trips_through_the_runner_format() {
    let cfg = shipped_config();
    let outputs = tempfile::NamedTempFile::new().unwrap();
    let summary = tempfile::NamedTempFile::new().unwrap();
    let mut args: Vec<&str> = vec!["--config", cfg.to_str().unwrap()];
    args.extend_from_slice(&FIXED);
    let out = golden_plan(
        &args,
        &[
            ("GITHUB_EVENT_NAME", "schedule"),
            ("GITHUB_OUTPUT", outputs.path().to_str().unwrap()),
            ("GITHUB_STEP_SUMMARY", summary.path().to_str().unwrap()),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let printed: Plan = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        printed.event, "schedule",
        "event taken from GITHUB_EVENT_NAME"
    );
    let text = std::fs::read_to_string(outputs.path()).unwrap();
    // every value sits in a heredoc with a random delimiter
    assert!(
        text.lines()
            .filter(|l| l.contains("<<ghadelimiter_"))
            .count()
            == 5,
        "{text}"
    );
    let parsed = golden_gha::parse_env_file(&text).unwrap();
    let get = |k: &str| {
        parsed
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("no output {k}"))
    };
    let bases: golden_contracts::plan::Stage = serde_json::from_str(&get("bases")).unwrap();
    let platforms: golden_contracts::plan::Stage = serde_json::from_str(&get("platforms")).unwrap();
    assert_eq!(bases, printed.bases);
    assert_eq!(platforms, printed.platforms);
    assert_eq!(get("has-bases"), "true");
    assert_eq!(get("has-platforms"), "true");
    assert_eq!(get("count"), "28");
    let md = std::fs::read_to_string(summary.path()).unwrap();
    assert!(
        md.contains("### Build plan (schedule event, rebuild all): 28 images"),
        "{md}"
    );
    assert!(md.contains("| base | `base-debian` |"), "{md}");
}

#[test]
fn registry_overrides_env_over_acr_config_over_yaml() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("configs")).unwrap();
    std::fs::copy(
        shipped_config(),
        dir.path().join("configs/build-config.yaml"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("configs/acr-config.env"),
        "# test\nACR_LOGIN_SERVER=fromfile.azurecr.io\nIMAGE_NAMESPACE=filens\n",
    )
    .unwrap();
    let cfg = dir.path().join("configs/build-config.yaml");
    let base = [
        "--config",
        cfg.to_str().unwrap(),
        "--format",
        "json",
        "--event",
        "local",
        "--os",
        "debian",
        "--platforms",
        "nginx",
    ];
    let mut args: Vec<&str> = base.to_vec();
    args.extend_from_slice(&FIXED);
    let p: Plan = serde_json::from_str(&stdout(&golden_plan(&args, &[]))).unwrap();
    assert_eq!(
        p.bases.include[0].image,
        "fromfile.azurecr.io/filens/base-debian"
    );
    let p: Plan = serde_json::from_str(&stdout(&golden_plan(
        &args,
        &[("GOLDEN_REGISTRY", "127.0.0.1:5000")],
    )))
    .unwrap();
    assert_eq!(
        p.bases.include[0].image,
        "127.0.0.1:5000/filens/base-debian"
    );
    assert_eq!(
        p.platforms.include[0].base_image.as_deref(),
        Some("127.0.0.1:5000/filens/base-debian:12")
    );
}

#[test]
fn table_format_and_plan_file() {
    let cfg = shipped_config();
    let file = tempfile::tempdir().unwrap();
    let plan_path = file.path().join("plan.json");
    let mut args: Vec<&str> = vec![
        "--config",
        cfg.to_str().unwrap(),
        "--format",
        "table",
        "--event",
        "local",
        "--offline",
        "--output",
        plan_path.to_str().unwrap(),
    ];
    args.extend_from_slice(&FIXED);
    let out = golden_plan(&args, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let t = stdout(&out);
    assert!(t.starts_with("STAGE"), "{t}");
    assert!(t.contains("1 base(s), 5 platform image(s)"), "{t}");
    assert!(
        t.contains("skipped aspnet-8.0-debian: needs the `microsoft` vendor repository"),
        "{t}"
    );
    let p: Plan = serde_json::from_str(&std::fs::read_to_string(&plan_path).unwrap()).unwrap();
    assert_eq!(p.entries().count(), 6);
}

#[test]
fn unknown_filter_and_event_are_explained() {
    let cfg = shipped_config();
    let out = golden_plan(
        &[
            "--config",
            cfg.to_str().unwrap(),
            "--event",
            "local",
            "--os",
            "debain",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("unknown base OS `debain` in --os (known: alpine, debian, redhat); did you mean `debian`?"), "{}", stderr(&out));
    let out = golden_plan(
        &["--config", cfg.to_str().unwrap()],
        &[("GITHUB_EVENT_NAME", "issue_comment")],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("GITHUB_EVENT_NAME `issue_comment`"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn check_passes_on_the_shipped_repository() {
    let cfg = shipped_config();
    let out = golden_plan(&["--config", cfg.to_str().unwrap(), "--check"], &[]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert!(
        stdout(&out).contains("3 bases, 7 platforms, 25 platform images"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn hostile_values_in_errors_cannot_become_workflow_commands() {
    // A namespace from a pull request's config (or an input) with a line break and a command.
    let cfg = shipped_config();
    let out = golden_plan(
        &["--config", cfg.to_str().unwrap(), "--event", "local"],
        &[(
            "GOLDEN_NAMESPACE",
            "x\n::set-output name=pwned::1\n  ::add-mask::y",
        )],
    );
    assert_eq!(out.status.code(), Some(2));
    let all = format!("{}{}", stdout(&out), stderr(&out));
    assert!(all.contains("set-output name=pwned"), "{all}");
    for line in all.lines() {
        assert!(
            !line.trim_start().starts_with("::"),
            "workflow command escaped: {line}"
        );
    }
}

#[test]
fn a_closed_pipe_is_not_an_error() {
    let cfg = shipped_config();
    let mut child = Command::new(env!("CARGO_BIN_EXE_golden-plan"))
        .args([
            "--config",
            cfg.to_str().unwrap(),
            "--event",
            "schedule",
            "--format",
            "json",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Close our end before the plan is written (nobody reads, like `| head` that has exited):
    // the write fails with EPIPE whatever the pipe's buffer size.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(out.status.code(), Some(0), "{err}");
}

#[test]
fn a_missing_config_names_the_file_and_the_flag() {
    let out = golden_plan(
        &["--config", "no/such/build-config.yaml", "--event", "local"],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("failed to read `no/such/build-config.yaml`"),
        "{err}"
    );
    assert!(err.contains("hint: pass --config"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

/// GOLDEN_STAGING_NAMESPACE: every image is pushed under the staging namespace with per-run
/// tags only (no moving tag, on the default branch too); what consumers pull (the moving tag),
/// the cache sources and a published base stay in the release namespace; a platform whose base
/// is rebuilt builds on the staged base of this run.
#[test]
fn a_staging_namespace_gets_per_run_tags_only() {
    let cfg = shipped_config();
    let cfg = cfg.to_str().unwrap();
    let plan = |event: &str, extra: &[&str], envs: &[(&str, &str)]| {
        let mut args = vec!["--config", cfg, "--event", event, "--format", "json"];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["--date", "20261207", "--sha", "0123456789abcdef"]);
        let out = golden_plan(&args, envs);
        assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
        let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
        v
    };
    let staging = [("GOLDEN_STAGING_NAMESPACE", "golden-staging")];
    let v = plan("schedule", &["--os", "debian"], &staging);
    let base = &v["bases"]["include"][0];
    let host = "goldenimages.azurecr.io";
    assert_eq!(base["image"], format!("{host}/golden-staging/base-debian"));
    assert_eq!(
        base["tags"],
        serde_json::json!([
            format!("{host}/golden-staging/base-debian:12-20261207"),
            format!("{host}/golden-staging/base-debian:12-sha-0123456"),
        ])
    );
    assert_eq!(base["published"], format!("{host}/golden/base-debian:12"));
    let platforms = v["platforms"]["include"].as_array().unwrap();
    assert!(!platforms.is_empty());
    for p in platforms {
        let image = p["image"].as_str().unwrap();
        assert!(image.starts_with(&format!("{host}/golden-staging/")), "{p}");
        for t in p["tags"].as_array().unwrap() {
            let tag = t.as_str().unwrap().rsplit_once(':').unwrap().1;
            assert!(
                tag.ends_with("-20261207") || tag.ends_with("-sha-0123456"),
                "a moving tag in staging: {t}"
            );
        }
        assert!(
            p["published"]
                .as_str()
                .unwrap()
                .starts_with(&format!("{host}/golden/")),
            "{p}"
        );
        assert_eq!(
            p["base_image"],
            format!("{host}/golden-staging/base-debian:12-20261207"),
            "{p}"
        );
    }

    // A platform alone (its base not rebuilt) builds on the released base, cached from the
    // released image.
    let changed = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(changed.path(), "platform-images/nginx/Dockerfile\n").unwrap();
    let v = plan(
        "workflow_dispatch",
        &[
            "--os",
            "debian",
            "--ref",
            "refs/heads/main",
            "--rebuild",
            "changed",
            "--changed-files",
            changed.path().to_str().unwrap(),
        ],
        &staging,
    );
    assert!(v["bases"]["include"].as_array().unwrap().is_empty(), "{v}");
    let nginx = v["platforms"]["include"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "nginx")
        .unwrap_or_else(|| panic!("{v}"));
    assert_eq!(
        nginx["base_image"],
        format!("{host}/golden/base-debian:12"),
        "{nginx}"
    );
    assert_eq!(
        nginx["cache_from"],
        serde_json::json!([nginx["published"].clone()]),
        "{nginx}"
    );

    // Without it, the moving tag is pushed (unchanged behaviour).
    let v = plan("schedule", &["--os", "debian"], &[]);
    assert_eq!(
        v["bases"]["include"][0]["tags"][0],
        format!("{host}/golden/base-debian:12")
    );

    // A bad or equal staging namespace is an error naming the variable.
    for (bad, says) in [
        ("Golden Staging", "is not a valid repository namespace"),
        ("golden", "is the release namespace itself"),
    ] {
        let out = golden_plan(
            &["--config", cfg, "--event", "schedule"],
            &[("GOLDEN_STAGING_NAMESPACE", bad)],
        );
        assert_eq!(out.status.code(), Some(2), "{bad}");
        let err = stderr(&out);
        assert!(
            err.contains(says) && err.contains("staging namespace"),
            "{err}"
        );
    }
}
