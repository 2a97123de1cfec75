//! The one plan-entry resolver: `GOLDEN_ENTRY` (or `--entry`) means the same thing in
//! golden-build, golden-scan and golden-push.
//!
//! The value is, in this order:
//! 1. a plan entry as JSON (`{...}`, what `toJSON(matrix.entry)` gives);
//! 2. with a plan file (`--plan` / `GOLDEN_PLAN`): an entry id looked up in it;
//! 3. without a plan: the path of a file holding one entry as JSON, when such a file exists;
//! 4. else an entry id alone (no entry: the caller decides whether that is enough).
//!
//! [`PlanEntry::push_tags`] is the one entry → tags rule (first tag the target, the other tags
//! of the same repository added), shared by golden-push and the scripts that call it.

use std::path::{Path, PathBuf};

use crate::Document;
use crate::plan::{Plan, PlanEntry};

#[derive(Debug, thiserror::Error)]
pub enum EntryError {
    #[error(
        "{origin} is not a plan entry: {source} (line {line}, column {column})\n  hint: pass one entry of the plan's JSON as it is (a matrix job's `toJSON(matrix.entry)`), or an entry id with --plan"
    )]
    Json {
        origin: String,
        line: usize,
        column: usize,
        #[source]
        source: serde_json::Error,
    },
    #[error(transparent)]
    Plan(#[from] crate::DocError),
    #[error("plan `{plan}` has no entry `{id}`{suggestion} (entries: {known})")]
    UnknownId {
        plan: PathBuf,
        id: String,
        /// `; did you mean ...?` (may be empty).
        suggestion: String,
        known: String,
    },
    #[error(
        "a plan entry as JSON and a plan file (`{0}`) both given: pass an entry id with the plan, or the entry alone"
    )]
    JsonWithPlan(PathBuf),
    #[error("{0} has a string with a line break or control character")]
    Control(String),
    #[error("plan entry `{id}` has no tags (the first is the push target)")]
    NoTags { id: String },
    #[error("plan entry `{id}`: tag `{tag}` is not REGISTRY/REPOSITORY:TAG")]
    BadTag { id: String, tag: String },
}

/// What an entry value resolved to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub id: String,
    /// `None` when only an id was given (no plan, no JSON, no file).
    pub entry: Option<PlanEntry>,
}

/// Resolve an entry value (see the module docs). `cwd` anchors relative paths. An empty or
/// missing value resolves to `None`.
pub fn resolve(
    plan: Option<&Path>,
    value: Option<&str>,
    cwd: &Path,
) -> Result<Option<Resolved>, EntryError> {
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if value.starts_with('{') {
        if let Some(p) = plan {
            return Err(EntryError::JsonWithPlan(p.to_path_buf()));
        }
        let entry = parse_entry("GOLDEN_ENTRY (--entry)", value)?;
        return Ok(Some(Resolved {
            id: entry.id.clone(),
            entry: Some(entry),
        }));
    }
    if let Some(p) = plan {
        let path = cwd.join(p);
        let plan = Plan::read(&path)?;
        return match plan.entry(value) {
            Some(e) => Ok(Some(Resolved {
                id: e.id.clone(),
                entry: Some(e.clone()),
            })),
            None => {
                let ids: Vec<&str> = plan.entries().map(|e| e.id.as_str()).collect();
                Err(unknown_id(p, value, &ids))
            }
        };
    }
    let file = cwd.join(value);
    if file.is_file() {
        let text = std::fs::read_to_string(&file).map_err(|source| crate::DocError::Read {
            path: file.clone(),
            source,
        })?;
        let entry = parse_entry(&format!("`{}`", file.display()), &text)?;
        return Ok(Some(Resolved {
            id: entry.id.clone(),
            entry: Some(entry),
        }));
    }
    Ok(Some(Resolved {
        id: value.to_string(),
        entry: None,
    }))
}

fn parse_entry(origin: &str, text: &str) -> Result<PlanEntry, EntryError> {
    let err = |source: serde_json::Error| EntryError::Json {
        origin: origin.to_string(),
        line: source.line(),
        column: source.column(),
        source,
    };
    let value: serde_json::Value = serde_json::from_str(text).map_err(err)?;
    // The binaries quote entry values in messages: a line break there would start a line of
    // its own on the log, where the runner reads workflow commands.
    fn control(v: &serde_json::Value) -> bool {
        match v {
            serde_json::Value::String(s) => s.chars().any(char::is_control),
            serde_json::Value::Array(a) => a.iter().any(control),
            serde_json::Value::Object(o) => o
                .iter()
                .any(|(k, v)| k.chars().any(char::is_control) || control(v)),
            _ => false,
        }
    }
    if control(&value) {
        return Err(EntryError::Control(origin.to_string()));
    }
    // Typed errors from a `Value` carry no position: parse the text again for one.
    serde_json::from_value(value).or_else(|_| serde_json::from_str(text).map_err(err))
}

/// The error for an id the plan does not have: near ids as "did you mean", and the ids.
pub fn unknown_id(plan: &Path, id: &str, ids: &[&str]) -> EntryError {
    let mut scored: Vec<(usize, &str)> = ids
        .iter()
        .map(|c| (levenshtein(id, c), *c))
        .filter(|(d, c)| *d <= (id.len() / 4).max(2) || c.contains(id) || id.contains(*c))
        .collect();
    scored.sort();
    let suggestion = match scored.as_slice() {
        [] => String::new(),
        [(_, one)] => format!("; did you mean `{one}`?"),
        many => format!(
            "; did you mean one of {}?",
            many.iter()
                .take(5)
                .map(|(_, c)| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let known = if ids.is_empty() {
        "none: the plan is empty".to_string()
    } else if ids.len() <= 12 {
        ids.join(", ")
    } else {
        format!("{} and {} more", ids[..12].join(", "), ids.len() - 12)
    };
    EntryError::UnknownId {
        plan: plan.to_path_buf(),
        id: id.to_string(),
        suggestion,
        known,
    }
}

/// Edit distance (for "did you mean").
pub fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The repository part of `REGISTRY/REPOSITORY:TAG` (everything before the tag's colon).
fn split_tag(reference: &str) -> Option<(&str, &str)> {
    let (repo, tag) = reference.rsplit_once(':')?;
    (!tag.contains('/') && !tag.is_empty() && !repo.is_empty()).then_some((repo, tag))
}

impl PlanEntry {
    /// The push target (the first tag, `REGISTRY/REPOSITORY:TAG`) and the other tags of the
    /// same repository as tag names. Tags in another repository are not pushed (golden-push
    /// sets tags in one repository).
    pub fn push_tags(&self) -> Result<(String, Vec<String>), EntryError> {
        let first = self.tags.first().ok_or_else(|| EntryError::NoTags {
            id: self.id.clone(),
        })?;
        let (repo, first_tag) = split_tag(first).ok_or_else(|| EntryError::BadTag {
            id: self.id.clone(),
            tag: first.clone(),
        })?;
        let mut rest = Vec::new();
        for t in &self.tags[1..] {
            if let Some((r, tag)) = split_tag(t)
                && r == repo
                && tag != first_tag
                && !rest.iter().any(|x| x == tag)
            {
                rest.push(tag.to_string());
            }
        }
        Ok((first.clone(), rest))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{PLAN_SCHEMA, Stage, StageKind};

    pub(crate) fn entry(id: &str) -> PlanEntry {
        PlanEntry {
            id: id.into(),
            stage: StageKind::Platform,
            os: "debian".into(),
            platform: "nginx".into(),
            name: "nginx".into(),
            version: "1.26".into(),
            dockerfile: "platforms/nginx/Dockerfile".into(),
            context: "platforms/nginx".into(),
            build_args: [("NGINX_VERSION".to_string(), "1.26".to_string())].into(),
            image: "127.0.0.1:5000/golden/nginx".into(),
            tags: vec![
                "127.0.0.1:5000/golden/nginx:1.26".into(),
                "127.0.0.1:5000/golden/nginx:1.26-20260101".into(),
                "127.0.0.1:5000/other/nginx:1.26".into(),
                "127.0.0.1:5000/golden/nginx:1.26".into(),
            ],
            base: None,
            base_image: None,
            published: None,
            base_in_plan: false,
            upstream: None,
            policy: "configs/policy.yaml".into(),
            labels: Default::default(),
            bootstrap: None,
            vendor_repo: None,
            offline: true,
            reasons: vec![],
            cache_from: vec![],
            no_cache: false,
            pull: false,
        }
    }

    fn plan_file(dir: &Path) -> PathBuf {
        let plan = Plan {
            schema: PLAN_SCHEMA,
            event: "local".into(),
            rebuild: "all".into(),
            config: "configs/images.yaml".into(),
            architectures: vec!["amd64".into()],
            bases: Stage::default(),
            platforms: Stage {
                include: vec![entry("nginx-1.26-debian"), entry("python-3.12-debian")],
            },
            skipped: vec![],
        };
        let p = dir.join("plan.json");
        plan.write(&p).unwrap();
        p
    }

    #[test]
    fn every_form_resolves_to_the_same_entry() {
        let dir = std::env::temp_dir().join(format!("golden-entry-{}", std::process::id()));
        let plan = plan_file(&dir);
        let want = entry("nginx-1.26-debian");
        let json = serde_json::to_string(&want).unwrap();
        let by_json = resolve(None, Some(&json), &dir).unwrap().unwrap();
        let by_id = resolve(Some(&plan), Some("nginx-1.26-debian"), &dir)
            .unwrap()
            .unwrap();
        std::fs::write(dir.join("entry.json"), &json).unwrap();
        let by_file = resolve(None, Some("entry.json"), &dir).unwrap().unwrap();
        assert_eq!(by_json.entry.as_ref(), Some(&want));
        assert_eq!(by_id, by_json);
        assert_eq!(by_file, by_json);
        // An id alone stays an id.
        let bare = resolve(None, Some("nginx-1.26-debian"), &dir)
            .unwrap()
            .unwrap();
        assert_eq!(bare.id, "nginx-1.26-debian");
        assert!(bare.entry.is_none());
        assert!(resolve(None, Some("  "), &dir).unwrap().is_none());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn errors_name_the_origin_and_suggest() {
        let dir = std::env::temp_dir().join(format!("golden-entry-e-{}", std::process::id()));
        let plan = plan_file(&dir);
        let e = resolve(Some(&plan), Some("nginx-1.26-debain"), &dir)
            .unwrap_err()
            .to_string();
        assert!(e.contains("did you mean `nginx-1.26-debian`"), "{e}");
        assert!(
            e.contains("(entries: nginx-1.26-debian, python-3.12-debian)"),
            "{e}"
        );
        assert_eq!(levenshtein("debain", "debian"), 2);
        assert!(
            unknown_id(Path::new("p.json"), "zzz", &[])
                .to_string()
                .contains("plan is empty")
        );
        let e = resolve(None, Some("{\"id\": 1}"), &dir)
            .unwrap_err()
            .to_string();
        assert!(e.contains("GOLDEN_ENTRY") && e.contains("line 1"), "{e}");
        let mut bad = entry("x");
        bad.version = "1\n::warning::x".into();
        let e = resolve(None, Some(&serde_json::to_string(&bad).unwrap()), &dir)
            .unwrap_err()
            .to_string();
        assert!(e.contains("control character"), "{e}");
        let e = resolve(Some(&plan), Some("{}"), &dir)
            .unwrap_err()
            .to_string();
        assert!(e.contains("both given"), "{e}");
        std::fs::write(dir.join("bad.json"), "{").unwrap();
        let e = resolve(None, Some("bad.json"), &dir)
            .unwrap_err()
            .to_string();
        assert!(e.contains("bad.json"), "{e}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn push_tags_are_the_first_and_the_same_repository_ones() {
        let (to, tags) = entry("x").push_tags().unwrap();
        assert_eq!(to, "127.0.0.1:5000/golden/nginx:1.26");
        // The other repository's tag is left out, the duplicate of the first too.
        assert_eq!(tags, vec!["1.26-20260101"]);
        let mut e = entry("x");
        e.tags.clear();
        assert!(e.push_tags().unwrap_err().to_string().contains("no tags"));
    }
}
