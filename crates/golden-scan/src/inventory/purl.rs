//! Package URLs (<https://github.com/package-url/purl-spec>): `pkg:type/namespace/name@version?qualifiers`.

/// Percent-encode everything but the purl "unreserved" characters.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Build a purl; qualifiers with empty values are dropped, the rest sorted by key.
pub fn purl(
    ty: &str,
    namespace: &str,
    name: &str,
    version: &str,
    qualifiers: &[(&str, String)],
) -> String {
    let mut s = format!("pkg:{ty}/");
    if !namespace.is_empty() {
        s.push_str(&encode(namespace));
        s.push('/');
    }
    s.push_str(&encode(name));
    if !version.is_empty() {
        s.push('@');
        s.push_str(&encode(version));
    }
    let mut q: Vec<&(&str, String)> = qualifiers.iter().filter(|(_, v)| !v.is_empty()).collect();
    q.sort_by_key(|(k, _)| *k);
    for (i, (k, v)) in q.iter().enumerate() {
        s.push(if i == 0 { '?' } else { '&' });
        s.push_str(k);
        s.push('=');
        s.push_str(&encode(v));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deb_purl() {
        let p = purl(
            "deb",
            "debian",
            "libc6",
            "2.36-9+deb12u7",
            &[
                ("distro", "debian-12".into()),
                ("arch", "amd64".into()),
                ("upstream", String::new()),
            ],
        );
        assert_eq!(
            p,
            "pkg:deb/debian/libc6@2.36-9%2Bdeb12u7?arch=amd64&distro=debian-12"
        );
        assert_eq!(
            purl("rpm", "redhat", "a", "1:2-3", &[]),
            "pkg:rpm/redhat/a@1%3A2-3"
        );
    }
}
