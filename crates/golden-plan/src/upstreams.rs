//! `golden-plan upstreams`: is every pinned `upstream:` of the catalog's bases still what its
//! tag points to?
//!
//! For each base, the tag of its upstream is resolved in its registry with golden-registry
//! (anonymous: a Bearer challenge is answered by the token service without credentials, as
//! Docker Hub, Red Hat's and Microsoft's registries do). A row is `fresh` when the tag still
//! points to the pinned digest (or to an index listing it), `stale` when it moved, `error` when
//! it could not be resolved (each row on its own: one unreachable registry does not hide the
//! others). For an index, the digest of each built architecture's image is reported; the age
//! comes from the image config's `created` date.
//!
//! [`rewrite`] changes only the digest of stale `upstream:` lines: every other byte of the file
//! stays as it was.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use golden_registry::{Client, ClientOptions, ParsedManifest, Reference, RetryPolicy};
use serde::Serialize;

use crate::config::{Base, Catalog};

/// Largest image config read for its `created` date.
const MAX_CONFIG_BYTES: u64 = 4 << 20;

/// Failures of the command as a whole (row failures are [`Row::error`]).
#[derive(Debug, thiserror::Error)]
pub enum UpstreamsError {
    #[error(
        "--registry-map (GOLDEN_REGISTRY_MAP) entry `{entry}`: {problem}\n  hint: write FROM=TO with registry hosts, e.g. docker.io=127.0.0.1:5000 (repeat the flag, or separate entries with commas in the variable)"
    )]
    BadMap { entry: String, problem: String },
    #[error(
        "{file}:{line}: bases[{index}].upstream: cannot rewrite the digest: {problem}\n  hint: write the upstream as a plain scalar on one line (`upstream: name:tag@sha256:...`), or update it by hand"
    )]
    Rewrite {
        file: String,
        line: u64,
        index: usize,
        problem: String,
    },
    #[error("failed to create the registry client")]
    Client(#[source] golden_registry::RegistryError),
}

/// `FROM=TO` registry substitutions (`--registry-map`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegistryMap(BTreeMap<String, String>);

/// Docker Hub's aliases as `docker.io` (how image references name it).
fn canonical_host(h: &str) -> String {
    let h = h.trim().to_ascii_lowercase();
    match h.as_str() {
        "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com" => {
            "docker.io".to_string()
        }
        _ => h,
    }
}

fn plain_host(h: &str) -> bool {
    !h.is_empty()
        && h.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
}

impl RegistryMap {
    /// Parse `FROM=TO` entries (empty entries are skipped).
    pub fn parse(entries: &[String]) -> Result<RegistryMap, UpstreamsError> {
        let mut map = BTreeMap::new();
        for e in entries.iter().map(|e| e.trim()).filter(|e| !e.is_empty()) {
            let bad = |problem: &str| UpstreamsError::BadMap {
                entry: e.to_string(),
                problem: problem.to_string(),
            };
            let (from, to) = e.split_once('=').ok_or_else(|| bad("no `=`"))?;
            let (from, to) = (canonical_host(from), to.trim().to_string());
            if !plain_host(&from) || !plain_host(&to) {
                return Err(bad(
                    "both sides must be a registry host[:port] (no scheme, no path)",
                ));
            }
            if map.insert(from, to).is_some() {
                return Err(bad("this registry is mapped twice"));
            }
        }
        Ok(RegistryMap(map))
    }

    /// Where `registry` is resolved.
    pub fn target(&self, registry: &str) -> Option<&str> {
        self.0.get(&canonical_host(registry)).map(String::as_str)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UpstreamStatus {
    Fresh,
    Stale,
    Error,
}

impl UpstreamStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            UpstreamStatus::Fresh => "fresh",
            UpstreamStatus::Stale => "stale",
            UpstreamStatus::Error => "error",
        }
    }
}

/// The digest of one architecture's image in a multi-arch upstream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlatformDigest {
    /// `linux/amd64`.
    pub platform: String,
    pub digest: String,
}

/// One base's upstream.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// The base (`debian`).
    pub os: String,
    /// Index in `bases` and where its `upstream:` is written.
    pub index: usize,
    pub line: u64,
    /// The `upstream:` value as written.
    pub upstream: String,
    /// `registry/repository`.
    pub image: String,
    pub tag: String,
    /// Where it was resolved when `--registry-map` substitutes the registry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolved_on: Option<String>,
    pub pinned: String,
    /// What the tag points to now (an index or an image manifest).
    pub current: Option<String>,
    pub status: UpstreamStatus,
    /// For an index: each built architecture's image.
    pub platforms: Vec<PlatformDigest>,
    /// The image config's `created` date (RFC 3339, UTC), of the first built architecture.
    pub created: Option<String>,
    /// Time since `created` (`12d`, `5h`, `<1h`), or `unknown`.
    pub age: String,
    /// Why the row could not be resolved: `file:line: key: ...` and a hint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Every row, and the counts.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub config: String,
    pub architectures: Vec<String>,
    pub fresh: usize,
    pub stale: usize,
    pub errors: usize,
    /// `--write` rewrote the config.
    pub written: bool,
    pub rows: Vec<Row>,
}

impl Report {
    fn new(config: &str, architectures: &[String], rows: Vec<Row>) -> Report {
        let count = |s: UpstreamStatus| rows.iter().filter(|r| r.status == s).count();
        Report {
            config: config.to_string(),
            architectures: architectures.to_vec(),
            fresh: count(UpstreamStatus::Fresh),
            stale: count(UpstreamStatus::Stale),
            errors: count(UpstreamStatus::Error),
            written: false,
            rows,
        }
    }

    /// 0: all fresh, 1: some stale, 2: some errors.
    pub fn exit_code(&self) -> u8 {
        if self.errors > 0 {
            2
        } else if self.stale > 0 {
            1
        } else {
            0
        }
    }
}

/// The client upstreams are read with: anonymous (credentials from the environment are never
/// sent to an upstream registry), `retries` retries.
pub fn client(retries: u32) -> Result<Client, UpstreamsError> {
    Client::new(ClientOptions {
        auth: golden_registry::AuthKind::Anonymous,
        env: golden_registry::Env::from_pairs(Vec::<(String, String)>::new()),
        retry: RetryPolicy {
            max_retries: retries,
            ..RetryPolicy::default()
        },
        ..ClientOptions::default()
    })
    .map_err(UpstreamsError::Client)
}

/// `12d`, `5h`, `<1h` (negative ages, from clock skew, are `<1h`).
pub fn format_age(seconds: i64) -> String {
    let hours = seconds / 3600;
    if hours >= 48 {
        format!("{}d", hours / 24)
    } else if hours >= 1 {
        format!("{hours}h")
    } else {
        "<1h".to_string()
    }
}

/// What a tag points to now.
struct Resolved {
    current: String,
    /// The digests of the index's children (empty for an image manifest).
    children: Vec<String>,
    platforms: Vec<PlatformDigest>,
    created: Option<chrono::DateTime<chrono::Utc>>,
    /// A problem that makes the row an error although the tag resolved.
    problem: Option<(String, &'static str)>,
}

fn arm_variant_ok(arch: &str, variant: Option<&str>) -> bool {
    arch != "arm64" || matches!(variant, None | Some("v8"))
}

async fn created_of(
    client: &Client,
    r: &Reference,
    manifest: &ParsedManifest,
) -> Option<chrono::DateTime<chrono::Utc>> {
    let ParsedManifest::Image(m) = manifest else {
        return None;
    };
    let bytes = client
        .get_blob_bytes(r, &m.config.digest, MAX_CONFIG_BYTES)
        .await
        .ok()?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let created = v.get("created")?.as_str()?;
    chrono::DateTime::parse_from_rfc3339(created)
        .ok()
        .map(|d| d.with_timezone(&chrono::Utc))
}

/// Resolve `r` (a tag), with the per-platform digests of `architectures` for an index.
async fn resolve(
    client: &Client,
    r: &Reference,
    architectures: &[String],
) -> Result<Resolved, golden_registry::RegistryError> {
    let top = client.get_manifest(r).await?;
    let parsed = top.parse()?;
    match &parsed {
        ParsedManifest::Image(_) => {
            let created = created_of(client, r, &parsed).await;
            Ok(Resolved {
                current: top.digest.clone(),
                children: Vec::new(),
                platforms: Vec::new(),
                created,
                problem: None,
            })
        }
        ParsedManifest::Index(ix) => {
            let mut platforms = Vec::new();
            let mut missing = Vec::new();
            for arch in architectures {
                let hit = ix.manifests.iter().find(|d| {
                    d.platform.as_ref().is_some_and(|p| {
                        p.os == "linux"
                            && &p.architecture == arch
                            && arm_variant_ok(arch, p.variant.as_deref())
                    })
                });
                match hit {
                    Some(d) => platforms.push(PlatformDigest {
                        platform: format!("linux/{arch}"),
                        digest: d.digest.clone(),
                    }),
                    None => missing.push(format!("linux/{arch}")),
                }
            }
            let mut created = None;
            if let Some(first) = platforms.first() {
                let child = r.with_digest(&first.digest);
                if let Ok(m) = client.get_manifest(&child).await
                    && let Ok(p) = m.parse()
                {
                    created = created_of(client, &child, &p).await;
                }
            }
            let problem = (!missing.is_empty()).then(|| {
                let has: Vec<String> = ix
                    .manifests
                    .iter()
                    .filter_map(|d| d.platform.as_ref())
                    .map(|p| p.display())
                    .collect();
                (
                    format!(
                        "the index `{}` has no image for {} (it has: {})",
                        top.digest,
                        missing.join(", "),
                        if has.is_empty() {
                            "no platform entries".to_string()
                        } else {
                            has.join(", ")
                        }
                    ),
                    "build only the architectures the upstream publishes (--architectures), or choose another upstream",
                )
            });
            Ok(Resolved {
                current: top.digest.clone(),
                children: ix.manifests.iter().map(|d| d.digest.clone()).collect(),
                platforms,
                created,
                problem,
            })
        }
    }
}

fn row_error(file: &str, row: &Row, message: &str, hint: &str) -> String {
    format!(
        "{file}:{}: bases[{}].upstream `{}`: {message}\n  hint: {hint}",
        row.line, row.index, row.upstream
    )
}

/// Check one base's upstream.
async fn check_base(
    client: &Client,
    file: &str,
    index: usize,
    base: &Base,
    map: &RegistryMap,
    architectures: &[String],
    now: chrono::DateTime<chrono::Utc>,
) -> Row {
    let mut row = Row {
        os: base.os.clone(),
        index,
        line: base.upstream_pos.line,
        upstream: base.upstream.clone(),
        image: String::new(),
        tag: String::new(),
        resolved_on: None,
        pinned: String::new(),
        current: None,
        status: UpstreamStatus::Error,
        platforms: Vec::new(),
        created: None,
        age: "unknown".to_string(),
        error: None,
    };
    // The catalog was validated: the upstream parses and has a tag and a digest.
    let parsed = match Reference::parse(&base.upstream) {
        Ok(r) => r,
        Err(e) => {
            row.error = Some(row_error(
                file,
                &row,
                &e.to_string(),
                "write it like docker.io/library/debian:bookworm-slim@sha256:<64 hex>",
            ));
            return row;
        }
    };
    row.image = parsed.name();
    row.tag = parsed.tag.clone().unwrap_or_default();
    row.pinned = parsed.digest.clone().unwrap_or_default();
    let mut target = parsed.with_tag(&row.tag);
    if let Some(to) = map.target(&parsed.registry) {
        target.registry = to.to_string();
        row.resolved_on = Some(to.to_string());
    }
    let on = row
        .resolved_on
        .as_ref()
        .map(|h| format!(" (resolved on {h})"))
        .unwrap_or_default();
    match resolve(client, &target, architectures).await {
        Ok(res) => {
            row.status = if res.current == row.pinned || res.children.contains(&row.pinned) {
                UpstreamStatus::Fresh
            } else {
                UpstreamStatus::Stale
            };
            row.current = Some(res.current);
            row.platforms = res.platforms;
            if let Some(c) = res.created {
                row.created = Some(c.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
                row.age = format_age((now - c).num_seconds());
            }
            if let Some((message, hint)) = res.problem {
                row.status = UpstreamStatus::Error;
                row.error = Some(row_error(file, &row, &format!("{message}{on}"), hint));
            }
        }
        Err(e) => {
            let (message, hint) = if e.is_not_found() {
                (
                    format!("tag `{}` not found in `{}`{on}", row.tag, row.image),
                    "the tag was removed or renamed upstream: pick a current tag and pin its digest",
                )
            } else {
                (
                    format!("{}{on}", golden_gha::error_line(&e)),
                    "check that the registry is reachable from here (a mirror can stand in for it with --registry-map FROM=TO)",
                )
            };
            row.error = Some(row_error(file, &row, &message, hint));
        }
    }
    row
}

/// Check every base's upstream (one after the other; each row on its own).
pub async fn check(
    client: &Client,
    catalog: &Catalog,
    map: &RegistryMap,
    architectures: &[String],
) -> Report {
    let now = chrono::Utc::now();
    let mut rows = Vec::new();
    for (i, b) in catalog.bases.iter().enumerate() {
        rows.push(check_base(client, &catalog.path, i, b, map, architectures, now).await);
    }
    Report::new(&catalog.path, architectures, rows)
}

/// The config text with the digest of every stale row replaced by its current digest; every
/// other byte unchanged. Each stale row's line must hold `@<pinned>` exactly once.
pub fn rewrite(text: &str, report: &Report) -> Result<String, UpstreamsError> {
    let mut edits: BTreeMap<u64, (&Row, &str)> = BTreeMap::new();
    for r in &report.rows {
        if let (UpstreamStatus::Stale, Some(cur)) = (r.status, r.current.as_deref()) {
            edits.insert(r.line, (r, cur));
        }
    }
    let mut out = String::with_capacity(text.len());
    let mut last = 0u64;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let n = i as u64 + 1;
        last = n;
        let Some((row, cur)) = edits.get(&n) else {
            out.push_str(line);
            continue;
        };
        let old = format!("@{}", row.pinned);
        let hits = line.matches(&old).count();
        if row.pinned.is_empty() || hits != 1 {
            return Err(UpstreamsError::Rewrite {
                file: report.config.clone(),
                line: n,
                index: row.index,
                problem: format!("the line holds `{old}` {hits} time(s), expected once"),
            });
        }
        out.push_str(&line.replacen(&old, &format!("@{cur}"), 1));
    }
    if let Some((n, (row, _))) = edits.range(last + 1..).next() {
        return Err(UpstreamsError::Rewrite {
            file: report.config.clone(),
            line: *n,
            index: row.index,
            problem: "the line is past the end of the file".into(),
        });
    }
    Ok(out)
}

fn short(d: &str) -> String {
    match d.split_once(':') {
        Some((alg, hex)) if hex.len() > 12 => format!("{alg}:{}", &hex[..12]),
        _ => d.to_string(),
    }
}

/// The table for people, then each stale row's new digest, per-platform digests and errors.
pub fn text(report: &Report) -> String {
    let mut rows: Vec<[String; 6]> = vec![[
        "IMAGE".into(),
        "TAG".into(),
        "PINNED".into(),
        "CURRENT".into(),
        "STATUS".into(),
        "AGE".into(),
    ]];
    for r in &report.rows {
        rows.push([
            if r.image.is_empty() {
                r.upstream.clone()
            } else {
                r.image.clone()
            },
            r.tag.clone(),
            short(&r.pinned),
            r.current
                .as_deref()
                .map(short)
                .unwrap_or_else(|| "-".into()),
            r.status.as_str().to_string(),
            r.age.clone(),
        ]);
    }
    let mut widths = [0usize; 6];
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut s = String::new();
    for r in &rows {
        let line: Vec<String> = r
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        let _ = writeln!(s, "{}", line.join("  ").trim_end());
    }
    let stale: Vec<&Row> = report
        .rows
        .iter()
        .filter(|r| r.status == UpstreamStatus::Stale)
        .collect();
    if !stale.is_empty() {
        let _ = writeln!(
            s,
            "\nstale ({}):",
            if report.written {
                "rewritten"
            } else {
                "run with --write to pin the current digests"
            }
        );
        for r in stale {
            let _ = writeln!(
                s,
                "  {}:{}  {}:{}  {} -> {}",
                report.config,
                r.line,
                r.image,
                r.tag,
                r.pinned,
                r.current.as_deref().unwrap_or("-")
            );
        }
    }
    let multi: Vec<&Row> = report
        .rows
        .iter()
        .filter(|r| !r.platforms.is_empty())
        .collect();
    if !multi.is_empty() {
        let _ = writeln!(s, "\nplatforms:");
        for r in multi {
            for p in &r.platforms {
                let _ = writeln!(s, "  {}:{}  {}  {}", r.image, r.tag, p.platform, p.digest);
            }
        }
    }
    let errors: Vec<&str> = report
        .rows
        .iter()
        .filter_map(|r| r.error.as_deref())
        .collect();
    if !errors.is_empty() {
        let _ = writeln!(s, "\nerrors:");
        for e in errors {
            for l in e.lines() {
                let _ = writeln!(s, "  {l}");
            }
        }
    }
    let _ = writeln!(
        s,
        "\n{} fresh, {} stale, {} error(s)",
        report.fresh, report.stale, report.errors
    );
    s
}

/// The step summary: one table row per upstream.
pub fn summary_markdown(report: &Report) -> String {
    use golden_gha::markdown::md;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "### Upstream freshness: {} fresh, {} stale, {} error(s)\n",
        report.fresh, report.stale, report.errors
    );
    s.push_str("| image | tag | pinned | current | status | age |\n|---|---|---|---|---|---|\n");
    for r in &report.rows {
        let _ = writeln!(
            s,
            "| `{}` | `{}` | `{}` | `{}` | {} | {} |",
            md(&r.image),
            md(&r.tag),
            short(&r.pinned),
            r.current
                .as_deref()
                .map(short)
                .unwrap_or_else(|| "-".into()),
            r.status.as_str(),
            md(&r.age)
        );
    }
    for e in report.rows.iter().filter_map(|r| r.error.as_deref()) {
        let _ = writeln!(s, "\n- {}", md(&e.replace('\n', " ")));
    }
    if report.written {
        s.push_str("\nThe stale digests were written to the config.\n");
    }
    s
}

/// Step outputs: `fresh`, `stale`, `errors` (counts) and `written`.
pub fn github_outputs(report: &Report) -> golden_gha::Outputs {
    let mut o = golden_gha::Outputs::new();
    o.set("fresh", report.fresh.to_string())
        .set("stale", report.stale.to_string())
        .set("errors", report.errors.to_string())
        .set("written", report.written.to_string());
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(line: u64, pinned: &str, current: &str, status: UpstreamStatus) -> Row {
        Row {
            os: "debian".into(),
            index: 0,
            line,
            upstream: String::new(),
            image: "docker.io/library/debian".into(),
            tag: "x".into(),
            resolved_on: None,
            pinned: pinned.into(),
            current: Some(current.into()),
            status,
            platforms: Vec::new(),
            created: None,
            age: "unknown".into(),
            error: None,
        }
    }

    #[test]
    fn registry_map_parses_and_refuses() {
        let m = RegistryMap::parse(&[
            "docker.io=127.0.0.1:5000".into(),
            " registry.access.redhat.com = 127.0.0.1:5001 ".into(),
            "".into(),
        ])
        .unwrap();
        assert_eq!(m.target("docker.io"), Some("127.0.0.1:5000"));
        assert_eq!(m.target("index.docker.io"), Some("127.0.0.1:5000"));
        assert_eq!(
            m.target("registry.access.redhat.com"),
            Some("127.0.0.1:5001")
        );
        assert_eq!(m.target("mcr.microsoft.com"), None);
        for bad in ["docker.io", "docker.io=http://x", "=x", "a=b/c"] {
            let e = RegistryMap::parse(&[bad.into()]).unwrap_err().to_string();
            assert!(e.contains(bad) && e.contains("hint:"), "{e}");
        }
        let e = RegistryMap::parse(&["docker.io=a".into(), "index.docker.io=b".into()])
            .unwrap_err()
            .to_string();
        assert!(e.contains("mapped twice"), "{e}");
    }

    #[test]
    fn ages() {
        assert_eq!(format_age(-5), "<1h");
        assert_eq!(format_age(3599), "<1h");
        assert_eq!(format_age(5 * 3600), "5h");
        assert_eq!(format_age(47 * 3600), "47h");
        assert_eq!(format_age(12 * 86400 + 7), "12d");
    }

    #[test]
    fn rewrite_changes_only_stale_digests() {
        let a = format!("sha256:{}", "a".repeat(64));
        let b = format!("sha256:{}", "b".repeat(64));
        let c = format!("sha256:{}", "c".repeat(64));
        let text = format!(
            "# c @{a}\nbases:\n  - upstream: x/y:1@{a}   # keep\n\r\n  - upstream: \"x/z:2@{b}\"\n"
        );
        let rows = vec![
            row(3, &a, &c, UpstreamStatus::Stale),
            row(5, &b, &b, UpstreamStatus::Fresh),
        ];
        let report = Report::new("c.yaml", &[], rows);
        let out = rewrite(&text, &report).unwrap();
        assert_eq!(
            out,
            format!(
                "# c @{a}\nbases:\n  - upstream: x/y:1@{c}   # keep\n\r\n  - upstream: \"x/z:2@{b}\"\n"
            )
        );
        let bad = Report::new("c.yaml", &[], vec![row(2, &a, &c, UpstreamStatus::Stale)]);
        let e = rewrite(&text, &bad).unwrap_err().to_string();
        assert!(e.starts_with("c.yaml:2: bases[0].upstream"), "{e}");
        let past = Report::new("c.yaml", &[], vec![row(9, &a, &c, UpstreamStatus::Stale)]);
        let e = rewrite(&text, &past).unwrap_err().to_string();
        assert!(
            e.starts_with("c.yaml:9: bases[0].upstream") && e.contains("past the end"),
            "{e}"
        );
    }
}
