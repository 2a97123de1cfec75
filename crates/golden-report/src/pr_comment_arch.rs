//! The PR comment of a multi-architecture run ([`crate::arch_rows`]): one row per image with
//! a status column per architecture, and one details block per image with the vulnerabilities
//! once when every architecture has the same, else per architecture.
//!
//! Same rule as [`crate::pr_comment`]: every value from the (validated) data is shown in a
//! code span, architectures included.

use std::fmt::Write as _;

use crate::arch_rows::{ArchEntry, ImageRow, arch_label, per_arch};
use crate::pr_comment::{
    CommentImage, code, compliance_cell, digest_cell, new_fixed_cell, os_cell, policy_cell,
    size_cell, status_icon, version_cell, vuln_list, vulns_cell,
};
use crate::summary::ImageStatus;

impl ArchEntry for CommentImage {
    fn entry_id(&self) -> &str {
        &self.id
    }
    fn entry_arch(&self) -> Option<&str> {
        self.arch.as_deref()
    }
    fn entry_status(&self) -> ImageStatus {
        self.status
    }
}

type Row<'a> = ImageRow<'a, CommentImage>;

/// The table head: a status column per architecture after the image.
pub(crate) fn table_head(arches: &[&str]) -> String {
    crate::arch_rows::table_head(arches, code)
}

/// One image, every architecture: the row's status is the worst of them.
pub(crate) fn row(r: &Row, arches: &[&str]) -> String {
    let e = &r.entries;
    let cell = |f: fn(&CommentImage) -> String| per_arch(e, code, f);
    let status = crate::arch_rows::status_cells(r, arches);
    let digest = match e.iter().find_map(|i| i.index_digest.as_deref()) {
        Some(d) => format!("index {}", digest_cell(Some(d))),
        None => cell(|i| digest_cell(i.digest.as_deref())),
    };
    format!(
        "| {} | {} |{status} {} | {} | {} | {} | {} | {} | {} | {digest} |\n",
        status_icon(r.status()),
        code(r.id()),
        cell(os_cell),
        cell(version_cell),
        cell(size_cell),
        cell(vulns_cell),
        cell(new_fixed_cell),
        cell(compliance_cell),
        cell(policy_cell),
    )
}

fn total(i: &CommentImage) -> u64 {
    i.vulns.len() as u64 + i.vulns_omitted
}

/// The details block of an image with vulnerabilities (counted or suppressed) on any
/// architecture.
pub(crate) fn details(r: &Row) -> Option<String> {
    let listed =
        |i: &&CommentImage| total(i) > 0 || !i.suppressed.is_empty() || i.suppressed_omitted > 0;
    let with: Vec<&CommentImage> = r.entries.iter().copied().filter(listed).collect();
    let first = with.first()?;
    let what = |i: &CommentImage| {
        if i.new_only {
            "new vulnerabilities"
        } else {
            "vulnerabilities"
        }
    };
    let failed: Vec<String> = r.failed_arches().into_iter().map(code).collect();
    let failed = if failed.is_empty() {
        String::new()
    } else {
        format!(" · failed on {}", failed.join(", "))
    };
    let same = with.len() == r.entries.len()
        && with.iter().all(|i| {
            i.vulns == first.vulns
                && i.vulns_omitted == first.vulns_omitted
                && i.new_only == first.new_only
                && i.suppressed == first.suppressed
                && i.suppressed_omitted == first.suppressed_omitted
        });
    let mut out = String::new();
    if same && r.entries.len() > 1 {
        let all: Vec<String> = r.entries.iter().map(|i| code(arch_label(*i))).collect();
        let _ = write!(
            out,
            "<details>\n<summary>{} {}: {} {} (same on {}){failed}</summary>\n\n",
            status_icon(r.status()),
            code(r.id()),
            total(first),
            what(first),
            all.join(", ")
        );
        out.push_str(&vuln_list(first));
    } else {
        let _ = write!(
            out,
            "<details>\n<summary>{} {}: vulnerabilities per architecture{failed}</summary>\n",
            status_icon(r.status()),
            code(r.id()),
        );
        for i in &with {
            let _ = writeln!(
                out,
                "\n{} {}: {} {}\n",
                status_icon(i.status),
                code(arch_label(*i)),
                total(i),
                what(i)
            );
            out.push_str(&vuln_list(i));
        }
    }
    out.push_str("\n</details>\n");
    Some(out)
}
