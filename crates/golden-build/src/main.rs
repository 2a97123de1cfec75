//! `golden-build` binary: parse, run, print the error chain, map to an exit code (0 or 2).

use std::process::ExitCode;

use clap::Parser;
use golden_build::build::{BuildError, error_chain};
use golden_build::cli::{Cli, Command};

fn main() -> ExitCode {
    // One TLS provider for the registry client (the base pull's ACR exchange).
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: failed to start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let cwd = match std::env::current_dir() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: failed to read the current directory: {e}");
            return ExitCode::from(2);
        }
    };
    let env = |k: &str| std::env::var(k).ok();
    let result: Result<(), (String, Option<(String, usize)>)> = runtime.block_on(async {
        match &cli.command {
            Some(Command::Save(a)) => golden_build::archive::save(a, &cwd)
                .await
                .map(|_| ())
                .map_err(|e| (error_chain(&e), None)),
            Some(Command::Load(a)) => golden_build::archive::load(a, &cwd)
                .await
                .map(|_| ())
                .map_err(|e| (error_chain(&e), None)),
            None => {
                let opts = golden_build::spec::Options::from(&cli.build);
                let resolve = || golden_build::spec::resolve(&cli.build, &cwd);
                golden_build::build::run(resolve, &opts, &cwd, &env)
                    .await
                    .map(|_| ())
                    .map_err(|e: BuildError| {
                        let loc = e.location().map(|(f, l)| (f.to_string(), l));
                        (error_chain(&e), loc)
                    })
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err((message, location)) => {
            report(&message, location);
            ExitCode::from(2)
        }
    }
}

/// Print the error. In GitHub Actions the text (which can hold build output) is fenced, and an
/// error annotation (escaped, so it cannot carry a command) points at the failing line.
fn report(message: &str, location: Option<(String, usize)>) {
    if golden_gha::in_actions() {
        let first = message.lines().next().unwrap_or(message);
        let at = golden_gha::Annotation {
            file: location.as_ref().map(|(f, _)| f.as_str()),
            line: location.as_ref().map(|(_, l)| *l as u64),
            col: None,
            title: Some("golden-build"),
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
