//! The sticky PR comment: one comment per pull request and key, found again by its hidden
//! marker, updated in place, never duplicated, never re-sent unchanged.

use crate::escape::marker_key;
use crate::github::{Comment, GhError, GitHub};

/// The login of the GitHub Actions token's comments.
pub const ACTIONS_BOT: &str = "github-actions[bot]";

/// The hidden first line of every comment we own.
pub fn marker(key: &str) -> String {
    format!("<!-- golden-report:{key} -->")
}

/// The default key: the workflow name and the config path, so several workflows (or configs)
/// can each keep their own comment on the same PR.
pub fn default_key(workflow: Option<&str>, config: &str) -> String {
    marker_key(&format!("{}:{}", workflow.unwrap_or("local"), config))
}

/// The full comment body: marker, then the Markdown.
pub fn body(key: &str, markdown: &str) -> String {
    format!("{}\n{}", marker(key), markdown)
}

/// Whose comments may be ours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Author {
    /// The token's user, as `GET /user` (or `--comment-author`) said.
    Login(String),
    /// Unknown (the Actions token cannot read `/user`): any bot account, which a person cannot
    /// impersonate; `github-actions[bot]` is the usual one.
    AnyBot,
}

impl Author {
    fn matches(&self, c: &Comment) -> bool {
        let Some(u) = &c.user else { return false };
        match self {
            Author::Login(l) => u.login.eq_ignore_ascii_case(l),
            Author::AnyBot => u.kind.as_deref() == Some("Bot") || u.login.ends_with("[bot]"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Created { id: u64, url: Option<String> },
    Updated { id: u64, url: Option<String> },
    Unchanged { id: u64, url: Option<String> },
}

impl Outcome {
    pub fn url(&self) -> Option<&str> {
        match self {
            Outcome::Created { url, .. }
            | Outcome::Updated { url, .. }
            | Outcome::Unchanged { url, .. } => url.as_deref(),
        }
    }
    pub fn describe(&self, pr: u64) -> String {
        match self {
            Outcome::Created { id, .. } => format!("created comment {id} on #{pr}"),
            Outcome::Updated { id, .. } => format!("updated comment {id} on #{pr}"),
            Outcome::Unchanged { id, .. } => {
                format!("comment {id} on #{pr} is already up to date (nothing sent)")
            }
        }
    }
}

fn normalise(s: &str) -> String {
    s.replace("\r\n", "\n").trim_end().to_string()
}

/// Whether `c` is our comment for `key`: its first line is the marker.
fn is_ours(c: &Comment, key: &str, author: &Author) -> bool {
    let m = marker(key);
    author.matches(c)
        && c.body
            .as_deref()
            .is_some_and(|b| b.trim_start().lines().next().map(str::trim) == Some(m.as_str()))
}

/// Create or update the comment for `key` on `pr`. `body` must start with the marker.
pub async fn upsert(
    gh: &GitHub,
    pr: u64,
    key: &str,
    body: &str,
    author: &Author,
) -> Result<Outcome, GhError> {
    let comments = gh.list_comments(pr).await?;
    let mut candidates: Vec<&Comment> = comments
        .iter()
        .filter(|c| is_ours(c, key, author))
        .collect();
    // When the author is unknown, the Actions bot's own comment comes first (oldest first
    // otherwise, as GitHub lists them).
    candidates.sort_by_key(|c| c.user.as_ref().is_none_or(|u| u.login != ACTIONS_BOT));
    let mut ours = candidates.into_iter();
    match ours.next() {
        Some(existing) => {
            let extra: Vec<u64> = ours.map(|c| c.id).collect();
            if !extra.is_empty() {
                tracing::warn!(
                    "more than one golden-report comment with key `{key}` on #{pr} (also {extra:?}); updating the oldest, {}",
                    existing.id
                );
            }
            if existing.body.as_deref().map(normalise) == Some(normalise(body)) {
                return Ok(Outcome::Unchanged {
                    id: existing.id,
                    url: existing.html_url.clone(),
                });
            }
            let c = gh.update_comment(existing.id, body).await?;
            Ok(Outcome::Updated {
                id: c.id,
                url: c.html_url.or_else(|| existing.html_url.clone()),
            })
        }
        None => {
            let c = gh.create_comment(pr, body).await?;
            Ok(Outcome::Created {
                id: c.id,
                url: c.html_url,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::github::User;

    fn comment(login: &str, kind: &str, body: &str) -> Comment {
        Comment {
            id: 1,
            body: Some(body.into()),
            user: Some(User {
                login: login.into(),
                kind: Some(kind.into()),
            }),
            html_url: None,
        }
    }

    #[test]
    fn keys_and_markers() {
        assert_eq!(
            default_key(Some("Golden images"), "configs/build-config.yaml"),
            "golden-images:configs/build-config.yaml"
        );
        assert_eq!(default_key(None, "c.yaml"), "local:c.yaml");
        assert_eq!(marker("k"), "<!-- golden-report:k -->");
    }

    #[test]
    fn only_our_marker_on_the_first_line_by_the_right_author_counts() {
        let b = body("k", "## hi");
        assert!(is_ours(
            &comment("github-actions[bot]", "Bot", &b),
            "k",
            &Author::AnyBot
        ));
        // A person quoting the marker does not take the comment over.
        assert!(!is_ours(
            &comment("mallory", "User", &b),
            "k",
            &Author::AnyBot
        ));
        // Another key's comment is left alone.
        assert!(!is_ours(
            &comment("github-actions[bot]", "Bot", &b),
            "k2",
            &Author::AnyBot
        ));
        // The marker buried in the text is not ours.
        assert!(!is_ours(
            &comment("github-actions[bot]", "Bot", &format!("quote:\n{b}")),
            "k",
            &Author::AnyBot
        ));
        assert!(is_ours(
            &comment("Golden-Bot", "User", &b),
            "k",
            &Author::Login("golden-bot".into())
        ));
        assert!(!is_ours(
            &comment("other-bot[bot]", "Bot", &b),
            "k",
            &Author::Login("golden-bot".into())
        ));
    }
}
