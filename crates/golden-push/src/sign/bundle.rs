//! DSSE envelopes over in-toto Statements v1, in Sigstore bundles v0.3 (the JSON form of the
//! protobuf-specs `Bundle`): what `golden-push sign` writes and `verify` reads.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

use super::key::{KeyError, LocalKey, PublicKey};

/// Media type of a Sigstore bundle v0.3 (also the referrer's artifactType and its layer).
pub const BUNDLE_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
/// DSSE payload type of an in-toto statement.
pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
/// in-toto Statement v1 `_type`.
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
/// Predicate type of an image signature (cosign's, for its bundle-format signatures).
pub const SIGNATURE_PREDICATE: &str = "https://sigstore.dev/cosign/sign/v1";
/// Predicate type of SLSA v1 provenance.
pub const PROVENANCE_PREDICATE: &str = "https://slsa.dev/provenance/v1";

/// in-toto Statement v1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Statement {
    #[serde(rename = "_type")]
    pub type_: String,
    pub subject: Vec<Subject>,
    #[serde(rename = "predicateType")]
    pub predicate_type: String,
    #[serde(default)]
    pub predicate: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subject {
    pub name: String,
    pub digest: BTreeMap<String, String>,
}

impl Statement {
    /// A statement about `name@digest` (`digest` is `sha256:<hex>`).
    pub fn new(
        name: &str,
        digest: &str,
        predicate_type: &str,
        predicate: serde_json::Value,
    ) -> Statement {
        let (alg, hex) = digest.split_once(':').unwrap_or(("sha256", digest));
        Statement {
            type_: STATEMENT_TYPE.to_string(),
            subject: vec![Subject {
                name: name.to_string(),
                digest: BTreeMap::from([(alg.to_string(), hex.to_string())]),
            }],
            predicate_type: predicate_type.to_string(),
            predicate,
        }
    }

    /// True when a subject is `digest` (`sha256:<hex>`).
    pub fn covers(&self, digest: &str) -> bool {
        let Some((alg, hex)) = digest.split_once(':') else {
            return false;
        };
        self.subject.iter().any(|s| {
            s.digest
                .get(alg)
                .is_some_and(|h| h.eq_ignore_ascii_case(hex))
        })
    }
}

/// DSSE pre-authentication encoding: `DSSEv1 SP len(type) SP type SP len(body) SP body`.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {} {} ",
        payload_type.len(),
        payload_type,
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

/// A DSSE envelope (JSON form: base64 payload and signatures).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope {
    pub payload: String,
    pub payload_type: String,
    pub signatures: Vec<EnvelopeSignature>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnvelopeSignature {
    pub sig: String,
    #[serde(default)]
    pub keyid: String,
}

/// A Sigstore bundle v0.3 holding a DSSE envelope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Bundle {
    pub media_type: String,
    pub verification_material: VerificationMaterial,
    pub dsse_envelope: Envelope,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerificationMaterial {
    /// Key-based signing: which key (`hint`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<PublicKeyIdentifier>,
    /// Keyless signing: the leaf certificate (DER, base64 `rawBytes`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<RawBytes>,
    #[serde(default)]
    pub tlog_entries: Vec<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp_verification_data: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublicKeyIdentifier {
    pub hint: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawBytes {
    pub raw_bytes: String,
}

/// Anything that signs bytes: a local key, or Azure Key Vault.
pub trait Sign {
    /// The public key (its hint goes into the bundle).
    fn public_key(&self) -> &PublicKey;
    /// A signature of `message` in the bundle's form (ECDSA: ASN.1 DER over SHA-256).
    fn sign(
        &self,
        message: &[u8],
    ) -> impl std::future::Future<Output = Result<Vec<u8>, KeyError>> + Send;
}

/// A local key with its public half.
#[derive(Debug)]
pub struct KeySigner {
    pub key: LocalKey,
    pub public: PublicKey,
}

impl KeySigner {
    pub fn new(key: LocalKey, source: &str) -> KeySigner {
        let public = key.public_key(source);
        KeySigner { key, public }
    }
}

impl Sign for KeySigner {
    fn public_key(&self) -> &PublicKey {
        &self.public
    }
    async fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        self.key.sign(message)
    }
}

/// Sign `statement` into a bundle.
pub async fn sign_statement<S: Sign>(
    signer: &S,
    statement: &Statement,
) -> Result<Bundle, KeyError> {
    let payload = serde_json::to_vec(statement)
        .map_err(|e| KeyError(format!("failed to encode the statement: {e}")))?;
    let sig = signer.sign(&pae(IN_TOTO_PAYLOAD_TYPE, &payload)).await?;
    Ok(Bundle {
        media_type: BUNDLE_MEDIA_TYPE.to_string(),
        verification_material: VerificationMaterial {
            public_key: Some(PublicKeyIdentifier {
                hint: signer.public_key().hint(),
            }),
            certificate: None,
            tlog_entries: Vec::new(),
            timestamp_verification_data: None,
        },
        dsse_envelope: Envelope {
            payload: STANDARD.encode(&payload),
            payload_type: IN_TOTO_PAYLOAD_TYPE.to_string(),
            signatures: vec![EnvelopeSignature {
                sig: STANDARD.encode(sig),
                keyid: String::new(),
            }],
        },
    })
}

/// Why a bundle did not verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BundleProblem {
    /// Not a v0.3 bundle with an in-toto DSSE envelope (the reason).
    Malformed(String),
    /// No given key made the signature verify (the bundle's hint, for the message).
    NoTrustedKey { hint: Option<String> },
    /// A keyless bundle whose certificate or signature is refused (why).
    Certificate(String),
}

impl std::fmt::Display for BundleProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BundleProblem::Malformed(r) => write!(f, "not a valid bundle: {r}"),
            BundleProblem::NoTrustedKey { hint: Some(h) } => write!(
                f,
                "its signature does not verify with any given key (it names the key {h})"
            ),
            BundleProblem::NoTrustedKey { hint: None } => {
                write!(f, "its signature does not verify with any given key")
            }
            BundleProblem::Certificate(why) => f.write_str(why),
        }
    }
}

/// Parse a bundle's bytes.
pub fn parse_bundle(bytes: &[u8]) -> Result<Bundle, BundleProblem> {
    let b: Bundle = serde_json::from_slice(bytes)
        .map_err(|e| BundleProblem::Malformed(format!("JSON: {e}")))?;
    if b.media_type != BUNDLE_MEDIA_TYPE {
        return Err(BundleProblem::Malformed(format!(
            "mediaType `{}` (expected {BUNDLE_MEDIA_TYPE})",
            b.media_type
        )));
    }
    Ok(b)
}

/// The statement of a bundle, decoded (not verified).
pub fn decode_statement(b: &Bundle) -> Result<(Vec<u8>, Statement), BundleProblem> {
    if b.dsse_envelope.payload_type != IN_TOTO_PAYLOAD_TYPE {
        return Err(BundleProblem::Malformed(format!(
            "payloadType `{}` (expected {IN_TOTO_PAYLOAD_TYPE})",
            b.dsse_envelope.payload_type
        )));
    }
    let payload = STANDARD
        .decode(b.dsse_envelope.payload.as_bytes())
        .map_err(|e| BundleProblem::Malformed(format!("payload is not base64: {e}")))?;
    let st: Statement = serde_json::from_slice(&payload).map_err(|e| {
        BundleProblem::Malformed(format!("payload is not an in-toto statement: {e}"))
    })?;
    if st.type_ != STATEMENT_TYPE {
        return Err(BundleProblem::Malformed(format!(
            "statement _type `{}` (expected {STATEMENT_TYPE})",
            st.type_
        )));
    }
    Ok((payload, st))
}

/// Verify a keyless bundle: its certificate issued by the trusted root, valid now, with the
/// identity's issuer and a matching subject; then the envelope's signature with its key.
/// The statement and the certificate's subject.
pub fn verify_with_identity(
    b: &Bundle,
    id: &super::policy::Identity,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(Statement, String), BundleProblem> {
    let bad = |m: String| BundleProblem::Certificate(m);
    let raw = b
        .verification_material
        .certificate
        .as_ref()
        .ok_or_else(|| bad("it has no certificate (key-signed)".into()))?;
    let der = STANDARD
        .decode(raw.raw_bytes.as_bytes())
        .map_err(|e| bad(format!("its certificate is not base64: {e}")))?;
    let leaf = super::x509::Certificate::from_der(&der)
        .map_err(|e| bad(format!("its certificate: {e}")))?;
    if !id
        .trusted_root
        .iter()
        .any(|r| r.is_ca() && r.valid_at(now) && leaf.issued_by(r))
    {
        return Err(bad(
            "its certificate is not issued by the trusted root".into()
        ));
    }
    if !leaf.valid_at(now) {
        return Err(bad(format!(
            "its certificate is expired or not yet valid (valid {} to {})",
            leaf.not_before.to_rfc3339(),
            leaf.not_after.to_rfc3339()
        )));
    }
    match leaf.oidc_issuer() {
        Some(i) if i == id.issuer => {}
        other => {
            return Err(bad(format!(
                "its certificate's issuer is `{}`, the policy wants `{}`",
                other.unwrap_or_default(),
                id.issuer
            )));
        }
    }
    let names = leaf.san();
    let Some(subject) = names.iter().find(|n| id.subject.matches(n)) else {
        return Err(bad(format!(
            "its certificate's subject `{}` does not match `{}`",
            names.join(", "),
            id.subject.text
        )));
    };
    let key = leaf.public_key().map_err(bad)?;
    let (payload, st) = decode_statement(b)?;
    let message = pae(&b.dsse_envelope.payload_type, &payload);
    let ok = b.dsse_envelope.signatures.iter().any(|s| {
        STANDARD
            .decode(s.sig.as_bytes())
            .is_ok_and(|sig| key.verify(&message, &sig))
    });
    if !ok {
        return Err(bad(
            "its signature does not verify with its certificate's key".into(),
        ));
    }
    Ok((st, subject.clone()))
}

/// Verify a key-signed bundle with any of `keys`: the statement and the key that verified it.
pub fn verify_with_keys<'k>(
    b: &Bundle,
    keys: &'k [PublicKey],
) -> Result<(Statement, &'k PublicKey), BundleProblem> {
    let (payload, st) = decode_statement(b)?;
    let message = pae(&b.dsse_envelope.payload_type, &payload);
    let hint = b
        .verification_material
        .public_key
        .as_ref()
        .map(|p| p.hint.clone());
    for s in &b.dsse_envelope.signatures {
        let Ok(sig) = STANDARD.decode(s.sig.as_bytes()) else {
            continue;
        };
        if let Some(k) = keys.iter().find(|k| k.verify(&message, &sig)) {
            return Ok((st, k));
        }
    }
    Err(BundleProblem::NoTrustedKey { hint })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> KeySigner {
        KeySigner::new(
            LocalKey::from_pem(&LocalKey::generate_p256_pem().unwrap(), "k").unwrap(),
            "k",
        )
    }

    #[test]
    fn pae_matches_the_dsse_spec_example() {
        // DSSE protocol.md: PAE("http://example.com/HelloWorld", "hello world").
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
    }

    #[tokio::test]
    async fn sign_then_verify_and_every_tampering_fails() {
        let s = signer();
        let st = Statement::new(
            "r.io/a",
            "sha256:aa",
            SIGNATURE_PREDICATE,
            serde_json::json!({}),
        );
        let b = sign_statement(&s, &st).await.unwrap();
        let json = serde_json::to_string(&b).unwrap();
        assert!(json.contains(r#""mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json""#));
        assert!(json.contains(r#""publicKey":{"hint":"#));
        let b = parse_bundle(json.as_bytes()).unwrap();
        let keys = vec![s.public.clone()];
        let (got, _) = verify_with_keys(&b, &keys).unwrap();
        assert_eq!(got, st);
        assert!(got.covers("sha256:aa") && !got.covers("sha256:ab"));

        // Another statement under the same signature.
        let mut t = b.clone();
        let other = Statement::new(
            "r.io/a",
            "sha256:bb",
            SIGNATURE_PREDICATE,
            serde_json::json!({}),
        );
        t.dsse_envelope.payload = STANDARD.encode(serde_json::to_vec(&other).unwrap());
        assert!(matches!(
            verify_with_keys(&t, &keys),
            Err(BundleProblem::NoTrustedKey { .. })
        ));
        // Another key.
        let wrong = vec![signer().public];
        assert!(matches!(
            verify_with_keys(&b, &wrong),
            Err(BundleProblem::NoTrustedKey { .. })
        ));
        // Another payload type: PAE changes, and the bundle is refused as malformed first.
        let mut t = b.clone();
        t.dsse_envelope.payload_type = "text/plain".into();
        assert!(matches!(
            verify_with_keys(&t, &keys),
            Err(BundleProblem::Malformed(_))
        ));
        assert!(matches!(
            parse_bundle(b"{}"),
            Err(BundleProblem::Malformed(_))
        ));
    }
}
