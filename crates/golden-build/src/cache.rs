//! Build cache sources (`--cache-from`): pulled before the build, so a fresh runner's engine has
//! the layers the classic builder compares with.
//!
//! Each source is pulled through the engine with the credentials `golden-registry` resolves for
//! *its* registry — the same resolution as the base (`--auth`, [`crate::base::pull`]); one
//! registry's credential never goes to another. A source that cannot be pulled (a brand-new
//! image has no published tag yet, the registry is down, access is refused) is a warning naming
//! the reference and the reason: the build runs without it, it never fails because of it. The
//! build record lists what was used and what was missing ([`CacheSources`]).
//!
//! A source that names no registry (`app:prev`) and is in the engine is used as it is (a local
//! cache); a registry reference is always pulled (the engine's copy may be stale), and when the
//! pull fails but the engine has a copy, that copy is used (with the warning).

use golden_contracts::build::{CacheSources, MissingCache};
use golden_engine::{Engine, EngineError};
use golden_oci::Reference;

use crate::base::{self, BaseError, BaseOptions};

/// Why a pull failed, in one line (the reference is named by the caller).
pub fn reason(e: &BaseError) -> String {
    match e {
        BaseError::Denied {
            method, message, ..
        } => format!("the registry refused the pull (auth: {method}): {message}"),
        BaseError::NotPublished { message, .. } => {
            format!("not in the registry (never published?): {message}")
        }
        BaseError::PullFailed { message, .. } => format!("pull failed: {message}"),
        other => crate::outcome::error_chain(other),
    }
}

/// The cache sources as given: blank lines dropped, duplicates dropped (first kept).
pub fn normalize(refs: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in refs.iter().map(|r| r.trim()).filter(|r| !r.is_empty()) {
        if !out.iter().any(|o| o == r) {
            out.push(r.to_string());
        }
    }
    out
}

/// Print a warning (a workflow-command annotation on stderr inside Actions, where the runner
/// picks it up; `warning: ...` elsewhere). The message is escaped, never a command of its own.
fn warn(message: &str) {
    if golden_gha::in_actions() {
        let at = golden_gha::Annotation {
            title: Some("golden-build cache"),
            ..golden_gha::Annotation::default()
        };
        eprintln!(
            "{}",
            golden_gha::annotation(golden_gha::Level::Warning, &at, message)
        );
    } else {
        eprintln!("warning: {}", golden_gha::neutralize(message));
    }
}

/// Whether the engine has `reference`.
async fn in_engine(engine: &Engine, reference: &str) -> Result<bool, EngineError> {
    match engine.inspect_image(reference).await {
        Ok(_) => Ok(true),
        Err(EngineError::ImageNotFound(_)) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Make every cache source available in the engine (pull it) and say which can be used.
/// `None` when no source was given. With `no_cache` nothing is pulled (the builder would ignore
/// the sources). Never fails the build: every problem is a warning and a `missing` entry.
pub async fn prepare(
    engine: &Engine,
    refs: &[String],
    no_cache: bool,
    opts: &BaseOptions,
) -> Option<CacheSources> {
    let refs = normalize(refs);
    if refs.is_empty() {
        return None;
    }
    if no_cache {
        eprintln!(
            "{}",
            golden_gha::neutralize(&format!(
                "note: --no-cache: the cache sources are not pulled ({})",
                refs.join(", ")
            ))
        );
        return Some(CacheSources {
            skipped_no_cache: true,
            ..CacheSources::default()
        });
    }
    let mut sources = CacheSources::default();
    for reference in refs {
        match prepare_one(engine, &reference, opts).await {
            Ok(()) => sources.used.push(reference),
            Err(reason) => {
                warn(&format!(
                    "cache image `{reference}` is not available, building without it: {reason}"
                ));
                sources.missing.push(MissingCache { reference, reason });
            }
        }
    }
    if !sources.used.is_empty() && !opts.quiet {
        eprintln!(
            "{}",
            golden_gha::neutralize(&format!("cache sources: {}", sources.used.join(", ")))
        );
    }
    Some(sources)
}

/// Pull one source (or find it in the engine); `Err` is the reason it cannot be used.
async fn prepare_one(engine: &Engine, reference: &str, opts: &BaseOptions) -> Result<(), String> {
    let local = || async {
        in_engine(engine, reference)
            .await
            .map_err(|e| crate::outcome::error_chain(&e))
    };
    // A local name (`app:prev`, an image id) is used from the engine, never looked up on
    // Docker Hub.
    if !base::names_registry(reference) || base::looks_like_id(reference) {
        return match local().await? {
            true => Ok(()),
            false => Err(
                "not in the engine, and it names no registry to pull it from (hint: use the full reference `REGISTRY/NAME:TAG`)"
                    .to_string(),
            ),
        };
    }
    let parsed = Reference::parse(reference).map_err(|e| {
        format!("not a valid image reference ({e}); hint: `REGISTRY/NAMESPACE/NAME:TAG`")
    })?;
    match base::pull(engine, reference, &parsed, opts, "cache image").await {
        Ok(_) => Ok(()),
        Err(e) => {
            let why = reason(&e);
            match local().await {
                Ok(true) => {
                    warn(&format!(
                        "cache image `{reference}` could not be pulled ({why}); using the engine's copy"
                    ));
                    Ok(())
                }
                _ => Err(why),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_are_trimmed_and_deduplicated() {
        let refs = [" r/a:1 ", "", "r/b:1", "r/a:1", "\n"].map(String::from);
        assert_eq!(normalize(&refs), ["r/a:1", "r/b:1"]);
        assert!(normalize(&[]).is_empty());
    }

    #[test]
    fn reasons_are_one_line_without_the_base_wording() {
        let e = BaseError::NotPublished {
            reference: "127.0.0.1:5000/x:1".into(),
            registry: "127.0.0.1:5000".into(),
            message: "manifest unknown".into(),
            rebuild: "r".into(),
            base_hint: String::new(),
        };
        assert_eq!(
            reason(&e),
            "not in the registry (never published?): manifest unknown"
        );
        let e = BaseError::Denied {
            reference: "x".into(),
            registry: "r".into(),
            method: "anonymous".into(),
            message: "unauthorized".into(),
            hint: String::new(),
        };
        assert_eq!(
            reason(&e),
            "the registry refused the pull (auth: anonymous): unauthorized"
        );
        let e = BaseError::PullFailed {
            reference: "x".into(),
            registry: "r".into(),
            message: "connection refused".into(),
            hint: "h".into(),
        };
        assert_eq!(reason(&e), "pull failed: connection refused");
    }
}
