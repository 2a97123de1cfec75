//! Executables in `PATH` directories built by Go or Rust: Go build info (the `\xff Go buildinf:`
//! header: Go version, main module, dependencies; Go 1.18 and later) and Rust `cargo auditable`
//! data (the ELF section `.dep-v0`: zlib-compressed JSON listing every crate).
//!
//! A binary up to the in-memory cap is read whole (the ELF section table is at its end); a
//! larger one is searched for the Go header as it streams by, and its Rust data is not read.

use std::io::{self, Read};

use super::{Ecosystem, LangComponent};
use crate::inventory::purl;

/// Directories searched for binaries (the usual `PATH`).
pub const PATH_DIRS: [&str; 6] = [
    "bin",
    "sbin",
    "usr/bin",
    "usr/sbin",
    "usr/local/bin",
    "usr/local/sbin",
];
const GO_MAGIC: &[u8] = b"\xff Go buildinf:";
/// Bytes kept after the Go header: the version and the module list.
const GO_TAIL: usize = 1 << 20;
/// Inflated `.dep-v0` JSON is read up to this size.
const AUDIT_LIMIT: u64 = 8 << 20;

/// An executable regular file directly in a `PATH` directory.
pub fn is_candidate(path: &str, mode: u32) -> bool {
    if mode & 0o111 == 0 {
        return false;
    }
    match path.rsplit_once('/') {
        Some((dir, name)) => !name.is_empty() && PATH_DIRS.contains(&dir),
        None => false,
    }
}

/// Scan a binary of `size` bytes read from `r` (all of it is consumed).
pub fn scan<R: Read>(
    mut r: R,
    size: u64,
    path: &str,
    cap: u64,
    warnings: &mut Vec<String>,
) -> io::Result<Vec<LangComponent>> {
    if size <= cap {
        let mut all = Vec::with_capacity(size as usize);
        r.read_to_end(&mut all)?;
        return Ok(from_bytes(&all, path, warnings));
    }
    // Streamed: only the Go header, found across chunk boundaries.
    let mut window: Vec<u8> = Vec::with_capacity(2 << 20);
    let mut chunk = vec![0u8; 1 << 20];
    let mut found: Option<Vec<u8>> = None;
    loop {
        let n = r.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        match &mut found {
            Some(tail) => {
                let want = GO_TAIL.saturating_sub(tail.len()).min(n);
                tail.extend_from_slice(&chunk[..want]);
            }
            None => {
                window.extend_from_slice(&chunk[..n]);
                if let Some(i) = memchr::memmem::find(&window, GO_MAGIC) {
                    let end = window.len().min(i + GO_TAIL);
                    found = Some(window[i..end].to_vec());
                    window = Vec::new();
                } else {
                    // Keep the last bytes: the header may straddle two chunks.
                    let keep = GO_MAGIC.len() - 1;
                    let cut = window.len().saturating_sub(keep);
                    window.drain(..cut);
                }
            }
        }
    }
    Ok(found
        .map(|b| go_components(&b, path, warnings))
        .unwrap_or_default())
}

/// Go build info and Rust audit data of a whole binary.
pub fn from_bytes(b: &[u8], path: &str, warnings: &mut Vec<String>) -> Vec<LangComponent> {
    let mut out = Vec::new();
    if let Some(i) = memchr::memmem::find(b, GO_MAGIC) {
        out.extend(go_components(&b[i..], path, warnings));
    }
    if b.starts_with(b"\x7fELF")
        && let Some(section) = elf_section(b, ".dep-v0")
    {
        out.extend(rust_components(section, path, warnings));
    }
    out
}

fn uvarint(b: &[u8]) -> Option<(u64, usize)> {
    let mut x = 0u64;
    for (i, byte) in b.iter().enumerate().take(10) {
        x |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((x, i + 1));
        }
    }
    None
}

/// The Go version and module info after a build info header (`b` starts at the magic).
pub fn go_buildinfo(b: &[u8]) -> Result<(String, String), &'static str> {
    if b.len() < 32 {
        return Err("the build info header is cut short");
    }
    let flags = b[15];
    if flags & 0x2 == 0 {
        return Err("build info of Go before 1.18 (pointer format) is not read");
    }
    let mut rest = &b[32..];
    let mut strings = Vec::with_capacity(2);
    for _ in 0..2 {
        let (len, used) = uvarint(rest).ok_or("a string length in the build info is unreadable")?;
        let len = usize::try_from(len).map_err(|_| "a build info string is too long")?;
        let body = rest
            .get(used..used + len)
            .ok_or("a build info string runs past the data read")?;
        strings.push(String::from_utf8_lossy(body).into_owned());
        rest = &rest[used + len..];
    }
    let version = strings.remove(0);
    let mut modinfo = strings.remove(0);
    // 16-byte sentinels around the module info.
    if modinfo.len() >= 33 && modinfo.as_bytes()[modinfo.len() - 17] == b'\n' {
        let bytes = modinfo.as_bytes();
        modinfo = String::from_utf8_lossy(&bytes[16..bytes.len() - 16]).into_owned();
    }
    Ok((version, modinfo))
}

fn golang_purl(module: &str, version: &str) -> String {
    let encoded: Vec<String> = module.split('/').map(purl::encode).collect();
    let mut s = format!("pkg:golang/{}", encoded.join("/"));
    if !version.is_empty() {
        s.push('@');
        s.push_str(&purl::encode(version));
    }
    s
}

fn component(eco: Ecosystem, name: &str, version: &str, purl: String, path: &str) -> LangComponent {
    LangComponent {
        ecosystem: eco,
        group: None,
        name: name.to_string(),
        version: version.to_string(),
        purl,
        license: None,
        sha1: None,
        file: path.to_string(),
        location: path.to_string(),
        layer: String::new(),
    }
}

fn go_components(b: &[u8], path: &str, warnings: &mut Vec<String>) -> Vec<LangComponent> {
    let (version, modinfo) = match go_buildinfo(b) {
        Ok(v) => v,
        Err(why) => {
            warnings.push(format!("`/{path}`: Go binary: {why}"));
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    if let Some(v) = version.strip_prefix("go").filter(|v| !v.is_empty()) {
        out.push(component(
            Ecosystem::Golang,
            "stdlib",
            &version,
            golang_purl("stdlib", v),
            path,
        ));
    }
    for line in modinfo.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        match f.as_slice() {
            ["mod", module, version, ..] | ["dep", module, version, ..] => {
                out.push(component(
                    Ecosystem::Golang,
                    module,
                    version,
                    golang_purl(module, version),
                    path,
                ));
            }
            // A replacement applies to the line before it.
            ["=>", module, version, ..] => {
                if let Some(last) = out.last_mut()
                    && last.name != "stdlib"
                {
                    *last = component(
                        Ecosystem::Golang,
                        module,
                        version,
                        golang_purl(module, version),
                        path,
                    );
                }
            }
            _ => {}
        }
    }
    out
}

/// The contents of the ELF section `name` (64- or 32-bit, little-endian), when present.
pub fn elf_section<'a>(b: &'a [u8], name: &str) -> Option<&'a [u8]> {
    let class = *b.get(4)?;
    if *b.get(5)? != 1 {
        return None; // big-endian: not read
    }
    let u16at = |o: usize| b.get(o..o + 2).map(|s| u16::from_le_bytes([s[0], s[1]]));
    let u32at = |o: usize| {
        b.get(o..o + 4)
            .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    };
    let u64at = |o: usize| {
        b.get(o..o + 8).map(|s| {
            let mut a = [0u8; 8];
            a.copy_from_slice(s);
            u64::from_le_bytes(a)
        })
    };
    let (shoff, shentsize, shnum, shstrndx) = match class {
        2 => (u64at(0x28)?, u16at(0x3A)?, u16at(0x3C)?, u16at(0x3E)?),
        1 => (
            u64::from(u32at(0x20)?),
            u16at(0x2E)?,
            u16at(0x30)?,
            u16at(0x32)?,
        ),
        _ => return None,
    };
    let header = |i: u16| -> Option<(u32, u64, u64)> {
        let o = usize::try_from(shoff).ok()? + usize::from(i) * usize::from(shentsize);
        if class == 2 {
            Some((u32at(o)?, u64at(o + 0x18)?, u64at(o + 0x20)?))
        } else {
            Some((
                u32at(o)?,
                u64::from(u32at(o + 0x10)?),
                u64::from(u32at(o + 0x14)?),
            ))
        }
    };
    let slice = |off: u64, size: u64| -> Option<&'a [u8]> {
        let start = usize::try_from(off).ok()?;
        let end = start.checked_add(usize::try_from(size).ok()?)?;
        b.get(start..end)
    };
    let (_, str_off, str_size) = header(shstrndx)?;
    let names = slice(str_off, str_size)?;
    for i in 0..shnum {
        let (name_at, off, size) = header(i)?;
        let n = names.get(name_at as usize..)?;
        let n = &n[..n.iter().position(|c| *c == 0).unwrap_or(n.len())];
        if n == name.as_bytes() {
            return slice(off, size);
        }
    }
    None
}

fn rust_components(section: &[u8], path: &str, warnings: &mut Vec<String>) -> Vec<LangComponent> {
    let mut json = Vec::new();
    let read = flate2::read::ZlibDecoder::new(section)
        .take(AUDIT_LIMIT + 1)
        .read_to_end(&mut json);
    if let Err(e) = read {
        warnings.push(format!(
            "`/{path}`: the cargo auditable section `.dep-v0` does not inflate ({e}); its crates are not listed"
        ));
        return Vec::new();
    }
    if json.len() as u64 > AUDIT_LIMIT {
        warnings.push(format!(
            "`/{path}`: the cargo auditable data inflates past {AUDIT_LIMIT} bytes; its crates are not listed"
        ));
        return Vec::new();
    }
    let doc: serde_json::Value = match serde_json::from_slice(&json) {
        Ok(v) => v,
        Err(e) => {
            warnings.push(format!(
                "`/{path}`: the cargo auditable data is not JSON ({e}); its crates are not listed"
            ));
            return Vec::new();
        }
    };
    let Some(packages) = doc.get("packages").and_then(|p| p.as_array()) else {
        warnings.push(format!(
            "`/{path}`: the cargo auditable data has no `packages` list; its crates are not listed"
        ));
        return Vec::new();
    };
    packages
        .iter()
        .filter_map(|p| {
            let name = p.get("name")?.as_str()?;
            let version = p.get("version").and_then(|v| v.as_str()).unwrap_or("");
            Some(component(
                Ecosystem::Cargo,
                name,
                version,
                purl::purl("cargo", "", name, version, &[]),
                path,
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates() {
        assert!(is_candidate("usr/local/bin/app", 0o755));
        assert!(!is_candidate("usr/local/bin/app", 0o644));
        assert!(!is_candidate("usr/local/bin/sub/app", 0o755));
        assert!(!is_candidate("opt/app", 0o755));
    }

    #[test]
    fn old_and_short_go_headers_are_explained() {
        let mut h = GO_MAGIC.to_vec();
        h.resize(32, 0);
        h[14] = 8;
        assert!(go_buildinfo(&h).unwrap_err().contains("before 1.18"));
        assert!(go_buildinfo(&h[..20]).is_err());
    }
}
