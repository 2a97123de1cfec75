//! The build record: one JSON document per built (or failed) image, written by `golden-build`
//! and read by `golden-report`.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::Document;

pub const BUILD_RECORD_SCHEMA: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BuildRecord {
    pub schema: u32,
    /// Plan entry id (or a name derived from the first tag for explicit builds).
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    pub result: BuildResult,
    /// Architecture the image was built for, in the OCI vocabulary (`amd64`, `arm64`): the
    /// engine's native one (the classic builder builds for its host). Multi-arch runs report
    /// each architecture on its own row. Absent in records written before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
    /// Image id in the engine (`sha256:...`), when the build succeeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_id: Option<String>,
    /// Tags applied in the engine.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Uncompressed image size in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Wall time of the build in seconds.
    pub duration_seconds: f64,
    /// RFC 3339 start time.
    pub started_at: String,
    /// Base image reference and its immutable id/digest (platform images).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_image: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_digest: Option<String>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// The `--cache-from` images: which were pulled (or found in the engine) and handed to
    /// the builder, and which were missing (with the reason). Absent when no cache source was
    /// given (and in records written before it existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache: Option<CacheSources>,
    /// On failure: the failing step and the last lines of output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<BuildError>,
}

/// The build cache sources of one build.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheSources {
    /// References handed to the builder as cache sources (`cache_from`).
    #[serde(default)]
    pub used: Vec<String>,
    /// References that could not be pulled (a brand-new image has no published tag yet, or the
    /// registry was unreachable): the build ran without them.
    #[serde(default)]
    pub missing: Vec<MissingCache>,
    /// True when `--no-cache` made the sources moot (nothing pulled).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub skipped_no_cache: bool,
}

/// A cache source that could not be pulled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MissingCache {
    pub reference: String,
    pub reason: String,
}

/// The OCI / Docker name (`amd64`, `arm64`, ...) of a Rust target architecture
/// (`std::env::consts::ARCH`: `x86_64`, `aarch64`, ...). One vocabulary in every document.
pub fn oci_arch(rust_arch: &str) -> &str {
    match rust_arch {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "arm" => "arm",
        "powerpc64" => "ppc64le",
        "s390x" => "s390x",
        "riscv64" => "riscv64",
        other => other,
    }
}

/// The architecture this process runs on, in the OCI vocabulary.
pub fn host_arch() -> &'static str {
    oci_arch(std::env::consts::ARCH)
}

impl Document for BuildRecord {
    const KIND: &'static str = "build record";
    const SCHEMA: u32 = BUILD_RECORD_SCHEMA;
    fn schema(&self) -> u32 {
        self.schema
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BuildResult {
    Success,
    Failure,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildError {
    pub message: String,
    /// The Dockerfile instruction that failed (`Step 3/7 : RUN ...`), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    #[serde(default)]
    pub last_lines: Vec<String>,
}
