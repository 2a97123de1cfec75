//! `golden-xtask env-docs`: `docs/environment.md`, every `GOLDEN_*` environment variable of the
//! binaries, generated from their clap definitions (`CommandFactory`) and checked for drift
//! (`--check`). One table per binary and per subcommand with its own arguments, and a "Clashes"
//! section: a variable that two commands read as different kinds of value (a file here, a folder
//! there; different choices), derived from the definitions.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clap::{ArgAction, CommandFactory};

/// The generated file, relative to the repository root.
pub const FILE: &str = "docs/environment.md";

/// The binaries documented, in the order of their tables (golden-testkit is test support).
pub fn binaries() -> Vec<(&'static str, clap::Command)> {
    vec![
        ("golden-plan", golden_plan::Cli::command()),
        ("golden-build", golden_build::cli::Cli::command()),
        ("golden-scan", golden_scan::Cli::command()),
        ("golden-push", golden_push::Cli::command()),
        ("golden-report", golden_report::Cli::command()),
    ]
}

/// What kind of value a variable holds, as far as the definition says.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// A boolean switch.
    Switch,
    /// One of these values.
    Choice(Vec<String>),
    File,
    Folder,
    /// Anything else (a name, a number, a reference): compatible with every kind.
    Value,
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Kind::Switch => f.write_str("switch"),
            Kind::Choice(v) => write!(f, "one of {}", v.join(", ")),
            Kind::File => f.write_str("file"),
            Kind::Folder => f.write_str("folder"),
            Kind::Value => f.write_str("value"),
        }
    }
}

/// One argument that has an environment variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Var {
    pub name: String,
    /// `--flag`, `-s, --flag` or `<NAME>` (positional).
    pub flag: String,
    /// The default as a string (values joined by the delimiter), when there is one.
    pub default: Option<String>,
    /// First sentence of the help text, on one line.
    pub meaning: String,
    pub kind: Kind,
    /// The separator clap splits the variable's value at, for a list.
    pub delimiter: Option<char>,
    /// The argument is global (it applies to every subcommand).
    pub global: bool,
}

/// The variables of one binary, or of one of its subcommands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub binary: String,
    /// `None` for the top level (its arguments, global ones included).
    pub subcommand: Option<String>,
    pub vars: Vec<Var>,
}

impl Section {
    pub fn title(&self) -> String {
        match &self.subcommand {
            Some(s) => format!("{} {s}", self.binary),
            None => self.binary.clone(),
        }
    }
}

/// The first sentence of `text`, on one line, without its final period (a `. ` inside brackets
/// does not end it).
pub fn first_sentence(text: &str) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut depth = 0i32;
    let chars: Vec<char> = line.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth -= 1,
            '.' if depth <= 0 && chars.get(i + 1) == Some(&' ') => {
                let head: String = chars[..=i].iter().collect();
                if !(head.ends_with("e.g.") || head.ends_with("i.e.")) {
                    return head.trim_end_matches('.').to_string();
                }
            }
            _ => {}
        }
    }
    line.trim_end_matches('.').to_string()
}

fn kind(arg: &clap::Arg, meaning: &str) -> Kind {
    let values: Vec<String> = arg
        .get_possible_values()
        .iter()
        .filter(|v| !v.is_hide_set())
        .map(|v| v.get_name().to_string())
        .collect();
    let switch = matches!(arg.get_action(), ArgAction::SetTrue | ArgAction::SetFalse)
        || arg.get_num_args().is_some_and(|n| n.min_values() == 0);
    if switch {
        return Kind::Switch;
    }
    if !values.is_empty() && values != ["true", "false"] {
        let mut v = values;
        v.sort();
        return Kind::Choice(v);
    }
    let names: Vec<String> = arg
        .get_value_names()
        .unwrap_or_default()
        .iter()
        .map(|n| n.to_string())
        .collect();
    let file = names.iter().any(|n| n.contains("FILE"));
    let dir = names.iter().any(|n| n.contains("DIR"));
    let first = meaning.split_whitespace().next().unwrap_or("");
    match (file, dir) {
        (true, false) => Kind::File,
        (false, true) => Kind::Folder,
        (false, false) if ["Directory", "Folder"].contains(&first) => Kind::Folder,
        _ => Kind::Value,
    }
}

fn flag(arg: &clap::Arg) -> String {
    match (arg.get_short(), arg.get_long()) {
        (Some(s), Some(l)) => format!("-{s}, --{l}"),
        (None, Some(l)) => format!("--{l}"),
        (Some(s), None) => format!("-{s}"),
        (None, None) => {
            let name = arg
                .get_value_names()
                .and_then(|n| n.first().map(|s| s.to_string()))
                .unwrap_or_else(|| arg.get_id().as_str().to_uppercase());
            format!("<{name}>")
        }
    }
}

fn vars(cmd: &clap::Command) -> Vec<Var> {
    let mut out = Vec::new();
    for arg in cmd.get_arguments() {
        let Some(env) = arg.get_env() else { continue };
        let meaning = first_sentence(
            &arg.get_help()
                .or(arg.get_long_help())
                .map(|h| h.to_string())
                .unwrap_or_default(),
        );
        let defaults: Vec<String> = arg
            .get_default_values()
            .iter()
            .map(|v| v.to_string_lossy().into_owned())
            .collect();
        let default = if defaults.is_empty() {
            match arg.get_action() {
                ArgAction::SetTrue => Some("false".to_string()),
                ArgAction::SetFalse => Some("true".to_string()),
                _ => None,
            }
        } else {
            let sep = arg.get_value_delimiter().unwrap_or(',').to_string();
            Some(defaults.join(&sep))
        };
        out.push(Var {
            name: env.to_string_lossy().into_owned(),
            flag: flag(arg),
            default,
            kind: kind(arg, &meaning),
            meaning,
            delimiter: arg.get_value_delimiter(),
            global: arg.is_global_set(),
        });
    }
    out
}

/// The sections of every binary: its top level, then each subcommand with variables of its own.
pub fn collect(binaries: &[(&str, clap::Command)]) -> Vec<Section> {
    let mut out = Vec::new();
    for (bin, cmd) in binaries {
        let top = vars(cmd);
        if !top.is_empty() {
            out.push(Section {
                binary: bin.to_string(),
                subcommand: None,
                vars: top,
            });
        }
        for sub in cmd.get_subcommands() {
            let v = vars(sub);
            if !v.is_empty() {
                out.push(Section {
                    binary: bin.to_string(),
                    subcommand: Some(sub.get_name().to_string()),
                    vars: v,
                });
            }
        }
    }
    out
}

/// One variable read as different kinds of value: each kind with the commands that read it so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clash {
    pub name: String,
    /// (command title, flag, kind, meaning), in section order.
    pub uses: Vec<(String, String, Kind, String)>,
}

/// Variables used by more than one binary (or subcommand) as different kinds of value. A plain
/// value (no file, folder, switch or choice in its definition) clashes with nothing.
pub fn clashes(sections: &[Section]) -> Vec<Clash> {
    let mut by_name: BTreeMap<&str, Vec<(String, &Var)>> = BTreeMap::new();
    for s in sections {
        for v in &s.vars {
            by_name
                .entry(v.name.as_str())
                .or_default()
                .push((s.title(), v));
        }
    }
    let mut out = Vec::new();
    for (name, uses) in by_name {
        let mut kinds: Vec<&Kind> = uses
            .iter()
            .map(|(_, v)| &v.kind)
            .filter(|k| **k != Kind::Value)
            .collect();
        kinds.sort();
        kinds.dedup();
        if kinds.len() < 2 {
            continue;
        }
        out.push(Clash {
            name: name.to_string(),
            uses: uses
                .into_iter()
                .map(|(t, v)| (t, v.flag.clone(), v.kind.clone(), v.meaning.clone()))
                .collect(),
        });
    }
    out
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

fn code(text: &str) -> String {
    let t = text.replace('\n', "\\n").replace('|', "\\|");
    if t.is_empty() {
        "`\"\"`".into()
    } else if t.contains('`') {
        format!("`` {t} ``")
    } else {
        format!("`{t}`")
    }
}

/// The whole of `docs/environment.md`.
pub fn render(sections: &[Section]) -> String {
    let mut s = String::new();
    s.push_str("# Environment variables\n\n");
    s.push_str("<!-- generated by `golden-xtask env-docs` (scripts/gen-action-docs.sh) from the binaries' clap definitions; do not edit -->\n\n");
    s.push_str(
        "Every flag of the binaries below that can also come from an environment variable; the \
         flag wins over the variable. Where the value is a list split by clap, the separator is \
         noted after the meaning. `--help` of each command has the full text.\n",
    );
    for sec in sections {
        s.push_str(&format!("\n## `{}`\n\n", sec.title()));
        let has_subcommands = sections
            .iter()
            .any(|o| o.binary == sec.binary && o.subcommand.is_some());
        if sec.subcommand.is_none() && has_subcommands {
            let globals = sec.vars.iter().filter(|v| v.global).count();
            s.push_str(if globals == sec.vars.len() {
                "Global: these apply to every subcommand.\n\n"
            } else if globals == 0 {
                "Without a subcommand.\n\n"
            } else {
                "Without a subcommand; those marked (global) apply to every subcommand.\n\n"
            });
        }
        s.push_str("| variable | flag | default | meaning |\n|---|---|---|---|\n");
        for v in &sec.vars {
            let default = v.default.as_deref().map(code).unwrap_or_else(|| "—".into());
            let list = match v.delimiter {
                None => None,
                Some('\n') => Some("(list: one per line)".to_string()),
                Some(',') => Some("(list: comma-separated)".to_string()),
                Some(d) => Some(format!("(list: separated by {})", code(&d.to_string()))),
            };
            let meaning = [Some(cell(&v.meaning)), list]
                .into_iter()
                .flatten()
                .filter(|t| !t.is_empty())
                .collect::<Vec<_>>()
                .join(" ");
            let global = if v.global && sec.vars.iter().any(|o| !o.global) {
                " (global)"
            } else {
                ""
            };
            s.push_str(&format!(
                "| `{}` | {}{global} | {default} | {meaning} |\n",
                v.name,
                code(&v.flag),
            ));
        }
    }
    s.push_str("\n## Clashes\n\n");
    let c = clashes(sections);
    if c.is_empty() {
        s.push_str("None: no variable is read as two different kinds of value.\n");
    } else {
        s.push_str(
            "The same variable read as different kinds of value by two commands: set it per step, \
             never for a whole job that runs both.\n\n",
        );
        s.push_str("| variable | command | flag | kind | meaning |\n|---|---|---|---|---|\n");
        for clash in &c {
            for (title, flag, kind, meaning) in &clash.uses {
                s.push_str(&format!(
                    "| `{}` | `{title}` | {} | {} | {} |\n",
                    clash.name,
                    code(flag),
                    cell(&kind.to_string()),
                    cell(meaning)
                ));
            }
        }
    }
    s
}

/// What `env-docs` did with the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    UpToDate,
    Written,
    /// `--check` only: the file differs from what would be generated (or is missing).
    Drift,
}

#[derive(Debug, thiserror::Error)]
pub enum EnvDocsError {
    #[error("failed to read `{path}`")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("failed to create `{path}`")]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Write(#[from] golden_contracts::DocError),
}

/// Generate (or with `check`, verify) `file` from `binaries`.
pub fn run_with(
    file: &Path,
    binaries: &[(&str, clap::Command)],
    check: bool,
) -> Result<Status, EnvDocsError> {
    let wanted = render(&collect(binaries));
    let current = match std::fs::read_to_string(file) {
        Ok(t) => Some(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(source) => {
            return Err(EnvDocsError::Read {
                path: file.to_path_buf(),
                source,
            });
        }
    };
    if current.as_deref() == Some(wanted.as_str()) {
        Ok(Status::UpToDate)
    } else if check {
        Ok(Status::Drift)
    } else {
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir).map_err(|source| EnvDocsError::CreateDir {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        golden_contracts::write_atomic(file, wanted.as_bytes())?;
        Ok(Status::Written)
    }
}

/// Generate (or with `check`, verify) `root/docs/environment.md`.
pub fn run(root: &Path, check: bool) -> Result<Status, EnvDocsError> {
    run_with(&root.join(FILE), &binaries(), check)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn find<'a>(sections: &'a [Section], title: &str, var: &str) -> Option<&'a Var> {
        sections
            .iter()
            .find(|s| s.title() == title)?
            .vars
            .iter()
            .find(|v| v.name == var)
    }

    #[test]
    fn every_binary_lists_a_known_variable() {
        for (_, c) in binaries() {
            c.debug_assert();
        }
        let sections = collect(&binaries());
        for (title, var, flag) in [
            ("golden-plan", "GOLDEN_CONFIG", "--config"),
            ("golden-build", "GOLDEN_ENTRY", "--entry"),
            ("golden-build save", "GOLDEN_ARCHIVE", "-o, --output"),
            ("golden-scan", "GOLDEN_POLICY", "--policy"),
            ("golden-scan", "GOLDEN_IMAGE", "<IMAGE>"),
            ("golden-push", "GOLDEN_AUTH", "--auth"),
            ("golden-push push", "GOLDEN_TO", "--to"),
            ("golden-report", "GOLDEN_INPUT", "--input"),
            (
                "golden-report post-comment",
                "GOLDEN_HEAD_SHA",
                "--head-sha",
            ),
        ] {
            let v = find(&sections, title, var)
                .unwrap_or_else(|| panic!("{var} missing from `{title}`: {sections:#?}"));
            assert_eq!(v.flag, flag, "{title} {var}");
            assert!(!v.meaning.is_empty(), "{title} {var} has no meaning");
        }
        let plan_config = find(&sections, "golden-plan", "GOLDEN_CONFIG").unwrap();
        assert_eq!(
            plan_config.default.as_deref(),
            Some("configs/build-config.yaml")
        );
        assert!(
            !sections.iter().any(|s| s.binary == "golden-testkit"),
            "test support is not documented"
        );
        let text = render(&sections);
        assert!(text.contains("| `GOLDEN_POLICY` | `--policy` | — | Policy file"));
        assert_eq!(text, render(&collect(&binaries())), "deterministic");
    }

    #[test]
    fn no_variable_means_two_kinds_of_value() {
        // Resolved: `golden-build save` writes GOLDEN_ARCHIVE (the file `load` reads; GOLDEN_OUTPUT
        // is a folder everywhere), golden-plan's human format is `text` like golden-scan's and
        // golden-push's (`table` still accepted).
        let c = clashes(&collect(&binaries()));
        assert!(c.is_empty(), "{c:#?}");
        let sections = collect(&binaries());
        for title in ["golden-build save", "golden-build"] {
            assert!(
                find(&sections, title, "GOLDEN_OUTPUT").is_none(),
                "{title} reads GOLDEN_OUTPUT"
            );
        }
    }

    #[test]
    fn clashes_escaping_and_lists_from_a_small_definition() {
        use clap::{Arg, Command};
        let a = Command::new("a")
            .arg(
                Arg::new("out")
                    .long("out")
                    .env("X_OUT")
                    .value_name("FILE")
                    .help("Write here | there. Second sentence."),
            )
            .arg(
                Arg::new("tags")
                    .long("tag")
                    .env("X_TAGS")
                    .value_delimiter('\n')
                    .default_value("latest"),
            )
            .arg(Arg::new("plain").long("plain").env("X_PLAIN"));
        let b = Command::new("b")
            .arg(
                Arg::new("out")
                    .long("out")
                    .env("X_OUT")
                    .value_name("DIR")
                    .help("Folder"),
            )
            .arg(
                Arg::new("plain")
                    .long("plain")
                    .env("X_PLAIN")
                    .value_name("FILE"),
            )
            .arg(Arg::new("nothing").long("nothing"));
        let sections = collect(&[("a", a), ("b", b)]);
        assert_eq!(sections.len(), 2);
        assert_eq!(
            sections[1].vars.len(),
            2,
            "arguments without a variable are left out"
        );
        let c = clashes(&sections);
        assert_eq!(c.len(), 1, "a plain value clashes with nothing: {c:#?}");
        assert_eq!(c[0].name, "X_OUT");
        let text = render(&sections);
        assert!(
            text.contains("| `X_OUT` | `--out` | — | Write here \\| there |"),
            "{text}"
        );
        assert!(
            text.contains("| `X_TAGS` | `--tag` | `latest` | (list: one per line) |"),
            "{text}"
        );
        assert!(
            text.contains("| `X_OUT` | `b` | `--out` | folder | Folder |"),
            "{text}"
        );
    }

    #[test]
    fn check_fails_on_a_stale_or_missing_file_and_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(FILE);
        assert_eq!(run(dir.path(), true).unwrap(), Status::Drift, "missing");
        assert!(!file.exists(), "--check writes nothing");
        assert_eq!(run(dir.path(), false).unwrap(), Status::Written);
        assert_eq!(run(dir.path(), true).unwrap(), Status::UpToDate);
        let good = std::fs::read_to_string(&file).unwrap();
        let stale = good.replace("GOLDEN_POLICY", "GOLDEN_POLICY_FILE");
        assert_ne!(stale, good);
        std::fs::write(&file, &stale).unwrap();
        assert_eq!(run(dir.path(), true).unwrap(), Status::Drift);
        assert_eq!(std::fs::read_to_string(&file).unwrap(), stale, "left alone");
        assert_eq!(run(dir.path(), false).unwrap(), Status::Written);
        assert_eq!(std::fs::read_to_string(&file).unwrap(), good);
    }

    #[test]
    fn first_sentence_ignores_dots_in_brackets_and_abbreviations() {
        assert_eq!(
            first_sentence("Registry file [default: a.env next to it. Really]. More\n text."),
            "Registry file [default: a.env next to it. Really]"
        );
        assert_eq!(
            first_sentence("Image, e.g. a tag (x. y) or\n  a digest"),
            "Image, e.g. a tag (x. y) or a digest"
        );
    }
}
