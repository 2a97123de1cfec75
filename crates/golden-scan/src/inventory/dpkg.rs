//! Debian `dpkg` status databases: `/var/lib/dpkg/status` and the one-file-per-package
//! `/var/lib/dpkg/status.d/*` of distroless images. RFC 822-style stanzas separated by blank
//! lines; continuation lines start with a space or tab.

use crate::limits::CappedWarnings;

/// One installed package as the database describes it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DpkgPackage {
    pub name: String,
    pub version: String,
    pub arch: Option<String>,
    pub source_name: Option<String>,
    pub source_version: Option<String>,
    /// `Installed-Size` in KiB when it parses (`4KB` style values are accepted).
    pub installed_size: Option<u64>,
}

/// Parse a status file. `file` names it in warnings; problems in one stanza never stop the
/// others.
pub fn parse(text: &str, file: &str, warnings: &mut Vec<String>) -> Vec<DpkgPackage> {
    // A hostile database can hold millions of bad lines: warnings are capped per file.
    let mut capped = CappedWarnings::default();
    let out = parse_capped(text, file, &mut capped);
    warnings.extend(capped.finish(&format!("`{file}`")));
    out
}

fn parse_capped(text: &str, file: &str, warnings: &mut CappedWarnings) -> Vec<DpkgPackage> {
    let mut out = Vec::new();
    let mut fields: Vec<(String, String)> = Vec::new();
    let mut stanza_line = 1usize;
    let flush = |fields: &mut Vec<(String, String)>,
                 line: usize,
                 out: &mut Vec<DpkgPackage>,
                 warnings: &mut CappedWarnings| {
        if fields.is_empty() {
            return;
        }
        if let Some(p) = stanza(fields, file, line, warnings) {
            out.push(p);
        }
        fields.clear();
    };
    for (i, raw) in text.split('\n').enumerate() {
        let lineno = i + 1;
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.trim().is_empty() {
            flush(&mut fields, stanza_line, &mut out, warnings);
            stanza_line = lineno + 1;
            continue;
        }
        if line.starts_with(' ') || line.starts_with('\t') {
            match fields.last_mut() {
                Some((_, v)) => {
                    v.push('\n');
                    v.push_str(line.trim());
                }
                None => warnings.push(format!(
                    "{file}:{lineno}: continuation line outside a field; skipped"
                )),
            }
            continue;
        }
        match line.split_once(':') {
            Some((k, v)) if !k.trim().is_empty() && !k.contains(' ') => {
                fields.push((k.trim().to_string(), v.trim().to_string()));
            }
            _ => warnings.push(format!(
                "{file}:{lineno}: malformed line (expected `Field: value`); skipped"
            )),
        }
    }
    flush(&mut fields, stanza_line, &mut out, warnings);
    out
}

fn get<'a>(fields: &'a [(String, String)], key: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v.as_str())
}

/// Installed-Size is KiB; some databases write `4KB`/`4 kB`.
fn parse_size(v: &str) -> Option<u64> {
    let digits: String = v
        .trim()
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    let n: u64 = digits.parse().ok()?;
    let unit = v.trim()[digits.len()..].trim().to_ascii_lowercase();
    match unit.as_str() {
        "" | "k" | "kb" | "kib" => Some(n),
        "m" | "mb" | "mib" => n.checked_mul(1024),
        "b" => Some(n.div_ceil(1024)),
        _ => None,
    }
}

fn stanza(
    fields: &[(String, String)],
    file: &str,
    line: usize,
    warnings: &mut CappedWarnings,
) -> Option<DpkgPackage> {
    let name = get(fields, "Package").unwrap_or("").trim();
    if name.is_empty() {
        warnings.push(format!(
            "{file}:{line}: stanza without a package name; skipped"
        ));
        return None;
    }
    if let Some(status) = get(fields, "Status") {
        // `want flag state`: only states that leave files on disk count.
        let state = status.split_whitespace().nth(2).unwrap_or("");
        if matches!(state, "not-installed" | "config-files") {
            return None;
        }
    }
    let version = get(fields, "Version").unwrap_or("").trim().to_string();
    if version.is_empty() {
        warnings.push(format!(
            "{file}:{line}: package `{name}` has no Version; listed without one"
        ));
    }
    let (source_name, source_version) = match get(fields, "Source") {
        Some(s) if !s.trim().is_empty() => {
            let s = s.trim();
            match s.split_once('(') {
                Some((n, v)) => (
                    Some(n.trim().to_string()),
                    Some(v.trim_end_matches(')').trim().to_string()),
                ),
                None => (Some(s.to_string()), None),
            }
        }
        _ => (None, None),
    };
    let installed_size = get(fields, "Installed-Size").and_then(|v| {
        let parsed = parse_size(v);
        if parsed.is_none() {
            warnings.push(format!(
                "{file}:{line}: package `{name}` has an unreadable Installed-Size `{v}`"
            ));
        }
        parsed
    });
    Some(DpkgPackage {
        name: name.to_string(),
        version,
        arch: get(fields, "Architecture")
            .map(|a| a.trim().to_string())
            .filter(|a| !a.is_empty()),
        source_name,
        source_version,
        installed_size,
    })
}

/// License names from a machine-readable (DEP-5) `copyright` file: every `License:` field's
/// first line, unique, in order. Free-form copyright files give nothing.
pub fn copyright_licenses(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("License:") else {
            continue;
        };
        let name = rest.trim();
        if name.is_empty() || name.len() > 100 {
            continue;
        }
        // `GPL-2+ or Artistic` style expressions are kept as one name.
        if !out.iter().any(|o| o == name) {
            out.push(name.to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installed_size_units() {
        assert_eq!(parse_size("4KB"), Some(4));
        assert_eq!(parse_size("3036"), Some(3036));
        assert_eq!(parse_size("2 MB"), Some(2048));
        assert_eq!(parse_size("lots"), None);
    }

    #[test]
    fn source_with_version_and_status_filter() {
        let mut w = Vec::new();
        let text = "Package: libc6\nStatus: install ok installed\nVersion: 2.36-9+deb12u7\nSource: glibc (2.36-9)\nArchitecture: amd64\n\nPackage: gone\nStatus: deinstall ok config-files\nVersion: 1\n";
        let p = parse(text, "status", &mut w);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].source_name.as_deref(), Some("glibc"));
        assert_eq!(p[0].source_version.as_deref(), Some("2.36-9"));
        assert!(w.is_empty(), "{w:?}");
    }

    #[test]
    fn malformed_lines_are_located() {
        let mut w = Vec::new();
        let p = parse(
            " orphan\nPackage: a\nVersion: 1\nthis is not a field\n",
            "s",
            &mut w,
        );
        assert_eq!(p.len(), 1);
        assert!(w.iter().any(|x| x.starts_with("s:1:")), "{w:?}");
        assert!(w.iter().any(|x| x.starts_with("s:4:")), "{w:?}");
    }

    #[test]
    fn dep5_licenses() {
        let text = "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nCopyright: 2000 X\nLicense: GPL-2+\n\nFiles: lib/*\nLicense: LGPL-2.1\n This library...\n\nLicense: GPL-2+\n text\n";
        assert_eq!(copyright_licenses(text), ["GPL-2+", "LGPL-2.1"]);
        assert!(copyright_licenses("This is free software.\n").is_empty());
    }
}
