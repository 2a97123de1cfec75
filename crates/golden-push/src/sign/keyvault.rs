//! Azure Key Vault as the signer: the private key never leaves the vault. The key's public half
//! is read once (`GET {key-id}?api-version=7.4`, a P-256 JWK), then each signature is the REST
//! `sign` operation: `POST {key-id}/sign?api-version=7.4` with `{"alg":"ES256","value":
//! base64url(sha256(message))}` → `{"kid","value": base64url(r || s)}`, turned into the DER
//! form bundles carry. The bearer token is an Entra token for `https://vault.azure.net/.default`
//! from the same GitHub OIDC federation (or service principal) the push uses
//! ([`golden_registry::Client::entra_token`]).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use golden_registry::Secret;
use reqwest::Url;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::bundle::Sign;
use super::key::{KeyError, PublicKey, p256_raw_to_der};

/// Entra scope of Azure Key Vault.
pub const VAULT_SCOPE: &str = "https://vault.azure.net/.default";
/// Key Vault REST API version used.
pub const API_VERSION: &str = "7.4";

/// A Key Vault key that signs.
#[derive(Debug)]
pub struct KeyVaultSigner {
    /// The versioned key id the vault answered (`https://V.vault.azure.net/keys/NAME/VERSION`).
    pub key_id: Url,
    token: Secret,
    public: PublicKey,
    http: reqwest::Client,
}

#[derive(Deserialize)]
struct KeyBundle {
    key: Jwk,
}

#[derive(Deserialize)]
struct Jwk {
    kid: String,
    kty: String,
    #[serde(default)]
    crv: Option<String>,
    #[serde(default)]
    x: Option<String>,
    #[serde(default)]
    y: Option<String>,
}

#[derive(Deserialize)]
struct SignResult {
    value: String,
}

/// Parse and check `AZURE_KEYVAULT_KEY_ID`: https (plain http only on loopback, for tests).
pub fn parse_key_id(text: &str) -> Result<Url, KeyError> {
    let hint = "(https://VAULT.vault.azure.net/keys/NAME[/VERSION])";
    let url = Url::parse(text.trim()).map_err(|e| {
        KeyError(format!(
            "AZURE_KEYVAULT_KEY_ID `{text}` is not a URL {hint}: {e}"
        ))
    })?;
    let loopback = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    if url.scheme() != "https" && !(url.scheme() == "http" && loopback) {
        return Err(KeyError(format!(
            "AZURE_KEYVAULT_KEY_ID `{text}` must be https {hint}"
        )));
    }
    if !url.path().contains("/keys/") || url.query().is_some() {
        return Err(KeyError(format!(
            "AZURE_KEYVAULT_KEY_ID `{text}` is not a key id {hint}"
        )));
    }
    Ok(url)
}

fn with_path(base: &Url, suffix: &str) -> Url {
    let mut u = base.clone();
    let path = format!("{}{suffix}", base.path().trim_end_matches('/'));
    u.set_path(&path);
    u.query_pairs_mut().append_pair("api-version", API_VERSION);
    u
}

fn b64(field: &str, v: &Option<String>) -> Result<Vec<u8>, KeyError> {
    let v = v
        .as_deref()
        .ok_or_else(|| KeyError(format!("the Key Vault key has no `{field}`")))?;
    URL_SAFE_NO_PAD
        .decode(v.trim_end_matches('='))
        .map_err(|e| {
            KeyError(format!(
                "the Key Vault key's `{field}` is not base64url: {e}"
            ))
        })
}

impl KeyVaultSigner {
    /// Read the key's public half with `token` (an Entra token for [`VAULT_SCOPE`]).
    pub async fn connect(key_id: Url, token: Secret) -> Result<KeyVaultSigner, KeyError> {
        let http = reqwest::Client::builder()
            .user_agent(format!("golden-push/{}", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| KeyError(format!("cannot build the HTTP client: {e}")))?;
        let url = with_path(&key_id, "");
        let resp = http
            .get(url)
            .bearer_auth(token.expose())
            .send()
            .await
            .map_err(|e| KeyError(format!("failed to read the Key Vault key {key_id}: {e}")))?;
        let status = resp.status();
        let body = resp.bytes().await.unwrap_or_default();
        if !status.is_success() {
            return Err(KeyError(format!(
                "Key Vault refused to read the key {key_id}: {status}: {}{}",
                String::from_utf8_lossy(&body[..body.len().min(300)]).replace('\n', " "),
                if status.as_u16() == 403 {
                    "; hint: the identity needs the `get` and `sign` key permissions (role Key Vault Crypto User)"
                } else {
                    ""
                }
            )));
        }
        let kb: KeyBundle = serde_json::from_slice(&body).map_err(|e| {
            KeyError(format!(
                "Key Vault's answer for {key_id} is not a key bundle: {e}"
            ))
        })?;
        let k = kb.key;
        if !(k.kty == "EC" || k.kty == "EC-HSM") || k.crv.as_deref() != Some("P-256") {
            return Err(KeyError(format!(
                "the Key Vault key {key_id} is {} {}; golden-push signs with EC P-256 keys (ES256)",
                k.kty,
                k.crv.as_deref().unwrap_or("")
            )));
        }
        let (x, y) = (b64("x", &k.x)?, b64("y", &k.y)?);
        if x.len() != 32 || y.len() != 32 {
            return Err(KeyError(format!(
                "the Key Vault key {key_id} has a malformed P-256 point"
            )));
        }
        let mut spki = vec![
            0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06,
            0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04,
        ];
        spki.extend(x);
        spki.extend(y);
        let public = PublicKey::from_spki(spki, &k.kid)?;
        let key_id = parse_key_id(&k.kid).unwrap_or(key_id);
        Ok(KeyVaultSigner {
            key_id,
            token,
            public,
            http,
        })
    }
}

impl Sign for KeyVaultSigner {
    fn public_key(&self) -> &PublicKey {
        &self.public
    }

    async fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        let url = with_path(&self.key_id, "/sign");
        let body = serde_json::json!({
            "alg": "ES256",
            "value": URL_SAFE_NO_PAD.encode(Sha256::digest(message)),
        });
        let resp = self
            .http
            .post(url)
            .bearer_auth(self.token.expose())
            .json(&body)
            .send()
            .await
            .map_err(|e| KeyError(format!("Key Vault sign with {}: {e}", self.key_id)))?;
        let status = resp.status();
        let bytes = resp.bytes().await.unwrap_or_default();
        if !status.is_success() {
            return Err(KeyError(format!(
                "Key Vault refused to sign with {}: {status}: {}",
                self.key_id,
                String::from_utf8_lossy(&bytes[..bytes.len().min(300)]).replace('\n', " ")
            )));
        }
        let r: SignResult = serde_json::from_slice(&bytes).map_err(|e| {
            KeyError(format!(
                "Key Vault's sign answer is not {{kid, value}}: {e}"
            ))
        })?;
        let raw = URL_SAFE_NO_PAD
            .decode(r.value.trim_end_matches('='))
            .map_err(|e| KeyError(format!("Key Vault's signature is not base64url: {e}")))?;
        let der = p256_raw_to_der(&raw)?;
        // Never attach a signature that does not verify (a wrong key version, a broken vault).
        if !self.public.verify(message, &der) {
            return Err(KeyError(format!(
                "Key Vault's signature does not verify with the public key of {}",
                self.key_id
            )));
        }
        Ok(der)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_ids_are_checked() {
        assert!(parse_key_id("https://v.vault.azure.net/keys/golden/0123").is_ok());
        assert!(parse_key_id("http://127.0.0.1:8080/keys/golden").is_ok());
        let e = parse_key_id("http://v.vault.azure.net/keys/golden").unwrap_err();
        assert!(e.0.contains("must be https"), "{e}");
        let e = parse_key_id("https://v.vault.azure.net/secrets/golden").unwrap_err();
        assert!(e.0.contains("not a key id"), "{e}");
        assert!(parse_key_id("golden").is_err());
    }
}
