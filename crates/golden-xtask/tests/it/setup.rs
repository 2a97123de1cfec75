//! actions/setup: the release path's verification (against a `file://` fake release), the
//! artifact path, and a real cargo build of the workspace.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::harness::*;

const BINS: [&str; 5] = [
    "golden-plan",
    "golden-build",
    "golden-scan",
    "golden-push",
    "golden-report",
];

fn target() -> &'static str {
    match std::env::consts::ARCH {
        "aarch64" => "aarch64-unknown-linux-musl",
        _ => "x86_64-unknown-linux-musl",
    }
}

/// A release folder `<root>/<tag>/{golden-<tag>-<target>.tar.gz, SHA256SUMS}` with fake binaries
/// that print `<name> 9.9.9`.
fn fake_release(root: &Path, tag: &str, extra_member: Option<&str>) -> PathBuf {
    let name = format!("golden-{tag}-{}", target());
    let stage = root.join("stage").join(&name);
    std::fs::create_dir_all(&stage).unwrap();
    for b in BINS {
        let p = stage.join(b);
        std::fs::write(&p, format!("#!/bin/sh\necho '{b} 9.9.9'\n")).unwrap();
        Command::new("chmod").arg("755").arg(&p).status().unwrap();
    }
    let dir = root.join("release").join(tag);
    std::fs::create_dir_all(&dir).unwrap();
    let asset = dir.join(format!("{name}.tar.gz"));
    let mut tar = Command::new("tar");
    tar.arg("-czf")
        .arg(&asset)
        .arg("-C")
        .arg(root.join("stage"))
        .arg(&name);
    if let Some(m) = extra_member {
        tar.arg("--transform")
            .arg(format!("s,^{name}/golden-plan$,{m},"));
    }
    assert!(tar.status().unwrap().success());
    std::fs::write(
        dir.join("SHA256SUMS"),
        format!("{}  {name}.tar.gz\n", sha256_file(&asset)),
    )
    .unwrap();
    dir
}

fn release_runner<'a>(t: &Path, release_root: &Path) -> golden_xtask::Runner<'a> {
    runner("setup", t)
        .input("source", "release")
        .input("version", "v9.9.9")
        .input("repository", "example/golden-images")
        .input(
            "release-url",
            format!("file://{}", release_root.join("release").display()),
        )
        .input("install-dir", t.join("bin").display().to_string())
        .input("verify-attestation", "false")
}

#[test]
fn release_with_pinned_sums_installs_and_adds_to_path() {
    let t = tempdir("setup");
    let dir = fake_release(t.path(), "v9.9.9", None);
    let r = release_runner(t.path(), t.path())
        .input("sha256sums-sha256", sha256_file(&dir.join("SHA256SUMS")))
        .run()
        .unwrap();
    assert_ok(&r);
    assert_eq!(r.output("verified-by"), "pinned-sha256sums");
    assert_eq!(r.output("source"), "release");
    assert_eq!(r.output("version"), "golden-plan 9.9.9");
    let bin = t.path().join("bin");
    assert_eq!(r.output("bin-dir"), bin.display().to_string());
    assert_eq!(
        r.path,
        [bin.display().to_string()],
        "GITHUB_PATH gets the bin dir"
    );
    for b in BINS {
        assert!(bin.join(b).is_file(), "{b} installed");
    }
    assert!(
        r.uses.is_empty(),
        "no cache or artifact action on the release path: {:?}",
        r.uses
    );
}

#[test]
fn release_refuses_a_tampered_archive() {
    let t = tempdir("setup");
    let dir = fake_release(t.path(), "v9.9.9", None);
    let pinned = sha256_file(&dir.join("SHA256SUMS"));
    // Replace the archive after SHA256SUMS was written (what a compromised download looks like).
    let asset = dir.join(format!("golden-v9.9.9-{}.tar.gz", target()));
    std::fs::write(&asset, b"not the archive").unwrap();
    let r = release_runner(t.path(), t.path())
        .input("sha256sums-sha256", pinned)
        .run()
        .unwrap();
    assert!(!r.success);
    let err = r
        .commands
        .iter()
        .find(|c| c.name == "error")
        .expect("error annotation");
    assert!(
        err.value.contains("but SHA256SUMS says") && err.value.contains("refusing to install"),
        "{err:?}"
    );
    assert!(
        !t.path().join("bin/golden-plan").exists(),
        "nothing installed"
    );
    assert!(r.path.is_empty());
}

#[test]
fn release_refuses_sums_that_do_not_match_the_pin() {
    let t = tempdir("setup");
    fake_release(t.path(), "v9.9.9", None);
    let r = release_runner(t.path(), t.path())
        .input("sha256sums-sha256", "0".repeat(64))
        .run()
        .unwrap();
    assert!(!r.success);
    let err = r.commands.iter().find(|c| c.name == "error").unwrap();
    assert!(
        err.value.contains("expected 0000") && err.value.contains("pinned-sha256sums"),
        "{err:?}"
    );
    assert!(!t.path().join("bin/golden-plan").exists());
}

#[test]
fn release_without_any_trusted_checksum_is_refused() {
    let t = tempdir("setup");
    fake_release(t.path(), "v9.9.9", None);
    let r = release_runner(t.path(), t.path()).run().unwrap();
    assert!(!r.success);
    let err = r.commands.iter().find(|c| c.name == "error").unwrap();
    assert!(
        err.value
            .contains("no trusted checksum for example/golden-images v9.9.9"),
        "{err:?}"
    );
    assert!(!t.path().join("bin/golden-plan").exists());
}

#[test]
fn release_archive_escaping_the_install_dir_is_refused() {
    let t = tempdir("setup");
    let dir = fake_release(t.path(), "v9.9.9", Some("../../escaped"));
    let r = release_runner(t.path(), t.path())
        .input("sha256sums-sha256", sha256_file(&dir.join("SHA256SUMS")))
        .run()
        .unwrap();
    assert!(!r.success);
    let err = r.commands.iter().find(|c| c.name == "error").unwrap();
    assert!(
        err.value.contains("escapes the install directory"),
        "{err:?}"
    );
    assert!(!t.path().join("escaped").exists());
}

#[test]
fn release_version_and_repository_are_validated() {
    let t = tempdir("setup");
    let r = runner("setup", t.path())
        .input("source", "release")
        .input("version", "v1;touch x")
        .input("repository", "example/golden")
        .run()
        .unwrap();
    assert_fails_with(&r, "characters a tag cannot have");
    let r = runner("setup", t.path())
        .input("source", "release")
        .input("version", "v1.0.0")
        .input("repository", "../../etc")
        .run()
        .unwrap();
    assert_fails_with(&r, "must be owner/repo");
}

#[test]
fn release_version_defaults_to_the_workspace_version() {
    let t = tempdir("setup");
    let r = runner("setup", t.path())
        .input("source", "release")
        .input("repository", "example/golden")
        .input("release-url", "file:///nonexistent-golden-xtask")
        .run()
        .unwrap();
    // The download fails (nothing there), but resolve already named the tag and asset.
    assert!(!r.success);
    let resolve = r.step("resolve").unwrap();
    let cargo = std::fs::read_to_string(repo_root().join("Cargo.toml")).unwrap();
    let version = cargo
        .lines()
        .skip_while(|l| l.trim() != "[workspace.package]")
        .find_map(|l| {
            l.strip_prefix("version = \"")
                .and_then(|v| v.strip_suffix('"'))
        })
        .unwrap();
    assert_eq!(resolve.outputs["version"], format!("v{version}"));
    assert_eq!(
        resolve.outputs["asset"],
        format!("golden-v{version}-{}.tar.gz", target())
    );
}

#[test]
fn artifact_source_restores_the_executable_bit() {
    let t = tempdir("setup");
    let src = t.path().join("uploaded");
    std::fs::create_dir_all(&src).unwrap();
    for b in BINS {
        // As download-artifact leaves them: mode 0644.
        std::fs::write(src.join(b), format!("#!/bin/sh\necho '{b} 1.0.0'\n")).unwrap();
    }
    let mut calls = Vec::new();
    let r = runner("setup", t.path())
        .input("source", "artifact")
        .input("install-dir", t.path().join("bin").display().to_string())
        .on_uses(|c| {
            calls.push((c.uses.clone(), c.with.clone()));
            if c.uses.starts_with("actions/download-artifact@") {
                let dest = PathBuf::from(&c.with["path"]);
                std::fs::create_dir_all(&dest).map_err(|e| e.to_string())?;
                for b in BINS {
                    std::fs::copy(src.join(b), dest.join(b)).map_err(|e| e.to_string())?;
                }
            }
            Ok(BTreeMap::new())
        })
        .run()
        .unwrap();
    assert_ok(&r);
    assert_eq!(r.output("version"), "golden-plan 1.0.0");
    assert_eq!(calls.len(), 1, "only the download: {calls:?}");
    assert!(
        calls[0]
            .0
            .starts_with("actions/download-artifact@d3f86a106a0bac45b974a628896c90dbdf5c8093")
    );
    assert_eq!(calls[0].1["name"], "golden-binaries-x64");
}

#[test]
fn artifact_source_with_a_missing_binary_fails() {
    let t = tempdir("setup");
    let r = runner("setup", t.path())
        .input("source", "artifact")
        .input("install-dir", t.path().join("bin").display().to_string())
        .run()
        .unwrap();
    assert_fails_with(&r, "golden-plan is missing");
}

#[test]
fn build_source_compiles_the_workspace_and_uploads_the_artifact() {
    let t = tempdir("setup");
    let mut calls = Vec::new();
    let r = runner("setup", t.path())
        .input("source", "build")
        .input("cargo-profile", "dev")
        .input("upload-artifact", "true")
        .input("install-dir", t.path().join("bin").display().to_string())
        .on_uses(|c| {
            calls.push(c.clone());
            let mut out = BTreeMap::new();
            if c.uses.starts_with("actions/cache@") {
                out.insert("cache-hit".to_string(), "false".to_string());
            }
            Ok(out)
        })
        .run()
        .unwrap();
    assert_ok(&r);
    for b in BINS {
        assert!(
            t.path().join("bin").join(b).is_file(),
            "{b} built and installed"
        );
    }
    let caches: Vec<_> = calls
        .iter()
        .filter(|c| c.uses.starts_with("actions/cache@"))
        .collect();
    assert_eq!(caches.len(), 2, "binary cache + cargo cache");
    let key = &caches[0].with["key"];
    assert!(
        key.starts_with("golden-bin-linux-") && key.contains("-dev-rustc"),
        "{key}"
    );
    assert!(
        caches[1].with["path"].contains("target"),
        "{:?}",
        caches[1].with
    );
    let upload = calls
        .iter()
        .find(|c| c.uses.starts_with("actions/upload-artifact@"))
        .expect("upload");
    assert_eq!(upload.with["if-no-files-found"], "error");
    assert_eq!(
        upload.with["path"],
        t.path().join("bin").display().to_string()
    );
}

/// A self-hosted runner may lack what the jobs run: the first step names every missing command
/// (the common ones and the job's `tools`, e.g. docker) with where to read more, before anything
/// is downloaded or built.
#[test]
fn missing_runner_tools_are_named_together() {
    let t = tempdir("setup");
    let r = runner("setup", t.path())
        .input("source", "artifact")
        .input("tools", "golden-no-such-tool, docker-not-here")
        .input("install-dir", t.path().join("bin").display().to_string())
        .run()
        .unwrap();
    assert_fails_with(
        &r,
        "this runner lacks golden-no-such-tool docker-not-here: install them on it",
    );
    assert_fails_with(&r, "docs/workflows.md, Runners");
    assert!(
        r.step("resolve")
            .is_some_and(|s| s.outcome == golden_xtask::runner::Outcome::Failure),
        "the resolve step fails:\n{}",
        r.log()
    );

    let r = runner("setup", t.path())
        .input("source", "artifact")
        .input("tools", "docker;rm")
        .input("install-dir", t.path().join("bin").display().to_string())
        .run()
        .unwrap();
    assert_fails_with(&r, "input `tools`: `docker;rm` is not a command name");
}
