//! Docker CLI credentials: `$DOCKER_CONFIG/config.json` (default `~/.docker/config.json`).
//!
//! Lookup for a registry, like the docker CLI: `credHelpers[registry]`, then an `auths` entry
//! (`auth` = base64 `user:password`, or `username`/`password`, or `identitytoken` which is a
//! refresh token — ACR's `docker login` stores its refresh token there), then `credsStore`.
//! Helpers are run as `docker-credential-<name> get` with the server URL on stdin; a
//! `Username` of `<token>` means `Secret` is an identity (refresh) token.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde::Deserialize;

use super::{Auth, AuthKind, Credential, NULL_GUID_USERNAME};
use crate::env::Env;
use crate::env_vars as ev;
use crate::error::AuthError;
use crate::secret::Secret;

const DOCKER_HUB_KEY: &str = "https://index.docker.io/v1/";

#[derive(Debug, Default, Deserialize)]
struct ConfigFile {
    #[serde(default)]
    auths: std::collections::BTreeMap<String, AuthEntry>,
    #[serde(default, rename = "credsStore")]
    creds_store: Option<String>,
    #[serde(default, rename = "credHelpers")]
    cred_helpers: std::collections::BTreeMap<String, String>,
}

/// `Debug` shows which fields are set, never their values.
#[derive(Default, Deserialize)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    identitytoken: Option<String>,
}

#[derive(Deserialize)]
struct HelperReply {
    #[serde(rename = "Username", default)]
    username: String,
    #[serde(rename = "Secret", default)]
    secret: String,
}

fn redacted(v: &Option<String>) -> &'static str {
    match v {
        Some(s) if !s.is_empty() => "Some(***)",
        Some(_) => "Some(\"\")",
        None => "None",
    }
}

impl std::fmt::Debug for AuthEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthEntry")
            .field("auth", &format_args!("{}", redacted(&self.auth)))
            .field("username", &self.username)
            .field("password", &format_args!("{}", redacted(&self.password)))
            .field(
                "identitytoken",
                &format_args!("{}", redacted(&self.identitytoken)),
            )
            .finish()
    }
}

impl std::fmt::Debug for HelperReply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HelperReply")
            .field("username", &self.username)
            .field("secret", &"***")
            .finish()
    }
}

/// How long a credential helper may take to answer.
const HELPER_TIMEOUT: Duration = Duration::from_secs(30);
/// At most this much of a helper's stdout or stderr is read.
const HELPER_OUTPUT_LIMIT: u64 = 1 << 20;

/// Variables a credential helper gets (the environment is cleared first: a helper never sees
/// `ACTIONS_ID_TOKEN_REQUEST_TOKEN`, `AZURE_CLIENT_SECRET` or other tokens of the job), plus
/// those named in `GOLDEN_CREDENTIAL_HELPER_ENV`.
const HELPER_ENV: [&str; 17] = [
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "LANG",
    "TMPDIR",
    "DOCKER_CONFIG",
    "XDG_RUNTIME_DIR",
    "XDG_CONFIG_HOME",
    "XDG_DATA_HOME",
    "DBUS_SESSION_BUS_ADDRESS",
    "DISPLAY",
    "GNUPGHOME",
    "PASSWORD_STORE_DIR",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
];
/// Prefixes passed on as well (the AWS ECR and gcloud helpers' configuration, locale).
const HELPER_ENV_PREFIXES: [&str; 3] = ["AWS_", "CLOUDSDK_", "LC_"];

/// A helper name as the docker CLI accepts it: it becomes part of a program name.
fn valid_helper_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// The environment a helper runs with.
fn helper_env(env: &Env) -> Vec<(String, String)> {
    let extra = env
        .get(ev::GOLDEN_CREDENTIAL_HELPER_ENV)
        .unwrap_or_default();
    let extra: Vec<&str> = extra
        .split([',', ' '])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    env.vars()
        .into_iter()
        .filter(|(k, _)| {
            HELPER_ENV.contains(&k.as_str())
                || HELPER_ENV_PREFIXES.iter().any(|p| k.starts_with(p))
                || extra.contains(&k.as_str())
        })
        .collect()
}

/// Where the docker config lives for `env`.
pub(crate) fn config_path(env: &Env) -> Option<PathBuf> {
    if let Some(dir) = env.get(ev::DOCKER_CONFIG) {
        return Some(PathBuf::from(dir).join("config.json"));
    }
    env.get("HOME")
        .map(|h| PathBuf::from(h).join(".docker").join("config.json"))
}

/// `host[:port]` of a config key (`https://index.docker.io/v1/` → `index.docker.io`).
fn key_host(key: &str) -> String {
    let k = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    k.split('/').next().unwrap_or(k).to_ascii_lowercase()
}

fn is_docker_hub(host: &str) -> bool {
    matches!(
        host,
        "docker.io" | "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com"
    )
}

fn matches(key: &str, registry: &str) -> bool {
    let k = key_host(key);
    let r = registry.to_ascii_lowercase();
    k == r || (is_docker_hub(&k) && is_docker_hub(&r))
}

/// The server URL a helper is asked about.
fn server_url(registry: &str) -> String {
    if is_docker_hub(registry) {
        DOCKER_HUB_KEY.to_string()
    } else {
        registry.to_string()
    }
}

fn run_helper(env: &Env, helper: &str, registry: &str) -> Result<Option<Credential>, AuthError> {
    run_helper_within(env, helper, registry, HELPER_TIMEOUT)
}

/// Read at most [`HELPER_OUTPUT_LIMIT`] bytes of a pipe on a thread (a helper that writes a
/// lot must not block on a full pipe while we wait for it).
fn drain(pipe: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut out = Vec::new();
        if let Some(p) = pipe {
            let _ = p.take(HELPER_OUTPUT_LIMIT).read_to_end(&mut out);
        }
        out
    })
}

fn run_helper_within(
    env: &Env,
    helper: &str,
    registry: &str,
    timeout: Duration,
) -> Result<Option<Credential>, AuthError> {
    let fail = |reason: String| AuthError::CredentialHelper {
        helper: helper.to_string(),
        registry: registry.to_string(),
        reason,
    };
    if !valid_helper_name(helper) {
        return Err(fail(
            "the helper name may only contain letters, digits, `.`, `_` and `-` (it names the program `docker-credential-<name>` on PATH)".into(),
        ));
    }
    let program = format!("docker-credential-{helper}");
    let mut cmd = Command::new(&program);
    // Unix resolves the program with the child's PATH when it is set.
    cmd.env_clear().envs(helper_env(env));
    let mut child = cmd
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| fail(format!("cannot run `{program}`: {e} (is it on PATH?)")))?;
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    if let Some(mut stdin) = child.stdin.take() {
        // A helper that exits without reading its input is judged by its exit status.
        let _ = stdin.write_all(server_url(registry).as_bytes());
    }
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() >= timeout => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(fail(format!(
                    "`{program}` did not answer within {} s (stopped)",
                    timeout.as_secs_f32()
                )));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => return Err(fail(format!("`{program}` did not finish: {e}"))),
        }
    };
    let out = std::process::Output {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    };
    if !out.status.success() {
        let text = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        if text.to_ascii_lowercase().contains("credentials not found") {
            return Ok(None);
        }
        // A helper's error text is about the helper, not the secret; keep it short anyway.
        let short: String = text.trim().chars().take(300).collect();
        return Err(fail(format!("exit status {}: {short}", out.status)));
    }
    let reply: HelperReply = serde_json::from_slice(&out.stdout)
        .map_err(|e| fail(format!("output is not the helper JSON: {e}")))?;
    if reply.secret.is_empty() {
        return Ok(None);
    }
    Ok(Some(if reply.username == "<token>" {
        Credential::RefreshToken(Secret::new(reply.secret))
    } else {
        Credential::Basic {
            username: reply.username,
            password: Secret::new(reply.secret),
        }
    }))
}

fn from_entry(entry: &AuthEntry, path: &str, key: &str) -> Result<Option<Credential>, AuthError> {
    if let Some(t) = entry.identitytoken.as_deref().filter(|t| !t.is_empty()) {
        return Ok(Some(Credential::RefreshToken(Secret::new(t))));
    }
    if let Some(a) = entry.auth.as_deref().filter(|a| !a.is_empty()) {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(a.trim())
            .map_err(|_| AuthError::DockerConfig {
                path: path.to_string(),
                reason: format!("auths.\"{key}\".auth is not base64"),
            })?;
        let text = String::from_utf8(decoded).map_err(|_| AuthError::DockerConfig {
            path: path.to_string(),
            reason: format!("auths.\"{key}\".auth is not UTF-8"),
        })?;
        let (user, pass) = text
            .split_once(':')
            .ok_or_else(|| AuthError::DockerConfig {
                path: path.to_string(),
                reason: format!("auths.\"{key}\".auth is not `user:password`"),
            })?;
        return Ok(Some(credential_for(user, pass)));
    }
    match (entry.username.as_deref(), entry.password.as_deref()) {
        (Some(u), Some(p)) if !p.is_empty() => Ok(Some(credential_for(u, p))),
        _ => Ok(None),
    }
}

fn credential_for(user: &str, pass: &str) -> Credential {
    if user == NULL_GUID_USERNAME {
        Credential::RefreshToken(Secret::new(pass))
    } else {
        Credential::Basic {
            username: user.to_string(),
            password: Secret::new(pass),
        }
    }
}

/// Credentials for `registry` from the docker config, if it has any.
pub(crate) fn from_config(env: &Env, registry: &str) -> Result<Option<Auth>, AuthError> {
    let Some(path) = config_path(env) else {
        return Ok(None);
    };
    let shown = path.display().to_string();
    let text = match std::fs::read(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(AuthError::DockerConfig {
                path: shown,
                reason: e.to_string(),
            });
        }
    };
    let cfg: ConfigFile = serde_json::from_slice(&text).map_err(|e| AuthError::DockerConfig {
        path: shown.clone(),
        reason: format!("not valid JSON: {e}"),
    })?;
    let auth = |credential: Credential, how: String| Auth {
        kind: AuthKind::DockerConfig,
        credential,
        description: format!("docker-config ({shown}, {how})"),
        hosts: super::AuthHosts::default(),
    };
    if let Some((_, helper)) = cfg.cred_helpers.iter().find(|(k, _)| matches(k, registry))
        && let Some(c) = run_helper(env, helper, registry)?
    {
        return Ok(Some(auth(c, format!("credHelpers: {helper}"))));
    }
    for (key, entry) in cfg.auths.iter().filter(|(k, _)| matches(k, registry)) {
        if let Some(c) = from_entry(entry, &shown, key)? {
            let how = match &c {
                Credential::RefreshToken(_) => format!("auths.\"{key}\" identity token"),
                Credential::Basic { username, .. } => format!("auths.\"{key}\" user `{username}`"),
                _ => format!("auths.\"{key}\""),
            };
            return Ok(Some(auth(c, how)));
        }
    }
    if let Some(store) = cfg.creds_store.as_deref().filter(|s| !s.is_empty())
        && let Some(c) = run_helper(env, store, registry)?
    {
        return Ok(Some(auth(c, format!("credsStore: {store}"))));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_config(dir: &std::path::Path, json: &str) -> Env {
        std::fs::write(dir.join("config.json"), json).unwrap();
        Env::from_pairs([("DOCKER_CONFIG", dir.display().to_string())])
    }

    #[test]
    fn reads_auths_identity_tokens_and_hub_aliases() {
        let dir = tempfile::tempdir().unwrap();
        let b64 = base64::engine::general_purpose::STANDARD.encode("alice:pw1");
        let env = write_config(
            dir.path(),
            &format!(
                r#"{{"auths":{{
                "127.0.0.1:5000":{{"auth":"{b64}"}},
                "https://myacr.azurecr.io":{{"identitytoken":"rt-1"}},
                "https://index.docker.io/v1/":{{"username":"bob","password":"pw2"}}
            }}}}"#
            ),
        );
        let a = from_config(&env, "127.0.0.1:5000").unwrap().unwrap();
        match &a.credential {
            Credential::Basic { username, password } => {
                assert_eq!((username.as_str(), password.expose()), ("alice", "pw1"))
            }
            other => panic!("{other:?}"),
        }
        assert!(a.description.contains("user `alice`") && !a.description.contains("pw1"));
        let a = from_config(&env, "myacr.azurecr.io").unwrap().unwrap();
        assert!(matches!(&a.credential, Credential::RefreshToken(t) if t.expose() == "rt-1"));
        let a = from_config(&env, "docker.io").unwrap().unwrap();
        assert!(matches!(&a.credential, Credential::Basic { username, .. } if username == "bob"));
        assert!(from_config(&env, "other.example").unwrap().is_none());
    }

    #[test]
    fn null_guid_user_means_refresh_token() {
        let dir = tempfile::tempdir().unwrap();
        let b64 =
            base64::engine::general_purpose::STANDARD.encode(format!("{NULL_GUID_USERNAME}:rt-2"));
        let env = write_config(
            dir.path(),
            &format!(r#"{{"auths":{{"r.azurecr.io":{{"auth":"{b64}"}}}}}}"#),
        );
        let a = from_config(&env, "r.azurecr.io").unwrap().unwrap();
        assert!(matches!(&a.credential, Credential::RefreshToken(t) if t.expose() == "rt-2"));
    }

    #[test]
    fn bad_config_names_the_file_and_field() {
        let dir = tempfile::tempdir().unwrap();
        let env = write_config(dir.path(), r#"{"auths":{"r":{"auth":"%%%"}}}"#);
        let e = from_config(&env, "r").unwrap_err().to_string();
        assert!(
            e.contains("config.json") && e.contains("auths.\"r\".auth"),
            "{e}"
        );
        let env = write_config(dir.path(), "{not json");
        let e = from_config(&env, "r").unwrap_err().to_string();
        assert!(e.contains("not valid JSON"), "{e}");
    }

    #[test]
    fn missing_helper_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let env = write_config(
            dir.path(),
            r#"{"credHelpers":{"r.example":"golden-none-such"}}"#,
        );
        let e = from_config(&env, "r.example").unwrap_err().to_string();
        assert!(e.contains("docker-credential-golden-none-such"), "{e}");
    }

    #[test]
    fn helper_protocol_token_and_basic() {
        let dir = tempfile::tempdir().unwrap();
        let helper = dir.path().join("docker-credential-goldentest");
        std::fs::write(
            &helper,
            "#!/bin/sh\nread -r server\ncase \"$server\" in\n  tok.example) echo '{\"ServerURL\":\"tok.example\",\"Username\":\"<token>\",\"Secret\":\"id-tok\"}' ;;\n  basic.example) echo '{\"ServerURL\":\"basic.example\",\"Username\":\"u\",\"Secret\":\"p\"}' ;;\n  *) echo 'credentials not found in native keychain'; exit 1 ;;\nesac\n",
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::write(
            dir.path().join("config.json"),
            r#"{"credHelpers":{"tok.example":"goldentest","basic.example":"goldentest"},"credsStore":"goldentest"}"#,
        )
        .unwrap();
        let path = format!("{}:/usr/bin:/bin", dir.path().display());
        let env = Env::from_pairs([
            ("DOCKER_CONFIG", dir.path().display().to_string()),
            ("PATH", path),
        ]);
        let a = from_config(&env, "tok.example").unwrap().unwrap();
        assert!(matches!(&a.credential, Credential::RefreshToken(t) if t.expose() == "id-tok"));
        assert!(
            a.description.contains("credHelpers: goldentest"),
            "{}",
            a.description
        );
        let a = from_config(&env, "basic.example").unwrap().unwrap();
        assert!(matches!(&a.credential, Credential::Basic { username, .. } if username == "u"));
        // credsStore answers "not found" for anything else: no credentials, no error.
        assert!(from_config(&env, "other.example").unwrap().is_none());
    }

    fn helper_dir(script: &str) -> (tempfile::TempDir, String) {
        let dir = tempfile::tempdir().unwrap();
        let helper = dir.path().join("docker-credential-goldentest");
        std::fs::write(&helper, script).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
        let path = format!("{}:/usr/bin:/bin", dir.path().display());
        (dir, path)
    }

    #[test]
    fn debug_output_never_shows_config_secrets() {
        let cfg: ConfigFile = serde_json::from_str(
            r#"{"auths":{"r":{"auth":"dTpzM2NyM3QtYXV0aA==","username":"u","password":"s3cr3t-pw","identitytoken":"s3cr3t-idt"}}}"#,
        )
        .unwrap();
        let shown = format!("{cfg:?}");
        for secret in ["dTpzM2NyM3QtYXV0aA==", "s3cr3t-pw", "s3cr3t-idt"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(shown.contains("password: Some(***)"), "{shown}");
        let reply: HelperReply =
            serde_json::from_str(r#"{"Username":"u","Secret":"s3cr3t-helper"}"#).unwrap();
        assert!(!format!("{reply:?}").contains("s3cr3t-helper"));
    }

    #[test]
    fn helper_names_are_validated_before_anything_runs() {
        for bad in ["../../tmp/x", "a/b", "a b", "x;rm", ""] {
            let e = run_helper(&Env::from_pairs([("PATH", "/usr/bin:/bin")]), bad, "r")
                .unwrap_err()
                .to_string();
            assert!(e.contains("may only contain letters"), "{bad}: {e}");
        }
        assert!(valid_helper_name("ecr-login") && valid_helper_name("acr_env.v2"));
    }

    #[test]
    fn a_helper_that_hangs_is_stopped() {
        let (_dir, path) = helper_dir("#!/bin/sh\nexec sleep 30\n");
        let env = Env::from_pairs([("PATH", path)]);
        let started = Instant::now();
        let e = run_helper_within(&env, "goldentest", "r.example", Duration::from_millis(300))
            .unwrap_err()
            .to_string();
        assert!(e.contains("did not answer within"), "{e}");
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn helpers_run_with_a_cleared_environment() {
        // The helper answers with the names of the variables it sees.
        let (_dir, path) = helper_dir(
            "#!/bin/sh\nread -r server\nnames=$(env | cut -d= -f1 | sort | tr '\\n' ' ')\nprintf '{\"Username\":\"u\",\"Secret\":\"%s\"}' \"$names\"\n",
        );
        let env = Env::from_pairs([
            ("PATH", path.clone()),
            ("HOME", "/home/golden".into()),
            ("AWS_REGION", "eu-west-1".into()),
            ("AZURE_CLIENT_SECRET", "sp-secret".into()),
            ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "req-token".into()),
            ("GOLDEN_REGISTRY_PASSWORD", "pw".into()),
            ("EXTRA_FOR_HELPER", "1".into()),
            ("GOLDEN_CREDENTIAL_HELPER_ENV", "EXTRA_FOR_HELPER".into()),
        ]);
        let seen = match run_helper(&env, "goldentest", "r.example")
            .unwrap()
            .unwrap()
        {
            Credential::Basic { password, .. } => password.expose().to_string(),
            other => panic!("{other:?}"),
        };
        let seen: Vec<&str> = seen
            .split_whitespace()
            .filter(|n| !["PWD", "SHLVL", "_", "OLDPWD"].contains(n))
            .collect();
        assert_eq!(seen, ["AWS_REGION", "EXTRA_FOR_HELPER", "HOME", "PATH"]);
        // The process environment is not inherited either (cargo sets CARGO_* for tests).
        let (_dir2, path2) = helper_dir(
            "#!/bin/sh\nprintf '{\"Username\":\"u\",\"Secret\":\"[%s]\"}' \"$CARGO_PKG_NAME\"\n",
        );
        let _ = path;
        let a = run_helper(&Env::from_pairs([("PATH", path2)]), "goldentest", "r").unwrap();
        assert!(
            matches!(&a, Some(Credential::Basic { password, .. }) if password.expose() == "[]"),
            "{a:?}"
        );
    }
}
