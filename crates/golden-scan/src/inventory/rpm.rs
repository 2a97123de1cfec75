//! RPM: the sqlite database of RHEL 9 / UBI 9 (`/var/lib/rpm/rpmdb.sqlite`), whose `Packages`
//! table holds each package's header blob. The header format is parsed here (no librpm):
//!
//! ```text
//! u32 BE  il   number of index entries
//! u32 BE  dl   size of the data store
//! il x { i32 tag, u32 type, i32 offset, u32 count }   (big-endian)
//! dl bytes of data
//! ```

use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rusqlite::config::DbConfig;
use rusqlite::limits::Limit;
use rusqlite::{Connection, OpenFlags, OptionalExtension};

use crate::limits::CappedWarnings;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RpmPackage {
    pub name: String,
    pub version: String,
    pub release: String,
    pub epoch: Option<i64>,
    pub arch: Option<String>,
    pub source_rpm: Option<String>,
    pub license: Option<String>,
}

impl RpmPackage {
    /// `[epoch:]version-release`, as rpm and Trivy print it.
    pub fn evr(&self) -> String {
        let vr = if self.release.is_empty() {
            self.version.clone()
        } else {
            format!("{}-{}", self.version, self.release)
        };
        match self.epoch {
            Some(e) if e > 0 => format!("{e}:{vr}"),
            _ => vr,
        }
    }
}

pub const TAG_NAME: i32 = 1000;
pub const TAG_VERSION: i32 = 1001;
pub const TAG_RELEASE: i32 = 1002;
pub const TAG_EPOCH: i32 = 1003;
pub const TAG_LICENSE: i32 = 1014;
pub const TAG_ARCH: i32 = 1022;
pub const TAG_SOURCERPM: i32 = 1044;

const TYPE_INT32: u32 = 4;
const TYPE_STRING: u32 = 6;
const TYPE_STRING_ARRAY: u32 = 8;
const TYPE_I18NSTRING: u32 = 9;

fn be32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

/// Parse one header blob. Errors say what is wrong; nothing here can panic on bad input.
pub fn parse_header(blob: &[u8]) -> Result<RpmPackage, String> {
    let il = be32(blob, 0).ok_or("header shorter than 8 bytes")? as usize;
    let dl = be32(blob, 4).ok_or("header shorter than 8 bytes")? as usize;
    if il == 0 || il > 0xffff {
        return Err(format!("implausible index count {il}"));
    }
    let data_start = 8usize
        .checked_add(il.checked_mul(16).ok_or("index overflow")?)
        .ok_or("index overflow")?;
    let data_end = data_start.checked_add(dl).ok_or("data overflow")?;
    if data_end > blob.len() {
        return Err(format!(
            "header says {il} entries and {dl} data bytes but the blob has {} bytes",
            blob.len()
        ));
    }
    let data = &blob[data_start..data_end];
    let string_at = |off: usize| -> Option<String> {
        let s = data.get(off..)?;
        let end = s.iter().position(|b| *b == 0)?;
        Some(String::from_utf8_lossy(&s[..end]).into_owned())
    };
    let mut p = RpmPackage::default();
    for i in 0..il {
        let at = 8 + i * 16;
        let tag = be32(blob, at).ok_or("truncated index")? as i32;
        let ty = be32(blob, at + 4).ok_or("truncated index")?;
        let off = be32(blob, at + 8).ok_or("truncated index")? as i32;
        let count = be32(blob, at + 12).ok_or("truncated index")?;
        if off < 0 || count == 0 {
            continue;
        }
        let off = off as usize;
        let text = || -> Option<String> {
            match ty {
                TYPE_STRING | TYPE_I18NSTRING | TYPE_STRING_ARRAY => string_at(off),
                _ => None,
            }
        };
        match tag {
            TAG_NAME => p.name = text().unwrap_or_default(),
            TAG_VERSION => p.version = text().unwrap_or_default(),
            TAG_RELEASE => p.release = text().unwrap_or_default(),
            TAG_LICENSE => p.license = text(),
            TAG_ARCH => p.arch = text(),
            TAG_SOURCERPM => p.source_rpm = text(),
            TAG_EPOCH if ty == TYPE_INT32 => {
                p.epoch = be32(data, off).map(|v| i64::from(v as i32));
            }
            _ => {}
        }
    }
    if p.name.is_empty() {
        return Err("header has no NAME tag".into());
    }
    Ok(p)
}

/// Rows read from `Packages` at most (RHEL images hold a few thousand packages).
pub const MAX_ROWS: usize = 100_000;
/// Wall-clock time the whole read may take.
pub const DEADLINE: Duration = Duration::from_secs(10);
/// SQLite virtual-machine steps the read may take (checked every [`PROGRESS_OPS`]).
pub const MAX_STEPS: u64 = 2_000_000_000;
const PROGRESS_OPS: i32 = 100_000;
/// Largest string or blob SQLite may build (one package header).
const MAX_VALUE: i32 = 32 << 20;
/// SQLite's own heap (page cache, sorts, rows), process-wide.
const HEAP_LIMIT: i64 = 128 << 20;

/// `file:` URI of a path (percent-encoded; `mode=ro`, and `immutable=1` when there is no WAL
/// to apply: SQLite then takes no locks and reads the file as it is).
fn uri(path: &Path, immutable: bool) -> String {
    let mut out = String::from("file:");
    for b in path.as_os_str().as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(char::from(*b));
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out.push_str("?mode=ro");
    if immutable {
        out.push_str("&immutable=1");
    }
    out
}

/// Open a database copied out of an image, as untrusted input: read-only (immutable without
/// a WAL), defensive, no trusted schema, small limits, a heap cap, and a progress handler that
/// interrupts after [`DEADLINE`] or [`MAX_STEPS`] (it sets `stopped`).
fn open_untrusted(
    path: &Path,
    immutable: bool,
    stopped: Arc<AtomicBool>,
) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        uri(path, immutable),
        OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_DEFENSIVE, true)?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_TRUSTED_SCHEMA, false)?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_TRIGGER, false)?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_VIEW, false)?;
    for (limit, value) in [
        (Limit::SQLITE_LIMIT_LENGTH, MAX_VALUE),
        (Limit::SQLITE_LIMIT_SQL_LENGTH, 100_000),
        (Limit::SQLITE_LIMIT_COLUMN, 200),
        (Limit::SQLITE_LIMIT_EXPR_DEPTH, 100),
        (Limit::SQLITE_LIMIT_COMPOUND_SELECT, 4),
        (Limit::SQLITE_LIMIT_VDBE_OP, 50_000),
        (Limit::SQLITE_LIMIT_FUNCTION_ARG, 8),
        (Limit::SQLITE_LIMIT_ATTACHED, 0),
        (Limit::SQLITE_LIMIT_LIKE_PATTERN_LENGTH, 100),
        (Limit::SQLITE_LIMIT_VARIABLE_NUMBER, 10),
        (Limit::SQLITE_LIMIT_TRIGGER_DEPTH, 1),
        (Limit::SQLITE_LIMIT_WORKER_THREADS, 0),
    ] {
        conn.set_limit(limit, value)?;
    }
    conn.execute_batch(&format!(
        "PRAGMA trusted_schema = OFF; PRAGMA query_only = ON; PRAGMA mmap_size = 0; PRAGMA temp_store = MEMORY; PRAGMA cache_size = -8192; PRAGMA hard_heap_limit = {HEAP_LIMIT};"
    ))?;
    let deadline = Instant::now() + DEADLINE;
    let mut calls: u64 = 0;
    conn.progress_handler(
        PROGRESS_OPS,
        Some(move || {
            calls += 1;
            let stop =
                calls.saturating_mul(PROGRESS_OPS as u64) > MAX_STEPS || Instant::now() > deadline;
            if stop {
                stopped.store(true, Ordering::Relaxed);
            }
            stop
        }),
    );
    Ok(conn)
}

/// Read every package header from an rpmdb.sqlite (and its WAL when present). SQLite needs a
/// file, so the database is written to a private temporary directory that is removed after.
/// The database comes from the image: it is opened as untrusted input (see `open_untrusted`),
/// `Packages` must be a real table, and at most [`MAX_ROWS`] rows are read.
pub fn read_sqlite(
    db: &[u8],
    wal: Option<&[u8]>,
) -> Result<(Vec<RpmPackage>, Vec<String>), String> {
    let dir =
        tempfile::tempdir().map_err(|e| format!("failed to create a temporary directory: {e}"))?;
    let path = dir.path().join("rpmdb.sqlite");
    let write = |p: &std::path::Path, bytes: &[u8]| -> Result<(), String> {
        let mut f = std::fs::File::create(p)
            .map_err(|e| format!("failed to write `{}`: {e}", p.display()))?;
        f.write_all(bytes)
            .map_err(|e| format!("failed to write `{}`: {e}", p.display()))
    };
    write(&path, db)?;
    // A WAL must be applied, which an immutable open would skip: read-only then.
    let wal = wal.filter(|w| !w.is_empty());
    if let Some(w) = wal {
        write(&dir.path().join("rpmdb.sqlite-wal"), w)?;
    }
    let stopped = Arc::new(AtomicBool::new(false));
    let why = |e: rusqlite::Error, doing: &str| {
        if stopped.load(Ordering::Relaxed) {
            format!(
                "{doing}: stopped after {} s or {MAX_STEPS} SQLite steps (a hostile or corrupt database?)",
                DEADLINE.as_secs()
            )
        } else {
            format!("{doing}: {e}")
        }
    };
    let conn = open_untrusted(&path, wal.is_none(), stopped.clone())
        .map_err(|e| format!("not an sqlite database: {e}"))?;
    let kind: Option<String> = conn
        .query_row(
            "SELECT type FROM sqlite_schema WHERE name = 'Packages' COLLATE NOCASE",
            [],
            |r| r.get(0),
        )
        .optional()
        .map_err(|e| why(e, "not a readable sqlite database"))?;
    match kind.as_deref() {
        Some("table") => {}
        Some(other) => {
            return Err(format!(
                "`Packages` is a {other}, not a table (a hostile or corrupt database); not read"
            ));
        }
        None => return Err("no `Packages` table".into()),
    }
    let mut stmt = conn
        .prepare("SELECT hnum, blob FROM Packages")
        .map_err(|e| why(e, "no readable `Packages` table"))?;
    let mut rows = stmt
        .query([])
        .map_err(|e| why(e, "failed to query `Packages`"))?;
    let mut out = Vec::new();
    let mut warnings = CappedWarnings::default();
    let mut n = 0usize;
    loop {
        let row = match rows.next() {
            Ok(Some(row)) => row,
            Ok(None) => break,
            Err(e) => return Err(why(e, "failed to read `Packages`")),
        };
        n += 1;
        if n > MAX_ROWS {
            return Err(format!(
                "`Packages` has more than {MAX_ROWS} rows (a hostile or corrupt database?); not read"
            ));
        }
        let read = row
            .get::<_, i64>(0)
            .and_then(|hnum| Ok((hnum, row.get_ref(1)?.as_blob()?)));
        match read {
            Ok((hnum, blob)) => match parse_header(blob) {
                Ok(p) if p.name == "gpg-pubkey" => {}
                Ok(p) => out.push(p),
                Err(e) => {
                    warnings.push(format!("rpmdb.sqlite: package header {hnum}: {e}; skipped"))
                }
            },
            Err(e) => warnings.push(format!("rpmdb.sqlite: unreadable row {n}: {e}")),
        }
    }
    Ok((out, warnings.finish("rpmdb.sqlite")))
}

/// Build a header blob (used by tests and by the fixture generator).
pub fn build_header(tags: &[(i32, HeaderValue)]) -> Vec<u8> {
    let mut index = Vec::new();
    let mut data: Vec<u8> = Vec::new();
    for (tag, value) in tags {
        let (ty, count) = match value {
            HeaderValue::Str(s) => {
                let off = data.len();
                data.extend_from_slice(s.as_bytes());
                data.push(0);
                index.push((*tag, TYPE_STRING, off, 1u32));
                continue;
            }
            HeaderValue::I18n(s) => (TYPE_I18NSTRING, s),
            HeaderValue::Int32(v) => {
                while !data.len().is_multiple_of(4) {
                    data.push(0);
                }
                let off = data.len();
                data.extend_from_slice(&v.to_be_bytes());
                index.push((*tag, TYPE_INT32, off, 1));
                continue;
            }
        };
        let off = data.len();
        data.extend_from_slice(count.as_bytes());
        data.push(0);
        index.push((*tag, ty, off, 1));
    }
    let mut out = Vec::new();
    out.extend_from_slice(&(index.len() as u32).to_be_bytes());
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    for (tag, ty, off, count) in index {
        out.extend_from_slice(&tag.to_be_bytes());
        out.extend_from_slice(&ty.to_be_bytes());
        out.extend_from_slice(&(off as u32).to_be_bytes());
        out.extend_from_slice(&count.to_be_bytes());
    }
    out.extend_from_slice(&data);
    out
}

/// A value for [`build_header`].
#[derive(Debug, Clone)]
pub enum HeaderValue {
    Str(String),
    I18n(String),
    Int32(i32),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn openssl() -> Vec<u8> {
        build_header(&[
            (TAG_NAME, HeaderValue::Str("openssl-libs".into())),
            (TAG_VERSION, HeaderValue::Str("3.0.7".into())),
            (TAG_RELEASE, HeaderValue::Str("27.el9".into())),
            (TAG_EPOCH, HeaderValue::Int32(1)),
            (TAG_ARCH, HeaderValue::Str("x86_64".into())),
            (TAG_LICENSE, HeaderValue::I18n("ASL 2.0".into())),
            (
                TAG_SOURCERPM,
                HeaderValue::Str("openssl-3.0.7-27.el9.src.rpm".into()),
            ),
        ])
    }

    #[test]
    fn parses_a_constructed_header() {
        let p = parse_header(&openssl()).unwrap();
        assert_eq!(p.name, "openssl-libs");
        assert_eq!(p.evr(), "1:3.0.7-27.el9");
        assert_eq!(p.arch.as_deref(), Some("x86_64"));
        assert_eq!(p.license.as_deref(), Some("ASL 2.0"));
        assert_eq!(
            p.source_rpm.as_deref(),
            Some("openssl-3.0.7-27.el9.src.rpm")
        );
    }

    #[test]
    fn rejects_bad_headers_without_panicking() {
        assert!(parse_header(&[]).is_err());
        assert!(parse_header(&[0, 0, 0, 1, 0, 0, 0, 0]).is_err());
        let mut h = openssl();
        h.truncate(h.len() - 5);
        assert!(parse_header(&h).unwrap_err().contains("blob has"));
        // Offsets pointing outside the data store give empty fields, not panics.
        let mut h = openssl();
        h[8 + 8..8 + 12].copy_from_slice(&0x7fff_fff0u32.to_be_bytes());
        assert!(parse_header(&h).is_err());
    }

    #[test]
    fn reads_an_sqlite_database() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("db.sqlite");
        {
            let c = rusqlite::Connection::open(&p).unwrap();
            c.execute_batch("CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL);").unwrap();
            c.execute("INSERT INTO Packages (blob) VALUES (?1)", [openssl()])
                .unwrap();
            let key = build_header(&[(TAG_NAME, HeaderValue::Str("gpg-pubkey".into()))]);
            c.execute("INSERT INTO Packages (blob) VALUES (?1)", [key])
                .unwrap();
            c.execute("INSERT INTO Packages (blob) VALUES (?1)", [vec![1u8, 2, 3]])
                .unwrap();
        }
        let bytes = std::fs::read(&p).unwrap();
        let (pkgs, warnings) = read_sqlite(&bytes, None).unwrap();
        assert_eq!(pkgs.len(), 1);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(read_sqlite(b"not sqlite at all", None).is_err());
    }

    #[test]
    fn a_wal_is_applied_and_views_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("db.sqlite");
        let c = rusqlite::Connection::open(&p).unwrap();
        c.execute_batch("PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0; CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL);").unwrap();
        c.execute("INSERT INTO Packages (blob) VALUES (?1)", [openssl()])
            .unwrap();
        // Copied while the writer is open: the row is only in the WAL.
        let db = std::fs::read(&p).unwrap();
        let wal = std::fs::read(dir.path().join("db.sqlite-wal")).unwrap();
        assert!(!wal.is_empty());
        let (pkgs, _) = read_sqlite(&db, Some(&wal)).unwrap();
        assert_eq!(pkgs.len(), 1);
        drop(c);

        let v = dir.path().join("view.sqlite");
        let c = rusqlite::Connection::open(&v).unwrap();
        c.execute_batch("CREATE VIEW packages AS SELECT 1 AS hnum, x'00' AS blob;")
            .unwrap();
        drop(c);
        let e = read_sqlite(&std::fs::read(&v).unwrap(), None).unwrap_err();
        assert!(e.contains("`Packages` is a view"), "{e}");
    }

    #[test]
    fn runaway_queries_are_stopped() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("db.sqlite");
        rusqlite::Connection::open(&p)
            .unwrap()
            .execute_batch("CREATE TABLE t (x);")
            .unwrap();
        let stopped = Arc::new(AtomicBool::new(false));
        let c = open_untrusted(&p, true, stopped).unwrap();
        // Read-only and immutable: no writes.
        assert!(c.execute_batch("INSERT INTO t VALUES (1);").is_err());
        // A recursive query that grows without end hits the heap cap, the step cap or the
        // deadline: an error, never unbounded memory or time.
        let started = Instant::now();
        let r: rusqlite::Result<i64> = c.query_row(
            "WITH RECURSIVE n(i, b) AS (SELECT 1, zeroblob(1000) UNION ALL SELECT i + 1, b FROM n) SELECT count(*) FROM (SELECT i, b FROM n ORDER BY b, i)",
            [],
            |r| r.get(0),
        );
        assert!(r.is_err(), "{r:?}");
        assert!(started.elapsed() < DEADLINE + Duration::from_secs(5));
    }
}
