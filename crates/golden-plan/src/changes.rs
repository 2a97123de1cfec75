//! Change detection: which entries a set of changed files affects, and why.
//!
//! Rules (see README):
//! - a base's folder (beside its Dockerfile), its hardening script or its extra `files` →
//!   that base and every platform on it;
//! - a platform's folder (beside its Dockerfile) or its `files` → that platform on every base;
//! - a policy file → every entry scanned with it;
//! - `shared_paths` (globs) → everything;
//! - the config file itself → only the entries whose expanded form changed (old vs new model);
//! - anything else changes nothing.

use std::collections::BTreeMap;

use globset::{GlobBuilder, GlobSetBuilder};
use golden_contracts::plan::{PlanEntry, StageKind};

use crate::config::Catalog;

pub type Reasons = BTreeMap<String, Vec<String>>;

fn dir_of(path: &str) -> Option<&str> {
    path.rsplit_once('/')
        .map(|(d, _)| d)
        .filter(|d| !d.is_empty())
}

fn under(file: &str, dir: &str) -> bool {
    file.strip_prefix(dir)
        .is_some_and(|rest| rest.starts_with('/'))
}

fn push(reasons: &mut Reasons, id: &str, why: String) {
    let v = reasons.entry(id.to_string()).or_default();
    if !v.contains(&why) {
        v.push(why);
    }
}

/// Normalise a path from `git diff --name-only` or a changed-files list.
pub fn normalize(path: &str) -> Option<String> {
    let p = path.trim().trim_start_matches("./");
    (!p.is_empty()).then(|| p.to_string())
}

/// Apply the file rules to `changed` (repository-relative paths).
pub fn file_reasons(
    c: &Catalog,
    entries: &[PlanEntry],
    changed: &[String],
) -> Result<Reasons, globset::Error> {
    let mut reasons = Reasons::new();
    let mut gs = GlobSetBuilder::new();
    for g in &c.shared_paths {
        gs.add(GlobBuilder::new(g).literal_separator(true).build()?);
    }
    let shared = gs.build()?;

    for f in changed {
        if shared.is_match(f) {
            for e in entries {
                push(&mut reasons, &e.id, format!("shared file {f} changed"));
            }
            continue;
        }
        for b in &c.bases {
            let hit = f == &b.dockerfile
                || dir_of(&b.dockerfile).is_some_and(|d| under(f, d))
                || f == &b.harden_script
                || b.files.iter().any(|x| x == f);
            if hit {
                for e in entries.iter().filter(|e| e.os == b.os) {
                    let why = if e.stage == StageKind::Base {
                        format!("{f} changed")
                    } else {
                        format!("base base-{} affected by {f}", b.os)
                    };
                    push(&mut reasons, &e.id, why);
                }
            }
        }
        for p in &c.platforms {
            let mut dockerfiles: Vec<&str> = vec![&p.dockerfile];
            dockerfiles.extend(p.versions.iter().map(|v| v.dockerfile.as_str()));
            let hit = dockerfiles
                .iter()
                .any(|df| f == df || dir_of(df).is_some_and(|d| under(f, d)))
                || p.files.iter().any(|x| x == f);
            if hit {
                for e in entries
                    .iter()
                    .filter(|e| e.stage == StageKind::Platform && e.platform == p.name)
                {
                    push(&mut reasons, &e.id, format!("{f} changed"));
                }
            }
        }
        for e in entries.iter().filter(|e| &e.policy == f) {
            push(&mut reasons, &e.id, format!("policy {f} changed"));
        }
    }
    Ok(reasons)
}

/// Compare the entries of the old and the new config: new or changed entries get a reason
/// naming the fields that changed.
pub fn config_reasons(config_path: &str, old: Option<&[PlanEntry]>, new: &[PlanEntry]) -> Reasons {
    let mut reasons = Reasons::new();
    let Some(old) = old else {
        for e in new {
            push(&mut reasons, &e.id, format!("{config_path} is new"));
        }
        return reasons;
    };
    let old_by_id: BTreeMap<&str, &PlanEntry> = old.iter().map(|e| (e.id.as_str(), e)).collect();
    for e in new {
        match old_by_id.get(e.id.as_str()) {
            None => push(&mut reasons, &e.id, format!("added in {config_path}")),
            Some(o) => {
                let a = serde_json::to_value(o).unwrap_or_default();
                let b = serde_json::to_value(e).unwrap_or_default();
                let mut fields: Vec<String> = Vec::new();
                if let (Some(a), Some(b)) = (a.as_object(), b.as_object()) {
                    for (k, v) in b {
                        if k == "reasons" {
                            continue;
                        }
                        if a.get(k) != Some(v) {
                            fields.push(k.clone());
                        }
                    }
                    for k in a.keys() {
                        if !b.contains_key(k) {
                            fields.push(k.clone());
                        }
                    }
                }
                if !fields.is_empty() {
                    push(
                        &mut reasons,
                        &e.id,
                        format!("{config_path} changed ({})", fields.join(", ")),
                    );
                }
            }
        }
    }
    reasons
}

/// A base that is rebuilt makes every platform on it rebuild too.
pub fn propagate_bases(entries: &[PlanEntry], reasons: &mut Reasons) {
    let rebuilt: Vec<String> = entries
        .iter()
        .filter(|e| e.stage == StageKind::Base && reasons.contains_key(&e.id))
        .map(|e| e.id.clone())
        .collect();
    for e in entries.iter().filter(|e| e.stage == StageKind::Platform) {
        if let Some(b) = &e.base
            && rebuilt.contains(b)
        {
            push(reasons, &e.id, format!("base {b} is rebuilt"));
        }
    }
}
