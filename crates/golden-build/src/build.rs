//! One build: resolve the job, chain the base, stream the context, follow the log, tag, inspect,
//! and always leave a build record (also for a failure).

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::Path;
use std::time::Instant;

use futures_util::StreamExt;
use golden_contracts::Document;
use golden_contracts::build::{BUILD_RECORD_SCHEMA, BuildRecord, BuildResult, CacheSources};
use golden_contracts::units::human_bytes;
use golden_engine::{BuildEvent, BuildOptions, Engine, EngineError};

#[cfg(test)]
use crate::base::BaseError;
use crate::base::{BaseOptions, ResolvedBase};
use crate::bootstrap;
use crate::context::{ChannelWriter, Context, ContextError};
use crate::emulation;
use crate::labels::{self, Env, LabelInputs};
use crate::logs::{self, LogSink};
pub use crate::outcome::{BuildError, Built, error_chain};
use crate::spec::{Job, Mode, Options, SpecError};

/// Collected while the build runs, so a failure record carries what was known.
#[derive(Debug, Default)]
struct Draft {
    id: Option<String>,
    os: Option<String>,
    platform: Option<String>,
    version: Option<String>,
    labels: BTreeMap<String, String>,
    base: Option<ResolvedBase>,
    tags_applied: Vec<String>,
    /// The architecture built for, once the job is resolved.
    arch: Option<&'static str>,
    /// The `--cache-from` sources: used and missing.
    cache: Option<CacheSources>,
}

/// Run a build command: resolve the job (`resolve`, timed and recorded with the build), build,
/// write the record (also on failure) and the step outputs.
pub async fn run(
    resolve: impl FnOnce() -> Result<Job, SpecError>,
    opts: &Options,
    cwd: &Path,
    env: Env<'_>,
) -> Result<BuildRecord, BuildError> {
    let started = chrono::Utc::now();
    let t0 = Instant::now();
    let mut draft = Draft {
        id: opts.id.clone(),
        ..Draft::default()
    };
    let result = build(resolve, opts, env, &mut draft).await;
    let duration = t0.elapsed().as_secs_f64();
    let id = draft
        .id
        .clone()
        .or_else(|| opts.id.clone())
        .unwrap_or_else(|| "unknown".into());
    let mut record = BuildRecord {
        schema: BUILD_RECORD_SCHEMA,
        id,
        os: draft.os.clone(),
        platform: draft.platform.clone(),
        version: draft.version.clone(),
        result: BuildResult::Success,
        arch: Some(
            draft
                .arch
                .unwrap_or_else(golden_contracts::build::host_arch)
                .to_string(),
        ),
        image_id: None,
        tags: draft.tags_applied.clone(),
        size: None,
        duration_seconds: (duration * 1000.0).round() / 1000.0,
        started_at: started.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        base_image: draft.base.as_ref().map(|b| b.reference.clone()),
        base_digest: draft.base.as_ref().map(|b| b.digest.clone()),
        labels: draft.labels.clone(),
        cache: draft.cache.clone(),
        error: None,
    };
    match &result {
        Ok(b) => {
            record.image_id = Some(b.image_id.clone());
            record.size = Some(b.size);
            record.tags = b.tags.clone();
        }
        Err(e) => {
            record.result = BuildResult::Failure;
            record.error = Some(e.record_error());
        }
    }
    if let Some(path) = &opts.record {
        record.write(&cwd.join(path)).map_err(BuildError::Record)?;
    }
    let mut out = golden_gha::Outputs::new();
    out.set(
        "result",
        match record.result {
            BuildResult::Success => "success",
            BuildResult::Failure => "failure",
        },
    );
    if let Ok(b) = &result {
        out.set("image-id", b.image_id.clone())
            .set("size", b.size.to_string())
            .set("tags", b.tags.join("\n"));
    }
    if let Some(base) = &draft.base {
        out.set("base-image-id", base.build_arg.clone())
            .set("base-digest", base.digest.clone());
    }
    out.set("duration", format!("{:.1}", record.duration_seconds));
    if let Some(path) = &opts.record {
        out.set("record", cwd.join(path).display().to_string());
    }
    out.write().map_err(BuildError::Outputs)?;
    result.map(|_| record)
}

async fn build(
    resolve: impl FnOnce() -> Result<Job, SpecError>,
    opts: &Options,
    env: Env<'_>,
    draft: &mut Draft,
) -> Result<Built, BuildError> {
    let job = resolve()?;
    draft.id = Some(job.id.clone());
    draft.os = job.os();
    draft.platform = job.platform();
    draft.version = job.version.clone();
    draft.arch = Some(job.arch.as_str());

    // git answers in a few milliseconds per call: ask it on a thread while the context is
    // prepared and the engine is connected.
    let revision_env = labels::revision_from_env(env);
    let source_env = labels::source_from_env(env);
    let git = ask_git(&job, revision_env.is_none(), source_env.is_none());
    let mut inputs = LabelInputs {
        created: labels::created(env)?,
        revision: revision_env,
        source: source_env,
        version: job.version.clone(),
        title: job.title.clone(),
        entry: job.entry_labels.clone(),
        base: None,
        cli: job.cli_labels.clone(),
    };
    draft.labels = labels::assemble(&inputs);
    let clamp = labels::source_date_epoch(env)?;

    // Everything that can be checked without the engine is checked before connecting (a
    // bootstrap never reads the context).
    let context = (opts.mode != Mode::Bootstrap)
        .then(|| Context::prepare(&job.context_dir, &job.dockerfile_at, clamp))
        .transpose()
        .map_err(|source| BuildError::Context {
            dir: job.context_dir.clone(),
            source,
        })?;

    let engine = Engine::connect().await?;
    check_emulation(&engine, &job)?;
    if let Some(pending) = git {
        // Without a thread (the system refused one) ask git here.
        let (rev, src) = match pending {
            Ok(handle) => handle.join().unwrap_or_default(),
            Err(ask) => ask(),
        };
        inputs.revision = inputs.revision.take().or(rev);
        inputs.source = inputs.source.take().or(src);
    }

    let bootstrap_now = bootstrap_now(&engine, &job, opts.mode).await;
    let mut context = match context {
        Some(c) if !bootstrap_now => c,
        // `--mode bootstrap` (no context was prepared), or auto mode without the upstream.
        _ => return run_bootstrap(&engine, &job, opts, inputs, draft).await,
    };

    if let Some(reference) = &job.base_ref {
        let base = crate::base::resolve_base(&engine, reference, &base_options(&job, opts)).await?;
        if let Some(policy) = &opts.verify_policy {
            crate::verify_base::check(&job, opts, policy, &base).await?;
        }
        let found = engine.inspect_image(&base.build_arg).await?.architecture;
        emulation::check_image_arch("base image", reference, found.as_deref(), job.arch)?;
        inputs.base = Some((base.name.clone(), base.digest.clone()));
        draft.base = Some(base);
    }
    let labels = labels::assemble(&inputs);
    draft.labels = labels.clone();

    // --pull with a resolved base: BASE_IMAGE is an image id the engine would try to pull from
    // Docker Hub, so golden-build pulls the other FROM images itself (the base was refreshed
    // by resolve_base unless it is rebuilt in this run).
    let resolved_base = draft.base.is_some();
    if opts.pull && resolved_base {
        let text = std::fs::read_to_string(&job.dockerfile).unwrap_or_default();
        crate::pull::pull_from_images(&engine, &text, &base_options(&job, opts)).await?;
    }

    // Cache sources are pulled like the base (same credential resolution, bound to each
    // source's registry); a missing one is a warning, never a failure.
    let cache = crate::cache::prepare(
        &engine,
        &opts.cache_from,
        opts.no_cache,
        &base_options(&job, opts),
    )
    .await;
    let cache_from = cache.as_ref().map(|c| c.used.clone()).unwrap_or_default();
    draft.cache = cache;

    let options = BuildOptions {
        dockerfile: context.dockerfile_name().to_string(),
        tag: job.tags.first().cloned(),
        build_args: engine_build_args(&job, draft.base.as_ref(), clamp),
        labels: engine_labels(&job, labels, &mut context),
        target: job.target.clone(),
        no_cache: opts.no_cache,
        pull: opts.pull && !resolved_base,
        cache_from,
    };
    let image_id = run_engine_build(&engine, &job, context, &options, opts.quiet).await?;
    finish_build(&engine, &job, opts, image_id, draft).await
}

/// A build for a foreign architecture needs emulation on the engine's machine: checked here,
/// before anything is sent (a remote engine cannot be checked from here: said, not failed).
fn check_emulation(engine: &Engine, job: &Job) -> Result<(), emulation::EmulationError> {
    if !job.foreign {
        return Ok(());
    }
    match emulation::check_for_engine(job.arch, engine.host()) {
        Some(r) => r?,
        None => eprintln!(
            "note: the engine {} is not on this machine: whether it runs {} binaries is not checked before the build",
            engine.host(),
            job.arch.as_str()
        ),
    }
    eprintln!(
        "building {} for {} under emulation (qemu-user-static); tags carry -{}",
        job.id,
        job.arch.as_str(),
        job.arch.as_str()
    );
    Ok(())
}

/// What git says about the revision and the source, when the environment did not say it.
type GitAnswer = (Option<String>, Option<String>);

/// Ask git for what the environment did not give, on a thread; `Err` holds the question when
/// the system refused a thread. `None` when nothing is wanted.
fn ask_git(
    job: &Job,
    want_rev: bool,
    want_src: bool,
) -> Option<Result<std::thread::JoinHandle<GitAnswer>, impl FnOnce() -> GitAnswer + use<>>> {
    (want_rev || want_src).then(|| {
        let root = job.repo_root.clone();
        let ask = move || {
            let rev = want_rev.then(|| labels::git_revision(&root)).flatten();
            let src = want_src.then(|| labels::git_source(&root)).flatten();
            (rev, src)
        };
        std::thread::Builder::new()
            .name("git".into())
            .spawn(ask.clone())
            .map_err(|_| ask)
    })
}

/// Whether this build runs the bootstrap script instead of the Dockerfile.
async fn bootstrap_now(engine: &Engine, job: &Job, mode: Mode) -> bool {
    match mode {
        Mode::Bootstrap => true,
        Mode::Dockerfile => false,
        Mode::Auto => match (&job.bootstrap, &job.upstream) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(_), Some(up)) => matches!(
                engine.inspect_image(up).await,
                Err(EngineError::ImageNotFound(_))
            ),
        },
    }
}

/// Build the Debian base with the bootstrap script instead of the Dockerfile.
async fn run_bootstrap(
    engine: &Engine,
    job: &Job,
    opts: &Options,
    mut inputs: LabelInputs,
    draft: &mut Draft,
) -> Result<Built, BuildError> {
    // A bootstrapped image is built from the Debian archive, not FROM the upstream
    // image the plan names: it gets no base labels (unless given with --label).
    inputs.entry.remove(labels::BASE_NAME);
    inputs.entry.remove(labels::BASE_DIGEST);
    let labels = labels::assemble(&inputs);
    draft.labels = labels.clone();
    let built = bootstrap::run(engine, job, opts, &labels).await?;
    draft.tags_applied = built.tags.clone();
    Ok(built)
}

/// How to find (or pull) the job's base image.
fn base_options(job: &Job, opts: &Options) -> BaseOptions {
    BaseOptions {
        pull: !opts.no_pull_base,
        auth: opts.auth,
        vars: std::env::vars().collect(),
        own_registries: job
            .tags
            .iter()
            .filter(|t| crate::base::names_registry(t))
            .filter_map(|t| golden_oci::Reference::parse(t).ok())
            .map(|r| r.registry)
            .collect(),
        rebuilt_in_run: job.base_in_run,
        base_entry: job.entry.as_ref().and_then(|e| e.base.clone()),
        os: job.os(),
        quiet: opts.quiet,
        refresh: opts.pull,
    }
}

/// The job's build args, with the resolved base and (when the Dockerfile declares it)
/// `SOURCE_DATE_EPOCH`.
fn engine_build_args(
    job: &Job,
    base: Option<&ResolvedBase>,
    clamp: Option<u64>,
) -> BTreeMap<String, String> {
    let mut build_args = job.build_args.clone();
    if let Some(b) = base {
        build_args.insert(job.base_arg.clone(), b.build_arg.clone());
    }
    // Reproducible builds: hand SOURCE_DATE_EPOCH to Dockerfiles that declare it.
    if let Some(epoch) = clamp
        && !build_args.contains_key("SOURCE_DATE_EPOCH")
        && declares_arg(&job.dockerfile, "SOURCE_DATE_EPOCH")
    {
        build_args.insert("SOURCE_DATE_EPOCH".into(), epoch.to_string());
    }
    build_args
}

/// The labels to hand the engine: none when they went into the Dockerfile as one LABEL
/// instruction instead of the engine's one step per label (see `with_label_instruction`); with
/// --target the engine must place them in that stage.
fn engine_labels(
    job: &Job,
    labels: BTreeMap<String, String>,
    context: &mut Context,
) -> BTreeMap<String, String> {
    match job.target {
        Some(_) => labels,
        None => {
            let text = std::fs::read_to_string(&job.dockerfile).ok();
            match text
                .as_deref()
                .and_then(|t| labels::with_label_instruction(t, &labels))
            {
                Some(df) => {
                    context.replace_dockerfile(df.into_bytes());
                    BTreeMap::new()
                }
                None => labels,
            }
        }
    }
}

/// Apply the other tags, inspect the image and report it.
async fn finish_build(
    engine: &Engine,
    job: &Job,
    opts: &Options,
    image_id: String,
    draft: &mut Draft,
) -> Result<Built, BuildError> {
    // The engine applied the first tag; the record lists what was applied even if one fails.
    draft.tags_applied = job.tags.iter().take(1).cloned().collect();
    for tag in job.tags.iter().skip(1) {
        engine.tag_image(&image_id, tag).await?;
        draft.tags_applied.push(tag.clone());
    }
    let image = engine.inspect_image(&image_id).await?;
    emulation::check_image_arch("image", &image_id, image.architecture.as_deref(), job.arch)?;
    let size = u64::try_from(image.size.unwrap_or(0)).unwrap_or(0);
    if opts.quiet {
        println!("{image_id}");
    }
    eprintln!(
        "built {} as {} ({}){}",
        job.id,
        short_id(&image_id),
        human_bytes(size),
        if job.tags.is_empty() {
            String::new()
        } else {
            format!(": {}", job.tags.join(", "))
        }
    );
    Ok(Built {
        image_id,
        size,
        tags: job.tags.clone(),
    })
}

/// True when the Dockerfile has `ARG NAME` (with or without a default).
fn declares_arg(dockerfile: &Path, name: &str) -> bool {
    std::fs::read_to_string(dockerfile).is_ok_and(|text| {
        text.lines().any(|l| {
            let mut w = l.split_whitespace();
            w.next().is_some_and(|i| i.eq_ignore_ascii_case("ARG"))
                && w.next().is_some_and(|a| a.split('=').next() == Some(name))
        })
    })
}

fn short_id(id: &str) -> &str {
    let hex = id.strip_prefix("sha256:").unwrap_or(id);
    &hex[..hex.len().min(12)]
}

/// Stream the context, follow the build output, and return the image id.
async fn run_engine_build(
    engine: &Engine,
    job: &Job,
    context: Context,
    options: &BuildOptions,
    quiet: bool,
) -> Result<String, BuildError> {
    let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<bytes::Bytes>>(8);
    let progress = std::io::stderr().is_terminal() && !golden_gha::in_actions();
    let dir = context.root().to_path_buf();
    let writer = tokio::task::spawn_blocking(move || {
        let t = Instant::now();
        let mut w = ChannelWriter::new(tx, progress);
        let r = context.write_tar(&mut w);
        w.clear_progress();
        match &r {
            Ok(stats) => eprintln!(
                "sent build context: {} entries, {} in {:.2}s",
                stats.entries,
                human_bytes(stats.bytes),
                t.elapsed().as_secs_f64()
            ),
            Err(ContextError::Aborted) => {}
            Err(e) => w.fail(&e.to_string()),
        }
        r
    });
    let body = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });

    let mut sink = LogSink::start(&format!("golden-build {}", job.id), quiet);
    let mut image_id = None;
    let mut failure: Option<String> = None;
    let mut transport: Option<EngineError> = None;
    {
        let stream = engine.build_image(options, body);
        futures_util::pin_mut!(stream);
        while let Some(event) = stream.next().await {
            match event {
                Ok(BuildEvent::Output(text)) => sink.push(&text),
                Ok(BuildEvent::Status {
                    id,
                    status,
                    progress,
                }) => sink.status(id.as_deref(), &status, progress),
                Ok(BuildEvent::ImageId(id)) => image_id = Some(id),
                Err(EngineError::BuildFailed { message }) => {
                    failure = Some(message);
                    break;
                }
                Err(e) => {
                    transport = Some(e);
                    break;
                }
            }
        }
    }
    sink.finish();
    // The context writer's own error (an unreadable file) explains a broken request best.
    match writer.await.map_err(BuildError::ContextThread)? {
        Err(ContextError::Aborted) | Ok(_) => {}
        Err(source) => return Err(BuildError::Context { dir, source }),
    }
    if let Some(message) = failure {
        let step = sink.step().map(str::to_string);
        let location = step
            .as_deref()
            .and_then(logs::step_number)
            .and_then(|n| {
                let text = std::fs::read_to_string(&job.dockerfile).ok()?;
                logs::step_line(&text, n)
            })
            .map(|line| (job.dockerfile_shown.clone(), line));
        return Err(BuildError::Failed {
            id: job.id.clone(),
            step,
            location,
            message: message.trim().to_string(),
            last_lines: sink.tail(),
        });
    }
    if let Some(e) = transport {
        return Err(e.into());
    }
    match image_id {
        Some(id) => Ok(id),
        None => {
            // Older engines only print `Successfully built <short id>`.
            let short = sink.tail().iter().rev().find_map(|l| {
                l.strip_prefix("Successfully built ")
                    .map(|s| s.trim().to_string())
            });
            match short {
                Some(s) => Ok(engine.inspect_image(&s).await?.id.unwrap_or(s)),
                None => Err(BuildError::NoImageId(job.id.clone())),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_message_names_step_location_and_tail() {
        let e = BuildError::Failed {
            id: "x".into(),
            step: Some("Step 3/4 : RUN exit 3".into()),
            location: Some(("Dockerfile".into(), 7)),
            message: "The command '/bin/sh -c exit 3' returned a non-zero code: 3".into(),
            last_lines: vec!["a".into(), "b".into()],
        };
        let s = e.to_string();
        assert!(
            s.starts_with(
                "build of `x` failed at `Step 3/4 : RUN exit 3` (Dockerfile:7): The command"
            ),
            "{s}"
        );
        assert!(s.ends_with("last 2 lines of output:\n  | a\n  | b"), "{s}");
        let r = e.record_error();
        assert_eq!(r.step.as_deref(), Some("Step 3/4 : RUN exit 3"));
        assert_eq!(r.last_lines, ["a", "b"]);
    }

    #[test]
    fn other_failures_are_recorded_with_their_whole_chain() {
        let e = BuildError::Base(BaseError::PullDisabled {
            reference: "r/base:1".into(),
            base_hint: String::new(),
        });
        let r = e.record_error();
        assert!(
            r.message.contains("`r/base:1` is not in the engine"),
            "{}",
            r.message
        );
        assert!(r.step.is_none() && r.last_lines.is_empty());
        let e = BuildError::Context {
            dir: "ctx".into(),
            source: ContextError::Aborted,
        };
        let r = e.record_error();
        assert_eq!(
            r.message,
            "failed to prepare the build context `ctx`: the engine stopped reading the build context"
        );
        let e = BuildError::Bootstrap(bootstrap::BootstrapError::Failed {
            id: "base-debian".into(),
            script: "s.sh".into(),
            status: "exit status: 2".into(),
            last_lines: vec!["E: boom".into()],
        });
        let r = e.record_error();
        assert_eq!(r.step.as_deref(), Some("bootstrap"));
        assert_eq!(r.last_lines, ["E: boom"]);
    }

    #[test]
    fn digest_is_stripped_from_base_name() {
        use crate::base::strip_digest;
        assert_eq!(strip_digest("a/b:1@sha256:00"), "a/b:1");
        assert_eq!(strip_digest("sha256:abc"), "sha256:abc");
        assert_eq!(short_id("sha256:0123456789abcdef"), "0123456789ab");
    }
}
