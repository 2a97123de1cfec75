//! `golden-push login REGISTRY`: the credential golden-push itself would use for REGISTRY,
//! written to the Docker CLI config, for tools that only read that file (GitHub's
//! `actions/attest-build-provenance` with `push-to-registry`, `docker pull`, `oras`). An ACR
//! reached through GitHub OIDC or a service principal gets its exchanged refresh token under the
//! null-GUID user (what `az acr login` / `docker login -u 00000000-…` store); a username and
//! password are written as they are. The file keeps every other entry and is replaced atomically
//! with mode 0600; the secret is masked inside GitHub Actions and never printed.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use golden_registry::{Client, Credential, NULL_GUID_USERNAME};

use crate::error::{Error, Result};

/// The Docker CLI config folder: `--docker-config`, else `$DOCKER_CONFIG`, else `~/.docker`.
pub fn config_dir(flag: Option<&Path>) -> Result<PathBuf> {
    if let Some(p) = flag {
        return Ok(p.to_path_buf());
    }
    if let Some(d) = std::env::var_os("DOCKER_CONFIG").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(d));
    }
    match std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        Some(h) => Ok(PathBuf::from(h).join(".docker")),
        None => Err(Error::Usage(
            "neither --docker-config, DOCKER_CONFIG nor HOME is set: give --docker-config DIR"
                .into(),
        )),
    }
}

/// `config.json` text with `auths[registry].auth` set to `user:secret`, every other key kept.
pub fn merged_config(
    existing: Option<&str>,
    registry: &str,
    user: &str,
    secret: &str,
) -> Result<String> {
    let mut doc: serde_json::Value = match existing.map(str::trim).filter(|t| !t.is_empty()) {
        None => serde_json::json!({}),
        Some(t) => serde_json::from_str(t).map_err(|source| Error::Json {
            what: "the existing Docker config is not JSON (fix or remove it)".into(),
            source,
        })?,
    };
    let Some(obj) = doc.as_object_mut() else {
        return Err(Error::Usage(
            "the existing Docker config is not a JSON object (fix or remove it)".into(),
        ));
    };
    let auths = obj.entry("auths").or_insert_with(|| serde_json::json!({}));
    let Some(auths) = auths.as_object_mut() else {
        return Err(Error::Usage(
            "`auths` in the existing Docker config is not an object (fix or remove it)".into(),
        ));
    };
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{secret}"));
    auths.insert(registry.to_string(), serde_json::json!({ "auth": auth }));
    let mut text = serde_json::to_string_pretty(&doc)?;
    text.push('\n');
    Ok(text)
}

/// Log in: resolve the credential for `registry` and write it to `dir/config.json`.
pub async fn login(client: &Client, registry: &str, dir: &Path) -> Result<(PathBuf, &'static str)> {
    let credential = client
        .login_credential(registry)
        .await
        .map_err(Error::registry_at(format!(
            "failed to log in to {registry}"
        )))?;
    let (user, secret, kind) = match credential {
        Credential::Basic { username, password } => (
            username,
            password.expose().to_string(),
            "username and password",
        ),
        Credential::RefreshToken(rt) => (
            NULL_GUID_USERNAME.to_string(),
            rt.expose().to_string(),
            "registry refresh token",
        ),
        Credential::AccessToken(_) => {
            return Err(Error::Usage(format!(
                "the credential for {registry} is an access token, which the Docker config cannot hold: use GitHub OIDC, a service principal, GOLDEN_ACR_REFRESH_TOKEN or a username and password"
            )));
        }
        Credential::Anonymous | Credential::Azure(_) => {
            return Err(Error::Usage(format!(
                "no credentials were found for {registry}: in GitHub Actions give the job `permissions: id-token: write` and set AZURE_CLIENT_ID and AZURE_TENANT_ID, or set GOLDEN_REGISTRY_USERNAME/GOLDEN_REGISTRY_PASSWORD"
            )));
        }
    };
    if golden_gha::in_actions() {
        golden_gha::add_mask(&secret);
    }
    let path = dir.join("config.json");
    let existing = match std::fs::read_to_string(&path) {
        Ok(t) => Some(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            return Err(Error::file(format!("failed to read `{}`", path.display()))(
                e,
            ));
        }
    };
    let text = merged_config(existing.as_deref(), registry, &user, &secret)?;
    std::fs::create_dir_all(dir)
        .map_err(Error::file(format!("failed to create `{}`", dir.display())))?;
    golden_contracts::write_atomic(&path, text.as_bytes())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).map_err(
            Error::file(format!("failed to restrict `{}`", path.display())),
        )?;
    }
    Ok((path, kind))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_entry_is_added_and_the_rest_kept() {
        let old = r#"{"auths": {"other.io": {"auth": "eDp5"}}, "credHelpers": {"x.io": "acr"}}"#;
        let text = merged_config(Some(old), "r.azurecr.io", NULL_GUID_USERNAME, "rt").unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["auths"]["other.io"]["auth"], "eDp5");
        assert_eq!(v["credHelpers"]["x.io"], "acr");
        let auth = v["auths"]["r.azurecr.io"]["auth"].as_str().unwrap();
        let plain = base64::engine::general_purpose::STANDARD
            .decode(auth)
            .unwrap();
        assert_eq!(plain, format!("{NULL_GUID_USERNAME}:rt").as_bytes());
        assert!(
            merged_config(None, "r", "u", "p")
                .unwrap()
                .contains("\"auths\"")
        );
        let e = merged_config(Some("not json"), "r", "u", "p")
            .unwrap_err()
            .to_string();
        assert!(e.contains("not JSON"), "{e}");
        assert!(merged_config(Some("[]"), "r", "u", "p").is_err());
    }
}
