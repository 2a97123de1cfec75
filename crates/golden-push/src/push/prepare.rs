//! Phase 4: where bytes come from, only when some are needed: the archive, the local engine's
//! layer store (verified), or an engine export (an unchanged re-push never exports anything).
//! The config upload starts here, next to the layers.

use golden_engine::layer_store::LayerStore;
use golden_registry::RegistryError;
use tokio::task::JoinHandle;

use super::Session;
use super::layers::LayerPlan;
use super::upload::{export, head_then_upload};
use crate::error::{Error, Result};

/// The config upload: its size and `uploaded` or `exists`.
pub(super) type ConfigTask = JoinHandle<Result<(u64, &'static str), RegistryError>>;

impl Session<'_> {
    /// Phase 4: create the work directory, find the layer bytes (layer store or export) when a layer
    /// or the config must be sent, and start the config upload.
    pub(super) async fn prepare(&mut self, plan: &LayerPlan) -> Result<Option<ConfigTask>> {
        let work = match &self.opts.work_dir {
            Some(d) => {
                std::fs::create_dir_all(d).map_err(Error::file(format!(
                    "failed to create work dir `{}`",
                    d.display()
                )))?;
                tempfile::Builder::new()
                    .prefix("golden-push-")
                    .tempdir_in(d)
            }
            None => tempfile::Builder::new().prefix("golden-push-").tempdir(),
        }
        .map_err(Error::file("failed to create a temporary directory"))?;
        self.work = Some(work);
        let needs_bytes = !plan.to_send.is_empty() || plan.config_present.is_none();
        if needs_bytes && self.archive.is_none() && self.opts.layer_store {
            self.locate_store(plan);
        }
        if needs_bytes && self.archive.is_none() && self.store.is_none() {
            self.archive = Some(self.export().await?);
            self.exported = true;
        }
        self.config_digest = match &self.archive {
            Some(a) => a.meta.config_digest.clone(),
            None => self.meta.config_digest.clone(),
        };
        self.spawn_config_upload(plan.config_present)
    }

    /// Use the local engine's overlay2 layer store for the layers to send (and the config when
    /// it is missing), if it has them all.
    fn locate_store(&mut self, plan: &LayerPlan) {
        let Some(id) = &self.engine_id else { return };
        let meta = &self.meta;
        let needed: Vec<usize> = plan
            .to_send
            .iter()
            .filter_map(|d| meta.diff_ids.iter().position(|x| x == d))
            .collect();
        self.store = LayerStore::locate(
            &self.driver.name,
            self.driver.upper_dir.as_deref(),
            id,
            &meta.diff_ids,
            &needed,
        );
        if let Some(s) = &self.store
            && plan.config_present.is_none()
        {
            self.store_config = s.config_bytes(id);
            if self.store_config.is_none() {
                self.store = None;
            }
        }
        if self.store.is_some() {
            self.log.detail("reading layers from the local engine's layer store (verified against the diff-ids)");
        }
    }

    /// Export the engine image into the work directory (checked against the inspect data).
    pub(super) async fn export(&self) -> Result<crate::source::Archive> {
        let work = self
            .work
            .as_ref()
            .ok_or_else(|| Error::Internal("no work directory".into()))?;
        export(
            self.engine.as_ref(),
            self.engine_id.as_deref(),
            &self.meta,
            &self.opts.image,
            work.path(),
            self.log,
        )
        .await
    }

    /// The config goes up next to the layers (unless the target has it).
    fn spawn_config_upload(&self, config_present: Option<u64>) -> Result<Option<ConfigTask>> {
        if config_present.is_some() && self.config_digest == self.meta.config_digest {
            return Ok(None);
        }
        let bytes = match (&self.archive, &self.store_config) {
            (Some(a), _) => a.config_bytes.clone(),
            (None, Some(b)) => b.clone(),
            (None, None) => {
                return Err(Error::Internal("config missing but no image data".into()));
            }
        };
        let (client, target, digest) = (
            self.client.clone(),
            self.target.clone(),
            self.config_digest.clone(),
        );
        // The planning step asked already when the digest is the one it asked about.
        let known_absent =
            config_present.is_none() && self.config_digest == self.meta.config_digest;
        Ok(Some(tokio::spawn(async move {
            let n = bytes.len() as u64;
            let sent = head_then_upload(&client, &target, &digest, None, known_absent, |s| {
                let (client, target, digest) = (client.clone(), target.clone(), digest.clone());
                async move {
                    let mut data: &[u8] = &bytes;
                    client
                        .upload_reader(&target, &mut data, &digest, Some(s))
                        .await
                        .map(|_| ())
                }
            })
            .await?;
            Ok::<_, RegistryError>((n, if sent { "uploaded" } else { "exists" }))
        })))
    }
}
