//! Integration tests of golden-report: fixtures, Markdown snapshots, inputs and outputs, and
//! the GitHub flows against an in-process fake GitHub API (wiremock) that asserts every request.

// Test helpers: a failed setup step should panic with its error.
#![allow(clippy::unwrap_used)]

mod fixtures;
mod github;
mod history;
mod inputs;
mod markdown;
mod monitoring;
mod multi_arch;
mod packages;
mod registry;
mod regress;
mod site;
mod webhook;

use golden_report::aggregate::Report;
use golden_report::app::{ReportConfig, build_report};
use golden_report::summary::RunInfo;
use std::path::{Path, PathBuf};

pub const NOW: &str = "2026-11-27T03:00:00Z";
pub const RUN_URL: &str = "https://github.com/octo-org/golden/actions/runs/4242";

/// A report configuration for `input`, with nothing talking to GitHub.
pub fn config(input: &Path, output: &Path) -> ReportConfig {
    ReportConfig {
        input: input.to_path_buf(),
        push_records: Vec::new(),
        output: output.to_path_buf(),
        baseline: None,
        baseline_registry: None,
        plan: None,
        pr: None,
        no_comment: true,
        comment_key: "golden-images:configs/build-config.yaml".into(),
        comment_file: output.join("pr-comment.json"),
        comment_author: None,
        alert: false,
        alert_key: "golden-images:configs/build-config.yaml".into(),
        alert_label: "golden-nightly-failure".into(),
        job_summary: false,
        fail_on_failure: false,
        regress: golden_report::regress::Settings::default(),
        fail_on_regression: false,
        webhooks: golden_report::webhook::Settings::default(),
        github: None,
        run: RunInfo {
            run_url: Some(RUN_URL.into()),
            ..RunInfo::default()
        },
        now: NOW.into(),
    }
}

/// Build the report of `input` (optionally against `baseline`).
pub fn report(input: &Path, baseline: Option<&Path>) -> Report {
    let out = tempfile::tempdir().unwrap();
    let mut cfg = config(input, out.path());
    cfg.baseline = baseline.map(Path::to_path_buf);
    build_report(&cfg).unwrap()
}

pub fn fixture(name: &str) -> PathBuf {
    fixtures::fixtures_dir().join(name)
}
