//! `golden-push purge REPO --keep N --older-than DAYS [--dry-run]`: retention for staging.
//!
//! Only the toolkit's per-run tags are candidates: dated tags (a `-YYYYMMDD` part, e.g.
//! `1.22-debian-20261207`, `12-20261207-arm64`) and commit tags (a `sha-<hex>` part). Every
//! other tag (`1.22-debian`, `latest`, a release tag) is a *release tag*: never removed, and
//! neither is anything it reaches. Candidates are grouped by family (the tag with its date or
//! commit part blanked: `1.22-debian-*-arm64`); in each family the `--keep` newest are kept,
//! and so is every tag younger than `--older-than` days.
//!
//! Invariant (property-tested): a digest is deleted only when no kept tag points at it and no
//! kept index (reached from a kept tag) lists it. Registries delete manifests by digest (every
//! tag on it goes too), so a candidate sharing its digest with a kept tag stays, and says why.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use golden_oci::Reference;
use golden_registry::{Client, ParsedManifest, Scope};
use serde::Serialize;

use crate::Log;
use crate::error::{Error, Result};
use crate::report::short;
use crate::sync::is_referrers_tag;

/// What a tag is, for retention.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TagKind {
    /// Never a candidate.
    Release,
    /// A `-YYYYMMDD` part.
    Dated,
    /// A `sha-<hex>` part.
    Commit,
}

/// Classify `tag`; the family is the tag with its date/commit part replaced by `*`.
pub fn classify(tag: &str) -> (TagKind, String, Option<NaiveDate>) {
    let parts: Vec<&str> = tag.split('-').collect();
    for (i, p) in parts.iter().enumerate() {
        if p.len() == 8
            && p.bytes().all(|b| b.is_ascii_digit())
            && let Ok(d) = NaiveDate::parse_from_str(p, "%Y%m%d")
        {
            let mut f = parts.clone();
            f[i] = "*";
            return (TagKind::Dated, f.join("-"), Some(d));
        }
        if *p == "sha"
            && let Some(h) = parts.get(i + 1)
            && (7..=40).contains(&h.len())
            && h.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        {
            let mut f: Vec<&str> = parts.clone();
            f[i] = "sha";
            f[i + 1] = "*";
            return (TagKind::Commit, f.join("-"), None);
        }
    }
    (TagKind::Release, tag.to_string(), None)
}

/// One tag as the planner sees it.
#[derive(Debug, Clone)]
pub struct TagInfo {
    pub tag: String,
    pub digest: String,
    /// When the image was made: the tag's date, else the image's `created`.
    pub created: Option<DateTime<Utc>>,
}

/// The planner's decision for one tag.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Decision {
    pub tag: String,
    pub digest: String,
    pub kind: TagKind,
    pub family: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    pub delete: bool,
    /// Why: `release tag`, `newest N of FAMILY`, `younger than D days`, `digest also tagged
    /// T`, `listed by kept index X`, `age unknown`, or `older than D days, beyond the newest N`.
    pub reason: String,
}

/// The retention plan: one decision per tag, and the digests to delete.
#[derive(Debug, Clone, Serialize, Default)]
pub struct PurgePlan {
    pub decisions: Vec<Decision>,
    pub delete_digests: Vec<String>,
}

/// Decide what to delete. `children` maps an index digest to the manifests it lists; `now`
/// and `older_than_days` define "old". Pure: the property tests drive it with random sets.
pub fn plan(
    tags: &[TagInfo],
    children: &BTreeMap<String, Vec<String>>,
    keep: usize,
    older_than_days: u32,
    now: DateTime<Utc>,
) -> PurgePlan {
    let cutoff = now - chrono::Duration::days(i64::from(older_than_days));
    // 1. Per tag: kind and family; newest first within a family (unknown age last).
    let classified: Vec<(usize, TagKind, String)> = tags
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let (k, f, _) = classify(&t.tag);
            (i, k, f)
        })
        .collect();
    let mut families: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, k, f) in &classified {
        if *k != TagKind::Release {
            families.entry(f.as_str()).or_default().push(*i);
        }
    }
    let mut reason: BTreeMap<usize, String> = BTreeMap::new();
    for (family, members) in &mut families {
        members.sort_by(|a, b| {
            tags[*b]
                .created
                .cmp(&tags[*a].created)
                .then_with(|| tags[*b].tag.cmp(&tags[*a].tag))
        });
        for (rank, i) in members.iter().enumerate() {
            let t = &tags[*i];
            let r = if rank < keep {
                format!("newest {keep} of {family}")
            } else {
                match t.created {
                    None => "age unknown".to_string(),
                    Some(c) if c > cutoff => format!("younger than {older_than_days} days"),
                    Some(_) => String::new(),
                }
            };
            reason.insert(*i, r);
        }
    }
    // 2. Kept tags protect their digests and everything a kept index reaches.
    let mut protected: BTreeMap<String, String> = BTreeMap::new();
    let mut stack: Vec<(String, String)> = Vec::new();
    for (i, k, _) in &classified {
        let keep_it = *k == TagKind::Release || reason.get(i).is_some_and(|r| !r.is_empty());
        if keep_it {
            stack.push((
                tags[*i].digest.clone(),
                format!("digest also tagged {}", tags[*i].tag),
            ));
        }
    }
    while let Some((digest, why)) = stack.pop() {
        if protected.contains_key(&digest) {
            continue;
        }
        if let Some(kids) = children.get(&digest) {
            for c in kids {
                stack.push((
                    c.clone(),
                    format!("listed by kept index {}", short(&digest)),
                ));
            }
        }
        protected.insert(digest, why);
    }
    // 3. Decisions.
    let mut out = PurgePlan::default();
    let mut delete: BTreeSet<String> = BTreeSet::new();
    for (i, k, f) in classified {
        let t = &tags[i];
        let (del, why) = if k == TagKind::Release {
            (false, "release tag".to_string())
        } else {
            match reason.get(&i).map(String::as_str) {
                Some(r) if !r.is_empty() => (false, r.to_string()),
                _ => match protected.get(&t.digest) {
                    Some(p) => (false, p.clone()),
                    None => (
                        true,
                        format!("older than {older_than_days} days, beyond the newest {keep}"),
                    ),
                },
            }
        };
        if del {
            delete.insert(t.digest.clone());
        }
        out.decisions.push(Decision {
            tag: t.tag.clone(),
            digest: t.digest.clone(),
            kind: k,
            family: f,
            created: t.created.map(|c| c.to_rfc3339()),
            delete: del,
            reason: why,
        });
    }
    out.delete_digests = delete.into_iter().collect();
    out
}

/// Result of `purge`.
#[derive(Debug, Clone, Serialize)]
pub struct PurgeReport {
    pub repository: String,
    pub dry_run: bool,
    pub keep: usize,
    pub older_than_days: u32,
    pub plan: PurgePlan,
    /// Digests deleted (empty with `--dry-run`).
    pub deleted: Vec<String>,
}

/// When the image was made: the date in the tag, else the image config's `created` (an index:
/// its newest child's).
async fn created_of(
    client: &Client,
    repo: &Reference,
    digest: &str,
    children: &BTreeMap<String, Vec<String>>,
    configs: &mut BTreeMap<String, Option<DateTime<Utc>>>,
) -> Result<Option<DateTime<Utc>>> {
    let manifests: Vec<String> = match children.get(digest) {
        Some(kids) => kids.clone(),
        None => vec![digest.to_string()],
    };
    let mut newest = None;
    for m in manifests {
        if let Some(c) = configs.get(&m) {
            newest = newest.max(*c);
            continue;
        }
        let fetched = client.get_manifest(&repo.with_digest(&m)).await?;
        let created = match fetched.parse()? {
            ParsedManifest::Image(img) => {
                let bytes = client
                    .get_blob_bytes(repo, &img.config.digest, 16 << 20)
                    .await?;
                serde_json::from_slice::<serde_json::Value>(&bytes)
                    .ok()
                    .and_then(|v| v.get("created").and_then(|c| c.as_str()).map(String::from))
                    .and_then(|c| DateTime::parse_from_rfc3339(&c).ok())
                    .map(|d| d.with_timezone(&Utc))
            }
            ParsedManifest::Index(_) => None,
        };
        configs.insert(m, created);
        newest = newest.max(created);
    }
    Ok(newest)
}

/// Read the repository, plan, and (without `dry_run`) delete.
pub async fn purge(
    client: &Client,
    repo: &Reference,
    keep: usize,
    older_than_days: u32,
    dry_run: bool,
    log: &Log,
) -> Result<PurgeReport> {
    if repo.tag.is_some() || repo.digest.is_some() {
        return Err(Error::Usage(format!(
            "REPO `{repo}` names a tag or digest: give the repository (REGISTRY/REPOSITORY)"
        )));
    }
    let scope = if dry_run {
        Scope::pull(&repo.repository)
    } else {
        Scope::delete(&repo.repository)
    };
    client.authorize(&repo.registry, &[scope]).await?;
    let mut names = match client.list_tags(repo).await {
        Ok(n) => n,
        Err(golden_registry::RegistryError::NameUnknown { .. }) => {
            log.line(&format!(
                "{}: no such repository, nothing to purge",
                repo.name()
            ));
            Vec::new()
        }
        Err(e) => {
            return Err(Error::registry(
                format!("failed to list the tags of {}", repo.name()),
                e,
            ));
        }
    };
    names.retain(|t| !is_referrers_tag(t));
    names.sort();
    let mut digests: BTreeMap<String, String> = BTreeMap::new();
    let mut children: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for t in &names {
        let fetched = client
            .get_manifest(&repo.with_tag(t))
            .await
            .map_err(Error::registry_at(format!(
                "failed to read {}:{t}",
                repo.name()
            )))?;
        if let ParsedManifest::Index(i) = fetched.parse()? {
            children.insert(
                fetched.digest.clone(),
                i.manifests.iter().map(|d| d.digest.clone()).collect(),
            );
        }
        digests.insert(t.clone(), fetched.digest);
    }
    let mut configs = BTreeMap::new();
    let mut infos = Vec::new();
    for t in &names {
        let digest = digests[t].clone();
        let created = match classify(t).2 {
            Some(d) => d.and_hms_opt(0, 0, 0).map(|x| x.and_utc()),
            None => created_of(client, repo, &digest, &children, &mut configs)
                .await
                .map_err(|e| {
                    Error::Image(format!(
                        "failed to read when {}:{t} was made: {e}",
                        repo.name()
                    ))
                })?,
        };
        infos.push(TagInfo {
            tag: t.clone(),
            digest,
            created,
        });
    }
    let plan = plan(&infos, &children, keep, older_than_days, Utc::now());
    let mut deleted = Vec::new();
    if !dry_run {
        for d in &plan.delete_digests {
            // Its referrers first (their subject is going), then the referrers tag, then it.
            let refs = client
                .referrers(&repo.with_digest(d), None)
                .await
                .unwrap_or_default();
            for r in refs {
                client
                    .delete_manifest(&repo.with_digest(&r.digest))
                    .await
                    .map_err(Error::registry_at(format!(
                        "failed to delete the referrer {} of {d}",
                        r.digest
                    )))?;
            }
            let fallback = golden_registry::referrers_fallback_tag(d);
            if let Some(idx) = client.head_manifest(&repo.with_tag(&fallback)).await? {
                client
                    .delete_manifest(&repo.with_digest(&idx.digest))
                    .await
                    .map_err(Error::registry_at(format!(
                        "failed to delete the referrers tag {fallback}"
                    )))?;
            }
            client
                .delete_manifest(&repo.with_digest(d))
                .await
                .map_err(Error::registry_at(format!(
                    "failed to delete {}@{d}",
                    repo.name()
                )))?;
            log.line(&format!("  deleted {}@{}", repo.name(), short(d)));
            deleted.push(d.clone());
        }
    }
    Ok(PurgeReport {
        repository: repo.name(),
        dry_run,
        keep,
        older_than_days,
        plan,
        deleted,
    })
}

/// The table `purge` prints.
pub fn render_table(r: &PurgeReport) -> String {
    let w = r
        .plan
        .decisions
        .iter()
        .map(|d| d.tag.len())
        .max()
        .unwrap_or(3)
        .max(3);
    let mut out = format!(
        "{:<w$}  {:<19}  {:<10}  ACTION\n",
        "TAG", "DIGEST", "CREATED"
    );
    for d in &r.plan.decisions {
        let action = match (d.delete, r.dry_run) {
            (true, true) => "would delete".to_string(),
            (true, false) => "deleted".to_string(),
            (false, _) => "keep".to_string(),
        };
        out.push_str(&format!(
            "{:<w$}  {:<19}  {:<10}  {action} ({})\n",
            golden_gha::neutralize(&d.tag),
            short(&d.digest),
            d.created
                .as_deref()
                .map_or("-", |c| c.get(..10).unwrap_or(c)),
            d.reason
        ));
    }
    let n = r.plan.decisions.iter().filter(|d| d.delete).count();
    out.push_str(&format!(
        "{}{} of {} tag(s) ({} digest(s)) {} in {}\n",
        if r.dry_run { "dry run: " } else { "" },
        n,
        r.plan.decisions.len(),
        r.plan.delete_digests.len(),
        if r.dry_run {
            "would be deleted"
        } else {
            "deleted"
        },
        r.repository
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-07T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn tags_are_classified_by_their_date_or_commit_part() {
        assert_eq!(classify("1.22-debian").0, TagKind::Release);
        assert_eq!(classify("latest").0, TagKind::Release);
        let (k, f, d) = classify("1.22-debian-20261207");
        assert_eq!((k, f.as_str()), (TagKind::Dated, "1.22-debian-*"));
        assert_eq!(d, NaiveDate::from_ymd_opt(2026, 12, 7));
        let (k, f, _) = classify("12-20261207-arm64");
        assert_eq!((k, f.as_str()), (TagKind::Dated, "12-*-arm64"));
        let (k, f, _) = classify("1.22-debian-sha-3080d9c");
        assert_eq!((k, f.as_str()), (TagKind::Commit, "1.22-debian-sha-*"));
        // Not a date (month 13), not a commit (uppercase, too short).
        assert_eq!(classify("x-20261307").0, TagKind::Release);
        assert_eq!(classify("x-sha-ABCDEF0").0, TagKind::Release);
        assert_eq!(classify("x-sha-abc").0, TagKind::Release);
    }

    fn info(tag: &str, digest: &str) -> TagInfo {
        TagInfo {
            tag: tag.into(),
            digest: digest.into(),
            created: classify(tag)
                .2
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|x| x.and_utc()),
        }
    }

    #[test]
    fn old_dated_tags_go_release_digests_and_the_newest_stay() {
        let tags = vec![
            info("1.22-debian", "sha256:r"),
            info("1.22-debian-20261207", "sha256:r"),
            info("1.22-debian-20261001", "sha256:a"),
            info("1.22-debian-20260901", "sha256:b"),
            info("1.22-debian-20260801", "sha256:c"),
        ];
        let p = plan(&tags, &BTreeMap::new(), 2, 30, now());
        let del: Vec<&str> = p
            .decisions
            .iter()
            .filter(|d| d.delete)
            .map(|d| d.tag.as_str())
            .collect();
        assert_eq!(del, ["1.22-debian-20260901", "1.22-debian-20260801"]);
        assert_eq!(p.delete_digests, ["sha256:b", "sha256:c"]);
        let why = |t: &str| {
            p.decisions
                .iter()
                .find(|d| d.tag == t)
                .unwrap()
                .reason
                .clone()
        };
        assert_eq!(why("1.22-debian"), "release tag");
        assert_eq!(why("1.22-debian-20261001"), "newest 2 of 1.22-debian-*");
    }

    #[test]
    fn a_child_of_a_released_index_is_never_deleted() {
        let tags = vec![
            info("12", "sha256:idx"),
            info("12-20260101-arm64", "sha256:arm"),
            info("12-20251201-arm64", "sha256:arm-old"),
        ];
        let mut children = BTreeMap::new();
        children.insert("sha256:idx".to_string(), vec!["sha256:arm".to_string()]);
        let p = plan(&tags, &children, 0, 30, now());
        let d = |t: &str| p.decisions.iter().find(|d| d.tag == t).unwrap().clone();
        assert!(!d("12-20260101-arm64").delete);
        assert!(
            d("12-20260101-arm64")
                .reason
                .starts_with("listed by kept index")
        );
        assert!(d("12-20251201-arm64").delete);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn purge_never_deletes_a_kept_digest(
            n_digests in 1usize..8,
            spec in proptest::collection::vec((0u8..3, 0u32..400, 0usize..8, 0u8..3), 1..24),
            index_kids in proptest::collection::vec((0usize..8, 0usize..8), 0..6),
            keep in 0usize..4,
            days in 0u32..120,
        ) {
            let digest = |i: usize| format!("sha256:{}", i % n_digests);
            let families = ["1.22-debian", "12", "17-debian"];
            let mut tags = Vec::new();
            let mut names = BTreeSet::new();
            for (kind, age, d, fam) in spec {
                let fam = families[fam as usize];
                let date = (now() - chrono::Duration::days(i64::from(age))).format("%Y%m%d");
                let tag = match kind {
                    0 => fam.to_string(),
                    1 => format!("{fam}-{date}"),
                    _ => format!("{fam}-sha-{:07x}", age * 7919 + d as u32),
                };
                if !names.insert(tag.clone()) { continue; }
                let created = Some(now() - chrono::Duration::days(i64::from(age)));
                tags.push(TagInfo { tag, digest: digest(d), created });
            }
            let mut children: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for (parent, kid) in index_kids {
                if parent % n_digests != kid % n_digests {
                    children.entry(digest(parent)).or_default().push(digest(kid));
                }
            }
            let p = plan(&tags, &children, keep, days, now());
            let deleted: BTreeSet<&String> = p.delete_digests.iter().collect();
            // Every kept tag's digest survives, and so does everything a kept index reaches.
            let mut reach: Vec<String> = p.decisions.iter().filter(|d| !d.delete).map(|d| d.digest.clone()).collect();
            let mut seen = BTreeSet::new();
            while let Some(d) = reach.pop() {
                if !seen.insert(d.clone()) { continue; }
                prop_assert!(!deleted.contains(&d), "kept digest {} deleted: {:?}", d, p);
                if let Some(k) = children.get(&d) { reach.extend(k.iter().cloned()); }
            }
            // Release tags are never deleted; neither is anything younger than the cutoff or
            // among the newest `keep` of its family.
            let cutoff = now() - chrono::Duration::days(i64::from(days));
            for d in &p.decisions {
                if d.delete {
                    prop_assert!(d.kind != TagKind::Release);
                    let t = tags.iter().find(|t| t.tag == d.tag).unwrap();
                    prop_assert!(t.created.is_some_and(|c| c <= cutoff), "{:?}", d);
                    let newer = tags.iter().filter(|o| classify(&o.tag).1 == d.family && classify(&o.tag).0 != TagKind::Release && (o.created, &o.tag) > (t.created, &t.tag)).count();
                    prop_assert!(newer >= keep, "{:?} is among the newest {}", d, keep);
                }
            }
        }
    }
}
