//! `golden-plan upstreams` against real local `docker-registry` instances standing in for the
//! upstream registries (`--registry-map`): one in token mode whose token service only answers
//! anonymous requests (Docker Hub's flow: Bearer challenge, token without credentials), one
//! plain; a missing tag and an unreachable registry; a malformed `upstream:`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use golden_registry::{AuthKind, Client, ClientOptions, Env, Reference};
use golden_testkit::acr::SigningKey;
use golden_testkit::http::{self as fake, Reply};
use hyper::Request;
use serde_json::{Value, json};

use crate::{repo_root, shipped_config, stderr, stdout};

const ISSUER: &str = "golden-plan-upstreams-test-issuer";
const SERVICE: &str = "golden-plan-upstreams-test";
/// The upstreams of the shipped catalog (their tags are pushed to the stand-ins).
const DEBIAN: (&str, &str) = ("library/debian", "bookworm-slim");
const ALPINE: (&str, &str) = ("library/alpine", "3.20");
const REDHAT: (&str, &str) = ("ubi9/ubi-minimal", "9.7-1776104705");

fn require(tool: &str) {
    let ok = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(
        ok,
        "{tool} is required for this test: run scripts/setup.sh (it installs docker-registry)"
    );
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A real registry started with scripts/registry.sh; stopped on drop.
struct Registry {
    port: u16,
    dir: tempfile::TempDir,
}

impl Registry {
    fn start(extra: &[String]) -> Registry {
        require("docker-registry");
        require("curl");
        for _ in 0..5 {
            let r = Registry {
                port: free_port(),
                dir: tempfile::Builder::new()
                    .prefix("golden-plan-test-reg")
                    .tempdir()
                    .unwrap(),
            };
            let (port, dir) = (r.port.to_string(), r.dir.path().display().to_string());
            let mut args = vec!["start", "--port", &port, "--dir", &dir];
            args.extend(extra.iter().map(String::as_str));
            let out = r.script(&args);
            if out.status.success() {
                return r;
            }
            eprintln!("registry.sh: {}", String::from_utf8_lossy(&out.stderr));
        }
        panic!("could not start docker-registry (see scripts/registry.sh output above)");
    }

    fn script(&self, args: &[&str]) -> Output {
        Command::new(repo_root().join("scripts/registry.sh"))
            .args(args)
            .output()
            .expect("run scripts/registry.sh")
    }

    fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let dir = self.dir.path().display().to_string();
        let _ = self.script(&["stop", "--dir", &dir]);
    }
}

/// What the anonymous token service saw.
#[derive(Default)]
struct Seen {
    issued: usize,
    /// Requests it refused (any with credentials, or not a GET).
    refused: Vec<String>,
}

fn jwt(key: &SigningKey, access: Value) -> String {
    let n = golden_testkit::now();
    key.sign(&json!({
        "iss": ISSUER, "sub": "anonymous", "aud": SERVICE,
        "exp": n + 600, "nbf": n.saturating_sub(30), "iat": n,
        "jti": golden_testkit::token("jti"), "access": access,
    }))
    .unwrap()
}

/// Docker Hub's token endpoint, anonymous only: `GET /token?service=..&scope=..` without
/// `Authorization` gets a JWT granting `pull` (never more) on the asked repositories.
fn token_service(req: Request<Bytes>, key: &SigningKey, seen: &Mutex<Seen>) -> Reply {
    let fields = fake::form(req.uri().query().unwrap_or(""));
    if req.method() != hyper::Method::GET
        || fake::header(&req, "authorization").is_some()
        || fake::field(&fields, "service") != Some(SERVICE)
    {
        seen.lock()
            .unwrap()
            .refused
            .push(format!("{} {}", req.method(), req.uri()));
        return fake::json(
            401,
            &json!({"errors": [{"code": "UNAUTHORIZED", "message": "anonymous GET only"}]}),
        );
    }
    let access: Vec<Value> = fields
        .iter()
        .filter(|(k, _)| k == "scope")
        .flat_map(|(_, v)| v.split(' ').map(str::to_string).collect::<Vec<_>>())
        .filter_map(|s| {
            let p: Vec<&str> = s.splitn(3, ':').collect();
            (p.len() == 3 && p[0] == "repository" && p[2].split(',').any(|a| a == "pull"))
                .then(|| json!({"type": "repository", "name": p[1], "actions": ["pull"]}))
        })
        .collect();
    let t = jwt(key, json!(access));
    seen.lock().unwrap().issued += 1;
    fake::json(
        200,
        &json!({"token": t, "access_token": t, "expires_in": 600}),
    )
}

/// A token-mode registry behind the anonymous token service, and a client that pushes to it
/// with a JWT granting push (signed with the same key, sent as-is).
struct TokenRegistry {
    reg: Registry,
    seen: Arc<Mutex<Seen>>,
    pusher: Client,
    _dir: tempfile::TempDir,
}

async fn token_registry() -> TokenRegistry {
    require("openssl");
    let dir = tempfile::tempdir().unwrap();
    let key = Arc::new(SigningKey::generate(dir.path(), "upstreams").unwrap());
    let seen = Arc::new(Mutex::new(Seen::default()));
    let (k, s) = (key.clone(), seen.clone());
    let addr = fake::serve(Arc::new(move |req: Request<Bytes>| {
        token_service(req, &k, &s)
    }))
    .await
    .unwrap();
    let reg = Registry::start(&[
        "--token-realm".into(),
        format!("http://{addr}/token"),
        "--token-issuer".into(),
        ISSUER.into(),
        "--token-cert".into(),
        key.cert.display().to_string(),
        "--token-service".into(),
        SERVICE.into(),
    ]);
    let push: Vec<Value> = [DEBIAN, ALPINE, REDHAT]
        .iter()
        .map(|(repo, _)| json!({"type": "repository", "name": repo, "actions": ["pull", "push"]}))
        .collect();
    let pusher = Client::new(ClientOptions {
        auth: AuthKind::Token,
        env: Env::from_pairs([("GOLDEN_REGISTRY_TOKEN", jwt(&key, json!(push)))]),
        auth_hosts: vec![reg.host()],
        ..ClientOptions::default()
    })
    .unwrap();
    TokenRegistry {
        reg,
        seen,
        pusher,
        _dir: dir,
    }
}

fn plain_pusher() -> Client {
    Client::new(ClientOptions {
        auth: AuthKind::Anonymous,
        env: Env::from_pairs(Vec::<(String, String)>::new()),
        ..ClientOptions::default()
    })
    .unwrap()
}

async fn put_blob(c: &Client, repo: &Reference, data: &[u8]) -> Value {
    let d = golden_registry::digest::sha256_digest(data);
    c.upload_bytes(repo, Bytes::copy_from_slice(data), &d)
        .await
        .unwrap();
    json!({"digest": d, "size": data.len()})
}

/// Push an image manifest (one layer of `seed`; `created` in its config when given) by digest;
/// returns its digest and bytes.
async fn push_image(
    c: &Client,
    repo: &Reference,
    arch: &str,
    seed: &str,
    created: Option<&str>,
) -> (String, Vec<u8>) {
    let layer = put_blob(c, repo, format!("layer {seed} {arch}").as_bytes()).await;
    let mut config = json!({
        "architecture": arch, "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": [layer["digest"]]},
        "config": {"Cmd": ["/bin/sh"]},
    });
    if let Some(c) = created {
        config["created"] = json!(c);
    }
    let config = put_blob(c, repo, config.to_string().as_bytes()).await;
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config["digest"], "size": config["size"]},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer["digest"], "size": layer["size"]}],
    })
    .to_string()
    .into_bytes();
    let d = golden_registry::digest::sha256_digest(&manifest);
    c.put_manifest(
        repo,
        &d,
        Bytes::from(manifest.clone()),
        "application/vnd.oci.image.manifest.v1+json",
    )
    .await
    .unwrap();
    (d, manifest)
}

/// Push a single-arch image to `registry/repo:tag`; returns its digest.
async fn push_single(c: &Client, registry: &str, (repo, tag): (&str, &str), seed: &str) -> String {
    let r = Reference::parse(&format!("{registry}/{repo}:{tag}")).unwrap();
    let (d, bytes) = push_image(c, &r, "amd64", seed, None).await;
    c.put_manifest(
        &r,
        tag,
        Bytes::from(bytes),
        "application/vnd.oci.image.manifest.v1+json",
    )
    .await
    .unwrap();
    d
}

/// Push an amd64+arm64 index (configs created `created`) to `registry/repo:tag`; returns the
/// index digest and the per-architecture digests.
async fn push_index(
    c: &Client,
    registry: &str,
    (repo, tag): (&str, &str),
    seed: &str,
    created: &str,
) -> (String, Vec<(String, String)>) {
    let r = Reference::parse(&format!("{registry}/{repo}:{tag}")).unwrap();
    let mut entries = Vec::new();
    let mut children = Vec::new();
    for arch in ["amd64", "arm64"] {
        let (d, bytes) = push_image(c, &r, arch, seed, Some(created)).await;
        let mut platform = json!({"architecture": arch, "os": "linux"});
        if arch == "arm64" {
            platform["variant"] = json!("v8");
        }
        entries.push(json!({
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": d, "size": bytes.len(), "platform": platform,
        }));
        children.push((format!("linux/{arch}"), d));
    }
    let index = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": entries,
    })
    .to_string();
    let d = golden_registry::digest::sha256_digest(index.as_bytes());
    c.put_manifest(
        &r,
        tag,
        Bytes::from(index),
        "application/vnd.oci.image.index.v1+json",
    )
    .await
    .unwrap();
    (d, children)
}

/// The shipped catalog with the three upstream digests replaced (same bytes otherwise).
fn catalog_with(debian: &str, alpine: &str, redhat: &str) -> String {
    let text = std::fs::read_to_string(shipped_config()).unwrap();
    let mut out = String::new();
    let mut n = 0;
    for line in text.split_inclusive('\n') {
        if line.trim_start().starts_with("upstream:") {
            let d = [debian, alpine, redhat][n];
            n += 1;
            let (head, _) = line.split_once('@').unwrap();
            out.push_str(&format!("{head}@{d}\n"));
        } else {
            out.push_str(line);
        }
    }
    assert_eq!(n, 3, "the shipped catalog has three upstream: lines");
    out
}

/// The 1-based line of the `n`-th `upstream:` of `text`.
fn upstream_line(text: &str, n: usize) -> usize {
    text.lines()
        .enumerate()
        .filter(|(_, l)| l.trim_start().starts_with("upstream:"))
        .nth(n)
        .unwrap()
        .0
        + 1
}

fn write_catalog(dir: &Path, text: &str) -> PathBuf {
    let p = dir.join("build-config.yaml");
    std::fs::write(&p, text).unwrap();
    p
}

/// Run `golden-plan upstreams` (clean GOLDEN_*/GITHUB_* environment) off the async runtime.
async fn upstreams(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        let mut a = vec!["upstreams".to_string()];
        a.extend(args);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        crate::golden_plan(&a, &[])
    })
    .await
    .unwrap()
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

fn report(o: &Output) -> Value {
    serde_json::from_str(&stdout(o))
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}\n{}", stdout(o), stderr(o)))
}

fn row<'a>(r: &'a Value, os: &str) -> &'a Value {
    r["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["os"] == os)
        .unwrap_or_else(|| panic!("no row {os}: {r:#}"))
}

fn days_ago(n: i64) -> String {
    (chrono::Utc::now() - chrono::Duration::days(n))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fresh_then_stale_then_write_changes_exactly_that_line() {
    let t = token_registry().await;
    let host = t.reg.host();
    let (debian, children) = push_index(&t.pusher, &host, DEBIAN, "debian-1", &days_ago(3)).await;
    let alpine = push_single(&t.pusher, &host, ALPINE, "alpine-1").await;
    let redhat = push_single(&t.pusher, &host, REDHAT, "redhat-1").await;
    let dir = tempfile::tempdir().unwrap();
    let original = catalog_with(&debian, &alpine, &redhat);
    let config = write_catalog(dir.path(), &original);
    let shown = config.display().to_string();
    let args = |extra: &[&str]| -> Vec<String> {
        let mut a: Vec<String> = [
            "--config",
            &shown,
            "--registry-map",
            &format!("docker.io={host}"),
            "--registry-map",
            &format!("registry.access.redhat.com={host}"),
            "--architectures",
            "amd64,arm64",
            "--retries",
            "0",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };

    // Every tag still points to its pin.
    let o = upstreams(args(&["--format", "json"])).await;
    assert_eq!(code(&o), 0, "{}\n{}", stdout(&o), stderr(&o));
    let r = report(&o);
    assert_eq!(
        (r["fresh"].clone(), r["stale"].clone(), r["errors"].clone()),
        (json!(3), json!(0), json!(0)),
        "{r:#}"
    );
    let d = row(&r, "debian");
    assert_eq!(d["image"], "docker.io/library/debian");
    assert_eq!(d["tag"], "bookworm-slim");
    assert_eq!(d["resolved_on"], json!(host));
    assert_eq!(d["current"], json!(debian));
    let platforms: Vec<(String, String)> = d["platforms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["platform"].as_str().unwrap().to_string(),
                p["digest"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(platforms, children, "one digest per built architecture");
    assert_eq!(d["age"], "3d", "{d:#}");
    assert_eq!(
        row(&r, "alpine")["age"],
        "unknown",
        "no created date in its config"
    );
    assert_eq!(
        row(&r, "redhat")["image"],
        "registry.access.redhat.com/ubi9/ubi-minimal"
    );
    {
        let seen = t.seen.lock().unwrap();
        assert!(
            seen.issued >= 3,
            "every pull went through the anonymous token flow"
        );
        assert!(
            seen.refused.is_empty(),
            "nothing was sent with credentials: {:?}",
            seen.refused
        );
    }

    // The alpine tag moves.
    let moved = push_single(&t.pusher, &host, ALPINE, "alpine-2").await;
    assert_ne!(moved, alpine);
    let o = upstreams(args(&["--format", "json"])).await;
    assert_eq!(code(&o), 1, "{}\n{}", stdout(&o), stderr(&o));
    let r = report(&o);
    let a = row(&r, "alpine");
    assert_eq!(a["status"], "stale");
    assert_eq!(a["pinned"], json!(alpine));
    assert_eq!(a["current"], json!(moved));
    assert_eq!(a["line"], json!(upstream_line(&original, 1)));
    assert_eq!(row(&r, "debian")["status"], "fresh");
    assert_eq!(row(&r, "redhat")["status"], "fresh");
    assert_eq!(r["written"], false);
    assert_eq!(
        std::fs::read_to_string(&config).unwrap(),
        original,
        "no --write, no change"
    );

    let o = upstreams(args(&["--format", "text"])).await;
    assert_eq!(code(&o), 1);
    let text = stdout(&o);
    let alpine_row = text
        .lines()
        .find(|l| l.starts_with("docker.io/library/alpine"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        alpine_row.contains("3.20")
            && alpine_row.contains(&alpine[..19])
            && alpine_row.contains(&moved[..19])
            && alpine_row.contains("stale"),
        "{text}"
    );
    assert!(
        text.contains(&format!("{shown}:{}", upstream_line(&original, 1))),
        "{text}"
    );
    assert!(
        text.contains("0 error(s)") && text.contains("1 stale"),
        "{text}"
    );

    // --write: exactly the alpine digest changes, every other byte stays.
    let o = upstreams(args(&["--format", "json", "--write"])).await;
    assert_eq!(code(&o), 1, "{}\n{}", stdout(&o), stderr(&o));
    assert_eq!(report(&o)["written"], true);
    let expected = original.replacen(&format!("@{alpine}"), &format!("@{moved}"), 1);
    assert_ne!(expected, original);
    assert_eq!(std::fs::read_to_string(&config).unwrap(), expected);

    // And now everything is fresh again.
    let o = upstreams(args(&["--format", "json", "--write"])).await;
    assert_eq!(code(&o), 0, "{}\n{}", stdout(&o), stderr(&o));
    assert_eq!(report(&o)["written"], false);
    assert_eq!(std::fs::read_to_string(&config).unwrap(), expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_tag_and_unreachable_registry_are_row_errors_the_rest_resolves() {
    let reg = Registry::start(&[]);
    let host = reg.host();
    let c = plain_pusher();
    let debian = push_single(&c, &host, DEBIAN, "debian-1").await;
    // The alpine repository exists, its pinned tag does not.
    push_single(&c, &host, ("library/alpine", "3.19"), "alpine-old").await;
    let pinned = format!("sha256:{}", "0".repeat(64));
    let dir = tempfile::tempdir().unwrap();
    let original = catalog_with(&debian, &pinned, &pinned);
    let config = write_catalog(dir.path(), &original);
    let shown = config.display().to_string();
    // Nothing listens there.
    let dead = format!("127.0.0.1:{}", free_port());
    let args: Vec<String> = [
        "--config",
        &shown,
        "--registry-map",
        &format!("docker.io={host}"),
        "--registry-map",
        &format!("registry.access.redhat.com={dead}"),
        "--retries",
        "0",
        "--format",
        "json",
        "--write",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let o = upstreams(args).await;
    assert_eq!(code(&o), 2, "{}\n{}", stdout(&o), stderr(&o));
    let r = report(&o);
    assert_eq!(
        (r["fresh"].clone(), r["stale"].clone(), r["errors"].clone()),
        (json!(1), json!(0), json!(2)),
        "{r:#}"
    );
    assert_eq!(row(&r, "debian")["status"], "fresh");

    let a = row(&r, "alpine");
    assert_eq!(a["status"], "error");
    let e = a["error"].as_str().unwrap();
    assert!(
        e.starts_with(&format!(
            "{shown}:{}: bases[1].upstream `docker.io/library/alpine:3.20@",
            upstream_line(&original, 1)
        )) && e.contains("tag `3.20` not found")
            && e.contains(&format!("resolved on {host}"))
            && e.contains("hint:"),
        "{e}"
    );
    let h = row(&r, "redhat");
    assert_eq!(h["status"], "error");
    let e = h["error"].as_str().unwrap();
    assert!(
        e.starts_with(&format!(
            "{shown}:{}: bases[2].upstream `registry.access.redhat.com/ubi9/ubi-minimal:",
            upstream_line(&original, 2)
        )) && e.contains("failed to reach registry")
            && e.contains(&dead)
            && e.contains("hint:"),
        "{e}"
    );
    // The errors are on stderr too (stdout is JSON), and nothing was rewritten.
    let err = stderr(&o);
    assert!(
        err.contains("tag `3.20` not found") && err.contains("failed to reach registry"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&config).unwrap(), original);
}

#[test]
fn malformed_upstream_names_the_file_and_line() {
    let text = std::fs::read_to_string(shipped_config()).unwrap();
    let line = upstream_line(&text, 0);
    let bad = text.replacen(
        "upstream: docker.io/library/debian:bookworm-slim@sha256:",
        "upstream: docker.io/library/Debian:bookworm-slim@sha256:",
        1,
    );
    assert_ne!(bad, text);
    let dir = tempfile::tempdir().unwrap();
    let config = write_catalog(dir.path(), &bad);
    let shown = config.display().to_string();
    let o = crate::golden_plan(&["upstreams", "--config", &shown, "--format", "json"], &[]);
    assert_eq!(code(&o), 2, "{}\n{}", stdout(&o), stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains(&format!("{shown}:{line}:"))
            && err.contains("bases[0].upstream")
            && err.contains("hint:"),
        "{err}"
    );
    assert!(
        stdout(&o).is_empty(),
        "no report for a config that does not load"
    );

    // An unpinned upstream (no digest) is refused the same way.
    let unpinned = text.replacen(
        &text.lines().nth(line - 1).unwrap().to_string(),
        "    upstream: docker.io/library/debian:bookworm-slim",
        1,
    );
    let config = write_catalog(dir.path(), &unpinned);
    let o = crate::golden_plan(&["upstreams", "--config", &shown], &[]);
    assert_eq!(code(&o), 2);
    let err = stderr(&o);
    assert!(
        err.contains(&format!("{shown}:{line}:")) && err.contains("not pinned"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(config).unwrap(), unpinned);
}

#[test]
fn bad_registry_map_is_explained() {
    let o = crate::golden_plan(
        &[
            "upstreams",
            "--registry-map",
            "docker.io",
            "--format",
            "json",
        ],
        &[],
    );
    assert_eq!(code(&o), 2);
    let err = stderr(&o);
    assert!(
        err.contains("--registry-map") && err.contains("`docker.io`") && err.contains("hint:"),
        "{err}"
    );
    let o = crate::golden_plan(
        &["upstreams", "--format", "json"],
        &[("GOLDEN_REGISTRY_MAP", "docker.io=http://127.0.0.1:1")],
    );
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("GOLDEN_REGISTRY_MAP"), "{}", stderr(&o));
}

/// docs/renovate-upstreams.json5's regex captures exactly each base's upstream (name, tag,
/// digest) of the shipped catalog, also when quoted.
#[test]
fn renovate_regex_matches_every_upstream_line() {
    let doc = std::fs::read_to_string(repo_root().join("docs/renovate-upstreams.json5")).unwrap();
    let line = doc
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("'upstream:"))
        .expect("the matchStrings entry");
    // A single-quoted JSON5 string: drop the quotes (and the comma), undo the escapes.
    let js = line.trim_end_matches(',').trim_matches('\'');
    let re = regex::Regex::new(&js.replace("\\'", "'").replace("\\\\", "\\")).unwrap();
    let text = std::fs::read_to_string(shipped_config()).unwrap();
    let catalog = golden_plan::config::load_str(
        "build-config.yaml",
        &text,
        &golden_plan::config::RegistryOverride::default(),
    )
    .unwrap();
    let found: Vec<String> = re
        .captures_iter(&text)
        .map(|c| {
            format!(
                "{}:{}@{}",
                &c["depName"], &c["currentValue"], &c["currentDigest"]
            )
        })
        .collect();
    let want: Vec<String> = catalog.bases.iter().map(|b| b.upstream.clone()).collect();
    assert_eq!(found, want);
    assert_eq!(want.len(), 3);
    let quoted = format!("  upstream: \"{}\"\n", want[1]);
    let c = re.captures(&quoted).unwrap();
    assert_eq!(&c["currentValue"], "3.20");
}
