//! The flows that write records: `push --record` (push by digest, attach the referrers, then
//! move the tags one by one, then write the [`PushRecord`]) and `index --records` (check every
//! expected architecture has a successful push record, store every index by digest, then move
//! the tags, then write the [`IndexRecord`]). Machines read these files; stdout is for people.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use golden_contracts::Document;
use golden_contracts::push::{
    Arch, INDEX_RECORD_SCHEMA, ImageIndex, IndexKind, IndexManifest, IndexRecord, IndexTarget,
    PUSH_RECORD_SCHEMA, PushKind, PushRecord, PushResult, Referrer, SCAN_REPORT_TYPE,
    artifact_type_for,
};
use golden_oci::{Reference, media};
use golden_registry::Client;

use crate::Log;
use crate::error::{Error, Result};
use crate::push::{PushOptions, PushReport};
use crate::report::short;
use crate::tags::set_tags;

/// One file to attach and its artifact type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub file: PathBuf,
    pub artifact_type: String,
}

/// `FILE` or `FILE=TYPE`, one per item (items may hold several lines). Every file must exist
/// and have a known type: checked before anything is pushed.
pub fn parse_attachments(items: &[String]) -> Result<Vec<Attachment>> {
    let mut out = Vec::new();
    for line in items
        .iter()
        .flat_map(|i| i.lines())
        .map(str::trim)
        .filter(|l| !l.is_empty())
    {
        let (file, artifact_type) = match line.split_once('=') {
            Some((f, t)) if !t.trim().is_empty() => (f.trim(), t.trim().to_string()),
            _ => {
                let t = artifact_type_for(line).ok_or_else(|| {
                    Error::Usage(format!(
                        "--attach: cannot tell the artifact type of `{line}`; write it as FILE=TYPE (known by name: build-record.json, report.json, *.cdx.json, *.spdx.json, *.sarif, *.openvex.json)"
                    ))
                })?;
                (line, t.to_string())
            }
        };
        let file = PathBuf::from(file);
        if !file.is_file() {
            return Err(Error::Usage(format!(
                "--attach: no file at {}",
                file.display()
            )));
        }
        out.push(Attachment {
            file,
            artifact_type,
        });
    }
    Ok(out)
}

/// The scan runs before the push, so its report knows the image id only: `image.digest` gets
/// the pushed digest before the report is attached (written atomically, other fields kept).
pub fn fill_report_digest(path: &Path, digest: &str) -> Result<()> {
    let text = std::fs::read_to_string(path).map_err(Error::file(format!(
        "failed to read the scan report `{}`",
        path.display()
    )))?;
    let mut v: serde_json::Value = serde_json::from_str(&text).map_err(Error::json(format!(
        "--attach: `{}` is not JSON (a scan report gets the pushed digest as image.digest)",
        path.display()
    )))?;
    let image = v
        .get_mut("image")
        .and_then(|i| i.as_object_mut())
        .ok_or_else(|| {
            Error::Usage(format!(
                "--attach: `{}` has no `image` object (is it a golden scan report?)",
                path.display()
            ))
        })?;
    image.insert("digest".into(), digest.into());
    let mut out = serde_json::to_string_pretty(&v)?;
    out.push('\n');
    golden_contracts::write_atomic(path, out.as_bytes())?;
    Ok(())
}

/// What `push --record` does besides pushing.
#[derive(Debug, Clone)]
pub struct PushJob {
    pub id: String,
    pub attachments: Vec<Attachment>,
    pub record: Option<PathBuf>,
    /// Multi-arch: the index the `index` step builds from this push.
    pub index: Option<IndexTarget>,
    /// The architecture to record when the push fails before the image is read.
    pub arch_hint: Option<Arch>,
    /// When the push command started: the record's `duration_seconds` runs from here to the
    /// moment the record is written.
    pub started: std::time::Instant,
    /// Sign the pushed digest (and attach SLSA provenance from these inputs) after the
    /// attachments, before any tag moves.
    pub signing: Option<Signing>,
    /// `--verify-policy`: the pushed digest must pass `verify` (these keys, this policy) after
    /// its bundles are attached, or no tag moves.
    pub verify: Option<(Vec<crate::sign::PublicKey>, crate::sign::policy::Policy)>,
}

/// What `push --sign-key` signs with.
#[derive(Debug, Clone)]
pub struct Signing {
    pub signer: std::sync::Arc<crate::sign::Signer>,
    /// `None`: the signature alone (`--provenance=false`).
    pub provenance: Option<crate::sign::provenance::Inputs>,
}

/// The outcome of [`push_attach_tag`]: the record (also written to `job.record`) and the push
/// report for people.
pub struct Pushed {
    pub record: PushRecord,
    pub report: PushReport,
}

fn uploaded(r: &PushReport) -> u32 {
    std::iter::once(&r.config)
        .chain(r.layers.iter())
        .filter(|b| b.action != "exists")
        .count() as u32
}

/// Bytes of the blobs this push sent: each distinct blob whose action is `uploaded` once
/// (mounted and existing blobs send nothing).
fn bytes_uploaded(r: &PushReport) -> u64 {
    let mut seen = std::collections::BTreeSet::new();
    std::iter::once(&r.config)
        .chain(r.layers.iter())
        .filter(|b| b.action == "uploaded" && seen.insert(b.digest.as_str()))
        .map(|b| b.size)
        .sum()
}

/// The manifest's layer sizes plus its config size: what a pull downloads.
fn compressed_size(r: &PushReport) -> u64 {
    r.config.size + r.layers.iter().map(|b| b.size).sum::<u64>()
}

/// Stamp the duration so far and write the record (when `--record` was given).
/// A step between the stored manifest and its tags failed (an attachment, the signature, the
/// verify policy): the record says which tags did not move and why, and the error says the
/// manifest is pushed.
fn stopped_before_tags(
    record: &mut PushRecord,
    job: &PushJob,
    all: &[String],
    digest: &str,
    e: Error,
) -> Result<Error> {
    let e = e.context(format!("the manifest {digest} is pushed, no tag was moved"));
    record.tags_not_moved = all.to_vec();
    record.error = Some(e.one_line());
    write(record, job)?;
    Ok(e)
}

fn write(record: &mut PushRecord, job: &PushJob) -> Result<()> {
    record.duration_seconds = Some(job.started.elapsed().as_secs_f64());
    if let Some(p) = job.record.as_deref() {
        record.write(p)?;
    }
    Ok(())
}

/// Push the image by digest, attach every file to that digest, then move the tags one by one;
/// write the record (on failure too, once anything is known) and return it.
pub async fn push_attach_tag(
    client: &Client,
    opts: &PushOptions,
    job: &PushJob,
    log: &Log,
) -> Result<Pushed> {
    let target = &opts.to;
    let mut record = PushRecord {
        schema: PUSH_RECORD_SCHEMA,
        kind: PushKind::PushRecord,
        id: job.id.clone(),
        result: PushResult::Failure,
        registry: target.registry.clone(),
        image: format!("{}/{}", target.registry, target.repository),
        arch: job.arch_hint.or_else(Arch::host).unwrap_or(Arch::Amd64),
        digest: None,
        reference: None,
        tags: Vec::new(),
        tags_not_moved: Vec::new(),
        referrers: Vec::new(),
        uploaded: 0,
        blobs: 0,
        bytes_uploaded: None,
        compressed_size: None,
        duration_seconds: None,
        index: job.index.clone(),
        error: None,
    };
    let report = match crate::push::push(client, opts, log).await {
        Ok(r) => r,
        Err(e) => {
            record.tags_not_moved = crate::tags::all_tags(target, &opts.tags)
                .map(|ts| ts.iter().map(|t| format!("{}:{t}", record.image)).collect())
                .unwrap_or_default();
            record.error = Some(e.one_line());
            write(&mut record, job)?;
            return Err(e);
        }
    };
    record.arch = Arch::parse(&report.architecture).map_err(|e| {
        Error::Image(format!(
            "the pushed image {}: {e}; no tag was moved",
            report.reference
        ))
    })?;
    record.digest = Some(report.digest.clone());
    record.reference = Some(report.reference.clone());
    record.uploaded = uploaded(&report);
    record.blobs = report.layers.len() as u32 + 1;
    record.bytes_uploaded = Some(bytes_uploaded(&report));
    record.compressed_size = Some(compressed_size(&report));
    let all: Vec<String> = report
        .pending_tags
        .iter()
        .map(|t| format!("{}:{t}", record.image))
        .collect();
    let subject = report.repository.with_digest(&report.digest);
    // Referrers first: a tag only ever points at an image whose reports are attached.
    for a in &job.attachments {
        let step = async {
            if a.artifact_type == SCAN_REPORT_TYPE {
                fill_report_digest(&a.file, &report.digest)?;
            }
            crate::attach(
                client,
                &subject,
                &a.file,
                &a.artifact_type,
                None,
                BTreeMap::new(),
                log,
            )
            .await
        };
        match step.await {
            Ok(r) => record.referrers.push(Referrer {
                artifact_type: a.artifact_type.clone(),
                digest: r.digest,
                file: a.file.display().to_string(),
            }),
            Err(e) => {
                return Err(stopped_before_tags(
                    &mut record,
                    job,
                    &all,
                    &report.digest,
                    e,
                )?);
            }
        }
    }
    // Then the signature and the provenance (which names the reports just attached).
    if let Some(signing) = &job.signing {
        match sign_digest(client, signing, &report.repository, &report.digest, log).await {
            Ok(signed) => {
                record.referrers.push(Referrer {
                    artifact_type: crate::sign::BUNDLE_MEDIA_TYPE.to_string(),
                    digest: signed.signature,
                    file: crate::sign::SIGNATURE_PREDICATE.to_string(),
                });
                if let Some(p) = signed.provenance {
                    record.referrers.push(Referrer {
                        artifact_type: crate::sign::BUNDLE_MEDIA_TYPE.to_string(),
                        digest: p,
                        file: crate::sign::PROVENANCE_PREDICATE.to_string(),
                    });
                }
            }
            Err(e) => {
                return Err(stopped_before_tags(
                    &mut record,
                    job,
                    &all,
                    &report.digest,
                    e,
                )?);
            }
        }
    }
    if let Some((keys, policy)) = &job.verify {
        let checked = match crate::sign::verify::verify(client, &subject, keys, policy).await {
            Ok(v) if v.verified => {
                log.line(&format!(
                    "verified {} ({})",
                    short(&report.digest),
                    v.checks
                        .iter()
                        .map(|c| c.rule.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
                Ok(())
            }
            Ok(v) => Err(Error::Refused(format!(
                "{}@{} does not pass the verify policy: {}",
                record.image,
                report.digest,
                v.checks
                    .iter()
                    .filter(|c| !c.passed)
                    .map(|c| format!("{}: {}", c.rule, c.detail))
                    .collect::<Vec<_>>()
                    .join("; ")
            ))),
            Err(e) => Err(e),
        };
        if let Err(e) = checked {
            return Err(stopped_before_tags(
                &mut record,
                job,
                &all,
                &report.digest,
                e,
            )?);
        }
    }
    let outcome = set_tags(
        client,
        &report.repository,
        &report.digest,
        &report.manifest,
        media::OCI_MANIFEST,
        &report.pending_tags,
        log,
    )
    .await;
    record.tags = outcome.moved;
    record.tags_not_moved = outcome.not_moved;
    if let Some(e) = outcome.error {
        record.error = Some(e.one_line());
        write(&mut record, job)?;
        return Err(e);
    }
    record.result = PushResult::Success;
    write(&mut record, job)?;
    let mut report = report;
    report.tags = record.tags.clone();
    Ok(Pushed { record, report })
}

/// Every `*push-record.json` under the given folders (recursively) and the files given.
pub fn find_records(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .map_err(Error::file(format!(
                "--records: cannot read the folder {}",
                dir.display()
            )))?
            .collect::<Result<_, _>>()?;
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let p = e.path();
            let ft = e.file_type()?;
            if ft.is_dir() {
                walk(&p, out)?;
            } else if ft.is_file()
                && e.file_name()
                    .to_string_lossy()
                    .ends_with("push-record.json")
            {
                out.push(p);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut out)?;
        } else if p.is_file() {
            out.push(p.clone());
        } else {
            return Err(Error::Usage(format!(
                "--records: no file or folder at {}",
                p.display()
            )));
        }
    }
    Ok(out)
}

/// The per-architecture records of one image, checked against the expected architectures.
/// Returns the records in `expect` order, or every problem found.
pub fn check_arches(
    id: &str,
    records: &[(PathBuf, PushRecord)],
    expect: &[Arch],
) -> Result<Vec<(PathBuf, PushRecord)>, Vec<String>> {
    let mut problems = Vec::new();
    let mut out = Vec::new();
    let first_target = records.first().and_then(|(_, r)| r.index.clone());
    for (p, r) in records {
        if r.index != first_target {
            problems.push(format!(
                "image `{id}`: {} names another index target than the other records",
                p.display()
            ));
        }
        if !expect.contains(&r.arch) {
            problems.push(format!(
                "image `{id}`: {} is for {}, which --expect-arch does not list",
                p.display(),
                r.arch
            ));
        }
    }
    for a in expect {
        let mine: Vec<_> = records.iter().filter(|(_, r)| r.arch == *a).collect();
        match mine.as_slice() {
            [] => problems.push(format!(
                "image `{id}`: no push record for {a} (its job failed or did not run)"
            )),
            [(p, r)] if !r.succeeded() => problems.push(format!(
                "image `{id}`: the {a} push failed ({}): {}",
                p.display(),
                r.error.as_deref().unwrap_or("no digest")
            )),
            [(p, r)] => out.push((p.clone(), r.clone())),
            many => problems.push(format!(
                "image `{id}`: {} push records for {a} ({})",
                many.len(),
                many.iter()
                    .map(|(p, _)| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

/// `index --records ... --expect-arch ...`: one index per image id. Refuses (no index stored,
/// no tag moved) unless every image has a successful record for every expected architecture.
pub async fn index_from_records(
    client: &Client,
    paths: &[PathBuf],
    expect: &[Arch],
    record_path: Option<&Path>,
    jobs: usize,
    signing: Option<&Signing>,
    log: &Log,
) -> Result<IndexRecord> {
    if expect.is_empty() {
        return Err(Error::Usage(
            "--expect-arch is required with --records (for example amd64,arm64)".into(),
        ));
    }
    let by_id = records_by_id(paths)?;
    let mut out = IndexRecord {
        schema: INDEX_RECORD_SCHEMA,
        kind: IndexKind::IndexRecord,
        indexes: Vec::new(),
    };
    let mut checked = Vec::new();
    let mut problems = Vec::new();
    for (id, records) in &by_id {
        match check_arches(id, records, expect) {
            Ok(rs) => checked.push((id.clone(), rs)),
            Err(p) => problems.extend(p),
        }
    }
    if !problems.is_empty() {
        for (id, records) in &by_id {
            out.indexes
                .push(failed_index(id, records, problems.join("; ")));
        }
        if let Some(p) = record_path {
            out.write(p)?;
        }
        return Err(Error::Refused(format!(
            "refusing to build any index: {}\n  no index was pushed and no tag moved (a moving tag must not point at an index missing an architecture)",
            problems.join("\n  ")
        )));
    }
    // Every index by digest first; tags only once all are stored.
    let mut built = Vec::new();
    for (id, records) in &checked {
        let target = records[0].1.index.clone().unwrap_or(IndexTarget {
            to: String::new(),
            tags: vec![],
        });
        let to = Reference::parse(&target.to).map_err(|source| Error::Reference {
            what: format!(
                "image `{id}`: the index target `{}` in {} is not REGISTRY/REPOSITORY:TAG",
                target.to,
                records[0].0.display()
            ),
            source,
        })?;
        let manifests: Vec<String> = records
            .iter()
            .map(|(_, r)| r.reference.clone().unwrap_or_default())
            .collect();
        log.line(&format!("index {} <- {}", target.to, manifests.join(" ")));
        let b = match crate::copy::index(
            client,
            &to,
            &manifests,
            &target.tags,
            BTreeMap::new(),
            jobs,
            log,
        )
        .await
        {
            Ok(b) => b,
            Err(e) => {
                let e = e.context(format!("image `{id}`: no tag was moved"));
                return Err(no_index_moved(&mut out, &by_id, record_path, e)?);
            }
        };
        for ((p, r), got) in records.iter().zip(&b.architectures) {
            if Arch::parse(got).ok() != Some(r.arch) {
                return Err(Error::Refused(format!(
                    "image `{id}`: {} says {} but its manifest {} is {got}; no tag was moved",
                    p.display(),
                    r.arch,
                    r.reference.as_deref().unwrap_or("")
                )));
            }
        }
        built.push((id.clone(), records.clone(), b));
    }
    // Signed (and provenance attached) before any tag moves.
    if let Some(signing) = signing {
        for (id, _, b) in &built {
            if let Err(e) = sign_built(client, signing, b, log).await {
                let e = e.context(format!(
                    "image `{id}`: the index {} is stored, no tag was moved",
                    b.report.digest
                ));
                return Err(no_index_moved(&mut out, &by_id, record_path, e)?);
            }
        }
    }
    let mut error = None;
    for (id, records, b) in built {
        let (index, outcome_error) = tag_index(client, &id, &records, b, log).await;
        out.indexes.push(index);
        if let Some(e) = outcome_error {
            error.get_or_insert(e.context(format!("image `{id}`")));
        }
    }
    if let Some(p) = record_path {
        out.write(p)?;
    }
    match error {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

/// Sign a stored index and attach its provenance (`index --sign-key`).
pub async fn sign_built(
    client: &Client,
    signing: &Signing,
    b: &crate::copy::IndexBuilt,
    log: &Log,
) -> Result<crate::sign::Signed> {
    sign_digest(client, signing, &b.repository, &b.report.digest, log).await
}

/// Sign `repo@digest` and attach its provenance, finished now (an image or an index).
async fn sign_digest(
    client: &Client,
    signing: &Signing,
    repo: &golden_oci::Reference,
    digest: &str,
    log: &Log,
) -> Result<crate::sign::Signed> {
    let mut inputs = signing.provenance.clone();
    if let Some(i) = inputs.as_mut() {
        i.finished_on = crate::sign::provenance::now();
    }
    crate::sign::sign_image(client, &*signing.signer, repo, digest, inputs.as_ref(), log).await
}

/// The per-architecture push records (pushed with `--arch-suffix`) under `paths`, by image id.
fn records_by_id(paths: &[PathBuf]) -> Result<BTreeMap<String, Vec<(PathBuf, PushRecord)>>> {
    let files = find_records(paths)?;
    let mut by_id: BTreeMap<String, Vec<(PathBuf, PushRecord)>> = BTreeMap::new();
    for f in files {
        let r = PushRecord::read(&f)?;
        if r.index.is_some() {
            by_id.entry(r.id.clone()).or_default().push((f, r));
        }
    }
    if by_id.is_empty() {
        return Err(Error::Usage(format!(
            "no per-architecture push record (pushed with --arch-suffix) under {}: nothing to merge",
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    Ok(by_id)
}

/// The record of an index that was not built (`error` says why): the tags it would have moved.
/// Building or signing an index failed before any tag moved: every image's index is recorded
/// as failed with that error (the record written when asked for), and the error returned.
fn no_index_moved(
    out: &mut IndexRecord,
    by_id: &BTreeMap<String, Vec<(PathBuf, PushRecord)>>,
    record_path: Option<&Path>,
    e: Error,
) -> Result<Error> {
    out.indexes = by_id
        .iter()
        .map(|(i, rs)| failed_index(i, rs, e.one_line()))
        .collect();
    if let Some(p) = record_path {
        out.write(p)?;
    }
    Ok(e)
}

fn failed_index(id: &str, records: &[(PathBuf, PushRecord)], error: String) -> ImageIndex {
    let first = &records[0].1;
    let target = first.index.clone().unwrap_or(IndexTarget {
        to: String::new(),
        tags: vec![],
    });
    ImageIndex {
        id: id.to_string(),
        result: PushResult::Failure,
        registry: first.registry.clone(),
        image: first.image.clone(),
        digest: None,
        reference: None,
        manifests: records
            .iter()
            .filter(|(_, r)| r.succeeded())
            .map(|(_, r)| IndexManifest {
                arch: r.arch,
                digest: r.digest.clone().unwrap_or_default(),
                reference: r.reference.clone().unwrap_or_default(),
            })
            .collect(),
        tags: vec![],
        tags_not_moved: std::iter::once(target.to.clone())
            .chain(target.tags.iter().map(|t| format!("{}:{t}", first.image)))
            .filter(|t| !t.is_empty())
            .collect(),
        error: Some(error),
    }
}

/// Move the tags of the stored index `b` of image `id`; its record, and the error if a tag
/// failed.
async fn tag_index(
    client: &Client,
    id: &str,
    records: &[(PathBuf, PushRecord)],
    b: crate::copy::IndexBuilt,
    log: &Log,
) -> (ImageIndex, Option<Error>) {
    let first = &records[0].1;
    let outcome = set_tags(
        client,
        &b.repository,
        &b.report.digest,
        &b.bytes,
        media::OCI_INDEX,
        &b.tags,
        log,
    )
    .await;
    let failed = outcome.error.is_some();
    let index = ImageIndex {
        id: id.to_string(),
        result: if failed {
            PushResult::Failure
        } else {
            PushResult::Success
        },
        registry: first.registry.clone(),
        image: first.image.clone(),
        digest: Some(b.report.digest.clone()),
        reference: Some(b.report.reference.clone()),
        manifests: records
            .iter()
            .map(|(_, r)| IndexManifest {
                arch: r.arch,
                digest: r.digest.clone().unwrap_or_default(),
                reference: r.reference.clone().unwrap_or_default(),
            })
            .collect(),
        tags: outcome.moved,
        tags_not_moved: outcome.not_moved,
        error: outcome.error.as_ref().map(Error::one_line),
    };
    (index, outcome.error)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(arch: Arch, ok: bool) -> PushRecord {
        PushRecord {
            schema: PUSH_RECORD_SCHEMA,
            kind: PushKind::PushRecord,
            id: "app".into(),
            result: if ok {
                PushResult::Success
            } else {
                PushResult::Failure
            },
            registry: "r.io".into(),
            image: "r.io/golden/app".into(),
            arch,
            digest: ok.then(|| format!("sha256:{}", "a".repeat(64))),
            reference: None,
            tags: vec![],
            tags_not_moved: vec![],
            referrers: vec![],
            uploaded: 0,
            blobs: 0,
            bytes_uploaded: None,
            compressed_size: None,
            duration_seconds: None,
            index: Some(IndexTarget {
                to: "r.io/golden/app:1".into(),
                tags: vec![],
            }),
            error: (!ok).then(|| "layer upload failed".into()),
        }
    }

    #[test]
    fn a_missing_or_failed_architecture_is_refused() {
        let both = [Arch::Amd64, Arch::Arm64];
        let only_amd = vec![(PathBuf::from("a/push-record.json"), rec(Arch::Amd64, true))];
        let e = check_arches("app", &only_amd, &both).unwrap_err();
        assert!(e[0].contains("no push record for arm64"), "{e:?}");
        let failed = vec![
            (PathBuf::from("a/push-record.json"), rec(Arch::Amd64, true)),
            (PathBuf::from("b/push-record.json"), rec(Arch::Arm64, false)),
        ];
        let e = check_arches("app", &failed, &both).unwrap_err();
        assert!(
            e[0].contains("arm64 push failed") && e[0].contains("layer upload failed"),
            "{e:?}"
        );
        let ok = vec![
            (PathBuf::from("b/push-record.json"), rec(Arch::Arm64, true)),
            (PathBuf::from("a/push-record.json"), rec(Arch::Amd64, true)),
        ];
        let got = check_arches("app", &ok, &both).unwrap();
        assert_eq!(got[0].1.arch, Arch::Amd64);
        assert_eq!(got[1].1.arch, Arch::Arm64);
        // An architecture nobody expected is a problem too.
        let e = check_arches("app", &ok, &[Arch::Amd64]).unwrap_err();
        assert!(e[0].contains("does not list"), "{e:?}");
    }

    #[test]
    fn bytes_sent_count_each_uploaded_blob_once_and_the_size_every_manifest_entry() {
        let blob = |digest: &str, size: u64, action: &str| crate::push::BlobReport {
            diff_id: None,
            digest: digest.into(),
            size,
            action: action.into(),
            from: None,
        };
        let report = PushReport {
            digest: "sha256:m".into(),
            reference: "r.io/a@sha256:m".into(),
            tags: vec![],
            pending_tags: vec![],
            repository: Reference::parse("r.io/a").unwrap(),
            manifest: bytes::Bytes::new(),
            architecture: "amd64".into(),
            media_type: media::OCI_MANIFEST.into(),
            size: 1,
            platform: "linux/amd64".into(),
            config: blob("sha256:c", 7, "uploaded"),
            // The same layer twice in the image: sent once, downloaded as the manifest says.
            layers: vec![
                blob("sha256:a", 100, "uploaded"),
                blob("sha256:b", 20, "mounted"),
                blob("sha256:d", 3, "exists"),
                blob("sha256:a", 100, "uploaded"),
            ],
            exported: false,
            layer_source: "archive".into(),
            seconds: 0.1,
        };
        assert_eq!(bytes_uploaded(&report), 107);
        assert_eq!(compressed_size(&report), 230);
    }

    #[test]
    fn attachments_are_checked_and_typed() {
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path().join("report.json");
        std::fs::write(&r, r#"{"image":{"id":"sha256:x"},"other":1}"#).unwrap();
        let n = dir.path().join("notes.txt");
        std::fs::write(&n, "x").unwrap();
        let a =
            parse_attachments(&[format!("{}\n{}=text/plain", r.display(), n.display())]).unwrap();
        assert_eq!(a[0].artifact_type, SCAN_REPORT_TYPE);
        assert_eq!(a[1].artifact_type, "text/plain");
        let e = parse_attachments(&[n.display().to_string()])
            .unwrap_err()
            .to_string();
        assert!(e.contains("FILE=TYPE"), "{e}");
        let e = parse_attachments(&["/nonexistent/report.json".into()])
            .unwrap_err()
            .to_string();
        assert!(e.contains("no file at /nonexistent/report.json"), "{e}");
        fill_report_digest(&r, "sha256:abc").unwrap();
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&r).unwrap()).unwrap();
        assert_eq!(v["image"]["digest"], "sha256:abc");
        assert_eq!(v["other"], 1);
    }
}
