//! The build context: a tar stream of the context directory, filtered by `.dockerignore` exactly
//! like the docker CLI does (see [`crate::dockerignore`]), written from a blocking thread into a
//! bounded channel that feeds the HTTP request body. The context is never held in memory.
//!
//! Headers are deterministic: entries in byte order of their names (directory by directory, as
//! the CLI walks), owner `0:0` with no user/group names, permission bits (including setuid,
//! setgid, sticky) kept, no access/change times. Modification times are the files' own, clamped
//! to `SOURCE_DATE_EPOCH` when it is set, so a checkout built twice gives the same bytes.
//! Hard links inside the context become tar hard links; symbolic links are sent as links (never
//! followed); FIFOs and devices are sent as such; sockets are skipped (the CLI skips them too).

use std::collections::HashMap;
use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::time::Instant;

use bytes::Bytes;
use golden_contracts::units::human_bytes;
use sha2::{Digest, Sha256};

use crate::dockerignore::{self, Line, MatchInfo, Matcher, PatternError};

/// Chunk size of the body stream: big enough to keep syscalls and channel hops rare.
const CHUNK: usize = 256 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum ContextError {
    #[error("failed to read `{path}`")]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("`{path}` has a bad pattern")]
    Pattern {
        path: PathBuf,
        #[source]
        source: PatternError,
    },
    #[error(
        "`{path}` changed while it was being sent (expected {expected} bytes); retry when the context is not being written to"
    )]
    Changed { path: PathBuf, expected: u64 },
    #[error("the engine stopped reading the build context")]
    Aborted,
    #[error("failed to write the build context tar")]
    Write(#[source] io::Error),
}

/// Where the Dockerfile is relative to the context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DockerfileAt {
    /// Inside the context: its context-relative, slash-separated path.
    Inside(String),
    /// Outside the context: sent as an extra entry `.dockerfile.<hash>` (like the CLI).
    Outside(PathBuf),
}

/// A prepared context: patterns read and validated, ready to be written any number of times.
#[derive(Debug, Clone)]
pub struct Context {
    root: PathBuf,
    matcher: Matcher,
    /// Name of the Dockerfile inside the tar (what `POST /build?dockerfile=` gets).
    dockerfile_name: String,
    /// Extra entry for a Dockerfile from outside the context.
    extra_dockerfile: Option<(String, Vec<u8>)>,
    /// Replacement content for `.dockerignore` (outside Dockerfile: add its entry name).
    dockerignore_override: Option<Vec<u8>>,
    /// Replacement content for a Dockerfile inside the context.
    dockerfile_override: Option<Vec<u8>>,
    /// The `.dockerignore` text as read (to rebuild the override).
    ignore_text: String,
    has_dockerignore: bool,
    mtime_clamp: Option<u64>,
}

/// What was sent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    pub entries: u64,
    pub bytes: u64,
}

impl Context {
    /// Read `.dockerignore` in `root` and prepare the context. `mtime_clamp` is
    /// `SOURCE_DATE_EPOCH` when set.
    pub fn prepare(
        root: &Path,
        dockerfile: &DockerfileAt,
        mtime_clamp: Option<u64>,
    ) -> Result<Context, ContextError> {
        let ignore_path = root.join(".dockerignore");
        let (text, has_dockerignore) = match fs::read(&ignore_path) {
            Ok(b) => (String::from_utf8_lossy(&b).into_owned(), true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => (String::new(), false),
            Err(source) => {
                return Err(ContextError::Read {
                    path: ignore_path,
                    source,
                });
            }
        };
        let mut lines: Vec<Line> = dockerignore::parse(&text);
        let inside = match dockerfile {
            DockerfileAt::Inside(rel) => Some(rel.as_str()),
            DockerfileAt::Outside(_) => None,
        };
        let pattern_err = |source| ContextError::Pattern {
            path: ignore_path.clone(),
            source,
        };
        dockerignore::keep_build_files(&mut lines, inside).map_err(pattern_err)?;
        let matcher = Matcher::new(&lines).map_err(pattern_err)?;
        let mut c = Context {
            root: root.to_path_buf(),
            matcher,
            dockerfile_name: String::new(),
            extra_dockerfile: None,
            dockerignore_override: None,
            dockerfile_override: None,
            ignore_text: text,
            has_dockerignore,
            mtime_clamp,
        };
        match dockerfile {
            DockerfileAt::Inside(rel) => c.dockerfile_name = rel.clone(),
            DockerfileAt::Outside(path) => {
                let content = fs::read(path).map_err(|source| ContextError::Read {
                    path: path.clone(),
                    source,
                })?;
                c.set_outside_dockerfile(content);
            }
        }
        Ok(c)
    }

    /// A Dockerfile from outside the context travels as `.dockerfile.<hash>`; the CLI appends
    /// that name to `.dockerignore` so the daemon drops it from the context after reading it
    /// (a `COPY . .` never sees it).
    fn set_outside_dockerfile(&mut self, content: Vec<u8>) {
        let hash = hex_prefix(&Sha256::digest(&content), 20);
        let name = format!(".dockerfile.{hash}");
        let mut ignore = if self.has_dockerignore {
            self.ignore_text.clone().into_bytes()
        } else {
            b".dockerignore".to_vec()
        };
        ignore.extend_from_slice(format!("\n{name}\n").as_bytes());
        self.dockerfile_name = name.clone();
        self.extra_dockerfile = Some((name, content));
        self.dockerignore_override = Some(ignore);
    }

    /// Send `content` as the Dockerfile instead of the file on disk.
    pub fn replace_dockerfile(&mut self, content: Vec<u8>) {
        if self.extra_dockerfile.is_some() {
            self.set_outside_dockerfile(content);
        } else {
            self.dockerfile_override = Some(content);
        }
    }

    /// The Dockerfile's name inside the tar.
    pub fn dockerfile_name(&self) -> &str {
        &self.dockerfile_name
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The entries that would be sent, in order (directories end with `/`).
    pub fn list(&self) -> Result<Vec<String>, ContextError> {
        let mut names = Vec::new();
        self.walk(&mut |e| {
            names.push(if e.kind == EntryKind::Dir {
                format!("{}/", e.name)
            } else {
                e.name.clone()
            });
            Ok(())
        })?;
        if let Some((name, _)) = &self.extra_dockerfile {
            names.push(name.clone());
            if !self.has_dockerignore {
                names.push(".dockerignore".into());
            }
        }
        Ok(names)
    }

    /// Write the context tar into `out`.
    pub fn write_tar<W: Write>(&self, out: W) -> Result<Stats, ContextError> {
        let mut counter = CountingWriter {
            inner: out,
            bytes: 0,
        };
        let mut entries = 0u64;
        {
            let mut tar = tar::Builder::new(&mut counter);
            tar.mode(tar::HeaderMode::Complete);
            tar.follow_symlinks(false);
            let mut links: HashMap<(u64, u64), String> = HashMap::new();
            self.walk(&mut |e| {
                entries += 1;
                self.append(&mut tar, e, &mut links)
            })?;
            if let Some((name, content)) = &self.extra_dockerfile {
                let mtime = self.clamp(now_secs());
                append_bytes(&mut tar, name, content, 0o600, mtime)?;
                entries += 1;
                if !self.has_dockerignore
                    && let Some(ignore) = &self.dockerignore_override
                {
                    append_bytes(&mut tar, ".dockerignore", ignore, 0o600, mtime)?;
                    entries += 1;
                }
            }
            tar.finish().map_err(map_write)?;
        }
        counter.flush().map_err(map_write)?;
        Ok(Stats {
            entries,
            bytes: counter.bytes,
        })
    }

    fn clamp(&self, mtime: u64) -> u64 {
        match self.mtime_clamp {
            Some(c) if mtime > c => c,
            _ => mtime,
        }
    }

    fn append<W: Write>(
        &self,
        tar: &mut tar::Builder<W>,
        e: &Entry,
        links: &mut HashMap<(u64, u64), String>,
    ) -> Result<(), ContextError> {
        let md = &e.meta;
        let mut h = tar::Header::new_gnu();
        h.set_mode(md.mode() & 0o7777);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(self.clamp(u64::try_from(md.mtime()).unwrap_or(0)));
        let read_err = |source| ContextError::Read {
            path: e.path.clone(),
            source,
        };
        match e.kind {
            EntryKind::Dir => {
                h.set_entry_type(tar::EntryType::Directory);
                h.set_size(0);
                tar.append_data(&mut h, format!("{}/", e.name), io::empty())
                    .map_err(map_write)?;
            }
            EntryKind::Symlink => {
                let target = fs::read_link(&e.path).map_err(read_err)?;
                h.set_entry_type(tar::EntryType::Symlink);
                h.set_size(0);
                tar.append_link(&mut h, &e.name, &target)
                    .map_err(map_write)?;
            }
            EntryKind::File
                if (e.name == ".dockerignore" && self.dockerignore_override.is_some())
                    || (e.name == self.dockerfile_name && self.dockerfile_override.is_some()) =>
            {
                let content = if e.name == ".dockerignore" {
                    self.dockerignore_override.as_deref().unwrap_or_default()
                } else {
                    self.dockerfile_override.as_deref().unwrap_or_default()
                };
                h.set_entry_type(tar::EntryType::Regular);
                h.set_size(content.len() as u64);
                tar.append_data(&mut h, &e.name, content)
                    .map_err(map_write)?;
            }
            EntryKind::File => {
                if md.nlink() > 1 {
                    let key = (md.dev(), md.ino());
                    if let Some(first) = links.get(&key) {
                        h.set_entry_type(tar::EntryType::Link);
                        h.set_size(0);
                        tar.append_link(&mut h, &e.name, first).map_err(map_write)?;
                        return Ok(());
                    }
                    links.insert(key, e.name.clone());
                }
                // A file that changes size while it is read is reported, not sent half.
                let file = fs::File::open(&e.path).map_err(read_err)?;
                let size = md.len();
                h.set_entry_type(tar::EntryType::Regular);
                h.set_size(size);
                let mut reader = ExactReader {
                    inner: file.take(size),
                    remaining: size,
                };
                tar.append_data(&mut h, &e.name, &mut reader)
                    .map_err(|err| {
                        if err.kind() == io::ErrorKind::UnexpectedEof {
                            ContextError::Changed {
                                path: e.path.clone(),
                                expected: size,
                            }
                        } else if err.kind() == io::ErrorKind::BrokenPipe {
                            ContextError::Aborted
                        } else {
                            ContextError::Read {
                                path: e.path.clone(),
                                source: err,
                            }
                        }
                    })?;
            }
            EntryKind::Fifo | EntryKind::Char | EntryKind::Block => {
                let (ty, dev) = match e.kind {
                    EntryKind::Fifo => (tar::EntryType::Fifo, None),
                    EntryKind::Char => (tar::EntryType::Char, Some(md.rdev())),
                    _ => (tar::EntryType::Block, Some(md.rdev())),
                };
                h.set_entry_type(ty);
                h.set_size(0);
                if let Some(rdev) = dev {
                    let major = ((rdev >> 8) & 0xfff) | ((rdev >> 32) & !0xfff);
                    let minor = (rdev & 0xff) | ((rdev >> 12) & !0xff);
                    h.set_device_major(u32::try_from(major).unwrap_or(0))
                        .map_err(map_write)?;
                    h.set_device_minor(u32::try_from(minor).unwrap_or(0))
                        .map_err(map_write)?;
                }
                tar.append_data(&mut h, &e.name, io::empty())
                    .map_err(map_write)?;
            }
        }
        Ok(())
    }

    /// Walk the context like the CLI's `TarWithOptions`: sorted, not following links, matching
    /// with the parent directory's results, skipping excluded directories unless an exception
    /// pattern starts with them.
    fn walk(
        &self,
        visit: &mut dyn FnMut(&Entry) -> Result<(), ContextError>,
    ) -> Result<(), ContextError> {
        // Each stack frame: a directory's sorted children and the directory's match info.
        struct Frame {
            rel: String,
            children: std::vec::IntoIter<(Vec<u8>, PathBuf)>,
            info: Option<MatchInfo>,
        }
        let top = read_sorted(&self.root)?;
        let mut stack = vec![Frame {
            rel: String::new(),
            children: top.into_iter(),
            info: None,
        }];
        while let Some(frame) = stack.last_mut() {
            let Some((name_bytes, path)) = frame.children.next() else {
                stack.pop();
                continue;
            };
            let base = String::from_utf8_lossy(&name_bytes);
            let rel = if frame.rel.is_empty() {
                base.into_owned()
            } else {
                format!("{}/{}", frame.rel, base)
            };
            let meta = fs::symlink_metadata(&path).map_err(|source| ContextError::Read {
                path: path.clone(),
                source,
            })?;
            let ft = meta.file_type();
            let kind = if ft.is_dir() {
                EntryKind::Dir
            } else if ft.is_symlink() {
                EntryKind::Symlink
            } else if ft.is_file() {
                EntryKind::File
            } else if ft.is_fifo() {
                EntryKind::Fifo
            } else if ft.is_char_device() {
                EntryKind::Char
            } else if ft.is_block_device() {
                EntryKind::Block
            } else {
                continue; // socket
            };
            let (skip, info) = self.matcher.matches_using_parent(&rel, frame.info.as_ref());
            if skip {
                if kind != EntryKind::Dir || !self.matcher.must_descend(&rel) {
                    continue;
                }
                // Excluded directory with exceptions below it: descend, but do not send the
                // directory entry itself.
                let children = read_sorted(&path)?;
                stack.push(Frame {
                    rel,
                    children: children.into_iter(),
                    info: Some(info),
                });
                continue;
            }
            let entry = Entry {
                name: rel.clone(),
                path: path.clone(),
                kind,
                meta,
            };
            visit(&entry)?;
            if kind == EntryKind::Dir {
                let children = read_sorted(&path)?;
                stack.push(Frame {
                    rel,
                    children: children.into_iter(),
                    info: Some(info),
                });
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EntryKind {
    Dir,
    File,
    Symlink,
    Fifo,
    Char,
    Block,
}

#[derive(Debug, Clone)]
struct Entry {
    name: String,
    path: PathBuf,
    kind: EntryKind,
    meta: fs::Metadata,
}

fn read_sorted(dir: &Path) -> Result<Vec<(Vec<u8>, PathBuf)>, ContextError> {
    use std::os::unix::ffi::OsStrExt;
    let err = |source| ContextError::Read {
        path: dir.to_path_buf(),
        source,
    };
    let mut v = Vec::new();
    for e in fs::read_dir(dir).map_err(err)? {
        let e = e.map_err(err)?;
        let name = e.file_name();
        v.push((name.as_bytes().to_vec(), e.path()));
    }
    v.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(v)
}

fn append_bytes<W: Write>(
    tar: &mut tar::Builder<W>,
    name: &str,
    content: &[u8],
    mode: u32,
    mtime: u64,
) -> Result<(), ContextError> {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Regular);
    h.set_mode(mode);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(mtime);
    h.set_size(content.len() as u64);
    tar.append_data(&mut h, name, content).map_err(map_write)
}

fn map_write(e: io::Error) -> ContextError {
    if e.kind() == io::ErrorKind::BrokenPipe {
        ContextError::Aborted
    } else {
        ContextError::Write(e)
    }
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn hex_prefix(bytes: &[u8], n: usize) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push_str(&format!("{b:02x}"));
    }
    s.truncate(n);
    s
}

/// A reader that reports a file which shrank while being read.
struct ExactReader<R> {
    inner: R,
    remaining: u64,
}

impl<R: Read> Read for ExactReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.remaining == 0 {
            return Ok(0);
        }
        let n = self.inner.read(buf)?;
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "file shrank"));
        }
        self.remaining -= n as u64;
        Ok(n)
    }
}

struct CountingWriter<W> {
    inner: W,
    bytes: u64,
}

impl<W: Write> Write for CountingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A `Write` that hands fixed-size chunks to an async receiver (the HTTP body).
pub struct ChannelWriter {
    tx: tokio::sync::mpsc::Sender<io::Result<Bytes>>,
    buf: Vec<u8>,
    progress: Option<Progress>,
    sent: u64,
}

/// Progress shown on a terminal while the context is sent.
pub struct Progress {
    last: Instant,
}

impl ChannelWriter {
    pub fn new(tx: tokio::sync::mpsc::Sender<io::Result<Bytes>>, progress: bool) -> Self {
        ChannelWriter {
            tx,
            buf: Vec::with_capacity(CHUNK),
            progress: progress.then(|| Progress {
                last: Instant::now(),
            }),
            sent: 0,
        }
    }

    fn send(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK));
        self.sent += chunk.len() as u64;
        self.tx
            .blocking_send(Ok(Bytes::from(chunk)))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "request body closed"))?;
        if let Some(p) = &mut self.progress
            && p.last.elapsed().as_millis() >= 100
        {
            p.last = Instant::now();
            eprint!("\rsending build context: {}", human_bytes(self.sent));
        }
        Ok(())
    }

    /// Tell the receiver the context is broken so the engine drops the request.
    pub fn fail(&self, message: &str) {
        let _ = self
            .tx
            .blocking_send(Err(io::Error::other(message.to_string())));
    }

    pub fn clear_progress(&self) {
        if self.progress.is_some() {
            eprint!("\r\x1b[2K");
        }
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        self.send()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[&str]) -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        for f in files {
            let p = d.path().join(f);
            if f.ends_with('/') {
                fs::create_dir_all(&p).unwrap();
            } else {
                fs::create_dir_all(p.parent().unwrap()).unwrap();
                fs::write(&p, f.as_bytes()).unwrap();
            }
        }
        d
    }

    fn sent(d: &Path, ignore: &str, dockerfile: &DockerfileAt) -> Vec<String> {
        fs::write(d.join(".dockerignore"), ignore).unwrap();
        let c = Context::prepare(d, dockerfile, None).unwrap();
        let mut tar_bytes = Vec::new();
        c.write_tar(&mut tar_bytes).unwrap();
        let mut a = tar::Archive::new(&tar_bytes[..]);
        let names: Vec<String> = a
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let n = e.path().unwrap().to_string_lossy().into_owned();
                if e.header().entry_type().is_dir() {
                    format!("{}/", n.trim_end_matches('/'))
                } else {
                    n
                }
            })
            .collect();
        assert_eq!(names, c.list().unwrap(), "list() and the tar agree");
        names
    }

    #[test]
    fn ignored_dockerfile_and_dockerignore_are_still_sent() {
        let d = tree(&["Dockerfile", "a.txt", "sub/b.txt"]);
        let names = sent(d.path(), "*\n", &DockerfileAt::Inside("Dockerfile".into()));
        assert_eq!(names, [".dockerignore", "Dockerfile"]);
    }

    #[test]
    fn exception_inside_excluded_directory_is_reached() {
        let d = tree(&["Dockerfile", "docs/a.md", "docs/keep.md", "docs/deep/x.md"]);
        let names = sent(
            d.path(),
            "docs\n!docs/keep.md\n",
            &DockerfileAt::Inside("Dockerfile".into()),
        );
        assert_eq!(names, [".dockerignore", "Dockerfile", "docs/keep.md"]);
    }

    #[test]
    fn outside_dockerfile_gets_a_hashed_entry_and_is_ignored_by_the_daemon() {
        let d = tree(&["ctx/a.txt", "df/Dockerfile"]);
        let df = DockerfileAt::Outside(d.path().join("df/Dockerfile"));
        let c = Context::prepare(&d.path().join("ctx"), &df, None).unwrap();
        assert!(c.dockerfile_name().starts_with(".dockerfile."));
        assert_eq!(c.dockerfile_name().len(), ".dockerfile.".len() + 20);
        let list = c.list().unwrap();
        assert_eq!(list, ["a.txt", c.dockerfile_name(), ".dockerignore"]);
        let mut tar_bytes = Vec::new();
        c.write_tar(&mut tar_bytes).unwrap();
        let mut a = tar::Archive::new(&tar_bytes[..]);
        let mut ignore = String::new();
        for e in a.entries().unwrap() {
            let mut e = e.unwrap();
            if e.path().unwrap().to_str() == Some(".dockerignore") {
                e.read_to_string(&mut ignore).unwrap();
            }
        }
        assert_eq!(ignore, format!(".dockerignore\n{}\n", c.dockerfile_name()));
    }

    #[test]
    fn headers_are_deterministic_and_clamped() {
        let d = tree(&["Dockerfile", "x/y"]);
        let c = Context::prepare(
            d.path(),
            &DockerfileAt::Inside("Dockerfile".into()),
            Some(1000),
        )
        .unwrap();
        let mut one = Vec::new();
        let mut two = Vec::new();
        c.write_tar(&mut one).unwrap();
        c.write_tar(&mut two).unwrap();
        assert_eq!(one, two);
        let mut a = tar::Archive::new(&one[..]);
        for e in a.entries().unwrap() {
            let e = e.unwrap();
            let h = e.header();
            assert_eq!(h.mtime().unwrap(), 1000);
            assert_eq!(h.uid().unwrap(), 0);
            assert_eq!(h.username().unwrap(), Some(""));
        }
    }

    #[test]
    fn hard_and_symbolic_links_are_links() {
        let d = tree(&["Dockerfile", "a"]);
        fs::hard_link(d.path().join("a"), d.path().join("b")).unwrap();
        std::os::unix::fs::symlink("a", d.path().join("c")).unwrap();
        let c =
            Context::prepare(d.path(), &DockerfileAt::Inside("Dockerfile".into()), None).unwrap();
        let mut bytes = Vec::new();
        let stats = c.write_tar(&mut bytes).unwrap();
        assert_eq!(stats.entries, 4);
        assert_eq!(stats.bytes, bytes.len() as u64);
        let mut a = tar::Archive::new(&bytes[..]);
        let kinds: Vec<(String, tar::EntryType)> = a
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.path().unwrap().to_string_lossy().into_owned(),
                    e.header().entry_type(),
                )
            })
            .collect();
        assert_eq!(
            kinds,
            [
                ("Dockerfile".to_string(), tar::EntryType::Regular),
                ("a".to_string(), tar::EntryType::Regular),
                ("b".to_string(), tar::EntryType::Link),
                ("c".to_string(), tar::EntryType::Symlink),
            ]
        );
    }

    #[test]
    fn bad_pattern_names_the_file_and_line() {
        let d = tree(&["Dockerfile"]);
        fs::write(d.path().join(".dockerignore"), "ok\n[oops\n").unwrap();
        let err = Context::prepare(d.path(), &DockerfileAt::Inside("Dockerfile".into()), None)
            .unwrap_err();
        let chain = format!("{err}: {}", std::error::Error::source(&err).unwrap());
        assert!(
            chain.contains(".dockerignore") && chain.contains(":2:"),
            "{chain}"
        );
    }
}
