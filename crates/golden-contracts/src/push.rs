//! Push and index records: what `golden-push push --record` and `golden-push index --record`
//! write, and what `golden-push index`, `golden-report` (the `digests` output) and
//! `golden-build` (the base handoff) read. Machines read these files, never golden-push's
//! stdout.
//!
//! Both are strict: an unknown field, a missing field, another `kind` or an architecture
//! outside the one vocabulary ([`Arch`]) is an error naming the file and the field.

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::Document;

pub const PUSH_RECORD_SCHEMA: u32 = 1;
pub const INDEX_RECORD_SCHEMA: u32 = 1;

/// Artifact types golden-push attaches by file name.
pub const SCAN_REPORT_TYPE: &str = "application/vnd.golden.scan-report.v1+json";
pub const BUILD_RECORD_TYPE: &str = "application/vnd.golden.build-record.v1+json";
pub const CYCLONEDX_TYPE: &str = "application/vnd.cyclonedx+json";
/// The SPDX 2.3 SBOM (`sbom.spdx.json`, written by golden-scan beside the CycloneDX one).
pub const SPDX_TYPE: &str = "application/spdx+json";
pub const SARIF_TYPE: &str = "application/sarif+json";
/// The image's OpenVEX document (`vex.openvex.json`, written by golden-scan).
pub const OPENVEX_TYPE: &str = "application/openvex+json";

/// The artifact type a file is attached with, from its name (`None`: say FILE=TYPE).
pub fn artifact_type_for(name: &str) -> Option<&'static str> {
    let n = name.rsplit('/').next().unwrap_or(name);
    if n.ends_with("build-record.json") {
        Some(BUILD_RECORD_TYPE)
    } else if n.ends_with("report.json") {
        Some(SCAN_REPORT_TYPE)
    } else if n.ends_with(".cdx.json") {
        Some(CYCLONEDX_TYPE)
    } else if n.ends_with(".spdx.json") {
        Some(SPDX_TYPE)
    } else if n.ends_with(".sarif") || n.ends_with(".sarif.json") {
        Some(SARIF_TYPE)
    } else if n.ends_with(".openvex.json") {
        Some(OPENVEX_TYPE)
    } else {
        None
    }
}

/// CPU architecture, in the OCI/Docker vocabulary only (`amd64`, `arm64`). Machine names
/// (`x86_64`, `aarch64`) are accepted by [`Arch::parse`] and written the OCI way; a record
/// holding anything else does not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Arch {
    Amd64,
    Arm64,
}

impl Arch {
    pub const ALL: [Arch; 2] = [Arch::Amd64, Arch::Arm64];

    /// `amd64`/`x86_64`/`x86-64` → amd64, `arm64`/`aarch64` → arm64.
    pub fn parse(s: &str) -> Result<Arch, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "amd64" | "x86_64" | "x86-64" => Ok(Arch::Amd64),
            "arm64" | "aarch64" => Ok(Arch::Arm64),
            other => Err(format!(
                "architecture `{other}` is not one of amd64, arm64 (the OCI names; x86_64 and aarch64 are read as those)"
            )),
        }
    }

    /// A comma/space separated list (`amd64,arm64`), deduplicated, order kept.
    pub fn parse_list(s: &str) -> Result<Vec<Arch>, String> {
        let mut out = Vec::new();
        for item in s.split(|c: char| c == ',' || c.is_whitespace()) {
            if item.is_empty() {
                continue;
            }
            let a = Arch::parse(item)?;
            if !out.contains(&a) {
                out.push(a);
            }
        }
        Ok(out)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Arch::Amd64 => "amd64",
            Arch::Arm64 => "arm64",
        }
    }

    /// The architecture this binary was built for.
    pub fn host() -> Option<Arch> {
        Arch::parse(std::env::consts::ARCH).ok()
    }
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PushKind {
    #[serde(rename = "golden-push-record")]
    PushRecord,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum IndexKind {
    #[serde(rename = "golden-index-record")]
    IndexRecord,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PushResult {
    /// Manifest pushed, every referrer attached, every tag moved.
    Success,
    /// Something failed: `error` says what, `tags` lists the tags that did move (if any).
    Failure,
}

/// An artifact attached to the pushed manifest (OCI referrer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Referrer {
    pub artifact_type: String,
    /// Digest of the artifact manifest.
    pub digest: String,
    /// The file that was attached (as given).
    pub file: String,
}

/// A per-architecture push whose real tags the `index` step moves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexTarget {
    /// `REGISTRY/REPOSITORY:TAG` the index is pushed to.
    pub to: String,
    /// More tag names in the same repository.
    #[serde(default)]
    pub tags: Vec<String>,
}

/// One push (`golden-push push --record FILE`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushRecord {
    pub schema: u32,
    pub kind: PushKind,
    /// Plan entry id (the key of the report's `digests`).
    pub id: String,
    pub result: PushResult,
    /// Registry host (`myacr.azurecr.io`, `127.0.0.1:5000`).
    pub registry: String,
    /// `REGISTRY/REPOSITORY` without tag.
    pub image: String,
    pub arch: Arch,
    /// Manifest digest; absent when the push failed before the manifest was stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// `REGISTRY/REPOSITORY@sha256:...`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// Tags that now point at `digest`, fully qualified, in the order they were set.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Tags that were to be set and were not (a tag failed, or an earlier step did).
    #[serde(default)]
    pub tags_not_moved: Vec<String>,
    /// Referrers attached to `digest` (before any tag moved).
    #[serde(default)]
    pub referrers: Vec<Referrer>,
    /// Blobs sent or mounted (0: the registry had every one).
    #[serde(default)]
    pub uploaded: u32,
    /// Blobs of the image (layers and config).
    #[serde(default)]
    pub blobs: u32,
    /// Bytes of the blobs actually sent by this push (compressed layers and config); a blob
    /// mounted from another repository or already in the registry counts 0. Absent in older
    /// records and when the push failed before its blobs were known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes_uploaded: Option<u64>,
    /// The image's compressed size: the manifest's layer sizes plus its config size (what a
    /// pull downloads). Absent in older records and when the push failed before the manifest
    /// was built.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compressed_size: Option<u64>,
    /// Wall time of the push command, from its start to this record (tags and referrers
    /// included), in seconds. Absent in older records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_seconds: Option<f64>,
    /// Multi-architecture runs: the index this push goes into.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<IndexTarget>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Document for PushRecord {
    const KIND: &'static str = "push record";
    const SCHEMA: u32 = PUSH_RECORD_SCHEMA;
    fn schema(&self) -> u32 {
        self.schema
    }
}

impl PushRecord {
    /// A usable push: succeeded and has a digest.
    pub fn succeeded(&self) -> bool {
        self.result == PushResult::Success && self.digest.is_some()
    }
}

/// One architecture's manifest in an index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexManifest {
    pub arch: Arch,
    pub digest: String,
    pub reference: String,
}

/// One image's index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageIndex {
    pub id: String,
    pub result: PushResult,
    pub registry: String,
    pub image: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    pub manifests: Vec<IndexManifest>,
    /// Tags moved to the index, fully qualified.
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub tags_not_moved: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// `golden-push index --record FILE`: every image's index of one run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexRecord {
    pub schema: u32,
    pub kind: IndexKind,
    pub indexes: Vec<ImageIndex>,
}

impl Document for IndexRecord {
    const KIND: &'static str = "index record";
    const SCHEMA: u32 = INDEX_RECORD_SCHEMA;
    fn schema(&self) -> u32 {
        self.schema
    }
}

/// A push or index record, told apart by `kind` (for readers that take a folder of both).
#[derive(Debug, Clone, PartialEq)]
pub enum AnyRecord {
    Push(Box<PushRecord>),
    Index(IndexRecord),
}

impl AnyRecord {
    /// Read a record file of either kind; another `kind` is an error naming the file.
    pub fn read(path: &std::path::Path) -> Result<AnyRecord, crate::DocError> {
        let text = std::fs::read_to_string(path).map_err(|source| crate::DocError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        #[derive(Deserialize)]
        struct Probe {
            #[serde(default)]
            kind: Option<String>,
        }
        let kind = serde_json::from_str::<Probe>(&text)
            .ok()
            .and_then(|p| p.kind);
        match kind.as_deref() {
            Some("golden-index-record") => {
                IndexRecord::from_json(path, &text).map(AnyRecord::Index)
            }
            _ => PushRecord::from_json(path, &text).map(|r| AnyRecord::Push(Box::new(r))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn record() -> PushRecord {
        PushRecord {
            schema: PUSH_RECORD_SCHEMA,
            kind: PushKind::PushRecord,
            id: "nginx-1.26-debian".into(),
            result: PushResult::Success,
            registry: "r.io".into(),
            image: "r.io/golden/nginx".into(),
            arch: Arch::Amd64,
            digest: Some(format!("sha256:{}", "a".repeat(64))),
            reference: Some(format!("r.io/golden/nginx@sha256:{}", "a".repeat(64))),
            tags: vec!["r.io/golden/nginx:1.26".into()],
            tags_not_moved: vec![],
            referrers: vec![Referrer {
                artifact_type: SCAN_REPORT_TYPE.into(),
                digest: format!("sha256:{}", "b".repeat(64)),
                file: "out/report.json".into(),
            }],
            uploaded: 2,
            blobs: 3,
            bytes_uploaded: Some(1_234),
            compressed_size: Some(5_678),
            duration_seconds: Some(1.5),
            index: None,
            error: None,
        }
    }

    #[test]
    fn round_trip_and_arch_is_written_the_oci_way() {
        let r = record();
        let text = serde_json::to_string(&r).unwrap();
        assert!(text.contains(r#""arch":"amd64""#), "{text}");
        assert!(text.contains(r#""kind":"golden-push-record""#), "{text}");
        assert_eq!(
            PushRecord::from_json(Path::new("p.json"), &text).unwrap(),
            r
        );
    }

    #[test]
    fn an_older_record_without_bytes_size_or_duration_still_parses() {
        let mut v = serde_json::to_value(record()).unwrap();
        let o = v.as_object_mut().unwrap();
        for k in ["bytes_uploaded", "compressed_size", "duration_seconds"] {
            assert!(o.remove(k).is_some(), "{k} is written when known");
        }
        let r = PushRecord::from_json(Path::new("old.json"), &v.to_string()).unwrap();
        assert_eq!(
            (r.bytes_uploaded, r.compressed_size, r.duration_seconds),
            (None, None, None)
        );
        // And an unknown value is not written.
        let text = serde_json::to_string(&r).unwrap();
        assert!(
            !text.contains("bytes_uploaded") && !text.contains("duration_seconds"),
            "{text}"
        );
    }

    #[test]
    fn one_arch_vocabulary() {
        assert_eq!(Arch::parse("x86_64").unwrap(), Arch::Amd64);
        assert_eq!(Arch::parse("aarch64").unwrap(), Arch::Arm64);
        assert_eq!(Arch::parse("AMD64").unwrap().as_str(), "amd64");
        assert!(Arch::parse("riscv64").unwrap_err().contains("riscv64"));
        assert_eq!(
            Arch::parse_list("amd64, arm64,x86_64").unwrap(),
            vec![Arch::Amd64, Arch::Arm64]
        );
        // A record holding the machine name (what scripts/local.sh once wrote) is refused.
        let text = serde_json::to_string(&record())
            .unwrap()
            .replace(r#""arch":"amd64""#, r#""arch":"x86_64""#);
        let e = PushRecord::from_json(Path::new("rec/push-record.json"), &text)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("rec/push-record.json") && e.contains("x86_64"),
            "{e}"
        );
        assert_eq!(Arch::host().map(|a| a.as_str().len()), Some(5));
    }

    #[test]
    fn strict_parse_names_file_and_field() {
        let mut v = serde_json::to_value(record()).unwrap();
        v["attached"] = serde_json::json!([]);
        let e = PushRecord::from_json(Path::new("a/push-record.json"), &v.to_string())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("a/push-record.json") && e.contains("unknown field `attached`"),
            "{e}"
        );
        let mut v = serde_json::to_value(record()).unwrap();
        v.as_object_mut().unwrap().remove("registry");
        let e = PushRecord::from_json(Path::new("b.json"), &v.to_string())
            .unwrap_err()
            .to_string();
        assert!(e.contains("b.json") && e.contains("`registry`"), "{e}");
        let mut v = serde_json::to_value(record()).unwrap();
        v["kind"] = "golden-build-record".into();
        let e = PushRecord::from_json(Path::new("c.json"), &v.to_string())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("c.json") && e.contains("golden-build-record"),
            "{e}"
        );
        let mut v = serde_json::to_value(record()).unwrap();
        v["schema"] = 2.into();
        let e = PushRecord::from_json(Path::new("d.json"), &v.to_string())
            .unwrap_err()
            .to_string();
        assert!(e.contains("schema 2") && e.contains("upgrade"), "{e}");
    }

    #[test]
    fn any_record_tells_the_kinds_apart() {
        let dir = std::env::temp_dir().join(format!("golden-contracts-any-{}", std::process::id()));
        let p = dir.join("push-record.json");
        record().write(&p).unwrap();
        assert!(matches!(AnyRecord::read(&p).unwrap(), AnyRecord::Push(_)));
        let i = dir.join("index-record.json");
        IndexRecord {
            schema: INDEX_RECORD_SCHEMA,
            kind: IndexKind::IndexRecord,
            indexes: vec![],
        }
        .write(&i)
        .unwrap();
        assert!(matches!(AnyRecord::read(&i).unwrap(), AnyRecord::Index(_)));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn artifact_types_by_name() {
        assert_eq!(
            artifact_type_for("x/build-record.json"),
            Some(BUILD_RECORD_TYPE)
        );
        assert_eq!(artifact_type_for("x/report.json"), Some(SCAN_REPORT_TYPE));
        assert_eq!(artifact_type_for("sbom.cdx.json"), Some(CYCLONEDX_TYPE));
        assert_eq!(artifact_type_for("out/sbom.spdx.json"), Some(SPDX_TYPE));
        assert_eq!(artifact_type_for("s.sarif"), Some(SARIF_TYPE));
        assert_eq!(
            artifact_type_for("out/vex.openvex.json"),
            Some(OPENVEX_TYPE)
        );
        assert_eq!(artifact_type_for("vex.json"), None);
        assert_eq!(artifact_type_for("notes.txt"), None);
    }
}
