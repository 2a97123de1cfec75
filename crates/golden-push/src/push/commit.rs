//! Phases 6 and 7: the config (its upload ran next to the layers), then the manifest by digest.
//! No tag moves here: the caller attaches the referrers to the digest first, then
//! [`crate::tags::set_tags`] moves the tags one after the other.

use std::collections::{BTreeMap, HashMap};

use bytes::Bytes;
use golden_contracts::units::human_bytes;
use golden_oci::{Reference, media};
use golden_registry::types::{Descriptor, ImageManifest, to_bytes};

use super::prepare::ConfigTask;
use super::{BASE_DIGEST_LABEL, BASE_NAME_LABEL, BlobReport, PushReport, Session, short};
use crate::error::{Error, Result};

/// Manifest annotations: `org.opencontainers.image.*` labels, the resolved base image, then the
/// explicit ones.
pub fn annotations_for(
    labels: &BTreeMap<String, String>,
    base: Option<(&Reference, &str)>,
    extra: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut a: BTreeMap<String, String> = labels
        .iter()
        .filter(|(k, _)| k.starts_with("org.opencontainers.image."))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if let Some((name, digest)) = base {
        a.entry(BASE_DIGEST_LABEL.into())
            .or_insert_with(|| digest.to_string());
        let mut shown = name.clone();
        shown.digest = None;
        a.entry(BASE_NAME_LABEL.into())
            .or_insert_with(|| shown.to_string());
    }
    for (k, v) in extra {
        a.insert(k.clone(), v.clone());
    }
    a
}

/// The image manifest for `config` and `layers`.
pub fn build_manifest(
    config: Descriptor,
    layers: Vec<Descriptor>,
    annotations: BTreeMap<String, String>,
) -> ImageManifest {
    let mut m = ImageManifest::new(config);
    m.layers = layers;
    m.annotations = annotations;
    m
}

impl Session<'_> {
    /// Phase 6: wait for the config upload; its size and action.
    pub(super) async fn finish_config(
        &self,
        config_present: Option<u64>,
        config_task: Option<ConfigTask>,
    ) -> Result<(u64, &'static str)> {
        let (config_size, config_action) = match config_task {
            None => (config_present.unwrap_or(0), "exists"),
            Some(task) => task.await.map_err(Error::task("config upload"))??,
        };
        let config_size = if config_size == 0 {
            self.archive
                .as_ref()
                .map(|a| a.config_bytes.len() as u64)
                .or(self.store_config.as_ref().map(|b| b.len() as u64))
                .unwrap_or(0)
        } else {
            config_size
        };
        self.log.line(&format!(
            "  config {} {:>9}  {config_action}",
            short(&self.config_digest),
            human_bytes(config_size)
        ));
        Ok((config_size, config_action))
    }

    /// Phase 7: store the manifest by digest (no tag moves) and build the report.
    pub(super) async fn commit(
        self,
        reports: HashMap<String, BlobReport>,
        (config_size, config_action): (u64, &'static str),
        base_resolved: Option<(Reference, String)>,
        layer_source: &'static str,
    ) -> Result<PushReport> {
        let mut layers = Vec::new();
        let mut layer_reports = Vec::new();
        for d in &self.meta.diff_ids {
            let r = reports
                .get(d)
                .ok_or_else(|| Error::Internal(format!("no blob for layer {d}")))?;
            layers.push(Descriptor::new(
                media::OCI_LAYER_GZIP,
                r.digest.clone(),
                r.size,
            ));
            layer_reports.push(r.clone());
        }
        let annotations = annotations_for(
            &self.meta.labels,
            base_resolved.as_ref().map(|(r, d)| (r, d.as_str())),
            &self.opts.annotations,
        );
        let manifest = build_manifest(
            Descriptor::new(media::OCI_CONFIG, self.config_digest.clone(), config_size),
            layers,
            annotations,
        );
        let bytes = Bytes::from(to_bytes(&manifest));
        let size = bytes.len() as u64;
        let digest = golden_registry::digest::sha256_digest(&bytes);
        self.client
            .put_manifest(&self.target, &digest, bytes.clone(), media::OCI_MANIFEST)
            .await
            .map_err(Error::registry_at(
                "failed to push the manifest (no tag was changed)",
            ))?;
        let reference = format!("{}@{digest}", self.target.name());
        self.log.line(&format!(
            "  manifest {} stored (no tag moved yet)",
            short(&digest)
        ));
        Ok(PushReport {
            digest,
            reference,
            tags: Vec::new(),
            pending_tags: self.tags,
            repository: self.target.clone(),
            manifest: bytes,
            architecture: self.meta.platform.architecture.clone(),
            media_type: media::OCI_MANIFEST.into(),
            size,
            platform: self.meta.platform.display(),
            config: BlobReport {
                diff_id: None,
                digest: self.config_digest,
                size: config_size,
                action: config_action.into(),
                from: None,
            },
            layers: layer_reports,
            exported: self.exported,
            layer_source: layer_source.into(),
            seconds: self.started.elapsed().as_secs_f64(),
        })
    }
}
