//! `registry`, `scan` and `shared_paths`: where images go and how they are scanned.

use super::{Validator, pos};
use crate::config::{
    RawRegistry, RawScan, Registry, RegistryOverride, S, normalize_rel, valid_host, valid_name,
    valid_version,
};
use crate::diag::Pos;

impl Validator<'_> {
    /// The registry, with the environment's overrides applied.
    pub(super) fn registry(&mut self, reg: &RawRegistry, overrides: &RegistryOverride) -> Registry {
        let host = overrides
            .host
            .clone()
            .unwrap_or_else(|| reg.host.value.clone());
        let namespace = overrides
            .namespace
            .clone()
            .unwrap_or_else(|| reg.namespace.value.clone());
        if !valid_host(&host) {
            let (p, src) = if overrides.host.is_some() {
                (Pos::default(), " (from the environment / acr-config.env)")
            } else {
                (pos(&reg.host), "")
            };
            let d = self
                .diag(
                    p,
                    "registry.host",
                    format!("`{host}` is not a registry host[:port]{src}"),
                )
                .hint("for ACR use the login server, e.g. myregistry.azurecr.io");
            self.push(d);
        }
        if namespace.split('/').any(|c| !valid_name(c)) {
            let p = if overrides.namespace.is_some() {
                Pos::default()
            } else {
                pos(&reg.namespace)
            };
            let d = self
                .diag(
                    p,
                    "registry.namespace",
                    format!("`{namespace}` is not a valid repository namespace"),
                )
                .hint("use lowercase letters, digits and `-`, e.g. `golden` or `platform/golden`");
            self.push(d);
        }
        if let Some(staging) = &overrides.staging {
            if staging.split('/').any(|c| !valid_name(c)) {
                let d = self
                    .diag(
                        Pos::default(),
                        "registry.namespace",
                        format!(
                            "the staging namespace `{staging}` (GOLDEN_STAGING_NAMESPACE / --staging-namespace) is not a valid repository namespace"
                        ),
                    )
                    .hint("use lowercase letters, digits and `-`, e.g. `golden-staging`");
                self.push(d);
            } else if staging == &namespace {
                let d = self
                    .diag(
                        Pos::default(),
                        "registry.namespace",
                        format!(
                            "the staging namespace `{staging}` is the release namespace itself: staged images would sit where consumers pull"
                        ),
                    )
                    .hint("name a separate namespace, e.g. `golden-staging`, or leave GOLDEN_STAGING_NAMESPACE empty to push to the release namespace directly");
                self.push(d);
            }
        }
        let default_branch = reg
            .default_branch
            .as_ref()
            .map(|b| b.value.clone())
            .unwrap_or_else(|| "main".into());
        Registry {
            host,
            namespace,
            default_branch,
            staging: overrides.staging.clone(),
        }
    }

    /// The catalog's scan policy and pinned Trivy version.
    pub(super) fn scan(&mut self, scan: Option<&S<RawScan>>) -> (String, Option<String>) {
        let (policy, trivy_version) = match scan {
            Some(s) => {
                self.path_ref(
                    &s.value.policy.value,
                    "scan.policy".into(),
                    pos(&s.value.policy),
                    false,
                );
                (
                    normalize_rel(&s.value.policy.value),
                    s.value.trivy_version.as_ref().map(|v| v.value.clone()),
                )
            }
            None => ("configs/policy.yaml".to_string(), None),
        };
        if let Some(v) = &trivy_version
            && !valid_version(v)
        {
            let p = scan
                .and_then(|s| s.value.trivy_version.as_ref())
                .map(pos)
                .unwrap_or_default();
            let d = self
                .diag(p, "scan.trivy_version", format!("`{v}` is not a version"))
                .hint("pin an exact Trivy release, e.g. \"0.69.3\"");
            self.push(d);
        }
        (policy, trivy_version)
    }
}

/// The paths every image depends on (default: the common hardening script).
pub(super) fn shared_paths(shared: Option<&S<Vec<S<String>>>>) -> Vec<String> {
    shared
        .map(|s| s.value.iter().map(|p| normalize_rel(&p.value)).collect())
        .unwrap_or_else(|| vec!["scripts/harden-common.sh".to_string()])
}
