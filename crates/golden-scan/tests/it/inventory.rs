//! Package inventory from real third-party databases (syft's fixtures) and constructed ones.

use golden_scan::inventory::{apk, collect, dpkg, rpm};
use golden_scan::source::analyze_path;
use serde_json::json;

use crate::support::*;

fn read(rel: &str) -> String {
    String::from_utf8_lossy(&std::fs::read(third_party(rel)).unwrap()).into_owned()
}

#[test]
fn dpkg_fixture_with_odd_stanzas() {
    let mut w = Vec::new();
    let p = dpkg::parse(&read("dpkg/status-multiple"), "status-multiple", &mut w);
    let names: Vec<&str> = p.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["no-version", "tzdata", "util-linux"]);
    let tz = &p[1];
    assert_eq!(tz.version, "2020a-0+deb10u1");
    assert_eq!(tz.source_name.as_deref(), Some("tzdata-dev"));
    assert_eq!(tz.arch.as_deref(), Some("all"));
    assert_eq!(tz.installed_size, Some(3036));
    assert_eq!(p[2].version, "2.33.1-0.1");
    assert!(p[0].version.is_empty());
    // The empty `Package:` (line 1) and the missing version (line 3) are both reported.
    assert!(
        w.iter()
            .any(|x| x.starts_with("status-multiple:1:") && x.contains("without a package name")),
        "{w:?}"
    );
    assert!(
        w.iter()
            .any(|x| x.starts_with("status-multiple:3:") && x.contains("no-version")),
        "{w:?}"
    );

    let mut w = Vec::new();
    let p = dpkg::parse(&read("dpkg/status-installed-size-4KB"), "s", &mut w);
    assert_eq!(p.len(), 1);
    assert_eq!(
        (p[0].name.as_str(), p[0].version.as_str()),
        ("apt", "1.8.2")
    );
    assert_eq!(p[0].installed_size, Some(4));
    assert_eq!(p[0].source_name.as_deref(), Some("apt-dev"));
    assert!(w.is_empty(), "{w:?}");
}

#[test]
fn apk_fixtures_including_non_ascii_and_no_trailing_newline() {
    let mut w = Vec::new();
    let p = apk::parse(&read("apk/installed-base"), "installed", &mut w);
    assert_eq!(p.len(), 1);
    assert_eq!(
        (p[0].name.as_str(), p[0].version.as_str()),
        ("alpine-baselayout", "3.2.0-r6")
    );
    assert_eq!(p[0].license.as_deref(), Some("GPL-2.0-only"));
    assert_eq!(p[0].arch.as_deref(), Some("x86_64"));
    let p = apk::parse(&read("apk/installed-multiple"), "installed", &mut w);
    let got: Vec<(&str, &str)> = p
        .iter()
        .map(|p| (p.name.as_str(), p.version.as_str()))
        .collect();
    assert_eq!(
        got,
        [("libc-utils", "0.7.2-r0"), ("musl-utils", "1.1.24-r2")]
    );
    assert!(w.is_empty(), "{w:?}");
}

fn image_with(layer: Layer) -> golden_scan::archive::Image {
    let layers = vec![layer.bytes()];
    let cfg = config(&layers, &[("x", false)], json!({}));
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "i.tar", &docker_archive(&layers, &cfg, "i:1"));
    analyze_path(&p, "i", None).unwrap()
}

#[test]
fn debian_distroless_status_d_and_licenses() {
    let img = image_with(
        Layer::new()
            .file("etc/os-release", 0o644, b"ID=debian\nVERSION_ID=\"12\"\n")
            .file(
                "var/lib/dpkg/status.d/tzdata",
                0o644,
                &std::fs::read(third_party("dpkg/status-multiple")).unwrap(),
            )
            .file(
                "var/lib/dpkg/status.d/apt",
                0o644,
                &std::fs::read(third_party("dpkg/status-installed-size-4KB")).unwrap(),
            )
            .file(
                "var/lib/dpkg/status.d/apt.md5sums",
                0o644,
                b"abc  usr/bin/apt\n",
            )
            .file(
                "usr/share/doc/apt/copyright",
                0o644,
                b"Format: https://x\n\nFiles: *\nLicense: GPLv2+\n",
            ),
    );
    let inv = collect(&img.fs);
    let got: Vec<(&str, &str)> = inv
        .packages
        .iter()
        .map(|p| (p.name.as_str(), p.version.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("apt", "1.8.2"),
            ("no-version", ""),
            ("tzdata", "2020a-0+deb10u1"),
            ("util-linux", "2.33.1-0.1")
        ]
    );
    let apt = &inv.packages[0];
    assert_eq!(apt.license.as_deref(), Some("GPLv2+"));
    assert_eq!(
        apt.purl.as_deref(),
        Some("pkg:deb/debian/apt@1.8.2?arch=amd64&distro=debian-12&upstream=apt-dev")
    );
    assert_eq!(inv.os.as_ref().map(|o| o.family.as_str()), Some("debian"));
}

#[test]
fn alpine_image() {
    let img = image_with(
        Layer::new()
            .file(
                "etc/os-release",
                0o644,
                b"NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.20.3\n",
            )
            .file(
                "lib/apk/db/installed",
                0o644,
                &std::fs::read(third_party("apk/installed-multiple")).unwrap(),
            ),
    );
    let inv = collect(&img.fs);
    assert_eq!(inv.packages.len(), 2);
    assert_eq!(
        inv.packages[1].purl.as_deref(),
        Some("pkg:apk/alpine/musl-utils@1.1.24-r2?arch=x86_64&distro=alpine-3.20.3")
    );
    assert_eq!(inv.packages[1].source_name.as_deref(), Some("musl"));
}

fn rpmdb(headers: &[Vec<u8>]) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("rpmdb.sqlite");
    let c = rusqlite::Connection::open(&p).unwrap();
    c.execute_batch(
        "CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL);",
    )
    .unwrap();
    for h in headers {
        c.execute("INSERT INTO Packages (blob) VALUES (?1)", [h])
            .unwrap();
    }
    drop(c);
    std::fs::read(&p).unwrap()
}

#[test]
fn ubi9_rpm_sqlite_database() {
    use rpm::HeaderValue::*;
    let bash = rpm::build_header(&[
        (rpm::TAG_NAME, Str("bash".into())),
        (rpm::TAG_VERSION, Str("5.1.8".into())),
        (rpm::TAG_RELEASE, Str("9.el9".into())),
        (rpm::TAG_ARCH, Str("x86_64".into())),
        (rpm::TAG_LICENSE, Str("GPLv3+".into())),
        (rpm::TAG_SOURCERPM, Str("bash-5.1.8-9.el9.src.rpm".into())),
    ]);
    let ssl = rpm::build_header(&[
        (rpm::TAG_NAME, Str("openssl-libs".into())),
        (rpm::TAG_EPOCH, Int32(1)),
        (rpm::TAG_VERSION, Str("3.0.7".into())),
        (rpm::TAG_RELEASE, Str("27.el9".into())),
        (rpm::TAG_ARCH, Str("x86_64".into())),
        (rpm::TAG_LICENSE, I18n("ASL 2.0".into())),
        (
            rpm::TAG_SOURCERPM,
            Str("openssl-3.0.7-27.el9.src.rpm".into()),
        ),
    ]);
    let img = image_with(
        Layer::new()
            .file("etc/os-release", 0o644, b"NAME=\"Red Hat Enterprise Linux\"\nID=\"rhel\"\nID_LIKE=\"fedora\"\nVERSION_ID=\"9.4\"\n")
            .file("var/lib/rpm/rpmdb.sqlite", 0o644, &rpmdb(&[bash, ssl, vec![0, 0, 0, 9]])),
    );
    let inv = collect(&img.fs);
    let got: Vec<(&str, &str)> = inv
        .packages
        .iter()
        .map(|p| (p.name.as_str(), p.version.as_str()))
        .collect();
    assert_eq!(
        got,
        [("bash", "5.1.8-9.el9"), ("openssl-libs", "1:3.0.7-27.el9")]
    );
    assert_eq!(inv.packages[1].license.as_deref(), Some("ASL 2.0"));
    assert_eq!(inv.packages[1].source_name.as_deref(), Some("openssl"));
    assert_eq!(
        inv.packages[1].purl.as_deref(),
        Some(
            "pkg:rpm/rhel/openssl-libs@3.0.7-27.el9?arch=x86_64&distro=rhel-9.4&epoch=1&upstream=openssl-3.0.7-27.el9.src.rpm"
        )
    );
    assert_eq!(inv.os.as_ref().map(|o| o.family.as_str()), Some("redhat"));
    assert!(
        inv.warnings.iter().any(|w| w.contains("package header 3")),
        "{:?}",
        inv.warnings
    );
}

#[test]
fn unknown_os_and_missing_os_release_are_warnings() {
    let inv = collect(
        &image_with(Layer::new().file("etc/os-release", 0o644, b"ID=plan9\nVERSION_ID=4\n")).fs,
    );
    assert_eq!(inv.os.as_ref().map(|o| o.family.as_str()), Some("unknown"));
    assert!(
        inv.warnings
            .iter()
            .any(|w| w.contains("unknown OS `plan9`")),
        "{:?}",
        inv.warnings
    );
    let inv = collect(&image_with(Layer::new().file("bin/x", 0o755, b"x")).fs);
    assert!(inv.os.is_none());
    assert!(
        inv.warnings
            .iter()
            .any(|w| w.contains("no /etc/os-release"))
    );
    // A corrupt rpm database and a legacy BerkeleyDB one are named.
    let inv = collect(
        &image_with(
            Layer::new()
                .file("var/lib/rpm/rpmdb.sqlite", 0o644, b"garbage")
                .file("usr/lib/sysimage/rpm/x", 0o644, b""),
        )
        .fs,
    );
    assert!(
        inv.warnings
            .iter()
            .any(|w| w.contains("rpmdb.sqlite") && w.contains("not listed")),
        "{:?}",
        inv.warnings
    );
    let inv = collect(&image_with(Layer::new().file("var/lib/rpm/Packages", 0o644, b"bdb")).fs);
    assert!(
        inv.warnings.iter().any(|w| w.contains("BerkeleyDB")),
        "{:?}",
        inv.warnings
    );
}

#[test]
fn malformed_dpkg_stanza_inside_an_image() {
    let img = image_with(Layer::new().file(
        "var/lib/dpkg/status",
        0o644,
        b"Package: ok\nVersion: 1\n\n\x00\xff garbage line\nPackage: after\nVersion: 2\n",
    ));
    let inv = collect(&img.fs);
    assert_eq!(
        inv.packages
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>(),
        ["after", "ok"]
    );
    assert!(
        inv.warnings
            .iter()
            .any(|w| w.starts_with("/var/lib/dpkg/status:4: malformed line")),
        "{:?}",
        inv.warnings
    );
}
