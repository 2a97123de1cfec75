//! The few git questions the planner asks, answered by running `git`.

use std::path::Path;
use std::process::Command;

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("failed to run git (is it installed?)")]
    Spawn(#[source] std::io::Error),
    #[error("git {args} failed: {stderr}")]
    Failed { args: String, stderr: String },
    #[error("git does not know `{0}`")]
    UnknownRef(String),
}

fn git(root: &Path, args: &[&str]) -> Result<Vec<u8>, GitError> {
    let out = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(args)
        .output()
        .map_err(GitError::Spawn)?;
    if !out.status.success() {
        return Err(GitError::Failed {
            args: args.join(" "),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(out.stdout)
}

/// The top-level directory of the repository containing `dir`, if any.
pub fn toplevel(dir: &Path) -> Option<std::path::PathBuf> {
    let out = git(dir, &["rev-parse", "--show-toplevel"]).ok()?;
    let s = String::from_utf8(out).ok()?;
    let s = s.trim();
    (!s.is_empty()).then(|| std::path::PathBuf::from(s))
}

/// Full SHA of `HEAD`, if `root` is a git repository with at least one commit.
pub fn head_sha(root: &Path) -> Option<String> {
    let out = git(root, &["rev-parse", "--verify", "-q", "HEAD"]).ok()?;
    let s = String::from_utf8(out).ok()?.trim().to_string();
    (s.len() >= 7).then_some(s)
}

fn verify(root: &Path, r: &str) -> Result<(), GitError> {
    let spec = format!("{r}^{{commit}}");
    git(root, &["rev-parse", "--verify", "-q", &spec])
        .map_err(|_| GitError::UnknownRef(r.to_string()))?;
    Ok(())
}

/// Files changed between `base` and `head` (from their merge base, like a pull request diff).
pub fn changed_files(root: &Path, base: &str, head: &str) -> Result<Vec<String>, GitError> {
    verify(root, base)?;
    verify(root, head)?;
    let range = format!("{base}...{head}");
    let out = match git(root, &["diff", "--name-only", "-z", "--no-renames", &range]) {
        Ok(o) => o,
        // No merge base (unrelated histories, shallow clones): compare the trees directly.
        Err(_) => git(
            root,
            &["diff", "--name-only", "-z", "--no-renames", base, head],
        )?,
    };
    Ok(out
        .split(|b| *b == 0)
        .filter(|s| !s.is_empty())
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect())
}

/// The content of `path` at `rev`, or `None` when it did not exist there.
pub fn show(root: &Path, rev: &str, path: &str) -> Result<Option<String>, GitError> {
    verify(root, rev)?;
    let spec = format!("{rev}:{path}");
    match git(root, &["cat-file", "-e", &spec]) {
        Ok(_) => {}
        Err(_) => return Ok(None),
    }
    let out = git(root, &["show", &spec])?;
    Ok(Some(String::from_utf8_lossy(&out).into_owned()))
}

/// The merge base of `base` and `head` — what a pull request diff compares against — when
/// there is one.
pub fn merge_base(root: &Path, base: &str, head: &str) -> Option<String> {
    let out = git(root, &["merge-base", base, head]).ok()?;
    let s = String::from_utf8_lossy(&out).trim().to_string();
    (!s.is_empty()).then_some(s)
}
