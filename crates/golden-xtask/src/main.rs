//! `golden-xtask`: project tasks. `action-docs [--check]` generates or checks the action READMEs;
//! `env-docs [--check]` generates or checks docs/environment.md and the flag tables of the
//! binaries' READMEs.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use golden_xtask::docs::{self, Status};
use golden_xtask::envdocs;

#[derive(Debug, Parser)]
#[command(
    name = "golden-xtask",
    version,
    about = "Project tasks for the golden image build system"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Generate each `actions/<name>/README.md` input/output table from its action.yml.
    ///
    /// Exit codes: 0 up to date (or updated), 1 drift or rule violations, 2 error.
    ActionDocs {
        /// Only check: exit 1 when a README differs from what would be generated.
        #[arg(long, env = "GOLDEN_CHECK")]
        check: bool,
        /// Repository root (holds `actions/`).
        #[arg(long, env = "GOLDEN_REPO_ROOT", default_value = ".")]
        root: PathBuf,
    },
    /// Generate docs/environment.md (every environment variable of the binaries) and the flag
    /// table of each binary's README (crates/<binary>/README.md, between its markers), from
    /// their clap definitions.
    ///
    /// Exit codes: 0 up to date (or updated), 1 drift, 2 error (a README without markers).
    EnvDocs {
        /// Only check: exit 1 when docs/environment.md or a README differs from what would be
        /// generated.
        #[arg(long, env = "GOLDEN_CHECK")]
        check: bool,
        /// Repository root (holds `docs/` and `crates/`).
        #[arg(long, env = "GOLDEN_REPO_ROOT", default_value = ".")]
        root: PathBuf,
    },
}

fn run(cli: Cli) -> anyhow::Result<bool> {
    match cli.command {
        Cmd::ActionDocs { check, root } => {
            let outcome = docs::run(&root, check).with_context(|| {
                format!(
                    "failed to process the actions under `{}`",
                    root.join("actions").display()
                )
            })?;
            for (name, status) in &outcome.actions {
                let what = match status {
                    Status::UpToDate => "up to date",
                    Status::Updated => "updated",
                    Status::Created => "created",
                    Status::Drift => "OUT OF DATE (run scripts/gen-action-docs.sh)",
                };
                eprintln!("action-docs: actions/{name}/README.md {what}");
            }
            for p in &outcome.problems {
                eprintln!("action-docs: error: {p}");
            }
            if outcome.actions.is_empty() {
                eprintln!(
                    "action-docs: no actions/<name>/action.yml found under `{}`",
                    root.display()
                );
            }
            Ok(outcome.ok())
        }
        Cmd::EnvDocs { check, root } => {
            let files = envdocs::run(&root, check).with_context(|| {
                format!(
                    "failed to generate {} and the binaries' README flag tables under `{}`",
                    envdocs::FILE,
                    root.display()
                )
            })?;
            for (file, status) in &files {
                let what = match status {
                    envdocs::Status::UpToDate => "up to date",
                    envdocs::Status::Written => "updated",
                    envdocs::Status::Drift => "OUT OF DATE (run scripts/gen-action-docs.sh)",
                };
                eprintln!("env-docs: {} {what}", file.display());
            }
            Ok(files.iter().all(|(_, s)| *s != envdocs::Status::Drift))
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            golden_gha::print_error_chain("", e.as_ref());
            ExitCode::from(2)
        }
    }
}
