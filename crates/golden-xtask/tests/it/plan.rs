//! actions/plan driven through the runner against the real golden-plan binary.

use golden_contracts::plan::Stage;

use crate::harness::*;

fn stage(json: &str) -> Stage {
    serde_json::from_str(json).unwrap_or_else(|e| panic!("not a stage ({e}): {json}"))
}

#[test]
fn nightly_plan_outputs_both_stages() {
    let bins = golden_bins(&["golden-plan"]);
    let t = tempdir("plan");
    let r = runner("plan", t.path())
        .env("PATH", path_with(&bins))
        .input("event", "schedule")
        .input("registry", "myacr.azurecr.io")
        .run()
        .unwrap();
    assert_ok(&r);
    let bases = stage(r.output("bases"));
    let platforms = stage(r.output("platforms"));
    assert_eq!(
        bases
            .include
            .iter()
            .map(|e| e.os.as_str())
            .collect::<Vec<_>>(),
        ["debian", "alpine", "redhat"]
    );
    let names: std::collections::BTreeSet<_> = platforms
        .include
        .iter()
        .map(|e| e.platform.as_str())
        .collect();
    assert_eq!(names.len(), 7, "{names:?}");
    assert_eq!(r.output("has-bases"), "true");
    assert_eq!(r.output("has-platforms"), "true");
    assert_eq!(
        r.output("count"),
        (bases.include.len() + platforms.include.len()).to_string()
    );
    assert!(
        bases
            .include
            .iter()
            .all(|e| e.image.starts_with("myacr.azurecr.io/"))
    );
    // No dead fields: `cache_scope` was computed and never read by any action (removed).
    for raw in [r.output("bases"), r.output("platforms")] {
        assert!(!raw.contains("cache_scope"), "{raw}");
    }
    let plan_file = r.output("plan-file");
    assert!(
        plan_file.starts_with(&t.path().join("runner-temp").display().to_string()),
        "{plan_file}"
    );
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(plan_file).unwrap()).unwrap();
    assert_eq!(plan["event"], "schedule");
    // The action's default architectures reach the plan (one job per entry and arch).
    assert_eq!(plan["architectures"], serde_json::json!(["amd64"]));
    assert!(
        r.summary.contains("base-debian"),
        "step summary lists the plan:\n{}",
        r.summary
    );
}

#[test]
fn dispatch_filters_accept_newline_lists_and_offline() {
    let bins = golden_bins(&["golden-plan"]);
    let t = tempdir("plan");
    let r = runner("plan", t.path())
        .env("PATH", path_with(&bins))
        .input("event", "workflow_dispatch")
        .input("os", "debian\n")
        .input("platforms", "nginx\npython, openjdk\n\n")
        .input("offline", "true")
        .run()
        .unwrap();
    assert_ok(&r);
    let platforms = stage(r.output("platforms"));
    let ids: Vec<_> = platforms.include.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "nginx-1.22-debian",
            "openjdk-17-debian",
            "python-3.11-debian"
        ]
    );
    // The input reached the script through the step's env mapping only, byte for byte; like the
    // runner, the harness exports no INPUT_* variable to composite steps.
    let env = &r.step("plan").unwrap().process_env;
    assert_eq!(
        env.get("IN_PLATFORMS").map(String::as_str),
        Some("nginx\npython, openjdk\n\n")
    );
    assert!(!env.keys().any(|k| k.starts_with("INPUT_")));
}

#[test]
fn pull_request_touching_nothing_gives_empty_stages() {
    let bins = golden_bins(&["golden-plan"]);
    let t = tempdir("plan");
    let r = runner("plan", t.path())
        .env("PATH", path_with(&bins))
        .input("event", "pull_request")
        .input("changed-files", "README.md\ndocs/whatever.md\n")
        .run()
        .unwrap();
    assert_ok(&r);
    assert_eq!(r.output("has-bases"), "false");
    assert_eq!(r.output("has-platforms"), "false");
    assert!(stage(r.output("bases")).include.is_empty());
}

#[test]
fn a_bad_input_fails_the_step_with_the_binary_error() {
    let bins = golden_bins(&["golden-plan"]);
    let t = tempdir("plan");
    let r = runner("plan", t.path())
        .env("PATH", path_with(&bins))
        .input("config", "configs/does-not-exist.yaml")
        .run()
        .unwrap();
    assert!(!r.success);
    let s = r.step("plan").unwrap();
    assert_eq!(s.exit_code, Some(2));
    assert!(s.stderr.contains("does-not-exist.yaml"), "{}", s.stderr);
    assert_eq!(r.output("has-bases"), "", "no outputs from a failed plan");
}

#[test]
fn offline_must_be_a_boolean() {
    let bins = golden_bins(&["golden-plan"]);
    let t = tempdir("plan");
    let r = runner("plan", t.path())
        .env("PATH", path_with(&bins))
        .input("offline", "maybe")
        .run()
        .unwrap();
    assert!(!r.success);
    let c = r
        .commands
        .iter()
        .find(|c| c.name == "error")
        .expect("an error annotation");
    assert!(
        c.value
            .contains("input `offline` must be true or false, got `maybe`"),
        "{c:?}"
    );
}

#[test]
fn unknown_inputs_are_refused_by_the_harness() {
    let t = tempdir("plan");
    let e = runner("plan", t.path())
        .input("confg", "x")
        .run()
        .unwrap_err();
    assert!(
        e.to_string().contains("input `confg` is not declared"),
        "{e}"
    );
}

/// The workflow passes its `architectures` JSON input: the plan records it and the matrix guard
/// counts entries × architectures; a bad value names the input.
#[test]
fn architectures_input_reaches_the_plan_and_bad_values_fail() {
    let bins = golden_bins(&["golden-plan"]);
    let t = tempdir("plan-arch");
    let r = runner("plan", t.path())
        .env("PATH", path_with(&bins))
        .input("event", "schedule")
        .input("architectures", r#"["amd64","arm64"]"#)
        .run()
        .unwrap();
    assert_ok(&r);
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(r.output("plan-file")).unwrap()).unwrap();
    assert_eq!(plan["architectures"], serde_json::json!(["amd64", "arm64"]));

    let t = tempdir("plan-arch-bad");
    let r = runner("plan", t.path())
        .env("PATH", path_with(&bins))
        .input("event", "schedule")
        .input("architectures", r#"["amd64","x86_64"]"#)
        .run()
        .unwrap();
    assert!(!r.success, "a bad architecture must fail the step");
    assert!(
        r.log().contains("unknown architecture `x86_64`"),
        "{}",
        r.log()
    );
}
