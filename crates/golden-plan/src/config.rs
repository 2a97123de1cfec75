//! The catalog model (`configs/build-config.yaml`): raw YAML types with source locations, and
//! the validated [`Catalog`] the planner expands.
//!
//! Loading never stops at the first problem: every semantic problem is collected with its
//! location, so one run of `golden-plan --check` shows them all.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::diag::{Diagnostic, Diagnostics, Pos, closest};

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
    pub namespace: String,
    pub default_branch: String,
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
}

fn pos<T>(s: &Spanned<T>) -> Pos {
    s.referenced.into()
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
    validate(file, raw, overrides)
}

fn validate(
    file: &str,
    raw: RawConfig,
    overrides: &RegistryOverride,
) -> Result<Catalog, Diagnostics> {
    let mut d: Vec<Diagnostic> = Vec::new();
    let mut refs: Vec<PathRef> = Vec::new();
    let mut add_ref = |path: &str, key: String, p: Pos, dir: bool, d: &mut Vec<Diagnostic>| {
        if valid_rel_path(path) {
            refs.push(PathRef {
                path: normalize_rel(path),
                key,
                pos: p,
                dir,
            });
        } else {
            d.push(
                Diagnostic::new(
                    file,
                    p,
                    key,
                    format!("path `{path}` must be relative to the repository root, without `..`"),
                )
                .hint("write it like `platform-images/nginx/Dockerfile`"),
            );
        }
    };

    if raw.schema.value != CONFIG_SCHEMA {
        d.push(
            Diagnostic::new(
                file,
                pos(&raw.schema),
                "schema",
                format!("unsupported config schema {}", raw.schema.value),
            )
            .hint(format!("this golden-plan reads schema {CONFIG_SCHEMA}")),
        );
    }

    // Registry.
    let reg = &raw.registry.value;
    let host = overrides
        .host
        .clone()
        .unwrap_or_else(|| reg.host.value.clone());
    let namespace = overrides
        .namespace
        .clone()
        .unwrap_or_else(|| reg.namespace.value.clone());
    if !valid_host(&host) {
        let (p, src) = if overrides.host.is_some() {
            (Pos::default(), " (from the environment / acr-config.env)")
        } else {
            (pos(&reg.host), "")
        };
        d.push(
            Diagnostic::new(
                file,
                p,
                "registry.host",
                format!("`{host}` is not a registry host[:port]{src}"),
            )
            .hint("for ACR use the login server, e.g. myregistry.azurecr.io"),
        );
    }
    if namespace.split('/').any(|c| !valid_name(c)) {
        let p = if overrides.namespace.is_some() {
            Pos::default()
        } else {
            pos(&reg.namespace)
        };
        d.push(
            Diagnostic::new(
                file,
                p,
                "registry.namespace",
                format!("`{namespace}` is not a valid repository namespace"),
            )
            .hint("use lowercase letters, digits and `-`, e.g. `golden` or `platform/golden`"),
        );
    }
    let default_branch = reg
        .default_branch
        .as_ref()
        .map(|b| b.value.clone())
        .unwrap_or_else(|| "main".into());

    // Scan policy.
    let (policy, trivy_version) = match &raw.scan {
        Some(s) => {
            add_ref(
                &s.value.policy.value,
                "scan.policy".into(),
                pos(&s.value.policy),
                false,
                &mut d,
            );
            (
                normalize_rel(&s.value.policy.value),
                s.value.trivy_version.as_ref().map(|v| v.value.clone()),
            )
        }
        None => ("configs/policy.yaml".to_string(), None),
    };
    if let Some(v) = &trivy_version
        && !valid_version(v)
    {
        let p = raw
            .scan
            .as_ref()
            .and_then(|s| s.value.trivy_version.as_ref())
            .map(pos)
            .unwrap_or_default();
        d.push(
            Diagnostic::new(
                file,
                p,
                "scan.trivy_version",
                format!("`{v}` is not a version"),
            )
            .hint("pin an exact Trivy release, e.g. \"0.69.3\""),
        );
    }

    let shared_paths: Vec<String> = raw
        .shared_paths
        .as_ref()
        .map(|s| s.value.iter().map(|p| normalize_rel(&p.value)).collect())
        .unwrap_or_else(|| vec!["scripts/harden-common.sh".to_string()]);

    // Bases.
    if raw.bases.value.is_empty() {
        d.push(
            Diagnostic::new(
                file,
                pos(&raw.bases),
                "bases",
                "no base images: the matrix would be empty",
            )
            .hint("declare at least one base (alpine, debian or redhat)"),
        );
    }
    let mut bases = Vec::new();
    let mut seen_os: BTreeMap<String, Pos> = BTreeMap::new();
    for (i, b) in raw.bases.value.iter().enumerate() {
        let rb = &b.value;
        let k = |f: &str| format!("bases[{i}].{f}");
        let os = rb.os.value.clone();
        if !KNOWN_OS.contains(&os.as_str()) {
            let mut diag = Diagnostic::new(
                file,
                pos(&rb.os),
                k("os"),
                format!("unknown base OS `{os}` (known: {})", KNOWN_OS.join(", ")),
            );
            diag = match closest(&os, KNOWN_OS) {
                Some(c) => diag.hint(format!("did you mean `{c}`?")),
                None => diag.hint(
                    "each base OS needs its own hardening script; add one before adding an OS",
                ),
            };
            d.push(diag);
        }
        if let Some(first) = seen_os.get(&os) {
            d.push(
                Diagnostic::new(
                    file,
                    pos(&rb.os),
                    k("os"),
                    format!(
                        "duplicate base id `base-{os}` (first declared at line {})",
                        first.line
                    ),
                )
                .hint("declare each base OS once"),
            );
        } else {
            seen_os.insert(os.clone(), pos(&rb.os));
        }
        if !valid_version(&rb.version.value) {
            d.push(bad_version(
                file,
                pos(&rb.version),
                k("version"),
                &rb.version.value,
            ));
        }
        match golden_oci::Reference::parse(&rb.upstream.value) {
            Ok(r) if r.digest.is_none() || r.tag.is_none() => d.push(
                Diagnostic::new(
                    file,
                    pos(&rb.upstream),
                    k("upstream"),
                    format!(
                        "upstream `{}` is not pinned as name:tag@sha256:...",
                        rb.upstream.value
                    ),
                )
                .hint("pin the upstream by tag and digest so builds are repeatable"),
            ),
            Ok(_) => {}
            Err(e) => d.push(
                Diagnostic::new(file, pos(&rb.upstream), k("upstream"), e.to_string())
                    .hint("write it like docker.io/library/debian:bookworm-slim@sha256:<64 hex>"),
            ),
        }
        add_ref(
            &rb.dockerfile.value,
            k("dockerfile"),
            pos(&rb.dockerfile),
            false,
            &mut d,
        );
        add_ref(
            &rb.harden_script.value,
            k("harden_script"),
            pos(&rb.harden_script),
            false,
            &mut d,
        );
        let context = rb
            .context
            .as_ref()
            .map(|c| c.value.clone())
            .unwrap_or_else(|| ".".into());
        if let Some(c) = &rb.context {
            add_ref(&c.value, k("context"), pos(c), true, &mut d);
        }
        let mut files = Vec::new();
        for (j, f) in rb.files.iter().flatten().enumerate() {
            add_ref(&f.value, k(&format!("files[{j}]")), pos(f), false, &mut d);
            files.push(normalize_rel(&f.value));
        }
        let build_args = check_args(file, &rb.build_args, &k("build_args"), &mut d);
        let bootstrap = rb.bootstrap.as_ref().map(|bs| {
            let v = &bs.value;
            if os != "debian" {
                d.push(
                    Diagnostic::new(
                        file,
                        pos(bs),
                        k("bootstrap"),
                        format!("bootstrap is only supported for debian, not `{os}`"),
                    )
                    .hint("remove the bootstrap section from this base"),
                );
            }
            if ![
                "minbase",
                "essential",
                "apt",
                "required",
                "important",
                "standard",
                "buildd",
                "custom",
                "extract",
            ]
            .contains(&v.variant.value.as_str())
            {
                d.push(
                    Diagnostic::new(
                        file,
                        pos(&v.variant),
                        k("bootstrap.variant"),
                        format!("unknown mmdebstrap variant `{}`", v.variant.value),
                    )
                    .hint("use minbase (smallest), essential or apt"),
                );
            }
            if v.suite.value.is_empty()
                || !v
                    .suite
                    .value
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            {
                d.push(
                    Diagnostic::new(
                        file,
                        pos(&v.suite),
                        k("bootstrap.suite"),
                        format!("`{}` is not a Debian suite name", v.suite.value),
                    )
                    .hint("e.g. bookworm"),
                );
            }
            if let Some(s) = &v.snapshot
                && !(s.value.len() == 16
                    && s.value.as_bytes()[8] == b'T'
                    && s.value.ends_with('Z')
                    && s.value[..8].chars().all(|c| c.is_ascii_digit())
                    && s.value[9..15].chars().all(|c| c.is_ascii_digit()))
            {
                d.push(
                    Diagnostic::new(
                        file,
                        pos(s),
                        k("bootstrap.snapshot"),
                        format!("`{}` is not a snapshot timestamp", s.value),
                    )
                    .hint("write it as YYYYMMDDTHHMMSSZ, e.g. 20250520T000000Z"),
                );
            }
            Bootstrap {
                suite: v.suite.value.clone(),
                variant: v.variant.value.clone(),
                components: v.components.clone().unwrap_or_else(|| vec!["main".into()]),
                mirror: v
                    .mirror
                    .as_ref()
                    .map(|m| m.value.clone())
                    .filter(|m| !m.is_empty()),
                snapshot: v.snapshot.as_ref().map(|m| m.value.clone()),
            }
        });
        bases.push(Base {
            os,
            version: rb.version.value.clone(),
            upstream: rb.upstream.value.clone(),
            dockerfile: normalize_rel(&rb.dockerfile.value),
            context: normalize_rel(&context),
            harden_script: normalize_rel(&rb.harden_script.value),
            files,
            build_args,
            bootstrap,
        });
    }
    let base_names: Vec<&str> = seen_os.keys().map(String::as_str).collect();

    // Platforms.
    if raw.platforms.value.is_empty() {
        d.push(Diagnostic::new(file, pos(&raw.platforms), "platforms", "no platforms declared")
            .hint("declare at least one platform, or remove the key to build bases only is not supported"));
    }
    let mut platforms = Vec::new();
    let mut seen_platform: BTreeMap<String, Pos> = BTreeMap::new();
    let mut seen_ids: BTreeMap<String, Pos> = BTreeMap::new();
    for (i, p) in raw.platforms.value.iter().enumerate() {
        let rp = &p.value;
        let k = |f: &str| format!("platforms[{i}].{f}");
        let name = rp.name.value.clone();
        if !valid_name(&name) || name == "base" || name.starts_with("base-") {
            d.push(Diagnostic::new(file, pos(&rp.name), k("name"), format!("`{name}` is not a valid platform name"))
                .hint("lowercase letters, digits and `-`; `base`/`base-*` are reserved for base images"));
        }
        if let Some(first) = seen_platform.get(&name) {
            d.push(
                Diagnostic::new(
                    file,
                    pos(&rp.name),
                    k("name"),
                    format!(
                        "duplicate platform `{name}` (first declared at line {})",
                        first.line
                    ),
                )
                .hint("declare each platform once and list its versions under `versions`"),
            );
        } else {
            seen_platform.insert(name.clone(), pos(&rp.name));
        }
        add_ref(
            &rp.dockerfile.value,
            k("dockerfile"),
            pos(&rp.dockerfile),
            false,
            &mut d,
        );
        if let Some(c) = &rp.context {
            add_ref(&c.value, k("context"), pos(c), true, &mut d);
        }
        let mut files = Vec::new();
        for (j, f) in rp.files.iter().flatten().enumerate() {
            add_ref(&f.value, k(&format!("files[{j}]")), pos(f), false, &mut d);
            files.push(normalize_rel(&f.value));
        }
        let platform_policy = rp.policy.as_ref().map(|pp| {
            add_ref(&pp.value, k("policy"), pos(pp), false, &mut d);
            normalize_rel(&pp.value)
        });
        if rp.versions.value.is_empty() {
            d.push(
                Diagnostic::new(
                    file,
                    pos(&rp.versions),
                    k("versions"),
                    format!("platform `{name}` has no versions: the matrix would be empty"),
                )
                .hint("add a version with the bases it supports"),
            );
        }
        let mut versions = Vec::new();
        for (j, v) in rp.versions.value.iter().enumerate() {
            let rv = &v.value;
            let kv = |f: &str| format!("platforms[{i}].versions[{j}].{f}");
            if !valid_version(&rv.version.value) {
                d.push(bad_version(
                    file,
                    pos(&rv.version),
                    kv("version"),
                    &rv.version.value,
                ));
            }
            if rv.bases.value.is_empty() {
                d.push(
                    Diagnostic::new(
                        file,
                        pos(&rv.bases),
                        kv("bases"),
                        "empty list of bases: this version would build nothing",
                    )
                    .hint(format!("list at least one of: {}", base_names.join(", "))),
                );
            }
            let mut vbases = Vec::new();
            for (m, b) in rv.bases.value.iter().enumerate() {
                let bn = b.value.clone();
                if !seen_os.contains_key(&bn) {
                    let mut diag = Diagnostic::new(
                        file,
                        pos(b),
                        kv(&format!("bases[{m}]")),
                        format!("unknown base `{bn}`, known: {}", base_names.join(", ")),
                    );
                    if let Some(c) = closest(&bn, base_names.iter().copied()) {
                        diag = diag.hint(format!("did you mean `{c}`?"));
                    } else {
                        diag = diag.hint("declare the base under `bases` first");
                    }
                    d.push(diag);
                    continue;
                }
                let id = format!("{name}-{}-{bn}", rv.version.value);
                if let Some(first) = seen_ids.get(&id) {
                    d.push(
                        Diagnostic::new(
                            file,
                            pos(b),
                            kv(&format!("bases[{m}]")),
                            format!(
                                "duplicate image id `{id}` (first declared at line {})",
                                first.line
                            ),
                        )
                        .hint("each platform, version and base combination may appear once"),
                    );
                } else {
                    seen_ids.insert(id, pos(b));
                }
                vbases.push(bn);
            }
            let build_args = check_args(file, &rv.build_args, &kv("build_args"), &mut d);
            let dockerfile = match &rv.dockerfile {
                Some(df) => {
                    add_ref(&df.value, kv("dockerfile"), pos(df), false, &mut d);
                    normalize_rel(&df.value)
                }
                None => normalize_rel(&rp.dockerfile.value),
            };
            let policy = match &rv.policy {
                Some(pp) => {
                    add_ref(&pp.value, kv("policy"), pos(pp), false, &mut d);
                    normalize_rel(&pp.value)
                }
                None => platform_policy.clone().unwrap_or_else(|| policy.clone()),
            };
            if let Some(vr) = &rv.vendor_repo
                && !valid_name(&vr.value)
            {
                d.push(
                    Diagnostic::new(
                        file,
                        pos(vr),
                        kv("vendor_repo"),
                        format!("`{}` is not a valid vendor repository name", vr.value),
                    )
                    .hint("a short lowercase name such as `microsoft`"),
                );
            }
            versions.push(PlatformVersion {
                version: rv.version.value.clone(),
                bases: vbases,
                build_args,
                vendor_repo: rv.vendor_repo.as_ref().map(|v| v.value.clone()),
                dockerfile,
                policy,
            });
        }
        platforms.push(Platform {
            name,
            dockerfile: normalize_rel(&rp.dockerfile.value),
            context: rp
                .context
                .as_ref()
                .map(|c| normalize_rel(&c.value))
                .unwrap_or_else(|| ".".into()),
            files,
            versions,
        });
    }

    if !d.is_empty() {
        return Err(Diagnostics(d));
    }
    Ok(Catalog {
        path: file.to_string(),
        registry: Registry {
            host,
            namespace,
            default_branch,
        },
        policy,
        trivy_version,
        shared_paths,
        bases,
        platforms,
        path_refs: refs,
    })
}

fn bad_version(file: &str, p: Pos, key: String, v: &str) -> Diagnostic {
    Diagnostic::new(file, p, key, format!("`{v}` is not a valid version"))
        .hint("start with a digit, then letters, digits, `.`, `-`, `_` (it becomes part of the image tag); quote it in YAML")
}

fn check_args(
    file: &str,
    args: &Option<Spanned<BTreeMap<String, String>>>,
    key: &str,
    d: &mut Vec<Diagnostic>,
) -> BTreeMap<String, String> {
    let Some(a) = args else {
        return BTreeMap::new();
    };
    for k in a.value.keys() {
        if !valid_arg_name(k) {
            d.push(
                Diagnostic::new(
                    file,
                    pos(a),
                    format!("{key}.{k}"),
                    format!("`{k}` is not a valid build arg name"),
                )
                .hint("letters, digits and `_`, not starting with a digit"),
            );
        } else if RESERVED_BUILD_ARGS.contains(&k.as_str()) {
            d.push(
                Diagnostic::new(
                    file,
                    pos(a),
                    format!("{key}.{k}"),
                    format!("`{k}` is set by the planner/builder and cannot be configured"),
                )
                .hint("BASE_IMAGE comes from the base entry, UPSTREAM from the base's `upstream`"),
            );
        }
    }
    a.value.clone()
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
