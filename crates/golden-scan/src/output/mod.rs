//! The output files, each written atomically: `report.json` (the contract), `report.sarif`,
//! `report.md`, `sbom.cdx.json` (CycloneDX 1.6), `sbom.spdx.json` (SPDX 2.3) and
//! `vex.openvex.json` (the image's OpenVEX document).

pub mod cyclonedx;
pub mod markdown;
pub mod sarif;
pub mod spdx;

use std::path::{Path, PathBuf};

use golden_contracts::Document;
use golden_contracts::scan::ScanReport;

use crate::error::ScanError;
use crate::policy::Policy;

pub const REPORT_JSON: &str = "report.json";
pub const REPORT_SARIF: &str = "report.sarif";
pub const REPORT_MD: &str = "report.md";
pub const SBOM: &str = "sbom.cdx.json";
pub const SBOM_SPDX: &str = "sbom.spdx.json";
pub const VEX: &str = crate::vex::VEX_FILE;

/// Extra context the renderers need beyond the report.
pub struct RenderContext<'a> {
    pub policy: &'a Policy,
    /// Repository path the SARIF results point at (the image's Dockerfile).
    pub dockerfile: &'a str,
    /// The image's OpenVEX document ([`crate::vex::image_document`]), when it has one.
    pub vex: Option<&'a serde_json::Value>,
}

/// Paths written.
#[derive(Debug, Clone)]
pub struct Written {
    pub report: PathBuf,
    pub sarif: PathBuf,
    pub markdown: PathBuf,
    pub sbom: PathBuf,
    pub spdx: PathBuf,
    /// Written only when the image has VEX decisions (`None` otherwise).
    pub vex: Option<PathBuf>,
}

fn pretty(v: &serde_json::Value) -> Result<Vec<u8>, ScanError> {
    let mut s = serde_json::to_vec_pretty(v).map_err(|e| ScanError::Write {
        path: PathBuf::from("(json)"),
        source: std::io::Error::other(e),
    })?;
    s.push(b'\n');
    Ok(s)
}

/// Render everything first, then write: a rendering problem never leaves a partial set.
pub fn write_all(
    dir: &Path,
    report: &ScanReport,
    cx: &RenderContext<'_>,
) -> Result<Written, ScanError> {
    let sarif = pretty(&sarif::render(report, cx))?;
    let md = markdown::render(report, cx);
    let sbom = pretty(&cyclonedx::render(report))?;
    let spdx_doc = pretty(&spdx::render(report))?;
    let vex = cx.vex.map(pretty).transpose()?;
    std::fs::create_dir_all(dir).map_err(|source| ScanError::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    let w = Written {
        report: dir.join(REPORT_JSON),
        sarif: dir.join(REPORT_SARIF),
        markdown: dir.join(REPORT_MD),
        sbom: dir.join(SBOM),
        spdx: dir.join(SBOM_SPDX),
        vex: vex.is_some().then(|| dir.join(VEX)),
    };
    golden_contracts::write_atomic(&w.sarif, &sarif)?;
    golden_contracts::write_atomic(&w.markdown, md.as_bytes())?;
    golden_contracts::write_atomic(&w.sbom, &sbom)?;
    golden_contracts::write_atomic(&w.spdx, &spdx_doc)?;
    match &vex {
        Some(bytes) => golden_contracts::write_atomic(&dir.join(VEX), bytes)?,
        // A document of an earlier scan into this folder must not be attached to this image.
        None => match std::fs::remove_file(dir.join(VEX)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(ScanError::Write {
                    path: dir.join(VEX),
                    source: e,
                });
            }
            _ => {}
        },
    }
    // The report last: its presence means the set is complete.
    report.write(&w.report)?;
    Ok(w)
}
