//! Memory bounds against hostile archives (security finding 15.4): each archive is built here,
//! the golden-scan binary runs on it, and the child's peak RSS (`VmHWM`, polled from
//! `/proc/<pid>/status` until it exits) must stay under 256 MiB while the run ends with a
//! clear warning or error naming the culprit.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::*;

const RSS_CAP_KIB: u64 = 256 * 1024;

/// Peak RSS of a process in KiB (`VmHWM`), while it is alive.
fn vm_hwm(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    peak_kib: u64,
}

/// Run golden-scan on `archive` (`--trivy off`, JSON on stdout) and record its peak RSS.
fn scan_measured(archive: &Path, out: &Path, extra: &[&str]) -> Run {
    let stdout_path = out.with_extension("stdout");
    let stderr_path = out.with_extension("stderr");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_golden-scan"));
    cmd.arg(format!("docker-archive:{}", archive.display()))
        .args(["--trivy", "off", "--format", "json", "-o"])
        .arg(out)
        .args(extra)
        .env_remove("GITHUB_OUTPUT")
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GOLDEN_SCAN_CONTENT_BUDGET")
        .env_remove("GOLDEN_SCAN_MAX_ENTRIES")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout_path).unwrap())
        .stderr(std::fs::File::create(&stderr_path).unwrap());
    let mut child = cmd.spawn().expect("failed to run golden-scan");
    let pid = child.id();
    let started = Instant::now();
    let mut peak = 0;
    let status = loop {
        if let Some(kib) = vm_hwm(pid) {
            peak = peak.max(kib);
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(60) || peak > 4 * RSS_CAP_KIB {
            // Far over the cap or hung: stop it (its own pid only) and report what we saw.
            let _ = child.kill();
            break child.wait().unwrap();
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let run = Run {
        code: status.code().unwrap_or(-1),
        stdout: std::fs::read_to_string(&stdout_path).unwrap_or_default(),
        stderr: std::fs::read_to_string(&stderr_path).unwrap_or_default(),
        peak_kib: peak,
    };
    eprintln!(
        "{}: exit {}, peak RSS {} MiB, {:.1} s",
        archive.display(),
        run.code,
        run.peak_kib / 1024,
        started.elapsed().as_secs_f64()
    );
    run
}

fn assert_bounded(run: &Run) {
    assert!(
        run.peak_kib > 0,
        "no VmHWM was read for the child (is /proc mounted?)"
    );
    assert!(
        run.peak_kib < RSS_CAP_KIB,
        "golden-scan peaked at {} MiB (cap 256 MiB); exit {}\nstderr: {}",
        run.peak_kib / 1024,
        run.code,
        tail(&run.stderr)
    );
}

fn tail(s: &str) -> &str {
    let n = s.len().saturating_sub(4000);
    let mut i = n;
    while !s.is_char_boundary(i) {
        i += 1;
    }
    &s[i..]
}

fn report(run: &Run) -> Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not report.json ({e}); exit {}\nstderr: {}",
            run.code,
            tail(&run.stderr)
        )
    })
}

fn warnings(report: &Value) -> Vec<String> {
    report["warnings"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|w| w.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// A 60 MB dpkg status (one package, then a long description) with 24 hardlinks to it at paths
/// the scanner keeps: before the fix every link cloned the 60 MB (1.6 GB peak).
#[test]
fn memory_hardlink_fan_out_of_a_large_kept_file() {
    let mut status = b"Package: big\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.0\nDescription: padding\n".to_vec();
    let line = format!(" {}\n", "a".repeat(99));
    while status.len() < 60_000_000 {
        status.extend_from_slice(line.as_bytes());
    }
    let mut layer = Layer::new()
        .file("etc/os-release", 0o644, b"ID=debian\nVERSION_ID=12\n")
        .file("etc/passwd", 0o644, b"root:x:0:0:root:/root:/bin/sh\n")
        .file("var/lib/dpkg/status", 0o644, &status);
    // Within its own limits (64 MiB): shared, never copied.
    layer = layer
        .hardlink("lib/apk/db/installed", "var/lib/dpkg/status")
        .hardlink("usr/lib/apk/db/installed", "var/lib/dpkg/status");
    // Over their own limits (1 and 4 MiB): not read, with a warning naming them.
    for i in 0..12 {
        layer = layer.hardlink(
            &format!("usr/share/doc/pkg{i}/copyright"),
            "var/lib/dpkg/status",
        );
    }
    for i in 0..10 {
        layer = layer.hardlink(
            &format!("var/lib/dpkg/status.d/pkg{i}"),
            "var/lib/dpkg/status",
        );
    }
    let layers = vec![layer.bytes()];
    let cfg = config(
        &layers,
        &[("ADD rootfs /", false)],
        json!({"User": "10001"}),
    );
    let archive = docker_archive(&layers, &cfg, "hostile/hardlinks:1");
    drop(layers);
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "hardlinks.tar", &archive);
    drop(archive);
    let run = scan_measured(&p, &dir.path().join("out"), &[]);
    assert_bounded(&run);
    assert!(
        run.code == 0 || run.code == 1,
        "exit {}: {}",
        run.code,
        tail(&run.stderr)
    );
    let w = warnings(&report(&run));
    assert!(
        w.iter()
            .any(|w| w.contains("`/usr/share/doc/pkg3/copyright`")
                && w.contains("over the 1048576-byte limit")),
        "{w:#?}"
    );
    assert!(
        w.iter()
            .any(|w| w.contains("`/var/lib/dpkg/status.d/pkg7`")),
        "{w:#?}"
    );
}

/// One layer listed 900 times by the manifest: before the fix its facts (and a 2 MB kept file)
/// were cloned per listing with a quadratic check; now they are shared. Over the layer cap the
/// manifest is refused with an error naming it.
#[test]
fn memory_same_layer_listed_many_times() {
    let passwd = {
        let mut p = b"root:x:0:0:root:/root:/bin/sh\n".to_vec();
        while p.len() < 2_000_000 {
            p.extend_from_slice(b"# padding padding padding padding padding padding padding\n");
        }
        p
    };
    let layer = debian_layer().file("etc/passwd", 0o644, &passwd).bytes();
    let build = |times: usize| {
        let mut cfg = config(
            std::slice::from_ref(&layer),
            &[("ADD rootfs /", false)],
            json!({"User": "10001"}),
        );
        cfg["rootfs"]["diff_ids"] = json!(vec![sha256(&layer); times]);
        // One layer.tar, listed `times` times (no per-listing symlink entries).
        let cfg_bytes = serde_json::to_vec(&cfg).unwrap();
        let cfg_name = format!("{}.json", &sha256(&cfg_bytes)[7..]);
        let mut b = tar::Builder::new(Vec::new());
        let mut add = |name: &str, data: &[u8]| {
            let mut h = tar::Header::new_gnu();
            h.set_path(name).unwrap();
            h.set_mode(0o644);
            h.set_size(data.len() as u64);
            h.set_entry_type(tar::EntryType::Regular);
            h.set_cksum();
            b.append(&h, data).unwrap();
        };
        add(&cfg_name, &cfg_bytes);
        add("aaaa/layer.tar", &layer);
        let manifest = json!([{
            "Config": cfg_name,
            "RepoTags": ["hostile/layers:1"],
            "Layers": vec!["aaaa/layer.tar"; times],
        }]);
        add("manifest.json", &serde_json::to_vec(&manifest).unwrap());
        b.into_inner().unwrap()
    };
    let dir = tempfile::tempdir().unwrap();

    let p = write(dir.path(), "repeated.tar", &build(900));
    let run = scan_measured(&p, &dir.path().join("out"), &[]);
    assert_bounded(&run);
    assert!(
        run.code == 0 || run.code == 1,
        "exit {}: {}",
        run.code,
        tail(&run.stderr)
    );
    let r = report(&run);
    assert_eq!(r["image"]["layers"].as_array().map(Vec::len), Some(900));

    let p = write(dir.path(), "too-many.tar", &build(5000));
    let run = scan_measured(&p, &dir.path().join("out2"), &[]);
    assert_bounded(&run);
    assert_eq!(run.code, 2, "{}", tail(&run.stderr));
    assert!(
        run.stderr.contains("lists 5000 layers") && run.stderr.contains("1000"),
        "{}",
        tail(&run.stderr)
    );
}

/// An rpmdb whose `Packages` is a recursive view producing ever larger rows forever: before the
/// fix sqlite ran it (read-write, trusted schema, no limits) until memory ran out. Now the view is refused and the database
/// opened read-only, immutable, defensive, with limits and a deadline.
#[test]
fn memory_rpmdb_packages_as_a_recursive_view() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rpmdb.sqlite");
    {
        let c = rusqlite::Connection::open(&db).unwrap();
        c.execute_batch(
            "CREATE VIEW Packages AS
               WITH RECURSIVE n(hnum, blob) AS (
                 SELECT 1, zeroblob(10000000)
                 UNION ALL SELECT hnum + 1, blob || zeroblob(10000000) FROM n
               ) SELECT hnum, blob FROM n;",
        )
        .unwrap();
    }
    let db = std::fs::read(&db).unwrap();
    assert!(db.len() < 64 * 1024, "the hostile database is small");
    let layers = vec![
        Layer::new()
            .file(
                "etc/os-release",
                0o644,
                b"ID=rhel\nID_LIKE=fedora\nVERSION_ID=9.4\n",
            )
            .file("etc/passwd", 0o644, b"root:x:0:0:root:/root:/bin/sh\n")
            .file("var/lib/rpm/rpmdb.sqlite", 0o644, &db)
            .bytes(),
    ];
    let cfg = config(
        &layers,
        &[("ADD rootfs /", false)],
        json!({"User": "10001"}),
    );
    let p = write(
        dir.path(),
        "rpmview.tar",
        &docker_archive(&layers, &cfg, "hostile/rpm:1"),
    );
    let started = Instant::now();
    let run = scan_measured(&p, &dir.path().join("out"), &[]);
    assert_bounded(&run);
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "took {:?}",
        started.elapsed()
    );
    assert!(
        run.code == 0 || run.code == 1,
        "exit {}: {}",
        run.code,
        tail(&run.stderr)
    );
    let w = warnings(&report(&run));
    assert!(
        w.iter().any(|w| w.contains("/var/lib/rpm/rpmdb.sqlite")
            && w.contains("`Packages` is a view")
            && w.contains("rpm packages not listed")),
        "{w:#?}"
    );
}

/// A 20 MB image config (labels): refused with an error naming the document and the limit
/// instead of a misleading "not in the archive".
#[test]
fn memory_oversized_json_config_is_a_clear_error() {
    let layers = vec![debian_layer().bytes()];
    let labels: serde_json::Map<String, Value> = (0..200_000)
        .map(|i| (format!("label.{i:08}"), json!("v".repeat(90))))
        .collect();
    let cfg = config(
        &layers,
        &[("ADD rootfs /", false)],
        json!({"User": "10001", "Labels": labels}),
    );
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "bigjson.tar",
        &docker_archive(&layers, &cfg, "hostile/json:1"),
    );
    let run = scan_measured(&p, &dir.path().join("out"), &[]);
    assert_bounded(&run);
    assert_eq!(run.code, 2, "{}", tail(&run.stderr));
    assert!(
        run.stderr.contains("image config `")
            && run
                .stderr
                .contains("over the 4194304-byte limit for JSON documents"),
        "{}",
        tail(&run.stderr)
    );
    assert!(
        !dir.path().join("out/report.json").exists(),
        "no output on error"
    );
}

/// The content budget is shared by the whole scan: many large kept files spread over layers
/// stop the scan with an error naming the file and the knob, never a silent partial report.
#[test]
fn memory_content_budget_is_enforced_across_layers() {
    let big = vec![b'#'; 3_000_000];
    let layers: Vec<Vec<u8>> = (0..8)
        .map(|i| {
            Layer::new()
                .file("etc/passwd", 0o644, &big)
                .file(&format!("etc/apt/sources.list.d/x{i}.list"), 0o644, &big)
                .bytes()
        })
        .collect();
    let cfg = config(
        &layers,
        &vec![("RUN x", false); layers.len()],
        json!({"User": "10001"}),
    );
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "budget.tar",
        &docker_archive(&layers, &cfg, "hostile/budget:1"),
    );
    let run = scan_measured(&p, &dir.path().join("out"), &["--content-budget", "20M"]);
    assert_bounded(&run);
    assert_eq!(run.code, 2, "{}", tail(&run.stderr));
    assert!(
        run.stderr.contains("content budget") && run.stderr.contains("--content-budget"),
        "{}",
        tail(&run.stderr)
    );
    // The default budget takes it.
    let run = scan_measured(&p, &dir.path().join("out2"), &[]);
    assert_bounded(&run);
    assert!(
        run.code == 0 || run.code == 1,
        "exit {}: {}",
        run.code,
        tail(&run.stderr)
    );
}

/// A zip bomb nested in a jar: 512 MiB of zeros deflated to about half a megabyte (over
/// 1000:1), once with its sizes in the local header and once behind a data descriptor. The
/// nested read stops at the ratio (or the cap): a warning naming the entry, memory bounded,
/// and the jar itself and the entries after the bomb still listed.
#[test]
fn memory_zip_bomb_nested_in_a_jar() {
    use std::io::Write;
    const SIZE: usize = 512 << 20;
    let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1 << 20];
    let mut crc = flate2::Crc::new();
    for _ in 0..(SIZE >> 20) {
        enc.write_all(&zeros).unwrap();
        crc.update(&zeros);
    }
    let bomb = enc.finish().unwrap();
    assert!(SIZE / bomb.len() > 100, "ratio {}:1", SIZE / bomb.len());
    let jar = crate::lang::Zip::new()
        .add_deflated("BOOT-INF/lib/bomb-1.jar", &bomb, SIZE as u32, crc.sum())
        .add(
            "META-INF/maven/org.example/after/pom.properties",
            b"groupId=org.example\nartifactId=after\nversion=7\n",
            true,
            true,
        )
        .finish();
    let layers = vec![
        debian_layer()
            .file("app/bomb-app-1.0.jar", 0o644, &jar)
            .bytes(),
    ];
    let cfg = config(&layers, &[("ADD x /", false)], json!({"User": "10001"}));
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "bomb.tar",
        &docker_archive(&layers, &cfg, "hostile/bomb:1"),
    );
    let run = scan_measured(&p, &dir.path().join("out"), &[]);
    // Unbounded, the nested read would take 512 MiB: over the 256 MiB cap of these tests.
    assert_bounded(&run);
    let r = report(&run);
    let w = warnings(&r);
    assert!(
        w.iter().any(
            |w| w.contains("`/app/bomb-app-1.0.jar!/BOOT-INF/lib/bomb-1.jar`")
                && w.contains("compressed more than 100:1")
        ),
        "{w:#?}"
    );
    let names: Vec<&str> = r["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["kind"] == "maven")
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"bomb-app"), "{names:?}");
    assert!(names.contains(&"after"), "{names:?}");
    assert!(!names.contains(&"bomb"), "{names:?}");
}
