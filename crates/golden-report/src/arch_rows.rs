//! One table row per image in a multi-architecture run.
//!
//! `summary.json` (and `pr-comment.json`) keep one entry per image and architecture; the
//! human-facing tables group the entries of one plan entry id into one row with a status
//! column per architecture, so a failure on one architecture is visible in its own column and
//! makes the whole row fail (the row's status is the worst of its entries).
//!
//! A run is multi-architecture when its entries name more than one architecture. Otherwise
//! every entry is its own row and the renderers draw it exactly as before.

use std::collections::{BTreeSet, HashMap};

use crate::summary::{ImageStatus, ImageSummary};

/// What the grouping needs of an entry (a `summary.json` image or a PR comment image).
pub trait ArchEntry {
    fn entry_id(&self) -> &str;
    fn entry_arch(&self) -> Option<&str>;
    fn entry_status(&self) -> ImageStatus;
}

impl ArchEntry for ImageSummary {
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

/// How an entry without an architecture is labelled in a multi-architecture row (a file that
/// could not be read, a failed index with no other document).
pub const NO_ARCH: &str = "no arch";

/// The entries of one image, by architecture.
#[derive(Debug)]
pub struct ImageRow<'a, T> {
    /// In architecture order (an entry without architecture first).
    pub entries: Vec<&'a T>,
}

impl<'a, T: ArchEntry> ImageRow<'a, T> {
    /// The plan entry id of the row.
    pub fn id(&self) -> &'a str {
        self.entries.first().map(|e| e.entry_id()).unwrap_or("")
    }

    /// The worst status of the row's entries (failed builds first, as the table orders).
    pub fn status(&self) -> ImageStatus {
        self.entries
            .iter()
            .map(|e| e.entry_status())
            .min()
            .unwrap_or(ImageStatus::Incomplete)
    }

    /// The entry of `arch`, if the row has one.
    pub fn entry(&self, arch: &str) -> Option<&'a T> {
        self.entries
            .iter()
            .copied()
            .find(|e| arch_label(*e) == arch)
    }

    /// The architectures that did not pass, in order: `["arm64"]`.
    pub fn failed_arches(&self) -> Vec<&'a str> {
        self.entries
            .iter()
            .filter(|e| e.entry_status().failed())
            .map(|e| arch_label(*e))
            .collect()
    }
}

/// The architecture of `e` as the table names it.
pub fn arch_label<T: ArchEntry>(e: &T) -> &str {
    e.entry_arch().unwrap_or(NO_ARCH)
}

/// The rows of a run.
#[derive(Debug)]
pub struct Grouped<'a, T> {
    /// The architectures of the run, sorted, when there are several; empty otherwise (the
    /// single-architecture rendering).
    pub arches: Vec<&'a str>,
    pub rows: Vec<ImageRow<'a, T>>,
}

impl<T> Grouped<'_, T> {
    pub fn multi_arch(&self) -> bool {
        !self.arches.is_empty()
    }
}

/// Group `entries` (in table order) into rows: in a multi-architecture run one row per id, at
/// the place of its first (worst) entry; else one row per entry.
pub fn group<T: ArchEntry>(entries: &[T]) -> Grouped<'_, T> {
    let arches: BTreeSet<&str> = entries.iter().filter_map(|e| e.entry_arch()).collect();
    if arches.len() < 2 {
        return Grouped {
            arches: Vec::new(),
            rows: entries
                .iter()
                .map(|e| ImageRow { entries: vec![e] })
                .collect(),
        };
    }
    let mut rows: Vec<ImageRow<'_, T>> = Vec::new();
    let mut at: HashMap<&str, usize> = HashMap::new();
    for e in entries {
        match at.get(e.entry_id()) {
            Some(&n) => rows[n].entries.push(e),
            None => {
                at.insert(e.entry_id(), rows.len());
                rows.push(ImageRow { entries: vec![e] });
            }
        }
    }
    for r in &mut rows {
        r.entries
            .sort_by(|a, b| a.entry_arch().cmp(&b.entry_arch()));
    }
    // Worst status first, then id: the order of the per-entry table.
    rows.sort_by(|a, b| a.status().cmp(&b.status()).then_with(|| a.id().cmp(b.id())));
    Grouped {
        arches: arches.into_iter().collect(),
        rows,
    }
}

/// One cell for a row: the value when every entry has the same one, else `arch: value` per
/// entry (the architecture shown by `label`), separated by ` · `.
pub fn per_arch<T: ArchEntry>(
    entries: &[&T],
    label: impl Fn(&str) -> String,
    cell: impl Fn(&T) -> String,
) -> String {
    let cells: Vec<(&str, String)> = entries.iter().map(|e| (arch_label(*e), cell(e))).collect();
    match cells.first() {
        None => "—".into(),
        Some((_, first)) if cells.iter().all(|(_, c)| c == first) => first.clone(),
        Some(_) => cells
            .iter()
            .map(|(a, c)| format!("{}: {c}", label(a)))
            .collect::<Vec<_>>()
            .join(" · "),
    }
}

/// The first part of a multi-architecture report's header: the counts that follow are per
/// image and architecture, the table has a row per image.
pub fn count_line<T>(g: &Grouped<'_, T>, entries: u64, label: impl Fn(&str) -> String) -> String {
    let n = g.rows.len();
    let arches: Vec<String> = g.arches.iter().map(|a| label(a)).collect();
    format!(
        "**{entries}** image × architecture results for {n} image{} ({})",
        if n == 1 { "" } else { "s" },
        arches.join(", ")
    )
}

/// `name` without the ` (arch)` suffix the aggregation adds in multi-architecture runs.
pub fn base_name<'a>(name: &'a str, arch: Option<&str>) -> &'a str {
    arch.and_then(|a| name.strip_suffix(&format!(" ({a})")))
        .unwrap_or(name)
}

/// The status cells of one image row, one per architecture column (` ✅ |`), ` — |` where the
/// image has no entry for that architecture.
pub(crate) fn status_cells<T: ArchEntry>(r: &ImageRow<'_, T>, arches: &[&str]) -> String {
    arches
        .iter()
        .map(|a| match r.entry(a) {
            Some(i) => format!(" {} |", crate::markdown::status_icon(i.entry_status())),
            None => " — |".to_string(),
        })
        .collect()
}

/// The multi-arch table head, the same for the job summary and the PR comment: a status column
/// per architecture after the image; `label` escapes an architecture for the target.
pub(crate) fn table_head(arches: &[&str], label: fn(&str) -> String) -> String {
    let cols: String = arches.iter().map(|a| format!(" {} |", label(a))).collect();
    let seps = "---|".repeat(arches.len());
    format!(
        "| | Image |{cols} OS | Version | Size (change) | Vulnerabilities C / H / M / L / U | New / fixed | Compliance | Policy | Digest |\n|---|---|{seps}---|---|---|---|---|---|---|---|\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    struct E(&'static str, Option<&'static str>, ImageStatus);

    impl ArchEntry for E {
        fn entry_id(&self) -> &str {
            self.0
        }
        fn entry_arch(&self) -> Option<&str> {
            self.1
        }
        fn entry_status(&self) -> ImageStatus {
            self.2
        }
    }

    fn ids<'a>(g: &Grouped<'a, E>) -> Vec<(&'a str, Vec<&'a str>)> {
        g.rows
            .iter()
            .map(|r| (r.id(), r.entries.iter().map(|e| arch_label(*e)).collect()))
            .collect()
    }

    #[test]
    fn single_architecture_runs_keep_one_row_per_entry() {
        let es = [E("b", None, ImageStatus::Ok), E("a", None, ImageStatus::Ok)];
        let g = group(&es);
        assert!(!g.multi_arch());
        assert_eq!(ids(&g), vec![("b", vec![NO_ARCH]), ("a", vec![NO_ARCH])]);
        // One architecture named everywhere is still a single-architecture run.
        let es = [
            E("a", Some("amd64"), ImageStatus::Ok),
            E("a", None, ImageStatus::Incomplete),
        ];
        let g = group(&es);
        assert!(!g.multi_arch());
        assert_eq!(g.rows.len(), 2);
    }

    #[test]
    fn multi_architecture_runs_have_one_row_per_image_with_the_worst_status() {
        // In table order (status, id, arch), as aggregate sorts them.
        let es = [
            E("nginx", Some("arm64"), ImageStatus::PolicyFailed),
            E("base", Some("amd64"), ImageStatus::Ok),
            E("base", Some("arm64"), ImageStatus::Ok),
            E("nginx", Some("amd64"), ImageStatus::Ok),
        ];
        let g = group(&es);
        assert_eq!(g.arches, vec!["amd64", "arm64"]);
        assert_eq!(
            ids(&g),
            vec![
                ("nginx", vec!["amd64", "arm64"]),
                ("base", vec!["amd64", "arm64"])
            ]
        );
        let nginx = &g.rows[0];
        assert_eq!(nginx.status(), ImageStatus::PolicyFailed);
        assert_eq!(nginx.failed_arches(), vec!["arm64"]);
        assert_eq!(nginx.entry("amd64"), Some(&es[3]));
        assert_eq!(nginx.entry("s390x"), None);
        assert_eq!(g.rows[1].status(), ImageStatus::Ok);
        assert!(g.rows[1].failed_arches().is_empty());
    }

    #[test]
    fn an_entry_without_architecture_joins_its_image_row() {
        let es = [
            E("x", None, ImageStatus::Incomplete),
            E("x", Some("arm64"), ImageStatus::Ok),
            E("x", Some("amd64"), ImageStatus::Ok),
        ];
        let g = group(&es);
        assert_eq!(ids(&g), vec![("x", vec![NO_ARCH, "amd64", "arm64"])]);
        assert_eq!(g.rows[0].status(), ImageStatus::Incomplete);
        assert_eq!(g.rows[0].failed_arches(), vec![NO_ARCH]);
    }

    #[test]
    fn per_arch_cells_collapse_when_equal() {
        let a = E("x", Some("amd64"), ImageStatus::Ok);
        let b = E("x", Some("arm64"), ImageStatus::PolicyFailed);
        let label = |a: &str| format!("`{a}`");
        let same = per_arch(&[&a, &b], label, |_| "1 / 2".to_string());
        assert_eq!(same, "1 / 2");
        let differ = per_arch(&[&a, &b], label, |e| format!("{:?}", e.2));
        assert_eq!(differ, "`amd64`: Ok · `arm64`: PolicyFailed");
        assert_eq!(per_arch::<E>(&[], label, |_| String::new()), "—");
    }

    #[test]
    fn count_lines_say_what_is_counted() {
        let es = [
            E("x", Some("amd64"), ImageStatus::Ok),
            E("x", Some("arm64"), ImageStatus::Ok),
        ];
        let g = group(&es);
        assert_eq!(
            count_line(&g, 2, |a| format!("`{a}`")),
            "**2** image × architecture results for 1 image (`amd64`, `arm64`)"
        );
    }

    #[test]
    fn base_names_drop_only_their_own_architecture() {
        assert_eq!(base_name("r/nginx:1 (arm64)", Some("arm64")), "r/nginx:1");
        assert_eq!(
            base_name("r/nginx:1 (arm64)", Some("amd64")),
            "r/nginx:1 (arm64)"
        );
        assert_eq!(base_name("r/nginx:1", None), "r/nginx:1");
    }
}
