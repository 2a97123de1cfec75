//! Reading reply bodies with a size cap: a registry or token service that sends no
//! `Content-Length` (chunked) must not make us buffer without end.

use bytes::{Bytes, BytesMut};
use reqwest::Response;

/// Token service replies (registry tokens, Entra, GitHub OIDC, ACR exchange).
pub(crate) const MAX_TOKEN_REPLY: usize = 1 << 20;
/// One page of a tag list.
pub(crate) const MAX_TAG_PAGE: usize = 16 << 20;
/// Error replies: only quoted (shortened further), so the rest is not read.
pub(crate) const MAX_ERROR_BODY: usize = 64 << 10;

/// Why a capped read failed.
#[derive(Debug)]
pub(crate) enum ReadError {
    TooLarge(usize),
    Transport(reqwest::Error),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::TooLarge(limit) => write!(
                f,
                "the reply is larger than the limit of {limit} bytes (not read further)"
            ),
            ReadError::Transport(e) => write!(f, "failed to read the reply: {e}"),
        }
    }
}

/// The whole body, or [`ReadError::TooLarge`] as soon as it passes `limit` bytes (announced
/// or received).
pub(crate) async fn read_capped(mut resp: Response, limit: usize) -> Result<Bytes, ReadError> {
    if resp.content_length().is_some_and(|l| l > limit as u64) {
        return Err(ReadError::TooLarge(limit));
    }
    let mut buf = BytesMut::new();
    while let Some(chunk) = resp.chunk().await.map_err(ReadError::Transport)? {
        if buf.len() + chunk.len() > limit {
            return Err(ReadError::TooLarge(limit));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}

/// At most `MAX_ERROR_BODY` bytes of an error reply (the rest is dropped unread); nothing on
/// a transport error.
pub(crate) async fn read_error_body(mut resp: Response) -> Bytes {
    let mut buf = BytesMut::new();
    while let Ok(Some(chunk)) = resp.chunk().await {
        let room = MAX_ERROR_BODY - buf.len();
        if chunk.len() >= room {
            buf.extend_from_slice(&chunk[..room]);
            break;
        }
        buf.extend_from_slice(&chunk);
    }
    buf.freeze()
}
