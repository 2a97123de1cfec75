//! Language packages, found in the same streaming pass as the OS inventory: Java archives
//! (nested ones included), Python `*.dist-info/METADATA` and `*.egg-info/PKG-INFO`, .NET
//! `*.deps.json`, Go build info and Rust `cargo auditable` data of binaries in `PATH`
//! directories. Each component records the file it came from; after the layers are merged
//! a component is kept only when its file is still the one in the merged filesystem (a
//! whiteout or a later layer's file of the same path removes it).

pub mod binary;
pub mod dotnet;
pub mod java;
pub mod python;
pub mod zipstream;

use std::sync::Arc;

use golden_contracts::scan::Package;

use crate::fs::Fs;
use crate::inventory::purl;
use crate::layer::LayerFacts;

/// Default cap on one nested archive read from memory (`--nested-archive-cap`,
/// `GOLDEN_SCAN_NESTED_ARCHIVE_CAP`).
pub const DEFAULT_NESTED_ARCHIVE_CAP: u64 = 32 << 20;
/// Python metadata and .NET deps.json files are read up to this size.
pub const METADATA_LIMIT: u64 = 4 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Ecosystem {
    Maven,
    Pypi,
    Nuget,
    Golang,
    Cargo,
}

impl Ecosystem {
    /// The package kind in the report (`maven`, `pypi`, `nuget`, `golang`, `cargo`): the purl
    /// type.
    pub fn kind(self) -> &'static str {
        match self {
            Ecosystem::Maven => "maven",
            Ecosystem::Pypi => "pypi",
            Ecosystem::Nuget => "nuget",
            Ecosystem::Golang => "golang",
            Ecosystem::Cargo => "cargo",
        }
    }
}

/// One language package and where it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LangComponent {
    pub ecosystem: Ecosystem,
    pub group: Option<String>,
    pub name: String,
    pub version: String,
    pub purl: String,
    pub license: Option<String>,
    /// sha1 of the archive (Java), hex.
    pub sha1: Option<String>,
    /// The layer file it came from (no leading `/`).
    pub file: String,
    /// Where exactly: the file, or `outer.jar!/BOOT-INF/lib/inner.jar` when nested.
    pub location: String,
    /// The diff-id of the layer (set when the layers are merged).
    pub layer: String,
}

pub fn purl_maven(group: &str, name: &str, version: &str) -> String {
    purl::purl("maven", group, name, version, &[])
}

/// Files (other than Java archives) read for language packages, and up to what size.
pub fn wanted(path: &str) -> bool {
    python::is_metadata(path) || dotnet::is_deps_json(path)
}

/// Components of a small metadata file read whole (`bytes`).
pub fn from_file(path: &str, bytes: &[u8], warnings: &mut Vec<String>) -> Vec<LangComponent> {
    if python::is_metadata(path) {
        python::parse(path, &String::from_utf8_lossy(bytes))
            .into_iter()
            .collect()
    } else if dotnet::is_deps_json(path) {
        dotnet::parse(path, bytes, warnings)
    } else {
        Vec::new()
    }
}

/// The components still present in the merged filesystem, each with its layer's diff-id.
/// `layers` are in manifest order, as merged; `diff_ids` name them.
pub fn surviving(fs: &Fs, layers: &[Arc<LayerFacts>], diff_ids: &[String]) -> Vec<LangComponent> {
    let mut out = Vec::new();
    for (i, facts) in layers.iter().enumerate() {
        for c in &facts.components {
            // Kept only when the merged file is this layer's (not deleted, not replaced).
            if fs.get(&c.file).is_some_and(|n| n.layer == i) {
                let mut c = c.clone();
                c.layer = diff_ids.get(i).cloned().unwrap_or_default();
                out.push(c);
            }
        }
    }
    out
}

/// A component as a report package (`kind` is the purl type).
pub fn to_package(c: &LangComponent) -> Package {
    Package {
        name: c.name.clone(),
        version: c.version.clone(),
        kind: c.ecosystem.kind().into(),
        license: c.license.clone(),
        purl: Some(c.purl.clone()),
        layer: Some(c.layer.clone()).filter(|l| !l.is_empty()),
        path: Some(format!("/{}", c.location)),
        sha1: c.sha1.clone(),
        ..Package::default()
    }
}
