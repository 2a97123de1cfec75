//! `golden-report history` against a real registry (Debian's docker-registry, which has no
//! referrers API: the referrers tag schema is what is walked): an audit record that carries its
//! own Sigstore bundle is marked signed by it, one without is marked unsigned, and an image's
//! own signature is not taken for a record's. Needs the `docker-registry` binary.

use bytes::Bytes;
use golden_registry::{Client, ClientOptions, Reference};
use golden_report::history::{self, History};
use std::collections::BTreeMap;

use crate::registry::{LocalRegistry, push_image};

const AUDIT: &str = "application/vnd.golden.audit.v1+json";
const BUNDLE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";

/// Attach `body` to `subject` as one artifact of `artifact_type`; its manifest digest.
async fn attach(
    client: &Client,
    subject: &Reference,
    artifact_type: &str,
    name: &str,
    body: serde_json::Value,
    created: &str,
) -> String {
    let layer_ann = BTreeMap::from([(
        "org.opencontainers.image.title".to_string(),
        name.to_string(),
    )]);
    let top = BTreeMap::from([(
        "org.opencontainers.image.created".to_string(),
        created.to_string(),
    )]);
    let media_type = if artifact_type == BUNDLE {
        BUNDLE
    } else {
        "application/json"
    };
    client
        .attach_artifact(
            subject,
            artifact_type,
            vec![(
                Bytes::from(serde_json::to_vec(&body).unwrap()),
                media_type.to_string(),
                layer_ann,
            )],
            top,
        )
        .await
        .unwrap()
        .descriptor
        .digest
}

fn short(d: &str) -> &str {
    &d[..19]
}

#[tokio::test]
async fn audit_records_are_marked_signed_by_their_own_bundle_or_unsigned() {
    let reg = LocalRegistry::start();
    let client = Client::new(ClientOptions::default()).unwrap();
    let tag = format!("{}/golden/nginx:1.26-debian", reg.host());
    push_image(&client, &tag, "nginx").await;
    let image = Reference::parse(&tag).unwrap();
    let bundle_doc = serde_json::json!({"mediaType": BUNDLE, "messageSignature": {}});
    // The image's own signature.
    let image_sig = attach(
        &client,
        &image,
        BUNDLE,
        "bundle.sigstore.json",
        bundle_doc.clone(),
        "2026-12-06T02:05:00Z",
    )
    .await;
    // A promotion record, signed by golden-push: the bundle's subject is the record.
    let promoted = attach(
        &client,
        &image,
        AUDIT,
        "audit.json",
        serde_json::json!({"event": "promotion", "time": "2026-12-07T10:00:00Z",
            "to": "r.io/golden/nginx:1.26-debian",
            "context": {"environment": "production", "approver": "octocat"}}),
        "2026-12-07T10:00:00Z",
    )
    .await;
    let bundle = attach(
        &client,
        &image.with_digest(&promoted),
        BUNDLE,
        "bundle.sigstore.json",
        bundle_doc,
        "2026-12-07T10:00:01Z",
    )
    .await;
    // A replication record nobody signed.
    let replicated = attach(
        &client,
        &image,
        AUDIT,
        "audit.json",
        serde_json::json!({"event": "replication", "time": "2026-12-07T11:00:00Z",
            "to": "mirror.example/golden/nginx:1.26-debian"}),
        "2026-12-07T11:00:00Z",
    )
    .await;

    let h = history::history(&client, &image).await.unwrap();
    let ev = |artifact: &str| {
        h.events
            .iter()
            .find(|e| e.artifact == artifact)
            .unwrap_or_else(|| panic!("no event for {artifact}: {:#?}", h.events))
    };
    let p = ev(&promoted);
    assert_eq!(p.event, "promoted");
    assert_eq!(p.signed_by.as_deref(), Some(bundle.as_str()));
    assert_eq!(
        p.detail,
        format!(
            "to r.io/golden/nginx:1.26-debian, environment production, approved by octocat · signed (bundle {})",
            short(&bundle)
        )
    );
    let r = ev(&replicated);
    assert_eq!(r.event, "replicated");
    assert_eq!(r.signed_by, None);
    assert_eq!(
        r.detail,
        "to mirror.example/golden/nginx:1.26-debian · unsigned"
    );
    // The bundle's own event: attached to the record, saying so.
    let b = ev(&bundle);
    assert_eq!(b.subject, promoted);
    assert_eq!(
        b.detail,
        format!("signature of the audit record {}", short(&promoted))
    );
    // The image's signature stays the image's, and signs no record.
    let s = ev(&image_sig);
    assert_eq!((s.event.as_str(), s.detail.as_str()), ("signed", ""));
    assert_eq!(s.subject, h.digest);
    assert_eq!(s.signed_by, None);

    // JSON: the bundle's digest in `signed_by`, absent when unsigned; it reads back (the
    // catalog site reads these files).
    let json = serde_json::to_value(&h).unwrap();
    let by = |a: &str| {
        json["events"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["artifact"] == a)
            .cloned()
            .unwrap()
    };
    assert_eq!(by(&promoted)["signed_by"], bundle.as_str());
    assert!(by(&replicated).get("signed_by").is_none());
    assert_eq!(serde_json::from_value::<History>(json).unwrap(), h);
    let text = history::render(&h);
    assert!(
        text.contains(&format!("signed (bundle {})", short(&bundle))),
        "{text}"
    );
    assert!(text.contains(" · unsigned"), "{text}");

    // The binary prints the same timeline.
    let dir = tempfile::tempdir().unwrap();
    let o = tokio::process::Command::new(env!("CARGO_BIN_EXE_golden-report"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("DOCKER_CONFIG", dir.path().join("no-docker-config"))
        .args(["history", &tag, "--format", "json"])
        .output()
        .await
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let printed: History = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(printed, h);
}
