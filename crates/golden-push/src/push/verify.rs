//! Registry hints are checked before they are reused: the hinted blob is downloaded, gunzipped
//! and hashed, and reused only when the hash is the layer's diff-id.

use std::collections::HashMap;

use bytes::Bytes;
use golden_oci::Reference;
use golden_registry::{Client, RegistryError};
use tokio::sync::Semaphore;

use super::layers::Hint;
use crate::Log;
use crate::cache::LayerCache;

/// Checks registry hints before they are reused: downloads the hinted blob (streamed, never
/// more than the size it should have), gunzips it and compares the sha256 of the uncompressed
/// stream with the layer's diff-id.
pub(super) struct Verifier<'a> {
    /// Downloads at once (`--jobs`).
    pub sem: Semaphore,
    /// Uncompressed size of each layer, when known (archives): a longer stream is refused
    /// as soon as it passes it.
    pub sizes: HashMap<String, u64>,
    /// Verified mappings are remembered here (a rerun trusts them without downloading).
    pub cache: Option<&'a LayerCache>,
    pub log: &'a Log,
}

/// Why a hinted blob was not reused.
enum Rejection {
    /// Its content is not the layer (or not a gzip stream of it): warned about.
    Content(String),
    /// It could not be read (transport, registry error): reported as a detail.
    Unreadable(String),
}

/// A blocking `Read` over the chunks of a download (for the gzip decoder on a blocking
/// thread). The sender closing is the end of the stream.
struct ChunkReader {
    rx: tokio::sync::mpsc::Receiver<Bytes>,
    cur: Bytes,
}

impl std::io::Read for ChunkReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.cur.is_empty() {
            match self.rx.blocking_recv() {
                Some(b) => self.cur = b,
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.cur.len());
        buf[..n].copy_from_slice(&self.cur[..n]);
        bytes::Buf::advance(&mut self.cur, n);
        Ok(n)
    }
}

struct HashWriter(golden_registry::digest::Sha256Hasher);

impl std::io::Write for HashWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Verifier<'_> {
    /// Reuse `hint` for layer `diff_id` only if blob `hint.digest` in `repo` is exactly `size`
    /// bytes and gunzips to `diff_id`. A verified mapping goes to the local cache; a rejected
    /// one is reported (a warning naming the layer, the blob and the repository).
    pub(super) async fn check(
        &self,
        client: &Client,
        repo: &Reference,
        diff_id: &str,
        hint: &Hint,
        size: u64,
    ) -> bool {
        let result = {
            let _permit = self.sem.acquire().await;
            uncompressed_digest(
                client,
                repo,
                &hint.digest,
                size,
                self.sizes.get(diff_id).copied(),
            )
            .await
        };
        let what = format!(
            "layer {diff_id}: the {} maps it to blob {} in {}",
            hint.origin,
            hint.digest,
            repo.name()
        );
        match result {
            Ok(d) if d == diff_id => {
                if let Some(c) = self.cache {
                    c.put(diff_id, &hint.digest, size);
                }
                true
            }
            Ok(d) => {
                self.log.warning(&format!(
                    "{what}, whose content is another layer ({d}): not reused, this image's own layer is uploaded"
                ));
                false
            }
            Err(Rejection::Content(why)) => {
                self.log.warning(&format!(
                    "{what}, which {why}: not reused, this image's own layer is uploaded"
                ));
                false
            }
            Err(Rejection::Unreadable(why)) => {
                self.log.detail(&format!(
                    "{what}, which could not be verified ({why}): this image's own layer is uploaded"
                ));
                false
            }
        }
    }
}

/// The diff-id of blob `digest` in `repo`: downloaded (refused beyond `size` bytes, and unless
/// exactly `size` bytes), its digest checked, gunzipped (several members allowed, nothing
/// after them) on a blocking thread and hashed, never kept.
async fn uncompressed_digest(
    client: &Client,
    repo: &Reference,
    digest: &str,
    size: u64,
    uncompressed: Option<u64>,
) -> Result<String, Rejection> {
    use std::io::Read;
    let mut download = client
        .blob_download(repo, digest)
        .await
        .map_err(|e| Rejection::Unreadable(e.to_string()))?;
    if let Some(n) = download.size.filter(|n| *n != size) {
        return Err(Rejection::Content(format!(
            "is {n} bytes, not the {size} bytes it should have"
        )));
    }
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(8);
    let decoder = tokio::task::spawn_blocking(move || -> std::io::Result<(String, u64)> {
        let reader = ChunkReader {
            rx,
            cur: Bytes::new(),
        };
        let limit = uncompressed.map_or(u64::MAX, |n| n.saturating_add(1));
        let mut h = HashWriter(golden_registry::digest::Sha256Hasher::new());
        let n = std::io::copy(
            &mut flate2::read::MultiGzDecoder::new(reader).take(limit),
            &mut h,
        )?;
        Ok((h.0.finish(), n))
    });
    let mut read = 0u64;
    let fed: Result<(), Rejection> = async {
        while let Some(c) = download.chunk().await.map_err(|e| match e {
            RegistryError::DigestMismatch { .. } => Rejection::Content(e.to_string()),
            e => Rejection::Unreadable(e.to_string()),
        })? {
            read += c.len() as u64;
            if read > size {
                return Err(Rejection::Content(format!(
                    "is more than the {size} bytes it should have"
                )));
            }
            if tx.send(c).await.is_err() {
                // The decoder stopped early: its error says why.
                break;
            }
        }
        Ok(())
    }
    .await;
    drop(tx);
    let decoded = decoder
        .await
        .map_err(|e| Rejection::Unreadable(format!("decoder stopped: {e}")))?;
    fed?;
    let (diff_id, n) =
        decoded.map_err(|e| Rejection::Content(format!("is not a gzip stream ({e})")))?;
    if let Some(u) = uncompressed.filter(|u| n > *u) {
        return Err(Rejection::Content(format!(
            "decompresses to more than the layer's {u} bytes"
        )));
    }
    if read != size {
        return Err(Rejection::Content(format!(
            "is {read} bytes, not the {size} bytes it should have"
        )));
    }
    Ok(diff_id)
}
