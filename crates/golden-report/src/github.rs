//! The GitHub REST calls the reporter makes, through octocrab, with rate-limit backoff and
//! errors that say what to fix.
//!
//! Endpoints (as GitHub documents them):
//! - `GET /user` (who the token is; fails with 403 for the Actions token, which is fine)
//! - `GET /repos/{o}/{r}/issues/{n}/comments?per_page=100` (+ `Link: rel="next"` pages)
//! - `POST /repos/{o}/{r}/issues/{n}/comments` `{"body"}`
//! - `PATCH /repos/{o}/{r}/issues/comments/{id}` `{"body"}` (octocrab's own `update_comment`
//!   sends POST; we send the documented PATCH)
//! - `GET /repos/{o}/{r}/pulls/{n}` (the poster checks the head commit)
//! - `GET /repos/{o}/{r}/issues?state=open&labels=L&per_page=100`
//! - `GET /repos/{o}/{r}/labels/{name}`, `POST /repos/{o}/{r}/labels`
//! - `POST /repos/{o}/{r}/issues`, `PATCH /repos/{o}/{r}/issues/{n}`
//!
//! Architecture invariant: only this module talks to the GitHub API.

use octocrab::Octocrab;
use octocrab::service::middleware::retry::RetryConfig;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::future::Future;
use std::time::Duration;

pub use golden_registry::Secret;

/// The API host when `GITHUB_API_URL` is unset.
pub const DEFAULT_API_URL: &str = "https://api.github.com";

/// `Debug` shows the token as `Secret(***)`: settings end up in error reports and traces.
#[derive(Debug, Clone)]
pub struct GitHubSettings {
    /// `GITHUB_API_URL` (`https://api.github.com`, `https://ghe.example.com/api/v3`).
    pub api_url: String,
    /// Masked with the runner when wrapped; never printed.
    pub token: Secret,
    /// `owner/name`.
    pub repository: String,
    /// Longest single wait for a rate limit to reset before giving up.
    pub max_rate_limit_wait: Duration,
    /// Retries for rate limits and server errors.
    pub retries: u32,
    /// Wait before the first retry of a server error (doubled each time).
    pub server_error_backoff: Duration,
}

impl GitHubSettings {
    /// Wraps `token` in a [`Secret`] (which also registers it with the runner's masker).
    pub fn new(api_url: String, token: impl AsRef<str>, repository: String) -> Self {
        GitHubSettings {
            api_url,
            token: Secret::new(token),
            repository,
            max_rate_limit_wait: Duration::from_secs(900),
            retries: 4,
            server_error_backoff: Duration::from_secs(1),
        }
    }
}

/// Which permission a call needs (for the hint on 403).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    PullRequests,
    Issues,
    Read,
}

#[derive(Debug, thiserror::Error)]
pub enum GhError {
    #[error("failed to {op}: GitHub answered {status}: {message}{hint}")]
    Api {
        op: String,
        status: u16,
        message: String,
        hint: String,
    },
    #[error(
        "failed to {op}: GitHub's rate limit is exhausted and resets in {wait_secs} s, more than the {max_secs} s this run may wait (GOLDEN_RATE_LIMIT_MAX_WAIT)"
    )]
    RateLimited {
        op: String,
        wait_secs: u64,
        max_secs: u64,
    },
    #[error("failed to {op}: still rate limited after {retries} retries")]
    StillRateLimited { op: String, retries: u32 },
    #[error("failed to {op}")]
    Transport {
        op: String,
        #[source]
        source: Box<octocrab::Error>,
    },
    #[error("GITHUB_REPOSITORY `{0}` is not `owner/name`")]
    BadRepository(String),
    #[error(
        "GITHUB_TOKEN contains whitespace or control characters inside it; pass the token alone"
    )]
    BadToken,
    #[error("failed to set up the GitHub client for `{url}` (check GITHUB_API_URL)")]
    Setup {
        url: String,
        #[source]
        source: Box<octocrab::Error>,
    },
}

impl GhError {
    pub fn status(&self) -> Option<u16> {
        match self {
            GhError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }
    /// A plain 403 that is not a rate limit: the token cannot write here (fork PRs).
    pub fn is_forbidden(&self) -> bool {
        self.status() == Some(403)
    }
}

fn hint(status: u16, scope: Scope, message: &str, repo: &str) -> String {
    match status {
        401 => " (the token is missing, invalid or expired: check GITHUB_TOKEN)".into(),
        403 => {
            let perm = match scope {
                Scope::PullRequests => {
                    "the token lacks `pull-requests: write` (add `permissions: pull-requests: write` to the job); on pull requests from forks the token is read-only: upload `pr-comment.json` as an artifact and post it from a `workflow_run` job with `golden-report post-comment`"
                }
                Scope::Issues => {
                    "the token lacks `issues: write` (add `permissions: issues: write` to the job)"
                }
                Scope::Read => "the token cannot read this (check its repository access)",
            };
            if message.contains("Resource not accessible by integration") {
                format!(" ({perm})")
            } else {
                format!(" (forbidden: {perm})")
            }
        }
        404 => format!(
            " (`{repo}` or the item was not found, or the token cannot see it: check GITHUB_REPOSITORY and the token's access)"
        ),
        410 => " (issues are disabled on this repository)".into(),
        422 => " (GitHub refused the request as invalid)".into(),
        s if s >= 500 => " (a GitHub server error; retried, try again later)".into(),
        _ => String::new(),
    }
}

/// How long GitHub asks us to wait, if this error is a rate limit.
/// Primary limit: 403/429 with `x-ratelimit-remaining: 0` (wait until `x-ratelimit-reset`);
/// secondary limit: `retry-after`, or a 403/429 saying "rate limit" (wait at least a minute).
fn rate_limit_wait(e: &octocrab::GitHubError, now_epoch: u64) -> Option<Duration> {
    let empty = http::HeaderMap::new();
    rate_limit_wait_parts(
        e.status_code.as_u16(),
        e.headers.as_ref().unwrap_or(&empty),
        &e.message,
        e.rate_limit_reset,
        now_epoch,
    )
}

fn rate_limit_wait_parts(
    status: u16,
    headers: &http::HeaderMap,
    message: &str,
    rate_limit_reset: Option<u64>,
    now_epoch: u64,
) -> Option<Duration> {
    if status != 403 && status != 429 {
        return None;
    }
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .map(str::to_string)
    };
    if let Some(secs) = header("retry-after").and_then(|v| v.parse::<u64>().ok()) {
        return Some(Duration::from_secs(secs));
    }
    if header("x-ratelimit-remaining").as_deref() == Some("0") {
        let reset = header("x-ratelimit-reset")
            .and_then(|v| v.parse::<u64>().ok())
            .or(rate_limit_reset);
        let wait = reset.map(|r| r.saturating_sub(now_epoch) + 1).unwrap_or(60);
        return Some(Duration::from_secs(wait));
    }
    if status == 429 || message.to_ascii_lowercase().contains("rate limit") {
        return Some(Duration::from_secs(60));
    }
    None
}

/// A comment as the reporter needs it.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Comment {
    pub id: u64,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub user: Option<User>,
    #[serde(default)]
    pub html_url: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct User {
    pub login: String,
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Issue {
    pub number: u64,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub html_url: Option<String>,
    /// Present when the "issue" is a pull request.
    #[serde(default)]
    pub pull_request: Option<serde_json::Value>,
    #[serde(default)]
    pub user: Option<User>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PullRequest {
    pub number: u64,
    pub head: PullHead,
    #[serde(default)]
    pub state: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PullHead {
    pub sha: String,
}

#[derive(Debug, Clone, Deserialize)]
struct Label {
    #[allow(dead_code)]
    name: String,
}

/// Percent-encode one path segment (label names may hold spaces or `/`).
fn encode_segment(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub struct GitHub {
    crab: Octocrab,
    owner: String,
    repo: String,
    settings: GitHubSettings,
}

impl GitHub {
    /// Build the client. Must run inside a Tokio runtime (octocrab's requirement).
    pub fn new(settings: GitHubSettings) -> Result<Self, GhError> {
        let (owner, repo) = match settings.repository.split_once('/') {
            Some((o, r)) if !o.is_empty() && !r.is_empty() && !r.contains('/') => {
                (o.to_string(), r.to_string())
            }
            _ => return Err(GhError::BadRepository(settings.repository.clone())),
        };
        let token = settings.token.expose().trim();
        if token.is_empty() || token.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(GhError::BadToken);
        }
        let api = settings.api_url.trim_end_matches('/').to_string();
        let crab = Octocrab::builder()
            .personal_token(token.to_string())
            .base_uri(api.as_str())
            .and_then(|b| {
                b.add_retry_config(RetryConfig::None)
                    .set_connect_timeout(Some(Duration::from_secs(30)))
                    .set_read_timeout(Some(Duration::from_secs(60)))
                    .build()
            })
            .map_err(|e| GhError::Setup {
                url: api.clone(),
                source: Box::new(e),
            })?;
        Ok(GitHub {
            crab,
            owner,
            repo,
            settings,
        })
    }

    pub fn repository(&self) -> String {
        format!("{}/{}", self.owner, self.repo)
    }

    fn route(&self, rest: &str) -> String {
        format!("/repos/{}/{}/{rest}", self.owner, self.repo)
    }

    /// Run one call with GitHub's rate-limit rules and, for idempotent calls, retries on
    /// server and transport errors.
    async fn call<T, F, Fut>(
        &self,
        op: &str,
        scope: Scope,
        idempotent: bool,
        f: F,
    ) -> Result<T, GhError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = octocrab::Result<T>>,
    {
        let mut attempt: u32 = 0;
        loop {
            match f().await {
                Ok(v) => return Ok(v),
                Err(octocrab::Error::GitHub { source, .. }) => {
                    let now = chrono::Utc::now().timestamp().max(0) as u64;
                    if let Some(wait) = rate_limit_wait(&source, now) {
                        if attempt >= self.settings.retries {
                            return Err(GhError::StillRateLimited {
                                op: op.to_string(),
                                retries: attempt,
                            });
                        }
                        if wait > self.settings.max_rate_limit_wait {
                            return Err(GhError::RateLimited {
                                op: op.to_string(),
                                wait_secs: wait.as_secs(),
                                max_secs: self.settings.max_rate_limit_wait.as_secs(),
                            });
                        }
                        tracing::warn!(
                            "rate limited by GitHub while trying to {op}: waiting {} s",
                            wait.as_secs()
                        );
                        eprintln!(
                            "golden-report: rate limited by GitHub while trying to {op}; waiting {} s",
                            wait.as_secs()
                        );
                        tokio::time::sleep(wait).await;
                        attempt += 1;
                        continue;
                    }
                    let status = source.status_code.as_u16();
                    if status >= 500 && idempotent && attempt < self.settings.retries {
                        let wait = self.settings.server_error_backoff * 2u32.pow(attempt.min(6));
                        tracing::warn!("GitHub answered {status} to {op}: retrying in {wait:?}");
                        tokio::time::sleep(wait).await;
                        attempt += 1;
                        continue;
                    }
                    let message = source.message.clone();
                    return Err(GhError::Api {
                        op: op.to_string(),
                        status,
                        hint: hint(status, scope, &message, &self.repository()),
                        message,
                    });
                }
                Err(e) => {
                    let transient = matches!(
                        e,
                        octocrab::Error::Hyper { .. } | octocrab::Error::Service { .. }
                    );
                    if transient && idempotent && attempt < self.settings.retries {
                        let wait = self.settings.server_error_backoff * 2u32.pow(attempt.min(6));
                        tracing::warn!("{op}: {e}; retrying in {wait:?}");
                        tokio::time::sleep(wait).await;
                        attempt += 1;
                        continue;
                    }
                    return Err(GhError::Transport {
                        op: op.to_string(),
                        source: Box::new(e),
                    });
                }
            }
        }
    }

    /// Every page of a list endpoint (`per_page=100`, following `Link: rel="next"`).
    async fn all_pages<T: serde::de::DeserializeOwned>(
        &self,
        op: &str,
        scope: Scope,
        route: &str,
        params: &[(&str, &str)],
    ) -> Result<Vec<T>, GhError> {
        let first: octocrab::Page<T> = self
            .call(op, scope, true, || self.crab.get(route, Some(params)))
            .await?;
        let mut items = Vec::new();
        let mut page = first;
        // A hard stop against a server that links pages in a circle.
        for _ in 0..1000 {
            items.append(&mut page.items);
            let Some(next) = page.next.take() else {
                return Ok(items);
            };
            let next = Some(next);
            match self
                .call(op, scope, true, || self.crab.get_page::<T>(&next))
                .await?
            {
                Some(p) => page = p,
                None => return Ok(items),
            }
        }
        Ok(items)
    }

    /// The login of the token's user, when GitHub tells (a personal token). The Actions token
    /// gets 403 here: then `None`.
    pub async fn current_login(&self) -> Option<String> {
        #[derive(Deserialize)]
        struct Me {
            login: String,
        }
        match self
            .call("look up the token's user", Scope::Read, true, || {
                self.crab.get::<Me, _, ()>("/user", None)
            })
            .await
        {
            Ok(me) => Some(me.login),
            Err(e) => {
                tracing::debug!("token user unknown: {e}");
                None
            }
        }
    }

    pub async fn list_comments(&self, pr: u64) -> Result<Vec<Comment>, GhError> {
        self.all_pages(
            &format!("list the comments of #{pr}"),
            Scope::PullRequests,
            &self.route(&format!("issues/{pr}/comments")),
            &[("per_page", "100")],
        )
        .await
    }

    pub async fn create_comment(&self, pr: u64, body: &str) -> Result<Comment, GhError> {
        let route = self.route(&format!("issues/{pr}/comments"));
        let payload = json!({ "body": body });
        self.call(
            &format!("comment on #{pr}"),
            Scope::PullRequests,
            false,
            || self.crab.post(&route, Some(&payload)),
        )
        .await
    }

    pub async fn update_comment(&self, id: u64, body: &str) -> Result<Comment, GhError> {
        let route = self.route(&format!("issues/comments/{id}"));
        let payload = json!({ "body": body });
        self.call(
            &format!("update comment {id}"),
            Scope::PullRequests,
            true,
            || self.crab.patch(&route, Some(&payload)),
        )
        .await
    }

    pub async fn get_pull(&self, pr: u64) -> Result<PullRequest, GhError> {
        let route = self.route(&format!("pulls/{pr}"));
        self.call(
            &format!("read pull request #{pr}"),
            Scope::Read,
            true,
            || self.crab.get::<PullRequest, _, ()>(&route, None),
        )
        .await
    }

    /// Open issues with `label` (pull requests left out).
    pub async fn open_issues_with_label(&self, label: &str) -> Result<Vec<Issue>, GhError> {
        let issues: Vec<Issue> = self
            .all_pages(
                &format!("list open issues labelled `{label}`"),
                Scope::Issues,
                &self.route("issues"),
                &[("state", "open"), ("labels", label), ("per_page", "100")],
            )
            .await?;
        Ok(issues
            .into_iter()
            .filter(|i| i.pull_request.is_none())
            .collect())
    }

    /// Create `label` unless it exists.
    pub async fn ensure_label(
        &self,
        label: &str,
        color: &str,
        description: &str,
    ) -> Result<(), GhError> {
        let route = self.route(&format!("labels/{}", encode_segment(label)));
        match self
            .call(
                &format!("look up label `{label}`"),
                Scope::Issues,
                true,
                || self.crab.get::<Label, _, ()>(&route, None),
            )
            .await
        {
            Ok(_) => return Ok(()),
            Err(e) if e.status() == Some(404) => {}
            Err(e) => return Err(e),
        }
        let route = self.route("labels");
        let payload = json!({ "name": label, "color": color, "description": description });
        match self
            .call(
                &format!("create label `{label}`"),
                Scope::Issues,
                false,
                || self.crab.post::<_, Label>(&route, Some(&payload)),
            )
            .await
        {
            Ok(_) => Ok(()),
            // Created meanwhile by a concurrent run.
            Err(e) if e.status() == Some(422) => Ok(()),
            Err(e) => Err(e),
        }
    }

    pub async fn create_issue(
        &self,
        title: &str,
        body: &str,
        labels: &[&str],
    ) -> Result<Issue, GhError> {
        let route = self.route("issues");
        let payload = json!({ "title": title, "body": body, "labels": labels });
        self.call("open the alert issue", Scope::Issues, false, || {
            self.crab.post(&route, Some(&payload))
        })
        .await
    }

    pub async fn update_issue(
        &self,
        number: u64,
        payload: serde_json::Value,
    ) -> Result<Issue, GhError> {
        let route = self.route(&format!("issues/{number}"));
        self.call(
            &format!("update issue #{number}"),
            Scope::Issues,
            true,
            || self.crab.patch(&route, Some(&payload)),
        )
        .await
    }

    pub async fn comment_on_issue(&self, number: u64, body: &str) -> Result<Comment, GhError> {
        let route = self.route(&format!("issues/{number}/comments"));
        let payload = json!({ "body": body });
        self.call(
            &format!("comment on issue #{number}"),
            Scope::Issues,
            false,
            || self.crab.post(&route, Some(&payload)),
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_token() {
        let s = GitHubSettings::new(
            "https://api.github.com".into(),
            "ghp_s3cretTOKENvalue",
            "o/r".into(),
        );
        let post = crate::app::PostConfig {
            file: "pr-comment.json".into(),
            head_sha: None,
            run_url: None,
            comment_author: None,
            github: Some(s.clone()),
        };
        for shown in [format!("{s:?}"), format!("{s:#?}"), format!("{post:?}")] {
            assert!(!shown.contains("s3cret"), "{shown}");
            assert!(shown.contains("Secret(***)"), "{shown}");
        }
        assert_eq!(s.token.expose(), "ghp_s3cretTOKENvalue");
    }

    fn err(status: u16, headers: &[(&str, &str)], message: &str) -> (u16, http::HeaderMap, String) {
        let mut h = http::HeaderMap::new();
        for (k, v) in headers {
            h.insert(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        (status, h, message.to_string())
    }

    fn rate_limit_wait(
        (status, h, m): &(u16, http::HeaderMap, String),
        now: u64,
    ) -> Option<Duration> {
        rate_limit_wait_parts(*status, h, m, None, now)
    }

    #[test]
    fn rate_limits_are_recognised_as_github_documents_them() {
        let now = 1_000;
        assert_eq!(
            rate_limit_wait(&err(429, &[("retry-after", "7")], "x"), now),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            rate_limit_wait(
                &err(
                    403,
                    &[
                        ("x-ratelimit-remaining", "0"),
                        ("x-ratelimit-reset", "1030")
                    ],
                    "API rate limit exceeded"
                ),
                now
            ),
            Some(Duration::from_secs(31))
        );
        assert_eq!(
            rate_limit_wait(
                &err(403, &[], "You have exceeded a secondary rate limit"),
                now
            ),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            rate_limit_wait(
                &err(
                    403,
                    &[("x-ratelimit-remaining", "4999")],
                    "Resource not accessible by integration"
                ),
                now
            ),
            None
        );
        assert_eq!(rate_limit_wait(&err(500, &[], "x"), now), None);
    }

    #[test]
    fn forbidden_hints_name_the_permission() {
        let h = hint(
            403,
            Scope::PullRequests,
            "Resource not accessible by integration",
            "o/r",
        );
        assert!(
            h.contains("pull-requests: write") && h.contains("workflow_run"),
            "{h}"
        );
        let h = hint(
            403,
            Scope::Issues,
            "Resource not accessible by integration",
            "o/r",
        );
        assert!(h.contains("issues: write"), "{h}");
        assert!(hint(404, Scope::Read, "Not Found", "o/r").contains("o/r"));
    }

    #[test]
    fn label_segments_are_encoded() {
        assert_eq!(
            encode_segment("golden-nightly-failure"),
            "golden-nightly-failure"
        );
        assert_eq!(encode_segment("a b/c"), "a%20b%2Fc");
    }
}
