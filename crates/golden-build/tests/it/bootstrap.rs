//! Bootstrap mode, with a stand-in script that keeps the real script's CLI contract and its way
//! into the engine (tests/fixtures/build/fake-bootstrap.sh: `docker load` of a config dated
//! SOURCE_DATE_EPOCH): the decision (auto), the arguments, the streamed and fenced output, tags,
//! labels, record, the same image id twice, and a failing bootstrap.

use crate::common::*;

fn entry(tags: &[String]) -> serde_json::Value {
    serde_json::json!({
        "id": "base-debian", "stage": "base", "os": "debian", "platform": "base",
        "name": "base-debian", "version": "12",
        "dockerfile": "Dockerfile", "context": ".",
        "build_args": {"UPSTREAM": "golden-build-test-absent:bookworm@sha256:0000000000000000000000000000000000000000000000000000000000000000"},
        "image": "golden-build-test-bootstrap", "tags": tags,
        "upstream": "golden-build-test-absent:bookworm@sha256:0000000000000000000000000000000000000000000000000000000000000000",
        "policy": "p",
        "labels": {
            "org.opencontainers.image.title": "golden debian 12 base",
            "org.opencontainers.image.base.name": "golden-build-test-absent:bookworm",
        },
        "bootstrap": {"suite": "bookworm", "variant": "minbase", "components": ["main", "contrib"]},
        "offline": true
    })
}

#[test]
fn docker_bootstrap_mode_runs_the_script_and_records_the_image() {
    engine();
    let mut cleanup = Cleanup::default();
    let d = tempfile::tempdir().expect("tempdir");
    write_tree(d.path(), &[("Dockerfile", "FROM scratch\n")]);
    let tags = vec![
        cleanup.add(&unique_tag("bootstrap")),
        cleanup.add(&unique_tag("bootstrap")),
    ];
    let args_file = d.path().join("args.txt");
    let script = fixtures().join("fake-bootstrap.sh");
    let out = run(golden_build(d.path())
        .env("GOLDEN_ENTRY", entry(&tags).to_string())
        .env("GOLDEN_FAKE_BOOTSTRAP_ARGS", &args_file)
        .env("SOURCE_DATE_EPOCH", "1700000000")
        // Credentials of the job: none may reach the script (mmdebstrap, apt, hardening).
        .env(
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
            "oidc-request-token-must-not-leak",
        )
        .env("AZURE_CLIENT_SECRET", "azure-secret-must-not-leak")
        .env(
            "GOLDEN_REGISTRY_PASSWORD",
            "registry-password-must-not-leak",
        )
        .arg("--bootstrap-script")
        .arg(&script)
        .args(["--repo-root", ".", "--record", "rec.json"]));
    assert_eq!(
        out.code,
        0,
        "auto mode bootstraps when the upstream is absent\n{}",
        out.both()
    );
    assert!(
        out.stdout.contains("fake-bootstrap: resolving packages"),
        "script output is streamed\n{}",
        out.both()
    );

    let env = std::fs::read_to_string(args_file.with_extension("txt.env")).expect("env recorded");
    assert!(
        !env.contains("must-not-leak"),
        "a credential reached the bootstrap:\n{env}"
    );
    assert!(env.contains("SOURCE_DATE_EPOCH=1700000000"), "{env}");
    let args = std::fs::read_to_string(&args_file).expect("script ran");
    let args: Vec<&str> = args.lines().collect();
    for pair in [
        ["--suite", "bookworm"],
        ["--variant", "minbase"],
        ["--components", "main,contrib"],
        ["--tag", tags[0].as_str()],
        ["--tag", tags[1].as_str()],
        [
            "--label",
            "org.opencontainers.image.created=2023-11-14T22:13:20Z",
        ],
        [
            "--label",
            "org.opencontainers.image.title=golden debian 12 base",
        ],
    ] {
        assert!(args.windows(2).any(|w| w == pair), "{pair:?} in {args:?}");
    }
    let id = inspect(&tags[0]).and_then(|i| i.id).expect("tagged");
    assert_eq!(inspect(&tags[1]).and_then(|i| i.id), Some(id.clone()));
    let labels = labels_of(&tags[0]);
    assert_eq!(
        labels["org.opencontainers.image.title"],
        "golden debian 12 base"
    );
    assert!(
        !labels.contains_key("org.opencontainers.image.base.name"),
        "a bootstrapped base has no base image: {labels:?}"
    );
    let image = inspect(&id).expect("bootstrapped image");
    assert_eq!(
        image.created.as_deref(),
        Some("2023-11-14T22:13:20Z"),
        "the script got SOURCE_DATE_EPOCH"
    );
    let rec: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.path().join("rec.json")).expect("record"))
            .expect("json");
    assert_eq!(rec["result"], "success");
    assert_eq!(rec["image_id"].as_str(), Some(id.as_str()));
    assert_eq!(rec["id"], "base-debian");

    // Same inputs, same image: what golden-build hands the script (labels included) does not
    // change between runs, so a reproducible bootstrap stays reproducible through it.
    let again = run(golden_build(d.path())
        .env("GOLDEN_ENTRY", entry(&tags).to_string())
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .arg("--bootstrap-script")
        .arg(&script)
        .args(["--repo-root", ".", "--mode", "bootstrap", "--quiet"]));
    assert_eq!(again.code, 0, "{}", again.both());
    assert_eq!(
        again.stdout.lines().last(),
        Some(id.as_str()),
        "{}",
        again.both()
    );
}

#[test]
fn docker_failing_bootstrap_exits_2_with_its_last_lines_fenced() {
    engine();
    let d = tempfile::tempdir().expect("tempdir");
    let tags = vec![unique_tag("bootstrap-fail")];
    let out = run(golden_build(d.path())
        .env("GOLDEN_ENTRY", entry(&tags).to_string())
        .env("GOLDEN_FAKE_BOOTSTRAP_FAIL", "1")
        .env("GITHUB_ACTIONS", "true")
        .arg("--bootstrap-script")
        .arg(fixtures().join("fake-bootstrap.sh"))
        .args([
            "--repo-root",
            ".",
            "--mode",
            "bootstrap",
            "--record",
            "rec.json",
        ]));
    assert_eq!(out.code, 2, "{}", out.both());
    // The script's own workflow command is printed, but only inside a stop-commands fence.
    let lines: Vec<&str> = out.stdout.lines().collect();
    let injected = lines
        .iter()
        .position(|l| *l == "::warning::injected from the bootstrap log")
        .expect("printed");
    let stop = lines
        .iter()
        .position(|l| l.starts_with("::stop-commands::"))
        .expect("fenced");
    let token = lines[stop].trim_start_matches("::stop-commands::");
    let close = lines
        .iter()
        .position(|l| *l == format!("::{token}::"))
        .expect("fence closed");
    assert!(stop < injected && injected < close, "{}", out.both());
    // The error (with the script's last lines) is an annotation plus fenced text.
    assert!(
        out.stdout
            .contains("::error title=golden-build::bootstrap of `base-debian` failed"),
        "{}",
        out.both()
    );
    assert!(
        out.stdout.contains("Unable to locate package nonexistent"),
        "{}",
        out.both()
    );
    let rec: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.path().join("rec.json")).expect("record"))
            .expect("json");
    assert_eq!(rec["result"], "failure");
    assert_eq!(rec["error"]["step"], "bootstrap");

    // --mode bootstrap for an entry without bootstrap settings is a usage error.
    let mut e = entry(&tags);
    e["bootstrap"] = serde_json::Value::Null;
    let out = run(golden_build(d.path())
        .env("GOLDEN_ENTRY", e.to_string())
        .args(["--repo-root", ".", "--mode", "bootstrap"]));
    assert_eq!(out.code, 2, "{}", out.both());
    assert!(
        out.stderr.contains("has no `bootstrap` settings"),
        "{}",
        out.both()
    );
}

/// A binfmt_misc directory that holds (or not) an aarch64 handler, as Debian's
/// qemu-user-static registers it.
fn binfmt(with_aarch64: bool) -> tempfile::TempDir {
    let d = tempfile::tempdir().expect("tempdir");
    std::fs::write(d.path().join("status"), "enabled\n").expect("write status");
    if with_aarch64 {
        std::fs::write(
            d.path().join("qemu-aarch64"),
            "enabled\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\nflags: PF\noffset 0\nmagic 7f454c46020101\n",
        )
        .expect("write the handler");
    }
    d
}

#[test]
fn docker_foreign_arch_bootstrap_is_tagged_per_arch_and_recorded() {
    engine();
    let host = golden_contracts::build::host_arch();
    let foreign = if host == "arm64" { "amd64" } else { "arm64" };
    if foreign != "arm64" {
        // The fake handler below is the aarch64 one: this test is written for amd64 hosts.
        panic!("this test needs an amd64 host (found {host})");
    }
    let mut cleanup = Cleanup::default();
    let d = tempfile::tempdir().expect("tempdir");
    write_tree(d.path(), &[("Dockerfile", "FROM scratch\n")]);
    let tag = unique_tag("bootstrap-arm64");
    cleanup.add(&format!("{tag}-arm64"));
    let args_file = d.path().join("args.txt");
    let handlers = binfmt(true);
    let out = run(golden_build(d.path())
        .env(
            "GOLDEN_ENTRY",
            entry(std::slice::from_ref(&tag)).to_string(),
        )
        .env("GOLDEN_FAKE_BOOTSTRAP_ARGS", &args_file)
        .env("GOLDEN_BINFMT_MISC", handlers.path())
        .env("GOLDEN_ARCH", "aarch64")
        .arg("--bootstrap-script")
        .arg(fixtures().join("fake-bootstrap.sh"))
        .args(["--repo-root", ".", "--record", "rec.json"]));
    assert_eq!(out.code, 0, "{}", out.both());
    let args = std::fs::read_to_string(&args_file).expect("script ran");
    let args: Vec<&str> = args.lines().collect();
    assert!(
        args.windows(2).any(|w| w == ["--arch", "arm64"]),
        "the script is asked for arm64: {args:?}"
    );
    assert!(
        args.windows(2)
            .any(|w| w == ["--tag", format!("{tag}-arm64").as_str()]),
        "the foreign image is tagged <tag>-arm64: {args:?}"
    );
    assert!(
        inspect(&tag).is_none(),
        "the native tag {tag} is left alone"
    );
    let image = inspect(&format!("{tag}-arm64")).expect("tagged -arm64");
    assert_eq!(image.architecture.as_deref(), Some("arm64"));
    let rec: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.path().join("rec.json")).expect("record"))
            .expect("json");
    assert_eq!(rec["result"], "success");
    assert_eq!(rec["arch"], "arm64");
    assert_eq!(rec["tags"], serde_json::json!([format!("{tag}-arm64")]));
    assert!(
        out.stderr.contains("under emulation"),
        "the emulation is said: {}",
        out.both()
    );
}

#[test]
fn docker_foreign_arch_without_emulation_fails_before_the_build() {
    engine();
    let d = tempfile::tempdir().expect("tempdir");
    write_tree(d.path(), &[("Dockerfile", "FROM scratch\n")]);
    let tag = unique_tag("bootstrap-noemu");
    let args_file = d.path().join("args.txt");
    let handlers = binfmt(false);
    let out = run(golden_build(d.path())
        .env(
            "GOLDEN_ENTRY",
            entry(std::slice::from_ref(&tag)).to_string(),
        )
        .env("GOLDEN_FAKE_BOOTSTRAP_ARGS", &args_file)
        .env("GOLDEN_BINFMT_MISC", handlers.path())
        .arg("--bootstrap-script")
        .arg(fixtures().join("fake-bootstrap.sh"))
        .args([
            "--repo-root",
            ".",
            "--arch",
            "arm64",
            "--record",
            "rec.json",
        ]));
    assert_eq!(out.code, 2, "{}", out.both());
    assert!(
        out.stderr.contains("cannot run arm64 binaries")
            && out.stderr.contains("qemu-aarch64")
            && out.stderr.contains("scripts/setup.sh"),
        "{}",
        out.both()
    );
    assert!(!args_file.exists(), "nothing ran: the check comes first");
    let rec: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.path().join("rec.json")).expect("record"))
            .expect("json");
    assert_eq!(rec["result"], "failure");
    assert_eq!(
        rec["arch"], "arm64",
        "the record names the architecture asked for"
    );

    // An architecture outside the supported set is a usage error naming the flag.
    let out = run(golden_build(d.path())
        .env(
            "GOLDEN_ENTRY",
            entry(std::slice::from_ref(&tag)).to_string(),
        )
        .args(["--repo-root", ".", "--arch", "s390x"]));
    assert_eq!(out.code, 2, "{}", out.both());
    assert!(
        out.stderr.contains("--arch (GOLDEN_ARCH)") && out.stderr.contains("s390x"),
        "{}",
        out.both()
    );
}
