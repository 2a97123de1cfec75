//! Python distributions: `*.dist-info/METADATA` and `*.egg-info/PKG-INFO` (or an `*.egg-info`
//! file) in a `site-packages` or `dist-packages` directory. The interpreter and its standard
//! library are the OS package's.

use super::{Ecosystem, LangComponent};
use crate::inventory::purl;

/// A Python metadata file in a site-/dist-packages directory.
pub fn is_metadata(path: &str) -> bool {
    let in_site = path.contains("/site-packages/") || path.contains("/dist-packages/");
    if !in_site {
        return false;
    }
    let mut parts = path.rsplit('/');
    let base = parts.next().unwrap_or_default();
    let parent = parts.next().unwrap_or_default();
    let grand = parts.next().unwrap_or_default();
    let site = |d: &str| d == "site-packages" || d == "dist-packages";
    (base == "METADATA" && parent.ends_with(".dist-info") && site(grand))
        || (base == "PKG-INFO" && parent.ends_with(".egg-info") && site(grand))
        || (base.ends_with(".egg-info") && site(parent))
}

/// The distribution a metadata file describes (`Name`, `Version`, `License`).
pub fn parse(path: &str, text: &str) -> Option<LangComponent> {
    let mut name = None;
    let mut version = None;
    let mut license = None;
    let mut expression = None;
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if line.is_empty() {
            // Headers end at the first blank line; the description follows.
            break;
        }
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        let v = v.trim();
        match k {
            "Name" if name.is_none() => name = Some(v.to_string()),
            "Version" if version.is_none() => version = Some(v.to_string()),
            "License-Expression" => expression = Some(v.to_string()),
            "License" if license.is_none() && !v.is_empty() && v != "UNKNOWN" => {
                license = Some(v.to_string());
            }
            _ => {}
        }
    }
    let name = name.filter(|n| !n.is_empty())?;
    let version = version.unwrap_or_default();
    // purl: lowercase, runs of `-_.` as one `-` (PEP 503).
    let mut normalized = String::with_capacity(name.len());
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !normalized.ends_with('-') {
                normalized.push('-');
            }
        } else {
            normalized.push(c.to_ascii_lowercase());
        }
    }
    Some(LangComponent {
        ecosystem: Ecosystem::Pypi,
        group: None,
        purl: purl::purl("pypi", "", &normalized, &version, &[]),
        name,
        version,
        license: expression.or(license),
        sha1: None,
        file: path.to_string(),
        location: path.to_string(),
        layer: String::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_paths() {
        assert!(is_metadata(
            "opt/venv/lib/python3.11/site-packages/pip-23.0.1.dist-info/METADATA"
        ));
        assert!(is_metadata(
            "usr/lib/python3/dist-packages/six-1.16.0.egg-info/PKG-INFO"
        ));
        assert!(is_metadata(
            "usr/lib/python3/dist-packages/six-1.16.0.egg-info"
        ));
        assert!(!is_metadata(
            "usr/lib/python3/dist-packages/x/y.dist-info/METADATA"
        ));
        assert!(!is_metadata("usr/share/x.dist-info/METADATA"));
    }

    #[test]
    fn parses_headers_only() {
        let c = parse(
            "p",
            "Metadata-Version: 2.1\nName: Foo_Bar\nVersion: 1.2\nLicense: MIT\n\nVersion: 9\n",
        )
        .unwrap();
        assert_eq!((c.name.as_str(), c.version.as_str()), ("Foo_Bar", "1.2"));
        assert_eq!(c.purl, "pkg:pypi/foo-bar@1.2");
        assert_eq!(c.license.as_deref(), Some("MIT"));
        assert!(parse("p", "Version: 1\n").is_none());
    }
}
