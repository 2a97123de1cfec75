//! The catalog model (`configs/build-config.yaml`): raw YAML types with source locations, and
//! the validated [`Catalog`] the planner expands.
//!
//! Loading never stops at the first problem: every semantic problem is collected with its
//! location, so one run of `golden-plan --check` shows them all. The semantic checks (raw model
//! → [`Catalog`]) live in the `validate` submodule, one file per part of the config.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::diag::{Diagnostic, Diagnostics, Pos};

mod validate;

/// Base OS families the hardening scripts support.
pub const KNOWN_OS: [&str; 3] = ["alpine", "debian", "redhat"];
/// Build args the planner/builder set themselves; the config may not set them.
pub const RESERVED_BUILD_ARGS: [&str; 2] = ["BASE_IMAGE", "UPSTREAM"];
pub const CONFIG_SCHEMA: u32 = 1;

type S<T> = Spanned<T>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    schema: S<u32>,
    registry: S<RawRegistry>,
    #[serde(default)]
    scan: Option<S<RawScan>>,
    #[serde(default)]
    shared_paths: Option<S<Vec<S<String>>>>,
    bases: S<Vec<S<RawBase>>>,
    platforms: S<Vec<S<RawPlatform>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRegistry {
    host: S<String>,
    namespace: S<String>,
    #[serde(default)]
    default_branch: Option<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScan {
    policy: S<String>,
    #[serde(default)]
    trivy_version: Option<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBase {
    os: S<String>,
    version: S<String>,
    upstream: S<String>,
    dockerfile: S<String>,
    #[serde(default)]
    context: Option<S<String>>,
    harden_script: S<String>,
    #[serde(default)]
    files: Option<Vec<S<String>>>,
    #[serde(default)]
    build_args: Option<S<BTreeMap<String, String>>>,
    #[serde(default)]
    bootstrap: Option<S<RawBootstrap>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBootstrap {
    suite: S<String>,
    variant: S<String>,
    #[serde(default)]
    components: Option<Vec<String>>,
    #[serde(default)]
    mirror: Option<S<String>>,
    #[serde(default)]
    snapshot: Option<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlatform {
    name: S<String>,
    dockerfile: S<String>,
    #[serde(default)]
    context: Option<S<String>>,
    #[serde(default)]
    files: Option<Vec<S<String>>>,
    #[serde(default)]
    policy: Option<S<String>>,
    versions: S<Vec<S<RawVersion>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVersion {
    version: S<String>,
    bases: S<Vec<S<String>>>,
    #[serde(default)]
    build_args: Option<S<BTreeMap<String, String>>>,
    #[serde(default)]
    vendor_repo: Option<S<String>>,
    #[serde(default)]
    dockerfile: Option<S<String>>,
    #[serde(default)]
    policy: Option<S<String>>,
}

/// A repository-relative path mentioned by the config, with where it was mentioned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathRef {
    pub path: String,
    pub key: String,
    pub pos: Pos,
    /// Directory (context) rather than file.
    pub dir: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registry {
    pub host: String,
    /// The release namespace: consumers pull its moving tags; cache sources and published
    /// bases are read from it.
    pub namespace: String,
    pub default_branch: String,
    /// The staging namespace (GOLDEN_STAGING_NAMESPACE): when set, images are pushed under it
    /// with per-run tags only (dated, commit, pull request); the moving tags stay in `namespace`
    /// and move only through a promotion (docs/governance.md).
    pub staging: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bootstrap {
    pub suite: String,
    pub variant: String,
    pub components: Vec<String>,
    pub mirror: Option<String>,
    pub snapshot: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Base {
    pub os: String,
    pub version: String,
    pub upstream: String,
    /// Where `upstream` is written (for `golden-plan upstreams` messages and `--write`).
    pub upstream_pos: Pos,
    pub dockerfile: String,
    pub context: String,
    pub harden_script: String,
    pub files: Vec<String>,
    pub build_args: BTreeMap<String, String>,
    pub bootstrap: Option<Bootstrap>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformVersion {
    pub version: String,
    pub bases: Vec<String>,
    pub build_args: BTreeMap<String, String>,
    pub vendor_repo: Option<String>,
    pub dockerfile: String,
    pub policy: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    pub name: String,
    pub dockerfile: String,
    pub context: String,
    pub files: Vec<String>,
    pub versions: Vec<PlatformVersion>,
}

/// The validated catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catalog {
    /// Config path as given (used in messages and in the plan).
    pub path: String,
    pub registry: Registry,
    pub policy: String,
    pub trivy_version: Option<String>,
    pub shared_paths: Vec<String>,
    pub bases: Vec<Base>,
    pub platforms: Vec<Platform>,
    /// Every path the config mentions (for `--check`).
    pub path_refs: Vec<PathRef>,
}

impl Catalog {
    pub fn base(&self, os: &str) -> Option<&Base> {
        self.bases.iter().find(|b| b.os == os)
    }
}

/// Overrides of the registry settings (environment, acr-config.env).
#[derive(Debug, Clone, Default)]
pub struct RegistryOverride {
    pub host: Option<String>,
    pub namespace: Option<String>,
    /// GOLDEN_STAGING_NAMESPACE.
    pub staging: Option<String>,
}

/// A version string: starts with a digit, then letters, digits, `.`, `-`, `_`; usable in a tag.
pub fn valid_version(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 64
        && v.starts_with(|c: char| c.is_ascii_digit())
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_')
        && !v.contains("..")
        && !v.ends_with('.')
        && !v.ends_with('-')
}

/// A repository name component: lowercase letters, digits, and single `-`/`.`/`_` separators.
pub fn valid_name(n: &str) -> bool {
    !n.is_empty()
        && n.len() <= 64
        && n.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && n.ends_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && n.chars().all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.' || c == '_'
        })
}

fn valid_host(h: &str) -> bool {
    let (host, port) = match h.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (h, None),
    };
    let port_ok =
        port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.chars().all(|c| c.is_ascii_digit()));
    port_ok
        && !host.is_empty()
        && host.split('.').all(|l| {
            !l.is_empty()
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !l.starts_with('-')
        })
}

fn valid_arg_name(k: &str) -> bool {
    k.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A repository-relative path: not absolute, no `..`, no backslashes.
fn valid_rel_path(p: &str) -> bool {
    !p.is_empty() && !p.starts_with('/') && !p.contains('\\') && p.split('/').all(|c| c != "..")
}

fn normalize_rel(p: &str) -> String {
    let t = p.trim_start_matches("./");
    if t.is_empty() {
        ".".to_string()
    } else {
        t.trim_end_matches('/').to_string()
    }
}

/// Render a serde-saphyr error as `file:line:col: message` (first line of its rendering, the
/// snippet lines indented below).
fn syntax_diagnostic(file: &str, err: &serde_saphyr::Error) -> Diagnostic {
    let p: Pos = err.location().map(Pos::from).unwrap_or_default();
    let rendered = err.to_string();
    let mut lines = rendered.lines();
    let first = lines.next().unwrap_or("invalid YAML").trim();
    // serde-saphyr prefixes "error: line N column M: "; keep only the message.
    let msg = first
        .trim_start_matches("error: ")
        .split_once(": ")
        .filter(|(head, _)| head.starts_with("line "))
        .map(|(_, m)| m.to_string())
        .unwrap_or_else(|| first.to_string());
    let key = unknown_field_key(&msg);
    let msg = match msg.as_str() {
        "expected sequence start" => {
            "wrong type: expected a list (`[a, b]` or `- item` lines)".to_string()
        }
        "expected mapping start" => {
            "wrong type: expected a mapping (`key: value` lines)".to_string()
        }
        "expected string scalar" => "wrong type: expected a string".to_string(),
        _ => msg,
    };
    let hint = if msg.contains("unknown field") {
        "check the spelling; every key is listed in docs/config.md"
    } else if msg.contains("invalid type")
        || msg.contains("wrong type")
        || msg.contains("invalid value")
    {
        "check the value's type (quote versions like \"3.20\" so YAML keeps them as strings)"
    } else if msg.contains("missing field") {
        "add the required key (see docs/config.md)"
    } else {
        "fix the YAML syntax at this position"
    };
    Diagnostic::new(file, p, key, msg).hint(hint)
}

fn unknown_field_key(msg: &str) -> String {
    // "unknown field `contxt`, expected one of ..." → "contxt"
    msg.split('`')
        .nth(1)
        .filter(|_| msg.contains("field"))
        .unwrap_or("")
        .to_string()
}

/// Parse and validate a config text. `file` is used in every message.
pub fn load_str(
    file: &str,
    text: &str,
    overrides: &RegistryOverride,
) -> Result<Catalog, Diagnostics> {
    let raw: RawConfig =
        serde_saphyr::from_str(text).map_err(|e| Diagnostics(vec![syntax_diagnostic(file, &e)]))?;
    validate::validate(file, raw, overrides)
}

/// Read `KEY=VALUE` lines (comments and blanks ignored) of an env file such as
/// `configs/acr-config.env`.
pub fn parse_env_file(file: &str, text: &str) -> Result<BTreeSet<(String, String)>, Diagnostic> {
    let mut out = BTreeSet::new();
    for (i, line) in text.lines().enumerate() {
        let l = line.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let l = l.strip_prefix("export ").unwrap_or(l);
        match l.split_once('=') {
            Some((k, v)) if valid_arg_name(k.trim()) => {
                let v = v.trim().trim_matches('"').trim_matches('\'');
                out.insert((k.trim().to_string(), v.to_string()));
            }
            _ => {
                return Err(Diagnostic::new(
                    file,
                    Pos {
                        line: i as u64 + 1,
                        column: 1,
                    },
                    "",
                    format!("`{l}` is not KEY=VALUE"),
                )
                .hint("one KEY=VALUE per line; `#` starts a comment"));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_and_names() {
        for v in ["12", "3.20", "8.0", "10.1", "1.22.1-r0", "17"] {
            assert!(valid_version(v), "{v}");
        }
        for v in ["", "v1", "1..2", "1.", "a b", "1/2", "latest"] {
            assert!(!valid_version(v), "{v}");
        }
        assert!(
            valid_name("nginx")
                && valid_name("spring-boot")
                && !valid_name("Nginx")
                && !valid_name("-x")
        );
        assert!(
            valid_host("127.0.0.1:5000")
                && valid_host("x.azurecr.io")
                && !valid_host("a b")
                && !valid_host("x:port")
        );
    }

    #[test]
    fn env_file_parsing() {
        let set = parse_env_file(
            "a.env",
            "# c\nACR_LOGIN_SERVER=x.azurecr.io\nexport IMAGE_NAMESPACE=\"g\"\n",
        )
        .unwrap();
        assert!(set.contains(&("IMAGE_NAMESPACE".into(), "g".into())));
        let e = parse_env_file("a.env", "ok=1\nnot a line\n").unwrap_err();
        assert_eq!(e.pos.line, 2);
    }
}
