//! Parallel, deterministic gzip of one layer (pigz-style).
//!
//! The uncompressed layer is cut into fixed blocks ([`BLOCK_SIZE`]). Each block is compressed
//! by a worker as raw deflate, primed with the last 32 KiB of the previous block as dictionary,
//! and ended with a sync flush (the last block with `Finish`). Concatenated in order they form
//! ONE deflate stream inside ONE gzip member: any gzip reader (Go's, zlib, busybox) reads it.
//!
//! Determinism: the output depends only on the input bytes, the level and the block size —
//! never on the number of threads or on timing. The gzip header has mtime 0, no name, XFL 0 and
//! OS 255 ("unknown"), so the same layer always gives the same digest.
//!
//! While reading, the reader thread computes the sha256 of the uncompressed bytes (the diff-id,
//! checked against the image config) and the CRC-32 for the trailer; the writer thread hashes
//! the compressed bytes as it writes them (the blob digest). Nothing is read or hashed twice.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};

use flate2::{Compress, Compression, Crc, FlushCompress, Status};
use golden_registry::digest::Sha256Hasher;

/// Uncompressed bytes per block.
pub const BLOCK_SIZE: usize = 1 << 20;
/// Dictionary carried from one block to the next (deflate's window).
const DICT_SIZE: usize = 32 * 1024;
/// Fixed gzip header: magic, CM=deflate, FLG=0, MTIME=0, XFL=0, OS=255.
const HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];

/// Identifies the compressor output format (level and block size matter; threads do not).
pub fn format_id(level: u32) -> String {
    format!("gzip-pigz1-l{level}-b{}k", BLOCK_SIZE / 1024)
}

/// Writes the compressed bytes to a file and, while a receiver listens, also hands them to an
/// upload that runs at the same time (the file stays the replayable copy for a retry).
pub struct TeeWriter {
    file: File,
    tx: Option<tokio::sync::mpsc::Sender<bytes::Bytes>>,
}

impl TeeWriter {
    pub fn new(file: File, tx: Option<tokio::sync::mpsc::Sender<bytes::Bytes>>) -> TeeWriter {
        TeeWriter { file, tx }
    }
}

impl Write for TeeWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        if n > 0
            && let Some(tx) = &self.tx
            && tx
                .blocking_send(bytes::Bytes::copy_from_slice(&buf[..n]))
                .is_err()
        {
            // The streaming upload gave up; the file is still complete.
            self.tx = None;
        }
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// What a compression produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compressed {
    /// sha256 of the uncompressed bytes (`sha256:...`).
    pub diff_id: String,
    /// sha256 of the gzip bytes written.
    pub digest: String,
    /// Size of the gzip bytes written.
    pub size: u64,
    /// Uncompressed size.
    pub uncompressed: u64,
}

struct Job {
    seq: u64,
    data: Vec<u8>,
    dict: Vec<u8>,
    last: bool,
}

fn deflate_block(c: &mut Compress, job: &Job) -> io::Result<Vec<u8>> {
    c.reset();
    if !job.dict.is_empty() {
        c.set_dictionary(&job.dict).map_err(io::Error::other)?;
    }
    let flush = if job.last {
        FlushCompress::Finish
    } else {
        FlushCompress::Sync
    };
    let mut out = Vec::with_capacity(job.data.len() / 2 + 4096);
    let start_in = c.total_in();
    loop {
        let consumed = (c.total_in() - start_in) as usize;
        let status = c
            .compress_vec(&job.data[consumed..], &mut out, flush)
            .map_err(io::Error::other)?;
        let all_in = (c.total_in() - start_in) as usize == job.data.len();
        let done = match flush {
            FlushCompress::Finish => status == Status::StreamEnd,
            // A sync flush is complete once all input is consumed and zlib left room unused.
            _ => all_in && out.len() < out.capacity(),
        };
        if done {
            return Ok(out);
        }
        let extra = out.capacity().max(64 * 1024);
        out.reserve(extra);
    }
}

/// Compress `len` bytes of `src` starting at `offset` into `out` (created/truncated), using
/// `threads` workers. Errors if fewer than `len` bytes can be read.
pub fn compress_range(
    src: &Path,
    offset: u64,
    len: u64,
    out: &Path,
    level: u32,
    threads: usize,
) -> io::Result<Compressed> {
    let mut input = File::open(src)?;
    input.seek(SeekFrom::Start(offset))?;
    let output = File::create(out)?;
    compress(&mut input.take(len), Some(len), output, level, threads)
}

/// Compress exactly `len` bytes from `input` into `output`.
pub fn compress_stream<R: Read, W: Write + Send>(
    input: &mut R,
    len: u64,
    output: W,
    level: u32,
    threads: usize,
) -> io::Result<Compressed> {
    compress(input, Some(len), output, level, threads)
}

/// Compress everything `input` yields (until EOF) into `output`.
pub fn compress_reader<R: Read, W: Write + Send>(
    input: &mut R,
    output: W,
    level: u32,
    threads: usize,
) -> io::Result<Compressed> {
    compress(input, None, output, level, threads)
}

fn compress<R: Read, W: Write + Send>(
    input: &mut R,
    expected: Option<u64>,
    output: W,
    level: u32,
    threads: usize,
) -> io::Result<Compressed> {
    let threads = threads.max(1);
    let level = level.min(9);
    let (job_tx, job_rx) = sync_channel::<Job>(threads * 2);
    let (done_tx, done_rx) = sync_channel::<(u64, io::Result<Vec<u8>>)>(threads * 2);
    let job_rx = Arc::new(Mutex::new(job_rx));

    std::thread::scope(|scope| -> io::Result<Compressed> {
        for _ in 0..threads {
            let rx = Arc::clone(&job_rx);
            let tx = done_tx.clone();
            scope.spawn(move || worker(rx, tx, level));
        }
        drop(done_tx);
        let writer = scope.spawn(move || write_ordered(done_rx, output));

        let read = read_blocks(input, expected, &job_tx);
        drop(job_tx);
        let written = writer
            .join()
            .map_err(|_| io::Error::other("gzip writer thread panicked"))?;
        let (diff_id, crc, uncompressed) = read?;
        let (mut out, mut hasher, mut size) = written?;
        let mut trailer = [0u8; 8];
        trailer[..4].copy_from_slice(&crc.to_le_bytes());
        trailer[4..].copy_from_slice(&((uncompressed & 0xffff_ffff) as u32).to_le_bytes());
        out.write_all(&trailer)?;
        out.flush()?;
        hasher.update(&trailer);
        size += trailer.len() as u64;
        Ok(Compressed {
            diff_id,
            digest: hasher.finish(),
            size,
            uncompressed,
        })
    })
}

/// Read up to `n` bytes (fewer only at the end of the input).
fn read_full<R: Read>(input: &mut R, n: usize) -> io::Result<Vec<u8>> {
    let mut buf = vec![0u8; n];
    let mut filled = 0;
    while filled < n {
        match input.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(k) => filled += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    buf.truncate(filled);
    Ok(buf)
}

fn read_blocks<R: Read>(
    input: &mut R,
    expected: Option<u64>,
    jobs: &SyncSender<Job>,
) -> io::Result<(String, u32, u64)> {
    let mut sha = Sha256Hasher::new();
    let mut crc = Crc::new();
    let mut total = 0u64;
    let mut seq = 0u64;
    let mut dict: Vec<u8> = Vec::new();
    let mut cur = read_full(input, BLOCK_SIZE)?;
    loop {
        // One block of lookahead tells whether `cur` is the last one.
        let next = if cur.len() == BLOCK_SIZE {
            read_full(input, BLOCK_SIZE)?
        } else {
            Vec::new()
        };
        let last = next.is_empty();
        sha.update(&cur);
        crc.update(&cur);
        total += cur.len() as u64;
        let next_dict = if last {
            Vec::new()
        } else {
            cur[cur.len().saturating_sub(DICT_SIZE)..].to_vec()
        };
        let job = Job {
            seq,
            data: cur,
            dict: std::mem::replace(&mut dict, next_dict),
            last,
        };
        if jobs.send(job).is_err() {
            // The writer stopped (write error): it reports the cause.
            return Err(io::Error::other("gzip pipeline stopped"));
        }
        seq += 1;
        if last {
            break;
        }
        cur = next;
    }
    if let Some(want) = expected
        && want != total
    {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!(
                "layer data ended {} bytes early",
                want.saturating_sub(total)
            ),
        ));
    }
    Ok((sha.finish(), crc.sum(), total))
}

fn worker(
    jobs: Arc<Mutex<Receiver<Job>>>,
    done: SyncSender<(u64, io::Result<Vec<u8>>)>,
    level: u32,
) {
    let mut c = Compress::new(Compression::new(level), false);
    loop {
        let job = {
            let rx = match jobs.lock() {
                Ok(rx) => rx,
                Err(p) => p.into_inner(),
            };
            match rx.recv() {
                Ok(j) => j,
                Err(_) => return,
            }
        };
        let res = deflate_block(&mut c, &job);
        if done.send((job.seq, res)).is_err() {
            return;
        }
    }
}

type Written<W> = (BufWriter<W>, Sha256Hasher, u64);

fn write_ordered<W: Write>(
    done: Receiver<(u64, io::Result<Vec<u8>>)>,
    output: W,
) -> io::Result<Written<W>> {
    let mut out = BufWriter::with_capacity(1 << 20, output);
    let mut hasher = Sha256Hasher::new();
    out.write_all(&HEADER)?;
    hasher.update(&HEADER);
    let mut size = HEADER.len() as u64;
    let mut next = 0u64;
    let mut waiting: BTreeMap<u64, Vec<u8>> = BTreeMap::new();
    for (seq, res) in done {
        waiting.insert(seq, res?);
        while let Some(block) = waiting.remove(&next) {
            out.write_all(&block)?;
            hasher.update(&block);
            size += block.len() as u64;
            next += 1;
        }
    }
    if !waiting.is_empty() {
        return Err(io::Error::other("gzip blocks missing (a worker stopped)"));
    }
    Ok((out, hasher, size))
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::read::GzDecoder;

    fn sample(n: usize) -> Vec<u8> {
        // Semi-compressible: text-like runs with pseudo-random bytes.
        let mut v = Vec::with_capacity(n);
        let mut x: u32 = 12345;
        while v.len() < n {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            if x.is_multiple_of(7) {
                v.extend_from_slice(b"the quick brown fox jumps over the lazy dog ");
            } else {
                v.push((x >> 16) as u8);
            }
        }
        v.truncate(n);
        v
    }

    fn roundtrip(data: &[u8], threads: usize, level: u32) -> (Vec<u8>, Compressed) {
        let mut out = Vec::new();
        let c =
            compress_stream(&mut &data[..], data.len() as u64, &mut out, level, threads).unwrap();
        let mut back = Vec::new();
        GzDecoder::new(&out[..]).read_to_end(&mut back).unwrap();
        assert_eq!(back, data, "round trip");
        assert_eq!(c.size, out.len() as u64);
        assert_eq!(c.digest, golden_registry::digest::sha256_digest(&out));
        assert_eq!(c.diff_id, golden_registry::digest::sha256_digest(data));
        (out, c)
    }

    #[test]
    fn output_is_valid_and_independent_of_thread_count() {
        for n in [
            0usize,
            1,
            1000,
            BLOCK_SIZE,
            BLOCK_SIZE + 1,
            3 * BLOCK_SIZE + 77,
        ] {
            let data = sample(n);
            let (a, ca) = roundtrip(&data, 1, 6);
            let (b, cb) = roundtrip(&data, 4, 6);
            assert_eq!(a, b, "n={n}");
            assert_eq!(ca, cb);
            assert_eq!(&a[..10], &HEADER);
        }
    }

    #[test]
    fn busybox_gzip_reads_it() {
        // An independent reader: the system's gzip (busybox or GNU) must accept the stream.
        let data = sample(2 * BLOCK_SIZE + 5);
        let (gz, _) = roundtrip(&data, 2, 1);
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("x.gz");
        std::fs::write(&f, &gz).unwrap();
        let out = std::process::Command::new("gzip")
            .arg("-dc")
            .arg(&f)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.stdout, data);
    }

    #[test]
    fn short_input_is_an_error() {
        let data = sample(100);
        let e = compress_stream(&mut &data[..], 200, Vec::new(), 6, 2).unwrap_err();
        assert!(e.to_string().contains("ended"), "{e}");
    }

    #[test]
    fn compress_range_reads_the_middle_of_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let data = sample(10_000);
        let src = dir.path().join("src");
        std::fs::write(&src, &data).unwrap();
        let out = dir.path().join("out.gz");
        let c = compress_range(&src, 100, 5000, &out, 6, 2).unwrap();
        let mut back = Vec::new();
        GzDecoder::new(File::open(&out).unwrap())
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back, &data[100..5100]);
        assert_eq!(c.uncompressed, 5000);
    }
}
