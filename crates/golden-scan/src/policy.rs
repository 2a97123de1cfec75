//! The scan policy (`configs/policy.yaml`): what fails an image, what is ignored until when,
//! and the allow/deny lists the compliance checks use. Errors name `file:line:column`.

use std::path::Path;

use chrono::NaiveDate;
use globset::{Glob, GlobMatcher};
use golden_contracts::scan::{
    CheckStatus, ComplianceResult, Package, PolicyFailure, PolicyVerdict, ScannerStatus, Severity,
    Vulnerability,
};
use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::catalog;
use crate::error::ScanError;

/// The shipped default policy, compiled in so the binary works from any directory.
pub const DEFAULT_POLICY: &str = include_str!("../../../configs/policy.yaml");
pub const DEFAULT_POLICY_NAME: &str = "(built-in configs/policy.yaml)";
pub const POLICY_SCHEMA: u32 = 1;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    schema: Spanned<u32>,
    #[serde(default)]
    vulnerabilities: RawVulns,
    #[serde(default)]
    compliance: RawCompliance,
    #[serde(default)]
    ignore: Vec<RawIgnore>,
    #[serde(default)]
    setuid_allowlist: Vec<Spanned<String>>,
    #[serde(default)]
    unnecessary_packages: Vec<Spanned<String>>,
    #[serde(default)]
    world_writable_allow: Vec<String>,
    #[serde(default)]
    secrets: RawSecrets,
    #[serde(default)]
    hardening: RawHardening,
    #[serde(default)]
    vex: Vec<Spanned<String>>,
    #[serde(default)]
    deny_packages: Vec<RawDeny>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDeny {
    purl: Spanned<String>,
    #[serde(default)]
    versions: Option<Spanned<String>>,
    reason: Spanned<String>,
    #[serde(default)]
    image: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawVulns {
    #[serde(default)]
    fail_on: Option<Spanned<String>>,
    #[serde(default)]
    only_fixed: bool,
    #[serde(default)]
    require_scan: Option<Spanned<RequireScanSpec>>,
}

/// `require_scan: true | false | [event, ...]`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RequireScanSpec {
    Bool(bool),
    Events(Vec<String>),
}

/// Workflow events `require_scan` may list (GitHub's event names, as `GITHUB_EVENT_NAME` and
/// `golden-scan --event` say them).
pub const SCAN_EVENTS: &[&str] = &[
    "pull_request",
    "pull_request_target",
    "push",
    "schedule",
    "workflow_dispatch",
    "workflow_call",
    "merge_group",
    "release",
];

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawCompliance {
    #[serde(default)]
    required: Option<Spanned<RequiredSpec>>,
    #[serde(default)]
    optional: Vec<RawOptional>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RequiredSpec {
    Keyword(String),
    List(Vec<String>),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOptional {
    id: Spanned<String>,
    #[serde(default)]
    image: Option<Spanned<String>>,
    reason: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIgnore {
    id: Spanned<String>,
    #[serde(default)]
    package: Option<String>,
    #[serde(default)]
    image: Option<Spanned<String>>,
    reason: Spanned<String>,
    expires: Spanned<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawSecrets {
    #[serde(default)]
    accept_env_keys: Vec<String>,
    #[serde(default)]
    allow_paths: Vec<Spanned<String>>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawHardening {
    #[serde(default)]
    required_for: Vec<Spanned<String>>,
}

/// An image-scope glob (`*` matches `/` too): matched against the reference, tags and entry id.
#[derive(Debug, Clone)]
pub struct Scope {
    pub pattern: String,
    matcher: GlobMatcher,
}

impl Scope {
    pub fn matches(&self, names: &[String]) -> bool {
        names.iter().any(|n| self.matcher.is_match(n))
    }
}

/// A path glob (`/usr/bin/*`): `*` does not cross `/`, `**` does.
#[derive(Debug, Clone)]
pub struct PathGlob {
    pub pattern: String,
    matcher: GlobMatcher,
}

impl PathGlob {
    pub fn matches(&self, path: &str) -> bool {
        self.matcher.is_match(path)
    }
}

#[derive(Debug, Clone)]
pub struct IgnoreEntry {
    pub id: String,
    pub package: Option<String>,
    pub image: Option<Scope>,
    pub reason: String,
    pub expires: NaiveDate,
    /// `file:line` of the entry, for notes.
    pub at: String,
}

/// `deny_packages[i]`: packages whose purl (qualifiers left out) matches `purl` (a glob: `*`
/// matches anything) and, when given, whose version is in `versions`, fail the policy.
#[derive(Debug, Clone)]
pub struct DenyEntry {
    pub pattern: String,
    matcher: GlobMatcher,
    pub versions: Option<VersionRange>,
    pub reason: String,
    pub image: Option<Scope>,
    /// `file:line` of the entry.
    pub at: String,
}

impl DenyEntry {
    /// Whether `p` is denied by this entry.
    pub fn matches(&self, p: &Package) -> bool {
        let Some(purl) = &p.purl else { return false };
        let bare = purl.split(['?', '#']).next().unwrap_or(purl);
        // The range is checked on the version; the glob on the purl with or without it.
        let unversioned = bare.rsplit_once('@').map_or(bare, |(b, _)| b);
        (self.matcher.is_match(bare) || self.matcher.is_match(unversioned))
            && self
                .versions
                .as_ref()
                .is_none_or(|r| r.contains(&p.version))
    }
}

/// A version range: comparisons joined by commas (`>=2.0.0, <2.17.1`), all of which must hold.
/// Versions compare segment by segment (split at `.`, `-`, `_`, `+`): numbers numerically,
/// the rest as text, a word before a number; a missing segment is smaller than a number
/// (`2.17` < `2.17.1`) and greater than a word (`2.0` > `2.0-beta9`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionRange {
    pub text: String,
    constraints: Vec<(Op, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

impl VersionRange {
    pub fn parse(text: &str) -> Result<VersionRange, String> {
        let mut constraints = Vec::new();
        for part in text.split(',') {
            let part = part.trim();
            let (op, rest) = if let Some(r) = part.strip_prefix(">=") {
                (Op::Ge, r)
            } else if let Some(r) = part.strip_prefix("<=") {
                (Op::Le, r)
            } else if let Some(r) = part.strip_prefix("!=") {
                (Op::Ne, r)
            } else if let Some(r) = part.strip_prefix('>') {
                (Op::Gt, r)
            } else if let Some(r) = part.strip_prefix('<') {
                (Op::Lt, r)
            } else if let Some(r) = part.strip_prefix('=') {
                (Op::Eq, r.trim_start_matches('='))
            } else {
                return Err(format!(
                    "`{part}` is not a comparison (>=, >, <=, <, =, != and a version)"
                ));
            };
            let v = rest.trim();
            if v.is_empty() || v.contains(char::is_whitespace) {
                return Err(format!("`{part}` has no single version after its operator"));
            }
            constraints.push((op, v.to_string()));
        }
        Ok(VersionRange {
            text: text.trim().to_string(),
            constraints,
        })
    }

    pub fn contains(&self, version: &str) -> bool {
        if version.is_empty() {
            return false;
        }
        self.constraints.iter().all(|(op, v)| {
            let o = compare_versions(version, v);
            match op {
                Op::Lt => o.is_lt(),
                Op::Le => o.is_le(),
                Op::Gt => o.is_gt(),
                Op::Ge => o.is_ge(),
                Op::Eq => o.is_eq(),
                Op::Ne => o.is_ne(),
            }
        })
    }
}

/// Compare two versions segment by segment (see [`VersionRange`]).
pub fn compare_versions(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let split =
        |s: &str| -> Vec<String> { s.split(['.', '-', '_', '+']).map(str::to_string).collect() };
    let (a, b) = (split(a), split(b));
    for i in 0..a.len().max(b.len()) {
        let o = match (a.get(i), b.get(i)) {
            (Some(x), Some(y)) => match (x.parse::<u64>(), y.parse::<u64>()) {
                (Ok(x), Ok(y)) => x.cmp(&y),
                // A number sorts after a pre-release word (`1.0.0` > `1.0.rc1`).
                (Ok(_), Err(_)) => Ordering::Greater,
                (Err(_), Ok(_)) => Ordering::Less,
                _ => x.cmp(y),
            },
            // A release is after its pre-releases (`2.0` > `2.0-beta9`), before its patches.
            (Some(x), None) if x.parse::<u64>().is_err() => Ordering::Less,
            (None, Some(y)) if y.parse::<u64>().is_err() => Ordering::Greater,
            (Some(_), None) => Ordering::Greater,
            (None, Some(_)) => Ordering::Less,
            (None, None) => Ordering::Equal,
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

#[derive(Debug, Clone)]
pub struct OptionalCheck {
    pub id: String,
    pub image: Option<Scope>,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Required {
    All,
    None,
    Only(Vec<String>),
}

/// A validated policy.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Where it came from (path, or the built-in default).
    pub source: String,
    /// Vulnerabilities at or above this severity fail the policy (`None`: never).
    pub fail_on: Option<Severity>,
    pub only_fixed: bool,
    /// Whether a missing Trivy fails the policy for this scan (after [`Policy::for_event`]).
    pub require_scan: bool,
    /// `require_scan: [events]`: the events it is required for (`None`: `true`/`false`).
    pub require_scan_events: Option<Vec<String>>,
    /// The event [`Policy::for_event`] resolved `require_scan` for.
    pub event: Option<String>,
    pub required: Required,
    pub optional: Vec<OptionalCheck>,
    pub ignore: Vec<IgnoreEntry>,
    pub setuid_allowlist: Vec<PathGlob>,
    pub unnecessary_packages: Vec<PathGlob>,
    pub world_writable_allow: Vec<String>,
    pub accept_env_keys: Vec<String>,
    pub secret_allow_paths: Vec<PathGlob>,
    pub hardening_required_for: Vec<Scope>,
    /// OpenVEX documents (`vex:`), relative paths resolved against the policy file's folder.
    pub vex: Vec<crate::vex::VexSource>,
    /// `deny_packages`: packages that fail the policy when the image holds them.
    pub deny_packages: Vec<DenyEntry>,
}

struct Ctx<'a> {
    file: &'a str,
}

impl Ctx<'_> {
    /// `vulnerabilities.fail_on` (default HIGH; `none`: never).
    fn fail_on(&self, v: Option<&Spanned<String>>) -> Result<Option<Severity>, ScanError> {
        match v {
            None => Ok(Some(Severity::High)),
            Some(s) => match parse_severity(&s.value) {
                Some(v) => Ok(v),
                None => self.err(
                    &s.referenced,
                    format!("unknown severity `{}`", s.value),
                    "use one of CRITICAL, HIGH, MEDIUM, LOW, UNKNOWN, or none",
                ),
            },
        }
    }

    /// A compliance check id of the catalogue, normalised to upper case.
    fn check_id(&self, s: &Spanned<String>) -> Result<String, ScanError> {
        let known = catalog::ALL_IDS;
        let id = s.value.trim().to_ascii_uppercase();
        if known.contains(&id.as_str()) {
            Ok(id)
        } else {
            self.err(
                &s.referenced,
                format!("unknown compliance check `{}`", s.value),
                &format!("known checks: {}", known.join(", ")),
            )
        }
    }

    /// `compliance.required`: all (default), none or a list of check ids.
    fn required(&self, spec: Option<&Spanned<RequiredSpec>>) -> Result<Required, ScanError> {
        let Some(spec) = spec else {
            return Ok(Required::All);
        };
        match &spec.value {
            RequiredSpec::Keyword(k) if k.eq_ignore_ascii_case("all") => Ok(Required::All),
            RequiredSpec::Keyword(k) if k.eq_ignore_ascii_case("none") => Ok(Required::None),
            RequiredSpec::Keyword(k) => self.err(
                &spec.referenced,
                format!("`required: {k}` is not valid"),
                "use `all`, `none` or a list of check ids",
            ),
            RequiredSpec::List(ids) => ids
                .iter()
                .map(|id| {
                    self.check_id(&Spanned {
                        value: id.clone(),
                        referenced: spec.referenced,
                        defined: spec.defined,
                    })
                })
                .collect::<Result<_, _>>()
                .map(Required::Only),
        }
    }

    /// `ignore[i]`: an id (a check's, or a vulnerability's with an optional package), a reason
    /// and a real calendar date.
    fn ignore_entry(&self, i: usize, e: &RawIgnore) -> Result<IgnoreEntry, ScanError> {
        let id = e.id.value.trim().to_string();
        if id.is_empty() {
            return self.err(&e.id.referenced, format!("ignore[{i}].id is empty"), "");
        }
        if id.to_ascii_uppercase().starts_with("GOLDEN-") {
            self.check_id(&e.id)?;
            if e.package.is_some() {
                return self.err(&e.id.referenced, format!("ignore[{i}]: `package` only applies to vulnerability ids, not to check `{id}`"), "");
            }
        }
        if e.reason.value.trim().is_empty() {
            return self.err(
                &e.reason.referenced,
                format!("ignore[{i}].reason is empty"),
                "say why the finding is accepted",
            );
        }
        let expires = match NaiveDate::parse_from_str(e.expires.value.trim(), "%Y-%m-%d") {
            Ok(d) if e.expires.value.trim().len() == 10 => d,
            _ => {
                return self.err(
                    &e.expires.referenced,
                    format!("ignore[{i}].expires `{}` is not a date", e.expires.value),
                    "write a real calendar date as YYYY-MM-DD, e.g. 2026-06-30",
                );
            }
        };
        Ok(IgnoreEntry {
            id,
            package: e.package.clone().filter(|p| !p.is_empty()),
            image: e.image.as_ref().map(|s| self.scope(s)).transpose()?,
            reason: e.reason.value.trim().to_string(),
            expires,
            at: format!("{}:{}", self.file, e.id.referenced.line()),
        })
    }

    /// `vulnerabilities.require_scan`: a bool, or the workflow events that require a scan.
    fn require_scan(
        &self,
        v: Option<&Spanned<RequireScanSpec>>,
    ) -> Result<(bool, Option<Vec<String>>), ScanError> {
        match v {
            None => Ok((false, None)),
            Some(Spanned {
                value: RequireScanSpec::Bool(b),
                ..
            }) => Ok((*b, None)),
            Some(Spanned {
                value: RequireScanSpec::Events(events),
                referenced,
                ..
            }) => {
                if let Some(e) = events.iter().find(|e| !SCAN_EVENTS.contains(&e.as_str())) {
                    return self.err(
                        referenced,
                        format!("require_scan: `{e}` is not a workflow event"),
                        &format!(
                            "use true, false or a list of: {} (a local run has no event and is never required to scan)",
                            SCAN_EVENTS.join(", ")
                        ),
                    );
                }
                Ok((false, Some(events.clone())))
            }
        }
    }

    fn err<T>(
        &self,
        at: &serde_saphyr::Location,
        msg: impl std::fmt::Display,
        hint: &str,
    ) -> Result<T, ScanError> {
        let mut s = format!("{}:{}:{}: {msg}", self.file, at.line(), at.column());
        if !hint.is_empty() {
            s.push_str(&format!("\n  hint: {hint}"));
        }
        Err(ScanError::Policy(s))
    }

    fn scope(&self, s: &Spanned<String>) -> Result<Scope, ScanError> {
        match Glob::new(&s.value) {
            Ok(g) => Ok(Scope {
                pattern: s.value.clone(),
                matcher: g.compile_matcher(),
            }),
            Err(e) => self.err(
                &s.referenced,
                format!("image pattern `{}` is not a valid glob: {e}", s.value),
                "",
            ),
        }
    }

    /// The `vex:` list: non-empty paths, relative ones against the policy file's folder (the
    /// working directory for the built-in policy).
    fn vex_sources(
        &self,
        list: &[Spanned<String>],
    ) -> Result<Vec<crate::vex::VexSource>, ScanError> {
        let base = if self.file == DEFAULT_POLICY_NAME {
            Path::new("")
        } else {
            Path::new(self.file).parent().unwrap_or(Path::new(""))
        };
        let mut out = Vec::new();
        for (i, s) in list.iter().enumerate() {
            let p = s.value.trim();
            if p.is_empty() {
                return self.err(
                    &s.referenced,
                    format!("vex[{i}] is empty"),
                    "list OpenVEX JSON files, relative to the policy file",
                );
            }
            out.push(crate::vex::VexSource {
                path: base.join(p),
                origin: format!("policy {}:{}", self.file, s.referenced.line()),
            });
        }
        Ok(out)
    }

    /// `deny_packages[i]`: a purl glob, an optional version range, a reason.
    fn deny_entry(&self, i: usize, e: &RawDeny) -> Result<DenyEntry, ScanError> {
        let pattern = e.purl.value.trim();
        if !pattern.starts_with("pkg:") {
            return self.err(
                &e.purl.referenced,
                format!("deny_packages[{i}].purl `{pattern}` is not a package URL pattern"),
                "write a purl, `*` for any part: pkg:maven/org.apache.logging.log4j/log4j-core",
            );
        }
        let matcher = match Glob::new(pattern) {
            Ok(g) => g.compile_matcher(),
            Err(e2) => {
                return self.err(
                    &e.purl.referenced,
                    format!("deny_packages[{i}].purl `{pattern}` is not a valid glob: {e2}"),
                    "",
                );
            }
        };
        let versions = match &e.versions {
            None => None,
            Some(v) => match VersionRange::parse(&v.value) {
                Ok(r) => Some(r),
                Err(why) => {
                    return self.err(
                        &v.referenced,
                        format!("deny_packages[{i}].versions: {why}"),
                        "write comparisons joined by commas, e.g. \">=2.0.0, <2.17.1\"",
                    );
                }
            },
        };
        if e.reason.value.trim().is_empty() {
            return self.err(
                &e.reason.referenced,
                format!("deny_packages[{i}].reason is empty"),
                "say why the package is denied (it is shown in the finding)",
            );
        }
        Ok(DenyEntry {
            pattern: pattern.to_string(),
            matcher,
            versions,
            reason: e.reason.value.trim().to_string(),
            image: e.image.as_ref().map(|s| self.scope(s)).transpose()?,
            at: format!("{}:{}", self.file, e.purl.referenced.line()),
        })
    }

    fn path_glob(&self, s: &Spanned<String>, what: &str) -> Result<PathGlob, ScanError> {
        let built = globset::GlobBuilder::new(&s.value)
            .literal_separator(true)
            .build();
        match built {
            Ok(g) => Ok(PathGlob {
                pattern: s.value.clone(),
                matcher: g.compile_matcher(),
            }),
            Err(e) => self.err(
                &s.referenced,
                format!("{what} pattern `{}` is not a valid glob: {e}", s.value),
                "",
            ),
        }
    }
}

fn parse_severity(s: &str) -> Option<Option<Severity>> {
    match s.to_ascii_uppercase().as_str() {
        "NONE" | "OFF" => Some(None),
        "UNKNOWN" => Some(Some(Severity::Unknown)),
        "LOW" => Some(Some(Severity::Low)),
        "MEDIUM" => Some(Some(Severity::Medium)),
        "HIGH" => Some(Some(Severity::High)),
        "CRITICAL" => Some(Some(Severity::Critical)),
        _ => None,
    }
}

impl Policy {
    /// Resolve `require_scan: [events]` for the workflow event this scan runs for (`None`: a
    /// local run, which no event list requires to scan).
    pub fn for_event(mut self, event: Option<&str>) -> Policy {
        let event = event.map(str::trim).filter(|e| !e.is_empty());
        if let Some(events) = &self.require_scan_events {
            self.require_scan = event.is_some_and(|e| events.iter().any(|x| x == e));
        }
        self.event = event.map(str::to_string);
        self
    }

    /// Load a policy file, or the built-in default with `None`.
    pub fn load(path: Option<&Path>) -> Result<Policy, ScanError> {
        match path {
            None => Policy::parse(DEFAULT_POLICY, DEFAULT_POLICY_NAME),
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|e| {
                    ScanError::Policy(format!(
                        "failed to read policy `{}`: {e}\n  hint: pass an existing file with --policy (GOLDEN_POLICY), or omit it for the built-in default",
                        p.display()
                    ))
                })?;
                Policy::parse(&text, &p.display().to_string())
            }
        }
    }

    pub fn parse(text: &str, file: &str) -> Result<Policy, ScanError> {
        let cx = Ctx { file };
        if text.trim().is_empty() {
            return Err(ScanError::Policy(format!(
                "{file}: the policy file is empty (expected `schema: 1` and rules)"
            )));
        }
        let raw: RawPolicy = serde_saphyr::from_str(text)
            .map_err(|e| ScanError::Policy(format!("{file}: invalid policy\n{e}")))?;
        if raw.schema.value != POLICY_SCHEMA {
            return cx.err(
                &raw.schema.referenced,
                format!("policy schema {} is not supported (this golden-scan reads schema {POLICY_SCHEMA})", raw.schema.value),
                "",
            );
        }
        let fail_on = cx.fail_on(raw.vulnerabilities.fail_on.as_ref())?;
        let required = cx.required(raw.compliance.required.as_ref())?;
        let optional = raw
            .compliance
            .optional
            .iter()
            .map(|o| {
                Ok(OptionalCheck {
                    id: cx.check_id(&o.id)?,
                    image: o.image.as_ref().map(|s| cx.scope(s)).transpose()?,
                    reason: o.reason.clone(),
                })
            })
            .collect::<Result<Vec<_>, ScanError>>()?;
        let ignore = raw
            .ignore
            .iter()
            .enumerate()
            .map(|(i, e)| cx.ignore_entry(i, e))
            .collect::<Result<Vec<_>, _>>()?;
        let vex = cx.vex_sources(&raw.vex)?;
        let deny_packages = raw
            .deny_packages
            .iter()
            .enumerate()
            .map(|(i, e)| cx.deny_entry(i, e))
            .collect::<Result<Vec<_>, _>>()?;
        let globs = |v: &[Spanned<String>], what: &str| -> Result<Vec<PathGlob>, ScanError> {
            v.iter().map(|s| cx.path_glob(s, what)).collect()
        };
        let (require_scan, require_scan_events) =
            cx.require_scan(raw.vulnerabilities.require_scan.as_ref())?;
        Ok(Policy {
            source: file.to_string(),
            fail_on,
            only_fixed: raw.vulnerabilities.only_fixed,
            require_scan,
            require_scan_events,
            event: None,
            required,
            optional,
            ignore,
            setuid_allowlist: globs(&raw.setuid_allowlist, "setuid_allowlist")?,
            unnecessary_packages: globs(&raw.unnecessary_packages, "unnecessary_packages")?,
            world_writable_allow: raw
                .world_writable_allow
                .iter()
                .map(|p| p.trim_end_matches('/').to_string())
                .collect(),
            accept_env_keys: raw.secrets.accept_env_keys,
            secret_allow_paths: globs(&raw.secrets.allow_paths, "secrets.allow_paths")?,
            hardening_required_for: raw
                .hardening
                .required_for
                .iter()
                .map(|s| cx.scope(s))
                .collect::<Result<_, _>>()?,
            vex,
            deny_packages,
        })
    }
}

/// What the verdict is computed from.
pub struct Evaluation<'a> {
    /// Names the image is known by (reference, tags, entry id) for `image:` scopes.
    pub names: &'a [String],
    /// The image's packages (OS and language), for `deny_packages`.
    pub packages: &'a [Package],
    pub vulnerabilities: &'a mut [Vulnerability],
    pub compliance: &'a mut [ComplianceResult],
    pub scanner: ScannerStatus,
    pub today: NaiveDate,
}

fn counts_line(vulns: &[&Vulnerability]) -> String {
    Severity::ALL
        .iter()
        .filter_map(|s| {
            let n = vulns.iter().filter(|v| v.severity == *s).count();
            (n > 0).then(|| format!("{n} {}", s.as_str()))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

impl Policy {
    /// Apply ignore entries (marking suppressed findings) and compute the verdict.
    pub fn evaluate(&self, mut ev: Evaluation<'_>) -> PolicyVerdict {
        let mut notes = Vec::new();
        let mut failures = Vec::new();
        self.apply_ignores(&mut ev, &mut notes);
        self.check_threshold(&ev, &mut failures, &mut notes);
        self.check_scanner(&ev, &mut failures, &mut notes);
        self.check_required(&ev, &mut failures, &mut notes);
        self.check_denied(&ev, &mut failures);
        PolicyVerdict {
            policy: self.source.clone(),
            passed: failures.is_empty(),
            failures,
            notes,
        }
    }

    /// `deny_packages`: one failure per entry that matches a package of the image, naming each
    /// package, its version and where it was found.
    fn check_denied(&self, ev: &Evaluation<'_>, failures: &mut Vec<PolicyFailure>) {
        for entry in &self.deny_packages {
            if !entry.image.as_ref().is_none_or(|s| s.matches(ev.names)) {
                continue;
            }
            let hits: Vec<&Package> = ev.packages.iter().filter(|p| entry.matches(p)).collect();
            if hits.is_empty() {
                continue;
            }
            let listed: Vec<String> = hits
                .iter()
                .map(|p| match &p.path {
                    Some(path) => format!("{} {} at {path}", p.name, p.version),
                    None => format!("{} {} ({})", p.name, p.version, p.kind),
                })
                .collect();
            let mut ids: Vec<String> = hits.iter().filter_map(|p| p.purl.clone()).collect();
            ids.sort();
            ids.dedup();
            failures.push(PolicyFailure {
                rule: "denied-package".into(),
                message: format!(
                    "{} package(s) match deny_packages `{}`{} ({}): {}",
                    hits.len(),
                    entry.pattern,
                    entry
                        .versions
                        .as_ref()
                        .map(|r| format!(" versions `{}`", r.text))
                        .unwrap_or_default(),
                    entry.reason,
                    listed.join("; ")
                ),
                ids,
            });
        }
    }

    /// Apply the ignore entries in scope: suppress what they match until they expire, then note
    /// that they expired.
    fn apply_ignores(&self, ev: &mut Evaluation<'_>, notes: &mut Vec<String>) {
        for entry in &self.ignore {
            let in_scope = entry.image.as_ref().is_none_or(|s| s.matches(ev.names));
            if !in_scope {
                continue;
            }
            let expired = ev.today > entry.expires;
            let mut matched = 0usize;
            for v in ev.vulnerabilities.iter_mut() {
                if v.id.eq_ignore_ascii_case(&entry.id)
                    && entry.package.as_ref().is_none_or(|p| *p == v.package)
                {
                    matched += 1;
                    if !expired && v.suppressed.is_none() {
                        v.suppressed = Some(format!("{} (until {})", entry.reason, entry.expires));
                    }
                }
            }
            for c in ev.compliance.iter_mut() {
                if c.id.eq_ignore_ascii_case(&entry.id) {
                    matched += 1;
                    if !expired && c.suppressed.is_none() {
                        c.suppressed = Some(format!("{} (until {})", entry.reason, entry.expires));
                    }
                }
            }
            if expired {
                notes.push(format!(
                    "ignore entry `{}` ({}) expired on {} and no longer suppresses anything{}",
                    entry.id,
                    entry.at,
                    entry.expires,
                    if matched > 0 {
                        format!(" ({matched} finding(s) counted again)")
                    } else {
                        String::new()
                    }
                ));
            }
        }
    }

    /// The vulnerability threshold (`fail_on`, `only_fixed`), and a note of the suppressed count.
    fn check_threshold(
        &self,
        ev: &Evaluation<'_>,
        failures: &mut Vec<PolicyFailure>,
        notes: &mut Vec<String>,
    ) {
        if let Some(threshold) = self.fail_on {
            let failing: Vec<&Vulnerability> = ev
                .vulnerabilities
                .iter()
                .filter(|v| v.suppressed.is_none() && v.severity >= threshold)
                .filter(|v| !self.only_fixed || v.fixed.as_deref().is_some_and(|f| !f.is_empty()))
                .collect();
            if !failing.is_empty() {
                let mut ids: Vec<String> = failing.iter().map(|v| v.id.clone()).collect();
                ids.sort();
                ids.dedup();
                failures.push(PolicyFailure {
                    rule: "severity-threshold".into(),
                    message: format!(
                        "{} vulnerabilit{} at or above {}{} ({})",
                        failing.len(),
                        if failing.len() == 1 { "y" } else { "ies" },
                        threshold.as_str(),
                        if self.only_fixed {
                            " with a fix available"
                        } else {
                            ""
                        },
                        counts_line(&failing)
                    ),
                    ids,
                });
            }
        }
        let by_vex = |v: &&Vulnerability| v.vex.as_ref().is_some_and(|x| x.status.suppresses());
        let suppressed = ev
            .vulnerabilities
            .iter()
            .filter(|v| v.suppressed.is_some() && !by_vex(v))
            .count();
        let plural = |n: usize| if n == 1 { "y" } else { "ies" };
        if suppressed > 0 {
            notes.push(format!(
                "{suppressed} vulnerabilit{} suppressed by ignore entries",
                plural(suppressed)
            ));
        }
        let vex = ev.vulnerabilities.iter().filter(by_vex).count();
        if vex > 0 {
            notes.push(format!(
                "{vex} vulnerabilit{} suppressed by VEX statements (not_affected or fixed)",
                plural(vex)
            ));
        }
    }

    /// A failed scanner fails; a missing or disabled one fails when the policy requires a scan
    /// (for this event), else it is noted.
    fn check_scanner(
        &self,
        ev: &Evaluation<'_>,
        failures: &mut Vec<PolicyFailure>,
        notes: &mut Vec<String>,
    ) {
        match ev.scanner {
            ScannerStatus::Failed => failures.push(PolicyFailure {
                rule: "vulnerability-scan".into(),
                message: "Trivy failed, so vulnerabilities are unknown".into(),
                ids: Vec::new(),
            }),
            ScannerStatus::Unavailable | ScannerStatus::Disabled if self.require_scan => {
                let why = if ev.scanner == ScannerStatus::Disabled {
                    "vulnerability scanning is disabled (`--trivy off`, the scan action's `trivy: off`)"
                } else {
                    "the image was not scanned for vulnerabilities (Trivy is not available)"
                };
                let when = match &self.event {
                    Some(e) if self.require_scan_events.is_some() => {
                        format!("a scan on `{e}` events")
                    }
                    _ => "a scan".into(),
                };
                failures.push(PolicyFailure {
                    rule: "vulnerability-scan".into(),
                    message: format!(
                        "{why} and the policy requires {when} (vulnerabilities.require_scan): give the scan a Trivy, or take the event out of require_scan to accept unscanned images"
                    ),
                    ids: Vec::new(),
                })
            }
            ScannerStatus::Unavailable => {
                notes.push("vulnerabilities were not scanned: Trivy is not available".into())
            }
            ScannerStatus::Disabled => {
                notes.push("vulnerability scan disabled (--trivy off)".into())
            }
            ScannerStatus::Scanned => {}
        }
    }

    /// Failed required compliance checks that are neither suppressed nor optional for the image.
    fn check_required(
        &self,
        ev: &Evaluation<'_>,
        failures: &mut Vec<PolicyFailure>,
        notes: &mut Vec<String>,
    ) {
        let mut failed_ids = Vec::new();
        for c in ev.compliance.iter() {
            if c.status != CheckStatus::Fail {
                continue;
            }
            let required = match &self.required {
                Required::All => true,
                Required::None => false,
                Required::Only(ids) => ids.iter().any(|i| i.eq_ignore_ascii_case(&c.id)),
            };
            if !required {
                continue;
            }
            if let Some(s) = &c.suppressed {
                notes.push(format!("check {} failed but is suppressed: {s}", c.id));
                continue;
            }
            if let Some(o) = self.optional.iter().find(|o| {
                o.id.eq_ignore_ascii_case(&c.id)
                    && o.image.as_ref().is_none_or(|s| s.matches(ev.names))
            }) {
                notes.push(format!(
                    "check {} failed but is optional for this image: {}",
                    c.id, o.reason
                ));
                continue;
            }
            failed_ids.push(c.id.clone());
        }
        if !failed_ids.is_empty() {
            failures.push(PolicyFailure {
                rule: "required-check".into(),
                message: format!(
                    "{} required compliance check{} failed: {}",
                    failed_ids.len(),
                    if failed_ids.len() == 1 { "" } else { "s" },
                    failed_ids.join(", ")
                ),
                ids: failed_ids,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_default_parses() {
        let p = Policy::load(None).unwrap();
        assert_eq!(p.fail_on, Some(Severity::High));
        assert_eq!(p.required, Required::All);
        assert!(!p.unnecessary_packages.is_empty());
        // The workflows' events require a scan; a local run (no event) does not.
        for e in ["schedule", "workflow_dispatch", "pull_request"] {
            assert!(p.clone().for_event(Some(e)).require_scan, "{e}");
        }
        assert!(!p.clone().for_event(None).require_scan);
    }

    #[test]
    fn require_scan_events_are_checked() {
        let e = Policy::parse(
            "schema: 1\nvulnerabilities:\n  require_scan: [nightly]\n",
            "p.yaml",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("p.yaml:3:") && e.contains("`nightly`") && e.contains("schedule"),
            "{e}"
        );
        let p = Policy::parse(
            "schema: 1\nvulnerabilities:\n  require_scan: true\n",
            "p.yaml",
        )
        .unwrap();
        assert!(
            p.for_event(None).require_scan,
            "true holds without an event"
        );
    }

    #[test]
    fn bad_dates_are_located() {
        let text = "schema: 1\nignore:\n  - id: CVE-2024-1\n    reason: accepted\n    expires: 2024-02-30\n";
        let e = Policy::parse(text, "p.yaml").unwrap_err().to_string();
        assert!(e.starts_with("p.yaml:5:"), "{e}");
        assert!(e.contains("2024-02-30") && e.contains("YYYY-MM-DD"), "{e}");
    }

    #[test]
    fn unknown_keys_and_checks_are_errors() {
        let e = Policy::parse("schema: 1\nvulnerabilites: {}\n", "p.yaml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("vulnerabilites"), "{e}");
        let e = Policy::parse(
            "schema: 1\ncompliance:\n  required: [GOLDEN-NOPE-001]\n",
            "p.yaml",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("GOLDEN-NOPE-001") && e.contains("p.yaml:3:"),
            "{e}"
        );
        let e = Policy::parse("schema: 1\nvulnerabilities:\n  fail_on: severe\n", "p.yaml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("p.yaml:3:") && e.contains("severe"), "{e}");
        let e = Policy::parse("schema: 2\n", "p.yaml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("schema 2"), "{e}");
    }
}

#[cfg(test)]
mod deny_tests {
    use super::*;

    #[test]
    fn version_ranges() {
        let r = VersionRange::parse(">=2.0.0, <2.17.1").unwrap();
        assert!(r.contains("2.14.1"));
        assert!(r.contains("2.0.0"));
        assert!(r.contains("2.17.0"));
        assert!(!r.contains("2.17.1"));
        assert!(!r.contains("2.17.2"));
        assert!(!r.contains("1.2.17"));
        assert!(!r.contains(""));
        assert!(
            !r.contains("2.0-beta9"),
            "a pre-release of 2.0.0 is before it"
        );
        let from_beta = VersionRange::parse(">=2.0-beta9, <2.17.1").unwrap();
        assert!(from_beta.contains("2.0-beta9"));
        assert!(from_beta.contains("2.0"));
        assert!(from_beta.contains("2.0-rc1"));
        assert!(!from_beta.contains("2.0-beta8"));
        assert!(!from_beta.contains("1.2.17"));
        assert!(VersionRange::parse("2.0").is_err());
        assert!(VersionRange::parse(">=").is_err());
        assert_eq!(compare_versions("1.10", "1.9"), std::cmp::Ordering::Greater);
        assert_eq!(
            compare_versions("1.0.rc1", "1.0.0"),
            std::cmp::Ordering::Less
        );
    }

    #[test]
    fn deny_entries_match_purls_and_errors_are_located() {
        let p = Policy::parse(
            "schema: 1\ndeny_packages:\n  - purl: pkg:maven/org.apache.logging.log4j/log4j-core\n    versions: \">=2.0.0, <2.17.1\"\n    reason: Log4Shell\n",
            "p.yaml",
        )
        .unwrap();
        let pkg = |purl: &str, v: &str| Package {
            name: "log4j-core".into(),
            version: v.into(),
            kind: "maven".into(),
            purl: Some(purl.into()),
            ..Package::default()
        };
        let d = &p.deny_packages[0];
        assert!(d.matches(&pkg(
            "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
            "2.14.1"
        )));
        assert!(!d.matches(&pkg(
            "pkg:maven/org.apache.logging.log4j/log4j-core@2.17.1",
            "2.17.1"
        )));
        assert!(!d.matches(&pkg("pkg:maven/other/log4j-core@2.14.1", "2.14.1")));
        let e = Policy::parse(
            "schema: 1\ndeny_packages:\n  - purl: pkg:pypi/x\n    versions: \"2.0\"\n    reason: r\n",
            "p.yaml",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("p.yaml:4:") && e.contains("deny_packages[0].versions"),
            "{e}"
        );
        let e = Policy::parse(
            "schema: 1\ndeny_packages:\n  - purl: log4j\n    reason: r\n",
            "p.yaml",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("p.yaml:3:") && e.contains("not a package URL"),
            "{e}"
        );
    }
}
