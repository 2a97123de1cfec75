//! Archive formats, layer merging and bad input.

use std::io::Cursor;

use golden_scan::layer::Kind;
use golden_scan::source::{analyze_path, analyze_stream};
use serde_json::json;

use crate::support::*;

fn two_layers() -> (Vec<Vec<u8>>, serde_json::Value) {
    let l1 = debian_layer()
        .dir("opt", 0o755)
        .file("opt/old/a", 0o644, b"a")
        .file("etc/deleted", 0o644, b"x")
        .file("bin/su", 0o4755, b"\x7fELF")
        .bytes();
    let l2 = Layer::new()
        .file("etc/.wh.deleted", 0o644, b"")
        .file("opt/.wh..wh..opq", 0o644, b"")
        .file("opt/new", 0o644, b"n")
        .hardlink("bin/su2", "bin/su")
        .bytes();
    let layers = vec![l1, l2];
    let cfg = config(
        &layers,
        &[
            ("/bin/sh -c #(nop) ADD file:abc in / ", false),
            ("/bin/sh -c echo", false),
        ],
        json!({"User": "10001"}),
    );
    (layers, cfg)
}

fn check_merged(img: &golden_scan::archive::Image) {
    let fs = &img.fs;
    assert!(fs.get("etc/deleted").is_none(), "whiteout not applied");
    assert!(fs.get("opt/old/a").is_none(), "opaque dir not applied");
    assert!(fs.get("opt/new").is_some());
    assert_eq!(
        fs.get("bin/su2").map(|n| n.mode & 0o7777),
        Some(0o4755),
        "hardlink to a lower layer"
    );
    assert!(
        fs.read("etc/os-release")
            .unwrap()
            .is_some_and(|b| b.starts_with(b"PRETTY_NAME"))
    );
    assert_eq!(img.layers.len(), 2);
    assert!(img.id.as_deref().is_some_and(|i| i.starts_with("sha256:")));
}

#[test]
fn docker_archive_with_layers_before_the_manifest_seekable_and_streamed() {
    let (layers, cfg) = two_layers();
    let archive = docker_archive(&layers, &cfg, "x/y:1");
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "img.tar", &archive);
    let a = analyze_path(&p, "file", None).unwrap();
    check_merged(&a);
    assert_eq!(a.tags, ["x/y:1"]);
    let b = analyze_stream(Cursor::new(&archive), "stream", None).unwrap();
    check_merged(&b);
    assert_eq!(a.id, b.id);
    assert_eq!(a.layers, b.layers);
    // The same archive gzip-compressed as a whole.
    let gz = write(dir.path(), "img.tar.gz", &compress(Blob::Gzip, &archive));
    check_merged(&analyze_path(&gz, "gz", None).unwrap());
    let zst = write(dir.path(), "img.tar.zst", &compress(Blob::Zstd, &archive));
    check_merged(&analyze_path(&zst, "zst", None).unwrap());
}

#[test]
fn oci_archive_and_layout_with_gzip_and_zstd_layers() {
    let (layers, cfg) = two_layers();
    let blobs = vec![
        (layers[0].clone(), Blob::Gzip),
        (layers[1].clone(), Blob::Zstd),
    ];
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "oci.tar", &oci_archive(&blobs, &cfg));
    let img = analyze_path(&p, "oci", None).unwrap();
    check_merged(&img);
    assert_eq!(img.tags, ["1.0"]);
    assert!(
        img.digest
            .as_deref()
            .is_some_and(|d| d.starts_with("sha256:"))
    );
    // Uncompressed size is reported for compressed layers.
    assert_eq!(img.layers[0].size, layers[0].len() as u64);
    // Layout directory, with an uncompressed layer (walked with seeks).
    let layout = dir.path().join("layout");
    let blobs = vec![
        (layers[0].clone(), Blob::Tar),
        (layers[1].clone(), Blob::Gzip),
    ];
    for (name, data) in oci_files(&blobs, &cfg) {
        let path = layout.join(&name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, data).unwrap();
    }
    check_merged(&analyze_path(&layout, "layout", None).unwrap());
}

#[test]
fn truncated_archives_fail_cleanly_at_every_cut() {
    let (layers, cfg) = two_layers();
    let archive = docker_archive(&layers, &cfg, "x/y:1");
    let dir = tempfile::tempdir().unwrap();
    // Every cut inside the layer data must be an error (never a panic, never a partial image).
    let manifest_at = archive
        .windows(13)
        .position(|w| w == b"manifest.json")
        .unwrap();
    let mut errors = 0;
    for cut in (1..manifest_at).step_by(97) {
        let p = write(dir.path(), "cut.tar", &archive[..cut]);
        let file = analyze_path(&p, "cut", None);
        let stream = analyze_stream(Cursor::new(&archive[..cut]), "cut", None);
        assert!(
            file.is_err() && stream.is_err(),
            "cut at {cut} of {} was accepted",
            archive.len()
        );
        errors += 1;
        let msg = file.err().unwrap().to_string();
        assert!(msg.contains("cut"), "{msg}");
    }
    assert!(errors > 10);
}

#[test]
fn corrupt_headers_and_non_archives_are_clear_errors() {
    let (layers, cfg) = two_layers();
    let mut archive = docker_archive(&layers, &cfg, "x/y:1");
    // Flip a bit of the second header's mode field: its checksum no longer matches.
    let second = archive.windows(8).position(|w| w == b"/VERSION").unwrap() - 64;
    archive[second + 100] ^= 0x01;
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "bad.tar", &archive);
    let e = analyze_path(&p, "bad", None).unwrap_err();
    let chain = format!(
        "{e} / {}",
        std::error::Error::source(&e)
            .map(|s| s.to_string())
            .unwrap_or_default()
    );
    assert!(
        chain.contains("checksum") || chain.contains("corrupt"),
        "{chain}"
    );

    let junk = write(
        dir.path(),
        "junk.bin",
        b"this is not an image at all, just some text bytes",
    );
    let e = analyze_path(&junk, "junk", None).unwrap_err().to_string();
    assert!(e.contains("not a tar, gzip or zstd"), "{e}");
    let js = write(dir.path(), "r.json", br#"{"SchemaVersion":2}"#);
    let e = analyze_path(&js, "json", None).unwrap_err().to_string();
    assert!(e.contains("--trivy-report"), "{e}");
    let empty = write(dir.path(), "empty.tar", b"");
    assert!(
        analyze_path(&empty, "empty", None)
            .unwrap_err()
            .to_string()
            .contains("empty")
    );

    // A manifest naming a layer that is not there.
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    let m = br#"[{"Config":"c.json","Layers":["missing/layer.tar"]}]"#;
    h.set_path("manifest.json").unwrap();
    h.set_size(m.len() as u64);
    h.set_cksum();
    b.append(&h, &m[..]).unwrap();
    let c = serde_json::to_vec(&cfg).unwrap();
    let mut h = tar::Header::new_gnu();
    h.set_path("c.json").unwrap();
    h.set_size(c.len() as u64);
    h.set_cksum();
    b.append(&h, &c[..]).unwrap();
    let p = write(dir.path(), "nolayer.tar", &b.into_inner().unwrap());
    let e = analyze_path(&p, "nolayer", None).unwrap_err().to_string();
    assert!(
        e.contains("missing/layer.tar") && e.contains("not in the archive"),
        "{e}"
    );
}

#[test]
fn dotdot_absolute_symlink_loops_hardlinks_and_sparse_entries() {
    let l = debian_layer()
        .raw(b"../../etc/evil", 0o644, b"escape")
        .raw(b"/abs/file", 0o644, b"abs")
        .raw(b"ok/../fine", 0o644, b"fine")
        .symlink("loop/a", "b")
        .symlink("loop/b", "a")
        .symlink("etc/passwd-link", "/etc/passwd-link")
        .hardlink("bin/ghost", "bin/not-there")
        .sparse("var/lib/dpkg/status.d/huge", 4 << 30)
        .sparse("big/file", 4 << 30)
        .bytes();
    let layers = vec![l];
    let cfg = config(
        &layers,
        &[("/bin/sh -c #(nop) ADD file:x in / ", false)],
        json!({}),
    );
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "odd.tar",
        &docker_archive(&layers, &cfg, "odd:1"),
    );
    let start = std::time::Instant::now();
    let img = analyze_path(&p, "odd", None).unwrap();
    assert!(
        start.elapsed().as_secs() < 10,
        "the 4 GB sparse entries were read"
    );
    let w = img.warnings.join("\n");
    assert!(w.contains("`../../etc/evil` climbs above the root"), "{w}");
    assert!(img.fs.get("etc/evil").is_none());
    assert!(w.contains("`/abs/file` has an absolute path"), "{w}");
    assert!(img.fs.get("abs/file").is_some());
    assert!(img.fs.get("fine").is_some());
    assert!(
        w.contains("hardlink `/bin/ghost` points to `/bin/not-there`"),
        "{w}"
    );
    assert!(w.contains("huge` is 4294967296 bytes, over the"), "{w}");
    assert_eq!(
        img.fs.get("big/file").map(|n| (n.kind, n.size)),
        Some((Kind::File, 4 << 30))
    );
    // Loops stop.
    assert!(img.fs.resolve("loop/a").is_err());
    assert!(img.fs.read("etc/passwd-link").is_err());
    // Stream mode gives the same.
    let s = analyze_stream(std::fs::File::open(&p).unwrap(), "odd", None).unwrap();
    assert_eq!(s.fs.len(), img.fs.len());
}

#[test]
fn a_symlinked_os_release_loop_is_a_warning_not_a_hang() {
    let l = Layer::new()
        .symlink("etc/os-release", "/usr/lib/os-release")
        .symlink("usr/lib/os-release", "/etc/os-release")
        .bytes();
    let layers = vec![l];
    let cfg = config(&layers, &[("x", false)], json!({}));
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "loop.tar",
        &docker_archive(&layers, &cfg, "l:1"),
    );
    let img = analyze_path(&p, "loop", None).unwrap();
    let inv = golden_scan::inventory::collect(&img.fs);
    assert!(inv.os.is_none());
    assert!(
        inv.warnings.iter().any(|w| w.contains("symlink hops")),
        "{:?}",
        inv.warnings
    );
}

#[test]
fn a_layer_used_twice_is_a_symlink_in_docker_save_and_applies_twice() {
    let l1 = Layer::new().file("app/config", 0o644, b"v1").bytes();
    let l2 = Layer::new().file("app/.wh.config", 0o644, b"").bytes();
    let layers = vec![l1.clone(), l2, l1];
    let cfg = config(
        &layers,
        &[("a", false), ("b", false), ("c", false)],
        json!({}),
    );
    let archive = docker_archive(&layers, &cfg, "dup:1");
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "dup.tar", &archive);
    for img in [
        analyze_path(&p, "dup", None).unwrap(),
        analyze_stream(Cursor::new(&archive), "dup", None).unwrap(),
    ] {
        assert_eq!(img.layers.len(), 3);
        assert_eq!(
            img.fs.get("app/config").map(|n| n.layer),
            Some(2),
            "re-added by the third layer"
        );
    }
}

#[test]
fn broken_oci_indexes_are_clear_errors() {
    let (layers, cfg) = two_layers();
    let blobs = vec![(layers[0].clone(), Blob::Gzip)];
    let dir = tempfile::tempdir().unwrap();
    // The layout with its index.json replaced.
    let with_index = |name: &str, index: &[u8]| {
        let mut b = tar::Builder::new(Vec::new());
        for (path, data) in oci_files(&blobs, &cfg) {
            let data = if path == "index.json" {
                index.to_vec()
            } else {
                data
            };
            let mut h = tar::Header::new_gnu();
            h.set_path(&path).unwrap();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            b.append(&h, &data[..]).unwrap();
        }
        let p = write(dir.path(), name, &b.into_inner().unwrap());
        analyze_path(&p, name, None).unwrap_err().to_string()
    };
    let e = with_index("cut.tar", br#"{"schemaVersion":2,"manifests":["#);
    assert!(e.contains("`index.json` is not a valid OCI index"), "{e}");
    let missing = format!(
        r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:{}","size":2}}]}}"#,
        "0".repeat(64)
    );
    let e = with_index("missing.tar", missing.as_bytes());
    assert!(
        e.contains(&format!("blobs/sha256/{}", "0".repeat(64))) && e.contains("not in the archive"),
        "{e}"
    );
    let attestation_only = br#"{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:ab","size":2,"platform":{"os":"unknown","architecture":"unknown"}}]}"#;
    let e = with_index("att.tar", attestation_only);
    assert!(e.contains("no usable image manifest"), "{e}");
}

/// Tar paths are untrusted text: whatever line breaks they hold, the warnings quoting them
/// never become workflow commands, on either stream read on its own (the runner reads stdout
/// and stderr concurrently, so a fence on one stream does not cover the other).
#[test]
fn tar_paths_in_warnings_cannot_inject_workflow_commands() {
    let l = debian_layer()
        .raw(b"../a\r::warning::x", 0o644, b"1")
        .raw(b"../b\r\n::add-mask::x", 0o644, b"2")
        .raw("../c\u{2028}::stop-commands::x".as_bytes(), 0o644, b"3")
        .raw(b"../d ##[error]x", 0o644, b"4")
        .bytes();
    let layers = vec![l];
    let cfg = config(
        &layers,
        &[("/bin/sh -c #(nop) ADD file:x in / ", false)],
        json!({}),
    );
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "cr.tar", &docker_archive(&layers, &cfg, "cr:1"));
    let image = format!("docker-archive:{}", p.display());
    let out = dir.path().join("out");
    let (code, stdout, stderr) = golden_scan(
        &[&image, "-o", out.to_str().unwrap(), "--trivy", "off"],
        &[("GITHUB_ACTIONS", "true")],
    );
    assert!(code == 0 || code == 1, "{stderr}");
    assert!(
        stderr.contains("climbs above the root"),
        "the warnings are printed:\n{stderr}"
    );
    for (name, text) in [("stdout", &stdout), ("stderr", &stderr)] {
        let cmds = golden_gha::runner_log::commands(text);
        // Only fences: `stop-commands` and the matching end, in pairs.
        let mut open: Option<String> = None;
        for c in &cmds {
            // golden-scan's own policy annotation (its text is escaped, a single line).
            if open.is_none()
                && c.name == "error"
                && c.properties == "title=golden-scan policy failed"
            {
                assert!(c.data.starts_with("docker-archive:"), "{c:?}");
                continue;
            }
            match &open {
                None => {
                    assert_eq!(c.name, "stop-commands", "{name}: injected {c:?}\n{text}");
                    assert!(c.data.starts_with("golden-"), "{name}: {c:?}");
                    open = Some(c.data.to_lowercase());
                }
                Some(t) => {
                    assert_eq!(&c.name, t, "{name}: {c:?}");
                    open = None;
                }
            }
        }
        assert!(open.is_none(), "{name}: a fence is left open\n{text}");
    }
    // The warnings themselves are fenced on stderr.
    assert!(
        golden_gha::runner_log::commands(&stderr)
            .iter()
            .any(|c| c.name == "stop-commands"),
        "{stderr}"
    );
}
