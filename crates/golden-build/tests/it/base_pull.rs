//! A platform whose base is only in a registry: golden-build pulls it through the engine with
//! the credentials golden-registry detects, and records its registry digest. Real registries
//! (Debian's `docker-registry` through scripts/registry.sh on a random loopback port, which the
//! engine reaches over plain HTTP by its default 127.0.0.0/8 insecure rule), real engine; the
//! base is pushed with skopeo and removed from the engine before the build.

use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine as _;

use crate::common::*;

/// A password whose `X-Registry-Auth` header has `+` or `/` in standard base64 (`?`, `~`, `>` in
/// every position): the engine only decodes the URL-safe alphabet.
const USER: &str = "golden";
const PASSWORD: &str = "s3cret?~>?~>";

pub fn require(tool: &str) {
    let ok = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "{tool} is required for this test: run scripts/setup.sh (docker-registry, skopeo, apache2-utils)"
    );
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// A real registry (scripts/registry.sh); stopped on drop.
pub struct Registry {
    port: u16,
    dir: tempfile::TempDir,
}

impl Registry {
    pub fn start(htpasswd: Option<&Path>) -> Registry {
        match htpasswd {
            Some(h) => Self::start_with(&["--htpasswd".into(), h.display().to_string()]),
            None => Self::start_with(&[]),
        }
    }

    /// Start with extra `scripts/registry.sh start` arguments.
    pub fn start_with(extra: &[String]) -> Registry {
        require("docker-registry");
        require("curl");
        for _ in 0..5 {
            let r = Registry {
                port: free_port(),
                dir: tempfile::Builder::new()
                    .prefix("golden-build-test-reg")
                    .tempdir()
                    .expect("tempdir"),
            };
            let mut c = Command::new(repo().join("scripts/registry.sh"));
            c.args(["start", "--port", &r.port.to_string(), "--dir"])
                .arg(r.dir.path());
            c.args(extra);
            let out = c.output().expect("run scripts/registry.sh");
            if out.status.success() {
                return r;
            }
            eprintln!("registry.sh: {}", String::from_utf8_lossy(&out.stderr));
        }
        panic!("could not start docker-registry (see scripts/registry.sh output above)");
    }

    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Requests the registry logged for `repository`'s manifests.
    fn manifest_requests(&self, repository: &str) -> usize {
        let log = std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default();
        let needle = format!("/v2/{repository}/manifests/");
        log.lines().filter(|l| l.contains(&needle)).count()
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = Command::new(repo().join("scripts/registry.sh"))
            .args(["stop", "--dir"])
            .arg(self.dir.path())
            .output();
    }
}

/// Build a small image of our own on the busybox test image (a file unique to this run, so the
/// pull has a layer to download), push it to `to` with skopeo, and remove it from the engine.
/// Returns the registry's manifest digest and the image id.
pub fn publish_base(to: &str, creds: Option<&str>) -> (String, String) {
    require("skopeo");
    let bb = busybox();
    let d = tempfile::tempdir().expect("tempdir");
    let local = unique_tag("pull-base-src");
    write_tree(
        d.path(),
        &[
            ("Dockerfile", &format!("FROM {bb}\nCOPY id /base-id\n")),
            (
                "id",
                &format!("{local} {:?}\n", std::time::SystemTime::now()),
            ),
        ],
    );
    let out = run(golden_build(d.path()).args([
        "--repo-root",
        ".",
        "--context",
        ".",
        "-t",
        &local,
        "--quiet",
    ]));
    assert_eq!(out.code, 0, "{}", out.both());
    let id = inspect(&local).and_then(|i| i.id).expect("base built");
    let digest_file = d.path().join("digest");
    let mut c = Command::new("skopeo");
    c.args(["copy", "--quiet", "--dest-tls-verify=false", "--digestfile"])
        .arg(&digest_file);
    if let Some(cr) = creds {
        c.args(["--dest-creds", cr]);
    }
    let out = c
        .arg(format!("docker-daemon:{local}"))
        .arg(format!("docker://{to}"))
        .output()
        .expect("run skopeo");
    assert!(
        out.status.success(),
        "skopeo copy failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let digest = std::fs::read_to_string(&digest_file)
        .expect("digest file")
        .trim()
        .to_string();
    assert!(digest.starts_with("sha256:"), "{digest}");
    let e = engine();
    rt().block_on(e.remove_image(&local, false))
        .expect("remove the local base");
    assert!(
        inspect(&id).is_none(),
        "the base must be gone from the engine"
    );
    (digest, id)
}

/// A platform plan entry on `base_image`, in `dir` (the repository root of the build).
pub fn platform_entry(
    dir: &Path,
    id: &str,
    tag: &str,
    base_image: &str,
    base_in_plan: bool,
) -> String {
    write_tree(
        dir,
        &[(
            "Dockerfile",
            "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nARG BASE_IMAGE\nLABEL used-base=${BASE_IMAGE}\nRUN test -f /base-id\n",
        )],
    );
    let (image, _) = tag.rsplit_once(':').expect("tag");
    serde_json::json!({
        "id": id,
        "stage": "platform",
        "os": "busybox",
        "platform": "tiny",
        "name": "tiny",
        "version": "0.1",
        "dockerfile": "Dockerfile",
        "context": ".",
        "image": image,
        "tags": [tag],
        "base": "base-busybox",
        "base_image": base_image,
        "base_in_plan": base_in_plan,
        "policy": "policy.yaml",
        "offline": true
    })
    .to_string()
}

pub fn read_json(p: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(p).expect("read")).expect("json")
}

/// `name=value` pairs of a `$GITHUB_OUTPUT` file (heredoc format).
fn outputs(p: &Path) -> std::collections::BTreeMap<String, String> {
    let text = std::fs::read_to_string(p).unwrap_or_default();
    golden_gha::parse_env_file(&text)
        .expect("output file")
        .into_iter()
        .collect()
}

fn docker_config(dir: &Path, host: &str, user: &str, password: &str) -> PathBuf {
    let cfg = dir.join(format!("docker-config-{user}-{}", password.len()));
    std::fs::create_dir_all(&cfg).expect("mkdir");
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    std::fs::write(
        cfg.join("config.json"),
        serde_json::json!({"auths": {host: {"auth": auth}}}).to_string(),
    )
    .expect("write config.json");
    cfg
}

#[test]
fn registry_platform_pulls_its_published_base_by_tag_and_by_digest() {
    let reg = Registry::start(None);
    let base_ref = format!("{}/golden-build-test/base-busybox:1", reg.host());
    let (digest, base_id) = publish_base(&base_ref, None);
    let mut cleanup = Cleanup::default();

    // The plan entry as a matrix job passes it: the base is not rebuilt in this run.
    let d = tempfile::tempdir().expect("tempdir");
    let tag = unique_tag("on-pulled-base");
    let entry = platform_entry(d.path(), "tiny-0.1-busybox", &tag, &base_ref, false);
    cleanup.add(&tag);
    cleanup.add(&base_ref);
    let out_file = d.path().join("github-output");
    std::fs::write(&out_file, "").expect("output file");
    let out = run(golden_build(d.path())
        .env("GOLDEN_ENTRY", &entry)
        .env("GITHUB_OUTPUT", &out_file)
        .env("DOCKER_CONFIG", d.path().join("no-docker-config"))
        .args(["--repo-root", ".", "--record", "record.json"]));
    assert_eq!(out.code, 0, "{}", out.both());
    assert!(
        out.stderr
            .contains(&format!("pulling base image {base_ref} (auth: anonymous)")),
        "{}",
        out.both()
    );
    let pulled = inspect(&base_ref).expect("the base was pulled");
    assert_eq!(pulled.id.as_deref(), Some(base_id.as_str()));
    let labels = labels_of(&tag);
    assert_eq!(
        labels["org.opencontainers.image.base.digest"], digest,
        "the base label is the registry manifest digest"
    );
    assert_eq!(labels["org.opencontainers.image.base.name"], base_ref);
    assert_eq!(
        labels["used-base"], base_id,
        "BASE_IMAGE is the pulled image id"
    );
    let rec = read_json(&d.path().join("record.json"));
    assert_eq!(rec["result"], "success");
    assert_eq!(rec["base_image"].as_str(), Some(base_ref.as_str()));
    assert_eq!(rec["base_digest"].as_str(), Some(digest.as_str()));
    let o = outputs(&out_file);
    assert_eq!(o.get("base-image-id"), Some(&base_id));
    assert_eq!(o.get("base-digest"), Some(&digest));

    // Pinned by digest: pulled by digest (the tag is gone from the engine again).
    let e = engine();
    rt().block_on(e.remove_image(&tag, false)).expect("rmi");
    rt().block_on(e.remove_image(&base_ref, false))
        .expect("rmi");
    assert!(inspect(&base_id).is_none());
    let pinned = format!("{}/golden-build-test/base-busybox@{digest}", reg.host());
    cleanup.add(&pinned);
    let out = run(golden_build(d.path())
        .env("GOLDEN_ENTRY", &entry)
        .env("DOCKER_CONFIG", d.path().join("no-docker-config"))
        .args(["--repo-root", ".", "--base-image", &pinned]));
    assert_eq!(out.code, 0, "{}", out.both());
    assert!(inspect(&base_ref).is_none(), "a pinned pull does not tag");
    let by_digest = inspect(&pinned).expect("pulled by digest");
    assert_eq!(by_digest.id.as_deref(), Some(base_id.as_str()));
    let labels = labels_of(&tag);
    assert_eq!(labels["org.opencontainers.image.base.digest"], digest);
    assert_eq!(labels["used-base"], base_id);
}

#[test]
fn registry_private_base_is_pulled_with_docker_config_credentials() {
    require("htpasswd");
    let dir = tempfile::tempdir().expect("tempdir");
    let htpasswd = dir.path().join("htpasswd");
    let out = Command::new("htpasswd")
        .args(["-Bbn", USER, PASSWORD])
        .output()
        .expect("run htpasswd");
    assert!(out.status.success());
    std::fs::write(&htpasswd, &out.stdout).expect("write htpasswd");
    let reg = Registry::start(Some(&htpasswd));
    let base_ref = format!("{}/golden-build-test/private-base:1", reg.host());
    let (digest, base_id) = publish_base(&base_ref, Some(&format!("{USER}:{PASSWORD}")));
    let mut cleanup = Cleanup::default();
    let tag = unique_tag("on-private-base");
    let entry = platform_entry(dir.path(), "tiny-0.1-busybox", &tag, &base_ref, false);
    cleanup.add(&tag);
    cleanup.add(&base_ref);
    let build = |config: &Path| {
        run(golden_build(dir.path())
            .env("GOLDEN_ENTRY", &entry)
            .env("DOCKER_CONFIG", config)
            .args(["--repo-root", ".", "--record", "record.json"]))
    };
    // Entra inputs in the environment are not used for a registry that is neither an ACR host
    // nor the image's own: the detection goes on to the docker config.
    let build_with_entra_inputs = |config: &Path| {
        run(golden_build(dir.path())
            .env("GOLDEN_ENTRY", &entry)
            .env("DOCKER_CONFIG", config)
            .env("AZURE_CLIENT_ID", "6b2f0c2d-0000-4000-8000-00000000b17d")
            .env("AZURE_TENANT_ID", "tenant-golden-build")
            .env("AZURE_CLIENT_SECRET", "sp-secret-never-used")
            .args(["--repo-root", ".", "--record", "record.json"]))
    };

    // No credentials: refused, with the ways to provide them.
    let out = build(&dir.path().join("no-docker-config"));
    assert_eq!(out.code, 2, "{}", out.both());
    assert!(
        out.stderr.contains(&format!(
            "the registry `{}` refused to let the engine pull the base image `{base_ref}` (auth: anonymous)",
            reg.host()
        )),
        "{}",
        out.both()
    );
    assert!(
        out.stderr.contains("id-token: write") && out.stderr.contains("AZURE_CLIENT_ID"),
        "{}",
        out.both()
    );
    let rec = read_json(&dir.path().join("record.json"));
    assert_eq!(rec["result"], "failure");
    assert!(inspect(&base_ref).is_none());

    // Wrong password: refused, naming the registry and the method; the password never shows.
    let wrong = docker_config(dir.path(), &reg.host(), USER, "not-the-password");
    let out = build(&wrong);
    assert_eq!(out.code, 2, "{}", out.both());
    assert!(
        out.stderr
            .contains(&format!("the registry `{}` refused", reg.host()))
            && out.stderr.contains("auth: docker-config")
            && out.stderr.contains("unauthorized"),
        "{}",
        out.both()
    );
    assert!(!out.both().contains("not-the-password"), "{}", out.both());
    assert!(inspect(&base_ref).is_none());

    // The right credentials (whose header needs the URL-safe alphabet): pulled and built on.
    let right = docker_config(dir.path(), &reg.host(), USER, PASSWORD);
    let out = build_with_entra_inputs(&right);
    assert_eq!(out.code, 0, "{}", out.both());
    assert!(out.stderr.contains("auth: docker-config"), "{}", out.both());
    assert!(!out.both().contains(PASSWORD), "{}", out.both());
    assert_eq!(
        inspect(&base_ref).and_then(|i| i.id).as_deref(),
        Some(base_id.as_str())
    );
    let labels = labels_of(&tag);
    assert_eq!(labels["org.opencontainers.image.base.digest"], digest);
    assert_eq!(labels["used-base"], base_id);
    let rec = read_json(&dir.path().join("record.json"));
    assert_eq!(rec["base_digest"].as_str(), Some(digest.as_str()));
}

#[test]
fn registry_unpublished_base_and_disabled_pull_give_clear_errors() {
    let reg = Registry::start(None);
    let base_ref = format!("{}/golden-build-test/never-published:1", reg.host());
    let d = tempfile::tempdir().expect("tempdir");
    let tag = unique_tag("never-built");
    let mut cleanup = Cleanup::default();
    cleanup.add(&tag);
    let entry = platform_entry(d.path(), "tiny-0.1-busybox", &tag, &base_ref, false);
    let build = |entry: &str, extra: &[&str]| {
        run(golden_build(d.path())
            .env("GOLDEN_ENTRY", entry)
            .env("DOCKER_CONFIG", d.path().join("no-docker-config"))
            .args(["--repo-root", "."])
            .args(extra))
    };

    // Pulling disabled (flag, then variable): an error before any request reaches the registry.
    for (extra, var) in [(&["--no-pull-base"][..], None), (&[][..], Some("true"))] {
        let mut c = golden_build(d.path());
        c.env("GOLDEN_ENTRY", &entry)
            .args(["--repo-root", "."])
            .args(extra);
        if let Some(v) = var {
            c.env("GOLDEN_NO_PULL_BASE", v);
        }
        let out = run(&mut c);
        assert_eq!(out.code, 2, "{}", out.both());
        assert!(
            out.stderr.contains(&format!(
                "base image `{base_ref}` is not in the engine and pulling it is disabled (--no-pull-base / GOLDEN_NO_PULL_BASE)"
            )),
            "{}",
            out.both()
        );
        assert!(
            out.stderr
                .contains("golden-build --plan plan.json --id base-busybox"),
            "{}",
            out.both()
        );
    }
    // The base is rebuilt in this run: it must come from the base job, never the registry.
    let in_run = platform_entry(d.path(), "tiny-0.1-busybox", &tag, &base_ref, true);
    let out = build(&in_run, &[]);
    assert_eq!(out.code, 2, "{}", out.both());
    assert!(
        out.stderr.contains("is rebuilt in this run") && out.stderr.contains("golden-build load"),
        "{}",
        out.both()
    );
    assert_eq!(
        reg.manifest_requests("golden-build-test/never-published"),
        0,
        "nothing was pulled"
    );

    // Pulling: the registry does not have it.
    let out = build(&entry, &[]);
    assert_eq!(out.code, 2, "{}", out.both());
    assert!(
        out.stderr.contains(&format!(
            "base image `{base_ref}` is not in the registry `{}`",
            reg.host()
        )),
        "{}",
        out.both()
    );
    assert!(
        out.stderr.contains("the base was never published")
            && out.stderr.contains("--rebuild all")
            && out.stderr.contains("`busybox`"),
        "{}",
        out.both()
    );
    assert!(
        reg.manifest_requests("golden-build-test/never-published") > 0,
        "the engine asked the registry"
    );
}

/// `--verify-policy`: a platform is never built on a published base that does not verify; once
/// the base is signed by a key of the policy, the same build succeeds and says it verified it.
#[test]
fn registry_unsigned_published_base_is_refused_with_a_verify_policy_and_a_signed_one_is_built_on() {
    use golden_push::sign::{KeySigner, LocalKey};
    let reg = Registry::start(None);
    let base_ref = format!("{}/golden-build-test/base-signed:1", reg.host());
    let (digest, _) = publish_base(&base_ref, None);
    let mut cleanup = Cleanup::default();
    let d = tempfile::tempdir().expect("tempdir");
    let pem = LocalKey::generate_p256_pem().expect("key");
    let key = LocalKey::from_pem(&pem, "test key").expect("parse key");
    let signer = KeySigner::new(key, "test key");
    std::fs::write(d.path().join("signing.pub"), signer.public.to_pem()).expect("write pub");
    std::fs::write(
        d.path().join("verify-policy.yaml"),
        "keys: [signing.pub]\nprovenance:\n  required: false\nscan_report:\n  required: false\n",
    )
    .expect("write policy");
    let tag = unique_tag("on-verified-base");
    let entry = platform_entry(d.path(), "tiny-0.1-busybox", &tag, &base_ref, false);
    cleanup.add(&tag);
    cleanup.add(&base_ref);
    let build = || {
        run(golden_build(d.path())
            .env("GOLDEN_ENTRY", &entry)
            .env("GOLDEN_VERIFY_POLICY", d.path().join("verify-policy.yaml"))
            .env("DOCKER_CONFIG", d.path().join("no-docker-config"))
            .args(["--repo-root", ".", "--record", "record.json"]))
    };

    let out = build();
    assert_ne!(out.code, 0, "built on an unsigned base: {}", out.both());
    assert!(
        out.stderr.contains("is not verified") && out.stderr.contains("signature"),
        "{}",
        out.both()
    );
    assert!(
        inspect(&tag).is_none(),
        "an image was built on the unverified base"
    );

    // Sign the published base (what its push step does with a signing key).
    let repo =
        golden_oci::Reference::parse(&format!("{}/golden-build-test/base-signed", reg.host()))
            .expect("reference");
    let client =
        golden_registry::Client::new(golden_registry::ClientOptions::default()).expect("client");
    rt().block_on(golden_push::sign::sign_image(
        &client,
        &signer,
        &repo,
        &digest,
        None,
        &golden_push::Log { quiet: true },
    ))
    .expect("sign the base");
    let out = build();
    assert_eq!(out.code, 0, "{}", out.both());
    assert!(
        out.stderr.contains("golden-build: base") && out.stderr.contains("verified (signature"),
        "{}",
        out.both()
    );
    assert!(inspect(&tag).is_some(), "the platform was built");
}
