//! Bootstrap mode: the Debian base is built from the Debian archive by
//! `scripts/bootstrap-debian.sh` (mmdebstrap, hardening, `docker load`), not from a Dockerfile. Its
//! output is streamed like build output; the image id it prints is inspected and recorded like a
//! build's.

use std::collections::BTreeMap;
use std::process::Stdio;

use golden_contracts::units::human_bytes;
use golden_engine::Engine;
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::logs::LogSink;
pub use crate::outcome::BootstrapError;
use crate::outcome::{BuildError, Built};
use crate::spec::{Job, Options};

/// The script's arguments for an entry's `bootstrap` settings, tags and labels.
pub fn script_args(job: &Job, labels: &BTreeMap<String, String>) -> Vec<String> {
    let mut a = vec!["--arch".to_string(), job.arch.as_str().to_string()];
    if let Some(b) = &job.bootstrap {
        a.extend(["--suite".to_string(), b.suite.clone()]);
        a.extend(["--variant".to_string(), b.variant.clone()]);
        if !b.components.is_empty() {
            a.extend(["--components".to_string(), b.components.join(",")]);
        }
        if let Some(m) = b.mirror.as_ref().filter(|m| !m.is_empty()) {
            a.extend(["--mirror".to_string(), m.clone()]);
        }
        if let Some(s) = b.snapshot.as_ref().filter(|s| !s.is_empty()) {
            a.extend(["--snapshot".to_string(), s.clone()]);
        }
    }
    for t in &job.tags {
        a.extend(["--tag".to_string(), t.clone()]);
    }
    for (k, v) in labels {
        a.extend(["--label".to_string(), format!("{k}={v}")]);
    }
    a
}

/// Whether the bootstrap script may see the variable `name`. The script (and mmdebstrap, apt,
/// the hardening script and `docker load` under it) gets what it needs to bootstrap, reach the
/// engine and the archive, and nothing that authenticates anywhere: the GitHub OIDC request
/// token, Azure secrets, registry passwords and tokens are withheld.
pub fn env_allowed(name: &str) -> bool {
    const EXACT: [&str; 26] = [
        "PATH",
        "HOME",
        "USER",
        "LOGNAME",
        "SHELL",
        "LANG",
        "LANGUAGE",
        "TZ",
        "TERM",
        "TMPDIR",
        "SOURCE_DATE_EPOCH",
        "http_proxy",
        "https_proxy",
        "no_proxy",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "NO_PROXY",
        "ALL_PROXY",
        "DOCKER_HOST",
        "DOCKER_API_VERSION",
        "DOCKER_TLS_VERIFY",
        "DOCKER_CERT_PATH",
        "GITHUB_ACTIONS",
        "RUNNER_TEMP",
        "RUNNER_DEBUG",
        "CI",
    ];
    if EXACT.contains(&name) || name.starts_with("LC_") {
        return true;
    }
    let secret = ["TOKEN", "PASSWORD", "SECRET", "KEY", "CREDENTIAL", "AUTH"]
        .iter()
        .any(|w| name.contains(w));
    name.starts_with("GOLDEN_") && !secret
}

/// Run the bootstrap script, then inspect and tag the image it loaded.
pub async fn run(
    engine: &Engine,
    job: &Job,
    opts: &Options,
    labels: &BTreeMap<String, String>,
) -> Result<Built, BuildError> {
    let script = if opts.bootstrap_script.is_absolute() {
        opts.bootstrap_script.clone()
    } else {
        job.repo_root.join(&opts.bootstrap_script)
    };
    if !script.is_file() {
        return Err(BootstrapError::Missing(script).into());
    }
    let shown = script
        .strip_prefix(&job.repo_root)
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| script.display().to_string());
    let mut child = tokio::process::Command::new("bash")
        .env_clear()
        .envs(std::env::vars_os().filter(|(k, _)| k.to_str().is_some_and(env_allowed)))
        .arg(&script)
        .args(script_args(job, labels))
        .current_dir(&job.repo_root)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|source| BootstrapError::Spawn {
            path: script.clone(),
            source,
        })?;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<(bool, String)>(64);
    if let Some(out) = child.stdout.take() {
        let tx = tx.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(out).lines();
            while let Ok(Some(l)) = lines.next_line().await {
                if tx.send((true, l)).await.is_err() {
                    break;
                }
            }
        });
    }
    if let Some(err) = child.stderr.take() {
        let tx = tx.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(err).lines();
            while let Ok(Some(l)) = lines.next_line().await {
                if tx.send((false, l)).await.is_err() {
                    break;
                }
            }
        });
    }
    drop(tx);
    let mut sink = LogSink::start(&format!("golden-build {} (bootstrap)", job.id), opts.quiet);
    sink.note(&format!(
        "bootstrap: {shown} (suite {})",
        job.bootstrap
            .as_ref()
            .map(|b| b.suite.as_str())
            .unwrap_or("?")
    ));
    let mut image_id = None;
    while let Some((stdout, line)) = rx.recv().await {
        if stdout && golden_oci::digest::is_sha256(line.trim()) {
            image_id = Some(line.trim().to_string());
        }
        sink.push(&format!("{line}\n"));
    }
    let status = child.wait().await.map_err(|source| BootstrapError::Spawn {
        path: script.clone(),
        source,
    })?;
    sink.finish();
    if !status.success() {
        return Err(BootstrapError::Failed {
            id: job.id.clone(),
            script: shown,
            status: status.to_string(),
            last_lines: sink.tail(),
        }
        .into());
    }
    let image_id = image_id.ok_or(BootstrapError::NoImageId { script: shown })?;
    // The script tags what it loads; tagging again makes sure every tag points at this image.
    for tag in &job.tags {
        engine.tag_image(&image_id, tag).await?;
    }
    let image = engine.inspect_image(&image_id).await?;
    crate::emulation::check_image_arch(
        "bootstrapped image",
        &image_id,
        image.architecture.as_deref(),
        job.arch,
    )?;
    let size = u64::try_from(image.size.unwrap_or(0)).unwrap_or(0);
    if opts.quiet {
        println!("{image_id}");
    }
    eprintln!(
        "bootstrapped {} as {} ({})",
        job.id,
        &image_id,
        human_bytes(size)
    );
    Ok(Built {
        image_id,
        size,
        tags: job.tags.clone(),
    })
}

#[cfg(test)]
mod tests {

    #[test]
    fn ids_are_recognised() {
        assert!(golden_oci::digest::is_sha256(&format!(
            "sha256:{}",
            "a".repeat(64)
        )));
        assert!(!golden_oci::digest::is_sha256("sha256:abc"));
        assert!(!golden_oci::digest::is_sha256("building..."));
    }
}

#[cfg(test)]
mod env_tests {
    use super::env_allowed;

    #[test]
    fn the_bootstrap_sees_no_credential() {
        for v in [
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
            "ACTIONS_ID_TOKEN_REQUEST_URL",
            "AZURE_CLIENT_SECRET",
            "AZURE_CLIENT_ID",
            "GITHUB_TOKEN",
            "GOLDEN_REGISTRY_PASSWORD",
            "GOLDEN_ACR_REFRESH_TOKEN",
            "GOLDEN_SIGNING_KEY",
            "GOLDEN_AUTH",
            "REGISTRY_PASSWORD",
            "DOCKER_CONFIG",
        ] {
            assert!(!env_allowed(v), "{v}");
        }
        for v in [
            "PATH",
            "SOURCE_DATE_EPOCH",
            "LC_ALL",
            "https_proxy",
            "DOCKER_HOST",
            "GOLDEN_DEBIAN_MIRROR",
            "GOLDEN_BOOTSTRAP_DRY_RUN",
            "TMPDIR",
        ] {
            assert!(env_allowed(v), "{v}");
        }
    }
}
