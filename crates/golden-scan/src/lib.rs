//! `golden-scan`: one streaming pass over an image's layers gives the OS and package
//! inventory, the compliance checks and the inputs for Trivy; the policy turns findings into a
//! verdict; the outputs are `report.json` (the contract in `golden-contracts`), SARIF, Markdown
//! and a CycloneDX SBOM.
//!
//! Architecture invariant: nothing is unpacked to disk and no symlink is followed through the
//! host filesystem; the image is a list of tar entries merged in memory
//! ([`archive`] → [`layer`] → [`fs`]). Only [`source`] talks to the engine (through
//! `golden-engine`) or a registry (through `golden-registry`). [`cli`] holds the flags
//! ([`Cli`]); `main.rs` runs them.

pub mod archive;
pub mod catalog;
pub mod checks;
pub mod cli;
pub mod error;
pub mod fs;
pub mod history;
pub mod inventory;
pub mod lang;
pub mod layer;
pub mod limits;
pub mod output;
pub mod policy;
pub mod registry;
pub mod secrets;
pub mod source;
pub mod trivy;
pub mod vex;

use std::path::{Path, PathBuf};

use golden_contracts::plan::PlanEntry;
use golden_contracts::scan::{
    CheckStatus, ComplianceResult, ImageInfo, LayerInfo, OsInfo, Package, ScanReport,
    ScannerStatus, Summary, Tool, Vulnerability, VulnerabilitySection,
};

pub use cli::Cli;
pub use error::ScanError;
use policy::{Evaluation, Policy};
use source::Source;
use trivy::{TrivyMode, TrivyOptions, TrivyTarget};

pub const TOOL_NAME: &str = "golden-scan";
pub const TOOL_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The one message saying Trivy is missing (report warning, note and annotation).
pub const TRIVY_UNAVAILABLE: &str = "trivy not found on PATH: vulnerabilities were NOT scanned (install trivy, pass --trivy PATH, or --trivy off to silence this)";

/// Everything `run` needs (the CLI fills it from flags and `GOLDEN_*` variables).
#[derive(Debug, Clone)]
pub struct Options {
    /// Image argument; optional when a plan entry or a Trivy report is given.
    pub image: Option<String>,
    pub output: PathBuf,
    /// Policy file; `None` uses `configs/policy.yaml` when it exists here, else the built-in.
    pub policy: Option<PathBuf>,
    pub trivy: TrivyMode,
    pub trivy_report: Option<PathBuf>,
    pub trivy_options: TrivyOptions,
    /// Plan entry id (or the entry's JSON, as a matrix job passes it).
    pub entry: Option<String>,
    /// Plan file to look the entry up in.
    pub plan: Option<PathBuf>,
    /// Repository path SARIF results point at.
    pub dockerfile: Option<String>,
    /// Bytes the scan may keep: file contents it reads, over all layers, and the archive's
    /// JSON documents ([`limits::DEFAULT_CONTENT_BUDGET`]).
    pub content_budget: u64,
    /// Tar entries over all layers ([`limits::DEFAULT_MAX_ENTRIES`]).
    pub max_entries: u64,
    /// Bytes one nested archive (a jar in a jar) may take in memory
    /// ([`lang::DEFAULT_NESTED_ARCHIVE_CAP`]).
    pub nested_archive_cap: u64,
    /// The workflow event the scan runs for (`GITHUB_EVENT_NAME`): resolves the policy's
    /// `require_scan: [events]`. `None`: a local run.
    pub event: Option<String>,
    /// OpenVEX documents (`--vex`, `GOLDEN_VEX`), read besides the policy's `vex:` list.
    pub vex: Vec<PathBuf>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            image: None,
            output: PathBuf::from("scan-output"),
            policy: None,
            trivy: TrivyMode::Auto,
            trivy_report: None,
            trivy_options: TrivyOptions::default(),
            entry: None,
            plan: None,
            dockerfile: None,
            content_budget: limits::DEFAULT_CONTENT_BUDGET,
            max_entries: limits::DEFAULT_MAX_ENTRIES,
            nested_archive_cap: lang::DEFAULT_NESTED_ARCHIVE_CAP,
            event: None,
            vex: Vec::new(),
        }
    }
}

/// The result of a scan: the report (already written) and where the files are.
#[derive(Debug)]
pub struct Outcome {
    pub report: ScanReport,
    pub written: output::Written,
    /// Set when Trivy was wanted but missing (the caller says so once).
    pub trivy_unavailable: bool,
}

/// golden-contracts' one resolver: `GOLDEN_ENTRY` is a plan entry's JSON, an id in `--plan`,
/// a file holding an entry, or (without a plan) an id alone.
fn resolve_entry(opts: &Options) -> Result<(Option<String>, Option<PlanEntry>), ScanError> {
    let cwd = std::env::current_dir().unwrap_or_else(|_| std::path::PathBuf::from("."));
    match golden_contracts::entry::resolve(opts.plan.as_deref(), opts.entry.as_deref(), &cwd) {
        Ok(Some(r)) => Ok((Some(r.id), r.entry)),
        Ok(None) => Ok((None, None)),
        Err(golden_contracts::entry::EntryError::Plan(e)) => Err(ScanError::Doc(e)),
        Err(e) => Err(ScanError::Usage(format!("--entry-id (GOLDEN_ENTRY): {e}"))),
    }
}

fn load_policy(opts: &Options, entry: Option<&PlanEntry>) -> Result<Policy, ScanError> {
    if let Some(p) = &opts.policy {
        return Policy::load(Some(p));
    }
    if let Some(e) = entry
        && !e.policy.is_empty()
    {
        return Policy::load(Some(Path::new(&e.policy)));
    }
    let local = Path::new("configs/policy.yaml");
    if local.is_file() {
        Policy::load(Some(local))
    } else {
        Policy::load(None)
    }
}

/// The analysed image plus how Trivy should see it.
struct Analysed {
    image: archive::Image,
    reference: String,
    trivy_target: TrivyTarget,
    engine_tags: Vec<String>,
    engine_digest: Option<String>,
}

async fn analyse(arg: &str, limits: limits::Limits) -> Result<Analysed, ScanError> {
    match Source::parse(arg)? {
        Source::Archive(path) | Source::OciDir(path) => {
            let what = arg.to_string();
            let p = path.clone();
            let image = tokio::task::spawn_blocking(move || {
                source::analyze_path_with(&p, &what, None, limits)
            })
            .await
            .map_err(|e| {
                ScanError::archive(arg, format!("the archive walker stopped unexpectedly: {e}"))
            })??;
            Ok(Analysed {
                image,
                reference: arg.to_string(),
                trivy_target: TrivyTarget::Input(path),
                engine_tags: Vec::new(),
                engine_digest: None,
            })
        }
        Source::Registry(r) => registry_source(&r, limits).await,
        Source::Engine {
            image,
            fallback_registry,
        } => {
            let engine = match golden_engine::Engine::connect().await {
                Ok(e) => e,
                Err(_) if fallback_registry => return registry_source(&image, limits).await,
                Err(e) => return Err(e.into()),
            };
            match source::analyze_engine(&engine, &image, limits.clone()).await {
                Ok((img, facts)) => Ok(Analysed {
                    image: img,
                    reference: image.clone(),
                    trivy_target: TrivyTarget::Image(image.clone()),
                    engine_tags: facts.repo_tags,
                    engine_digest: facts.repo_digests.first().and_then(|d| digest_of(d)),
                }),
                Err(ScanError::Engine(golden_engine::EngineError::ImageNotFound(_)))
                    if fallback_registry =>
                {
                    registry_source(&image, limits).await
                }
                Err(ScanError::Engine(golden_engine::EngineError::ImageNotFound(n))) => {
                    Err(ScanError::Usage(format!(
                        "image `{n}` is not in the engine\n  hint: build or load it first, or scan `docker-archive:PATH`, `oci-archive:PATH` or `registry:REF`"
                    )))
                }
                Err(e) => Err(e),
            }
        }
    }
}

/// The digest of a repo digest (`name@sha256:...`).
fn digest_of(repo_digest: &str) -> Option<String> {
    repo_digest.split_once('@').map(|(_, d)| d.to_string())
}

async fn registry_source(reference: &str, limits: limits::Limits) -> Result<Analysed, ScanError> {
    Ok(Analysed {
        image: registry::analyze(reference, limits).await?,
        reference: reference.to_string(),
        trivy_target: TrivyTarget::Image(reference.to_string()),
        engine_tags: Vec::new(),
        engine_digest: None,
    })
}

fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Run a whole scan and write the outputs.
pub async fn run(opts: &Options) -> Result<Outcome, ScanError> {
    let (entry_id, entry) = resolve_entry(opts)?;
    let policy = load_policy(opts, entry.as_ref())?.for_event(opts.event.as_deref());
    // VEX documents are checked before the image is read: a bad one stops the scan (exit 2).
    let vex_set = load_vex(opts, &policy)?;
    let image_arg = opts
        .image
        .clone()
        .filter(|s| !s.trim().is_empty())
        .or_else(|| entry.as_ref().and_then(|e| e.tags.first().cloned()));
    if image_arg.is_none() && opts.trivy_report.is_none() {
        return Err(ScanError::Usage(
            "nothing to scan: give an IMAGE (engine name, docker-archive:PATH, oci-archive:PATH, oci:DIR, registry:REF), a plan entry, or --trivy-report FILE".into(),
        ));
    }
    // A bad `--trivy PATH` is a usage error: say so before the image is read.
    let trivy_bin = match (&image_arg, &opts.trivy_report) {
        (Some(_), None) => trivy::locate(&opts.trivy)?,
        _ => None,
    };
    let mut warnings: Vec<String> = Vec::new();

    // 1. The image itself.
    let analysed = match &image_arg {
        Some(arg) => Some(
            analyse(
                arg,
                limits::Limits::new(opts.content_budget, opts.max_entries)
                    .with_nested_archive_cap(opts.nested_archive_cap),
            )
            .await?,
        ),
        None => None,
    };

    // 2. Vulnerabilities.
    let VulnerabilityScan {
        status,
        scanner,
        note,
        mut normalized,
    } = scan_vulnerabilities(opts, analysed.as_ref(), trivy_bin, &mut warnings).await?;
    let trivy_unavailable = status == ScannerStatus::Unavailable;
    let mut vulns = Vec::new();
    if let Some(n) = &mut normalized {
        warnings.append(&mut n.warnings);
        vulns = std::mem::take(&mut n.items);
    }

    // 3. Inventory, compliance, image info.
    let mut names: Vec<String> = Vec::new();
    let ImageFacts {
        info: image_info,
        os,
        packages,
        mut compliance,
        hardening,
    } = match &analysed {
        Some(a) => facts_from_image(
            a,
            entry.as_ref(),
            entry_id.as_ref(),
            &policy,
            &mut names,
            &mut warnings,
        ),
        None => facts_from_trivy_report(normalized.as_ref(), opts, entry_id.as_ref(), &mut names),
    };

    // 4. VEX statements (before the ignore entries, which cover what VEX does not), then
    //    the policy.
    let scanned_at = now_rfc3339();
    let vex_doc = apply_vex(
        &vex_set,
        &image_info,
        entry.as_ref(),
        entry_id.as_deref(),
        &mut vulns,
        &scanned_at,
    );
    let mut verdict = policy.evaluate(Evaluation {
        names: &names,
        packages: &packages,
        vulnerabilities: &mut vulns,
        compliance: &mut compliance,
        scanner: status,
        today: chrono::Utc::now().date_naive(),
    });
    verdict.notes.extend(vex_doc.note.clone());

    // 5. Summary and report.
    let summary = summarize(&packages, &vulns, &compliance);
    let mut seen = std::collections::HashSet::new();
    warnings.retain(|w| seen.insert(w.clone()));
    let report = ScanReport {
        schema: golden_contracts::scan::SCAN_REPORT_SCHEMA,
        tool: Tool {
            name: TOOL_NAME.into(),
            version: TOOL_VERSION.into(),
        },
        scanned_at,
        entry_id,
        image: image_info,
        os,
        packages,
        compliance,
        hardening,
        vulnerabilities: VulnerabilitySection {
            status,
            scanner,
            note,
            items: vulns,
        },
        policy: verdict,
        summary,
        warnings,
    };
    let written = write_outputs(opts, entry.as_ref(), &policy, &report, &vex_doc)?;
    Ok(Outcome {
        report,
        written,
        trivy_unavailable,
    })
}

/// Render and write every output file (the SARIF location is the entry's Dockerfile unless
/// `--dockerfile` says otherwise).
fn write_outputs(
    opts: &Options,
    entry: Option<&PlanEntry>,
    policy: &Policy,
    report: &ScanReport,
    vex: &VexOutcome,
) -> Result<output::Written, ScanError> {
    let dockerfile = opts
        .dockerfile
        .clone()
        .or_else(|| entry.map(|e| e.dockerfile.clone()))
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| "Dockerfile".to_string());
    output::write_all(
        &opts.output,
        report,
        &output::RenderContext {
            policy,
            dockerfile: &dockerfile,
            vex: vex.document.as_ref(),
        },
    )
}

/// The `--vex` documents and the policy's `vex:` list, read and validated.
fn load_vex(opts: &Options, policy: &Policy) -> Result<vex::VexSet, ScanError> {
    let mut sources: Vec<vex::VexSource> = opts
        .vex
        .iter()
        .map(|p| vex::VexSource {
            path: p.clone(),
            origin: "--vex (GOLDEN_VEX)".into(),
        })
        .collect();
    sources.extend(policy.vex.iter().cloned());
    Ok(vex::load(&sources)?)
}

/// The image's OpenVEX document and a policy note about the statements read.
struct VexOutcome {
    /// `None` when no statement suppressed a finding of this image.
    document: Option<serde_json::Value>,
    note: Option<String>,
}

/// Mark the findings the VEX statements decide and build the image's own OpenVEX document.
fn apply_vex(
    set: &vex::VexSet,
    info: &ImageInfo,
    entry: Option<&PlanEntry>,
    entry_id: Option<&str>,
    vulns: &mut [Vulnerability],
    scanned_at: &str,
) -> VexOutcome {
    let mut tags = info.tags.clone();
    tags.extend(entry.iter().flat_map(|e| e.tags.iter().cloned()));
    let identity = vex::ImageIdentity::new(
        &info.reference,
        &tags,
        info.digest.as_deref(),
        info.id.as_deref(),
    );
    let decided = vex::apply(set, &identity, vulns);
    // The purl's name when the image is known by no reference: the plan entry's id.
    let fallback = entry_id.unwrap_or("image");
    let tool = format!("{TOOL_NAME} {TOOL_VERSION}");
    let document =
        vex::image_document(set, &decided, vulns, &identity, fallback, scanned_at, &tool);
    let note = (!set.is_empty()).then(|| {
        format!(
            "VEX: {} statement(s) read from {}; {} of them decided findings of this image",
            set.statements.len(),
            set.files.join(", "),
            decided.len()
        )
    });
    VexOutcome { document, note }
}

/// The vulnerability section's status, scanner and note, and the Trivy report when one was
/// read or produced.
struct VulnerabilityScan {
    status: ScannerStatus,
    scanner: Option<String>,
    note: Option<String>,
    normalized: Option<trivy::Normalized>,
}

/// Read `--trivy-report`, or run Trivy on the analysed image (when it is available and not
/// turned off).
async fn scan_vulnerabilities(
    opts: &Options,
    analysed: Option<&Analysed>,
    trivy_bin: Option<PathBuf>,
    warnings: &mut Vec<String>,
) -> Result<VulnerabilityScan, ScanError> {
    let mut normalized: Option<trivy::Normalized> = None;
    let (status, scanner, note) = if let Some(path) = &opts.trivy_report {
        let bytes = std::fs::read(path).map_err(|source| ScanError::Open {
            path: path.clone(),
            source,
        })?;
        let n = trivy::normalize(&bytes, &path.display().to_string())?;
        let scanner = n.scanner.clone();
        normalized = Some(n);
        (
            ScannerStatus::Scanned,
            scanner,
            Some(format!("read from {}", path.display())),
        )
    } else if let Some(a) = analysed {
        match trivy_bin {
            None if opts.trivy == TrivyMode::Off => (
                ScannerStatus::Disabled,
                None,
                Some("disabled with --trivy off".into()),
            ),
            None => {
                warnings.push(TRIVY_UNAVAILABLE.into());
                (
                    ScannerStatus::Unavailable,
                    None,
                    Some(TRIVY_UNAVAILABLE.into()),
                )
            }
            Some(bin) => match trivy::run(&bin, &a.trivy_target, &opts.trivy_options).await {
                Ok(bytes) => {
                    let n = trivy::normalize(&bytes, &format!("output of {}", bin.display()))?;
                    let scanner = n.scanner.clone().or_else(|| Some("trivy".into()));
                    normalized = Some(n);
                    (ScannerStatus::Scanned, scanner, None)
                }
                Err(e) => {
                    let e = format!("{e} (vulnerability DB: {})", opts.trivy_options.db_source());
                    warnings.push(format!("trivy failed: {e}"));
                    (ScannerStatus::Failed, Some("trivy".into()), Some(e))
                }
            },
        }
    } else {
        (ScannerStatus::Disabled, None, None)
    };
    Ok(VulnerabilityScan {
        status,
        scanner,
        note,
        normalized,
    })
}

/// What the report says about the image besides its vulnerabilities.
struct ImageFacts {
    info: ImageInfo,
    os: Option<OsInfo>,
    packages: Vec<Package>,
    compliance: Vec<ComplianceResult>,
    hardening: Option<serde_json::Value>,
}

/// Inventory, compliance checks and image info of an analysed image; `names` receives the
/// names the policy scopes match (reference, tags, the plan entry's tags and id).
fn facts_from_image(
    a: &Analysed,
    entry: Option<&PlanEntry>,
    entry_id: Option<&String>,
    policy: &Policy,
    names: &mut Vec<String>,
    warnings: &mut Vec<String>,
) -> ImageFacts {
    let img = &a.image;
    warnings.extend(img.warnings.iter().cloned());
    let mut inv = inventory::collect(&img.fs);
    warnings.extend(inv.warnings.iter().cloned());
    inv.packages
        .extend(img.components.iter().map(lang::to_package));
    let mut tags = img.tags.clone();
    for t in &a.engine_tags {
        if !tags.contains(t) {
            tags.push(t.clone());
        }
    }
    names.push(a.reference.clone());
    names.extend(tags.iter().cloned());
    names.extend(entry.iter().flat_map(|e| e.tags.iter().cloned()));
    names.extend(entry_id.cloned());
    let checks = checks::run(&checks::CheckInput {
        config: &img.config,
        fs: Some(&img.fs),
        layer_secrets: &img.layer_secrets,
        packages: &inv.packages,
        policy,
        names,
    });
    warnings.extend(checks.warnings);
    let cfg = img.config.config.clone().unwrap_or_default();
    let info = ImageInfo {
        reference: a.reference.clone(),
        id: img.id.clone(),
        digest: img.digest.clone().or_else(|| a.engine_digest.clone()),
        tags,
        created: img.config.created.clone(),
        architecture: img.config.architecture.clone(),
        size: img.layers.iter().map(|l: &LayerInfo| l.size).sum(),
        user: cfg.user.unwrap_or_default(),
        labels: cfg.labels.unwrap_or_default(),
        layers: img.layers.clone(),
    };
    ImageFacts {
        info,
        os: inv.os,
        packages: inv.packages,
        compliance: checks.results,
        hardening: checks.hardening,
    }
}

/// Image info, OS and packages from a Trivy report alone (no image: no compliance checks);
/// `names` receives the names the policy scopes match.
fn facts_from_trivy_report(
    n: Option<&trivy::Normalized>,
    opts: &Options,
    entry_id: Option<&String>,
    names: &mut Vec<String>,
) -> ImageFacts {
    let reference = n.and_then(|n| n.artifact.clone()).unwrap_or_else(|| {
        opts.trivy_report
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default()
    });
    names.push(reference.clone());
    names.extend(n.map(|n| n.repo_tags.clone()).unwrap_or_default());
    names.extend(entry_id.cloned());
    let info = ImageInfo {
        reference,
        id: n.and_then(|n| n.image_id.clone()),
        digest: n.and_then(|n| n.repo_digests.first().and_then(|d| digest_of(d))),
        tags: n.map(|n| n.repo_tags.clone()).unwrap_or_default(),
        ..ImageInfo::default()
    };
    ImageFacts {
        info,
        os: n.and_then(|n| n.os.clone()),
        packages: n.map(|n| n.packages.clone()).unwrap_or_default(),
        compliance: Vec::new(),
        hardening: None,
    }
}

/// Counts for the report summary (suppressed vulnerabilities counted apart).
fn summarize(
    packages: &[Package],
    vulns: &[Vulnerability],
    compliance: &[ComplianceResult],
) -> Summary {
    let mut summary = Summary {
        packages: packages.len() as u64,
        ..Summary::default()
    };
    for p in packages {
        *summary.packages_by_kind.entry(p.kind.clone()).or_insert(0) += 1;
    }
    for v in vulns {
        if v.suppressed.is_some() {
            summary.suppressed += 1;
            continue;
        }
        *summary
            .vulnerabilities
            .entry(v.severity.as_str().to_string())
            .or_insert(0) += 1;
        *summary
            .vulnerabilities_by_status
            .entry(v.status.clone())
            .or_insert(0) += 1;
        if v.fixed.is_some() {
            summary.fixable += 1;
        }
    }
    for c in compliance {
        match c.status {
            CheckStatus::Pass => summary.compliance_pass += 1,
            CheckStatus::Fail => summary.compliance_fail += 1,
            CheckStatus::Warn => summary.compliance_warn += 1,
            CheckStatus::Info => summary.compliance_info += 1,
            CheckStatus::Skip => summary.compliance_skip += 1,
        }
    }
    summary
}

/// The step outputs for `$GITHUB_OUTPUT`: `passed`, `critical`, `high`, `compliance-failures`,
/// `report` (path of report.json), `vex` (path of vex.openvex.json, empty without one).
pub fn step_outputs(o: &Outcome) -> golden_gha::Outputs {
    let sev = |s: &str| {
        o.report
            .summary
            .vulnerabilities
            .get(s)
            .copied()
            .unwrap_or(0)
    };
    let mut out = golden_gha::Outputs::new();
    out.set("passed", o.report.policy.passed.to_string())
        .set("critical", sev("CRITICAL").to_string())
        .set("high", sev("HIGH").to_string())
        .set(
            "compliance-failures",
            o.report.summary.compliance_fail.to_string(),
        )
        .set("report", o.written.report.display().to_string())
        .set(
            "vex",
            o.written
                .vex
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
        );
    out
}
