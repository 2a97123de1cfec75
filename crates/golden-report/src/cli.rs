//! `golden-report` command line (clap derive). Every flag can also come from a `GOLDEN_*`
//! environment variable; see README.md and docs/environment.md.

use std::path::PathBuf;

use clap::builder::BoolishValueParser;
use clap::{ArgAction, Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "golden-report",
    version,
    about = "Aggregate build records and scan reports into a sticky PR comment, job summary, summary.json, metrics.prom and a nightly alert issue",
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub report: ReportArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Post a comment written by a pull-request run that could not post it (fork PRs); run it
    /// from a `workflow_run` job. The file is validated first: it comes from an untrusted run.
    PostComment(PostArgs),
    /// Render the golden image catalog: a static site (index, one page per image, history
    /// charts, downloads) from the same documents the report reads. Self-contained: no
    /// request leaves a page; works from file:// and under a GitHub Pages sub-path.
    Site(SiteArgs),
    /// An image's timeline from its OCI referrers: built, scanned, signed, promoted (with the
    /// environment and approver), replicated, documents attached.
    History(HistoryArgs),
}

#[derive(Debug, Args)]
pub struct SiteArgs {
    /// Folder searched recursively for build records, scan reports, push and index records
    /// (the downloaded artifacts, or `reports/` of `make local`).
    #[arg(long, env = "GOLDEN_INPUT", value_name = "DIR")]
    pub input: PathBuf,
    /// Earlier runs' summary.json files (searched at any depth; a published site's
    /// `history/` works) for the size and vulnerability charts; an unreadable file is a
    /// warning.
    #[arg(long, env = "GOLDEN_HISTORY", value_name = "DIR")]
    pub history: Option<PathBuf>,
    /// The run's plan: planned images without documents are listed as missing, and each image
    /// page links its Dockerfile at the built commit.
    #[arg(long, env = "GOLDEN_PLAN", value_name = "FILE")]
    pub plan: Option<PathBuf>,
    /// Folder the site is written to (replaced as a whole, only when it is empty or an
    /// earlier site).
    #[arg(
        long,
        env = "GOLDEN_SITE_OUTPUT",
        value_name = "DIR",
        default_value = "site"
    )]
    pub output: PathBuf,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// The image, REGISTRY/REPOSITORY:TAG or @DIGEST.
    #[arg(env = "GOLDEN_HISTORY_IMAGE")]
    pub image: String,
    /// `text` (a timeline for people) or `json`.
    #[arg(long, env = "GOLDEN_HISTORY_FORMAT", default_value = "text", value_parser = ["text", "json"])]
    pub format: String,
    /// Also write the timeline as JSON to FILE (what scripts read).
    #[arg(long, env = "GOLDEN_HISTORY_RECORD", value_name = "FILE")]
    pub record: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Folder searched recursively for build records and scan reports (the downloaded artifacts).
    #[arg(long, env = "GOLDEN_INPUT", value_name = "DIR")]
    pub input: Option<PathBuf>,
    /// More folders searched for golden-push's push and index records (`*push-record.json`,
    /// `*index-record.json`) besides --input; one per line. They give the `digests` output.
    #[arg(
        long = "push-records",
        env = "GOLDEN_PUSH_RECORDS",
        value_name = "DIR",
        value_delimiter = '\n'
    )]
    pub push_records: Vec<PathBuf>,
    /// Where summary.json, metrics.prom and summary.md are written.
    #[arg(
        long,
        env = "GOLDEN_OUTPUT",
        value_name = "DIR",
        default_value = "reports"
    )]
    pub output: PathBuf,
    /// The previous run's reports, to diff against (new/fixed vulnerabilities, size, packages).
    #[arg(long, env = "GOLDEN_BASELINE", value_name = "DIR")]
    pub baseline: Option<PathBuf>,
    /// Compare with the reports attached (OCI referrers) to the published tag of each image.
    #[arg(long, env = "GOLDEN_BASELINE_REGISTRY", action = ArgAction::SetTrue, value_parser = BoolishValueParser::new())]
    pub baseline_registry: bool,
    /// Artifact types read with --baseline-registry (comma-separated).
    #[arg(
        long,
        env = "GOLDEN_BASELINE_ARTIFACT_TYPES",
        value_name = "TYPES",
        value_delimiter = ',',
        default_values_t = [
            crate::registry::SCAN_REPORT_ARTIFACT_TYPE.to_string(),
            crate::registry::BUILD_RECORD_ARTIFACT_TYPE.to_string()
        ]
    )]
    pub baseline_artifact_types: Vec<String>,
    /// The plan of this run: planned images without any document are reported as missing.
    #[arg(long, env = "GOLDEN_PLAN", value_name = "FILE")]
    pub plan: Option<PathBuf>,
    /// Pull request to comment on (default: from the event payload).
    #[arg(long, env = "GOLDEN_PR", value_name = "N")]
    pub pr: Option<u64>,
    /// Do not comment on the pull request.
    #[arg(long, env = "GOLDEN_NO_COMMENT", action = ArgAction::SetTrue, value_parser = BoolishValueParser::new())]
    pub no_comment: bool,
    /// Key of the hidden marker (default: from GITHUB_WORKFLOW and --config), so several
    /// sticky comments can coexist on one PR.
    #[arg(long, env = "GOLDEN_COMMENT_KEY", value_name = "KEY")]
    pub comment_key: Option<String>,
    /// Where the comment goes when the token cannot post it [default: <output>/pr-comment.json].
    #[arg(long, env = "GOLDEN_COMMENT_FILE", value_name = "FILE")]
    pub comment_file: Option<PathBuf>,
    /// Login whose comments may be updated (default: the token's user, else any bot account).
    #[arg(long, env = "GOLDEN_COMMENT_AUTHOR", value_name = "LOGIN")]
    pub comment_author: Option<String>,
    /// Config path, only used in the default comment key.
    #[arg(
        long,
        env = "GOLDEN_CONFIG",
        value_name = "PATH",
        default_value = "configs/build-config.yaml"
    )]
    pub config: String,
    /// Open/update/close the nightly alert issue (automatic on `schedule` events).
    #[arg(long, env = "GOLDEN_ALERT", action = ArgAction::SetTrue, value_parser = BoolishValueParser::new())]
    pub alert: bool,
    /// Never touch the alert issue, even on `schedule` events.
    #[arg(long, env = "GOLDEN_NO_ALERT", action = ArgAction::SetTrue, value_parser = BoolishValueParser::new())]
    pub no_alert: bool,
    /// Label of the alert issue (created when missing).
    #[arg(
        long,
        env = "GOLDEN_ALERT_LABEL",
        value_name = "LABEL",
        default_value = crate::alert::DEFAULT_LABEL
    )]
    pub alert_label: String,
    /// Do not append to $GITHUB_STEP_SUMMARY.
    #[arg(long, env = "GOLDEN_NO_JOB_SUMMARY", action = ArgAction::SetTrue, value_parser = BoolishValueParser::new())]
    pub no_job_summary: bool,
    /// Exit 1 when any image failed its build or policy, or its documents are missing.
    #[arg(long, env = "GOLDEN_FAIL_ON_FAILURE", action = ArgAction::SetTrue, value_parser = BoolishValueParser::new())]
    pub fail_on_failure: bool,
    /// A size regression: the image grew by more than this percentage of the baseline image
    /// (exactly the threshold is not a regression).
    #[arg(
        long,
        env = "GOLDEN_REGRESSION_SIZE_PERCENT",
        value_name = "PERCENT",
        default_value_t = crate::regress::DEFAULT_SIZE_PERCENT,
        value_parser = parse_percent
    )]
    pub regression_size_percent: f64,
    /// A build-time regression: the build took more than this percentage over the median of
    /// the earlier builds (--history and the baseline), and at least 30 s more.
    #[arg(
        long,
        env = "GOLDEN_REGRESSION_BUILD_TIME_PERCENT",
        value_name = "PERCENT",
        default_value_t = crate::regress::DEFAULT_BUILD_TIME_PERCENT,
        value_parser = parse_percent
    )]
    pub regression_build_time_percent: f64,
    /// Earlier runs' summary.json files (searched at any depth) for the build-time median; an
    /// unreadable file is a warning.
    #[arg(long, env = "GOLDEN_HISTORY", value_name = "DIR")]
    pub history: Option<PathBuf>,
    /// Exit 1 when any regression was found (regressions never fail the policy).
    #[arg(long, env = "GOLDEN_FAIL_ON_REGRESSION", action = ArgAction::SetTrue, value_parser = BoolishValueParser::new())]
    pub fail_on_regression: bool,
    /// Send one message per run to this webhook when the failure state changes; repeatable.
    /// The URL is a secret: only its host is ever printed.
    #[arg(
        long = "webhook-url",
        env = "GOLDEN_WEBHOOK_URL",
        value_name = "URL",
        value_delimiter = '\n',
        hide_env_values = true
    )]
    pub webhook_url: Vec<String>,
    /// Payload of each --webhook-url (`teams`, `slack`, `json`): one kind for every URL, or
    /// one per URL in the same order.
    #[arg(
        long = "webhook-kind",
        env = "GOLDEN_WEBHOOK_KIND",
        value_name = "KIND",
        value_delimiter = ',',
        default_value = "json"
    )]
    pub webhook_kind: Vec<crate::webhook::WebhookKind>,
    /// HMAC-SHA256 key signing json webhook bodies (`X-Golden-Signature-256`).
    #[arg(
        long,
        env = "GOLDEN_WEBHOOK_SECRET",
        value_name = "SECRET",
        hide_env_values = true
    )]
    pub webhook_secret: Option<String>,
    /// The image catalog page, linked from webhook messages.
    #[arg(long, env = "GOLDEN_CATALOG_URL", value_name = "URL")]
    pub catalog_url: Option<String>,
    /// Dedupe state of the webhook alerts, kept between runs (read if present, written
    /// atomically); without it every failing run sends.
    #[arg(long, env = "GOLDEN_ALERT_STATE", value_name = "FILE")]
    pub alert_state: Option<PathBuf>,
    #[command(flatten)]
    pub ship: ShipArgs,
    #[command(flatten)]
    pub github: GitHubArgs,
}

/// A percentage threshold: a finite number, 0 or more.
fn parse_percent(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .trim()
        .trim_end_matches('%')
        .parse()
        .map_err(|_| format!("`{s}` is not a number (e.g. 10 or 12.5)"))?;
    if !v.is_finite() || v < 0.0 {
        return Err(format!("`{s}` must be a percentage of 0 or more"));
    }
    Ok(v)
}

/// Shipping metrics.prom (docs/monitoring.md). Credentials come from the environment only:
/// GOLDEN_PUSHGATEWAY_USERNAME + GOLDEN_PUSHGATEWAY_PASSWORD or GOLDEN_PUSHGATEWAY_TOKEN, and
/// GOLDEN_OTLP_HEADERS (`k=v,k2=v2`).
#[derive(Debug, Args)]
pub struct ShipArgs {
    /// Prometheus Pushgateway to PUT the metrics to after the report is written, one group
    /// per image plus a run-level group; a failed delivery is a warning, never a failed run.
    #[arg(long, env = "GOLDEN_PUSHGATEWAY", value_name = "URL")]
    pub pushgateway: Option<String>,
    /// The `job` grouping label of the pushed groups.
    #[arg(
        long,
        env = "GOLDEN_PUSHGATEWAY_JOB",
        value_name = "JOB",
        default_value = crate::ship::DEFAULT_JOB
    )]
    pub pushgateway_job: String,
    /// OTLP/HTTP endpoint to POST the metrics to as JSON (`/v1/metrics` appended when the URL
    /// has no path); a failed delivery is a warning, never a failed run.
    #[arg(long, env = "GOLDEN_OTLP_ENDPOINT", value_name = "URL")]
    pub otlp_endpoint: Option<String>,
    /// Also write the OTLP JSON payload to this file.
    #[arg(long, env = "GOLDEN_OTLP_FILE", value_name = "FILE")]
    pub otlp_file: Option<PathBuf>,
    /// Timeout of each request to the Pushgateway or the OTLP endpoint, in seconds (3
    /// attempts each).
    #[arg(
        long,
        env = "GOLDEN_SHIP_TIMEOUT",
        value_name = "SECS",
        default_value_t = 10
    )]
    pub ship_timeout: u64,
}

#[derive(Debug, Args)]
pub struct GitHubArgs {
    /// `owner/name` [default: $GITHUB_REPOSITORY].
    #[arg(long, env = "GOLDEN_REPOSITORY", value_name = "OWNER/NAME")]
    pub repository: Option<String>,
    /// GitHub API URL [default: $GITHUB_API_URL, else https://api.github.com].
    #[arg(long, env = "GOLDEN_API_URL", value_name = "URL")]
    pub api_url: Option<String>,
    /// Longest wait for a GitHub rate limit to reset, in seconds.
    #[arg(
        long,
        env = "GOLDEN_RATE_LIMIT_MAX_WAIT",
        value_name = "SECS",
        default_value_t = 900
    )]
    pub rate_limit_max_wait: u64,
}

#[derive(Debug, Args)]
pub struct PostArgs {
    /// The `pr-comment.json` written by the pull-request run.
    #[arg(long, env = "GOLDEN_COMMENT_FILE", value_name = "FILE")]
    pub file: PathBuf,
    /// Head commit of the run that wrote the file; the pull request must have it [default:
    /// `workflow_run.head_sha` of the event payload, on workflow_run events].
    #[arg(long, env = "GOLDEN_HEAD_SHA", value_name = "SHA")]
    pub head_sha: Option<String>,
    /// Id of the run that wrote the file, linked from the comment as
    /// `$GITHUB_SERVER_URL/$GITHUB_REPOSITORY/actions/runs/<id>` [default: `workflow_run.id` of
    /// the event payload, on workflow_run events].
    #[arg(long, env = "GOLDEN_RUN_ID", value_name = "ID")]
    pub run_id: Option<u64>,
    /// Login whose comments may be updated (default: the token's user, else any bot account).
    #[arg(long, env = "GOLDEN_COMMENT_AUTHOR", value_name = "LOGIN")]
    pub comment_author: Option<String>,
    #[command(flatten)]
    pub github: GitHubArgs,
}
