//! A writer of BoltDB files (the format of go.etcd.io/bbolt, which Trivy's vulnerability DB
//! `trivy.db` uses), enough for a small read-mostly database written in one go:
//!
//! - page 0 and 1: the two meta pages (magic `0xED0CDAED`, version 2, page size, the root
//!   bucket, the freelist page, the high-water page id, the transaction id, an FNV-1a 64
//!   checksum of the fields before it);
//! - page 2: an empty freelist;
//! - then one leaf page per bucket (spanning `overflow` extra pages when its entries need
//!   them), children before parents. A sub-bucket is a leaf entry with the bucket flag whose
//!   value is the 16-byte bucket header `{root page id, sequence}`. No inline buckets, no branch
//!   pages: a bucket's keys all sit in one (possibly overflowing) leaf, sorted.
//!
//! Little-endian, as bbolt writes on the machines Trivy ships for. The real Trivy binary reading
//! what this writes is the test (crates/golden-scan/tests/it/trivy_real.rs).

use std::collections::BTreeMap;

const PAGE_SIZE: usize = 4096;
const PAGE_HEADER: usize = 16;
const LEAF_ELEMENT: usize = 16;
const MAGIC: u32 = 0xED0C_DAED;
const VERSION: u32 = 2;
const LEAF_PAGE: u16 = 0x02;
const META_PAGE: u16 = 0x04;
const FREELIST_PAGE: u16 = 0x10;
const BUCKET_LEAF: u32 = 0x01;

/// A bucket: sorted keys, each a value or a nested bucket.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Bucket {
    pub entries: BTreeMap<Vec<u8>, Entry>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    Value(Vec<u8>),
    Bucket(Bucket),
}

impl Bucket {
    pub fn new() -> Bucket {
        Bucket::default()
    }

    /// The sub-bucket `name`, created when missing. Fails when `name` holds a value.
    pub fn bucket(&mut self, name: &str) -> Result<&mut Bucket, String> {
        let e = self
            .entries
            .entry(name.as_bytes().to_vec())
            .or_insert_with(|| Entry::Bucket(Bucket::new()));
        match e {
            Entry::Bucket(b) => Ok(b),
            Entry::Value(_) => Err(format!("`{name}` is a value, not a bucket")),
        }
    }

    /// Set `key` to `value`. Fails when `key` is a bucket.
    pub fn put(&mut self, key: &str, value: Vec<u8>) -> Result<(), String> {
        if let Some(Entry::Bucket(_)) = self.entries.get(key.as_bytes()) {
            return Err(format!("`{key}` is a bucket, not a value"));
        }
        self.entries
            .insert(key.as_bytes().to_vec(), Entry::Value(value));
        Ok(())
    }
}

fn u16le(out: &mut [u8], at: usize, v: u16) {
    out[at..at + 2].copy_from_slice(&v.to_le_bytes());
}
fn u32le(out: &mut [u8], at: usize, v: u32) {
    out[at..at + 4].copy_from_slice(&v.to_le_bytes());
}
fn u64le(out: &mut [u8], at: usize, v: u64) {
    out[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

fn fnv1a64(data: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in data {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

struct Writer {
    /// Pages from id 3 on, each a multiple of PAGE_SIZE long.
    pages: Vec<u8>,
    next: u64,
}

impl Writer {
    /// Write `b` (children first); the page id of its leaf.
    fn bucket(&mut self, b: &Bucket, path: &str) -> Result<u64, String> {
        let count = u16::try_from(b.entries.len()).map_err(|_| {
            format!(
                "bucket `{path}` has {} keys, more than one leaf page holds (65535)",
                b.entries.len()
            )
        })?;
        let mut items: Vec<(&[u8], u32, Vec<u8>)> = Vec::with_capacity(b.entries.len());
        for (k, e) in &b.entries {
            if k.is_empty() {
                return Err(format!(
                    "bucket `{path}` has an empty key (bbolt refuses them)"
                ));
            }
            match e {
                Entry::Value(v) => items.push((k, 0, v.clone())),
                Entry::Bucket(child) => {
                    let name = format!("{path}/{}", String::from_utf8_lossy(k));
                    let root = self.bucket(child, &name)?;
                    let mut header = vec![0u8; 16];
                    u64le(&mut header, 0, root);
                    items.push((k, BUCKET_LEAF, header));
                }
            }
        }
        let data: usize = items.iter().map(|(k, _, v)| k.len() + v.len()).sum();
        let size = PAGE_HEADER + items.len() * LEAF_ELEMENT + data;
        let npages = size.div_ceil(PAGE_SIZE).max(1);
        let id = self.next;
        self.next += npages as u64;
        let mut page = vec![0u8; npages * PAGE_SIZE];
        u64le(&mut page, 0, id);
        u16le(&mut page, 8, LEAF_PAGE);
        u16le(&mut page, 10, count);
        u32le(&mut page, 12, (npages - 1) as u32);
        let mut off = PAGE_HEADER + items.len() * LEAF_ELEMENT;
        for (i, (k, flags, v)) in items.iter().enumerate() {
            let elem = PAGE_HEADER + i * LEAF_ELEMENT;
            let too_big = |what: &str| format!("bucket `{path}`: a {what} over 4 GiB");
            u32le(&mut page, elem, *flags);
            u32le(&mut page, elem + 4, (off - elem) as u32);
            u32le(
                &mut page,
                elem + 8,
                u32::try_from(k.len()).map_err(|_| too_big("key"))?,
            );
            u32le(
                &mut page,
                elem + 12,
                u32::try_from(v.len()).map_err(|_| too_big("value"))?,
            );
            page[off..off + k.len()].copy_from_slice(k);
            off += k.len();
            page[off..off + v.len()].copy_from_slice(v);
            off += v.len();
        }
        self.pages.extend_from_slice(&page);
        Ok(id)
    }
}

fn meta_page(id: u64, root: u64, high_water: u64) -> Vec<u8> {
    let mut p = vec![0u8; PAGE_SIZE];
    u64le(&mut p, 0, id);
    u16le(&mut p, 8, META_PAGE);
    let m = PAGE_HEADER;
    u32le(&mut p, m, MAGIC);
    u32le(&mut p, m + 4, VERSION);
    u32le(&mut p, m + 8, PAGE_SIZE as u32);
    u32le(&mut p, m + 12, 0); // flags
    u64le(&mut p, m + 16, root); // root bucket: root page
    u64le(&mut p, m + 24, 0); // root bucket: sequence
    u64le(&mut p, m + 32, 2); // freelist page
    u64le(&mut p, m + 40, high_water);
    u64le(&mut p, m + 48, id); // txid: meta 1 is the newer one
    let sum = fnv1a64(&p[m..m + 56]);
    u64le(&mut p, m + 56, sum);
    p
}

/// The bytes of a BoltDB file whose root holds `root`'s entries (top-level entries must be
/// buckets, as bbolt requires).
pub fn write(root: &Bucket) -> Result<Vec<u8>, String> {
    if let Some((k, _)) = root
        .entries
        .iter()
        .find(|(_, e)| matches!(e, Entry::Value(_)))
    {
        return Err(format!(
            "top-level key `{}` is a value: bbolt keeps only buckets at the root",
            String::from_utf8_lossy(k)
        ));
    }
    let mut w = Writer {
        pages: Vec::new(),
        next: 3,
    };
    let root_id = w.bucket(root, "")?;
    let mut out = Vec::with_capacity((w.next as usize) * PAGE_SIZE);
    out.extend(meta_page(0, root_id, w.next));
    out.extend(meta_page(1, root_id, w.next));
    let mut free = vec![0u8; PAGE_SIZE];
    u64le(&mut free, 0, 2);
    u16le(&mut free, 8, FREELIST_PAGE);
    out.extend(free);
    out.extend(w.pages);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rd32(b: &[u8], at: usize) -> u32 {
        u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
    }
    fn rd64(b: &[u8], at: usize) -> u64 {
        u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
    }

    /// A reader of what `write` produces (leaf pages only), to check the layout.
    fn read(file: &[u8], page: u64) -> BTreeMap<String, String> {
        let p = &file[page as usize * PAGE_SIZE..];
        assert_eq!(rd64(p, 0), page, "page id");
        assert_eq!(u16::from_le_bytes([p[8], p[9]]), LEAF_PAGE);
        let count = u16::from_le_bytes([p[10], p[11]]) as usize;
        let mut out = BTreeMap::new();
        for i in 0..count {
            let e = PAGE_HEADER + i * LEAF_ELEMENT;
            let (flags, pos, ks, vs) = (
                rd32(p, e),
                rd32(p, e + 4) as usize,
                rd32(p, e + 8) as usize,
                rd32(p, e + 12) as usize,
            );
            let k = String::from_utf8(p[e + pos..e + pos + ks].to_vec()).unwrap();
            let v = &p[e + pos + ks..e + pos + ks + vs];
            if flags & BUCKET_LEAF != 0 {
                for (ck, cv) in read(file, rd64(v, 0)) {
                    out.insert(format!("{k}/{ck}"), cv);
                }
            } else {
                out.insert(k, String::from_utf8(v.to_vec()).unwrap());
            }
        }
        out
    }

    #[test]
    fn meta_pages_and_nested_buckets_round_trip() {
        let mut root = Bucket::new();
        let big = "x".repeat(10_000);
        root.bucket("debian 12")
            .unwrap()
            .bucket("glibc")
            .unwrap()
            .put("CVE-1", br#"{"FixedVersion":"2"}"#.to_vec())
            .unwrap();
        root.bucket("vulnerability")
            .unwrap()
            .put("CVE-1", big.clone().into_bytes())
            .unwrap();
        root.bucket("empty").unwrap();
        let file = write(&root).unwrap();
        assert_eq!(file.len() % PAGE_SIZE, 0);
        for id in 0..2u64 {
            let m = id as usize * PAGE_SIZE + PAGE_HEADER;
            assert_eq!(rd32(&file, m), MAGIC);
            assert_eq!(rd32(&file, m + 4), 2);
            assert_eq!(rd64(&file, m + 56), fnv1a64(&file[m..m + 56]));
            assert_eq!(rd64(&file, m + 40) as usize * PAGE_SIZE, file.len());
        }
        let root_page = rd64(&file, PAGE_HEADER + 16);
        let all = read(&file, root_page);
        assert_eq!(all["debian 12/glibc/CVE-1"], r#"{"FixedVersion":"2"}"#);
        assert_eq!(all["vulnerability/CVE-1"], big, "a value spanning pages");
        assert_eq!(all.len(), 2);
    }

    #[test]
    fn refuses_what_bbolt_cannot_hold() {
        let mut root = Bucket::new();
        root.put("k", b"v".to_vec()).unwrap();
        assert!(write(&root).unwrap_err().contains("top-level key `k`"));
        let mut root = Bucket::new();
        root.bucket("b").unwrap().put("k", vec![]).unwrap();
        assert!(root.bucket("b").unwrap().bucket("k").is_err());
        assert!(root.bucket("b").unwrap().put("", vec![]).is_ok());
        assert!(write(&root).unwrap_err().contains("empty key"));
    }
}
