//! `golden-plan --check`: the repository against the config. Every problem at once.

use std::path::Path;

use crate::config::Catalog;
use crate::diag::Diagnostic;

/// Check that every path the config mentions exists (files as files, contexts as directories),
/// and that each Dockerfile declares the build arg the builder passes.
pub fn check_repository(c: &Catalog, root: &Path) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for r in &c.path_refs {
        let p = root.join(&r.path);
        let ok = if r.dir { p.is_dir() } else { p.is_file() };
        if !ok {
            let what = if r.dir { "directory" } else { "file" };
            out.push(
                Diagnostic::new(
                    &c.path,
                    r.pos,
                    &r.key,
                    format!("{what} `{}` does not exist", r.path),
                )
                .hint(format!(
                    "create it, or fix the path (relative to {})",
                    root.display()
                )),
            );
        }
    }
    let mut check_arg = |dockerfile: &str, arg: &str, key: String| {
        let p = root.join(dockerfile);
        if let Ok(text) = std::fs::read_to_string(&p) {
            let declared = text.lines().any(|l| {
                let l = l.trim();
                let mut words = l.split_whitespace();
                words.next().is_some_and(|w| w.eq_ignore_ascii_case("ARG"))
                    && words
                        .next()
                        .is_some_and(|w| w.split('=').next() == Some(arg))
            });
            if !declared {
                let pos = c
                    .path_refs
                    .iter()
                    .find(|r| r.path == dockerfile)
                    .map(|r| r.pos)
                    .unwrap_or_default();
                out.push(
                    Diagnostic::new(&c.path, pos, key, format!("`{dockerfile}` does not declare `ARG {arg}`"))
                        .hint(format!("start it with `ARG {arg}` then `FROM ${{{arg}}}`: the builder passes the image through it")),
                );
            }
        }
    };
    for (i, b) in c.bases.iter().enumerate() {
        check_arg(&b.dockerfile, "UPSTREAM", format!("bases[{i}].dockerfile"));
    }
    let mut seen = std::collections::BTreeSet::new();
    for (i, p) in c.platforms.iter().enumerate() {
        for v in &p.versions {
            if seen.insert(v.dockerfile.clone()) {
                check_arg(
                    &v.dockerfile,
                    "BASE_IMAGE",
                    format!("platforms[{i}].dockerfile"),
                );
            }
        }
    }
    out
}
