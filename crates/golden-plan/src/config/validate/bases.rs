//! `bases`: the hardened base images, one per OS, and their `bootstrap` sections.

use std::collections::BTreeMap;

use super::{Validator, pos};
use crate::config::{
    Base, Bootstrap, KNOWN_OS, RawBase, RawBootstrap, S, normalize_rel, valid_version,
};
use crate::diag::{Pos, closest};

/// The mmdebstrap variants a `bootstrap` section may name.
const MMDEBSTRAP_VARIANTS: [&str; 9] = [
    "minbase",
    "essential",
    "apt",
    "required",
    "important",
    "standard",
    "buildd",
    "custom",
    "extract",
];

impl Validator<'_> {
    /// The bases, and each declared base OS with where it is first declared (what platform
    /// versions may name).
    pub(super) fn bases(&mut self, raw: &S<Vec<S<RawBase>>>) -> (Vec<Base>, BTreeMap<String, Pos>) {
        if raw.value.is_empty() {
            let d = self
                .diag(
                    pos(raw),
                    "bases",
                    "no base images: the matrix would be empty",
                )
                .hint("declare at least one base (alpine, debian or redhat)");
            self.push(d);
        }
        let mut seen_os: BTreeMap<String, Pos> = BTreeMap::new();
        let bases = raw
            .value
            .iter()
            .enumerate()
            .map(|(i, b)| self.base(i, &b.value, &mut seen_os))
            .collect();
        (bases, seen_os)
    }

    fn base(&mut self, i: usize, rb: &RawBase, seen_os: &mut BTreeMap<String, Pos>) -> Base {
        let k = |f: &str| format!("bases[{i}].{f}");
        let os = rb.os.value.clone();
        self.base_os(&rb.os, k("os"), seen_os);
        if !valid_version(&rb.version.value) {
            self.bad_version(pos(&rb.version), k("version"), &rb.version.value);
        }
        self.upstream(&rb.upstream, k("upstream"));
        self.path_ref(
            &rb.dockerfile.value,
            k("dockerfile"),
            pos(&rb.dockerfile),
            false,
        );
        self.path_ref(
            &rb.harden_script.value,
            k("harden_script"),
            pos(&rb.harden_script),
            false,
        );
        let context = rb
            .context
            .as_ref()
            .map(|c| c.value.clone())
            .unwrap_or_else(|| ".".into());
        if let Some(c) = &rb.context {
            self.path_ref(&c.value, k("context"), pos(c), true);
        }
        let mut files = Vec::new();
        for (j, f) in rb.files.iter().flatten().enumerate() {
            self.path_ref(&f.value, k(&format!("files[{j}]")), pos(f), false);
            files.push(normalize_rel(&f.value));
        }
        let build_args = self.build_args(&rb.build_args, &k("build_args"));
        let bootstrap = rb
            .bootstrap
            .as_ref()
            .map(|bs| self.bootstrap(bs, &os, &k("bootstrap")));
        Base {
            os,
            version: rb.version.value.clone(),
            upstream: rb.upstream.value.clone(),
            upstream_pos: pos(&rb.upstream),
            dockerfile: normalize_rel(&rb.dockerfile.value),
            context: normalize_rel(&context),
            harden_script: normalize_rel(&rb.harden_script.value),
            files,
            build_args,
            bootstrap,
        }
    }

    /// A base's `os`: a known OS, declared once.
    fn base_os(&mut self, os: &S<String>, key: String, seen_os: &mut BTreeMap<String, Pos>) {
        let name = &os.value;
        if !KNOWN_OS.contains(&name.as_str()) {
            let mut diag = self.diag(
                pos(os),
                key.clone(),
                format!("unknown base OS `{name}` (known: {})", KNOWN_OS.join(", ")),
            );
            diag = match closest(name, KNOWN_OS) {
                Some(c) => diag.hint(format!("did you mean `{c}`?")),
                None => diag.hint(
                    "each base OS needs its own hardening script; add one before adding an OS",
                ),
            };
            self.push(diag);
        }
        if let Some(first) = seen_os.get(name) {
            let d = self
                .diag(
                    pos(os),
                    key,
                    format!(
                        "duplicate base id `base-{name}` (first declared at line {})",
                        first.line
                    ),
                )
                .hint("declare each base OS once");
            self.push(d);
        } else {
            seen_os.insert(name.clone(), pos(os));
        }
    }

    /// A base's `upstream`: an image reference pinned by tag and digest.
    fn upstream(&mut self, upstream: &S<String>, key: String) {
        match golden_oci::Reference::parse(&upstream.value) {
            Ok(r) if r.digest.is_none() || r.tag.is_none() => {
                let d = self
                    .diag(
                        pos(upstream),
                        key,
                        format!(
                            "upstream `{}` is not pinned as name:tag@sha256:...",
                            upstream.value
                        ),
                    )
                    .hint("pin the upstream by tag and digest so builds are repeatable");
                self.push(d);
            }
            Ok(_) => {}
            Err(e) => {
                let d = self
                    .diag(pos(upstream), key, e.to_string())
                    .hint("write it like docker.io/library/debian:bookworm-slim@sha256:<64 hex>");
                self.push(d);
            }
        }
    }

    /// A base's `bootstrap` section (debian only); `key` is the section's own key.
    fn bootstrap(&mut self, bs: &S<RawBootstrap>, os: &str, key: &str) -> Bootstrap {
        let v = &bs.value;
        if os != "debian" {
            let d = self
                .diag(
                    pos(bs),
                    key,
                    format!("bootstrap is only supported for debian, not `{os}`"),
                )
                .hint("remove the bootstrap section from this base");
            self.push(d);
        }
        if !MMDEBSTRAP_VARIANTS.contains(&v.variant.value.as_str()) {
            let d = self
                .diag(
                    pos(&v.variant),
                    format!("{key}.variant"),
                    format!("unknown mmdebstrap variant `{}`", v.variant.value),
                )
                .hint("use minbase (smallest), essential or apt");
            self.push(d);
        }
        if v.suite.value.is_empty()
            || !v
                .suite
                .value
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            let d = self
                .diag(
                    pos(&v.suite),
                    format!("{key}.suite"),
                    format!("`{}` is not a Debian suite name", v.suite.value),
                )
                .hint("e.g. bookworm");
            self.push(d);
        }
        if let Some(s) = &v.snapshot
            && !valid_snapshot(&s.value)
        {
            let d = self
                .diag(
                    pos(s),
                    format!("{key}.snapshot"),
                    format!("`{}` is not a snapshot timestamp", s.value),
                )
                .hint("write it as YYYYMMDDTHHMMSSZ, e.g. 20250520T000000Z");
            self.push(d);
        }
        Bootstrap {
            suite: v.suite.value.clone(),
            variant: v.variant.value.clone(),
            components: v.components.clone().unwrap_or_else(|| vec!["main".into()]),
            mirror: v
                .mirror
                .as_ref()
                .map(|m| m.value.clone())
                .filter(|m| !m.is_empty()),
            snapshot: v.snapshot.as_ref().map(|m| m.value.clone()),
        }
    }
}

/// A snapshot.debian.org timestamp: `YYYYMMDDTHHMMSSZ`.
fn valid_snapshot(s: &str) -> bool {
    s.len() == 16
        && s.as_bytes()[8] == b'T'
        && s.ends_with('Z')
        && s[..8].chars().all(|c| c.is_ascii_digit())
        && s[9..15].chars().all(|c| c.is_ascii_digit())
}
