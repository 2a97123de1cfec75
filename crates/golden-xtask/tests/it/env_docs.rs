//! `golden-xtask env-docs --check` on a temporary copy of docs/environment.md and the binaries'
//! READMEs: up to date passes, a stale copy exits 1 and names the file, a README without the
//! markers exits 2 and says which markers to add.

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

const BINARIES: [&str; 5] = [
    "golden-plan",
    "golden-build",
    "golden-scan",
    "golden-push",
    "golden-report",
];

/// A README with empty markers for each binary.
fn seed_readmes(root: &Path) {
    for bin in BINARIES {
        let dir = root.join("crates").join(bin);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("README.md"),
            format!(
                "# {bin}\n\n{}\n{}\n",
                golden_xtask::envdocs::README_BEGIN,
                golden_xtask::envdocs::README_END
            ),
        )
        .unwrap();
    }
}

#[test]
fn check_fails_on_a_stale_copy_and_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    seed_readmes(dir.path());
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

#[test]
fn check_names_a_stale_readme_and_a_readme_without_markers() {
    let dir = tempfile::tempdir().unwrap();
    seed_readmes(dir.path());
    let out = env_docs(dir.path(), false);
    assert!(out.status.success(), "{out:?}");
    let readme = dir.path().join("crates/golden-scan/README.md");
    let text = std::fs::read_to_string(&readme).unwrap();
    assert!(text.contains("| `<IMAGE>` | `GOLDEN_IMAGE` |"), "{text}");

    std::fs::write(&readme, text.replace("`GOLDEN_IMAGE`", "`GOLDEN_IMG`")).unwrap();
    let out = env_docs(dir.path(), true);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("crates/golden-scan/README.md OUT OF DATE"),
        "{stderr}"
    );

    std::fs::write(&readme, "# golden-scan\n").unwrap();
    let out = env_docs(dir.path(), true);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("crates/golden-scan/README.md")
            && stderr.contains("<!-- BEGIN flags:")
            && stderr.contains("<!-- END flags -->"),
        "{stderr}"
    );
}
