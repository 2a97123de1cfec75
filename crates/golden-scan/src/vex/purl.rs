//! Reading package URLs (`pkg:type/namespace/name@version?qualifiers#subpath`) well enough to
//! compare them: components are percent-decoded, the type lowercased.

use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Purl {
    pub ty: String,
    pub namespace: String,
    pub name: String,
    pub version: Option<String>,
    pub qualifiers: BTreeMap<String, String>,
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && b[i + 1].is_ascii_hexdigit()
            && b[i + 2].is_ascii_hexdigit()
        {
            let hex = |c: u8| (c as char).to_digit(16).unwrap_or(0) as u8;
            out.push(hex(b[i + 1]) << 4 | hex(b[i + 2]));
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Purl {
    /// `None` when `s` is not a purl (no `pkg:` scheme, no type or no name).
    pub fn parse(s: &str) -> Option<Purl> {
        let rest = s.trim().strip_prefix("pkg:")?.trim_start_matches('/');
        let rest = rest.split_once('#').map_or(rest, |(r, _)| r);
        let (rest, query) = match rest.split_once('?') {
            Some((r, q)) => (r, Some(q)),
            None => (rest, None),
        };
        let (path, version) = match rest.rsplit_once('@') {
            Some((p, v)) if !p.is_empty() && !v.is_empty() => (p, Some(decode(v))),
            _ => (rest, None),
        };
        let (ty, path) = path.split_once('/')?;
        let path = path.trim_matches('/');
        let (namespace, name) = match path.rsplit_once('/') {
            Some((ns, n)) => (ns, n),
            None => ("", path),
        };
        if ty.is_empty() || name.is_empty() {
            return None;
        }
        let mut qualifiers = BTreeMap::new();
        for kv in query.unwrap_or("").split('&').filter(|kv| !kv.is_empty()) {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            if !v.is_empty() {
                qualifiers.insert(k.to_ascii_lowercase(), decode(v));
            }
        }
        Some(Purl {
            ty: ty.to_ascii_lowercase(),
            namespace: namespace
                .split('/')
                .map(decode)
                .collect::<Vec<_>>()
                .join("/"),
            name: decode(name),
            version,
            qualifiers,
        })
    }

    /// Does `self` (a statement's purl) cover `other` (a finding's)? Type, namespace and name
    /// must be equal; the version and each qualifier only when `self` gives them.
    pub fn covers(&self, other: &Purl) -> bool {
        self.ty == other.ty
            && self.namespace == other.namespace
            && self.name == other.name
            && self
                .version
                .as_ref()
                .is_none_or(|v| other.version.as_ref() == Some(v))
            && self
                .qualifiers
                .iter()
                .all(|(k, v)| other.qualifiers.get(k) == Some(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_components_and_decodes() {
        let p = Purl::parse(
            "pkg:oci/nginx@sha256%3Aabcd?repository_url=registry.example/golden/nginx&tag=1.27",
        )
        .unwrap();
        assert_eq!(p.ty, "oci");
        assert_eq!(p.namespace, "");
        assert_eq!(p.name, "nginx");
        assert_eq!(p.version.as_deref(), Some("sha256:abcd"));
        assert_eq!(
            p.qualifiers.get("repository_url").map(String::as_str),
            Some("registry.example/golden/nginx")
        );
        let d = Purl::parse("pkg:deb/debian/libssl3@3.0.15-1~deb12u1?arch=amd64").unwrap();
        assert_eq!(
            (d.namespace.as_str(), d.name.as_str()),
            ("debian", "libssl3")
        );
        assert_eq!(
            Purl::parse("pkg:npm/%40angular/core@1").unwrap().namespace,
            "@angular"
        );
        for bad in ["", "deb/debian/x", "pkg:", "pkg:deb", "pkg:/x"] {
            assert!(Purl::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn covers_ignores_what_the_statement_leaves_out() {
        let finding =
            Purl::parse("pkg:deb/debian/libssl3@3.0.15-1~deb12u1?arch=amd64&distro=debian-12")
                .unwrap();
        let yes = [
            "pkg:deb/debian/libssl3",
            "pkg:deb/debian/libssl3@3.0.15-1~deb12u1",
            "pkg:deb/debian/libssl3?arch=amd64",
        ];
        for s in yes {
            assert!(Purl::parse(s).unwrap().covers(&finding), "{s}");
        }
        let no = [
            "pkg:deb/debian/libssl1.1",
            "pkg:deb/ubuntu/libssl3",
            "pkg:apk/debian/libssl3",
            "pkg:deb/debian/libssl3@3.0.14",
            "pkg:deb/debian/libssl3?arch=arm64",
        ];
        for s in no {
            assert!(!Purl::parse(s).unwrap().covers(&finding), "{s}");
        }
    }
}
