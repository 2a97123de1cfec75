//! Reading a zip archive (jar, war, ear) front to back from a stream, by its local file
//! headers: no seeking, no central directory, nothing buffered but the few entries asked for.
//!
//! A jar arrives as a tar entry in the layer stream, so the central directory at its end is of
//! no use; every entry is preceded by a local header. Entries written with a data descriptor
//! (bit 3: sizes after the data, as `java.util.zip` writes deflated entries) are found by
//! inflating them: deflate streams end by themselves. A stored entry with a data descriptor
//! has no findable end: the walk stops there with a warning (what was read so far is kept).
//!
//! Reads of the entries asked for are bounded by the caller's limit on the *decompressed*
//! bytes (and a ratio check), so a zip bomb allocates at most the limit.

use std::io::{self, BufRead, Read};

const LOCAL: u32 = 0x0403_4b50;
const CENTRAL: u32 = 0x0201_4b50;
const END: u32 = 0x0605_4b50;
const END64: u32 = 0x0606_4b50;
const DESCRIPTOR: u32 = 0x0807_4b50;
/// Some writers put an empty "spanning" marker first.
const SPAN: u32 = 0x3030_4b50;

/// One entry's local header.
#[derive(Debug, Clone)]
pub struct Header {
    pub name: String,
    pub method: u16,
    pub flags: u16,
    pub compressed: u64,
    pub uncompressed: u64,
    zip64: bool,
}

impl Header {
    fn has_descriptor(&self) -> bool {
        self.flags & 0x8 != 0
    }
    fn encrypted(&self) -> bool {
        self.flags & 0x1 != 0
    }
}

/// What the visitor wants done with an entry.
pub enum Want {
    Skip,
    /// Read the decompressed body, up to `limit` bytes.
    Read {
        limit: u64,
    },
}

/// The body of an entry that was asked for.
pub enum Body {
    Bytes(Vec<u8>),
    /// Over the limit (or a compression ratio above [`MAX_RATIO`] past 1 MiB): not kept.
    TooLarge {
        read: u64,
    },
    /// A compression method other than stored or deflate, or encryption.
    Unsupported(String),
}

/// Decompressed:compressed ratio above which a body is treated as a zip bomb (once past
/// [`RATIO_FLOOR`] bytes).
pub const MAX_RATIO: u64 = 100;
const RATIO_FLOOR: u64 = 1 << 20;
/// A data-descriptor entry is inflated to find its end; past this many bytes the walk stops.
const MAX_SKIP_INFLATE: u64 = 1 << 30;

fn u16le(b: &[u8]) -> u16 {
    u16::from_le_bytes([b[0], b[1]])
}
fn u32le(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}
fn u64le(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    u64::from_le_bytes(a)
}

/// Read exactly `n` bytes, or `None` at a clean end of stream before the first byte.
fn read_sig<R: Read>(r: &mut R) -> io::Result<Option<u32>> {
    let mut b = [0u8; 4];
    let mut got = 0;
    while got < 4 {
        let n = r.read(&mut b[got..])?;
        if n == 0 {
            return if got == 0 {
                Ok(None)
            } else {
                Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "archive ends inside a record signature",
                ))
            };
        }
        got += n;
    }
    Ok(Some(u32le(&b)))
}

fn read_header<R: Read>(r: &mut R) -> io::Result<Header> {
    let mut fixed = [0u8; 26];
    r.read_exact(&mut fixed)?;
    let flags = u16le(&fixed[2..]);
    let method = u16le(&fixed[4..]);
    let mut compressed = u64::from(u32le(&fixed[14..]));
    let mut uncompressed = u64::from(u32le(&fixed[18..]));
    let name_len = usize::from(u16le(&fixed[22..]));
    let extra_len = usize::from(u16le(&fixed[24..]));
    let mut name = vec![0u8; name_len];
    r.read_exact(&mut name)?;
    let mut extra = vec![0u8; extra_len];
    r.read_exact(&mut extra)?;
    let mut zip64 = false;
    let mut i = 0;
    while i + 4 <= extra.len() {
        let id = u16le(&extra[i..]);
        let len = usize::from(u16le(&extra[i + 2..]));
        let data = &extra[i + 4..(i + 4 + len).min(extra.len())];
        if id == 0x0001 {
            zip64 = true;
            let mut j = 0;
            if uncompressed == 0xFFFF_FFFF && data.len() >= j + 8 {
                uncompressed = u64le(&data[j..]);
                j += 8;
            }
            if compressed == 0xFFFF_FFFF && data.len() >= j + 8 {
                compressed = u64le(&data[j..]);
            }
        }
        i += 4 + len;
    }
    Ok(Header {
        name: String::from_utf8_lossy(&name).into_owned(),
        method,
        flags,
        compressed,
        uncompressed,
        zip64,
    })
}

/// Copy at most `limit` bytes of `r` into a vector; `TooLarge` past the limit or the ratio.
fn bounded<R: Read>(mut r: R, limit: u64, compressed_hint: Option<u64>) -> io::Result<Body> {
    let mut out = Vec::with_capacity(limit.min(64 << 10) as usize);
    let mut chunk = [0u8; 16 << 10];
    loop {
        let n = r.read(&mut chunk)?;
        if n == 0 {
            return Ok(Body::Bytes(out));
        }
        let total = out.len() as u64 + n as u64;
        let bomb = compressed_hint
            .is_some_and(|c| total > RATIO_FLOOR && total > c.max(1).saturating_mul(MAX_RATIO));
        if total > limit || bomb {
            // Count what is left without keeping it.
            let rest = io::copy(&mut r.take(limit.saturating_add(1)), &mut io::sink())?;
            return Ok(Body::TooLarge { read: total + rest });
        }
        out.extend_from_slice(&chunk[..n]);
    }
}

/// Where the walk stopped.
#[derive(Debug, PartialEq, Eq)]
pub enum End {
    /// The central directory or end record: every entry was seen.
    Complete,
    /// The stream ended without a central directory (truncated archive).
    Truncated,
    /// Something unreadable; the message says what and at which entry.
    Broken(String),
}

/// Walk the entries of a zip stream. `visit` sees each header and says what to read; `got`
/// receives the bodies asked for. Bytes after the point where the walk stops are left unread.
pub fn walk<R: BufRead>(
    r: &mut R,
    mut visit: impl FnMut(&Header) -> Want,
    mut got: impl FnMut(&Header, Body),
) -> End {
    let mut n = 0usize;
    loop {
        let sig = match read_sig(r) {
            Ok(Some(s)) => s,
            Ok(None) => return End::Truncated,
            Err(e) => return End::Broken(format!("after entry {n}: {e}")),
        };
        match sig {
            LOCAL => {}
            SPAN if n == 0 => continue,
            CENTRAL | END | END64 => return End::Complete,
            other => {
                return End::Broken(format!(
                    "after entry {n}: unexpected record signature {other:#010x} (not a zip, or a corrupt one)"
                ));
            }
        }
        n += 1;
        let h = match read_header(r) {
            Ok(h) => h,
            Err(e) => return End::Broken(format!("entry {n}: local header: {e}")),
        };
        if let Err(e) = entry(r, &h, &mut visit, &mut got) {
            return End::Broken(format!("entry {n} (`{}`): {e}", h.name));
        }
    }
}

fn entry<R: BufRead>(
    r: &mut R,
    h: &Header,
    visit: &mut impl FnMut(&Header) -> Want,
    got: &mut impl FnMut(&Header, Body),
) -> io::Result<()> {
    let want = visit(h);
    let descriptor = h.has_descriptor();
    if descriptor && (h.method != 8 || h.encrypted()) && h.compressed == 0 && !h.name.ends_with('/')
    {
        // Only a self-terminating (deflate) body can be found without the sizes.
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "stored or encrypted entry with a data descriptor: its end cannot be found without the central directory",
        ));
    }
    let unsupported = if h.encrypted() {
        Some("encrypted entry".to_string())
    } else if h.method != 0 && h.method != 8 {
        Some(format!("compression method {}", h.method))
    } else {
        None
    };
    if descriptor && h.method == 8 && unsupported.is_none() && h.compressed == 0 {
        // Inflate to find the end; the decoder consumes exactly the deflate stream.
        let mut dec = flate2::bufread::DeflateDecoder::new(&mut *r);
        if let Want::Read { limit } = want {
            let body = bounded(&mut dec, limit, None)?;
            got(h, body);
        }
        // The rest of the stream, inflated only to find its end (bounded: a bomb stops the
        // walk instead of spinning).
        let rest = io::copy(&mut (&mut dec).take(MAX_SKIP_INFLATE + 1), &mut io::sink())?;
        if rest > MAX_SKIP_INFLATE {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "inflates past {MAX_SKIP_INFLATE} bytes without ending (a zip bomb?); the rest of the archive is not read"
                ),
            ));
        }
        drop(dec);
        read_descriptor(r, h.zip64)?;
        return Ok(());
    }
    let mut data = (&mut *r).take(h.compressed);
    match (want, unsupported) {
        (Want::Read { .. }, Some(why)) => got(h, Body::Unsupported(why)),
        (Want::Read { limit }, None) if h.method == 8 => {
            let mut dec = flate2::bufread::DeflateDecoder::new(&mut data);
            let body = bounded(&mut dec, limit, Some(h.compressed))?;
            got(h, body);
        }
        (Want::Read { limit }, None) => {
            let body = bounded(&mut data, limit, None)?;
            got(h, body);
        }
        (Want::Skip, _) => {}
    }
    // Whatever of the compressed bytes was not consumed.
    io::copy(&mut data, &mut io::sink())?;
    if descriptor {
        read_descriptor(r, h.zip64)?;
    }
    Ok(())
}

fn read_descriptor<R: Read>(r: &mut R, zip64: bool) -> io::Result<()> {
    let mut sig = [0u8; 4];
    r.read_exact(&mut sig)?;
    let size_len = if zip64 { 16 } else { 8 };
    // Without the optional signature, the four bytes read were the CRC.
    let rest = if u32le(&sig) == DESCRIPTOR {
        4 + size_len
    } else {
        size_len
    };
    let mut buf = [0u8; 20];
    r.read_exact(&mut buf[..rest])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratio_stops_a_bomb() {
        let data = vec![0u8; 8 << 20];
        match bounded(&data[..], 64 << 20, Some(1000)).unwrap() {
            Body::TooLarge { .. } => {}
            _ => panic!("a 8 MiB body from 1000 compressed bytes must be refused"),
        }
        match bounded(&data[..], 1 << 20, None).unwrap() {
            Body::TooLarge { read } => assert!(read > 1 << 20),
            _ => panic!("over the limit must be refused"),
        }
        match bounded(&data[..100], 1 << 20, None).unwrap() {
            Body::Bytes(b) => assert_eq!(b.len(), 100),
            _ => panic!("within the limit"),
        }
    }
}
