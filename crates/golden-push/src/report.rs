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

pub fn human(n: u64) -> String {
    const U: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut i = 0;
    while v >= 1024.0 && i < U.len() - 1 {
        v /= 1024.0;
        i += 1;
    }
    if i == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", U[i])
    }
}
