//! Image references: `[registry/]repository[:tag][@digest]`, normalised like the docker CLI
//! (`nginx` → `docker.io/library/nginx:latest`).

use std::fmt;

pub const DEFAULT_REGISTRY: &str = "docker.io";

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    /// Registry host (and port): `myacr.azurecr.io`, `127.0.0.1:5000`, `docker.io`.
    pub registry: String,
    /// Repository path: `golden/nginx`, `library/debian`.
    pub repository: String,
    pub tag: Option<String>,
    /// `sha256:<64 hex>`.
    pub digest: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    #[error("empty image reference")]
    Empty,
    #[error("invalid image reference `{reference}`: {reason}")]
    Invalid { reference: String, reason: String },
}

fn invalid(reference: &str, reason: impl Into<String>) -> ReferenceError {
    ReferenceError::Invalid {
        reference: reference.to_string(),
        reason: reason.into(),
    }
}

/// Validate a digest of the form `algorithm:hex`.
pub fn valid_digest(d: &str) -> bool {
    match d.split_once(':') {
        Some(("sha256", hex)) => {
            hex.len() == 64
                && hex
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        }
        Some(("sha512", hex)) => {
            hex.len() == 128
                && hex
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        }
        _ => false,
    }
}

fn valid_tag(t: &str) -> bool {
    !t.is_empty()
        && t.len() <= 128
        && t.chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-')
}

fn valid_path_component(c: &str) -> bool {
    // [a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*
    if c.is_empty() {
        return false;
    }
    let b = c.as_bytes();
    if !b[0].is_ascii_lowercase() && !b[0].is_ascii_digit() {
        return false;
    }
    if !b[b.len() - 1].is_ascii_lowercase() && !b[b.len() - 1].is_ascii_digit() {
        return false;
    }
    let mut prev_sep = false;
    for (i, &ch) in b.iter().enumerate() {
        let alnum = ch.is_ascii_lowercase() || ch.is_ascii_digit();
        if alnum {
            prev_sep = false;
            continue;
        }
        match ch {
            b'-' => prev_sep = true,
            b'.' => {
                if prev_sep {
                    return false;
                }
                prev_sep = true;
            }
            b'_' => {
                // allow `_` and `__` but not `___`
                if i >= 2 && b[i - 1] == b'_' && b[i - 2] == b'_' {
                    return false;
                }
                prev_sep = true;
            }
            _ => return false,
        }
    }
    true
}

impl Reference {
    /// Parse a reference, normalising the registry and the `library/` prefix like docker does.
    pub fn parse(s: &str) -> Result<Self, ReferenceError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(ReferenceError::Empty);
        }
        if s.len() > 4096 {
            return Err(invalid(s, "longer than 4096 characters"));
        }
        let (rest, digest) = match s.split_once('@') {
            Some((r, d)) => {
                if !valid_digest(d) {
                    return Err(invalid(
                        s,
                        format!(
                            "digest `{d}` is not `sha256:` followed by 64 lowercase hex digits"
                        ),
                    ));
                }
                (r, Some(d.to_string()))
            }
            None => (s, None),
        };
        // A tag is after the last `:` that comes after the last `/`.
        let last_slash = rest.rfind('/');
        let (name, tag) = match rest.rfind(':') {
            Some(i) if last_slash.is_none_or(|sl| i > sl) => {
                let t = &rest[i + 1..];
                if !valid_tag(t) {
                    return Err(invalid(
                        s,
                        format!(
                            "tag `{t}` is not valid (letters, digits, `_`, `.`, `-`; at most 128)"
                        ),
                    ));
                }
                (&rest[..i], Some(t.to_string()))
            }
            _ => (rest, None),
        };
        if name.is_empty() {
            return Err(invalid(s, "missing repository name"));
        }
        let (registry, repository) = match name.split_once('/') {
            Some((first, remainder))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                (first.to_string(), remainder.to_string())
            }
            _ => (DEFAULT_REGISTRY.to_string(), name.to_string()),
        };
        let repository = if registry == DEFAULT_REGISTRY && !repository.contains('/') {
            format!("library/{repository}")
        } else {
            repository
        };
        if let Some(bad) = repository.split('/').find(|c| !valid_path_component(c)) {
            return Err(invalid(
                s,
                format!(
                    "repository component `{bad}` must be lowercase letters, digits and separators"
                ),
            ));
        }
        if registry.chars().any(|c| c.is_whitespace() || c == '/') {
            return Err(invalid(
                s,
                format!("registry `{registry}` is not a host[:port]"),
            ));
        }
        Ok(Reference {
            registry,
            repository,
            tag,
            digest,
        })
    }

    /// `registry/repository` (no tag, no digest).
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// The tag, or `latest` when neither tag nor digest was given.
    pub fn tag_or_latest(&self) -> Option<&str> {
        match (&self.tag, &self.digest) {
            (Some(t), _) => Some(t),
            (None, None) => Some("latest"),
            (None, Some(_)) => None,
        }
    }

    /// What to ask the registry for: the digest when pinned, else the tag (or `latest`).
    pub fn manifest_reference(&self) -> &str {
        self.digest
            .as_deref()
            .or(self.tag.as_deref())
            .unwrap_or("latest")
    }

    /// The same repository pinned to `digest` (tag dropped).
    pub fn with_digest(&self, digest: &str) -> Reference {
        Reference {
            registry: self.registry.clone(),
            repository: self.repository.clone(),
            tag: None,
            digest: Some(digest.to_string()),
        }
    }

    /// The same repository with another tag (digest dropped).
    pub fn with_tag(&self, tag: &str) -> Reference {
        Reference {
            registry: self.registry.clone(),
            repository: self.repository.clone(),
            tag: Some(tag.to_string()),
            digest: None,
        }
    }

    /// True for registries on the loopback interface (plain HTTP is allowed there).
    pub fn is_loopback(&self) -> bool {
        let host = self
            .registry
            .rsplit_once(':')
            .map(|(h, p)| {
                if p.chars().all(|c| c.is_ascii_digit()) {
                    h
                } else {
                    self.registry.as_str()
                }
            })
            .unwrap_or(&self.registry);
        host == "localhost" || host == "[::1]" || host.starts_with("127.")
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Reference {
    type Err = ReferenceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Reference::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:4b50eb66f977b4062683ff434ef18ac191da862dbe966961bc11990cf5791a8d";

    #[test]
    fn normalises_like_docker() {
        let r = Reference::parse("nginx").unwrap();
        assert_eq!(r.to_string(), "docker.io/library/nginx");
        assert_eq!(r.tag_or_latest(), Some("latest"));
        let r = Reference::parse("bitnami/nginx:1.2").unwrap();
        assert_eq!(r.to_string(), "docker.io/bitnami/nginx:1.2");
    }

    #[test]
    fn registry_with_port_and_digest() {
        let r = Reference::parse(&format!("127.0.0.1:5000/golden/base-debian:12@{D}")).unwrap();
        assert_eq!(r.registry, "127.0.0.1:5000");
        assert_eq!(r.repository, "golden/base-debian");
        assert_eq!(r.tag.as_deref(), Some("12"));
        assert_eq!(r.digest.as_deref(), Some(D));
        assert_eq!(r.manifest_reference(), D);
        assert!(r.is_loopback());
        let r = Reference::parse("localhost:5000/a").unwrap();
        assert!(r.is_loopback());
        assert!(
            !Reference::parse("myacr.azurecr.io/a:b")
                .unwrap()
                .is_loopback()
        );
    }

    #[test]
    fn rejects_bad_references_with_reasons() {
        for (bad, want) in [
            ("", "empty"),
            ("UPPER/case", "lowercase"),
            ("a:b@sha256:123", "64 lowercase hex"),
            ("a:t!g", "tag"),
            ("reg.io/", "component"),
        ] {
            let e = Reference::parse(bad).unwrap_err().to_string();
            assert!(e.contains(want), "{bad}: {e}");
        }
    }

    #[test]
    fn round_trips() {
        for s in [
            "docker.io/library/debian:bookworm-slim",
            "registry.access.redhat.com/ubi9/ubi-minimal:9.7-1776104705",
            "goldenimages.azurecr.io/golden/nginx:1.22-debian",
        ] {
            assert_eq!(Reference::parse(s).unwrap().to_string(), s);
        }
    }
}
