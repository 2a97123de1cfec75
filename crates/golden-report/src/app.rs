//! The two commands, as library functions: `report` (the default) and `post-comment`.

use golden_contracts::Document;
use golden_contracts::plan::Plan;
use golden_gha::{Annotation, Level};
use std::path::{Path, PathBuf};

use crate::aggregate::{Context, Report, aggregate};
use crate::baseline::{Baseline, DirBaseline};
use crate::comment::{self, Author};
use crate::comment_file::CommentFile;
use crate::discover::Discovery;
use crate::github::{GitHub, GitHubSettings};
use crate::markdown::{RenderOptions, render};
use crate::pr_comment::{self, CommentData};
use crate::summary::RunInfo;
use crate::{alert, metrics};

/// Everything `golden-report` (the report command) needs; `main` fills it from flags and the
/// environment.
#[derive(Debug, Clone)]
pub struct ReportConfig {
    pub input: PathBuf,
    /// More folders with push/index records (only those are taken from them).
    pub push_records: Vec<PathBuf>,
    pub output: PathBuf,
    pub baseline: Option<PathBuf>,
    /// Take the baseline from the reports attached to the published tags, with these
    /// artifact types (`--baseline-registry`).
    pub baseline_registry: Option<Vec<String>>,
    pub plan: Option<PathBuf>,
    pub pr: Option<u64>,
    pub no_comment: bool,
    pub comment_key: String,
    pub comment_file: PathBuf,
    pub comment_author: Option<String>,
    pub alert: bool,
    pub alert_key: String,
    pub alert_label: String,
    pub job_summary: bool,
    pub fail_on_failure: bool,
    /// Regression thresholds and the history folder ([`crate::regress`]).
    pub regress: crate::regress::Settings,
    /// Exit 1 when any regression was found (`--fail-on-regression`).
    pub fail_on_regression: bool,
    /// Webhook receivers and the dedupe state ([`crate::webhook`]); none: no message.
    pub webhooks: crate::webhook::Settings,
    pub github: Option<GitHubSettings>,
    pub run: RunInfo,
    /// RFC 3339 time of this run.
    pub now: String,
}

/// What happened, for the exit code and the step outputs.
#[derive(Debug, Clone)]
pub struct ReportOutcome {
    pub report: Report,
    pub comment: Option<String>,
    pub comment_file_written: Option<PathBuf>,
    pub alert: Option<String>,
    pub exit_code: i32,
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Discover(#[from] crate::discover::DiscoverError),
    #[error("failed to read the plan")]
    Plan(#[source] golden_contracts::DocError),
    #[error("failed to write `{path}`")]
    Write {
        path: PathBuf,
        #[source]
        source: golden_contracts::DocError,
    },
    #[error(transparent)]
    CommentFile(#[from] crate::comment_file::CommentFileError),
    #[error(transparent)]
    GitHub(#[from] crate::github::GhError),
    #[error(transparent)]
    Gha(#[from] golden_gha::GhaError),
    #[error("failed to set up the registry client for --baseline-registry")]
    Registry(#[source] golden_registry::RegistryError),
    #[error(
        "the nightly alert needs GITHUB_TOKEN (with `issues: write`) and GITHUB_REPOSITORY; pass --no-alert to skip it"
    )]
    AlertWithoutGitHub,
    #[error(
        "posting a comment needs GITHUB_TOKEN (with `pull-requests: write`) and GITHUB_REPOSITORY"
    )]
    PostWithoutGitHub,
    #[error(
        "refusing to post: pull request #{pr} has head commit {actual}, but the run that wrote the comment built {expected} (the comment file names another pull request)"
    )]
    HeadMismatch {
        pr: u64,
        expected: String,
        actual: String,
    },
}

fn notice(msg: &str) {
    golden_gha::annotate(Level::Notice, &Annotation::default(), msg);
}

fn warning(msg: &str) {
    golden_gha::annotate(Level::Warning, &Annotation::default(), msg);
}

fn write(path: &Path, text: &str) -> Result<(), AppError> {
    golden_contracts::write_atomic(path, text.as_bytes()).map_err(|source| AppError::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// Whose marker comment may be updated: `--comment-author`, else the token's user, else any bot.
async fn comment_author(gh: &GitHub, login: Option<&str>) -> Author {
    match login {
        Some(l) => Author::Login(l.to_string()),
        None => gh
            .current_login()
            .await
            .map_or(Author::AnyBot, Author::Login),
    }
}

/// Read the inputs and build the report (no output written), with the baseline folder if any
/// (a registry baseline is loaded by [`run_report`]).
pub fn build_report(cfg: &ReportConfig) -> Result<Report, AppError> {
    let (found, plan) = read_inputs(cfg)?;
    assemble(cfg, found, plan, None)
}

/// The documents under the input folder and the plan: read once per run.
fn read_inputs(cfg: &ReportConfig) -> Result<(Discovery, Option<Plan>), AppError> {
    let mut found = crate::discover::discover(&cfg.input)?;
    let input = std::fs::canonicalize(&cfg.input).ok();
    for dir in &cfg.push_records {
        if !dir.is_dir() || std::fs::canonicalize(dir).ok() == input {
            continue;
        }
        let more = crate::discover::discover(dir)?;
        found.pushes.extend(more.pushes);
        found.indexes.extend(more.indexes);
    }
    let plan = match &cfg.plan {
        Some(p) => Some(Plan::read(p).map_err(AppError::Plan)?),
        None => None,
    };
    Ok((found, plan))
}

/// Aggregate against the registry baseline when one was loaded, else the baseline folder.
fn assemble(
    cfg: &ReportConfig,
    found: Discovery,
    plan: Option<Plan>,
    registry: Option<Baseline>,
) -> Result<Report, AppError> {
    let mut extra = Vec::new();
    let baseline = match (registry, &cfg.baseline) {
        (Some(b), _) => Some(b),
        (None, Some(dir)) => match crate::baseline::from_dir(dir)? {
            DirBaseline::Loaded(b) => Some(b),
            DirBaseline::Absent(p) => {
                extra.push(p);
                None
            }
        },
        (None, None) => None,
    };
    let mut report = aggregate(
        found,
        baseline.as_ref(),
        Context {
            input: cfg.input.display().to_string(),
            generated_at: cfg.now.clone(),
            run: cfg.run.clone(),
            plan,
            extra_problems: extra,
        },
    );
    let history = cfg
        .regress
        .history
        .as_deref()
        .map(crate::regress::read_history);
    crate::regress::apply(
        &mut report.summary,
        baseline.as_ref(),
        history.as_ref(),
        &cfg.regress,
    );
    Ok(report)
}

/// The baseline from the registry: the reports attached to each image's published tag.
async fn registry_baseline(
    found: &Discovery,
    plan: Option<&Plan>,
    artifact_types: &[String],
) -> Result<Baseline, AppError> {
    let subjects = crate::registry::subjects(found, plan);
    // The catalog's own registries (from the plan, made from the repository's config) may
    // receive the pull credential; any other host a document names is read anonymously.
    let auth_hosts: Vec<String> = plan
        .into_iter()
        .flat_map(|p| p.entries())
        .filter_map(|e| e.image.split_once('/').map(|(host, _)| host.to_string()))
        .filter(|h| h.contains('.') || h.contains(':') || h == "localhost")
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let client = golden_registry::Client::new(golden_registry::ClientOptions {
        auth_hosts,
        ..golden_registry::ClientOptions::default()
    })
    .map_err(AppError::Registry)?;
    Ok(crate::registry::load(&client, &subjects, artifact_types).await)
}

/// The report command.
pub async fn run_report(cfg: &ReportConfig) -> Result<ReportOutcome, AppError> {
    let (found, plan) = read_inputs(cfg)?;
    let registry = match &cfg.baseline_registry {
        Some(types) => Some(registry_baseline(&found, plan.as_ref(), types).await?),
        None => None,
    };
    let mut report = assemble(cfg, found, plan, registry)?;
    let run_url = cfg.run.run_url.clone();

    // People first hear of it here; a receiver that fails is a problem in summary.json, never
    // an error.
    if !cfg.webhooks.receivers.is_empty() {
        let problems = crate::webhook::notify(&cfg.webhooks, &report.summary).await;
        report.summary.problems.extend(problems);
    }

    // Files first: whatever happens with GitHub, the data is on disk.
    let summary_path = cfg.output.join("summary.json");
    report
        .summary
        .write(&summary_path)
        .map_err(|source| AppError::Write {
            path: summary_path.clone(),
            source,
        })?;
    write(
        &cfg.output.join("metrics.prom"),
        &metrics::render(&report.summary),
    )?;
    write(
        &cfg.output.join("summary.md"),
        &render(&report, &RenderOptions::unlimited(run_url.clone())),
    )?;

    if cfg.job_summary {
        let md = render(&report, &RenderOptions::job_summary(run_url.clone()));
        golden_gha::append_summary(&md)?;
    }

    let gh = match &cfg.github {
        // The token was masked when GitHubSettings wrapped it.
        Some(s) => Some(GitHub::new(s.clone())?),
        None => None,
    };

    let mut outcome = ReportOutcome {
        report,
        comment: None,
        comment_file_written: None,
        alert: None,
        exit_code: 0,
    };

    if let Some(pr) = cfg.pr.filter(|_| !cfg.no_comment) {
        // One renderer for both paths: the same data a fork hands to the poster.
        let data = CommentData::from_report(&outcome.report);
        let marker_len = comment::marker(&cfg.comment_key).chars().count() + 1;
        let md = pr_comment::render(&data, run_url.as_deref(), marker_len);
        let body = comment::body(&cfg.comment_key, &md);
        let file = CommentFile::new(pr, cfg.comment_key.clone(), data);
        match &gh {
            None => {
                file.write(&cfg.comment_file)?;
                notice(&format!(
                    "no GITHUB_TOKEN/GITHUB_REPOSITORY: the comment for #{pr} was written to {} for a workflow_run poster (`golden-report post-comment --file ...`)",
                    cfg.comment_file.display()
                ));
                outcome.comment_file_written = Some(cfg.comment_file.clone());
            }
            Some(gh) => {
                let author = comment_author(gh, cfg.comment_author.as_deref()).await;
                match comment::upsert(gh, pr, &cfg.comment_key, &body, &author).await {
                    Ok(o) => {
                        eprintln!("golden-report: {}", o.describe(pr));
                        outcome.comment = o.url().map(str::to_string);
                    }
                    Err(e) if e.is_forbidden() => {
                        file.write(&cfg.comment_file)?;
                        notice(&format!(
                            "cannot comment on #{pr} with this token ({e}). The comment was written to {}: upload it as an artifact and post it from a workflow_run job with `golden-report post-comment --file pr-comment.json`",
                            cfg.comment_file.display()
                        ));
                        outcome.comment_file_written = Some(cfg.comment_file.clone());
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        }
    }

    if cfg.alert {
        let Some(gh) = &gh else {
            return Err(AppError::AlertWithoutGitHub);
        };
        let input = alert::AlertInput {
            key: &cfg.alert_key,
            label: &cfg.alert_label,
            report: &outcome.report,
            now: &cfg.now,
            run_url: run_url.as_deref(),
        };
        let o = alert::run(gh, &input).await?;
        eprintln!("golden-report: {}", o.describe());
        outcome.alert = Some(o.describe());
    }

    if cfg.fail_on_failure && outcome.report.any_failed() {
        outcome.exit_code = 1;
    }
    if cfg.fail_on_regression && !outcome.report.summary.regressions.is_empty() {
        outcome.exit_code = 1;
    }
    Ok(outcome)
}

/// Settings for `post-comment`.
#[derive(Debug, Clone)]
pub struct PostConfig {
    pub file: PathBuf,
    /// The head commit of the run that wrote the file (`github.event.workflow_run.head_sha`):
    /// the PR must have this head, or the file names someone else's PR.
    pub head_sha: Option<String>,
    /// The triggering run's page, built by the poster from trusted values (never from the
    /// file): linked from the comment.
    pub run_url: Option<String>,
    pub comment_author: Option<String>,
    pub github: Option<GitHubSettings>,
}

/// The `post-comment` command: validate the file from an untrusted run, then upsert.
pub async fn run_post(cfg: &PostConfig) -> Result<String, AppError> {
    let file = CommentFile::read(&cfg.file)?;
    let Some(settings) = &cfg.github else {
        return Err(AppError::PostWithoutGitHub);
    };
    let gh = GitHub::new(settings.clone())?;
    match &cfg.head_sha {
        Some(expected) => {
            let pr = gh.get_pull(file.pr).await?;
            if !pr.head.sha.eq_ignore_ascii_case(expected.trim()) {
                return Err(AppError::HeadMismatch {
                    pr: file.pr,
                    expected: expected.clone(),
                    actual: pr.head.sha,
                });
            }
        }
        None => warning(
            "post-comment without --head-sha: the pull request number in the file is not checked against the run that wrote it",
        ),
    }
    let author = comment_author(&gh, cfg.comment_author.as_deref()).await;
    let marker_len = comment::marker(&file.key).chars().count() + 1;
    let md = pr_comment::render(&file.data, cfg.run_url.as_deref(), marker_len);
    let body = comment::body(&file.key, &md);
    let o = comment::upsert(&gh, file.pr, &file.key, &body, &author).await?;
    Ok(o.describe(file.pr))
}

/// The `site` command: write the catalog, print where it is and what was skipped. An input
/// with no image at all is an error, never an empty catalog replacing a good one.
pub fn run_site(
    cfg: &crate::site::SiteConfig,
) -> Result<crate::site::SiteOutcome, crate::site::SiteError> {
    let out = crate::site::write_site(cfg)?;
    for p in &out.problems {
        let at = p
            .path
            .as_deref()
            .map(|x| format!("{x}: "))
            .unwrap_or_default();
        warning(&format!("{at}{}", p.message));
    }
    eprintln!(
        "golden-report: catalog of {} image{} ({} pages, {} bytes of pages, {} bytes with the downloads, {} run{} of history) written to {}",
        out.images,
        if out.images == 1 { "" } else { "s" },
        out.pages,
        out.page_bytes,
        out.bytes,
        out.history_runs,
        if out.history_runs == 1 { "" } else { "s" },
        cfg.output.display()
    );
    Ok(out)
}
