//! "Packages per ecosystem": the compact table the job summary ([`crate::markdown`]) and the
//! pull-request comment ([`crate::pr_comment`]) both show when at least one image's scan report
//! counts its packages per kind (`summary.packages_by_kind`).
//!
//! One row per table row of the main table (same order, same grouping of architectures: a
//! cell shows one value when every architecture has it, else `arch: value` per architecture),
//! a `Total` column (the scan report's package count), then one column per kind that occurs in
//! any image: the OS package kinds first (`dpkg`, `apk`, `rpm`), then the others
//! alphabetically. At most [`MAX_KIND_COLUMNS`] kind columns: the kinds after them are added
//! up in one `other` column. `—` where an image has none of a kind (or no count at all).
//!
//! The renderers escape the kinds for their target; this module only orders, counts and fits
//! the table into the room it is given ([`fit`]), so it can be left out or cut short before
//! the main table is ever touched.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

/// OS package kinds, shown first and in this order.
pub const OS_KINDS: [&str; 3] = ["dpkg", "apk", "rpm"];

/// Most kind columns a table has; the kinds after them share one `other` column.
pub const MAX_KIND_COLUMNS: usize = 10;

/// The section heading (both renderers).
pub const HEADING: &str = "\n### Packages per ecosystem\n\n";

/// OS kinds first (in [`OS_KINDS`] order), then the others alphabetically.
pub fn kind_order(a: &str, b: &str) -> Ordering {
    let rank = |k: &str| {
        OS_KINDS
            .iter()
            .position(|o| *o == k)
            .unwrap_or(OS_KINDS.len())
    };
    rank(a).cmp(&rank(b)).then_with(|| a.cmp(b))
}

/// The kind columns of a table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Columns {
    /// One column each, in [`kind_order`].
    pub kinds: Vec<String>,
    /// Kinds beyond [`MAX_KIND_COLUMNS`], added up in one `other` column (empty: no such
    /// column).
    pub rest: Vec<String>,
}

impl Columns {
    /// The columns for these per-kind maps (one per image entry). Kinds counting zero
    /// packages make no column.
    pub fn of<'a>(maps: impl IntoIterator<Item = &'a BTreeMap<String, u64>>) -> Self {
        let all: BTreeSet<&str> = maps
            .into_iter()
            .flat_map(|m| m.iter().filter(|(_, n)| **n > 0).map(|(k, _)| k.as_str()))
            .collect();
        let mut kinds: Vec<String> = all.into_iter().map(str::to_string).collect();
        kinds.sort_by(|a, b| kind_order(a, b));
        let rest = if kinds.len() > MAX_KIND_COLUMNS {
            kinds.split_off(MAX_KIND_COLUMNS - 1)
        } else {
            Vec::new()
        };
        Columns { kinds, rest }
    }

    /// How many count columns (the `other` column included).
    pub fn width(&self) -> usize {
        self.kinds.len() + usize::from(!self.rest.is_empty())
    }

    /// No image counts its packages per kind: no table.
    pub fn is_empty(&self) -> bool {
        self.kinds.is_empty() && self.rest.is_empty()
    }

    /// The count of each column for one image (`None`: none of that kind), the `other`
    /// column last when there is one.
    pub fn counts(&self, m: &BTreeMap<String, u64>) -> Vec<Option<u64>> {
        let mut out: Vec<Option<u64>> = self
            .kinds
            .iter()
            .map(|k| m.get(k).copied().filter(|n| *n > 0))
            .collect();
        if !self.rest.is_empty() {
            let other: u64 = self.rest.iter().filter_map(|k| m.get(k)).sum();
            out.push((other > 0).then_some(other));
        }
        out
    }

    /// `| Image | Total | dpkg | … |` and its alignment row; `kind` escapes a kind for the
    /// target.
    pub fn head(&self, kind: impl Fn(&str) -> String) -> String {
        let mut cols: Vec<String> = self.kinds.iter().map(|k| kind(k)).collect();
        if !self.rest.is_empty() {
            cols.push("other".into());
        }
        let names: String = cols.iter().map(|c| format!(" {c} |")).collect();
        format!(
            "| Image | Total |{names}\n|---|---:|{}\n",
            "---:|".repeat(cols.len())
        )
    }
}

/// A count cell: the number, or `—`.
pub fn cell(n: Option<u64>) -> String {
    n.map(|n| n.to_string()).unwrap_or_else(|| "—".into())
}

/// The section (heading, table head, rows) in at most `room` (as `len` measures), rows cut
/// from the end when they do not all fit, followed by `left_out(n)` saying how many were;
/// `None` when not even the head and the note fit (the caller may say where the counts are).
pub fn fit(
    head: &str,
    rows: &[String],
    room: usize,
    len: impl Fn(&str) -> usize,
    left_out: impl Fn(usize) -> String,
) -> Option<String> {
    let mut out = format!("{HEADING}{head}");
    let all: usize = rows.iter().map(|r| len(r)).sum();
    if len(&out) + all <= room {
        for r in rows {
            out.push_str(r);
        }
        return Some(out);
    }
    // Room for the note that says how many are missing (its longest form).
    let note_len = len(&left_out(rows.len()));
    let mut kept = 0;
    for r in rows {
        if len(&out) + len(r) + note_len > room {
            break;
        }
        out.push_str(r);
        kept += 1;
    }
    if kept == 0 {
        return None;
    }
    out.push_str(&left_out(rows.len() - kept));
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(kv: &[(&str, u64)]) -> BTreeMap<String, u64> {
        kv.iter().map(|(k, n)| (k.to_string(), *n)).collect()
    }

    #[test]
    fn os_kinds_come_first_then_the_rest_alphabetically() {
        let a = map(&[("pypi", 3), ("rpm", 1), ("cargo", 2)]);
        let b = map(&[("dpkg", 5), ("apk", 0), ("maven", 4)]);
        let c = Columns::of([&a, &b]);
        // `apk` counts nothing anywhere: no column.
        assert_eq!(c.kinds, ["dpkg", "rpm", "cargo", "maven", "pypi"]);
        assert!(c.rest.is_empty());
        assert_eq!(c.counts(&a), [None, Some(1), Some(2), None, Some(3)]);
        assert_eq!(c.counts(&b), [Some(5), None, None, Some(4), None]);
        assert_eq!(
            c.head(|k| k.to_uppercase()),
            "| Image | Total | DPKG | RPM | CARGO | MAVEN | PYPI |\n|---|---:|---:|---:|---:|---:|---:|\n"
        );
    }

    #[test]
    fn kinds_over_the_cap_share_one_other_column() {
        let kinds: Vec<(String, u64)> = (0..MAX_KIND_COLUMNS + 3)
            .map(|n| (format!("k{n:02}"), n as u64 + 1))
            .collect();
        let m: BTreeMap<String, u64> = kinds.iter().cloned().collect();
        let c = Columns::of([&m]);
        assert_eq!(c.kinds.len(), MAX_KIND_COLUMNS - 1);
        assert_eq!(c.rest.len(), 4);
        let counts = c.counts(&m);
        assert_eq!(counts.len(), MAX_KIND_COLUMNS);
        // The other column adds up exactly the kinds without a column of their own.
        let rest: u64 = kinds[MAX_KIND_COLUMNS - 1..].iter().map(|(_, n)| n).sum();
        assert_eq!(counts.last().copied().flatten(), Some(rest));
        assert!(c.head(str::to_string).contains("| other |"));
        assert!(Columns::of(std::iter::empty()).is_empty());
    }

    #[test]
    fn fitting_cuts_rows_from_the_end_and_says_how_many() {
        let rows: Vec<String> = (0..10).map(|n| format!("| r{n} | 1 |\n")).collect();
        let note = |n: usize| format!("\n_{n} more._\n");
        let len = |s: &str| s.len();
        let whole = fit("H\n", &rows, usize::MAX, len, note).unwrap();
        assert_eq!(whole.matches("| r").count(), 10);
        assert!(!whole.contains("more"));
        let room = whole.len() - 1;
        let cut = fit("H\n", &rows, room, len, note).unwrap();
        assert!(cut.len() <= room, "{} > {room}", cut.len());
        let kept = cut.matches("| r").count();
        assert!((1..10).contains(&kept), "{cut}");
        assert!(cut.ends_with(&note(10 - kept)), "{cut}");
        assert_eq!(fit("H\n", &rows, 10, len, note), None);
    }
}
