//! `golden-report history IMAGE[@DIGEST]`: an image's timeline, read from its OCI referrers —
//! the build record (built), the scan report (scanned, verdict), SBOM/VEX/SARIF (attached),
//! Sigstore bundles (signed, provenance) and golden audit records (promoted, replicated, with
//! the environment and approver). For an index, the referrers of each platform manifest too.
//! Nothing is trusted for ordering but the time each document states (else the artifact's
//! `org.opencontainers.image.created` annotation); entries without a time sort last.

use golden_registry::{Client, ClientOptions, Descriptor, ParsedManifest, Reference};
use serde::Serialize;

/// Artifact types the timeline knows.
const SCAN_REPORT: &str = "application/vnd.golden.scan-report.v1+json";
const BUILD_RECORD: &str = "application/vnd.golden.build-record.v1+json";
const AUDIT_RECORD: &str = "application/vnd.golden.audit.v1+json";
const SIGSTORE_BUNDLE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
const CREATED: &str = "org.opencontainers.image.created";
/// Largest document read for its details.
const MAX_DOC: u64 = 32 << 20;

/// One event of the timeline.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Event {
    /// RFC 3339, or empty when nothing states it.
    pub time: String,
    /// `built`, `scanned`, `signed`, `provenance`, `promoted`, `replicated`, `attached`, ...
    pub event: String,
    pub detail: String,
    /// The manifest the artifact is attached to.
    pub subject: String,
    /// The artifact's digest.
    pub artifact: String,
    pub artifact_type: String,
}

/// The timeline of one image.
#[derive(Debug, Clone, Serialize)]
pub struct History {
    pub image: String,
    pub digest: String,
    pub events: Vec<Event>,
}

fn str_at<'a>(v: &'a serde_json::Value, ptr: &str) -> Option<&'a str> {
    v.pointer(ptr).and_then(serde_json::Value::as_str)
}

/// Describe one artifact from its type, annotations and (for the known JSON types) content.
pub fn describe(
    artifact_type: &str,
    annotations: &std::collections::BTreeMap<String, String>,
    title: &str,
    doc: Option<&serde_json::Value>,
) -> (String, String, String) {
    let created = annotations.get(CREATED).cloned().unwrap_or_default();
    let pick = |ptrs: &[&str]| -> String {
        doc.and_then(|d| ptrs.iter().find_map(|p| str_at(d, p)))
            .map(str::to_string)
            .unwrap_or_else(|| created.clone())
    };
    match artifact_type {
        BUILD_RECORD => {
            let d = doc.cloned().unwrap_or_default();
            let detail = format!(
                "{} {} on {} ({}){}",
                str_at(&d, "/id").unwrap_or("?"),
                str_at(&d, "/arch").unwrap_or(""),
                str_at(&d, "/base_image").unwrap_or("no base"),
                str_at(&d, "/result").unwrap_or("?"),
                str_at(&d, "/labels/org.opencontainers.image.revision")
                    .map(|r| format!(", commit {}", r.chars().take(12).collect::<String>()))
                    .unwrap_or_default()
            );
            (pick(&["/started_at"]), "built".into(), detail)
        }
        SCAN_REPORT => {
            let d = doc.cloned().unwrap_or_default();
            let passed = d
                .pointer("/policy/passed")
                .and_then(serde_json::Value::as_bool);
            let verdict = match passed {
                Some(true) => "policy passed",
                Some(false) => "policy FAILED",
                None => "verdict unknown",
            };
            let detail = format!(
                "{verdict}{}",
                str_at(&d, "/policy/policy")
                    .map(|p| format!(" ({p})"))
                    .unwrap_or_default()
            );
            (pick(&["/scanned_at"]), "scanned".into(), detail)
        }
        AUDIT_RECORD => {
            let d = doc.cloned().unwrap_or_default();
            let event = match str_at(&d, "/event") {
                Some("promotion") => "promoted",
                Some("replication") => "replicated",
                Some(other) => other,
                None => "audit",
            }
            .to_string();
            let mut parts = Vec::new();
            if let Some(to) = str_at(&d, "/to") {
                parts.push(format!("to {to}"));
            }
            for (label, ptr) in [
                ("environment", "/context/environment"),
                ("approved by", "/context/approver"),
                ("deployment", "/context/deployment_id"),
                ("by", "/context/actor"),
            ] {
                if let Some(v) = str_at(&d, ptr).filter(|v| !v.is_empty()) {
                    parts.push(format!("{label} {v}"));
                }
            }
            (pick(&["/time"]), event, parts.join(", "))
        }
        SIGSTORE_BUNDLE => {
            let predicate = annotations
                .get("dev.sigstore.bundle.predicateType")
                .cloned()
                .unwrap_or_default();
            let event = if predicate.contains("slsa.dev/provenance") {
                "provenance"
            } else {
                "signed"
            };
            (created, event.into(), predicate)
        }
        _ => (
            created,
            "attached".into(),
            if title.is_empty() {
                artifact_type.to_string()
            } else {
                format!("{title} ({artifact_type})")
            },
        ),
    }
}

/// Read the timeline of `image` (a tag or digest).
pub async fn history(client: &Client, image: &Reference) -> Result<History, String> {
    let desc = client
        .resolve_digest(image)
        .await
        .map_err(|e| format!("`{image}` cannot be read: {e}"))?;
    let repo = image.with_digest(&desc.digest);
    let mut subjects = vec![desc.digest.clone()];
    if golden_registry::types::is_index_media_type(&desc.media_type) {
        let m = client
            .get_manifest(&repo)
            .await
            .map_err(|e| format!("`{image}`: {e}"))?;
        if let Ok(ParsedManifest::Index(i)) = m.parse() {
            subjects.extend(i.manifests.iter().map(|d| d.digest.clone()));
        }
    }
    let mut events = Vec::new();
    let mut queue: Vec<(String, u32)> = subjects.into_iter().map(|s| (s, 0)).collect();
    let mut seen = std::collections::BTreeSet::new();
    while let Some((subject, depth)) = queue.pop() {
        if !seen.insert(subject.clone()) || depth > 3 {
            continue;
        }
        let list: Vec<Descriptor> = client
            .referrers(&image.with_digest(&subject), None)
            .await
            .map_err(|e| format!("the referrers of {}@{subject}: {e}", image.name()))?;
        for d in list {
            let (title, doc) = read_doc(client, image, &d).await;
            let artifact_type = d.artifact_type.clone().unwrap_or_default();
            let (time, event, detail) =
                describe(&artifact_type, &d.annotations, &title, doc.as_ref());
            events.push(Event {
                time,
                event,
                detail,
                subject: subject.clone(),
                artifact: d.digest.clone(),
                artifact_type,
            });
            queue.push((d.digest, depth + 1));
        }
    }
    sort_events(&mut events);
    Ok(History {
        image: image.name(),
        digest: desc.digest,
        events,
    })
}

/// Oldest first; events without a time last; then by artifact digest (stable output).
pub fn sort_events(events: &mut [Event]) {
    events.sort_by(|a, b| {
        (a.time.is_empty(), &a.time, &a.artifact).cmp(&(b.time.is_empty(), &b.time, &b.artifact))
    });
}

/// The first layer's title and, when it is JSON of a known type, its content.
async fn read_doc(
    client: &Client,
    image: &Reference,
    d: &Descriptor,
) -> (String, Option<serde_json::Value>) {
    let Ok(m) = client.get_manifest(&image.with_digest(&d.digest)).await else {
        return (String::new(), None);
    };
    let Ok(ParsedManifest::Image(img)) = m.parse() else {
        return (String::new(), None);
    };
    let Some(layer) = img.layers.first() else {
        return (String::new(), None);
    };
    let title = layer
        .annotations
        .get("org.opencontainers.image.title")
        .cloned()
        .unwrap_or_default();
    let known = matches!(
        d.artifact_type.as_deref(),
        Some(SCAN_REPORT | BUILD_RECORD | AUDIT_RECORD)
    );
    if !known {
        return (title, None);
    }
    let doc = client
        .get_blob_bytes(image, &layer.digest, MAX_DOC)
        .await
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok());
    (title, doc)
}

/// The text timeline.
pub fn render(h: &History) -> String {
    let mut out = format!(
        "{}@{}: {} event(s)\n",
        golden_gha::neutralize(&h.image),
        h.digest,
        h.events.len()
    );
    for e in &h.events {
        let time = if e.time.is_empty() {
            "-"
        } else {
            e.time.as_str()
        };
        out.push_str(&format!(
            "{:<25} {:<11} {}  [{}]\n",
            golden_gha::neutralize(time),
            e.event,
            golden_gha::neutralize(&e.detail),
            &e.artifact.get(7..19).unwrap_or(&e.artifact)
        ));
    }
    out
}

/// A registry client for `history` (credentials for the image's own registry only).
pub fn client_for(image: &Reference) -> Result<Client, String> {
    Client::new(ClientOptions {
        auth_hosts: vec![image.registry.clone()],
        ..ClientOptions::default()
    })
    .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn known_documents_become_events() {
        let none = BTreeMap::new();
        let audit = serde_json::json!({"event": "promotion", "time": "2026-12-07T10:00:00Z", "to": "r/golden/nginx@sha256:x",
            "context": {"environment": "production", "approver": "octocat", "deployment_id": "42"}});
        let (t, e, d) = describe(AUDIT_RECORD, &none, "", Some(&audit));
        assert_eq!(
            (t.as_str(), e.as_str()),
            ("2026-12-07T10:00:00Z", "promoted")
        );
        assert!(
            d.contains("approved by octocat") && d.contains("environment production"),
            "{d}"
        );
        let scan =
            serde_json::json!({"scanned_at": "2026-12-06T02:00:00Z", "policy": {"passed": false}});
        let (t, e, d) = describe(SCAN_REPORT, &none, "report.json", Some(&scan));
        assert_eq!(
            (t.as_str(), e.as_str(), d.as_str()),
            ("2026-12-06T02:00:00Z", "scanned", "policy FAILED")
        );
        let mut ann = BTreeMap::new();
        ann.insert(
            "dev.sigstore.bundle.predicateType".to_string(),
            "https://slsa.dev/provenance/v1".to_string(),
        );
        ann.insert(CREATED.to_string(), "2026-12-06T02:05:00Z".to_string());
        let (t, e, _) = describe(SIGSTORE_BUNDLE, &ann, "", None);
        assert_eq!(
            (t.as_str(), e.as_str()),
            ("2026-12-06T02:05:00Z", "provenance")
        );
        let (_, e, d) = describe(
            "application/vnd.cyclonedx+json",
            &none,
            "sbom.cdx.json",
            None,
        );
        assert_eq!(e, "attached");
        assert!(d.starts_with("sbom.cdx.json"));
    }

    #[test]
    fn timeline_is_oldest_first_and_untimed_last() {
        let ev = |t: &str, a: &str| Event {
            time: t.into(),
            event: "x".into(),
            detail: String::new(),
            subject: String::new(),
            artifact: a.into(),
            artifact_type: String::new(),
        };
        let mut v = vec![
            ev("", "a"),
            ev("2026-12-07T00:00:00Z", "b"),
            ev("2026-12-06T00:00:00Z", "c"),
        ];
        sort_events(&mut v);
        let order: Vec<&str> = v.iter().map(|e| e.artifact.as_str()).collect();
        assert_eq!(order, ["c", "b", "a"]);
    }
}
