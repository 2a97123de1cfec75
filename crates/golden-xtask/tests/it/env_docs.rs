//! `golden-xtask env-docs --check` on a temporary copy of docs/environment.md: up to date
//! passes, a stale copy exits 1 and names the file.

use std::path::Path;
use std::process::Command;

fn env_docs(root: &Path, check: bool) -> std::process::Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_golden-xtask"));
    c.arg("env-docs").arg("--root").arg(root);
    if check {
        c.arg("--check");
    }
    c.env_remove("GOLDEN_CHECK")
        .env_remove("GOLDEN_REPO_ROOT")
        .output()
        .unwrap()
}

#[test]
fn check_fails_on_a_stale_copy_and_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = env_docs(dir.path(), false);
    assert!(out.status.success(), "{out:?}");
    let file = dir.path().join("docs/environment.md");
    let text = std::fs::read_to_string(&file).unwrap();
    for var in [
        "GOLDEN_CONFIG",
        "GOLDEN_ENTRY",
        "GOLDEN_POLICY",
        "GOLDEN_TO",
        "GOLDEN_INPUT",
    ] {
        assert!(text.contains(&format!("| `{var}` |")), "{var} missing");
    }
    let out = env_docs(dir.path(), true);
    assert!(out.status.success(), "{out:?}");

    std::fs::write(
        &file,
        text.replace("| `GOLDEN_CONFIG` |", "| `GOLDEN_CONF` |"),
    )
    .unwrap();
    let out = env_docs(dir.path(), true);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("docs/environment.md") && stderr.contains("OUT OF DATE"),
        "{stderr}"
    );
}
