//! The parts of GitHub event payloads (`$GITHUB_EVENT_PATH`) the golden binaries read.

use serde::Deserialize;
use std::path::Path;

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Event {
    #[serde(default)]
    pub pull_request: Option<PullRequest>,
    #[serde(default)]
    pub number: Option<u64>,
    #[serde(default)]
    pub repository: Option<Repository>,
    #[serde(default)]
    pub inputs: Option<serde_json::Map<String, serde_json::Value>>,
    #[serde(default)]
    pub schedule: Option<String>,
    /// Present on `workflow_run` events (the run that triggered this one).
    #[serde(default)]
    pub workflow_run: Option<WorkflowRun>,
}

/// The triggering run of a `workflow_run` event.
#[derive(Debug, Clone, Deserialize)]
pub struct WorkflowRun {
    /// The run id (its page is `<server>/<repository>/actions/runs/<id>`).
    #[serde(default)]
    pub id: Option<u64>,
    #[serde(default)]
    pub head_sha: Option<String>,
    #[serde(default)]
    pub conclusion: Option<String>,
    #[serde(default)]
    pub event: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PullRequest {
    pub number: u64,
    #[serde(default)]
    pub head: Option<GitRef>,
    #[serde(default)]
    pub base: Option<GitRef>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct GitRef {
    #[serde(rename = "ref", default)]
    pub ref_name: Option<String>,
    #[serde(default)]
    pub sha: Option<String>,
    #[serde(default)]
    pub repo: Option<Repository>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Repository {
    #[serde(default)]
    pub full_name: Option<String>,
    #[serde(default)]
    pub default_branch: Option<String>,
    #[serde(default)]
    pub fork: Option<bool>,
}

#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("failed to read event payload `{path}`")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("failed to parse event payload `{path}`")]
    Parse {
        path: String,
        #[source]
        source: serde_json::Error,
    },
}

impl Event {
    pub fn from_path(path: &Path) -> Result<Self, EventError> {
        let text = std::fs::read_to_string(path).map_err(|source| EventError::Read {
            path: path.display().to_string(),
            source,
        })?;
        serde_json::from_str(&text).map_err(|source| EventError::Parse {
            path: path.display().to_string(),
            source,
        })
    }

    /// Load `$GITHUB_EVENT_PATH` when set.
    pub fn from_env() -> Result<Option<Self>, EventError> {
        match std::env::var_os(crate::env::GITHUB_EVENT_PATH).filter(|v| !v.is_empty()) {
            Some(p) => Self::from_path(Path::new(&p)).map(Some),
            None => Ok(None),
        }
    }

    /// The pull request number, from `pull_request.number` or the top-level `number`.
    pub fn pr_number(&self) -> Option<u64> {
        self.pull_request.as_ref().map(|p| p.number).or(self.number)
    }

    /// The head commit of the triggering run, on `workflow_run` events.
    pub fn workflow_run_head_sha(&self) -> Option<&str> {
        self.workflow_run
            .as_ref()
            .and_then(|w| w.head_sha.as_deref())
    }

    /// The id of the triggering run, on `workflow_run` events.
    pub fn workflow_run_id(&self) -> Option<u64> {
        self.workflow_run.as_ref().and_then(|w| w.id)
    }

    /// Whether the PR comes from a fork (head repository differs from the base repository).
    pub fn is_fork_pr(&self) -> bool {
        let Some(pr) = &self.pull_request else {
            return false;
        };
        let head = pr
            .head
            .as_ref()
            .and_then(|h| h.repo.as_ref())
            .and_then(|r| r.full_name.clone());
        let base = pr
            .base
            .as_ref()
            .and_then(|h| h.repo.as_ref())
            .and_then(|r| r.full_name.clone());
        matches!((head, base), (Some(h), Some(b)) if h != b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures/third-party/github-events")
            .join(name)
    }

    #[test]
    fn reads_real_pull_request_payload() {
        let e = Event::from_path(&fixture("event_pull_request.json")).unwrap();
        let n = e.pr_number().expect("pr number");
        assert!(n > 0);
        assert!(e.pull_request.as_ref().unwrap().head.is_some());
    }

    #[test]
    fn schedule_payload_has_no_pr() {
        let e = Event::from_path(&fixture("event_schedule.json")).unwrap();
        assert_eq!(e.pr_number(), None);
        assert!(!e.is_fork_pr());
    }

    #[test]
    fn workflow_run_head_sha_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("event.json");
        std::fs::write(
            &p,
            r#"{"action":"completed","workflow_run":{"id":42,"head_sha":"abc123","event":"pull_request","conclusion":"success"}}"#,
        )
        .unwrap();
        let e = Event::from_path(&p).unwrap();
        assert_eq!(e.workflow_run_head_sha(), Some("abc123"));
        assert_eq!(e.workflow_run_id(), Some(42));
        assert_eq!(e.pr_number(), None);
    }

    #[test]
    fn corrupt_payload_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("event.json");
        std::fs::write(&p, "{not json").unwrap();
        let err = Event::from_path(&p).unwrap_err();
        assert!(err.to_string().contains("event.json"));
    }
}
