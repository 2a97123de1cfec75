//! Helpers: run the binary, reach the engine (or fail loudly), the busybox test image, cleanup.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use golden_engine::Engine;

/// The repository root (for fixtures).
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn fixtures() -> PathBuf {
    repo().join("tests/fixtures/build")
}

/// `golden-build` with a clean environment: nothing from GitHub Actions or GOLDEN_* leaks in.
pub fn golden_build(cwd: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_golden-build"));
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy();
        if k.starts_with("GITHUB_")
            || k.starts_with("GOLDEN_")
            || k == "SOURCE_DATE_EPOCH"
            || k == "RUNNER_TEMP"
        {
            c.env_remove(&*k);
        }
    }
    c.current_dir(cwd);
    c
}

#[derive(Debug)]
pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    pub fn both(&self) -> String {
        format!("--- stdout\n{}\n--- stderr\n{}", self.stdout, self.stderr)
    }
}

pub fn run(c: &mut Command) -> Out {
    let o = c.output().expect("failed to run golden-build");
    Out {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

pub fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// The engine; a test that needs it fails (never skips) when none answers.
pub fn engine() -> Engine {
    rt().block_on(Engine::connect())
        .unwrap_or_else(|e| panic!("docker engine required: run scripts/ensure-docker.sh ({e})"))
}

pub fn inspect(image: &str) -> Option<golden_engine::ImageInfo> {
    let e = engine();
    rt().block_on(e.inspect_image(image)).ok()
}

pub fn labels_of(image: &str) -> std::collections::HashMap<String, String> {
    inspect(image)
        .and_then(|i| i.config)
        .and_then(|c| c.labels)
        .unwrap_or_default()
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A tag no other test (or test run) uses.
pub fn unique_tag(what: &str) -> String {
    format!(
        "golden-build-test-{what}:{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    )
}

/// Removes the tags a test created when it ends (pass or fail).
#[derive(Default)]
pub struct Cleanup(pub Vec<String>);

impl Cleanup {
    pub fn add(&mut self, tag: &str) -> String {
        self.0.push(tag.to_string());
        tag.to_string()
    }

    /// Also remove the untagged images a build printed (` ---> <id>` per step and
    /// `Successfully built <id>`): failed and untagged builds leave them behind. The image a
    /// `FROM` step names is not ours and is skipped. Removal goes newest first; an image another
    /// image still builds on is left alone by the engine.
    pub fn add_built(&mut self, build_output: &str) {
        let mut after_from = false;
        for line in build_output.lines() {
            let t = line.trim();
            if t.starts_with("Step ") {
                after_from = t.split_once(" : ").is_some_and(|(_, i)| {
                    i.get(..5).is_some_and(|w| w.eq_ignore_ascii_case("FROM "))
                });
                continue;
            }
            let id = t
                .strip_prefix("---> ")
                .or_else(|| t.strip_prefix("Successfully built "))
                .map(str::trim);
            if let Some(id) = id
                && id.len() == 12
                && id.bytes().all(|b| b.is_ascii_hexdigit())
            {
                if after_from {
                    after_from = false;
                    continue;
                }
                self.0.insert(0, id.to_string());
            }
        }
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let Ok(e) = rt().block_on(Engine::connect()) else {
            return;
        };
        for t in &self.0 {
            let _ = rt().block_on(e.remove_image(t, false));
        }
    }
}

/// The busybox test image (Debian's static busybox copied into scratch, applets installed),
/// built once and kept: its tag carries the binary's hash, so it is rebuilt only when busybox
/// changes.
pub fn busybox() -> String {
    static TAG: OnceLock<String> = OnceLock::new();
    TAG.get_or_init(|| {
        use sha2::Digest;
        let bin = std::fs::read("/bin/busybox").expect("/bin/busybox (Debian package busybox-static) is required");
        let hash = sha2::Sha256::digest(&bin);
        let hex: String = hash.iter().take(6).map(|b| format!("{b:02x}")).collect();
        let tag = format!("golden-build-test-busybox:{hex}");
        if inspect(&tag).is_some() {
            return tag;
        }
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("busybox"), &bin).expect("copy busybox");
        let mut perms = std::fs::metadata(dir.path().join("busybox")).expect("stat").permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
        std::fs::set_permissions(dir.path().join("busybox"), perms).expect("chmod");
        std::fs::write(
            dir.path().join("Dockerfile"),
            "FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]\nCMD [\"/bin/sh\"]\n",
        )
        .expect("write Dockerfile");
        let out = run(golden_build(dir.path())
            .args(["--repo-root", ".", "--context", ".", "--tag", &tag, "--quiet"]));
        assert_eq!(out.code, 0, "building the busybox test image failed\n{}", out.both());
        tag
    })
    .clone()
}

/// Write files (`path` → content; a path ending in `/` makes a directory).
pub fn write_tree(root: &Path, files: &[(&str, &str)]) {
    for (p, content) in files {
        let path = root.join(p);
        if p.ends_with('/') {
            std::fs::create_dir_all(&path).expect("mkdir");
        } else {
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(&path, content).expect("write");
        }
    }
}
