//! The catalog model: the aggregated [`Report`] (one entry per image and architecture, the same
//! model the PR comment and summary.json are rendered from), grouped into one image per plan id
//! ([`crate::arch_rows`]), with each entry's own documents attached by the paths the report
//! names as its sources (`ImageSummary::sources`), so nothing is parsed a second way.

use golden_contracts::build::BuildRecord;
use golden_contracts::push::{ImageIndex, PushRecord};
use golden_contracts::scan::{CheckStatus, ScanReport, ScannerStatus};
use std::collections::BTreeMap;

use super::signing::{self, Provenance, Signed};
use crate::aggregate::Report;
use crate::arch_rows::{self, NO_ARCH};
use crate::discover::Found;
use crate::summary::{ImageStatus, ImageSummary};

/// One architecture of an image, with the documents it was aggregated from.
#[derive(Debug, Clone)]
pub struct Entry {
    pub arch: String,
    pub summary: ImageSummary,
    pub build: Option<Found<BuildRecord>>,
    pub scan: Option<Found<ScanReport>>,
    pub push: Option<Found<PushRecord>>,
}

/// One catalog image (a plan id), every architecture together.
#[derive(Debug, Clone)]
pub struct Image {
    pub id: String,
    /// File name of its page (`images/<slug>.html`): safe characters only, unique.
    pub slug: String,
    /// The image name without the architecture suffix.
    pub name: String,
    pub status: ImageStatus,
    pub os: Option<String>,
    pub platform: Option<String>,
    pub version: Option<String>,
    pub entries: Vec<Entry>,
    /// The multi-arch index, when one was pushed.
    pub index: Option<ImageIndex>,
    /// The Dockerfile's path in the repository (from the plan, when given).
    pub dockerfile: Option<String>,
    /// Audit timelines found for one of its pushed digests ([`super::audit`]), in file order.
    pub timelines: Vec<crate::history::History>,
}

impl Image {
    pub fn arches(&self) -> Vec<&str> {
        self.entries
            .iter()
            .map(|e| e.arch.as_str())
            .filter(|a| *a != NO_ARCH)
            .collect()
    }

    /// Every tag: the index's, the pushes', then the build records'; each once, in that order.
    pub fn tags(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut add = |t: &str, repo: Option<&str>| {
            // Index tags may be written bare (`12-20261207`) or full.
            let full = match repo {
                Some(r) if !t.contains('/') && !t.contains(':') => format!("{r}:{t}"),
                _ => t.to_string(),
            };
            if !out.contains(&full) {
                out.push(full);
            }
        };
        if let Some(i) = &self.index {
            for t in &i.tags {
                add(t, Some(&i.image));
            }
        }
        for e in &self.entries {
            if let Some(p) = &e.push {
                for t in &p.doc.tags {
                    add(t, Some(&p.doc.image));
                }
                if let Some(ix) = &p.doc.index {
                    add(&ix.to, None);
                    for t in &ix.tags {
                        add(t, ix.to.rsplit_once(':').map(|(r, _)| r));
                    }
                }
            }
        }
        for e in &self.entries {
            if let Some(b) = &e.build {
                for t in &b.doc.tags {
                    add(t, None);
                }
            }
        }
        out
    }

    /// The tag people pin first: the index's first tag, else the first other one.
    pub fn primary_tag(&self) -> Option<String> {
        self.tags().into_iter().next()
    }

    /// `repository@sha256:...` to pull: the multi-arch index, else the single pushed manifest.
    pub fn pinned(&self) -> Option<String> {
        if let Some(r) = self.index.as_ref().and_then(|i| i.reference.clone()) {
            return Some(r);
        }
        let pushed: Vec<&str> = self
            .entries
            .iter()
            .filter_map(|e| e.push.as_ref()?.doc.reference.as_deref())
            .collect();
        match pushed.as_slice() {
            [one] => Some((*one).to_string()),
            _ => None,
        }
    }

    /// Every digest this run pushed for the image: the index's and its manifests', each
    /// architecture's push; an audit timeline of any of them belongs to the image.
    pub fn pushed_digests(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        if let Some(i) = &self.index {
            out.extend(i.digest.as_deref());
            out.extend(i.manifests.iter().map(|m| m.digest.as_str()));
        }
        out.extend(
            self.entries
                .iter()
                .filter_map(|e| e.push.as_ref()?.doc.digest.as_deref()),
        );
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The references `golden-report history` takes for this image, each with the
    /// architecture it is for (`None`: the whole image): the pinned one ([`Self::pinned`]),
    /// else each architecture's push. Only plain references
    /// ([`crate::history::pinned_reference`]): a document's text never becomes a command.
    pub fn history_references(&self) -> Vec<(Option<&str>, String)> {
        if let Some(p) = self.pinned() {
            return crate::history::pinned_reference(&p)
                .map(|r| vec![(None, r.to_string())])
                .unwrap_or_default();
        }
        self.entries
            .iter()
            .filter_map(|e| {
                let r = e.push.as_ref()?.doc.reference.as_deref()?;
                let r = crate::history::pinned_reference(r)?;
                Some((Some(e.arch.as_str()), r.to_string()))
            })
            .collect()
    }

    /// The digest shown in the table: the index's, else the one entry's pushed or built digest.
    pub fn digest(&self) -> Option<String> {
        if let Some(d) = self.index.as_ref().and_then(|i| i.digest.clone()) {
            return Some(d);
        }
        match self.entries.as_slice() {
            [one] => one
                .summary
                .digest
                .clone()
                .or_else(|| one.summary.index_digest.clone()),
            _ => self
                .entries
                .iter()
                .find_map(|e| e.summary.index_digest.clone()),
        }
    }

    /// Largest uncompressed size over the architectures.
    pub fn size(&self) -> Option<u64> {
        self.entries.iter().filter_map(|e| e.summary.size).max()
    }

    /// Largest compressed (pushed) size over the architectures.
    pub fn compressed(&self) -> Option<u64> {
        self.entries
            .iter()
            .filter_map(|e| e.summary.push.as_ref()?.compressed_size)
            .max()
    }

    /// Latest build start over the architectures.
    pub fn rebuilt(&self) -> Option<&str> {
        self.entries
            .iter()
            .filter_map(|e| e.summary.build.as_ref().map(|b| b.started_at.as_str()))
            .max()
    }

    /// Counted (not suppressed) vulnerabilities per severity: the worst architecture's count
    /// of each severity. `None` when no architecture was scanned for vulnerabilities (Trivy
    /// disabled, unavailable or failed: zero would be a lie).
    pub fn vulns(&self) -> Option<BTreeMap<String, u64>> {
        let mut out: Option<BTreeMap<String, u64>> = None;
        for s in self
            .entries
            .iter()
            .filter_map(|e| e.summary.scan.as_ref())
            .filter(|s| s.scanner_status == ScannerStatus::Scanned)
        {
            let o = out.get_or_insert_with(crate::summary::zero_severities);
            for (k, v) in &s.vulnerabilities {
                let slot = o.entry(k.clone()).or_default();
                *slot = (*slot).max(*v);
            }
        }
        out
    }

    /// CIS checks passed over the checks that ran and were not suppressed (pass, warn, fail),
    /// the lowest over the architectures; `(passed, counted)`.
    pub fn cis(&self) -> Option<(u64, u64)> {
        self.entries
            .iter()
            .filter_map(|e| e.summary.scan.as_ref())
            .map(|s| {
                let c = s.compliance;
                (c.pass, c.pass + c.warn + c.fail)
            })
            .min_by(|a, b| {
                let ra = a.0 as f64 / a.1.max(1) as f64;
                let rb = b.0 as f64 / b.1.max(1) as f64;
                ra.total_cmp(&rb)
            })
    }

    /// Signed only when every pushed architecture (and the index, if any) carries a signature.
    pub fn signed(&self) -> Signed {
        signing::image_signed(self.entries.iter().map(|e| e.push.as_ref().map(|p| &p.doc)))
    }

    pub fn provenance(&self) -> Vec<Provenance> {
        self.entries
            .iter()
            .filter_map(|e| e.push.as_ref())
            .flat_map(|p| signing::provenance(&p.doc))
            .collect()
    }
}

/// Short text of a check status.
pub fn check_status(s: CheckStatus) -> &'static str {
    match s {
        CheckStatus::Pass => "pass",
        CheckStatus::Info => "info",
        CheckStatus::Warn => "warn",
        CheckStatus::Fail => "fail",
        CheckStatus::Skip => "skip",
    }
}

/// A file name for an image id: lowercase letters, digits, `.`, `_`, `-`; an id that needed
/// changing (or is empty) gets a short hash of the original, so two ids never share a page.
pub fn slug(id: &str) -> String {
    let clean: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let clean = clean.trim_matches(|c| c == '-' || c == '.').to_string();
    let clean: String = clean.chars().take(80).collect();
    if clean == id && !clean.is_empty() {
        return clean;
    }
    let h = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(id.as_bytes()));
    if clean.is_empty() {
        format!("image-{}", &h[..10])
    } else {
        format!("{clean}-{}", &h[..10])
    }
}

/// A folder name and anchor for an architecture (`no-arch` for records without one).
pub fn arch_slug(arch: &str) -> String {
    if arch == NO_ARCH {
        "no-arch".into()
    } else {
        slug(arch)
    }
}

/// Documents of the run, as discovered (the same [`Found`] values the report was built from).
#[derive(Debug, Default, Clone)]
pub struct Documents {
    pub builds: Vec<Found<BuildRecord>>,
    pub scans: Vec<Found<ScanReport>>,
    pub pushes: Vec<Found<PushRecord>>,
    pub indexes: Vec<ImageIndex>,
}

/// Group the report's entries into catalog images, attaching each entry's documents.
pub fn images(report: &Report, docs: &Documents) -> Vec<Image> {
    let grouped = arch_rows::group(&report.summary.images);
    let mut out: Vec<Image> = Vec::new();
    let mut slugs: BTreeMap<String, usize> = BTreeMap::new();
    for row in &grouped.rows {
        let Some(first) = row.entries.first() else {
            continue;
        };
        let entries: Vec<Entry> = row.entries.iter().map(|s| attach(s, docs)).collect();
        let mut slug = slug(&first.id);
        let n = slugs.entry(slug.clone()).or_default();
        *n += 1;
        if *n > 1 {
            slug = format!("{slug}-{n}");
        }
        out.push(Image {
            id: first.id.clone(),
            slug,
            name: arch_rows::base_name(&first.name, first.arch.as_deref()).to_string(),
            status: row.status(),
            os: first.os.clone(),
            platform: first.platform.clone(),
            version: first.version.clone(),
            index: docs
                .indexes
                .iter()
                .rev()
                .find(|i| i.id == first.id && i.digest.is_some())
                .cloned(),
            entries,
            dockerfile: None,
            timelines: Vec::new(),
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
    out
}

fn attach(s: &ImageSummary, docs: &Documents) -> Entry {
    let named = |path: &str| s.sources.iter().any(|p| p == path);
    let arch = s.arch.clone();
    Entry {
        arch: arch.clone().unwrap_or_else(|| NO_ARCH.to_string()),
        summary: s.clone(),
        build: docs.builds.iter().find(|b| named(&b.path)).cloned(),
        scan: docs.scans.iter().find(|b| named(&b.path)).cloned(),
        // Push records are matched like the aggregation matches them: id and architecture.
        push: docs
            .pushes
            .iter()
            .rev()
            .find(|p| p.doc.id == s.id && arch.as_deref().is_none_or(|a| p.doc.arch.as_str() == a))
            .cloned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_safe_and_distinct() {
        assert_eq!(slug("nginx-1.26-debian"), "nginx-1.26-debian");
        let evil = slug("evil|img<script>alert(1)</script>");
        assert!(
            evil.starts_with("evil-img-script-alert-1---script-"),
            "{evil}"
        );
        assert!(
            evil.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        );
        assert_ne!(slug("a|b"), slug("a<b"));
        assert!(slug("..").starts_with("image-"));
        assert_ne!(slug("Nginx"), "nginx");
    }
}
