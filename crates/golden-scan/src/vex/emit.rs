//! The image's own OpenVEX document (`vex.openvex.json`): the suppressing statements
//! (`not_affected`, `fixed`) that decided at least one of its findings, restated with the image
//! as the product (its `pkg:oci` purl) and the affected packages as subcomponents. An image no
//! statement suppressed anything in has no document (OpenVEX requires one statement at least).

use golden_contracts::scan::Vulnerability;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::matching::ImageIdentity;
use super::purl::Purl;
use super::{VexSet, parse::CONTEXTS};
use crate::inventory::purl::purl;

pub const VEX_FILE: &str = "vex.openvex.json";

/// The image's purl: `pkg:oci/NAME@DIGEST?repository_url=REGISTRY/REPO` (no version without
/// a manifest digest, as before a push; only the name for an image known by no reference).
pub fn image_purl(image: &ImageIdentity, fallback_name: &str) -> String {
    let (repo, digest) = image.primary();
    let name = repo
        .and_then(|r| r.rsplit('/').next())
        .unwrap_or(fallback_name);
    let name = if name.is_empty() { "image" } else { name };
    let q: Vec<(&str, String)> = repo
        .map(|r| vec![("repository_url", r.to_string())])
        .unwrap_or_default();
    purl("oci", "", name, digest.unwrap_or(""), &q)
}

/// A deterministic `urn:uuid:` from the document's content (version nibble 8, RFC 9562).
fn urn(content: &Value) -> String {
    let h = Sha256::digest(content.to_string().as_bytes());
    let mut b: [u8; 16] = h[..16].try_into().unwrap_or([0; 16]);
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    let x = hex::encode(b);
    format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        &x[..8],
        &x[8..12],
        &x[12..16],
        &x[16..20],
        &x[20..]
    )
}

/// Build the document (`None` without a suppressing statement). `decided` is what
/// [`super::apply`] returned; `timestamp` the scan time.
pub fn image_document(
    set: &VexSet,
    decided: &[(usize, Vec<usize>)],
    vulns: &[Vulnerability],
    image: &ImageIdentity,
    fallback_name: &str,
    timestamp: &str,
    tool: &str,
) -> Option<Value> {
    let product_id = image_purl(image, fallback_name);
    let mut statements = Vec::new();
    for (si, findings) in decided {
        let Some(s) = set.statements.get(*si).filter(|s| s.status.suppresses()) else {
            continue;
        };
        let mut subs: Vec<String> = findings
            .iter()
            .filter_map(|i| vulns.get(*i)?.purl.clone())
            .filter(|p| Purl::parse(p).is_some())
            .collect();
        subs.sort();
        subs.dedup();
        let mut product = json!({ "@id": product_id, "identifiers": { "purl": product_id } });
        if !subs.is_empty() {
            product["subcomponents"] = subs.iter().map(|p| json!({ "@id": p })).collect();
        }
        let mut vuln = json!({ "name": s.vulnerability.name });
        if let Some(id) = &s.vulnerability.id {
            vuln["@id"] = json!(id);
        }
        if !s.vulnerability.aliases.is_empty() {
            vuln["aliases"] = json!(s.vulnerability.aliases);
        }
        let mut notes = format!("from {}", s.source);
        let mut st = json!({
            "vulnerability": vuln,
            "timestamp": s.timestamp_text,
            "products": [product],
            "status": s.status.as_str(),
        });
        // The schema takes a justification or an impact statement, not both: the impact
        // statement then goes to the notes.
        match (s.justification, &s.impact_statement) {
            (Some(j), Some(i)) => {
                st["justification"] = json!(j.as_str());
                notes = format!("{i} ({notes})");
            }
            (Some(j), None) => st["justification"] = json!(j.as_str()),
            (None, Some(i)) => st["impact_statement"] = json!(i),
            (None, None) => {}
        }
        st["status_notes"] = json!(notes);
        statements.push(st);
    }
    if statements.is_empty() {
        return None;
    }
    let mut doc = json!({
        "@context": CONTEXTS[0],
        "@id": "",
        "author": tool,
        "role": "image scanner",
        "timestamp": timestamp,
        "version": 1,
        "tooling": tool,
        "statements": statements,
    });
    let mut basis = doc.clone();
    basis["timestamp"] = json!("");
    doc["@id"] = json!(urn(&basis));
    Some(doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";

    #[test]
    fn the_image_purl_has_a_version_only_with_a_manifest_digest() {
        let tags = ["registry.example/golden/nginx:1.27".to_string()];
        let pushed = ImageIdentity::new("x.tar", &tags, Some(D), None);
        assert_eq!(
            image_purl(&pushed, "nginx-1"),
            "pkg:oci/nginx@sha256%3A1111111111111111111111111111111111111111111111111111111111111111?repository_url=registry.example%2Fgolden%2Fnginx"
        );
        let built = ImageIdentity::new("x.tar", &tags, None, Some(D));
        assert_eq!(
            image_purl(&built, "nginx-1"),
            "pkg:oci/nginx?repository_url=registry.example%2Fgolden%2Fnginx"
        );
        let unnamed = ImageIdentity::new("/tmp/x.tar", &[], None, Some(D));
        assert_eq!(image_purl(&unnamed, "nginx-1"), "pkg:oci/nginx-1");
        // Our own purl reader takes it back, and it names the image it came from.
        for id in [&pushed, &built] {
            let p = image_purl(id, "nginx-1");
            assert!(Purl::parse(&p).is_some() && id.matches(&p), "{p}");
        }
    }

    #[test]
    fn no_suppressing_decision_no_document() {
        let set = VexSet::default();
        let id = ImageIdentity::default();
        assert!(image_document(&set, &[], &[], &id, "x", "2026-01-01T00:00:00Z", "t").is_none());
    }
}
