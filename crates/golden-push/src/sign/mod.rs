//! Signatures and SLSA provenance as Sigstore bundles attached as OCI referrers, and their
//! verification (`golden-push sign`, `golden-push verify`, and `push --sign-key`).
//!
//! Layout (the one cosign's bundle specification uses): each bundle is an artifact manifest
//! whose `subject` is the image, `artifactType` and single layer are
//! `application/vnd.dev.sigstore.bundle.v0.3+json`, annotated with
//! `dev.sigstore.bundle.content: dsse-envelope` and `dev.sigstore.bundle.predicateType`. The
//! envelope holds an in-toto Statement v1 whose subject is `REGISTRY/REPOSITORY` + the sha256
//! digest: predicate `https://sigstore.dev/cosign/sign/v1` for the signature,
//! `https://slsa.dev/provenance/v1` for the provenance. The provenance names the scan reports
//! attached at signing time (`runDetails.byproducts`, by blob digest): that is how a report is
//! signed.
//!
//! Invariant: signing happens before any tag moves (push attaches the bundles after the
//! reports and before [`crate::tags::set_tags`]); verification trusts nothing a registry says
//! except through a signature made by a given key.

pub mod bundle;
pub mod key;
pub mod keyvault;
pub mod policy;
pub mod provenance;
pub mod verify;
pub mod x509;

use std::collections::BTreeMap;

use bytes::Bytes;
use golden_oci::Reference;
use golden_registry::Client;

use crate::Log;
use crate::error::{Error, Result};
use crate::report::short;
pub use bundle::{
    BUNDLE_MEDIA_TYPE, Bundle, KeySigner, PROVENANCE_PREDICATE, SIGNATURE_PREDICATE, Sign,
    Statement,
};
pub use key::{LocalKey, PublicKey};

/// The signer of a push or `sign`: a local key, or an Azure Key Vault key.
#[derive(Debug)]
pub enum Signer {
    Key(KeySigner),
    KeyVault(keyvault::KeyVaultSigner),
}

impl Sign for Signer {
    fn public_key(&self) -> &PublicKey {
        match self {
            Signer::Key(k) => k.public_key(),
            Signer::KeyVault(k) => k.public_key(),
        }
    }
    async fn sign(&self, message: &[u8]) -> std::result::Result<Vec<u8>, key::KeyError> {
        match self {
            Signer::Key(k) => k.sign(message).await,
            Signer::KeyVault(k) => k.sign(message).await,
        }
    }
}

/// Annotation naming a bundle's content kind.
pub const CONTENT_ANNOTATION: &str = "dev.sigstore.bundle.content";
/// Annotation naming a bundle's predicate type.
pub const PREDICATE_ANNOTATION: &str = "dev.sigstore.bundle.predicateType";

impl From<key::KeyError> for Error {
    fn from(e: key::KeyError) -> Error {
        Error::Usage(e.0)
    }
}

/// Attach `bundle` to `subject` (pinned by digest); the referrer's digest.
pub async fn attach_bundle(
    client: &Client,
    subject: &Reference,
    bundle: &Bundle,
    predicate_type: &str,
) -> Result<String> {
    let bytes = serde_json::to_vec(bundle)?;
    let annotations = BTreeMap::from([
        (CONTENT_ANNOTATION.to_string(), "dsse-envelope".to_string()),
        (PREDICATE_ANNOTATION.to_string(), predicate_type.to_string()),
        (
            "org.opencontainers.image.created".to_string(),
            chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        ),
    ]);
    let attached = client
        .attach_artifact(
            subject,
            BUNDLE_MEDIA_TYPE,
            vec![(
                Bytes::from(bytes),
                BUNDLE_MEDIA_TYPE.to_string(),
                BTreeMap::new(),
            )],
            annotations,
        )
        .await
        .map_err(Error::registry_at(format!(
            "failed to attach the {predicate_type} bundle to {subject}"
        )))?;
    Ok(attached.descriptor.digest)
}

/// What [`sign_image`] attached.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Signed {
    pub subject: String,
    pub key_fingerprint: String,
    pub signature: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provenance: Option<String>,
    /// Scan reports the provenance names (blob digests).
    pub scan_reports: Vec<String>,
}

/// Sign `repo@digest`: the signature bundle, then (with `provenance`) the SLSA provenance
/// built from `inputs` and what the registry holds (config labels, scan report referrers).
pub async fn sign_image<S: Sign>(
    client: &Client,
    signer: &S,
    repo: &Reference,
    digest: &str,
    provenance: Option<&provenance::Inputs>,
    log: &Log,
) -> Result<Signed> {
    let subject = repo.with_digest(digest);
    let name = format!("{}/{}", repo.registry, repo.repository);
    // A rerun signs nothing again: a signature by this key (and a provenance naming the same
    // scan reports) already attached is kept.
    let keys = [signer.public_key().clone()];
    let existing: Vec<(String, Statement)> = verify::bundles(client, &subject, &keys, None)
        .await?
        .into_iter()
        .filter_map(|f| match f.outcome {
            Ok((st, _)) if st.covers(digest) => Some((f.referrer, st)),
            _ => None,
        })
        .collect();
    let signature = match existing
        .iter()
        .find(|(_, st)| st.predicate_type == SIGNATURE_PREDICATE)
    {
        Some((d, _)) => {
            log.line(&format!(
                "{name}@{} is already signed by {} ({})",
                short(digest),
                signer.public_key().fingerprint(),
                short(d)
            ));
            d.clone()
        }
        None => {
            let st = Statement::new(&name, digest, SIGNATURE_PREDICATE, serde_json::json!({}));
            let b = bundle::sign_statement(signer, &st).await?;
            let d = attach_bundle(client, &subject, &b, SIGNATURE_PREDICATE).await?;
            log.line(&format!(
                "signed {name}@{} with {} ({})",
                short(digest),
                signer.public_key().fingerprint(),
                short(&d)
            ));
            d
        }
    };
    let mut out = Signed {
        subject: format!("{name}@{digest}"),
        key_fingerprint: signer.public_key().fingerprint(),
        signature,
        provenance: None,
        scan_reports: Vec::new(),
    };
    if let Some(inputs) = provenance {
        let facts = provenance::gather(client, &subject).await?;
        out.scan_reports = facts
            .scan_reports
            .iter()
            .map(|r| r.digest.clone())
            .collect();
        let wanted: std::collections::BTreeSet<String> = out.scan_reports.iter().cloned().collect();
        if let Some((d, _)) = existing.iter().find(|(_, st)| {
            st.predicate_type == PROVENANCE_PREDICATE
                && provenance::named_reports(&st.predicate) == wanted
        }) {
            log.line(&format!(
                "{name}@{} already has its signed provenance ({})",
                short(digest),
                short(d)
            ));
            out.provenance = Some(d.clone());
            return Ok(out);
        }
        let predicate = provenance::predicate(inputs, &facts);
        let st = Statement::new(&name, digest, PROVENANCE_PREDICATE, predicate);
        let b = bundle::sign_statement(signer, &st).await?;
        let d = attach_bundle(client, &subject, &b, PROVENANCE_PREDICATE).await?;
        log.line(&format!(
            "attached SLSA provenance to {name}@{} ({}; {} scan report(s) named)",
            short(digest),
            short(&d),
            out.scan_reports.len()
        ));
        out.provenance = Some(d);
    }
    Ok(out)
}
