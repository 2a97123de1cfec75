//! Reports and display helpers shared by `push`, `copy` and `index`.

use serde::Serialize;

/// What happened to one blob.
#[derive(Debug, Clone, Serialize)]
pub struct BlobReport {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff_id: Option<String>,
    pub digest: String,
    pub size: u64,
    /// `exists`, `mounted`, `uploaded`.
    pub action: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
}

pub fn short(d: &str) -> &str {
    let h = d.strip_prefix("sha256:").unwrap_or(d);
    &h[..h.len().min(12)]
}
