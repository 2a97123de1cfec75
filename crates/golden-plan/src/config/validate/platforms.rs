//! `platforms`: the platform images, their versions and the bases each version builds on.

use std::collections::BTreeMap;

use super::{Validator, pos};
use crate::config::{
    Platform, PlatformVersion, RawPlatform, RawVersion, S, normalize_rel, valid_name, valid_version,
};
use crate::diag::{Pos, closest};

/// What every platform entry is checked against, and the names and image ids seen so far.
struct Scope<'c> {
    /// The declared base OSes, sorted: what a version's `bases` may name.
    base_names: Vec<&'c str>,
    /// The catalog's scan policy, for platforms and versions that set none.
    default_policy: &'c str,
    seen_platform: BTreeMap<String, Pos>,
    seen_ids: BTreeMap<String, Pos>,
}

/// The platform a version belongs to: what the version inherits and where its keys live.
struct Parent<'p> {
    /// `platforms[i]`.
    key: String,
    name: &'p str,
    /// The platform's Dockerfile, as written.
    dockerfile: &'p str,
    /// The platform's policy, or the catalog's.
    policy: &'p str,
}

impl Validator<'_> {
    /// The platforms; `known_bases` are the declared base OSes, `policy` the catalog's scan
    /// policy.
    pub(super) fn platforms(
        &mut self,
        raw: &S<Vec<S<RawPlatform>>>,
        known_bases: &BTreeMap<String, Pos>,
        policy: &str,
    ) -> Vec<Platform> {
        if raw.value.is_empty() {
            let d = self.diag(pos(raw), "platforms", "no platforms declared")
                .hint("declare at least one platform, or remove the key to build bases only is not supported");
            self.push(d);
        }
        let mut scope = Scope {
            base_names: known_bases.keys().map(String::as_str).collect(),
            default_policy: policy,
            seen_platform: BTreeMap::new(),
            seen_ids: BTreeMap::new(),
        };
        raw.value
            .iter()
            .enumerate()
            .map(|(i, p)| self.platform(i, &p.value, &mut scope))
            .collect()
    }

    fn platform(&mut self, i: usize, rp: &RawPlatform, scope: &mut Scope<'_>) -> Platform {
        let k = |f: &str| format!("platforms[{i}].{f}");
        let name = rp.name.value.clone();
        self.platform_name(&rp.name, k("name"), scope);
        self.path_ref(
            &rp.dockerfile.value,
            k("dockerfile"),
            pos(&rp.dockerfile),
            false,
        );
        if let Some(c) = &rp.context {
            self.path_ref(&c.value, k("context"), pos(c), true);
        }
        let mut files = Vec::new();
        for (j, f) in rp.files.iter().flatten().enumerate() {
            self.path_ref(&f.value, k(&format!("files[{j}]")), pos(f), false);
            files.push(normalize_rel(&f.value));
        }
        let platform_policy = rp.policy.as_ref().map(|pp| {
            self.path_ref(&pp.value, k("policy"), pos(pp), false);
            normalize_rel(&pp.value)
        });
        if rp.versions.value.is_empty() {
            let d = self
                .diag(
                    pos(&rp.versions),
                    k("versions"),
                    format!("platform `{name}` has no versions: the matrix would be empty"),
                )
                .hint("add a version with the bases it supports");
            self.push(d);
        }
        let parent = Parent {
            key: format!("platforms[{i}]"),
            name: &name,
            dockerfile: &rp.dockerfile.value,
            policy: platform_policy.as_deref().unwrap_or(scope.default_policy),
        };
        let versions = rp
            .versions
            .value
            .iter()
            .enumerate()
            .map(|(j, v)| self.version(j, &v.value, &parent, scope))
            .collect();
        Platform {
            name,
            dockerfile: normalize_rel(&rp.dockerfile.value),
            context: rp
                .context
                .as_ref()
                .map(|c| normalize_rel(&c.value))
                .unwrap_or_else(|| ".".into()),
            files,
            versions,
        }
    }

    /// A platform's `name`: a valid, unreserved repository name, declared once.
    fn platform_name(&mut self, name: &S<String>, key: String, scope: &mut Scope<'_>) {
        let n = &name.value;
        if !valid_name(n) || n == "base" || n.starts_with("base-") {
            let d = self.diag(pos(name), key.clone(), format!("`{n}` is not a valid platform name"))
                .hint("lowercase letters, digits and `-`; `base`/`base-*` are reserved for base images");
            self.push(d);
        }
        if let Some(first) = scope.seen_platform.get(n) {
            let d = self
                .diag(
                    pos(name),
                    key,
                    format!(
                        "duplicate platform `{n}` (first declared at line {})",
                        first.line
                    ),
                )
                .hint("declare each platform once and list its versions under `versions`");
            self.push(d);
        } else {
            scope.seen_platform.insert(n.clone(), pos(name));
        }
    }

    fn version(
        &mut self,
        j: usize,
        rv: &RawVersion,
        parent: &Parent<'_>,
        scope: &mut Scope<'_>,
    ) -> PlatformVersion {
        let kv = |f: &str| format!("{}.versions[{j}].{f}", parent.key);
        if !valid_version(&rv.version.value) {
            self.bad_version(pos(&rv.version), kv("version"), &rv.version.value);
        }
        if rv.bases.value.is_empty() {
            let d = self
                .diag(
                    pos(&rv.bases),
                    kv("bases"),
                    "empty list of bases: this version would build nothing",
                )
                .hint(format!(
                    "list at least one of: {}",
                    scope.base_names.join(", ")
                ));
            self.push(d);
        }
        let id_prefix = format!("{}-{}", parent.name, rv.version.value);
        let mut vbases = Vec::new();
        for (m, b) in rv.bases.value.iter().enumerate() {
            if self.version_base(b, kv(&format!("bases[{m}]")), &id_prefix, scope) {
                vbases.push(b.value.clone());
            }
        }
        let build_args = self.build_args(&rv.build_args, &kv("build_args"));
        let dockerfile = match &rv.dockerfile {
            Some(df) => {
                self.path_ref(&df.value, kv("dockerfile"), pos(df), false);
                normalize_rel(&df.value)
            }
            None => normalize_rel(parent.dockerfile),
        };
        let policy = match &rv.policy {
            Some(pp) => {
                self.path_ref(&pp.value, kv("policy"), pos(pp), false);
                normalize_rel(&pp.value)
            }
            None => parent.policy.to_string(),
        };
        if let Some(vr) = &rv.vendor_repo
            && !valid_name(&vr.value)
        {
            let d = self
                .diag(
                    pos(vr),
                    kv("vendor_repo"),
                    format!("`{}` is not a valid vendor repository name", vr.value),
                )
                .hint("a short lowercase name such as `microsoft`");
            self.push(d);
        }
        PlatformVersion {
            version: rv.version.value.clone(),
            bases: vbases,
            build_args,
            vendor_repo: rv.vendor_repo.as_ref().map(|v| v.value.clone()),
            dockerfile,
            policy,
        }
    }

    /// One entry of a version's `bases`: a declared base, and an image id (`id_prefix` is
    /// `platform-version`) not seen before. Whether the version builds on it (unknown bases are
    /// left out).
    fn version_base(
        &mut self,
        b: &S<String>,
        key: String,
        id_prefix: &str,
        scope: &mut Scope<'_>,
    ) -> bool {
        let bn = &b.value;
        if !scope.base_names.contains(&bn.as_str()) {
            let mut diag = self.diag(
                pos(b),
                key,
                format!(
                    "unknown base `{bn}`, known: {}",
                    scope.base_names.join(", ")
                ),
            );
            if let Some(c) = closest(bn, scope.base_names.iter().copied()) {
                diag = diag.hint(format!("did you mean `{c}`?"));
            } else {
                diag = diag.hint("declare the base under `bases` first");
            }
            self.push(diag);
            return false;
        }
        let id = format!("{id_prefix}-{bn}");
        if let Some(first) = scope.seen_ids.get(&id) {
            let d = self
                .diag(
                    pos(b),
                    key,
                    format!(
                        "duplicate image id `{id}` (first declared at line {})",
                        first.line
                    ),
                )
                .hint("each platform, version and base combination may appear once");
            self.push(d);
        } else {
            scope.seen_ids.insert(id, pos(b));
        }
        true
    }
}
