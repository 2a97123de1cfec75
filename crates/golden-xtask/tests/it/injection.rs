//! Hostile input values reach the scripts and binaries as inert data: no command substitution,
//! no quote breaking, no workflow command on a line of its own.

use std::path::Path;

use crate::harness::*;

fn marker(t: &Path, name: &str) -> std::path::PathBuf {
    t.join(format!("pwned-{name}"))
}

/// Payloads that would run `touch MARKER` if pasted into a script, plus workflow commands.
fn payloads(m: &Path) -> Vec<String> {
    let m = m.display();
    vec![
        format!("$(touch {m})"),
        format!("`touch {m}`"),
        format!("\"; touch {m}; echo \""),
        format!("'; touch {m}; echo '"),
        format!("x\ntouch {m}\n"),
        "debian\n::set-output name=has-bases::true\n::warning::injected".to_string(),
        "%0A::set-output name=has-bases::true".to_string(),
    ]
}

/// The variable a step's `env:` maps `inputs.<input>` to (`${{ inputs.<input> }}`).
fn env_var_of(tool: &str, step_id: &str, input: &str) -> String {
    let a = golden_xtask::Action::load(&action_dir(tool).join("action.yml")).unwrap();
    let step = a
        .runs
        .steps
        .iter()
        .find(|s| s.id.as_deref() == Some(step_id))
        .unwrap();
    let want = format!("${{{{ inputs.{input} }}}}");
    step.env
        .iter()
        .find(|(_, v)| **v == want)
        .map(|(k, _)| k.clone())
        .unwrap_or_else(|| panic!("{tool}/{step_id} does not map input `{input}`"))
}

fn assert_no_injected_command(r: &golden_xtask::RunResult) {
    for c in &r.commands {
        assert_ne!(
            c.name.to_ascii_lowercase(),
            "set-output",
            "a value became a command: {c:?}\n{}",
            r.log()
        );
        assert!(
            !c.value.contains("injected") || c.name == "error",
            "a value became a command: {c:?}"
        );
    }
}

#[test]
fn plan_inputs_are_inert() {
    let bins = golden_bins(&["golden-plan"]);
    let t = tempdir("inject");
    for (i, p) in payloads(&marker(t.path(), "plan")).into_iter().enumerate() {
        for input in [
            "os",
            "platforms",
            "namespace",
            "config",
            "offline",
            "changed-files",
            "base-ref",
        ] {
            let r = runner("plan", t.path())
                .env("PATH", path_with(&bins))
                .input("event", "schedule")
                .input(input, p.clone())
                .run()
                .unwrap();
            assert!(
                !marker(t.path(), "plan").exists(),
                "payload {i} in `{input}` ran a command:\n{p}\n{}",
                r.log()
            );
            assert_no_injected_command(&r);
            assert_ne!(r.output("has-bases"), "true\n::warning::injected");
            // What the step got through its env mapping is the value itself, byte for byte.
            let s = r.step("plan").unwrap();
            let var = env_var_of("plan", "plan", input);
            assert_eq!(s.process_env.get(&var), Some(&p), "`{input}` via {var}");
            assert!(
                !s.process_env
                    .contains_key(&format!("INPUT_{}", input.to_uppercase()))
            );
        }
    }
}

#[test]
fn build_and_push_inputs_are_inert() {
    let bins = golden_bins(&["golden-build", "golden-push"]);
    let t = tempdir("inject");
    for p in payloads(&marker(t.path(), "build")) {
        for input in [
            "tags",
            "labels",
            "build-args",
            "base-image",
            "dockerfile",
            "entry",
            "load",
            "arch",
            "cache-from",
        ] {
            let r = runner("build", t.path())
                .env("PATH", path_with(&bins))
                // No engine needed: every payload fails validation or the connection, harmlessly.
                .env("DOCKER_HOST", "unix:///nonexistent/golden-xtask.sock")
                .input("context", ".")
                .input(input, p.clone())
                .run()
                .unwrap();
            assert!(
                !marker(t.path(), "build").exists(),
                "`{input}` ran a command:\n{p}\n{}",
                r.log()
            );
            assert_no_injected_command(&r);
        }
        for input in [
            "image",
            "to",
            "tags",
            "attach",
            "entry",
            "arch-suffix",
            "annotations",
        ] {
            let r = runner("push", t.path())
                .env("PATH", path_with(&bins))
                .env("DOCKER_HOST", "unix:///nonexistent/golden-xtask.sock")
                .input("image", "docker-archive:/nonexistent.tar")
                .input("to", "127.0.0.1:9/x/y:1")
                .input(input, p.clone())
                .run()
                .unwrap();
            assert!(
                !marker(t.path(), "build").exists(),
                "push `{input}` ran a command:\n{p}\n{}",
                r.log()
            );
            assert_no_injected_command(&r);
        }
    }
}

#[test]
fn scan_and_report_inputs_are_inert() {
    let bins = golden_bins(&["golden-scan", "golden-report"]);
    let t = tempdir("inject");
    for p in payloads(&marker(t.path(), "scan")) {
        for input in [
            "image",
            "entry",
            "policy",
            "vex",
            "sarif-category",
            "trivy-db-repository",
            "trivy",
        ] {
            let r = runner("scan", t.path())
                .env("PATH", path_with(&bins))
                .env("DOCKER_HOST", "unix:///nonexistent/golden-xtask.sock")
                .input("trivy", "off")
                .input(input, p.clone())
                .run()
                .unwrap();
            assert!(
                !marker(t.path(), "scan").exists(),
                "scan `{input}` ran a command:\n{p}\n{}",
                r.log()
            );
            assert_no_injected_command(&r);
        }
        for input in ["input", "comment-key", "pr", "config", "comment"] {
            let r = runner("report", t.path())
                .env("PATH", path_with(&bins))
                .input("alert", "false")
                .input(input, p.clone())
                .run()
                .unwrap();
            assert!(
                !marker(t.path(), "scan").exists(),
                "report `{input}` ran a command:\n{p}\n{}",
                r.log()
            );
            assert_no_injected_command(&r);
        }
    }
}

#[test]
fn setup_inputs_are_inert() {
    let t = tempdir("inject");
    for p in payloads(&marker(t.path(), "setup")) {
        for input in [
            "version",
            "repository",
            "artifact-name",
            "cargo-profile",
            "release-url",
            "sha256sums-sha256",
        ] {
            let r = runner("setup", t.path())
                .input("source", "release")
                .input("version", "v0.0.1")
                .input("repository", "example/golden")
                .input("release-url", "file:///nonexistent-golden-xtask")
                .input(input, p.clone())
                .run()
                .unwrap();
            assert!(!r.success);
            assert!(
                !marker(t.path(), "setup").exists(),
                "setup `{input}` ran a command:\n{p}\n{}",
                r.log()
            );
            assert_no_injected_command(&r);
        }
    }
}

#[test]
fn the_runner_itself_processes_set_output_outside_a_fence() {
    // The assertion above only means something if the harness would see an injected command:
    // a script that echoes one unfenced must be caught.
    let t = tempdir("inject");
    let dir = t.path().join("action");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("action.yml"),
        "name: echo\ndescription: echoes its input (unsafe on purpose)\ninputs:\n  v: { description: v }\noutputs:\n  x: { description: x, value: '${{ steps.s.outputs.x }}' }\nruns:\n  using: composite\n  steps:\n    - id: s\n      shell: bash\n      env: { V: '${{ inputs.v }}' }\n      run: printf '%s\\n' \"$V\"\n",
    )
    .unwrap();
    let r = golden_xtask::Runner::new(&dir, t.path(), t.path().join("tmp"))
        .input("v", "hello\n::set-output name=x::injected")
        .run()
        .unwrap();
    assert_eq!(r.output("x"), "injected");
    assert!(r.commands.iter().any(|c| c.name == "set-output"));
}

#[test]
fn an_entry_with_a_line_break_inside_a_value_is_refused_before_any_binary_runs() {
    // Valid JSON whose decoded tag holds a line break: a binary quoting that tag in an error
    // would put `::set-output` at the start of a log line.
    let bins = golden_bins(&["golden-build", "golden-scan", "golden-push"]);
    let t = tempdir("inject");
    let entry = r#"{"id":"x","image":"r/x","tags":["r/x:1\n::set-output name=image-id::pwned"]}"#;
    for tool in ["build", "scan", "push"] {
        let mut r = runner(tool, t.path())
            .env("PATH", path_with(&bins))
            .env("DOCKER_HOST", "unix:///nonexistent/golden-xtask.sock")
            .input("entry", entry);
        if tool != "build" {
            r = r.input("image", "docker-archive:/nonexistent.tar");
        }
        if tool == "scan" {
            r = r.input("trivy", "off");
        }
        let r = r.run().unwrap();
        assert!(!r.success, "{tool}");
        assert_no_injected_command(&r);
        let err = r
            .commands
            .iter()
            .find(|c| c.name == "error")
            .unwrap_or_else(|| panic!("{tool}: {}", r.log()));
        assert!(
            err.value.contains("line break or control character"),
            "{tool}: {err:?}"
        );
    }
}
