//! The scan report: one JSON document per image, written by `golden-scan` (`report.json`) and
//! read by `golden-report`. Documented field by field in `crates/golden-scan/README.md`.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::Document;

pub const SCAN_REPORT_SCHEMA: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanReport {
    pub schema: u32,
    /// The scanner that wrote the report (`golden-scan 0.1.0`).
    pub tool: Tool,
    /// RFC 3339 time of the scan.
    pub scanned_at: String,
    /// Plan entry id, when the scan was part of a planned run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry_id: Option<String>,
    pub image: ImageInfo,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<OsInfo>,
    #[serde(default)]
    pub packages: Vec<Package>,
    #[serde(default)]
    pub compliance: Vec<ComplianceResult>,
    /// The base image's hardening manifest (`/usr/share/golden/hardening.json`), as found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hardening: Option<serde_json::Value>,
    pub vulnerabilities: VulnerabilitySection,
    pub policy: PolicyVerdict,
    pub summary: Summary,
    /// Problems met while scanning that did not stop it (unreadable database, odd tar entry...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl Document for ScanReport {
    const KIND: &'static str = "scan report";
    const SCHEMA: u32 = SCAN_REPORT_SCHEMA;
    fn schema(&self) -> u32 {
        self.schema
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ImageInfo {
    /// What the user asked to scan (`name:tag`, `docker-archive:PATH`, a registry reference).
    pub reference: String,
    /// Image id (config digest, `sha256:...`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Manifest digest when known (registry images, pushed images).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub architecture: Option<String>,
    /// Uncompressed size of all layers in bytes.
    #[serde(default)]
    pub size: u64,
    /// `Config.User` as written in the image.
    #[serde(default)]
    pub user: String,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub layers: Vec<LayerInfo>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerInfo {
    pub diff_id: String,
    pub size: u64,
    /// The history entry that created it, when the image records one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OsInfo {
    /// `ID` from os-release (`debian`, `alpine`, `rhel`).
    pub id: String,
    #[serde(default)]
    pub version_id: String,
    #[serde(default)]
    pub pretty_name: String,
    /// Our family name: `debian`, `alpine`, `redhat`, or `unknown`.
    pub family: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Package {
    pub name: String,
    pub version: String,
    /// `dpkg`, `apk` or `rpm`; for language packages the purl type: `maven`, `pypi`, `nuget`.
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    /// Package URL (`pkg:deb/debian/bash@5.2.15-2?arch=amd64&distro=debian-12`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
    /// Language packages: the diff-id of the layer the file came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<String>,
    /// Language packages: where in the image (`/app.jar!/BOOT-INF/lib/x.jar` when nested).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Java archives: sha1 of the archive, hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha1: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    Pass,
    Info,
    Warn,
    Fail,
    /// The check could not run (input missing); never counts as a pass.
    Skip,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComplianceResult {
    /// Stable id (`GOLDEN-USER-001`...).
    pub id: String,
    pub title: String,
    /// CIS Docker Benchmark reference (`4.1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cis: Option<String>,
    /// Matching Dockle code (`CIS-DI-0001`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dockle: Option<String>,
    pub status: CheckStatus,
    /// What was seen (paths, history lines, keys): never secret values.
    #[serde(default)]
    pub evidence: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remediation: Option<String>,
    /// Set when a policy ignore entry suppresses this result (the reason and expiry).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suppressed: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Severity {
    Unknown,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Unknown,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Unknown => "UNKNOWN",
            Severity::Low => "LOW",
            Severity::Medium => "MEDIUM",
            Severity::High => "HIGH",
            Severity::Critical => "CRITICAL",
        }
    }
    /// Parse case-insensitively; anything unrecognised is `Unknown`.
    pub fn parse_lenient(s: &str) -> Severity {
        match s.to_ascii_uppercase().as_str() {
            "LOW" => Severity::Low,
            "MEDIUM" => Severity::Medium,
            "HIGH" => Severity::High,
            "CRITICAL" => Severity::Critical,
            _ => Severity::Unknown,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScannerStatus {
    /// Trivy ran (or a report was read) and its results are below.
    Scanned,
    /// Disabled on purpose (`--trivy off`).
    Disabled,
    /// Wanted but not available (no binary): the report says so.
    Unavailable,
    /// Ran and failed.
    Failed,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VulnerabilitySection {
    pub status: ScannerStatus,
    /// `trivy 0.69.3`, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scanner: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(default)]
    pub items: Vec<Vulnerability>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Vulnerability {
    /// `CVE-2024-1234`.
    pub id: String,
    pub package: String,
    pub installed: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed: Option<String>,
    /// Trivy status: `fixed`, `affected`, `will_not_fix`, `fix_deferred`, `end_of_life`, `unknown`.
    pub status: String,
    pub severity: Severity,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cvss: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Layer diff id the package came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<String>,
    /// Path of the package inside the image for language packages (`app/lib/x.jar`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pkg_path: Option<String>,
    /// Set when a policy ignore entry or a VEX statement suppresses it (the reason), so
    /// reports can show it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suppressed: Option<String>,
    /// Package URL of the affected package (Trivy's `PkgIdentifier.PURL`), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
    /// The OpenVEX statement that applied to this finding, when one did (`not_affected` and
    /// `fixed` also set `suppressed`; `affected` and `under_investigation` keep it open).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vex: Option<VexApplied>,
}

/// OpenVEX statement status (v0.2.0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VexStatus {
    NotAffected,
    Affected,
    Fixed,
    UnderInvestigation,
}

impl VexStatus {
    pub const ALL: [VexStatus; 4] = [
        VexStatus::NotAffected,
        VexStatus::Affected,
        VexStatus::Fixed,
        VexStatus::UnderInvestigation,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            VexStatus::NotAffected => "not_affected",
            VexStatus::Affected => "affected",
            VexStatus::Fixed => "fixed",
            VexStatus::UnderInvestigation => "under_investigation",
        }
    }
    /// `not_affected` and `fixed` take the finding out of the verdict.
    pub fn suppresses(self) -> bool {
        matches!(self, VexStatus::NotAffected | VexStatus::Fixed)
    }
}

/// OpenVEX justification of a `not_affected` statement (v0.2.0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VexJustification {
    ComponentNotPresent,
    VulnerableCodeNotPresent,
    VulnerableCodeNotInExecutePath,
    VulnerableCodeCannotBeControlledByAdversary,
    InlineMitigationsAlreadyExist,
}

impl VexJustification {
    pub const ALL: [VexJustification; 5] = [
        VexJustification::ComponentNotPresent,
        VexJustification::VulnerableCodeNotPresent,
        VexJustification::VulnerableCodeNotInExecutePath,
        VexJustification::VulnerableCodeCannotBeControlledByAdversary,
        VexJustification::InlineMitigationsAlreadyExist,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            VexJustification::ComponentNotPresent => "component_not_present",
            VexJustification::VulnerableCodeNotPresent => "vulnerable_code_not_present",
            VexJustification::VulnerableCodeNotInExecutePath => {
                "vulnerable_code_not_in_execute_path"
            }
            VexJustification::VulnerableCodeCannotBeControlledByAdversary => {
                "vulnerable_code_cannot_be_controlled_by_adversary"
            }
            VexJustification::InlineMitigationsAlreadyExist => "inline_mitigations_already_exist",
        }
    }
}

/// The OpenVEX statement that decided a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VexApplied {
    pub status: VexStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub justification: Option<VexJustification>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impact_statement: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action_statement: Option<String>,
    /// The statement's (or its document's) timestamp.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    /// The VEX file and statement (`vex.json#/statements/2`).
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyVerdict {
    /// Policy file applied.
    pub policy: String,
    pub passed: bool,
    /// Every rule that failed, with what made it fail.
    #[serde(default)]
    pub failures: Vec<PolicyFailure>,
    /// Notes that do not fail the verdict (expired ignore entries, ...).
    #[serde(default)]
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyFailure {
    /// Rule name (`severity-threshold`, `required-check`).
    pub rule: String,
    pub message: String,
    /// Ids involved (CVE ids, check ids).
    #[serde(default)]
    pub ids: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Counted vulnerabilities by severity name (suppressed ones excluded).
    #[serde(default)]
    pub vulnerabilities: BTreeMap<String, u64>,
    #[serde(default)]
    pub suppressed: u64,
    #[serde(default)]
    pub fixable: u64,
    #[serde(default)]
    pub compliance_pass: u64,
    #[serde(default)]
    pub compliance_fail: u64,
    #[serde(default)]
    pub compliance_warn: u64,
    #[serde(default)]
    pub packages: u64,
    /// Packages by kind (`dpkg`, `apk`, `rpm`, `maven`, `pypi`, `nuget`): the count per
    /// ecosystem.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub packages_by_kind: BTreeMap<String, u64>,
    /// Counted vulnerabilities by Trivy status (`fixed`, `affected`, ...; suppressed excluded).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub vulnerabilities_by_status: BTreeMap<String, u64>,
    /// Compliance results with status `info` and `skip`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub compliance_info: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub compliance_skip: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_orders_and_parses() {
        assert!(Severity::Critical > Severity::High);
        assert!(Severity::Low > Severity::Unknown);
        assert_eq!(Severity::parse_lenient("high"), Severity::High);
        assert_eq!(Severity::parse_lenient("negligible"), Severity::Unknown);
        assert_eq!(
            serde_json::to_string(&Severity::Medium).unwrap(),
            "\"MEDIUM\""
        );
    }
}
