//! Group the documents of a run per image, attach problems, compare with the baseline and
//! compute each image's status: the [`Report`] every output is rendered from.

use golden_contracts::build::{BuildRecord, BuildResult};
use golden_contracts::plan::Plan;
use golden_contracts::push::{ImageIndex, IndexRecord, PushRecord, PushResult};
use golden_contracts::scan::{CheckStatus, ScanReport, ScannerStatus, Severity, Vulnerability};
use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::baseline::{Baseline, BaselineImage};
use crate::discover::{Discovery, DocKind, FileProblem, Found, ScanOwners};
use crate::summary::{
    BaselineDiff, BaselineInfo, BuildSummary, CheckSummary, ComplianceCounts, ImageStatus,
    ImageSummary, PackageChange, PackageRef, Problem, ProblemKind, ProblemSeverity, PushSummary,
    RunInfo, RunSummary, SUMMARY_SCHEMA, ScanSummary, SuppressedVuln, Totals, VulnRef,
    zero_severities,
};

/// Everything the renderers need.
#[derive(Debug, Clone)]
pub struct Report {
    pub summary: RunSummary,
    /// Per image id: the vulnerabilities the details section lists (new ones when a baseline
    /// was compared, else every counted one), most severe first.
    pub shown_vulns: HashMap<String, ShownVulns>,
    /// Per image id: the pushed reference (`REGISTRY/REPOSITORY@sha256:...`) from the push
    /// records; an index record (multi-arch) replaces the per-architecture references.
    pub digests: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default)]
pub struct ShownVulns {
    /// True when `items` are the vulnerabilities new versus the baseline.
    pub new_only: bool,
    pub items: Vec<VulnRef>,
}

impl Report {
    pub fn any_failed(&self) -> bool {
        self.summary.totals.failed > 0 || self.summary.totals.problems > 0
    }
    pub fn failed_images(&self) -> impl Iterator<Item = &ImageSummary> {
        self.summary.images.iter().filter(|i| i.status.failed())
    }
}

/// Inputs of [`aggregate`] besides the documents.
#[derive(Debug, Clone, Default)]
pub struct Context {
    pub input: String,
    pub generated_at: String,
    pub run: RunInfo,
    pub plan: Option<Plan>,
    /// Problems found before aggregation (an absent baseline directory, ...).
    pub extra_problems: Vec<Problem>,
}

/// Documents are grouped per plan entry id and architecture: a multi-arch run has one build
/// record and one scan report per architecture, and each is its own entry (a failure on one
/// architecture must not hide behind the other's success; the renderers show the entries of
/// one id as one row whose status is the worst). `None` when the documents carry no
/// architecture (records written before they did).
type GroupKey = (String, Option<String>);

struct Group {
    id: String,
    arch: Option<String>,
    build: Option<Found<BuildRecord>>,
    scan: Option<Found<ScanReport>>,
    push: Option<PushSummary>,
    problems: Vec<String>,
    /// Kinds of unusable files attached to this image.
    broken: BTreeSet<Option<DocKind>>,
}

impl Group {
    fn new((id, arch): GroupKey) -> Self {
        Group {
            id,
            arch,
            build: None,
            scan: None,
            push: None,
            problems: Vec::new(),
            broken: BTreeSet::new(),
        }
    }
}

fn tool_name() -> String {
    format!("golden-report {}", env!("CARGO_PKG_VERSION"))
}

/// Build the report. `baseline` is optional; its own problems are carried as warnings.
pub fn aggregate(found: Discovery, baseline: Option<&Baseline>, ctx: Context) -> Report {
    let owners = ScanOwners::new(found.builds.iter().map(|b| &b.doc));
    let arches = ArchLookup::new(&found.builds);

    let mut rows = Rows::default();
    rows.add_builds(found.builds);
    rows.add_scans(found.scans, &owners, &arches);
    rows.add_pushes(&found.pushes, arches.builds_have_arch);
    rows.add_indexes(&found.indexes);
    rows.add_file_problems(found.problems);
    if let Some(plan) = &ctx.plan {
        rows.add_missing_planned(plan);
    }
    rows.add_missing_halves();

    let Rows {
        groups,
        mut problems,
        digests,
        index_digests,
        ..
    } = rows;
    if groups.is_empty() {
        problems.push(Problem {
            kind: ProblemKind::NoInput,
            severity: ProblemSeverity::Error,
            path: None,
            image: None,
            message: format!(
                "no build record or scan report found under `{}` (were the artifacts downloaded there?)",
                ctx.input
            ),
        });
    }
    if let Some(b) = baseline {
        problems.extend(b.problems.iter().cloned());
    }
    problems.extend(ctx.extra_problems.iter().cloned());

    let (mut images, shown_vulns) = image_rows(groups, ctx.plan.as_ref(), baseline);
    for i in &mut images {
        i.index_digest = index_digests.get(&i.id).cloned();
    }
    let totals = totals(&images, &problems);
    let summary = RunSummary {
        schema: SUMMARY_SCHEMA,
        tool: tool_name(),
        generated_at: ctx.generated_at,
        run: ctx.run,
        input: ctx.input,
        baseline: baseline.map(|b| BaselineInfo {
            source: b.source.clone(),
            // Entries, not their per-architecture aliases (`id@arch`).
            images: b.images.keys().filter(|k| !k.contains('@')).count() as u64,
        }),
        totals,
        images,
        problems,
        ignored_files: found.ignored,
        regressions: Vec::new(),
    };
    Report {
        summary,
        shown_vulns,
        digests,
    }
}

/// Which architecture a scan report's row has. Scan reports always name their image's
/// architecture; it is used for grouping only when the build records name theirs too, so old
/// records and new reports still pair up.
struct ArchLookup {
    /// True when any build record names its architecture.
    builds_have_arch: bool,
    /// Per image id: the architecture of the build record that made it.
    image_arch: HashMap<String, Option<String>>,
}

impl ArchLookup {
    fn new(builds: &[Found<BuildRecord>]) -> Self {
        ArchLookup {
            builds_have_arch: builds.iter().any(|b| b.doc.arch.is_some()),
            image_arch: builds
                .iter()
                .filter_map(|b| Some((b.doc.image_id.clone()?, b.doc.arch.clone())))
                .collect(),
        }
    }

    /// The architecture of the build that made the scanned image, else the report's own;
    /// `None` when the build records carry no architecture.
    fn of_scan(&self, scan: &ScanReport) -> Option<String> {
        if !self.builds_have_arch {
            return None;
        }
        scan.image
            .id
            .as_ref()
            .and_then(|i| self.image_arch.get(i).cloned())
            .unwrap_or_else(|| scan.image.architecture.clone())
    }
}

/// The rows [`aggregate`] assembles, step by step, and the problems found on the way.
#[derive(Default)]
struct Rows {
    groups: BTreeMap<GroupKey, Group>,
    /// Folder -> groups seen in it, to attach an unreadable file to its neighbours.
    dir_ids: HashMap<String, BTreeSet<GroupKey>>,
    problems: Vec<Problem>,
    /// Per image id: the pushed reference (see [`Report::digests`]).
    digests: BTreeMap<String, String>,
    /// Per image id: the digest of its successfully built multi-arch index.
    index_digests: BTreeMap<String, String>,
}

impl Rows {
    /// The group of `key`, created empty when there is none yet.
    fn group(&mut self, key: GroupKey) -> &mut Group {
        self.groups
            .entry(key.clone())
            .or_insert_with(|| Group::new(key))
    }

    /// Remember that a document of the group `key` lies in the folder `dir`.
    fn seen_in(&mut self, dir: &str, key: &GroupKey) {
        self.dir_ids
            .entry(dir.to_string())
            .or_default()
            .insert(key.clone());
    }

    /// 1. Build records by plan entry id and architecture; the newest wins on duplicates.
    fn add_builds(&mut self, builds: Vec<Found<BuildRecord>>) {
        for b in builds {
            let key = (b.doc.id.clone(), b.doc.arch.clone());
            self.seen_in(&b.dir, &key);
            let label = row_label(&key);
            let g = self
                .groups
                .entry(key.clone())
                .or_insert_with(|| Group::new(key));
            keep_newer(&mut g.build, b, &label, &mut self.problems);
        }
    }

    /// 2. Scan reports by entry id, else by image id or tag of a build record, else reference;
    ///    the architecture from [`ArchLookup::of_scan`].
    fn add_scans(
        &mut self,
        scans: Vec<Found<ScanReport>>,
        owners: &ScanOwners,
        arches: &ArchLookup,
    ) {
        for s in scans {
            let key = (owners.owner(&s.doc), arches.of_scan(&s.doc));
            self.seen_in(&s.dir, &key);
            let label = row_label(&key);
            let g = self
                .groups
                .entry(key.clone())
                .or_insert_with(|| Group::new(key));
            keep_newer(&mut g.scan, s, &label, &mut self.problems);
        }
    }

    /// 2b. Push records: the pushed references, and a failed push is a problem of its image
    ///     naming the architecture and the tags that did not move.
    fn add_pushes(&mut self, pushes: &[Found<PushRecord>], builds_have_arch: bool) {
        for p in pushes {
            let r = &p.doc;
            let key = (r.id.clone(), builds_have_arch.then(|| r.arch.to_string()));
            let push = PushSummary {
                succeeded: r.succeeded(),
                duration_seconds: r.duration_seconds,
                bytes_uploaded: r.bytes_uploaded,
                compressed_size: r.compressed_size,
            };
            if r.succeeded() {
                if let Some(reference) = &r.reference {
                    self.digests.insert(r.id.clone(), reference.clone());
                }
                // A successful push adds to its image's row, never makes one.
                if let Some(g) = self.groups.get_mut(&key) {
                    g.push = Some(push);
                }
                continue;
            }
            let g = self.group(key);
            g.push = Some(push);
            g.problems.push(format!("push ({}) failed", r.arch));
            self.problems.push(Problem {
                kind: ProblemKind::PushFailed,
                severity: ProblemSeverity::Error,
                path: Some(p.path.clone()),
                image: Some(r.id.clone()),
                message: format!(
                    "the {} push failed{}: {}",
                    r.arch,
                    if r.tags_not_moved.is_empty() {
                        String::new()
                    } else {
                        format!(" (not moved: {})", r.tags_not_moved.join(", "))
                    },
                    r.error.as_deref().unwrap_or("no digest")
                ),
            });
        }
    }

    /// 2b. Index records: a built index replaces the per-architecture references; a failed
    ///     one is a problem of every architecture's row of the image.
    fn add_indexes(&mut self, indexes: &[Found<IndexRecord>]) {
        for f in indexes {
            for i in &f.doc.indexes {
                match (&i.result, &i.reference) {
                    (PushResult::Success, Some(reference)) => {
                        self.digests.insert(i.id.clone(), reference.clone());
                        if let Some((_, digest)) = reference.rsplit_once('@') {
                            self.index_digests.insert(i.id.clone(), digest.to_string());
                        }
                    }
                    _ => self.index_failed(&f.path, i),
                }
            }
        }
    }

    /// The index `i` of the record at `path` was not built or not tagged.
    fn index_failed(&mut self, path: &str, i: &ImageIndex) {
        self.digests.remove(&i.id);
        self.index_digests.remove(&i.id);
        // The index belongs to every architecture's row of the image.
        if !self.groups.keys().any(|k| k.0 == i.id) {
            let key = (i.id.clone(), None);
            self.groups.insert(key.clone(), Group::new(key));
        }
        for (_, g) in self.groups.iter_mut().filter(|(k, _)| k.0 == i.id) {
            g.problems.push("multi-arch index failed".to_string());
        }
        self.problems.push(Problem {
            kind: ProblemKind::PushFailed,
            severity: ProblemSeverity::Error,
            path: Some(path.to_string()),
            image: Some(i.id.clone()),
            message: format!(
                "the index was not built or not tagged: {}",
                i.error.as_deref().unwrap_or("unknown error")
            ),
        });
    }

    /// 3. Unusable files: attach to the image they name, else to the only image of their
    ///    folder, else to a row of their own.
    fn add_file_problems(&mut self, file_problems: Vec<FileProblem>) {
        for fp in file_problems {
            let key = attach_key(&fp, &self.dir_ids, &self.groups);
            let id = key.0.clone();
            let g = self.group(key);
            let what = fp.doc_kind.map(DocKind::as_str).unwrap_or("file");
            g.problems
                .push(format!("{what} `{}`: {}", fp.path, fp.message));
            g.broken.insert(fp.doc_kind);
            self.problems.push(Problem {
                kind: fp.kind,
                severity: ProblemSeverity::Error,
                path: Some(fp.path.clone()),
                image: Some(id),
                message: fp.message,
            });
        }
    }

    /// 4. Planned images with nothing at all; in a multi-arch plan, per architecture.
    fn add_missing_planned(&mut self, plan: &Plan) {
        let multi = plan.architectures.len() > 1;
        for e in plan.entries() {
            let wanted: Vec<Option<String>> = if multi {
                plan.architectures.iter().cloned().map(Some).collect()
            } else {
                vec![None]
            };
            for arch in wanted {
                let present = self
                    .groups
                    .keys()
                    .any(|(id, a)| id == &e.id && (arch.is_none() || a == &arch));
                if !present {
                    self.add_missing_image(&e.id, arch);
                }
            }
        }
    }

    /// A row for the planned image `id` (on `arch`) of which no document was found.
    fn add_missing_image(&mut self, id: &str, arch: Option<String>) {
        let msg = match &arch {
            Some(a) => format!(
                "planned for {a}, but neither a build record nor a scan report for {a} was found (did the {a} matrix job run and upload its artifact?)"
            ),
            None => "planned, but neither a build record nor a scan report was found (did the matrix job run and upload its artifact?)".to_string(),
        };
        let key = (id.to_string(), arch);
        let mut g = Group::new(key.clone());
        g.problems.push(msg.clone());
        self.problems.push(Problem {
            kind: ProblemKind::MissingImage,
            severity: ProblemSeverity::Error,
            path: None,
            image: Some(id.to_string()),
            message: msg,
        });
        self.groups.insert(key, g);
    }

    /// 5. Missing halves: a successful build without a scan report, a scan report without a
    ///    build record (unless an unusable file of that kind explains it).
    fn add_missing_halves(&mut self) {
        for g in self.groups.values_mut() {
            if let Some(p) = missing_half(g) {
                g.problems.push(p.message.clone());
                self.problems.push(p);
            }
        }
    }
}

/// The problem of `g` having only one of its build record and scan report, if it has.
fn missing_half(g: &Group) -> Option<Problem> {
    let broken_any = |k: DocKind| g.broken.contains(&Some(k)) || g.broken.contains(&None);
    let (kind, path, message) = match (&g.build, &g.scan) {
        (Some(b), None)
            if b.doc.result == BuildResult::Success && !broken_any(DocKind::ScanReport) =>
        {
            (
                ProblemKind::MissingScanReport,
                &b.path,
                format!(
                    "build succeeded (`{}`) but no scan report was found (did the scan job run and upload `report.json`?)",
                    b.path
                ),
            )
        }
        (None, Some(s)) if !broken_any(DocKind::BuildRecord) => (
            ProblemKind::MissingBuildRecord,
            &s.path,
            format!(
                "scan report `{}` has no build record (was the build record uploaded with the artifact?)",
                s.path
            ),
        ),
        _ => return None,
    };
    Some(Problem {
        kind,
        severity: ProblemSeverity::Error,
        path: Some(path.clone()),
        image: Some(g.id.clone()),
        message,
    })
}

/// 6. Per image summaries, in report order, and the vulnerabilities each one shows.
fn image_rows(
    groups: BTreeMap<GroupKey, Group>,
    plan: Option<&Plan>,
    baseline: Option<&Baseline>,
) -> (Vec<ImageSummary>, HashMap<String, ShownVulns>) {
    let mut images = Vec::new();
    let mut shown_vulns = HashMap::new();
    let arches: BTreeSet<&str> = groups.keys().filter_map(|(_, a)| a.as_deref()).collect();
    let multi_arch = arches.len() > 1;
    for g in groups.into_values() {
        let plan_entry = plan.and_then(|p| p.entry(&g.id));
        let (mut img, shown) = image_summary(g, plan_entry, baseline);
        // Several architectures in one run: say which row is which.
        if multi_arch && let Some(a) = &img.arch {
            img.name = format!("{} ({a})", img.name);
        }
        shown_vulns.insert(img.key(), shown);
        images.push(img);
    }
    images.sort_by(|a, b| {
        a.status
            .cmp(&b.status)
            .then_with(|| a.id.cmp(&b.id))
            .then_with(|| a.arch.cmp(&b.arch))
    });
    (images, shown_vulns)
}

/// A document that can be found twice for one image: the one made last is used.
trait Dated {
    const KIND: DocKind;
    /// RFC 3339 time the document was made.
    fn made_at(&self) -> &str;
}

impl Dated for BuildRecord {
    const KIND: DocKind = DocKind::BuildRecord;
    fn made_at(&self) -> &str {
        &self.started_at
    }
}

impl Dated for ScanReport {
    const KIND: DocKind = DocKind::ScanReport;
    fn made_at(&self) -> &str {
        &self.scanned_at
    }
}

/// Put `new` in `slot`; when a document is there already, keep the newer one and report the
/// other as a `duplicate` warning.
fn keep_newer<T: Dated>(
    slot: &mut Option<Found<T>>,
    new: Found<T>,
    id: &str,
    problems: &mut Vec<Problem>,
) {
    let Some(prev) = slot.take() else {
        *slot = Some(new);
        return;
    };
    let (keep, drop) = if new.doc.made_at() >= prev.doc.made_at() {
        (new, prev)
    } else {
        (prev, new)
    };
    problems.push(Problem {
        kind: ProblemKind::Duplicate,
        severity: ProblemSeverity::Warning,
        message: format!(
            "second {} for `{id}`: using `{}` (newer), ignoring `{}`",
            T::KIND.as_str(),
            keep.path,
            drop.path
        ),
        path: Some(drop.path),
        image: Some(id.to_string()),
    });
    *slot = Some(keep);
}

/// `id` or `id (arch)`: how duplicate warnings name a group.
fn row_label((id, arch): &GroupKey) -> String {
    match arch {
        Some(a) => format!("{id} ({a})"),
        None => id.clone(),
    }
}

fn attach_key(
    fp: &FileProblem,
    dir_ids: &HashMap<String, BTreeSet<GroupKey>>,
    groups: &BTreeMap<GroupKey, Group>,
) -> GroupKey {
    // A file in a folder of exactly one image belongs to it (its architecture included).
    if !fp.dir.is_empty()
        && let Some(keys) = dir_ids.get(&fp.dir)
        && keys.len() == 1
        && let Some(key) = keys.iter().next()
        && groups.contains_key(key)
        && fp
            .id_hint
            .as_ref()
            .is_none_or(|h| h.trim().is_empty() || h == &key.0)
    {
        return key.clone();
    }
    if let Some(id) = &fp.id_hint
        && !id.trim().is_empty()
    {
        return (id.clone(), None);
    }
    (format!("unknown:{}", fp.path), None)
}

fn severity_counts(report: &ScanReport) -> BTreeMap<String, u64> {
    let mut m = zero_severities();
    if report.summary.vulnerabilities.values().any(|v| *v > 0)
        || report.vulnerabilities.items.is_empty()
    {
        for (k, v) in &report.summary.vulnerabilities {
            let key = Severity::parse_lenient(k).as_str().to_string();
            *m.entry(key).or_default() += v;
        }
    } else {
        for v in counted(&report.vulnerabilities.items) {
            *m.entry(v.severity.as_str().to_string()).or_default() += 1;
        }
    }
    m
}

fn counted(items: &[Vulnerability]) -> impl Iterator<Item = &Vulnerability> {
    items.iter().filter(|v| v.suppressed.is_none())
}

fn vuln_ref(v: &Vulnerability) -> VulnRef {
    VulnRef {
        id: v.id.clone(),
        package: v.package.clone(),
        installed: v.installed.clone(),
        fixed: v.fixed.clone(),
        severity: v.severity,
        title: v.title.clone(),
        url: v.url.clone(),
    }
}

fn sort_vulns(v: &mut [VulnRef]) {
    v.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.id.cmp(&b.id))
            .then_with(|| a.package.cmp(&b.package))
    });
}

fn scan_summary(r: &ScanReport) -> ScanSummary {
    let mut compliance = ComplianceCounts::default();
    let mut checks = Vec::new();
    for c in &r.compliance {
        // A policy ignore entry took this result out of the verdict: count it apart.
        if c.suppressed.is_some() && c.status != CheckStatus::Pass {
            compliance.suppressed += 1;
            continue;
        }
        match c.status {
            CheckStatus::Pass => compliance.pass += 1,
            CheckStatus::Info => compliance.info += 1,
            CheckStatus::Warn => compliance.warn += 1,
            CheckStatus::Fail => compliance.fail += 1,
            CheckStatus::Skip => compliance.skip += 1,
        }
        if matches!(
            c.status,
            CheckStatus::Fail | CheckStatus::Warn | CheckStatus::Skip
        ) {
            checks.push(CheckSummary {
                id: c.id.clone(),
                title: c.title.clone(),
                status: c.status,
                cis: c.cis.clone(),
                evidence: c.evidence.clone(),
                remediation: c.remediation.clone(),
            });
        }
    }
    // Failures first, then warnings, then skipped.
    checks.sort_by_key(|c| match c.status {
        CheckStatus::Fail => 0,
        CheckStatus::Warn => 1,
        _ => 2,
    });
    ScanSummary {
        scanned_at: r.scanned_at.clone(),
        scanner_status: r.vulnerabilities.status,
        scanner: r.vulnerabilities.scanner.clone(),
        scanner_note: r.vulnerabilities.note.clone(),
        vulnerabilities: severity_counts(r),
        suppressed: r.summary.suppressed,
        fixable: r.summary.fixable,
        packages: if r.summary.packages > 0 {
            r.summary.packages
        } else {
            r.packages.len() as u64
        },
        packages_by_kind: r.summary.packages_by_kind.clone(),
        compliance,
        checks,
        policy_passed: r.policy.passed,
        policy: r.policy.policy.clone(),
        policy_failures: r.policy.failures.clone(),
        warnings: r.warnings.clone(),
        suppressed_vulns: suppressed_vulns(r),
    }
}

/// The suppressed findings with their reason (VEX status and justification when a VEX
/// statement decided), most severe first.
fn suppressed_vulns(r: &ScanReport) -> Vec<SuppressedVuln> {
    let mut out: Vec<SuppressedVuln> = r
        .vulnerabilities
        .items
        .iter()
        .filter_map(|v| {
            let suppressed = v.suppressed.as_ref()?;
            let vex = v.vex.as_ref().filter(|x| x.status.suppresses());
            // A VEX reason without the status and justification shown beside it.
            let reason = match vex {
                Some(x) => match &x.impact_statement {
                    Some(i) => format!("{i} [{}]", x.source),
                    None => format!("[{}]", x.source),
                },
                None => suppressed.clone(),
            };
            Some(SuppressedVuln {
                id: v.id.clone(),
                package: v.package.clone(),
                installed: v.installed.clone(),
                severity: v.severity,
                vex_status: vex.map(|x| x.status),
                justification: vex.and_then(|x| x.justification),
                reason,
            })
        })
        .collect();
    out.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.id.cmp(&b.id))
            .then_with(|| a.package.cmp(&b.package))
    });
    out
}

fn image_summary(
    g: Group,
    plan: Option<&golden_contracts::plan::PlanEntry>,
    baseline: Option<&Baseline>,
) -> (ImageSummary, ShownVulns) {
    let build = g.build.as_ref().map(|f| &f.doc);
    let scan = g.scan.as_ref().map(|f| &f.doc);
    let name = build
        .and_then(|b| b.tags.first().cloned())
        .or_else(|| scan.and_then(|s| s.image.tags.first().cloned()))
        .or_else(|| scan.map(|s| s.image.reference.clone()))
        .or_else(|| plan.and_then(|p| p.tags.first().cloned()))
        .unwrap_or_else(|| g.id.clone());
    let os = build
        .and_then(|b| b.os.clone())
        .or_else(|| plan.map(|p| p.os.clone()))
        .or_else(|| scan.and_then(|s| s.os.as_ref().map(|o| o.family.clone())));
    let platform = build
        .and_then(|b| b.platform.clone())
        .or_else(|| plan.map(|p| p.platform.clone()));
    let version = build
        .and_then(|b| b.version.clone())
        .or_else(|| plan.map(|p| p.version.clone()));
    let size = build
        .and_then(|b| b.size)
        .or_else(|| scan.map(|s| s.image.size).filter(|s| *s > 0));
    let digest = scan
        .and_then(|s| s.image.digest.clone())
        .or_else(|| build.and_then(|b| b.image_id.clone()))
        .or_else(|| scan.and_then(|s| s.image.id.clone()));

    let build_summary = build.map(|b| BuildSummary {
        succeeded: b.result == BuildResult::Success,
        duration_seconds: b.duration_seconds,
        started_at: b.started_at.clone(),
        image_id: b.image_id.clone(),
        base_digest: b.base_digest.clone(),
        error: b.error.clone(),
        cache: b.cache.clone(),
    });
    let scan_summary = scan.map(scan_summary);

    let status = if build.is_some_and(|b| b.result == BuildResult::Failure) {
        ImageStatus::BuildFailed
    } else if !g.problems.is_empty() {
        ImageStatus::Incomplete
    } else if scan.is_some_and(|s| !s.policy.passed) {
        ImageStatus::PolicyFailed
    } else {
        ImageStatus::Ok
    };

    let mut sources: Vec<String> = Vec::new();
    if let Some(b) = &g.build {
        sources.push(b.path.clone());
    }
    if let Some(s) = &g.scan {
        sources.push(s.path.clone());
    }

    let diff = baseline.map(|b| diff(b.get(&g.id, g.arch.as_deref()), size, scan));
    let shown = match (&diff, scan) {
        (Some(d), _) if d.compared_scan => ShownVulns {
            new_only: true,
            items: d.new_vulnerabilities.clone(),
        },
        (_, Some(s)) => {
            let mut items: Vec<VulnRef> = counted(&s.vulnerabilities.items).map(vuln_ref).collect();
            sort_vulns(&mut items);
            ShownVulns {
                new_only: false,
                items,
            }
        }
        _ => ShownVulns::default(),
    };

    (
        ImageSummary {
            id: g.id,
            arch: g.arch,
            name,
            os,
            platform,
            version,
            status,
            size,
            digest,
            index_digest: None,
            build: build_summary,
            push: g.push,
            scan: scan_summary,
            baseline: diff,
            problems: g.problems,
            sources,
        },
        shown,
    )
}

/// Compare one image with its baseline (`prev` is `None` for an image the baseline lacks).
pub fn diff(
    prev: Option<&BaselineImage>,
    size: Option<u64>,
    scan: Option<&ScanReport>,
) -> BaselineDiff {
    let Some(prev) = prev else {
        return BaselineDiff {
            found: false,
            source: None,
            size_before: None,
            size_change: None,
            compared_scan: false,
            new_vulnerabilities: Vec::new(),
            fixed_vulnerabilities: Vec::new(),
            packages_added: Vec::new(),
            packages_removed: Vec::new(),
            packages_changed: Vec::new(),
        };
    };
    let size_before = prev
        .build
        .as_ref()
        .and_then(|b| b.size)
        .or_else(|| prev.scan.as_ref().map(|s| s.image.size).filter(|s| *s > 0));
    let size_change = match (size, size_before) {
        (Some(now), Some(before)) => {
            Some(i64::try_from(now).unwrap_or(i64::MAX) - i64::try_from(before).unwrap_or(i64::MAX))
        }
        _ => None,
    };
    let mut d = BaselineDiff {
        found: true,
        source: Some(prev.source.clone()),
        size_before,
        size_change,
        compared_scan: false,
        new_vulnerabilities: Vec::new(),
        fixed_vulnerabilities: Vec::new(),
        packages_added: Vec::new(),
        packages_removed: Vec::new(),
        packages_changed: Vec::new(),
    };
    let (Some(now), Some(before)) = (scan, prev.scan.as_ref()) else {
        return d;
    };
    let scanned = |r: &ScanReport| r.vulnerabilities.status == ScannerStatus::Scanned;
    if scanned(now) && scanned(before) {
        d.compared_scan = true;
        let key = |v: &Vulnerability| (v.id.clone(), v.package.clone());
        let before_counted: BTreeSet<_> = counted(&before.vulnerabilities.items).map(key).collect();
        let now_all: BTreeSet<_> = now.vulnerabilities.items.iter().map(key).collect();
        let mut seen = BTreeSet::new();
        for v in counted(&now.vulnerabilities.items) {
            let k = key(v);
            if !before_counted.contains(&k) && seen.insert(k) {
                d.new_vulnerabilities.push(vuln_ref(v));
            }
        }
        let mut seen = BTreeSet::new();
        for v in counted(&before.vulnerabilities.items) {
            let k = key(v);
            if !now_all.contains(&k) && seen.insert(k) {
                d.fixed_vulnerabilities.push(vuln_ref(v));
            }
        }
        sort_vulns(&mut d.new_vulnerabilities);
        sort_vulns(&mut d.fixed_vulnerabilities);
    }
    // Packages by (kind, name); a name installed for several architectures keeps its first.
    let index = |r: &ScanReport| {
        let mut m: BTreeMap<(String, String), String> = BTreeMap::new();
        for p in &r.packages {
            m.entry((p.kind.clone(), p.name.clone()))
                .or_insert_with(|| p.version.clone());
        }
        m
    };
    if !now.packages.is_empty() || !before.packages.is_empty() {
        let a = index(before);
        let b = index(now);
        for ((kind, name), v) in &b {
            match a.get(&(kind.clone(), name.clone())) {
                None => d.packages_added.push(PackageRef {
                    name: name.clone(),
                    version: v.clone(),
                }),
                Some(old) if old != v => d.packages_changed.push(PackageChange {
                    name: name.clone(),
                    from: old.clone(),
                    to: v.clone(),
                }),
                _ => {}
            }
        }
        for ((kind, name), v) in &a {
            if !b.contains_key(&(kind.clone(), name.clone())) {
                d.packages_removed.push(PackageRef {
                    name: name.clone(),
                    version: v.clone(),
                });
            }
        }
    }
    d
}

fn totals(images: &[ImageSummary], problems: &[Problem]) -> Totals {
    let mut t = Totals {
        images: images.len() as u64,
        vulnerabilities: zero_severities(),
        ..Totals::default()
    };
    for i in images {
        match i.status {
            ImageStatus::Ok => t.ok += 1,
            ImageStatus::BuildFailed => t.build_failed += 1,
            ImageStatus::PolicyFailed => t.policy_failed += 1,
            ImageStatus::Incomplete => t.incomplete += 1,
        }
        if let Some(b) = &i.build {
            if b.succeeded {
                t.builds_succeeded += 1;
            } else {
                t.builds_failed += 1;
            }
        }
        if let Some(s) = &i.scan {
            for (k, v) in &s.vulnerabilities {
                *t.vulnerabilities.entry(k.clone()).or_default() += v;
            }
        }
        if let Some(d) = &i.baseline {
            t.new_vulnerabilities += d.new_vulnerabilities.len() as u64;
            t.fixed_vulnerabilities += d.fixed_vulnerabilities.len() as u64;
        }
    }
    t.failed = t.build_failed + t.policy_failed + t.incomplete;
    t.problems = problems
        .iter()
        .filter(|p| p.severity == ProblemSeverity::Error)
        .count() as u64;
    t
}
