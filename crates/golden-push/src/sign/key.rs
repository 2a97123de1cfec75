//! Signing keys: PEM PKCS#8 private keys (ECDSA P-256 or Ed25519) and PEM SubjectPublicKeyInfo
//! public keys, through aws-lc-rs (the crypto rustls already builds). A key's `hint` is the
//! base64 sha256 of its DER SubjectPublicKeyInfo, as cosign writes it into a bundle's
//! `verificationMaterial.publicKey.hint`.

use std::path::Path;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_ASN1, ECDSA_P256_SHA256_ASN1_SIGNING, ED25519, EcdsaKeyPair, Ed25519KeyPair,
    KeyPair, UnparsedPublicKey,
};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};

/// DER SubjectPublicKeyInfo up to the BIT STRING's content: id-ecPublicKey, prime256v1.
const P256_SPKI_PREFIX: &[u8] = &[
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];
/// DER SubjectPublicKeyInfo up to the BIT STRING's content: id-Ed25519.
const ED25519_SPKI_PREFIX: &[u8] = &[
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

/// Why a key could not be used; the message names the file and says what to give.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct KeyError(pub String);

/// Signature algorithm of a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// ECDSA on P-256 with SHA-256, ASN.1 DER signatures.
    EcdsaP256Sha256,
    Ed25519,
}

impl Algorithm {
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::EcdsaP256Sha256 => "ecdsa-p256-sha256",
            Algorithm::Ed25519 => "ed25519",
        }
    }
}

/// One PEM block: its label and DER bytes.
fn pem_block(text: &str, what: &str) -> Result<(String, Vec<u8>), KeyError> {
    let start = text.find("-----BEGIN ").ok_or_else(|| {
        KeyError(format!(
            "{what} is not a PEM file (no `-----BEGIN ...-----` line)"
        ))
    })?;
    let rest = &text[start + 11..];
    let label_end = rest
        .find("-----")
        .ok_or_else(|| KeyError(format!("{what}: the BEGIN line of the PEM block is cut")))?;
    let label = rest[..label_end].to_string();
    let body = &rest[label_end + 5..];
    let end_marker = format!("-----END {label}-----");
    let end = body
        .find(&end_marker)
        .ok_or_else(|| KeyError(format!("{what}: no `{end_marker}` line")))?;
    let b64: String = body[..end]
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.contains(':'))
        .collect();
    let der = STANDARD.decode(b64.as_bytes()).map_err(|e| {
        KeyError(format!(
            "{what}: the PEM block `{label}` is not base64 ({e})"
        ))
    })?;
    Ok((label, der))
}

fn to_pem(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// A public key that verifies bundles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    pub algorithm: Algorithm,
    /// DER SubjectPublicKeyInfo.
    pub spki: Vec<u8>,
    /// Where it came from (a file name), for messages.
    pub source: String,
}

impl PublicKey {
    /// From DER SubjectPublicKeyInfo.
    pub fn from_spki(spki: Vec<u8>, source: &str) -> Result<PublicKey, KeyError> {
        let algorithm = if spki.len() == P256_SPKI_PREFIX.len() + 65
            && spki.starts_with(P256_SPKI_PREFIX)
        {
            Algorithm::EcdsaP256Sha256
        } else if spki.len() == ED25519_SPKI_PREFIX.len() + 32
            && spki.starts_with(ED25519_SPKI_PREFIX)
        {
            Algorithm::Ed25519
        } else {
            return Err(KeyError(format!(
                "{source}: not an ECDSA P-256 or Ed25519 public key (the only kinds golden-push verifies)"
            )));
        };
        Ok(PublicKey {
            algorithm,
            spki,
            source: source.to_string(),
        })
    }

    /// From a PEM `PUBLIC KEY` block.
    pub fn from_pem(text: &str, source: &str) -> Result<PublicKey, KeyError> {
        let (label, der) = pem_block(text, source)?;
        if label != "PUBLIC KEY" {
            return Err(KeyError(format!(
                "{source}: a `{label}` PEM block where a `PUBLIC KEY` is expected (give the .pub file; `openssl pkey -in KEY -pubout` writes one)"
            )));
        }
        PublicKey::from_spki(der, source)
    }

    pub fn read(path: &Path) -> Result<PublicKey, KeyError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            KeyError(format!(
                "failed to read the public key `{}`: {e}",
                path.display()
            ))
        })?;
        PublicKey::from_pem(&text, &format!("`{}`", path.display()))
    }

    fn raw(&self) -> &[u8] {
        match self.algorithm {
            Algorithm::EcdsaP256Sha256 => &self.spki[P256_SPKI_PREFIX.len()..],
            Algorithm::Ed25519 => &self.spki[ED25519_SPKI_PREFIX.len()..],
        }
    }

    /// True when `signature` is this key's signature of `message`.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        let alg: &dyn aws_lc_rs::signature::VerificationAlgorithm = match self.algorithm {
            Algorithm::EcdsaP256Sha256 => &ECDSA_P256_SHA256_ASN1,
            Algorithm::Ed25519 => &ED25519,
        };
        UnparsedPublicKey::new(alg, self.raw())
            .verify(message, signature)
            .is_ok()
    }

    /// base64(sha256(DER SubjectPublicKeyInfo)): the bundle's `publicKey.hint`.
    pub fn hint(&self) -> String {
        STANDARD.encode(Sha256::digest(&self.spki))
    }

    /// `SHA256:<hex>` of the DER SubjectPublicKeyInfo, for people.
    pub fn fingerprint(&self) -> String {
        format!("SHA256:{}", hex::encode(Sha256::digest(&self.spki)))
    }

    pub fn to_pem(&self) -> String {
        to_pem("PUBLIC KEY", &self.spki)
    }
}

/// A private key held in this process.
pub enum LocalKey {
    Ecdsa(EcdsaKeyPair),
    Ed25519(Ed25519KeyPair),
}

impl std::fmt::Debug for LocalKey {
    // Never the key material.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            LocalKey::Ecdsa(_) => "LocalKey(ecdsa-p256)",
            LocalKey::Ed25519(_) => "LocalKey(ed25519)",
        })
    }
}

impl LocalKey {
    /// From a PEM `PRIVATE KEY` (PKCS#8) block; `source` names it in errors (never its content).
    pub fn from_pem(text: &str, source: &str) -> Result<LocalKey, KeyError> {
        let (label, der) = pem_block(text, source)?;
        match label.as_str() {
            "PRIVATE KEY" => {}
            "EC PRIVATE KEY" => {
                return Err(KeyError(format!(
                    "{source}: a SEC1 `EC PRIVATE KEY`; give a PKCS#8 `PRIVATE KEY` (convert with `openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.p8`)"
                )));
            }
            "ENCRYPTED PRIVATE KEY" => {
                return Err(KeyError(format!(
                    "{source}: an encrypted private key; give an unencrypted PKCS#8 key (from a secret), or use Azure Key Vault"
                )));
            }
            other => {
                return Err(KeyError(format!(
                    "{source}: a `{other}` PEM block where a PKCS#8 `PRIVATE KEY` is expected"
                )));
            }
        }
        if let Ok(k) = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &der) {
            return Ok(LocalKey::Ecdsa(k));
        }
        if let Ok(k) = Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der) {
            return Ok(LocalKey::Ed25519(k));
        }
        Err(KeyError(format!(
            "{source}: the PKCS#8 key is neither ECDSA P-256 nor Ed25519 (generate one with `golden-push keygen FILE`)"
        )))
    }

    pub fn read(path: &Path) -> Result<LocalKey, KeyError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            KeyError(format!(
                "failed to read the signing key `{}`: {e}",
                path.display()
            ))
        })?;
        LocalKey::from_pem(&text, &format!("the signing key `{}`", path.display()))
    }

    /// A new ECDSA P-256 key as PEM PKCS#8.
    pub fn generate_p256_pem() -> Result<String, KeyError> {
        let doc =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &SystemRandom::new())
                .map_err(|_| KeyError("failed to generate an ECDSA P-256 key".into()))?;
        Ok(to_pem("PRIVATE KEY", doc.as_ref()))
    }

    pub fn public_key(&self, source: &str) -> PublicKey {
        let (algorithm, prefix, raw) = match self {
            LocalKey::Ecdsa(k) => (
                Algorithm::EcdsaP256Sha256,
                P256_SPKI_PREFIX,
                k.public_key().as_ref().to_vec(),
            ),
            LocalKey::Ed25519(k) => (
                Algorithm::Ed25519,
                ED25519_SPKI_PREFIX,
                k.public_key().as_ref().to_vec(),
            ),
        };
        let mut spki = prefix.to_vec();
        spki.extend_from_slice(&raw);
        PublicKey {
            algorithm,
            spki,
            source: source.to_string(),
        }
    }

    /// Sign `message` (ECDSA: SHA-256 then a DER signature; Ed25519: the message itself).
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        match self {
            LocalKey::Ecdsa(k) => k
                .sign(&SystemRandom::new(), message)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| KeyError("ECDSA signing failed".into())),
            LocalKey::Ed25519(k) => Ok(k.sign(message).as_ref().to_vec()),
        }
    }
}

/// Convert a raw `r || s` ECDSA P-256 signature (JOSE/Key Vault form, 64 bytes) to ASN.1 DER.
pub fn p256_raw_to_der(raw: &[u8]) -> Result<Vec<u8>, KeyError> {
    if raw.len() != 64 {
        return Err(KeyError(format!(
            "an ES256 signature is 64 bytes (r || s), got {}",
            raw.len()
        )));
    }
    fn int(x: &[u8]) -> Vec<u8> {
        let mut v: Vec<u8> = x.iter().copied().skip_while(|b| *b == 0).collect();
        if v.is_empty() || v[0] & 0x80 != 0 {
            v.insert(0, 0);
        }
        let mut out = vec![0x02, v.len() as u8];
        out.extend(v);
        out
    }
    let (r, s) = (int(&raw[..32]), int(&raw[32..]));
    let mut out = vec![0x30, (r.len() + s.len()) as u8];
    out.extend(r);
    out.extend(s);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p256_sign_verify_and_pem_round_trip() {
        let pem = LocalKey::generate_p256_pem().unwrap();
        let k = LocalKey::from_pem(&pem, "k").unwrap();
        let p = k.public_key("k");
        assert_eq!(p.algorithm, Algorithm::EcdsaP256Sha256);
        let back = PublicKey::from_pem(&p.to_pem(), "p").unwrap();
        assert_eq!(back.spki, p.spki);
        let sig = k.sign(b"hello").unwrap();
        assert!(back.verify(b"hello", &sig));
        assert!(!back.verify(b"hellO", &sig));
        assert_eq!(p.hint().len(), 44);
        assert!(p.fingerprint().starts_with("SHA256:"));
    }

    #[test]
    fn ed25519_pkcs8_from_openssl_form() {
        // `openssl genpkey -algorithm ed25519`: PKCS#8 v1 without the public key.
        let seed = [7u8; 32];
        let mut der = vec![
            0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22,
            0x04, 0x20,
        ];
        der.extend_from_slice(&seed);
        let k = LocalKey::from_pem(&to_pem("PRIVATE KEY", &der), "k").unwrap();
        let p = k.public_key("k");
        assert_eq!(p.algorithm, Algorithm::Ed25519);
        let sig = k.sign(b"m").unwrap();
        assert!(p.verify(b"m", &sig));
        let other = LocalKey::from_pem(&LocalKey::generate_p256_pem().unwrap(), "o")
            .unwrap()
            .public_key("o");
        assert!(!other.verify(b"m", &sig));
    }

    #[test]
    fn bad_keys_are_named_with_a_hint() {
        let e = LocalKey::from_pem("nothing", "the signing key `k.pem`").unwrap_err();
        assert!(e.0.contains("k.pem") && e.0.contains("not a PEM"), "{e}");
        let e = LocalKey::from_pem(&to_pem("EC PRIVATE KEY", &[1, 2]), "k").unwrap_err();
        assert!(e.0.contains("openssl pkcs8 -topk8"), "{e}");
        let e = LocalKey::from_pem(&to_pem("PRIVATE KEY", &[1, 2]), "k").unwrap_err();
        assert!(e.0.contains("neither ECDSA P-256 nor Ed25519"), "{e}");
        let e = PublicKey::from_pem(&to_pem("PRIVATE KEY", &[1]), "p").unwrap_err();
        assert!(e.0.contains("PUBLIC KEY"), "{e}");
        let e = PublicKey::from_pem(&to_pem("PUBLIC KEY", &[1]), "p").unwrap_err();
        assert!(e.0.contains("not an ECDSA P-256 or Ed25519"), "{e}");
    }

    #[test]
    fn raw_ecdsa_signatures_become_der_that_verifies() {
        // Sign, turn the DER into r||s by hand, and back: the result must verify.
        let k = LocalKey::from_pem(&LocalKey::generate_p256_pem().unwrap(), "k").unwrap();
        let p = k.public_key("k");
        for _ in 0..8 {
            let der = k.sign(b"x").unwrap();
            let (r, rest) = der_int(&der[2..]);
            let (s, _) = der_int(rest);
            let mut raw = [0u8; 64];
            raw[32 - r.len()..32].copy_from_slice(r);
            raw[64 - s.len()..].copy_from_slice(s);
            let back = p256_raw_to_der(&raw).unwrap();
            assert_eq!(back, der);
            assert!(p.verify(b"x", &back));
        }
        assert!(p256_raw_to_der(&[0; 10]).is_err());
    }

    fn der_int(b: &[u8]) -> (&[u8], &[u8]) {
        let len = b[1] as usize;
        let v = &b[2..2 + len];
        let v = if v[0] == 0 { &v[1..] } else { v };
        (v, &b[2 + len..])
    }
}
