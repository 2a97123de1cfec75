//! The verify policy (`--policy FILE`, `GOLDEN_VERIFY_POLICY`): YAML, every field optional.
//!
//! ```yaml
//! keys: [signing.pub]                 # PEM public keys, relative to this file
//! provenance:
//!   required: true                    # a signed SLSA provenance must exist (default true)
//!   source_repository: 'https://github\.com/acme/golden'   # regular expressions, each
//!   source_ref: 'refs/heads/main|refs/tags/v.*'            # matched against the whole value
//!   builder_id: 'https://github\.com/acme/golden/\.github/workflows/.*'
//! scan_report:
//!   required: true                    # a scan report named by the signed provenance, passed
//! ```

use std::path::{Path, PathBuf};

use regex::Regex;
use serde::Deserialize;

use crate::error::{Error, Result};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    #[serde(default)]
    keys: Vec<PathBuf>,
    #[serde(default)]
    provenance: Option<RawProvenance>,
    #[serde(default)]
    scan_report: Option<RawScan>,
    #[serde(default)]
    identity: Option<RawIdentity>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIdentity {
    issuer: String,
    subject: String,
    trusted_root: PathBuf,
}

/// Keyless signers accepted: a certificate issued by `trusted_root`, with this OIDC issuer and
/// a subject (SAN URI or email) matching `subject`.
#[derive(Debug, Clone)]
pub struct Identity {
    pub issuer: String,
    pub subject: Pattern,
    pub trusted_root: Vec<super::x509::Certificate>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProvenance {
    required: Option<bool>,
    source_repository: Option<String>,
    source_ref: Option<String>,
    builder_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScan {
    required: Option<bool>,
}

/// A parsed policy.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Public key files (resolved against the policy's folder).
    pub keys: Vec<PathBuf>,
    pub provenance_required: bool,
    pub source_repository: Option<Pattern>,
    pub source_ref: Option<Pattern>,
    pub builder_id: Option<Pattern>,
    pub scan_report_required: bool,
    pub identity: Option<Identity>,
}

impl Default for Policy {
    /// Without a file: a signature, a signed provenance and a passed signed scan report.
    fn default() -> Policy {
        Policy {
            keys: Vec::new(),
            provenance_required: true,
            source_repository: None,
            source_ref: None,
            builder_id: None,
            scan_report_required: true,
            identity: None,
        }
    }
}

/// A regular expression matched against a whole value; `text` as written.
#[derive(Debug, Clone)]
pub struct Pattern {
    pub text: String,
    re: Regex,
}

impl Pattern {
    pub fn new(text: &str, field: &str) -> Result<Pattern> {
        let re = Regex::new(&format!("^(?:{text})$")).map_err(|e| {
            Error::Usage(format!(
                "{field}: `{text}` is not a regular expression: {e}"
            ))
        })?;
        Ok(Pattern {
            text: text.to_string(),
            re,
        })
    }
    pub fn matches(&self, value: &str) -> bool {
        self.re.is_match(value)
    }
}

impl Policy {
    /// Parse `text` (from `file`, which names it in errors and anchors `keys`).
    pub fn parse(text: &str, file: &Path) -> Result<Policy> {
        let name = file.display();
        let raw: RawPolicy = if text.trim().is_empty() {
            RawPolicy::default()
        } else {
            serde_saphyr::from_str(text).map_err(|e| {
                Error::Usage(format!(
                    "{name}: {e} (fields: keys, identity.{{issuer, subject, trusted_root}}, provenance.{{required, source_repository, source_ref, builder_id}}, scan_report.required; see docs/signing.md)"
                ))
            })?
        };
        let dir = file.parent().unwrap_or(Path::new("."));
        let p = raw.provenance.unwrap_or_default();
        let pat = |v: &Option<String>, field: &str| {
            v.as_deref()
                .map(|t| Pattern::new(t, &format!("{name}: provenance.{field}")))
                .transpose()
        };
        let any_pattern =
            p.source_repository.is_some() || p.source_ref.is_some() || p.builder_id.is_some();
        if p.required == Some(false) && any_pattern {
            return Err(Error::Usage(format!(
                "{name}: provenance.required is false but provenance patterns are given; remove one"
            )));
        }
        let identity = match raw.identity {
            None => None,
            Some(i) => {
                let root = if i.trusted_root.is_absolute() {
                    i.trusted_root.clone()
                } else {
                    dir.join(&i.trusted_root)
                };
                let text = std::fs::read_to_string(&root).map_err(Error::file(format!(
                    "{name}: identity.trusted_root: failed to read `{}`",
                    root.display()
                )))?;
                let certs = super::x509::read_pem_certificates(&text, &root.display().to_string())
                    .map_err(|e| Error::Usage(format!("{name}: identity.trusted_root: {e}")))?;
                Some(Identity {
                    issuer: i.issuer,
                    subject: Pattern::new(&i.subject, &format!("{name}: identity.subject"))?,
                    trusted_root: certs,
                })
            }
        };
        Ok(Policy {
            identity,
            keys: raw
                .keys
                .into_iter()
                .map(|k| if k.is_absolute() { k } else { dir.join(k) })
                .collect(),
            provenance_required: p.required.unwrap_or(true),
            source_repository: pat(&p.source_repository, "source_repository")?,
            source_ref: pat(&p.source_ref, "source_ref")?,
            builder_id: pat(&p.builder_id, "builder_id")?,
            scan_report_required: raw.scan_report.and_then(|s| s.required).unwrap_or(true),
        })
    }

    pub fn read(file: &Path) -> Result<Policy> {
        let text = std::fs::read_to_string(file).map_err(Error::file(format!(
            "failed to read the verify policy `{}`",
            file.display()
        )))?;
        Policy::parse(&text, file)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_policy_and_defaults() {
        let p = Policy::parse(
            "keys: [k.pub, /abs/o.pub]\nprovenance:\n  source_repository: 'https://github\\.com/acme/golden'\n  source_ref: refs/heads/main\nscan_report:\n  required: false\n",
            Path::new("/etc/golden/policy.yaml"),
        )
        .unwrap();
        assert_eq!(
            p.keys,
            [
                PathBuf::from("/etc/golden/k.pub"),
                PathBuf::from("/abs/o.pub")
            ]
        );
        assert!(p.provenance_required && !p.scan_report_required);
        let r = p.source_repository.unwrap();
        assert!(r.matches("https://github.com/acme/golden"));
        assert!(
            !r.matches("https://github.com/acme/golden-fork"),
            "patterns match the whole value"
        );
        assert!(p.builder_id.is_none());
        let d = Policy::parse("", Path::new("p.yaml")).unwrap();
        assert!(d.provenance_required && d.scan_report_required && d.keys.is_empty());
    }

    #[test]
    fn field_errors_name_the_file_and_field() {
        let e = Policy::parse("provenance:\n  source_repo: x\n", Path::new("p.yaml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("p.yaml") && e.contains("source_repo"), "{e}");
        let e = Policy::parse("provenance:\n  builder_id: '('\n", Path::new("p.yaml"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("provenance.builder_id") && e.contains("regular expression"),
            "{e}"
        );
        let e = Policy::parse("scan_report:\n  required: maybe\n", Path::new("p.yaml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("p.yaml"), "{e}");
        let e = Policy::parse(
            "provenance:\n  required: false\n  source_ref: x\n",
            Path::new("p.yaml"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("provenance.required"), "{e}");
    }
}
