//! `golden-scan` command line (clap derive). Every flag can also come from a `GOLDEN_*`
//! environment variable; see README.md and docs/environment.md.

use std::path::PathBuf;

use clap::{ArgAction, Parser, ValueEnum};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    /// A short human summary.
    Text,
    /// report.json on stdout.
    Json,
}

/// Scan an image in one streaming pass: OS and packages, CIS compliance checks, Trivy
/// vulnerabilities, OpenVEX statements, policy verdict. Writes report.json, report.sarif,
/// report.md, sbom.cdx.json, sbom.spdx.json and vex.openvex.json to --output. Exit codes: 0 policy passed, 1
/// policy failed, 2 error (Trivy failing is one: the report is still written, with the
/// vulnerability status `failed`).
#[derive(Debug, Parser)]
#[command(name = "golden-scan", version)]
pub struct Cli {
    /// Image: engine name or id, docker-archive:PATH (.tar/.tar.gz/.tar.zst), oci-archive:PATH,
    /// oci:DIR, registry:REF (a reference naming a registry host falls back to the registry
    /// when the engine does not have it). Optional with a plan entry or --trivy-report.
    #[arg(env = "GOLDEN_IMAGE")]
    pub image: Option<String>,

    /// Directory for report.json, report.sarif, report.md, sbom.cdx.json, sbom.spdx.json,
    /// vex.openvex.json.
    #[arg(long, short, env = "GOLDEN_OUTPUT", default_value = "scan-output")]
    pub output: PathBuf,

    /// Policy file (default: the plan entry's policy, else ./configs/policy.yaml, else built-in).
    #[arg(long, env = "GOLDEN_POLICY")]
    pub policy: Option<PathBuf>,

    /// Trivy binary: `auto` (search PATH), `off`, or a path.
    #[arg(long, env = "GOLDEN_TRIVY", default_value = "auto")]
    pub trivy: String,

    /// Read this Trivy JSON report instead of running Trivy (alone: just normalise it).
    #[arg(long, env = "GOLDEN_TRIVY_REPORT")]
    pub trivy_report: Option<PathBuf>,

    /// Trivy cache directory (passed as --cache-dir).
    #[arg(long, env = "GOLDEN_TRIVY_CACHE_DIR")]
    pub trivy_cache_dir: Option<PathBuf>,

    /// Pass --skip-db-update and --skip-java-db-update to Trivy (use DBs cached by an earlier job).
    #[arg(long, env = "GOLDEN_TRIVY_SKIP_DB_UPDATE", action = ArgAction::SetTrue,
          value_parser = clap::builder::FalseyValueParser::new())]
    pub skip_db_update: bool,

    /// OCI repository of Trivy's vulnerability DB (a mirror, or a test registry), passed as
    /// --db-repository; Trivy adds the schema tag `:2`. Default: TRIVY_DB_REPOSITORY, else
    /// Trivy's own default.
    #[arg(long, env = "GOLDEN_TRIVY_DB_REPOSITORY")]
    pub trivy_db_repository: Option<String>,

    /// OCI repository of Trivy's Java DB (images with jars), passed as --java-db-repository;
    /// Trivy adds `:1`.
    #[arg(long, env = "GOLDEN_TRIVY_JAVA_DB_REPOSITORY")]
    pub trivy_java_db_repository: Option<String>,

    /// Workflow event the scan runs for (default: GITHUB_EVENT_NAME; none in a local run): the
    /// policy's `require_scan: [events]` applies to it.
    #[arg(long, env = "GOLDEN_EVENT")]
    pub event: Option<String>,

    /// Plan entry id to record in the report (or the entry's JSON, as a matrix job has it).
    #[arg(long = "entry-id", env = "GOLDEN_ENTRY")]
    pub entry_id: Option<String>,

    /// Plan file to read the entry from (its tags, policy and Dockerfile become defaults).
    #[arg(long, env = "GOLDEN_PLAN")]
    pub plan: Option<PathBuf>,

    /// Repository path of the image's Dockerfile, used as the SARIF location.
    #[arg(long, env = "GOLDEN_DOCKERFILE")]
    pub dockerfile: Option<String>,

    /// Bytes the scan may keep in memory: contents of the files it reads (os-release, package
    /// databases, ...) over all layers, plus the archive's JSON documents. Over it the scan
    /// stops with an error naming the file. Accepts K, M, G suffixes.
    #[arg(long, env = "GOLDEN_SCAN_CONTENT_BUDGET", default_value = "256M",
          value_parser = parse_bytes)]
    pub content_budget: u64,

    /// Tar entries allowed over all layers of the image (over it the scan stops with an error).
    #[arg(long, env = "GOLDEN_SCAN_MAX_ENTRIES", default_value_t = crate::limits::DEFAULT_MAX_ENTRIES)]
    pub max_entries: u64,

    /// Bytes one nested archive (a jar inside a jar, such as Spring Boot's `BOOT-INF/lib/`)
    /// may take when read from memory, decompressed; an archive over it (or compressed more
    /// than 100:1) is not read, with a warning naming its path. Binaries in PATH directories up
    /// to this size are read whole for Rust audit data (larger ones: Go build info only).
    /// Accepts K, M, G suffixes.
    #[arg(long, env = "GOLDEN_SCAN_NESTED_ARCHIVE_CAP", default_value = "32M",
          value_parser = parse_bytes)]
    pub nested_archive_cap: u64,

    /// OpenVEX document (JSON) whose `not_affected`/`fixed` statements for this image suppress
    /// Trivy findings (repeat; GOLDEN_VEX: one path per line). Read besides the policy's
    /// `vex:` list; a malformed document is an error (exit 2).
    #[arg(long, env = "GOLDEN_VEX", value_name = "FILE", value_delimiter = '\n')]
    pub vex: Vec<String>,

    /// What to print on stdout.
    #[arg(long, env = "GOLDEN_FORMAT", value_enum, default_value = "text")]
    pub format: Format,
}

fn parse_bytes(s: &str) -> Result<u64, String> {
    crate::limits::parse_bytes(s)
}
