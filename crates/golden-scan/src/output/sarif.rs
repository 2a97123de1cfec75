//! SARIF 2.1.0 for GitHub code scanning. Only what matters to the policy goes in: vulnerabilities
//! at or above the policy threshold (not suppressed by an ignore entry; those a VEX statement
//! suppresses carry an `external` suppression) and failed/warned compliance checks. The
//! run is capped far below GitHub's limits (25,000 results per run, 5,000 stored, 10 MB gzip):
//! at most [`MAX_RESULTS`] results and [`MAX_BYTES`] of JSON, with a notification when cut.

use golden_gha::markdown::md;
use std::collections::BTreeMap;

use golden_contracts::scan::{CheckStatus, ScanReport, Severity, VexApplied, Vulnerability};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::RenderContext;

pub const MAX_RESULTS: usize = 1000;
pub const MAX_BYTES: usize = 4 << 20;
const TEXT_LIMIT: usize = 1000;

fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}...", s.chars().take(n).collect::<String>())
    }
}

fn level(sev: Severity) -> &'static str {
    match sev {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        _ => "note",
    }
}

/// GitHub's `security-severity` (a CVSS-like number as a string).
fn security_severity(sev: Severity, cvss: Option<f64>) -> String {
    let v = cvss.unwrap_or(match sev {
        Severity::Critical => 9.5,
        Severity::High => 8.0,
        Severity::Medium => 5.5,
        Severity::Low => 2.0,
        Severity::Unknown => 0.0,
    });
    format!("{v:.1}")
}

fn image_name(reference: &str) -> String {
    golden_oci::Reference::parse(reference)
        .map(|r| r.name())
        .unwrap_or_else(|_| reference.to_string())
}

fn fingerprint(parts: &[&str]) -> String {
    hex::encode(Sha256::digest(parts.join("|").as_bytes()))
}

struct Item {
    rule: Value,
    rule_id: String,
    result: Value,
    rank: u8,
}

pub fn render(report: &ScanReport, cx: &RenderContext<'_>) -> Value {
    let name = image_name(&report.image.reference);
    let location = json!([{
        "physicalLocation": {
            "artifactLocation": { "uri": cx.dockerfile },
            "region": { "startLine": 1 }
        },
        "message": { "text": format!("image {}", report.image.reference) }
    }]);
    let mut items: Vec<Item> = Vec::new();
    if let Some(threshold) = cx.policy.fail_on {
        for v in &report.vulnerabilities.items {
            if v.severity < threshold {
                continue;
            }
            // A VEX decision is shown as an external suppression; an ignore entry hides it.
            let vex = v.vex.as_ref().filter(|x| x.status.suppresses());
            if v.suppressed.is_some() && vex.is_none() {
                continue;
            }
            items.push(vuln_item(v, vex, &name, &location));
        }
    }
    for c in &report.compliance {
        let (lvl, rank) = match c.status {
            CheckStatus::Fail => ("error", 0u8),
            CheckStatus::Warn => ("warning", 5),
            _ => continue,
        };
        if c.suppressed.is_some() {
            continue;
        }
        let mut tags = vec![json!("compliance"), json!("security")];
        if let Some(cis) = &c.cis {
            tags.push(json!(format!("CIS-Docker-{cis}")));
        }
        if let Some(d) = &c.dockle {
            tags.push(json!(d));
        }
        let rule = json!({
            "id": c.id,
            "name": c.id.replace('-', ""),
            "shortDescription": { "text": c.title },
            "fullDescription": { "text": format!("{}{}", c.title, c.cis.as_ref().map(|x| format!(" (CIS Docker Benchmark {x})")).unwrap_or_default()) },
            "help": { "text": c.remediation.clone().unwrap_or_else(|| c.title.clone()) },
            "defaultConfiguration": { "level": lvl },
            "properties": {
                "tags": tags,
                "precision": "high",
                "security-severity": if lvl == "error" { "7.0" } else { "4.0" }
            }
        });
        let evidence = c
            .evidence
            .iter()
            .take(10)
            .cloned()
            .collect::<Vec<_>>()
            .join("; ");
        let result = json!({
            "ruleId": c.id,
            "level": lvl,
            "message": { "text": clip(&format!("{}: {evidence}", c.title), TEXT_LIMIT) },
            "locations": location,
            "partialFingerprints": { "goldenScan/v1": fingerprint(&[&name, &c.id]) },
        });
        items.push(Item {
            rule,
            rule_id: c.id.clone(),
            result,
            rank,
        });
    }
    items.sort_by_key(|i| i.rank);
    let total = items.len();
    let mut kept = total.min(MAX_RESULTS);
    loop {
        let doc = build(report, &items[..kept], total);
        let size = serde_json::to_vec(&doc).map(|v| v.len()).unwrap_or(0);
        if size <= MAX_BYTES || kept == 0 {
            return doc;
        }
        kept /= 2;
    }
}

/// The SARIF rule and result of a vulnerability; a VEX `not_affected`/`fixed` decision becomes
/// an `external` suppression with the statement's justification (ranked after open results).
fn vuln_item(v: &Vulnerability, vex: Option<&VexApplied>, name: &str, location: &Value) -> Item {
    let title = v.title.clone().unwrap_or_else(|| v.id.clone());
    let fix = match &v.fixed {
        Some(f) => format!("fixed in {f}"),
        None => format!("no fix ({})", v.status),
    };
    let mut rule = json!({
        "id": v.id,
        "name": "Vulnerability",
        "shortDescription": { "text": clip(&format!("{}: {title}", v.id), 200) },
        "fullDescription": { "text": clip(&title, TEXT_LIMIT) },
        "help": {
            "text": clip(&format!("{} in {} {}: {fix}. {}", v.id, v.package, v.installed, v.url.clone().unwrap_or_default()), TEXT_LIMIT),
            "markdown": clip(&format!("**{}** in {} {}: {}.", md(&v.id), md(&v.package), md(&v.installed), md(&fix)), TEXT_LIMIT)
        },
        "defaultConfiguration": { "level": level(v.severity) },
        "properties": {
            "tags": ["vulnerability", "security", v.severity.as_str()],
            "precision": "very-high",
            "security-severity": security_severity(v.severity, v.cvss)
        }
    });
    if let Some(u) = &v.url
        && (u.starts_with("https://") || u.starts_with("http://"))
    {
        rule["helpUri"] = json!(u);
    }
    let mut result = json!({
        "ruleId": v.id,
        "level": level(v.severity),
        "message": { "text": clip(&format!("{} {} in package {} {} ({fix}){}", v.severity.as_str(), v.id, v.package, v.installed, v.pkg_path.as_ref().map(|p| format!(" at {p}")).unwrap_or_default()), TEXT_LIMIT) },
        "locations": location,
        "partialFingerprints": { "goldenScan/v1": fingerprint(&[name, &v.id, &v.package, v.pkg_path.as_deref().unwrap_or("")]) },
        "properties": { "package": v.package, "installed": v.installed, "status": v.status }
    });
    let mut rank = 10 - v.severity as u8;
    if let Some(x) = vex {
        result["suppressions"] = json!([{
            "kind": "external",
            "status": "accepted",
            "justification": clip(&vex_justification(x), TEXT_LIMIT),
        }]);
        rank += 10;
    }
    Item {
        rule,
        rule_id: v.id.clone(),
        result,
        rank,
    }
}

/// `not_affected (vulnerable_code_not_present): impact statement [vex.json#/statements/0]`.
fn vex_justification(x: &VexApplied) -> String {
    let mut s = x.status.as_str().to_string();
    if let Some(j) = x.justification {
        s.push_str(&format!(" ({})", j.as_str()));
    }
    if let Some(i) = &x.impact_statement {
        s.push_str(&format!(": {i}"));
    }
    s.push_str(&format!(" [{}]", x.source));
    s
}

fn build(report: &ScanReport, items: &[Item], total: usize) -> Value {
    let mut rules: Vec<Value> = Vec::new();
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    let mut results = Vec::new();
    for it in items {
        let idx = *index.entry(it.rule_id.clone()).or_insert_with(|| {
            rules.push(it.rule.clone());
            rules.len() - 1
        });
        let mut r = it.result.clone();
        r["ruleIndex"] = json!(idx);
        results.push(r);
    }
    let mut notifications = Vec::new();
    if items.len() < total {
        notifications.push(json!({
            "level": "warning",
            "message": { "text": format!(
                "truncated: {} of {} results kept (highest severity first) to stay within GitHub's SARIF limits; see report.json for all",
                items.len(), total
            ) }
        }));
    }
    let automation = format!(
        "golden-scan/{}/",
        report
            .entry_id
            .clone()
            .unwrap_or_else(|| image_name(&report.image.reference))
    );
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "golden-scan",
                "version": report.tool.version,
                "semanticVersion": report.tool.version,
                "rules": rules
            }},
            "automationDetails": { "id": automation },
            "invocations": [{
                "executionSuccessful": true,
                "toolExecutionNotifications": notifications
            }],
            "results": results,
            "properties": {
                "image": report.image.reference,
                "imageId": report.image.id,
                "policyPassed": report.policy.passed,
                "truncated": items.len() < total,
                "resultsTotal": total
            }
        }]
    })
}
