//! Command line (clap derive). Every flag can also come from a `GOLDEN_*` environment variable;
//! list-valued variables hold one value per line.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use golden_registry::AuthKind;

#[derive(Debug, Parser)]
#[command(
    name = "golden-build",
    version,
    about = "Build one planned image (or an explicit Dockerfile) through the Docker Engine API",
    args_conflicts_with_subcommands = true,
    after_help = "Exit codes: 0 built, 2 usage or runtime error (the builder has no policy failures).\n\
                  Examples:\n  golden-build --plan plan.json --id nginx-1.22-debian --record out/nginx.json\n  \
                  GOLDEN_ENTRY='{...}' golden-build\n  \
                  golden-build --context . --dockerfile Dockerfile --tag app:dev --build-arg V=1\n  \
                  golden-build save --output images.tar.gz app:dev\n  golden-build load images.tar.gz"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub build: BuildArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write images from the engine to a `docker save` archive (gzip when FILE ends in .gz).
    Save(SaveArgs),
    /// Load a `docker save` archive (plain or compressed) into the engine.
    Load(LoadArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Mode {
    /// Bootstrap when the entry has `bootstrap` and its upstream image is not in the engine.
    #[default]
    Auto,
    /// Always build the Dockerfile.
    Dockerfile,
    /// Always run the Debian bootstrap script (entries with `bootstrap` only).
    Bootstrap,
}

#[derive(Debug, Clone, Default, Args)]
pub struct BuildArgs {
    /// Plan JSON written by golden-plan (use with --id).
    #[arg(long, env = "GOLDEN_PLAN", value_name = "FILE")]
    pub plan: Option<PathBuf>,
    /// Plan entry id to build; without a plan, the id written into the build record.
    #[arg(long, env = "GOLDEN_ID", value_name = "ID")]
    pub id: Option<String>,
    /// One plan entry as JSON (what a matrix job gets from `toJSON(matrix)`), or a file holding it.
    #[arg(
        long,
        env = "GOLDEN_ENTRY",
        value_name = "JSON|FILE",
        hide_env_values = true
    )]
    pub entry: Option<String>,
    /// Dockerfile (default: <context>/Dockerfile; overrides the entry's).
    #[arg(long, env = "GOLDEN_DOCKERFILE", value_name = "FILE")]
    pub dockerfile: Option<PathBuf>,
    /// Build context directory (overrides the entry's).
    #[arg(long, env = "GOLDEN_CONTEXT", value_name = "DIR")]
    pub context: Option<PathBuf>,
    /// Tag to apply (repeatable; replaces the entry's tags). The first is the primary tag.
    #[arg(
        long = "tag",
        short = 't',
        env = "GOLDEN_TAGS",
        value_name = "NAME:TAG",
        value_delimiter = '\n'
    )]
    pub tags: Vec<String>,
    /// Build argument KEY=VALUE (repeatable; added to the entry's).
    #[arg(
        long = "build-arg",
        env = "GOLDEN_BUILD_ARGS",
        value_name = "K=V",
        value_delimiter = '\n'
    )]
    pub build_args: Vec<String>,
    /// Label KEY=VALUE (repeatable; wins over every computed label).
    #[arg(
        long = "label",
        env = "GOLDEN_LABELS",
        value_name = "K=V",
        value_delimiter = '\n'
    )]
    pub labels: Vec<String>,
    /// Build stage to stop at.
    #[arg(long, env = "GOLDEN_TARGET", value_name = "STAGE")]
    pub target: Option<String>,
    /// Base image for BASE_IMAGE: an image in the engine (name:tag or id) or a registry reference
    /// (`registry/name:tag`, `name@sha256:...`), pulled when the engine does not have it.
    #[arg(long, env = "GOLDEN_BASE_IMAGE", value_name = "REF")]
    pub base_image: Option<String>,
    /// Never pull the base image: it must be in the engine already (air-gapped builds).
    #[arg(long, env = "GOLDEN_NO_PULL_BASE")]
    pub no_pull_base: bool,
    /// Verify policy (golden-push's, docs/signing.md): a base published in one of the image's own
    /// registries (not rebuilt in this run) must verify against it — signature, and provenance
    /// and a signed passed scan report as the policy requires — before anything is built on it.
    #[arg(long, env = "GOLDEN_VERIFY_POLICY", value_name = "FILE")]
    pub verify_policy: Option<PathBuf>,
    /// Registry auth for pulling the base: auto (GitHub OIDC, service principal, token, docker
    /// config, anonymous — in that order), github-oidc, service-principal, token, docker-config,
    /// anonymous.
    #[arg(long, env = "GOLDEN_AUTH", value_name = "METHOD", default_value = "auto", value_parser = parse_auth)]
    pub auth: AuthKind,
    /// Repository root that entry paths are relative to (default: git top level of the
    /// current directory, else the current directory). Contexts and Dockerfiles must be inside.
    #[arg(long, env = "GOLDEN_REPO_ROOT", value_name = "DIR")]
    pub repo_root: Option<PathBuf>,
    /// Architecture to build for, OCI name (amd64, arm64; default: this machine's). A foreign
    /// one runs under emulation (qemu-user-static through binfmt_misc, checked before the
    /// build); its images are tagged `<tag>-<arch>` in the engine, beside the native ones, and
    /// an entry's base is looked up as `<base>-<arch>`.
    #[arg(long, env = "GOLDEN_ARCH", value_name = "ARCH")]
    pub arch: Option<String>,
    /// How to build an entry.
    #[arg(long, env = "GOLDEN_BUILD_MODE", value_enum, default_value_t = Mode::Auto)]
    pub mode: Mode,
    /// Debian bootstrap script for `--mode bootstrap` (relative to the repository root).
    #[arg(
        long,
        env = "GOLDEN_BOOTSTRAP_SCRIPT",
        value_name = "FILE",
        default_value = "scripts/bootstrap-debian.sh"
    )]
    pub bootstrap_script: PathBuf,
    /// The base's push record (golden-push --record): its digest becomes the
    /// `org.opencontainers.image.base.digest` label (the base handoff of a plan run).
    #[arg(long, env = "GOLDEN_BASE_RECORD", value_name = "FILE")]
    pub base_record: Option<PathBuf>,
    /// Write the build record (JSON) here, also when the build fails.
    #[arg(long, env = "GOLDEN_RECORD", value_name = "FILE")]
    pub record: Option<PathBuf>,
    /// Do not use the build cache.
    #[arg(long, env = "GOLDEN_NO_CACHE")]
    pub no_cache: bool,
    /// Always try to pull newer versions of FROM images (the nightly's). With a resolved base
    /// golden-build pulls itself: the published base again (never one rebuilt in this run) and
    /// the Dockerfile's other FROM images.
    #[arg(long, env = "GOLDEN_PULL")]
    pub pull: bool,
    /// Image to use as a cache source (repeatable): pulled first with the credentials of its
    /// registry (like the base); one that cannot be pulled is a warning, never a failure.
    #[arg(
        long = "cache-from",
        env = "GOLDEN_CACHE_FROM",
        value_name = "IMAGE",
        value_delimiter = '\n'
    )]
    pub cache_from: Vec<String>,
    /// Do not print the build output (it is still kept for the error on failure); print the
    /// image id on stdout at the end.
    #[arg(long, short = 'q', env = "GOLDEN_QUIET")]
    pub quiet: bool,
}

fn parse_auth(s: &str) -> Result<AuthKind, String> {
    s.parse::<AuthKind>().map_err(|e| e.to_string())
}

#[derive(Debug, Clone, Args)]
pub struct SaveArgs {
    /// Archive to write (atomically); gzip-compressed when it ends in `.gz`.
    #[arg(long, short = 'o', env = "GOLDEN_ARCHIVE", value_name = "FILE")]
    pub output: PathBuf,
    /// gzip level 0-9 for `.gz` archives.
    #[arg(long, env = "GOLDEN_GZIP_LEVEL", default_value_t = 6, value_parser = clap::value_parser!(u32).range(0..=9))]
    pub gzip_level: u32,
    /// Images (name:tag or id).
    #[arg(
        required = true,
        env = "GOLDEN_IMAGES",
        value_name = "IMAGE",
        value_delimiter = '\n'
    )]
    pub images: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct LoadArgs {
    /// Archive written by `golden-build save` or `docker save` (plain, gzip, bzip2 or xz).
    #[arg(env = "GOLDEN_ARCHIVE", value_name = "FILE")]
    pub archive: PathBuf,
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
    fn save_and_build_parse() {
        let c = Cli::try_parse_from(["golden-build", "save", "-o", "x.tar", "a:1", "b:2"]).unwrap();
        match c.command {
            Some(Command::Save(s)) => assert_eq!(s.images, ["a:1", "b:2"]),
            other => panic!("{other:?}"),
        }
        let c = Cli::try_parse_from([
            "golden-build",
            "--context",
            ".",
            "-t",
            "a:1",
            "--tag",
            "a:2",
            "--build-arg",
            "A=1",
        ])
        .unwrap();
        assert!(c.command.is_none());
        assert_eq!(c.build.tags, ["a:1", "a:2"]);
        assert_eq!(c.build.mode, Mode::Auto);
    }
}
