//! Everything that can stop a golden-push command. Each variant carries the context its message
//! needs: what failed, on which object (reference, digest, file, flag), what the registry or
//! the engine answered (as the `source`), and what the image's tags are now. The binary prints
//! the top message and every `source` as `caused by:` lines (`golden_gha::report_fatal`); a
//! record's `error` field holds the same chain on one line ([`Error::one_line`]).

use std::io;

use golden_contracts::DocError;
use golden_contracts::entry::EntryError;
use golden_engine::EngineError;
use golden_oci::ReferenceError;
use golden_registry::{AuthError, RegistryError};

/// The `Result` of golden-push's library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a golden-push command failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A registry request failed; golden-registry's message names the registry, the request,
    /// its answer and (for auth) a hint.
    #[error(transparent)]
    Registry(Box<RegistryError>),
    /// A registry request failed while doing `what` (e.g. `failed to push the manifest (no tag
    /// was changed)`, `failed to tag REPO:TAG (… moved: …; not moved: …)`).
    #[error("{what}")]
    RegistryAt {
        what: String,
        #[source]
        source: Box<RegistryError>,
    },
    /// The Docker engine failed while doing `what` (connect, inspect, export an image).
    #[error("{what}")]
    Engine {
        what: String,
        #[source]
        source: EngineError,
    },
    /// A file or folder could not be read or written; `what` names it (and the flag it came
    /// from, e.g. `--records: cannot read the folder DIR`).
    #[error("{what}")]
    File {
        what: String,
        #[source]
        source: io::Error,
    },
    /// An I/O error inside a file already named by the step (reading an opened archive,
    /// listing a folder's entries).
    #[error(transparent)]
    Io(#[from] io::Error),
    /// A JSON document that does not parse as what it must be; `what` names it.
    #[error("{what}")]
    Json {
        what: String,
        #[source]
        source: serde_json::Error,
    },
    /// A value that could not be serialised as JSON (stdout `--format json`, a scan report).
    #[error(transparent)]
    Serialize(#[from] serde_json::Error),
    /// An image reference that does not parse; `what` names where it came from (`--to`, `SRC`,
    /// a manifest of `index`, a record's index target) and the expected form.
    #[error("{what}")]
    Reference {
        what: String,
        #[source]
        source: ReferenceError,
    },
    /// An unknown auth method in `flag` (`--auth / GOLDEN_AUTH`, `--from-auth`).
    #[error("{flag}")]
    AuthMethod {
        flag: &'static str,
        #[source]
        source: Box<AuthError>,
    },
    /// The plan entry (`--entry`, `--plan`) cannot be resolved (golden-contracts says why).
    #[error(transparent)]
    Entry(#[from] EntryError),
    /// A push or index record, or a scan report, that cannot be read or written
    /// (golden-contracts names the file).
    #[error(transparent)]
    Doc(#[from] DocError),
    /// `$GITHUB_OUTPUT` could not be written.
    #[error("failed to write $GITHUB_OUTPUT")]
    Outputs(#[source] golden_gha::GhaError),
    /// A background task (`what`: compressor, upload task, archive indexer, …) panicked or was
    /// cancelled.
    #[error("{what} stopped")]
    Task {
        what: &'static str,
        #[source]
        source: tokio::task::JoinError,
    },
    /// Invalid input: a flag, argument, environment variable or file given by the user. The
    /// message names it and says what to give instead.
    #[error("{0}")]
    Usage(String),
    /// The image is not what it must be: a `docker save` archive, the engine's export, a
    /// manifest or config in the registry (the message names the object).
    #[error("{0}")]
    Image(String),
    /// `index --records` refused to build any index (an architecture missing or failed, records
    /// that disagree); nothing was pushed, no tag moved.
    #[error("{0}")]
    Refused(String),
    /// A step failed after some work was done: `what` says what it means for the image (which
    /// manifest is pushed, that no tag was moved, which image of `index --records`).
    #[error("{what}")]
    Context {
        what: String,
        #[source]
        source: Box<Error>,
    },
    /// A broken invariant of golden-push itself (a bug).
    #[error("internal: {0}")]
    Internal(String),
}

/// The binary's fatal error: `golden-push: error: …` and its `caused by:` lines, after the
/// annotation in Actions ([`golden_gha::report_fatal`]).
impl golden_gha::scaffold::Fatal for Error {
    fn error(&self) -> &(dyn std::error::Error + 'static) {
        self
    }
    fn report(&self, tool: &str) {
        golden_gha::report_fatal(tool, self);
    }
}

impl From<RegistryError> for Error {
    fn from(e: RegistryError) -> Error {
        Error::Registry(Box::new(e))
    }
}

impl Error {
    /// `source` failed while doing `what` (see [`Error::RegistryAt`]).
    pub fn registry(what: impl Into<String>, source: RegistryError) -> Error {
        Error::RegistryAt {
            what: what.into(),
            source: Box::new(source),
        }
    }

    /// An unknown auth method in `flag` (see [`Error::AuthMethod`]).
    pub fn auth_method(flag: &'static str, source: AuthError) -> Error {
        Error::AuthMethod {
            flag,
            source: Box::new(source),
        }
    }

    /// Wrap `self` with what its failure means (see [`Error::Context`]).
    pub fn context(self, what: impl Into<String>) -> Error {
        Error::Context {
            what: what.into(),
            source: Box::new(self),
        }
    }

    /// The whole chain on one line, `message: cause: cause` (a record's `error` field).
    pub fn one_line(&self) -> String {
        let mut out = self.to_string();
        let mut cause = std::error::Error::source(self);
        while let Some(c) = cause {
            out.push_str(": ");
            out.push_str(&c.to_string());
            cause = c.source();
        }
        out
    }

    pub(crate) fn registry_at(what: impl Into<String>) -> impl FnOnce(RegistryError) -> Error {
        let what = what.into();
        move |source| Error::registry(what, source)
    }

    pub(crate) fn engine(what: impl Into<String>) -> impl FnOnce(EngineError) -> Error {
        let what = what.into();
        move |source| Error::Engine { what, source }
    }

    pub(crate) fn file(what: impl Into<String>) -> impl FnOnce(io::Error) -> Error {
        let what = what.into();
        move |source| Error::File { what, source }
    }

    pub(crate) fn json(what: impl Into<String>) -> impl FnOnce(serde_json::Error) -> Error {
        let what = what.into();
        move |source| Error::Json { what, source }
    }

    pub(crate) fn reference(what: impl Into<String>) -> impl FnOnce(ReferenceError) -> Error {
        let what = what.into();
        move |source| Error::Reference { what, source }
    }

    pub(crate) fn task(what: &'static str) -> impl FnOnce(tokio::task::JoinError) -> Error {
        move |source| Error::Task { what, source }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_joins_the_chain_like_the_printed_lines() {
        let e = Error::file("failed to open docker archive `x.tar`")(io::Error::new(
            io::ErrorKind::NotFound,
            "No such file or directory",
        ))
        .context("the manifest sha256:ab is pushed, no tag was moved");
        assert_eq!(
            e.one_line(),
            "the manifest sha256:ab is pushed, no tag was moved: failed to open docker archive `x.tar`: No such file or directory"
        );
        assert_eq!(Error::Internal("x".into()).to_string(), "internal: x");
    }
}
