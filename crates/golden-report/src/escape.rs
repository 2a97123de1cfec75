//! Escaping for golden-report: the Markdown escaping shared by every golden binary lives in
//! [`golden_gha::markdown`] (re-exported here); the hidden-marker keys of sticky comments are
//! this crate's own.

pub use golden_gha::markdown::{ZWJ, html, md, safe_url, truncate};

/// Make a hidden-marker key safe: letters, digits, `.`, `_`, `/`, `:` and single `-` (an HTML
/// comment must not contain `--`), at most 100 characters.
pub fn marker_key(raw: &str) -> String {
    let mut out = String::new();
    for c in raw.chars() {
        let c = if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '/' | ':') {
            c.to_ascii_lowercase()
        } else {
            '-'
        };
        if c == '-' && out.ends_with('-') {
            continue;
        }
        out.push(c);
    }
    let trimmed: String = out.trim_matches('-').chars().take(100).collect();
    let trimmed = trimmed.trim_end_matches('-').to_string();
    if trimmed.is_empty() {
        "default".into()
    } else {
        trimmed
    }
}

/// Whether `key` is already in the form [`marker_key`] produces.
pub fn is_valid_marker_key(key: &str) -> bool {
    !key.is_empty() && marker_key(key) == key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marker_keys_cannot_close_the_comment() {
        assert_eq!(
            marker_key("Golden Images (PR)/configs/build-config.yaml"),
            "golden-images-pr-/configs/build-config.yaml"
        );
        assert_eq!(marker_key("a-->b<!--"), "a-b");
        assert_eq!(marker_key("---"), "default");
        assert!(is_valid_marker_key(
            "golden-images:configs/build-config.yaml"
        ));
        assert!(!is_valid_marker_key("a--b"));
        assert!(!is_valid_marker_key("A"));
    }
}
