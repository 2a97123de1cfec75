//! What the fakes received and what they issued, as files a scenario reads.
//!
//! - `requests.jsonl`: one JSON object per request: `service`, `method`, `path`, `ok` (whether
//!   the fake accepted it), `note` (why not, or what it did) and `fields` (request fields, with
//!   every secret replaced by `<secret>`).
//! - `issued-secrets.txt`: every token or secret the fakes issued or accept, one per line, so
//!   the scenario can search every log for them.

use std::fs::OpenOptions;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

#[derive(Default)]
struct Inner {
    secrets: Vec<String>,
    entries: Vec<Value>,
}

/// The shared log of every fake; cheap to clone.
#[derive(Clone)]
pub struct Journal {
    dir: Option<PathBuf>,
    inner: Arc<Mutex<Inner>>,
}

impl Journal {
    /// A journal writing into `dir` (None: in memory only, for unit tests).
    pub fn new(dir: Option<&Path>) -> Journal {
        Journal {
            dir: dir.map(Path::to_path_buf),
            inner: Arc::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn append(&self, file: &str, line: &str) {
        if let Some(dir) = &self.dir {
            let path = dir.join(file);
            let res = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .and_then(|mut f| writeln!(f, "{line}"));
            if let Err(e) = res {
                eprintln!("golden-testkit: cannot append to {}: {e}", path.display());
            }
        }
    }

    /// Remember a secret: it is listed for the leak scan and masked in every later entry.
    pub fn secret(&self, s: &str) {
        if s.is_empty() {
            return;
        }
        let mut g = self.lock();
        if !g.secrets.iter().any(|x| x == s) {
            g.secrets.push(s.to_string());
            drop(g);
            self.append("issued-secrets.txt", s);
        }
    }

    /// Replace every known secret in `s` by `<secret>`.
    pub fn mask(&self, s: &str) -> String {
        let g = self.lock();
        let mut out = s.to_string();
        for sec in &g.secrets {
            out = out.replace(sec.as_str(), "<secret>");
        }
        out
    }

    /// Log one request.
    pub fn record(
        &self,
        service: &str,
        method: &str,
        path: &str,
        ok: bool,
        note: &str,
        fields: Value,
    ) {
        let masked: Value =
            serde_json::from_str(&self.mask(&fields.to_string())).unwrap_or(Value::Null);
        let entry = json!({
            "service": service, "method": method, "path": self.mask(path), "ok": ok,
            "note": self.mask(note), "fields": masked,
        });
        self.append("requests.jsonl", &entry.to_string());
        self.lock().entries.push(entry);
    }

    /// Every entry logged so far.
    pub fn entries(&self) -> Vec<Value> {
        self.lock().entries.clone()
    }

    /// Every secret remembered so far.
    pub fn secrets(&self) -> Vec<String> {
        self.lock().secrets.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_masked_in_entries_and_listed_in_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::new(Some(dir.path()));
        j.secret("s3cr3t-token");
        j.secret("s3cr3t-token");
        j.record(
            "x",
            "POST",
            "/p/s3cr3t-token",
            false,
            "bad s3cr3t-token",
            json!({"a": "s3cr3t-token"}),
        );
        let text = std::fs::read_to_string(dir.path().join("requests.jsonl")).unwrap();
        assert!(!text.contains("s3cr3t"), "{text}");
        assert!(text.contains("<secret>"));
        let listed = std::fs::read_to_string(dir.path().join("issued-secrets.txt")).unwrap();
        assert_eq!(listed, "s3cr3t-token\n");
    }
}
