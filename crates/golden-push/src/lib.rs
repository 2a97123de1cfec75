//! golden-push: native OCI push to Azure Container Registry and any OCI registry (see
//! README.md). [`cli`] holds the flags, [`run`] turns them into calls of the modules below, and
//! `main.rs` only parses, runs and maps an [`Error`] to exit code 2. Every registry request goes
//! through `golden-registry`, every engine call through `golden-engine`, workflow commands and
//! `$GITHUB_OUTPUT` through `golden-gha`.
//!
//! Invariant: no tag ever points at a half-pushed image. Blobs go first, then the manifest (or
//! index) by digest; the `--attach` referrers are attached to that digest before any tag moves;
//! then the tags are PUT one by one and the first failure stops ([`tags::set_tags`]). A push
//! record lists the tags that moved (`tags`) and those that did not (`tags_not_moved`), on
//! failure too ([`record`]). A layer-reuse hint read from the registry (the previous tag's or
//! the base image's manifest) is only reused or mounted after its blob was downloaded and its
//! uncompressed sha256 is the layer's diff-id; only golden-push's own local cache ([`cache`]) is
//! trusted without that check. With a signing key the pushed digest is signed and its SLSA
//! provenance attached ([`sign`]) after the referrers and still before any tag moves.

pub mod attach;
pub mod audit;
pub mod cache;
pub mod cli;
pub mod copy;
pub mod error;
pub mod gzip;
pub mod login;
pub mod promote;
pub mod purge;
pub mod push;
pub mod record;
pub mod report;
pub mod run;
pub mod sign;
pub mod source;
pub mod stream;
pub mod sync;
pub mod tags;

pub use attach::{AttachReport, attach, guess_media_type, referrers};
pub use cli::Cli;
pub use error::{Error, Result};

use std::collections::BTreeMap;

/// Progress lines on stderr (silent with `--quiet`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Log {
    pub quiet: bool,
}

impl Log {
    pub fn line(&self, s: &str) {
        if !self.quiet {
            eprintln!("{}", golden_gha::neutralize(s));
        }
    }
    pub fn detail(&self, s: &str) {
        if !self.quiet {
            eprintln!("    {}", golden_gha::neutralize(s));
        }
    }
    /// A warning, shown even with `--quiet`: a `::warning` annotation inside GitHub Actions,
    /// `warning: …` elsewhere. Always on stderr (stdout carries the result, e.g. JSON); the
    /// runner reads workflow commands from both streams.
    pub fn warning(&self, s: &str) {
        if golden_gha::in_actions() {
            let at = golden_gha::Annotation {
                title: Some("golden-push"),
                ..Default::default()
            };
            eprintln!(
                "{}",
                golden_gha::annotation(golden_gha::Level::Warning, &at, s)
            );
        } else {
            eprintln!("warning: {}", golden_gha::neutralize(s));
        }
    }
}

/// Parse `key=value` annotations.
pub fn parse_annotations(items: &[String]) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for item in items
        .iter()
        .flat_map(|i| i.lines())
        .map(str::trim)
        .filter(|l| !l.is_empty())
    {
        let Some((k, v)) = item.split_once('=') else {
            return Err(Error::Usage(format!(
                "annotation `{item}` is not KEY=VALUE"
            )));
        };
        let k = k.trim();
        if k.is_empty() || k.chars().any(char::is_whitespace) {
            return Err(Error::Usage(format!(
                "annotation key `{k}` must be non-empty without spaces (e.g. org.opencontainers.image.source)"
            )));
        }
        out.insert(k.to_string(), v.to_string());
    }
    Ok(out)
}

/// Split list values given as `a,b`, `a b` or one per line.
pub fn split_list(items: &[String]) -> Vec<String> {
    items
        .iter()
        .flat_map(|i| i.split(|c: char| c == ',' || c.is_whitespace()))
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotations_and_lists() {
        let a = parse_annotations(&["a=1".into(), "b=x=y\nc=".into()]).unwrap();
        assert_eq!(a["a"], "1");
        assert_eq!(a["b"], "x=y");
        assert_eq!(a["c"], "");
        assert!(
            parse_annotations(&["nokey".into()])
                .unwrap_err()
                .to_string()
                .contains("KEY=VALUE")
        );
        assert_eq!(
            split_list(&["a,b".into(), "c\nd e".into()]),
            vec!["a", "b", "c", "d", "e"]
        );
    }
}
