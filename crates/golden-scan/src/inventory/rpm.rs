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

/// Read every package header from an rpmdb.sqlite (and its WAL when present). SQLite needs a
/// file, so the database is written to a private temporary directory that is removed after.
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
    if let Some(w) = wal {
        write(&dir.path().join("rpmdb.sqlite-wal"), w)?;
    }
    let conn =
        rusqlite::Connection::open(&path).map_err(|e| format!("not an sqlite database: {e}"))?;
    let mut stmt = conn
        .prepare("SELECT hnum, blob FROM Packages")
        .map_err(|e| format!("no readable `Packages` table: {e}"))?;
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?)))
        .map_err(|e| format!("failed to query `Packages`: {e}"))?;
    let mut out = Vec::new();
    let mut warnings = Vec::new();
    for row in rows {
        match row {
            Ok((hnum, blob)) => match parse_header(&blob) {
                Ok(p) if p.name == "gpg-pubkey" => {}
                Ok(p) => out.push(p),
                Err(e) => {
                    warnings.push(format!("rpmdb.sqlite: package header {hnum}: {e}; skipped"))
                }
            },
            Err(e) => warnings.push(format!("rpmdb.sqlite: unreadable row: {e}")),
        }
    }
    Ok((out, warnings))
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
}
