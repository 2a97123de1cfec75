//! `pr-comment.json`: the comment a pull-request run could not post itself (read-only token on
//! fork PRs), handed to a trusted `workflow_run` job that posts it with
//! `golden-report post-comment --file pr-comment.json`.
//!
//! The file comes from an untrusted run, so the poster checks everything before posting: the
//! PR number is a positive integer, the key is a valid marker key, the body is under GitHub's
//! limit, starts with our marker and contains nothing the reporter never writes (raw HTML other
//! than `<details>`/`<summary>`/`<code>`, images, `@mentions`, a second marker).

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

use crate::comment::marker;
use crate::escape::is_valid_marker_key;
use crate::markdown::COMMENT_LIMIT;

/// Larger files are refused before parsing (a valid one is at most ~260 KB).
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommentFile {
    /// Pull request number.
    pub pr: u64,
    /// Marker key (see `--comment-key`).
    pub key: String,
    /// The complete comment body, marker line first.
    pub body: String,
}

#[derive(Debug, thiserror::Error)]
pub enum CommentFileError {
    #[error("failed to read comment file `{path}`")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "comment file `{path}` is {size} bytes, more than {MAX_FILE_BYTES}; refusing to read it"
    )]
    TooLarge { path: PathBuf, size: u64 },
    #[error(
        "comment file `{path}` is not valid: {source} (expected {{\"pr\": <integer>, \"key\": \"...\", \"body\": \"...\"}})"
    )]
    Parse {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("comment file `{path}`: field `{field}` {problem}")]
    Invalid {
        path: PathBuf,
        field: &'static str,
        problem: String,
    },
    #[error("failed to write comment file `{path}`")]
    Write {
        path: PathBuf,
        #[source]
        source: golden_contracts::DocError,
    },
}

/// Raw HTML the reporter itself writes.
const ALLOWED_TAGS: [&str; 6] = [
    "<details>",
    "</details>",
    "<summary>",
    "</summary>",
    "<code>",
    "</code>",
];

/// Check a body against what the reporter writes. Returns the problem, if any.
pub fn check_body(key: &str, body: &str) -> Result<(), String> {
    let chars = body.chars().count();
    if chars >= COMMENT_LIMIT {
        return Err(format!(
            "has {chars} characters; GitHub accepts fewer than {COMMENT_LIMIT}"
        ));
    }
    let m = marker(key);
    let Some(rest) = body.strip_prefix(m.as_str()) else {
        return Err(format!("does not start with the marker `{m}`"));
    };
    if !rest.starts_with('\n') {
        return Err("has text on the marker line".into());
    }
    if rest.contains("<!--") {
        return Err("contains a second HTML comment (only the marker is allowed)".into());
    }
    let mut i = 0;
    while let Some(pos) = rest[i..].find('<') {
        let at = i + pos;
        let tail = &rest[at..];
        match ALLOWED_TAGS.iter().find(|t| tail.starts_with(**t)) {
            Some(t) => i = at + t.len(),
            None => {
                let snippet: String = tail.chars().take(20).collect();
                return Err(format!(
                    "contains raw HTML `{snippet}`; the reporter escapes `<` everywhere but in <details>, <summary> and <code>"
                ));
            }
        }
    }
    if rest.contains("![") {
        return Err("contains a Markdown image; the reporter never writes one".into());
    }
    // An `@` directly followed by a name character is a mention; the reporter always puts a
    // zero-width joiner in between.
    let cs: Vec<char> = rest.chars().collect();
    for w in cs.windows(2) {
        if w[0] == '@' && (w[1].is_ascii_alphanumeric() || w[1] == '-' || w[1] == '_') {
            return Err("contains an @mention; the reporter never mentions anyone".into());
        }
    }
    if rest.chars().any(|c| c.is_control() && c != '\n') {
        return Err("contains control characters".into());
    }
    Ok(())
}

impl CommentFile {
    pub fn validate(&self, path: &Path) -> Result<(), CommentFileError> {
        let invalid = |field, problem: String| CommentFileError::Invalid {
            path: path.to_path_buf(),
            field,
            problem,
        };
        if self.pr == 0 {
            return Err(invalid(
                "pr",
                "must be a pull request number (1 or more)".into(),
            ));
        }
        if !is_valid_marker_key(&self.key) {
            return Err(invalid(
                "key",
                format!(
                    "`{}` is not a marker key (lowercase letters, digits, `.`, `_`, `/`, `:` and single `-`, at most 100)",
                    crate::escape::truncate(&self.key, 120)
                ),
            ));
        }
        check_body(&self.key, &self.body).map_err(|p| invalid("body", p))
    }

    /// Read and validate.
    pub fn read(path: &Path) -> Result<Self, CommentFileError> {
        let size = std::fs::metadata(path)
            .map_err(|source| CommentFileError::Read {
                path: path.to_path_buf(),
                source,
            })?
            .len();
        if size > MAX_FILE_BYTES {
            return Err(CommentFileError::TooLarge {
                path: path.to_path_buf(),
                size,
            });
        }
        let text = std::fs::read_to_string(path).map_err(|source| CommentFileError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let f: CommentFile =
            serde_json::from_str(&text).map_err(|source| CommentFileError::Parse {
                path: path.to_path_buf(),
                source,
            })?;
        f.validate(path)?;
        Ok(f)
    }

    /// Write atomically, pretty-printed.
    pub fn write(&self, path: &Path) -> Result<(), CommentFileError> {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        golden_contracts::write_atomic(path, text.as_bytes()).map_err(|source| {
            CommentFileError::Write {
                path: path.to_path_buf(),
                source,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::comment::body;

    #[test]
    fn our_own_bodies_pass() {
        let b = body(
            "k",
            "## ✅ x\n\n| a | b |\n|---|---|\n| 1 | @\u{200D}x |\n<details>\n<summary>s</summary>\n\n<code>x</code>\n</details>\n",
        );
        check_body("k", &b).unwrap();
    }

    #[test]
    fn hostile_bodies_are_refused() {
        let ok = |s: &str| check_body("k", &body("k", s));
        assert!(ok("<img src=x>").unwrap_err().contains("raw HTML"));
        assert!(ok("hi @octocat").unwrap_err().contains("mention"));
        assert!(ok("![x](http://t/p.png)").unwrap_err().contains("image"));
        assert!(ok("<!-- golden-report:other -->").is_err());
        assert!(ok(&"x".repeat(70_000)).unwrap_err().contains("characters"));
        assert!(check_body("k", "no marker").unwrap_err().contains("marker"));
        assert!(check_body("k", &body("other", "x")).is_err());
        assert!(check_body("k", "<!-- golden-report:k --> trailing\nx").is_err());
    }

    #[test]
    fn file_fields_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("pr-comment.json");
        for (text, want) in [
            (r#"{"pr":"5","key":"k","body":""}"#, "not valid"),
            (r#"{"pr":5.5,"key":"k","body":""}"#, "not valid"),
            (r#"{"pr":-1,"key":"k","body":""}"#, "not valid"),
            (r#"{"pr":0,"key":"k","body":""}"#, "pull request number"),
            (r#"{"pr":5,"key":"K--x","body":""}"#, "marker key"),
            (
                r#"{"pr":5,"key":"k","body":"x","extra":1}"#,
                "unknown field",
            ),
            (r#"{"pr":5,"key":"k","body":"x"}"#, "marker"),
        ] {
            std::fs::write(&p, text).unwrap();
            let e = CommentFile::read(&p).unwrap_err().to_string();
            assert!(e.contains(want), "{text}: {e}");
        }
        let good = CommentFile {
            pr: 7,
            key: "k".into(),
            body: body("k", "hello"),
        };
        good.write(&p).unwrap();
        assert_eq!(CommentFile::read(&p).unwrap(), good);
    }
}
