//! `golden-push sync SRC_REPO... --to DEST`: what the destination lacks, copied (replication
//! for disaster recovery). For every tag of every source repository: the destination tag
//! already at the same digest is left alone; otherwise the image (or index) is copied by digest
//! with its referrers, then the tag is set. Referrers added at the source since the last run
//! (a new signature, a new report) are copied even when the tag is up to date. A second run
//! with nothing new copies nothing and says so. Each digest copied gets a `replication` audit
//! record at the destination (`--no-audit` to skip).

use std::collections::BTreeMap;

use golden_oci::Reference;
use golden_registry::{Client, Scope, referrers_fallback_tag};
use serde::Serialize;

use crate::Log;
use crate::copy::{ReferrerCopy, copy_referrers};
use crate::error::{Error, Result};
use crate::report::short;
use crate::tags::repo_ref;

/// One tag's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct SyncedTag {
    pub source: String,
    pub destination: String,
    pub tag: String,
    pub digest: String,
    /// `copied` (the destination lacked the digest), `tagged` (it had the digest, not the
    /// tag), `up to date`, or `would copy` / `would tag` with `--dry-run`.
    pub action: String,
    /// Referrers copied for this digest in this run.
    pub referrers_copied: usize,
}

/// Result of `sync`.
#[derive(Debug, Clone, Serialize, Default)]
pub struct SyncReport {
    pub tags: Vec<SyncedTag>,
    pub copied: usize,
    pub tagged: usize,
    pub up_to_date: usize,
    pub referrers_copied: usize,
    pub dry_run: bool,
    /// Source repositories that do not exist (nothing to copy).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub absent: Vec<String>,
    /// The `replication` audit records attached (and their signatures).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub audit_records: Vec<crate::audit::Attached>,
}

impl SyncReport {
    /// Nothing was (or would be) copied or tagged.
    pub fn in_sync(&self) -> bool {
        self.copied == 0 && self.tagged == 0 && self.referrers_copied == 0
    }
}

/// The destination repository of `src` under `dest` (`REGISTRY[/PREFIX]`): the same
/// repository path — without `strip` (a leading path, e.g. the staging namespace) when given —
/// under PREFIX when one is given.
pub fn destination_of(src: &Reference, dest: &str, strip: Option<&str>) -> Result<Reference> {
    let dest = dest.trim().trim_end_matches('/');
    let (registry, prefix) = match dest.split_once('/') {
        Some((r, p)) => (r, p),
        None => (dest, ""),
    };
    if registry.is_empty() {
        return Err(Error::Usage(format!(
            "--to `{dest}` names no registry (give REGISTRY or REGISTRY/PREFIX)"
        )));
    }
    let path = match strip
        .map(|p| p.trim().trim_matches('/'))
        .filter(|p| !p.is_empty())
    {
        None => src.repository.as_str(),
        Some(p) => src
            .repository
            .strip_prefix(p)
            .and_then(|rest| rest.strip_prefix('/'))
            .filter(|rest| !rest.is_empty())
            .ok_or_else(|| {
                Error::Usage(format!(
                    "`{}` does not start with the path `{p}/` to strip (--strip-prefix)",
                    src.name()
                ))
            })?,
    };
    let repository = if prefix.is_empty() {
        path.to_string()
    } else {
        format!("{prefix}/{path}")
    };
    let r = Reference::parse(&format!("{registry}/{repository}")).map_err(Error::reference(
        format!(
            "--to `{dest}` with `{}` is not a repository",
            src.repository
        ),
    ))?;
    if r.tag.is_some() || r.digest.is_some() {
        return Err(Error::Usage(format!(
            "--to `{dest}` must name a registry (and a path prefix), not a tag or digest"
        )));
    }
    Ok(r)
}

/// True for the referrers tag schema's tags (`sha256-<64 hex>`): indexes of referrers, not
/// images; `sync` recreates them at the destination by linking each referrer it copies.
pub fn is_referrers_tag(tag: &str) -> bool {
    tag.strip_prefix("sha256-")
        .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        && referrers_fallback_tag(&tag.replacen('-', ":", 1)) == tag
}

/// Where and how [`sync`] copies.
pub struct SyncOptions<'a> {
    /// `REGISTRY[/PREFIX]`.
    pub dest: &'a str,
    /// A leading repository path dropped at the destination.
    pub strip: Option<&'a str>,
    pub dry_run: bool,
    /// Attach a `replication` audit record to each digest copied.
    pub audit: bool,
    /// Signs the audit records.
    pub signer: Option<&'a crate::sign::Signer>,
    pub jobs: usize,
}

/// Sync every tag of every repository in `sources` to `opts.dest`.
pub async fn sync(
    client: &Client,
    sources: &[Reference],
    opts: &SyncOptions<'_>,
    log: &Log,
) -> Result<SyncReport> {
    if sources.is_empty() {
        return Err(Error::Usage(
            "give at least one source repository (REGISTRY/REPOSITORY)".into(),
        ));
    }
    let (dest, strip, dry_run, audit, jobs) =
        (opts.dest, opts.strip, opts.dry_run, opts.audit, opts.jobs);
    let mut report = SyncReport {
        dry_run,
        ..SyncReport::default()
    };
    for src in sources {
        if src.tag.is_some() || src.digest.is_some() {
            return Err(Error::Usage(format!(
                "source `{src}` names a tag or digest: give the repository (every tag is synced)"
            )));
        }
        let dst = destination_of(src, dest, strip)?;
        client
            .authorize(&src.registry, &[Scope::pull(&src.repository)])
            .await?;
        if !dry_run {
            let mut scopes = vec![Scope::push(&dst.repository)];
            if src.registry == dst.registry {
                scopes.push(Scope::pull(&src.repository));
            }
            client.authorize(&dst.registry, &scopes).await?;
        }
        let mut tags = match client.list_tags(src).await {
            Ok(t) => t,
            // A catalog image never promoted has no release repository yet: nothing to copy.
            Err(golden_registry::RegistryError::NameUnknown { .. }) => {
                log.line(&format!(
                    "{}: no such repository at the source, nothing to copy",
                    src.name()
                ));
                report.absent.push(src.name());
                continue;
            }
            Err(e) => {
                return Err(Error::registry(
                    format!("failed to list the tags of {}", src.name()),
                    e,
                ));
            }
        };
        tags.retain(|t| !is_referrers_tag(t));
        tags.sort();
        log.line(&format!(
            "{} -> {}: {} tag(s)",
            src.name(),
            dst.name(),
            tags.len()
        ));
        // Each digest is copied (and its referrers checked) once per repository.
        let mut digests_done: BTreeMap<String, usize> = BTreeMap::new();
        for tag in tags {
            let src_tag = src.with_tag(&tag);
            let fetched = client
                .get_manifest(&src_tag)
                .await
                .map_err(Error::registry_at(format!("failed to read {src_tag}")))?;
            let at_dst = client
                .head_manifest(&dst.with_tag(&tag))
                .await
                .map_err(Error::registry_at(format!(
                    "failed to check {}:{tag}",
                    dst.name()
                )))?
                .map(|d| d.digest);
            let has_digest = at_dst.as_deref() == Some(fetched.digest.as_str())
                || client
                    .head_manifest(&dst.with_digest(&fetched.digest))
                    .await
                    .map_err(Error::registry_at(format!(
                        "failed to check {}@{}",
                        dst.name(),
                        fetched.digest
                    )))?
                    .is_some();
            let tag_ok = at_dst.as_deref() == Some(fetched.digest.as_str());
            let mut action = match (has_digest, tag_ok) {
                (_, true) => "up to date",
                (true, false) => "tagged",
                (false, false) => "copied",
            }
            .to_string();
            let mut referrers_copied = 0;
            if dry_run {
                if action != "up to date" {
                    action = format!("would {}", if has_digest { "tag" } else { "copy" });
                }
            } else {
                if !has_digest {
                    crate::copy::copy(
                        client,
                        &src.with_digest(&fetched.digest),
                        &dst,
                        &[],
                        false,
                        jobs,
                        log,
                    )
                    .await?;
                    if audit {
                        let attached = crate::audit::attach(
                            client,
                            &dst.with_digest(&fetched.digest),
                            "replication",
                            serde_json::json!({
                                "from": format!("{}@{}", src.name(), fetched.digest),
                                "to": format!("{}@{}", dst.name(), fetched.digest),
                            }),
                            opts.signer,
                        )
                        .await?;
                        report.audit_records.push(attached);
                    }
                }
                if !digests_done.contains_key(&fetched.digest) {
                    let carried: Vec<ReferrerCopy> =
                        copy_referrers(client, &repo_ref(src), &dst, &fetched, jobs, log).await?;
                    let n = carried.iter().filter(|r| r.action == "copied").count();
                    digests_done.insert(fetched.digest.clone(), n);
                    referrers_copied = n;
                }
                if !tag_ok {
                    client
                        .put_manifest(&dst, &tag, fetched.bytes.clone(), &fetched.media_type)
                        .await
                        .map_err(Error::registry_at(format!(
                            "failed to tag {}:{tag}",
                            dst.name()
                        )))?;
                }
            }
            match action.as_str() {
                "copied" | "would copy" => report.copied += 1,
                "tagged" | "would tag" => report.tagged += 1,
                _ => report.up_to_date += 1,
            }
            report.referrers_copied += referrers_copied;
            log.line(&format!(
                "  {tag:<40} {}  {action}{}",
                short(&fetched.digest),
                if referrers_copied > 0 {
                    format!(" (+{referrers_copied} referrer(s))")
                } else {
                    String::new()
                }
            ));
            report.tags.push(SyncedTag {
                source: src.name(),
                destination: dst.name(),
                tag,
                digest: fetched.digest.clone(),
                action,
                referrers_copied,
            });
        }
    }
    Ok(report)
}

/// The table `sync` prints (text format).
pub fn render_table(r: &SyncReport) -> String {
    let mut out = String::new();
    let w = r
        .tags
        .iter()
        .map(|t| t.destination.len() + t.tag.len() + 1)
        .max()
        .unwrap_or(0)
        .max(11);
    out.push_str(&format!(
        "{:<w$}  {:<19}  {}\n",
        "DESTINATION", "DIGEST", "ACTION"
    ));
    for t in &r.tags {
        let name = format!("{}:{}", t.destination, t.tag);
        let extra = if t.referrers_copied > 0 {
            format!(", {} referrer(s) copied", t.referrers_copied)
        } else {
            String::new()
        };
        out.push_str(&format!(
            "{:<w$}  {:<19}  {}{extra}\n",
            golden_gha::neutralize(&name),
            short(&t.digest),
            t.action
        ));
    }
    for a in &r.absent {
        out.push_str(&format!(
            "{}: absent at the source, nothing to copy\n",
            golden_gha::neutralize(a)
        ));
    }
    if r.in_sync() {
        out.push_str(&format!(
            "in sync: {} tag(s) already at the destination, nothing copied\n",
            r.up_to_date
        ));
    } else {
        out.push_str(&format!(
            "{}{} copied, {} tagged, {} up to date, {} referrer(s) copied\n",
            if r.dry_run { "dry run: " } else { "" },
            r.copied,
            r.tagged,
            r.up_to_date,
            r.referrers_copied
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> Reference {
        Reference::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn destination_keeps_the_path_under_an_optional_prefix() {
        let src = r("primary.azurecr.io/golden/nginx");
        assert_eq!(
            destination_of(&src, "dr.azurecr.io", None).unwrap().name(),
            "dr.azurecr.io/golden/nginx"
        );
        assert_eq!(
            destination_of(&src, "dr.azurecr.io/mirror/", None)
                .unwrap()
                .name(),
            "dr.azurecr.io/mirror/golden/nginx"
        );
        let staged = r("acr.io/golden-staging/nginx");
        assert_eq!(
            destination_of(&staged, "acr.io/golden", Some("golden-staging"))
                .unwrap()
                .name(),
            "acr.io/golden/nginx"
        );
        let e = destination_of(&src, "acr.io/golden", Some("golden-staging")).unwrap_err();
        assert!(e.to_string().contains("to strip"), "{e}");
        assert!(destination_of(&src, "", None).is_err());
        assert!(destination_of(&src, "/x", None).is_err());
    }

    #[test]
    fn referrers_tags_are_recognised() {
        let d = "sha256-4b50eb66f977b4062683ff434ef18ac191da862dbe966961bc11990cf5791a8d";
        assert!(is_referrers_tag(d));
        assert!(!is_referrers_tag("sha256-4b50"));
        assert!(!is_referrers_tag("1.22-debian-sha-4b50eb6"));
        assert!(!is_referrers_tag(
            "sha256-zz50eb66f977b4062683ff434ef18ac191da862dbe966961bc11990cf5791a8d"
        ));
    }

    #[test]
    fn table_says_in_sync_when_nothing_moved() {
        let rep = SyncReport {
            tags: vec![SyncedTag {
                source: "a/x".into(),
                destination: "b/x".into(),
                tag: "1".into(),
                digest: format!("sha256:{}", "a".repeat(64)),
                action: "up to date".into(),
                referrers_copied: 0,
            }],
            up_to_date: 1,
            ..SyncReport::default()
        };
        let t = render_table(&rep);
        assert!(t.contains("in sync: 1 tag(s)"), "{t}");
        let mut moved = rep.clone();
        moved.copied = 1;
        moved.tags[0].action = "copied".into();
        assert!(render_table(&moved).contains("1 copied, 0 tagged"));
    }
}
