//! Push from archives: what lands in the registry, outputs, determinism, re-push.

use crate::support::*;

#[tokio::test(flavor = "multi_thread")]
async fn registry_push_archive_is_inspectable_valid_and_deterministic() {
    let reg = Registry::start();
    let dir = tempfile::tempdir().unwrap();
    let archive = small_archive(dir.path(), "app", "amd64");
    let src = format!("docker-archive:{}", archive.display());
    let to = format!("{}/golden/app:1.0", reg.host());
    let record = dir.path().join("push-record.json");
    let record2 = dir.path().join("again/push-record.json");

    let run = golden_push(
        &[
            &src,
            "--to",
            &to,
            "--tag",
            "1.0-extra,latest",
            "--format",
            "json",
            "--record",
            &record.display().to_string(),
        ],
        &[],
    )
    .await;
    run.ok();
    let report = run.json();
    let digest = run.output("digest").to_string();
    assert_eq!(report["digest"], digest.as_str());
    assert_eq!(
        run.output("reference"),
        format!("{}/golden/app@{digest}", reg.host())
    );
    assert_eq!(
        run.output("tags"),
        format!(
            "{h}/golden/app:1.0\n{h}/golden/app:1.0-extra\n{h}/golden/app:latest",
            h = reg.host()
        )
    );
    let actions: Vec<&str> = report["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["uploaded", "uploaded"], "{}", run.stderr);

    // skopeo (an independent client) agrees on the digest for every tag.
    for tag in ["1.0", "1.0-extra", "latest"] {
        let info: serde_json::Value = serde_json::from_str(
            &skopeo(&format!("{}/golden/app:{tag}", reg.host()), false, None).unwrap(),
        )
        .unwrap();
        assert_eq!(info["Digest"], digest.as_str(), "{tag}");
        assert_eq!(info["Labels"]["org.opencontainers.image.title"], "app");
    }
    let raw = skopeo(&to, true, None).unwrap();
    assert_eq!(sha256(raw.as_bytes()), digest);
    validate_oci_schema(&raw, "image-manifest-schema.json");
    let m: serde_json::Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(m["mediaType"], "application/vnd.oci.image.manifest.v1+json");
    assert_eq!(m["annotations"]["org.opencontainers.image.version"], "1.0");
    assert_eq!(
        m["layers"][0]["mediaType"],
        "application/vnd.oci.image.layer.v1.tar+gzip"
    );

    // The record: what a pull downloads (the manifest's layers and config, read back from
    // the registry), the bytes sent (everything was new), the wall time.
    let rec = read_push_record(&record);
    let pulled: u64 = m["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["size"].as_u64().unwrap())
        .sum::<u64>()
        + m["config"]["size"].as_u64().unwrap();
    assert!(pulled > 0, "{raw}");
    assert_eq!(rec.compressed_size, Some(pulled), "{rec:?}\n{raw}");
    assert_eq!((rec.uploaded, rec.blobs), (3, 3), "{rec:?}");
    // Every blob was new: the bytes sent are the distinct blobs of the manifest.
    assert_eq!(rec.bytes_uploaded, Some(pulled), "{rec:?}");
    assert!(rec.duration_seconds.is_some_and(|d| d > 0.0), "{rec:?}");

    // Re-push: nothing sent, same digest.
    let again = golden_push(
        &[
            &src,
            "--to",
            &to,
            "--format",
            "json",
            "--record",
            &record2.display().to_string(),
        ],
        &[],
    )
    .await;
    again.ok();
    let r2 = again.json();
    assert_eq!(r2["digest"], digest.as_str());
    for l in r2["layers"].as_array().unwrap() {
        assert_eq!(l["action"], "exists", "{}", again.stderr);
    }
    assert_eq!(r2["config"]["action"], "exists");
    let rec2 = read_push_record(&record2);
    assert_eq!((rec2.uploaded, rec2.blobs), (0, 3), "{rec2:?}");
    assert_eq!(rec2.bytes_uploaded, Some(0), "{rec2:?}");
    assert_eq!(rec2.compressed_size, Some(pulled), "{rec2:?}");
    assert!(rec2.duration_seconds.is_some_and(|d| d > 0.0), "{rec2:?}");

    // Deterministic: a fresh registry (and a fresh local cache) gives the same digest.
    let other = Registry::start();
    let run3 = golden_push(
        &[
            &src,
            "--to",
            &format!("{}/x/y:1", other.host()),
            "--threads",
            "1",
        ],
        &[],
    )
    .await;
    run3.ok();
    assert_eq!(run3.output("digest"), digest);
}

#[tokio::test(flavor = "multi_thread")]
async fn registry_push_errors_are_clear() {
    let reg = Registry::start();
    let dir = tempfile::tempdir().unwrap();
    let archive = small_archive(dir.path(), "bad", "amd64");
    let src = format!("docker-archive:{}", archive.display());

    // Missing archive.
    let r = golden_push(
        &[
            "docker-archive:/nonexistent/x.tar",
            "--to",
            &format!("{}/a:1", reg.host()),
        ],
        &[],
    )
    .await;
    r.failed();
    assert!(
        r.stderr
            .contains("failed to open docker archive `/nonexistent/x.tar`"),
        "{}",
        r.stderr
    );
    // Bad reference.
    let r = golden_push(&[&src, "--to", "Bad/Upper:1"], &[]).await;
    r.failed();
    assert!(
        r.stderr
            .contains("--to `Bad/Upper:1` is not an image reference"),
        "{}",
        r.stderr
    );
    // Bad tag.
    let r = golden_push(
        &[
            &src,
            "--to",
            &format!("{}/a:1", reg.host()),
            "--tag",
            "no/slash",
        ],
        &[],
    )
    .await;
    r.failed();
    assert!(
        r.stderr.contains("tag `no/slash` is not valid"),
        "{}",
        r.stderr
    );
    // Nothing listening: a transport error naming the registry, after the retries.
    let port = free_port();
    let r = golden_push(
        &[
            &src,
            "--to",
            &format!("127.0.0.1:{port}/a:1"),
            "--retries",
            "1",
        ],
        &[],
    )
    .await;
    r.failed();
    assert!(
        r.stderr
            .contains(&format!("failed to reach registry `127.0.0.1:{port}`")),
        "{}",
        r.stderr
    );
    // Plain HTTP to a non-loopback registry is refused without --insecure: the https attempt
    // fails (nothing serves TLS there), and the message names the registry.
    let r = golden_push(&[&src, "--to", "golden.invalid/a:1", "--retries", "0"], &[]).await;
    r.failed();
    assert!(r.stderr.contains("golden.invalid"), "{}", r.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn registry_library_errors_name_what_went_wrong() {
    use golden_registry::{
        Client, ClientOptions, Descriptor, ImageManifest, RegistryError, media, types,
    };
    let reg = Registry::start();
    let client = Client::new(ClientOptions::default()).unwrap();
    let repo = golden_registry::Reference::parse(&format!("{}/golden/none", reg.host())).unwrap();

    // Unknown repository.
    let e = client.list_tags(&repo).await.unwrap_err();
    assert!(matches!(e, RegistryError::NameUnknown { .. }), "{e}");
    assert!(
        e.to_string()
            .contains("repository `golden/none` is unknown"),
        "{e}"
    );
    // Unknown manifest: None from try_, a clear error from get_.
    assert!(
        client
            .try_get_manifest(&repo.with_tag("nope"))
            .await
            .unwrap()
            .is_none()
    );
    let e = client
        .get_manifest(&repo.with_tag("nope"))
        .await
        .unwrap_err();
    assert!(
        e.is_not_found() && e.to_string().contains(":nope` not found"),
        "{e}"
    );

    // A manifest pointing at blobs the registry does not have is rejected, with its reason.
    let missing = format!("sha256:{}", "0".repeat(64));
    let mut m = ImageManifest::new(Descriptor::new(media::OCI_CONFIG, missing.clone(), 2));
    m.layers
        .push(Descriptor::new(media::OCI_LAYER_GZIP, missing, 3));
    let bytes = bytes::Bytes::from(types::to_bytes(&m));
    let e = client
        .put_manifest(&repo, "1", bytes, media::OCI_MANIFEST)
        .await
        .unwrap_err();
    assert!(matches!(e, RegistryError::ManifestRejected { .. }), "{e}");
    assert!(e.to_string().contains("BLOB_UNKNOWN"), "{e}");

    // Upload data that does not match its digest is refused before anything is committed.
    let e = client
        .upload_bytes(
            &repo,
            bytes::Bytes::from_static(b"data"),
            &format!("sha256:{}", "1".repeat(64)),
        )
        .await
        .unwrap_err();
    assert!(matches!(e, RegistryError::DigestMismatch { .. }), "{e}");
}

fn read_push_record(p: &std::path::Path) -> golden_contracts::push::PushRecord {
    use golden_contracts::Document;
    golden_contracts::push::PushRecord::read(p).unwrap()
}
