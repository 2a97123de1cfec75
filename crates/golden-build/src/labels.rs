//! OCI labels (`org.opencontainers.image.*`) and `K=V` parsing.
//!
//! Precedence, lowest first: computed labels (created, revision, source, version, title) < the
//! plan entry's `labels` < the resolved base (`base.name`, `base.digest`) < `--label` flags.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use golden_gha::env as genv;

pub const CREATED: &str = "org.opencontainers.image.created";
pub const REVISION: &str = "org.opencontainers.image.revision";
pub const SOURCE: &str = "org.opencontainers.image.source";
pub const VERSION: &str = "org.opencontainers.image.version";
pub const TITLE: &str = "org.opencontainers.image.title";
pub const BASE_NAME: &str = "org.opencontainers.image.base.name";
pub const BASE_DIGEST: &str = "org.opencontainers.image.base.digest";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LabelError {
    #[error("{flag} `{value}` is not `KEY=VALUE`{hint}")]
    BadKeyValue {
        flag: &'static str,
        value: String,
        hint: &'static str,
    },
    #[error(
        "SOURCE_DATE_EPOCH `{0}` is not a number of seconds since 1970 (hint: `git log -1 --format=%ct`)"
    )]
    BadEpoch(String),
}

/// Parse `KEY=VALUE` (the value may contain `=` and be empty; the key may not be empty or hold
/// whitespace).
pub fn parse_kv(flag: &'static str, s: &str) -> Result<(String, String), LabelError> {
    let bad = |hint| LabelError::BadKeyValue {
        flag,
        value: s.to_string(),
        hint,
    };
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| bad(" (hint: write it as KEY=VALUE, e.g. VERSION=1.2)"))?;
    if k.is_empty() {
        return Err(bad(" (hint: the key before `=` is empty)"));
    }
    if k.chars().any(char::is_whitespace) {
        return Err(bad(" (hint: the key may not contain whitespace)"));
    }
    Ok((k.to_string(), v.to_string()))
}

/// Environment lookup (injectable for tests).
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

fn env_nonempty(env: Env<'_>, k: &str) -> Option<String> {
    env(k)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// The build time: `SOURCE_DATE_EPOCH` when set (reproducible builds), else now; RFC 3339, UTC.
pub fn created(env: Env<'_>) -> Result<String, LabelError> {
    let epoch = match env_nonempty(env, "SOURCE_DATE_EPOCH") {
        Some(v) => Some(
            v.parse::<i64>()
                .map_err(|_| LabelError::BadEpoch(v.clone()))?,
        ),
        None => None,
    };
    let t = match epoch {
        Some(secs) => chrono::DateTime::from_timestamp(secs, 0)
            .ok_or_else(|| LabelError::BadEpoch(secs.to_string()))?,
        None => chrono::Utc::now(),
    };
    Ok(t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

/// `SOURCE_DATE_EPOCH` as seconds, when set and valid.
pub fn source_date_epoch(env: Env<'_>) -> Result<Option<u64>, LabelError> {
    match env_nonempty(env, "SOURCE_DATE_EPOCH") {
        Some(v) => v
            .parse::<u64>()
            .map(Some)
            .map_err(|_| LabelError::BadEpoch(v)),
        None => Ok(None),
    }
}

fn git(repo: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(args)
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let s = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (!s.is_empty()).then_some(s)
}

/// The commit from the environment (`GITHUB_SHA`).
pub fn revision_from_env(env: Env<'_>) -> Option<String> {
    env_nonempty(env, genv::GITHUB_SHA)
}

/// The commit from git: read from `.git` directly (no process: a build waits for it), else
/// `git rev-parse HEAD` when the repository holds something the reader does not know.
pub fn git_revision(repo: &Path) -> Option<String> {
    match gitfiles::revision(repo) {
        Ok(found) => found,
        Err(()) => git(repo, &["rev-parse", "HEAD"]),
    }
}

/// The source URL from the environment (`GITHUB_SERVER_URL/GITHUB_REPOSITORY`).
pub fn source_from_env(env: Env<'_>) -> Option<String> {
    let server = env_nonempty(env, genv::GITHUB_SERVER_URL)?;
    let repository = env_nonempty(env, genv::GITHUB_REPOSITORY)?;
    Some(format!("{}/{}", server.trim_end_matches('/'), repository))
}

/// The source URL from git: the `origin` remote, else the first remote, credentials removed.
pub fn git_source(repo: &Path) -> Option<String> {
    let urls = match gitfiles::remote_urls(repo) {
        Ok(urls) => urls,
        Err(()) => git(repo, &["config", "--get-regexp", r"^remote\..*\.url$"])?
            .lines()
            .filter_map(|l| l.split_once(' '))
            .filter_map(|(k, v)| {
                let name = k.strip_prefix("remote.")?.strip_suffix(".url")?;
                Some((name.to_string(), v.to_string()))
            })
            .collect(),
    };
    let url = urls
        .iter()
        .find(|(name, _)| name == "origin")
        .or_else(|| urls.first())
        .map(|(_, v)| v.as_str())?;
    Some(public_url(url))
}

/// Reading `.git` without starting git. `Err(())` means "ask git" (a layout this reader does
/// not handle: reftable, config includes, ...); `Ok(None)` means there is nothing to find.
mod gitfiles {
    use std::fs;
    use std::path::{Path, PathBuf};

    fn git_dir(root: &Path) -> Result<Option<PathBuf>, ()> {
        let dot = root.join(".git");
        if dot.is_dir() {
            return Ok(Some(dot));
        }
        if !dot.exists() {
            return Ok(None);
        }
        // Worktrees and submodules: a file `gitdir: <path>`.
        let text = fs::read_to_string(&dot).map_err(|_| ())?;
        let p = text.trim().strip_prefix("gitdir:").ok_or(())?.trim();
        let p = Path::new(p);
        Ok(Some(if p.is_absolute() {
            p.to_path_buf()
        } else {
            root.join(p)
        }))
    }

    fn common_dir(git_dir: &Path) -> PathBuf {
        match fs::read_to_string(git_dir.join("commondir")) {
            Ok(c) => {
                let c = Path::new(c.trim());
                if c.is_absolute() {
                    c.to_path_buf()
                } else {
                    git_dir.join(c)
                }
            }
            Err(_) => git_dir.to_path_buf(),
        }
    }

    fn is_hash(s: &str) -> bool {
        (s.len() == 40 || s.len() == 64) && s.bytes().all(|b| b.is_ascii_hexdigit())
    }

    pub fn revision(root: &Path) -> Result<Option<String>, ()> {
        let Some(gd) = git_dir(root)? else {
            return Ok(None);
        };
        let head = fs::read_to_string(gd.join("HEAD")).map_err(|_| ())?;
        let head = head.trim();
        if is_hash(head) {
            return Ok(Some(head.to_string()));
        }
        let name = head.strip_prefix("ref:").ok_or(())?.trim();
        let common = common_dir(&gd);
        for dir in [&gd, &common] {
            if let Ok(v) = fs::read_to_string(dir.join(name)) {
                let v = v.trim();
                return if is_hash(v) {
                    Ok(Some(v.to_string()))
                } else {
                    Err(())
                };
            }
        }
        let packed = fs::read_to_string(common.join("packed-refs")).map_err(|_| ())?;
        for line in packed.lines() {
            if let Some((hash, r)) = line.split_once(' ')
                && r.trim() == name
                && is_hash(hash)
            {
                return Ok(Some(hash.to_string()));
            }
        }
        Err(())
    }

    /// `(remote name, url)` in config order.
    pub fn remote_urls(root: &Path) -> Result<Vec<(String, String)>, ()> {
        let Some(gd) = git_dir(root)? else {
            return Ok(Vec::new());
        };
        let text = fs::read_to_string(common_dir(&gd).join("config")).map_err(|_| ())?;
        let mut urls = Vec::new();
        let mut remote: Option<String> = None;
        for line in text.lines() {
            let t = line.trim();
            if t.is_empty() || t.starts_with('#') || t.starts_with(';') {
                continue;
            }
            if let Some(section) = t.strip_prefix('[') {
                let section = section.split(']').next().unwrap_or("").trim();
                if section.to_ascii_lowercase().starts_with("include") {
                    return Err(()); // included files may hold remotes: let git resolve them
                }
                remote = section
                    .strip_prefix("remote")
                    .map(str::trim)
                    .and_then(|r| r.strip_prefix('"')?.strip_suffix('"'))
                    .map(str::to_string);
                continue;
            }
            if let (Some(name), Some((k, v))) = (&remote, t.split_once('='))
                && k.trim().eq_ignore_ascii_case("url")
            {
                let v = v.trim();
                let v = v
                    .strip_prefix('"')
                    .and_then(|v| v.strip_suffix('"'))
                    .unwrap_or(v);
                urls.push((name.clone(), v.to_string()));
            }
        }
        Ok(urls)
    }
}

/// The commit: `GITHUB_SHA`, else `git rev-parse HEAD` in the repository.
pub fn revision(env: Env<'_>, repo: &Path) -> Option<String> {
    revision_from_env(env).or_else(|| git_revision(repo))
}

/// The source URL: `GITHUB_SERVER_URL/GITHUB_REPOSITORY`, else the `origin` remote (or the first
/// remote) with any credentials removed.
pub fn source(env: Env<'_>, repo: &Path) -> Option<String> {
    source_from_env(env).or_else(|| git_source(repo))
}

/// Remove credentials from a remote URL and make scp-like remotes browsable:
/// `https://user:token@host/o/r.git` → `https://host/o/r`, `git@host:o/r.git` → `https://host/o/r`.
pub fn public_url(url: &str) -> String {
    let url = url.trim();
    let out = if let Some((scheme, rest)) = url.split_once("://") {
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        let scheme = match scheme {
            "ssh" | "git+ssh" | "git" => "https",
            s => s,
        };
        // An ssh port is not the web port.
        let host = if scheme == "https" && authority.contains('@') {
            host.split(':').next().unwrap_or(host)
        } else {
            host
        };
        format!("{scheme}://{host}{path}")
    } else if let Some((userhost, path)) = url.split_once(':')
        && !userhost.contains('/')
        && !path.starts_with('/')
    {
        // scp-like `user@host:path`
        let host = userhost.rsplit_once('@').map_or(userhost, |(_, h)| h);
        format!("https://{host}/{path}")
    } else {
        url.to_string()
    };
    out.strip_suffix(".git").unwrap_or(&out).to_string()
}

/// Everything that goes into the label set.
#[derive(Debug, Clone, Default)]
pub struct LabelInputs {
    pub created: String,
    pub revision: Option<String>,
    pub source: Option<String>,
    pub version: Option<String>,
    pub title: Option<String>,
    pub entry: BTreeMap<String, String>,
    pub base: Option<(String, String)>,
    pub cli: BTreeMap<String, String>,
}

/// Merge the label sources in precedence order (see the module docs).
pub fn assemble(i: &LabelInputs) -> BTreeMap<String, String> {
    let mut l = BTreeMap::new();
    l.insert(CREATED.to_string(), i.created.clone());
    let optional = [
        (REVISION, &i.revision),
        (SOURCE, &i.source),
        (VERSION, &i.version),
        (TITLE, &i.title),
    ];
    for (k, v) in optional {
        if let Some(v) = v {
            l.insert(k.to_string(), v.clone());
        }
    }
    l.extend(i.entry.iter().map(|(k, v)| (k.clone(), v.clone())));
    if let Some((name, digest)) = &i.base {
        l.insert(BASE_NAME.to_string(), name.clone());
        l.insert(BASE_DIGEST.to_string(), digest.clone());
    }
    l.extend(i.cli.iter().map(|(k, v)| (k.clone(), v.clone())));
    l
}

/// The Dockerfile's escape character (`# escape=` parser directive, default `\\`).
pub fn escape_char(dockerfile: &str) -> char {
    for line in dockerfile.lines() {
        let t = line.trim();
        let Some(d) = t.strip_prefix('#') else { break };
        if let Some((k, v)) = d.split_once('=')
            && k.trim().eq_ignore_ascii_case("escape")
        {
            return v.trim().chars().next().unwrap_or('\\');
        }
    }
    '\\'
}

/// The Dockerfile with one `LABEL` instruction holding every label appended, or `None` when
/// that cannot be done safely (a value with a line break or control character, or a last
/// instruction that continues on the next line).
///
/// The engine's `labels` parameter makes the classic builder add one `LABEL` step per label, and
/// each step commits a container (about 0.1 s each, on every cache miss, and a changing
/// `created` label misses every time); one instruction costs one step.
pub fn with_label_instruction(
    dockerfile: &str,
    labels: &BTreeMap<String, String>,
) -> Option<String> {
    if labels.is_empty() {
        return Some(dockerfile.to_string());
    }
    let esc = escape_char(dockerfile);
    let bad = |s: &str| s.chars().any(|c| c.is_control() && c != '\t');
    if labels.iter().any(|(k, v)| bad(k) || bad(v) || k.is_empty()) {
        return None;
    }
    let last = dockerfile
        .lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty() && !l.starts_with('#'))?;
    if last.ends_with(esc) {
        return None;
    }
    let quote = |s: &str| {
        let mut q = String::with_capacity(s.len() + 2);
        q.push('"');
        for c in s.chars() {
            if c == '"' || c == '$' || c == esc {
                q.push(esc);
            }
            q.push(c);
        }
        q.push('"');
        q
    };
    let mut out = dockerfile.to_string();
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str("# labels added by golden-build\nLABEL");
    for (k, v) in labels {
        out.push(' ');
        out.push_str(&quote(k));
        out.push('=');
        out.push_str(&quote(v));
    }
    out.push('\n');
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn key_value_parsing() {
        assert_eq!(
            parse_kv("--label", "a=b=c").unwrap(),
            ("a".into(), "b=c".into())
        );
        assert_eq!(
            parse_kv("--label", "a=").unwrap(),
            ("a".into(), String::new())
        );
        for bad in ["novalue", "=x", "a b=c"] {
            let e = parse_kv("--build-arg", bad).unwrap_err().to_string();
            assert!(
                e.contains("--build-arg") && e.contains(bad) && e.contains("hint"),
                "{e}"
            );
        }
    }

    #[test]
    fn created_uses_source_date_epoch() {
        let env = env_of(&[("SOURCE_DATE_EPOCH", "1700000000")]);
        assert_eq!(created(&env).unwrap(), "2023-11-14T22:13:20Z");
        assert_eq!(source_date_epoch(&env).unwrap(), Some(1_700_000_000));
        let env = env_of(&[("SOURCE_DATE_EPOCH", "yesterday")]);
        assert!(created(&env).unwrap_err().to_string().contains("yesterday"));
        let env = env_of(&[]);
        let now = created(&env).unwrap();
        assert!(chrono::DateTime::parse_from_rfc3339(&now).is_ok(), "{now}");
    }

    #[test]
    fn github_environment_wins_for_revision_and_source() {
        let env = env_of(&[
            ("GITHUB_SHA", "abc123"),
            ("GITHUB_SERVER_URL", "https://github.com/"),
            ("GITHUB_REPOSITORY", "org/repo"),
        ]);
        let nowhere = Path::new("/nonexistent-golden-build");
        assert_eq!(revision(&env, nowhere).as_deref(), Some("abc123"));
        assert_eq!(
            source(&env, nowhere).as_deref(),
            Some("https://github.com/org/repo")
        );
        let empty = env_of(&[]);
        assert_eq!(revision(&empty, nowhere), None);
    }

    #[test]
    fn git_files_are_read_without_git() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        assert_eq!(git_revision(root), None, "not a repository");
        assert_eq!(git_source(root), None);
        let gd = root.join(".git");
        std::fs::create_dir_all(gd.join("refs/heads")).unwrap();
        std::fs::write(gd.join("HEAD"), "ref: refs/heads/main\n").unwrap();
        let h = "0123456789abcdef0123456789abcdef01234567";
        std::fs::write(
            gd.join("packed-refs"),
            format!("# pack-refs with: peeled\n{h} refs/heads/main\n^ffff\n"),
        )
        .unwrap();
        std::fs::write(
            gd.join("config"),
            "[core]\n\tbare = false\n[remote \"upstream\"]\n\turl = https://u@example.com/up.git\n[remote \"origin\"]\n\turl = git@github.com:org/repo.git\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n",
        )
        .unwrap();
        assert_eq!(git_revision(root).as_deref(), Some(h));
        assert_eq!(
            git_source(root).as_deref(),
            Some("https://github.com/org/repo")
        );
        let h2 = "89abcdef0123456789abcdef0123456789abcdef";
        std::fs::write(gd.join("refs/heads/main"), format!("{h2}\n")).unwrap();
        assert_eq!(
            git_revision(root).as_deref(),
            Some(h2),
            "loose ref wins over packed"
        );
        // A worktree: `.git` is a file naming its git dir, which names the common dir.
        let wt = root.join("wt");
        let wgd = gd.join("worktrees/wt");
        std::fs::create_dir_all(&wt).unwrap();
        std::fs::create_dir_all(&wgd).unwrap();
        std::fs::write(wt.join(".git"), format!("gitdir: {}\n", wgd.display())).unwrap();
        std::fs::write(wgd.join("HEAD"), "ref: refs/heads/main\n").unwrap();
        std::fs::write(wgd.join("commondir"), "../..\n").unwrap();
        assert_eq!(git_revision(&wt).as_deref(), Some(h2));
        assert_eq!(
            git_source(&wt).as_deref(),
            Some("https://github.com/org/repo")
        );
    }

    #[test]
    fn this_repository_agrees_with_git() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        assert_eq!(git_revision(&root), git(&root, &["rev-parse", "HEAD"]));
    }

    #[test]
    fn remote_urls_lose_credentials() {
        for (i, o) in [
            (
                "https://x-access-token:ghs_secret@github.com/org/repo.git",
                "https://github.com/org/repo",
            ),
            ("https://github.com/org/repo", "https://github.com/org/repo"),
            ("git@github.com:org/repo.git", "https://github.com/org/repo"),
            (
                "ssh://git@github.com:22/org/repo.git",
                "https://github.com/org/repo",
            ),
            ("/srv/git/repo", "/srv/git/repo"),
            (
                "http://user@127.0.0.1:3000/o/r",
                "http://127.0.0.1:3000/o/r",
            ),
        ] {
            assert_eq!(public_url(i), o, "{i}");
        }
    }

    #[test]
    fn label_instruction_quotes_and_refuses_what_it_cannot_express() {
        let mut l = BTreeMap::new();
        l.insert("a.b".to_string(), "say \"hi\" $HOME \\ ok".to_string());
        let df = with_label_instruction("FROM x\nRUN y", &l).unwrap();
        assert_eq!(
            df,
            "FROM x\nRUN y\n# labels added by golden-build\nLABEL \"a.b\"=\"say \\\"hi\\\" \\$HOME \\\\ ok\"\n"
        );
        let df = with_label_instruction("# escape=`\nFROM x\n", &l).unwrap();
        assert!(
            df.ends_with("LABEL \"a.b\"=\"say `\"hi`\" `$HOME \\ ok\"\n"),
            "{df}"
        );
        assert!(with_label_instruction("FROM x\nRUN a \\\n", &l).is_none());
        l.insert("multi".to_string(), "a\nb".to_string());
        assert!(with_label_instruction("FROM x\n", &l).is_none());
    }

    #[test]
    fn precedence_is_computed_entry_base_cli() {
        let mut entry = BTreeMap::new();
        entry.insert(TITLE.to_string(), "from-entry".to_string());
        entry.insert(BASE_DIGEST.to_string(), "stale".to_string());
        entry.insert("team".to_string(), "platform".to_string());
        let mut cli = BTreeMap::new();
        cli.insert("team".to_string(), "cli".to_string());
        let l = assemble(&LabelInputs {
            created: "2024-01-01T00:00:00Z".into(),
            revision: Some("r".into()),
            source: None,
            version: Some("1.22".into()),
            title: Some("computed".into()),
            entry,
            base: Some(("base:1".into(), "sha256:abc".into())),
            cli,
        });
        assert_eq!(l[TITLE], "from-entry");
        assert_eq!(l[BASE_DIGEST], "sha256:abc");
        assert_eq!(l[BASE_NAME], "base:1");
        assert_eq!(l["team"], "cli");
        assert_eq!(l[VERSION], "1.22");
        assert_eq!(l[CREATED], "2024-01-01T00:00:00Z");
        assert!(!l.contains_key(SOURCE));
    }
}
