//! Integration tests for golden-plan: plan snapshots for the shipped catalog, bad configs with
//! located messages, the git-driven change detection, and the `$GITHUB_OUTPUT` round trip.

// Test helpers: a failed setup step should panic with its error.
#![allow(clippy::unwrap_used)]

mod bad_input;
mod cli;
mod snapshots;
mod upstreams;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

pub fn shipped_config() -> PathBuf {
    repo_root().join("configs/build-config.yaml")
}

/// Run the real binary with a clean GitHub environment (no accidental GITHUB_* from the host).
pub fn golden_plan(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_golden-plan"));
    cmd.args(args).current_dir(repo_root());
    for (k, _) in std::env::vars() {
        if k.starts_with("GITHUB_") || k.starts_with("GOLDEN_") || k == "SOURCE_DATE_EPOCH" {
            cmd.env_remove(k);
        }
    }
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.output().expect("run golden-plan")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Fixed inputs so snapshots do not depend on today's date or the checkout's commit.
pub const FIXED: [&str; 4] = [
    "--date",
    "20261127",
    "--sha",
    "0123456789abcdef0123456789abcdef01234567",
];
