//! `pr-comment.json`: what a pull-request run that could not post its comment (read-only token
//! on fork PRs) hands to a trusted `workflow_run` job, which posts it with
//! `golden-report post-comment --file pr-comment.json`.
//!
//! Versioned contract ([`COMMENT_FILE_SCHEMA`]): `{"schema": 2, "pr": N, "key": "...", "data":
//! {...}}` where `data` is [`CommentData`] — counts, enums and short strings, never Markdown.
//! The file comes from an untrusted run, so the poster refuses anything but exactly that
//! (unknown fields, other schemas, a key or value outside its pattern, lists over their caps),
//! naming the field, and renders the comment itself with [`crate::pr_comment::render`]. Schema
//! 1 (a rendered `body`) is no longer accepted: a fork could put any link, reference or
//! invisible character in it.
//!
//! [`check_body`] remains as a lint for the rich Markdown renderer (job summary) in tests.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

use crate::comment::marker;
use crate::escape::is_valid_marker_key;
use crate::markdown::COMMENT_LIMIT;
use crate::pr_comment::CommentData;

/// Larger files are refused before parsing (a full one is about 1 MB: 300 images with 20
/// vulnerabilities each).
pub const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// The version of `pr-comment.json` this build writes and reads.
pub const COMMENT_FILE_SCHEMA: u32 = 2;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommentFile {
    /// [`COMMENT_FILE_SCHEMA`].
    pub schema: u32,
    /// Pull request number.
    pub pr: u64,
    /// Marker key (see `--comment-key`).
    pub key: String,
    /// What the comment shows.
    pub data: CommentData,
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
        "comment file `{path}` is not valid: {message} (expected {{\"schema\": 2, \"pr\": <integer>, \"key\": \"...\", \"data\": {{...}}}} as golden-report writes it)"
    )]
    Parse { path: PathBuf, message: String },
    #[error("comment file `{path}`: field `{field}` {problem}")]
    Invalid {
        path: PathBuf,
        field: String,
        problem: String,
    },
    #[error("failed to write comment file `{path}`")]
    Write {
        path: PathBuf,
        #[source]
        source: golden_contracts::DocError,
    },
}

/// Raw HTML the rich renderer writes.
const ALLOWED_TAGS: [&str; 6] = [
    "<details>",
    "</details>",
    "<summary>",
    "</summary>",
    "<code>",
    "</code>",
];

/// Lint a rendered body against what the rich Markdown renderer writes (used by its tests).
/// Returns the problem, if any.
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
    pub fn new(pr: u64, key: String, data: CommentData) -> Self {
        CommentFile {
            schema: COMMENT_FILE_SCHEMA,
            pr,
            key,
            data,
        }
    }

    pub fn validate(&self, path: &Path) -> Result<(), CommentFileError> {
        let invalid = |field: &str, problem: String| CommentFileError::Invalid {
            path: path.to_path_buf(),
            field: field.to_string(),
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
                    "{} is not a marker key (lowercase letters, digits, `.`, `_`, `/`, `:` and single `-`, at most 100)",
                    golden_gha::quote(&self.key, 120)
                ),
            ));
        }
        self.data
            .validate()
            .map_err(|e| invalid(&format!("data.{}", e.field), e.problem))
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
        // The parser's messages quote the file (unknown field names, bad strings): escape them.
        let parse = |message: String| CommentFileError::Parse {
            path: path.to_path_buf(),
            message: golden_gha::escape_controls(&message),
        };
        let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| parse(e.to_string()))?;
        match v.get("schema") {
            Some(serde_json::Value::Number(n))
                if n.as_u64() == Some(COMMENT_FILE_SCHEMA as u64) => {}
            Some(serde_json::Value::Number(n)) => {
                return Err(CommentFileError::Invalid {
                    path: path.to_path_buf(),
                    field: "schema".into(),
                    problem: format!(
                        "is {}; this golden-report reads version {COMMENT_FILE_SCHEMA} (build the poster and the pull-request run from the same golden-report release)",
                        golden_gha::quote(&n.to_string(), 20)
                    ),
                });
            }
            _ => {
                return Err(CommentFileError::Invalid {
                    path: path.to_path_buf(),
                    field: "schema".into(),
                    problem: format!(
                        "is missing or not a number; expected {COMMENT_FILE_SCHEMA} (a file with a rendered `body` comes from an older golden-report and is no longer accepted)"
                    ),
                });
            }
        }
        let f: CommentFile = serde_json::from_value(v).map_err(|e| parse(e.to_string()))?;
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

    fn data_json() -> serde_json::Value {
        serde_json::to_value(crate::pr_comment::tests_support::sample()).unwrap()
    }

    #[test]
    fn file_fields_are_checked_and_named() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("pr-comment.json");
        let d = data_json();
        let with = |f: &dyn Fn(&mut serde_json::Value)| {
            let mut v = serde_json::json!({"schema": 2, "pr": 5, "key": "k", "data": d.clone()});
            f(&mut v);
            v.to_string()
        };
        let cases: Vec<(String, &str)> = vec![
            (with(&|v| v["pr"] = "5".into()), "not valid"),
            (with(&|v| v["pr"] = 5.5.into()), "not valid"),
            (with(&|v| v["pr"] = (-1).into()), "not valid"),
            (with(&|v| v["pr"] = 0.into()), "field `pr`"),
            (with(&|v| v["key"] = "K--x".into()), "field `key`"),
            (with(&|v| v["extra"] = 1.into()), "unknown field"),
            (with(&|v| v["schema"] = 1.into()), "field `schema` is `1`"),
            (
                r#"{"pr":5,"key":"k","body":"<!-- golden-report:k -->\n[x](https://evil.example)"}"#.into(),
                "field `schema` is missing",
            ),
            (
                with(&|v| v["data"]["images"][0]["id"] = "x](https://evil.example)".into()),
                "field `data.images[0].id`",
            ),
            (
                with(&|v| v["data"]["images"][0]["vulns"][0]["id"] = "see owner/repo#1".into()),
                "field `data.images[0].vulns[0].id`",
            ),
            (
                with(&|v| v["data"]["images"][0]["os"] = "debian &amp; 12".into()),
                "field `data.images[0].os`",
            ),
            (
                with(&|v| v["data"]["images"][0]["version"] = "1\u{202E}2".into()),
                "field `data.images[0].version`",
            ),
            (
                with(&|v| v["data"]["images"][0]["title"] = "x".into()),
                "unknown field `title`",
            ),
            (
                with(&|v| v["data"]["images"][0]["vulns"][0]["severity"] = "SEVERE".into()),
                "not valid",
            ),
            (
                with(&|v| {
                    v["data"]["images"][0]["packages_by_kind"] =
                        serde_json::json!({"dpkg": 1, "<b>x</b>": 2})
                }),
                "field `data.images[0].packages_by_kind`",
            ),
            (
                with(&|v| {
                    v["data"]["images"][0]["packages_by_kind"] = (0..25)
                        .map(|n| (format!("kind{n}"), serde_json::json!(1)))
                        .collect::<serde_json::Map<_, _>>()
                        .into()
                }),
                "field `data.images[0].packages_by_kind` has 25 entries",
            ),
        ];
        for (text, want) in cases {
            std::fs::write(&p, &text).unwrap();
            let e = CommentFile::read(&p).unwrap_err().to_string();
            assert!(e.contains(want), "{text}:\n{e}\n(wanted {want})");
        }
        let good = CommentFile::new(7, "k".into(), crate::pr_comment::tests_support::sample());
        good.write(&p).unwrap();
        assert_eq!(CommentFile::read(&p).unwrap(), good);
    }

    #[test]
    fn echoed_values_cannot_become_workflow_commands() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("pr-comment.json");
        for text in [
            serde_json::json!({"schema": 2, "pr": 5, "key": "k\r::add-mask::x", "data": data_json()}).to_string(),
            serde_json::json!({"schema": 2, "pr": 5, "key": "k", "data": data_json(), "\r::warning::x": 1}).to_string(),
        ] {
            std::fs::write(&p, &text).unwrap();
            let e = CommentFile::read(&p).unwrap_err().to_string();
            // As main prints it.
            let printed = format!("error: {}\n", golden_gha::neutralize(&e));
            assert!(
                golden_gha::runner_log::commands(&printed).is_empty(),
                "{printed:?}"
            );
            assert!(!e.contains('\r'), "{e:?}");
        }
    }
}
