//! Property tests (cargo fuzz needs a nightly toolchain, which this machine does not have).
//! Every property asserts values: generated inputs parse back to exactly what was generated,
//! arbitrary input cannot corrupt a well-formed record that follows it, and what the parsers
//! and the tar walker return on arbitrary input keeps their documented invariants (normalised
//! paths, well-formed keys, the streaming and the seeking walker agreeing).

use std::io::{Cursor, Write};

use golden_scan::inventory::{apk, dpkg, osrelease};
use golden_scan::layer::{self, Kind, LayerFacts, Sniff};
use golden_scan::limits::Limits;
use proptest::prelude::*;

use crate::support::Layer;

fn name() -> impl Strategy<Value = String> {
    "[a-z0-9][a-z0-9+.-]{0,20}"
}

fn version() -> impl Strategy<Value = String> {
    "([0-9]{1,2}:)?[0-9][0-9A-Za-z.+~]{0,12}(-[0-9A-Za-z.+~]{1,8})?"
}

/// Arbitrary text, biased towards the characters that structure these formats.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[A-Za-z:=' \"\\\\#\t\r\n.-]{0,200}",
        "((Package|Version|Status|P|V|A|L|ID|License)(:|=)[ a-z0-9'\"]{0,8}\n{1,2}){0,12}",
    ]
}

/// A normalised layer path: what the walker must report for every entry.
fn is_normalised(p: &str) -> bool {
    !p.is_empty()
        && !p.starts_with('/')
        && p.split('/').all(|c| !c.is_empty() && c != "." && c != "..")
}

/// Invariants of any successful walk.
fn check_facts(f: &LayerFacts) -> Result<(), TestCaseError> {
    for e in &f.entries {
        prop_assert!(is_normalised(&e.path), "entry path {:?}", e.path);
    }
    for (p, c) in &f.contents {
        let e = f
            .entries
            .iter()
            .rev()
            .find(|e| e.path.as_ref() == p.as_str());
        prop_assert!(e.is_some(), "contents kept for {p}, which is no entry");
        prop_assert!(layer::wanted(p).is_some(), "contents kept for unwanted {p}");
        prop_assert!(c.len() as u64 <= e.map_or(0, |e| e.size), "{p}");
    }
    for w in f.whiteouts.iter().chain(&f.opaque) {
        prop_assert!(w.is_empty() || is_normalised(w), "whiteout {w:?}");
    }
    Ok(())
}

/// What both walkers must agree on.
fn listing(f: &LayerFacts) -> Vec<(String, Kind, u64, u32, Option<String>)> {
    f.entries
        .iter()
        .map(|e| {
            (
                e.path.to_string(),
                e.kind,
                e.size,
                e.mode,
                e.link.as_deref().map(str::to_string),
            )
        })
        .collect()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Garbage before a blank line cannot change the stanza after it, and the stanza adds
    /// nothing else: the packages and warnings are those of the garbage alone, plus it.
    #[test]
    fn dpkg_a_stanza_after_arbitrary_text_parses_exactly(junk in text(), n in name(), v in version(), a in "[a-z0-9]{1,8}") {
        let mut w_junk = Vec::new();
        let alone = dpkg::parse(&junk, "s", &mut w_junk);
        for p in &alone {
            prop_assert!(!p.name.is_empty() && p.name.trim() == p.name, "{:?}", p);
            prop_assert_eq!(p.version.trim(), p.version.as_str());
        }
        let text = format!("{junk}\n\nPackage: {n}\nStatus: install ok installed\nVersion: {v}\nArchitecture: {a}\nSource: src-{n} ({v})\nInstalled-Size: 12\n");
        let mut w = Vec::new();
        let got = dpkg::parse(&text, "s", &mut w);
        prop_assert_eq!(&w, &w_junk);
        prop_assert_eq!(got.len(), alone.len() + 1);
        prop_assert_eq!(&got[..alone.len()], &alone[..]);
        let last = &got[alone.len()];
        prop_assert_eq!(&last.name, &n);
        prop_assert_eq!(&last.version, &v);
        prop_assert_eq!(last.arch.as_deref(), Some(a.as_str()));
        let src = format!("src-{n}");
        prop_assert_eq!(last.source_name.as_deref(), Some(src.as_str()));
        prop_assert_eq!(last.source_version.as_deref(), Some(v.as_str()));
        prop_assert_eq!(last.installed_size, Some(12));
    }

    #[test]
    fn dpkg_round_trips_generated_stanzas(pkgs in proptest::collection::vec((name(), version(), "[a-z0-9]{1,8}", any::<bool>()), 1..20)) {
        let mut text = String::new();
        for (n, v, a, removed) in &pkgs {
            let state = if *removed { "deinstall ok config-files" } else { "install ok installed" };
            text.push_str(&format!("Package: {n}\nStatus: {state}\nArchitecture: {a}\nVersion: {v}\nDescription: x\n continued\n .\n\n"));
        }
        let mut w = Vec::new();
        let got = dpkg::parse(&text, "s", &mut w);
        prop_assert!(w.is_empty(), "{:?}", w);
        let got: Vec<(String, String, String)> = got.into_iter().map(|p| (p.name, p.version, p.arch.unwrap_or_default())).collect();
        // Packages whose files are gone (config-files) are not listed.
        let want: Vec<(String, String, String)> = pkgs.into_iter().filter(|p| !p.3).map(|(n, v, a, _)| (n, v, a)).collect();
        prop_assert_eq!(got, want);
    }

    /// Every license comes from a `License:` line, once, in order; a new one is appended once.
    #[test]
    fn dpkg_copyright_licenses_are_the_license_lines(junk in text(), lic in "[A-Za-z][A-Za-z0-9.+-]{0,20}") {
        let before = dpkg::copyright_licenses(&junk);
        let lines: Vec<String> = junk.lines().filter_map(|l| l.strip_prefix("License:")).map(|r| r.trim().to_string()).collect();
        for (i, l) in before.iter().enumerate() {
            prop_assert!(lines.contains(l), "{l:?} is not a License line");
            prop_assert!(!l.is_empty() && l.len() <= 100);
            prop_assert!(!before[..i].contains(l), "{l:?} twice");
        }
        let after = dpkg::copyright_licenses(&format!("{junk}\nLicense: {lic}\nLicense:  {lic} \n"));
        let mut want = before.clone();
        if !want.contains(&lic) {
            want.push(lic);
        }
        prop_assert_eq!(after, want);
    }

    /// Same for apk: garbage before a blank line cannot change the record after it.
    #[test]
    fn apk_a_record_after_arbitrary_text_parses_exactly(junk in text(), n in name(), v in version(), lic in "[A-Za-z0-9.+-]{1,12}") {
        let mut w_junk = Vec::new();
        let alone = apk::parse(&junk, "db", &mut w_junk);
        for p in &alone {
            prop_assert!(!p.name.is_empty(), "{:?}", p);
        }
        let text = format!("{junk}\n\nC:Q1abc=\nP:{n}\nV:{v}\nA:x86_64\nL:{lic}\no:{n}-src\n");
        let mut w = Vec::new();
        let got = apk::parse(&text, "db", &mut w);
        prop_assert_eq!(&w, &w_junk);
        prop_assert_eq!(got.len(), alone.len() + 1);
        prop_assert_eq!(&got[..alone.len()], &alone[..]);
        let want = apk::ApkPackage {
            name: n.clone(),
            version: v,
            arch: Some("x86_64".into()),
            license: Some(lic),
            origin: Some(format!("{n}-src")),
        };
        prop_assert_eq!(&got[alone.len()], &want);
    }

    #[test]
    fn apk_round_trips_generated_records(pkgs in proptest::collection::vec((name(), version()), 1..10)) {
        let db: Vec<String> = pkgs.iter().map(|(n, v)| format!("C:Q1abc=\nP:{n}\nV:{v}\nA:x86_64\nL:MIT\n")).collect();
        let mut w = Vec::new();
        let got = apk::parse(&db.join("\n"), "db", &mut w);
        prop_assert!(w.is_empty(), "{:?}", w);
        prop_assert!(got.iter().all(|p| p.arch.as_deref() == Some("x86_64") && p.license.as_deref() == Some("MIT")));
        let got: Vec<(String, String)> = got.into_iter().map(|p| (p.name, p.version)).collect();
        prop_assert_eq!(got, pkgs);
    }

    /// Keys are always well-formed; the last assignment wins over anything before it; quoting
    /// and the allowed escapes round-trip.
    #[test]
    fn os_release_reads_values_after_arbitrary_text(junk in text(), id in "[a-z]{1,10}", v in "[0-9.]{1,6}", value in "[ -~]{0,24}") {
        for k in osrelease::parse(&junk).keys() {
            prop_assert!(!k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'), "key {k:?}");
        }
        let escaped: String = value.chars().flat_map(|c| {
            let esc = matches!(c, '"' | '\\' | '`' | '$').then_some('\\');
            esc.into_iter().chain(std::iter::once(c))
        }).collect();
        let f = osrelease::parse(&format!("{junk}\n# c\nID='{id}'\nVERSION_ID=\"{v}\"\nPRETTY_NAME=\"{escaped}\"\n"));
        prop_assert_eq!(f.get("ID").map(String::as_str), Some(id.as_str()));
        prop_assert_eq!(f.get("VERSION_ID").map(String::as_str), Some(v.as_str()));
        prop_assert_eq!(f.get("PRETTY_NAME").map(String::as_str), Some(value.as_str()));
        let os = osrelease::os_info(&f, None).unwrap();
        prop_assert_eq!(os.id, id);
        prop_assert_eq!(os.version_id, v);
        prop_assert_eq!(os.pretty_name, value);
    }

    /// A generated layer (plain and gzipped) is read back entry by entry by both walkers, with
    /// the contents of the files the scanner keeps.
    #[test]
    fn the_tar_walker_reads_generated_layers_back(files in proptest::collection::btree_map("opt/[a-z]{1,6}(/[a-z]{1,6}){0,2}", (proptest::collection::vec(any::<u8>(), 0..600), 0o400u32..0o10000), 1..12), status in proptest::collection::vec(any::<u8>(), 0..300)) {
        let mut l = Layer::new();
        for (p, (data, mode)) in &files {
            l = l.file(p, *mode, data);
        }
        l = l.file("var/lib/dpkg/status", 0o644, &status).symlink("etc/os-release", "../usr/lib/os-release");
        let bytes = l.bytes();
        let mut want: Vec<(String, Kind, u64, u32, Option<String>)> = files.iter().map(|(p, (d, m))| (p.clone(), Kind::File, d.len() as u64, *m, None)).collect();
        want.push(("var/lib/dpkg/status".into(), Kind::File, status.len() as u64, 0o644, None));
        want.push(("etc/os-release".into(), Kind::Symlink, 0, 0o777, Some("../usr/lib/os-release".into())));
        let streamed = layer::walk_stream(Cursor::new(&bytes), "l", &Limits::default()).unwrap();
        let seeked = layer::walk_seekable(Cursor::new(&bytes), "l", &Limits::default()).unwrap();
        let gzipped = layer::walk_stream(Cursor::new(gzip(&bytes)), "l", &Limits::default()).unwrap();
        for f in [&streamed, &seeked, &gzipped] {
            check_facts(f)?;
            prop_assert_eq!(listing(f), want.clone());
            prop_assert!(f.warnings.is_empty(), "{:?}", f.warnings);
            prop_assert_eq!(f.contents.len(), 1);
            prop_assert_eq!(f.contents.get("var/lib/dpkg/status").map(|c| c.as_slice()), Some(status.as_slice()));
        }
        prop_assert_eq!(streamed.size, bytes.len() as u64);
        prop_assert_eq!(gzipped.size, bytes.len() as u64);
    }

    /// Arbitrary bytes: what is not a tar, gzip or zstd stream is refused; whatever is read
    /// keeps the invariants; an image archive without a manifest is refused.
    #[test]
    fn the_tar_walker_refuses_or_reads_arbitrary_bytes_consistently(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let kind = layer::sniff(&bytes[..bytes.len().min(512)]);
        let streamed = layer::walk_stream(Cursor::new(&bytes), "fuzz", &Limits::default());
        if matches!(kind, Sniff::Json | Sniff::Unknown) {
            prop_assert!(streamed.is_err(), "{kind:?} input was read as a layer");
        }
        if let Ok(f) = &streamed {
            check_facts(f)?;
        }
        if let Ok(f) = layer::walk_seekable(Cursor::new(&bytes), "fuzz", &Limits::default()) {
            check_facts(&f)?;
        }
        prop_assert!(golden_scan::source::analyze_stream(Cursor::new(&bytes), "fuzz", None).is_err());
    }

    /// A corrupted layer: whatever the walkers still read keeps the invariants, and when both
    /// the streaming and the seeking walker read a tar to the end they list the same entries.
    #[test]
    fn the_tar_walker_is_consistent_on_mutations_of_a_valid_layer(flips in proptest::collection::vec((0usize..8192, any::<u8>()), 1..16), cut in 0usize..8192) {
        let mut l = crate::support::debian_layer().symlink("a", "b").hardlink("h", "etc/passwd").bytes();
        for (at, b) in flips {
            let i = at % l.len();
            l[i] = b;
        }
        l.truncate(cut.min(l.len()));
        let streamed = layer::walk_stream(Cursor::new(&l), "mut", &Limits::default());
        let seeked = layer::walk_seekable(Cursor::new(&l), "mut", &Limits::default());
        if let Ok(f) = &streamed {
            check_facts(f)?;
        }
        if let Ok(f) = &seeked {
            check_facts(f)?;
        }
        if let (Ok(a), Ok(b)) = (&streamed, &seeked)
            && layer::sniff(&l[..l.len().min(512)]) == Sniff::Tar
        {
            prop_assert_eq!(listing(a), listing(b));
        }
        if let Ok(f) = seeked {
            // Packages only come from a package database the walk kept.
            let has_db = f.contents.keys().any(|k| k.contains("dpkg/status") || k.contains("apk/db") || k.contains("rpm"));
            let fs = golden_scan::fs::Fs::merge(vec![("mut".into(), std::sync::Arc::new(f))]);
            let inv = golden_scan::inventory::collect(&fs);
            if !has_db {
                prop_assert!(inv.packages.is_empty(), "{:?}", inv.packages);
            }
        }
    }
}

#[test]
fn layer_builder_sanity() {
    // The generators above rely on a layer being a valid tar.
    let l = Layer::new().file("x", 0o644, b"1").bytes();
    let f = layer::walk_stream(Cursor::new(&l), "l", &Limits::default()).unwrap();
    assert_eq!(listing(&f), [("x".to_string(), Kind::File, 1, 0o644, None)]);
    assert_eq!(f.size, l.len() as u64);
}
