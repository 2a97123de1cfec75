//! Execute a composite action's steps the way the GitHub runner does, so tests can drive
//! `actions/<tool>/action.yml` end to end against the real binaries.
//!
//! What the runner does and this reproduces:
//! - inputs: declared defaults (expressions evaluated), provided values, the `inputs` context;
//!   an undeclared input is an error here (the runner only warns) so a typo in a test cannot
//!   pass silently. Like the runner, composite steps get no `INPUT_<NAME>` variables
//!   (actions/runner#665): inputs reach a script only through its step's `env:`.
//!   [`Runner::input_env`] adds them, as JavaScript and Docker actions get them;
//! - per step: `if:` (implicit `success()`), `env:` with `${{ }}` substituted (`inputs`, `steps`,
//!   `github`, `runner`, `env`), `working-directory`, `continue-on-error`, `shell: bash` run as
//!   `bash --noprofile --norc -eo pipefail FILE` (and `sh -e FILE`);
//! - fresh `GITHUB_OUTPUT`, `GITHUB_ENV`, `GITHUB_PATH`, `GITHUB_STEP_SUMMARY` files per step;
//!   outputs become `steps.<id>.outputs`, `GITHUB_ENV` entries reach later steps, `GITHUB_PATH`
//!   entries are prepended to `PATH`, summaries are collected;
//! - workflow commands on stdout/stderr (`::set-output`, `::add-mask::`, annotations) with
//!   `::stop-commands::` honoured, so a test can prove untrusted text never becomes a command;
//! - the action's `outputs:` mapped through their `value:` expressions.
//!
//! `uses:` steps (actions/cache, upload-artifact, ...) cannot run here: they go to a handler the
//! test provides (which can fake their effect and outputs); by default they are recorded with
//! their evaluated `with:` and succeed with no outputs.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::action::{Action, ActionError, OrderedMap, Step};
use crate::expr::{self, Contexts, ExprError, Value};

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Action(#[from] ActionError),
    #[error("action `{action}` is `runs.using: {using}`; only composite actions can be run")]
    NotComposite { action: String, using: String },
    #[error("input `{0}` is not declared by the action (declared: {1})")]
    UnknownInput(String, String),
    #[error("required input `{0}` was not given and has no default")]
    MissingInput(String),
    #[error("{what}: {source}")]
    Expr {
        what: String,
        #[source]
        source: ExprError,
    },
    #[error("step `{step}`: shell `{shell}` is not supported (bash, sh)")]
    Shell { step: String, shell: String },
    #[error("step `{step}` has neither `run:` nor `uses:`")]
    EmptyStep { step: String },
    #[error("failed to {what} `{path}`")]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("step `{step}`: `{file}` is not a valid environment file: {message}")]
    EnvFile {
        step: String,
        file: &'static str,
        message: String,
    },
}

fn io<'p>(what: &'static str, path: &'p Path) -> impl FnOnce(std::io::Error) -> RunError + 'p {
    move |source| RunError::Io {
        what,
        path: path.to_path_buf(),
        source,
    }
}

/// A `uses:` step handed to the handler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsesCall {
    pub step: String,
    pub uses: String,
    /// `with:` after substitution.
    pub with: BTreeMap<String, String>,
    /// `env:` after substitution.
    pub env: BTreeMap<String, String>,
}

/// Step outcome (`steps.<id>.outcome`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    Failure,
    Skipped,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
            Outcome::Skipped => "skipped",
        }
    }
}

/// A workflow command seen on a step's output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkflowCommand {
    pub step: String,
    pub name: String,
    pub properties: String,
    pub value: String,
}

#[derive(Debug, Clone)]
pub struct StepResult {
    pub label: String,
    pub id: Option<String>,
    pub outcome: Outcome,
    /// `conclusion`: success when `continue-on-error` absorbed a failure.
    pub conclusion: Outcome,
    pub exit_code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub outputs: BTreeMap<String, String>,
    /// The environment the step's process got (for assertions on what reached the binary).
    pub process_env: BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
pub struct RunResult {
    pub success: bool,
    /// The action's outputs after `value:` substitution.
    pub outputs: BTreeMap<String, String>,
    pub steps: Vec<StepResult>,
    /// Every step's `GITHUB_STEP_SUMMARY`, concatenated.
    pub summary: String,
    /// What the steps exported with `GITHUB_ENV`.
    pub env: BTreeMap<String, String>,
    /// What the steps added with `GITHUB_PATH` (most recent first).
    pub path: Vec<String>,
    pub uses: Vec<UsesCall>,
    pub commands: Vec<WorkflowCommand>,
}

impl RunResult {
    pub fn step(&self, id: &str) -> Option<&StepResult> {
        self.steps.iter().find(|s| s.id.as_deref() == Some(id))
    }
    pub fn output(&self, name: &str) -> &str {
        self.outputs.get(name).map(String::as_str).unwrap_or("")
    }
    /// Every step's output, for assertion messages.
    pub fn log(&self) -> String {
        let mut s = String::new();
        for st in &self.steps {
            s.push_str(&format!(
                "--- step {} ({}, exit {:?})\n{}{}",
                st.label,
                st.outcome.as_str(),
                st.exit_code,
                st.stdout,
                st.stderr
            ));
        }
        s
    }
}

/// A run step's result, the `GITHUB_ENV` entries it wrote and the `GITHUB_PATH` lines it added.
type ScriptOutcome = (StepResult, Vec<(String, String)>, Vec<String>);

/// A run step's outputs, the `GITHUB_ENV` entries it wrote and the `GITHUB_PATH` lines it added.
type FileCommands = (BTreeMap<String, String>, Vec<(String, String)>, Vec<String>);

type UsesHandler<'a> = Box<dyn FnMut(&UsesCall) -> Result<BTreeMap<String, String>, String> + 'a>;

/// Runs one composite action.
pub struct Runner<'a> {
    action_dir: PathBuf,
    workspace: PathBuf,
    temp: PathBuf,
    inputs: BTreeMap<String, String>,
    env: BTreeMap<String, String>,
    github: BTreeMap<String, String>,
    inherit_env: bool,
    uses_handler: Option<UsesHandler<'a>>,
    step_timeout: Option<Duration>,
    echo: bool,
    input_env: bool,
}

/// Variables never inherited from the test process: they belong to the (simulated) runner.
fn runner_owned(name: &str) -> bool {
    name.starts_with("GITHUB_")
        || name.starts_with("RUNNER_")
        || name.starts_with("INPUT_")
        || name.starts_with("GOLDEN_")
        || name.starts_with("ACTIONS_")
        || name == "CI"
}

fn runner_arch() -> &'static str {
    match std::env::consts::ARCH {
        "aarch64" => "ARM64",
        "arm" => "ARM",
        "x86" => "X86",
        _ => "X64",
    }
}

impl<'a> Runner<'a> {
    /// `action_dir` holds `action.yml`; steps run in `workspace`; `RUNNER_TEMP` is `temp`.
    pub fn new(
        action_dir: impl Into<PathBuf>,
        workspace: impl Into<PathBuf>,
        temp: impl Into<PathBuf>,
    ) -> Self {
        Self {
            action_dir: action_dir.into(),
            workspace: workspace.into(),
            temp: temp.into(),
            inputs: BTreeMap::new(),
            env: BTreeMap::new(),
            github: BTreeMap::new(),
            inherit_env: true,
            uses_handler: None,
            step_timeout: None,
            echo: std::env::var_os("GOLDEN_XTASK_ECHO").is_some_and(|v| v == "1"),
            input_env: false,
        }
    }
    pub fn input(mut self, name: &str, value: impl Into<String>) -> Self {
        self.inputs.insert(name.to_string(), value.into());
        self
    }
    /// Job-level environment (visible to every step and in the `env` context).
    pub fn env(mut self, name: &str, value: impl Into<String>) -> Self {
        self.env.insert(name.to_string(), value.into());
        self
    }
    /// A `github` context field (`repository`, `sha`, `event_name`, `action_ref`, `token`, ...).
    pub fn github(mut self, name: &str, value: impl Into<String>) -> Self {
        self.github.insert(name.to_string(), value.into());
        self
    }
    /// Inherit the test process environment (minus runner-owned variables). Default: on.
    pub fn inherit_env(mut self, yes: bool) -> Self {
        self.inherit_env = yes;
        self
    }
    pub fn on_uses(
        mut self,
        f: impl FnMut(&UsesCall) -> Result<BTreeMap<String, String>, String> + 'a,
    ) -> Self {
        self.uses_handler = Some(Box::new(f));
        self
    }
    /// Also export `INPUT_<NAME>` to run steps, as the runner does for JavaScript and Docker
    /// actions (not for composite ones). Default: off.
    pub fn input_env(mut self, yes: bool) -> Self {
        self.input_env = yes;
        self
    }
    pub fn step_timeout(mut self, d: Duration) -> Self {
        self.step_timeout = Some(d);
        self
    }

    fn contexts(
        &self,
        inputs: &BTreeMap<String, String>,
        env: &BTreeMap<String, String>,
        steps: &BTreeMap<String, Value>,
        job_ok: bool,
    ) -> Contexts {
        let strmap = |m: &BTreeMap<String, String>| {
            Value::Object(
                m.iter()
                    .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                    .collect(),
            )
        };
        let mut github = self.github.clone();
        github.insert("action_path".into(), self.action_dir.display().to_string());
        github.insert("workspace".into(), self.workspace.display().to_string());
        github
            .entry("server_url".into())
            .or_insert_with(|| "https://github.com".into());
        github
            .entry("api_url".into())
            .or_insert_with(|| "https://api.github.com".into());
        let mut runner = BTreeMap::new();
        runner.insert("os".to_string(), "Linux".to_string());
        runner.insert("arch".to_string(), runner_arch().to_string());
        runner.insert("temp".to_string(), self.temp.display().to_string());
        runner.insert(
            "tool_cache".to_string(),
            self.temp.join("tool-cache").display().to_string(),
        );
        runner.insert("name".to_string(), "golden-xtask".to_string());
        let mut values = BTreeMap::new();
        values.insert("inputs".to_string(), strmap(inputs));
        values.insert("env".to_string(), strmap(env));
        values.insert("github".to_string(), strmap(&github));
        values.insert("runner".to_string(), strmap(&runner));
        values.insert("steps".to_string(), Value::Object(steps.clone()));
        let mut job = BTreeMap::new();
        job.insert(
            "status".to_string(),
            Value::String(if job_ok { "success" } else { "failure" }.into()),
        );
        values.insert("job".to_string(), Value::Object(job));
        values.insert("matrix".to_string(), Value::Object(BTreeMap::new()));
        values.insert("strategy".to_string(), Value::Object(BTreeMap::new()));
        Contexts { values, job_ok }
    }

    /// Run the action.
    pub fn run(mut self) -> Result<RunResult, RunError> {
        let file = self.action_dir.join("action.yml");
        let action = Action::load(&file)?;
        if action.runs.using != "composite" {
            return Err(RunError::NotComposite {
                action: file.display().to_string(),
                using: action.runs.using.clone(),
            });
        }
        std::fs::create_dir_all(&self.temp).map_err(io("create", &self.temp))?;
        let files_dir = self.temp.join("_runner_file_commands");
        std::fs::create_dir_all(&files_dir).map_err(io("create", &files_dir))?;

        let inputs = self.resolve_inputs(&action)?;
        let mut job = JobState::new(self.env.clone());
        for (index, step) in action.runs.steps.iter().enumerate() {
            self.run_step(step, index, &inputs, &files_dir, &mut job)?;
        }
        let outputs = self.action_outputs(&action, &inputs, &job)?;
        Ok(RunResult {
            success: job.ok,
            outputs,
            steps: job.results,
            summary: job.summary,
            env: job.exported,
            path: job.path_added,
            uses: job.uses_calls,
            commands: job.commands,
        })
    }

    /// The `inputs` context: provided values win; declared defaults (expressions allowed) fill
    /// the rest. An undeclared provided input, or a missing required one, is an error.
    fn resolve_inputs(&self, action: &Action) -> Result<BTreeMap<String, String>, RunError> {
        for k in self.inputs.keys() {
            if action.inputs.get(k).is_none() {
                return Err(RunError::UnknownInput(
                    k.clone(),
                    action.inputs.keys().cloned().collect::<Vec<_>>().join(", "),
                ));
            }
        }
        let mut inputs = BTreeMap::new();
        let empty_steps = BTreeMap::new();
        for (name, decl) in action.inputs.iter() {
            let value = match self.inputs.get(name) {
                Some(v) => v.clone(),
                None => match &decl.default {
                    Some(d) => {
                        let cx = self.contexts(&BTreeMap::new(), &self.env, &empty_steps, true);
                        expr::interpolate(d, &cx).map_err(|source| RunError::Expr {
                            what: format!("default of input `{name}`"),
                            source,
                        })?
                    }
                    None if decl.is_required() => return Err(RunError::MissingInput(name.clone())),
                    None => String::new(),
                },
            };
            inputs.insert(name.clone(), value);
        }
        Ok(inputs)
    }

    /// Run (or skip, per its `if:`) step `index` and record its result in `job`: its outcome in
    /// the `steps` context, a failure in the job status unless `continue-on-error` absorbs it.
    fn run_step(
        &mut self,
        step: &Step,
        index: usize,
        inputs: &BTreeMap<String, String>,
        files_dir: &Path,
        job: &mut JobState,
    ) -> Result<(), RunError> {
        let label = step.label(index);
        let cx = self.contexts(inputs, &job.env, &job.steps_cx, job.ok);
        let run_it =
            expr::condition(step.condition.as_deref(), &cx).map_err(|source| RunError::Expr {
                what: format!("`if:` of step `{label}`"),
                source,
            })?;
        if !run_it {
            job.push(skipped_step(label, step));
            return Ok(());
        }
        let step_env = interpolate_map(&step.env, &cx, |k| format!("env `{k}` of step `{label}`"))?;
        let continue_on_error = match &step.continue_on_error {
            Some(c) => expr::interpolate(c, &cx)
                .map_err(|source| RunError::Expr {
                    what: format!("`continue-on-error` of step `{label}`"),
                    source,
                })?
                .eq_ignore_ascii_case("true"),
            None => false,
        };

        let mut r = if let Some(uses) = &step.uses {
            self.run_uses(step, uses, &label, &cx, step_env, job)?
        } else {
            let (r, new_env, new_path) =
                self.run_script(step, &label, &cx, inputs, &step_env, files_dir, job)?;
            for (k, v) in new_env {
                job.env.insert(k.clone(), v.clone());
                job.exported.insert(k, v);
            }
            for p in new_path {
                job.path_added.insert(0, p);
            }
            r
        };
        if r.outcome == Outcome::Failure {
            if continue_on_error {
                r.conclusion = Outcome::Success;
            } else {
                job.ok = false;
            }
        }
        if self.echo {
            eprintln!(
                "[golden-xtask] step {} -> {}\n{}{}",
                r.label,
                r.outcome.as_str(),
                r.stdout,
                r.stderr
            );
        }
        job.push(r);
        Ok(())
    }

    /// Hand a `uses:` step (with its evaluated `with:` and `env:`) to the test's handler, or
    /// succeed with no outputs when there is none; the call is recorded in `job`.
    fn run_uses(
        &mut self,
        step: &Step,
        uses: &str,
        label: &str,
        cx: &Contexts,
        step_env: BTreeMap<String, String>,
        job: &mut JobState,
    ) -> Result<StepResult, RunError> {
        let with = interpolate_map(&step.with, cx, |k| format!("`with.{k}` of step `{label}`"))?;
        let call = UsesCall {
            step: label.to_string(),
            uses: uses.to_string(),
            with,
            env: step_env,
        };
        let outcome = match &mut self.uses_handler {
            Some(h) => h(&call),
            None => Ok(BTreeMap::new()),
        };
        job.uses_calls.push(call);
        let (outcome, outputs, stderr) = match outcome {
            Ok(o) => (Outcome::Success, o, String::new()),
            Err(msg) => (Outcome::Failure, BTreeMap::new(), msg),
        };
        Ok(StepResult {
            label: label.to_string(),
            id: step.id.clone(),
            outcome,
            conclusion: outcome,
            exit_code: None,
            stdout: String::new(),
            stderr,
            outputs,
            process_env: BTreeMap::new(),
        })
    }

    /// The action's `outputs:`, each `value:` evaluated once every step has run.
    fn action_outputs(
        &self,
        action: &Action,
        inputs: &BTreeMap<String, String>,
        job: &JobState,
    ) -> Result<BTreeMap<String, String>, RunError> {
        let cx = self.contexts(inputs, &job.env, &job.steps_cx, job.ok);
        let mut outputs = BTreeMap::new();
        for (name, out) in action.outputs.iter() {
            let v = match &out.value {
                Some(v) => expr::interpolate(v, &cx).map_err(|source| RunError::Expr {
                    what: format!("value of output `{name}`"),
                    source,
                })?,
                None => String::new(),
            };
            outputs.insert(name.clone(), v);
        }
        Ok(outputs)
    }

    /// Run a `run:` step's script in its shell with fresh file-command files, then collect its
    /// outputs, `GITHUB_ENV` and `GITHUB_PATH` entries, summary and workflow commands.
    #[allow(clippy::too_many_arguments)]
    fn run_script(
        &self,
        step: &Step,
        label: &str,
        cx: &Contexts,
        inputs: &BTreeMap<String, String>,
        step_env: &BTreeMap<String, String>,
        files_dir: &Path,
        job: &mut JobState,
    ) -> Result<ScriptOutcome, RunError> {
        let script = step.run.as_deref().ok_or_else(|| RunError::EmptyStep {
            step: label.to_string(),
        })?;
        let shell = step.shell.as_deref().unwrap_or("bash");
        let nonce = uuid::Uuid::new_v4().simple().to_string();
        let script_path = files_dir.join(format!("step_{nonce}.sh"));
        std::fs::write(&script_path, script).map_err(io("write", &script_path))?;
        let (program, args) = shell_command(shell, &script_path, label)?;
        let files = StepFiles::create(files_dir, &nonce)?;
        let env = self.process_env(cx, inputs, step_env, &files, job);
        let dir = self.working_directory(step, label, cx)?;
        let (exit_code, stdout, stderr) = self.execute(program, &args, &dir, &env, &script_path)?;
        let (outputs, new_env, new_path) =
            collect_file_commands(label, &files, &stdout, &stderr, job)?;
        let _ = std::fs::remove_file(&script_path);
        let outcome = if exit_code == Some(0) {
            Outcome::Success
        } else {
            Outcome::Failure
        };
        Ok((
            StepResult {
                label: label.to_string(),
                id: step.id.clone(),
                outcome,
                conclusion: outcome,
                exit_code,
                stdout,
                stderr,
                outputs,
                process_env: env,
            },
            new_env,
            new_path,
        ))
    }

    /// The environment a `run:` step's process gets, in the runner's precedence: inherited
    /// variables (unless runner-owned), job env, runner and `github` variables, `INPUT_*` when
    /// asked, the file-command paths, the step's `env:`; `GITHUB_PATH` entries go before `PATH`.
    fn process_env(
        &self,
        cx: &Contexts,
        inputs: &BTreeMap<String, String>,
        step_env: &BTreeMap<String, String>,
        files: &StepFiles,
        job: &JobState,
    ) -> BTreeMap<String, String> {
        let mut env: BTreeMap<String, String> = BTreeMap::new();
        if self.inherit_env {
            for (k, v) in std::env::vars() {
                if !runner_owned(&k) {
                    env.insert(k, v);
                }
            }
        }
        env.extend(job.env.iter().map(|(k, v)| (k.clone(), v.clone())));
        self.insert_runner_vars(&mut env, cx);
        if self.input_env {
            for (name, value) in inputs {
                env.insert(
                    format!("INPUT_{}", name.to_uppercase().replace(' ', "_")),
                    value.clone(),
                );
            }
        }
        env.insert("GITHUB_OUTPUT".into(), files.output.display().to_string());
        env.insert("GITHUB_ENV".into(), files.env.display().to_string());
        env.insert("GITHUB_PATH".into(), files.path.display().to_string());
        env.insert(
            "GITHUB_STEP_SUMMARY".into(),
            files.summary.display().to_string(),
        );
        env.insert("GITHUB_STATE".into(), files.state.display().to_string());
        env.extend(step_env.iter().map(|(k, v)| (k.clone(), v.clone())));
        if !job.path_added.is_empty() {
            let base = env.get("PATH").cloned().unwrap_or_default();
            let mut p = job.path_added.join(":");
            if !base.is_empty() {
                p.push(':');
                p.push_str(&base);
            }
            env.insert("PATH".into(), p);
        }
        env
    }

    /// The variables the runner sets itself: `CI`, `GITHUB_ACTIONS`, workspace and action
    /// paths, `RUNNER_*`, and the `GITHUB_*` mirrors of non-empty `github` context fields.
    fn insert_runner_vars(&self, env: &mut BTreeMap<String, String>, cx: &Contexts) {
        let gh = |k: &str| {
            cx.values.get("github").map(|g| match g {
                Value::Object(o) => o.get(k).map(Value::to_display).unwrap_or_default(),
                _ => String::new(),
            })
        };
        env.insert("CI".into(), "true".into());
        env.insert("GITHUB_ACTIONS".into(), "true".into());
        env.insert(
            "GITHUB_WORKSPACE".into(),
            self.workspace.display().to_string(),
        );
        env.insert(
            "GITHUB_ACTION_PATH".into(),
            self.action_dir.display().to_string(),
        );
        env.insert("RUNNER_TEMP".into(), self.temp.display().to_string());
        env.insert("RUNNER_OS".into(), "Linux".into());
        env.insert("RUNNER_ARCH".into(), runner_arch().into());
        env.insert(
            "RUNNER_TOOL_CACHE".into(),
            self.temp.join("tool-cache").display().to_string(),
        );
        for (ctx, var) in [
            ("repository", "GITHUB_REPOSITORY"),
            ("repository_owner", "GITHUB_REPOSITORY_OWNER"),
            ("sha", "GITHUB_SHA"),
            ("ref", "GITHUB_REF"),
            ("event_name", "GITHUB_EVENT_NAME"),
            ("event_path", "GITHUB_EVENT_PATH"),
            ("server_url", "GITHUB_SERVER_URL"),
            ("api_url", "GITHUB_API_URL"),
            ("run_id", "GITHUB_RUN_ID"),
            ("run_attempt", "GITHUB_RUN_ATTEMPT"),
            ("workflow", "GITHUB_WORKFLOW"),
            ("action_ref", "GITHUB_ACTION_REF"),
            ("action_repository", "GITHUB_ACTION_REPOSITORY"),
        ] {
            if let Some(v) = gh(ctx).filter(|v| !v.is_empty()) {
                env.insert(var.into(), v);
            }
        }
    }

    /// The step's `working-directory` (evaluated; relative to the workspace), else the
    /// workspace.
    fn working_directory(
        &self,
        step: &Step,
        label: &str,
        cx: &Contexts,
    ) -> Result<PathBuf, RunError> {
        Ok(match &step.working_directory {
            Some(w) => {
                let w = expr::interpolate(w, cx).map_err(|source| RunError::Expr {
                    what: format!("`working-directory` of step `{label}`"),
                    source,
                })?;
                let p = PathBuf::from(&w);
                if p.is_absolute() {
                    p
                } else {
                    self.workspace.join(p)
                }
            }
            None => self.workspace.clone(),
        })
    }

    /// Run the shell with exactly `env`, stdin closed, until it exits or the step timeout
    /// kills it (noted on stderr). Returns the exit code (`None` if killed), stdout and stderr.
    fn execute(
        &self,
        program: &str,
        args: &[String],
        dir: &Path,
        env: &BTreeMap<String, String>,
        script_path: &Path,
    ) -> Result<(Option<i32>, String, String), RunError> {
        let mut child = Command::new(program)
            .args(args)
            .current_dir(dir)
            .env_clear()
            .envs(env)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(io("start a shell in", dir))?;
        let t_out = drain(child.stdout.take());
        let t_err = drain(child.stderr.take());
        let started = Instant::now();
        let status = loop {
            match child.try_wait().map_err(io("wait for", script_path))? {
                Some(s) => break Some(s),
                None => {
                    if self.step_timeout.is_some_and(|t| started.elapsed() > t) {
                        let _ = child.kill();
                        let _ = child.wait();
                        break None;
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
        };
        let stdout = t_out.join().unwrap_or_default();
        let mut stderr = t_err.join().unwrap_or_default();
        let exit_code = status.and_then(|s| s.code());
        if status.is_none() {
            stderr.push_str(&format!(
                "\n[golden-xtask] step timed out after {:?}\n",
                self.step_timeout.unwrap_or_default()
            ));
        }
        Ok((exit_code, stdout, stderr))
    }
}

/// What the steps of one run have produced so far, threaded through [`Runner::run_step`].
struct JobState {
    /// The job environment: the runner's `env` plus what steps exported with `GITHUB_ENV`.
    env: BTreeMap<String, String>,
    /// Only what steps exported with `GITHUB_ENV`.
    exported: BTreeMap<String, String>,
    /// `GITHUB_PATH` entries, most recent first.
    path_added: Vec<String>,
    /// The `steps` context.
    steps_cx: BTreeMap<String, Value>,
    results: Vec<StepResult>,
    summary: String,
    uses_calls: Vec<UsesCall>,
    commands: Vec<WorkflowCommand>,
    /// The job status (`success()`): no step has failed without `continue-on-error`.
    ok: bool,
}

impl JobState {
    fn new(env: BTreeMap<String, String>) -> Self {
        Self {
            env,
            exported: BTreeMap::new(),
            path_added: Vec::new(),
            steps_cx: BTreeMap::new(),
            results: Vec::new(),
            summary: String::new(),
            uses_calls: Vec::new(),
            commands: Vec::new(),
            ok: true,
        }
    }

    /// Record a finished (or skipped) step in the `steps` context and the results.
    fn push(&mut self, r: StepResult) {
        record(&mut self.steps_cx, &r);
        self.results.push(r);
    }
}

/// A run step's fresh file-command files (`GITHUB_OUTPUT`, `GITHUB_ENV`, `GITHUB_PATH`,
/// `GITHUB_STEP_SUMMARY`, `GITHUB_STATE`).
struct StepFiles {
    output: PathBuf,
    env: PathBuf,
    path: PathBuf,
    summary: PathBuf,
    state: PathBuf,
}

impl StepFiles {
    /// Create the files, empty, in `dir`, named after the step's `nonce`.
    fn create(dir: &Path, nonce: &str) -> Result<Self, RunError> {
        let file = |kind: &str| dir.join(format!("{kind}_{nonce}"));
        let files = Self {
            output: file("set_output"),
            env: file("set_env"),
            path: file("add_path"),
            summary: file("step_summary"),
            state: file("save_state"),
        };
        for f in [
            &files.output,
            &files.env,
            &files.path,
            &files.summary,
            &files.state,
        ] {
            std::fs::write(f, "").map_err(io("create", f))?;
        }
        Ok(files)
    }
}

/// A step that `if:` skipped.
fn skipped_step(label: String, step: &Step) -> StepResult {
    StepResult {
        label,
        id: step.id.clone(),
        outcome: Outcome::Skipped,
        conclusion: Outcome::Skipped,
        exit_code: None,
        stdout: String::new(),
        stderr: String::new(),
        outputs: BTreeMap::new(),
        process_env: BTreeMap::new(),
    }
}

/// Substitute `${{ }}` in every value of a step's `env:` or `with:` map; `what` names an entry
/// for the error.
fn interpolate_map(
    map: &OrderedMap<String>,
    cx: &Contexts,
    what: impl Fn(&str) -> String,
) -> Result<BTreeMap<String, String>, RunError> {
    let mut out = BTreeMap::new();
    for (k, v) in map.iter() {
        let val = expr::interpolate(v, cx).map_err(|source| RunError::Expr {
            what: what(k),
            source,
        })?;
        out.insert(k.clone(), val);
    }
    Ok(out)
}

/// The program and arguments the runner uses for `shell:` (`bash` or `sh`).
fn shell_command(
    shell: &str,
    script_path: &Path,
    label: &str,
) -> Result<(&'static str, Vec<String>), RunError> {
    match shell {
        "bash" => Ok((
            "bash",
            vec![
                "--noprofile".into(),
                "--norc".into(),
                "-eo".into(),
                "pipefail".into(),
                script_path.display().to_string(),
            ],
        )),
        "sh" => Ok(("sh", vec!["-e".into(), script_path.display().to_string()])),
        other => Err(RunError::Shell {
            step: label.to_string(),
            shell: other.to_string(),
        }),
    }
}

/// Read a child's pipe to the end on a thread (lossy UTF-8).
fn drain(pipe: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<String> {
    let mut pipe = pipe;
    std::thread::spawn(move || {
        let mut s = Vec::new();
        if let Some(p) = pipe.as_mut() {
            let _ = p.read_to_end(&mut s);
        }
        String::from_utf8_lossy(&s).into_owned()
    })
}

/// A finished step's outputs (`GITHUB_OUTPUT`, then `::set-output`), `GITHUB_ENV` entries and
/// `GITHUB_PATH` lines; its summary and workflow commands are appended to `job`.
fn collect_file_commands(
    label: &str,
    files: &StepFiles,
    stdout: &str,
    stderr: &str,
    job: &mut JobState,
) -> Result<FileCommands, RunError> {
    let read = |p: &Path| std::fs::read_to_string(p).map_err(io("read", p));
    let parse = |file: &'static str, text: &str| {
        golden_gha::parse_env_file(text).map_err(|message| RunError::EnvFile {
            step: label.to_string(),
            file,
            message,
        })
    };
    let mut outputs: BTreeMap<String, String> = BTreeMap::new();
    for (k, v) in parse("GITHUB_OUTPUT", &read(&files.output)?)? {
        outputs.insert(k, v);
    }
    let new_env = parse("GITHUB_ENV", &read(&files.env)?)?;
    let new_path: Vec<String> = read(&files.path)?
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    job.summary.push_str(&read(&files.summary)?);
    for text in [stdout, stderr] {
        for c in scan_commands(label, text) {
            if c.name.eq_ignore_ascii_case("set-output")
                && let Some(name) = c.properties.strip_prefix("name=")
            {
                outputs.insert(name.to_string(), c.value.clone());
            }
            job.commands.push(c);
        }
    }
    Ok((outputs, new_env, new_path))
}

fn record(steps: &mut BTreeMap<String, Value>, r: &StepResult) {
    let Some(id) = &r.id else { return };
    let mut o = BTreeMap::new();
    o.insert(
        "outputs".to_string(),
        Value::Object(
            r.outputs
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect(),
        ),
    );
    o.insert(
        "outcome".to_string(),
        Value::String(r.outcome.as_str().into()),
    );
    o.insert(
        "conclusion".to_string(),
        Value::String(r.conclusion.as_str().into()),
    );
    steps.insert(id.clone(), Value::Object(o));
}

/// Workflow commands in a step's output, as the runner sees them: `::name props::value` lines,
/// with `::stop-commands::TOKEN` ... `::TOKEN::` switching processing off.
pub fn scan_commands(step: &str, text: &str) -> Vec<WorkflowCommand> {
    let mut out = Vec::new();
    let mut stopped: Option<String> = None;
    for line in text.lines() {
        let line = line.trim_start();
        if let Some(tok) = &stopped {
            if line.trim_end() == format!("::{tok}::") {
                stopped = None;
            }
            continue;
        }
        let Some(rest) = line.strip_prefix("::") else {
            continue;
        };
        let Some(end) = rest.find("::") else { continue };
        let head = &rest[..end];
        let value = unescape_data(&rest[end + 2..]);
        let (name, props) = match head.split_once(' ') {
            Some((n, p)) => (n.to_string(), p.to_string()),
            None => (head.to_string(), String::new()),
        };
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            continue;
        }
        if name.eq_ignore_ascii_case("stop-commands") {
            stopped = Some(value.clone());
        }
        out.push(WorkflowCommand {
            step: step.to_string(),
            name,
            properties: props,
            value,
        });
    }
    out
}

fn unescape_data(s: &str) -> String {
    s.replace("%0D", "\r")
        .replace("%0A", "\n")
        .replace("%25", "%")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_commands_fence_untrusted_text() {
        let text = "::add-mask::s3cret\n::stop-commands::tok1\n::set-output name=x::evil\n::tok1::\n::warning file=a::w%0Ax\n";
        let c = scan_commands("s", text);
        let names: Vec<_> = c.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["add-mask", "stop-commands", "warning"]);
        assert_eq!(c[2].value, "w\nx");
        assert_eq!(c[2].properties, "file=a");
    }
}
