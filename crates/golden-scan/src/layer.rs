//! Walking one layer tar as it streams by: per-entry metadata, whiteouts, the contents of the
//! few small files the inventory and checks read, and private-key headers in small files.
//!
//! Nothing is unpacked to disk and nothing is followed through the filesystem: a layer is a
//! list of facts that [`crate::fs::Fs`] merges afterwards in manifest order.

use std::collections::HashMap;
use std::io::{self, Read};
use std::sync::Arc;

use crate::lang::{self, LangComponent, java};
use crate::limits::{CappedWarnings, LimitError, Limits, MAX_PATH};
use crate::secrets;

/// A kept file's contents, shared (hardlinks, a layer listed twice, the merged filesystem)
/// and never copied.
pub type Content = Arc<Vec<u8>>;

/// Private-key headers are searched in regular files up to this size.
pub const KEY_SCAN_LIMIT: u64 = 64 * 1024;

/// What kind of tar entry a path is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    File,
    Dir,
    Symlink,
    /// A hard link (`link` names the target). Resolved to the target's facts when known.
    Hardlink,
    CharDev,
    BlockDev,
    Fifo,
    Other,
}

/// One entry of a layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Normalised path without leading `/` (`etc/passwd`).
    pub path: Box<str>,
    pub kind: Kind,
    /// Permission bits including setuid/setgid/sticky (`0o4755`).
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    /// Logical size (a sparse entry reports its full size, never read).
    pub size: u64,
    /// Symlink or hardlink target as written (hardlinks normalised like paths).
    pub link: Option<Box<str>>,
}

/// Everything kept about one layer.
#[derive(Debug, Default)]
pub struct LayerFacts {
    pub entries: Vec<Entry>,
    /// Paths deleted from lower layers by `.wh.<name>` entries.
    pub whiteouts: Vec<String>,
    /// Directories whose lower-layer content is hidden (`.wh..wh..opq`).
    pub opaque: Vec<String>,
    /// Contents of the files the scanner reads, by path.
    pub contents: HashMap<String, Content>,
    /// Files with a private-key header: (path, header label such as `RSA PRIVATE KEY`).
    pub key_hits: Vec<(String, String)>,
    /// Language packages found in this layer's files (Java archives, Python and .NET
    /// metadata); [`crate::lang::surviving`] keeps those still present after the merge.
    pub components: Vec<LangComponent>,
    /// Uncompressed tar bytes read (the layer size).
    pub size: u64,
    pub warnings: Vec<String>,
}

/// How a layer blob is compressed, from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniff {
    Gzip,
    Zstd,
    Tar,
    /// 512 zero bytes: an empty tar (end-of-archive blocks only).
    EmptyTar,
    Json,
    Unknown,
}

pub fn sniff(head: &[u8]) -> Sniff {
    if head.starts_with(&[0x1f, 0x8b]) {
        return Sniff::Gzip;
    }
    if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        return Sniff::Zstd;
    }
    if head.len() >= 262 && &head[257..262] == b"ustar" {
        return Sniff::Tar;
    }
    if head.len() >= 512 && head[..512].iter().all(|b| *b == 0) {
        return Sniff::EmptyTar;
    }
    if head
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'{' || *b == b'[')
    {
        return Sniff::Json;
    }
    // Old v7 tars have no magic: accept when the header checksum is right.
    if head.len() >= 512 && v7_checksum_ok(&head[..512]) {
        return Sniff::Tar;
    }
    Sniff::Unknown
}

fn v7_checksum_ok(h: &[u8]) -> bool {
    let field = &h[148..156];
    let text: String = field
        .iter()
        .take_while(|b| **b != 0 && **b != b' ')
        .map(|b| *b as char)
        .collect();
    let Ok(want) = u32::from_str_radix(text.trim(), 8) else {
        return false;
    };
    let sum: u32 = h
        .iter()
        .enumerate()
        .map(|(i, b)| {
            if (148..156).contains(&i) {
                32
            } else {
                u32::from(*b)
            }
        })
        .sum();
    sum == want && h[0] != 0
}

/// Result of normalising a tar path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NormPath {
    /// The path as stored (no leading `/`); `note` says what was odd about the raw name.
    Ok {
        path: String,
        note: Option<&'static str>,
    },
    /// The root directory itself (`./`, `/`).
    Root,
    /// A `..` climbs above the root.
    Escapes,
}

/// Normalise a raw tar name: drop `.` and empty components, resolve `..`, strip a leading `/`.
pub fn normalize(raw: &[u8]) -> NormPath {
    let text = String::from_utf8_lossy(raw);
    let mut note = None;
    if text.starts_with('/') {
        note = Some("absolute path");
    }
    let mut parts: Vec<&str> = Vec::new();
    for comp in text.split('/') {
        match comp {
            "" | "." => {}
            ".." => {
                note = Some("path contains `..`");
                if parts.pop().is_none() {
                    return NormPath::Escapes;
                }
            }
            c => parts.push(c),
        }
    }
    if parts.is_empty() {
        return NormPath::Root;
    }
    NormPath::Ok {
        path: parts.join("/"),
        note,
    }
}

/// Why the scanner keeps a file's contents, and up to what size.
pub fn wanted(path: &str) -> Option<u64> {
    const SMALL: u64 = 4 << 20;
    match path {
        "etc/os-release"
        | "usr/lib/os-release"
        | "etc/debian_version"
        | "etc/alpine-release"
        | "etc/redhat-release"
        | "etc/passwd"
        | "etc/group"
        | "etc/shadow"
        | "etc/apt/sources.list"
        | "etc/apt/apt.conf"
        | "etc/yum.conf"
        | "etc/dnf/dnf.conf"
        | "etc/apk/repositories"
        | "usr/share/golden/hardening.json" => return Some(SMALL),
        "var/lib/dpkg/status" | "lib/apk/db/installed" | "usr/lib/apk/db/installed" => {
            return Some(64 << 20);
        }
        "var/lib/rpm/rpmdb.sqlite"
        | "var/lib/rpm/rpmdb.sqlite-wal"
        | "usr/lib/sysimage/rpm/rpmdb.sqlite"
        | "usr/lib/sysimage/rpm/rpmdb.sqlite-wal" => return Some(512 << 20),
        _ => {}
    }
    let in_dir = |dir: &str| {
        path.strip_prefix(dir)
            .is_some_and(|rest| !rest.is_empty() && !rest.contains('/'))
    };
    if in_dir("var/lib/dpkg/status.d/") {
        return Some(SMALL);
    }
    if in_dir("etc/apt/sources.list.d/")
        || in_dir("etc/apt/apt.conf.d/")
        || in_dir("etc/yum.repos.d/")
    {
        return Some(SMALL);
    }
    // usr/share/doc/<pkg>/copyright: licenses of dpkg packages.
    if let Some(rest) = path.strip_prefix("usr/share/doc/")
        && let Some((pkg, file)) = rest.split_once('/')
        && !pkg.is_empty()
        && file == "copyright"
    {
        return Some(1 << 20);
    }
    None
}

/// Directories whose small files are not searched for private keys (documentation).
fn key_scan_skipped(path: &str) -> bool {
    const SKIP: [&str; 5] = [
        "usr/share/doc/",
        "usr/share/man/",
        "usr/share/info/",
        "usr/share/locale/",
        "usr/include/",
    ];
    SKIP.iter().any(|p| path.starts_with(p))
}

/// Walk a layer given as a byte stream, sniffing its compression from the first bytes.
pub fn walk_stream<R: Read>(mut r: R, name: &str, limits: &Limits) -> io::Result<LayerFacts> {
    let mut head = Vec::with_capacity(512);
    (&mut r).take(512).read_to_end(&mut head)?;
    let kind = sniff(&head);
    let chained = io::Cursor::new(head).chain(r);
    walk_sniffed(kind, chained, name, limits)
}

/// Walk a layer whose first bytes were already sniffed as `kind`; `r` starts at the beginning.
pub fn walk_sniffed<R: Read>(
    kind: Sniff,
    r: R,
    name: &str,
    limits: &Limits,
) -> io::Result<LayerFacts> {
    match kind {
        Sniff::Gzip => {
            let dec = flate2::read::MultiGzDecoder::new(io::BufReader::with_capacity(256 << 10, r));
            walk_tar(tar::Archive::new(Counting::new(dec)), name, limits)
        }
        Sniff::Zstd => {
            let dec =
                ruzstd::decoding::StreamingDecoder::new(io::BufReader::with_capacity(256 << 10, r))
                    .map_err(|e| {
                        io::Error::new(io::ErrorKind::InvalidData, format!("zstd: {e}"))
                    })?;
            walk_tar(tar::Archive::new(Counting::new(dec)), name, limits)
        }
        Sniff::Tar | Sniff::EmptyTar => walk_tar(tar::Archive::new(Counting::new(r)), name, limits),
        Sniff::Json | Sniff::Unknown => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "not a tar, gzip or zstd stream",
        )),
    }
}

/// A reader that counts bytes (the uncompressed layer size).
pub struct Counting<R> {
    inner: R,
    count: u64,
    /// For seekable readers the size is the end position instead.
    max_pos: u64,
}

impl<R> Counting<R> {
    fn new(inner: R) -> Self {
        Counting {
            inner,
            count: 0,
            max_pos: 0,
        }
    }
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        self.max_pos = self.max_pos.max(self.count);
        Ok(n)
    }
}

impl<R: io::Seek> io::Seek for Counting<R> {
    fn seek(&mut self, pos: io::SeekFrom) -> io::Result<u64> {
        let p = self.inner.seek(pos)?;
        self.count = p;
        self.max_pos = self.max_pos.max(p);
        Ok(p)
    }
}

fn entry_kind(t: tar::EntryType) -> Kind {
    use tar::EntryType as T;
    match t {
        T::Regular | T::Continuous | T::GNUSparse => Kind::File,
        T::Directory => Kind::Dir,
        T::Symlink => Kind::Symlink,
        T::Link => Kind::Hardlink,
        T::Char => Kind::CharDev,
        T::Block => Kind::BlockDev,
        T::Fifo => Kind::Fifo,
        _ => Kind::Other,
    }
}

fn walk_tar<R: Read>(
    mut archive: tar::Archive<Counting<R>>,
    name: &str,
    limits: &Limits,
) -> io::Result<LayerFacts> {
    let mut facts = LayerFacts::default();
    walk_entries(archive.entries()?, name, &mut facts, limits)?;
    // Read the end-of-archive padding: the layer size is the whole uncompressed tar.
    let mut rest = archive.into_inner();
    io::copy(&mut rest, &mut io::sink())?;
    facts.size = rest.max_pos;
    Ok(facts)
}

/// Walk an uncompressed layer that can seek: file bodies that are not needed are skipped
/// without reading them.
pub fn walk_seekable<R: Read + io::Seek>(
    r: R,
    name: &str,
    limits: &Limits,
) -> io::Result<LayerFacts> {
    let mut archive = tar::Archive::new(Counting::new(r));
    let mut facts = LayerFacts::default();
    walk_entries(archive.entries_with_seek()?, name, &mut facts, limits)?;
    facts.size = archive.into_inner().max_pos;
    Ok(facts)
}

fn walk_entries<'a, R: Read + 'a>(
    entries: tar::Entries<'a, R>,
    name: &str,
    facts: &mut LayerFacts,
    limits: &Limits,
) -> io::Result<()> {
    let mut warnings = CappedWarnings::default();
    let result = walk_entries_inner(entries, name, facts, limits, &mut warnings);
    facts.warnings = warnings.finish(&format!("layer `{name}`"));
    result
}

/// The normalized path of the `n`th entry (from 0), or `None` when the entry is ignored: the
/// root itself, or (with a warning) a path too long or climbing above the root.
fn entry_path(raw: &[u8], n: usize, name: &str, warnings: &mut CappedWarnings) -> Option<String> {
    if raw.len() > MAX_PATH {
        warnings.push(format!(
            "layer `{name}`: entry {} has a {}-byte path, longer than {MAX_PATH} bytes; ignored",
            n + 1,
            raw.len()
        ));
        return None;
    }
    let shown = String::from_utf8_lossy(raw).into_owned();
    match normalize(raw) {
        NormPath::Root => None,
        NormPath::Escapes => {
            warnings.push(format!(
                "layer `{name}`: entry `{shown}` climbs above the root with `..`; ignored"
            ));
            None
        }
        NormPath::Ok { path, note } => {
            if let Some(note) = note {
                warnings.push(format!(
                    "layer `{name}`: entry `{shown}` has an {note}; read as `/{path}`"
                ));
            }
            Some(path)
        }
    }
}

/// Record a whiteout entry (`.wh.NAME` deletes NAME, `.wh..wh..opq` makes its directory
/// opaque) in `facts`; true when `path` was one.
fn record_whiteout(path: &str, facts: &mut LayerFacts) -> bool {
    let (parent, base) = match path.rsplit_once('/') {
        Some((p, b)) => (p, b),
        None => ("", path),
    };
    let Some(target) = base.strip_prefix(".wh.") else {
        return false;
    };
    if target == ".wh..opq" {
        facts.opaque.push(parent.to_string());
    } else if target.starts_with(".wh.") {
        // aufs metadata (.wh..wh.plnk, .wh..wh.aufs): not a deletion.
    } else if parent.is_empty() {
        facts.whiteouts.push(target.to_string());
    } else {
        facts.whiteouts.push(format!("{parent}/{target}"));
    }
    true
}

fn walk_entries_inner<'a, R: Read + 'a>(
    entries: tar::Entries<'a, R>,
    name: &str,
    facts: &mut LayerFacts,
    limits: &Limits,
    warnings: &mut CappedWarnings,
) -> io::Result<()> {
    // Index of each path in `facts.entries` (for hardlinks inside the layer).
    let mut index: HashMap<Box<str>, usize> = HashMap::new();
    let mut buf: Vec<u8> = Vec::with_capacity(KEY_SCAN_LIMIT as usize);
    for (n, entry) in entries.enumerate() {
        limits
            .count_entry(|| format!("layer `{name}`"))
            .map_err(LimitError::into_io)?;
        let mut entry = entry.map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("entry {}: {e} (truncated or corrupt layer tar)", n + 1),
            )
        })?;
        let Some(path) = entry_path(&entry.path_bytes(), n, name, warnings) else {
            continue;
        };
        if record_whiteout(&path, facts) {
            continue;
        }
        let header = entry.header();
        let mut kind = entry_kind(header.entry_type());
        let mut mode = header.mode().unwrap_or_else(|_| {
            warnings.push(format!("layer `{name}`: `/{path}` has an unreadable mode"));
            0
        });
        let uid = header.uid().unwrap_or(0);
        let gid = header.gid().unwrap_or(0);
        let mut size = entry.size();
        if entry.link_name_bytes().is_some_and(|l| l.len() > MAX_PATH) {
            warnings.push(format!(
                "layer `{name}`: `/{path}` has a link target longer than {MAX_PATH} bytes; ignored"
            ));
            continue;
        }
        let link = match kind {
            Kind::Symlink => entry
                .link_name_bytes()
                .map(|l| String::from_utf8_lossy(&l).into_owned().into_boxed_str()),
            Kind::Hardlink => match entry.link_name_bytes().map(|l| normalize(&l)) {
                Some(NormPath::Ok { path: target, .. }) => Some(target.into_boxed_str()),
                _ => {
                    warnings.push(format!(
                        "layer `{name}`: hardlink `/{path}` has no usable target; ignored"
                    ));
                    continue;
                }
            },
            _ => None,
        };
        let mut content: Option<Content> = None;
        let mut lang_components: Vec<LangComponent> = Vec::new();
        let cap = limits.nested_archive_cap();
        let mut linked = false;
        if kind == Kind::Hardlink
            && let Some(target) = &link
            && let Some(&i) = index.get(target.as_ref())
        {
            // Same inode: the target's facts are the link's facts, its contents shared (a
            // reference, never a copy) when they are within this path's own limit.
            let t = &facts.entries[i];
            kind = t.kind;
            mode = t.mode;
            size = t.size;
            linked = true;
            if wanted(&path).is_some_and(|limit| size <= limit) {
                content = facts.contents.get(t.path.as_ref()).cloned();
            }
        }
        let mut stored = false;
        if kind == Kind::File {
            let want = wanted(&path);
            let scan_key = size > 0 && size <= KEY_SCAN_LIMIT && !key_scan_skipped(&path);
            if content.is_none() {
                match want {
                    Some(limit) if size > limit => warnings.push(format!(
                        "layer `{name}`: `/{path}` is {size} bytes, over the {limit}-byte limit for files the scanner reads; not read"
                    )),
                    // A hardlink whose target was not kept has no body of its own.
                    Some(_) if linked => {}
                    Some(_) => {
                        limits
                            .charge(size, &format!("`/{path}` in layer `{name}`"))
                            .map_err(LimitError::into_io)?;
                        let mut v = Vec::with_capacity(size.min(1 << 20) as usize);
                        (&mut entry).take(size).read_to_end(&mut v)?;
                        content = Some(Arc::new(v));
                    }
                    None if !linked && size > 0 && java::is_archive(&path) => {
                        let mut lang_warnings = Vec::new();
                        let found = if scan_key {
                            buf.clear();
                            (&mut entry).take(size).read_to_end(&mut buf)?;
                            if let Some(label) = secrets::private_key_label(&buf) {
                                facts.key_hits.push((path.clone(), label));
                            }
                            java::scan(&buf[..], &path, &path, cap, 0, &mut lang_warnings)?
                        } else {
                            let body = (&mut entry).take(size);
                            java::scan(body, &path, &path, cap, 0, &mut lang_warnings)?
                        };
                        lang_components.extend(found);
                        for w in lang_warnings {
                            warnings.push(format!("layer `{name}`: {w}"));
                        }
                    }
                    None if !linked && size > 0 && lang::binary::is_candidate(&path, mode) => {
                        let mut lang_warnings = Vec::new();
                        let found = if scan_key {
                            buf.clear();
                            (&mut entry).take(size).read_to_end(&mut buf)?;
                            if let Some(label) = secrets::private_key_label(&buf) {
                                facts.key_hits.push((path.clone(), label));
                            }
                            lang::binary::from_bytes(&buf, &path, &mut lang_warnings)
                        } else {
                            let body = (&mut entry).take(size);
                            lang::binary::scan(body, size, &path, cap, &mut lang_warnings)?
                        };
                        lang_components.extend(found);
                        for w in lang_warnings {
                            warnings.push(format!("layer `{name}`: {w}"));
                        }
                    }
                    None if !linked && size <= lang::METADATA_LIMIT && lang::wanted(&path) => {
                        buf.clear();
                        (&mut entry).take(size).read_to_end(&mut buf)?;
                        if scan_key && let Some(label) = secrets::private_key_label(&buf) {
                            facts.key_hits.push((path.clone(), label));
                        }
                        let mut lang_warnings = Vec::new();
                        lang_components.extend(lang::from_file(&path, &buf, &mut lang_warnings));
                        for w in lang_warnings {
                            warnings.push(format!("layer `{name}`: {w}"));
                        }
                    }
                    None if scan_key && !linked => {
                        buf.clear();
                        (&mut entry).take(size).read_to_end(&mut buf)?;
                        if let Some(label) = secrets::private_key_label(&buf) {
                            facts.key_hits.push((path.clone(), label));
                        }
                    }
                    None => {}
                }
            }
            if want.is_some() {
                if let Some(c) = &content
                    && scan_key
                    && let Some(label) = secrets::private_key_label(c)
                {
                    facts.key_hits.push((path.clone(), label));
                }
                if let Some(c) = content.take() {
                    facts.contents.insert(path.clone(), c);
                    stored = true;
                }
            }
        }
        if index.contains_key(path.as_str()) {
            // A later entry for the same path replaces what the earlier one contained.
            facts.components.retain(|c| c.file != path);
        }
        facts.components.append(&mut lang_components);
        if !stored && index.contains_key(path.as_str()) {
            // A later entry for the same path replaces an earlier one, contents included.
            facts.contents.remove(&path);
        }
        let entry = Entry {
            path: path.into_boxed_str(),
            kind,
            mode,
            uid,
            gid,
            size,
            link,
        };
        match index.get(entry.path.as_ref()) {
            // The same path twice in one layer: the later entry wins, in place.
            Some(&i) => facts.entries[i] = entry,
            None => {
                index.insert(entry.path.clone(), facts.entries.len());
                facts.entries.push(entry);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_odd_paths() {
        assert_eq!(normalize(b"./"), NormPath::Root);
        assert_eq!(
            normalize(b"./etc/passwd"),
            NormPath::Ok {
                path: "etc/passwd".into(),
                note: None
            }
        );
        assert_eq!(
            normalize(b"/etc//passwd"),
            NormPath::Ok {
                path: "etc/passwd".into(),
                note: Some("absolute path")
            }
        );
        assert_eq!(normalize(b"../../etc/shadow"), NormPath::Escapes);
        assert_eq!(
            normalize(b"a/../b"),
            NormPath::Ok {
                path: "b".into(),
                note: Some("path contains `..`")
            }
        );
    }

    #[test]
    fn sniffs_magic_bytes() {
        assert_eq!(sniff(&[0x1f, 0x8b, 8, 0]), Sniff::Gzip);
        assert_eq!(sniff(&[0x28, 0xb5, 0x2f, 0xfd, 0]), Sniff::Zstd);
        assert_eq!(sniff(&[0u8; 512]), Sniff::EmptyTar);
        assert_eq!(sniff(b"  {\"a\":1}"), Sniff::Json);
        assert_eq!(sniff(b"hello"), Sniff::Unknown);
    }

    #[test]
    fn wanted_files() {
        assert!(wanted("etc/passwd").is_some());
        assert!(wanted("var/lib/dpkg/status.d/tzdata").is_some());
        assert!(wanted("var/lib/dpkg/status.d/sub/x").is_none());
        assert!(wanted("usr/share/doc/bash/copyright").is_some());
        assert!(wanted("usr/share/doc/bash/x/copyright").is_none());
        assert!(wanted("usr/bin/bash").is_none());
    }
}
