//! Image history lines (`created_by`) in the forms the classic builder and BuildKit write:
//!
//! ```text
//! /bin/sh -c #(nop) ADD file:3b1b… in /             classic, metadata or ADD/COPY
//! /bin/sh -c #(nop)  CMD ["/bin/sh"]
//! /bin/sh -c apt-get update                         classic RUN
//! |2 A=B C=D /bin/sh -c make                        classic RUN with build args
//! /bin/busybox sh -c …                              classic RUN, exec form / custom SHELL
//! RUN /bin/sh -c apt-get update # buildkit          BuildKit
//! RUN |1 TOKEN=x /bin/sh -c … # buildkit
//! ADD file.tar / # buildkit ;  COPY … # buildkit ;  ENV K=V ;  ARG K=V
//! ```

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// Upper-case instruction: `RUN`, `ADD`, `COPY`, `ENV`, `CMD`, ... (`RUN` when unknown).
    pub instruction: String,
    /// The instruction's argument (the shell command for RUN).
    pub body: String,
    /// Build args recorded with a RUN (`|2 A=B C=D`), names and values.
    pub build_args: Vec<(String, String)>,
    pub buildkit: bool,
}

const INSTRUCTIONS: [&str; 18] = [
    "ADD",
    "ARG",
    "CMD",
    "COPY",
    "ENTRYPOINT",
    "ENV",
    "EXPOSE",
    "HEALTHCHECK",
    "LABEL",
    "MAINTAINER",
    "ONBUILD",
    "RUN",
    "SHELL",
    "STOPSIGNAL",
    "USER",
    "VOLUME",
    "WORKDIR",
    "FROM",
];

/// Split `|N K=V K=V rest` into the args and the rest.
fn split_build_args(s: &str) -> (Vec<(String, String)>, &str) {
    let Some(after) = s.strip_prefix('|') else {
        return (Vec::new(), s);
    };
    let (count, mut rest) = match after.split_once(' ') {
        Some((n, r)) => (n.parse::<usize>().unwrap_or(0), r),
        None => return (Vec::new(), s),
    };
    let mut args = Vec::new();
    for _ in 0..count {
        let (word, r) = rest.split_once(' ').unwrap_or((rest, ""));
        if let Some((k, v)) = word.split_once('=') {
            args.push((k.to_string(), v.to_string()));
        }
        rest = r;
    }
    (args, rest)
}

/// Strip a leading `<shell> [-opts] -c ` (any shell, e.g. `/bin/sh -c`, `/bin/bash -o pipefail -c`).
fn strip_shell(s: &str) -> Option<&str> {
    let first = s.split_whitespace().next()?;
    let shellish = first.ends_with("sh") || first.ends_with("/busybox") || first == "busybox";
    if !shellish {
        return None;
    }
    let idx = s.find(" -c ")?;
    // Everything before -c must look like shell options (no spaces in odd places matter).
    let head = &s[..idx];
    if head
        .split_whitespace()
        .skip(1)
        .all(|w| w.starts_with('-') || w == "sh" || w == "pipefail" || w == "errexit")
    {
        Some(&s[idx + 4..])
    } else {
        None
    }
}

pub fn parse(created_by: &str) -> Step {
    let mut s = created_by.trim();
    let mut buildkit = false;
    if let Some(stripped) = s.strip_suffix("# buildkit") {
        s = stripped.trim_end();
        buildkit = true;
    }
    // BuildKit: the instruction is written first.
    let first = s.split_whitespace().next().unwrap_or("");
    if INSTRUCTIONS.contains(&first) {
        let rest = s[first.len()..].trim_start();
        if first == "RUN" {
            let (build_args, rest) = split_build_args(rest);
            let body = strip_shell(rest).unwrap_or(rest).to_string();
            return Step {
                instruction: "RUN".into(),
                body,
                build_args,
                buildkit: true,
            };
        }
        return Step {
            instruction: first.to_string(),
            body: rest.to_string(),
            build_args: Vec::new(),
            buildkit: true,
        };
    }
    let (build_args, rest) = split_build_args(s);
    let body = strip_shell(rest).unwrap_or(rest).trim();
    if let Some(nop) = body.strip_prefix("#(nop)") {
        let nop = nop.trim();
        let word = nop.split_whitespace().next().unwrap_or("");
        if INSTRUCTIONS.contains(&word) {
            return Step {
                instruction: word.to_string(),
                body: nop[word.len()..].trim().to_string(),
                build_args,
                buildkit,
            };
        }
        return Step {
            instruction: "NOP".into(),
            body: nop.to_string(),
            build_args,
            buildkit,
        };
    }
    Step {
        instruction: "RUN".into(),
        body: body.to_string(),
        build_args,
        buildkit,
    }
}

/// Split a RUN body into commands (on `&&`, `;`, `||`, `|` and newlines), each a list of words.
pub fn commands(body: &str) -> Vec<Vec<&str>> {
    body.split(['\n', ';', '|', '&'])
        .map(|c| {
            c.split_whitespace()
                .filter(|w| *w != "\\")
                .collect::<Vec<_>>()
        })
        .filter(|c| !c.is_empty())
        .collect()
}

/// A history line safe to show as evidence: build-arg values (`|2 A=x B=y`) are masked, and so
/// is the value of every `KEY=value` (or `ENV KEY value`) whose key looks secret.
pub fn redact(raw: &str) -> String {
    let mut words: Vec<String> = raw.split(' ').map(str::to_string).collect();
    if let Some(i) = words
        .iter()
        .position(|w| w.len() > 1 && w.starts_with('|') && w[1..].parse::<usize>().is_ok())
    {
        let n: usize = words[i][1..].parse().unwrap_or(0);
        for w in words.iter_mut().skip(i + 1).take(n) {
            if let Some((k, _)) = w.split_once('=') {
                *w = format!("{k}=***");
            }
        }
    }
    for i in 0..words.len() {
        if let Some((k, v)) = words[i].split_once('=') {
            let key = k.trim_start_matches('-');
            if !v.is_empty() && crate::secrets::suspicious_key(key, &[]) {
                words[i] = format!("{k}=***");
            }
        } else if (words[i] == "ENV" || words[i] == "ARG")
            && words.get(i + 1).is_some_and(|next| {
                !next.contains('=') && crate::secrets::suspicious_key(next, &[])
            })
        {
            // Legacy `ENV KEY value` form: everything after the key is the value.
            for w in words.iter_mut().skip(i + 2) {
                if !w.is_empty() {
                    *w = "***".into();
                }
            }
            break;
        }
    }
    words.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classic_forms() {
        let s = parse("/bin/sh -c #(nop) ADD file:2e3a37883f56 in / ");
        assert_eq!(
            (s.instruction.as_str(), s.body.as_str()),
            ("ADD", "file:2e3a37883f56 in /")
        );
        let s = parse("/bin/sh -c #(nop)  CMD [\"/bin/sh\"]");
        assert_eq!(s.instruction, "CMD");
        let s = parse("|2 A=B DB_PASSWORD=hunter2 /bin/sh -c make all");
        assert_eq!(s.instruction, "RUN");
        assert_eq!(s.body, "make all");
        assert_eq!(
            s.build_args[1],
            ("DB_PASSWORD".to_string(), "hunter2".to_string())
        );
        let s = parse("/bin/busybox sh -c /bin/busybox --install -s /bin");
        assert_eq!(s.body, "/bin/busybox --install -s /bin");
        let s = parse("/bin/bash -o pipefail -c apt-get update");
        assert_eq!(s.body, "apt-get update");
    }

    #[test]
    fn buildkit_forms() {
        let s = parse("RUN /bin/sh -c apt-get update # buildkit");
        assert!(s.buildkit);
        assert_eq!(
            (s.instruction.as_str(), s.body.as_str()),
            ("RUN", "apt-get update")
        );
        let s = parse("RUN |1 TOKEN=abc /bin/sh -c echo hi # buildkit");
        assert_eq!(s.build_args, vec![("TOKEN".into(), "abc".into())]);
        let s = parse("ADD rootfs.tar.gz / # buildkit");
        assert_eq!(
            (s.instruction.as_str(), s.body.as_str()),
            ("ADD", "rootfs.tar.gz /")
        );
        let s = parse("ENV DB_PASSWORD=x");
        assert_eq!(s.instruction, "ENV");
    }

    #[test]
    fn redacts_secret_values() {
        assert_eq!(
            redact("|2 A=1 API_TOKEN=s3cr3t /bin/sh -c make"),
            "|2 A=*** API_TOKEN=*** /bin/sh -c make"
        );
        assert_eq!(
            redact("/bin/sh -c #(nop)  ENV DB_PASSWORD=hunter2"),
            "/bin/sh -c #(nop)  ENV DB_PASSWORD=***"
        );
        assert_eq!(
            redact("ENV DB_PASSWORD hunter2 more"),
            "ENV DB_PASSWORD *** ***"
        );
        assert_eq!(
            redact("RUN /bin/sh -c curl --token=abc x # buildkit"),
            "RUN /bin/sh -c curl --token=*** x # buildkit"
        );
        assert_eq!(
            redact("/bin/sh -c apt-get update"),
            "/bin/sh -c apt-get update"
        );
    }

    #[test]
    fn splits_commands() {
        let c = commands("apt-get update -y && apt-get upgrade -y; echo \"hello\"");
        assert_eq!(c[0], ["apt-get", "update", "-y"]);
        assert_eq!(c.len(), 3);
    }
}
