//! `golden-plan` command line (clap derive). Every flag but `--check` can also come from a
//! `GOLDEN_*` environment variable; see README.md and docs/environment.md.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::{Event, Rebuild};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Json,
    /// A table for people (`table` is accepted too).
    #[value(name = "text", alias = "table")]
    Table,
}

/// Plan the golden image builds: read the catalog, decide what to rebuild, print the matrix.
#[derive(Debug, Parser)]
#[command(
    name = "golden-plan",
    version,
    about,
    max_term_width = 100,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    /// Without a subcommand: plan (the flags below).
    #[command(subcommand)]
    pub command: Option<Command>,
    /// The catalog.
    #[arg(
        long,
        env = "GOLDEN_CONFIG",
        default_value = "configs/build-config.yaml"
    )]
    pub config: PathBuf,
    /// Repository root (paths in the config are relative to it) [default: git top-level of the
    /// config's directory, else the current directory].
    #[arg(long, env = "GOLDEN_REPO_ROOT")]
    pub repo_root: Option<PathBuf>,
    /// Registry overrides file (ACR_LOGIN_SERVER, IMAGE_NAMESPACE) [default: acr-config.env next
    /// to the config, when present]. GOLDEN_REGISTRY / GOLDEN_NAMESPACE override both.
    #[arg(long, env = "GOLDEN_ACR_CONFIG")]
    pub acr_config: Option<PathBuf>,
    /// Staging namespace: images are pushed under it with per-run tags only (dated, commit,
    /// pull request), never a moving tag; the moving tags of the catalog's namespace (the
    /// release location) move only through a promotion. Cache sources and published bases are
    /// still read from the release namespace. Empty = push to the catalog's namespace.
    #[arg(long, env = "GOLDEN_STAGING_NAMESPACE")]
    pub staging_namespace: Option<String>,
    /// Validate the config and check the repository against it (every file it names exists);
    /// list every problem, plan nothing.
    #[arg(long)]
    pub check: bool,
    /// The triggering event [default: from GITHUB_EVENT_NAME, else local].
    #[arg(long, env = "GOLDEN_EVENT", value_enum)]
    pub event: Option<Event>,
    /// Rebuild what changed or everything [default: changed for pull_request/push, all otherwise].
    #[arg(long, env = "GOLDEN_REBUILD", value_enum)]
    pub rebuild: Option<Rebuild>,
    /// File listing the changed paths, one per line (repository-relative).
    #[arg(long, env = "GOLDEN_CHANGED_FILES")]
    pub changed_files: Option<PathBuf>,
    /// Compare against this git revision (runs `git diff base...head`).
    #[arg(long, env = "GOLDEN_BASE_REF")]
    pub base_ref: Option<String>,
    /// The revision being built.
    #[arg(long, env = "GOLDEN_HEAD_REF", default_value = "HEAD")]
    pub head_ref: String,
    /// The previous config file, when it is not in git at --base-ref.
    #[arg(long, env = "GOLDEN_PREVIOUS_CONFIG")]
    pub previous_config: Option<PathBuf>,
    /// Only these base OSes (comma list; empty or `all` means every OS).
    #[arg(long, env = "GOLDEN_OS", value_delimiter = ',')]
    pub os: Vec<String>,
    /// Only these platforms (comma list; empty or `all` means every platform). Bases are
    /// filtered by --os only.
    #[arg(long, env = "GOLDEN_PLATFORMS", value_delimiter = ',')]
    pub platforms: Vec<String>,
    /// Keep only images buildable without a registry or vendor repository (this machine's case:
    /// the Debian base from the archive and the platforms on it).
    #[arg(long, env = "GOLDEN_OFFLINE")]
    pub offline: bool,
    /// Output format [default: json when stdout is not a terminal, else text (a table)].
    #[arg(long, env = "GOLDEN_FORMAT", value_enum)]
    pub format: Option<Format>,
    /// Also write the plan JSON to this file.
    #[arg(long, env = "GOLDEN_PLAN_OUTPUT")]
    pub output: Option<PathBuf>,
    /// Date for the dated tag, YYYYMMDD [default: SOURCE_DATE_EPOCH, else today (UTC)].
    #[arg(long, env = "GOLDEN_DATE")]
    pub date: Option<String>,
    /// Commit for the commit tag [default: GITHUB_SHA, else git HEAD].
    #[arg(long, env = "GOLDEN_SHA")]
    pub sha: Option<String>,
    /// Git ref being built, to decide whether moving tags apply [default: GITHUB_REF].
    #[arg(long = "ref", env = "GOLDEN_REF")]
    pub git_ref: Option<String>,
    /// Pull request number (for `-pr-N` tags) [default: from the event payload].
    #[arg(long, env = "GOLDEN_PR")]
    pub pr: Option<u64>,
    /// Architectures each entry is built for: a JSON list (`["amd64","arm64"]`) or a comma list;
    /// the 256-job matrix limit counts entries × architectures.
    #[arg(long, env = "GOLDEN_ARCHITECTURES", default_value = "amd64")]
    pub architectures: String,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check that every pinned `upstream:` of the catalog's bases is still what its tag points
    /// to (anonymous pulls of the manifests); `--write` pins the current digests. Exit 0: all
    /// fresh, 1: some stale, 2: errors (each row still resolved on its own).
    Upstreams(UpstreamsArgs),
    /// Check the `runners` input of golden-images.yml (which runner each job runs on) and print
    /// it normalized: a JSON object with `amd64`, `arm64` and `default`, each a label, a list of
    /// labels or `{"group": ..., "labels": [...]}`. Sets the step output `runners`. Exit 2 with
    /// an error naming the input and the key when it is malformed.
    Runners(RunnersArgs),
}

/// `golden-plan runners`.
#[derive(Debug, Args)]
pub struct RunnersArgs {
    /// The mapping, a JSON object (`{"default": "ubuntu-24.04", "amd64": ["self-hosted",
    /// "x64"]}`). Empty = the GitHub-hosted labels (ubuntu-24.04, ubuntu-24.04-arm); a missing
    /// `default` is the slot of the first architecture.
    #[arg(long, env = "GOLDEN_RUNNERS", default_value = "")]
    pub runners: String,
    /// The run's architectures (a JSON list or a comma list, like the plan's); the first one
    /// decides `default` when the mapping has none.
    #[arg(long, env = "GOLDEN_ARCHITECTURES", default_value = "amd64")]
    pub architectures: String,
}

/// `golden-plan upstreams`.
#[derive(Debug, Args)]
pub struct UpstreamsArgs {
    /// The catalog.
    #[arg(
        long,
        env = "GOLDEN_CONFIG",
        default_value = "configs/build-config.yaml"
    )]
    pub config: PathBuf,
    /// Rewrite the digest of every stale `upstream:` line in the config (nothing else changes;
    /// the file is replaced atomically).
    #[arg(long, env = "GOLDEN_UPSTREAMS_WRITE", action = clap::ArgAction::SetTrue, value_parser = clap::builder::BoolishValueParser::new())]
    pub write: bool,
    /// Resolve a registry's upstreams on another registry, `FROM=TO` (`docker.io=127.0.0.1:5000`):
    /// a mirror, or a local stand-in in tests. Repeatable; the variable takes a comma list.
    /// Plain HTTP is used for loopback hosts only.
    #[arg(
        long = "registry-map",
        env = "GOLDEN_REGISTRY_MAP",
        value_name = "FROM=TO",
        value_delimiter = ','
    )]
    pub registry_map: Vec<String>,
    /// Architectures whose per-platform digest is reported for a multi-arch upstream: a JSON
    /// list (`["amd64","arm64"]`) or a comma list, like the plan's.
    #[arg(long, env = "GOLDEN_ARCHITECTURES", default_value = "amd64")]
    pub architectures: String,
    /// Retries of a failed request (connection errors, 429, 5xx), with exponential backoff.
    #[arg(long, env = "GOLDEN_RETRIES", default_value_t = 3)]
    pub retries: u32,
    /// Output format [default: json when stdout is not a terminal, else text (a table)].
    #[arg(long, env = "GOLDEN_FORMAT", value_enum)]
    pub format: Option<Format>,
}
