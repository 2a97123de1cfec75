//! `golden-push`: parse flags (each also from a `GOLDEN_*` variable), run, print the error
//! chain, exit 0 (success) or 2 (usage or runtime error).

use std::process::ExitCode;

use clap::Parser;
use golden_push::cli::{Cli, with_default_subcommand};

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
    match rt.block_on(golden_push::run::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            golden_gha::report_fatal("golden-push", &e);
            ExitCode::from(2)
        }
    }
}
