//! Property tests (cargo fuzz needs a nightly toolchain, which this machine does not have):
//! the parsers and the tar walker never panic on arbitrary input, and round-trip what they
//! should.

use std::io::Cursor;

use golden_scan::inventory::{apk, dpkg, osrelease};
use golden_scan::layer;
use golden_scan::limits::Limits;
use proptest::prelude::*;

use crate::support::Layer;

fn name() -> impl Strategy<Value = String> {
    "[a-z0-9][a-z0-9+.-]{0,20}"
}

fn version() -> impl Strategy<Value = String> {
    "([0-9]{1,2}:)?[0-9][0-9A-Za-z.+~]{0,12}(-[0-9A-Za-z.+~]{1,8})?"
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn dpkg_never_panics(text in any::<String>()) {
        let mut w = Vec::new();
        let _ = dpkg::parse(&text, "s", &mut w);
        let _ = dpkg::copyright_licenses(&text);
    }

    #[test]
    fn dpkg_round_trips_generated_stanzas(pkgs in proptest::collection::vec((name(), version(), "[a-z0-9]{1,8}"), 1..20)) {
        let mut text = String::new();
        for (n, v, a) in &pkgs {
            text.push_str(&format!("Package: {n}\nStatus: install ok installed\nArchitecture: {a}\nVersion: {v}\nDescription: x\n continued\n .\n\n"));
        }
        let mut w = Vec::new();
        let got = dpkg::parse(&text, "s", &mut w);
        prop_assert!(w.is_empty(), "{:?}", w);
        let got: Vec<(String, String, String)> = got.into_iter().map(|p| (p.name, p.version, p.arch.unwrap_or_default())).collect();
        prop_assert_eq!(got, pkgs);
    }

    #[test]
    fn apk_never_panics_and_round_trips(text in any::<String>(), pkgs in proptest::collection::vec((name(), version()), 1..10)) {
        let mut w = Vec::new();
        let _ = apk::parse(&text, "db", &mut w);
        let db: Vec<String> = pkgs.iter().map(|(n, v)| format!("C:Q1abc=\nP:{n}\nV:{v}\nA:x86_64\nL:MIT\n")).collect();
        let got = apk::parse(&db.join("\n"), "db", &mut w);
        let got: Vec<(String, String)> = got.into_iter().map(|p| (p.name, p.version)).collect();
        prop_assert_eq!(got, pkgs);
    }

    #[test]
    fn os_release_never_panics_and_reads_quoted_values(text in any::<String>(), id in "[a-z]{1,10}", v in "[0-9.]{1,6}") {
        let _ = osrelease::os_info(&osrelease::parse(&text), Some(&text));
        let f = osrelease::parse(&format!("# c\nID='{id}'\nVERSION_ID=\"{v}\"\n{text}"));
        prop_assert_eq!(f.get("ID").map(String::as_str).is_some(), true);
    }

    #[test]
    fn the_tar_walker_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let _ = layer::walk_stream(Cursor::new(&bytes), "fuzz", &Limits::default());
        let _ = layer::walk_seekable(Cursor::new(&bytes), "fuzz", &Limits::default());
        let _ = golden_scan::source::analyze_stream(Cursor::new(&bytes), "fuzz", None);
    }

    #[test]
    fn the_tar_walker_survives_mutations_of_a_valid_layer(flips in proptest::collection::vec((0usize..8192, any::<u8>()), 1..16), cut in 0usize..8192) {
        let mut l = crate::support::debian_layer().symlink("a", "b").hardlink("h", "etc/passwd").bytes();
        for (at, b) in flips {
            let i = at % l.len();
            l[i] = b;
        }
        l.truncate(cut.min(l.len()));
        let _ = layer::walk_stream(Cursor::new(&l), "mut", &Limits::default());
        if let Ok(f) = layer::walk_seekable(Cursor::new(&l), "mut", &Limits::default()) {
            let fs = golden_scan::fs::Fs::merge(vec![("mut".into(), std::sync::Arc::new(f))]);
            let _ = golden_scan::inventory::collect(&fs);
        }
    }
}

#[test]
fn layer_builder_sanity() {
    // The generators above rely on a layer being a valid tar.
    let l = Layer::new().file("x", 0o644, b"1").bytes();
    let f = layer::walk_stream(Cursor::new(&l), "l", &Limits::default()).unwrap();
    assert_eq!(f.entries.len(), 1);
}
