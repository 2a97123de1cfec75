//! Layer-reuse hints read from the registry (the target tag's previous manifest, the base image)
//! are not trusted: a planted diff-id → blob mapping to a foreign blob must not end up in the
//! pushed manifest.

use std::io::Read;

use bytes::Bytes;
use golden_registry::types::{Descriptor, ImageManifest, ParsedManifest, to_bytes};
use golden_registry::{Client, ClientOptions, Reference, media};

use crate::support::*;

/// Our image: two layers.
fn ours(dir: &std::path::Path) -> std::path::PathBuf {
    make_archive(
        dir,
        "ours",
        "amd64",
        &[
            vec![File {
                path: "bin/ours",
                data: noise(200_000, 11),
            }],
            vec![File {
                path: "etc/ours",
                data: b"ours\n".to_vec(),
            }],
        ],
        &[("org.opencontainers.image.title", "ours")],
    )
}

/// A different image whose layers the planted manifests point at.
fn foreign(dir: &std::path::Path) -> std::path::PathBuf {
    make_archive(
        dir,
        "foreign",
        "amd64",
        &[
            vec![File {
                path: "bin/evil",
                data: noise(150_000, 99),
            }],
            vec![File {
                path: "etc/evil",
                data: b"evil\n".to_vec(),
            }],
        ],
        &[],
    )
}

/// The diff-ids of an archive's image (its config's `rootfs.diff_ids`).
fn diff_ids(archive: &std::path::Path) -> Vec<String> {
    let mut a = tar::Archive::new(std::fs::File::open(archive).unwrap());
    for e in a.entries().unwrap() {
        let mut e = e.unwrap();
        let p = e.path().unwrap().display().to_string();
        if p.ends_with(".json") && p != "manifest.json" {
            let mut s = String::new();
            e.read_to_string(&mut s).unwrap();
            let v: serde_json::Value = serde_json::from_str(&s).unwrap();
            return v["rootfs"]["diff_ids"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d.as_str().unwrap().to_string())
                .collect();
        }
    }
    panic!("no config in {}", archive.display());
}

fn gunzip_digest(blob: &[u8]) -> String {
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(blob)
        .read_to_end(&mut out)
        .unwrap();
    sha256(&out)
}

async fn image_manifest(client: &Client, r: &Reference) -> ImageManifest {
    match client.get_manifest(r).await.unwrap().parse().unwrap() {
        ParsedManifest::Image(m) => m,
        ParsedManifest::Index(_) => panic!("{r} is an index"),
    }
}

/// Push `foreign` to `repo:foreign`, then plant `repo:tag`: a manifest whose config claims
/// `ours_diff_ids` while its layers are the foreign image's blobs. Returns the foreign blobs.
async fn plant(
    client: &Client,
    host: &str,
    repo: &str,
    tag: &str,
    foreign_src: &str,
    ours_diff_ids: &[String],
) -> Vec<Descriptor> {
    golden_push(
        &[foreign_src, "--to", &format!("{host}/{repo}:foreign")],
        &[],
    )
    .await
    .ok();
    let repo_ref = Reference::parse(&format!("{host}/{repo}")).unwrap();
    let foreign = image_manifest(client, &repo_ref.with_tag("foreign")).await;
    assert_eq!(foreign.layers.len(), ours_diff_ids.len());
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64",
        "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": ours_diff_ids},
    }))
    .unwrap();
    let config_digest = sha256(&config);
    let config_size = config.len() as u64;
    client
        .upload_bytes(&repo_ref, Bytes::from(config), &config_digest)
        .await
        .unwrap();
    let mut m = ImageManifest::new(Descriptor::new(
        media::OCI_CONFIG,
        config_digest,
        config_size,
    ));
    m.layers = foreign.layers.clone();
    client
        .put_manifest(
            &repo_ref,
            tag,
            Bytes::from(to_bytes(&m)),
            media::OCI_MANIFEST,
        )
        .await
        .unwrap();
    foreign.layers
}

/// Every layer of the pushed manifest decompresses to the diff-id the config names at its
/// position, and no foreign blob is referenced.
async fn assert_own_layers(
    client: &Client,
    repo: &Reference,
    digest: &str,
    want: &[String],
    foreign: &[Descriptor],
) {
    let m = image_manifest(client, &repo.with_digest(digest)).await;
    let config: serde_json::Value = serde_json::from_slice(
        &client
            .get_blob_bytes(repo, &m.config.digest, 1 << 20)
            .await
            .unwrap(),
    )
    .unwrap();
    let config_ids: Vec<&str> = config["rootfs"]["diff_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect();
    assert_eq!(config_ids, want);
    assert_eq!(m.layers.len(), want.len());
    for (l, d) in m.layers.iter().zip(want) {
        assert!(
            foreign.iter().all(|f| f.digest != l.digest),
            "the pushed manifest references the foreign blob {}",
            l.digest
        );
        let blob = client
            .get_blob_bytes(repo, &l.digest, 16 << 20)
            .await
            .unwrap();
        assert_eq!(gunzip_digest(&blob), *d, "layer {}", l.digest);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn registry_planted_previous_tag_mapping_to_a_foreign_blob_is_not_reused() {
    let reg = Registry::start();
    let host = reg.host();
    let dir = tempfile::tempdir().unwrap();
    let ours_archive = ours(dir.path());
    let foreign_archive = foreign(dir.path());
    let ours_ids = diff_ids(&ours_archive);
    let client = Client::new(ClientOptions::default()).unwrap();
    let foreign_src = format!("docker-archive:{}", foreign_archive.display());
    let planted = plant(&client, &host, "golden/app", "1.0", &foreign_src, &ours_ids).await;

    let src = format!("docker-archive:{}", ours_archive.display());
    let run = golden_push(
        &[
            &src,
            "--to",
            &format!("{host}/golden/app:1.0"),
            "--format",
            "json",
        ],
        &[],
    )
    .await;
    run.ok();
    let report = run.json();
    for l in report["layers"].as_array().unwrap() {
        assert_eq!(l["action"], "uploaded", "{}\n{}", run.stdout, run.stderr);
    }
    // The warning names the layer (its diff-id), the blob and the repository.
    assert!(
        run.stderr.contains("warning:")
            && run.stderr.contains(&ours_ids[0])
            && run.stderr.contains(&planted[0].digest)
            && run.stderr.contains(&format!("{host}/golden/app")),
        "{}",
        run.stderr
    );
    let repo = Reference::parse(&format!("{host}/golden/app")).unwrap();
    let digest = report["digest"].as_str().unwrap();
    assert_own_layers(&client, &repo, digest, &ours_ids, &planted).await;
    // The tag moved to our manifest.
    assert_eq!(
        client
            .get_manifest(&repo.with_tag("1.0"))
            .await
            .unwrap()
            .digest,
        digest
    );

    // A genuine hint is still used: the re-push (fresh local cache) verifies the previous
    // tag's blobs and sends nothing.
    let again = golden_push(
        &[
            &src,
            "--to",
            &format!("{host}/golden/app:1.0"),
            "--format",
            "json",
        ],
        &[],
    )
    .await;
    again.ok();
    let r2 = again.json();
    assert_eq!(r2["digest"], digest);
    for l in r2["layers"].as_array().unwrap() {
        assert_eq!(l["action"], "exists", "{}", again.stderr);
    }
    assert!(!again.stderr.contains("warning:"), "{}", again.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn registry_planted_base_mapping_to_a_foreign_blob_is_not_mounted() {
    let reg = Registry::start();
    let host = reg.host();
    let dir = tempfile::tempdir().unwrap();
    let ours_archive = ours(dir.path());
    let foreign_archive = foreign(dir.path());
    let ours_ids = diff_ids(&ours_archive);
    let client = Client::new(ClientOptions::default()).unwrap();
    let foreign_src = format!("docker-archive:{}", foreign_archive.display());
    let planted = plant(&client, &host, "golden/base", "1", &foreign_src, &ours_ids).await;

    let src = format!("docker-archive:{}", ours_archive.display());
    let run = golden_push(
        &[
            &src,
            "--to",
            &format!("{host}/golden/app:1.0"),
            "--base",
            &format!("{host}/golden/base:1"),
            "--format",
            "json",
        ],
        &[],
    )
    .await;
    run.ok();
    let report = run.json();
    for l in report["layers"].as_array().unwrap() {
        assert_eq!(l["action"], "uploaded", "{}\n{}", run.stdout, run.stderr);
    }
    assert!(
        run.stderr.contains("warning:")
            && run.stderr.contains(&ours_ids[0])
            && run.stderr.contains(&format!("{host}/golden/base")),
        "{}",
        run.stderr
    );
    let repo = Reference::parse(&format!("{host}/golden/app")).unwrap();
    let digest = report["digest"].as_str().unwrap();
    assert_own_layers(&client, &repo, digest, &ours_ids, &planted).await;
    // Nothing foreign was mounted into the target repository either.
    for f in &planted {
        assert!(
            client
                .blob_exists(&repo, &f.digest)
                .await
                .unwrap()
                .is_none(),
            "{} was mounted into golden/app",
            f.digest
        );
    }
}

/// The layer tars of an archive written by [`make_archive`], in order.
fn layer_tars(archive: &std::path::Path) -> Vec<Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    let mut a = tar::Archive::new(std::fs::File::open(archive).unwrap());
    for e in a.entries().unwrap() {
        let mut e = e.unwrap();
        let p = e.path().unwrap().display().to_string();
        if let Some(i) = p
            .strip_suffix("/layer.tar")
            .and_then(|d| d.strip_prefix('l'))
        {
            let mut v = Vec::new();
            e.read_to_end(&mut v).unwrap();
            out.insert(i.parse::<usize>().unwrap(), v);
        }
    }
    out.into_values().collect()
}

fn gzip(parts: &[&[u8]]) -> Vec<u8> {
    use std::io::Write;
    let mut out = Vec::new();
    // One gzip member per part (a multi-member stream, as some tools write).
    for p in parts {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(p).unwrap();
        out.extend(e.finish().unwrap());
    }
    out
}

/// Upload `blobs` and point `repo:tag` at a manifest mapping `diff_ids` to them.
async fn plant_blobs(
    client: &Client,
    repo: &Reference,
    tag: &str,
    diff_ids: &[String],
    blobs: &[Vec<u8>],
) -> Vec<Descriptor> {
    let mut layers = Vec::new();
    for b in blobs {
        let d = sha256(b);
        client
            .upload_bytes(repo, Bytes::from(b.clone()), &d)
            .await
            .unwrap();
        layers.push(Descriptor::new(media::OCI_LAYER_GZIP, d, b.len() as u64));
    }
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64",
        "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }))
    .unwrap();
    let config_digest = sha256(&config);
    let config_size = config.len() as u64;
    client
        .upload_bytes(repo, Bytes::from(config), &config_digest)
        .await
        .unwrap();
    let mut m = ImageManifest::new(Descriptor::new(
        media::OCI_CONFIG,
        config_digest,
        config_size,
    ));
    m.layers = layers.clone();
    client
        .put_manifest(repo, tag, Bytes::from(to_bytes(&m)), media::OCI_MANIFEST)
        .await
        .unwrap();
    layers
}

#[tokio::test(flavor = "multi_thread")]
async fn registry_hinted_blobs_are_reused_only_when_they_gunzip_to_the_layer() {
    let reg = Registry::start();
    let host = reg.host();
    let dir = tempfile::tempdir().unwrap();
    let archive = ours(dir.path());
    let ids = diff_ids(&archive);
    let tars = layer_tars(&archive);
    assert_eq!(tars.iter().map(|t| sha256(t)).collect::<Vec<_>>(), ids);
    let client = Client::new(ClientOptions::default()).unwrap();
    let repo = Reference::parse(&format!("{host}/golden/app")).unwrap();
    let src = format!("docker-archive:{}", archive.display());
    let to = format!("{host}/golden/app:1.0");

    // Layer 1: another tool's valid compression of the same layer (two gzip members): reused.
    // Layer 2: the uncompressed tar, declared gzip: refused.
    let (half1, half2) = tars[0].split_at(tars[0].len() / 2);
    let planted = plant_blobs(
        &client,
        &repo,
        "1.0",
        &ids,
        &[gzip(&[half1, half2]), tars[1].clone()],
    )
    .await;
    let run = golden_push(&[&src, "--to", &to, "--format", "json"], &[]).await;
    run.ok();
    let r = run.json();
    assert_eq!(r["layers"][0]["digest"], planted[0].digest.as_str());
    assert_eq!(r["layers"][0]["action"], "exists", "{}", run.stderr);
    assert_eq!(r["layers"][1]["action"], "uploaded", "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "layer {}: the previous tag maps it to blob {}",
            ids[1], planted[1].digest
        )) && run.stderr.contains("is not a gzip stream"),
        "{}",
        run.stderr
    );
    assert_own_layers(
        &client,
        &repo,
        r["digest"].as_str().unwrap(),
        &ids,
        &planted[1..],
    )
    .await;

    // Layer 2 gzipped with more data after it (its sha256 differs, and the decoder stops at
    // the layer's size instead of reading what follows): refused.
    let longer = [tars[1].as_slice(), &vec![0u8; 4 << 20]].concat();
    let planted = plant_blobs(
        &client,
        &repo,
        "1.0",
        &ids,
        &[gzip(&[half1, half2]), gzip(&[&longer])],
    )
    .await;
    let run = golden_push(&[&src, "--to", &to, "--format", "json"], &[]).await;
    run.ok();
    let r = run.json();
    assert_eq!(r["layers"][0]["action"], "exists", "{}", run.stderr);
    assert_ne!(r["layers"][1]["digest"], planted[1].digest.as_str());
    assert!(
        run.stderr.contains(&planted[1].digest)
            && run.stderr.contains("decompresses to more than the layer's"),
        "{}",
        run.stderr
    );
    assert_own_layers(
        &client,
        &repo,
        r["digest"].as_str().unwrap(),
        &ids,
        &planted[1..],
    )
    .await;
}
