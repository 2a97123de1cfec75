//! The nightly alert: one open issue (fixed label) while scheduled runs fail, updated on every
//! failing night, closed with a comment by the first green one.
//!
//! The issue body carries two hidden lines: the marker `<!-- golden-report:alert:<key> -->` that
//! tells our issue from others with the same label, and the state
//! `<!-- golden-report-state {...} -->` (JSON, `-` `<` `>` escaped as `\u002d`...) holding, per
//! image, when it first failed, so "failing since" survives from night to night.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::aggregate::Report;
use crate::escape::{md, safe_url, truncate};
use crate::github::{GhError, GitHub, Issue};
use crate::summary::{ImageStatus, ImageSummary};

pub const DEFAULT_LABEL: &str = "golden-nightly-failure";
const LABEL_COLOR: &str = "b60205";
const LABEL_DESCRIPTION: &str = "Scheduled golden image build failing (managed by golden-report)";
const STATE_PREFIX: &str = "<!-- golden-report-state ";

pub fn marker(key: &str) -> String {
    format!("<!-- golden-report:alert:{key} -->")
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertState {
    /// Image id -> when it first failed (and in which run).
    #[serde(default)]
    pub first_failed: BTreeMap<String, Since>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Since {
    pub at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<String>,
}

impl AlertState {
    /// Read the state line from an issue body; `None` when absent or edited beyond repair.
    pub fn parse(body: &str) -> Option<AlertState> {
        let start = body.find(STATE_PREFIX)? + STATE_PREFIX.len();
        let end = body[start..].find(" -->")? + start;
        serde_json::from_str(&body[start..end]).ok()
    }

    /// The hidden line, with every `-`, `<` and `>` escaped so the JSON cannot end the comment.
    pub fn render(&self) -> String {
        let json = serde_json::to_string(self).unwrap_or_else(|_| "{}".into());
        let json = json
            .replace('-', "\\u002d")
            .replace('<', "\\u003c")
            .replace('>', "\\u003e");
        format!("{STATE_PREFIX}{json} -->")
    }
}

#[derive(Debug, Clone)]
pub struct AlertInput<'a> {
    pub key: &'a str,
    pub label: &'a str,
    pub report: &'a Report,
    /// RFC 3339 time of this run.
    pub now: &'a str,
    pub run_url: Option<&'a str>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Opened {
        number: u64,
    },
    Updated {
        number: u64,
    },
    Unchanged {
        number: u64,
    },
    Closed {
        number: u64,
    },
    /// Green and no open issue.
    NothingToDo,
}

impl Outcome {
    pub fn describe(&self) -> String {
        match self {
            Outcome::Opened { number } => format!("opened nightly alert issue #{number}"),
            Outcome::Updated { number } => format!("updated nightly alert issue #{number}"),
            Outcome::Unchanged { number } => {
                format!("nightly alert issue #{number} is up to date")
            }
            Outcome::Closed { number } => format!("closed nightly alert issue #{number}"),
            Outcome::NothingToDo => "no failure and no open nightly alert issue".into(),
        }
    }
}

fn reason(i: &ImageSummary) -> String {
    match i.status {
        ImageStatus::BuildFailed => {
            let msg = i
                .build
                .as_ref()
                .and_then(|b| b.error.as_ref())
                .map(|e| truncate(&e.message, 160))
                .unwrap_or_default();
            if msg.is_empty() {
                "build failed".into()
            } else {
                format!("build failed: {msg}")
            }
        }
        ImageStatus::PolicyFailed => {
            let rules: Vec<String> = i
                .scan
                .as_ref()
                .map(|s| s.policy_failures.iter().map(|f| f.rule.clone()).collect())
                .unwrap_or_default();
            if rules.is_empty() {
                "policy failed".into()
            } else {
                format!("policy failed: {}", truncate(&rules.join(", "), 160))
            }
        }
        ImageStatus::Incomplete => format!(
            "incomplete: {}",
            truncate(i.problems.first().map(String::as_str).unwrap_or("?"), 160)
        ),
        ImageStatus::Ok => "ok".into(),
    }
}

fn title(failing: &[&ImageSummary]) -> String {
    let names: Vec<&str> = failing.iter().map(|i| i.id.as_str()).collect();
    let mut t = format!(
        "Nightly golden image build failing: {} image{}",
        names.len(),
        if names.len() == 1 { "" } else { "s" }
    );
    let list = names.join(", ");
    let _ = write!(t, " ({})", truncate(&list, 120));
    t
}

/// The issue body for the failing images, with `state` already updated.
pub fn issue_body(
    input: &AlertInput<'_>,
    state: &AlertState,
    failing: &[&ImageSummary],
    recovered: &[String],
) -> String {
    let report = input.report;
    let mut b = String::new();
    let _ = writeln!(b, "{}", marker(input.key));
    let _ = writeln!(b, "{}", state.render());
    let _ = writeln!(b, "## ❌ Nightly golden image build failing\n");
    let run = match input.run_url.and_then(safe_url) {
        Some(u) => format!("[the latest scheduled run]({u})"),
        None => "the latest scheduled run".into(),
    };
    let _ = writeln!(
        b,
        "In {run} ({}), **{} of {}** images failed.\n",
        md(input.now),
        failing.len(),
        report.summary.totals.images
    );
    b.push_str("| Image | Failure | Failing since |\n|---|---|---|\n");
    for i in failing {
        let since = state
            .first_failed
            .get(&i.id)
            .map(|s| match s.run.as_deref().and_then(safe_url) {
                Some(u) => format!("[{}]({u})", md(&s.at)),
                None => md(&s.at),
            })
            .unwrap_or_else(|| "?".into());
        let _ = writeln!(
            b,
            "| **{}** | {} | {} |",
            md(&truncate(&i.id, 120)),
            md(&reason(i)),
            since
        );
    }
    let problems = report
        .summary
        .problems
        .iter()
        .filter(|p| p.image.is_none())
        .count();
    if problems > 0 {
        let _ = writeln!(
            b,
            "\n{problems} input problem(s) belong to no image: see the run's job summary."
        );
    }
    if !recovered.is_empty() {
        let list: Vec<String> = recovered.iter().map(|r| md(r)).collect();
        let _ = writeln!(b, "\nRecovered since the last update: {}.", list.join(", "));
    }
    b.push_str("\nThis issue is kept up to date by `golden-report` on every scheduled run and closed by the first green one. The details are in the run's job summary and its `summary.json` artifact.\n");
    b
}

/// Open, update or close the alert issue for this scheduled run.
pub async fn run(gh: &GitHub, input: &AlertInput<'_>) -> Result<Outcome, GhError> {
    let mark = marker(input.key);
    let mut open: Vec<Issue> = gh
        .open_issues_with_label(input.label)
        .await?
        .into_iter()
        .filter(|i| i.body.as_deref().is_some_and(|b| b.contains(&mark)))
        .collect();
    open.sort_by_key(|i| i.number);
    if open.len() > 1 {
        tracing::warn!(
            "{} open alert issues with key `{}`; using #{}",
            open.len(),
            input.key,
            open[0].number
        );
    }
    let existing = open.into_iter().next();
    let failing: Vec<&ImageSummary> = input.report.failed_images().collect();
    let no_input = input.report.summary.totals.images == 0;

    if failing.is_empty() && !no_input {
        let Some(issue) = existing else {
            return Ok(Outcome::NothingToDo);
        };
        let run = match input.run_url.and_then(safe_url) {
            Some(u) => format!("[Scheduled run]({u})"),
            None => "The latest scheduled run".into(),
        };
        let comment = format!(
            "{}\n✅ {run} ({}) is green: all {} images built and passed policy. Closing.",
            marker(input.key),
            md(input.now),
            input.report.summary.totals.images
        );
        gh.comment_on_issue(issue.number, &comment).await?;
        gh.update_issue(
            issue.number,
            serde_json::json!({ "state": "closed", "state_reason": "completed" }),
        )
        .await?;
        return Ok(Outcome::Closed {
            number: issue.number,
        });
    }

    // Failing: carry "since" over for images that were already failing.
    let previous = existing
        .as_ref()
        .and_then(|i| i.body.as_deref())
        .and_then(AlertState::parse)
        .unwrap_or_default();
    let mut state = AlertState::default();
    for i in &failing {
        let since = previous
            .first_failed
            .get(&i.id)
            .cloned()
            .unwrap_or_else(|| Since {
                at: input.now.to_string(),
                run: input.run_url.map(str::to_string),
            });
        state.first_failed.insert(i.id.clone(), since);
    }
    let recovered: Vec<String> = previous
        .first_failed
        .keys()
        .filter(|k| !state.first_failed.contains_key(*k))
        .cloned()
        .collect();
    let body = issue_body(input, &state, &failing, &recovered);
    let title = if no_input {
        "Nightly golden image build failing: no results".to_string()
    } else {
        title(&failing)
    };
    match existing {
        Some(issue) => {
            if issue.body.as_deref().map(str::trim_end) == Some(body.trim_end())
                && issue.title == title
            {
                return Ok(Outcome::Unchanged {
                    number: issue.number,
                });
            }
            gh.update_issue(
                issue.number,
                serde_json::json!({ "title": title, "body": body }),
            )
            .await?;
            Ok(Outcome::Updated {
                number: issue.number,
            })
        }
        None => {
            gh.ensure_label(input.label, LABEL_COLOR, LABEL_DESCRIPTION)
                .await?;
            let issue = gh.create_issue(&title, &body, &[input.label]).await?;
            Ok(Outcome::Opened {
                number: issue.number,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_round_trips_and_cannot_close_the_comment() {
        let mut s = AlertState::default();
        s.first_failed.insert(
            "nginx-1.26--debian-->".into(),
            Since {
                at: "2026-01-02T03:04:05Z".into(),
                run: Some("https://github.com/o/r/actions/runs/1".into()),
            },
        );
        let line = s.render();
        let inner = &line[STATE_PREFIX.len()..line.len() - 4];
        assert!(!inner.contains("--") && !inner.contains('>'), "{line}");
        let body = format!("x\n{line}\nmore");
        assert_eq!(AlertState::parse(&body), Some(s));
        assert_eq!(AlertState::parse("no state"), None);
    }
}
