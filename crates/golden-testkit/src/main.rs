//! `golden-testkit serve --dir DIR --repository owner/repo`: start the fakes (ACR token service,
//! Entra ID, GitHub OIDC, GitHub REST) on 127.0.0.1 and keep them up until SIGTERM or Ctrl-C.
//! `<dir>/env` holds their settings (written last: its presence means ready);
//! `<dir>/requests.jsonl` what they received; `<dir>/issued-secrets.txt` every secret they issued.
//!
//! `golden-testkit trivy-db --fixture FILE --repository HOST:PORT/REPO [--java-repository ...]`:
//! build the small Trivy DB of the fixture and push it (tag `2`; the empty Java DB tag `1`).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use golden_testkit::kit::{Kit, KitConfig};

#[derive(Parser)]
#[command(
    name = "golden-testkit",
    version,
    about = "Loopback fakes of GitHub and Azure for the workflow scenarios (dev only)"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Start every fake and serve until SIGTERM.
    Serve {
        /// Folder for the settings, the journal, the key and the GitHub state.
        #[arg(long)]
        dir: PathBuf,
        /// owner/repo the GitHub fakes serve.
        #[arg(long)]
        repository: String,
        /// Entra tenant id.
        #[arg(long, default_value = "golden-test-tenant")]
        tenant: String,
        /// Entra client id.
        #[arg(long, default_value = "golden-test-client")]
        client_id: String,
        /// The registry's token service name.
        #[arg(long, default_value = "golden-test-registry")]
        service: String,
        /// The issuer the registry trusts.
        #[arg(long, default_value = "golden-test-issuer")]
        issuer: String,
        /// `host:port` of the token-mode registry to front (`/v2/` forwarded there, the token
        /// endpoints served here, on one host like an ACR login server).
        #[arg(long)]
        registry_upstream: Option<String>,
    },
    /// Build the Trivy vulnerability DB of a fixture and push it to a (loopback) registry as
    /// Trivy's OCI artifact (`<repository>:2`); with --java-repository also an empty Java DB
    /// (`<java-repository>:1`). Prints the pushed references.
    TrivyDb {
        /// Advisories (YAML), e.g. tests/fixtures/trivy-db/advisories.yaml.
        #[arg(long)]
        fixture: PathBuf,
        /// Repository for the vulnerability DB, `host:port/path` (no tag).
        #[arg(long)]
        repository: String,
        /// Repository for the empty Java DB, `host:port/path` (no tag).
        #[arg(long)]
        java_repository: Option<String>,
        /// Also write the files here, laid out like Trivy's cache (`db/`, `java-db/`).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let (dir, repository, tenant, client_id, service, issuer, registry_upstream) = match cli.cmd {
        Cmd::TrivyDb {
            fixture,
            repository,
            java_repository,
            out,
        } => {
            return match golden_testkit::trivydb::publish(
                &fixture,
                &repository,
                java_repository.as_deref(),
                out.as_deref(),
            )
            .await
            {
                Ok(lines) => {
                    for l in lines {
                        println!("{l}");
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("golden-testkit trivy-db: {e:#}");
                    ExitCode::from(2)
                }
            };
        }
        Cmd::Serve {
            dir,
            repository,
            tenant,
            client_id,
            service,
            issuer,
            registry_upstream,
        } => (
            dir,
            repository,
            tenant,
            client_id,
            service,
            issuer,
            registry_upstream,
        ),
    };
    if repository.split('/').count() != 2 || repository.split('/').any(str::is_empty) {
        eprintln!("golden-testkit: --repository must be owner/repo, got `{repository}`");
        return ExitCode::from(2);
    }
    let cfg = KitConfig {
        dir: dir.clone(),
        repository,
        tenant,
        client_id,
        service,
        issuer,
        registry_upstream,
    };
    let _kit = match Kit::start(cfg).await {
        Ok(k) => k,
        Err(e) => {
            eprintln!("golden-testkit: {e:#}");
            return ExitCode::from(1);
        }
    };
    println!(
        "golden-testkit: serving; settings in {}",
        dir.join("env").display()
    );
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = term => {}
    }
    ExitCode::SUCCESS
}
