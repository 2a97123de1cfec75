//! Audit records: a small JSON document attached to an image digest for each governance event
//! (`promotion`, `replication`), artifact type [`AUDIT_RECORD_TYPE`], with the event and its
//! time also as manifest annotations (`golden-report history` orders the timeline by them).

use std::collections::BTreeMap;

use chrono::Utc;
use golden_oci::Reference;
use golden_registry::Client;

use crate::error::{Error, Result};

/// Artifact type of the audit records.
pub const AUDIT_RECORD_TYPE: &str = "application/vnd.golden.audit.v1+json";

/// Now, as the records write it.
pub fn now() -> String {
    Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Attach the audit record of `event` to `subject` (pinned by digest). `fields` are merged
/// into `{schema, kind, event, time}`. Returns the record's digest.
pub async fn attach(
    client: &Client,
    subject: &Reference,
    event: &str,
    fields: serde_json::Value,
) -> Result<String> {
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
    Ok(attached.descriptor.digest)
}
