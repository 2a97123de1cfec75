//! Which statements apply to the scanned image and its findings (the rule is in the module
//! docs of [`super`]), and marking the findings.

use golden_contracts::scan::{VexApplied, Vulnerability};
use golden_oci::Reference;

use super::purl::Purl;
use super::{Product, Statement, VexSet};

/// What the scanned image is known by.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageIdentity {
    /// Manifest digest and image id (config digest), when known.
    pub digests: Vec<String>,
    /// The manifest digest alone (the version of the image's `pkg:oci` purl).
    pub manifest: Option<String>,
    /// Repository names (`registry/repository`, normalised like docker) of the reference and
    /// tags.
    pub repositories: Vec<String>,
}

/// Source prefixes of golden-scan's image argument that are not image references.
const FILE_SOURCES: [&str; 3] = ["docker-archive:", "oci-archive:", "oci:"];

/// A file path rather than an image reference (a Trivy report's `ArtifactName` of an archive).
fn is_file_path(s: &str) -> bool {
    FILE_SOURCES.iter().any(|p| s.starts_with(p))
        || s.starts_with(['/', '.'])
        || [".tar", ".tar.gz", ".tgz", ".tar.zst"]
            .iter()
            .any(|x| s.ends_with(x))
}

impl ImageIdentity {
    /// From the scanned reference, the tags it is known by, its manifest digest and image id.
    pub fn new(reference: &str, tags: &[String], digest: Option<&str>, id: Option<&str>) -> Self {
        let mut me = ImageIdentity {
            manifest: digest
                .filter(|d| golden_oci::valid_digest(d))
                .map(str::to_string),
            ..ImageIdentity::default()
        };
        for d in [digest, id].into_iter().flatten() {
            if golden_oci::valid_digest(d) && !me.digests.iter().any(|x| x == d) {
                me.digests.push(d.to_string());
            }
        }
        let reference = reference.strip_prefix("registry:").unwrap_or(reference);
        let from_reference = (!is_file_path(reference)).then_some(reference);
        for name in from_reference
            .into_iter()
            .chain(tags.iter().map(String::as_str))
        {
            if let Ok(r) = Reference::parse(name)
                && !me.repositories.contains(&r.name())
            {
                me.repositories.push(r.name());
            }
        }
        me
    }

    /// The first repository name and the manifest digest, for the image's own purl.
    pub fn primary(&self) -> (Option<&str>, Option<&str>) {
        (
            self.repositories.first().map(String::as_str),
            self.manifest.as_deref(),
        )
    }

    fn by_digest_or_name(&self, digest: Option<&str>, name: impl Fn(&str) -> bool) -> bool {
        match digest {
            Some(d) if !self.digests.is_empty() => self.digests.iter().any(|x| x == d),
            _ => self.repositories.iter().any(|r| name(r)),
        }
    }

    /// Does a product `@id` or purl name this image?
    pub fn matches(&self, product: &str) -> bool {
        let product = product.trim();
        if product.starts_with("pkg:") {
            let Some(p) = Purl::parse(product).filter(|p| p.ty == "oci") else {
                return false;
            };
            let digest = p.version.as_deref().filter(|v| v.contains(':'));
            return match p.qualifiers.get("repository_url") {
                Some(url) => match Reference::parse(url) {
                    Ok(r) => self.by_digest_or_name(digest, |n| n == r.name()),
                    Err(_) => false,
                },
                None => self.by_digest_or_name(digest, |n| {
                    n.rsplit('/').next().is_some_and(|last| last == p.name)
                }),
            };
        }
        if golden_oci::valid_digest(product) {
            return self.digests.iter().any(|d| d == product);
        }
        match Reference::parse(product) {
            Ok(r) => self.by_digest_or_name(r.digest.as_deref(), |n| n == r.name()),
            Err(_) => false,
        }
    }

    /// The product names this image and, when it lists subcomponents, one covers `purl`.
    fn product_covers(&self, p: &Product, purl: Option<&Purl>, raw: Option<&str>) -> bool {
        let names_image = p.id.iter().chain(p.purl.iter()).any(|x| self.matches(x));
        names_image
            && (p.subcomponents.is_empty()
                || p.subcomponents.iter().any(|s| match Purl::parse(s) {
                    Some(sp) => purl.is_some_and(|fp| sp.covers(fp)),
                    None => raw == Some(s.as_str()),
                }))
    }
}

/// The winning statement for a finding: the latest matching one (ties: the one read last).
fn winner<'s>(set: &'s VexSet, image: &ImageIdentity, v: &Vulnerability) -> Option<&'s Statement> {
    let raw = v.purl.as_deref();
    let purl = raw.and_then(Purl::parse);
    set.statements
        .iter()
        .filter(|s| s.vulnerability.matches(&v.id))
        .filter(|s| {
            s.products
                .iter()
                .any(|p| image.product_covers(p, purl.as_ref(), raw))
        })
        .max_by_key(|s| (s.timestamp, s.order))
}

/// The reason a suppressed finding shows.
fn reason(s: &Statement) -> String {
    let mut r = format!("VEX {}", s.status.as_str());
    if let Some(j) = s.justification {
        r.push_str(&format!(" ({})", j.as_str()));
    }
    if let Some(i) = &s.impact_statement {
        r.push_str(&format!(": {i}"));
    }
    r.push_str(&format!(" [{}]", s.source));
    r
}

/// Mark every finding a statement decides; the indices (into `set.statements`) of the
/// statements that decided at least one finding, with those findings' indices.
pub fn apply(
    set: &VexSet,
    image: &ImageIdentity,
    vulns: &mut [Vulnerability],
) -> Vec<(usize, Vec<usize>)> {
    let mut decided: Vec<(usize, Vec<usize>)> = Vec::new();
    for (vi, v) in vulns.iter_mut().enumerate() {
        let Some(s) = winner(set, image, v) else {
            continue;
        };
        v.vex = Some(VexApplied {
            status: s.status,
            justification: s.justification,
            impact_statement: s.impact_statement.clone(),
            action_statement: s.action_statement.clone(),
            timestamp: Some(s.timestamp_text.clone()),
            source: s.source.clone(),
        });
        if s.status.suppresses() && v.suppressed.is_none() {
            v.suppressed = Some(reason(s));
        }
        match decided.iter_mut().find(|(i, _)| *i == s.order) {
            Some((_, list)) => list.push(vi),
            None => decided.push((s.order, vec![vi])),
        }
    }
    decided.sort_by_key(|(i, _)| *i);
    decided
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use golden_contracts::scan::{Severity, VexStatus};
    use serde_json::{Value, json};

    const D1: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
    const D2: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";

    fn nginx(digest: Option<&str>) -> ImageIdentity {
        ImageIdentity::new(
            "registry.example/golden/nginx:1.27",
            &["registry.example/golden/nginx:latest".into()],
            digest,
            None,
        )
    }

    #[test]
    fn identity_from_reference_tags_and_digests() {
        let i = ImageIdentity::new(
            "docker-archive:/tmp/x.tar",
            &["nginx:1".into(), "registry.example/golden/nginx:2".into()],
            Some(D1),
            Some(D2),
        );
        assert_eq!(
            i.repositories,
            vec!["docker.io/library/nginx", "registry.example/golden/nginx"]
        );
        assert_eq!(i.digests, vec![D1, D2]);
        assert_eq!(i.primary(), (Some("docker.io/library/nginx"), Some(D1)));
        // Without a manifest digest the image id still matches, but is no purl version.
        let id_only = ImageIdentity::new("nginx:1", &[], None, Some(D2));
        assert_eq!(id_only.digests, vec![D2]);
        assert_eq!(id_only.primary(), (Some("docker.io/library/nginx"), None));
        for path in [
            "testdata/images/alpine-310.tar.gz",
            "./x",
            "/tmp/img.tar",
            "oci:dir",
        ] {
            assert!(
                ImageIdentity::new(path, &[], None, None)
                    .repositories
                    .is_empty(),
                "{path}"
            );
        }
        let r = ImageIdentity::new(
            "registry:registry.example/a/b:1",
            &[],
            None,
            Some("sha256:x"),
        );
        assert!(r.digests.is_empty(), "not a digest");
        assert_eq!(r.repositories, vec!["registry.example/a/b"]);
    }

    #[test]
    fn oci_purls_match_by_digest_when_both_have_one_else_by_repository() {
        let with = nginx(Some(D1));
        let without = nginx(None);
        let enc = |d: &str| d.replace(':', "%3A");
        let by_digest = format!(
            "pkg:oci/nginx@{}?repository_url=registry.example/golden/nginx",
            enc(D1)
        );
        let other_digest = format!(
            "pkg:oci/nginx@{}?repository_url=registry.example/golden/nginx",
            enc(D2)
        );
        let other_repo_same_digest = format!(
            "pkg:oci/web@{}?repository_url=elsewhere.example/web",
            enc(D1)
        );
        assert!(with.matches(&by_digest));
        assert!(
            !with.matches(&other_digest),
            "digests differ: the name does not rescue it"
        );
        assert!(
            with.matches(&other_repo_same_digest),
            "the same digest is the same image"
        );
        // The image has no digest: the repository decides.
        assert!(without.matches(&other_digest));
        assert!(!without.matches(&other_repo_same_digest));
        // No repository_url: the purl name against the repository's last component.
        assert!(without.matches("pkg:oci/nginx"));
        assert!(!without.matches("pkg:oci/golden"));
        assert!(
            with.matches("pkg:oci/nginx?tag=1.25"),
            "tags are not compared"
        );
        // Other purl types and junk are other products.
        assert!(!with.matches("pkg:deb/debian/nginx"));
        assert!(!with.matches("pkg:oci"));
    }

    #[test]
    fn references_and_bare_digests_match_too() {
        let with = nginx(Some(D1));
        assert!(with.matches("registry.example/golden/nginx"));
        assert!(with.matches("registry.example/golden/nginx:1.25"));
        assert!(with.matches(&format!("registry.example/golden/nginx@{D1}")));
        assert!(!with.matches(&format!("registry.example/golden/nginx@{D2}")));
        assert!(!with.matches("registry.example/golden/tomcat:1.27"));
        assert!(
            !with.matches("nginx"),
            "docker.io/library/nginx is another repository"
        );
        assert!(with.matches(D1));
        assert!(!with.matches(D2));
        assert!(
            !nginx(None).matches(D1),
            "a bare digest needs the image's digest"
        );
        assert!(!with.matches("https://example.invalid/products/nginx"));
    }

    fn finding(id: &str, purl: Option<&str>) -> Vulnerability {
        Vulnerability {
            id: id.into(),
            package: "libssl3".into(),
            installed: "3.0.11-1~deb12u2".into(),
            fixed: Some("3.0.15-1~deb12u1".into()),
            status: "fixed".into(),
            severity: Severity::Critical,
            cvss: None,
            title: None,
            url: None,
            layer: None,
            pkg_path: None,
            suppressed: None,
            purl: purl.map(Into::into),
            vex: None,
        }
    }

    fn set(statements: Value) -> VexSet {
        let doc = json!({
            "@context": "https://openvex.dev/ns/v0.2.0",
            "@id": "https://example.invalid/vex/1",
            "author": "t",
            "timestamp": "2026-01-01T00:00:00Z",
            "version": 1,
            "statements": statements,
        });
        VexSet {
            statements: super::super::parse::document(doc.to_string().as_bytes(), "v.json", 0)
                .unwrap(),
            files: vec!["v.json".into()],
        }
    }

    const SSL: &str = "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12";

    fn decide(statements: Value, vulns: &mut [Vulnerability]) -> Vec<(usize, Vec<usize>)> {
        apply(&set(statements), &nginx(Some(D1)), vulns)
    }

    #[test]
    fn subcomponents_must_cover_the_findings_package() {
        let st = json!([{
            "vulnerability": { "name": "CVE-1" },
            "products": [{ "@id": "pkg:oci/nginx", "subcomponents": [{ "@id": "pkg:deb/debian/libssl3" }] }],
            "status": "not_affected", "justification": "vulnerable_code_not_present"
        }]);
        let mut v = vec![
            finding("CVE-1", Some(SSL)),
            finding("CVE-1", Some("pkg:deb/debian/openssl@3.0.11-1~deb12u2")),
            finding("CVE-1", None),
            finding("CVE-2", Some(SSL)),
        ];
        let decided = decide(st, &mut v);
        assert_eq!(decided, vec![(0, vec![0])]);
        assert!(
            v[0].suppressed.as_deref().unwrap().starts_with(
                "VEX not_affected (vulnerable_code_not_present) [v.json#/statements/0]"
            )
        );
        assert!(
            v[1..]
                .iter()
                .all(|v| v.vex.is_none() && v.suppressed.is_none())
        );
    }

    #[test]
    fn statements_for_other_products_are_ignored() {
        let st = json!([
            { "vulnerability": { "name": "CVE-1" }, "products": [{ "@id": "pkg:oci/tomcat" }],
              "status": "not_affected", "justification": "component_not_present" },
            { "vulnerability": { "name": "CVE-1" }, "products": [{ "@id": "pkg:deb/debian/libssl3" }],
              "status": "not_affected", "justification": "component_not_present" },
            { "vulnerability": { "name": "CVE-1" }, "products": [{ "@id": format!("pkg:oci/nginx@{}", D2.replace(':', "%3A")) }],
              "status": "fixed" }
        ]);
        let mut v = vec![finding("CVE-1", Some(SSL))];
        assert!(decide(st, &mut v).is_empty());
        assert_eq!(v[0].vex, None);
        // No products at all (the schema allows it): applies to no image.
        let st = json!([{ "vulnerability": { "name": "CVE-1" }, "status": "fixed" }]);
        assert!(decide(st, &mut v).is_empty());
        assert_eq!(v[0].vex, None);
        assert_eq!(v[0].suppressed, None);
    }

    #[test]
    fn the_latest_statement_wins_whatever_the_order() {
        let old = json!({ "vulnerability": { "name": "CVE-1" }, "products": [{ "@id": "pkg:oci/nginx" }],
            "status": "not_affected", "justification": "component_not_present", "timestamp": "2026-01-02T00:00:00Z" });
        let new = json!({ "vulnerability": { "name": "CVE-1" }, "products": [{ "@id": "pkg:oci/nginx" }],
            "status": "affected", "action_statement": "upgrade", "timestamp": "2026-03-01T00:00:00Z" });
        for st in [json!([old, new]), json!([new, old])] {
            let mut v = vec![finding("CVE-1", Some(SSL))];
            decide(st, &mut v);
            let x = v[0].vex.as_ref().unwrap();
            assert_eq!(x.status, VexStatus::Affected);
            assert_eq!(x.action_statement.as_deref(), Some("upgrade"));
            assert_eq!(v[0].suppressed, None, "affected keeps the finding open");
        }
        // Equal timestamps: the one read last.
        let a = json!({ "vulnerability": { "name": "CVE-1" }, "products": [{ "@id": "pkg:oci/nginx" }], "status": "under_investigation" });
        let b = json!({ "vulnerability": { "name": "cve-1" }, "products": [{ "@id": "pkg:oci/nginx" }], "status": "fixed" });
        let mut v = vec![finding("CVE-1", Some(SSL))];
        assert_eq!(decide(json!([a, b]), &mut v), vec![(1, vec![0])]);
        assert_eq!(v[0].vex.as_ref().unwrap().status, VexStatus::Fixed);
        assert!(v[0].suppressed.as_deref().unwrap().starts_with("VEX fixed"));
    }

    #[test]
    fn aliases_match_the_finding_id() {
        let st = json!([{ "vulnerability": { "name": "GHSA-aaaa-bbbb-cccc", "aliases": ["CVE-1"] },
            "products": [{ "@id": "pkg:oci/nginx" }], "status": "not_affected",
            "impact_statement": "not reachable" }]);
        let mut v = vec![finding("CVE-1", None)];
        decide(st, &mut v);
        assert_eq!(
            v[0].suppressed.as_deref(),
            Some("VEX not_affected: not reachable [v.json#/statements/0]")
        );
    }
}
