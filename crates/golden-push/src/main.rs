//! `golden-push`: parse flags (each also from a `GOLDEN_*` variable), run, print the error
//! chain, exit 0 (success) or 2 (usage or runtime error).

use std::process::ExitCode;

use clap::Parser;
use golden_gha::scaffold::{Logs, Runtime, Spec};
use golden_push::cli::{Cli, with_default_subcommand};

fn main() -> ExitCode {
    let cli = Cli::parse_from(with_default_subcommand(std::env::args().collect()));
    let spec = Spec {
        tool: "golden-push",
        runtime: Runtime::MultiThread { workers: None },
        tls: true,
        logs: Some(Logs {
            filter_env: "RUST_LOG",
            time_and_target: false,
        }),
    };
    // Errors print as `golden-push: error: …` (`golden_push::Error`'s `Fatal`).
    golden_gha::scaffold::run(spec, golden_push::run::run(cli))
}
