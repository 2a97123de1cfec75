//! Bad input gives a clear message, a hint and exit code 2 — before any engine is needed.

use crate::common::*;

fn context_with_dockerfile() -> tempfile::TempDir {
    let d = tempfile::tempdir().expect("tempdir");
    write_tree(
        d.path(),
        &[("Dockerfile", "FROM scratch\nCOPY a /a\n"), ("a", "a")],
    );
    d
}

#[test]
fn missing_dockerfile_is_named_with_a_hint() {
    let d = tempfile::tempdir().expect("tempdir");
    write_tree(d.path(), &[("ctx/a", "a")]);
    let out =
        run(golden_build(d.path()).args(["--repo-root", ".", "--context", "ctx", "-t", "x:1"]));
    assert_eq!(out.code, 2, "{}", out.both());
    assert!(
        out.stderr
            .contains("Dockerfile `ctx/Dockerfile` does not exist"),
        "{}",
        out.both()
    );
    assert!(
        out.stderr.contains("hint: pass --dockerfile"),
        "{}",
        out.both()
    );

    let out = run(golden_build(d.path()).args([
        "--repo-root",
        ".",
        "--context",
        "ctx",
        "--dockerfile",
        "nope.Dockerfile",
    ]));
    assert_eq!(out.code, 2, "{}", out.both());
    assert!(
        out.stderr
            .contains("Dockerfile `nope.Dockerfile` does not exist"),
        "{}",
        out.both()
    );
}

#[test]
fn context_outside_the_repository_is_refused() {
    let repo = context_with_dockerfile();
    let outside = context_with_dockerfile();
    let out = run(golden_build(repo.path()).args([
        "--repo-root",
        ".",
        "--context",
        &outside.path().display().to_string(),
    ]));
    assert_eq!(out.code, 2, "{}", out.both());
    assert!(
        out.stderr.contains("outside the repository root"),
        "{}",
        out.both()
    );
    assert!(out.stderr.contains("hint:"), "{}", out.both());

    // `..` escapes are caught after resolution too, for a plan entry's paths as well.
    let entry = serde_json::json!({
        "id": "evil", "stage": "platform", "os": "debian", "platform": "evil", "name": "evil",
        "version": "1", "dockerfile": "../x/Dockerfile", "context": "..", "build_args": {},
        "image": "evil", "tags": ["evil:1"], "policy": "p", "offline": true,
    });
    let sub = repo.path().join("sub");
    std::fs::create_dir_all(&sub).expect("mkdir");
    let out = run(golden_build(repo.path())
        .args(["--repo-root", "sub"])
        .env("GOLDEN_ENTRY", entry.to_string()));
    assert_eq!(out.code, 2, "{}", out.both());
    assert!(
        out.stderr.contains("context `..`") && out.stderr.contains("outside the repository root"),
        "{}",
        out.both()
    );

    // A Dockerfile outside the repository is refused as well.
    let out = run(golden_build(repo.path()).args([
        "--repo-root",
        ".",
        "--context",
        ".",
        "--dockerfile",
        &outside.path().join("Dockerfile").display().to_string(),
    ]));
    assert_eq!(out.code, 2, "{}", out.both());
    assert!(
        out.stderr.contains("Dockerfile `") && out.stderr.contains("outside the repository root"),
        "{}",
        out.both()
    );
}

#[test]
fn unknown_plan_id_lists_close_matches() {
    let d = tempfile::tempdir().expect("tempdir");
    let plan = serde_json::json!({
        "schema": 1, "event": "local", "rebuild": "all", "config": "c.yaml",
        "bases": {"include": [{
            "id": "base-debian", "stage": "base", "os": "debian", "platform": "base",
            "name": "base-debian", "version": "12", "dockerfile": "Dockerfile", "context": ".",
            "image": "r/base-debian", "tags": ["r/base-debian:12"],             "policy": "p", "offline": true
        }]},
        "platforms": {"include": [{
            "id": "nginx-1.22-debian", "stage": "platform", "os": "debian", "platform": "nginx",
            "name": "nginx", "version": "1.22", "dockerfile": "Dockerfile", "context": ".",
            "image": "r/nginx", "tags": ["r/nginx:1.22-debian"], "base": "base-debian",
            "base_image": "r/base-debian:12", "policy": "p", "offline": true
        }]}
    });
    std::fs::write(d.path().join("plan.json"), plan.to_string()).expect("write plan");
    let out = run(golden_build(d.path()).args([
        "--plan",
        "plan.json",
        "--id",
        "nginx-1.22-debain",
        "--repo-root",
        ".",
    ]));
    assert_eq!(out.code, 2, "{}", out.both());
    assert!(
        out.stderr
            .contains("plan `plan.json` has no entry `nginx-1.22-debain`"),
        "{}",
        out.both()
    );
    assert!(
        out.stderr.contains("did you mean `nginx-1.22-debian`?"),
        "{}",
        out.both()
    );
    assert!(
        out.stderr
            .contains("entries: base-debian, nginx-1.22-debian"),
        "{}",
        out.both()
    );

    // --plan without --id
    let out = run(golden_build(d.path()).args(["--plan", "plan.json"]));
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("--plan needs --id"), "{}", out.both());
}

#[test]
fn bad_key_value_and_bad_tags_are_refused() {
    let d = context_with_dockerfile();
    let out = run(golden_build(d.path()).args([
        "--repo-root",
        ".",
        "--context",
        ".",
        "--build-arg",
        "NOVALUE",
    ]));
    assert_eq!(out.code, 2, "{}", out.both());
    assert!(
        out.stderr
            .contains("--build-arg `NOVALUE` is not `KEY=VALUE`"),
        "{}",
        out.both()
    );
    assert!(out.stderr.contains("hint:"), "{}", out.both());

    let out =
        run(golden_build(d.path()).args(["--repo-root", ".", "--context", ".", "--label", "=x"]));
    assert_eq!(out.code, 2, "{}", out.both());
    assert!(out.stderr.contains("--label `=x`"), "{}", out.both());

    let out = run(golden_build(d.path()).args([
        "--repo-root",
        ".",
        "--context",
        ".",
        "--tag",
        "Bad:Tag:x",
    ]));
    assert_eq!(out.code, 2, "{}", out.both());
    assert!(
        out.stderr.contains("invalid tag `Bad:Tag:x`"),
        "{}",
        out.both()
    );
}

#[test]
fn bad_entry_json_names_the_position() {
    let d = context_with_dockerfile();
    let out = run(golden_build(d.path()).env("GOLDEN_ENTRY", "{\"id\": \"x\",\n \"stage\": 3}"));
    assert_eq!(out.code, 2, "{}", out.both());
    assert!(
        out.stderr.contains("is not a plan entry") && out.stderr.contains("line 2"),
        "{}",
        out.both()
    );
}

#[test]
fn nothing_to_build_says_what_to_pass() {
    let d = tempfile::tempdir().expect("tempdir");
    let out = run(&mut golden_build(d.path()));
    assert_eq!(out.code, 2, "{}", out.both());
    assert!(
        out.stderr.contains("nothing to build") && out.stderr.contains("--plan FILE --id ID"),
        "{}",
        out.both()
    );
}

#[test]
fn no_engine_gives_the_clear_error_and_a_failure_record() {
    let d = context_with_dockerfile();
    let sock = d.path().join("dead.sock");
    let host = format!("unix://{}", sock.display());
    let out = run(golden_build(d.path())
        .args([
            "--repo-root",
            ".",
            "--context",
            ".",
            "-t",
            "x:1",
            "--record",
            "rec.json",
        ])
        .env("DOCKER_HOST", &host));
    assert_eq!(out.code, 2, "{}", out.both());
    assert!(
        out.stderr.contains(&format!("no Docker engine at {host}")),
        "{}",
        out.both()
    );
    assert!(out.stderr.contains("start dockerd"), "{}", out.both());
    let rec: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(d.path().join("rec.json")).expect("record written"),
    )
    .expect("json");
    assert_eq!(rec["result"], "failure");
    assert_eq!(rec["id"], "x-1");
    assert!(
        rec["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("no Docker engine"),
        "{rec}"
    );

    // A closed TCP port is "no engine" too.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let host = format!("tcp://127.0.0.1:{port}");
    let out = run(golden_build(d.path())
        .args(["--repo-root", ".", "--context", "."])
        .env("DOCKER_HOST", &host));
    assert_eq!(out.code, 2, "{}", out.both());
    assert!(
        out.stderr.contains(&format!("no Docker engine at {host}")),
        "{}",
        out.both()
    );
}

#[test]
fn bad_dockerignore_pattern_names_file_and_line() {
    let d = context_with_dockerfile();
    std::fs::write(d.path().join(".dockerignore"), "ok\n\n!\n").expect("write");
    let out = run(golden_build(d.path()).args(["--repo-root", ".", "--context", "."]));
    assert_eq!(out.code, 2, "{}", out.both());
    assert!(
        out.stderr
            .contains(".dockerignore:3: illegal exclusion pattern"),
        "{}",
        out.both()
    );
}
