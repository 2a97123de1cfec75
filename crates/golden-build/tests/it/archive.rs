//! `save` / `load`: images travel between jobs as archives.

use std::io::Read;

use crate::common::*;

#[test]
fn docker_save_and_load_round_trip_plain_and_gzip() {
    engine();
    let mut cleanup = Cleanup::default();
    let d = tempfile::tempdir().expect("tempdir");
    write_tree(
        d.path(),
        &[
            ("f", "payload\n"),
            ("Dockerfile", "FROM scratch\nCOPY f /f\n"),
        ],
    );
    let tag = cleanup.add(&unique_tag("archive"));
    let out =
        run(golden_build(d.path()).args(["--repo-root", ".", "--context", ".", "-t", &tag, "-q"]));
    assert_eq!(out.code, 0, "{}", out.both());
    let id = out
        .stdout
        .trim()
        .lines()
        .last()
        .expect("quiet prints the id")
        .to_string();
    assert!(id.starts_with("sha256:"), "{id}");

    for name in ["images.tar", "out/images.tar.gz"] {
        let outputs = d.path().join("gh_out");
        let _ = std::fs::remove_file(&outputs);
        let out = run(golden_build(d.path())
            .args(["save", "--output", name, &tag])
            .env("GITHUB_OUTPUT", &outputs));
        assert_eq!(out.code, 0, "{}", out.both());
        let path = d.path().join(name);
        let mut magic = [0u8; 2];
        std::fs::File::open(&path)
            .expect("archive")
            .read_exact(&mut magic)
            .expect("read");
        assert_eq!(
            magic == [0x1f, 0x8b],
            name.ends_with(".gz"),
            "{name}: gzip exactly when .gz"
        );
        let leftovers: Vec<_> = std::fs::read_dir(path.parent().expect("dir"))
            .expect("ls")
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().contains(".tmp-"))
            .collect();
        assert!(leftovers.is_empty(), "no temp file left behind");
        let text = std::fs::read_to_string(&outputs).expect("outputs");
        assert!(text.contains("archive<<"), "{text}");

        rt().block_on(engine().remove_image(&tag, false))
            .expect("remove before load");
        assert!(inspect(&tag).is_none());
        let out = run(golden_build(d.path()).args(["load", name]));
        assert_eq!(out.code, 0, "{}", out.both());
        assert!(
            out.stdout.contains(&format!("Loaded image: {tag}")),
            "{}",
            out.both()
        );
        assert_eq!(
            inspect(&tag).and_then(|i| i.id),
            Some(id.clone()),
            "same image back"
        );
    }

    let out = run(golden_build(d.path()).args([
        "save",
        "-o",
        "missing.tar",
        "golden-build-test-absent:none",
    ]));
    assert_eq!(out.code, 2, "{}", out.both());
    assert!(
        out.stderr
            .contains("image `golden-build-test-absent:none` not found"),
        "{}",
        out.both()
    );
    assert!(
        !d.path().join("missing.tar").exists(),
        "no archive for a failed save"
    );

    std::fs::write(
        d.path().join("garbage.tar"),
        b"this is not a tar archive at all",
    )
    .expect("write");
    let out = run(golden_build(d.path()).args(["load", "garbage.tar"]));
    assert_eq!(out.code, 2, "{}", out.both());
    assert!(out.stderr.contains("error:"), "{}", out.both());

    let out = run(golden_build(d.path()).args(["load", "nope.tar"]));
    assert_eq!(out.code, 2, "{}", out.both());
    assert!(
        out.stderr.contains("failed to read") && out.stderr.contains("nope.tar"),
        "{}",
        out.both()
    );
}
