//! `golden-push promote IMAGE... --to REGISTRY[/PREFIX]`: staging → release, by digest, all
//! together or not at all.
//!
//! Each IMAGE is `REGISTRY/REPOSITORY@DIGEST` (optionally `=TAG,TAG` for the release tags).
//! Without explicit tags, the release tags are the image's tags in staging plus, for each dated
//! tag, its moving tag (the dated tag without its date: `1.22-debian-20261207` →
//! `1.22-debian`, `12-20261207-arm64` → `12-arm64`).
//!
//! Order, which is the all-or-nothing guarantee:
//! 1. every image is checked (it exists at its digest; its scan report referrer — every
//!    child's, for an index — exists and passed, unless `--no-require-report`; with a verify
//!    policy, `verify` passes on it: signature, signed provenance, signed passed report);
//! 2. every image is copied by digest with its referrers to the release location;
//! 3. the audit records are attached (signed with a signer), then the release tags are set,
//!    image after image.
//!
//! A failure in 1 or 2 leaves every release tag as it was (the copied digests are untagged and
//! harmless). A failure in 3 (a registry dying between two tag writes) is reported with exactly
//! the tags that moved.

use std::collections::BTreeMap;

use golden_contracts::push::SCAN_REPORT_TYPE;
use golden_oci::Reference;
use golden_registry::{Client, ParsedManifest, Scope};
use serde::Serialize;

use crate::Log;
use crate::copy::{ReferrerCopy, copy_referrers};
use crate::error::{Error, Result};
use crate::purge::{TagKind, classify};
use crate::report::short;
use crate::sign::policy::Policy;
use crate::sign::verify::Verification;
use crate::sign::{PublicKey, Signer};
use crate::sync::{destination_of, is_referrers_tag};
use crate::tags::{checked_tag, repo_ref};

pub use crate::audit::AUDIT_RECORD_TYPE;

/// One image to promote, as given.
#[derive(Debug, Clone)]
pub struct PromoteItem {
    pub source: Reference,
    pub tags: Option<Vec<String>>,
}

/// Parse `REGISTRY/REPOSITORY@DIGEST[=TAG,TAG]`.
pub fn parse_item(s: &str) -> Result<PromoteItem> {
    let (r, tags) = match s.split_once('=') {
        Some((r, t)) => (r, Some(t)),
        None => (s, None),
    };
    let source = Reference::parse(r.trim()).map_err(Error::reference(format!(
        "IMAGE `{s}` is not REGISTRY/REPOSITORY@DIGEST[=TAG,...]"
    )))?;
    if source.digest.is_none() || source.tag.is_some() {
        return Err(Error::Usage(format!(
            "IMAGE `{s}`: promotion is by digest (REGISTRY/REPOSITORY@sha256:...), not by tag — a tag could move between approval and copy"
        )));
    }
    let tags = match tags {
        None => None,
        Some(t) => {
            let list: Vec<String> = t
                .split(',')
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .map(|x| checked_tag(&source, x))
                .collect::<Result<_>>()?;
            if list.is_empty() {
                return Err(Error::Usage(format!(
                    "IMAGE `{s}`: `=` without tags (give =TAG[,TAG] or no `=`)"
                )));
            }
            Some(list)
        }
    };
    Ok(PromoteItem { source, tags })
}

/// The release tags for an image whose staging tags are `staging`: those, plus each dated
/// tag's moving tag (its date part removed). Referrers-schema tags are not image tags.
pub fn release_tags(staging: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut add = |t: String| {
        if !out.contains(&t) {
            out.push(t);
        }
    };
    for t in staging {
        if is_referrers_tag(t) {
            continue;
        }
        add(t.clone());
        let (kind, family, _) = classify(t);
        if kind == TagKind::Dated {
            let moving = family.replace("-*", "").replace("*-", "");
            if !moving.is_empty() && moving != "*" {
                add(moving);
            }
        }
    }
    out
}

/// One promoted image.
#[derive(Debug, Clone, Serialize)]
pub struct Promoted {
    pub source: String,
    pub destination: String,
    pub digest: String,
    pub tags: Vec<String>,
    pub referrers: Vec<ReferrerCopy>,
    /// The scan reports checked (digest → passed).
    pub reports: BTreeMap<String, bool>,
    /// What `verify` checked (with a verify policy).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verification: Option<Verification>,
}

/// Result of `promote`.
#[derive(Debug, Clone, Serialize)]
pub struct PromoteReport {
    pub images: Vec<Promoted>,
    /// Release tags set, `REPO:TAG`, in order.
    pub tags_moved: Vec<String>,
    pub audit_records: Vec<String>,
    /// The signature bundles of the audit records (with a signer).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub audit_signatures: Vec<String>,
}

/// Who and what the audit record names (from the workflow).
#[derive(Debug, Clone, Default, Serialize)]
pub struct AuditContext {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approver: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deployment_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
}

/// Options of [`promote`].
pub struct PromoteOptions<'a> {
    pub to: &'a str,
    /// A leading repository path (the staging namespace) replaced by the release location.
    pub strip: Option<&'a str>,
    pub require_report: bool,
    /// Verify every image (signature, provenance, signed scan report passed, as the policy
    /// says) before anything is copied: the trusted keys and the policy.
    pub verify: Option<(Vec<PublicKey>, Policy)>,
    pub audit: Option<AuditContext>,
    /// Signs the audit records.
    pub signer: Option<&'a Signer>,
    pub jobs: usize,
}

/// The passed/failed verdict of every scan report attached to `digest` (empty: none).
async fn report_verdicts(
    client: &Client,
    repo: &Reference,
    digest: &str,
) -> Result<BTreeMap<String, bool>> {
    let mut out = BTreeMap::new();
    let listed = client
        .referrers(&repo.with_digest(digest), Some(SCAN_REPORT_TYPE))
        .await
        .map_err(Error::registry_at(format!(
            "failed to list the scan reports of {}@{digest}",
            repo.name()
        )))?;
    for d in listed {
        let m = client.get_manifest(&repo.with_digest(&d.digest)).await?;
        let ParsedManifest::Image(img) = m.parse()? else {
            continue;
        };
        let Some(layer) = img.layers.first() else {
            out.insert(d.digest.clone(), false);
            continue;
        };
        let bytes = client.get_blob_bytes(repo, &layer.digest, 32 << 20).await?;
        let passed = serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .and_then(|v| {
                v.pointer("/policy/passed")
                    .and_then(serde_json::Value::as_bool)
            })
            .unwrap_or(false);
        out.insert(d.digest, passed);
    }
    Ok(out)
}

/// Promote `items` (see the module documentation for the order and the guarantee).
pub async fn promote(
    client: &Client,
    items: &[PromoteItem],
    opts: &PromoteOptions<'_>,
    log: &Log,
) -> Result<PromoteReport> {
    if items.is_empty() {
        return Err(Error::Usage(
            "give at least one IMAGE (REGISTRY/REPOSITORY@DIGEST[=TAG,...])".into(),
        ));
    }
    // 1. Check every image before anything is written.
    struct Planned {
        item: PromoteItem,
        dst: Reference,
        fetched: golden_registry::FetchedManifest,
        tags: Vec<String>,
        reports: BTreeMap<String, bool>,
        verification: Option<Verification>,
    }
    let mut planned = Vec::new();
    let mut problems = Vec::new();
    for item in items {
        let src = &item.source;
        let digest = src.digest.clone().unwrap_or_default();
        let fetched = match client.get_manifest(src).await {
            Ok(f) => f,
            Err(e) => {
                problems.push(format!("{src}: cannot be read ({e})"));
                continue;
            }
        };
        let src_repo = repo_ref(src);
        let dst = destination_of(&src_repo, opts.to, opts.strip)?;
        let tags = match &item.tags {
            Some(t) => t.clone(),
            None => {
                let all = client
                    .list_tags(&src_repo)
                    .await
                    .map_err(Error::registry_at(format!(
                        "failed to list the tags of {}",
                        src_repo.name()
                    )))?;
                let mut on_digest = Vec::new();
                for t in all.iter().filter(|t| !is_referrers_tag(t)) {
                    if client
                        .head_manifest(&src_repo.with_tag(t))
                        .await?
                        .is_some_and(|d| d.digest == digest)
                    {
                        on_digest.push(t.clone());
                    }
                }
                on_digest.sort();
                release_tags(&on_digest)
            }
        };
        if tags.is_empty() {
            problems.push(format!(
                "{src}: no tag points at it in staging and none was given (IMAGE=TAG,...)"
            ));
        }
        let mut reports = BTreeMap::new();
        if opts.require_report {
            let mut subjects = vec![digest.clone()];
            if let ParsedManifest::Index(i) = fetched.parse()? {
                subjects.extend(i.manifests.iter().map(|m| m.digest.clone()));
            }
            for s in &subjects {
                let v = report_verdicts(client, &src_repo, s).await?;
                if v.is_empty() {
                    problems.push(format!(
                        "{}@{}: no scan report attached (artifact type {SCAN_REPORT_TYPE})",
                        src_repo.name(),
                        short(s)
                    ));
                } else if !v.values().any(|p| *p) {
                    problems.push(format!(
                        "{}@{}: the scan report did not pass the policy",
                        src_repo.name(),
                        short(s)
                    ));
                }
                reports.extend(v);
            }
        }
        let verification = match &opts.verify {
            Some((keys, policy)) => {
                let v = crate::sign::verify::verify(
                    client,
                    &src_repo.with_digest(&digest),
                    keys,
                    policy,
                )
                .await?;
                for c in &v.checks {
                    log.line(&format!(
                        "  {} [{}] {}: {}",
                        short(&digest),
                        if c.passed { "ok" } else { "FAIL" },
                        c.rule,
                        c.detail
                    ));
                }
                if !v.verified {
                    problems.push(format!(
                        "{}@{}: not verified by the verify policy (failed: {})",
                        src_repo.name(),
                        short(&digest),
                        v.failed().join(", ")
                    ));
                }
                Some(v)
            }
            None => None,
        };
        planned.push(Planned {
            item: item.clone(),
            dst,
            fetched,
            tags,
            reports,
            verification,
        });
    }
    if !problems.is_empty() {
        return Err(Error::Usage(format!(
            "nothing promoted, no release tag moved: {}",
            problems.join("; ")
        )));
    }
    // 2. Copy everything (with referrers), no tag yet.
    let mut copied: Vec<Vec<ReferrerCopy>> = Vec::new();
    for (n, p) in planned.iter().enumerate() {
        let src_repo = repo_ref(&p.item.source);
        let mut scopes = vec![Scope::push(&p.dst.repository)];
        if src_repo.registry == p.dst.registry {
            scopes.push(Scope::pull(&src_repo.repository));
        }
        client.authorize(&p.dst.registry, &scopes).await?;
        log.line(&format!(
            "[{}/{}] copying {} to {}",
            n + 1,
            planned.len(),
            p.item.source,
            p.dst.name()
        ));
        let step = async {
            crate::copy::copy(client, &p.item.source, &p.dst, &[], false, opts.jobs, log).await?;
            copy_referrers(client, &src_repo, &p.dst, &p.fetched, opts.jobs, log).await
        };
        match step.await {
            Ok(r) => copied.push(r),
            Err(e) => {
                return Err(Error::Image(format!(
                    "copying {} to {} failed, so no release tag moved ({} of {} images were copied, untagged): {e}",
                    p.item.source,
                    p.dst.name(),
                    n,
                    planned.len()
                )));
            }
        }
    }
    // 3. Audit records (before the tags: the tag is always last), then the tags.
    let mut audit_records = Vec::new();
    let mut audit_signatures = Vec::new();
    if let Some(ctx) = &opts.audit {
        for p in &planned {
            let mut fields = serde_json::json!({
                "from": p.item.source.to_string(),
                "to": format!("{}@{}", p.dst.name(), p.fetched.digest),
                "tags": p.tags,
                "scan_reports": p.reports,
                "context": ctx,
            });
            if let Some(v) = &p.verification {
                fields["verified"] =
                    serde_json::json!(v.checks.iter().map(|c| c.rule.as_str()).collect::<Vec<_>>());
            }
            let attached = crate::audit::attach(
                client,
                &p.dst.with_digest(&p.fetched.digest),
                "promotion",
                fields,
                opts.signer,
            )
            .await
            .map_err(|e| Error::Image(format!("{e} (no release tag moved)")))?;
            audit_records.push(attached.record);
            audit_signatures.extend(attached.signature);
        }
    }
    let mut tags_moved = Vec::new();
    for p in &planned {
        for t in &p.tags {
            if let Err(source) = client
                .put_manifest(&p.dst, t, p.fetched.bytes.clone(), &p.fetched.media_type)
                .await
            {
                return Err(Error::Image(format!(
                    "setting {}:{t} failed after these release tags moved: [{}]: {}",
                    p.dst.name(),
                    tags_moved.join(", "),
                    crate::error::Error::registry("tag", source)
                )));
            }
            log.line(&format!(
                "  tagged {}:{t} -> {}",
                p.dst.name(),
                short(&p.fetched.digest)
            ));
            tags_moved.push(format!("{}:{t}", p.dst.name()));
        }
    }
    let images = planned
        .into_iter()
        .zip(copied)
        .map(|(p, referrers)| Promoted {
            source: p.item.source.to_string(),
            destination: p.dst.name(),
            digest: p.fetched.digest.clone(),
            tags: p.tags,
            referrers,
            reports: p.reports,
            verification: p.verification,
        })
        .collect();
    Ok(PromoteReport {
        images,
        tags_moved,
        audit_records,
        audit_signatures,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moving_tags_come_from_the_dated_ones() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            release_tags(&s(&["1.22-debian-20261207", "1.22-debian-sha-3080d9c"])),
            s(&[
                "1.22-debian-20261207",
                "1.22-debian",
                "1.22-debian-sha-3080d9c"
            ])
        );
        assert_eq!(
            release_tags(&s(&["12-20261207-arm64"])),
            s(&["12-20261207-arm64", "12-arm64"])
        );
        assert_eq!(
            release_tags(&s(&[
                "sha256-4b50eb66f977b4062683ff434ef18ac191da862dbe966961bc11990cf5791a8d"
            ])),
            Vec::<String>::new()
        );
    }

    #[test]
    fn items_are_by_digest() {
        let d = format!("sha256:{}", "a".repeat(64));
        let i = parse_item(&format!("r.io/golden/nginx@{d}=1.22-debian,1.22")).unwrap();
        assert_eq!(i.tags.unwrap(), ["1.22-debian", "1.22"]);
        assert!(
            parse_item(&format!("r.io/golden/nginx@{d}"))
                .unwrap()
                .tags
                .is_none()
        );
        let e = parse_item("r.io/golden/nginx:1.22")
            .unwrap_err()
            .to_string();
        assert!(e.contains("by digest"), "{e}");
        assert!(parse_item(&format!("r.io/golden/nginx@{d}=")).is_err());
        assert!(parse_item(&format!("r.io/golden/nginx@{d}=bad tag")).is_err());
    }
}
