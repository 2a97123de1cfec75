//! `golden-build`: builds one planned image (or an explicit Dockerfile) through the Docker Engine
//! API, and moves images between jobs as archives.
//!
//! - [`cli`]: the flags (clap); [`spec`]: inputs (plan entry, `GOLDEN_ENTRY`, flags) → a checked
//!   [`spec::Job`] and the [`spec::Options`] — nothing below sees clap types;
//! - [`dockerignore`] + [`context`]: the context tar, filtered like the docker CLI, streamed;
//! - [`labels`]: the OCI label set; [`build`]: the engine build, tags, the record;
//! - [`base`]: the base image from the engine, or pulled with `golden-registry`'s credentials;
//! - [`cache`]: the `--cache-from` images, pulled the same way (a missing one is a warning);
//! - [`pull`]: `--pull` when the base was resolved (the engine cannot pull an image id);
//! - [`bootstrap`]: the Debian base from the archive (`scripts/bootstrap-debian.sh`);
//! - [`outcome`]: what a build produced or why it failed, shared by `build` and `bootstrap`
//!   (dependencies go one way: build → bootstrap → outcome);
//! - [`logs`]: line-by-line output, fenced in GitHub Actions; [`archive`]: `save` / `load`.
//!
//! Architecture invariant: the engine is reached only through `golden-engine` (the base pull too:
//! `Engine::pull_image`), registry credentials only through `golden-registry`, workflow commands
//! and `$GITHUB_OUTPUT` only through `golden-gha`.

pub mod archive;
pub mod base;
pub mod bootstrap;
pub mod build;
pub mod cache;
pub mod cli;
pub mod context;
pub mod dockerignore;
pub mod emulation;
pub mod labels;
pub mod logs;
pub mod outcome;
pub mod pull;
pub mod spec;
pub mod verify_base;

/// The last lines of output, indented, for an error message.
pub(crate) fn build_tail(lines: &[String]) -> String {
    if lines.is_empty() {
        return String::new();
    }
    let mut s = format!("\nlast {} lines of output:", lines.len());
    for l in lines {
        s.push_str("\n  | ");
        s.push_str(l);
    }
    s
}
