//! `report.md`: a short human summary. Everything that comes from the image or from Trivy is
//! untrusted and escaped (Markdown and HTML metacharacters, table pipes, `@` mentions).

use std::fmt::Write as _;

use golden_contracts::scan::{CheckStatus, ScanReport, ScannerStatus, Severity};
use golden_gha::markdown::{md, truncate};

use super::RenderContext;

const TOP_VULNS: usize = 20;
const MAX_WARNINGS: usize = 10;

fn status_word(s: CheckStatus) -> &'static str {
    match s {
        CheckStatus::Pass => "pass",
        CheckStatus::Info => "info",
        CheckStatus::Warn => "**warn**",
        CheckStatus::Fail => "**FAIL**",
        CheckStatus::Skip => "skip",
    }
}

pub fn render(r: &ScanReport, cx: &RenderContext<'_>) -> String {
    let mut s = String::new();
    overview(&mut s, r);
    policy_findings(&mut s, r);
    vulnerabilities(&mut s, r, cx);
    vex_decisions(&mut s, r);
    compliance(&mut s, r);
    warnings(&mut s, r);
    s
}

/// The title with the verdict and the image table.
fn overview(s: &mut String, r: &ScanReport) {
    let verdict = if r.policy.passed { "passed" } else { "FAILED" };
    let _ = writeln!(
        s,
        "## golden-scan: {} — policy {verdict}\n",
        md(&r.image.reference)
    );
    let os =
        r.os.as_ref()
            .map(|o| {
                if o.pretty_name.is_empty() {
                    format!("{} {}", o.id, o.version_id)
                } else {
                    o.pretty_name.clone()
                }
            })
            .unwrap_or_else(|| "unknown".into());
    let _ = writeln!(s, "| | |\n|---|---|");
    if let Some(id) = &r.image.id {
        let _ = writeln!(s, "| Image id | {} |", md(&truncate(id, 19)));
    }
    if let Some(e) = &r.entry_id {
        let _ = writeln!(s, "| Plan entry | {} |", md(e));
    }
    let _ = writeln!(s, "| OS | {} |", md(&os));
    let _ = writeln!(
        s,
        "| User | {} |",
        if r.image.user.is_empty() {
            "(root, unset)".to_string()
        } else {
            md(&r.image.user)
        }
    );
    let by_kind: Vec<String> = r
        .summary
        .packages_by_kind
        .iter()
        .map(|(k, n)| format!("{} {n}", md(k)))
        .collect();
    if by_kind.is_empty() {
        let _ = writeln!(s, "| Packages | {} |", r.summary.packages);
    } else {
        let _ = writeln!(
            s,
            "| Packages | {} ({}) |",
            r.summary.packages,
            by_kind.join(", ")
        );
    }
    let _ = writeln!(
        s,
        "| Layers | {} ({}) |",
        r.image.layers.len(),
        golden_contracts::units::human_bytes(r.image.size)
    );
    let _ = writeln!(s, "| Policy | {} |", md(&r.policy.policy));
    s.push('\n');
}

/// Policy failures and notes, when there are any.
fn policy_findings(s: &mut String, r: &ScanReport) {
    if !r.policy.failures.is_empty() {
        let _ = writeln!(s, "### Policy failures\n");
        for f in &r.policy.failures {
            let _ = writeln!(s, "- `{}`: {}", f.rule, md(&truncate(&f.message, 400)));
        }
        s.push('\n');
    }
    if !r.policy.notes.is_empty() {
        let _ = writeln!(s, "### Notes\n");
        for n in &r.policy.notes {
            let _ = writeln!(s, "- {}", md(&truncate(n, 400)));
        }
        s.push('\n');
    }
}

/// Vulnerability counts and the top findings at or above the policy threshold, or why there
/// are none.
fn vulnerabilities(s: &mut String, r: &ScanReport, cx: &RenderContext<'_>) {
    let _ = writeln!(s, "### Vulnerabilities\n");
    match r.vulnerabilities.status {
        ScannerStatus::Scanned => {
            let _ = writeln!(
                s,
                "| CRITICAL | HIGH | MEDIUM | LOW | UNKNOWN | fixable | suppressed |\n|---|---|---|---|---|---|---|"
            );
            let n = |sev: Severity| {
                r.summary
                    .vulnerabilities
                    .get(sev.as_str())
                    .copied()
                    .unwrap_or(0)
            };
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} | {} |\n",
                n(Severity::Critical),
                n(Severity::High),
                n(Severity::Medium),
                n(Severity::Low),
                n(Severity::Unknown),
                r.summary.fixable,
                r.summary.suppressed
            );
            let threshold = cx.policy.fail_on.unwrap_or(Severity::Critical);
            let top: Vec<_> = r
                .vulnerabilities
                .items
                .iter()
                .filter(|v| v.suppressed.is_none() && v.severity >= threshold)
                .collect();
            if !top.is_empty() {
                let _ = writeln!(
                    s,
                    "| Id | Package | Installed | Fixed | Severity |\n|---|---|---|---|---|"
                );
                for v in top.iter().take(TOP_VULNS) {
                    let _ = writeln!(
                        s,
                        "| {} | {} | {} | {} | {} |",
                        md(&truncate(&v.id, 40)),
                        md(&truncate(&v.package, 60)),
                        md(&truncate(&v.installed, 40)),
                        v.fixed
                            .as_deref()
                            .map(|f| md(&truncate(f, 40)))
                            .unwrap_or_else(|| md(&v.status)),
                        v.severity.as_str()
                    );
                }
                if top.len() > TOP_VULNS {
                    let _ = writeln!(
                        s,
                        "\n... and {} more at or above {} (see report.json)",
                        top.len() - TOP_VULNS,
                        threshold.as_str()
                    );
                }
                s.push('\n');
            }
        }
        ScannerStatus::Disabled => s.push_str("Not scanned (Trivy disabled).\n\n"),
        ScannerStatus::Unavailable => s.push_str("**Not scanned: Trivy is not available.**\n\n"),
        ScannerStatus::Failed => {
            let _ = writeln!(
                s,
                "**Trivy failed**: {}\n",
                md(&truncate(
                    r.vulnerabilities.note.as_deref().unwrap_or(""),
                    400
                ))
            );
        }
    }
}

/// Findings a VEX statement decided: suppressed (`not_affected`, `fixed`) with the
/// justification, or kept open (`affected`, `under_investigation`) with the action statement.
fn vex_decisions(s: &mut String, r: &ScanReport) {
    let decided: Vec<_> = r
        .vulnerabilities
        .items
        .iter()
        .filter_map(|v| v.vex.as_ref().map(|x| (v, x)))
        .collect();
    if decided.is_empty() {
        return;
    }
    let _ = writeln!(
        s,
        "### VEX decisions ({} finding(s))\n\n| Id | Package | Severity | Status | Justification / action | Statement |\n|---|---|---|---|---|---|",
        decided.len()
    );
    for (v, x) in decided.iter().take(TOP_VULNS) {
        let status = if x.status.suppresses() {
            format!("{} (suppressed)", x.status.as_str())
        } else {
            format!("**{}** (open)", x.status.as_str())
        };
        let why = if x.status.suppresses() {
            let mut w = x
                .justification
                .map(|j| j.as_str().to_string())
                .unwrap_or_default();
            if let Some(i) = &x.impact_statement {
                w = if w.is_empty() {
                    i.clone()
                } else {
                    format!("{w}: {i}")
                };
            }
            w
        } else {
            x.action_statement.clone().unwrap_or_default()
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {status} | {} | {} |",
            md(&truncate(&v.id, 40)),
            md(&truncate(&v.package, 60)),
            v.severity.as_str(),
            md(&truncate(&why, 300)),
            md(&truncate(&x.source, 120)),
        );
    }
    if decided.len() > TOP_VULNS {
        let _ = writeln!(
            s,
            "\n... and {} more (see report.json)",
            decided.len() - TOP_VULNS
        );
    }
    s.push('\n');
}

/// The compliance table, one row per check.
fn compliance(s: &mut String, r: &ScanReport) {
    if !r.compliance.is_empty() {
        let _ = writeln!(
            s,
            "### Compliance ({} pass, {} fail, {} warn)\n",
            r.summary.compliance_pass, r.summary.compliance_fail, r.summary.compliance_warn
        );
        let _ = writeln!(s, "| Check | CIS | Status | Evidence |\n|---|---|---|---|");
        for c in &r.compliance {
            let ev = c
                .evidence
                .first()
                .map(|e| md(&truncate(e, 160)))
                .unwrap_or_default();
            let more = if c.evidence.len() > 1 {
                format!(" (+{})", c.evidence.len() - 1)
            } else {
                String::new()
            };
            let status = if c.suppressed.is_some() {
                format!("{} (suppressed)", status_word(c.status))
            } else {
                status_word(c.status).to_string()
            };
            let _ = writeln!(
                s,
                "| {} {} | {} | {status} | {ev}{more} |",
                c.id,
                md(&c.title),
                c.cis.as_deref().unwrap_or("")
            );
        }
        s.push('\n');
    }
}

/// Scan warnings, folded, the first few listed.
fn warnings(s: &mut String, r: &ScanReport) {
    if !r.warnings.is_empty() {
        let _ = writeln!(
            s,
            "<details><summary>{} scan warning(s)</summary>\n",
            r.warnings.len()
        );
        for w in r.warnings.iter().take(MAX_WARNINGS) {
            let _ = writeln!(s, "- {}", md(&truncate(w, 300)));
        }
        if r.warnings.len() > MAX_WARNINGS {
            let _ = writeln!(
                s,
                "- ... and {} more in report.json",
                r.warnings.len() - MAX_WARNINGS
            );
        }
        s.push_str("\n</details>\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_untrusted_text() {
        // The shared escaping (golden_gha::markdown::md): no raw HTML, no live mention, table
        // pipes and backticks escaped, one line.
        assert_eq!(
            md("a|b<script>@x\n`y`"),
            format!("a\\|b&lt;script&gt;@{}x \\`y\\`", golden_gha::markdown::ZWJ)
        );
        assert_eq!(
            md("[link](http://e)"),
            format!("\\[link\\]\\(http{}://e\\)", golden_gha::markdown::ZWJ)
        );
    }
}
