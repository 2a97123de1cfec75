//! `golden-report history IMAGE[@DIGEST]`: an image's timeline, read from its OCI referrers —
//! the build record (built), the scan report (scanned, verdict), SBOM/VEX/SARIF (attached),
//! Sigstore bundles (signed, provenance) and golden audit records (promoted, replicated, with
//! the environment and approver). For an index, the referrers of each platform manifest too.
//! Nothing is trusted for ordering but the time each document states (else the artifact's
//! `org.opencontainers.image.created` annotation); entries without a time sort last.
//!
//! An audit record can carry its own Sigstore bundle (a referrer whose subject is the record's
//! manifest, the signature golden-push makes of the record): the walk reads the referrers of
//! every artifact it lists, so each audit event says `signed (bundle sha256:…)` or `unsigned`,
//! and its JSON has the bundle's digest in `signed_by`. Nothing is verified here: the timeline
//! says which bundles exist (verify one with `cosign verify-blob` and the public key).
//!
//! The JSON (`--format json`, `--record FILE`) is also what `golden-report site` reads from
//! `history-*.json` files to show the timeline on the image's catalog page.

use golden_registry::{Client, ClientOptions, Descriptor, ParsedManifest, Reference};
use serde::{Deserialize, Serialize};

/// Artifact types the timeline knows.
const SCAN_REPORT: &str = "application/vnd.golden.scan-report.v1+json";
const BUILD_RECORD: &str = "application/vnd.golden.build-record.v1+json";
const AUDIT_RECORD: &str = "application/vnd.golden.audit.v1+json";
const SIGSTORE_BUNDLE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
const CREATED: &str = "org.opencontainers.image.created";
/// Largest document read for its details.
const MAX_DOC: u64 = 32 << 20;

/// One event of the timeline.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
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
    /// For an audit record: the digest of the Sigstore bundle among its own referrers (the
    /// first by digest when there are several); absent when the record is unsigned, and for
    /// every other event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_by: Option<String>,
}

/// The timeline of one image.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
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
                Some(other) => audit_event_name(other),
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
                signed_by: None,
            });
            // Its own referrers next (an audit record's signature among them).
            queue.push((d.digest, depth + 1));
        }
    }
    mark_signed_audits(&mut events);
    sort_events(&mut events);
    Ok(History {
        image: image.name(),
        digest: desc.digest,
        events,
    })
}

/// `sha256:` and the first 12 hex digits.
fn short(digest: &str) -> String {
    match digest.split_once(':') {
        Some((alg, hex)) => format!("{alg}:{}", hex.chars().take(12).collect::<String>()),
        None => digest.chars().take(19).collect(),
    }
}

/// Mark each audit record `signed` by the Sigstore bundle among its own referrers (events
/// whose subject is the record), else `unsigned`; the bundle's own event says which record it
/// signs.
pub fn mark_signed_audits(events: &mut [Event]) {
    let mut bundles: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for e in events.iter().filter(|e| e.artifact_type == SIGSTORE_BUNDLE) {
        bundles
            .entry(e.subject.clone())
            .or_default()
            .push(e.artifact.clone());
    }
    let audits: std::collections::BTreeSet<String> = events
        .iter()
        .filter(|e| e.artifact_type == AUDIT_RECORD)
        .map(|e| e.artifact.clone())
        .collect();
    // `detail · note`, without a dangling separator when either is empty.
    let join = |detail: &str, note: String| match (detail.is_empty(), note.is_empty()) {
        (true, _) => note,
        (false, true) => detail.to_string(),
        (false, false) => format!("{detail} · {note}"),
    };
    for e in events.iter_mut() {
        if e.artifact_type == AUDIT_RECORD {
            let bundle = bundles
                .get(&e.artifact)
                .and_then(|b| b.iter().min())
                .cloned();
            let note = match &bundle {
                Some(b) => format!("signed (bundle {})", short(b)),
                None => "unsigned".to_string(),
            };
            e.detail = join(&e.detail, note);
            e.signed_by = bundle;
        } else if e.artifact_type == SIGSTORE_BUNDLE && audits.contains(&e.subject) {
            let what = format!("signature of the audit record {}", short(&e.subject));
            e.detail = join(&what, std::mem::take(&mut e.detail));
        }
    }
}

/// `REGISTRY/REPOSITORY@sha256:<64 hex>` made of plain reference characters only (ASCII
/// letters and digits, `.`, `_`, `-`, `/`, `:`), starting with a letter or digit: a reference
/// that can be shown as a command to copy and paste (nothing a shell would read as more than
/// one word, nothing that starts like an option). `None` for anything else.
pub fn pinned_reference(reference: &str) -> Option<&str> {
    let (name, digest) = reference.split_once('@')?;
    let hex = digest.strip_prefix("sha256:")?;
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/' | ':');
    let ok = hex.len() == 64
        && hex.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f'))
        && name.contains('/')
        && name.len() <= 255
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.chars().all(plain)
        && Reference::parse(reference).is_ok();
    ok.then_some(reference)
}

/// The command that prints the audit trail of `reference` (see [`pinned_reference`]).
pub fn command(reference: &str) -> String {
    format!("golden-report history {reference}")
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
            golden_gha::neutralize(&e.event),
            golden_gha::neutralize(&e.detail),
            &e.artifact.get(7..19).unwrap_or(&e.artifact)
        ));
    }
    out
}

/// An audit record's own event name as the timeline shows it: the record is registry data
/// (anyone with push rights can attach one), so only a short token of `[A-Za-z0-9._-]` is kept;
/// anything else reads `audit`.
fn audit_event_name(name: &str) -> &str {
    let token = !name.is_empty()
        && name.len() <= 40
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if token { name } else { "audit" }
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

    /// A hostile audit record (registry data) cannot start a workflow command in the text the
    /// nightly's site job prints under Actions: its event name is kept only as a plain token,
    /// and every field is neutralized.
    #[test]
    fn hostile_audit_records_cannot_become_workflow_commands() {
        let none = BTreeMap::new();
        let hostile = serde_json::json!({"event": "x\n::set-output name=pwned::1",
            "time": "2026-12-07T10:00:00Z\n::add-mask::secret",
            "context": {"approver": "eve\n::error::injected", "environment": "\r\n::warning::w"}});
        let (time, event, detail) = describe(AUDIT_RECORD, &none, "", Some(&hostile));
        assert_eq!(event, "audit");
        let h = History {
            image: "r.io/golden/nginx\n::notice::n".into(),
            digest: format!("sha256:{}", "a".repeat(64)),
            events: vec![Event {
                time,
                event: "still\n::debug::raw".into(),
                detail,
                subject: String::new(),
                artifact: format!("sha256:{}", "b".repeat(64)),
                artifact_type: AUDIT_RECORD.into(),
                signed_by: None,
            }],
        };
        let text = render(&h);
        for line in text.lines() {
            assert!(
                !line.trim_start().starts_with("::"),
                "workflow command: {line}"
            );
        }
        assert!(!text.contains("set-output"), "{text}");
        assert_eq!(audit_event_name("promotion-2"), "promotion-2");
        assert_eq!(audit_event_name(&"a".repeat(41)), "audit");
    }

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

    fn event(artifact_type: &str, artifact: &str, subject: &str, detail: &str) -> Event {
        Event {
            time: String::new(),
            event: "x".into(),
            detail: detail.into(),
            subject: subject.into(),
            artifact: artifact.into(),
            artifact_type: artifact_type.into(),
            signed_by: None,
        }
    }

    #[test]
    fn audit_records_are_signed_only_by_bundles_attached_to_them() {
        let d = |c: char| format!("sha256:{}", c.to_string().repeat(64));
        let mut v = vec![
            event(AUDIT_RECORD, &d('a'), &d('0'), "to x"),
            event(AUDIT_RECORD, &d('b'), &d('0'), ""),
            // Two bundles on record a: the first by digest is named.
            event(SIGSTORE_BUNDLE, &d('f'), &d('a'), ""),
            event(
                SIGSTORE_BUNDLE,
                &d('e'),
                &d('a'),
                "https://slsa.dev/provenance/v1",
            ),
            // The image's own signature signs no record.
            event(SIGSTORE_BUNDLE, &d('c'), &d('0'), ""),
        ];
        mark_signed_audits(&mut v);
        assert_eq!(v[0].signed_by, Some(d('e')));
        assert_eq!(v[0].detail, "to x · signed (bundle sha256:eeeeeeeeeeee)");
        assert_eq!(v[1].signed_by, None);
        assert_eq!(v[1].detail, "unsigned");
        assert_eq!(
            v[2].detail,
            "signature of the audit record sha256:aaaaaaaaaaaa"
        );
        assert_eq!(
            v[3].detail,
            "signature of the audit record sha256:aaaaaaaaaaaa · https://slsa.dev/provenance/v1"
        );
        assert_eq!((v[4].detail.as_str(), v[4].signed_by.as_ref()), ("", None));
    }

    #[test]
    fn only_plain_pinned_references_become_commands() {
        let hex = "0123456789abcdef".repeat(4);
        let good = format!("r.io/golden/nginx@sha256:{hex}");
        assert_eq!(pinned_reference(&good), Some(good.as_str()));
        let local = format!("127.0.0.1:5000/golden/nginx@sha256:{hex}");
        assert!(pinned_reference(&local).is_some());
        for bad in [
            format!("r.io/golden/nginx:1.26@sha256:{}", &hex[..63]),
            format!("r.io/golden/nginx@sha256:{}", hex.to_uppercase()),
            "r.io/golden/nginx:1.26".to_string(),
            format!("nginx@sha256:{hex}"),
            format!("-r.io/golden/nginx@sha256:{hex}"),
            format!("r.io/golden/nginx;rm -rf ~@sha256:{hex}"),
            format!("r.io/golden/`x`@sha256:{hex}"),
            format!("r.io/golden/$(x)@sha256:{hex}"),
            format!("r.io/golden/x\nrm@sha256:{hex}"),
            format!("r.io/golden/nginx@sha256:{hex} && rm"),
        ] {
            assert_eq!(pinned_reference(&bad), None, "{bad}");
        }
        assert_eq!(
            command(&good),
            format!("golden-report history r.io/golden/nginx@sha256:{hex}")
        );
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
            signed_by: None,
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
