//! The binaries' shared `main` (cargo feature `main`; `main-async` for the tokio ones).
//!
//! Every golden binary's `main` parses its `Cli`, then hands a [`Spec`] and its body to
//! [`run`] (async) or [`run_sync`]. The scaffold installs the rustls provider and the tracing
//! subscriber when the spec asks for them, starts the tokio runtime, runs the body and turns
//! its result into the exit code:
//!
//! - `Ok(v)`: [`Exit::code`] of `v` (`()` is 0, `bool` "passed" is 0 or 1 ([`FAILED`]), an
//!   `i32` is that code);
//! - `Err(e)`: [`Fatal::report`] prints `e` (stderr, plus an annotation in Actions), exit
//!   [`ERROR`] (2).
//!
//! How an error is printed is the error type's [`Fatal`] implementation: the default (for
//! `anyhow::Error`) is [`annotate_fatal`] then [`print_error_chain`]; a binary with its own
//! rendering wraps its error in a type that overrides [`Fatal::report`].

use std::process::ExitCode;

use crate::{annotate_fatal, print_error_chain};

/// Exit code of a successful run.
pub const SUCCESS: u8 = 0;
/// Exit code of a run that worked but whose verdict is "failed" (a policy, a check).
pub const FAILED: u8 = 1;
/// Exit code of an error (usage, input, runtime).
pub const ERROR: u8 = 2;

/// A body's success value, as an exit code.
pub trait Exit {
    /// The process exit code for this value.
    fn code(self) -> u8;
}

impl Exit for () {
    fn code(self) -> u8 {
        SUCCESS
    }
}

/// `true`: passed ([`SUCCESS`]); `false`: failed ([`FAILED`]).
impl Exit for bool {
    fn code(self) -> u8 {
        if self { SUCCESS } else { FAILED }
    }
}

/// The code itself.
impl Exit for u8 {
    fn code(self) -> u8 {
        self
    }
}

/// The code itself; one outside 0..=255 is [`ERROR`].
impl Exit for i32 {
    fn code(self) -> u8 {
        u8::try_from(self).unwrap_or(ERROR)
    }
}

/// A body's error: how it is reported before the binary exits with [`ERROR`].
pub trait Fatal {
    /// The error whose chain the default [`Fatal::report`] prints.
    fn error(&self) -> &(dyn std::error::Error + 'static);

    /// Print the error. Default: inside Actions an `::error` annotation titled `tool` (first
    /// line of the message), then `error: MESSAGE` and one `  caused by: …` line per source on
    /// stderr, neutralised.
    fn report(&self, tool: &str) {
        annotate_fatal(tool, self.error());
        print_error_chain("", self.error());
    }
}

impl Fatal for anyhow::Error {
    fn error(&self) -> &(dyn std::error::Error + 'static) {
        self.as_ref()
    }
}

/// The exit code for a body's result; an error is reported first.
pub fn finish<T: Exit, E: Fatal>(tool: &str, result: Result<T, E>) -> u8 {
    match result {
        Ok(v) => v.code(),
        Err(e) => {
            e.report(tool);
            ERROR
        }
    }
}

/// Run a synchronous body (no runtime, no TLS, no tracing subscriber) and exit with its code.
pub fn run_sync<T: Exit, E: Fatal>(tool: &str, body: impl FnOnce() -> Result<T, E>) -> ExitCode {
    ExitCode::from(finish(tool, body()))
}

#[cfg(any(feature = "main-async", test))]
pub use self::runtime::{Logs, Runtime, Spec, run, runtime_failed};

#[cfg(any(feature = "main-async", test))]
mod runtime {
    use std::future::Future;
    use std::process::ExitCode;

    use super::{ERROR, Exit, Fatal, finish};

    /// The tokio runtime a binary runs on.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Runtime {
        /// One thread (`new_current_thread`).
        CurrentThread,
        /// `new_multi_thread`, with `workers` worker threads (`None`: one per core).
        MultiThread { workers: Option<usize> },
    }

    /// The tracing subscriber a binary installs (on stderr).
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Logs {
        /// The variable holding the filter (`RUST_LOG`, `GOLDEN_LOG`); unset or invalid: `warn`.
        pub filter_env: &'static str,
        /// Lines carry the time and the event's target (tracing-subscriber's default format);
        /// `false`: level and message only.
        pub time_and_target: bool,
    }

    /// What an async binary needs before its body runs.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Spec {
        /// The binary's name: the title of its fatal error annotation.
        pub tool: &'static str,
        pub runtime: Runtime,
        /// Install aws-lc-rs as rustls' process-wide crypto provider (registry or GitHub
        /// clients over HTTPS).
        pub tls: bool,
        /// Install a tracing subscriber; `None`: none.
        pub logs: Option<Logs>,
    }

    /// The message printed when the runtime cannot start.
    pub fn runtime_failed(e: &std::io::Error) -> String {
        format!("error: failed to start the async runtime: {e}")
    }

    fn install_logs(logs: Logs) {
        use tracing_subscriber::EnvFilter;
        let filter =
            EnvFilter::try_from_env(logs.filter_env).unwrap_or_else(|_| EnvFilter::new("warn"));
        let builder = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr);
        // A subscriber set earlier (none in a fresh process) stays.
        let _ = if logs.time_and_target {
            builder.try_init()
        } else {
            builder.with_target(false).without_time().try_init()
        };
    }

    fn build(runtime: Runtime) -> std::io::Result<tokio::runtime::Runtime> {
        match runtime {
            Runtime::CurrentThread => tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build(),
            Runtime::MultiThread { workers } => {
                let mut b = tokio::runtime::Builder::new_multi_thread();
                if let Some(n) = workers {
                    b.worker_threads(n.max(1));
                }
                b.enable_all().build()
            }
        }
    }

    /// Install what `spec` asks for, start the runtime, run `body` on it and exit with its
    /// code ([`super::finish`]). A runtime that cannot start prints [`runtime_failed`] and
    /// exits 2.
    pub fn run<T: Exit, E: Fatal>(
        spec: Spec,
        body: impl Future<Output = Result<T, E>>,
    ) -> ExitCode {
        if spec.tls {
            // Fails only when a provider is installed already, which is then used.
            let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        }
        if let Some(logs) = spec.logs {
            install_logs(logs);
        }
        let rt = match build(spec.runtime) {
            Ok(rt) => rt,
            Err(e) => {
                eprintln!("{}", runtime_failed(&e));
                return ExitCode::from(ERROR);
            }
        };
        ExitCode::from(finish(spec.tool, rt.block_on(body)))
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::fmt;

    use super::*;

    #[derive(Debug)]
    struct Inner;
    impl fmt::Display for Inner {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("inner cause")
        }
    }
    impl std::error::Error for Inner {}

    /// An error that records which rendering ran.
    #[derive(Debug)]
    struct Recorded<'a> {
        log: &'a RefCell<Vec<String>>,
    }
    impl fmt::Display for Recorded<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("recorded")
        }
    }
    impl std::error::Error for Recorded<'_> {}
    impl Fatal for Recorded<'static> {
        fn error(&self) -> &(dyn std::error::Error + 'static) {
            self
        }
        fn report(&self, tool: &str) {
            self.log.borrow_mut().push(format!("override {tool}"));
        }
    }

    fn leak_log() -> &'static RefCell<Vec<String>> {
        Box::leak(Box::new(RefCell::new(Vec::new())))
    }

    #[test]
    fn success_values_map_to_exit_codes() {
        assert_eq!(().code(), 0);
        assert_eq!(true.code(), 0);
        assert_eq!(false.code(), 1);
        assert_eq!(0i32.code(), 0);
        assert_eq!(1i32.code(), 1);
        assert_eq!(3i32.code(), 3);
        assert_eq!((-1i32).code(), 2, "a negative code is an error");
        assert_eq!(256i32.code(), 2, "a code over 255 is an error");
    }

    #[test]
    fn ok_is_not_reported_and_keeps_its_code() {
        let log = leak_log();
        assert_eq!(finish::<bool, Recorded>("tool", Ok(false)), 1);
        assert_eq!(finish::<(), Recorded>("tool", Ok(())), 0);
        assert!(log.borrow().is_empty());
    }

    #[test]
    fn an_error_exits_2_through_the_types_report() {
        let log = leak_log();
        let code = finish::<bool, Recorded>("golden-x", Err(Recorded { log }));
        assert_eq!(code, ERROR);
        assert_eq!(*log.borrow(), vec!["override golden-x".to_string()]);
    }

    #[test]
    fn the_default_report_prints_anyhows_whole_chain() {
        let e = anyhow::Error::new(Inner).context("top message");
        // What the default `report` prints on stderr (after the annotation in Actions).
        assert_eq!(
            crate::error_chain_text("", Fatal::error(&e)),
            "error: top message\n  caused by: inner cause\n"
        );
        assert_eq!(finish::<(), anyhow::Error>("golden-x", Err(e)), ERROR);
    }

    #[test]
    fn run_sync_runs_the_body_once() {
        let calls = RefCell::new(0);
        let code = run_sync("golden-x", || {
            *calls.borrow_mut() += 1;
            Ok::<bool, anyhow::Error>(true)
        });
        assert_eq!(code, ExitCode::SUCCESS);
        assert_eq!(*calls.borrow(), 1);
    }

    #[test]
    fn run_starts_each_runtime_kind_and_maps_the_result() {
        for runtime in [
            Runtime::CurrentThread,
            Runtime::MultiThread { workers: None },
            Runtime::MultiThread { workers: Some(2) },
        ] {
            let spec = Spec {
                tool: "golden-x",
                runtime,
                tls: true,
                logs: None,
            };
            let code = run(spec, async {
                // The body runs on a runtime: spawning works.
                let n = tokio::spawn(async { 1i32 })
                    .await
                    .map_err(anyhow::Error::new)?;
                Ok::<i32, anyhow::Error>(n)
            });
            assert_eq!(code, ExitCode::from(1), "{runtime:?}");
        }
    }

    #[test]
    fn the_runtime_failure_message_names_the_cause() {
        let e = std::io::Error::other("no threads left");
        assert_eq!(
            runtime_failed(&e),
            "error: failed to start the async runtime: no threads left"
        );
    }
}
