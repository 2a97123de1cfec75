//! GitHub Actions I/O for the golden binaries.
//!
//! Everything a binary says to the runner goes through here:
//! - step outputs (`$GITHUB_OUTPUT`) and environment (`$GITHUB_ENV`) in the heredoc form with a
//!   random delimiter, so a value can never inject a second output;
//! - the job summary (`$GITHUB_STEP_SUMMARY`) with GitHub's 1 MiB cap enforced;
//! - workflow commands (`::add-mask::`, `::group::`, annotations) with the toolkit's escaping;
//! - [`Fence`]: `::stop-commands::` around untrusted text (build logs, scan findings) so it cannot
//!   run workflow commands.
//!
//! Architecture invariant: no other crate writes workflow commands or environment files by hand.

use std::fmt::Write as _;
use std::fs::OpenOptions;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

pub mod event;
pub mod markdown;
pub mod runner_log;
// Compiled for the unit tests too, so `cargo test -p golden-gha` runs the scaffold's tests.
#[cfg(any(feature = "main", test))]
pub mod scaffold;

/// GitHub refuses step summaries above 1 MiB; stay clearly below.
pub const SUMMARY_LIMIT: usize = 1024 * 1024 - 16 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum GhaError {
    #[error("failed to append to `{path}` ({var})")]
    Write {
        var: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("output name `{0}` is not valid (use letters, digits, `-` and `_`)")]
    BadName(String),
    #[error(
        "step summary of {size} bytes is over GitHub's limit of {limit} bytes; trim it before writing"
    )]
    SummaryTooLarge { size: usize, limit: usize },
}

/// True when running inside GitHub Actions.
pub fn in_actions() -> bool {
    std::env::var_os(env::GITHUB_ACTIONS).is_some_and(|v| v == "true")
}

fn env_file(var: &'static str) -> Option<PathBuf> {
    std::env::var_os(var)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Render `name<<DELIM\nvalue\nDELIM\n` with a delimiter that does not occur in the value.
pub fn heredoc_entry(name: &str, value: &str) -> Result<String, GhaError> {
    if !valid_name(name) {
        return Err(GhaError::BadName(name.to_string()));
    }
    let delim = loop {
        let d = format!("ghadelimiter_{}", uuid::Uuid::new_v4());
        if !value.contains(&d) {
            break d;
        }
    };
    Ok(format!("{name}<<{delim}\n{value}\n{delim}\n"))
}

fn append(var: &'static str, path: &Path, text: &str) -> Result<(), GhaError> {
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|source| GhaError::Write {
            var,
            path: path.to_path_buf(),
            source,
        })?;
    f.write_all(text.as_bytes())
        .map_err(|source| GhaError::Write {
            var,
            path: path.to_path_buf(),
            source,
        })
}

/// A batch of step outputs, written at once to `$GITHUB_OUTPUT`.
#[derive(Debug, Default, Clone)]
pub struct Outputs {
    entries: Vec<(String, String)>,
}

impl Outputs {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn set(&mut self, name: &str, value: impl Into<String>) -> &mut Self {
        self.entries.push((name.to_string(), value.into()));
        self
    }
    pub fn entries(&self) -> &[(String, String)] {
        &self.entries
    }
    /// Render every entry in the environment-file format.
    pub fn render(&self) -> Result<String, GhaError> {
        let mut out = String::new();
        for (k, v) in &self.entries {
            out.push_str(&heredoc_entry(k, v)?);
        }
        Ok(out)
    }
    /// Append to `$GITHUB_OUTPUT` when set. Returns whether anything was written.
    pub fn write(&self) -> Result<bool, GhaError> {
        self.write_to_var(env::GITHUB_OUTPUT)
    }
    /// Append to the file named by `var` (`GITHUB_OUTPUT` or `GITHUB_ENV`).
    pub fn write_to_var(&self, var: &'static str) -> Result<bool, GhaError> {
        match env_file(var) {
            Some(path) => {
                append(var, &path, &self.render()?)?;
                Ok(true)
            }
            None => Ok(false),
        }
    }
}

/// Parse an environment file written in GitHub's format (`k=v` lines and `k<<DELIM` heredocs).
/// The runner's own parser behaves the same; tests use this to round-trip what we write.
pub fn parse_env_file(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    let mut lines = text.split('\n').peekable();
    let mut lineno = 0usize;
    while let Some(line) = lines.next() {
        lineno += 1;
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        if let Some(pos) = line.find("<<") {
            let eq = line.find('=');
            if eq.is_none_or(|e| e > pos) {
                let name = &line[..pos];
                let delim = &line[pos + 2..];
                if delim.is_empty() {
                    return Err(format!("line {lineno}: empty delimiter"));
                }
                let mut value: Vec<&str> = Vec::new();
                let mut closed = false;
                for l in lines.by_ref() {
                    lineno += 1;
                    let l = l.strip_suffix('\r').unwrap_or(l);
                    if l == delim {
                        closed = true;
                        break;
                    }
                    value.push(l);
                }
                if !closed {
                    return Err(format!("line {lineno}: delimiter `{delim}` never closed"));
                }
                out.push((name.to_string(), value.join("\n")));
                continue;
            }
        }
        match line.split_once('=') {
            Some((k, v)) => out.push((k.to_string(), v.to_string())),
            None => return Err(format!("line {lineno}: neither `k=v` nor `k<<DELIM`")),
        }
    }
    Ok(out)
}

/// Append Markdown to `$GITHUB_STEP_SUMMARY` (when set). Refuses text over the limit rather than
/// letting GitHub drop the whole summary.
pub fn append_summary(markdown: &str) -> Result<bool, GhaError> {
    if markdown.len() > SUMMARY_LIMIT {
        return Err(GhaError::SummaryTooLarge {
            size: markdown.len(),
            limit: SUMMARY_LIMIT,
        });
    }
    match env_file(env::GITHUB_STEP_SUMMARY) {
        Some(path) => {
            append(env::GITHUB_STEP_SUMMARY, &path, markdown)?;
            Ok(true)
        }
        None => Ok(false),
    }
}

/// Escape the data part of a workflow command (`%`, CR, LF).
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escape a property value of a workflow command (data escapes plus `:` and `,`).
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// Characters that end a line for the Actions runner (it reads logs with .NET `ReadLine`:
/// `\n`, `\r\n` and a lone `\r`) or that a log viewer may show as one (`\u{0B}`, `\u{0C}`,
/// NEL, U+2028, U+2029). [`neutralize`] treats every one of them as a line break.
pub fn is_line_break(c: char) -> bool {
    matches!(
        c,
        '\n' | '\r' | '\u{0B}' | '\u{0C}' | '\u{85}' | '\u{2028}' | '\u{2029}'
    )
}

/// Split `text` into lines the way the runner does, conservatively: `\r\n` is one break, and
/// every other [`is_line_break`] character is one. A trailing break yields no empty last line.
pub fn split_lines(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut it = text.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        if !is_line_break(c) {
            continue;
        }
        out.push(&text[start..i]);
        let mut end = i + c.len_utf8();
        if c == '\r'
            && let Some(&(j, '\n')) = it.peek()
        {
            it.next();
            end = j + 1;
        }
        start = end;
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

/// Bidirectional and other invisible formatting characters that can make text read differently
/// from what it is (Trojan Source): escaped wherever untrusted text is shown.
pub fn is_deceptive_format(c: char) -> bool {
    matches!(
        c,
        '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{061C}'
            | '\u{FEFF}' | '\u{2060}'..='\u{2064}' | '\u{FFF9}'..='\u{FFFB}'
    )
}

/// Escape control characters (other than tab), line breaks and deceptive formatting
/// characters so they show as text: `\u{1b}`, `\u{2028}`, `\u{202e}`.
pub fn escape_controls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if (c.is_control() && c != '\t') || is_line_break(c) || is_deceptive_format(c) {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        } else {
            out.push(c);
        }
    }
    out
}

/// Quote untrusted text for a message: at most `max` characters, control, line-break and
/// deceptive formatting characters escaped, in backticks. Safe to print (after [`neutralize`],
/// which every error path applies) and to read.
pub fn quote(text: &str, max: usize) -> String {
    let mut t: String = text.chars().take(max).collect();
    if text.chars().count() > max {
        t.push('…');
    }
    format!("`{}`", escape_controls(&t))
}

/// Neutralise text that is printed to the log so that no part of it can be read as a workflow
/// command, whatever the runner takes for a line break:
/// - every [`is_line_break`] character (and `\r\n`) becomes `\n`, so the printed lines are the
///   lines the runner sees;
/// - other control characters are escaped ([`escape_controls`]);
/// - a line starting with `::` after leading whitespace (the runner trims Unicode whitespace)
///   gets a zero-width-space prefix, which the runner does not trim;
/// - the legacy `##[command]` form, which the runner accepts anywhere in a line, is broken with
///   a zero-width space after `##`.
pub fn neutralize(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let lines = split_lines(text);
    for (i, l) in lines.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let l = escape_controls(l).replace("##[", "##\u{200B}[");
        if l.trim_start().starts_with("::") {
            out.push('\u{200B}');
        }
        out.push_str(&l);
    }
    // Keep one trailing newline when the text had a trailing break (printing adds its own).
    if text.ends_with(is_line_break) && !lines.is_empty() {
        out.push('\n');
    }
    out
}

/// Print an error and its causes to stderr as `error: ...` / `  caused by: ...` lines.
/// Error messages quote user input (config values, references, paths), so every line is
/// neutralised: a value holding a line break followed by `::set-output` cannot become a
/// workflow command.
pub fn print_error_chain(prefix: &str, err: &(dyn std::error::Error + 'static)) {
    eprint!("{}", error_chain_text(prefix, err));
}

/// The text [`print_error_chain`] prints: `{prefix}error: MESSAGE` and one `  caused by: …`
/// line per source, each neutralised and ended by a newline.
pub fn error_chain_text(prefix: &str, err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = format!("{}\n", neutralize(&format!("{prefix}error: {err}")));
    let mut cause = err.source();
    while let Some(c) = cause {
        out.push_str(&neutralize(&format!("  caused by: {c}")));
        out.push('\n');
        cause = c.source();
    }
    out
}

/// An error and its causes on one line, `message: cause: cause`; a cause whose text the line
/// already holds (an error that prints its source itself) is not repeated. Not neutralised:
/// for records and messages that are escaped where they are printed.
pub fn error_line(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut cause = err.source();
    while let Some(c) = cause {
        let t = c.to_string();
        if !out.contains(&t) {
            out.push_str(": ");
            out.push_str(&t);
        }
        cause = c.source();
    }
    out
}

/// A binary's fatal error: inside Actions an `::error` annotation titled `tool` (the top-level
/// message's first line, escaped, so the run's summary names what failed), then the whole chain
/// on stderr as [`print_error_chain`] prints it.
pub fn report_fatal(tool: &str, err: &(dyn std::error::Error + 'static)) {
    annotate_fatal(tool, err);
    print_error_chain(&format!("{tool}: "), err);
}

/// The annotation half of [`report_fatal`], for binaries that print the chain their own way.
pub fn annotate_fatal(tool: &str, err: &(dyn std::error::Error + 'static)) {
    if in_actions() {
        let text = err.to_string();
        let first = text.lines().next().unwrap_or_default();
        let at = Annotation {
            title: Some(tool),
            ..Annotation::default()
        };
        annotate(Level::Error, &at, first);
    }
}

/// Annotation levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Notice,
    Warning,
    Error,
}

impl Level {
    fn as_str(self) -> &'static str {
        match self {
            Level::Notice => "notice",
            Level::Warning => "warning",
            Level::Error => "error",
        }
    }
}

/// An annotation (`::error file=..,line=..,title=..::message`).
#[derive(Debug, Clone, Default)]
pub struct Annotation<'a> {
    pub file: Option<&'a str>,
    pub line: Option<u64>,
    pub col: Option<u64>,
    pub title: Option<&'a str>,
}

/// Render a workflow-command annotation line.
pub fn annotation(level: Level, at: &Annotation<'_>, message: &str) -> String {
    let mut props = Vec::new();
    if let Some(f) = at.file {
        props.push(format!("file={}", escape_property(f)));
    }
    if let Some(l) = at.line {
        props.push(format!("line={l}"));
    }
    if let Some(c) = at.col {
        props.push(format!("col={c}"));
    }
    if let Some(t) = at.title {
        props.push(format!("title={}", escape_property(t)));
    }
    let mut s = format!("::{}", level.as_str());
    if !props.is_empty() {
        let _ = write!(s, " {}", props.join(","));
    }
    let _ = write!(s, "::{}", escape_data(message));
    s
}

/// Print an annotation to stdout inside Actions, or a plain `level: message` line to stderr
/// elsewhere.
pub fn annotate(level: Level, at: &Annotation<'_>, message: &str) {
    if in_actions() {
        println!("{}", annotation(level, at, message));
    } else {
        let loc = match (at.file, at.line) {
            (Some(f), Some(l)) => format!("{f}:{l}: "),
            (Some(f), None) => format!("{f}: "),
            _ => String::new(),
        };
        eprintln!("{}: {loc}{message}", level.as_str());
    }
}

/// Register a secret with the runner before it can appear anywhere. Outside Actions this is a
/// no-op (nothing masks there, and we never print secrets anyway).
pub fn add_mask(secret: &str) {
    if !in_actions() || secret.is_empty() {
        return;
    }
    // A mask is per line: register each line of a multi-line secret.
    let mut out = io::stdout().lock();
    for line in secret.lines().filter(|l| !l.trim().is_empty()) {
        let _ = writeln!(out, "::add-mask::{}", escape_data(line));
    }
    let _ = out.flush();
}

/// A `::group::` that closes itself (inside Actions; a plain header elsewhere).
pub struct Group {
    active: bool,
}

impl Group {
    pub fn start(title: &str) -> Self {
        if in_actions() {
            println!("::group::{}", escape_data(title));
            Group { active: true }
        } else {
            eprintln!("==> {title}");
            Group { active: false }
        }
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        if self.active {
            println!("::endgroup::");
        }
    }
}

/// The stream a [`Fence`] writes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// Fence for untrusted output: between `::stop-commands::TOKEN` and `::TOKEN::` the runner
/// executes no workflow command, whatever the text contains. The token is random per fence, so
/// the fenced text cannot guess it to close the fence early.
///
/// The runner reads stdout and stderr concurrently: a fence opened on stdout does not reliably
/// precede a line written to stderr. Open the fence on the stream the untrusted text goes to
/// ([`Fence::open_on`]) and print that text with [`Fence::line`]. The text should still be
/// [`neutralize`]d: outside Actions (or should the fence ever not hold) that alone keeps it inert.
pub struct Fence {
    token: Option<String>,
    stream: Stream,
}

fn print_to(stream: Stream, text: &str) {
    match stream {
        Stream::Stdout => {
            let mut o = io::stdout().lock();
            let _ = writeln!(o, "{text}");
            let _ = o.flush();
        }
        Stream::Stderr => {
            let mut e = io::stderr().lock();
            let _ = writeln!(e, "{text}");
            let _ = e.flush();
        }
    }
}

impl Fence {
    /// Open a fence on stdout (only inside Actions).
    pub fn open() -> Self {
        Self::open_on(Stream::Stdout)
    }
    /// Open a fence on `stream` (only inside Actions); its lines and its end go there too.
    pub fn open_on(stream: Stream) -> Self {
        // Whatever the other stream buffered goes out first, so it is not fenced by accident.
        let _ = io::stdout().flush();
        if in_actions() {
            let token = format!("golden-{}", uuid::Uuid::new_v4().simple());
            print_to(stream, &format!("::stop-commands::{token}"));
            Fence {
                token: Some(token),
                stream,
            }
        } else {
            Fence {
                token: None,
                stream,
            }
        }
    }
    /// The token of an open fence (inside Actions).
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }
    /// The stream this fence is on.
    pub fn stream(&self) -> Stream {
        self.stream
    }
    /// Print one untrusted line inside the fence, on the fence's stream. A line that equals the
    /// closing marker is impossible (random token), but a line could still try: the token is
    /// redacted.
    pub fn line(&self, text: &str) {
        print_to(self.stream, &self.sanitize(text));
    }
    /// Sanitise untrusted text for printing inside this fence.
    pub fn sanitize(&self, text: &str) -> String {
        match &self.token {
            Some(t) if text.contains(t.as_str()) => text.replace(t.as_str(), "[redacted]"),
            _ => text.to_string(),
        }
    }
}

impl Drop for Fence {
    fn drop(&mut self) {
        if let Some(t) = &self.token {
            print_to(self.stream, &format!("::{t}::"));
        }
    }
}

/// Environment variables every golden binary reads from the runner (documented in one place).
/// The runner's variables the toolkit reads: every `GITHUB_*` read in the workspace names one of
/// these (no crate spells the names itself), so this is the list of what the binaries take from
/// the runner.
pub mod env {
    /// `true` inside GitHub Actions: workflow commands are parsed from stdout/stderr.
    pub const GITHUB_ACTIONS: &str = "GITHUB_ACTIONS";
    /// File the step's outputs are appended to.
    pub const GITHUB_OUTPUT: &str = "GITHUB_OUTPUT";
    /// File the job's environment is appended to.
    pub const GITHUB_ENV: &str = "GITHUB_ENV";
    /// File the job summary (Markdown) is appended to.
    pub const GITHUB_STEP_SUMMARY: &str = "GITHUB_STEP_SUMMARY";
    /// The triggering event (`schedule`, `pull_request`, ...): golden-plan's and golden-scan's
    /// default `--event`, golden-report's comment and alert decisions.
    pub const GITHUB_EVENT_NAME: &str = "GITHUB_EVENT_NAME";
    /// The event payload (JSON): pull request number, fork, workflow_run.
    pub const GITHUB_EVENT_PATH: &str = "GITHUB_EVENT_PATH";
    /// The commit of the run: OCI revision label, tags, the plan's source.
    pub const GITHUB_SHA: &str = "GITHUB_SHA";
    /// The ref of the run (`refs/heads/main`, `refs/pull/7/merge`): golden-plan's tag policy.
    pub const GITHUB_REF: &str = "GITHUB_REF";
    /// `owner/name` of the repository: OCI source label, GitHub API calls.
    pub const GITHUB_REPOSITORY: &str = "GITHUB_REPOSITORY";
    /// `https://github.com` or the GHES host: OCI source label, run links.
    pub const GITHUB_SERVER_URL: &str = "GITHUB_SERVER_URL";
    /// The REST API base URL (GHES, or the test fake).
    pub const GITHUB_API_URL: &str = "GITHUB_API_URL";
    /// The job's token, passed explicitly by the actions that post (never read implicitly).
    pub const GITHUB_TOKEN: &str = "GITHUB_TOKEN";
    /// The workflow's name: the alert issue and run links.
    pub const GITHUB_WORKFLOW: &str = "GITHUB_WORKFLOW";
    /// The run's id: run links in reports.
    pub const GITHUB_RUN_ID: &str = "GITHUB_RUN_ID";
    /// The run's attempt number: golden-push's provenance (invocation id).
    pub const GITHUB_RUN_ATTEMPT: &str = "GITHUB_RUN_ATTEMPT";
    /// `owner/repo/.github/workflows/file.yml@ref` of the workflow that runs: golden-push's
    /// provenance builder id.
    pub const GITHUB_WORKFLOW_REF: &str = "GITHUB_WORKFLOW_REF";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Layer(&'static str, Option<Box<Layer>>);
    impl std::fmt::Display for Layer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }
    impl std::error::Error for Layer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref().map(|l| l as _)
        }
    }

    #[test]
    fn error_line_joins_causes_and_skips_one_the_message_already_holds() {
        let io = Layer("No such file", None);
        let read = Layer("failed to read `x`: No such file", Some(Box::new(io)));
        let top = Layer("no catalog", Some(Box::new(read)));
        assert_eq!(
            error_line(&top),
            "no catalog: failed to read `x`: No such file"
        );
        assert_eq!(error_line(&Layer("alone", None)), "alone");
    }

    #[test]
    fn heredoc_round_trips_multiline_and_hostile_values() {
        let mut o = Outputs::new();
        o.set("plain", "v")
            .set("multi", "a\nb\n\nc")
            .set("hostile", "x\nEOF\nother=injected\nghadelimiter_x")
            .set("json", r#"{"include":[{"id":"a"}]}"#);
        let text = o.render().unwrap();
        let parsed = parse_env_file(&text).unwrap();
        assert_eq!(parsed, o.entries().to_vec());
    }

    #[test]
    fn bad_output_name_is_refused() {
        let mut o = Outputs::new();
        o.set("bad name", "v");
        assert!(matches!(o.render(), Err(GhaError::BadName(_))));
        let mut o = Outputs::new();
        o.set("x<<y", "v");
        assert!(o.render().is_err());
    }

    #[test]
    fn parse_rejects_unclosed_heredoc() {
        let err = parse_env_file("a<<EOF\nvalue\n").unwrap_err();
        assert!(err.contains("never closed"), "{err}");
    }

    #[test]
    fn escapes_follow_the_toolkit() {
        assert_eq!(escape_data("50%\r\nx"), "50%25%0D%0Ax");
        assert_eq!(escape_property("a:b,c"), "a%3Ab%2Cc");
        let a = annotation(
            Level::Error,
            &Annotation {
                file: Some("configs/build-config.yaml"),
                line: Some(3),
                col: Some(7),
                title: Some("bad: key"),
            },
            "unknown base\nsecond",
        );
        assert_eq!(
            a,
            "::error file=configs/build-config.yaml,line=3,col=7,title=bad%3A key::unknown base%0Asecond"
        );
    }

    #[test]
    fn neutralize_breaks_workflow_commands() {
        let s = neutralize("ok\n  ::set-env name=X::y\n::add-mask::z");
        for line in s.lines() {
            assert!(!line.trim_start().starts_with("::"), "{line}");
        }
        assert!(s.starts_with("ok\n"));
    }

    #[test]
    fn error_lines_are_neutralised() {
        let text = neutralize("error: bad value `x\n::set-output name=a::b`");
        assert!(
            text.lines().all(|l| !l.trim_start().starts_with("::")),
            "{text}"
        );
    }

    #[test]
    fn fence_redacts_its_own_token() {
        let f = Fence {
            token: Some("golden-abc".into()),
            stream: Stream::Stdout,
        };
        assert_eq!(f.sanitize("::golden-abc::"), "::[redacted]::");
        std::mem::forget(f);
    }

    use proptest::prelude::*;

    fn no_commands(text: &str) {
        let c = runner_log::commands(text);
        assert!(c.is_empty(), "{text:?} gives commands {c:?}");
    }

    #[test]
    fn neutralize_handles_every_line_break_the_runner_honours() {
        // Each of these was a command after the old neutralize (it split on `\n` only).
        for hostile in [
            "ok\r::warning::x",
            "ok\r::add-mask::x",
            "ok\r::stop-commands::tok",
            "ok\r\r  ::error file=a::b",
            "tar path a\r::warning::x",
            "ok\u{2028}::warning::x",
            "ok\u{2029}::warning::x",
            "ok\u{85}::warning::x",
            "ok\u{0B}::warning::x",
            "path ##[add-mask]secret",
            "x ##[set-output name=a;]b",
        ] {
            let n = neutralize(hostile);
            no_commands(&n);
            // Printed the way the binaries print it (println!/eprintln!).
            no_commands(&format!("{n}\n"));
        }
        assert_eq!(neutralize("a\rb\r\nc\u{2028}d"), "a\nb\nc\nd");
    }

    #[test]
    fn quote_escapes_everything_invisible() {
        assert_eq!(
            quote("k\r::add-mask::x\u{2028}\u{202E}y", 100),
            "`k\\u{d}::add-mask::x\\u{2028}\\u{202e}y`"
        );
        assert_eq!(quote("abcdef", 3), "`abc…`");
        no_commands(&format!("error: key {}\n", quote("\r::warning::x", 50)));
    }

    #[test]
    fn neutralize_escapes_control_characters_and_keeps_plain_text() {
        assert_eq!(
            neutralize("a\u{1b}[31mb\u{0}c\td"),
            "a\\u{1b}[31mb\\u{0}c\td"
        );
        assert_eq!(
            neutralize("plain: text, 50% `quoted`\n"),
            "plain: text, 50% `quoted`\n"
        );
        assert_eq!(neutralize(""), "");
    }

    #[test]
    fn split_lines_follows_readline() {
        assert_eq!(split_lines("a\r\nb\rc\n\nd\r"), ["a", "b", "c", "", "d"]);
        assert_eq!(split_lines("\r\n"), [""]);
        assert!(split_lines("").is_empty());
    }

    fn hostile_text() -> impl Strategy<Value = String> {
        let pieces = prop::sample::select(vec![
            "::",
            ":",
            "##[",
            "##",
            "[",
            "]",
            "\r",
            "\n",
            "\r\n",
            "\u{2028}",
            "\u{2029}",
            "\u{85}",
            "\u{0B}",
            "\u{0C}",
            " ",
            "\t",
            "\u{3000}",
            "\u{a0}",
            "\u{200B}",
            "add-mask",
            "stop-commands",
            "warning",
            "error ",
            "file=a",
            "set-output name=x",
            "%0A",
            "%0D",
            "\u{0}",
            "\u{1b}",
            "x",
            "golden-tok",
            "é",
        ]);
        prop::collection::vec(pieces, 0..40).prop_map(|v| v.concat())
    }

    proptest! {
        #[test]
        fn no_neutralised_text_is_a_command(s in hostile_text()) {
            let n = neutralize(&s);
            prop_assert!(runner_log::commands(&n).is_empty(), "{:?} -> {:?}", s, n);
            // Idempotent: neutralising twice changes nothing.
            prop_assert_eq!(neutralize(&n), n.clone());
            // Every line the runner sees is a line we printed: no break survives but `\n`.
            prop_assert!(!n.chars().any(|c| is_line_break(c) && c != '\n'));
        }

        #[test]
        fn fenced_neutralised_text_cannot_end_the_fence(s in hostile_text()) {
            let f = Fence { token: Some("golden-tok".into()), stream: Stream::Stderr };
            let text = format!(
                "::stop-commands::golden-tok\n{}\n::golden-tok::\n",
                f.sanitize(&neutralize(&s))
            );
            std::mem::forget(f);
            let names: Vec<String> =
                runner_log::commands(&text).into_iter().map(|c| c.name).collect();
            prop_assert_eq!(names, vec!["stop-commands".to_string(), "golden-tok".to_string()]);
        }

        #[test]
        fn error_chains_are_neutralised(s in hostile_text()) {
            // What print_error_chain prints for an error quoting `s`.
            let line = neutralize(&format!("error: bad value `{s}`"));
            let printed = format!("{line}\n");
            prop_assert!(runner_log::commands(&printed).is_empty(), "{:?}", printed);
        }
    }
}
