//! The context golden-build sends equals what the docker CLI sends, seen from inside a build
//! (`COPY . /ctx` then `find`), for a `.dockerignore` using every rule.

use std::path::Path;
use std::process::Command;

use crate::common::*;

/// The docker CLI to compare with: 28 from /usr/local/bin when present (what GitHub runners
/// have), else whatever `docker` is on PATH.
fn docker_cli() -> String {
    if Path::new("/usr/local/bin/docker").exists() {
        "/usr/local/bin/docker".into()
    } else {
        "docker".into()
    }
}

fn tricky_tree(root: &Path, bb: &str) {
    write_tree(
        root,
        &[
            (
                "Dockerfile",
                &format!(
                    "FROM {bb}\nCOPY . /ctx/\nRUN cd /ctx && find . | sort | sed 's/^/LIST /'\n"
                ),
            ),
            ("app.log", "x"),
            ("important.log", "x"),
            ("deep/nested/app.log", "x"),
            ("build/out.bin", "x"),
            ("sub/build/out.bin", "x"),
            ("tmp/scratch", "x"),
            ("docs/a.md", "x"),
            ("docs/keep/b.md", "x"),
            ("docs/keep/more/c.md", "x"),
            ("src/main.rs", "x"),
            ("src/x.tmp", "x"),
            ("src/deeper/y.tmp", "x"),
            ("node_modules/pkg/index.js", "x"),
            ("web/node_modules/pkg/index.js", "x"),
            ("spaced.txt", "x"),
            ("secret1.txt", "x"),
            ("secret12.txt", "x"),
            ("ac.txt", "x"),
            ("bc.txt", "x"),
            ("cc.txt", "x"),
            ("sub/one/two/deep.txt", "x"),
            ("sub/deep.txt", "x"),
            ("a/x", "x"),
            ("a/y", "x"),
            ("vendor/lib/keep.me", "x"),
            ("vendor/other.go", "x"),
            ("lib/public/index.html", "x"),
            ("lib/private/key.pem", "x"),
            ("with space/file name.txt", "x"),
            (".hidden/config", "x"),
            (".git/HEAD", "x"),
            ("emptydir/", ""),
            ("ünïcode/fïle.txt", "x"),
        ],
    );
    std::os::unix::fs::symlink("src/main.rs", root.join("link-to-main")).expect("symlink");
    std::os::unix::fs::symlink("does-not-exist", root.join("dangling")).expect("symlink");
    std::fs::hard_link(root.join("src/main.rs"), root.join("hardlink.rs")).expect("hard link");
    let ignore = std::fs::read_to_string(fixtures().join("dockerignore/tricky.dockerignore"))
        .expect("fixture");
    std::fs::write(root.join(".dockerignore"), ignore).expect("write .dockerignore");
}

fn listing(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix("LIST "))
        .map(str::to_string)
        .collect()
}

#[test]
fn docker_dockerignore_sends_what_the_docker_cli_sends() {
    let bb = busybox();
    let mut cleanup = Cleanup::default();
    let d = tempfile::tempdir().expect("tempdir");
    tricky_tree(d.path(), &bb);

    let ours =
        run(golden_build(d.path()).args(["--repo-root", ".", "--context", ".", "--no-cache"]));
    cleanup.add_built(&ours.stdout);
    assert_eq!(ours.code, 0, "{}", ours.both());
    let ours = listing(&ours.stdout);

    let peer = Command::new(docker_cli())
        .args(["build", "--no-cache", "--rm", "."])
        .env("DOCKER_BUILDKIT", "0")
        .current_dir(d.path())
        .output()
        .expect("docker CLI runs");
    let peer_out = String::from_utf8_lossy(&peer.stdout).into_owned();
    assert!(
        peer.status.success(),
        "docker build failed: {peer_out}\n{}",
        String::from_utf8_lossy(&peer.stderr)
    );
    cleanup.add_built(&peer_out);
    let theirs = listing(&peer_out);

    assert!(
        theirs.len() > 10,
        "the peer listing looks wrong: {theirs:?}"
    );
    assert_eq!(
        ours, theirs,
        "golden-build and the docker CLI send different contexts"
    );

    // And the rules did what the fixture says (so the comparison is not vacuous).
    for sent in [
        "./important.log",
        "./docs/keep/b.md",
        "./docs/keep/more/c.md",
        "./src/main.rs",
        "./a",
        "./a/y",
        "./lib/public/index.html",
        "./cc.txt",
        "./secret12.txt",
        "./deep/nested/app.log",
        "./sub/build/out.bin",
        "./web/node_modules/pkg/index.js",
        "./link-to-main",
        "./dangling",
        "./hardlink.rs",
        "./with space/file name.txt",
        "./emptydir",
        "./ünïcode/fïle.txt",
    ] {
        assert!(
            ours.iter().any(|l| l == sent),
            "{sent} should be sent: {ours:?}"
        );
    }
    for dropped in [
        "./app.log",
        "./sub/deep.txt",
        "./build",
        "./tmp",
        "./docs/a.md",
        "./src/x.tmp",
        "./src/deeper/y.tmp",
        "./node_modules",
        "./spaced.txt",
        "./secret1.txt",
        "./ac.txt",
        "./bc.txt",
        "./sub/one/two/deep.txt",
        "./a/x",
        "./vendor",
        "./lib/private/key.pem",
        "./.git",
        // Both are sent (the build needs them), and the daemon removes them again after reading
        // them because the .dockerignore excludes them.
        "./.dockerignore",
        "./Dockerfile",
    ] {
        assert!(
            !ours.iter().any(|l| l == dropped),
            "{dropped} should not be sent: {ours:?}"
        );
    }
}
