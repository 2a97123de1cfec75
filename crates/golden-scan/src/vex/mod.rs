//! OpenVEX (v0.2.0) documents: the standard way to say a finding does not affect an image
//! (`not_affected`, with a justification) or was `fixed`. [`load`] reads and validates the
//! documents given with `--vex` (`GOLDEN_VEX`) and the policy's `vex:` list; [`apply`] marks
//! the Trivy findings the statements cover; [`image_document`] is the image's own OpenVEX
//! document (`vex.openvex.json`) with the suppressing statements that applied to it.
//!
//! Matching rule (also in docs/config.md):
//! - a statement's vulnerability matches a finding when its `name` or one of its `aliases`
//!   equals the finding's id (case-insensitive);
//! - a product matches the scanned image when its `@id` (or `identifiers.purl`) is
//!   `pkg:oci/...` or an image reference (`registry/repo[:tag][@digest]`) or a bare digest:
//!   when both the product and the image have a digest (manifest digest or image id) they are
//!   compared and nothing else; otherwise the repository names are compared (the purl's
//!   `repository_url`, or only its name against the image repository's last component when
//!   it has none; tags are never compared). Any other product (a package purl, a CPE) is a
//!   different product and ignored;
//! - when the product lists `subcomponents`, one of them must match the finding's package
//!   purl (type, namespace and name; version and qualifiers only when the statement gives
//!   them); a finding without a purl matches no subcomponent;
//! - of the statements matching a finding, the latest wins (statement `timestamp`, else the
//!   document's; on a tie the one read last).

mod emit;
mod matching;
mod parse;
pub mod purl;

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use golden_contracts::scan::{VexJustification, VexStatus};

pub use emit::{VEX_FILE, image_document};
pub use matching::{ImageIdentity, apply};

/// Largest VEX document read (bytes).
pub const MAX_DOCUMENT_BYTES: u64 = 32 << 20;

/// A VEX document that cannot be used: the scan stops (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum VexError {
    /// The file could not be read.
    #[error("failed to read VEX document `{file}` (from {origin}): {detail}\n  hint: {hint}")]
    Read {
        file: String,
        origin: String,
        detail: String,
        hint: String,
    },
    /// Not JSON at all.
    #[error(
        "{file}: not a JSON document: {detail}\n  hint: an OpenVEX document is JSON (`vexctl create` writes one)"
    )]
    Json { file: String, detail: String },
    /// A field is missing or wrong: `file: /json/pointer: message`.
    #[error("{file}: {pointer}: {message}{}", hint.as_ref().map(|h| format!("\n  hint: {h}")).unwrap_or_default())]
    Invalid {
        file: String,
        pointer: String,
        message: String,
        hint: Option<String>,
    },
}

/// A VEX file to read and where it was named (`--vex`, or `policy.yaml:7`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VexSource {
    pub path: PathBuf,
    pub origin: String,
}

/// A statement's vulnerability.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VexVulnerability {
    pub name: String,
    pub id: Option<String>,
    pub aliases: Vec<String>,
}

impl VexVulnerability {
    /// The name or an alias equals the finding id (case-insensitive).
    pub fn matches(&self, finding_id: &str) -> bool {
        self.name.eq_ignore_ascii_case(finding_id)
            || self
                .aliases
                .iter()
                .any(|a| a.eq_ignore_ascii_case(finding_id))
    }
}

/// A statement's product: its `@id`, `identifiers.purl` and subcomponents (`@id` or purl).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Product {
    pub id: Option<String>,
    pub purl: Option<String>,
    pub subcomponents: Vec<String>,
}

/// One validated statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// `vex.json#/statements/2`, for reports.
    pub source: String,
    /// Position over all documents read (ties of timestamps go to the later one).
    pub order: usize,
    pub vulnerability: VexVulnerability,
    pub products: Vec<Product>,
    pub status: VexStatus,
    pub justification: Option<VexJustification>,
    pub impact_statement: Option<String>,
    pub action_statement: Option<String>,
    /// The statement's timestamp, else its document's.
    pub timestamp: DateTime<Utc>,
    /// The same, as written.
    pub timestamp_text: String,
}

/// Every statement of every document read.
#[derive(Debug, Clone, Default)]
pub struct VexSet {
    pub statements: Vec<Statement>,
    /// The files read, in order.
    pub files: Vec<String>,
}

impl VexSet {
    pub fn is_empty(&self) -> bool {
        self.statements.is_empty()
    }
}

/// Read and validate every document (a path named twice is read once).
pub fn load(sources: &[VexSource]) -> Result<VexSet, VexError> {
    let mut set = VexSet::default();
    let mut seen = std::collections::HashSet::new();
    for src in sources {
        if !seen.insert(src.path.clone()) {
            continue;
        }
        let file = src.path.display().to_string();
        let bytes = read(src, &file)?;
        let statements = parse::document(&bytes, &file, set.statements.len())?;
        set.statements.extend(statements);
        set.files.push(file);
    }
    Ok(set)
}

fn read(src: &VexSource, file: &str) -> Result<Vec<u8>, VexError> {
    let err = |detail: String, hint: &str| VexError::Read {
        file: file.to_string(),
        origin: src.origin.clone(),
        detail,
        hint: hint.to_string(),
    };
    let meta = std::fs::metadata(&src.path).map_err(|e| {
        err(
            e.to_string(),
            "pass an existing OpenVEX JSON file (paths in the policy's `vex:` list are relative to the policy file)",
        )
    })?;
    if !meta.is_file() {
        return Err(err(
            "not a regular file".into(),
            "pass an OpenVEX JSON file, not a directory",
        ));
    }
    if meta.len() > MAX_DOCUMENT_BYTES {
        return Err(err(
            format!(
                "{} bytes, more than the {} MiB a VEX document may have",
                meta.len(),
                MAX_DOCUMENT_BYTES >> 20
            ),
            "split the document",
        ));
    }
    std::fs::read(&src.path).map_err(|e| err(e.to_string(), "check the file's permissions"))
}
