//! `golden-scan`: thin CLI over the library (parse, run, print, exit code).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Parser;
use golden_contracts::scan::{CheckStatus, ScannerStatus};
use golden_gha::scaffold::{Runtime, Spec};
use golden_scan::cli::{Cli, Format};
use golden_scan::trivy::{TrivyMode, TrivyOptions};
use golden_scan::{Options, Outcome};

fn print_text(o: &Outcome) {
    let r = &o.report;
    let fence = golden_gha::Fence::open();
    let line = |s: String| fence.line(&golden_gha::neutralize(&s));
    line(format!(
        "golden-scan {}: {} ({} packages, {} layers, {})",
        r.image.reference,
        r.os.as_ref()
            .map(|o| format!("{} {}", o.id, o.version_id))
            .unwrap_or_else(|| "OS unknown".into()),
        r.summary.packages,
        r.image.layers.len(),
        golden_contracts::units::human_bytes(r.image.size)
    ));
    let v = &r.summary.vulnerabilities;
    line(format!(
        "vulnerabilities ({:?}): {} critical, {} high, {} medium, {} low, {} unknown, {} suppressed",
        r.vulnerabilities.status,
        v.get("CRITICAL").unwrap_or(&0),
        v.get("HIGH").unwrap_or(&0),
        v.get("MEDIUM").unwrap_or(&0),
        v.get("LOW").unwrap_or(&0),
        v.get("UNKNOWN").unwrap_or(&0),
        r.summary.suppressed
    ));
    line(format!(
        "compliance: {} pass, {} fail, {} warn, {} info, {} skip",
        r.summary.compliance_pass,
        r.summary.compliance_fail,
        r.summary.compliance_warn,
        r.summary.compliance_info,
        r.summary.compliance_skip
    ));
    for c in r
        .compliance
        .iter()
        .filter(|c| matches!(c.status, CheckStatus::Fail | CheckStatus::Warn))
    {
        line(format!(
            "  {:?} {} {}: {}",
            c.status,
            c.id,
            c.title,
            c.evidence.first().cloned().unwrap_or_default()
        ));
    }
    for f in &r.policy.failures {
        line(format!("  policy rule `{}` failed: {}", f.rule, f.message));
    }
    for n in &r.policy.notes {
        line(format!("  note: {n}"));
    }
    line(format!(
        "policy {} [{}]; outputs in {}",
        if r.policy.passed { "PASSED" } else { "FAILED" },
        r.policy.policy,
        o.written
            .report
            .parent()
            .map(|p| p.display().to_string())
            .unwrap_or_default()
    ));
}

async fn run(cli: Cli) -> anyhow::Result<bool> {
    let opts = Options {
        image: cli.image,
        output: cli.output,
        policy: cli.policy,
        trivy: TrivyMode::parse(&cli.trivy),
        trivy_report: cli.trivy_report,
        trivy_options: TrivyOptions {
            cache_dir: cli.trivy_cache_dir,
            skip_db_update: cli.skip_db_update,
            db_repository: cli.trivy_db_repository.filter(|s| !s.trim().is_empty()),
            java_db_repository: cli
                .trivy_java_db_repository
                .filter(|s| !s.trim().is_empty()),
        },
        entry: cli.entry_id,
        plan: cli.plan,
        dockerfile: cli.dockerfile,
        content_budget: cli.content_budget,
        max_entries: cli.max_entries,
        nested_archive_cap: cli.nested_archive_cap,
        event: cli
            .event
            .or_else(|| std::env::var(golden_gha::env::GITHUB_EVENT_NAME).ok())
            .filter(|e| !e.trim().is_empty()),
        // Blank lines of GOLDEN_VEX are skipped.
        vex: cli
            .vex
            .iter()
            .map(|p| p.trim())
            .filter(|p| !p.is_empty())
            .map(PathBuf::from)
            .collect(),
    };
    let outcome = golden_scan::run(&opts).await.context("scan failed")?;
    if outcome.trivy_unavailable {
        // Said once, as an annotation in Actions (a plain warning line elsewhere).
        golden_gha::annotate(
            golden_gha::Level::Warning,
            &golden_gha::Annotation::default(),
            golden_scan::TRIVY_UNAVAILABLE,
        );
    }
    // Scan warnings go to stderr. They quote paths and text from the image, so they are
    // neutralised and fenced on stderr itself: the runner reads stdout and stderr
    // concurrently, a fence opened on stdout would not reliably precede them.
    let warnings: Vec<&String> = outcome
        .report
        .warnings
        .iter()
        .filter(|w| w.as_str() != golden_scan::TRIVY_UNAVAILABLE)
        .collect();
    if !warnings.is_empty() {
        let fence = golden_gha::Fence::open_on(golden_gha::Stream::Stderr);
        for w in warnings.iter().take(20) {
            fence.line(&golden_gha::neutralize(&format!("warning: {w}")));
        }
        if warnings.len() > 20 {
            fence.line(&format!(
                "warning: ... and {} more in report.json",
                warnings.len() - 20
            ));
        }
    }
    match cli.format {
        Format::Text => print_text(&outcome),
        Format::Json => {
            let text = serde_json::to_string_pretty(&outcome.report)
                .context("failed to render the report")?;
            println!("{text}");
        }
    }
    golden_scan::step_outputs(&outcome)
        .write()
        .context("failed to write step outputs")?;
    if !outcome.report.policy.passed {
        let msg = outcome
            .report
            .policy
            .failures
            .iter()
            .map(|f| format!("{}: {}", f.rule, f.message))
            .collect::<Vec<_>>()
            .join("; ");
        golden_gha::annotate(
            golden_gha::Level::Error,
            &golden_gha::Annotation {
                title: Some("golden-scan policy failed"),
                ..Default::default()
            },
            &format!("{}: {msg}", outcome.report.image.reference),
        );
    }
    // Trivy ran and failed (DB missing, corrupt or unreachable, ...): vulnerabilities are
    // unknown. The report says so (status failed); the exit code is 2, never a pass.
    let vulns = &outcome.report.vulnerabilities;
    if vulns.status == ScannerStatus::Failed {
        anyhow::bail!(
            "Trivy failed, so the image's vulnerabilities are unknown: {}\n  hint: check that the DB repository answers and serves trivy-db schema 2 (trivy image --download-db-only --db-repository REPO), or clear a corrupt cache (--trivy-cache-dir)",
            vulns.note.as_deref().unwrap_or("(no message)")
        );
    }
    Ok(outcome.report.policy.passed)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let spec = Spec {
        tool: "golden-scan",
        runtime: Runtime::MultiThread { workers: None },
        tls: false,
        logs: None,
    };
    // Ok(false): the policy failed (exit 1); an error: annotation and chain (exit 2).
    golden_gha::scaffold::run(spec, run(cli))
}
