//! `/etc/os-release` (and `/usr/lib/os-release`): shell-style `KEY=value` lines.

use std::collections::BTreeMap;

use golden_contracts::scan::OsInfo;

/// Parse os-release text into its key/value pairs. Quotes (single or double) and the
/// backslash escapes os-release allows (`\"`, `\\`, `` \` ``, `\$`) are undone; comments and
/// malformed lines are skipped.
pub fn parse(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let key = key.trim();
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        out.insert(key.to_string(), unquote(value.trim()));
    }
    out
}

fn unquote(v: &str) -> String {
    let bytes = v.as_bytes();
    if bytes.len() >= 2 && bytes[0] == b'\'' && bytes[bytes.len() - 1] == b'\'' {
        return v[1..v.len() - 1].to_string();
    }
    let inner = if bytes.len() >= 2 && bytes[0] == b'"' && bytes[bytes.len() - 1] == b'"' {
        &v[1..v.len() - 1]
    } else {
        v
    };
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some(n @ ('"' | '\\' | '`' | '$' | '\'')) => out.push(n),
                Some(n) => {
                    out.push('\\');
                    out.push(n);
                }
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Our OS family for an os-release `ID` and `ID_LIKE`.
pub fn family(id: &str, id_like: &str) -> &'static str {
    let like: Vec<&str> = id_like.split_whitespace().collect();
    let is = |names: &[&str]| names.contains(&id) || like.iter().any(|l| names.contains(l));
    if is(&["debian", "ubuntu"]) {
        "debian"
    } else if is(&["alpine", "wolfi", "chainguard"]) {
        "alpine"
    } else if is(&[
        "rhel",
        "centos",
        "fedora",
        "rocky",
        "almalinux",
        "ol",
        "amzn",
    ]) {
        "redhat"
    } else {
        "unknown"
    }
}

/// Build our [`OsInfo`]; `debian_version` fills `VERSION_ID` for testing/sid images.
pub fn os_info(fields: &BTreeMap<String, String>, debian_version: Option<&str>) -> Option<OsInfo> {
    let id = fields.get("ID")?.to_ascii_lowercase();
    if id.is_empty() {
        return None;
    }
    let mut version_id = fields.get("VERSION_ID").cloned().unwrap_or_default();
    if version_id.is_empty()
        && id == "debian"
        && let Some(v) = debian_version
    {
        version_id = v.trim().to_string();
    }
    Some(OsInfo {
        family: family(&id, fields.get("ID_LIKE").map(String::as_str).unwrap_or("")).to_string(),
        id,
        version_id,
        pretty_name: fields.get("PRETTY_NAME").cloned().unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debian_12() {
        let text = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION=\"12 (bookworm)\"\nVERSION_CODENAME=bookworm\nID=debian\nHOME_URL=\"https://www.debian.org/\"\n";
        let f = parse(text);
        let os = os_info(&f, None).unwrap();
        assert_eq!(os.id, "debian");
        assert_eq!(os.version_id, "12");
        assert_eq!(os.family, "debian");
        assert_eq!(os.pretty_name, "Debian GNU/Linux 12 (bookworm)");
    }

    #[test]
    fn ubi_and_quotes() {
        let f = parse(
            "ID=\"rhel\"\nID_LIKE=\"fedora\"\nVERSION_ID='9.4'\n# comment\nBROKEN LINE\nX=\"a \\\"b\\\" \\$c\"\n",
        );
        assert_eq!(f["ID"], "rhel");
        assert_eq!(f["VERSION_ID"], "9.4");
        assert_eq!(f["X"], "a \"b\" $c");
        assert_eq!(os_info(&f, None).unwrap().family, "redhat");
    }

    #[test]
    fn unknown_and_missing() {
        let f = parse("ID=plan9\n");
        assert_eq!(os_info(&f, None).unwrap().family, "unknown");
        assert!(os_info(&parse("NAME=x\n"), None).is_none());
        let sid = parse("ID=debian\n");
        assert_eq!(
            os_info(&sid, Some("trixie/sid\n")).unwrap().version_id,
            "trixie/sid"
        );
    }
}
