//! The commands: flags ([`crate::cli`]) → options → the library call → stdout (text or JSON)
//! and `$GITHUB_OUTPUT`. Nothing below this module sees clap types.

use golden_oci::Reference;
use golden_registry::{AuthKind, Client, ClientOptions, RetryPolicy};
use serde::Serialize;

use crate::cli::{
    AttachArgs, Cli, Cmd, CopyArgs, Format, Global, IndexArgs, KeygenArgs, LayerStoreMode,
    LoginArgs, PromoteArgs, PurgeArgs, PushArgs, ReferrersArgs, SignArgs, SigningArgs, SyncArgs,
    VerifyArgs,
};
use crate::error::{Error, Result};
use crate::{Log, copy, parse_annotations, push, split_list};

fn reference(what: &str, s: &str) -> Result<Reference> {
    Reference::parse(s).map_err(Error::reference(format!(
        "{what} `{s}` is not an image reference (REGISTRY/REPOSITORY[:TAG][@DIGEST])"
    )))
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

/// Write `report` as JSON to `path` (atomically), when given.
fn write_record<T: Serialize>(path: Option<&std::path::Path>, report: &T) -> Result<()> {
    if let Some(p) = path {
        let mut text = serde_json::to_string_pretty(report)?;
        text.push('\n');
        golden_contracts::write_atomic(p, text.as_bytes())?;
    }
    Ok(())
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
    let started = std::time::Instant::now();
    let cwd = std::env::current_dir().map_err(Error::file("no current directory"))?;
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
    let attachments = crate::record::parse_attachments(&a.attach)?;
    let cache_dir = if a.no_cache {
        None
    } else {
        a.cache_dir.clone().or_else(crate::cache::default_dir)
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
    let job = crate::record::PushJob {
        id,
        attachments,
        record: a.record.clone(),
        index,
        arch_hint,
        started,
        signing: signing(&a.signing, &c, entry.cloned(), &cwd).await?,
        verify: None,
    };
    let mut job = job;
    if let Some(p) = a
        .verify_policy
        .as_deref()
        .filter(|p| !p.as_os_str().is_empty())
    {
        let policy = crate::sign::policy::Policy::read(p)?;
        let mut keys = policy
            .keys
            .iter()
            .map(|k| crate::sign::PublicKey::read(k))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        if let Some(s) = &job.signing {
            use crate::sign::Sign;
            keys.push(s.signer.public_key().clone());
        }
        if keys.is_empty() {
            return Err(Error::Usage(format!(
                "--verify-policy `{}` names no `keys:` and no signer is configured (--sign-key / --keyvault-key-id)",
                p.display()
            )));
        }
        job.verify = Some((keys, policy));
    }
    let pushed = crate::record::push_attach_tag(&c, &opts, &job, log).await?;
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
    let cwd = std::env::current_dir().map_err(Error::file("no current directory"))?;
    let c = client(g, Vec::new())?;
    let signing = signing(&a.signing, &c, None, &cwd).await?;
    if !a.records.is_empty() {
        let expect =
            golden_contracts::push::Arch::parse_list(a.expect_arch.as_deref().unwrap_or_default())
                .map_err(|e| Error::Usage(format!("--expect-arch: {e}")))?;
        let rec = crate::record::index_from_records(
            &c,
            &a.records,
            &expect,
            a.record.as_deref(),
            g.jobs,
            signing.as_ref(),
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
    if let Some(s) = &signing {
        crate::record::sign_built(&c, s, &b, log)
            .await
            .map_err(|e| {
                e.context(format!(
                    "the index {} is stored, no tag was moved",
                    b.report.digest
                ))
            })?;
    }
    let outcome = crate::tags::set_tags(
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
    let r = copy::copy(
        &c,
        &src,
        &dst,
        &split_list(&a.tags),
        !a.no_referrers,
        g.jobs,
        log,
    )
    .await?;
    emit(
        g.format,
        &r,
        &[
            ("reference", r.reference.clone()),
            ("digest", r.digest.clone()),
            ("tags", r.tags.join(" ")),
            ("referrers", r.referrers.len().to_string()),
        ],
        &[
            ("digest", r.digest.clone()),
            ("reference", r.reference.clone()),
            ("tags", r.tags.join("\n")),
            ("referrers", r.referrers.len().to_string()),
        ],
    )
}

/// `--from-auth` for every source registry other than the destination's (`REGISTRY[/PREFIX]`).
fn source_auth<'a>(
    from_auth: Option<&str>,
    sources: impl Iterator<Item = &'a str>,
    dest: &str,
) -> Result<Vec<(String, AuthKind)>> {
    let Some(fa) = from_auth else {
        return Ok(Vec::new());
    };
    let kind = fa
        .parse::<AuthKind>()
        .map_err(|source| Error::auth_method("--from-auth", source))?;
    let dest_registry = dest.split('/').next().unwrap_or_default();
    let mut per: Vec<(String, AuthKind)> = Vec::new();
    for r in sources {
        if r != dest_registry && !per.iter().any(|(x, _)| x == r) {
            per.push((r.to_string(), kind));
        }
    }
    Ok(per)
}

/// `golden-push sync`.
async fn run_sync(a: &SyncArgs, g: &Global, log: &Log) -> Result<()> {
    let sources: Vec<Reference> = split_list(&a.sources)
        .iter()
        .map(|s| reference("SRC_REPO", s))
        .collect::<Result<_>>()?;
    let per = source_auth(
        a.from_auth.as_deref(),
        sources.iter().map(|s| s.registry.as_str()),
        &a.to,
    )?;
    let c = client(g, per)?;
    let signer = signer(&a.signing, &c).await?;
    let opts = crate::sync::SyncOptions {
        dest: &a.to,
        strip: a.strip_prefix.as_deref(),
        dry_run: a.dry_run,
        audit: !a.no_audit,
        signer: signer.as_ref(),
        jobs: g.jobs,
    };
    let r = crate::sync::sync(&c, &sources, &opts, log).await?;
    write_record(a.record.as_deref(), &r)?;
    if g.format == Format::Text {
        print!("{}", crate::sync::render_table(&r));
    }
    emit(
        g.format,
        &r,
        &[],
        &[
            ("copied", r.copied.to_string()),
            ("tagged", r.tagged.to_string()),
            ("up-to-date", r.up_to_date.to_string()),
            ("referrers-copied", r.referrers_copied.to_string()),
            ("in-sync", r.in_sync().to_string()),
        ],
    )
}

/// `golden-push login`.
async fn run_login(a: &LoginArgs, g: &Global) -> Result<()> {
    let registry = a.registry.trim().trim_end_matches('/');
    if registry.is_empty() || registry.contains('/') {
        return Err(Error::Usage(format!(
            "REGISTRY `{}` must be a registry host (e.g. goldenimages.azurecr.io), not a repository",
            a.registry
        )));
    }
    let dir = crate::login::config_dir(a.docker_config.as_deref())?;
    // The registry logged in to is the one credentials from the environment are meant for.
    let mut c = client(g, Vec::new())?;
    c = {
        let mut opts = c.options().clone();
        opts.auth_hosts.push(registry.to_string());
        golden_registry::Client::new(opts)?
    };
    let (path, kind) = crate::login::login(&c, registry, &dir).await?;
    eprintln!(
        "logged in to {registry} ({kind}) in {}",
        golden_gha::neutralize(&path.display().to_string())
    );
    emit(
        g.format,
        &serde_json::json!({"registry": registry, "config": path, "credential": kind}),
        &[],
        &[("config", path.display().to_string())],
    )
}

/// `golden-push promote`.
async fn run_promote(a: &PromoteArgs, g: &Global, log: &Log) -> Result<()> {
    use crate::promote::{AuditContext, PromoteOptions, parse_item, promote};
    let items: Vec<_> = split_list(&a.images)
        .iter()
        .map(|s| parse_item(s))
        .collect::<Result<_>>()?;
    let per = source_auth(
        a.from_auth.as_deref(),
        items.iter().map(|i| i.source.registry.as_str()),
        &a.to,
    )?;
    let c = client(g, per)?;
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    use golden_gha::env as gh;
    let run_url = match (
        env(gh::GITHUB_SERVER_URL),
        env(gh::GITHUB_REPOSITORY),
        env(gh::GITHUB_RUN_ID),
    ) {
        (Some(s), Some(r), Some(id)) => Some(format!("{s}/{r}/actions/runs/{id}")),
        _ => None,
    };
    let audit = (!a.no_audit).then(|| AuditContext {
        environment: a.environment.clone(),
        approver: a.approver.clone(),
        deployment_id: a.deployment_id.clone(),
        run_url,
        actor: a.actor.clone(),
    });
    let verify = verify_setup(
        a.verify_policy
            .as_deref()
            .filter(|p| !p.trim().is_empty())
            .map(std::path::Path::new),
        &a.verify_keys
            .iter()
            .map(|k| k.trim())
            .filter(|k| !k.is_empty())
            .map(std::path::PathBuf::from)
            .collect::<Vec<_>>(),
    )?;
    let signer = signer(&a.signing, &c).await?;
    let opts = PromoteOptions {
        to: &a.to,
        strip: a.strip_prefix.as_deref(),
        require_report: !a.no_require_report,
        verify,
        audit,
        signer: signer.as_ref(),
        jobs: g.jobs,
    };
    let r = promote(&c, &items, &opts, log).await?;
    write_record(a.record.as_deref(), &r)?;
    if g.format == Format::Text {
        for i in &r.images {
            println!(
                "promoted {} -> {}@{} ({} referrer(s)); tags: {}",
                golden_gha::neutralize(&i.source),
                golden_gha::neutralize(&i.destination),
                i.digest,
                i.referrers.len(),
                golden_gha::neutralize(&i.tags.join(", "))
            );
        }
    }
    emit(
        g.format,
        &r,
        &[],
        &[
            ("tags", r.tags_moved.join("\n")),
            (
                "digests",
                r.images
                    .iter()
                    .map(|i| format!("{}@{}", i.destination, i.digest))
                    .collect::<Vec<_>>()
                    .join("\n"),
            ),
            ("audit-records", r.audit_records.join("\n")),
        ],
    )
}

/// `golden-push purge`.
async fn run_purge(a: &PurgeArgs, g: &Global, log: &Log) -> Result<()> {
    let repo = reference("REPO", &a.repository)?;
    let c = client(g, Vec::new())?;
    let r = crate::purge::purge(&c, &repo, a.keep, a.older_than, a.dry_run, log).await?;
    write_record(a.record.as_deref(), &r)?;
    if g.format == Format::Text {
        print!("{}", crate::purge::render_table(&r));
    }
    let deleting: Vec<String> = r
        .plan
        .decisions
        .iter()
        .filter(|d| d.delete)
        .map(|d| d.tag.clone())
        .collect();
    emit(
        g.format,
        &r,
        &[],
        &[
            ("tags", deleting.join("\n")),
            ("digests", r.plan.delete_digests.join("\n")),
            ("deleted", r.deleted.len().to_string()),
        ],
    )
}

/// `golden-push attach`.
async fn run_attach(a: &AttachArgs, g: &Global, log: &Log) -> Result<()> {
    let subject = reference("SUBJECT", &a.subject)?;
    let c = client(g, Vec::new())?;
    let r = crate::attach(
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
    let list = crate::referrers(&c, &subject, a.artifact_type.as_deref()).await?;
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

/// The signer of `--sign-key` (a file, or the PEM itself: masked first under Actions).
fn key_signer(key: &str) -> Result<crate::sign::KeySigner> {
    if key.contains("-----BEGIN") {
        golden_gha::add_mask(key);
        let k = crate::sign::LocalKey::from_pem(
            key,
            "the signing key in --sign-key / GOLDEN_SIGNING_KEY",
        )?;
        Ok(crate::sign::KeySigner::new(k, "GOLDEN_SIGNING_KEY"))
    } else {
        let path = std::path::Path::new(key.trim());
        let k = crate::sign::LocalKey::read(path)?;
        Ok(crate::sign::KeySigner::new(k, &path.display().to_string()))
    }
}

/// The signer (`--sign-key`, or `--keyvault-key-id` through an Entra token) and the provenance
/// inputs, or `None` without either.
async fn signing(
    a: &SigningArgs,
    c: &Client,
    entry: Option<golden_contracts::plan::PlanEntry>,
    cwd: &std::path::Path,
) -> Result<Option<crate::record::Signing>> {
    let Some(signer) = signer(&a.signer, c).await? else {
        return Ok(None);
    };
    let provenance = if a.provenance {
        let record = a
            .build_record
            .as_deref()
            .map(<golden_contracts::build::BuildRecord as golden_contracts::Document>::read)
            .transpose()?;
        Some(crate::sign::provenance::Inputs::from_env(
            entry, record, cwd,
        ))
    } else {
        None
    };
    Ok(Some(crate::record::Signing {
        signer: std::sync::Arc::new(signer),
        provenance,
    }))
}

/// The signer of `--sign-key` (a PEM file or the PEM itself) or `--keyvault-key-id` (through
/// an Entra token), or `None` without either.
async fn signer(a: &crate::cli::SignerArgs, c: &Client) -> Result<Option<crate::sign::Signer>> {
    let nonempty = |v: &Option<String>| v.clone().filter(|k| !k.trim().is_empty());
    let signer = match (nonempty(&a.key), nonempty(&a.keyvault_key_id)) {
        (Some(_), Some(_)) => {
            return Err(Error::Usage(
                "give either --sign-key (GOLDEN_SIGNING_KEY) or --keyvault-key-id (AZURE_KEYVAULT_KEY_ID), not both".into(),
            ));
        }
        (Some(k), None) => crate::sign::Signer::Key(key_signer(&k)?),
        (None, Some(id)) => {
            use crate::sign::keyvault;
            let url = keyvault::parse_key_id(&id)?;
            let token = c.entra_token(keyvault::VAULT_SCOPE).await.map_err(|e| {
                Error::Usage(format!(
                    "no Entra token for Key Vault ({}): {e}",
                    keyvault::VAULT_SCOPE
                ))
            })?;
            crate::sign::Signer::KeyVault(keyvault::KeyVaultSigner::connect(url, token).await?)
        }
        (None, None) => return Ok(None),
    };
    Ok(Some(signer))
}

/// The trusted keys and the policy of `--verify-policy` / `--verify-key`, or `None` without
/// either; a policy that trusts nothing is an error (nothing could verify).
fn verify_setup(
    policy: Option<&std::path::Path>,
    keys: &[std::path::PathBuf],
) -> Result<Option<(Vec<crate::sign::PublicKey>, crate::sign::policy::Policy)>> {
    let policy_file = policy.filter(|p| !p.as_os_str().is_empty());
    let key_files: Vec<&std::path::PathBuf> =
        keys.iter().filter(|p| !p.as_os_str().is_empty()).collect();
    if policy_file.is_none() && key_files.is_empty() {
        return Ok(None);
    }
    let policy = match policy_file {
        Some(p) => crate::sign::policy::Policy::read(p)?,
        None => crate::sign::policy::Policy::default(),
    };
    let mut trusted = Vec::new();
    for p in key_files.into_iter().chain(policy.keys.iter()) {
        trusted.push(crate::sign::PublicKey::read(p)?);
    }
    if trusted.is_empty() && policy.identity.is_none() {
        return Err(Error::Usage(format!(
            "the verify policy `{}` trusts no key and no identity: give --verify-key PUB (GOLDEN_VERIFY_KEYS), or `keys:` or `identity:` in the policy",
            policy_file
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        )));
    }
    Ok(Some((trusted, policy)))
}

/// `golden-push sign`.
async fn run_sign(a: &SignArgs, g: &Global, log: &Log) -> Result<()> {
    let image = reference("IMAGE", &a.image)?;
    let cwd = std::env::current_dir().map_err(Error::file("no current directory"))?;
    let resolved = golden_contracts::entry::resolve(a.plan.as_deref(), a.entry.as_deref(), &cwd)?;
    let entry = resolved.and_then(|r| r.entry);
    let c = client(g, Vec::new())?;
    let Some(s) = signing(&a.signing, &c, entry, &cwd).await? else {
        return Err(Error::Usage(
            "give the signing key: --sign-key FILE (GOLDEN_SIGNING_KEY) or --keyvault-key-id URL (AZURE_KEYVAULT_KEY_ID); `golden-push keygen FILE` makes a key".into(),
        ));
    };
    let digest = match &image.digest {
        Some(d) => d.clone(),
        None => {
            c.resolve_digest(&image)
                .await
                .map_err(Error::registry_at(format!("failed to resolve {image}")))?
                .digest
        }
    };
    let r = crate::sign::sign_image(&c, &*s.signer, &image, &digest, s.provenance.as_ref(), log)
        .await?;
    emit(
        g.format,
        &r,
        &[
            ("subject", r.subject.clone()),
            ("key", r.key_fingerprint.clone()),
            ("signature", r.signature.clone()),
            (
                "provenance",
                r.provenance.clone().unwrap_or_else(|| "-".into()),
            ),
        ],
        &[
            ("subject", r.subject.clone()),
            ("signature", r.signature.clone()),
            ("provenance", r.provenance.clone().unwrap_or_default()),
        ],
    )
}

/// `golden-push verify`: `Ok(true)` verified, `Ok(false)` not (exit 1).
async fn run_verify(a: &VerifyArgs, g: &Global) -> Result<bool> {
    let image = reference("IMAGE", &a.image)?;
    let policy = match &a.policy {
        Some(p) => crate::sign::policy::Policy::read(p)?,
        None => crate::sign::policy::Policy::default(),
    };
    let mut keys = Vec::new();
    for p in a
        .keys
        .iter()
        .filter(|p| !p.as_os_str().is_empty())
        .chain(policy.keys.iter())
    {
        keys.push(crate::sign::PublicKey::read(p)?);
    }
    if keys.is_empty() && policy.identity.is_none() {
        return Err(Error::Usage(
            "give a trusted public key: --key PUB (GOLDEN_VERIFY_KEYS), or `keys:` or `identity:` in the --policy file".into(),
        ));
    }
    let c = client(g, Vec::new())?;
    let v = crate::sign::verify::verify(&c, &image, &keys, &policy).await?;
    match g.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&v)?),
        Format::Text => {
            println!("{}@{}", v.image, v.digest);
            for ch in &v.checks {
                // Details hold registry text (annotations are never printed; digests are).
                println!(
                    "{}",
                    golden_gha::neutralize(&format!(
                        "  [{}] {}: {}",
                        if ch.passed { "ok" } else { "FAIL" },
                        ch.rule,
                        ch.detail
                    ))
                );
            }
            if v.verified {
                println!("verified");
            } else {
                println!("NOT verified: {}", v.failed().join(", "));
            }
        }
    }
    let mut o = golden_gha::Outputs::new();
    o.set("verified", v.verified.to_string());
    o.set("digest", v.digest.clone());
    o.set("failed", v.failed().join("\n"));
    o.write().map_err(Error::Outputs)?;
    Ok(v.verified)
}

/// `golden-push keygen FILE`.
fn run_keygen(a: &KeygenArgs) -> Result<()> {
    let pub_path = std::path::PathBuf::from(format!("{}.pub", a.file.display()));
    if a.file.exists() {
        return Err(Error::Usage(format!(
            "`{}` exists; keygen never overwrites a key (remove it, or use it as is)",
            a.file.display()
        )));
    }
    let pem = crate::sign::LocalKey::generate_p256_pem()?;
    let key = crate::sign::LocalKey::from_pem(&pem, "the generated key")?;
    let public = key.public_key(&pub_path.display().to_string());
    let dir = a
        .file
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    std::fs::create_dir_all(dir)
        .map_err(Error::file(format!("failed to create `{}`", dir.display())))?;
    let write = |path: &std::path::Path, text: &str, private: bool| -> Result<()> {
        let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(Error::file(format!(
            "failed to write into `{}`",
            dir.display()
        )))?;
        #[cfg(unix)]
        if !private {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o644));
        }
        std::io::Write::write_all(&mut tmp, text.as_bytes())
            .map_err(Error::file(format!("failed to write `{}`", path.display())))?;
        tmp.persist(path).map_err(|e| Error::File {
            what: format!("failed to write `{}`", path.display()),
            source: e.error,
        })?;
        Ok(())
    };
    // NamedTempFile is created 0600: the private key is never readable by others.
    write(&a.file, &pem, true)?;
    write(&pub_path, &public.to_pem(), false)?;
    println!("private key: {}", a.file.display());
    println!("public key: {}", pub_path.display());
    println!("fingerprint: {}", public.fingerprint());
    Ok(())
}

/// Run the parsed command line: the result is on stdout and in `$GITHUB_OUTPUT`, progress on
/// stderr (unless `--quiet`).
pub async fn run(cli: Cli) -> Result<bool> {
    let log = Log {
        quiet: cli.global.quiet,
    };
    let g = &cli.global;
    match &cli.cmd {
        Cmd::Push(a) => run_push(a, g, &log).await.map(|()| true),
        Cmd::Index(a) => run_index(a, g, &log).await.map(|()| true),
        Cmd::Copy(a) => run_copy(a, g, &log).await.map(|()| true),
        Cmd::Attach(a) => run_attach(a, g, &log).await.map(|()| true),
        Cmd::Referrers(a) => run_referrers(a, g).await.map(|()| true),
        Cmd::Sign(a) => run_sign(a, g, &log).await.map(|()| true),
        Cmd::Verify(a) => run_verify(a, g).await,
        Cmd::Keygen(a) => run_keygen(a).map(|()| true),
        Cmd::Sync(a) => run_sync(a, g, &log).await.map(|()| true),
        Cmd::Purge(a) => run_purge(a, g, &log).await.map(|()| true),
        Cmd::Promote(a) => run_promote(a, g, &log).await.map(|()| true),
        Cmd::Login(a) => run_login(a, g).await.map(|()| true),
    }
}
