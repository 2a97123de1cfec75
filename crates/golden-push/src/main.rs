//! `golden-push`: parse flags (each also from a `GOLDEN_*` variable), run, print the error
//! chain, exit 0 (success) or 2 (usage or runtime error).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::builder::BoolishValueParser;
use clap::{Args, Parser, Subcommand, ValueEnum};
use golden_oci::Reference;
use golden_push::{Error, Log, Result, copy, parse_annotations, push, split_list};
use golden_registry::{AuthKind, Client, ClientOptions, RetryPolicy};
use serde::Serialize;

#[derive(Parser, Debug)]
#[command(
    name = "golden-push",
    version,
    about = "Push images to Azure Container Registry (or any OCI registry) natively: ACR auth from GitHub OIDC, parallel deterministic gzip, resumable uploads; plus index, copy, attach, referrers.",
    after_help = "`golden-push IMAGE --to REF` is short for `golden-push push IMAGE --to REF`. Exit codes: 0 success, 2 usage or runtime error."
)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Args, Debug)]
struct Global {
    /// Auth method: auto (GitHub OIDC, service principal, token, docker config, anonymous — in
    /// that order), github-oidc, service-principal, token, docker-config, anonymous.
    #[arg(long, global = true, env = "GOLDEN_AUTH", default_value = "auto")]
    auth: String,
    /// Allow plain HTTP to a registry that is not on loopback (loopback registries always use HTTP).
    #[arg(long, global = true, env = "GOLDEN_INSECURE", value_parser = BoolishValueParser::new(), default_value_t = false, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    insecure: bool,
    /// Retries of a failed request (connection errors, 429, 5xx), with exponential backoff.
    #[arg(long, global = true, env = "GOLDEN_RETRIES", default_value_t = 5)]
    retries: u32,
    /// Blobs transferred at the same time.
    #[arg(long, global = true, env = "GOLDEN_JOBS", default_value_t = 4)]
    jobs: usize,
    /// Upload chunk size in MiB (blobs up to this size go in one request).
    #[arg(
        long,
        global = true,
        env = "GOLDEN_CHUNK_SIZE",
        default_value_t = 8,
        value_name = "MIB"
    )]
    chunk_size: usize,
    /// Output on stdout: text or json.
    #[arg(long, global = true, env = "GOLDEN_FORMAT", value_enum, default_value_t = Format::Text)]
    format: Format,
    /// No progress lines on stderr.
    #[arg(long, short, global = true, env = "GOLDEN_QUIET", value_parser = BoolishValueParser::new(), default_value_t = false, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    quiet: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum Format {
    Text,
    Json,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Push an engine image or docker-archive:PATH to REGISTRY/REPO:TAG (the default command).
    Push(PushArgs),
    /// Build an OCI image index from per-platform manifests already in the registry.
    Index(IndexArgs),
    /// Copy an image (or index) between repositories or registries, by digest.
    Copy(CopyArgs),
    /// Push a file (scan report, SBOM) as an OCI artifact whose subject is an image.
    Attach(AttachArgs),
    /// List the artifacts attached to an image.
    Referrers(ReferrersArgs),
}

#[derive(Args, Debug)]
struct PushArgs {
    /// Engine image (name or id) or docker-archive:PATH.
    #[arg(env = "GOLDEN_IMAGE")]
    image: String,
    /// Target REGISTRY/REPOSITORY:TAG (default: the plan entry's first tag).
    #[arg(long, env = "GOLDEN_TO")]
    to: Option<String>,
    /// More tags in the same repository (repeat, or comma/newline separated; default: the plan
    /// entry's other tags in that repository).
    #[arg(long = "tag", env = "GOLDEN_TAGS")]
    tags: Vec<String>,
    /// The plan entry: its JSON, an id in --plan, or a file holding it (same meaning as in
    /// golden-build and golden-scan).
    #[arg(long, env = "GOLDEN_ENTRY")]
    entry: Option<String>,
    /// Plan file in which --entry is an id.
    #[arg(long, env = "GOLDEN_PLAN", value_name = "FILE")]
    plan: Option<PathBuf>,
    /// Image id written into the record (default: the entry's id, else the target repository).
    #[arg(long, env = "GOLDEN_ID")]
    id: Option<String>,
    /// Files to attach to the pushed digest before any tag moves: FILE or FILE=ARTIFACT_TYPE
    /// (repeat, or one per line). A scan report gets the pushed digest as image.digest first.
    #[arg(long = "attach", env = "GOLDEN_ATTACH", value_name = "FILE[=TYPE]")]
    attach: Vec<String>,
    /// Write the push record (golden-contracts PushRecord, JSON) here, atomically; written on
    /// failure too, saying which tags moved.
    #[arg(long, env = "GOLDEN_RECORD", value_name = "FILE")]
    record: Option<PathBuf>,
    /// Multi-arch: push to `<target>-<SUFFIX>` alone and record the real tags for `index --records`.
    #[arg(long, env = "GOLDEN_ARCH_SUFFIX", value_name = "SUFFIX")]
    arch_suffix: Option<String>,
    /// Base image in the same registry whose layers can be reused and mounted (default: the
    /// image's org.opencontainers.image.base.name label).
    #[arg(long, env = "GOLDEN_BASE")]
    base: Option<String>,
    /// Manifest annotation KEY=VALUE (repeat, or one per line).
    #[arg(long = "annotation", env = "GOLDEN_ANNOTATIONS")]
    annotations: Vec<String>,
    /// gzip level (1 fastest .. 9 smallest).
    #[arg(long, env = "GOLDEN_COMPRESSION_LEVEL", default_value_t = golden_push::push::DEFAULT_LEVEL, value_parser = clap::value_parser!(u32).range(1..=9))]
    compression_level: u32,
    /// Compression threads (default: all cores).
    #[arg(long, env = "GOLDEN_THREADS")]
    threads: Option<usize>,
    /// Where to remember diff-id → blob digests (default $XDG_CACHE_HOME/golden-push or ~/.cache/golden-push).
    #[arg(long, env = "GOLDEN_CACHE_DIR")]
    cache_dir: Option<PathBuf>,
    /// Do not read or write the local layer cache.
    #[arg(long, env = "GOLDEN_NO_CACHE", value_parser = BoolishValueParser::new(), default_value_t = false, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    no_cache: bool,
    /// Directory for the temporary export and compressed layers (default: the system temp dir).
    #[arg(long, env = "GOLDEN_WORK_DIR")]
    work_dir: Option<PathBuf>,
    /// Read layers of a local engine from its overlay2 layer store when readable (auto), or
    /// always use the engine export (off). Layers read from the store are verified against
    /// their diff-ids.
    #[arg(long, env = "GOLDEN_LAYER_STORE", value_enum, default_value_t = LayerStoreMode::Auto)]
    layer_store: LayerStoreMode,
    /// Upload layers larger than a chunk while they compress (true), or compress each layer
    /// completely and ask the registry (HEAD) before sending it (false).
    #[arg(long, env = "GOLDEN_STREAM_UPLOADS", value_parser = BoolishValueParser::new(), default_value_t = true, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    stream_uploads: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum LayerStoreMode {
    Auto,
    Off,
}

#[derive(Args, Debug)]
struct IndexArgs {
    /// Target REGISTRY/REPOSITORY:TAG of the index (without --records).
    #[arg(
        long,
        env = "GOLDEN_TO",
        conflicts_with = "records",
        required_unless_present = "records"
    )]
    to: Option<String>,
    /// Per-platform manifests: digests in the target repository, or full references (without --records).
    #[arg(env = "GOLDEN_MANIFESTS", conflicts_with = "records")]
    manifests: Vec<String>,
    /// Push records (files, or folders searched for *push-record.json): one index per image id
    /// from its per-architecture pushes.
    #[arg(
        long,
        env = "GOLDEN_RECORDS",
        value_name = "DIR|FILE",
        value_delimiter = '\n'
    )]
    records: Vec<PathBuf>,
    /// With --records: the architectures every image must have (amd64,arm64). An image missing
    /// one, or whose push failed, stops everything: no index is pushed, no tag moves.
    #[arg(long, env = "GOLDEN_EXPECT_ARCH", value_name = "ARCHS")]
    expect_arch: Option<String>,
    /// Write the index record (golden-contracts IndexRecord, JSON) here, atomically.
    #[arg(long, env = "GOLDEN_RECORD", value_name = "FILE")]
    record: Option<PathBuf>,
    /// More tags in the same repository.
    #[arg(long = "tag", env = "GOLDEN_TAGS")]
    tags: Vec<String>,
    /// Index annotation KEY=VALUE (repeat, or one per line).
    #[arg(long = "annotation", env = "GOLDEN_ANNOTATIONS")]
    annotations: Vec<String>,
}

#[derive(Args, Debug)]
struct CopyArgs {
    /// Source REGISTRY/REPOSITORY:TAG or @DIGEST.
    #[arg(env = "GOLDEN_COPY_FROM")]
    src: String,
    /// Destination REGISTRY/REPOSITORY[:TAG] (no tag: the source's tag, or digest only).
    #[arg(env = "GOLDEN_COPY_TO")]
    dst: String,
    /// More tags in the destination repository.
    #[arg(long = "tag", env = "GOLDEN_TAGS")]
    tags: Vec<String>,
    /// Auth method for the source registry when it differs from the destination's.
    #[arg(long, env = "GOLDEN_FROM_AUTH")]
    from_auth: Option<String>,
}

#[derive(Args, Debug)]
struct AttachArgs {
    /// The image the artifact is about (tag or digest).
    #[arg(env = "GOLDEN_SUBJECT")]
    subject: String,
    /// The file to attach.
    #[arg(env = "GOLDEN_FILE")]
    file: PathBuf,
    /// Artifact type, e.g. application/vnd.golden.scan-report.v1+json.
    #[arg(long, env = "GOLDEN_ARTIFACT_TYPE")]
    artifact_type: String,
    /// Media type of the file (default: from its extension).
    #[arg(long, env = "GOLDEN_MEDIA_TYPE")]
    media_type: Option<String>,
    /// Manifest annotation KEY=VALUE (repeat, or one per line).
    #[arg(long = "annotation", env = "GOLDEN_ANNOTATIONS")]
    annotations: Vec<String>,
}

#[derive(Args, Debug)]
struct ReferrersArgs {
    /// The image (tag or digest).
    #[arg(env = "GOLDEN_SUBJECT")]
    subject: String,
    /// Only artifacts of this type.
    #[arg(long, env = "GOLDEN_ARTIFACT_TYPE")]
    artifact_type: Option<String>,
}

const SUBCOMMANDS: [&str; 6] = ["push", "index", "copy", "attach", "referrers", "help"];

/// `golden-push IMAGE --to REF` → `golden-push push IMAGE --to REF`.
fn with_default_subcommand(mut args: Vec<String>) -> Vec<String> {
    let first = args.get(1).map(String::as_str);
    let keep = matches!(first, Some(a) if SUBCOMMANDS.contains(&a) || ["-h", "--help", "-V", "--version"].contains(&a));
    if !keep {
        args.insert(1.min(args.len()), "push".to_string());
    }
    args
}

fn reference(what: &str, s: &str) -> Result<Reference> {
    Reference::parse(s).map_err(|source| Error::Reference {
        what: format!(
            "{what} `{s}` is not an image reference (REGISTRY/REPOSITORY[:TAG][@DIGEST])"
        ),
        source,
    })
}

fn client(g: &Global, registry_auth: Vec<(String, AuthKind)>) -> Result<Client> {
    let auth: AuthKind = g
        .auth
        .parse()
        .map_err(|source| Error::auth_method("--auth / GOLDEN_AUTH", source))?;
    if g.chunk_size == 0 || g.chunk_size > 1024 {
        return Err(Error::Usage(format!(
            "--chunk-size must be between 1 and 1024 MiB, got {}",
            g.chunk_size
        )));
    }
    let opts = ClientOptions {
        auth,
        registry_auth: registry_auth.into_iter().collect(),
        insecure: g.insecure,
        retry: RetryPolicy {
            max_retries: g.retries,
            ..RetryPolicy::default()
        },
        chunk_size: g.chunk_size << 20,
        user_agent: format!("golden-push/{}", env!("CARGO_PKG_VERSION")),
        ..ClientOptions::default()
    };
    Ok(Client::new(opts)?)
}

fn emit<T: Serialize>(
    format: Format,
    report: &T,
    text: &[(&str, String)],
    outputs: &[(&str, String)],
) -> Result<()> {
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(report)?),
        Format::Text => {
            for (k, v) in text {
                println!("{k}: {v}");
            }
        }
    }
    let mut o = golden_gha::Outputs::new();
    for (k, v) in outputs {
        o.set(k, v.clone());
    }
    o.write().map_err(Error::Outputs)?;
    Ok(())
}

/// `golden-push push`.
async fn run_push(a: &PushArgs, g: &Global, log: &Log) -> Result<()> {
    let cwd = std::env::current_dir().map_err(|source| Error::File {
        what: "no current directory".into(),
        source,
    })?;
    let resolved = golden_contracts::entry::resolve(a.plan.as_deref(), a.entry.as_deref(), &cwd)?;
    let entry = match &resolved {
        Some(r) => Some(r.entry.as_ref().ok_or_else(|| {
            Error::Usage(format!(
                "--entry `{}` is neither a plan entry (JSON or a file) nor an id in a --plan",
                r.id
            ))
        })?),
        None => None,
    };
    let (entry_to, entry_tags) = match entry {
        Some(e) => {
            let (t, ts) = e.push_tags()?;
            (Some(t), ts)
        }
        None => (None, Vec::new()),
    };
    let to_text = a.to.clone().or(entry_to).ok_or_else(|| {
        Error::Usage(
            "give --to REGISTRY/REPOSITORY:TAG (GOLDEN_TO) or --entry (GOLDEN_ENTRY)".into(),
        )
    })?;
    let mut tags = if a.tags.is_empty() {
        entry_tags
    } else {
        split_list(&a.tags)
    };
    let mut to = reference("--to", &to_text)?;
    let id =
        a.id.clone()
            .filter(|i| !i.trim().is_empty())
            .or_else(|| resolved.as_ref().map(|r| r.id.clone()))
            .unwrap_or_else(|| to.repository.rsplit('/').next().unwrap_or("image").into());
    let mut index = None;
    let mut arch_hint = None;
    if let Some(suffix) = a.arch_suffix.as_deref().filter(|s| !s.is_empty()) {
        if !suffix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
        {
            return Err(Error::Usage(format!(
                "--arch-suffix must be a tag suffix ([A-Za-z0-9_.-]), got `{suffix}`"
            )));
        }
        arch_hint = golden_contracts::push::Arch::parse(suffix).ok();
        let tag = to.tag.clone().unwrap_or_else(|| "latest".into());
        index = Some(golden_contracts::push::IndexTarget {
            to: to_text.clone(),
            tags: std::mem::take(&mut tags),
        });
        to = to.with_tag(&format!("{tag}-{suffix}"));
    }
    // Every attachment is checked before anything is pushed.
    let attachments = golden_push::record::parse_attachments(&a.attach)?;
    let cache_dir = if a.no_cache {
        None
    } else {
        a.cache_dir.clone().or_else(golden_push::cache::default_dir)
    };
    let opts = push::PushOptions {
        image: a.image.clone(),
        to,
        tags,
        base: a
            .base
            .as_deref()
            .map(|b| reference("--base", b))
            .transpose()?,
        annotations: parse_annotations(&a.annotations)?,
        level: a.compression_level,
        threads: a.threads.unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2)
        }),
        jobs: g.jobs,
        cache_dir,
        work_dir: a.work_dir.clone(),
        layer_store: a.layer_store == LayerStoreMode::Auto,
        stream: a.stream_uploads,
    };
    let c = client(g, Vec::new())?;
    let job = golden_push::record::PushJob {
        id,
        attachments,
        record: a.record.clone(),
        index,
        arch_hint,
    };
    let pushed = golden_push::record::push_attach_tag(&c, &opts, &job, log).await?;
    let (r, rec) = (&pushed.report, &pushed.record);
    let attached: Vec<String> = rec.referrers.iter().map(|x| x.digest.clone()).collect();
    let mut outputs = vec![
        ("digest", r.digest.clone()),
        ("reference", r.reference.clone()),
        ("tags", r.tags.join("\n")),
        ("uploaded", rec.uploaded.to_string()),
        ("attached", attached.join("\n")),
    ];
    if let Some(p) = &a.record {
        outputs.push(("record", p.display().to_string()));
    }
    emit(
        g.format,
        r,
        &[
            ("reference", r.reference.clone()),
            ("digest", r.digest.clone()),
            ("tags", r.tags.join(" ")),
            (
                "uploaded",
                format!(
                    "{} of {} blobs (the rest already in the registry)",
                    rec.uploaded, rec.blobs
                ),
            ),
            ("attached", attached.join(" ")),
        ],
        &outputs,
    )
}

/// `golden-push index`.
async fn run_index(a: &IndexArgs, g: &Global, log: &Log) -> Result<()> {
    let c = client(g, Vec::new())?;
    if !a.records.is_empty() {
        let expect =
            golden_contracts::push::Arch::parse_list(a.expect_arch.as_deref().unwrap_or_default())
                .map_err(|e| Error::Usage(format!("--expect-arch: {e}")))?;
        let rec = golden_push::record::index_from_records(
            &c,
            &a.records,
            &expect,
            a.record.as_deref(),
            g.jobs,
            log,
        )
        .await?;
        let col = |f: fn(&golden_contracts::push::ImageIndex) -> Vec<String>| {
            rec.indexes.iter().flat_map(f).collect::<Vec<_>>()
        };
        let digests = col(|i| i.digest.iter().cloned().collect());
        let refs = col(|i| i.reference.iter().cloned().collect());
        let tags = col(|i| i.tags.clone());
        let mut outputs = vec![
            ("digest", digests.join("\n")),
            ("reference", refs.join("\n")),
            ("tags", tags.join("\n")),
        ];
        if let Some(p) = &a.record {
            outputs.push(("record", p.display().to_string()));
        }
        return emit(
            g.format,
            &rec,
            &[("reference", refs.join(" ")), ("tags", tags.join(" "))],
            &outputs,
        );
    }
    if a.manifests.is_empty() {
        return Err(Error::Usage(
            "give the per-platform manifests (digests or references), or --records".into(),
        ));
    }
    let to = reference("--to", a.to.as_deref().unwrap_or_default())?;
    let b = copy::index(
        &c,
        &to,
        &split_list(&a.manifests),
        &split_list(&a.tags),
        parse_annotations(&a.annotations)?,
        g.jobs,
        log,
    )
    .await?;
    let outcome = golden_push::tags::set_tags(
        &c,
        &b.repository,
        &b.report.digest,
        &b.bytes,
        golden_oci::media::OCI_INDEX,
        &b.tags,
        log,
    )
    .await;
    if let Some(e) = outcome.error {
        return Err(e);
    }
    let mut r = b.report;
    r.tags = outcome.moved;
    emit(
        g.format,
        &r,
        &[
            ("reference", r.reference.clone()),
            ("digest", r.digest.clone()),
            ("tags", r.tags.join(" ")),
            ("platforms", r.platforms.join(" ")),
        ],
        &[
            ("digest", r.digest.clone()),
            ("reference", r.reference.clone()),
            ("tags", r.tags.join("\n")),
        ],
    )
}

/// `golden-push copy`.
async fn run_copy(a: &CopyArgs, g: &Global, log: &Log) -> Result<()> {
    let src = reference("SRC", &a.src)?;
    let dst = reference("DST", &a.dst)?;
    let mut per = Vec::new();
    if let Some(fa) = &a.from_auth
        && src.registry != dst.registry
    {
        per.push((
            src.registry.clone(),
            fa.parse::<AuthKind>()
                .map_err(|source| Error::auth_method("--from-auth", source))?,
        ));
    }
    let c = client(g, per)?;
    let r = copy::copy(&c, &src, &dst, &split_list(&a.tags), g.jobs, log).await?;
    emit(
        g.format,
        &r,
        &[
            ("reference", r.reference.clone()),
            ("digest", r.digest.clone()),
            ("tags", r.tags.join(" ")),
        ],
        &[
            ("digest", r.digest.clone()),
            ("reference", r.reference.clone()),
            ("tags", r.tags.join("\n")),
        ],
    )
}

/// `golden-push attach`.
async fn run_attach(a: &AttachArgs, g: &Global, log: &Log) -> Result<()> {
    let subject = reference("SUBJECT", &a.subject)?;
    let c = client(g, Vec::new())?;
    let r = golden_push::attach(
        &c,
        &subject,
        &a.file,
        &a.artifact_type,
        a.media_type.as_deref(),
        parse_annotations(&a.annotations)?,
        log,
    )
    .await?;
    emit(
        g.format,
        &r,
        &[
            ("reference", r.reference.clone()),
            ("digest", r.digest.clone()),
            ("subject", r.subject.clone()),
        ],
        &[
            ("digest", r.digest.clone()),
            ("reference", r.reference.clone()),
            ("subject", r.subject.clone()),
        ],
    )
}

/// `golden-push referrers`.
async fn run_referrers(a: &ReferrersArgs, g: &Global) -> Result<()> {
    let subject = reference("SUBJECT", &a.subject)?;
    let c = client(g, Vec::new())?;
    let list = golden_push::referrers(&c, &subject, a.artifact_type.as_deref()).await?;
    match g.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&list)?),
        Format::Text => {
            for d in &list {
                let title = d
                    .annotations
                    .get("org.opencontainers.image.title")
                    .or_else(|| d.annotations.get("org.opencontainers.image.created"))
                    .cloned()
                    .unwrap_or_default();
                // Annotations come from the registry: untrusted text.
                println!(
                    "{}",
                    golden_gha::neutralize(&format!(
                        "{}\t{}\t{}\t{}",
                        d.digest,
                        d.artifact_type.as_deref().unwrap_or("-"),
                        d.size,
                        title.replace(['\r', '\n'], " ")
                    ))
                );
            }
        }
    }
    let mut o = golden_gha::Outputs::new();
    o.set("count", list.len().to_string());
    o.set(
        "digests",
        list.iter()
            .map(|d| d.digest.clone())
            .collect::<Vec<_>>()
            .join("\n"),
    );
    o.write().map_err(Error::Outputs)?;
    Ok(())
}

async fn run(cli: Cli) -> Result<()> {
    let log = Log {
        quiet: cli.global.quiet,
    };
    let g = &cli.global;
    match &cli.cmd {
        Cmd::Push(a) => run_push(a, g, &log).await,
        Cmd::Index(a) => run_index(a, g, &log).await,
        Cmd::Copy(a) => run_copy(a, g, &log).await,
        Cmd::Attach(a) => run_attach(a, g, &log).await,
        Cmd::Referrers(a) => run_referrers(a, g).await,
    }
}

fn main() -> ExitCode {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let cli = Cli::parse_from(with_default_subcommand(std::env::args().collect()));
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time()
        .init();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("golden-push: error: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match rt.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            golden_gha::report_fatal("golden-push", &e);
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn bare_image_means_push() {
        let v = |s: &[&str]| with_default_subcommand(s.iter().map(|x| x.to_string()).collect());
        assert_eq!(
            v(&["gp", "img", "--to", "r/a"]),
            ["gp", "push", "img", "--to", "r/a"]
        );
        assert_eq!(v(&["gp", "copy", "a", "b"]), ["gp", "copy", "a", "b"]);
        assert_eq!(v(&["gp", "--help"]), ["gp", "--help"]);
        assert_eq!(v(&["gp"]), ["gp", "push"]);
        let cli = Cli::try_parse_from(v(&[
            "gp",
            "img",
            "--to",
            "127.0.0.1:5000/a:1",
            "--tag",
            "x,y",
        ]))
        .unwrap();
        match cli.cmd {
            Cmd::Push(p) => assert_eq!(split_list(&p.tags), ["x", "y"]),
            other => panic!("{other:?}"),
        }
    }
}
