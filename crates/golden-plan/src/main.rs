//! `golden-plan` command line. See README.md for the flags and their environment variables.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Parser;
use golden_contracts::Document;
use golden_gha::scaffold::Fatal;
use golden_plan::cli::{Cli, Command, Format, UpstreamsArgs};
use golden_plan::config::{self, RegistryOverride};
use golden_plan::diag::Diagnostics;
use golden_plan::expand::TagContext;
use golden_plan::{Event, PlanRequest, PreviousConfig, Rebuild, check, git, output, upstreams};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        // Registry requests: the async runtime and the TLS provider; the plan itself is sync.
        Some(Command::Upstreams(args)) => {
            let spec = golden_gha::scaffold::Spec {
                tool: "golden-plan",
                runtime: golden_gha::scaffold::Runtime::CurrentThread,
                tls: true,
                logs: None,
            };
            golden_gha::scaffold::run(
                spec,
                async move { run_upstreams(&args).await.map_err(Failure) },
            )
        }
        Some(Command::Runners(args)) => golden_gha::scaffold::run_sync("golden-plan", || {
            golden_plan::runners::run(&args).map_err(Failure)
        }),
        None => golden_gha::scaffold::run_sync("golden-plan", || run(cli).map_err(Failure)),
    }
}

/// golden-plan's fatal error: config diagnostics as annotations (file and line) and their
/// text; any other error as its chain, without annotation.
struct Failure(anyhow::Error);

impl Fatal for Failure {
    fn error(&self) -> &(dyn std::error::Error + 'static) {
        self.0.as_ref()
    }
    fn report(&self, _tool: &str) {
        if let Some(d) = self.0.downcast_ref::<Diagnostics>() {
            for x in &d.0 {
                x.annotate();
            }
            eprint!("{}", golden_gha::neutralize(&format!("error: {d}")));
        } else {
            golden_gha::print_error_chain("", self.error());
        }
    }
}

fn env_nonempty(k: &str) -> Option<String> {
    std::env::var(k).ok().filter(|v| !v.trim().is_empty())
}

fn filter(v: &[String]) -> Option<Vec<String>> {
    let v: Vec<String> = v
        .iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    if v.is_empty() || v.iter().any(|s| s == "all") {
        None
    } else {
        Some(v)
    }
}

fn read(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("failed to read `{}`", path.display()))
}

fn registry_override(cli: &Cli) -> anyhow::Result<RegistryOverride> {
    let mut o = RegistryOverride::default();
    let acr = match &cli.acr_config {
        Some(p) => Some(p.clone()),
        None => cli
            .config
            .parent()
            .map(|d| d.join("acr-config.env"))
            .filter(|p| p.is_file()),
    };
    if let Some(p) = acr {
        let text = read(&p)?;
        let pairs = config::parse_env_file(&p.display().to_string(), &text)
            .map_err(|d| Diagnostics(vec![d]))?;
        for (k, v) in pairs {
            match k.as_str() {
                "ACR_LOGIN_SERVER" if !v.is_empty() => o.host = Some(v),
                "IMAGE_NAMESPACE" if !v.is_empty() => o.namespace = Some(v),
                _ => {}
            }
        }
    }
    if let Some(h) = env_nonempty("GOLDEN_REGISTRY") {
        o.host = Some(h);
    }
    if let Some(n) = env_nonempty("GOLDEN_NAMESPACE") {
        o.namespace = Some(n);
    }
    o.staging = cli
        .staging_namespace
        .clone()
        .filter(|s| !s.trim().is_empty())
        .map(|s| s.trim().to_string());
    Ok(o)
}

fn tag_date(cli: &Cli) -> anyhow::Result<String> {
    if let Some(d) = &cli.date {
        if d.len() != 8 || !d.chars().all(|c| c.is_ascii_digit()) {
            bail!("--date `{d}` is not YYYYMMDD");
        }
        return Ok(d.clone());
    }
    let now = match env_nonempty("SOURCE_DATE_EPOCH") {
        Some(s) => {
            let secs: i64 = s
                .trim()
                .parse()
                .with_context(|| format!("SOURCE_DATE_EPOCH `{s}` is not a number of seconds"))?;
            chrono::DateTime::from_timestamp(secs, 0)
                .with_context(|| format!("SOURCE_DATE_EPOCH `{s}` is out of range"))?
        }
        None => chrono::Utc::now(),
    };
    Ok(now.format("%Y%m%d").to_string())
}

/// `--check`: the repository against the config (every file it names exists); plans nothing.
fn run_check(catalog: &config::Catalog, shown: &str, root: &Path) -> anyhow::Result<()> {
    let problems = check::check_repository(catalog, root);
    if !problems.is_empty() {
        return Err(Diagnostics(problems).into());
    }
    let platform_entries: usize = catalog
        .platforms
        .iter()
        .flat_map(|p| &p.versions)
        .map(|v| v.bases.len())
        .sum();
    print_stdout(&format!(
        "ok: {} is valid: {} bases, {} platforms, {} platform images; every referenced file exists under {}\n",
        shown,
        catalog.bases.len(),
        catalog.platforms.len(),
        platform_entries,
        root.display()
    ))
}

/// The changed files (sorted, without repeats) from `--changed-files` and `--base-ref`; `None`
/// when neither is given.
fn changed_files(cli: &Cli, root: &Path) -> anyhow::Result<Option<Vec<String>>> {
    let mut files: Vec<String> = Vec::new();
    if let Some(f) = &cli.changed_files {
        files.extend(read(f)?.lines().filter_map(golden_plan::changes::normalize));
    }
    if let Some(base) = &cli.base_ref {
        let diff = git::changed_files(root, base, &cli.head_ref).map_err(|e| {
            anyhow::anyhow!("{e}\n  hint: the base revision must be in the clone: use actions/checkout with `fetch-depth: 0` (or fetch the base ref)")
        })?;
        files.extend(diff);
    }
    if cli.changed_files.is_some() || cli.base_ref.is_some() {
        files.sort();
        files.dedup();
        return Ok(Some(files));
    }
    Ok(None)
}

/// The config before the change (from `--previous-config`, or the merge base with
/// `--base-ref`), for a plan where the config itself changed.
fn previous_config(
    cli: &Cli,
    root: &Path,
    config_rel: &str,
    overrides: &RegistryOverride,
) -> anyhow::Result<PreviousConfig> {
    let old_text = if let Some(p) = &cli.previous_config {
        Some(Some(read(p)?))
    } else if let Some(base) = &cli.base_ref {
        let r = git::merge_base(root, base, &cli.head_ref).unwrap_or_else(|| base.clone());
        Some(git::show(root, &r, config_rel)?)
    } else {
        None
    };
    Ok(match old_text {
        None => PreviousConfig::Unknown,
        Some(None) => PreviousConfig::Absent,
        Some(Some(t)) => match config::load_str(&format!("{config_rel} (previous)"), &t, overrides)
        {
            Ok(c) => PreviousConfig::Catalog(Box::new(c)),
            Err(d) => {
                PreviousConfig::Invalid(d.0.first().map(|x| x.message.clone()).unwrap_or_default())
            }
        },
    })
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let config_dir = cli
        .config
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let root = match &cli.repo_root {
        Some(r) => r.clone(),
        None => git::toplevel(config_dir).unwrap_or_else(|| PathBuf::from(".")),
    };
    let overrides = registry_override(&cli)?;
    let text = read(&cli.config).with_context(|| {
        format!(
            "no catalog to plan from\n  hint: pass --config (or GOLDEN_CONFIG) with the path of build-config.yaml; paths are relative to {}",
            std::env::current_dir().map(|d| d.display().to_string()).unwrap_or_default()
        )
    })?;
    let shown = cli.config.display().to_string();
    let catalog = config::load_str(&shown, &text, &overrides)?;

    if cli.check {
        return run_check(&catalog, &shown, &root);
    }

    let event = match cli.event {
        Some(e) => e,
        None => match env_nonempty(golden_gha::env::GITHUB_EVENT_NAME) {
            Some(n) => Event::parse(&n).with_context(|| {
                format!("GITHUB_EVENT_NAME `{n}` is not an event golden-plan plans for; pass --event (pull_request, push, schedule, workflow_dispatch, local)")
            })?,
            None => Event::Local,
        },
    };
    let rebuild = cli.rebuild.unwrap_or(event.default_rebuild());

    // Repository-relative config path, to spot it among the changed files.
    let abs_config = std::fs::canonicalize(&cli.config).unwrap_or(cli.config.clone());
    let abs_root = std::fs::canonicalize(&root).unwrap_or(root.clone());
    let config_rel = abs_config
        .strip_prefix(&abs_root)
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_else(|_| cli.config.to_string_lossy().into_owned());

    let changed = if rebuild == Rebuild::Changed {
        changed_files(&cli, &root)?
    } else {
        None
    };

    let previous = if changed.as_ref().is_some_and(|c| c.contains(&config_rel)) {
        previous_config(&cli, &root, &config_rel, &overrides)?
    } else {
        PreviousConfig::Unknown
    };

    let git_ref = cli
        .git_ref
        .clone()
        .or_else(|| env_nonempty(golden_gha::env::GITHUB_REF));
    let default_branch = match event {
        Event::Local | Event::Schedule => true,
        Event::PullRequest => false,
        Event::Push | Event::WorkflowDispatch => match &git_ref {
            Some(r) => r == &format!("refs/heads/{}", catalog.registry.default_branch),
            None => false,
        },
    };
    let pr = match cli.pr {
        Some(n) => Some(n),
        None if event == Event::PullRequest => {
            golden_gha::event::Event::from_env()?.and_then(|e| e.pr_number())
        }
        None => None,
    };
    let sha = cli
        .sha
        .clone()
        .or_else(|| env_nonempty(golden_gha::env::GITHUB_SHA))
        .or_else(|| git::head_sha(&root));
    let tags = TagContext {
        date: tag_date(&cli)?,
        sha,
        default_branch,
        pr,
    };

    let req = PlanRequest {
        catalog,
        config_rel,
        event,
        rebuild,
        changed,
        previous,
        os_filter: filter(&cli.os),
        platform_filter: filter(&cli.platforms),
        offline: cli.offline,
        tags,
        architectures: golden_plan::parse_architectures(&cli.architectures)?,
    };
    let plan = golden_plan::make_plan(&req)?;

    if let Some(out) = &cli.output {
        plan.write(out)?;
    }
    let format = cli.format.unwrap_or(if std::io::stdout().is_terminal() {
        Format::Table
    } else {
        Format::Json
    });
    let text = match format {
        Format::Json => serde_json::to_string_pretty(&plan)? + "\n",
        Format::Table => output::table(&plan),
    };
    print_stdout(&text)?;
    output::github_outputs(&plan)
        .write()
        .context("failed to write the step outputs")?;
    golden_gha::append_summary(&output::summary_markdown(&plan))
        .context("failed to write the step summary")?;
    Ok(())
}

/// `golden-plan upstreams`: the pinned upstream digests against their tags; `--write` pins the
/// current ones. Exit 0: all fresh, 1: some stale, 2: errors.
async fn run_upstreams(args: &UpstreamsArgs) -> anyhow::Result<u8> {
    let text = read(&args.config).with_context(|| {
        format!(
            "no catalog to check\n  hint: pass --config (or GOLDEN_CONFIG) with the path of build-config.yaml; paths are relative to {}",
            std::env::current_dir().map(|d| d.display().to_string()).unwrap_or_default()
        )
    })?;
    let shown = args.config.display().to_string();
    // The registry of the catalog is not read here: no override applies.
    let catalog = config::load_str(&shown, &text, &RegistryOverride::default())?;
    let map = upstreams::RegistryMap::parse(&args.registry_map)?;
    let architectures = golden_plan::parse_architectures(&args.architectures)?;
    let client = upstreams::client(args.retries)?;
    let mut report = upstreams::check(&client, &catalog, &map, &architectures).await;

    if args.write && report.stale > 0 {
        let new_text = upstreams::rewrite(&text, &report)?;
        // The rewritten catalog must still be valid, with exactly the new digests.
        let again = config::load_str(&shown, &new_text, &RegistryOverride::default())?;
        for (row, base) in report.rows.iter().zip(&again.bases) {
            let want = match (row.status, &row.current) {
                (upstreams::UpstreamStatus::Stale, Some(cur)) => cur.as_str(),
                _ => row.pinned.as_str(),
            };
            if !base.upstream.ends_with(&format!("@{want}")) {
                bail!(
                    "{shown}:{}: bases[{}].upstream: the rewritten line does not pin `{want}`; the config was not changed",
                    row.line,
                    row.index
                );
            }
        }
        golden_contracts::write_atomic(&args.config, new_text.as_bytes())?;
        report.written = true;
    }

    let format = args.format.unwrap_or(if std::io::stdout().is_terminal() {
        Format::Table
    } else {
        Format::Json
    });
    let out = match format {
        Format::Json => serde_json::to_string_pretty(&report)? + "\n",
        Format::Table => golden_gha::neutralize(&upstreams::text(&report)),
    };
    print_stdout(&out)?;
    // Inside Actions every stale or failed row is an annotation on its line: on stdout with the
    // text format, on stderr with JSON (stdout stays parseable; the runner reads both).
    for row in &report.rows {
        let level = match row.status {
            upstreams::UpstreamStatus::Fresh => continue,
            upstreams::UpstreamStatus::Stale => golden_gha::Level::Warning,
            upstreams::UpstreamStatus::Error => golden_gha::Level::Error,
        };
        if !golden_gha::in_actions() {
            // The text format lists the errors itself.
            if let (Format::Json, Some(e)) = (format, &row.error) {
                eprintln!("{}", golden_gha::neutralize(&format!("error: {e}")));
            }
            continue;
        }
        let at = golden_gha::Annotation {
            file: Some(&shown),
            line: (row.line > 0).then_some(row.line),
            col: None,
            title: Some("golden-plan upstreams"),
        };
        let msg = match &row.error {
            Some(e) => e.clone(),
            None => format!(
                "{}:{} moved: pinned {}, now {}",
                row.image,
                row.tag,
                row.pinned,
                row.current.as_deref().unwrap_or("-")
            ),
        };
        let line = golden_gha::annotation(level, &at, &msg);
        match format {
            Format::Table => println!("{line}"),
            Format::Json => eprintln!("{line}"),
        }
    }
    upstreams::github_outputs(&report)
        .write()
        .context("failed to write the step outputs")?;
    golden_gha::append_summary(&upstreams::summary_markdown(&report))
        .context("failed to write the step summary")?;
    Ok(report.exit_code())
}

/// Write to stdout; a closed pipe (`golden-plan | head`) is not an error.
fn print_stdout(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(anyhow::Error::new(e).context("failed to write to stdout")),
    }
}
