//! Memory bounds of one scan: a byte budget for everything kept (file contents the scanner
//! reads, the archive's JSON documents), shared by every layer and source of the scan, and caps
//! on entries, layers, path lengths and JSON documents. Exceeding the budget or a cap stops the
//! scan with an error naming the file and the knob: a report built on half the facts would not
//! be trustworthy.

use std::fmt;
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Default byte budget for kept contents (`--content-budget`, `GOLDEN_SCAN_CONTENT_BUDGET`).
pub const DEFAULT_CONTENT_BUDGET: u64 = 256 << 20;
/// Default cap on tar entries over all layers and the archive itself (`--max-entries`,
/// `GOLDEN_SCAN_MAX_ENTRIES`). Metadata costs about 450 bytes per entry at the peak.
pub const DEFAULT_MAX_ENTRIES: u64 = 500_000;
/// Layers an image may list (Docker's overlay driver stops at 128).
pub const MAX_LAYERS: usize = 1000;
/// JSON documents (manifests, indexes, configs) above this size are not read.
pub const JSON_LIMIT: u64 = 4 << 20;
/// JSON values (objects, arrays, elements) a document may hold: caps what parsing allocates.
pub const JSON_MAX_VALUES: usize = 200_000;
/// Longest entry path or link target kept (Linux's PATH_MAX).
pub const MAX_PATH: usize = 4096;
/// Warnings kept per layer or per database file; the rest are counted.
pub const MAX_WARNINGS_PER_SOURCE: usize = 100;

/// The bounds of one scan. Cloning shares the counters (the registry source walks layers on
/// other threads).
#[derive(Debug, Clone)]
pub struct Limits {
    content_budget: u64,
    max_entries: u64,
    nested_archive_cap: u64,
    used: Arc<AtomicU64>,
    entries: Arc<AtomicU64>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits::new(DEFAULT_CONTENT_BUDGET, DEFAULT_MAX_ENTRIES)
    }
}

/// A bound that was hit: the message names the file and says which knob raises it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitError(pub String);

impl fmt::Display for LimitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for LimitError {}

impl LimitError {
    /// As an `io::Error` (the walkers return those); [`LimitError::find`] gets it back.
    pub fn into_io(self) -> io::Error {
        io::Error::other(self)
    }

    /// The limit error inside an `io::Error`, if that is what it is.
    pub fn find(e: &io::Error) -> Option<&LimitError> {
        e.get_ref()
            .and_then(|inner| inner.downcast_ref::<LimitError>())
    }
}

impl Limits {
    pub fn new(content_budget: u64, max_entries: u64) -> Self {
        Limits {
            content_budget,
            max_entries,
            nested_archive_cap: crate::lang::DEFAULT_NESTED_ARCHIVE_CAP,
            used: Arc::new(AtomicU64::new(0)),
            entries: Arc::new(AtomicU64::new(0)),
        }
    }

    pub fn content_budget(&self) -> u64 {
        self.content_budget
    }

    pub fn max_entries(&self) -> u64 {
        self.max_entries
    }

    /// With another cap on one nested archive read from memory (a jar in a jar).
    pub fn with_nested_archive_cap(mut self, cap: u64) -> Self {
        self.nested_archive_cap = cap;
        self
    }

    /// Bytes one nested archive may take when read from memory; over it: a warning.
    pub fn nested_archive_cap(&self) -> u64 {
        self.nested_archive_cap
    }

    /// Bytes of the budget taken so far.
    pub fn used(&self) -> u64 {
        self.used.load(Ordering::Relaxed)
    }

    /// Take `n` bytes of the content budget for `what` (a path, `in layer …`), or say why not.
    pub fn charge(&self, n: u64, what: &str) -> Result<(), LimitError> {
        let mut cur = self.used.load(Ordering::Relaxed);
        loop {
            let next = cur.saturating_add(n);
            if next > self.content_budget {
                return Err(LimitError(format!(
                    "{what} ({n} bytes) does not fit in the scanner's content budget of {} bytes ({cur} already kept: the files the scanner reads, over all layers, and the archive's JSON documents)\n  hint: raise --content-budget (GOLDEN_SCAN_CONTENT_BUDGET) if the image is genuine",
                    self.content_budget
                )));
            }
            match self
                .used
                .compare_exchange(cur, next, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return Ok(()),
                Err(actual) => cur = actual,
            }
        }
    }

    /// Count one tar entry (of a layer, or of the archive itself); `place` says where, for
    /// the error (`layer `…``).
    pub fn count_entry(&self, place: impl FnOnce() -> String) -> Result<(), LimitError> {
        let n = self.entries.fetch_add(1, Ordering::Relaxed) + 1;
        if n > self.max_entries {
            return Err(LimitError(format!(
                "{}: more than {} tar entries over the archive and all its layers\n  hint: raise --max-entries (GOLDEN_SCAN_MAX_ENTRIES) if the image is genuine",
                place(),
                self.max_entries
            )));
        }
        Ok(())
    }
}

/// Parse a byte count: `268435456`, `256M`, `256MiB`, `1G`, `512k` (binary units).
pub fn parse_bytes(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a byte count (e.g. 268435456, 256M, 1G)"))?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        _ => return Err(format!("`{s}`: unknown unit (use K, M or G)")),
    };
    n.checked_mul(1u64 << shift)
        .ok_or_else(|| format!("`{s}` is too large"))
}

/// Check a JSON document before parsing it: at most [`JSON_MAX_VALUES`] values (counted as the
/// `{`, `[` and `,` outside strings, a slight overcount), so parsing cannot allocate far more
/// than the document's size.
pub fn check_json(bytes: &[u8]) -> Result<(), String> {
    let mut values = 1usize;
    let mut in_str = false;
    let mut escaped = false;
    for b in bytes {
        if in_str {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_str = true,
            b'{' | b'[' | b',' => {
                values += 1;
                if values > JSON_MAX_VALUES {
                    return Err(format!(
                        "holds more than {JSON_MAX_VALUES} JSON values; not parsed"
                    ));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Warnings of one source (a layer, a database file), capped: the first
/// [`MAX_WARNINGS_PER_SOURCE`] are kept, the rest counted in one last line.
#[derive(Debug, Default)]
pub struct CappedWarnings {
    pub kept: Vec<String>,
    pub dropped: usize,
}

impl CappedWarnings {
    pub fn push(&mut self, w: String) {
        if self.kept.len() < MAX_WARNINGS_PER_SOURCE {
            self.kept.push(w);
        } else {
            self.dropped += 1;
        }
    }

    /// The kept warnings plus `… and N more <what>` when some were dropped.
    pub fn finish(mut self, what: &str) -> Vec<String> {
        if self.dropped > 0 {
            self.kept
                .push(format!("… and {} more warnings about {what}", self.dropped));
        }
        self.kept
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_is_shared_and_refuses_overflow() {
        let l = Limits::new(100, 2);
        let other = l.clone();
        assert!(l.charge(60, "a").is_ok());
        let e = other.charge(50, "`/b`").unwrap_err();
        assert!(
            e.0.contains("`/b` (50 bytes)") && e.0.contains("--content-budget"),
            "{e}"
        );
        assert!(other.charge(40, "c").is_ok());
        assert_eq!(l.used(), 100);
        let x = || "layer `x`".to_string();
        assert!(l.count_entry(x).is_ok() && other.count_entry(x).is_ok());
        let e = l.count_entry(x).unwrap_err();
        assert!(e.0.starts_with("layer `x`: more than 2") && e.0.contains("--max-entries"));
        let io = LimitError("x".into()).into_io();
        assert_eq!(LimitError::find(&io).map(|e| e.0.as_str()), Some("x"));
        assert!(LimitError::find(&io::Error::other("y")).is_none());
    }

    #[test]
    fn byte_counts() {
        assert_eq!(parse_bytes("1024"), Ok(1024));
        assert_eq!(parse_bytes("256M"), Ok(256 << 20));
        assert_eq!(parse_bytes("1GiB"), Ok(1 << 30));
        assert_eq!(parse_bytes("4k"), Ok(4096));
        assert!(parse_bytes("lots").is_err());
        assert!(parse_bytes("5T").is_err());
    }

    #[test]
    fn json_values_are_counted_outside_strings() {
        assert!(check_json(br#"{"a": "x,y,[z", "b": [1, 2]}"#).is_ok());
        let many = format!("[{}0]", "0,".repeat(JSON_MAX_VALUES));
        assert!(check_json(many.as_bytes()).is_err());
        let in_string = format!("[\"{}\"]", ",".repeat(JSON_MAX_VALUES * 2));
        assert!(check_json(in_string.as_bytes()).is_ok());
        assert!(check_json(br#"["\"", ","]"#).is_ok());
    }
}
