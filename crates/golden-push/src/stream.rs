//! The receiving end of a layer compressed on the fly: an `AsyncRead` over the chunks the
//! compressor sends. The compressor ends with an empty chunk; a channel that closes without it
//! means the compression failed, and the reader reports an error instead of a short blob.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes};
use tokio::io::{AsyncRead, ReadBuf};
use tokio::sync::mpsc;

pub struct ChannelReader {
    rx: mpsc::Receiver<Bytes>,
    cur: Bytes,
    done: bool,
}

impl ChannelReader {
    pub fn new(rx: mpsc::Receiver<Bytes>) -> ChannelReader {
        ChannelReader {
            rx,
            cur: Bytes::new(),
            done: false,
        }
    }
}

impl AsyncRead for ChannelReader {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        loop {
            if !self.cur.is_empty() {
                let n = buf.remaining().min(self.cur.len());
                buf.put_slice(&self.cur[..n]);
                self.cur.advance(n);
                return Poll::Ready(Ok(()));
            }
            if self.done {
                return Poll::Ready(Ok(()));
            }
            match self.rx.poll_recv(cx) {
                Poll::Ready(Some(b)) if b.is_empty() => self.done = true,
                Poll::Ready(Some(b)) => self.cur = b,
                Poll::Ready(None) => {
                    return Poll::Ready(Err(io::Error::other(
                        "the compressor stopped before the end of the layer",
                    )));
                }
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    #[tokio::test]
    async fn reads_until_the_end_marker_and_fails_without_it() {
        let (tx, rx) = mpsc::channel(4);
        tx.send(Bytes::from_static(b"ab")).await.unwrap();
        tx.send(Bytes::from_static(b"cd")).await.unwrap();
        tx.send(Bytes::new()).await.unwrap();
        let mut out = Vec::new();
        ChannelReader::new(rx).read_to_end(&mut out).await.unwrap();
        assert_eq!(out, b"abcd");

        let (tx, rx) = mpsc::channel(4);
        tx.send(Bytes::from_static(b"ab")).await.unwrap();
        drop(tx);
        let mut out = Vec::new();
        let e = ChannelReader::new(rx)
            .read_to_end(&mut out)
            .await
            .unwrap_err();
        assert!(e.to_string().contains("stopped"), "{e}");
    }
}
