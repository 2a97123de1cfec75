//! Compliance checks (CIS Docker Benchmark section 4, Dockle checkpoints, our hardening rules).
//!
//! Each check has a stable id, a CIS reference and a Dockle code where one matches, a status
//! and evidence (paths, keys, history lines: never secret values). Checks that need the
//! filesystem report `skip` when only an image config is available.

use std::collections::BTreeMap;

use golden_contracts::scan::{CheckStatus, ComplianceResult, Package};
use golden_oci::ImageConfigFile;

use crate::archive::LayerSecret;
use crate::catalog::{
    ADD, CACHE_APK, CACHE_APT, CACHE_RPM, DEFS, FILES, HARDEN, HEALTHCHECK, IDS, PASSWD, PERM, PKG,
    PORT, SECRET_ENV, SECRET_FILE, SECRET_KEY, SETUID, SUDO, UPDATE, UPGRADE, USER, VERIFY, VOLUME,
    def,
};
use crate::fs::Fs;
use crate::history::{self, Step};
use crate::layer::Kind;
use crate::policy::Policy;
use crate::secrets;

/// At most this many evidence lines per check (the rest are counted).
const EVIDENCE_LIMIT: usize = 50;

/// Inputs of the checks. `fs` is `None` when only an image config is known.
pub struct CheckInput<'a> {
    pub config: &'a ImageConfigFile,
    pub fs: Option<&'a Fs>,
    pub layer_secrets: &'a [LayerSecret],
    pub packages: &'a [Package],
    pub policy: &'a Policy,
    /// Names of the image (reference, tags, entry id) for the hardening scope.
    pub names: &'a [String],
}

/// Results of all checks and the parsed hardening manifest (when present).
pub struct CheckOutput {
    pub results: Vec<ComplianceResult>,
    pub hardening: Option<serde_json::Value>,
    pub warnings: Vec<String>,
}

fn result(id: &'static str, status: CheckStatus, mut evidence: Vec<String>) -> ComplianceResult {
    let d = def(id).unwrap_or(&DEFS[0]);
    if evidence.len() > EVIDENCE_LIMIT {
        let more = evidence.len() - EVIDENCE_LIMIT;
        evidence.truncate(EVIDENCE_LIMIT);
        evidence.push(format!("... and {more} more"));
    }
    ComplianceResult {
        id: d.id.to_string(),
        title: d.title.to_string(),
        cis: d.cis.map(str::to_string),
        dockle: d.dockle.map(str::to_string),
        remediation: (status == CheckStatus::Fail || status == CheckStatus::Warn)
            .then(|| d.remediation.to_string()),
        status,
        evidence,
        suppressed: None,
    }
}

fn pass_or(
    id: &'static str,
    fail: CheckStatus,
    evidence: Vec<String>,
    pass_note: &str,
) -> ComplianceResult {
    if evidence.is_empty() {
        result(id, CheckStatus::Pass, vec![pass_note.to_string()])
    } else {
        result(id, fail, evidence)
    }
}

fn skip(id: &'static str, why: &str) -> ComplianceResult {
    result(id, CheckStatus::Skip, vec![why.to_string()])
}

const NO_FS: &str = "needs the image filesystem (only the config was available)";

/// One entry of the image history, parsed.
struct HistoryStep {
    /// Index in `config.history` (the `history[i]` of the evidence).
    index: usize,
    /// Whether the step created a layer (it is not an `empty_layer`).
    creates_layer: bool,
    /// The parsed instruction.
    step: Step,
    /// The `created_by` line as recorded.
    raw: String,
}

/// History steps with their index in `config.history` and whether they created a layer.
fn steps(config: &ImageConfigFile) -> Vec<HistoryStep> {
    config
        .history
        .as_deref()
        .unwrap_or(&[])
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let raw = h.created_by.clone().unwrap_or_default();
            HistoryStep {
                index: i,
                creates_layer: h.empty_layer != Some(true),
                step: history::parse(&raw),
                raw,
            }
        })
        .collect()
}

/// Shorten a history line for evidence (keeps it on one line).
fn shown(raw: &str) -> String {
    let one: String = history::redact(raw)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if one.chars().count() > 200 {
        format!("{}...", one.chars().take(200).collect::<String>())
    } else {
        one
    }
}

fn has_all(cmd: &[&str], words: &[&str]) -> bool {
    words.iter().all(|w| cmd.contains(w))
}

pub fn run(input: &CheckInput<'_>) -> CheckOutput {
    let mut out = CheckOutput {
        results: Vec::new(),
        hardening: None,
        warnings: Vec::new(),
    };
    let steps = steps(input.config);
    let cfg = input.config.config.clone().unwrap_or_default();
    let passwd = input
        .fs
        .and_then(|fs| read_text(fs, "etc/passwd", &mut out.warnings));
    let group = input
        .fs
        .and_then(|fs| read_text(fs, "etc/group", &mut out.warnings));
    let shadow = input
        .fs
        .and_then(|fs| read_text(fs, "etc/shadow", &mut out.warnings));

    out.results.push(check_user(
        cfg.user.as_deref().unwrap_or(""),
        passwd.as_deref(),
        input.fs.is_some(),
    ));
    out.results.push(check_healthcheck(&cfg));
    out.results.push(check_update(&steps));
    out.results.push(match input.fs {
        Some(fs) => check_setuid(fs, input.policy),
        None => skip(SETUID, NO_FS),
    });
    out.results.push(check_add(&steps));
    out.results
        .push(check_secret_env(&cfg, &steps, input.policy));
    match input.fs {
        Some(fs) => {
            let (files, keys) = check_secret_files(fs, input.layer_secrets, input.policy);
            out.results.push(files);
            out.results.push(keys);
        }
        None => {
            out.results.push(skip(SECRET_FILE, NO_FS));
            out.results.push(skip(SECRET_KEY, NO_FS));
        }
    }
    out.results
        .push(check_verify(input.fs, &steps, &mut out.warnings));
    out.results.push(match (&shadow, &passwd) {
        (None, None) => skip(PASSWD, "no /etc/passwd or /etc/shadow in the image"),
        _ => check_passwd(passwd.as_deref(), shadow.as_deref()),
    });
    out.results.push(match (&passwd, &group) {
        (None, None) => skip(IDS, "no /etc/passwd or /etc/group in the image"),
        _ => check_ids(passwd.as_deref(), group.as_deref()),
    });
    out.results.push(match input.fs {
        Some(fs) => check_world_writable(fs, input.policy),
        None => skip(PERM, NO_FS),
    });
    out.results.push(check_cache_apt(input.fs, &steps));
    out.results.push(check_cache_apk(input.fs, &steps));
    out.results.push(check_cache_rpm(input.fs, &steps));
    out.results.push(match input.fs {
        Some(_) => check_packages(input.packages, input.policy),
        None => skip(PKG, NO_FS),
    });
    out.results.push(check_volumes(&cfg));
    out.results.push(check_ports(&cfg));
    let (harden, manifest) = match input.fs {
        Some(fs) => check_hardening(fs, input.config, input.names, input.policy),
        None => (skip(HARDEN, NO_FS), None),
    };
    out.hardening = manifest;
    out.results.push(harden);
    out.results.push(check_sudo(&steps));
    out.results.push(check_dist_upgrade(&steps));
    out.results.push(match input.fs {
        Some(fs) => check_files(fs),
        None => skip(FILES, NO_FS),
    });
    out
}

fn read_text(fs: &Fs, path: &str, warnings: &mut Vec<String>) -> Option<String> {
    match fs.read(path) {
        Ok(Some(b)) => Some(String::from_utf8_lossy(b).into_owned()),
        Ok(None) => {
            if fs.get(path).is_some_and(|n| n.kind == Kind::Symlink) {
                warnings.push(format!("/{path} is a symlink whose target was not read; checks that need it are skipped"));
            }
            None
        }
        Err(e) => {
            warnings.push(format!("cannot read {e}"));
            None
        }
    }
}

/// The fields of an `/etc/passwd` line that the checks read.
struct PasswdEntry {
    name: String,
    /// `None` when the uid field is missing or not a number.
    uid: Option<u64>,
    /// The password field (`x` when the password is in /etc/shadow).
    password: String,
}

/// Parse `/etc/passwd`.
fn passwd_entries(text: &str) -> Vec<PasswdEntry> {
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            PasswdEntry {
                name: f.first().unwrap_or(&"").to_string(),
                uid: f.get(2).and_then(|v| v.trim().parse().ok()),
                password: f.get(1).unwrap_or(&"").to_string(),
            }
        })
        .collect()
}

/// Does `Config.User` make the container run as root?
/// Returns (is_root, explanation).
pub fn user_is_root(user: &str, passwd: Option<&str>) -> (Option<bool>, String) {
    let user = user.trim();
    if user.is_empty() {
        return (Some(true), "no USER set: the container runs as root".into());
    }
    let name = user.split(':').next().unwrap_or("").trim();
    if name.is_empty() {
        return (
            Some(true),
            format!("USER `{user}` has an empty user part: root"),
        );
    }
    if let Ok(uid) = name.parse::<u64>() {
        return if uid == 0 {
            (Some(true), format!("USER `{user}`: uid 0 is root"))
        } else {
            (Some(false), format!("USER `{user}`: uid {uid}"))
        };
    }
    if name == "root" {
        return (Some(true), format!("USER `{user}` is root"));
    }
    match passwd {
        Some(text) => match passwd_entries(text).into_iter().find(|e| e.name == name) {
            Some(PasswdEntry { uid: Some(0), .. }) => (
                Some(true),
                format!("USER `{user}`: `{name}` has uid 0 in /etc/passwd"),
            ),
            Some(PasswdEntry { uid: Some(uid), .. }) => (
                Some(false),
                format!("USER `{user}`: `{name}` is uid {uid} in /etc/passwd"),
            ),
            Some(PasswdEntry { uid: None, .. }) => (
                None,
                format!("USER `{user}`: `{name}` has an unreadable uid in /etc/passwd"),
            ),
            None => (
                None,
                format!(
                    "USER `{user}`: `{name}` is not in /etc/passwd (the container will not start)"
                ),
            ),
        },
        None => (
            None,
            format!("USER `{user}`: no /etc/passwd to resolve `{name}`"),
        ),
    }
}

fn check_user(user: &str, passwd: Option<&str>, have_fs: bool) -> ComplianceResult {
    let (root, why) = user_is_root(user, passwd);
    match root {
        Some(true) => result(USER, CheckStatus::Fail, vec![why]),
        Some(false) => result(USER, CheckStatus::Pass, vec![why]),
        None if !have_fs => result(
            USER,
            CheckStatus::Warn,
            vec![format!(
                "{why}; user name not resolved without the filesystem"
            )],
        ),
        None => result(USER, CheckStatus::Warn, vec![why]),
    }
}

fn check_healthcheck(cfg: &golden_oci::ContainerConfig) -> ComplianceResult {
    match cfg.healthcheck.as_ref().and_then(|h| h.test.clone()) {
        None => result(
            HEALTHCHECK,
            CheckStatus::Fail,
            vec!["no HEALTHCHECK in the image config".into()],
        ),
        Some(t) if t.first().is_some_and(|f| f.eq_ignore_ascii_case("NONE")) => result(
            HEALTHCHECK,
            CheckStatus::Fail,
            vec!["HEALTHCHECK NONE disables the health check".into()],
        ),
        Some(t) if t.is_empty() => result(
            HEALTHCHECK,
            CheckStatus::Fail,
            vec!["HEALTHCHECK with an empty test".into()],
        ),
        Some(t) => result(
            HEALTHCHECK,
            CheckStatus::Pass,
            vec![format!("HEALTHCHECK {}", shown(&t.join(" ")))],
        ),
    }
}

fn check_update(steps: &[HistoryStep]) -> ComplianceResult {
    let mut ev = Vec::new();
    for s in steps {
        if s.step.instruction != "RUN" {
            continue;
        }
        let cmds = history::commands(&s.step.body);
        let any = |pred: &dyn Fn(&[&str]) -> bool| cmds.iter().any(|c| pred(c));
        let apt = |c: &[&str]| c.contains(&"apt-get") || c.contains(&"apt");
        let apt_update = any(&|c| apt(c) && c.contains(&"update"));
        let apt_install = any(&|c| apt(c) && c.contains(&"install"));
        let apk_update = any(&|c| has_all(c, &["apk", "update"]));
        let apk_add =
            any(&|c| c.contains(&"apk") && (c.contains(&"add") || c.contains(&"upgrade")));
        let rpm = |c: &[&str]| c.contains(&"yum") || c.contains(&"dnf") || c.contains(&"microdnf");
        let rpm_update =
            any(&|c| rpm(c) && (c.contains(&"makecache") || c.contains(&"check-update")));
        let rpm_install = any(&|c| {
            rpm(c) && (c.contains(&"install") || c.contains(&"update") || c.contains(&"upgrade"))
        });
        if (apt_update && !apt_install) || (apk_update && !apk_add) || (rpm_update && !rpm_install)
        {
            ev.push(format!("history[{}]: {}", s.index, shown(&s.raw)));
        }
    }
    pass_or(
        UPDATE,
        CheckStatus::Fail,
        ev,
        "no update instruction without an install in the same RUN",
    )
}

fn mode_str(mode: u32) -> String {
    format!("{:04o}", mode & 0o7777)
}

fn check_setuid(fs: &Fs, policy: &Policy) -> ComplianceResult {
    let mut ev = Vec::new();
    let mut allowed = 0usize;
    for (path, node) in fs.iter() {
        if node.kind != Kind::File || node.mode & 0o6000 == 0 {
            continue;
        }
        let abs = format!("/{path}");
        if policy.setuid_allowlist.iter().any(|g| g.matches(&abs)) {
            allowed += 1;
            continue;
        }
        let bits = match (node.mode & 0o4000 != 0, node.mode & 0o2000 != 0) {
            (true, true) => "setuid+setgid",
            (true, false) => "setuid",
            _ => "setgid",
        };
        ev.push(format!(
            "{abs} (mode {}, {bits}, owner {}:{})",
            mode_str(node.mode),
            node.uid,
            node.gid
        ));
    }
    let note = if allowed > 0 {
        format!("no setuid/setgid files outside the allowlist ({allowed} allowlisted)")
    } else {
        "no setuid/setgid files".into()
    };
    pass_or(SETUID, CheckStatus::Fail, ev, &note)
}

fn check_add(steps: &[HistoryStep]) -> ComplianceResult {
    // The base image's rootfs (`ADD file:... in /`) is the first layer-creating step: excused.
    let first_layer = steps.iter().find(|s| s.creates_layer).map(|s| s.index);
    let mut ev = Vec::new();
    for s in steps {
        if s.step.instruction == "ADD" && Some(s.index) != first_layer && s.index != 0 {
            ev.push(format!("history[{}]: {}", s.index, shown(&s.raw)));
        }
    }
    pass_or(ADD, CheckStatus::Fail, ev, "no ADD after the base layer")
}

fn check_secret_env(
    cfg: &golden_oci::ContainerConfig,
    steps: &[HistoryStep],
    policy: &Policy,
) -> ComplianceResult {
    let mut ev = Vec::new();
    for kv in cfg.env.as_deref().unwrap_or(&[]) {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        if !v.is_empty() && secrets::suspicious_key(k, &policy.accept_env_keys) {
            ev.push(format!("ENV {k} is set (value not shown)"));
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    for s in steps {
        for (k, v) in &s.step.build_args {
            if !v.is_empty()
                && secrets::suspicious_key(k, &policy.accept_env_keys)
                && seen.insert(k.clone())
            {
                ev.push(format!(
                    "history[{}]: build arg {k} is recorded in the history (value not shown)",
                    s.index
                ));
            }
        }
        if s.step.instruction == "ARG" {
            for word in s.step.body.split_whitespace() {
                if let Some((k, v)) = word.split_once('=')
                    && !v.is_empty()
                    && secrets::suspicious_key(k, &policy.accept_env_keys)
                    && seen.insert(k.to_string())
                {
                    ev.push(format!(
                        "history[{}]: ARG {k} has a default value (not shown)",
                        s.index
                    ));
                }
            }
        }
    }
    pass_or(
        SECRET_ENV,
        CheckStatus::Fail,
        ev,
        "no suspicious ENV keys or build args with values",
    )
}

fn check_secret_files(
    fs: &Fs,
    found: &[LayerSecret],
    policy: &Policy,
) -> (ComplianceResult, ComplianceResult) {
    let mut files = Vec::new();
    let mut keys = Vec::new();
    for s in found {
        let abs = format!("/{}", s.path);
        if policy.secret_allow_paths.iter().any(|g| g.matches(&abs)) {
            continue;
        }
        let present = fs.get(&s.path).is_some_and(|n| n.layer == s.layer);
        let line = if present {
            format!("{abs}: {} (layer {})", s.reason, s.layer + 1)
        } else {
            format!(
                "{abs}: {} (layer {}; deleted or replaced later, but still in that layer)",
                s.reason,
                s.layer + 1
            )
        };
        if s.reason.ends_with("header") {
            keys.push(line);
        } else {
            files.push(line);
        }
    }
    (
        pass_or(
            SECRET_FILE,
            CheckStatus::Fail,
            files,
            "no credential-like file names in any layer",
        ),
        pass_or(
            SECRET_KEY,
            CheckStatus::Fail,
            keys,
            "no private-key headers in small files of any layer",
        ),
    )
}

/// History flags that disable package verification.
const UNVERIFIED_FLAGS: [&str; 8] = [
    "--allow-unauthenticated",
    "--allow-insecure-repositories",
    "--force-yes",
    "--nogpgcheck",
    "--no-gpg-checks",
    "--allow-untrusted",
    "--nosignature",
    "gpgcheck=0",
];

fn check_verify(
    fs: Option<&Fs>,
    steps: &[HistoryStep],
    warnings: &mut Vec<String>,
) -> ComplianceResult {
    let mut ev = Vec::new();
    for s in steps {
        if s.step.instruction != "RUN" {
            continue;
        }
        let words: Vec<&str> = s
            .step
            .body
            .split(|c: char| c.is_whitespace() || c == '"' || c == '\'')
            .filter(|w| !w.is_empty())
            .collect();
        for flag in UNVERIFIED_FLAGS {
            let hit = if flag.contains('=') {
                words.iter().any(|w| w.contains(flag))
            } else {
                words
                    .iter()
                    .any(|w| *w == flag || w.starts_with(&format!("{flag}=")))
            };
            if hit {
                ev.push(format!(
                    "history[{}]: `{flag}` in {}",
                    s.index,
                    shown(&s.raw)
                ));
            }
        }
    }
    if let Some(fs) = fs {
        let mut files: Vec<String> = vec!["etc/yum.conf".into(), "etc/dnf/dnf.conf".into()];
        files.extend(
            fs.children("etc/yum.repos.d")
                .filter(|(p, _)| p.ends_with(".repo"))
                .map(|(p, _)| p.to_string()),
        );
        for f in &files {
            let Some(text) = read_text(fs, f, warnings) else {
                continue;
            };
            let mut section = String::new();
            for (n, line) in text.lines().enumerate() {
                let l = line.trim();
                if l.starts_with('[') && l.ends_with(']') {
                    section = l.to_string();
                    continue;
                }
                if let Some((k, v)) = l.split_once('=')
                    && k.trim() == "gpgcheck"
                    && matches!(v.trim().to_ascii_lowercase().as_str(), "0" | "false" | "no")
                {
                    ev.push(format!("/{f}:{} {section} gpgcheck={}", n + 1, v.trim()));
                }
            }
        }
        let mut apt: Vec<String> = vec!["etc/apt/sources.list".into()];
        apt.extend(
            fs.children("etc/apt/sources.list.d")
                .map(|(p, _)| p.to_string()),
        );
        for f in &apt {
            let Some(text) = read_text(fs, f, warnings) else {
                continue;
            };
            for (n, line) in text.lines().enumerate() {
                let l = line.trim();
                if l.starts_with('#') {
                    continue;
                }
                let lower = l.to_ascii_lowercase();
                let one_line = (lower.starts_with("deb ") || lower.starts_with("deb-src "))
                    && lower.contains("trusted=yes");
                let deb822 = lower.starts_with("trusted:")
                    && lower.trim_start_matches("trusted:").trim() == "yes";
                if one_line || deb822 {
                    ev.push(format!(
                        "/{f}:{}: trusted=yes (signatures not checked)",
                        n + 1
                    ));
                }
            }
        }
        let mut conf: Vec<String> = vec!["etc/apt/apt.conf".into()];
        conf.extend(
            fs.children("etc/apt/apt.conf.d")
                .map(|(p, _)| p.to_string()),
        );
        for f in &conf {
            let Some(text) = read_text(fs, f, warnings) else {
                continue;
            };
            for (n, line) in text.lines().enumerate() {
                let lower = line.to_ascii_lowercase();
                if lower.trim_start().starts_with("//") || lower.trim_start().starts_with('#') {
                    continue;
                }
                for key in [
                    "allowunauthenticated",
                    "allowinsecurerepositories",
                    "allow-insecure",
                    "trusted",
                ] {
                    if lower.contains(key)
                        && (lower.contains("\"true\"")
                            || lower.contains("\"1\"")
                            || lower.contains("\"yes\""))
                    {
                        ev.push(format!("/{f}:{}: {}", n + 1, line.trim()));
                        break;
                    }
                }
            }
        }
    }
    pass_or(
        VERIFY,
        CheckStatus::Fail,
        ev,
        "package signature checks are not disabled",
    )
}

fn check_passwd(passwd: Option<&str>, shadow: Option<&str>) -> ComplianceResult {
    let mut ev = Vec::new();
    if let Some(s) = shadow {
        for l in s.lines().filter(|l| !l.trim().is_empty()) {
            let f: Vec<&str> = l.split(':').collect();
            if f.len() >= 2 && f[1].is_empty() {
                ev.push(format!("/etc/shadow: `{}` has an empty password", f[0]));
            }
        }
    }
    if let Some(p) = passwd {
        for PasswdEntry { name, password, .. } in passwd_entries(p) {
            if password.is_empty() {
                ev.push(format!("/etc/passwd: `{name}` has an empty password field (no shadow entry needed to log in)"));
            }
        }
    }
    pass_or(PASSWD, CheckStatus::Fail, ev, "no empty passwords")
}

fn check_ids(passwd: Option<&str>, group: Option<&str>) -> ComplianceResult {
    let mut ev = Vec::new();
    let dupes = |text: &str, file: &str, what: &str, ev: &mut Vec<String>| {
        let mut by_id: BTreeMap<u64, Vec<String>> = BTreeMap::new();
        for l in text
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        {
            let f: Vec<&str> = l.split(':').collect();
            if let Some(id) = f.get(2).and_then(|v| v.trim().parse::<u64>().ok()) {
                by_id.entry(id).or_default().push(f[0].to_string());
            }
        }
        for (id, names) in by_id {
            if names.len() > 1 {
                ev.push(format!(
                    "{file}: {what} {id} is shared by {}",
                    names.join(", ")
                ));
            }
        }
    };
    if let Some(p) = passwd {
        dupes(p, "/etc/passwd", "uid", &mut ev);
    }
    if let Some(g) = group {
        dupes(g, "/etc/group", "gid", &mut ev);
    }
    pass_or(IDS, CheckStatus::Fail, ev, "all uids and gids are unique")
}

fn check_world_writable(fs: &Fs, policy: &Policy) -> ComplianceResult {
    let mut ev = Vec::new();
    for (path, node) in fs.iter() {
        if !matches!(node.kind, Kind::File | Kind::Dir) || node.mode & 0o002 == 0 {
            continue;
        }
        let abs = format!("/{path}");
        let sticky = node.mode & 0o1000 != 0;
        if node.kind == Kind::Dir && sticky && policy.world_writable_allow.contains(&abs) {
            continue;
        }
        let what = match (node.kind, sticky) {
            (Kind::Dir, true) => "directory, sticky",
            (Kind::Dir, false) => "directory",
            _ => "file",
        };
        ev.push(format!("{abs} (mode {}, {what})", mode_str(node.mode)));
    }
    pass_or(
        PERM,
        CheckStatus::Fail,
        ev,
        "no world-writable paths outside the allowed sticky directories",
    )
}

/// Files (not directories) under `dir/`, their count and total size; `skip` filters names.
fn cache_files(fs: &Fs, dir: &str, skip: &dyn Fn(&str) -> bool) -> (usize, u64) {
    let prefix = format!("{dir}/");
    let mut n = 0;
    let mut size = 0;
    for (path, node) in fs.iter() {
        if let Some(rest) = path.strip_prefix(&prefix)
            && node.kind == Kind::File
            && !skip(rest)
        {
            n += 1;
            size += node.size;
        }
    }
    (n, size)
}

/// Cache verdict: files left in the final filesystem fail; a history pattern alone fails
/// without a filesystem and warns with one (the files were removed later but still weigh in a
/// lower layer).
fn cache_result(
    id: &'static str,
    fs_ev: Vec<String>,
    hist_ev: Vec<String>,
    have_fs: bool,
    clean: &str,
) -> ComplianceResult {
    if !fs_ev.is_empty() {
        let mut ev = fs_ev;
        ev.extend(hist_ev);
        return result(id, CheckStatus::Fail, ev);
    }
    if hist_ev.is_empty() {
        return result(id, CheckStatus::Pass, vec![clean.to_string()]);
    }
    if have_fs {
        let mut ev = hist_ev;
        ev.push(
            "the final filesystem is clean, but the layer that wrote the cache still carries it"
                .into(),
        );
        result(id, CheckStatus::Warn, ev)
    } else {
        result(id, CheckStatus::Fail, hist_ev)
    }
}

fn kib(n: u64) -> String {
    format!("{} KiB", n.div_ceil(1024))
}

fn check_cache_apt(fs: Option<&Fs>, steps: &[HistoryStep]) -> ComplianceResult {
    let mut fs_ev = Vec::new();
    if let Some(fs) = fs {
        let (n, s) = cache_files(fs, "var/lib/apt/lists", &|r| {
            r == "lock" || r.starts_with("partial/") || r.starts_with("auxfiles/")
        });
        if n > 0 {
            fs_ev.push(format!("/var/lib/apt/lists: {n} files, {}", kib(s)));
        }
        let (n, s) = cache_files(fs, "var/cache/apt", &|r| {
            r == "archives/lock" || r.starts_with("archives/partial/")
        });
        if n > 0 {
            fs_ev.push(format!("/var/cache/apt: {n} files, {}", kib(s)));
        }
    }
    let mut hist = Vec::new();
    for s in steps {
        if s.step.instruction != "RUN" {
            continue;
        }
        let cmds = history::commands(&s.step.body);
        let install = cmds
            .iter()
            .any(|c| (c.contains(&"apt-get") || c.contains(&"apt")) && c.contains(&"install"));
        let cleaned = cmds
            .iter()
            .any(|c| c.contains(&"rm") && c.iter().any(|w| w.starts_with("/var/lib/apt/lists")));
        if install && !cleaned {
            hist.push(format!(
                "history[{}]: apt install without `rm -rf /var/lib/apt/lists/*`: {}",
                s.index,
                shown(&s.raw)
            ));
        }
    }
    cache_result(
        CACHE_APT,
        fs_ev,
        hist,
        fs.is_some(),
        "no apt lists or package caches left",
    )
}

fn check_cache_apk(fs: Option<&Fs>, steps: &[HistoryStep]) -> ComplianceResult {
    let mut fs_ev = Vec::new();
    if let Some(fs) = fs {
        let (n, s) = cache_files(fs, "var/cache/apk", &|_| false);
        if n > 0 {
            fs_ev.push(format!("/var/cache/apk: {n} files, {}", kib(s)));
        }
    }
    let mut hist = Vec::new();
    for s in steps {
        if s.step.instruction != "RUN" {
            continue;
        }
        if history::commands(&s.step.body)
            .iter()
            .any(|c| has_all(c, &["apk", "add"]) && !c.contains(&"--no-cache"))
        {
            hist.push(format!(
                "history[{}]: `apk add` without --no-cache: {}",
                s.index,
                shown(&s.raw)
            ));
        }
    }
    cache_result(CACHE_APK, fs_ev, hist, fs.is_some(), "no apk cache left")
}

fn check_cache_rpm(fs: Option<&Fs>, steps: &[HistoryStep]) -> ComplianceResult {
    let mut fs_ev = Vec::new();
    if let Some(fs) = fs {
        for dir in ["var/cache/dnf", "var/cache/yum", "var/cache/libdnf5"] {
            let (n, s) = cache_files(fs, dir, &|r| {
                r.ends_with("expired_repos.json") || r.ends_with(".lock") || r == "last_makecache"
            });
            if n > 0 {
                fs_ev.push(format!("/{dir}: {n} files, {}", kib(s)));
            }
        }
    }
    let mut hist = Vec::new();
    for s in steps {
        if s.step.instruction != "RUN" {
            continue;
        }
        let cmds = history::commands(&s.step.body);
        let rpm =
            |c: &Vec<&str>| c.contains(&"yum") || c.contains(&"dnf") || c.contains(&"microdnf");
        let install = cmds.iter().any(|c| rpm(c) && c.contains(&"install"));
        let cleaned = cmds.iter().any(|c| {
            (rpm(c) && c.contains(&"clean"))
                || (c.contains(&"rm") && c.iter().any(|w| w.starts_with("/var/cache/")))
        });
        if install && !cleaned {
            hist.push(format!(
                "history[{}]: dnf/yum install without `clean all`: {}",
                s.index,
                shown(&s.raw)
            ));
        }
    }
    cache_result(
        CACHE_RPM,
        fs_ev,
        hist,
        fs.is_some(),
        "no dnf/yum caches left",
    )
}

fn check_packages(packages: &[Package], policy: &Policy) -> ComplianceResult {
    let mut ev = Vec::new();
    for p in packages {
        if let Some(g) = policy
            .unnecessary_packages
            .iter()
            .find(|g| g.matches(&p.name))
        {
            ev.push(format!(
                "{} {} ({}) matches deny-list entry `{}`",
                p.name, p.version, p.kind, g.pattern
            ));
        }
    }
    pass_or(
        PKG,
        CheckStatus::Fail,
        ev,
        &format!(
            "none of the {} packages is on the deny list",
            packages.len()
        ),
    )
}

const SENSITIVE_VOLUMES: [&str; 11] = [
    "/",
    "/proc",
    "/sys",
    "/dev",
    "/boot",
    "/etc",
    "/root",
    "/lib/modules",
    "/var/run/docker.sock",
    "/run/docker.sock",
    "/var/lib/docker",
];

fn check_volumes(cfg: &golden_oci::ContainerConfig) -> ComplianceResult {
    let mut ev = Vec::new();
    for v in cfg
        .volumes
        .as_ref()
        .map(|v| v.keys().cloned().collect::<Vec<_>>())
        .unwrap_or_default()
    {
        let norm = if v == "/" {
            v.clone()
        } else {
            v.trim_end_matches('/').to_string()
        };
        if SENSITIVE_VOLUMES.contains(&norm.as_str()) {
            ev.push(format!("VOLUME {v}"));
        }
    }
    pass_or(VOLUME, CheckStatus::Fail, ev, "no sensitive VOLUME")
}

fn check_ports(cfg: &golden_oci::ContainerConfig) -> ComplianceResult {
    let mut ev = Vec::new();
    let mut all = Vec::new();
    for p in cfg
        .exposed_ports
        .as_ref()
        .map(|v| v.keys().cloned().collect::<Vec<_>>())
        .unwrap_or_default()
    {
        all.push(p.clone());
        let num = p.split('/').next().unwrap_or("");
        // Ranges (`80-90/tcp`) count by their first port.
        let first = num.split('-').next().unwrap_or("");
        if let Ok(n) = first.parse::<u32>()
            && n < 1024
        {
            ev.push(format!(
                "EXPOSE {p} (below 1024 needs root or NET_BIND_SERVICE)"
            ));
        }
    }
    let note = if all.is_empty() {
        "no ports exposed".to_string()
    } else {
        format!("exposed: {}", all.join(", "))
    };
    pass_or(PORT, CheckStatus::Fail, ev, &note)
}

fn check_hardening(
    fs: &Fs,
    config: &ImageConfigFile,
    names: &[String],
    policy: &Policy,
) -> (ComplianceResult, Option<serde_json::Value>) {
    const PATH: &str = "usr/share/golden/hardening.json";
    let mut scope_names: Vec<String> = names.to_vec();
    if let Some(base) = config
        .config
        .as_ref()
        .and_then(|c| c.labels.as_ref())
        .and_then(|l| l.get("org.opencontainers.image.base.name"))
    {
        scope_names.push(base.clone());
    }
    let expected = policy
        .hardening_required_for
        .iter()
        .any(|s| s.matches(&scope_names));
    let Some(bytes) = fs.read(PATH).ok().flatten() else {
        let why = if expected {
            "no /usr/share/golden/hardening.json, but the image is (or is built on) a golden base"
                .to_string()
        } else {
            "no /usr/share/golden/hardening.json: not built on a golden base".to_string()
        };
        return (
            result(
                HARDEN,
                if expected {
                    CheckStatus::Fail
                } else {
                    CheckStatus::Info
                },
                vec![why],
            ),
            None,
        );
    };
    let parsed = crate::limits::check_json(bytes)
        .and_then(|()| serde_json::from_slice(bytes).map_err(|e| e.to_string()));
    let value: serde_json::Value = match parsed {
        Ok(v) => v,
        Err(e) => {
            return (
                result(
                    HARDEN,
                    CheckStatus::Fail,
                    vec![format!("/{PATH} is not valid JSON: {e}")],
                ),
                None,
            );
        }
    };
    let s = |k: &str| {
        value
            .get(k)
            .and_then(|v| v.as_str())
            .unwrap_or("?")
            .to_string()
    };
    let mut ev = vec![format!(
        "/{PATH}: {} {} hardened by {} {} on {}",
        s("os"),
        s("os_version"),
        value
            .get("script")
            .and_then(|v| v.as_str())
            .unwrap_or("harden script"),
        s("script_version"),
        s("date")
    )];
    if let Some(u) = value.get("user") {
        ev.push(format!(
            "runtime user {} ({}:{})",
            u.get("name").and_then(|v| v.as_str()).unwrap_or("?"),
            u.get("uid").map(|v| v.to_string()).unwrap_or_default(),
            u.get("gid").map(|v| v.to_string()).unwrap_or_default()
        ));
    }
    let mut status = CheckStatus::Pass;
    let mut applied = Vec::new();
    let mut skipped = Vec::new();
    match value.get("steps").and_then(|v| v.as_array()) {
        Some(steps) => {
            for st in steps {
                let name = st.get("name").and_then(|v| v.as_str()).unwrap_or("?");
                match st.get("status").and_then(|v| v.as_str()).unwrap_or("?") {
                    "applied" | "ok" | "done" => applied.push(name.to_string()),
                    "skipped" => skipped.push(name.to_string()),
                    other => {
                        status = CheckStatus::Warn;
                        ev.push(format!("step `{name}` has status `{other}`"));
                    }
                }
            }
        }
        None => {
            status = CheckStatus::Warn;
            ev.push("the manifest lists no steps".into());
        }
    }
    ev.push(format!(
        "steps applied: {}",
        if applied.is_empty() {
            "none".into()
        } else {
            applied.join(", ")
        }
    ));
    if !skipped.is_empty() {
        ev.push(format!("steps skipped: {}", skipped.join(", ")));
    }
    (result(HARDEN, status, ev), Some(value))
}

fn check_sudo(steps: &[HistoryStep]) -> ComplianceResult {
    let mut ev = Vec::new();
    for s in steps {
        if s.step.instruction == "RUN"
            && history::commands(&s.step.body)
                .iter()
                .any(|c| c.first() == Some(&"sudo"))
        {
            ev.push(format!("history[{}]: {}", s.index, shown(&s.raw)));
        }
    }
    pass_or(
        SUDO,
        CheckStatus::Fail,
        ev,
        "sudo is not called in the build",
    )
}

fn check_dist_upgrade(steps: &[HistoryStep]) -> ComplianceResult {
    let mut ev = Vec::new();
    for s in steps {
        if s.step.instruction == "RUN"
            && history::commands(&s.step.body).iter().any(|c| {
                (c.contains(&"apt-get") || c.contains(&"apt")) && c.contains(&"dist-upgrade")
            })
        {
            ev.push(format!("history[{}]: {}", s.index, shown(&s.raw)));
        }
    }
    pass_or(UPGRADE, CheckStatus::Warn, ev, "no dist-upgrade")
}

fn check_files(fs: &Fs) -> ComplianceResult {
    const DIRS: [&str; 8] = [
        ".git", ".aws", ".azure", ".gcp", ".vscode", ".idea", ".npm", ".cache",
    ];
    const NAMES: [&str; 5] = [
        "Dockerfile",
        "docker-compose.yml",
        "docker-compose.yaml",
        ".vimrc",
        ".DS_Store",
    ];
    let mut ev = Vec::new();
    for (path, node) in fs.iter() {
        if path.contains("node_modules/")
            || path.contains("vendor/")
            || path.starts_with("usr/share/")
        {
            continue;
        }
        let base = path.rsplit('/').next().unwrap_or(path);
        let hit = match node.kind {
            Kind::Dir => DIRS.contains(&base),
            Kind::File => NAMES.contains(&base),
            _ => false,
        };
        if hit {
            ev.push(format!("/{path}"));
        }
    }
    pass_or(
        FILES,
        CheckStatus::Info,
        ev,
        "no VCS, editor or CI leftovers",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_detection() {
        let passwd = "root:x:0:0:root:/root:/bin/sh\ntoor:x:0:0::/:/bin/sh\napp:x:10001:10001::/home/app:/sbin/nologin\n";
        for u in ["", "0", "root", "0:0", "root:x", "0:1000", "toor", ":1000"] {
            assert_eq!(user_is_root(u, Some(passwd)).0, Some(true), "{u}");
        }
        for u in ["10001", "app", "app:app", "1000:0", "65534"] {
            assert_eq!(user_is_root(u, Some(passwd)).0, Some(false), "{u}");
        }
        assert_eq!(user_is_root("ghost", Some(passwd)).0, None);
        assert_eq!(user_is_root("app", None).0, None);
    }
}
