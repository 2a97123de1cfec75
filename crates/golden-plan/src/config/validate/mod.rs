//! Semantic validation: the raw YAML model → the [`Catalog`], every problem collected with its
//! location.
//!
//! A [`Validator`] carries what every check shares (the config path, the diagnostics found so
//! far, the paths the config mentions); each part of the config has its own file:
//!
//! - [`registry`]: `registry`, `scan` and `shared_paths`.
//! - [`bases`]: `bases`, with their `bootstrap` sections.
//! - [`platforms`]: `platforms` and their `versions`.
//!
//! Diagnostics are reported in the order the config declares things (schema, registry, scan,
//! bases, platforms), so the output of one run reads top to bottom.

mod bases;
mod platforms;
mod registry;

use std::collections::BTreeMap;

use serde_saphyr::Spanned;

use super::{
    CONFIG_SCHEMA, Catalog, PathRef, RESERVED_BUILD_ARGS, RawConfig, RegistryOverride, S,
    normalize_rel, valid_arg_name, valid_rel_path,
};
use crate::diag::{Diagnostic, Diagnostics, Pos};

fn pos<T>(s: &Spanned<T>) -> Pos {
    s.referenced.into()
}

/// Validate a parsed config; `file` is used in every message.
pub(super) fn validate(
    file: &str,
    raw: RawConfig,
    overrides: &RegistryOverride,
) -> Result<Catalog, Diagnostics> {
    let mut v = Validator::new(file);
    v.schema(&raw.schema);
    let registry = v.registry(&raw.registry.value, overrides);
    let (policy, trivy_version) = v.scan(raw.scan.as_ref());
    let shared_paths = registry::shared_paths(raw.shared_paths.as_ref());
    let (bases, known_bases) = v.bases(&raw.bases);
    let platforms = v.platforms(&raw.platforms, &known_bases, &policy);

    if !v.diags.is_empty() {
        return Err(Diagnostics(v.diags));
    }
    Ok(Catalog {
        path: file.to_string(),
        registry,
        policy,
        trivy_version,
        shared_paths,
        bases,
        platforms,
        path_refs: v.refs,
    })
}

/// The state every check shares: the config path (named in every message), the problems found
/// so far (in the order they are found) and the repository paths the config mentions.
struct Validator<'a> {
    file: &'a str,
    diags: Vec<Diagnostic>,
    refs: Vec<PathRef>,
}

impl<'a> Validator<'a> {
    fn new(file: &'a str) -> Self {
        Validator {
            file,
            diags: Vec::new(),
            refs: Vec::new(),
        }
    }

    /// A diagnostic about this config file.
    fn diag(&self, p: Pos, key: impl Into<String>, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(self.file, p, key, message)
    }

    fn push(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    fn schema(&mut self, schema: &S<u32>) {
        if schema.value != CONFIG_SCHEMA {
            let d = self
                .diag(
                    pos(schema),
                    "schema",
                    format!("unsupported config schema {}", schema.value),
                )
                .hint(format!("this golden-plan reads schema {CONFIG_SCHEMA}"));
            self.push(d);
        }
    }

    /// Record a repository path the config mentions (for `--check`), or report it when it is
    /// not repository-relative.
    fn path_ref(&mut self, path: &str, key: String, p: Pos, dir: bool) {
        if valid_rel_path(path) {
            self.refs.push(PathRef {
                path: normalize_rel(path),
                key,
                pos: p,
                dir,
            });
        } else {
            let d = self
                .diag(
                    p,
                    key,
                    format!("path `{path}` must be relative to the repository root, without `..`"),
                )
                .hint("write it like `platform-images/nginx/Dockerfile`");
            self.push(d);
        }
    }

    fn bad_version(&mut self, p: Pos, key: String, v: &str) {
        let d = self.diag(p, key, format!("`{v}` is not a valid version"))
            .hint("start with a digit, then letters, digits, `.`, `-`, `_` (it becomes part of the image tag); quote it in YAML");
        self.push(d);
    }

    /// Check the names of a `build_args` mapping; the mapping as given.
    fn build_args(
        &mut self,
        args: &Option<Spanned<BTreeMap<String, String>>>,
        key: &str,
    ) -> BTreeMap<String, String> {
        let Some(a) = args else {
            return BTreeMap::new();
        };
        for k in a.value.keys() {
            if !valid_arg_name(k) {
                let d = self
                    .diag(
                        pos(a),
                        format!("{key}.{k}"),
                        format!("`{k}` is not a valid build arg name"),
                    )
                    .hint("letters, digits and `_`, not starting with a digit");
                self.push(d);
            } else if RESERVED_BUILD_ARGS.contains(&k.as_str()) {
                let d = self
                    .diag(
                        pos(a),
                        format!("{key}.{k}"),
                        format!("`{k}` is set by the planner/builder and cannot be configured"),
                    )
                    .hint(
                        "BASE_IMAGE comes from the base entry, UPSTREAM from the base's `upstream`",
                    );
                self.push(d);
            }
        }
        a.value.clone()
    }
}
