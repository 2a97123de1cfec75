//! Malformed and invalid configs: each one fails with exit 2, the file:line:column of the
//! offending key, the key, and a hint. Problems are all listed at once.

use crate::{golden_plan, stderr};

const DIGEST: &str = "sha256:4b50eb66f977b4062683ff434ef18ac191da862dbe966961bc11990cf5791a8d";

fn valid() -> String {
    format!(
        r#"schema: 1
registry:
  host: example.azurecr.io
  namespace: golden
bases:
  - os: debian
    version: "12"
    upstream: docker.io/library/debian:bookworm-slim@{DIGEST}
    dockerfile: base-images/debian/Dockerfile
    harden_script: scripts/harden-debian.sh
platforms:
  - name: nginx
    dockerfile: platform-images/nginx/Dockerfile
    versions:
      - version: "1.22"
        bases: [debian]
"#
    )
}

/// Write `text` as `build-config.yaml` in a temp dir and plan it; returns (exit code, stderr).
fn run(text: &str, extra: &[&str]) -> (Option<i32>, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("build-config.yaml");
    std::fs::write(&cfg, text).unwrap();
    let mut args = vec![
        "--config",
        cfg.to_str().unwrap(),
        "--event",
        "schedule",
        "--format",
        "json",
        "--repo-root",
        dir.path().to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let out = golden_plan(&args, &[]);
    (out.status.code(), stderr(&out), dir)
}

fn expect(text: &str, wants: &[&str]) -> String {
    let (code, err, _d) = run(text, &[]);
    assert_eq!(code, Some(2), "expected exit 2, stderr: {err}");
    for w in wants {
        assert!(err.contains(w), "missing `{w}` in:\n{err}");
    }
    assert!(err.contains("hint:"), "no hint in:\n{err}");
    assert!(!err.contains("panicked"), "{err}");
    err
}

#[test]
fn the_valid_template_plans() {
    let (code, err, _d) = run(&valid(), &[]);
    assert_eq!(code, Some(0), "{err}");
}

#[test]
fn yaml_syntax_error() {
    let text = valid().replace("  namespace: golden", "  namespace: \"golden");
    let err = expect(&text, &["build-config.yaml:", "fix the YAML syntax"]);
    assert!(
        !err.contains("build-config.yaml: "),
        "no location in: {err}"
    );
}

#[test]
fn unknown_key() {
    let text = valid().replace("    harden_script:", "    harden_scrpt:");
    expect(
        &text,
        &[
            "build-config.yaml:10:5: harden_scrpt: unknown field `harden_scrpt`",
            "expected one of",
        ],
    );
}

#[test]
fn unknown_base_with_suggestion() {
    let text = valid().replace("bases: [debian]", "bases: [debain]");
    expect(
        &text,
        &[
            "build-config.yaml:16:17: platforms[0].versions[0].bases[0]: unknown base `debain`, known: debian",
            "did you mean `debian`?",
        ],
    );
}

#[test]
fn duplicate_ids_point_at_the_second_declaration() {
    let text = valid() + "      - version: \"1.22\"\n        bases: [debian]\n";
    expect(
        &text,
        &[
            "build-config.yaml:18:17: platforms[0].versions[1].bases[0]: duplicate image id `nginx-1.22-debian` (first declared at line 16)",
        ],
    );
    let mut text = valid();
    text = text.replace("platforms:\n", "  - os: debian\n    version: \"13\"\n    upstream: docker.io/library/debian:trixie@sha256:4b50eb66f977b4062683ff434ef18ac191da862dbe966961bc11990cf5791a8d\n    dockerfile: base-images/debian/Dockerfile\n    harden_script: scripts/harden-debian.sh\nplatforms:\n");
    expect(
        &text,
        &[
            "build-config.yaml:11:9: bases[1].os: duplicate base id `base-debian` (first declared at line 6)",
        ],
    );
}

#[test]
fn wrong_type() {
    let text = valid().replace("bases: [debian]", "bases: debian");
    expect(
        &text,
        &[
            "build-config.yaml:16:16",
            "wrong type: expected a list",
            "quote versions",
        ],
    );
    let text = valid().replace("schema: 1", "schema: one");
    expect(&text, &["build-config.yaml:1:9"]);
}

#[test]
fn empty_matrix() {
    let text = valid().replace("bases: [debian]", "bases: []");
    expect(
        &text,
        &["build-config.yaml:16:16: platforms[0].versions[0].bases: empty list of bases"],
    );
    let text = "schema: 1
registry:
  host: example.azurecr.io
  namespace: golden
bases: []
platforms: []
";
    let err = expect(
        text,
        &[
            "build-config.yaml:5:8: bases: no base images",
            "build-config.yaml:6:12: platforms: no platforms declared",
        ],
    );
    assert!(err.starts_with("error: 2 problems found"), "{err}");
}

#[test]
fn oversized_matrix_suggests_filters() {
    let mut text = valid();
    for i in 0..300 {
        text.push_str(&format!(
            "      - version: \"2.{i}\"\n        bases: [debian]\n"
        ));
    }
    let (code, err, _d) = run(&text, &[]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains(
            "301 entries in stage `platforms` × 1 architecture(s) = 301 jobs, over GitHub's matrix limit of 256"
        ),
        "{err}"
    );
    assert!(err.contains("--os and --platforms"), "{err}");
}

/// 129 platform entries fit one architecture's matrix but not two: the `arch` axis multiplies
/// the jobs (the guard used to count entries only, and GitHub then refused the run).
#[test]
fn matrix_limit_counts_architectures() {
    let mut text = valid();
    for i in 0..128 {
        text.push_str(&format!(
            "      - version: \"2.{i}\"\n        bases: [debian]\n"
        ));
    }
    let (code, _err, _d) = run(&text, &["--architectures", "amd64"]);
    assert_eq!(code, Some(0), "129 entries × 1 arch fit");
    let (code, err, _d) = run(&text, &["--architectures", r#"["amd64","arm64"]"#]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("129 entries in stage `platforms` × 2 architecture(s) = 258 jobs"),
        "{err}"
    );
    assert!(err.contains("fewer architectures"), "{err}");
}

#[test]
fn bad_architectures_are_refused_with_the_input_named() {
    for (value, want) in [
        (
            r#"["amd64","x86_64"]"#,
            "unknown architecture `x86_64` (known: amd64, arm64)",
        ),
        ("amd64,amd64", "`amd64` is listed twice"),
        ("[]", "the list is empty"),
        ("[amd64", "not a JSON list of strings"),
    ] {
        let (code, err, _d) = run(&valid(), &["--architectures", value]);
        assert_eq!(code, Some(2), "{value}: {err}");
        assert!(
            err.contains("--architectures (GOLDEN_ARCHITECTURES"),
            "{err}"
        );
        assert!(err.contains(want), "{value}: {err}");
        assert!(err.contains("hint:"), "{err}");
    }
}

#[test]
fn bad_versions_upstreams_and_reserved_args_are_all_listed() {
    let text = valid()
        .replace("version: \"1.22\"", "version: \"v1.22\"")
        .replace(&format!("@{DIGEST}"), "")
        .replace(
            "        bases: [debian]",
            "        bases: [debian]\n        build_args: { BASE_IMAGE: x }",
        );
    let err = expect(
        &text,
        &[
            "build-config.yaml:8:15: bases[0].upstream: upstream `docker.io/library/debian:bookworm-slim` is not pinned",
            "build-config.yaml:15:18: platforms[0].versions[0].version: `v1.22` is not a valid version",
            "platforms[0].versions[0].build_args.BASE_IMAGE: `BASE_IMAGE` is set by the planner/builder",
        ],
    );
    assert!(err.starts_with("error: 3 problems found"), "{err}");
}

#[test]
fn unknown_os_and_paths_escaping_the_repo() {
    let text = valid()
        .replace("  - os: debian", "  - os: windows")
        .replace(
            "dockerfile: platform-images/nginx/Dockerfile",
            "dockerfile: ../outside/Dockerfile",
        );
    expect(
        &text,
        &[
            "build-config.yaml:6:9: bases[0].os: unknown base OS `windows` (known: alpine, debian, redhat)",
            "build-config.yaml:13:17: platforms[0].dockerfile: path `../outside/Dockerfile` must be relative to the repository root",
        ],
    );
}

#[test]
fn check_lists_every_missing_file() {
    let (code, err, _d) = run(&valid(), &["--check"]);
    assert_eq!(code, Some(2));
    for w in [
        "build-config.yaml:9:17: bases[0].dockerfile: file `base-images/debian/Dockerfile` does not exist",
        "build-config.yaml:10:20: bases[0].harden_script: file `scripts/harden-debian.sh` does not exist",
        "build-config.yaml:13:17: platforms[0].dockerfile: file `platform-images/nginx/Dockerfile` does not exist",
    ] {
        assert!(err.contains(w), "missing `{w}` in:\n{err}");
    }
}

#[test]
fn check_wants_the_build_arg_the_builder_passes() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("build-config.yaml");
    std::fs::write(&cfg, valid()).unwrap();
    for (p, body) in [
        (
            "base-images/debian/Dockerfile",
            "ARG UPSTREAM\nFROM ${UPSTREAM}\n",
        ),
        ("scripts/harden-debian.sh", "#!/bin/sh\n"),
        ("platform-images/nginx/Dockerfile", "FROM debian\n"),
    ] {
        let f = dir.path().join(p);
        std::fs::create_dir_all(f.parent().unwrap()).unwrap();
        std::fs::write(f, body).unwrap();
    }
    let out = golden_plan(
        &[
            "--config",
            cfg.to_str().unwrap(),
            "--check",
            "--repo-root",
            dir.path().to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("platforms[0].dockerfile: `platform-images/nginx/Dockerfile` does not declare `ARG BASE_IMAGE`"), "{err}");
    assert!(!err.contains("UPSTREAM"), "{err}");
}

#[test]
fn bad_acr_config_line_is_located() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("build-config.yaml");
    std::fs::write(&cfg, valid()).unwrap();
    std::fs::write(
        dir.path().join("acr-config.env"),
        "ACR_LOGIN_SERVER=x.azurecr.io\nthis is not a setting\n",
    )
    .unwrap();
    let out = golden_plan(
        &["--config", cfg.to_str().unwrap(), "--event", "local"],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("acr-config.env:2:1: `this is not a setting` is not KEY=VALUE"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn bad_registry_override_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("build-config.yaml");
    std::fs::write(&cfg, valid()).unwrap();
    let out = golden_plan(
        &["--config", cfg.to_str().unwrap(), "--event", "local"],
        &[("GOLDEN_REGISTRY", "not a host")],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("registry.host: `not a host` is not a registry host[:port] (from the environment / acr-config.env)"), "{}", stderr(&out));
}
