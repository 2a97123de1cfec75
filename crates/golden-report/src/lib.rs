//! `golden-report`: turns the build records and scan reports of a whole run into
//! - one sticky PR comment (hidden marker, updated in place, trimmed under 65,536 characters),
//!   rendered by [`pr_comment`] from validated data; when the token cannot write (fork PRs) the
//!   data, not Markdown, goes to `pr-comment.json` for a `workflow_run` poster that renders it,
//! - the job summary (under 1 MiB),
//! - `summary.json` (versioned, [`summary::RunSummary`]) and `metrics.prom` (OpenMetrics),
//! - a nightly alert issue (one per key, updated while failing, closed when green),
//! - regressions versus the baseline and the build-time history ([`regress`]),
//! - one message per change of the failure state to Teams, Slack or a json receiver
//!   ([`webhook`], deduplicated by a state file, retried, never changing the exit code),
//! - optionally the metrics shipped to a Prometheus Pushgateway and an OTLP/HTTP receiver
//!   ([`ship`]; a failed delivery is a warning, never a failed run),
//!
//! with a diff against a baseline: the previous run's reports ([`baseline`]) or the reports
//! attached to the published tags ([`registry`]).
//!
//! Modules follow the data: [`discover`] finds documents, [`aggregate`] groups them per image
//! (with [`baseline`] diffs), [`arch_rows`] groups a multi-arch run's entries into one row per
//! image, [`markdown`] / [`metrics`] render ([`packages`]: the package counts per ecosystem
//! that the job summary and the PR comment both show), [`github`] talks to GitHub for
//! [`comment`] and [`alert`], [`app`] strings it together for the binary, whose flags are in
//! [`cli`] ([`Cli`]).
//!
//! Architecture invariant: this is the only crate that speaks to the GitHub API; untrusted text
//! reaches Markdown only through [`escape`].

pub mod aggregate;
pub mod alert;
pub mod app;
pub mod arch_rows;
pub mod baseline;
pub mod cli;
pub mod comment;
pub mod comment_file;
pub mod discover;
pub mod escape;
pub mod github;
pub mod history;
pub mod markdown;
mod markdown_arch;
pub mod metrics;
pub mod packages;
pub mod pr_comment;
mod pr_comment_arch;
pub mod registry;
pub mod regress;
pub mod ship;
pub mod site;
pub mod summary;
pub mod webhook;

pub use cli::Cli;
