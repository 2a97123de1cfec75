//! Phase 5: compress the layers to send, largest first (parallel deterministic gzip with all
//! cores), and upload each (chunked, bounded concurrency) while the next compresses. A layer
//! bigger than a chunk can be uploaded while it compresses (`--stream`). Just before
//! uploading, `HEAD` again: a blob uploaded by an interrupted earlier run is skipped.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use golden_contracts::units::human_bytes;
use golden_oci::Reference;
use golden_registry::{Client, RegistryError, UploadSession, Uploaded};
use tokio::sync::Semaphore;
use tokio::sync::mpsc::Sender;
use tokio::task::{JoinHandle, JoinSet};

use super::layers::{LayerPlan, Plan};
use super::{BlobReport, Session, short};
use crate::Log;
use crate::error::{Error, Result};
use crate::gzip;
use crate::source::{self, Archive, ImageInput, ImageMeta};
use crate::stream::ChannelReader;
use golden_engine::layer_store::LayerReader;

/// A finished layer upload: diff-id, the compressed layer, the action, seconds.
type Sent = (String, gzip::Compressed, &'static str, f64);

/// A streamed upload running while its layer compresses.
type Streaming = JoinHandle<Result<Uploaded, RegistryError>>;

/// One layer to send: its diff-id, its index in the image, its uncompressed size (0: unknown).
struct ToSend<'p> {
    n: usize,
    diff_id: &'p str,
    idx: usize,
    size: u64,
}

impl Session<'_> {
    /// Phase 5: report the planned layers, then compress and upload the others; every layer's report
    /// by diff-id.
    pub(super) async fn upload_layers(
        &mut self,
        plan: LayerPlan,
    ) -> Result<HashMap<String, BlobReport>> {
        let LayerPlan {
            mut plans, to_send, ..
        } = plan;
        let mut reports: HashMap<String, BlobReport> = HashMap::new();
        for (d, p) in &plans {
            if let Plan::Done(r) = p {
                let mut r = r.clone();
                r.diff_id = Some(d.clone());
                self.log.line(&format!(
                    "  layer {} {:>10}  {}{}",
                    short(&r.digest),
                    human_bytes(r.size),
                    r.action,
                    r.from
                        .as_ref()
                        .map(|f| format!(" ({f})"))
                        .unwrap_or_default()
                ));
                reports.insert(d.clone(), r);
            }
        }
        if to_send.is_empty() {
            return Ok(reports);
        }
        let order = self.send_order(&to_send).await?;
        let sem = Arc::new(Semaphore::new(self.opts.jobs.max(1)));
        let mut uploads = JoinSet::new();
        for (n, (d, idx, size)) in order.iter().enumerate() {
            let session = match plans.remove(d) {
                Some(Plan::Send(s)) => s,
                _ => None,
            };
            let layer = ToSend {
                n,
                diff_id: d,
                idx: *idx,
                size: *size,
            };
            self.send_layer(&layer, session, &sem, &mut uploads).await?;
            // Report uploads that are done while the next layer compresses.
            while let Some(res) = uploads.try_join_next() {
                let (d, c, action, secs) = res.map_err(Error::task("upload task"))??;
                report_upload(self.log, &mut reports, d, &c, action, secs);
            }
        }
        while let Some(res) = uploads.join_next().await {
            let (d, c, action, secs) = res.map_err(Error::task("upload task"))??;
            report_upload(self.log, &mut reports, d, &c, action, secs);
        }
        Ok(reports)
    }

    /// The layers to send, largest first (so the big uploads overlap the remaining
    /// compression), then in image order: (diff-id, index, uncompressed size).
    async fn send_order(&self, to_send: &[String]) -> Result<Vec<(String, usize, u64)>> {
        let mut order: Vec<(String, usize, u64)> = Vec::new();
        for d in to_send {
            let idx = self
                .meta
                .diff_ids
                .iter()
                .position(|x| x == d)
                .ok_or_else(|| Error::Internal(format!("unknown diff-id {d}")))?;
            let size = match (&self.archive, &self.store) {
                (Some(a), _) => a.layers[idx].1,
                (None, Some(s)) => {
                    let l = s.layers[idx].clone();
                    tokio::task::spawn_blocking(move || LayerReader::tar_size(&l))
                        .await
                        .map_err(Error::task("layer sizer"))?
                        .unwrap_or(0)
                }
                _ => 0,
            };
            order.push((d.clone(), idx, size));
        }
        order.sort_by(|a, b| b.2.cmp(&a.2).then(a.1.cmp(&b.1)));
        Ok(order)
    }

    /// Compress one layer (streaming it when it is bigger than a chunk), put it in the cache
    /// and start its upload.
    async fn send_layer(
        &mut self,
        layer: &ToSend<'_>,
        mut session: Option<UploadSession>,
        sem: &Arc<Semaphore>,
        uploads: &mut JoinSet<Result<Sent, RegistryError>>,
    ) -> Result<()> {
        let d = layer.diff_id;
        let out = self.work_path()?.join(format!("layer-{}.gz", layer.n));
        let t = Instant::now();
        // A layer bigger than a chunk is uploaded while it compresses; its file is kept
        // for a retry. Its digest is only known at the end: the registry is asked then.
        let mut streaming = None;
        let mut tx = None;
        if self.opts.stream && layer.size > self.client.options().chunk_size as u64 {
            let (sender, rx) = tokio::sync::mpsc::channel::<Bytes>(8);
            let (client, target, sem, s) = (
                self.client.clone(),
                self.target.clone(),
                sem.clone(),
                session.take(),
            );
            streaming = Some(tokio::spawn(async move {
                let _permit = sem.acquire_owned().await;
                let mut reader = ChannelReader::new(rx);
                client.upload_streaming(&target, &mut reader, s).await
            }));
            tx = Some(sender);
        }
        let (compressed, stream_dirty) = self.compress_from_store(layer, &out, &tx).await?;
        let c = match compressed {
            Some(c) => c,
            None => {
                // A stream that already carried bytes of a failed attempt cannot be reused:
                // its upload fails and the file is uploaded instead.
                let tx2 = if stream_dirty { None } else { tx.clone() };
                self.compress_from_archive(layer, &out, tx2).await?
            }
        };
        drop(tx);
        self.log.detail(&format!(
            "compressed layer {} {} → {} in {:.1} s",
            short(&c.digest),
            human_bytes(c.uncompressed),
            human_bytes(c.size),
            t.elapsed().as_secs_f64()
        ));
        if let Some(cache) = &self.cache {
            cache.put(d, &c.digest, c.size);
        }
        uploads.spawn(upload_layer(
            self.client.clone(),
            self.target.clone(),
            sem.clone(),
            d.to_string(),
            c,
            out,
            streaming,
            session,
        ));
        Ok(())
    }

    fn work_path(&self) -> Result<PathBuf> {
        Ok(self
            .work
            .as_ref()
            .ok_or_else(|| Error::Internal("no work directory".into()))?
            .path()
            .to_path_buf())
    }

    /// Compress the layer from the engine's layer store, if it is read: the result when it
    /// hashes to the diff-id, and whether the stream carried bytes that are not the layer.
    async fn compress_from_store(
        &mut self,
        layer: &ToSend<'_>,
        out: &std::path::Path,
        tx: &Option<Sender<Bytes>>,
    ) -> Result<(Option<gzip::Compressed>, bool)> {
        let (d, idx) = (layer.diff_id, layer.idx);
        let (level, threads) = (self.opts.level, self.opts.threads.max(1));
        let s = match (&self.archive, &self.store) {
            (None, Some(s)) => s,
            _ => return Ok((None, false)),
        };
        let l = s.layers[idx].clone();
        let (out2, tx2) = (out.to_path_buf(), tx.clone());
        let r = tokio::task::spawn_blocking(move || -> std::io::Result<gzip::Compressed> {
            let mut reader = LayerReader::open(&l)?;
            let f = gzip::TeeWriter::new(std::fs::File::create(&out2)?, tx2.clone());
            let c = gzip::compress_reader(&mut reader, f, level, threads)?;
            end_stream(tx2);
            Ok(c)
        })
        .await
        .map_err(Error::task("compressor"))?;
        let stream_dirty = !matches!(&r, Ok(c) if c.diff_id == *d);
        let mut compressed = None;
        match r {
            Ok(c) if c.diff_id == *d => {
                self.used_store = true;
                compressed = Some(c);
            }
            Ok(c) => self.log.detail(&format!(
                "layer store copy of layer {} hashes to {}, not {d}: using the engine export",
                idx + 1,
                c.diff_id
            )),
            Err(e) => self.log.detail(&format!(
                "layer store unreadable for layer {} ({e}): using the engine export",
                idx + 1
            )),
        }
        Ok((compressed, stream_dirty))
    }

    /// Compress the layer from the archive (exported from the engine first if needed); it must
    /// hash to its diff-id.
    async fn compress_from_archive(
        &mut self,
        layer: &ToSend<'_>,
        out: &std::path::Path,
        tx2: Option<Sender<Bytes>>,
    ) -> Result<gzip::Compressed> {
        let (d, idx) = (layer.diff_id, layer.idx);
        let (level, threads) = (self.opts.level, self.opts.threads.max(1));
        if self.archive.is_none() {
            self.archive = Some(self.export().await?);
            self.exported = true;
        }
        let a = self
            .archive
            .as_ref()
            .ok_or_else(|| Error::Internal("layers to send but no image data".into()))?;
        let (off, len) = a.layers[idx];
        let (src, out2) = (a.path.clone(), out.to_path_buf());
        let c = tokio::task::spawn_blocking(move || -> std::io::Result<gzip::Compressed> {
            use std::io::{Read, Seek, SeekFrom};
            let mut input = std::fs::File::open(&src)?;
            input.seek(SeekFrom::Start(off))?;
            let f = gzip::TeeWriter::new(std::fs::File::create(&out2)?, tx2.clone());
            let c = gzip::compress_stream(&mut input.take(len), len, f, level, threads)?;
            end_stream(tx2);
            Ok(c)
        })
        .await
        .map_err(Error::task("compressor"))?
        .map_err(|source| Error::File {
            what: format!(
                "failed to compress layer {} of `{}`",
                idx + 1,
                self.opts.image
            ),
            source,
        })?;
        if c.diff_id != *d {
            return Err(Error::Image(format!(
                "layer {} of `{}` does not match its diff-id (expected {d}, read {}): the image data is corrupt",
                idx + 1,
                self.opts.image,
                c.diff_id
            )));
        }
        Ok(c)
    }

    /// Where the layer bytes came from: `none`, `archive`, `engine-layer-store` or
    /// `engine-export`.
    pub(super) fn layer_source(&self, to_send: &[String]) -> &'static str {
        if to_send.is_empty() {
            "none"
        } else if matches!(self.input, ImageInput::Archive(_)) {
            "archive"
        } else if self.used_store && !self.exported {
            "engine-layer-store"
        } else {
            "engine-export"
        }
    }
}

/// Upload one compressed layer: the streamed upload when it ran and stored the right digest,
/// else the file (unless the repository has it by now).
#[allow(clippy::too_many_arguments)]
async fn upload_layer(
    client: Client,
    target: Reference,
    sem: Arc<Semaphore>,
    d: String,
    c: gzip::Compressed,
    out: PathBuf,
    streaming: Option<Streaming>,
    session: Option<UploadSession>,
) -> Result<Sent, RegistryError> {
    let t = Instant::now();
    if let Some(task) = streaming {
        match task.await {
            Ok(Ok(u)) if u.digest == c.digest => {
                let _ = std::fs::remove_file(&out);
                let action = if u.already_present {
                    "exists"
                } else {
                    "uploaded"
                };
                return Ok((d, c, action, t.elapsed().as_secs_f64()));
            }
            Ok(Ok(u)) => tracing::warn!(
                "streamed upload of layer {d} hashed to {}, expected {}: uploading the file",
                u.digest,
                c.digest
            ),
            Ok(Err(e)) => tracing::warn!(
                "streamed upload of {} failed ({e}): uploading the file",
                c.digest
            ),
            Err(e) => tracing::warn!("streamed upload task stopped ({e}): uploading the file"),
        }
    }
    let _permit = sem.acquire_owned().await;
    let action = if head_then_upload(&client, &target, &c.digest, session, false, |s| {
        let (client, target, out, digest) = (
            client.clone(),
            target.clone(),
            out.clone(),
            c.digest.clone(),
        );
        async move {
            client
                .upload_file(&target, &out, &digest, Some(s))
                .await
                .map(|_| ())
        }
    })
    .await?
    {
        "uploaded"
    } else {
        "exists"
    };
    let _ = std::fs::remove_file(&out);
    Ok((d, c, action, t.elapsed().as_secs_f64()))
}

/// Export the engine image into `dir` and check it is the image that was inspected.
pub(super) async fn export(
    engine: Option<&golden_engine::Engine>,
    id: Option<&str>,
    meta: &ImageMeta,
    image: &str,
    dir: &std::path::Path,
    log: &Log,
) -> Result<Archive> {
    let (Some(e), Some(id)) = (engine, id) else {
        return Err(Error::Internal(format!(
            "no engine to export `{image}` from"
        )));
    };
    let t = Instant::now();
    let a = source::export_engine_image(e, id, dir).await?;
    if a.meta.diff_ids != meta.diff_ids {
        return Err(Error::Image(format!(
            "the engine's export of `{image}` does not match its inspect data (diff-ids differ): was the image replaced during the push?"
        )));
    }
    log.detail(&format!(
        "exported {image} from the engine in {:.1} s",
        t.elapsed().as_secs_f64()
    ));
    Ok(a)
}

/// Ask whether the repository has `digest` while opening an upload session (one round trip
/// instead of two); upload with `send` when it does not. True when uploaded.
pub(super) async fn head_then_upload<F, Fut>(
    client: &Client,
    target: &Reference,
    digest: &str,
    session: Option<UploadSession>,
    known_absent: bool,
    send: F,
) -> Result<bool, RegistryError>
where
    F: FnOnce(UploadSession) -> Fut,
    Fut: std::future::Future<Output = Result<(), RegistryError>>,
{
    if known_absent {
        let s = match session {
            Some(s) => s,
            None => client.start_upload(target).await?,
        };
        send(s).await?;
        return Ok(true);
    }
    let (exists, session) = match session {
        Some(s) => (client.blob_exists(target, digest).await?, s),
        None => {
            let (e, s) = tokio::join!(
                client.blob_exists(target, digest),
                client.start_upload(target)
            );
            (e?, s?)
        }
    };
    if exists.is_some() {
        let (client, target) = (client.clone(), target.clone());
        tokio::spawn(async move { client.cancel_upload_session(&target, &session).await });
        return Ok(false);
    }
    send(session).await?;
    Ok(true)
}

/// Tell the streaming upload that the layer is complete (an empty chunk), so it commits.
fn end_stream(tx: Option<tokio::sync::mpsc::Sender<Bytes>>) {
    if let Some(tx) = tx {
        let _ = tx.blocking_send(Bytes::new());
    }
}

fn report_upload(
    log: &Log,
    reports: &mut HashMap<String, BlobReport>,
    d: String,
    c: &gzip::Compressed,
    action: &str,
    secs: f64,
) {
    log.line(&format!(
        "  layer {} {:>10}  {action} ({secs:.1} s)",
        short(&c.digest),
        human_bytes(c.size)
    ));
    reports.insert(
        d.clone(),
        BlobReport {
            diff_id: Some(d),
            digest: c.digest.clone(),
            size: c.size,
            action: action.into(),
            from: None,
        },
    );
}
