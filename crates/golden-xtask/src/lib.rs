//! Project tasks for the golden image build system.
//!
//! - [`docs`]: `golden-xtask action-docs [--check]` — each action README's input/output table,
//!   generated from `action.yml` and checked for drift (the gate runs `--check`), plus the rules
//!   every golden action follows (composite, `shell: bash`, no `${{ }}` in `run:`, kebab-case,
//!   outputs with `value:`).
//! - [`envdocs`]: `golden-xtask env-docs [--check]` — `docs/environment.md`, every
//!   environment variable of the binaries from their clap definitions, with the variables two
//!   commands read as different kinds of value; drift-checked by the gate like the READMEs.
//! - [`runner`]: executes a composite action's steps the way the GitHub runner does (inputs,
//!   `env:` substitution, `GITHUB_OUTPUT`/`GITHUB_ENV`/`GITHUB_PATH`/`GITHUB_STEP_SUMMARY`,
//!   workflow commands, output mapping). The integration tests drive every action through it.
//! - [`expr`]: the GitHub expression subset both need.

pub mod action;
pub mod docs;
pub mod envdocs;
pub mod expr;
pub mod runner;

pub use action::{Action, ActionError};
pub use runner::{Outcome, RunError, RunResult, Runner, UsesCall};
