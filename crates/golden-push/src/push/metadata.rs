//! Phase 1: the image's metadata (engine `inspect` or the indexed archive) and, at the same
//! time, the registry's view of the target tag.

use bytes::Bytes;
use golden_oci::Reference;
use golden_registry::types::ParsedManifest;
use golden_registry::{Client, FetchedManifest, RegistryError, Scope};

use super::PushOptions;
use super::layers::tolerate_missing;
use crate::error::{Error, Result};
use crate::source::{self, Archive, GraphDriver, ImageInput, ImageMeta};

/// What phase 1 learnt about the image.
pub(super) struct Image {
    pub engine: Option<golden_engine::Engine>,
    pub engine_id: Option<String>,
    pub meta: ImageMeta,
    pub archive: Option<Archive>,
    pub driver: GraphDriver,
}

/// The manifest the target tag points at, and its config (digest, bytes) when it is an image.
pub(super) type Previous = (Option<FetchedManifest>, Option<(String, Bytes)>);

/// Read the image's metadata while the registry is asked for the target tag's manifest.
pub(super) async fn load(
    client: &Client,
    opts: &PushOptions,
    target: &Reference,
    tag: &str,
    input: &ImageInput,
) -> Result<(Image, Previous)> {
    let (metadata, previous) = tokio::join!(image(input), previous(client, opts, target, tag));
    Ok((metadata?, previous?))
}

async fn image(input: &ImageInput) -> Result<Image> {
    match input {
        ImageInput::Archive(p) => {
            let p = p.clone();
            let a = tokio::task::spawn_blocking(move || source::read_archive(&p))
                .await
                .map_err(Error::task("archive indexer"))??;
            Ok(Image {
                engine: None,
                engine_id: None,
                meta: a.meta.clone(),
                archive: Some(a),
                driver: source::GraphDriver::default(),
            })
        }
        ImageInput::Engine(name) => {
            let e = golden_engine::Engine::connect()
                .await
                .map_err(Error::engine("failed to connect to the Docker engine"))?;
            let (id, meta, d) = source::engine_meta(&e, name).await?;
            Ok(Image {
                engine: Some(e),
                engine_id: Some(id),
                meta,
                archive: None,
                driver: d,
            })
        }
    }
}

async fn previous(
    client: &Client,
    opts: &PushOptions,
    target: &Reference,
    tag: &str,
) -> Result<Previous, RegistryError> {
    client
        .authorize(&target.registry, &[Scope::push(&target.repository)])
        .await?;
    let m = tolerate_missing(client.try_get_manifest(&opts.to.with_tag(tag)).await)?;
    // Its config too (it maps diff-ids to blobs), while the engine is still answering.
    let mut config = None;
    if let Some(f) = &m
        && let Ok(ParsedManifest::Image(im)) = f.parse()
        && let Ok(b) = client
            .get_blob_bytes(target, &im.config.digest, 16 << 20)
            .await
    {
        config = Some((im.config.digest.clone(), b));
    }
    Ok((m, config))
}
