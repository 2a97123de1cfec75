//! Shared helpers: where the repository and the golden binaries are, a runner for one action,
//! and loud failures when the engine or registry a test needs is missing.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use golden_xtask::{RunResult, Runner};

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repository root")
}

pub fn action_dir(tool: &str) -> PathBuf {
    repo_root().join("actions").join(tool)
}

/// Build (if needed) the named golden binaries and return the directory holding them.
pub fn golden_bins(bins: &[&str]) -> PathBuf {
    static LOCK: OnceLock<std::sync::Mutex<()>> = OnceLock::new();
    let _g = LOCK
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let root = repo_root();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&root).args(["build", "-q"]);
    for b in bins {
        cmd.args(["-p", b, "--bin", b]);
    }
    let status = cmd.status().expect("run cargo build");
    assert!(status.success(), "cargo build of {bins:?} failed");
    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
        .join("debug");
    for b in bins {
        assert!(
            dir.join(b).is_file(),
            "{} missing after cargo build",
            dir.join(b).display()
        );
    }
    dir
}

/// PATH with `dir` first.
pub fn path_with(dir: &Path) -> String {
    format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// A runner for `actions/<tool>` with the repository as workspace and a fresh RUNNER_TEMP.
pub fn runner<'a>(tool: &str, temp: &Path) -> Runner<'a> {
    Runner::new(action_dir(tool), repo_root(), temp.join("runner-temp"))
        .github("repository", "example/golden-images")
        .github("sha", "0123456789abcdef0123456789abcdef01234567")
        .github("ref", "refs/heads/main")
        .github("run_id", "4242")
        .github("run_attempt", "1")
}

/// Assert the action succeeded, printing every step's output otherwise.
pub fn assert_ok(r: &RunResult) {
    assert!(r.success, "action failed:\n{}", r.log());
}

/// Assert the action failed with a workflow command (an `::error` annotation) holding `needle`.
pub fn assert_fails_with(r: &RunResult, needle: &str) {
    assert!(!r.success, "the action succeeded:\n{}", r.log());
    assert!(
        r.commands.iter().any(|c| c.value.contains(needle)),
        "no workflow command says `{needle}`:\n{}",
        r.log()
    );
}

/// The sha256 of a file, as `sha256sum` prints it (what the actions compare against).
pub fn sha256_file(p: &Path) -> String {
    let out = Command::new("sha256sum")
        .arg(p)
        .output()
        .expect("sha256sum");
    assert!(out.status.success(), "sha256sum {}", p.display());
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .expect("sha256sum output")
        .to_string()
}

pub fn require_docker() {
    let ok = Command::new("docker")
        .args(["version", "--format", "{{.Server.APIVersion}}"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        panic!("docker engine required: run scripts/ensure-docker.sh");
    }
}

/// A registry started with scripts/registry.sh on a random loopback port; stopped on drop.
pub struct Registry {
    pub port: u16,
    pub dir: tempfile::TempDir,
}

impl Registry {
    pub fn start() -> Self {
        let have = Command::new("sh")
            .args(["-c", "command -v docker-registry"])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        if !have {
            panic!(
                "docker-registry required: run scripts/setup.sh (Debian package docker-registry)"
            );
        }
        let dir = tempfile::Builder::new()
            .prefix("golden-xtask-registry-")
            .tempdir()
            .expect("tempdir");
        for _ in 0..5 {
            let port = free_port();
            let out = Command::new(repo_root().join("scripts/registry.sh"))
                .args(["start", "--port", &port.to_string(), "--dir"])
                .arg(dir.path())
                .output()
                .expect("run scripts/registry.sh");
            if out.status.success() {
                return Registry { port, dir };
            }
            eprintln!(
                "registry start on {port} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        panic!("could not start a registry with scripts/registry.sh");
    }
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = Command::new(repo_root().join("scripts/registry.sh"))
            .args(["stop", "--dir"])
            .arg(self.dir.path())
            .status();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

pub fn tempdir(tag: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("golden-xtask-{tag}-"))
        .tempdir()
        .expect("tempdir")
}
