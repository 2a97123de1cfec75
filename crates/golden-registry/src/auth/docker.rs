//! Docker CLI credentials: `$DOCKER_CONFIG/config.json` (default `~/.docker/config.json`).
//!
//! Lookup for a registry, like the docker CLI: `credHelpers[registry]`, then an `auths` entry
//! (`auth` = base64 `user:password`, or `username`/`password`, or `identitytoken` which is a
//! refresh token — ACR's `docker login` stores its refresh token there), then `credsStore`.
//! Helpers are run as `docker-credential-<name> get` with the server URL on stdin; a
//! `Username` of `<token>` means `Secret` is an identity (refresh) token.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

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

#[derive(Debug, Default, Deserialize)]
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

#[derive(Debug, Deserialize)]
struct HelperReply {
    #[serde(rename = "Username", default)]
    username: String,
    #[serde(rename = "Secret", default)]
    secret: String,
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
    let program = format!("docker-credential-{helper}");
    let fail = |reason: String| AuthError::CredentialHelper {
        helper: helper.to_string(),
        registry: registry.to_string(),
        reason,
    };
    let mut cmd = Command::new(&program);
    if let Some(path) = env.get("PATH") {
        // Unix resolves the program with the child's PATH when it is set.
        cmd.env("PATH", path);
    }
    let mut child = cmd
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| fail(format!("cannot run `{program}`: {e} (is it on PATH?)")))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(server_url(registry).as_bytes())
            .map_err(|e| fail(format!("cannot write to `{program}`: {e}")))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| fail(format!("`{program}` did not finish: {e}")))?;
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
}
