//! Policy: ignore entries (scope, expiry), thresholds, required checks, located errors.

use chrono::NaiveDate;
use golden_contracts::scan::{
    CheckStatus, ComplianceResult, ScannerStatus, Severity, Vulnerability,
};
use golden_scan::policy::{Evaluation, Policy};

use crate::support::*;

fn vuln(id: &str, pkg: &str, sev: Severity, fixed: Option<&str>) -> Vulnerability {
    Vulnerability {
        id: id.into(),
        package: pkg.into(),
        installed: "1".into(),
        fixed: fixed.map(Into::into),
        status: if fixed.is_some() { "fixed" } else { "affected" }.into(),
        severity: sev,
        cvss: None,
        title: None,
        url: None,
        layer: None,
        pkg_path: None,
        suppressed: None,
        purl: None,
        vex: None,
    }
}

fn check(id: &str, status: CheckStatus) -> ComplianceResult {
    ComplianceResult {
        id: id.into(),
        title: "t".into(),
        cis: None,
        dockle: None,
        status,
        evidence: vec![],
        remediation: None,
        suppressed: None,
    }
}

const POLICY: &str = "schema: 1
vulnerabilities:
  fail_on: HIGH
ignore:
  - id: CVE-1
    package: openssl
    reason: not reachable
    expires: 2030-01-01
  - id: CVE-2
    reason: accepted long ago
    expires: 2020-01-01
  - id: CVE-3
    image: \"*/golden/nginx*\"
    reason: nginx only
    expires: 2030-01-01
  - id: GOLDEN-PORT-001
    reason: legacy port until the migration
    expires: 2030-01-01
compliance:
  required: [GOLDEN-USER-001, GOLDEN-PORT-001, GOLDEN-SETUID-001]
";

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 6, 1).unwrap()
}

#[test]
fn ignore_entries_scope_expiry_and_required_checks() {
    let p = Policy::parse(POLICY, "policy.yaml").unwrap();
    let mut vulns = vec![
        vuln("CVE-1", "openssl", Severity::Critical, Some("2")),
        vuln("CVE-1", "curl", Severity::High, None),
        vuln("CVE-2", "zlib", Severity::High, Some("3")),
        vuln("CVE-3", "pcre", Severity::High, None),
        vuln("CVE-4", "x", Severity::Medium, None),
    ];
    let mut checks = vec![
        check("GOLDEN-USER-001", CheckStatus::Pass),
        check("GOLDEN-PORT-001", CheckStatus::Fail),
        check("GOLDEN-HEALTHCHECK-001", CheckStatus::Fail),
        check("GOLDEN-SETUID-001", CheckStatus::Fail),
    ];
    let names = vec!["registry.example/golden/python:3.12".to_string()];
    let v = p.evaluate(Evaluation {
        packages: &[],
        names: &names,
        vulnerabilities: &mut vulns,
        compliance: &mut checks,
        scanner: ScannerStatus::Scanned,
        today: today(),
    });
    assert!(!v.passed);
    // CVE-1/openssl suppressed; CVE-1/curl not (package scope); CVE-2 expired; CVE-3 out of scope.
    assert!(
        vulns[0]
            .suppressed
            .as_deref()
            .is_some_and(|s| s.contains("not reachable"))
    );
    assert!(
        vulns[1].suppressed.is_none()
            && vulns[2].suppressed.is_none()
            && vulns[3].suppressed.is_none()
    );
    let sev = &v.failures[0];
    assert_eq!(sev.rule, "severity-threshold");
    assert_eq!(sev.ids, ["CVE-1", "CVE-2", "CVE-3"]);
    assert!(
        sev.message
            .contains("3 vulnerabilities at or above HIGH (3 HIGH)"),
        "{}",
        sev.message
    );
    let req = &v.failures[1];
    assert_eq!(req.rule, "required-check");
    assert_eq!(
        req.ids,
        ["GOLDEN-SETUID-001"],
        "HEALTHCHECK is not required, PORT is suppressed"
    );
    assert!(
        v.notes
            .iter()
            .any(|n| n.contains("`CVE-2` (policy.yaml:9) expired on 2020-01-01")),
        "{:?}",
        v.notes
    );
    assert!(checks[1].suppressed.is_some());

    // The same policy in scope for nginx: CVE-3 suppressed.
    let names = vec!["registry.example/golden/nginx:1.22".to_string()];
    let mut vulns = vec![vuln("CVE-3", "pcre", Severity::High, None)];
    let v = p.evaluate(Evaluation {
        packages: &[],
        names: &names,
        vulnerabilities: &mut vulns,
        compliance: &mut [],
        scanner: ScannerStatus::Scanned,
        today: today(),
    });
    assert!(v.passed, "{v:?}");
}

#[test]
fn only_fixed_and_none_threshold() {
    let p = Policy::parse(
        "schema: 1\nvulnerabilities:\n  fail_on: LOW\n  only_fixed: true\n",
        "p",
    )
    .unwrap();
    let mut vulns = vec![
        vuln("CVE-9", "a", Severity::Critical, None),
        vuln("CVE-8", "b", Severity::Low, Some("2")),
    ];
    let v = p.evaluate(Evaluation {
        packages: &[],
        names: &[],
        vulnerabilities: &mut vulns,
        compliance: &mut [],
        scanner: ScannerStatus::Scanned,
        today: today(),
    });
    assert_eq!(v.failures[0].ids, ["CVE-8"]);
    let p = Policy::parse(
        "schema: 1\nvulnerabilities:\n  fail_on: none\ncompliance:\n  required: none\n",
        "p",
    )
    .unwrap();
    let mut checks = vec![check("GOLDEN-USER-001", CheckStatus::Fail)];
    let v = p.evaluate(Evaluation {
        packages: &[],
        names: &[],
        vulnerabilities: &mut vulns,
        compliance: &mut checks,
        scanner: ScannerStatus::Scanned,
        today: today(),
    });
    assert!(v.passed);
}

#[test]
fn a_bad_date_in_the_ignore_file_is_a_located_error_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let pol = write(
        dir.path(),
        "policy.yaml",
        b"schema: 1\nignore:\n  - id: CVE-2024-1\n    reason: ok\n    expires: 2024-13-01\n",
    );
    let out = dir.path().join("out");
    let (code, _, err) = golden_scan(
        &[
            "--trivy-report",
            third_party("trivy/alpine-310.json").to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--policy",
            pol.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("policy.yaml:5:14")
            && err.contains("`2024-13-01` is not a date")
            && err.contains("YYYY-MM-DD"),
        "{err}"
    );
    assert!(!out.exists(), "no output on a policy error");

    // Other policy mistakes, each located.
    for (text, want) in [
        (
            "schema: 1\nignore:\n  - id: CVE-1\n    reason: ok\n",
            "expires",
        ),
        (
            "schema: 1\nignore:\n  - id: CVE-1\n    reason: \"\"\n    expires: 2030-01-01\n",
            "policy.yaml:4:",
        ),
        (
            "schema: 1\ncompliance:\n  optional:\n    - id: GOLDEN-USR-001\n      reason: x\n",
            "policy.yaml:4:",
        ),
        (
            "schema: 1\nunnecessary_packages: [\"a[\"]\n",
            "policy.yaml:2:",
        ),
        (
            "schema: 1\nignore:\n  - id: GOLDEN-USER-001\n    package: x\n    reason: y\n    expires: 2030-01-01\n",
            "only applies to vulnerability ids",
        ),
        ("", "empty"),
        ("schema: [1\n", "invalid policy"),
    ] {
        let e = Policy::parse(text, "policy.yaml").unwrap_err().to_string();
        assert!(e.contains(want), "{text:?} -> {e}");
    }
}
