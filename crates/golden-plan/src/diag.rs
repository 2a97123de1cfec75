//! Located problems in the configuration: `file:line:column: key: message` plus a hint.

use std::fmt;

/// A position in the config file (1-based; 0 means unknown).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pos {
    pub line: u64,
    pub column: u64,
}

impl From<serde_saphyr::Location> for Pos {
    fn from(l: serde_saphyr::Location) -> Self {
        Pos {
            line: l.line(),
            column: l.column(),
        }
    }
}

/// One problem found in the config or in the repository it describes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: String,
    pub pos: Pos,
    /// The offending key, as a path (`platforms[2].versions[0].bases[1]`).
    pub key: String,
    pub message: String,
    pub hint: Option<String>,
}

impl Diagnostic {
    pub fn new(file: &str, pos: Pos, key: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            file: file.to_string(),
            pos,
            key: key.into(),
            message: message.into(),
            hint: None,
        }
    }
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Emit as a GitHub annotation (inside Actions) so the problem shows on the file.
    pub fn annotate(&self) {
        let at = golden_gha::Annotation {
            file: Some(&self.file),
            line: (self.pos.line > 0).then_some(self.pos.line),
            col: (self.pos.column > 0).then_some(self.pos.column),
            title: Some("golden-plan"),
        };
        let mut msg = format!("{}: {}", self.key, self.message);
        if let Some(h) = &self.hint {
            msg.push_str(&format!(" (hint: {h})"));
        }
        if golden_gha::in_actions() {
            println!(
                "{}",
                golden_gha::annotation(golden_gha::Level::Error, &at, &msg)
            );
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if self.pos.line > 0 {
            write!(f, ":{}:{}", self.pos.line, self.pos.column)?;
        }
        if self.key.is_empty() {
            write!(f, ": {}", self.message)?;
        } else {
            write!(f, ": {}: {}", self.key, self.message)?;
        }
        if let Some(h) = &self.hint {
            write!(f, "\n  hint: {h}")?;
        }
        Ok(())
    }
}

/// Every problem at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        writeln!(f, "{n} problem{} found:", if n == 1 { "" } else { "s" })?;
        for d in &self.0 {
            writeln!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

/// The closest candidate by edit distance, for "did you mean" hints.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (levenshtein(word, c), c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j + 1] + 1).min(cur[j] + 1).min(prev[j] + cost);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_suggests_typos_only() {
        assert_eq!(
            closest("debain", ["alpine", "debian", "redhat"]),
            Some("debian")
        );
        assert_eq!(closest("windows", ["alpine", "debian", "redhat"]), None);
    }

    #[test]
    fn display_has_location_key_and_hint() {
        let d = Diagnostic::new("c.yaml", Pos { line: 3, column: 7 }, "a.b", "bad").hint("fix it");
        assert_eq!(d.to_string(), "c.yaml:3:7: a.b: bad\n  hint: fix it");
    }
}
