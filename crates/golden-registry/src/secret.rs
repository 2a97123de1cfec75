//! Secrets: masked with the runner the moment they exist, never printed.

use std::fmt;
use std::sync::Arc;

/// A token, password or assertion.
///
/// [`Secret::new`] registers `::add-mask::` with the GitHub runner (inside Actions) before the
/// value can be used anywhere, so even an accidental print is masked in the log. `Debug` and
/// `Display` never show the value; only [`Secret::expose`] does, and only the HTTP layer calls it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Arc<str>);

impl Secret {
    /// Wrap (and mask) a secret value. Surrounding whitespace is trimmed (tokens read from files
    /// or helpers often end with a newline).
    pub fn new(value: impl AsRef<str>) -> Secret {
        let v = value.as_ref().trim();
        golden_gha::add_mask(v);
        Secret(Arc::from(v))
    }

    /// The value, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints_itself() {
        let s = Secret::new("  hunter2-token\n");
        assert_eq!(s.expose(), "hunter2-token");
        assert_eq!(format!("{s} {s:?}"), "*** Secret(***)");
    }
}
