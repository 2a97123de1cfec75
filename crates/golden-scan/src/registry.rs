//! Registry source (`registry:REF`, or a reference naming a registry host that the engine does
//! not have): the manifest (an index picks linux/<this machine's arch>), the config, then each
//! layer blob streamed from the registry straight into the layer walker — digest-verified by
//! golden-registry, never written to disk. Auth comes from golden-registry's detection
//! (GOLDEN_AUTH, ACR/Azure variables, GOLDEN_REGISTRY_*, docker config, anonymous).

use golden_oci::Reference;
use golden_registry::{Client, ClientOptions, ParsedManifest};
use tokio::io::AsyncWriteExt;
use tokio_util::io::SyncIoBridge;

use crate::archive::{Collector, Image, Resolved, arch, blob_path, pick_manifest};
use crate::error::ScanError;
use crate::layer;
use crate::limits::{JSON_LIMIT, Limits};

fn err(reference: &str, e: impl std::fmt::Display) -> ScanError {
    ScanError::Registry(format!(
        "failed to read `{reference}` from its registry: {e}"
    ))
}

/// Analyse an image in a registry. The image's digest is the one the reference resolves to
/// (the index digest for a multi-platform image).
pub async fn analyze(reference: &str, limits: Limits) -> Result<Image, ScanError> {
    let r = Reference::parse(reference).map_err(|e| ScanError::Usage(e.to_string()))?;
    let client = Client::new(ClientOptions::default()).map_err(|e| err(reference, e))?;
    let top = client
        .get_manifest(&r)
        .await
        .map_err(|e| err(reference, e))?;
    let top_digest = top.digest.clone();
    let mut what = format!("registry image {reference}");
    let mut fetched = top;
    let mut collector_warnings = Vec::new();
    let manifest = loop {
        match fetched.parse().map_err(|e| err(reference, e))? {
            ParsedManifest::Image(m) => break m,
            ParsedManifest::Index(ix) => {
                let d = pick_manifest(&ix.manifests)
                    .ok_or_else(|| err(reference, "the index lists no image manifest"))?;
                if let Some(p) = &d.platform
                    && (p.os != "linux" || p.architecture != arch())
                {
                    collector_warnings.push(format!(
                        "`{reference}` has no linux/{} image; scanned {}",
                        arch(),
                        p.display()
                    ));
                }
                what = format!("registry image {reference} ({})", d.digest);
                fetched = client
                    .get_manifest(&r.with_digest(&d.digest))
                    .await
                    .map_err(|e| err(reference, e))?;
            }
        }
    };
    let config = client
        .get_blob_bytes(&r, &manifest.config.digest, JSON_LIMIT)
        .await
        .map_err(|e| err(reference, e))?;

    if manifest.layers.len() > crate::limits::MAX_LAYERS {
        return Err(ScanError::Limit {
            what,
            detail: format!(
                "the manifest lists {} layers, more than the {} an image may have",
                manifest.layers.len(),
                crate::limits::MAX_LAYERS
            ),
        });
    }
    let mut c = Collector::with_limits(&what, limits);
    for w in collector_warnings {
        c.warn(w);
    }
    let config_path = blob_path(&manifest.config.digest);
    c.add_json(&config_path, config.to_vec());

    for l in &manifest.layers {
        let name = blob_path(&l.digest);
        let mut download = client
            .blob_download(&r, &l.digest)
            .await
            .map_err(|e| err(reference, e))?;
        let (mut writer, reader) = tokio::io::duplex(1 << 20);
        let bridge = SyncIoBridge::new(reader);
        let layer_name = name.clone();
        let layer_limits = c.limits().clone();
        let walker = tokio::task::spawn_blocking(move || {
            let mut bridge = bridge;
            let r = layer::walk_stream(&mut bridge, &layer_name, &layer_limits);
            // Drain what is left so the feeding side never blocks on a full pipe.
            let _ = std::io::copy(&mut bridge, &mut std::io::sink());
            r
        });
        let feed = async {
            while let Some(chunk) = download.chunk().await? {
                if writer.write_all(&chunk).await.is_err() {
                    // The walker stopped (its error is reported); keep verifying nothing more.
                    break;
                }
            }
            drop(writer);
            Ok::<(), golden_registry::RegistryError>(())
        };
        let (fed, walked) = tokio::join!(feed, walker);
        fed.map_err(|e| err(reference, e))?;
        let facts = walked
            .map_err(|e| {
                err(
                    reference,
                    format!("the layer walker stopped unexpectedly: {e}"),
                )
            })?
            .map_err(|source| ScanError::entry(&what, &name, source))?;
        c.add_layer(&name, facts);
    }
    c.assemble(Resolved {
        config: config_path,
        layers: manifest
            .layers
            .iter()
            .map(|l| blob_path(&l.digest))
            .collect(),
        tags: vec![reference.to_string()],
        digest: Some(top_digest),
    })
}
