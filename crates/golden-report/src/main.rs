//! `golden-report`: aggregate a run's build records and scan reports (see the crate README).

use anyhow::{Context as _, Result, bail};
use clap::builder::BoolishValueParser;
use clap::{ArgAction, Args, Parser, Subcommand};
use golden_gha::env as genv;
use golden_report::app::{self, PostConfig, ReportConfig};
use golden_report::comment::default_key;
use golden_report::escape::{is_valid_marker_key, marker_key};
use golden_report::github::{DEFAULT_API_URL, GitHubSettings};
use golden_report::summary::RunInfo;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, Parser)]
#[command(
    name = "golden-report",
    version,
    about = "Aggregate build records and scan reports into a sticky PR comment, job summary, summary.json, metrics.prom and a nightly alert issue",
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    report: ReportArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Post a comment written by a pull-request run that could not post it (fork PRs); run it
    /// from a `workflow_run` job. The file is validated first: it comes from an untrusted run.
    PostComment(PostArgs),
}

#[derive(Debug, Args)]
struct ReportArgs {
    /// Folder searched recursively for build records and scan reports (the downloaded artifacts).
    #[arg(long, env = "GOLDEN_INPUT", value_name = "DIR")]
    input: Option<PathBuf>,
    /// More folders searched for golden-push's push and index records (`*push-record.json`,
    /// `*index-record.json`) besides --input; one per line. They give the `digests` output.
    #[arg(
        long = "push-records",
        env = "GOLDEN_PUSH_RECORDS",
        value_name = "DIR",
        value_delimiter = '\n'
    )]
    push_records: Vec<PathBuf>,
    /// Where summary.json, metrics.prom and summary.md are written.
    #[arg(
        long,
        env = "GOLDEN_OUTPUT",
        value_name = "DIR",
        default_value = "reports"
    )]
    output: PathBuf,
    /// The previous run's reports, to diff against (new/fixed vulnerabilities, size, packages).
    #[arg(long, env = "GOLDEN_BASELINE", value_name = "DIR")]
    baseline: Option<PathBuf>,
    /// Compare with the reports attached (OCI referrers) to the published tag of each image.
    #[arg(long, env = "GOLDEN_BASELINE_REGISTRY", action = ArgAction::SetTrue, value_parser = BoolishValueParser::new())]
    baseline_registry: bool,
    /// Artifact types read with --baseline-registry (comma-separated).
    #[arg(
        long,
        env = "GOLDEN_BASELINE_ARTIFACT_TYPES",
        value_name = "TYPES",
        value_delimiter = ',',
        default_values_t = [
            golden_report::registry::SCAN_REPORT_ARTIFACT_TYPE.to_string(),
            golden_report::registry::BUILD_RECORD_ARTIFACT_TYPE.to_string()
        ]
    )]
    baseline_artifact_types: Vec<String>,
    /// The plan of this run: planned images without any document are reported as missing.
    #[arg(long, env = "GOLDEN_PLAN", value_name = "FILE")]
    plan: Option<PathBuf>,
    /// Pull request to comment on (default: from the event payload).
    #[arg(long, env = "GOLDEN_PR", value_name = "N")]
    pr: Option<u64>,
    /// Do not comment on the pull request.
    #[arg(long, env = "GOLDEN_NO_COMMENT", action = ArgAction::SetTrue, value_parser = BoolishValueParser::new())]
    no_comment: bool,
    /// Key of the hidden marker (default: from GITHUB_WORKFLOW and --config), so several
    /// sticky comments can coexist on one PR.
    #[arg(long, env = "GOLDEN_COMMENT_KEY", value_name = "KEY")]
    comment_key: Option<String>,
    /// Where the comment goes when the token cannot post it [default: <output>/pr-comment.json].
    #[arg(long, env = "GOLDEN_COMMENT_FILE", value_name = "FILE")]
    comment_file: Option<PathBuf>,
    /// Login whose comments may be updated (default: the token's user, else any bot account).
    #[arg(long, env = "GOLDEN_COMMENT_AUTHOR", value_name = "LOGIN")]
    comment_author: Option<String>,
    /// Config path, only used in the default comment key.
    #[arg(
        long,
        env = "GOLDEN_CONFIG",
        value_name = "PATH",
        default_value = "configs/build-config.yaml"
    )]
    config: String,
    /// Open/update/close the nightly alert issue (automatic on `schedule` events).
    #[arg(long, env = "GOLDEN_ALERT", action = ArgAction::SetTrue, value_parser = BoolishValueParser::new())]
    alert: bool,
    /// Never touch the alert issue, even on `schedule` events.
    #[arg(long, env = "GOLDEN_NO_ALERT", action = ArgAction::SetTrue, value_parser = BoolishValueParser::new())]
    no_alert: bool,
    /// Label of the alert issue (created when missing).
    #[arg(
        long,
        env = "GOLDEN_ALERT_LABEL",
        value_name = "LABEL",
        default_value = golden_report::alert::DEFAULT_LABEL
    )]
    alert_label: String,
    /// Do not append to $GITHUB_STEP_SUMMARY.
    #[arg(long, env = "GOLDEN_NO_JOB_SUMMARY", action = ArgAction::SetTrue, value_parser = BoolishValueParser::new())]
    no_job_summary: bool,
    /// Exit 1 when any image failed its build or policy, or its documents are missing.
    #[arg(long, env = "GOLDEN_FAIL_ON_FAILURE", action = ArgAction::SetTrue, value_parser = BoolishValueParser::new())]
    fail_on_failure: bool,
    #[command(flatten)]
    github: GitHubArgs,
}

#[derive(Debug, Args)]
struct GitHubArgs {
    /// `owner/name` [default: $GITHUB_REPOSITORY].
    #[arg(long, env = "GOLDEN_REPOSITORY", value_name = "OWNER/NAME")]
    repository: Option<String>,
    /// GitHub API URL [default: $GITHUB_API_URL, else https://api.github.com].
    #[arg(long, env = "GOLDEN_API_URL", value_name = "URL")]
    api_url: Option<String>,
    /// Longest wait for a GitHub rate limit to reset, in seconds.
    #[arg(
        long,
        env = "GOLDEN_RATE_LIMIT_MAX_WAIT",
        value_name = "SECS",
        default_value_t = 900
    )]
    rate_limit_max_wait: u64,
}

#[derive(Debug, Args)]
struct PostArgs {
    /// The `pr-comment.json` written by the pull-request run.
    #[arg(long, env = "GOLDEN_COMMENT_FILE", value_name = "FILE")]
    file: PathBuf,
    /// Head commit of the run that wrote the file; the pull request must have it [default:
    /// `workflow_run.head_sha` of the event payload, on workflow_run events].
    #[arg(long, env = "GOLDEN_HEAD_SHA", value_name = "SHA")]
    head_sha: Option<String>,
    /// Id of the run that wrote the file, linked from the comment as
    /// `$GITHUB_SERVER_URL/$GITHUB_REPOSITORY/actions/runs/<id>` [default: `workflow_run.id` of
    /// the event payload, on workflow_run events].
    #[arg(long, env = "GOLDEN_RUN_ID", value_name = "ID")]
    run_id: Option<u64>,
    /// Login whose comments may be updated (default: the token's user, else any bot account).
    #[arg(long, env = "GOLDEN_COMMENT_AUTHOR", value_name = "LOGIN")]
    comment_author: Option<String>,
    #[command(flatten)]
    github: GitHubArgs,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn github_settings(a: &GitHubArgs) -> Option<GitHubSettings> {
    let token = var(genv::GITHUB_TOKEN)?;
    let repository = a
        .repository
        .clone()
        .or_else(|| var(genv::GITHUB_REPOSITORY))?;
    let api_url = a
        .api_url
        .clone()
        .or_else(|| var(genv::GITHUB_API_URL))
        .unwrap_or_else(|| DEFAULT_API_URL.to_string());
    let mut s = GitHubSettings::new(api_url, token, repository);
    s.max_rate_limit_wait = Duration::from_secs(a.rate_limit_max_wait);
    Some(s)
}

fn run_info(pr: Option<u64>) -> RunInfo {
    let repository = var(genv::GITHUB_REPOSITORY);
    let run_url = match (
        var(genv::GITHUB_SERVER_URL),
        repository.as_deref(),
        var(genv::GITHUB_RUN_ID),
    ) {
        (Some(server), Some(repo), Some(id)) => Some(format!(
            "{}/{repo}/actions/runs/{id}",
            server.trim_end_matches('/')
        )),
        _ => None,
    };
    RunInfo {
        repository,
        workflow: var(genv::GITHUB_WORKFLOW),
        event: var(genv::GITHUB_EVENT_NAME),
        sha: var(genv::GITHUB_SHA),
        run_url,
        pull_request: pr,
    }
}

async fn report(a: ReportArgs) -> Result<i32> {
    let Some(input) = a.input.clone() else {
        bail!(
            "no input folder: pass --input DIR (or GOLDEN_INPUT) with the downloaded build records and scan reports"
        );
    };
    if a.alert && a.no_alert {
        bail!(
            "--alert and --no-alert (GOLDEN_ALERT, GOLDEN_NO_ALERT) contradict each other: set one"
        );
    }
    if a.baseline_registry && a.baseline.is_some() {
        bail!(
            "--baseline DIR and --baseline-registry (GOLDEN_BASELINE, GOLDEN_BASELINE_REGISTRY) are two baselines: set one"
        );
    }
    let event_name = var(genv::GITHUB_EVENT_NAME);
    let event = match golden_gha::event::Event::from_env() {
        Ok(e) => e,
        Err(e) => {
            golden_gha::annotate(
                golden_gha::Level::Warning,
                &golden_gha::Annotation::default(),
                &format!("{e:#}; the pull request number is unknown unless --pr is given"),
            );
            None
        }
    };
    let pr = a.pr.or_else(|| event.as_ref().and_then(|e| e.pr_number()));
    let workflow = var(genv::GITHUB_WORKFLOW);
    let comment_key = match &a.comment_key {
        Some(k) => {
            let k2 = marker_key(k);
            if !is_valid_marker_key(k) {
                eprintln!("golden-report: comment key `{k}` normalised to `{k2}`");
            }
            k2
        }
        None => default_key(workflow.as_deref(), &a.config),
    };
    let alert = a.alert || (event_name.as_deref() == Some("schedule") && !a.no_alert);
    let cfg = ReportConfig {
        comment_file: a
            .comment_file
            .clone()
            .unwrap_or_else(|| a.output.join("pr-comment.json")),
        input,
        push_records: a.push_records.clone(),
        output: a.output.clone(),
        baseline: a.baseline.clone(),
        baseline_registry: a
            .baseline_registry
            .then(|| a.baseline_artifact_types.clone()),
        plan: a.plan.clone(),
        pr,
        no_comment: a.no_comment,
        alert_key: comment_key.clone(),
        comment_key,
        comment_author: a.comment_author.clone(),
        alert,
        alert_label: a.alert_label.clone(),
        job_summary: !a.no_job_summary,
        fail_on_failure: a.fail_on_failure,
        github: github_settings(&a.github),
        run: run_info(pr),
        now: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    };
    let out = app::run_report(&cfg).await?;

    let t = &out.report.summary.totals;
    {
        // Image ids and problems come from the inputs: fence them from the runner.
        let fence = golden_gha::Fence::open();
        for i in &out.report.summary.images {
            fence.line(&golden_gha::neutralize(&format!(
                "{:<13} {}",
                i.status.as_str(),
                i.id
            )));
        }
        for p in &out.report.summary.problems {
            fence.line(&golden_gha::neutralize(&format!(
                "problem: {}{}",
                p.path
                    .as_deref()
                    .map(|x| format!("{x}: "))
                    .unwrap_or_default(),
                p.message
            )));
        }
    }
    eprintln!(
        "golden-report: {} images, {} ok, {} failed, {} problems; wrote {}",
        t.images,
        t.ok,
        t.failed,
        t.problems,
        cfg.output.display()
    );
    let mut outputs = golden_gha::Outputs::new();
    outputs
        .set(
            "status",
            if out.report.any_failed() {
                "failed"
            } else {
                "passed"
            },
        )
        .set("images", t.images.to_string())
        .set("failed", t.failed.to_string())
        .set(
            "summary",
            serde_json::to_string(&serde_json::json!({
                "status": if out.report.any_failed() { "failed" } else { "passed" },
                "totals": &out.report.summary.totals,
                "images": out.report.summary.images.iter().map(|i| serde_json::json!({
                    "id": i.id,
                    "status": i.status,
                    "digest": i.digest,
                })).collect::<Vec<_>>(),
            }))
            .context("failed to render the summary output")?,
        )
        .set(
            "digests",
            serde_json::to_string(&out.report.digests)
                .context("failed to render the digests output")?,
        )
        .set(
            "summary-json",
            cfg.output.join("summary.json").display().to_string(),
        )
        .set(
            "metrics",
            cfg.output.join("metrics.prom").display().to_string(),
        )
        .set("comment-url", out.comment.clone().unwrap_or_default())
        .set(
            "comment-file",
            out.comment_file_written
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
        );
    outputs.write().context("failed to write step outputs")?;
    Ok(out.exit_code)
}

async fn post(a: PostArgs) -> Result<i32> {
    let event = if a.head_sha.is_none() || a.run_id.is_none() {
        golden_gha::event::Event::from_env().context("failed to read the event payload")?
    } else {
        None
    };
    // Default: the head commit and id of the triggering run when this is a workflow_run event.
    let run_id = a
        .run_id
        .or_else(|| event.as_ref().and_then(|e| e.workflow_run_id()));
    let run_url = match (
        var(genv::GITHUB_SERVER_URL),
        var(genv::GITHUB_REPOSITORY),
        run_id,
    ) {
        (Some(server), Some(repo), Some(id)) => Some(format!(
            "{}/{repo}/actions/runs/{id}",
            server.trim_end_matches('/')
        )),
        _ => None,
    };
    let cfg = PostConfig {
        file: a.file.clone(),
        head_sha: match &a.head_sha {
            Some(s) => Some(s.clone()),
            None => event
                .as_ref()
                .and_then(|e| e.workflow_run_head_sha().map(str::to_string)),
        },
        run_url,
        comment_author: a.comment_author.clone(),
        github: github_settings(&a.github),
    };
    let msg = app::run_post(&cfg).await?;
    eprintln!("golden-report: {msg}");
    Ok(0)
}

async fn run(cli: Cli) -> Result<i32> {
    match cli.command {
        Some(Command::PostComment(a)) => post(a).await,
        None => report(cli.report).await,
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("GOLDEN_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .try_init();
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: failed to start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match rt.block_on(run(cli)) {
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(2)),
        Err(e) => {
            eprintln!("error: {}", golden_gha::neutralize(&format!("{e:#}")));
            ExitCode::from(2)
        }
    }
}
