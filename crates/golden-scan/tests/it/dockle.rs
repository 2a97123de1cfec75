//! Dockle's own test configs (goodwithtech/dockle `pkg/assessor/manifest/testdata`): our checks,
//! run on the config alone, must raise exactly the Dockle codes Dockle's tests expect.

use std::collections::BTreeSet;

use golden_contracts::scan::CheckStatus;
use golden_oci::ImageConfigFile;
use golden_scan::checks::{CheckInput, run};
use golden_scan::policy::Policy;

use crate::support::third_party;

fn codes(name: &str) -> BTreeSet<String> {
    let text = std::fs::read_to_string(third_party(&format!("dockle/{name}"))).unwrap();
    let cfg: ImageConfigFile = serde_json::from_str(&text).unwrap();
    let policy = Policy::load(None).unwrap();
    let out = run(&CheckInput {
        config: &cfg,
        fs: None,
        layer_secrets: &[],
        packages: &[],
        policy: &policy,
        names: &[],
    });
    // Filesystem checks cannot run on a config: they must say so, never pass.
    for r in &out.results {
        if r.evidence
            .iter()
            .any(|e| e.contains("needs the image filesystem"))
        {
            assert_eq!(r.status, CheckStatus::Skip, "{}", r.id);
        }
    }
    out.results
        .iter()
        .filter(|r| matches!(r.status, CheckStatus::Fail | CheckStatus::Warn))
        .map(|r| {
            r.dockle
                .clone()
                .unwrap_or_else(|| format!("(no dockle code: {})", r.id))
        })
        .collect()
}

fn set(v: &[&str]) -> BTreeSet<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn root_default() {
    // Dockle: AvoidRootDefault, AddHealthcheck.
    assert_eq!(
        codes("root_default.json"),
        set(&["CIS-DI-0001", "CIS-DI-0006"])
    );
}

#[test]
fn apk_cache() {
    // Dockle: AvoidRootDefault, AddHealthcheck, UseApkAddNoCache, UseCOPY.
    assert_eq!(
        codes("apk_cache.json"),
        set(&["CIS-DI-0001", "CIS-DI-0006", "DKL-DI-0004", "CIS-DI-0009"])
    );
}

#[test]
fn apt_update_upgrade() {
    // README: root user, apt update without install (CIS-DI-0007), no healthcheck.
    assert_eq!(
        codes("apt_update_upgrade.json"),
        set(&["CIS-DI-0001", "CIS-DI-0006", "CIS-DI-0007"])
    );
}
