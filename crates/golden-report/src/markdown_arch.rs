//! The Markdown of a multi-architecture run ([`crate::arch_rows`]): one table row per image
//! with a status column per architecture, cells that show one value when every architecture
//! has it and `arch: value` otherwise, and one `<details>` block per image with a line per
//! architecture and the findings once when they are the same, else per architecture.
//!
//! Same escaping rules as [`crate::markdown`]: architectures come from the documents and go
//! through [`md`] / [`html`] like every other untrusted string.

use golden_contracts::units::human_bytes;
use std::fmt::Write as _;

use crate::aggregate::Report;
use crate::arch_rows::{ImageRow, arch_label, base_name, per_arch};
use crate::escape::{html, md, truncate};
use crate::markdown::{
    Caps, compliance_cell, digest_cell, findings, human_duration, new_fixed_cell, opt_md,
    policy_cell, size_cell, status_icon, status_text, vulns_cell,
};
use crate::summary::ImageSummary;

type Row<'a> = ImageRow<'a, ImageSummary>;

/// An architecture in a table head or a cell.
fn arch_md(a: &str) -> String {
    md(&truncate(a, 20))
}

/// The table head: a status column per architecture after the image.
pub(crate) fn table_head(arches: &[&str]) -> String {
    crate::arch_rows::table_head(arches, arch_md)
}

/// One image, every architecture: the row's status is the worst of them.
pub(crate) fn row(r: &Row, arches: &[&str]) -> String {
    let e = &r.entries;
    let cell = |f: fn(&ImageSummary) -> String| per_arch(e, arch_md, f);
    let status = crate::arch_rows::status_cells(r, arches);
    // An entry without architecture has no column: it shows in the row's status only.
    format!(
        "| {} | **{}** |{status} {} | {} | {} | {} | {} | {} | {} | {} |\n",
        status_icon(r.status()),
        md(r.id()),
        cell(|i| opt_md(&i.os)),
        cell(|i| opt_md(&i.version)),
        cell(size_cell),
        cell(vulns_cell),
        cell(new_fixed_cell),
        cell(compliance_cell),
        cell(policy_cell),
        row_digest(r),
    )
}

/// The index digest when `golden-push index` built one, else each architecture's digest.
fn row_digest(r: &Row) -> String {
    match r.entries.iter().find_map(|i| i.index_digest.as_deref()) {
        Some(d) => format!("index {}", digest_cell(Some(d))),
        None => per_arch(&r.entries, arch_md, |i| digest_cell(i.digest.as_deref())),
    }
}

/// `policy failed on arm64, build failed on amd64`, or `passed on amd64, arm64`.
fn verdict(r: &Row) -> String {
    let failed: Vec<String> = r
        .entries
        .iter()
        .filter(|i| i.status.failed())
        .map(|i| {
            format!(
                "{} on {}",
                status_text(i.status),
                truncate(arch_label(*i), 20)
            )
        })
        .collect();
    if failed.is_empty() {
        let all: Vec<String> = r
            .entries
            .iter()
            .map(|i| truncate(arch_label(*i), 20))
            .collect();
        format!("{} on {}", status_text(r.status()), all.join(", "))
    } else {
        failed.join(", ")
    }
}

/// One `<details>` block for the image: shared facts, a line per architecture, then the
/// findings (once when the same on every architecture).
pub(crate) fn details(r: &Row, report: &Report, caps: Caps) -> String {
    let first = r.entries.first().copied();
    let name = first
        .map(|i| base_name(&i.name, i.arch.as_deref()))
        .unwrap_or("");
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<details>\n<summary>{} {}: {} · {}</summary>\n",
        status_icon(r.status()),
        html(&truncate(r.id(), 120)),
        html(&verdict(r)),
        html(&truncate(name, 200)),
    );
    out.push_str(&shared_facts(r, name));
    for i in &r.entries {
        let _ = writeln!(out, "- {}", arch_facts(i));
    }
    out.push('\n');
    let parts: Vec<(&ImageSummary, String)> = r
        .entries
        .iter()
        .map(|i| {
            let mut f = String::new();
            findings(&mut f, i, report.shown_vulns.get(&i.key()), caps);
            (*i, f)
        })
        .collect();
    arch_findings(&mut out, &parts);
    out.push_str("</details>\n\n");
    out
}

/// The facts every architecture shares: name, OS, platform, version, index.
fn shared_facts(r: &Row, name: &str) -> String {
    let e = &r.entries;
    let mut facts = vec![format!("**Image:** {}", md(&truncate(name, 200)))];
    for (what, value) in [
        ("OS", per_arch(e, arch_md, |i| opt_md(&i.os))),
        ("Platform", per_arch(e, arch_md, |i| opt_md(&i.platform))),
        ("Version", per_arch(e, arch_md, |i| opt_md(&i.version))),
    ] {
        if value != "—" {
            facts.push(format!("**{what}:** {value}"));
        }
    }
    if let Some(d) = e.iter().find_map(|i| i.index_digest.as_deref()) {
        facts.push(format!("**Index:** {}", md(&truncate(d, 100))));
    }
    format!("{}\n\n", facts.join(" · "))
}

/// `**arm64** ⛔ policy failed · **Digest:** … · **Size:** … · **Build:** …`
fn arch_facts(i: &ImageSummary) -> String {
    let mut facts = vec![format!(
        "**{}** {} {}",
        arch_md(arch_label(i)),
        status_icon(i.status),
        status_text(i.status)
    )];
    if let Some(d) = &i.digest {
        facts.push(format!("**Digest:** {}", md(&truncate(d, 100))));
    }
    if let Some(s) = i.size {
        facts.push(format!("**Size:** {}", human_bytes(s)));
    }
    if let Some(b) = &i.build {
        facts.push(format!(
            "**Build:** {} in {}",
            if b.succeeded { "succeeded" } else { "failed" },
            human_duration(b.duration_seconds)
        ));
    }
    facts.join(" · ")
}

/// The findings: once when every architecture has the same, else one part per architecture
/// that has any.
fn arch_findings(out: &mut String, parts: &[(&ImageSummary, String)]) {
    let Some((_, first)) = parts.first() else {
        return;
    };
    if parts.len() > 1 && parts.iter().all(|(_, f)| f == first) {
        if !first.is_empty() {
            let all: Vec<String> = parts.iter().map(|(i, _)| arch_md(arch_label(*i))).collect();
            let _ = writeln!(out, "**Same on {}:**\n", all.join(", "));
            out.push_str(first);
        }
        return;
    }
    for (i, f) in parts.iter().filter(|(_, f)| !f.is_empty()) {
        let _ = writeln!(
            out,
            "**On {}** ({} {}):\n",
            arch_md(arch_label(*i)),
            status_icon(i.status),
            status_text(i.status)
        );
        out.push_str(f);
    }
}
