//! Tags: validated, deduplicated, and moved one after the other (shared by `push`, `copy` and
//! `index`).

use bytes::Bytes;
use golden_oci::Reference;
use golden_registry::Client;

use crate::Log;
use crate::error::{Error, Result};
use crate::report::short;

/// `registry/repository` of `r`, without tag or digest.
pub(crate) fn repo_ref(r: &Reference) -> Reference {
    Reference {
        registry: r.registry.clone(),
        repository: r.repository.clone(),
        tag: None,
        digest: None,
    }
}

/// Validate a tag for `repo` (same rules as a reference's tag).
pub fn checked_tag(repo: &Reference, tag: &str) -> Result<String> {
    let t = tag.trim();
    Reference::parse(&format!("{}:{t}", repo.name()))
        .map_err(|e| Error::Usage(format!("tag `{t}` is not valid: {e}")))?;
    Ok(t.to_string())
}

/// Every tag to set: the target's own tag (default `latest`) then the extra ones, deduplicated.
pub fn all_tags(to: &Reference, extra: &[String]) -> Result<Vec<String>> {
    let mut tags = Vec::new();
    if to.digest.is_some() {
        return Err(Error::Usage(format!(
            "--to `{to}` is pinned to a digest: push to a tag (REGISTRY/REPO:TAG)"
        )));
    }
    tags.push(to.tag.clone().unwrap_or_else(|| "latest".into()));
    for t in extra {
        let t = checked_tag(to, t)?;
        if !tags.contains(&t) {
            tags.push(t);
        }
    }
    Ok(tags)
}

/// What [`set_tags`] did.
#[derive(Debug, Default)]
pub struct TagOutcome {
    /// Tags that moved, fully qualified, in order.
    pub moved: Vec<String>,
    /// Tags that did not move (the failing one and every one after it), fully qualified.
    pub not_moved: Vec<String>,
    pub error: Option<Error>,
}

/// Point `tags` (names in `repository`) at the manifest `bytes` (digest `digest`), one after the
/// other; the first failure stops, and the outcome says exactly which tags moved.
pub async fn set_tags(
    client: &Client,
    repository: &Reference,
    digest: &str,
    bytes: &Bytes,
    media_type: &str,
    tags: &[String],
    log: &Log,
) -> TagOutcome {
    let target = repo_ref(repository);
    let mut out = TagOutcome::default();
    for (i, t) in tags.iter().enumerate() {
        match client
            .put_manifest(&target, t, bytes.clone(), media_type)
            .await
        {
            Ok(_) => out.moved.push(format!("{}:{t}", target.name())),
            Err(e) => {
                out.not_moved = tags[i..]
                    .iter()
                    .map(|t| format!("{}:{t}", target.name()))
                    .collect();
                let moved = if out.moved.is_empty() {
                    "no tag moved".to_string()
                } else {
                    format!("moved: {}", out.moved.join(", "))
                };
                out.error = Some(Error::registry(
                    format!(
                        "failed to tag {}:{t} (the manifest {digest} is pushed; {moved}; not moved: {})",
                        target.name(),
                        out.not_moved.join(", ")
                    ),
                    e,
                ));
                return out;
            }
        }
    }
    log.line(&format!("  {} tagged {}", short(digest), tags.join(", ")));
    out
}
