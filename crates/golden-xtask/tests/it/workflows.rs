//! How the workflow graph is wired, evaluated with the runner's expression rules for every value
//! an input can take: which binaries a job downloads on which runner, what the reusable
//! workflow's report job may do with the comment, how the pull-request run gets its baseline.
//! (The act scenarios run the graph; these pin the wiring for every input combination, which a
//! run cannot cover.)

use std::collections::BTreeMap;
use std::process::Command;

use golden_xtask::expr::{self, Contexts, Value};
use serde_json::{Value as Json, json};

use crate::harness::repo_root;

fn workflow(name: &str) -> Json {
    let p = repo_root().join(".github/workflows").join(name);
    let text = std::fs::read_to_string(&p).unwrap();
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn cx(values: &[(&str, Json)]) -> Contexts {
    Contexts {
        values: values
            .iter()
            .map(|(k, v)| (k.to_string(), Value::from(v)))
            .collect::<BTreeMap<_, _>>(),
        job_ok: true,
    }
}

fn interp(text: &str, c: &Contexts) -> String {
    expr::interpolate(text, c).unwrap_or_else(|e| panic!("{text}: {e}"))
}

const ARCH_LISTS: [&str; 4] = [
    r#"["amd64"]"#,
    r#"["arm64"]"#,
    r#"["amd64","arm64"]"#,
    r#"["arm64","amd64"]"#,
];

fn runner_arch(label: &str) -> &'static str {
    match label {
        "ubuntu-24.04" => "amd64",
        "ubuntu-24.04-arm" => "arm64",
        other => panic!("unknown runner label `{other}`"),
    }
}

/// The mapping `golden-plan runners` prints for an empty `runners` input.
fn hosted_mapping(first_arch: &str) -> String {
    serde_json::to_string(&golden_plan::runners::normalize("", first_arch).unwrap()).unwrap()
}

/// Every job that takes the binaries from the run's `golden-binaries-<arch>` artifact takes one
/// the setup job uploaded (an architecture of the run) and runs on a runner of that
/// architecture. The nightly alert job used to take `golden-binaries-amd64` on an amd64 runner
/// whatever the architectures were.
#[test]
fn binaries_artifact_exists_and_matches_the_runner_for_every_architecture_list() {
    let mut checked = 0;
    for (file, arch_source) in [
        ("golden-images.yml", "inputs"),
        ("nightly.yml", "vars"),
        ("dispatch.yml", "inputs"),
    ] {
        let wf = workflow(file);
        for (name, job) in wf["jobs"].as_object().unwrap() {
            let Some(steps) = job["steps"].as_array() else {
                continue;
            };
            for step in steps {
                let uses = step["uses"].as_str().unwrap_or("");
                if !uses.ends_with("actions/setup") || step["with"]["source"] != "artifact" {
                    continue;
                }
                let art = step["with"]["artifact-name"].as_str().unwrap();
                let runs_on = job["runs-on"].as_str().unwrap();
                for list in ARCH_LISTS {
                    let arches: Vec<String> = serde_json::from_str(list).unwrap();
                    let matrix_arches: Vec<Option<&String>> =
                        if job["strategy"]["matrix"].get("arch").is_some() {
                            arches.iter().map(Some).collect()
                        } else {
                            vec![None]
                        };
                    for m in matrix_arches {
                        let mut values = vec![
                            ("inputs", json!({})),
                            ("vars", json!({})),
                            ("runner", json!({"temp": "/tmp"})),
                        ];
                        match arch_source {
                            "inputs" => values[0].1 = json!({ "architectures": list }),
                            _ => values[1].1 = json!({ "GOLDEN_ARCHITECTURES": list }),
                        }
                        if let Some(a) = m {
                            values.push(("matrix", json!({ "arch": a })));
                        }
                        // The jobs take their runner from the mapping the plan job checked (the
                        // empty `runners` input here: the GitHub-hosted labels).
                        let mapping = hosted_mapping(&arches[0]);
                        values.push((
                            "needs",
                            json!({"plan": {"outputs": {"runners": mapping}},
                                   "images": {"outputs": {"runners": mapping}}}),
                        ));
                        let c = cx(&values);
                        let got = interp(art, &c);
                        let arch = got.strip_prefix("golden-binaries-").unwrap_or_else(|| {
                            panic!("{file} {name}: artifact `{got}` is not golden-binaries-<arch>")
                        });
                        assert!(
                            arches.iter().any(|a| a == arch),
                            "{file} {name} with architectures {list}: downloads `{got}`, which no setup job uploads"
                        );
                        let label = interp(runs_on, &c);
                        assert_eq!(
                            runner_arch(&label),
                            arch,
                            "{file} {name} with architectures {list}: `{got}` on runner `{label}`"
                        );
                        checked += 1;
                    }
                }
            }
        }
    }
    assert!(checked >= 20, "only {checked} combinations checked");
}

/// The reusable workflow's report job holds `contents: read` only, and a called workflow cannot
/// ask for more than its least-privileged caller grants: its comment mode must never be `auto`
/// (which tries to post and cannot). `auto` is refused by the plan job's input check, before any
/// image is built.
#[test]
fn reusable_workflow_never_asks_the_report_job_to_post() {
    let wf = workflow("golden-images.yml");
    let jobs = wf["jobs"].as_object().unwrap();
    let mut seen = false;
    for (name, job) in jobs {
        for step in job["steps"].as_array().into_iter().flatten() {
            if !step["uses"]
                .as_str()
                .unwrap_or("")
                .ends_with("actions/report")
            {
                continue;
            }
            seen = true;
            let perms = &job["permissions"];
            let can_write = perms["pull-requests"] == "write" || perms["issues"] == "write";
            for c in ["auto", "file", "false", "", "true", "yes"] {
                let v = interp(
                    step["with"]["comment"].as_str().unwrap(),
                    &cx(&[("inputs", json!({ "comment": c }))]),
                );
                assert!(
                    v == "file" || v == "false" || can_write,
                    "golden-images.yml {name}: comment `{c}` reaches the report action as `{v}` in a job without write permission"
                );
            }
        }
    }
    assert!(seen, "no report step found");

    // The plan job's first step refuses `auto` (and anything unknown) with an error annotation.
    let check = jobs["plan"]["steps"][0].clone();
    let script = check["run"].as_str().unwrap();
    assert_eq!(check["env"]["IN_COMMENT"], "${{ inputs.comment }}");
    for (value, ok) in [
        ("file", true),
        ("false", true),
        ("", true),
        ("auto", false),
        ("true", false),
    ] {
        let out = Command::new("bash")
            .args(["-c", script])
            .env("IN_COMMENT", value)
            .output()
            .unwrap();
        assert_eq!(out.status.success(), ok, "comment `{value}`: {out:?}");
        if !ok {
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(text.starts_with("::error "), "{text}");
        }
    }
}

/// Pull requests compare with the published images: pull-request.yml turns `baseline-registry`
/// on, golden-images.yml hands it (and the pull-only credential) to the report action, and the
/// action maps it to golden-report's `--baseline-registry` (GOLDEN_BASELINE_REGISTRY). The flag
/// existed in golden-report but nothing passed it.
#[test]
fn pull_requests_take_the_baseline_from_the_registry() {
    let pr = workflow("pull-request.yml");
    assert_eq!(pr["jobs"]["images"]["with"]["baseline-registry"], true);
    let wf = workflow("golden-images.yml");
    assert_eq!(
        wf["on"]["workflow_call"]["inputs"]["baseline-registry"]["type"],
        "boolean"
    );
    let report = wf["jobs"]["report"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "report")
        .unwrap();
    let c = cx(&[
        ("inputs", json!({ "baseline-registry": true })),
        (
            "secrets",
            json!({ "REGISTRY_USERNAME": "u", "REGISTRY_PASSWORD": "p" }),
        ),
    ]);
    let with = &report["with"];
    assert_eq!(
        interp(with["baseline-registry"].as_str().unwrap(), &c),
        "true"
    );
    assert_eq!(interp(with["username"].as_str().unwrap(), &c), "u");
    assert_eq!(interp(with["password"].as_str().unwrap(), &c), "p");

    // The action passes the input to the binary.
    let root = repo_root();
    let action: Json = serde_saphyr::from_str(
        &std::fs::read_to_string(root.join("actions/report/action.yml")).unwrap(),
    )
    .unwrap();
    let env = &action["runs"]["steps"][0]["env"];
    assert_eq!(
        env["IN_BASELINE_REGISTRY"],
        "${{ inputs.baseline-registry }}"
    );
    assert_eq!(env["GOLDEN_REGISTRY_USERNAME"], "${{ inputs.username }}");
    let sh = std::fs::read_to_string(root.join("actions/report/report.sh")).unwrap();
    assert!(
        sh.contains(
            r#"golden_flag GOLDEN_BASELINE_REGISTRY baseline-registry "${IN_BASELINE_REGISTRY:-false}""#
        ),
        "report.sh maps the input to GOLDEN_BASELINE_REGISTRY"
    );
}

/// The merge job moves the moving tags to a multi-architecture index: it runs only for runs of
/// more than one architecture, and it tells the push action every architecture the run was
/// for (`expect-arch`), so an image whose arm64 leg failed gets no index and keeps its tags
/// (golden-push refuses the index; tested against a real registry in golden-push and the xtask
/// chain test). Evaluated for every architecture list.
#[test]
fn merge_job_expects_every_planned_architecture() {
    let wf = workflow("golden-images.yml");
    let merge = &wf["jobs"]["merge"];
    let cond = merge["if"].as_str().unwrap();
    let step = merge["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["with"]["mode"] == "index")
        .expect("the merge job's index step");
    let expect = step["with"]["expect-arch"]
        .as_str()
        .expect("the index step passes expect-arch");
    for list in ARCH_LISTS {
        let arches: Vec<String> = serde_json::from_str(list).unwrap();
        let c = cx(&[("inputs", json!({"architectures": list, "push": true}))]);
        assert_eq!(
            interp(expect, &c),
            arches.join(","),
            "expect-arch for {list}"
        );
        let mut c = c;
        c.values.insert(
            "needs".into(),
            Value::from(&json!({"plan": {"result": "success"}})),
        );
        let runs = expr::evaluate(cond.trim_start_matches("${{").trim_end_matches("}}"), &c)
            .unwrap_or_else(|e| panic!("{cond}: {e}"));
        assert_eq!(
            runs.truthy(),
            arches.len() > 1,
            "merge job `if` for {list}: {cond}"
        );
    }
    assert!(
        step["with"]["record"]
            .as_str()
            .is_some_and(|r| r.ends_with("index-record.json")),
        "the index record is named so the report finds it: {step}"
    );
}

/// The build cache reaches golden-build as the plan decided it: for every entry of a nightly
/// and a dispatch plan, each build step of the reusable workflow passes the entry's
/// `cache_from`, `no_cache` and `pull` to the build action, and the action (run through the
/// runner, with a stand-in golden-build that records its environment) hands them on as
/// `GOLDEN_CACHE_FROM` (one reference per line), `GOLDEN_NO_CACHE`, `GOLDEN_PULL`.
#[test]
fn build_steps_pass_the_plan_entry_cache_settings_to_golden_build() {
    use crate::harness::{assert_ok, golden_bins, path_with, runner, tempdir};
    use golden_contracts::plan::{PlanEntry, Stage};

    let wf = workflow("golden-images.yml");
    let mut build_steps = Vec::new();
    for (name, job) in wf["jobs"].as_object().unwrap() {
        for step in job["steps"].as_array().into_iter().flatten() {
            if step["uses"]
                .as_str()
                .is_some_and(|u| u.ends_with("actions/build"))
            {
                build_steps.push((name.clone(), step["with"].clone()));
            }
        }
    }
    assert_eq!(build_steps.len(), 2, "the base and platform build steps");

    let bins = golden_bins(&["golden-plan"]);
    let t = tempdir("cache-wiring");
    // A stand-in golden-build: writes the cache variables it gets (unset = `-`).
    let fake = t.path().join("fake-bin");
    std::fs::create_dir_all(&fake).unwrap();
    let seen = t.path().join("seen");
    std::fs::write(
        fake.join("golden-build"),
        format!(
            "#!/bin/sh\nprintf 'CACHE_FROM=%s\\nNO_CACHE=%s\\nPULL=%s\\n' \"${{GOLDEN_CACHE_FROM--}}\" \"${{GOLDEN_NO_CACHE--}}\" \"${{GOLDEN_PULL--}}\" > '{}'\n",
            seen.display()
        ),
    )
    .unwrap();
    let mut perms = std::fs::metadata(fake.join("golden-build"))
        .unwrap()
        .permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(fake.join("golden-build"), perms).unwrap();

    let mut checked = 0;
    for event in ["schedule", "workflow_dispatch"] {
        let r = runner("plan", t.path())
            .env("PATH", path_with(&bins))
            .input("event", event)
            .input("registry", "myacr.azurecr.io")
            .run()
            .unwrap();
        assert_ok(&r);
        let mut entries: Vec<PlanEntry> = Vec::new();
        for out in ["bases", "platforms"] {
            let s: Stage = serde_json::from_str(r.output(out)).unwrap();
            entries.extend(s.include);
        }
        assert!(!entries.is_empty(), "{event}");
        for e in &entries {
            let nightly = event == "schedule";
            assert_eq!(e.no_cache, nightly, "{event} {}", e.id);
            assert_eq!(e.pull, nightly, "{event} {}", e.id);
            assert_eq!(e.cache_from.is_empty(), nightly, "{event} {}", e.id);
            let c = cx(&[
                ("matrix", json!({"entry": e, "arch": "amd64"})),
                ("inputs", json!({"build-mode": "auto"})),
                ("runner", json!({"temp": "/tmp"})),
                ("secrets", json!({})),
            ]);
            for (job, with) in &build_steps {
                let get = |k: &str| {
                    interp(
                        with[k]
                            .as_str()
                            .unwrap_or_else(|| panic!("{job}: build step has no `{k}`")),
                        &c,
                    )
                };
                assert_eq!(get("cache-from"), e.cache_from.join(" "), "{job} {}", e.id);
                assert_eq!(get("no-cache"), e.no_cache.to_string(), "{job} {}", e.id);
                assert_eq!(get("pull"), e.pull.to_string(), "{job} {}", e.id);
                checked += 1;
            }
        }
        // The action with what the workflow passes for the first entry.
        let e = &entries[0];
        let c = cx(&[("matrix", json!({"entry": e, "arch": "amd64"}))]);
        let with = &build_steps[0].1;
        let get = |k: &str| interp(with[k].as_str().unwrap(), &c);
        let _ = std::fs::remove_file(&seen);
        let r = runner("build", t.path())
            .env("PATH", path_with(&fake))
            .input("context", ".")
            // Two sources, as a hand-written input might give them: spaces and lines.
            .input(
                "cache-from",
                format!("{} \n other.example/x:1", get("cache-from")),
            )
            .input("no-cache", get("no-cache"))
            .input("pull", get("pull"))
            .run()
            .unwrap();
        assert_ok(&r);
        let seen_text = std::fs::read_to_string(&seen).expect("golden-build ran");
        let mut want_from = e.cache_from.clone();
        want_from.push("other.example/x:1".into());
        let flag = |b: bool| if b { "true" } else { "-" };
        assert_eq!(
            seen_text,
            format!(
                "CACHE_FROM={}\nNO_CACHE={}\nPULL={}\n",
                want_from.join("\n"),
                flag(e.no_cache),
                flag(e.pull)
            ),
            "{event}"
        );
    }
    assert!(checked >= 20, "only {checked} combinations checked");
}

/// The value of step output `name` in a GITHUB_OUTPUT file (`name=value` or a heredoc).
fn output_value(outputs: &str, name: &str) -> Option<String> {
    let mut lines = outputs.lines();
    while let Some(l) = lines.next() {
        if let Some(v) = l.strip_prefix(&format!("{name}=")) {
            return Some(v.to_string());
        }
        if let Some(delim) = l.strip_prefix(&format!("{name}<<")) {
            let mut v = Vec::new();
            for x in lines.by_ref() {
                if x == delim {
                    return Some(v.join("\n"));
                }
                v.push(x);
            }
        }
    }
    None
}

/// A mapping of every shape, as the plan job prints it.
const CUSTOM: &str = r#"{"default": "custom-default", "amd64": ["self-hosted", "x64"], "arm64": {"group": "arm-group", "labels": ["linux"]}}"#;

fn runs_on(job: &Json, c: &Contexts) -> Json {
    let raw = job["runs-on"]
        .as_str()
        .unwrap_or_else(|| panic!("runs-on is not an expression: {job}"));
    let e = raw
        .trim()
        .strip_prefix("${{")
        .and_then(|r| r.strip_suffix("}}"))
        .unwrap_or_else(|| panic!("runs-on `{raw}` is not one expression"));
    expr::evaluate(e, c)
        .unwrap_or_else(|e| panic!("{raw}: {e}"))
        .to_json()
}

/// Every job of golden-images.yml runs where the `runners` mapping says: the per-architecture
/// jobs on their architecture's key, the others on `default`; no job names a label of its own
/// (the plan job's fallback aside, see `plan_job_runner_survives_a_malformed_mapping`). The
/// nightly alert job, which uses the run's binaries, runs on the mapping's `default` too.
#[test]
fn every_job_runs_where_the_runners_mapping_says() {
    let wf = workflow("golden-images.yml");
    let text =
        std::fs::read_to_string(repo_root().join(".github/workflows/golden-images.yml")).unwrap();
    let normalized =
        serde_json::to_string(&golden_plan::runners::normalize(CUSTOM, "amd64").unwrap()).unwrap();
    let mapping: Json = serde_json::from_str(&normalized).unwrap();
    let mut per_arch = 0;
    let mut default = 0;
    for (name, job) in wf["jobs"].as_object().unwrap() {
        if name == "plan" {
            continue;
        }
        let raw = job["runs-on"].as_str().unwrap();
        assert!(
            !raw.contains("ubuntu-"),
            "golden-images.yml {name}: runs-on names a label itself: {raw}"
        );
        let needs: Vec<&str> = match &job["needs"] {
            Json::String(s) => vec![s.as_str()],
            Json::Array(a) => a.iter().filter_map(Json::as_str).collect(),
            _ => vec![],
        };
        assert!(
            needs.contains(&"plan"),
            "golden-images.yml {name}: reads the plan's mapping without needing the plan job"
        );
        let is_matrix = job["strategy"]["matrix"].get("arch").is_some();
        for arch in ["amd64", "arm64"] {
            let c = cx(&[
                (
                    "inputs",
                    json!({"architectures": r#"["amd64","arm64"]"#, "runners": CUSTOM}),
                ),
                ("matrix", json!({"arch": arch})),
                (
                    "needs",
                    json!({"plan": {"outputs": {"runners": normalized}}}),
                ),
            ]);
            let got = runs_on(job, &c);
            if is_matrix {
                assert_eq!(got, mapping[arch], "golden-images.yml {name} ({arch})");
                per_arch += 1;
            } else {
                assert_eq!(got, mapping["default"], "golden-images.yml {name}");
                default += 1;
            }
        }
    }
    // setup, bases, platforms; trivy-db, merge, report (both architectures each).
    assert_eq!((per_arch, default), (6, 6), "jobs checked");

    // No `runs-on` of golden-images.yml outside the jobs checked above and the plan job.
    assert_eq!(text.matches("runs-on:").count(), 7);

    let nightly = workflow("nightly.yml");
    let alert = &nightly["jobs"]["alert"];
    let c = cx(&[
        ("vars", json!({"GOLDEN_ARCHITECTURES": r#"["amd64"]"#})),
        (
            "needs",
            json!({"images": {"outputs": {"runners": normalized}}}),
        ),
    ]);
    assert_eq!(runs_on(alert, &c), json!("custom-default"), "nightly alert");
    // When the images job failed before its plan job checked the mapping: today's label.
    for (list, label) in [
        (r#"["amd64"]"#, "ubuntu-24.04"),
        (r#"["arm64"]"#, "ubuntu-24.04-arm"),
    ] {
        let c = cx(&[
            ("vars", json!({"GOLDEN_ARCHITECTURES": list})),
            ("needs", json!({"images": {"outputs": {"runners": ""}}})),
        ]);
        assert_eq!(
            runs_on(alert, &c),
            json!(label),
            "nightly alert, no mapping, {list}"
        );
    }
    // Every caller passes the repository variable through.
    for file in ["nightly.yml", "pull-request.yml", "dispatch.yml"] {
        assert_eq!(
            workflow(file)["jobs"]["images"]["with"]["runners"],
            "${{ vars.GOLDEN_RUNNERS }}",
            "{file}"
        );
    }
}

/// The plan job checks the mapping, so its own runner comes from the raw input: `default`, else
/// the first architecture's key, else the hosted label; a malformed mapping that is JSON still
/// gets a runner (the hosted label, or its `default`) so that the check can report it.
#[test]
fn plan_job_runner_survives_a_malformed_mapping() {
    let wf = workflow("golden-images.yml");
    let plan = &wf["jobs"]["plan"];
    assert!(plan.get("needs").is_none(), "the plan job must run first");
    for (runners, list, want) in [
        ("", r#"["amd64"]"#, json!("ubuntu-24.04")),
        ("", r#"["arm64","amd64"]"#, json!("ubuntu-24.04-arm")),
        ("{}", r#"["amd64"]"#, json!("ubuntu-24.04")),
        (r#"{"default": "d"}"#, r#"["amd64"]"#, json!("d")),
        (
            r#"{"amd64": ["a", "b"]}"#,
            r#"["amd64"]"#,
            json!(["a", "b"]),
        ),
        (
            r#"{"amd64": "a"}"#,
            r#"["arm64"]"#,
            json!("ubuntu-24.04-arm"),
        ),
        (
            r#"{"arm64": {"group": "g"}}"#,
            r#"["arm64"]"#,
            json!({"group": "g"}),
        ),
        // Malformed: the hosted label; the check step names the problem.
        (r#"["ubuntu-24.04"]"#, r#"["amd64"]"#, json!("ubuntu-24.04")),
        (r#""ubuntu-24.04""#, r#"["amd64"]"#, json!("ubuntu-24.04")),
        (r#"{"x86_64": "a"}"#, r#"["amd64"]"#, json!("ubuntu-24.04")),
        ("null", r#"["amd64"]"#, json!("ubuntu-24.04")),
    ] {
        let c = cx(&[("inputs", json!({"runners": runners, "architectures": list}))]);
        assert_eq!(
            runs_on(plan, &c),
            want,
            "runners `{runners}`, architectures {list}"
        );
    }
}

/// The plan job's "Check the runners mapping" step, run as the runner would (GITHUB_ACTIONS,
/// GITHUB_OUTPUT, the step's env from the inputs) against the real golden-plan: a malformed
/// mapping fails the step with an `::error` naming the input and the key and a hint; a valid
/// one sets the output `runners` the other jobs read, every key filled in.
#[test]
fn plan_job_checks_the_runners_mapping() {
    let bins = crate::harness::golden_bins(&["golden-plan"]);
    let wf = workflow("golden-images.yml");
    let plan = &wf["jobs"]["plan"];
    let steps = plan["steps"].as_array().unwrap();
    let i = steps
        .iter()
        .position(|s| s["id"] == "runners")
        .expect("a step with id runners");
    let plan_step = steps.iter().position(|s| s["id"] == "plan").unwrap();
    assert!(
        i < plan_step,
        "the mapping is checked before the plan is made"
    );
    let step = &steps[i];
    assert_eq!(
        plan["outputs"]["runners"],
        "${{ steps.runners.outputs.runners }}"
    );
    let script = step["run"].as_str().unwrap();
    assert!(!script.contains("${{"), "no expression in run: {script}");
    let env = step["env"].as_object().unwrap();
    let run = |runners: &str, list: &str| {
        let c = cx(&[("inputs", json!({"runners": runners, "architectures": list}))]);
        let t = tempfile::tempdir().unwrap();
        let out = t.path().join("output");
        std::fs::write(&out, "").unwrap();
        let mut cmd = Command::new("bash");
        cmd.args(["-e", "-c", script])
            .env("PATH", crate::harness::path_with(&bins))
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_OUTPUT", &out)
            .env_remove("GOLDEN_RUNNERS")
            .env_remove("GOLDEN_ARCHITECTURES");
        for (k, v) in env {
            cmd.env(k, interp(v.as_str().unwrap(), &c));
        }
        let o = cmd.output().unwrap();
        let outputs = std::fs::read_to_string(&out).unwrap();
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            outputs,
        )
    };

    let (code, _, outputs) = run(
        r#"{"default": "golden-custom-default", "amd64": "golden-custom-amd64"}"#,
        r#"["amd64"]"#,
    );
    assert_eq!(code, Some(0), "{outputs}");
    let line =
        output_value(&outputs, "runners").unwrap_or_else(|| panic!("no runners output: {outputs}"));
    assert_eq!(
        serde_json::from_str::<Json>(&line).unwrap(),
        json!({"default": "golden-custom-default", "amd64": "golden-custom-amd64", "arm64": "ubuntu-24.04-arm"})
    );
    let (code, _, outputs) = run("", r#"["arm64"]"#);
    assert_eq!(code, Some(0));
    assert_eq!(
        output_value(&outputs, "runners").as_deref(),
        Some(r#"{"amd64":"ubuntu-24.04","arm64":"ubuntu-24.04-arm","default":"ubuntu-24.04-arm"}"#),
        "{outputs}"
    );

    for (runners, needle) in [
        ("{amd64: x}", "input `runners` is not JSON"),
        (
            r#"["x"]"#,
            "input `runners` must be a JSON object, got a list",
        ),
        (
            r#"{"x86_64": "x"}"#,
            "input `runners` has an unknown key `x86_64`",
        ),
        (
            r#"{"amd64": 3}"#,
            "input `runners`, key `amd64`: must be a label",
        ),
        (
            r#"{"arm64": []}"#,
            "input `runners`, key `arm64`: the value is an empty list",
        ),
        (
            r#"{"default": ["a", 1]}"#,
            "input `runners`, key `default`: the value[1] must be a string",
        ),
        (
            r#"{"default": {"labels": ["a"]}}"#,
            "input `runners`, key `default`: a runner group needs `group`",
        ),
        (
            r#"{"default": {"group": "g", "size": 4}}"#,
            "input `runners`, key `default`: a runner group takes `group` and `labels` only",
        ),
    ] {
        let (code, stdout, outputs) = run(runners, r#"["amd64"]"#);
        assert_eq!(code, Some(2), "`{runners}`: {stdout}");
        let err = stdout
            .lines()
            .find(|l| l.starts_with("::error "))
            .unwrap_or_else(|| panic!("`{runners}`: no ::error annotation: {stdout}"));
        assert!(
            err.contains(needle),
            "`{runners}`: want `{needle}` in {err}"
        );
        assert!(err.contains("hint: "), "`{runners}`: no hint in {err}");
        assert!(
            output_value(&outputs, "runners").is_none(),
            "`{runners}`: output set: {outputs}"
        );
    }
}
