//! Test support: real `docker-registry` instances (through scripts/registry.sh), docker-save
//! archives built in-process, the golden-push binary, skopeo, schema validation, and a tiny
//! HTTP server (used by the fault-injecting proxy and the ACR-like token service).

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use sha2::{Digest, Sha256};

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Fail loudly when a tool the tests need is missing.
pub fn require(tool: &str) {
    let ok = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(
        ok,
        "{tool} is required for this test: run scripts/setup.sh (it installs docker-registry, skopeo, docker.io)"
    );
}

pub fn require_engine() {
    require("docker");
    let ok = Command::new("docker")
        .args(["version", "--format", "{{.Server.Version}}"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(ok, "docker engine required: run scripts/ensure-docker.sh");
}

pub fn sha256(b: &[u8]) -> String {
    format!("sha256:{}", hex(&Sha256::digest(b)))
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A real registry started with scripts/registry.sh; stopped on drop.
pub struct Registry {
    pub port: u16,
    pub dir: tempfile::TempDir,
    pub args: Vec<String>,
}

impl Registry {
    pub fn start() -> Registry {
        Self::start_with(&[])
    }

    pub fn start_with(extra: &[String]) -> Registry {
        require("docker-registry");
        require("curl");
        for _ in 0..5 {
            let port = free_port();
            let r = Registry {
                port,
                dir: tempfile::Builder::new()
                    .prefix("golden-push-test-reg")
                    .tempdir()
                    .unwrap(),
                args: extra.to_vec(),
            };
            if r.try_start() {
                return r;
            }
        }
        panic!("could not start docker-registry (see scripts/registry.sh output above)");
    }

    fn script(&self, args: &[&str]) -> Output {
        Command::new(repo_root().join("scripts/registry.sh"))
            .args(args)
            .output()
            .expect("run scripts/registry.sh")
    }

    fn try_start(&self) -> bool {
        let port = self.port.to_string();
        let dir = self.dir.path().display().to_string();
        let mut args = vec!["start", "--port", &port, "--dir", &dir];
        args.extend(self.args.iter().map(String::as_str));
        let out = self.script(&args);
        if !out.status.success() {
            eprintln!("registry.sh: {}", String::from_utf8_lossy(&out.stderr));
        }
        out.status.success()
    }

    pub fn restart(&self) {
        assert!(self.try_start(), "registry restart failed");
    }

    pub fn stop(&self) {
        let dir = self.dir.path().display().to_string();
        let out = self.script(&["stop", "--dir", &dir]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let dir = self.dir.path().display().to_string();
        let _ = self.script(&["stop", "--dir", &dir]);
    }
}

/// One file of a synthetic layer.
pub struct File<'a> {
    pub path: &'a str,
    pub data: Vec<u8>,
}

fn layer_tar(files: &[File<'_>]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for f in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(f.data.len() as u64);
        h.set_mode(0o755);
        h.set_mtime(0);
        h.set_cksum();
        b.append_data(&mut h, f.path, &f.data[..]).unwrap();
    }
    b.into_inner().unwrap()
}

/// Deterministic pseudo-random bytes (incompressible).
pub fn noise(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    let mut v = Vec::with_capacity(n + 8);
    while v.len() < n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.extend_from_slice(&x.to_le_bytes());
    }
    v.truncate(n);
    v
}

/// Write a `docker save`-style archive with the given layers; returns its path.
pub fn make_archive(
    dir: &Path,
    name: &str,
    arch: &str,
    layers: &[Vec<File<'_>>],
    labels: &[(&str, &str)],
) -> PathBuf {
    let mut out = tar::Builder::new(Vec::new());
    let mut diff_ids = Vec::new();
    let mut paths = Vec::new();
    for (i, files) in layers.iter().enumerate() {
        let t = layer_tar(files);
        diff_ids.push(sha256(&t));
        let p = format!("l{i}/layer.tar");
        let mut h = tar::Header::new_gnu();
        h.set_size(t.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        out.append_data(&mut h, &p, &t[..]).unwrap();
        paths.push(p);
    }
    let labels: BTreeMap<&str, &str> = labels.iter().copied().collect();
    let config = serde_json::json!({
        "architecture": arch,
        "os": "linux",
        "config": {"Labels": labels, "Cmd": ["/bin/true"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [{"created_by": format!("golden-push test {name}")}],
    });
    let config = serde_json::to_vec(&config).unwrap();
    let config_name = format!("{}.json", &sha256(&config)[7..]);
    for (p, data) in [
        (config_name.clone(), config.clone()),
        (
            "manifest.json".to_string(),
            serde_json::to_vec(&serde_json::json!([{"Config": config_name, "RepoTags": [format!("golden-push-test-{name}:1")], "Layers": paths}]))
                .unwrap(),
        ),
    ] {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        out.append_data(&mut h, &p, &data[..]).unwrap();
    }
    let path = dir.join(format!("{name}.tar"));
    std::fs::write(&path, out.into_inner().unwrap()).unwrap();
    path
}

/// A small two-layer archive.
pub fn small_archive(dir: &Path, name: &str, arch: &str) -> PathBuf {
    make_archive(
        dir,
        name,
        arch,
        &[
            vec![File {
                path: "bin/tool",
                data: noise(300_000, 1),
            }],
            vec![File {
                path: "etc/name",
                data: format!("{name}\n").into_bytes(),
            }],
        ],
        &[
            ("org.opencontainers.image.title", name),
            ("org.opencontainers.image.version", "1.0"),
        ],
    )
}

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_golden-push"))
}

/// The result of one golden-push run.
pub struct Run {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
    pub outputs: BTreeMap<String, String>,
}

impl Run {
    pub fn ok(&self) -> &Self {
        assert_eq!(
            self.status, 0,
            "golden-push failed:\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
    pub fn failed(&self) -> &Self {
        assert_eq!(
            self.status, 2,
            "golden-push should fail with 2:\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\n{}",
                self.stdout, self.stderr
            )
        })
    }
    pub fn output(&self, k: &str) -> &str {
        self.outputs
            .get(k)
            .unwrap_or_else(|| panic!("no output {k}: {:?}", self.outputs))
    }
}

/// Run golden-push with a clean environment (no ambient credentials) plus `env`.
pub async fn golden_push(args: &[&str], env: &[(&str, String)]) -> Run {
    let home = tempfile::Builder::new()
        .prefix("golden-push-test-home")
        .tempdir()
        .unwrap();
    let out_file = home.path().join("github-output");
    let mut cmd = tokio::process::Command::new(bin());
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home.path())
        .env("DOCKER_CONFIG", home.path().join("docker"))
        .env("GOLDEN_CACHE_DIR", home.path().join("cache"))
        .env("GITHUB_OUTPUT", &out_file)
        .env("TMPDIR", std::env::temp_dir());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().await.expect("run golden-push");
    let text = std::fs::read_to_string(&out_file).unwrap_or_default();
    let outputs = golden_gha::parse_env_file(&text)
        .expect("GITHUB_OUTPUT parses")
        .into_iter()
        .collect();
    Run {
        status: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        outputs,
    }
}

/// `skopeo inspect` (or `--raw` when `raw`) of `docker://reference` over plain HTTP.
pub fn skopeo(reference: &str, raw: bool, creds: Option<&str>) -> Result<String, String> {
    require("skopeo");
    let mut cmd = Command::new("skopeo");
    cmd.args(["inspect", "--tls-verify=false"]);
    if raw {
        cmd.arg("--raw");
    }
    if let Some(c) = creds {
        cmd.args(["--creds", c]);
    }
    let out = cmd
        .arg(format!("docker://{reference}"))
        .output()
        .expect("run skopeo");
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// Validate `doc` against one of tests/fixtures/third-party/schemas/oci-image-spec/*.json with
/// check-jsonschema. The spec's schemas carry `id`s pointing at opencontainers.org (not
/// reachable here): a copy without them resolves the `$ref`s locally.
pub fn validate_oci_schema(doc: &str, schema: &str) {
    let checker = repo_root().join(".venv/bin/check-jsonschema");
    assert!(
        checker.exists(),
        "check-jsonschema required: run scripts/setup.sh"
    );
    let src = repo_root().join("tests/fixtures/third-party/schemas/oci-image-spec");
    let dir = tempfile::tempdir().unwrap();
    fn strip(v: serde_json::Value) -> serde_json::Value {
        match v {
            serde_json::Value::Object(m) => serde_json::Value::Object(
                m.into_iter()
                    .filter(|(k, v)| {
                        !(k == "id"
                            && v.as_str()
                                .is_some_and(|s| s.starts_with("https://opencontainers.org")))
                    })
                    .map(|(k, v)| (k, strip(v)))
                    .collect(),
            ),
            serde_json::Value::Array(a) => {
                serde_json::Value::Array(a.into_iter().map(strip).collect())
            }
            other => other,
        }
    }
    for e in std::fs::read_dir(&src).unwrap() {
        let e = e.unwrap();
        let v: serde_json::Value =
            serde_json::from_slice(&std::fs::read(e.path()).unwrap()).unwrap();
        std::fs::write(
            dir.path().join(e.file_name()),
            serde_json::to_vec(&strip(v)).unwrap(),
        )
        .unwrap();
    }
    let docf = dir.path().join("doc.json");
    std::fs::write(&docf, doc).unwrap();
    let out = Command::new(checker)
        .arg("--schemafile")
        .arg(dir.path().join(schema))
        .arg(&docf)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{schema} validation failed:\n{}\n{}\n{doc}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

pub type Handler = Arc<
    dyn Fn(
            Request<Bytes>,
        ) -> std::pin::Pin<
            Box<dyn std::future::Future<Output = Result<Response<Full<Bytes>>, String>> + Send>,
        > + Send
        + Sync,
>;

/// Serve `handler` on a random loopback port. A handler error closes the connection without
/// an answer (what a dying server looks like to the client).
pub async fn serve(handler: Handler) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let h = handler.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |req: Request<Incoming>| {
                    let h = h.clone();
                    async move {
                        let (parts, body) = req.into_parts();
                        let body = body
                            .collect()
                            .await
                            .map(|b| b.to_bytes())
                            .unwrap_or_default();
                        match h(Request::from_parts(parts, body)).await {
                            Ok(r) => Ok::<_, String>(r),
                            Err(e) => Err(e),
                        }
                    }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    addr
}

pub fn response(status: u16, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .body(Full::new(body.into()))
        .unwrap()
}

pub fn infallible<T>(t: T) -> Result<T, Infallible> {
    Ok(t)
}

/// Parse an `application/x-www-form-urlencoded` body or query string.
pub fn form(s: &str) -> Vec<(String, String)> {
    reqwest::Url::parse(&format!("http://x/?{s}"))
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// The result of one run of the push action's step script.
pub struct ActionRun {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
    /// `$GITHUB_OUTPUT` as written (raw), and parsed.
    pub output_file: String,
    pub outputs: BTreeMap<String, String>,
}

impl ActionRun {
    pub fn ok(&self) -> &Self {
        assert_eq!(
            self.status, 0,
            "push.sh failed:\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
    pub fn output(&self, k: &str) -> &str {
        self.outputs
            .get(k)
            .unwrap_or_else(|| panic!("no output {k}: {:?}", self.outputs))
    }
}

/// Run `actions/push/push.sh` the way the composite action does: inputs as environment
/// variables, `GITHUB_ACTIONS=true`, `$GITHUB_OUTPUT` a file, golden-push (this build) on PATH,
/// nothing else from the ambient environment.
pub async fn push_action(env: &[(&str, String)]) -> ActionRun {
    let home = tempfile::Builder::new()
        .prefix("golden-push-action-home")
        .tempdir()
        .unwrap();
    let out_file = home.path().join("github-output");
    std::fs::write(&out_file, "").unwrap();
    let bin_dir = bin().parent().unwrap().to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = tokio::process::Command::new("bash");
    cmd.arg(repo_root().join("actions/push/push.sh"))
        .env_clear()
        .env("PATH", path)
        .env("HOME", home.path())
        .env("RUNNER_TEMP", home.path().join("runner-temp"))
        .env("DOCKER_CONFIG", home.path().join("docker"))
        .env("GOLDEN_CACHE_DIR", home.path().join("cache"))
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_OUTPUT", &out_file)
        .env("TMPDIR", std::env::temp_dir());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().await.expect("run push.sh");
    let text = std::fs::read_to_string(&out_file).unwrap_or_default();
    let outputs = golden_gha::parse_env_file(&text)
        .expect("GITHUB_OUTPUT parses")
        .into_iter()
        .collect();
    ActionRun {
        status: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        output_file: text,
        outputs,
    }
}

/// A plan entry (JSON) whose first tag is `<host>/<repo>:1`, with a dated tag in the same
/// repository and one in another repository (not pushed).
pub fn plan_entry(id: &str, host: &str, repo: &str) -> String {
    serde_json::json!({
        "id": id,
        "stage": "platform",
        "os": "debian",
        "platform": "app",
        "name": "app",
        "version": "1",
        "dockerfile": "platforms/app/Dockerfile",
        "context": "platforms/app",
        "image": format!("{host}/{repo}"),
        "tags": [
            format!("{host}/{repo}:1"),
            format!("{host}/{repo}:1-20260101"),
            format!("{host}/elsewhere/app:1"),
        ],
        "policy": "configs/policy.yaml",
        "offline": true,
    })
    .to_string()
}
