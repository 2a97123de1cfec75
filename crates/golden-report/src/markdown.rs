//! The Markdown report: one table (one row per image, failed builds first), a problems section,
//! then one collapsible `<details>` block per image. Used for the PR comment (65,536-character
//! budget) and the job summary (1 MiB budget): when the text does not fit, details are reduced,
//! then left out, with a pointer to where the full report is.
//!
//! Architecture invariant: untrusted text only enters through [`crate::escape`]; the only raw
//! HTML emitted is `<details>`, `<summary>` and `<code>` (see [`crate::comment_file`], which
//! re-checks bodies coming from untrusted runs against exactly this).

use golden_contracts::scan::{CheckStatus, ScannerStatus};
use golden_contracts::units::human_bytes;
use std::fmt::Write as _;

use crate::aggregate::{Report, ShownVulns};
use crate::arch_rows::{self, Grouped, ImageRow, per_arch};
use crate::escape::{html, md, safe_url, truncate};
use crate::markdown_arch;
use crate::packages::{self, Columns};
use crate::summary::{
    BaselineDiff, ImageStatus, ImageSummary, ProblemKind, ProblemSeverity, ScanSummary,
    severity_keys,
};

/// GitHub refuses comment bodies above 65,536 characters.
pub const COMMENT_LIMIT: usize = 65_536;

/// How a budget is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// Unicode scalar values (GitHub's comment limit).
    Chars,
    /// UTF-8 bytes (the job summary limit).
    Bytes,
}

impl Measure {
    pub fn len(self, s: &str) -> usize {
        match self {
            Measure::Chars => s.chars().count(),
            Measure::Bytes => s.len(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct RenderOptions {
    /// Maximum size of the returned text.
    pub budget: usize,
    pub measure: Measure,
    /// Sentence telling where the untrimmed report is, shown when something was left out.
    pub trimmed_pointer: String,
    /// Link to the workflow run, when known.
    pub run_url: Option<String>,
}

impl RenderOptions {
    /// For a PR comment: `reserved` characters are taken by the marker line.
    pub fn comment(run_url: Option<String>, reserved: usize) -> Self {
        let pointer = match run_url.as_deref().and_then(safe_url) {
            Some(u) => format!(
                "Some details were trimmed to keep this comment under GitHub's 65,536-character limit: the full report is in the [job summary]({u}) and in `summary.json` among the run's artifacts."
            ),
            None => "Some details were trimmed to keep this comment under GitHub's 65,536-character limit: the full report is in the job summary and in `summary.json` among the run's artifacts.".to_string(),
        };
        RenderOptions {
            // A safety margin below the hard limit.
            budget: COMMENT_LIMIT - 536 - reserved,
            measure: Measure::Chars,
            trimmed_pointer: pointer,
            run_url,
        }
    }

    /// For the job summary (`$GITHUB_STEP_SUMMARY`).
    pub fn job_summary(run_url: Option<String>) -> Self {
        RenderOptions {
            budget: golden_gha::SUMMARY_LIMIT - 4096,
            measure: Measure::Bytes,
            trimmed_pointer: "Some details were trimmed to keep the job summary under GitHub's 1 MiB limit: the full data is in `summary.json` and in each image's scan report among the run's artifacts.".to_string(),
            run_url,
        }
    }

    /// No limit (the `summary.md` file).
    pub fn unlimited(run_url: Option<String>) -> Self {
        RenderOptions {
            budget: usize::MAX,
            measure: Measure::Bytes,
            trimmed_pointer: String::new(),
            run_url,
        }
    }
}

/// How much of each image's findings the details show.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Caps {
    vulns: usize,
    checks: usize,
    evidence: usize,
    text: usize,
    packages: usize,
    lines: usize,
    fixed: usize,
    policy: usize,
}

pub(crate) const FULL: Caps = Caps {
    vulns: 50,
    checks: 30,
    evidence: 10,
    text: 300,
    packages: 30,
    lines: 20,
    fixed: 30,
    policy: 20,
};
pub(crate) const REDUCED: Caps = Caps {
    vulns: 10,
    checks: 10,
    evidence: 3,
    text: 160,
    packages: 10,
    lines: 8,
    fixed: 10,
    policy: 8,
};
pub(crate) const MINIMAL: Caps = Caps {
    vulns: 3,
    checks: 3,
    evidence: 1,
    text: 100,
    packages: 3,
    lines: 3,
    fixed: 3,
    policy: 3,
};

/// Render the report within `opts.budget`.
pub fn render(report: &Report, opts: &RenderOptions) -> String {
    let m = opts.measure;
    let s = &report.summary;
    let mut head = header(report);
    let footer = footer(opts);

    // The table; in the (unlikely) case it alone does not fit, keep the rows that do.
    let note_reserve = opts.trimmed_pointer.len() + 200;
    let grouped = arch_rows::group(&s.images);
    let table = table(&grouped);
    let problems = format!(
        "{}{}",
        regressions_section(report, 50),
        problems_section(report, 50)
    );
    if m.len(&head) + m.len(&table) + m.len(&problems) + m.len(&footer) + note_reserve
        <= opts.budget
    {
        head.push_str(&table);
        head.push_str(&problems);
    } else {
        let mut rows = table_head(&grouped);
        let mut kept = 0;
        for img in &grouped.rows {
            let r = table_row(&grouped, img);
            if m.len(&head) + m.len(&rows) + m.len(&r) + m.len(&footer) + note_reserve * 2
                > opts.budget
            {
                break;
            }
            rows.push_str(&r);
            kept += 1;
        }
        head.push_str(&rows);
        let _ = writeln!(
            head,
            "\n_{} more images are not listed here._ {}\n",
            grouped.rows.len() - kept,
            opts.trimmed_pointer
        );
        head.push_str(&footer);
        return head;
    }
    // After the table: the package counts, then (below the details) the audit history
    // commands, each only in the room the table left; the details fit in what remains.
    let room = |used: &str| {
        opts.budget
            .saturating_sub(m.len(used) + m.len(&footer) + note_reserve)
    };
    let packages = packages_section(&grouped, room(&head), opts);
    head.push_str(&packages);
    let audit = audit_section(&grouped, report, room(&head), m);
    let footer = format!("{audit}{footer}");

    let with_details: Vec<&Row> = grouped
        .rows
        .iter()
        .filter(|r| {
            r.entries
                .iter()
                .any(|i| has_details(i, report.shown_vulns.get(&i.key())))
        })
        .collect();
    if with_details.is_empty() {
        head.push_str(&footer);
        return head;
    }

    for (level, caps) in [FULL, REDUCED, MINIMAL].into_iter().enumerate() {
        let blocks: Vec<String> = with_details
            .iter()
            .map(|r| row_details(&grouped, r, report, caps))
            .collect();
        let total: usize = blocks.iter().map(|b| m.len(b)).sum();
        // Below the full level something was shortened: say where the rest is.
        let note = if level > 0 {
            format!("\n_{}_\n", opts.trimmed_pointer)
        } else {
            String::new()
        };
        if m.len(&head) + total + m.len(&note) + m.len(&footer) <= opts.budget {
            head.push_str("\n### Details\n\n");
            for b in blocks {
                head.push_str(&b);
            }
            head.push_str(&note);
            head.push_str(&footer);
            return head;
        }
    }

    // Still too long: as many minimal blocks as fit, in table order (failures first).
    head.push_str("\n### Details\n\n");
    let mut left_out = 0usize;
    for (n, i) in with_details.iter().enumerate() {
        let b = row_details(&grouped, i, report, MINIMAL);
        if m.len(&head) + m.len(&b) + note_reserve + m.len(&footer) > opts.budget {
            left_out = with_details.len() - n;
            break;
        }
        head.push_str(&b);
    }
    let _ = writeln!(
        head,
        "\n_Details of {left_out} more images were left out. {}_",
        opts.trimmed_pointer
    );
    head.push_str(&footer);
    head
}

/// The "Packages per ecosystem" table ([`crate::packages`]) in at most `room`: empty when no
/// image's scan report counts its packages per kind, or when not even one row fits.
fn packages_section(g: &Grouped<'_, ImageSummary>, room: usize, opts: &RenderOptions) -> String {
    let cols = Columns::of(
        g.rows
            .iter()
            .flat_map(|r| r.entries.iter())
            .filter_map(|i| i.scan.as_ref())
            .map(|s| &s.packages_by_kind),
    );
    if cols.is_empty() {
        return String::new();
    }
    let head = cols.head(|k| md(&truncate(k, 40)));
    let rows: Vec<String> = g.rows.iter().map(|r| packages_row(r, &cols)).collect();
    let m = opts.measure;
    packages::fit(
        &head,
        &rows,
        room,
        |s| m.len(s),
        |n| {
            format!(
                "\n_The package counts of {n} more images are not listed here._ {}\n",
                opts.trimmed_pointer
            )
        },
    )
    .unwrap_or_default()
}

/// One image's row: the total and each kind's count, per architecture when they differ.
fn packages_row(r: &Row, cols: &Columns) -> String {
    let arch = |a: &str| md(&truncate(a, 20));
    let counts = |i: &ImageSummary| match &i.scan {
        Some(s) => cols.counts(&s.packages_by_kind),
        None => vec![None; cols.width()],
    };
    let total = per_arch(&r.entries, arch, |i| {
        packages::cell(i.scan.as_ref().map(|s| s.packages))
    });
    let cells: String = (0..cols.width())
        .map(|c| {
            format!(
                " {} |",
                per_arch(&r.entries, arch, |i| packages::cell(counts(i)[c]))
            )
        })
        .collect();
    format!("| **{}** | {total} |{cells}\n", md(r.id()))
}

/// Most audit history commands listed one per image; more pushed images get one command and
/// the pattern.
const AUDIT_LINES: usize = 20;

/// Where each pushed image's audit trail is: the `golden-report history` command of its pinned
/// reference (the index for a multi-arch image), in table order; only references made of plain
/// reference characters ([`crate::history::pinned_reference`]). Empty when nothing was pushed,
/// or when it does not fit in `room`.
fn audit_section(
    g: &Grouped<'_, ImageSummary>,
    report: &Report,
    room: usize,
    m: Measure,
) -> String {
    let pushed: Vec<(&str, &str)> = g
        .rows
        .iter()
        .filter_map(|r| {
            let reference = report.digests.get(r.id())?;
            Some((r.id(), crate::history::pinned_reference(reference)?))
        })
        .collect();
    let Some((first_id, first_ref)) = pushed.first() else {
        return String::new();
    };
    let intro = "**Audit history**: the timeline of build, scan, signature, provenance, promotion and replication events, read from the image's OCI referrers";
    let mut full = format!("\n{intro}:\n\n");
    for (id, reference) in &pushed {
        let _ = writeln!(
            full,
            "- **{}**: `{}`",
            md(id),
            crate::history::command(reference)
        );
    }
    let short = if pushed.len() == 1 {
        format!("\n{intro}: `{}`\n", crate::history::command(first_ref))
    } else {
        format!(
            "\n{intro}: `{}` for **{}**, and `golden-report history REGISTRY/REPOSITORY@DIGEST` for each of the {} other pushed images (their references are in the `digests` step output).\n",
            crate::history::command(first_ref),
            md(first_id),
            pushed.len() - 1
        )
    };
    if pushed.len() <= AUDIT_LINES && m.len(&full) <= room {
        full
    } else if m.len(&short) <= room {
        short
    } else {
        String::new()
    }
}

pub(crate) fn status_icon(s: ImageStatus) -> &'static str {
    match s {
        ImageStatus::Ok => "✅",
        ImageStatus::BuildFailed => "❌",
        ImageStatus::PolicyFailed => "⛔",
        ImageStatus::Incomplete => "⚠️",
    }
}

pub(crate) fn status_text(s: ImageStatus) -> &'static str {
    match s {
        ImageStatus::Ok => "passed",
        ImageStatus::BuildFailed => "build failed",
        ImageStatus::PolicyFailed => "policy failed",
        ImageStatus::Incomplete => "incomplete",
    }
}

/// The totals both renderers (job summary, pull-request comment) open with.
pub(crate) struct Counts {
    pub images: u64,
    pub ok: u64,
    pub failed: u64,
    pub build_failed: u64,
    pub policy_failed: u64,
    pub incomplete: u64,
    pub problems: u64,
}

/// The `##` headline: no results, all passed, or how many failed.
pub(crate) fn headline(c: &Counts) -> String {
    if c.images == 0 {
        "## ⚠️ Golden images: no results\n\n".to_string()
    } else if c.failed == 0 && c.problems == 0 {
        format!("## ✅ Golden images: all {} passed\n\n", c.images)
    } else {
        format!(
            "## ❌ Golden images: {} of {} failed\n\n",
            c.failed, c.images
        )
    }
}

/// The count line's first parts: the images (`images`, a multi-arch count line, or **N**
/// images), passed, and each kind of failure that occurred.
pub(crate) fn status_parts(c: &Counts, images: Option<String>) -> Vec<String> {
    let mut parts = vec![
        images.unwrap_or_else(|| format!("**{}** images", c.images)),
        format!("✅ {} passed", c.ok),
    ];
    for (n, what) in [
        (c.build_failed, "❌ {} build failed"),
        (c.policy_failed, "⛔ {} policy failed"),
        (c.incomplete, "⚠️ {} incomplete"),
    ] {
        if n > 0 {
            parts.push(what.replace("{}", &n.to_string()));
        }
    }
    parts
}

fn header(report: &Report) -> String {
    let s = &report.summary;
    let t = &s.totals;
    let counts = Counts {
        images: t.images,
        ok: t.ok,
        failed: t.failed,
        build_failed: t.build_failed,
        policy_failed: t.policy_failed,
        incomplete: t.incomplete,
        problems: t.problems,
    };
    let mut out = headline(&counts);
    let grouped = arch_rows::group(&s.images);
    let mut parts = status_parts(
        &counts,
        grouped
            .multi_arch()
            .then(|| arch_rows::count_line(&grouped, t.images, |a| md(&truncate(a, 20)))),
    );
    let vulns: Vec<String> = severity_keys()
        .filter_map(|k| {
            let n = t.vulnerabilities.get(k).copied().unwrap_or(0);
            (n > 0).then(|| format!("{n} {}", k.to_ascii_lowercase()))
        })
        .collect();
    // "No vulnerabilities" only means something for images a scanner looked at.
    let unscanned = s
        .images
        .iter()
        .filter(|i| {
            i.scan
                .as_ref()
                .is_none_or(|sc| sc.scanner_status != ScannerStatus::Scanned)
        })
        .count();
    let scanned = s.images.len() - unscanned;
    if vulns.is_empty() && scanned > 0 {
        parts.push(if unscanned == 0 {
            "no vulnerabilities".into()
        } else {
            format!("no vulnerabilities in the {scanned} scanned")
        });
    } else if !vulns.is_empty() {
        parts.push(format!("vulnerabilities: {}", vulns.join(", ")));
    }
    if unscanned > 0 {
        parts.push(format!(
            "vulnerabilities not scanned for {unscanned} image{}",
            if unscanned == 1 { "" } else { "s" }
        ));
    }
    if let Some(b) = &s.baseline {
        parts.push(format!(
            "versus baseline: +{} new, −{} fixed ({} images compared)",
            t.new_vulnerabilities, t.fixed_vulnerabilities, b.images
        ));
    }
    let _ = writeln!(out, "{}\n", parts.join(" · "));
    out
}

fn footer(opts: &RenderOptions) -> String {
    match opts.run_url.as_deref().and_then(safe_url) {
        Some(u) => format!("\n_Report by golden-report for [this run]({u})._\n"),
        None => "\n_Report by golden-report._\n".to_string(),
    }
}

const TABLE_HEAD: &str = "| | Image | OS | Version | Size (change) | Vulnerabilities C / H / M / L / U | New / fixed | Compliance | Policy | Digest |\n|---|---|---|---|---|---|---|---|---|---|\n";

/// A row of the table: one image, all its architectures.
type Row<'a> = ImageRow<'a, ImageSummary>;

fn table(g: &Grouped<'_, ImageSummary>) -> String {
    let mut out = table_head(g);
    for r in &g.rows {
        out.push_str(&table_row(g, r));
    }
    out
}

fn table_head(g: &Grouped<'_, ImageSummary>) -> String {
    if g.multi_arch() {
        markdown_arch::table_head(&g.arches)
    } else {
        TABLE_HEAD.to_string()
    }
}

fn table_row(g: &Grouped<'_, ImageSummary>, r: &Row) -> String {
    match r.entries.as_slice() {
        [i] if !g.multi_arch() => row(i),
        _ => markdown_arch::row(r, &g.arches),
    }
}

fn row_details(g: &Grouped<'_, ImageSummary>, r: &Row, report: &Report, caps: Caps) -> String {
    match r.entries.as_slice() {
        [i] if !g.multi_arch() => details(i, report.shown_vulns.get(&i.key()), caps),
        _ => markdown_arch::details(r, report, caps),
    }
}

pub(crate) fn opt_md(v: &Option<String>) -> String {
    v.as_deref().map(md).unwrap_or_else(|| "—".into())
}

fn row(i: &ImageSummary) -> String {
    format!(
        "| {} | **{}** | {} | {} | {} | {} | {} | {} | {} | {} |\n",
        status_icon(i.status),
        md(&i.id),
        opt_md(&i.os),
        opt_md(&i.version),
        size_cell(i),
        vulns_cell(i),
        new_fixed_cell(i),
        compliance_cell(i),
        policy_cell(i),
        digest_cell(i.digest.as_deref()),
    )
}

pub(crate) fn size_cell(i: &ImageSummary) -> String {
    match (i.size, i.baseline.as_ref()) {
        (Some(sz), Some(d)) => match (d.found, d.size_change) {
            (true, Some(c)) => format!("{} ({})", human_bytes(sz), human_change(c)),
            (false, _) => format!("{} (new)", human_bytes(sz)),
            _ => human_bytes(sz),
        },
        (Some(sz), None) => human_bytes(sz),
        (None, _) => "—".into(),
    }
}

pub(crate) fn vulns_cell(i: &ImageSummary) -> String {
    match &i.scan {
        Some(s) => vuln_cell(s),
        None => "—".into(),
    }
}

pub(crate) fn new_fixed_cell(i: &ImageSummary) -> String {
    match (&i.baseline, &i.scan) {
        (Some(d), Some(_)) if d.compared_scan => format!(
            "+{} / −{}",
            d.new_vulnerabilities.len(),
            d.fixed_vulnerabilities.len()
        ),
        (Some(d), Some(_)) if !d.found => "new image".into(),
        _ => "—".into(),
    }
}

pub(crate) fn compliance_cell(i: &ImageSummary) -> String {
    match &i.scan {
        Some(s) => {
            let c = s.compliance;
            if c.fail > 0 {
                format!("❌ {} failed", c.fail)
            } else if c.pass + c.warn + c.info + c.skip == 0 {
                "—".into()
            } else if c.warn > 0 {
                format!("⚠️ {} passed, {} warn", c.pass, c.warn)
            } else {
                format!("✅ {} passed", c.pass)
            }
        }
        None => "—".into(),
    }
}

pub(crate) fn policy_cell(i: &ImageSummary) -> String {
    match &i.scan {
        Some(s) if s.policy_passed => "✅ pass".to_string(),
        Some(s) => format!("❌ fail ({})", s.policy_failures.len().max(1)),
        None => match i.status {
            ImageStatus::BuildFailed => "not scanned".into(),
            _ => "—".into(),
        },
    }
}

fn vuln_cell(s: &ScanSummary) -> String {
    match s.scanner_status {
        ScannerStatus::Scanned => severity_keys()
            .map(|k| {
                let n = s.vulnerabilities.get(k).copied().unwrap_or(0);
                if n > 0 && (k == "CRITICAL" || k == "HIGH") {
                    format!("**{n}**")
                } else {
                    n.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join(" / "),
        ScannerStatus::Disabled => "not scanned (disabled)".into(),
        ScannerStatus::Unavailable => "⚠️ scanner unavailable".into(),
        ScannerStatus::Failed => "⚠️ scanner failed".into(),
    }
}

/// `sha256:` and the first 12 hex digits in a code span, when the value is a well-formed
/// digest; anything else is escaped text.
pub(crate) fn digest_cell(d: Option<&str>) -> String {
    let Some(d) = d else { return "—".into() };
    match d.split_once(':') {
        Some((alg, hex))
            if !alg.is_empty()
                && alg.chars().all(|c| c.is_ascii_alphanumeric())
                && hex.len() >= 12
                && hex.chars().all(|c| c.is_ascii_hexdigit()) =>
        {
            format!("`{alg}:{}`", &hex[..12])
        }
        _ => md(&truncate(d, 40)),
    }
}

/// `+1.2 MiB`, `−300 B`, `±0 B`: a signed [`human_bytes`] (a minus sign, U+2212).
pub fn human_change(c: i64) -> String {
    if c == 0 {
        return "±0 B".into();
    }
    let sign = if c > 0 { "+" } else { "−" };
    format!("{sign}{}", human_bytes(c.unsigned_abs()))
}

pub(crate) fn human_duration(s: f64) -> String {
    if !s.is_finite() || s < 0.0 {
        return "?".into();
    }
    if s < 60.0 {
        format!("{s:.1} s")
    } else {
        let total = s.round() as u64;
        format!("{} min {} s", total / 60, total % 60)
    }
}

fn problems_section(report: &Report, cap: usize) -> String {
    let problems = &report.summary.problems;
    if problems.is_empty() {
        return String::new();
    }
    let mut out = String::from("\n### Problems\n\n");
    for p in problems.iter().take(cap) {
        let icon = match p.severity {
            ProblemSeverity::Error => "❌",
            ProblemSeverity::Warning => "⚠️",
        };
        let kind = problem_kind_text(p.kind);
        let mut line = format!("- {icon} **{kind}**");
        if let Some(path) = &p.path {
            let _ = write!(line, " in {}", md(&truncate(path, 200)));
        }
        if let Some(img) = &p.image {
            let _ = write!(line, " (image {})", md(&truncate(img, 120)));
        }
        let _ = writeln!(line, ": {}", md(&truncate(&p.message, 400)));
        out.push_str(&line);
    }
    more_in_summary(&mut out, problems.len(), cap, "problems");
    out
}

/// The last line of a capped list: how many more `what` summary.json lists (none when
/// `len` fits `cap`).
fn more_in_summary(out: &mut String, len: usize, cap: usize, what: &str) {
    if len > cap {
        let _ = writeln!(
            out,
            "- … {} more {what} are listed in `summary.json`.",
            len - cap
        );
    }
}

/// `### Regressions`: one line per regression (none: nothing, so runs without regressions
/// render as before). Regressions do not fail the policy; the section says so.
fn regressions_section(report: &Report, cap: usize) -> String {
    let regs = &report.summary.regressions;
    if regs.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "\n### Regressions\n\n_Versus the baseline (build times: the median of earlier runs); they do not fail the policy._\n\n",
    );
    for r in regs.iter().take(cap) {
        let _ = writeln!(
            out,
            "- 📉 **{}**: {}",
            r.kind.text(),
            md(&truncate(&r.message, 400))
        );
    }
    more_in_summary(&mut out, regs.len(), cap, "regressions");
    out
}

fn problem_kind_text(k: ProblemKind) -> &'static str {
    match k {
        ProblemKind::MissingScanReport => "missing scan report",
        ProblemKind::MissingBuildRecord => "missing build record",
        ProblemKind::MissingImage => "missing image",
        ProblemKind::NoInput => "no input",
        ProblemKind::Empty => "empty file",
        ProblemKind::Unreadable => "unreadable file",
        ProblemKind::Corrupt => "corrupt file",
        ProblemKind::Invalid => "invalid document",
        ProblemKind::NewerSchema => "newer schema",
        ProblemKind::TooLarge => "file too large",
        ProblemKind::Duplicate => "duplicate",
        ProblemKind::Baseline => "baseline",
        ProblemKind::PushFailed => "push failed",
        ProblemKind::History => "history",
        ProblemKind::Webhook => "webhook",
    }
}

pub(crate) fn has_details(i: &ImageSummary, shown: Option<&ShownVulns>) -> bool {
    i.status.failed()
        || !i.problems.is_empty()
        || shown.is_some_and(|v| !v.items.is_empty())
        || i.scan.as_ref().is_some_and(|s| {
            !s.checks.is_empty()
                || !s.policy_failures.is_empty()
                || !s.warnings.is_empty()
                || !s.suppressed_vulns.is_empty()
                || s.scanner_status != ScannerStatus::Scanned
        })
        || i.baseline.as_ref().is_some_and(|d| {
            !d.fixed_vulnerabilities.is_empty()
                || !d.packages_added.is_empty()
                || !d.packages_removed.is_empty()
                || !d.packages_changed.is_empty()
        })
}

fn details(i: &ImageSummary, shown: Option<&ShownVulns>, caps: Caps) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<details>\n<summary>{} {}: {} · {}</summary>\n",
        status_icon(i.status),
        html(&truncate(&i.id, 120)),
        status_text(i.status),
        html(&truncate(&i.name, 200)),
    );
    out.push_str(&facts(i));
    findings(&mut out, i, shown, caps);
    out.push_str("</details>\n\n");
    out
}

/// The facts line of an image's details: name, OS, platform, version, digest, build.
fn facts(i: &ImageSummary) -> String {
    let mut facts = vec![format!("**Image:** {}", md(&truncate(&i.name, 200)))];
    if let Some(os) = &i.os {
        facts.push(format!("**OS:** {}", md(os)));
    }
    if let Some(p) = &i.platform {
        facts.push(format!("**Platform:** {}", md(p)));
    }
    if let Some(v) = &i.version {
        facts.push(format!("**Version:** {}", md(v)));
    }
    if let Some(d) = &i.digest {
        facts.push(format!("**Digest:** {}", md(&truncate(d, 100))));
    }
    if let Some(b) = &i.build {
        facts.push(format!(
            "**Build:** {} in {}{}",
            if b.succeeded { "succeeded" } else { "failed" },
            human_duration(b.duration_seconds),
            b.cache.as_ref().map(cache_note).unwrap_or_default()
        ));
    }
    format!("{}\n\n", facts.join(" · "))
}

/// What the build cache did, after the build time: ` (cache: ...)`.
fn cache_note(c: &golden_contracts::build::CacheSources) -> String {
    if c.skipped_no_cache {
        return " (no cache: `--no-cache`)".into();
    }
    let mut parts = Vec::new();
    if !c.used.is_empty() {
        let refs: Vec<String> = c.used.iter().map(|r| md(&truncate(r, 120))).collect();
        parts.push(format!("from {}", refs.join(", ")));
    }
    if !c.missing.is_empty() {
        let refs: Vec<String> = c
            .missing
            .iter()
            .map(|m| md(&truncate(&m.reference, 120)))
            .collect();
        parts.push(format!("missing {}", refs.join(", ")));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(" (cache: {})", parts.join("; "))
    }
}

/// What an image's details list: build error, problems, scan findings, vulnerabilities and
/// the baseline diff.
pub(crate) fn findings(out: &mut String, i: &ImageSummary, shown: Option<&ShownVulns>, caps: Caps) {
    if let Some(b) = &i.build
        && let Some(e) = &b.error
    {
        let mut line = String::from("**Build error**");
        if let Some(step) = &e.step {
            let _ = write!(line, " at <code>{}</code>", md(&truncate(step, caps.text)));
        }
        let _ = writeln!(
            out,
            "{line}: {}\n",
            md(&truncate(&e.message, caps.text * 2))
        );
        let lines: Vec<&String> = e
            .last_lines
            .iter()
            .filter(|l| !l.trim().is_empty())
            .collect();
        if !lines.is_empty() {
            let skip = lines.len().saturating_sub(caps.lines);
            out.push_str("Last output lines:\n\n");
            let shown: Vec<String> = lines[skip..]
                .iter()
                .map(|l| format!("<code>{}</code>", md(&truncate(l, caps.text))))
                .collect();
            // A trailing backslash is a hard line break.
            let _ = writeln!(out, "{}\n", shown.join("\\\n"));
        }
    }

    if !i.problems.is_empty() {
        out.push_str("**Problems**\n\n");
        for p in &i.problems {
            let _ = writeln!(out, "- {}", md(&truncate(p, caps.text * 2)));
        }
        out.push('\n');
    }

    if let Some(s) = &i.scan {
        scan_details(out, s, caps);
    }

    if let Some(v) = shown
        && !v.items.is_empty()
    {
        let title = if v.new_only {
            format!(
                "**New vulnerabilities** ({}, versus baseline)",
                v.items.len()
            )
        } else {
            format!("**Vulnerabilities** ({}, most severe first)", v.items.len())
        };
        let suppressed = i.scan.as_ref().map(|s| s.suppressed).unwrap_or(0);
        let title = if suppressed > 0 {
            format!("{title} · {suppressed} suppressed (VEX or policy ignore)")
        } else {
            title
        };
        let _ = writeln!(out, "{title}\n");
        out.push_str("| Severity | ID | Package | Installed | Fixed in | Title |\n|---|---|---|---|---|---|\n");
        for v in v.items.iter().take(caps.vulns) {
            let id = match v.url.as_deref().and_then(safe_url) {
                Some(u) => format!("[{}]({u})", md(&truncate(&v.id, 60))),
                None => md(&truncate(&v.id, 60)),
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                v.severity.as_str(),
                id,
                md(&truncate(&v.package, 80)),
                md(&truncate(&v.installed, 60)),
                v.fixed
                    .as_deref()
                    .map(|f| md(&truncate(f, 60)))
                    .unwrap_or_else(|| "no fix yet".into()),
                v.title
                    .as_deref()
                    .map(|t| md(&truncate(t, caps.text.min(120))))
                    .unwrap_or_default(),
            );
        }
        if v.items.len() > caps.vulns {
            let _ = writeln!(
                out,
                "\n… and {} more (see the image's scan report).",
                v.items.len() - caps.vulns
            );
        }
        out.push('\n');
    }

    if let Some(s) = &i.scan {
        suppressed_details(out, s, caps);
    }
    if let Some(d) = &i.baseline {
        baseline_details(out, d, caps);
    }
}

/// Suppressed vulnerabilities (not counted): by a VEX statement, with its status and
/// justification, or by a policy ignore entry, with its reason.
fn suppressed_details(out: &mut String, s: &ScanSummary, caps: Caps) {
    if s.suppressed_vulns.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "**Suppressed vulnerabilities** ({}, not counted)\n\n| Severity | ID | Package | By | Justification / reason |\n|---|---|---|---|---|",
        s.suppressed_vulns.len()
    );
    for v in s.suppressed_vulns.iter().take(caps.vulns) {
        let by = match (v.vex_status, v.justification) {
            (Some(st), Some(j)) => format!("VEX {} (`{}`)", st.as_str(), j.as_str()),
            (Some(st), None) => format!("VEX {}", st.as_str()),
            (None, _) => "policy ignore".to_string(),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {by} | {} |",
            v.severity.as_str(),
            md(&truncate(&v.id, 60)),
            md(&truncate(&v.package, 80)),
            md(&truncate(&v.reason, caps.text.min(300))),
        );
    }
    if s.suppressed_vulns.len() > caps.vulns {
        let _ = writeln!(
            out,
            "\n… and {} more (see the image's scan report).",
            s.suppressed_vulns.len() - caps.vulns
        );
    }
    out.push('\n');
}

fn scan_details(out: &mut String, s: &ScanSummary, caps: Caps) {
    if !s.policy_passed {
        let _ = writeln!(
            out,
            "**Policy failed**{}\n",
            if s.policy.is_empty() {
                String::new()
            } else {
                format!(" ({})", md(&truncate(&s.policy, 120)))
            }
        );
        for f in s.policy_failures.iter().take(caps.policy) {
            let mut line = format!(
                "- {}: {}",
                md(&f.rule),
                md(&truncate(&f.message, caps.text))
            );
            if !f.ids.is_empty() {
                let _ = write!(line, " ({})", capped_list(&f.ids, 10, |x| md(x)));
            }
            let _ = writeln!(out, "{line}");
        }
        if s.policy_failures.len() > caps.policy {
            let _ = writeln!(out, "- … {} more", s.policy_failures.len() - caps.policy);
        }
        out.push('\n');
    }
    if s.scanner_status != ScannerStatus::Scanned {
        let note = s
            .scanner_note
            .as_deref()
            .map(|n| format!(": {}", md(&truncate(n, caps.text))))
            .unwrap_or_default();
        let what = match s.scanner_status {
            ScannerStatus::Disabled => "Vulnerability scanning was disabled",
            ScannerStatus::Unavailable => "The vulnerability scanner was unavailable",
            ScannerStatus::Failed => "The vulnerability scanner failed",
            ScannerStatus::Scanned => "",
        };
        let _ = writeln!(out, "**{what}**{note}\n");
    }
    if !s.checks.is_empty() {
        let c = s.compliance;
        let _ = writeln!(
            out,
            "**Compliance checks not passing** (failed: {}, warnings: {}, skipped: {}{})\n",
            c.fail,
            c.warn,
            c.skip,
            if c.suppressed > 0 {
                format!(", suppressed by policy: {}", c.suppressed)
            } else {
                String::new()
            }
        );
        for ch in s.checks.iter().take(caps.checks) {
            let icon = match ch.status {
                CheckStatus::Fail => "❌",
                CheckStatus::Warn => "⚠️",
                _ => "⏭️",
            };
            let cis = ch
                .cis
                .as_deref()
                .map(|c| format!(" (CIS {})", md(c)))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "- {icon} **{}**{cis}: {}",
                md(&ch.id),
                md(&truncate(&ch.title, caps.text))
            );
            for e in ch.evidence.iter().take(caps.evidence) {
                let _ = writeln!(out, "  - {}", md(&truncate(e, caps.text)));
            }
            if ch.evidence.len() > caps.evidence {
                let _ = writeln!(out, "  - … {} more", ch.evidence.len() - caps.evidence);
            }
            if ch.status == CheckStatus::Fail
                && let Some(r) = &ch.remediation
            {
                let _ = writeln!(out, "  - _Fix:_ {}", md(&truncate(r, caps.text)));
            }
        }
        if s.checks.len() > caps.checks {
            let _ = writeln!(out, "- … {} more", s.checks.len() - caps.checks);
        }
        out.push('\n');
    }
    if !s.packages_by_kind.is_empty() {
        let kinds: Vec<String> = s
            .packages_by_kind
            .iter()
            .map(|(k, n)| format!("{} {n}", md(k)))
            .collect();
        let _ = writeln!(out, "**Packages**: {} ({})\n", s.packages, kinds.join(", "));
    }
    // The scanner note is already shown above; do not repeat it as a warning.
    let warnings: Vec<&String> = s
        .warnings
        .iter()
        .filter(|w| s.scanner_note.as_deref() != Some(w.as_str()))
        .collect();
    if !warnings.is_empty() {
        out.push_str("**Scanner warnings**\n\n");
        for w in warnings.iter().take(caps.checks) {
            let _ = writeln!(out, "- {}", md(&truncate(w, caps.text)));
        }
        out.push('\n');
    }
}

fn baseline_details(out: &mut String, d: &BaselineDiff, caps: Caps) {
    if !d.found {
        out.push_str("_Not in the baseline: a new image._\n\n");
        return;
    }
    if !d.fixed_vulnerabilities.is_empty() {
        let _ = writeln!(
            out,
            "**Fixed versus baseline** ({}): {}\n",
            d.fixed_vulnerabilities.len(),
            capped_list(&d.fixed_vulnerabilities, caps.fixed, |v| format!(
                "{} ({})",
                md(&v.id),
                md(&truncate(&v.package, 60))
            ))
        );
    }
    for (what, list) in [
        ("added", &d.packages_added),
        ("removed", &d.packages_removed),
    ] {
        if !list.is_empty() {
            let _ = writeln!(
                out,
                "**Packages {what}** ({}): {}\n",
                list.len(),
                capped_list(list, caps.packages, |p| format!(
                    "{} {}",
                    md(&truncate(&p.name, 60)),
                    md(&truncate(&p.version, 40))
                ))
            );
        }
    }
    if !d.packages_changed.is_empty() {
        let _ = writeln!(
            out,
            "**Packages changed** ({}): {}\n",
            d.packages_changed.len(),
            capped_list(&d.packages_changed, caps.packages, |p| format!(
                "{} {} → {}",
                md(&truncate(&p.name, 60)),
                md(&truncate(&p.from, 40)),
                md(&truncate(&p.to, 40))
            ))
        );
    }
}

/// The first `cap` items, comma-separated, then ` and N more` when there are more.
fn capped_list<T>(items: &[T], cap: usize, show: impl Fn(&T) -> String) -> String {
    let mut s = items
        .iter()
        .take(cap)
        .map(show)
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > cap {
        let _ = write!(s, " and {} more", items.len() - cap);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_well() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(80 * 1024 * 1024), "80.0 MiB");
        assert_eq!(human_change(-2048), "−2.0 KiB");
        assert_eq!(human_change(0), "±0 B");
    }

    #[test]
    fn capped_lists_say_how_many_more() {
        let show = |n: &u32| n.to_string();
        assert_eq!(capped_list(&[1, 2, 3], 2, show), "1, 2 and 1 more");
        assert_eq!(capped_list(&[1, 2], 2, show), "1, 2");
        assert_eq!(capped_list(&[], 2, show), "");
    }

    #[test]
    fn digests_are_shortened_only_when_well_formed() {
        let d = format!("sha256:{}", "a".repeat(64));
        assert_eq!(digest_cell(Some(&d)), "`sha256:aaaaaaaaaaaa`");
        assert_eq!(digest_cell(Some("sha256:`|x")), "sha256:\\`\\|x");
        assert_eq!(digest_cell(None), "—");
    }
}
