//! The scan action with the pinned Trivy for real (`.venv/bin/trivy`, installed by
//! scripts/setup.sh; missing, the test fails) and a DB mirror: golden-testkit's test DB pushed to
//! a real registry, named by the `trivy-db-repository` input, on the hardened Debian base; and
//! the shipped policy's `require_scan` on a pull request when no Trivy can be found, and on the
//! nightly's schedule when Trivy is turned off.

use std::path::{Path, PathBuf};
use std::process::Command;

use golden_contracts::Document;
use golden_contracts::scan::ScanReport;

use crate::harness::*;

const BASE: &str = "goldenimages.azurecr.io/golden/base-debian:12";

fn trivy() -> PathBuf {
    let p = repo_root().join(".venv/bin/trivy");
    assert!(
        p.is_file(),
        "the pinned Trivy is required at {}: run scripts/setup.sh",
        p.display()
    );
    p
}

fn ensure_base() {
    require_docker();
    let have = Command::new("docker")
        .args(["image", "inspect", BASE])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !have {
        let out = Command::new(repo_root().join("scripts/build-base.sh"))
            .arg("debian")
            .current_dir(repo_root())
            .output()
            .expect("run scripts/build-base.sh");
        assert!(
            out.status.success(),
            "scripts/build-base.sh debian failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

fn report(r: &golden_xtask::RunResult) -> ScanReport {
    ScanReport::read(Path::new(r.output("report"))).unwrap()
}

#[test]
fn docker_scan_action_with_the_real_trivy_and_a_db_mirror() {
    let trivy = trivy();
    ensure_base();
    let bins = golden_bins(&["golden-scan"]);
    let t = tempdir("trivy-action");
    let reg = Registry::start();
    let db = format!("{}/mirror/trivy-db", reg.host());
    let java = format!("{}/mirror/trivy-java-db", reg.host());
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(golden_testkit::trivydb::publish(
        &repo_root().join("tests/fixtures/trivy-db/advisories.yaml"),
        &db,
        Some(&java),
        None,
    ))
    .unwrap_or_else(|e| panic!("cannot publish the test DB: {e:#}"));

    let scan = |event: &str, trivy_input: &str, path: String, repo: &str, out: &str| {
        runner("scan", t.path())
            .github("event_name", event)
            .env("PATH", path)
            .input("image", BASE)
            .input("output", t.path().join(out).display().to_string())
            .input("trivy", trivy_input)
            .input("trivy-db-repository", repo)
            .input("trivy-java-db-repository", java.clone())
            // Each scan its own cache: a fresh DB already cached is not downloaded again.
            .input(
                "trivy-cache-dir",
                t.path()
                    .join(out)
                    .with_extension("cache")
                    .display()
                    .to_string(),
            )
            .input("fail-on-policy", "false")
            .run()
            .unwrap()
    };

    // The mirror's DB: scanned for real; the planted CRITICAL with a fix fails the policy.
    let r = scan(
        "pull_request",
        trivy.to_str().unwrap(),
        path_with(&bins),
        &db,
        "out/mirror",
    );
    assert_ok(&r);
    let rep = report(&r);
    assert_eq!(
        rep.vulnerabilities.status,
        golden_contracts::scan::ScannerStatus::Scanned
    );
    assert_eq!(rep.vulnerabilities.scanner.as_deref(), Some("trivy 0.69.3"));
    let critical: Vec<&str> = rep
        .vulnerabilities
        .items
        .iter()
        .filter(|v| v.severity == golden_contracts::scan::Severity::Critical)
        .map(|v| v.id.as_str())
        .collect();
    assert!(critical.contains(&"CVE-2099-0001"), "{critical:?}");
    assert_eq!(r.output("critical"), critical.len().to_string());
    assert_eq!(r.output("passed"), "false");
    assert_eq!(r.output("exit-code"), "1");

    // A mirror without the DB: the step fails (golden-scan exit 2) naming the repository.
    let missing = format!("{}/mirror/none", reg.host());
    let r = scan(
        "pull_request",
        trivy.to_str().unwrap(),
        path_with(&bins),
        &missing,
        "out/missing",
    );
    assert!(!r.success, "a missing DB must fail the step:\n{}", r.log());
    assert!(r.log().contains(&missing), "{}", r.log());

    // No Trivy to be found on a pull request: the shipped policy requires a scan there.
    let bare = format!("{}:/usr/local/bin:/usr/bin:/bin", bins.display());
    let r = scan("pull_request", "auto", bare.clone(), "", "out/none-pr");
    assert_ok(&r);
    let rep = report(&r);
    assert_eq!(r.output("passed"), "false");
    let f = rep
        .policy
        .failures
        .iter()
        .find(|f| f.rule == "vulnerability-scan")
        .unwrap_or_else(|| panic!("no vulnerability-scan failure: {:?}", rep.policy));
    assert!(
        f.message.contains("not scanned") && f.message.contains("`pull_request`"),
        "{}",
        f.message
    );
    // `trivy: off` in the nightly (schedule): a deliberate off is still not a scan, and the
    // shipped policy requires one there.
    let r = scan("schedule", "off", bare.clone(), "", "out/off-nightly");
    assert_ok(&r);
    assert_eq!(r.output("passed"), "false");
    let rep = report(&r);
    assert_eq!(
        rep.vulnerabilities.status,
        golden_contracts::scan::ScannerStatus::Disabled
    );
    let f = rep
        .policy
        .failures
        .iter()
        .find(|f| f.rule == "vulnerability-scan")
        .unwrap_or_else(|| panic!("trivy: off passed the nightly's policy: {:?}", rep.policy));
    assert!(
        f.message.contains("disabled") && f.message.contains("`schedule`"),
        "{}",
        f.message
    );
    // ... not on a push to a branch (not listed in the shipped policy).
    let r = scan("push", "auto", bare, "", "out/none-push");
    assert_ok(&r);
    assert!(
        !report(&r)
            .policy
            .failures
            .iter()
            .any(|f| f.rule == "vulnerability-scan"),
        "{:?}",
        report(&r).policy
    );
}

/// The run's DB job with `trivy: auto` on a runner without trivy (the reusable workflow runs it
/// for any Trivy but `off`): a warning, no download attempted, the step succeeds so the image
/// jobs still run (and report "not scanned" where the policy allows it).
#[test]
fn db_job_with_auto_and_no_trivy_warns_and_downloads_nothing() {
    let bins = golden_bins(&["golden-scan"]);
    let t = tempdir("trivy-db-auto");
    let cache = t.path().join("cache");
    let r = runner("scan", t.path())
        .env(
            "PATH",
            format!("{}:/usr/local/bin:/usr/bin:/bin", bins.display()),
        )
        .input("download-db-only", "true")
        .input("trivy", "auto")
        .input("trivy-cache-dir", cache.display().to_string())
        .run()
        .unwrap();
    assert_ok(&r);
    assert!(
        r.log()
            .contains("trivy: auto, but no trivy on PATH: no vulnerability DB downloaded"),
        "{}",
        r.log()
    );
    assert!(
        !r.log().contains("downloading the vulnerability DB"),
        "{}",
        r.log()
    );
    assert_eq!(r.output("trivy-path"), "");
    assert!(!cache.join("db").exists(), "nothing may be downloaded");
}
