//! What the Actions runner makes of a step's output: the test oracle for "no untrusted text can
//! become a workflow command".
//!
//! It follows the runner (`ActionCommandManager.TryProcessCommand`, `ActionCommand.TryParseV2`
//! and the legacy `TryParse`):
//! - a stream is read line by line with .NET `ReadLine`: `\n`, `\r\n` and a lone `\r` end a line
//!   (here every [`crate::is_line_break`] character does, which is stricter);
//! - the current form: after trimming leading Unicode whitespace, a line starting with `::` and
//!   holding a second `::` is a command `::name props::data`;
//! - the legacy form: `##[name props]data` anywhere in the line;
//! - command names are matched case-insensitively; any name counts here (the runner only
//!   acts on the ones it knows, which is a subset);
//! - `stop-commands` with data `TOKEN` ignores every command until one named `TOKEN`.
//!
//! stdout and stderr are read concurrently by the runner, so a test should check each stream
//! on its own ([`commands`]): a fence opened on the other stream cannot be relied on.

/// One workflow command the runner would act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunnerCommand {
    /// Lower-cased command name (`warning`, `add-mask`, `stop-commands`, ...).
    pub name: String,
    /// The raw properties (`file=a,line=1`).
    pub properties: String,
    /// The data after the command, unescaped.
    pub data: String,
    /// The (0-based) line it was found on.
    pub line: usize,
}

fn unescape(s: &str) -> String {
    s.replace("%0D", "\r")
        .replace("%0A", "\n")
        .replace("%25", "%")
}

/// Parse one line as the runner would, ignoring the stop state.
pub fn parse_line(line: &str) -> Option<(String, String, String)> {
    // Current form.
    let t = line.trim_start();
    if let Some(rest) = t.strip_prefix("::")
        && let Some(end) = rest.find("::")
    {
        let info = &rest[..end];
        let (name, props) = info.split_once(' ').unwrap_or((info, ""));
        if !name.is_empty() {
            return Some((
                name.to_lowercase(),
                props.trim().to_string(),
                unescape(&rest[end + 2..]),
            ));
        }
    }
    // Legacy form, anywhere in the line.
    let at = line.find("##[")?;
    let rest = &line[at + 3..];
    let rb = rest.find(']')?;
    let info = &rest[..rb];
    let (name, props) = info.split_once(' ').unwrap_or((info, ""));
    if name.is_empty() {
        return None;
    }
    Some((
        name.to_lowercase(),
        props.to_string(),
        unescape(&rest[rb + 1..]),
    ))
}

/// Every command the runner would act on in `text` (one stream), `stop-commands` honoured.
pub fn commands(text: &str) -> Vec<RunnerCommand> {
    let mut out = Vec::new();
    let mut stopped: Option<String> = None;
    for (i, line) in crate::split_lines(text).into_iter().enumerate() {
        let Some((name, properties, data)) = parse_line(line) else {
            continue;
        };
        if let Some(tok) = &stopped {
            if name.eq_ignore_ascii_case(tok) {
                stopped = None;
                out.push(RunnerCommand {
                    name,
                    properties,
                    data,
                    line: i,
                });
            }
            continue;
        }
        if name == "stop-commands" {
            stopped = Some(data.clone());
        }
        out.push(RunnerCommand {
            name,
            properties,
            data,
            line: i,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_lines_like_the_runner() {
        let c = commands("a\r::warning::x\r\n  ::error file=f::y%0Az\nb ##[add-mask]s\n");
        let got: Vec<_> = c
            .iter()
            .map(|c| (c.name.as_str(), c.data.as_str(), c.line))
            .collect();
        assert_eq!(
            got,
            [
                ("warning", "x", 1),
                ("error", "y\nz", 2),
                ("add-mask", "s", 3)
            ]
        );
        assert_eq!(c[1].properties, "file=f");
    }

    #[test]
    fn stop_commands_until_the_token() {
        let c = commands(
            "::stop-commands::t1\n::warning::no\n##[set-output name=a]no\n::T1::\n::Notice::yes\n",
        );
        let names: Vec<_> = c.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["stop-commands", "t1", "notice"]);
    }

    #[test]
    fn unicode_whitespace_is_trimmed_but_zero_width_space_is_not() {
        assert!(parse_line("\u{3000}\u{a0}::warning::x").is_some());
        assert!(parse_line("\u{200B}::warning::x").is_none());
        assert!(parse_line("##\u{200B}[warning]x").is_none());
    }
}
