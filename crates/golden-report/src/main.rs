//! `golden-report`: aggregate a run's build records and scan reports (see the crate README).

use anyhow::{Context as _, Result, bail};
use clap::Parser;
use golden_gha::env as genv;
use golden_gha::scaffold::{Fatal, Logs, Runtime, Spec};
use golden_report::app::{self, PostConfig, ReportConfig};
use golden_report::cli::{Cli, Command, GitHubArgs, PostArgs, ReportArgs, ShipArgs, SiteArgs};
use golden_report::comment::default_key;
use golden_report::escape::{is_valid_marker_key, marker_key};
use golden_report::github::{DEFAULT_API_URL, GitHubSettings};
use golden_report::ship::{self, Auth, ShipConfig, Target};
use golden_report::summary::RunInfo;
use std::process::ExitCode;
use std::time::Duration;

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

/// The shipping settings from flags and the environment; checked before anything runs, and
/// every secret masked before any use.
fn ship_config(a: &ShipArgs) -> Result<ShipConfig> {
    let pushgateway = a
        .pushgateway
        .as_deref()
        .filter(|u| !u.trim().is_empty())
        .map(|u| Target::parse("--pushgateway (GOLDEN_PUSHGATEWAY)", u))
        .transpose()?;
    let otlp = a
        .otlp_endpoint
        .as_deref()
        .filter(|u| !u.trim().is_empty())
        .map(|u| Target::parse("--otlp-endpoint (GOLDEN_OTLP_ENDPOINT)", u))
        .transpose()?;
    // Checked (and masked) only when there is a Pushgateway to send them to.
    let pushgateway_auth = match &pushgateway {
        Some(t) => Auth::from_parts(
            var("GOLDEN_PUSHGATEWAY_USERNAME"),
            var("GOLDEN_PUSHGATEWAY_PASSWORD"),
            var("GOLDEN_PUSHGATEWAY_TOKEN"),
            t.url_basic.clone(),
        )?,
        None => Auth::None,
    };
    let otlp_headers = match var("GOLDEN_OTLP_HEADERS") {
        Some(h) => ship::parse_headers(&h)?,
        None => Vec::new(),
    };
    if a.pushgateway_job.trim().is_empty() {
        bail!(
            "--pushgateway-job (GOLDEN_PUSHGATEWAY_JOB) is empty: give the job label, e.g. `golden-images`"
        );
    }
    let cfg = ShipConfig {
        pushgateway,
        pushgateway_auth,
        job: a.pushgateway_job.clone(),
        otlp,
        otlp_headers,
        otlp_file: a.otlp_file.clone(),
        timeout: Duration::from_secs(a.ship_timeout.max(1)),
        attempts: 3,
        backoff: Duration::from_secs(1),
    };
    for s in cfg.secrets() {
        golden_gha::add_mask(&s);
    }
    Ok(cfg)
}

/// Ship the metrics; every failure is a warning and a log line, never the exit code.
async fn ship_metrics(cfg: &ShipConfig, output: &std::path::Path, run: &RunInfo, now: &str) {
    if cfg.is_empty() {
        return;
    }
    let path = output.join("metrics.prom");
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            warn_ship(&format!(
                "metrics not shipped: failed to read `{}`: {e}",
                path.display()
            ));
            return;
        }
    };
    match ship::ship(cfg, &text, run, ship::unix_nanos(now)).await {
        Ok(deliveries) => {
            for d in deliveries {
                if d.error.is_some() {
                    warn_ship(&d.describe());
                } else {
                    eprintln!("golden-report: {}", golden_gha::neutralize(&d.describe()));
                }
            }
        }
        Err(e) => warn_ship(&format!("metrics not shipped: {}", error_chain(&e))),
    }
}

fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(c) = src {
        s.push_str(&format!(": {c}"));
        src = c.source();
    }
    s
}

fn warn_ship(msg: &str) {
    let msg = golden_gha::neutralize(msg);
    golden_gha::annotate(
        golden_gha::Level::Warning,
        &golden_gha::Annotation::default(),
        &msg,
    );
    if golden_gha::in_actions() {
        // The annotation is the workflow command; the log line is for whoever reads the log.
        eprintln!("golden-report: warning: {msg}");
    }
}

async fn report(a: ReportArgs) -> Result<i32> {
    let ship_cfg = ship_config(&a.ship)?;
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
    // Mask the webhook URLs and the secret before anything could print them.
    for u in &a.webhook_url {
        golden_gha::add_mask(u.trim());
    }
    if let Some(s) = &a.webhook_secret {
        golden_gha::add_mask(s);
    }
    let webhooks = golden_report::webhook::Settings {
        receivers: golden_report::webhook::receivers(&a.webhook_url, &a.webhook_kind)?,
        secret: a.webhook_secret.clone().filter(|s| !s.is_empty()),
        catalog_url: golden_report::webhook::catalog_url(a.catalog_url.as_deref())?,
        state: a.alert_state.clone(),
        timeout: None,
        backoff: None,
    };
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
        regress: golden_report::regress::Settings {
            size_percent: a.regression_size_percent,
            build_time_percent: a.regression_build_time_percent,
            history: a.history.clone(),
        },
        fail_on_regression: a.fail_on_regression,
        webhooks,
        github: github_settings(&a.github),
        run: run_info(pr),
        now: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    };
    let out = app::run_report(&cfg).await?;
    ship_metrics(&ship_cfg, &cfg.output, &out.report.summary.run, &cfg.now).await;

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

fn site(a: SiteArgs) -> Result<i32> {
    let cfg = golden_report::site::SiteConfig {
        input: a.input,
        history: a.history,
        plan: a.plan,
        output: a.output,
        run: run_info(None),
        now: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    };
    app::run_site(&cfg)?;
    Ok(0)
}

async fn history(a: golden_report::cli::HistoryArgs) -> Result<i32> {
    use golden_report::history;
    let image = golden_registry::Reference::parse(&a.image).map_err(|e| {
        anyhow::anyhow!(
            "`{}` is not an image reference (REGISTRY/REPOSITORY:TAG or @DIGEST): {e}",
            a.image
        )
    })?;
    let client = history::client_for(&image).map_err(anyhow::Error::msg)?;
    let h = history::history(&client, &image)
        .await
        .map_err(anyhow::Error::msg)?;
    if let Some(path) = &a.record {
        let mut text = serde_json::to_string_pretty(&h)?;
        text.push('\n');
        golden_contracts::write_atomic(path, text.as_bytes())
            .with_context(|| format!("failed to write `{}`", path.display()))?;
    }
    if a.format == "json" {
        println!("{}", serde_json::to_string_pretty(&h)?);
    } else {
        print!("{}", history::render(&h));
    }
    Ok(0)
}

async fn run(cli: Cli) -> Result<i32> {
    match cli.command {
        Some(Command::PostComment(a)) => post(a).await,
        Some(Command::Site(a)) => site(a),
        Some(Command::History(a)) => history(a).await,
        None => report(cli.report).await,
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let spec = Spec {
        tool: "golden-report",
        runtime: Runtime::CurrentThread,
        tls: true,
        logs: Some(Logs {
            filter_env: "GOLDEN_LOG",
            time_and_target: true,
        }),
    };
    golden_gha::scaffold::run(spec, async { run(cli).await.map_err(Failure) })
}

/// golden-report's fatal error: the whole chain on one neutralised `error:` line, no
/// annotation.
struct Failure(anyhow::Error);

impl Fatal for Failure {
    fn error(&self) -> &(dyn std::error::Error + 'static) {
        self.0.as_ref()
    }
    fn report(&self, _tool: &str) {
        eprintln!(
            "error: {}",
            golden_gha::neutralize(&format!("{:#}", self.0))
        );
    }
}
