//! Blobs: existence (HEAD), cross-repository mount, uploads (monolithic for small blobs,
//! chunked `PATCH` with `Content-Range` for the rest, recovered from the upload status after a
//! broken chunk) and verified downloads.

use std::path::Path;

use bytes::{Bytes, BytesMut};
use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE, LOCATION, RANGE};
use reqwest::{Method, Response, StatusCode, Url};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::auth::Scope;
use crate::client::{Client, RegistryHandle};
use crate::digest::{Sha256Hasher, is_sha256};
use crate::error::RegistryError;
use crate::http::Req;
use golden_oci::Reference;

/// An open upload session (`Location` of the last reply, bytes accepted so far).
#[derive(Debug, Clone)]
pub struct UploadSession {
    pub(crate) location: Url,
    pub offset: u64,
}

/// Result of [`Client::upload_streaming`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uploaded {
    pub digest: String,
    pub size: u64,
    /// The registry already had the blob: nothing was committed.
    pub already_present: bool,
}

/// Result of [`Client::mount_blob`].
#[derive(Debug)]
pub enum MountOutcome {
    /// `201`: the blob is now in the target repository.
    Mounted,
    /// `202`: the registry did not mount (source unknown or not allowed) and opened an upload
    /// session instead; upload the blob with it.
    Upload(UploadSession),
}

/// A verified blob download: chunks as they arrive; the digest is checked at the end.
pub struct BlobDownload {
    resp: Response,
    hasher: Option<Sha256Hasher>,
    expected: String,
    pending: BytesMut,
    done: bool,
    read: u64,
    /// `Content-Length` of the reply, when sent.
    pub size: Option<u64>,
}

impl BlobDownload {
    /// The next chunk, `None` at the end (after the digest was verified).
    pub async fn chunk(&mut self) -> Result<Option<Bytes>, RegistryError> {
        if !self.pending.is_empty() {
            return Ok(Some(self.pending.split().freeze()));
        }
        self.next_from_wire().await
    }

    async fn next_from_wire(&mut self) -> Result<Option<Bytes>, RegistryError> {
        if self.done {
            return Ok(None);
        }
        match self.resp.chunk().await {
            Ok(Some(c)) => {
                if let Some(h) = self.hasher.as_mut() {
                    h.update(&c);
                }
                self.read += c.len() as u64;
                Ok(Some(c))
            }
            Ok(None) => {
                self.done = true;
                let actual = self.hasher.take().map(|h| h.finish()).unwrap_or_default();
                if actual != self.expected {
                    return Err(RegistryError::DigestMismatch {
                        what: format!("downloaded blob ({} bytes)", self.read),
                        expected: self.expected.clone(),
                        actual,
                    });
                }
                Ok(None)
            }
            Err(source) => Err(RegistryError::Transport {
                registry: self.resp.url().host_str().unwrap_or_default().to_string(),
                action: "download blob",
                object: self.expected.clone(),
                attempts: 1,
                source,
            }),
        }
    }

    /// Up to `n` bytes (fewer only at the end); empty at the end.
    pub async fn read_up_to(&mut self, n: usize) -> Result<Bytes, RegistryError> {
        while self.pending.len() < n {
            match self.next_from_wire().await? {
                Some(c) => self.pending.extend_from_slice(&c),
                None => break,
            }
        }
        let take = n.min(self.pending.len());
        Ok(self.pending.split_to(take).freeze())
    }
}

/// Where upload data comes from.
enum Feed<'a> {
    Reader(&'a mut (dyn AsyncRead + Unpin + Send)),
    Download(&'a mut BlobDownload),
}

impl Feed<'_> {
    async fn read_chunk(&mut self, n: usize) -> Result<Bytes, RegistryError> {
        match self {
            Feed::Download(d) => d.read_up_to(n).await,
            Feed::Reader(r) => {
                let mut buf = BytesMut::zeroed(n);
                let mut filled = 0;
                while filled < n {
                    let got =
                        r.read(&mut buf[filled..])
                            .await
                            .map_err(|source| RegistryError::Io {
                                action: "read upload data for",
                                object: "blob".into(),
                                source,
                            })?;
                    if got == 0 {
                        break;
                    }
                    filled += got;
                }
                buf.truncate(filled);
                Ok(buf.freeze())
            }
        }
    }
}

/// Why a chunked upload stopped.
enum UploadFailure {
    /// The session is unusable; starting over may work (data source permitting).
    Restart(RegistryError),
    Fatal(RegistryError),
}

fn check_digest(digest: &str) -> Result<(), RegistryError> {
    if is_sha256(digest) {
        Ok(())
    } else {
        Err(RegistryError::Invalid(format!(
            "digest `{digest}` is not `sha256:` followed by 64 lowercase hex digits"
        )))
    }
}

impl Client {
    fn location(
        &self,
        reg: &RegistryHandle,
        resp: &Response,
        action: &'static str,
    ) -> Result<Url, RegistryError> {
        let raw = resp
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| RegistryError::BadReply {
                registry: reg.host.clone(),
                action,
                object: resp.url().path().to_string(),
                reason: format!("HTTP {} without a Location header", resp.status().as_u16()),
            })?;
        reg.base.join(raw).map_err(|e| RegistryError::BadReply {
            registry: reg.host.clone(),
            action,
            object: raw.to_string(),
            reason: format!("Location is not a URL: {e}"),
        })
    }

    /// `HEAD /v2/<repo>/blobs/<digest>`: the size when the repository has the blob.
    pub async fn blob_exists(
        &self,
        repo: &Reference,
        digest: &str,
    ) -> Result<Option<u64>, RegistryError> {
        check_digest(digest)?;
        let reg = self.registry(&repo.registry)?;
        let url = self.url(&reg, &repo.repository, &format!("blobs/{digest}"))?;
        let req = Req::new(Method::HEAD, url, "check blob", digest);
        let resp = self
            .execute(&reg, &req, &[Scope::pull(&repo.repository)])
            .await?;
        match resp.status() {
            s if s.is_success() => Ok(Some(
                resp.headers()
                    .get(CONTENT_LENGTH)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0),
            )),
            StatusCode::NOT_FOUND => Ok(None),
            _ => Err(self
                .error_for(&reg, &repo.repository, resp, "check blob", digest)
                .await),
        }
    }

    /// `POST /v2/<repo>/blobs/uploads/?mount=<digest>&from=<source repo>` (same registry).
    /// Needs pull on the source: the token asked for covers both repositories.
    pub async fn mount_blob(
        &self,
        repo: &Reference,
        digest: &str,
        from: &Reference,
    ) -> Result<MountOutcome, RegistryError> {
        check_digest(digest)?;
        if from.registry != repo.registry {
            return Err(RegistryError::Invalid(format!(
                "cannot mount across registries (`{}` → `{}`); copy the blob instead",
                from.registry, repo.registry
            )));
        }
        let reg = self.target(&repo.registry)?;
        let mut url = self.url(&reg, &repo.repository, "blobs/uploads/")?;
        url.query_pairs_mut()
            .append_pair("mount", digest)
            .append_pair("from", &from.repository);
        let req = Req::new(Method::POST, url, "mount blob", digest);
        let scopes = [Scope::push(&repo.repository), Scope::pull(&from.repository)];
        let resp = self.execute(&reg, &req, &scopes).await?;
        match resp.status() {
            StatusCode::CREATED => Ok(MountOutcome::Mounted),
            StatusCode::ACCEPTED => Ok(MountOutcome::Upload(UploadSession {
                location: self.location(&reg, &resp, "mount blob")?,
                offset: 0,
            })),
            _ => Err(self
                .error_for(&reg, &repo.repository, resp, "mount blob", digest)
                .await),
        }
    }

    /// `POST /v2/<repo>/blobs/uploads/`: open an upload session.
    pub async fn start_upload(&self, repo: &Reference) -> Result<UploadSession, RegistryError> {
        let reg = self.target(&repo.registry)?;
        self.start_upload_in(&reg, &repo.repository).await
    }

    async fn start_upload_in(
        &self,
        reg: &RegistryHandle,
        repository: &str,
    ) -> Result<UploadSession, RegistryError> {
        let url = self.url(reg, repository, "blobs/uploads/")?;
        let req = Req::new(Method::POST, url, "start upload in", repository);
        let resp = self.execute(reg, &req, &[Scope::push(repository)]).await?;
        if resp.status() != StatusCode::ACCEPTED {
            return Err(self
                .error_for(reg, repository, resp, "start upload in", repository)
                .await);
        }
        Ok(UploadSession {
            location: self.location(reg, &resp, "start upload")?,
            offset: 0,
        })
    }

    /// Cancel an upload session (best effort: errors are only logged).
    pub async fn cancel_upload_session(&self, repo: &Reference, session: &UploadSession) {
        if let Ok(reg) = self.target(&repo.registry) {
            self.cancel_upload(&reg, &repo.repository, session).await;
        }
    }

    /// Cancel a session (best effort).
    async fn cancel_upload(&self, reg: &RegistryHandle, repository: &str, session: &UploadSession) {
        let req = Req::new(
            Method::DELETE,
            session.location.clone(),
            "cancel upload",
            repository,
        );
        if let Err(e) = self.execute(reg, &req, &[Scope::push(repository)]).await {
            tracing::debug!("cancel upload: {e}");
        }
    }

    /// Upload a blob held in memory (one request when it fits in a chunk).
    pub async fn upload_bytes(
        &self,
        repo: &Reference,
        data: Bytes,
        digest: &str,
    ) -> Result<(), RegistryError> {
        check_digest(digest)?;
        let reg = self.target(&repo.registry)?;
        let mut last = None;
        for _ in 0..2 {
            let session = self.start_upload_in(&reg, &repo.repository).await?;
            let mut slice: &[u8] = &data;
            match self
                .upload_feed(
                    &reg,
                    &repo.repository,
                    session,
                    Feed::Reader(&mut slice),
                    Some(digest),
                )
                .await
            {
                Ok(_) => return Ok(()),
                Err(UploadFailure::Restart(e)) => last = Some(e),
                Err(UploadFailure::Fatal(e)) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| RegistryError::Invalid("upload failed".into())))
    }

    /// Upload the file at `path` as blob `digest`, in chunks of
    /// [`ClientOptions::chunk_size`](crate::ClientOptions). A broken chunk is resumed from the
    /// offset the registry reports; an unusable session is restarted from the file once.
    /// `session` reuses one opened by [`Client::mount_blob`]. Returns the size.
    pub async fn upload_file(
        &self,
        repo: &Reference,
        path: &Path,
        digest: &str,
        session: Option<UploadSession>,
    ) -> Result<u64, RegistryError> {
        check_digest(digest)?;
        let reg = self.target(&repo.registry)?;
        let mut session = session;
        let mut last = None;
        for _ in 0..2 {
            let s = match session.take() {
                Some(s) => s,
                None => self.start_upload_in(&reg, &repo.repository).await?,
            };
            let mut file =
                tokio::fs::File::open(path)
                    .await
                    .map_err(|source| RegistryError::Io {
                        action: "open",
                        object: path.display().to_string(),
                        source,
                    })?;
            match self
                .upload_feed(
                    &reg,
                    &repo.repository,
                    s,
                    Feed::Reader(&mut file),
                    Some(digest),
                )
                .await
            {
                Ok(u) => return Ok(u.size),
                Err(UploadFailure::Restart(e)) => {
                    tracing::warn!("upload of {digest} failed ({e}); restarting it");
                    last = Some(e)
                }
                Err(UploadFailure::Fatal(e)) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| RegistryError::Invalid("upload failed".into())))
    }

    /// Upload whatever `reader` yields as blob `digest` (not restartable: a session that breaks
    /// beyond recovery is an error).
    pub async fn upload_reader(
        &self,
        repo: &Reference,
        reader: &mut (dyn AsyncRead + Unpin + Send),
        digest: &str,
        session: Option<UploadSession>,
    ) -> Result<u64, RegistryError> {
        self.upload_once(repo, Feed::Reader(reader), Some(digest), session)
            .await
            .map(|u| u.size)
    }

    /// Upload whatever `reader` yields while it is being produced (e.g. compressed on the fly),
    /// without knowing its digest beforehand: the digest is computed as the bytes pass, and
    /// before committing the registry is asked (`HEAD`) whether it already has the blob — then
    /// the session is discarded and [`Uploaded::already_present`] is set. Not restartable:
    /// on error, upload again from a replayable source ([`Client::upload_file`]).
    pub async fn upload_streaming(
        &self,
        repo: &Reference,
        reader: &mut (dyn AsyncRead + Unpin + Send),
        session: Option<UploadSession>,
    ) -> Result<Uploaded, RegistryError> {
        self.upload_once(repo, Feed::Reader(reader), None, session)
            .await
    }

    /// Upload a blob while it downloads (registry-to-registry copy). The source digest is
    /// verified as the bytes pass.
    pub async fn upload_download(
        &self,
        repo: &Reference,
        download: &mut BlobDownload,
        digest: &str,
        session: Option<UploadSession>,
    ) -> Result<u64, RegistryError> {
        self.upload_once(repo, Feed::Download(download), Some(digest), session)
            .await
            .map(|u| u.size)
    }

    /// Send `feed` through `session` (or a new one) once: a source read only once cannot be
    /// restarted, so a session that breaks beyond recovery is an error.
    async fn upload_once(
        &self,
        repo: &Reference,
        feed: Feed<'_>,
        expected: Option<&str>,
        session: Option<UploadSession>,
    ) -> Result<Uploaded, RegistryError> {
        if let Some(d) = expected {
            check_digest(d)?;
        }
        let reg = self.target(&repo.registry)?;
        let s = match session {
            Some(s) => s,
            None => self.start_upload_in(&reg, &repo.repository).await?,
        };
        self.upload_feed(&reg, &repo.repository, s, feed, expected)
            .await
            .map_err(|(UploadFailure::Restart(e) | UploadFailure::Fatal(e))| e)
    }

    async fn upload_status(
        &self,
        reg: &RegistryHandle,
        repository: &str,
        session: &UploadSession,
    ) -> Result<UploadSession, RegistryError> {
        let req = Req::new(
            Method::GET,
            session.location.clone(),
            "check upload in",
            repository,
        );
        let resp = self.execute(reg, &req, &[Scope::push(repository)]).await?;
        if resp.status() != StatusCode::NO_CONTENT && !resp.status().is_success() {
            return Err(self
                .error_for(reg, repository, resp, "check upload in", repository)
                .await);
        }
        let end = resp
            .headers()
            .get(RANGE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.trim()
                    .trim_start_matches("bytes=")
                    .split_once('-')
                    .map(|(_, e)| e.to_string())
            })
            .and_then(|e| e.parse::<u64>().ok());
        let location = self
            .location(reg, &resp, "check upload")
            .unwrap_or_else(|_| session.location.clone());
        // `0-0` means "nothing yet" for every offset we ever send (chunks are MiB-sized).
        let offset = match end {
            Some(0) | None => 0,
            Some(e) => e + 1,
        };
        Ok(UploadSession { location, offset })
    }

    /// Send `feed` through `session`. With `expected` the data must hash to it; without, the
    /// digest is computed as the bytes pass and, before committing, the registry is asked
    /// whether it already has that blob (then the session is discarded).
    async fn upload_feed(
        &self,
        reg: &RegistryHandle,
        repository: &str,
        mut session: UploadSession,
        mut feed: Feed<'_>,
        expected: Option<&str>,
    ) -> Result<Uploaded, UploadFailure> {
        let chunk_size = self.inner.opts.chunk_size.max(64 * 1024);
        let scopes = [Scope::push(repository)];
        let mut hasher = Sha256Hasher::new();
        let mut sent: u64 = 0;
        let mut first = true;
        let shown = expected.unwrap_or("streamed blob").to_string();
        loop {
            let data = match feed.read_chunk(chunk_size).await {
                Ok(d) => d,
                Err(e) => {
                    self.cancel_upload(reg, repository, &session).await;
                    return Err(UploadFailure::Fatal(e));
                }
            };
            if first && data.len() < chunk_size {
                // Small blob: one PUT with the body.
                hasher.update(&data);
                let blob = (hasher.finish(), data.len() as u64);
                return self
                    .commit(reg, repository, &session, expected, blob, Some(data))
                    .await;
            }
            first = false;
            if data.is_empty() {
                break;
            }
            hasher.update(&data);
            let len = data.len() as u64;
            let mut tries = 0u32;
            loop {
                let range = format!("{}-{}", sent, sent + len - 1);
                let req = Req::new(
                    Method::PATCH,
                    session.location.clone(),
                    "upload chunk of",
                    shown.clone(),
                )
                .header(CONTENT_TYPE, "application/octet-stream")
                .header(reqwest::header::CONTENT_RANGE, &range)
                .body(data.clone())
                .no_transport_retry();
                let outcome = self.execute(reg, &req, &scopes).await;
                let recoverable = match outcome {
                    Ok(resp)
                        if resp.status() == StatusCode::ACCEPTED || resp.status().is_success() =>
                    {
                        session.location = self
                            .location(reg, &resp, "upload chunk")
                            .map_err(UploadFailure::Fatal)?;
                        sent += len;
                        break;
                    }
                    Ok(resp) if resp.status() == StatusCode::RANGE_NOT_SATISFIABLE => {
                        self.error_for(reg, repository, resp, "upload chunk of", &shown)
                            .await
                    }
                    Ok(resp) => {
                        let e = self
                            .error_for(reg, repository, resp, "upload chunk of", &shown)
                            .await;
                        return Err(UploadFailure::Restart(e));
                    }
                    Err(e @ RegistryError::Transport { .. }) => e,
                    Err(e) => return Err(UploadFailure::Fatal(e)),
                };
                tries += 1;
                if tries > self.inner.opts.retry.max_retries {
                    return Err(UploadFailure::Restart(recoverable));
                }
                tokio::time::sleep(self.inner.opts.retry.backoff(tries)).await;
                tracing::warn!(
                    "chunk {range} of {shown} failed ({recoverable}); checking the upload status"
                );
                let status = match self.upload_status(reg, repository, &session).await {
                    Ok(s) => s,
                    Err(e) => return Err(UploadFailure::Restart(e)),
                };
                if status.offset == sent + len {
                    session.location = status.location;
                    sent += len;
                    break;
                } else if status.offset == sent {
                    session.location = status.location;
                    continue;
                } else {
                    return Err(UploadFailure::Restart(RegistryError::BadReply {
                        registry: reg.host.clone(),
                        action: "resume upload of",
                        object: shown.clone(),
                        reason: format!(
                            "the registry holds {} bytes of the session, expected {sent} or {}",
                            status.offset,
                            sent + len
                        ),
                    }));
                }
            }
        }
        let blob = (hasher.finish(), sent);
        self.commit(reg, repository, &session, expected, blob, None)
            .await
    }

    /// Commit the upload in `session` as blob `(actual, size)` (`body`: the last part, if any). With `expected`, data that hashes to anything else is refused and the session
    /// cancelled; without, a blob the repository already has is not committed twice (the
    /// session is discarded and [`Uploaded::already_present`] set).
    async fn commit(
        &self,
        reg: &RegistryHandle,
        repository: &str,
        session: &UploadSession,
        expected: Option<&str>,
        (actual, size): (String, u64),
        body: Option<Bytes>,
    ) -> Result<Uploaded, UploadFailure> {
        match expected {
            Some(want) if actual != want => {
                self.cancel_upload(reg, repository, session).await;
                return Err(UploadFailure::Fatal(RegistryError::DigestMismatch {
                    what: format!("upload data ({size} bytes)"),
                    expected: want.to_string(),
                    actual,
                }));
            }
            Some(_) => {}
            None => {
                if self
                    .exists_in(reg, repository, &actual)
                    .await
                    .map_err(UploadFailure::Fatal)?
                {
                    self.cancel_upload(reg, repository, session).await;
                    return Ok(Uploaded {
                        digest: actual,
                        size,
                        already_present: true,
                    });
                }
            }
        }
        self.finish_upload(reg, repository, session, &actual, body)
            .await?;
        Ok(Uploaded {
            digest: actual,
            size,
            already_present: false,
        })
    }

    async fn exists_in(
        &self,
        reg: &RegistryHandle,
        repository: &str,
        digest: &str,
    ) -> Result<bool, RegistryError> {
        let probe = Reference {
            registry: reg.host.clone(),
            repository: repository.to_string(),
            tag: None,
            digest: None,
        };
        Ok(self.blob_exists(&probe, digest).await?.is_some())
    }

    async fn finish_upload(
        &self,
        reg: &RegistryHandle,
        repository: &str,
        session: &UploadSession,
        digest: &str,
        body: Option<Bytes>,
    ) -> Result<(), UploadFailure> {
        let mut url = session.location.clone();
        url.query_pairs_mut().append_pair("digest", digest);
        let mut req = Req::new(Method::PUT, url, "finish upload of", digest)
            .header(CONTENT_TYPE, "application/octet-stream")
            .no_transport_retry();
        if let Some(b) = body {
            req = req.body(b);
        }
        let scopes = [Scope::push(repository)];
        match self.execute(reg, &req, &scopes).await {
            Ok(resp) if resp.status() == StatusCode::CREATED || resp.status().is_success() => {
                if let Some(got) = resp
                    .headers()
                    .get("docker-content-digest")
                    .and_then(|v| v.to_str().ok())
                    && got != digest
                {
                    return Err(UploadFailure::Fatal(RegistryError::DigestMismatch {
                        what: "blob stored by the registry".into(),
                        expected: digest.to_string(),
                        actual: got.to_string(),
                    }));
                }
                Ok(())
            }
            Ok(resp) => {
                let e = self
                    .error_for(reg, repository, resp, "finish upload of", digest)
                    .await;
                Err(UploadFailure::Restart(e))
            }
            Err(e @ RegistryError::Transport { .. }) => {
                // The PUT may have landed before the connection broke.
                match self.exists_in(reg, repository, digest).await {
                    Ok(true) => Ok(()),
                    _ => Err(UploadFailure::Restart(e)),
                }
            }
            Err(e) => Err(UploadFailure::Fatal(e)),
        }
    }

    /// Start a verified download of blob `digest` from `repo`.
    pub async fn blob_download(
        &self,
        repo: &Reference,
        digest: &str,
    ) -> Result<BlobDownload, RegistryError> {
        check_digest(digest)?;
        let reg = self.registry(&repo.registry)?;
        let url = self.url(&reg, &repo.repository, &format!("blobs/{digest}"))?;
        let req = Req::new(Method::GET, url, "download blob", digest);
        let resp = self
            .execute(&reg, &req, &[Scope::pull(&repo.repository)])
            .await?;
        if !resp.status().is_success() {
            return Err(self
                .error_for(&reg, &repo.repository, resp, "download blob", digest)
                .await);
        }
        let size = resp.content_length();
        Ok(BlobDownload {
            resp,
            hasher: Some(Sha256Hasher::new()),
            expected: digest.to_string(),
            pending: BytesMut::new(),
            done: false,
            read: 0,
            size,
        })
    }

    /// Download blob `digest` into `out`, verifying the digest. On a mismatch the error comes
    /// after the bytes were written: write to a temporary file and rename on success.
    pub async fn get_blob<W: AsyncWrite + Unpin + ?Sized>(
        &self,
        repo: &Reference,
        digest: &str,
        out: &mut W,
    ) -> Result<u64, RegistryError> {
        let mut d = self.blob_download(repo, digest).await?;
        let mut n = 0u64;
        while let Some(c) = d.chunk().await? {
            out.write_all(&c)
                .await
                .map_err(|source| RegistryError::Io {
                    action: "write blob",
                    object: digest.to_string(),
                    source,
                })?;
            n += c.len() as u64;
        }
        out.flush().await.map_err(|source| RegistryError::Io {
            action: "write blob",
            object: digest.to_string(),
            source,
        })?;
        Ok(n)
    }

    /// Download a small blob (config, report) into memory, refusing more than `max` bytes.
    pub async fn get_blob_bytes(
        &self,
        repo: &Reference,
        digest: &str,
        max: u64,
    ) -> Result<Bytes, RegistryError> {
        let mut d = self.blob_download(repo, digest).await?;
        if d.size.is_some_and(|s| s > max) {
            return Err(RegistryError::BadReply {
                registry: repo.registry.clone(),
                action: "download blob",
                object: digest.to_string(),
                reason: format!(
                    "{} bytes is more than the limit of {max}",
                    d.size.unwrap_or(0)
                ),
            });
        }
        let mut buf = BytesMut::new();
        while let Some(c) = d.chunk().await? {
            buf.extend_from_slice(&c);
            if buf.len() as u64 > max {
                return Err(RegistryError::BadReply {
                    registry: repo.registry.clone(),
                    action: "download blob",
                    object: digest.to_string(),
                    reason: format!("more than the limit of {max} bytes"),
                });
            }
        }
        Ok(buf.freeze())
    }
}
