//! `.dockerignore` with the docker CLI's semantics (moby `patternmatcher` and its `ignorefile`
//! reader, as vendored by docker CLI 28).
//!
//! Reading ([`parse`]):
//! - a line starting with `#` (before any trimming) is a comment; blank lines are skipped;
//! - surrounding whitespace is trimmed; a leading `!` makes an exception (whitespace after the `!`
//!   is trimmed too);
//! - each pattern is cleaned like Go's `filepath.Clean` (`./a` → `a`, `a/` → `a`, `a/../b` → `b`)
//!   and one leading `/` is dropped (`/a` → `a`);
//! - a UTF-8 byte-order mark on the first line is ignored.
//!
//! Matching ([`Matcher`]): patterns are applied in order, the last one that matches decides;
//! `*` and `?` never cross `/`; `**` matches any number of directories (also none); `[...]`
//! classes and `\` escapes as in Go's `filepath.Match`. A pattern that matches a directory also
//! excludes everything below it. An excluded directory is still descended into when an exception
//! pattern starts with that directory's path (`!dir/keep`), otherwise it is skipped whole, so
//! `!**/keep` cannot re-include a file inside an excluded directory (the CLI behaves the same).
//!
//! The Dockerfile and `.dockerignore` are always sent, even when a pattern excludes them
//! ([`keep_build_files`]).

use regex::Regex;

/// A bad pattern, located in the `.dockerignore`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(".dockerignore:{line}: {reason} in pattern `{pattern}`")]
pub struct PatternError {
    pub line: usize,
    pub pattern: String,
    pub reason: String,
}

/// One pattern as read from the file, with its line number (0 for patterns added by the tool).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub line: usize,
    pub pattern: String,
}

/// Read a `.dockerignore` the way the CLI's `ignorefile.ReadAll` does.
pub fn parse(text: &str) -> Vec<Line> {
    let mut out = Vec::new();
    for (i, raw) in text.split('\n').enumerate() {
        let mut raw = raw.strip_suffix('\r').unwrap_or(raw);
        if i == 0 {
            raw = raw.strip_prefix('\u{feff}').unwrap_or(raw);
        }
        if raw.starts_with('#') {
            continue;
        }
        let mut pattern = raw.trim();
        if pattern.is_empty() {
            continue;
        }
        let invert = pattern.starts_with('!');
        if invert {
            pattern = pattern[1..].trim();
        }
        let mut cleaned = String::new();
        if !pattern.is_empty() {
            cleaned = clean(pattern);
            if cleaned.len() > 1 && cleaned.starts_with('/') {
                cleaned.remove(0);
            }
        }
        if invert {
            cleaned.insert(0, '!');
        }
        out.push(Line {
            line: i + 1,
            pattern: cleaned,
        });
    }
    out
}

/// Go's `path.Clean` for slash-separated paths: lexical, no filesystem access.
pub fn clean(path: &str) -> String {
    if path.is_empty() {
        return ".".to_string();
    }
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| *p != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            p => parts.push(p),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

#[derive(Debug, Clone)]
enum Kind {
    Exact,
    Prefix,
    Suffix,
    Regexp(Regex),
}

/// One compiled pattern.
#[derive(Debug, Clone)]
pub struct Pattern {
    cleaned: String,
    exclusion: bool,
    kind: Kind,
}

impl Pattern {
    /// The cleaned pattern text (without `!`).
    pub fn as_str(&self) -> &str {
        &self.cleaned
    }
    pub fn is_exclusion(&self) -> bool {
        self.exclusion
    }

    fn matches(&self, path: &str) -> bool {
        match &self.kind {
            Kind::Exact => path == self.cleaned,
            Kind::Prefix => path.starts_with(&self.cleaned[..self.cleaned.len() - 2]),
            Kind::Suffix => {
                let suffix = &self.cleaned[2..];
                if path.ends_with(suffix) {
                    return true;
                }
                // `**/foo` matches `foo`.
                suffix.strip_prefix('/').is_some_and(|s| path == s)
            }
            Kind::Regexp(re) => re.is_match(path),
        }
    }
}

/// Regexp metacharacters that mean nothing special in `filepath.Match` and must be escaped.
fn should_escape(c: char) -> bool {
    matches!(c, '.' | '+' | '(' | ')' | '|' | '{' | '}' | '$')
}

/// Port of `Pattern.compile`: exact, prefix (`a/**`), suffix (`**/a`) or a regexp.
fn compile(cleaned: &str) -> Result<Kind, String> {
    let mut re = String::from("^");
    let mut kind_is = KindTag::Exact;
    let chars: Vec<char> = cleaned.chars().collect();
    let mut pos = 0;
    let mut i = 0usize;
    while pos < chars.len() {
        let ch = chars[pos];
        pos += 1;
        if ch == '*' {
            if chars.get(pos) == Some(&'*') {
                pos += 1;
                if chars.get(pos) == Some(&'/') {
                    pos += 1;
                }
                if pos >= chars.len() {
                    if kind_is == KindTag::Exact {
                        kind_is = KindTag::Prefix;
                    } else {
                        re.push_str(".*");
                        kind_is = KindTag::Regexp;
                    }
                } else {
                    re.push_str("(.*/)?");
                    kind_is = KindTag::Regexp;
                }
                if i == 0 {
                    kind_is = KindTag::Suffix;
                }
            } else {
                re.push_str("[^/]*");
                kind_is = KindTag::Regexp;
            }
        } else if ch == '?' {
            re.push_str("[^/]");
            kind_is = KindTag::Regexp;
        } else if should_escape(ch) {
            re.push('\\');
            re.push(ch);
        } else if ch == '\\' {
            if let Some(&next) = chars.get(pos) {
                pos += 1;
                re.push('\\');
                re.push(next);
                kind_is = KindTag::Regexp;
            } else {
                re.push('\\');
            }
        } else if ch == '[' || ch == ']' {
            re.push(ch);
            kind_is = KindTag::Regexp;
        } else {
            re.push(ch);
        }
        i += 1;
    }
    Ok(match kind_is {
        KindTag::Exact => Kind::Exact,
        KindTag::Prefix => Kind::Prefix,
        KindTag::Suffix => Kind::Suffix,
        KindTag::Regexp => {
            re.push('$');
            Kind::Regexp(Regex::new(&re).map_err(|e| format!("invalid pattern ({e})"))?)
        }
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KindTag {
    Exact,
    Prefix,
    Suffix,
    Regexp,
}

/// The syntax check `filepath.Match(pattern, ".")` performs: escapes must escape something and
/// character classes must be closed, non-empty and made of valid ranges.
fn check_syntax(p: &str) -> Result<(), String> {
    let b: Vec<char> = p.chars().collect();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            '\\' => {
                if i + 1 >= b.len() {
                    return Err("trailing `\\` escapes nothing".into());
                }
                i += 2;
            }
            '[' => {
                i += 1;
                if b.get(i) == Some(&'^') {
                    i += 1;
                }
                let mut nrange = 0;
                loop {
                    if b.get(i) == Some(&']') && nrange > 0 {
                        i += 1;
                        break;
                    }
                    i = class_char(&b, i)?;
                    if b.get(i) == Some(&'-') {
                        i = class_char(&b, i + 1)?;
                    }
                    nrange += 1;
                }
            }
            _ => i += 1,
        }
    }
    Ok(())
}

/// Go's `getEsc`: one (possibly escaped) character of a class; the class must go on after it.
fn class_char(b: &[char], mut i: usize) -> Result<usize, String> {
    match b.get(i) {
        None => return Err("unclosed `[` character class".into()),
        Some('-') => return Err("`-` without a range start in a character class".into()),
        Some(']') => return Err("empty `[]` character class".into()),
        Some('\\') => {
            i += 1;
            if i >= b.len() {
                return Err("trailing `\\` escapes nothing".into());
            }
        }
        Some(_) => {}
    }
    i += 1;
    if i >= b.len() {
        return Err("unclosed `[` character class".into());
    }
    Ok(i)
}

/// Parent-directory match state (`MatchInfo`): which patterns matched the parent directory.
#[derive(Debug, Clone, Default)]
pub struct MatchInfo {
    parent_matched: Vec<bool>,
}

/// Compiled `.dockerignore` patterns.
#[derive(Debug, Clone, Default)]
pub struct Matcher {
    patterns: Vec<Pattern>,
    exclusions: bool,
}

impl Matcher {
    /// Compile patterns as `patternmatcher.New` does (after [`parse`]).
    pub fn new(lines: &[Line]) -> Result<Matcher, PatternError> {
        let mut m = Matcher::default();
        for l in lines {
            let err = |reason: String| PatternError {
                line: l.line,
                pattern: l.pattern.clone(),
                reason,
            };
            let p = l.pattern.trim();
            if p.is_empty() {
                continue;
            }
            let mut p = clean(p);
            let mut exclusion = false;
            if let Some(rest) = p.strip_prefix('!') {
                if rest.is_empty() {
                    return Err(err(
                        "illegal exclusion pattern `!` (nothing to re-include)".into()
                    ));
                }
                exclusion = true;
                m.exclusions = true;
                p = rest.to_string();
            }
            check_syntax(&p).map_err(&err)?;
            let kind = compile(&p).map_err(&err)?;
            m.patterns.push(Pattern {
                cleaned: p,
                exclusion,
                kind,
            });
        }
        Ok(m)
    }

    pub fn patterns(&self) -> &[Pattern] {
        &self.patterns
    }

    /// True when any pattern is an exception (`!...`).
    pub fn has_exclusions(&self) -> bool {
        self.exclusions
    }

    /// `MatchesOrParentMatches`: is `path` (slash-separated, relative) excluded, looking at the
    /// path itself and each of its parent directories.
    pub fn matches_or_parent_matches(&self, path: &str) -> bool {
        let path = clean(path);
        if path == "." {
            return false;
        }
        let parent_dirs: Vec<&str> = match path.rfind('/') {
            Some(i) => path[..i].split('/').collect(),
            None => Vec::new(),
        };
        let mut matched = false;
        for p in &self.patterns {
            if p.exclusion != matched {
                continue;
            }
            let mut m = p.matches(&path);
            if !m {
                for n in 1..=parent_dirs.len() {
                    if p.matches(&parent_dirs[..n].join("/")) {
                        m = true;
                        break;
                    }
                }
            }
            if m {
                matched = !p.exclusion;
            }
        }
        matched
    }

    /// `MatchesUsingParentResults`: the walk's matcher. `parent` is the info returned for the
    /// parent directory (`None` at the top of the context).
    pub fn matches_using_parent(
        &self,
        path: &str,
        parent: Option<&MatchInfo>,
    ) -> (bool, MatchInfo) {
        let parent = parent.map(|p| p.parent_matched.as_slice()).unwrap_or(&[]);
        let mut info = MatchInfo {
            parent_matched: vec![false; self.patterns.len()],
        };
        let mut matched = false;
        for (i, p) in self.patterns.iter().enumerate() {
            let mut m = parent.get(i).copied().unwrap_or(false);
            if !m {
                if p.exclusion != matched {
                    continue;
                }
                m = p.matches(path);
                if !m
                    && parent.is_empty()
                    && let Some(idx) = path.rfind('/')
                {
                    let dirs: Vec<&str> = path[..idx].split('/').collect();
                    m = (1..=dirs.len()).any(|n| p.matches(&dirs[..n].join("/")));
                }
            }
            info.parent_matched[i] = m;
            if m {
                matched = !p.exclusion;
            }
        }
        (matched, info)
    }

    /// For an excluded directory: must the walk still descend (an exception pattern starts with
    /// this directory's path)?
    pub fn must_descend(&self, dir: &str) -> bool {
        if !self.exclusions {
            return false;
        }
        let dir_slash = format!("{dir}/");
        self.patterns
            .iter()
            .filter(|p| p.exclusion)
            .any(|p| format!("{}/", p.cleaned).starts_with(&dir_slash))
    }
}

/// `TrimBuildFilesFromExcludes`: when the patterns exclude `.dockerignore` or the Dockerfile
/// (context-relative, slash-separated; `None` when the Dockerfile is outside the context), add
/// exceptions so both are still sent.
pub fn keep_build_files(
    lines: &mut Vec<Line>,
    dockerfile: Option<&str>,
) -> Result<(), PatternError> {
    let m = Matcher::new(lines)?;
    let keep_ignore = m.matches_or_parent_matches(".dockerignore");
    let keep_dockerfile = dockerfile.filter(|d| m.matches_or_parent_matches(d));
    if keep_ignore {
        lines.push(Line {
            line: 0,
            pattern: "!.dockerignore".into(),
        });
    }
    if let Some(d) = keep_dockerfile {
        lines.push(Line {
            line: 0,
            pattern: format!("!{d}"),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matcher(text: &str) -> Matcher {
        Matcher::new(&parse(text)).unwrap()
    }

    #[test]
    fn reader_follows_ignorefile_read_all() {
        let text = "\u{feff}test1\n/test2\n/a/file/here\n\nlastfile\n# this is a comment\n! /inverted/abs/path\n!\n! \n  # not a comment\n./x/../y/\r\n";
        let got: Vec<String> = parse(text).into_iter().map(|l| l.pattern).collect();
        assert_eq!(
            got,
            [
                "test1",
                "test2",
                "a/file/here",
                "lastfile",
                "!inverted/abs/path",
                "!",
                "!",
                "# not a comment",
                "y"
            ]
        );
        let lines = parse(text);
        assert_eq!(lines[0].line, 1);
        assert_eq!(lines[4].line, 7);
    }

    #[test]
    fn lone_exclamation_is_an_error_with_its_line() {
        let err = Matcher::new(&parse("a\n\n!\n")).unwrap_err();
        assert_eq!(err.line, 3);
        assert!(err.to_string().starts_with(".dockerignore:3:"), "{err}");
    }

    #[test]
    fn bad_syntax_is_an_error() {
        for p in ["a[", "[]", "x\\", "[a-]", "[-a]"] {
            let err = Matcher::new(&parse(p)).unwrap_err();
            assert_eq!(err.line, 1, "{p}");
        }
        for p in ["[a-c]", "[^a]", "\\*", "a\\[b"] {
            assert!(Matcher::new(&parse(p)).is_ok(), "{p}");
        }
    }

    #[test]
    fn clean_is_go_path_clean() {
        for (i, o) in [
            ("", "."),
            ("a/", "a"),
            ("./a", "a"),
            ("a//b", "a/b"),
            ("a/../b", "b"),
            ("../a", "../a"),
            ("/../a", "/a"),
            ("/", "/"),
            ("a/./b/..", "a"),
            ("..", ".."),
            ("a/../..", ".."),
        ] {
            assert_eq!(clean(i), o, "clean({i:?})");
        }
    }

    /// (pattern, path, excluded) — cases from moby/patternmatcher's tests and the docs.
    #[test]
    fn pattern_table() {
        let cases: &[(&str, &str, bool)] = &[
            ("**", "file", true),
            ("**", "file/", true),
            ("**/", "file", true),
            ("**/", "file/", true),
            ("dir/**", "dir/file", true),
            ("dir/**", "dir/file/", true),
            ("dir/**", "dir/dir2/file", true),
            ("dir/**/", "dir/dir2/file", true),
            ("**/dir", "dir", true),
            ("**/dir", "dir/file", true),
            ("**/dir2/*", "dir/dir2/file", true),
            ("**/dir2/*", "dir/dir2/file/", true),
            ("**/dir2/**", "dir/dir2/dir3/file", true),
            ("**/dir2/**", "dir/dir2/dir3/file/", true),
            ("**file", "file", true),
            ("**file", "dir/file", true),
            ("**/file", "dir/file", true),
            ("**file", "dir/dir/file", true),
            ("**/file", "dir/dir/file", true),
            ("**/file*", "dir/dir/file", true),
            ("**/file*", "dir/dir/file.txt", true),
            ("**/file*txt", "dir/dir/file.txt", true),
            ("**/file*.txt", "dir/dir/file.txt", true),
            ("**/file*.txt*", "dir/dir/file.txt", true),
            ("**/**/*.txt", "dir/dir/file.txt", true),
            ("**/**/*.txt2", "dir/dir/file.txt", false),
            ("**/*.txt", "file.txt", true),
            ("**/**/*.txt", "file.txt", true),
            ("a**/*.txt", "a/file.txt", true),
            ("a**/*.txt", "a/dir/file.txt", true),
            ("a**/*.txt", "a/dir/dir/file.txt", true),
            ("a/*.txt", "a/dir/file.txt", false),
            ("a/*.txt", "a/file.txt", true),
            ("a/*.txt**", "a/file.txt", true),
            ("a[b-d]e", "ae", false),
            ("a[b-d]e", "ace", true),
            ("a[b-d]e", "aae", false),
            ("a[^b-d]e", "aze", true),
            (".*", ".foo", true),
            (".*", "foo", false),
            ("abc.def", "abcdef", false),
            ("abc.def", "abc.def", true),
            ("abc.def", "abcZdef", false),
            ("abc?def", "abcZdef", true),
            ("abc?def", "abcdef", false),
            ("a\\\\", "a\\", true),
            ("**/foo/bar", "foo/bar", true),
            ("**/foo/bar", "dir/foo/bar", true),
            ("**/foo/bar", "dir/dir2/foo/bar", true),
            ("abc/**", "abc", false),
            ("abc/**", "abc/def", true),
            ("abc/**", "abc/def/ghi", true),
            ("**/.foo", ".foo", true),
            ("**/.foo", "bar.foo", false),
            ("a(b)c/def", "a(b)c/def", true),
            ("a(b)c/def", "a(b)c/xyz", false),
            ("a.|)$(}+{bc", "a.|)$(}+{bc", true),
            (
                "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
                "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
                true,
            ),
            (
                "dist/*.whl",
                "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
                true,
            ),
            // Directory patterns exclude everything below.
            ("docs", "docs/a/b.md", true),
            ("/docs/", "docs/a.md", true),
            ("./docs", "docs/a.md", true),
            ("*/temp*", "somedir/temporary.txt", true),
            ("*/temp*", "somedir/sub/temporary.txt", false),
            ("*/*/temp*", "somedir/subdir/temporary.txt", true),
            ("temp?", "tempa", true),
            ("temp?", "temp/x", false),
            ("*.md", "README.md", true),
            ("*.md", "docs/README.md", false),
        ];
        for (pattern, path, want) in cases {
            let m = matcher(pattern);
            assert_eq!(
                m.matches_or_parent_matches(path),
                *want,
                "pattern {pattern:?} path {path:?}"
            );
        }
    }

    #[test]
    fn last_matching_pattern_wins_and_exceptions_reinclude() {
        let m = matcher("*.md\n!README*.md\nREADME-secret.md\n");
        assert!(m.matches_or_parent_matches("CHANGES.md"));
        assert!(!m.matches_or_parent_matches("README.md"));
        assert!(m.matches_or_parent_matches("README-secret.md"));
        let m = matcher("docs\n!docs/keep.md\n");
        assert!(m.matches_or_parent_matches("docs/other.md"));
        assert!(!m.matches_or_parent_matches("docs/keep.md"));
        assert!(m.must_descend("docs"));
        assert!(!m.must_descend("other"));
        // `!**/keep` does not start with the directory: the walk skips the directory whole.
        let m = matcher("vendor\n!**/keep\n");
        assert!(!m.must_descend("vendor"));
    }

    #[test]
    fn parent_results_differ_from_parent_matches_like_the_cli() {
        // docker CLI 28 (MatchesUsingParentResults) excludes `a/x` here; the older matcher
        // would re-include it through the parent directory `a`.
        let m = matcher("a/x\n!a\n");
        let (dir_excluded, info) = m.matches_using_parent("a", None);
        assert!(!dir_excluded);
        let (x, _) = m.matches_using_parent("a/x", Some(&info));
        assert!(x);
        let (y, _) = m.matches_using_parent("a/y", Some(&info));
        assert!(!y);
        assert!(!m.matches_or_parent_matches("a/x"));
    }

    #[test]
    fn build_files_are_kept() {
        let mut lines = parse("*\n");
        keep_build_files(&mut lines, Some("build/Dockerfile")).unwrap();
        let m = Matcher::new(&lines).unwrap();
        assert!(!m.matches_or_parent_matches(".dockerignore"));
        assert!(!m.matches_or_parent_matches("build/Dockerfile"));
        assert!(m.matches_or_parent_matches("build/other"));
        assert!(m.must_descend("build"));
        let mut lines = parse("src\n");
        keep_build_files(&mut lines, Some("Dockerfile")).unwrap();
        assert_eq!(lines.len(), 1, "nothing added when nothing is excluded");
    }
}
