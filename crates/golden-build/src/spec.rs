//! Turn the inputs (a plan entry from `--plan/--id` or `GOLDEN_ENTRY`, or explicit flags) into a
//! [`Job`]: absolute, checked paths, tags, build args, labels. No engine access here.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use golden_contracts::Document;
use golden_contracts::plan::{Bootstrap, PlanEntry, StageKind};
use golden_contracts::push::Arch;
use golden_registry::AuthKind;

use crate::cli::{self, BuildArgs};
use crate::context::DockerfileAt;
use crate::labels::{self, LabelError};

#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error(
        "nothing to build: pass --plan FILE --id ID, set GOLDEN_ENTRY to a plan entry, or pass --context DIR (and --dockerfile, --tag)"
    )]
    NoInput,
    #[error(
        "an explicit build needs --context DIR (GOLDEN_CONTEXT); hint: or build a plan entry with --plan FILE --id ID"
    )]
    NeedContext,
    #[error("--plan needs --id (GOLDEN_ID): which entry of `{0}` to build")]
    PlanWithoutId(PathBuf),
    #[error(
        "the base's push record `{0}` says the push failed (no digest); hint: rebuild the base first"
    )]
    BaseRecordFailed(PathBuf),
    #[error("--plan and --entry (GOLDEN_ENTRY) both given: pass one of them")]
    PlanAndEntry,
    #[error(transparent)]
    Plan(#[from] golden_contracts::DocError),
    #[error(transparent)]
    Entry(#[from] golden_contracts::entry::EntryError),
    #[error("failed to read the plan entry file `{path}`")]
    EntryFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("failed to find the repository root `{path}`")]
    RepoRoot {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{what} `{given}` does not exist (looked at `{resolved}`){hint}")]
    Missing {
        what: &'static str,
        given: String,
        resolved: PathBuf,
        hint: String,
    },
    #[error("{what} `{given}` is not a {expected}")]
    WrongKind {
        what: &'static str,
        given: String,
        expected: &'static str,
    },
    #[error(
        "{what} `{given}` resolves to `{resolved}`, outside the repository root `{root}`; hint: keep build inputs inside the repository or pass --repo-root"
    )]
    OutsideRepo {
        what: &'static str,
        given: String,
        resolved: PathBuf,
        root: PathBuf,
    },
    #[error("invalid tag `{tag}`: {reason}")]
    BadTag { tag: String, reason: String },
    #[error(transparent)]
    Label(#[from] LabelError),
    #[error(
        "--mode bootstrap: entry `{0}` has no `bootstrap` settings (only the Debian base can be bootstrapped)"
    )]
    NoBootstrap(String),
    #[error("--arch (GOLDEN_ARCH): {0}")]
    Arch(String),
}

/// A checked build request.
#[derive(Debug, Clone)]
pub struct Job {
    /// Record id: the entry id, `--id`, or derived from the first tag.
    pub id: String,
    pub entry: Option<PlanEntry>,
    pub repo_root: PathBuf,
    pub context_dir: PathBuf,
    pub dockerfile: PathBuf,
    /// The Dockerfile as the user or the plan named it (repository-relative when inside it).
    pub dockerfile_shown: String,
    pub dockerfile_at: DockerfileAt,
    pub tags: Vec<String>,
    pub build_args: BTreeMap<String, String>,
    /// Build args given on the command line (they win over the entry's).
    pub cli_build_args: BTreeMap<String, String>,
    pub entry_labels: BTreeMap<String, String>,
    pub cli_labels: BTreeMap<String, String>,
    pub target: Option<String>,
    /// Reference whose immutable id becomes `BASE_IMAGE` (and the base labels).
    pub base_ref: Option<String>,
    /// The build arg that receives the resolved base (`BASE_IMAGE` or `UPSTREAM`).
    pub base_arg: String,
    /// The base reference is the entry's `base_image` and the entry says the base is rebuilt in
    /// the same run (`base_in_plan`): it must come from the engine, never from the registry.
    pub base_in_run: bool,
    pub bootstrap: Option<Bootstrap>,
    pub upstream: Option<String>,
    pub version: Option<String>,
    pub title: Option<String>,
    /// The architecture built for (OCI name).
    pub arch: Arch,
    /// `arch` is not this machine's: the build runs under emulation, the tags carry `-<arch>`.
    pub foreign: bool,
}

/// How to build an entry (the `--mode` flag, without clap).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Bootstrap when the entry has `bootstrap` and its upstream image is not in the engine.
    #[default]
    Auto,
    /// Always build the Dockerfile.
    Dockerfile,
    /// Always run the Debian bootstrap script (entries with `bootstrap` only).
    Bootstrap,
}

impl From<cli::Mode> for Mode {
    fn from(m: cli::Mode) -> Self {
        match m {
            cli::Mode::Auto => Mode::Auto,
            cli::Mode::Dockerfile => Mode::Dockerfile,
            cli::Mode::Bootstrap => Mode::Bootstrap,
        }
    }
}

/// The settings of a build that are not part of the [`Job`]: how to build, pull and report.
/// Read from the flags once, at the edge; nothing below the command line sees clap types.
#[derive(Debug, Clone)]
pub struct Options {
    /// `--id`: the record id when the job cannot be resolved.
    pub id: Option<String>,
    /// `--record`: where the build record goes (relative to the current directory).
    pub record: Option<PathBuf>,
    pub mode: Mode,
    /// `--bootstrap-script` as given (relative to the repository root unless absolute).
    pub bootstrap_script: PathBuf,
    pub no_pull_base: bool,
    pub auth: AuthKind,
    pub no_cache: bool,
    pub pull: bool,
    pub cache_from: Vec<String>,
    pub quiet: bool,
    /// `--verify-policy`: published bases must verify against it.
    pub verify_policy: Option<PathBuf>,
}

impl From<&BuildArgs> for Options {
    fn from(args: &BuildArgs) -> Self {
        Options {
            id: args.id.clone(),
            record: args.record.clone(),
            mode: args.mode.into(),
            bootstrap_script: args.bootstrap_script.clone(),
            no_pull_base: args.no_pull_base,
            auth: args.auth,
            no_cache: args.no_cache,
            pull: args.pull,
            cache_from: args.cache_from.clone(),
            quiet: args.quiet,
            verify_policy: args
                .verify_policy
                .clone()
                .filter(|p| !p.as_os_str().is_empty()),
        }
    }
}

impl Job {
    pub fn os(&self) -> Option<String> {
        self.entry.as_ref().map(|e| e.os.clone())
    }
    pub fn platform(&self) -> Option<String> {
        self.entry.as_ref().map(|e| e.platform.clone())
    }
}

/// Find the repository root: `--repo-root`, else the nearest directory from `cwd` up that holds
/// `.git` (a directory, or a file in worktrees and submodules: what `git rev-parse
/// --show-toplevel` finds, without starting git), else `cwd`.
pub fn repo_root(given: Option<&Path>, cwd: &Path) -> Result<PathBuf, SpecError> {
    let candidate = match given {
        Some(p) => cwd.join(p),
        None => cwd
            .ancestors()
            .find(|d| d.join(".git").exists())
            .unwrap_or(cwd)
            .to_path_buf(),
    };
    candidate
        .canonicalize()
        .map_err(|source| SpecError::RepoRoot {
            path: candidate.clone(),
            source,
        })
}

/// Read the entry from `--plan/--id` or `--entry` (golden-contracts' one resolver:
/// `GOLDEN_ENTRY` is a plan entry's JSON, an id in `--plan`, or a file holding an entry);
/// `None` for an explicit build.
pub fn load_entry(args: &BuildArgs, cwd: &Path) -> Result<Option<PlanEntry>, SpecError> {
    let value = match (&args.plan, &args.entry) {
        (Some(_), Some(e)) if e.trim_start().starts_with('{') => {
            return Err(SpecError::PlanAndEntry);
        }
        (Some(_), Some(e)) => e.clone(),
        (Some(plan), None) => args
            .id
            .clone()
            .ok_or_else(|| SpecError::PlanWithoutId(plan.clone()))?,
        (None, Some(e)) => e.clone(),
        (None, None) => return Ok(None),
    };
    match golden_contracts::entry::resolve(args.plan.as_deref(), Some(&value), cwd)? {
        Some(r) => match r.entry {
            Some(e) => Ok(Some(e)),
            // Neither JSON nor an existing file, and no plan to look an id up in.
            None => Err(SpecError::EntryFile {
                path: cwd.join(value.trim()),
                source: std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "no such file (an entry id needs --plan FILE)",
                ),
            }),
        },
        None => Ok(None),
    }
}

/// Resolve `given` (relative to `base`) to an existing path inside `root`.
fn inside_root(
    what: &'static str,
    given: &Path,
    base: &Path,
    root: &Path,
    hint: &str,
) -> Result<PathBuf, SpecError> {
    let joined = base.join(given);
    let resolved = joined.canonicalize().map_err(|_| SpecError::Missing {
        what,
        given: given.display().to_string(),
        resolved: joined.clone(),
        hint: hint.to_string(),
    })?;
    if !resolved.starts_with(root) {
        return Err(SpecError::OutsideRepo {
            what,
            given: given.display().to_string(),
            resolved,
            root: root.to_path_buf(),
        });
    }
    Ok(resolved)
}

fn check_tag(tag: &str) -> Result<(), SpecError> {
    let bad = |reason: String| SpecError::BadTag {
        tag: tag.to_string(),
        reason,
    };
    let r = golden_oci::Reference::parse(tag).map_err(|e| bad(e.to_string()))?;
    if r.digest.is_some() {
        return Err(bad(
            "a tag cannot carry a digest (drop the `@sha256:...` part)".into(),
        ));
    }
    Ok(())
}

fn kv_map(flag: &'static str, values: &[String]) -> Result<BTreeMap<String, String>, SpecError> {
    let mut m = BTreeMap::new();
    for v in values.iter().filter(|v| !v.trim().is_empty()) {
        let (k, val) = labels::parse_kv(flag, v)?;
        m.insert(k, val);
    }
    Ok(m)
}

/// Build the job. `cwd` is where explicit relative paths start.
pub fn resolve(args: &BuildArgs, cwd: &Path) -> Result<Job, SpecError> {
    let entry = load_entry(args, cwd)?;
    check_bootstrap_mode(args, entry.as_ref())?;
    let root = repo_root(args.repo_root.as_deref(), cwd)?;
    let cli_build_args = kv_map("--build-arg", &args.build_args)?;
    let cli_labels = cli_labels(args, cwd)?;
    let tags: Vec<String> = args
        .tags
        .iter()
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .collect();

    let (arch, foreign) = target_arch(args.arch.as_deref())?;
    let (context_dir, dockerfile, dockerfile_shown, dockerfile_at) =
        files(args, entry.as_ref(), &tags, cwd, &root)?;
    let dockerfile_shown = dockerfile
        .strip_prefix(&root)
        .map(|p| p.display().to_string())
        .unwrap_or(dockerfile_shown);

    let tags = if tags.is_empty() {
        entry.as_ref().map(|e| e.tags.clone()).unwrap_or_default()
    } else {
        tags
    };
    for t in &tags {
        check_tag(t)?;
    }
    // A foreign architecture's images live beside the native ones in the same engine.
    let tags: Vec<String> = match foreign {
        true => tags.iter().map(|t| arch_tag(t, arch)).collect(),
        false => tags,
    };

    let mut build_args = entry
        .as_ref()
        .map(|e| e.build_args.clone())
        .unwrap_or_default();
    build_args.extend(cli_build_args.clone());

    let (base_arg, mut base_ref, base_in_run) =
        base_reference(args, entry.as_ref(), &cli_build_args);
    // The entry's base of a foreign architecture is that architecture's build of it (tagged
    // the same way); a base given on the command line is taken as it is.
    let entry_base = entry.as_ref().and_then(|e| e.base_image.as_ref());
    if foreign && base_ref.is_some() && base_ref.as_ref() == entry_base {
        base_ref = base_ref.map(|b| arch_tag(&b, arch));
    }

    let first_tag = tags
        .first()
        .and_then(|t| golden_oci::Reference::parse(t).ok());
    let id = job_id(args, entry.as_ref(), first_tag.as_ref(), &context_dir);
    let (version, title) = version_and_title(entry.as_ref(), first_tag.as_ref());

    Ok(Job {
        id,
        entry_labels: entry.as_ref().map(|e| e.labels.clone()).unwrap_or_default(),
        bootstrap: entry.as_ref().and_then(|e| e.bootstrap.clone()),
        upstream: entry.as_ref().and_then(|e| e.upstream.clone()),
        entry,
        repo_root: root,
        context_dir,
        dockerfile,
        dockerfile_shown,
        dockerfile_at,
        tags,
        build_args,
        cli_build_args,
        cli_labels,
        target: args.target.clone().filter(|t| !t.is_empty()),
        base_ref,
        base_arg: base_arg.to_string(),
        base_in_run,
        version,
        title,
        arch,
        foreign,
    })
}

/// The architecture to build for (`--arch`, default this machine's) and whether it is foreign.
pub fn target_arch(given: Option<&str>) -> Result<(Arch, bool), SpecError> {
    let host = Arch::parse(golden_contracts::build::host_arch());
    let arch = match given.map(str::trim).filter(|s| !s.is_empty()) {
        Some(a) => Arch::parse(a).map_err(SpecError::Arch)?,
        None => host.clone().map_err(|e| {
            SpecError::Arch(format!("this machine's architecture: {e}; pass --arch"))
        })?,
    };
    Ok((arch, host.ok() != Some(arch)))
}

/// `reference` with `-<arch>` appended to its tag (`:latest-<arch>` when it has none); a
/// digest reference names one image already and is returned as it is.
pub fn arch_tag(reference: &str, arch: Arch) -> String {
    if reference.contains('@') {
        return reference.to_string();
    }
    let last = reference.rsplit('/').next().unwrap_or(reference);
    if last.contains(':') {
        format!("{reference}-{}", arch.as_str())
    } else {
        format!("{reference}:latest-{}", arch.as_str())
    }
}

/// `--mode bootstrap` needs an entry with `bootstrap` settings.
fn check_bootstrap_mode(args: &BuildArgs, entry: Option<&PlanEntry>) -> Result<(), SpecError> {
    if args.mode == cli::Mode::Bootstrap && entry.is_none_or(|e| e.bootstrap.is_none()) {
        let id = entry
            .map(|e| e.id.clone())
            .or_else(|| args.id.clone())
            .unwrap_or_else(|| "explicit build".into());
        return Err(SpecError::NoBootstrap(id));
    }
    Ok(())
}

/// `--label` values, plus the base digest from `--base-record`.
fn cli_labels(args: &BuildArgs, cwd: &Path) -> Result<BTreeMap<String, String>, SpecError> {
    let mut cli_labels = kv_map("--label", &args.labels)?;
    if let Some(p) = &args.base_record {
        // The base handoff: the base's push record (golden-push --record) names its registry
        // digest; an explicit --label wins.
        let path = cwd.join(p);
        let rec = golden_contracts::push::PushRecord::read(&path)?;
        let digest = rec
            .digest
            .filter(|_| rec.result == golden_contracts::push::PushResult::Success)
            .ok_or_else(|| SpecError::BaseRecordFailed(path.clone()))?;
        cli_labels
            .entry(labels::BASE_DIGEST.to_string())
            .or_insert(digest);
    }
    Ok(cli_labels)
}

/// The context directory, the Dockerfile, how it is shown, and where it is for the context.
type Files = (PathBuf, PathBuf, String, DockerfileAt);

/// The checked context and Dockerfile. A bootstrap build does not read the Dockerfile: a missing
/// one is not an error there (a path outside the repository still is).
fn files(
    args: &BuildArgs,
    entry: Option<&PlanEntry>,
    tags: &[String],
    cwd: &Path,
    root: &Path,
) -> Result<Files, SpecError> {
    match locate_files(args, entry, tags, cwd, root) {
        Ok(f) => Ok(f),
        Err(SpecError::Missing { .. } | SpecError::WrongKind { .. })
            if args.mode == cli::Mode::Bootstrap
                && entry.is_some_and(|e| e.bootstrap.is_some()) =>
        {
            let df = root.join("Dockerfile");
            Ok((
                root.to_path_buf(),
                df,
                "Dockerfile".to_string(),
                DockerfileAt::Inside("Dockerfile".into()),
            ))
        }
        Err(e) => Err(e),
    }
}

/// Find and check the context directory and the Dockerfile (flags first, then the entry).
fn locate_files(
    args: &BuildArgs,
    entry: Option<&PlanEntry>,
    tags: &[String],
    cwd: &Path,
    root: &Path,
) -> Result<Files, SpecError> {
    let root_hint = format!(
        "; hint: plan entries hold paths relative to the repository root `{}` (set --repo-root)",
        root.display()
    );
    let (context_dir, context_shown) = match (&args.context, entry) {
        (Some(c), _) => (
            inside_root("context", c, cwd, root, "")?,
            c.display().to_string(),
        ),
        (None, Some(e)) => (
            inside_root("context", Path::new(&e.context), root, root, &root_hint)?,
            e.context.clone(),
        ),
        (None, None) => {
            if args.dockerfile.is_none() && args.id.is_none() && tags.is_empty() {
                return Err(SpecError::NoInput);
            }
            return Err(SpecError::NeedContext);
        }
    };
    if !context_dir.is_dir() {
        return Err(SpecError::WrongKind {
            what: "context",
            given: context_shown,
            expected: "directory",
        });
    }
    let (dockerfile, dockerfile_shown) = match (&args.dockerfile, entry) {
        (Some(d), _) => (
            inside_root("Dockerfile", d, cwd, root, "")?,
            d.display().to_string(),
        ),
        (None, Some(e)) => (
            inside_root(
                "Dockerfile",
                Path::new(&e.dockerfile),
                root,
                root,
                &format!("{root_hint} (entry `{}`, field `dockerfile`)", e.id),
            )?,
            e.dockerfile.clone(),
        ),
        (None, None) => {
            let shown = Path::new(&context_shown).join("Dockerfile");
            (
                inside_root(
                    "Dockerfile",
                    &shown,
                    cwd,
                    root,
                    "; hint: pass --dockerfile FILE when it is not <context>/Dockerfile",
                )?,
                shown.display().to_string(),
            )
        }
    };
    if !dockerfile.is_file() {
        return Err(SpecError::WrongKind {
            what: "Dockerfile",
            given: dockerfile_shown,
            expected: "file",
        });
    }
    let dockerfile_at = match dockerfile.strip_prefix(&context_dir) {
        Ok(rel) => DockerfileAt::Inside(
            rel.components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/"),
        ),
        Err(_) => DockerfileAt::Outside(dockerfile.clone()),
    };
    Ok((context_dir, dockerfile, dockerfile_shown, dockerfile_at))
}

/// The base whose immutable id goes into the build: `--base-image`, a `BASE_IMAGE` or
/// `UPSTREAM` build arg from the command line, the platform's `base_image`, the base's
/// `upstream`, then the entry's own build args. Base Dockerfiles take `UPSTREAM`, platform
/// Dockerfiles `BASE_IMAGE`. Returns the build arg, the reference, and whether the base is
/// rebuilt in the same run.
fn base_reference(
    args: &BuildArgs,
    entry: Option<&PlanEntry>,
    cli_build_args: &BTreeMap<String, String>,
) -> (&'static str, Option<String>, bool) {
    let is_base = entry.is_some_and(|e| e.stage == StageKind::Base);
    let default_arg = if is_base { "UPSTREAM" } else { "BASE_IMAGE" };
    let entry_args = entry.map(|e| e.build_args.clone()).unwrap_or_default();
    let from_cli_arg = ["BASE_IMAGE", "UPSTREAM"]
        .into_iter()
        .find_map(|k| cli_build_args.get(k).map(|v| (k, v.clone())));
    if let Some(b) = args.base_image.clone().filter(|s| !s.trim().is_empty()) {
        (default_arg, Some(b.trim().to_string()), false)
    } else if let Some((k, v)) = from_cli_arg {
        (k, Some(v), false)
    } else if let Some(e) = entry.filter(|e| e.base_image.is_some()) {
        ("BASE_IMAGE", e.base_image.clone(), e.base_in_plan)
    } else if let Some(u) = entry.filter(|e| e.stage == StageKind::Base).and_then(|e| {
        e.upstream
            .clone()
            .or_else(|| e.build_args.get("UPSTREAM").cloned())
    }) {
        ("UPSTREAM", Some(u), false)
    } else if let Some((k, v)) = ["BASE_IMAGE", "UPSTREAM"]
        .into_iter()
        .find_map(|k| entry_args.get(k).map(|v| (k, v.clone())))
    {
        (k, Some(v), false)
    } else {
        (default_arg, None, false)
    }
}

/// Record id: the entry id, `--id`, or derived from the first tag (else the context's name).
fn job_id(
    args: &BuildArgs,
    entry: Option<&PlanEntry>,
    first_tag: Option<&golden_oci::Reference>,
    context_dir: &Path,
) -> String {
    match (entry, &args.id) {
        (Some(e), _) => e.id.clone(),
        (None, Some(id)) => id.clone(),
        (None, None) => match first_tag {
            Some(r) => {
                let name = r.repository.rsplit('/').next().unwrap_or(&r.repository);
                format!("{name}-{}", r.tag.as_deref().unwrap_or("latest"))
            }
            None => context_dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "context".into()),
        },
    }
}

/// The version and title labels: the entry's, else the first tag's tag and repository name.
fn version_and_title(
    entry: Option<&PlanEntry>,
    first_tag: Option<&golden_oci::Reference>,
) -> (Option<String>, Option<String>) {
    match entry {
        Some(e) => (Some(e.version.clone()), Some(e.name.clone())),
        None => (
            first_tag.and_then(|r| r.tag.clone()),
            first_tag.map(|r| {
                r.repository
                    .rsplit('/')
                    .next()
                    .unwrap_or(&r.repository)
                    .to_string()
            }),
        ),
    }
}

#[cfg(test)]
mod arch_tests {
    use super::*;

    #[test]
    fn foreign_tags_carry_the_arch() {
        assert_eq!(
            arch_tag("r.example/golden/base-debian:12", Arch::Arm64),
            "r.example/golden/base-debian:12-arm64"
        );
        assert_eq!(
            arch_tag("127.0.0.1:5000/golden/nginx", Arch::Arm64),
            "127.0.0.1:5000/golden/nginx:latest-arm64"
        );
        let pinned = format!("golden/base@sha256:{}", "a".repeat(64));
        assert_eq!(arch_tag(&pinned, Arch::Arm64), pinned);
    }

    #[test]
    fn the_target_arch_defaults_to_this_machine() {
        let host = Arch::parse(golden_contracts::build::host_arch()).unwrap();
        assert_eq!(target_arch(None).unwrap(), (host, false));
        assert_eq!(target_arch(Some(" ")).unwrap(), (host, false));
        assert_eq!(target_arch(Some(host.as_str())).unwrap(), (host, false));
        let other = if host == Arch::Amd64 {
            Arch::Arm64
        } else {
            Arch::Amd64
        };
        assert_eq!(target_arch(Some(other.as_str())).unwrap(), (other, true));
        let e = target_arch(Some("mips")).unwrap_err().to_string();
        assert!(
            e.contains("--arch (GOLDEN_ARCH)") && e.contains("mips"),
            "{e}"
        );
    }
}
