//! Build output: printed line by line as it arrives; inside GitHub Actions inside a `::group::`
//! and a `::stop-commands::` fence (the output is untrusted: a `RUN echo ::set-output...` must
//! not reach the runner as a command). The last lines and the current `Step N/M` are kept for the
//! error and the build record.

use std::collections::VecDeque;
use std::io::Write;

use golden_gha::{Fence, Group};

/// How many lines of output a failure keeps.
pub const TAIL_LINES: usize = 20;

pub struct LogSink {
    // Field order matters for Drop: the fence closes before the group ends.
    fence: Option<Fence>,
    group: Option<Group>,
    quiet: bool,
    tail: VecDeque<String>,
    partial: String,
    step: Option<String>,
    last_status: Option<(Option<String>, String)>,
}

impl LogSink {
    /// Open a group titled `title` and a fence (in Actions).
    pub fn start(title: &str, quiet: bool) -> LogSink {
        let group = Group::start(title);
        let fence = Fence::open();
        LogSink {
            fence: Some(fence),
            group: Some(group),
            quiet,
            tail: VecDeque::with_capacity(TAIL_LINES + 1),
            partial: String::new(),
            step: None,
            last_status: None,
        }
    }

    /// Add output text (any mix of whole and partial lines).
    pub fn push(&mut self, text: &str) {
        self.partial.push_str(text);
        while let Some(i) = self.partial.find('\n') {
            let line: String = self.partial.drain(..=i).collect();
            let line = line.trim_end_matches(['\n', '\r']);
            // Progress bars redraw with `\r`: keep what the line finally showed.
            let line = line.rsplit('\r').next().unwrap_or(line).to_string();
            self.line(line);
        }
    }

    /// A pull status update; repeated progress updates are not printed.
    pub fn status(&mut self, id: Option<&str>, status: &str, progress: bool) {
        if progress {
            return;
        }
        let key = (id.map(str::to_string), status.to_string());
        if self.last_status.as_ref() == Some(&key) {
            return;
        }
        self.last_status = Some(key);
        let line = match id {
            Some(id) if !id.is_empty() => format!("{id}: {status}"),
            _ => status.to_string(),
        };
        self.line(line);
    }

    /// A line we print ourselves (not from the engine), kept in the tail too.
    pub fn note(&mut self, line: &str) {
        self.line(line.to_string());
    }

    fn line(&mut self, line: String) {
        if is_step(&line) {
            self.step = Some(line.clone());
        }
        if !self.quiet {
            match &self.fence {
                Some(f) => f.line(&line),
                None => println!("{line}"),
            }
        }
        if self.tail.len() == TAIL_LINES {
            self.tail.pop_front();
        }
        self.tail.push_back(line);
    }

    /// The last `Step N/M : INSTRUCTION` seen.
    pub fn step(&self) -> Option<&str> {
        self.step.as_deref()
    }

    pub fn tail(&self) -> Vec<String> {
        self.tail.iter().cloned().collect()
    }

    /// Flush a trailing partial line and close the fence and the group.
    pub fn finish(&mut self) {
        if !self.partial.is_empty() {
            let rest = std::mem::take(&mut self.partial);
            self.push(&rest);
            if !self.partial.is_empty() {
                let rest = std::mem::take(&mut self.partial);
                self.line(rest);
            }
        }
        let _ = std::io::stdout().flush();
        self.fence.take();
        self.group.take();
    }
}

impl Drop for LogSink {
    fn drop(&mut self) {
        self.finish();
    }
}

/// The classic builder's step header: `Step N/M : INSTRUCTION`.
pub fn is_step(line: &str) -> bool {
    let Some(rest) = line.strip_prefix("Step ") else {
        return false;
    };
    let Some((counts, _)) = rest.split_once(" : ") else {
        return false;
    };
    counts.split_once('/').is_some_and(|(n, m)| {
        !n.is_empty() && !m.is_empty() && (n.to_owned() + m).bytes().all(|b| b.is_ascii_digit())
    })
}

/// The 1-based Dockerfile line where step `n` (as the classic builder counts: every instruction,
/// `ARG`s before `FROM` included) starts.
pub fn step_line(dockerfile: &str, n: usize) -> Option<usize> {
    let mut escape = '\\';
    let mut directives = true;
    let mut count = 0;
    let mut in_continuation = false;
    for (i, raw) in dockerfile.lines().enumerate() {
        let line = raw.trim();
        if directives {
            // Parser directives: `# escape=` etc. before the first instruction or comment text.
            if let Some(d) = line.strip_prefix('#') {
                let d = d.trim();
                if let Some((k, v)) = d.split_once('=')
                    && k.trim().eq_ignore_ascii_case("escape")
                {
                    escape = v.trim().chars().next().unwrap_or('\\');
                    continue;
                }
            }
            directives = false;
        }
        if line.is_empty() || line.starts_with('#') {
            continue; // blank and comment lines never end a continuation or start a step
        }
        if !in_continuation {
            count += 1;
            if count == n {
                return Some(i + 1);
            }
        }
        in_continuation = line.ends_with(escape);
    }
    None
}

/// The step number in `Step N/M : ...`.
pub fn step_number(step: &str) -> Option<usize> {
    step.strip_prefix("Step ")?.split('/').next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_split_and_tail_is_kept() {
        let mut s = LogSink::start("t", true);
        s.push("Step 1/2 : FROM x\n ---> abc\nStep 2/2 : RUN a ");
        s.push(": b\nfoo\rbar\r\n");
        for i in 0..30 {
            s.push(&format!("l{i}\n"));
        }
        assert_eq!(s.step(), Some("Step 2/2 : RUN a : b"));
        let tail = s.tail();
        assert_eq!(tail.len(), TAIL_LINES);
        assert_eq!(tail.last().map(String::as_str), Some("l29"));
        s.finish();
    }

    #[test]
    fn progress_redraws_keep_the_final_text() {
        let mut s = LogSink::start("t", true);
        s.push("10%\r50%\r100%\n");
        assert_eq!(s.tail(), ["100%"]);
    }

    #[test]
    fn steps_map_to_dockerfile_lines() {
        let df = "# syntax comment\nARG BASE_IMAGE\n\nFROM ${BASE_IMAGE}\n# c\nRUN a \\\n  # inner comment\n  && b\nCOPY x /y\n";
        assert_eq!(step_line(df, 1), Some(2));
        assert_eq!(step_line(df, 2), Some(4));
        assert_eq!(step_line(df, 3), Some(6));
        assert_eq!(step_line(df, 4), Some(9));
        assert_eq!(step_line(df, 5), None);
        let df = "# escape=`\nFROM x\nRUN a `\n b\nRUN c\n";
        assert_eq!(step_line(df, 3), Some(5));
        assert_eq!(step_number("Step 12/20 : RUN x"), Some(12));
    }
}
