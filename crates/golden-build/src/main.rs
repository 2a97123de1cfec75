//! `golden-build` binary: parse, run, print the error chain, map to an exit code (0 or 2).

use std::process::ExitCode;

use clap::Parser;
use golden_build::build::{BuildError, error_chain};
use golden_build::cli::{Cli, Command};
use golden_gha::scaffold::{Fatal, Runtime, Spec};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let spec = Spec {
        tool: "golden-build",
        runtime: Runtime::MultiThread { workers: Some(2) },
        // One TLS provider for the registry client (the base pull's ACR exchange).
        tls: true,
        logs: None,
    };
    golden_gha::scaffold::run(spec, run(cli))
}

async fn run(cli: Cli) -> Result<(), Failure> {
    let cwd = std::env::current_dir().map_err(Failure::Cwd)?;
    let env = |k: &str| std::env::var(k).ok();
    match &cli.command {
        Some(Command::Save(a)) => golden_build::archive::save(a, &cwd)
            .await
            .map(|_| ())
            .map_err(|e| Failure::failed(&e, None)),
        Some(Command::Load(a)) => golden_build::archive::load(a, &cwd)
            .await
            .map(|_| ())
            .map_err(|e| Failure::failed(&e, None)),
        None => {
            let opts = golden_build::spec::Options::from(&cli.build);
            let resolve = || golden_build::spec::resolve(&cli.build, &cwd);
            golden_build::build::run(resolve, &opts, &cwd, &env)
                .await
                .map(|_| ())
                .map_err(|e: BuildError| {
                    let loc = e.location().map(|(f, l)| (f.to_string(), l));
                    Failure::failed(&e, loc)
                })
        }
    }
}

/// Why golden-build stopped.
#[derive(Debug, thiserror::Error)]
enum Failure {
    /// Before anything ran: printed as a plain `error:` line.
    #[error("failed to read the current directory: {0}")]
    Cwd(#[source] std::io::Error),
    /// The build, save or load failed: its error chain on one line, and the Dockerfile line
    /// it points at.
    #[error("{message}")]
    Failed {
        message: String,
        location: Option<(String, usize)>,
    },
}

impl Failure {
    fn failed(e: &dyn std::error::Error, location: Option<(String, usize)>) -> Failure {
        Failure::Failed {
            message: error_chain(e),
            location,
        }
    }
}

impl Fatal for Failure {
    fn error(&self) -> &(dyn std::error::Error + 'static) {
        self
    }

    /// Print the error. In GitHub Actions the text (which can hold build output) is fenced, and
    /// an error annotation (escaped, so it cannot carry a command) points at the failing line.
    fn report(&self, tool: &str) {
        let (message, location) = match self {
            Failure::Cwd(_) => {
                eprintln!("error: {self}");
                return;
            }
            Failure::Failed { message, location } => (message, location),
        };
        if golden_gha::in_actions() {
            let first = message.lines().next().unwrap_or(message);
            let at = golden_gha::Annotation {
                file: location.as_ref().map(|(f, _)| f.as_str()),
                line: location.as_ref().map(|(_, l)| *l as u64),
                col: None,
                title: Some(tool),
            };
            golden_gha::annotate(golden_gha::Level::Error, &at, first);
            let fence = golden_gha::Fence::open();
            for line in message.lines() {
                fence.line(&format!("error: {line}"));
            }
        } else {
            eprintln!("error: {message}");
        }
    }
}
