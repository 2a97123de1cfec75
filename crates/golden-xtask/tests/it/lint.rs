//! Rules the workflows and actions follow beyond what zizmor and the schemas check: every
//! expression parses, third-party actions are exactly the verified pins, every job has a
//! timeout, matrices do not fail fast, checkouts do not persist credentials, and every workflow
//! starts from `permissions: {}`.

use serde_json::Value;

use crate::harness::repo_root;

/// The verified pins (full SHA), and the sub-actions of actions/cache at the same commit. The
/// Pages actions and attest-sbom were checked against the same SHA-for-tag pins in many public
/// workflows (this machine cannot reach GitHub to resolve the tags itself).
const PINS: [&str; 11] = [
    "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683",
    "actions/cache@5a3ec84eff668545956fd18022155c47e93e2684",
    "actions/cache/restore@5a3ec84eff668545956fd18022155c47e93e2684",
    "actions/cache/save@5a3ec84eff668545956fd18022155c47e93e2684",
    "actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02",
    "actions/download-artifact@d3f86a106a0bac45b974a628896c90dbdf5c8093",
    "github/codeql-action/upload-sarif@5d4e8d1aca955e8d8589aabd499c5cae939e33c7",
    "actions/attest-build-provenance@e8998f949152b193b063cb0ec769d69d929409be",
    "actions/attest-sbom@bd218ad0dbcb3e146bd073d1d9c6d78e08aa8a0b",
    "actions/upload-pages-artifact@7b1f4a764d45c48632c6b24a0339c27f5614fb0b",
    "actions/deploy-pages@d6db90164ac5ed86f2b6aed7e0febac5b3c0c03e",
];

fn files() -> Vec<(String, Value, String)> {
    let root = repo_root();
    let mut out = Vec::new();
    let mut paths: Vec<_> = std::fs::read_dir(root.join(".github/workflows"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yml"))
        .collect();
    for (_, p) in golden_xtask::action::discover(&root).unwrap() {
        paths.push(p);
    }
    paths.sort();
    for p in paths {
        let text = std::fs::read_to_string(&p).unwrap();
        let v: Value =
            serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        out.push((
            p.strip_prefix(&root).unwrap().display().to_string(),
            v,
            text,
        ));
    }
    assert!(
        out.len() >= 13,
        "7 workflows and 6 actions expected, found {}",
        out.len()
    );
    out
}

fn walk<'a>(v: &'a Value, path: &mut Vec<String>, f: &mut dyn FnMut(&[String], &'a Value)) {
    f(path, v);
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                path.push(k.clone());
                walk(x, path, f);
                path.pop();
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                path.push(i.to_string());
                walk(x, path, f);
                path.pop();
            }
        }
        _ => {}
    }
}

#[test]
fn every_expression_parses() {
    let mut n = 0;
    for (file, v, _) in files() {
        walk(&v, &mut Vec::new(), &mut |path, x| {
            let texts: Vec<&str> = match x {
                Value::String(s) => vec![s.as_str()],
                _ => vec![],
            };
            for t in texts {
                for e in golden_xtask::expr::expressions(t)
                    .unwrap_or_else(|e| panic!("{file} {}: {e}", path.join(".")))
                {
                    golden_xtask::expr::check_syntax(&e)
                        .unwrap_or_else(|err| panic!("{file} {}: {err}", path.join(".")));
                    n += 1;
                }
            }
            // `if:` without `${{ }}` is an expression too.
            if path.last().is_some_and(|k| k == "if")
                && let Value::String(s) = x
                && !s.contains("${{")
            {
                golden_xtask::expr::check_syntax(s)
                    .unwrap_or_else(|err| panic!("{file} {}: {err}", path.join(".")));
                n += 1;
            }
        });
    }
    assert!(n > 300, "only {n} expressions found");
}

#[test]
fn third_party_actions_are_exactly_the_verified_pins_with_a_version_comment() {
    for (file, v, text) in files() {
        walk(&v, &mut Vec::new(), &mut |path, x| {
            if path.last().is_some_and(|k| k == "uses")
                && let Value::String(u) = x
            {
                if u.starts_with("./") {
                    return;
                }
                assert!(
                    PINS.contains(&u.as_str()),
                    "{file} {}: `{u}` is not one of the verified pins",
                    path.join(".")
                );
                let line = text.lines().find(|l| l.contains(u.as_str())).unwrap();
                assert!(
                    line.contains(" # v"),
                    "{file}: `{u}` has no version comment: {line}"
                );
            }
        });
    }
}

#[test]
fn jobs_have_timeouts_no_fail_fast_no_persisted_credentials_and_empty_top_permissions() {
    for (file, v, _) in files() {
        if !file.starts_with(".github/workflows/") {
            continue;
        }
        let reusable = v["on"].get("workflow_call").is_some();
        // The reusable workflow's image jobs inherit the caller's grant (so a pull-request caller
        // can grant no OIDC token); every other job, and every other workflow, starts from none.
        let inheriting: &[&str] = if file.ends_with("/golden-images.yml") {
            &["bases", "platforms", "merge"]
        } else {
            &[]
        };
        if inheriting.is_empty() {
            assert_eq!(
                v["permissions"],
                serde_json::json!({}),
                "{file}: top-level `permissions: {{}}`"
            );
        } else {
            assert!(
                v.get("permissions").is_none(),
                "{file}: a workflow-level `permissions:` would override the caller's grant of the image jobs"
            );
        }
        if !reusable {
            assert!(
                v.get("concurrency").is_some(),
                "{file}: no concurrency group"
            );
        }
        for (name, job) in v["jobs"].as_object().unwrap() {
            if job.get("uses").is_some() {
                assert!(
                    job.get("permissions").is_some(),
                    "{file} {name}: a called workflow gets explicit permissions"
                );
                assert!(
                    job.get("secrets").is_none_or(|s| s != "inherit"),
                    "{file} {name}: secrets: inherit"
                );
                continue;
            }
            assert!(
                job.get("timeout-minutes").is_some(),
                "{file} {name}: no timeout-minutes"
            );
            assert_eq!(
                job.get("permissions").is_none(),
                inheriting.contains(&name.as_str()),
                "{file} {name}: job permissions (only the reusable workflow's image jobs inherit)"
            );
            if job.get("strategy").and_then(|s| s.get("matrix")).is_some() {
                assert_eq!(
                    job["strategy"]["fail-fast"],
                    Value::Bool(false),
                    "{file} {name}: fail-fast must be false"
                );
            }
            for step in job["steps"].as_array().unwrap() {
                if step["uses"]
                    .as_str()
                    .is_some_and(|u| u.starts_with("actions/checkout@"))
                {
                    assert_eq!(
                        step["with"]["persist-credentials"],
                        Value::Bool(false),
                        "{file} {name}: checkout persists credentials"
                    );
                }
                if let Some(run) = step["run"].as_str() {
                    assert!(
                        !run.contains("${{"),
                        "{file} {name}: `${{{{ }}}}` inside run:"
                    );
                }
            }
        }
    }
}

/// Pull-request runs hold no OIDC token: the caller grants `contents: read` only, and the image
/// jobs inherit exactly that (security review: `id-token: write` used to be granted to PR jobs).
#[test]
fn pull_request_runs_grant_no_id_token() {
    for (file, v, _) in files() {
        if !file.starts_with(".github/workflows/") {
            continue;
        }
        if v["on"].get("pull_request").is_none() && v["on"].get("pull_request_target").is_none() {
            continue;
        }
        for (name, job) in v["jobs"].as_object().unwrap() {
            let perms = &job["permissions"];
            assert!(
                perms.get("id-token").is_none(),
                "{file} {name}: a pull-request job grants id-token"
            );
            if job.get("uses").is_some() {
                assert_eq!(
                    perms,
                    &serde_json::json!({"contents": "read"}),
                    "{file} {name}: the called workflow's image jobs inherit this grant"
                );
            }
        }
    }
}

/// A job whose token can write (comments, issues, contents, packages) never saves a cache: a
/// cache it saves is restored by later runs, so a poisoned restore there would outlive it. Such
/// jobs either do not build (setup from an artifact or a release) or build with
/// `cache: restore-only` (actions/cache/restore). The setup action honours the input.
#[test]
fn privileged_jobs_never_save_caches() {
    let all = files();
    let setup = all
        .iter()
        .find(|(f, _, _)| f == "actions/setup/action.yml")
        .expect("actions/setup/action.yml");
    // The setup action: a saving actions/cache step only when cache != restore-only.
    for step in setup.1["runs"]["steps"].as_array().unwrap() {
        let uses = step["uses"].as_str().unwrap_or_default();
        let cond = step["if"].as_str().unwrap_or_default();
        if uses.starts_with("actions/cache@") {
            assert!(
                cond.contains("inputs.cache != 'restore-only'"),
                "actions/setup: a saving cache step runs in restore-only mode: {step}"
            );
        }
        if uses.starts_with("actions/cache/restore@") {
            assert!(
                cond.contains("inputs.cache == 'restore-only'"),
                "actions/setup: {step}"
            );
        }
    }
    let mut privileged = 0;
    for (file, v, _) in &all {
        if !file.starts_with(".github/workflows/") {
            continue;
        }
        for (name, job) in v["jobs"].as_object().unwrap() {
            let perms = job["permissions"].as_object().cloned().unwrap_or_default();
            let writes = perms.iter().any(|(k, p)| {
                p == "write"
                    && ["pull-requests", "issues", "contents", "packages"].contains(&k.as_str())
            });
            if !writes {
                continue;
            }
            privileged += 1;
            for step in job["steps"].as_array().into_iter().flatten() {
                let uses = step["uses"].as_str().unwrap_or_default();
                assert!(
                    !uses.starts_with("actions/cache@") && !uses.starts_with("actions/cache/save@"),
                    "{file} {name}: a job that can write saves a cache ({uses})"
                );
                if uses.ends_with("actions/setup") {
                    let source = step["with"]["source"].as_str().unwrap_or("release");
                    let cache = step["with"]["cache"].as_str().unwrap_or("read-write");
                    assert!(
                        source != "build" || cache == "restore-only",
                        "{file} {name}: setup builds with a read-write cache in a job that can write; pass `cache: restore-only`"
                    );
                }
            }
        }
    }
    assert!(
        privileged >= 2,
        "the poster and the alert jobs hold write grants: found {privileged} privileged jobs"
    );
}
