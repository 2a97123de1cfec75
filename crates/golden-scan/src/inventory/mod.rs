//! OS and package inventory from the merged filesystem: os-release, dpkg (status and
//! status.d), apk, rpm (sqlite). Licenses: apk `L:`, rpm LICENSE, dpkg DEP-5 copyright files.

pub mod apk;
pub mod dpkg;
pub mod osrelease;
pub mod purl;
pub mod rpm;

use std::borrow::Cow;

use golden_contracts::scan::{OsInfo, Package};

use crate::fs::Fs;

#[derive(Debug, Default)]
pub struct Inventory {
    pub os: Option<OsInfo>,
    pub packages: Vec<Package>,
    pub warnings: Vec<String>,
}

/// A kept file as text: borrowed (no copy) when it is valid UTF-8.
fn text(bytes: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(bytes)
}

/// Read a kept file, turning a symlink loop into a warning.
fn read<'a>(fs: &'a Fs, path: &str, warnings: &mut Vec<String>) -> Option<&'a [u8]> {
    match fs.read(path) {
        Ok(v) => v,
        Err(e) => {
            warnings.push(format!("cannot read {e}"));
            None
        }
    }
}

fn distro(os: &Option<OsInfo>) -> String {
    match os {
        Some(o) if !o.version_id.is_empty() => format!("{}-{}", o.id, o.version_id),
        Some(o) => o.id.clone(),
        None => String::new(),
    }
}

pub fn collect(fs: &Fs) -> Inventory {
    let mut inv = Inventory::default();
    let w = &mut inv.warnings;

    inv.os = os(fs, w);
    let os_id = inv.os.as_ref().map(|o| o.id.clone()).unwrap_or_default();
    let distro = distro(&inv.os);
    dpkg_packages(fs, &os_id, &distro, &mut inv.packages, w);
    apk_packages(fs, &os_id, &distro, &mut inv.packages, w);
    rpm_packages(fs, &os_id, &distro, &mut inv.packages, w);
    inv.packages.sort();
    inv.packages.dedup();
    inv
}

/// The OS from os-release (`/etc`, else `/usr/lib`), with a warning when it is missing or
/// unknown.
fn os(fs: &Fs, w: &mut Vec<String>) -> Option<OsInfo> {
    let release = read(fs, "etc/os-release", w).or_else(|| read(fs, "usr/lib/os-release", w));
    match release {
        Some(bytes) => {
            let fields = osrelease::parse(&text(bytes));
            let debian_version = read(fs, "etc/debian_version", w).map(text);
            let os = osrelease::os_info(&fields, debian_version.as_deref());
            match &os {
                None => w.push("/etc/os-release has no ID; OS unknown".into()),
                Some(os) if os.family == "unknown" => w.push(format!(
                    "unknown OS `{}` (os-release ID); OS-specific checks use whatever package databases exist",
                    os.id
                )),
                _ => {}
            }
            os
        }
        None => {
            if fs.exists("etc/os-release") {
                w.push("/etc/os-release exists but could not be read (symlink outside the image?); OS unknown".into());
            } else {
                w.push("no /etc/os-release in the image; OS unknown".into());
            }
            None
        }
    }
}

/// dpkg packages from `/var/lib/dpkg/status` and distroless `status.d`, with the licenses of
/// their copyright files.
fn dpkg_packages(
    fs: &Fs,
    os_id: &str,
    distro: &str,
    packages: &mut Vec<Package>,
    w: &mut Vec<String>,
) {
    let mut dpkg_sources: Vec<(String, Cow<'_, str>)> = Vec::new();
    if let Some(b) = read(fs, "var/lib/dpkg/status", w) {
        dpkg_sources.push(("/var/lib/dpkg/status".into(), text(b)));
    }
    for (path, node) in fs.children("var/lib/dpkg/status.d") {
        if let Some(c) = &node.content {
            // Distroless also writes `<pkg>.md5sums` beside each status file.
            if !path.ends_with(".md5sums") {
                dpkg_sources.push((format!("/{path}"), text(c)));
            }
        }
    }
    let namespace = if os_id.is_empty() {
        "debian".to_string()
    } else {
        os_id.to_string()
    };
    for (file, body) in &dpkg_sources {
        for p in dpkg::parse(body, file, w) {
            let license = read(
                fs,
                &format!("usr/share/doc/{}/copyright", p.name),
                &mut Vec::new(),
            )
            .map(|b| dpkg::copyright_licenses(&text(b)))
            .filter(|l| !l.is_empty())
            .map(|l| l.join(" AND "));
            let upstream = match (&p.source_name, &p.source_version) {
                (Some(n), Some(v)) if *v != p.version => format!("{n}@{v}"),
                (Some(n), _) => n.clone(),
                _ => String::new(),
            };
            let purl = purl::purl(
                "deb",
                &namespace,
                &p.name,
                &p.version,
                &[
                    ("arch", p.arch.clone().unwrap_or_default()),
                    ("distro", distro.to_string()),
                    ("upstream", upstream),
                ],
            );
            packages.push(Package {
                name: p.name,
                version: p.version.clone(),
                kind: "dpkg".into(),
                source_version: p
                    .source_version
                    .or_else(|| p.source_name.as_ref().map(|_| p.version.clone())),
                source_name: p.source_name,
                arch: p.arch,
                license,
                purl: Some(purl),
                ..Package::default()
            });
        }
    }
}

/// apk packages from the first installed database found.
fn apk_packages(
    fs: &Fs,
    os_id: &str,
    distro: &str,
    packages: &mut Vec<Package>,
    w: &mut Vec<String>,
) {
    for db in ["lib/apk/db/installed", "usr/lib/apk/db/installed"] {
        let Some(b) = read(fs, db, w) else { continue };
        let namespace = if os_id.is_empty() {
            "alpine".to_string()
        } else {
            os_id.to_string()
        };
        for p in apk::parse(&text(b), &format!("/{db}"), w) {
            let purl = purl::purl(
                "apk",
                &namespace,
                &p.name,
                &p.version,
                &[
                    ("arch", p.arch.clone().unwrap_or_default()),
                    ("distro", distro.to_string()),
                ],
            );
            packages.push(Package {
                name: p.name,
                version: p.version.clone(),
                kind: "apk".into(),
                source_version: p.origin.as_ref().map(|_| p.version.clone()),
                source_name: p.origin,
                arch: p.arch,
                license: p.license,
                purl: Some(purl),
                ..Package::default()
            });
        }
        break;
    }
}

/// rpm packages from the sqlite database; the older BerkeleyDB/ndb ones are only reported.
fn rpm_packages(
    fs: &Fs,
    os_id: &str,
    distro: &str,
    packages: &mut Vec<Package>,
    w: &mut Vec<String>,
) {
    let mut rpm_found = false;
    for dir in ["var/lib/rpm", "usr/lib/sysimage/rpm"] {
        let db_path = format!("{dir}/rpmdb.sqlite");
        let Some(db) = read(fs, &db_path, w) else {
            continue;
        };
        rpm_found = true;
        let wal = read(fs, &format!("{dir}/rpmdb.sqlite-wal"), w);
        match rpm::read_sqlite(db, wal) {
            Ok((pkgs, mut warns)) => {
                w.append(&mut warns);
                let namespace = if os_id.is_empty() {
                    "redhat".to_string()
                } else {
                    os_id.to_string()
                };
                for p in pkgs {
                    let version = p.evr();
                    let purl_version = if p.release.is_empty() {
                        p.version.clone()
                    } else {
                        format!("{}-{}", p.version, p.release)
                    };
                    let purl = purl::purl(
                        "rpm",
                        &namespace,
                        &p.name,
                        &purl_version,
                        &[
                            ("arch", p.arch.clone().unwrap_or_default()),
                            (
                                "epoch",
                                p.epoch
                                    .filter(|e| *e > 0)
                                    .map(|e| e.to_string())
                                    .unwrap_or_default(),
                            ),
                            ("distro", distro.to_string()),
                            ("upstream", p.source_rpm.clone().unwrap_or_default()),
                        ],
                    );
                    let (source_name, source_version) = split_source_rpm(p.source_rpm.as_deref());
                    packages.push(Package {
                        name: p.name,
                        version,
                        kind: "rpm".into(),
                        source_name,
                        source_version,
                        arch: p.arch,
                        license: p.license,
                        purl: Some(purl),
                        ..Package::default()
                    });
                }
            }
            Err(e) => w.push(format!("/{db_path}: {e}; rpm packages not listed")),
        }
        break;
    }
    if !rpm_found {
        for legacy in ["var/lib/rpm/Packages", "var/lib/rpm/Packages.db"] {
            if fs.exists(legacy) {
                w.push(format!(
                    "/{legacy}: BerkeleyDB/ndb rpm databases (RHEL 8 and older, SUSE) are not supported; rpm packages not listed"
                ));
            }
        }
    }
}

/// `openssl-3.0.7-27.el9.src.rpm` → (`openssl`, `3.0.7-27.el9`).
fn split_source_rpm(s: Option<&str>) -> (Option<String>, Option<String>) {
    let Some(s) = s else { return (None, None) };
    let base = s
        .trim_end_matches(".rpm")
        .trim_end_matches(".src")
        .trim_end_matches(".nosrc");
    let mut parts = base.rsplitn(3, '-');
    let release = parts.next();
    let version = parts.next();
    let name = parts.next();
    match (name, version, release) {
        (Some(n), Some(v), Some(r)) => (Some(n.to_string()), Some(format!("{v}-{r}"))),
        _ => (Some(s.to_string()), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_rpm_split() {
        assert_eq!(
            split_source_rpm(Some("openssl-3.0.7-27.el9.src.rpm")),
            (Some("openssl".into()), Some("3.0.7-27.el9".into()))
        );
        assert_eq!(split_source_rpm(Some("odd")), (Some("odd".into()), None));
    }
}
