//! Java archives (`.jar`, `.war`, `.ear`), read from the layer stream by their local headers:
//! `META-INF/maven/**/pom.properties`, `META-INF/MANIFEST.MF` and nested archives (Spring Boot
//! `BOOT-INF/lib/`, `WEB-INF/lib/`), each nested archive read from memory within the cap.
//!
//! Identity, as syft gives it: the name from the file name (else the pom's artifactId, else the
//! manifest's title); the version from the pom that matches the archive, else the file name
//! (`eclipse-jdt-core-3.32.0.jar`: its manifest says `3.32.0.qualifier`), else the manifest
//! (`Implementation-Version`, `Bundle-Version`, `Specification-Version`).
//! Other pom.properties inside an archive (shaded dependencies) are components of their own.

use std::collections::BTreeMap;
use std::io::{self, BufRead, Read};

use sha1::{Digest, Sha1};

use super::zipstream::{self, Body, End, Want};
use super::{Ecosystem, LangComponent};

/// Archives nested deeper than this (a jar in a jar in a jar) are not read: at most this
/// many nested archives are in memory at once, each within the cap.
pub const MAX_DEPTH: usize = 2;
/// Small files inside an archive (manifest, pom.properties) are read up to this size.
const SMALL: u64 = 1 << 20;

/// A path that names a Java archive.
pub fn is_archive(path: &str) -> bool {
    let lower = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
    [".jar", ".war", ".ear"]
        .iter()
        .any(|ext| lower.len() > ext.len() && lower.ends_with(ext))
}

/// A reader that hashes what passes through it.
struct Hashing<R> {
    inner: R,
    sha1: Sha1,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.sha1.update(&buf[..n]);
        Ok(n)
    }
}

/// What scanning one archive found.
#[derive(Debug, Default)]
struct Found {
    manifest: BTreeMap<String, String>,
    poms: Vec<Pom>,
    nested: Vec<LangComponent>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Pom {
    group: String,
    artifact: String,
    version: String,
}

/// Scan one archive read from `r` (all of it is read, for the sha1). `file` is the archive's
/// path in the layer; `location` its full location (`app.jar!/BOOT-INF/lib/x.jar` when
/// nested); `cap` bounds each nested archive; `warnings` receives what could not be read.
pub fn scan<R: Read>(
    r: R,
    file: &str,
    location: &str,
    cap: u64,
    depth: usize,
    warnings: &mut Vec<String>,
) -> io::Result<Vec<LangComponent>> {
    let mut hashing = io::BufReader::with_capacity(
        64 << 10,
        Hashing {
            inner: r,
            sha1: Sha1::new(),
        },
    );
    let mut found = Found::default();
    let end = walk_archive(
        &mut hashing,
        file,
        location,
        cap,
        depth,
        &mut found,
        warnings,
    );
    // The rest (central directory, or whatever follows a broken record) for the sha1.
    io::copy(&mut hashing, &mut io::sink())?;
    let digest = hex::encode(hashing.into_inner().sha1.finalize());
    match end {
        End::Complete => {}
        End::Truncated => warnings.push(format!(
            "`/{location}`: the archive ends without a central directory (truncated?); identified from what was read"
        )),
        End::Broken(why) => warnings.push(format!(
            "`/{location}`: not a readable zip ({why}); identified from what was read and the file name"
        )),
    }
    Ok(components(found, file, location, &digest))
}

fn walk_archive<R: BufRead>(
    r: &mut R,
    file: &str,
    location: &str,
    cap: u64,
    depth: usize,
    found: &mut Found,
    warnings: &mut Vec<String>,
) -> End {
    zipstream::walk(
        r,
        |h| {
            let name = h.name.as_str();
            if name.eq_ignore_ascii_case("META-INF/MANIFEST.MF")
                || (name.starts_with("META-INF/maven/") && name.ends_with("/pom.properties"))
            {
                Want::Read { limit: SMALL }
            } else if is_archive(name) && !name.ends_with('/') {
                Want::Read { limit: cap }
            } else {
                Want::Skip
            }
        },
        |h, body| {
            let name = h.name.as_str();
            let inner = format!("{location}!/{name}");
            let bytes = match body {
                Body::Bytes(b) => b,
                Body::TooLarge { read } => {
                    warnings.push(format!(
                        "`/{inner}`: {} over the {cap}-byte cap for nested archives (--nested-archive-cap, GOLDEN_SCAN_NESTED_ARCHIVE_CAP) or compressed more than {}:1; not read",
                        if read > cap { format!("{read}+ bytes,") } else { format!("{read} bytes,") },
                        zipstream::MAX_RATIO
                    ));
                    return;
                }
                Body::Unsupported(why) => {
                    warnings.push(format!("`/{inner}`: {why}; not read"));
                    return;
                }
            };
            if is_archive(name) {
                if depth + 1 > MAX_DEPTH {
                    warnings.push(format!(
                        "`/{inner}`: archives nested deeper than {MAX_DEPTH} levels are not read"
                    ));
                    return;
                }
                match scan(&bytes[..], file, &inner, cap, depth + 1, warnings) {
                    Ok(mut c) => found.nested.append(&mut c),
                    Err(e) => warnings.push(format!("`/{inner}`: {e}; not read")),
                }
            } else if name.eq_ignore_ascii_case("META-INF/MANIFEST.MF") {
                found.manifest = parse_manifest(&String::from_utf8_lossy(&bytes));
            } else if let Some(p) = parse_pom_properties(&String::from_utf8_lossy(&bytes)) {
                found.poms.push(p);
            }
        },
    )
}

/// Main-section attributes of a manifest (continuation lines joined).
pub fn parse_manifest(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut last: Option<String> = None;
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if line.is_empty() {
            // The main section ends at the first blank line.
            break;
        }
        if let Some(cont) = line.strip_prefix(' ') {
            if let Some(k) = &last
                && let Some(v) = out.get_mut(k)
            {
                let v: &mut String = v;
                v.push_str(cont);
            }
            continue;
        }
        if let Some((k, v)) = line.split_once(':') {
            let k = k.trim().to_string();
            out.insert(k.clone(), v.trim().to_string());
            last = Some(k);
        }
    }
    out
}

fn parse_pom_properties(text: &str) -> Option<Pom> {
    let mut group = None;
    let mut artifact = None;
    let mut version = None;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') || line.starts_with('!') {
            continue;
        }
        let Some((k, v)) = line.split_once(['=', ':']) else {
            continue;
        };
        let v = v.trim().to_string();
        match k.trim() {
            "groupId" => group = Some(v),
            "artifactId" => artifact = Some(v),
            "version" => version = Some(v),
            _ => {}
        }
    }
    Some(Pom {
        group: group.unwrap_or_default(),
        artifact: artifact.filter(|a| !a.is_empty())?,
        version: version.unwrap_or_default(),
    })
}

/// `tomcat10-i18n-pt-BR-10.1.60.jar` → (`tomcat10-i18n-pt-BR`, `10.1.60`): the version starts
/// at the first `-` followed by a digit.
pub fn split_file_name(path: &str) -> (String, String) {
    let base = path.rsplit('/').next().unwrap_or(path);
    let stem = match base.rfind('.') {
        Some(i) => &base[..i],
        None => base,
    };
    let bytes = stem.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'-' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit) {
            return (stem[..i].to_string(), stem[i + 1..].to_string());
        }
    }
    (stem.to_string(), String::new())
}

fn components(found: Found, file: &str, location: &str, sha1: &str) -> Vec<LangComponent> {
    let (file_name, file_version) = split_file_name(location);
    let m = &found.manifest;
    let manifest_version = [
        "Implementation-Version",
        "Bundle-Version",
        "Specification-Version",
    ]
    .iter()
    .find_map(|k| m.get(*k).filter(|v| !v.is_empty()).cloned());
    // The pom describing this archive: the only one, or the one named like the file.
    let main_pom = match found.poms.as_slice() {
        [one] => Some(one.clone()),
        many => many.iter().find(|p| p.artifact == file_name).cloned(),
    };
    let name = if !file_name.is_empty() {
        file_name.clone()
    } else if let Some(p) = &main_pom {
        p.artifact.clone()
    } else {
        ["Implementation-Title", "Bundle-Name", "Bundle-SymbolicName"]
            .iter()
            .find_map(|k| m.get(*k).cloned())
            .unwrap_or_default()
    };
    let version = main_pom
        .as_ref()
        .filter(|p| p.artifact == name && !p.version.is_empty())
        .map(|p| p.version.clone())
        .or(Some(file_version).filter(|v| !v.is_empty()))
        .or(manifest_version)
        .unwrap_or_default();
    let group = main_pom
        .as_ref()
        .filter(|p| p.artifact == name && !p.group.is_empty())
        .map(|p| p.group.clone())
        .or_else(|| m.get("Implementation-Vendor-Id").cloned())
        .or_else(|| {
            m.get("Bundle-SymbolicName")
                .map(|s| s.split(';').next().unwrap_or_default().trim().to_string())
        })
        .filter(|g| !g.is_empty())
        .unwrap_or_else(|| name.clone());
    let mut out = vec![LangComponent {
        ecosystem: Ecosystem::Maven,
        purl: super::purl_maven(&group, &name, &version),
        group: Some(group),
        name,
        version,
        license: m.get("Bundle-License").cloned(),
        sha1: Some(sha1.to_string()),
        file: file.to_string(),
        location: location.to_string(),
        layer: String::new(),
    }];
    // Shaded or bundled artifacts: their own components, at the same location.
    for p in found.poms {
        if main_pom.as_ref() == Some(&p) && p.artifact == out[0].name {
            continue;
        }
        out.push(LangComponent {
            ecosystem: Ecosystem::Maven,
            purl: super::purl_maven(&p.group, &p.artifact, &p.version),
            group: Some(p.group).filter(|g| !g.is_empty()),
            name: p.artifact,
            version: p.version,
            license: None,
            sha1: None,
            file: file.to_string(),
            location: location.to_string(),
            layer: String::new(),
        });
    }
    out.extend(found.nested);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names() {
        assert_eq!(
            split_file_name("usr/share/java/tomcat10-i18n-pt-BR-10.1.60.jar"),
            ("tomcat10-i18n-pt-BR".into(), "10.1.60".into())
        );
        assert_eq!(
            split_file_name("a/jrt-fs.jar"),
            ("jrt-fs".into(), String::new())
        );
        assert!(is_archive("x/app.WAR"));
        assert!(!is_archive("x/.jar"));
        assert!(!is_archive("x/jar"));
    }

    #[test]
    fn manifest_continuations() {
        let m = parse_manifest(
            "Manifest-Version: 1.0\r\nImplementation-Title: long\r\n  er\r\n\r\nName: x\r\nImplementation-Version: 9\r\n",
        );
        assert_eq!(m.get("Implementation-Title").unwrap(), "long er");
        assert!(!m.contains_key("Implementation-Version"));
    }
}
