//! Audit records: a small JSON document attached to an image digest for each governance event
//! (`promotion`, `replication`), artifact type [`AUDIT_RECORD_TYPE`], with the event and its
//! time also as manifest annotations (`golden-report history` orders the timeline by them).
//!
//! With a signer (the push's signing key or Key Vault key), the record is signed: a Sigstore
//! bundle whose statement's subject is the record's own manifest digest is attached to the
//! record (a referrer of the referrer; `copy` carries it along, `golden-report history` shows
//! it). An unsigned record can be replaced by anyone with push rights; a signed one cannot be
//! changed without the key.

use std::collections::BTreeMap;

use chrono::Utc;
use golden_oci::Reference;
use golden_registry::Client;

use crate::error::{Error, Result};
use crate::sign::{SIGNATURE_PREDICATE, Signer, Statement};

/// Artifact type of the audit records.
pub const AUDIT_RECORD_TYPE: &str = "application/vnd.golden.audit.v1+json";

/// Now, as the records write it.
pub fn now() -> String {
    Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// An attached audit record.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Attached {
    /// The record's manifest digest.
    pub record: String,
    /// The digest of the signature bundle attached to the record, when signed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
}

/// Attach the audit record of `event` to `subject` (pinned by digest) and, with `signer`, sign
/// it. `fields` are merged into `{schema, kind, event, time}`.
pub async fn attach(
    client: &Client,
    subject: &Reference,
    event: &str,
    fields: serde_json::Value,
    signer: Option<&Signer>,
) -> Result<Attached> {
    let time = now();
    let mut record = serde_json::json!({
        "schema": 1,
        "kind": "golden-audit-record",
        "event": event,
        "time": time,
    });
    if let (Some(r), Some(f)) = (record.as_object_mut(), fields.as_object()) {
        for (k, v) in f {
            r.insert(k.clone(), v.clone());
        }
    }
    let bytes = bytes::Bytes::from(serde_json::to_vec_pretty(&record)?);
    let mut layer = BTreeMap::new();
    layer.insert(
        "org.opencontainers.image.title".to_string(),
        format!("audit-{event}.json"),
    );
    let mut manifest = BTreeMap::new();
    manifest.insert("org.opencontainers.image.created".to_string(), time);
    manifest.insert("dev.golden.audit.event".to_string(), event.to_string());
    let attached = client
        .attach_artifact(
            subject,
            AUDIT_RECORD_TYPE,
            vec![(bytes, "application/json".to_string(), layer)],
            manifest,
        )
        .await
        .map_err(Error::registry_at(format!(
            "failed to attach the {event} audit record to {subject}"
        )))?;
    let record = attached.descriptor.digest;
    let signature = match signer {
        Some(signer) => {
            let name = format!("{}/{}", subject.registry, subject.repository);
            let st = Statement::new(&name, &record, SIGNATURE_PREDICATE, serde_json::json!({}));
            let b = crate::sign::bundle::sign_statement(signer, &st)
                .await
                .map_err(|e| {
                    Error::Usage(format!("signing the {event} audit record {record}: {e}"))
                })?;
            Some(
                crate::sign::attach_bundle(
                    client,
                    &subject.with_digest(&record),
                    &b,
                    SIGNATURE_PREDICATE,
                )
                .await?,
            )
        }
        None => None,
    };
    Ok(Attached { record, signature })
}
