use std::io;
use std::path::PathBuf;

/// Everything that can stop a scan. Findings are never errors: they end in the report and the
/// policy verdict; these are the cases where no trustworthy report can be written.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error("failed to open `{path}`")]
    Open {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The image archive is not what it should be (message says what and gives a hint).
    #[error("failed to read image `{what}`: {detail}")]
    Archive { what: String, detail: String },
    /// A memory bound of the scan was hit (message names the file and the knob).
    #[error("failed to scan image `{what}`: {detail}")]
    Limit { what: String, detail: String },
    #[error("failed to read `{entry}` in image `{what}` (truncated or corrupt archive?)")]
    Entry {
        what: String,
        entry: String,
        #[source]
        source: io::Error,
    },
    #[error(transparent)]
    Engine(#[from] golden_engine::EngineError),
    /// A policy file problem, already located (`file:line:col: ...`).
    #[error("{0}")]
    Policy(String),
    /// A Trivy report or Trivy run problem, already described.
    #[error("{0}")]
    Trivy(String),
    #[error("failed to write `{path}`")]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(transparent)]
    Doc(#[from] golden_contracts::DocError),
    /// A VEX document that cannot be read or is not valid OpenVEX (file and JSON pointer).
    #[error(transparent)]
    Vex(#[from] crate::vex::VexError),
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Registry(String),
}

impl ScanError {
    pub(crate) fn archive(what: &str, detail: impl Into<String>) -> Self {
        ScanError::Archive {
            what: what.to_string(),
            detail: detail.into(),
        }
    }

    /// A read error of `entry`: a memory bound that was hit, or a truncated/corrupt entry.
    pub(crate) fn entry(what: &str, entry: &str, source: io::Error) -> Self {
        match crate::limits::LimitError::find(&source) {
            Some(l) => ScanError::Limit {
                what: what.to_string(),
                detail: l.0.clone(),
            },
            None => ScanError::Entry {
                what: what.to_string(),
                entry: entry.to_string(),
                source,
            },
        }
    }

    pub(crate) fn limit(what: &str, e: crate::limits::LimitError) -> Self {
        ScanError::Limit {
            what: what.to_string(),
            detail: e.0,
        }
    }
}
