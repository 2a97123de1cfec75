//! Data contracts between the golden binaries.
//!
//! - [`plan`]: what `golden-plan` emits and every other binary takes (one entry per image).
//! - [`build`]: the build record `golden-build` writes for each image.
//! - [`scan`]: the scan report `golden-scan` writes for each image.
//! - [`push`]: the push and index records `golden-push` writes (read by golden-push `index`,
//!   golden-report and golden-build's base handoff); [`push::Arch`] is the one architecture
//!   vocabulary (`amd64`, `arm64`).
//! - [`entry`]: the one plan-entry resolver (`GOLDEN_ENTRY`: JSON, id in a plan, or file).
//! - [`units`]: the one human size format (`1.5 KiB`, `80.0 MiB`, `1.25 GiB`).
//!
//! Each document carries a `schema` number. Readers accept their own schema and refuse a newer
//! one with a clear message; fields are only ever added as optional (`#[serde(default)]`).
//!
//! Architecture invariant: this crate holds plain data and (de)serialisation only: no I/O beyond
//! reading/writing one document, no network, no engine.

pub mod build;
pub mod entry;
pub mod plan;
pub mod push;
pub mod scan;
pub mod units;

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum DocError {
    #[error("failed to read `{path}`")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{path}` is empty (expected a {kind} JSON document)")]
    Empty { path: PathBuf, kind: &'static str },
    #[error("`{path}` is not a valid {kind}: {source} (line {line}, column {column})")]
    Parse {
        path: PathBuf,
        kind: &'static str,
        line: usize,
        column: usize,
        #[source]
        source: serde_json::Error,
    },
    #[error(
        "`{path}` has {kind} schema {found}, newer than this tool understands ({supported}); upgrade the golden binaries"
    )]
    NewerSchema {
        path: PathBuf,
        kind: &'static str,
        found: u32,
        supported: u32,
    },
    #[error("failed to write `{path}`")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// A versioned JSON document.
pub trait Document: serde::Serialize + serde::de::DeserializeOwned {
    const KIND: &'static str;
    const SCHEMA: u32;
    fn schema(&self) -> u32;

    /// Parse from text, naming `path` in errors.
    fn from_json(path: &Path, text: &str) -> Result<Self, DocError> {
        if text.trim().is_empty() {
            return Err(DocError::Empty {
                path: path.to_path_buf(),
                kind: Self::KIND,
            });
        }
        // Look at the schema number first so a newer document gets the right message rather
        // than a confusing "unknown field". The probe skips every other field without building
        // a tree (scan reports run to megabytes).
        #[derive(serde::Deserialize)]
        struct Probe {
            #[serde(default)]
            schema: Option<u64>,
        }
        if let Ok(Probe {
            schema: Some(found),
        }) = serde_json::from_str::<Probe>(text)
            && found > u64::from(Self::SCHEMA)
        {
            return Err(DocError::NewerSchema {
                path: path.to_path_buf(),
                kind: Self::KIND,
                found: u32::try_from(found).unwrap_or(u32::MAX),
                supported: Self::SCHEMA,
            });
        }
        serde_json::from_str(text).map_err(|source| DocError::Parse {
            path: path.to_path_buf(),
            kind: Self::KIND,
            line: source.line(),
            column: source.column(),
            source,
        })
    }

    fn read(path: &Path) -> Result<Self, DocError> {
        let text = std::fs::read_to_string(path).map_err(|source| DocError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_json(path, &text)
    }

    /// Write atomically (temp file in the same directory, then rename), pretty-printed.
    fn write(&self, path: &Path) -> Result<(), DocError> {
        let mut text = serde_json::to_string_pretty(self).map_err(|e| DocError::Write {
            path: path.to_path_buf(),
            source: std::io::Error::other(e),
        })?;
        text.push('\n');
        write_atomic(path, text.as_bytes())
    }
}

/// Write a file atomically: a temporary file beside it, then rename. A crash leaves either the
/// old file or the new one, never half of one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), DocError> {
    let err = |source| DocError::Write {
        path: path.to_path_buf(),
        source,
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).map_err(err)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    std::fs::write(&tmp, bytes).map_err(err)?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        err(e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::BuildRecord;

    #[test]
    fn newer_schema_is_refused_with_a_hint() {
        let err = BuildRecord::from_json(Path::new("r.json"), r#"{"schema": 99}"#).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("schema 99") && msg.contains("upgrade"),
            "{msg}"
        );
    }

    #[test]
    fn empty_and_corrupt_documents_name_the_file() {
        let e = BuildRecord::from_json(Path::new("a/b.json"), "  \n").unwrap_err();
        assert!(e.to_string().contains("a/b.json") && e.to_string().contains("empty"));
        let e = BuildRecord::from_json(Path::new("a/c.json"), "{\"schema\":1,").unwrap_err();
        assert!(e.to_string().contains("a/c.json") && e.to_string().contains("line"));
    }

    #[test]
    fn atomic_write_leaves_no_temp_file() {
        let dir = std::env::temp_dir().join(format!("golden-contracts-{}", std::process::id()));
        let p = dir.join("x.json");
        write_atomic(&p, b"{}").unwrap();
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
