//! Plan snapshots for the shipped catalog (issue 2's list).

use crate::{FIXED, golden_plan, shipped_config, stdout};
use golden_contracts::plan::Plan;

fn plan(args: &[&str]) -> Plan {
    let cfg = shipped_config();
    let mut all: Vec<&str> = vec!["--config", cfg.to_str().unwrap(), "--format", "json"];
    all.extend_from_slice(&FIXED);
    all.extend_from_slice(args);
    let out = golden_plan(&all, &[]);
    assert!(
        out.status.success(),
        "golden-plan failed: {}",
        crate::stderr(&out)
    );
    serde_json::from_str(&stdout(&out)).expect("plan JSON")
}

fn ids(p: &Plan) -> Vec<&str> {
    p.entries().map(|e| e.id.as_str()).collect()
}

fn changed(files: &[&str]) -> tempfile::NamedTempFile {
    let f = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(f.path(), files.join("\n") + "\n").unwrap();
    f
}

#[test]
fn nightly_builds_everything() {
    let p = plan(&["--event", "schedule"]);
    assert_eq!(p.bases.include.len(), 3);
    let platforms: std::collections::BTreeSet<&str> = p
        .platforms
        .include
        .iter()
        .map(|e| e.platform.as_str())
        .collect();
    assert_eq!(
        platforms.into_iter().collect::<Vec<_>>(),
        [
            "aspnet",
            "dotnet",
            "nginx",
            "openjdk",
            "python",
            "springboot",
            "tomcat"
        ]
    );
    assert!(p.platforms.include.iter().all(|e| e.base_in_plan));
    insta::assert_json_snapshot!("nightly", p);
}

#[test]
fn pr_touching_the_debian_hardening_script() {
    let f = changed(&["scripts/harden-debian.sh"]);
    let p = plan(&[
        "--event",
        "pull_request",
        "--pr",
        "42",
        "--changed-files",
        f.path().to_str().unwrap(),
    ]);
    assert!(
        ids(&p).iter().all(|id| id.ends_with("-debian")),
        "{:?}",
        ids(&p)
    );
    assert_eq!(p.bases.include.len(), 1);
    // every platform on debian follows its base
    assert_eq!(p.platforms.include.len(), 7);
    assert!(p.platforms.include.iter().all(|e| e.base_in_plan));
    // the platforms build on the base built in this run, by the tag it gets here
    assert!(
        p.platforms
            .include
            .iter()
            .all(|e| e.base_image.as_deref() == Some(p.bases.include[0].tags[0].as_str()))
    );
    // no moving tags on a pull request
    assert!(p.entries().all(|e| {
        e.tags
            .iter()
            .all(|t| t.contains("-sha-") || t.contains("-pr-42"))
    }));
    insta::assert_json_snapshot!("pr_harden_debian", p);
}

#[test]
fn pr_touching_the_nginx_dockerfile() {
    let f = changed(&["platform-images/nginx/Dockerfile"]);
    let p = plan(&[
        "--event",
        "pull_request",
        "--pr",
        "42",
        "--changed-files",
        f.path().to_str().unwrap(),
    ]);
    assert!(p.bases.include.is_empty());
    assert_eq!(
        ids(&p),
        [
            "nginx-1.22-debian",
            "nginx-1.22-redhat",
            "nginx-1.26-alpine"
        ]
    );
    // the base is not rebuilt: the published base is used
    assert!(
        p.platforms
            .include
            .iter()
            .all(|e| !e.base_in_plan && e.base_image.is_some())
    );
    insta::assert_json_snapshot!("pr_nginx_dockerfile", p);
}

#[test]
fn pr_touching_the_nginx_config_files() {
    let f = changed(&["configs/nginx.conf"]);
    let p = plan(&[
        "--event",
        "pull_request",
        "--changed-files",
        f.path().to_str().unwrap(),
    ]);
    assert_eq!(
        ids(&p),
        [
            "nginx-1.22-debian",
            "nginx-1.22-redhat",
            "nginx-1.26-alpine"
        ]
    );
}

#[test]
fn shared_script_rebuilds_everything_and_unknown_paths_nothing() {
    let f = changed(&["scripts/harden-common.sh"]);
    let p = plan(&[
        "--event",
        "pull_request",
        "--changed-files",
        f.path().to_str().unwrap(),
    ]);
    assert_eq!(p.entries().count(), 28);
    let f = changed(&[
        "README.md",
        "docs/anything.md",
        "crates/golden-plan/src/lib.rs",
    ]);
    let p = plan(&[
        "--event",
        "pull_request",
        "--changed-files",
        f.path().to_str().unwrap(),
    ]);
    assert_eq!(p.entries().count(), 0);
}

#[test]
fn policy_change_rescans_its_images() {
    let f = changed(&["configs/policy.yaml"]);
    let p = plan(&[
        "--event",
        "push",
        "--changed-files",
        f.path().to_str().unwrap(),
    ]);
    assert_eq!(p.entries().count(), 28);
    assert!(
        p.entries()
            .all(|e| e.reasons[0] == "policy configs/policy.yaml changed")
    );
}

#[test]
fn dispatch_filtered_to_debian_nginx_python() {
    let p = plan(&[
        "--event",
        "workflow_dispatch",
        "--ref",
        "refs/heads/main",
        "--os",
        "debian",
        "--platforms",
        "nginx,python",
    ]);
    assert_eq!(
        ids(&p),
        ["base-debian", "nginx-1.22-debian", "python-3.11-debian"]
    );
    // dispatch on the default branch gets the moving tags
    assert_eq!(
        p.bases.include[0].tags[0],
        "goldenimages.azurecr.io/golden/base-debian:12"
    );
    insta::assert_json_snapshot!("dispatch_debian_nginx_python", p);
}

#[test]
fn pr_touching_nothing_relevant() {
    let f = changed(&["README.md"]);
    let cfg = shipped_config();
    let outputs = tempfile::NamedTempFile::new().unwrap();
    let mut args: Vec<&str> = vec![
        "--config",
        cfg.to_str().unwrap(),
        "--format",
        "json",
        "--event",
        "pull_request",
        "--changed-files",
        f.path().to_str().unwrap(),
    ];
    args.extend_from_slice(&FIXED);
    let out = golden_plan(
        &args,
        &[("GITHUB_OUTPUT", outputs.path().to_str().unwrap())],
    );
    assert!(out.status.success(), "{}", crate::stderr(&out));
    let p: Plan = serde_json::from_str(&stdout(&out)).unwrap();
    assert!(p.bases.include.is_empty() && p.platforms.include.is_empty());
    let text = std::fs::read_to_string(outputs.path()).unwrap();
    let parsed = golden_gha::parse_env_file(&text).unwrap();
    let get = |k: &str| {
        parsed
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    assert_eq!(get("has-bases"), "false");
    assert_eq!(get("has-platforms"), "false");
    assert_eq!(get("bases"), r#"{"include":[]}"#);
    insta::assert_json_snapshot!("pr_nothing_relevant", p);
}

#[test]
fn offline_plan_is_what_this_machine_builds() {
    let p = plan(&["--event", "local", "--offline"]);
    assert_eq!(
        ids(&p),
        [
            "base-debian",
            "nginx-1.22-debian",
            "openjdk-17-debian",
            "tomcat-10.1-debian",
            "python-3.11-debian",
            "springboot-17-debian"
        ]
    );
    assert!(
        p.skipped
            .iter()
            .any(|s| s.id == "aspnet-8.0-debian" && s.reason.contains("microsoft"))
    );
    assert_eq!(p.skipped.len(), 22);
}

/// The build cache: every event but the nightly schedule reuses the entry's published moving
/// tag; the nightly pulls and builds uncached, and says so in the entry's reasons.
#[test]
fn cache_sources_follow_the_event() {
    let nightly = plan(&["--event", "schedule"]);
    assert!(nightly.entries().count() > 0);
    for e in nightly.entries() {
        assert!(e.cache_from.is_empty(), "{}: {:?}", e.id, e.cache_from);
        assert!(e.no_cache && e.pull, "{}", e.id);
        assert!(
            e.reasons
                .iter()
                .any(|r| r == "nightly: --pull --no-cache (picks up upstream patches)"),
            "{}: {:?}",
            e.id,
            e.reasons
        );
    }
    let f = changed(&["platform-images/nginx/Dockerfile"]);
    let pr = plan(&[
        "--event",
        "pull_request",
        "--pr",
        "42",
        "--changed-files",
        f.path().to_str().unwrap(),
    ]);
    let dispatch = plan(&["--event", "workflow_dispatch"]);
    let local = plan(&["--event", "local"]);
    for p in [&pr, &dispatch, &local] {
        assert!(p.entries().count() > 0, "{}", p.event);
        for e in p.entries() {
            let published = e.published.clone().expect("published moving tag");
            // <registry>/<namespace>/<name>:<moving tag>
            assert_eq!(
                published,
                format!("{}:{}", e.image, published.rsplit_once(':').unwrap().1)
            );
            assert_eq!(e.cache_from, [published], "{} {}", p.event, e.id);
            assert!(!e.no_cache && !e.pull, "{} {}", p.event, e.id);
            assert!(
                !e.reasons.iter().any(|r| r.contains("--no-cache")),
                "{:?}",
                e.reasons
            );
        }
    }
    // The pull request builds under the commit tag but caches from the published tag.
    let nginx = pr.entry("nginx-1.22-debian").expect("nginx entry");
    assert_ne!(nginx.tags[0], nginx.cache_from[0]);
    assert_eq!(
        nginx.cache_from,
        ["goldenimages.azurecr.io/golden/nginx:1.22-debian"]
    );
}
