//! What a build produced ([`Built`]) or why it failed ([`BuildError`], with the bootstrap's own
//! [`BootstrapError`]). Shared by [`crate::build`] and [`crate::bootstrap`], so the dependency
//! goes one way: build → bootstrap → outcome.

use std::path::PathBuf;

use golden_contracts::build::BuildError as RecordError;
use golden_engine::EngineError;

use crate::base::BaseError;
use crate::context::ContextError;
use crate::labels;
use crate::spec::SpecError;

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Spec(#[from] SpecError),
    #[error(transparent)]
    Label(#[from] labels::LabelError),
    #[error("failed to prepare the build context `{dir}`")]
    Context {
        dir: PathBuf,
        #[source]
        source: ContextError,
    },
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Base(#[from] BaseError),
    /// `--verify-policy`: the published base did not verify (or could not be checked); nothing
    /// was built on it.
    #[error(
        "the base image {reference} is not verified ({why}); nothing was built on it (hint: sign the base with `golden-push sign` or its push step's signing key, or fix --verify-policy / GOLDEN_VERIFY_POLICY)"
    )]
    BaseNotVerified { reference: String, why: String },
    #[error("build of `{id}` failed{at}: {message}{tail}", at = at(.step, .location), tail = tail(.last_lines))]
    Failed {
        id: String,
        step: Option<String>,
        /// Dockerfile (repository-relative) and line of the failing step.
        location: Option<(String, usize)>,
        message: String,
        last_lines: Vec<String>,
    },
    #[error(
        "the engine finished the build of `{0}` without an image id; hint: check the engine log (journalctl -u docker or /var/log/golden-dockerd.log)"
    )]
    NoImageId(String),
    #[error(transparent)]
    Bootstrap(#[from] BootstrapError),
    #[error(transparent)]
    Emulation(#[from] crate::emulation::EmulationError),
    #[error("failed to write the build record")]
    Record(#[source] golden_contracts::DocError),
    #[error("failed to write the step outputs")]
    Outputs(#[source] golden_gha::GhaError),
    #[error("the build context writer stopped unexpectedly")]
    ContextThread(#[source] tokio::task::JoinError),
}

fn at(step: &Option<String>, location: &Option<(String, usize)>) -> String {
    let mut s = String::new();
    if let Some(step) = step {
        s.push_str(&format!(" at `{step}`"));
    }
    if let Some((file, line)) = location {
        s.push_str(&format!(" ({file}:{line})"));
    }
    s
}

fn tail(lines: &[String]) -> String {
    crate::build_tail(lines)
}

impl BuildError {
    /// Step, location and tail for the record (build failures only).
    pub(crate) fn record_error(&self) -> RecordError {
        match self {
            BuildError::Failed {
                step,
                message,
                last_lines,
                ..
            } => RecordError {
                message: message.clone(),
                step: step.clone(),
                last_lines: last_lines.clone(),
            },
            BuildError::Bootstrap(BootstrapError::Failed {
                status, last_lines, ..
            }) => RecordError {
                message: format!("bootstrap script failed ({status})"),
                step: Some("bootstrap".into()),
                last_lines: last_lines.clone(),
            },
            other => RecordError {
                message: error_chain(other),
                step: None,
                last_lines: Vec::new(),
            },
        }
    }

    /// Where to annotate in Actions (Dockerfile and line) for a failed step.
    pub fn location(&self) -> Option<(&str, usize)> {
        match self {
            BuildError::Failed {
                location: Some((f, l)),
                ..
            } => Some((f.as_str(), *l)),
            _ => None,
        }
    }
}

/// The error and its causes on one line (`a: b: c`): [`golden_gha::error_line`].
pub fn error_chain(e: &dyn std::error::Error) -> String {
    golden_gha::error_line(e)
}

#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    #[error(
        "bootstrap script `{0}` does not exist; hint: run from the repository, or set --bootstrap-script (GOLDEN_BOOTSTRAP_SCRIPT)"
    )]
    Missing(PathBuf),
    #[error("failed to run the bootstrap script `{path}`")]
    Spawn {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("bootstrap of `{id}` failed: `{script}` {status}{tail}", tail = crate::build_tail(.last_lines))]
    Failed {
        id: String,
        script: String,
        status: String,
        last_lines: Vec<String>,
    },
    #[error(
        "bootstrap script `{script}` succeeded but printed no image id (expected `sha256:<64 hex>` on stdout)"
    )]
    NoImageId { script: String },
}

/// What a successful build produced.
#[derive(Debug, Clone)]
pub struct Built {
    pub image_id: String,
    pub size: u64,
    pub tags: Vec<String>,
}
