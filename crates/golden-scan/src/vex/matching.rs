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
    /// Repository names (`registry/repository`, normalised like docker) of the reference and
    /// tags.
    pub repositories: Vec<String>,
}

/// Source prefixes of golden-scan's image argument that are not image references.
const FILE_SOURCES: [&str; 3] = ["docker-archive:", "oci-archive:", "oci:"];

impl ImageIdentity {
    /// From the scanned reference, the tags it is known by, its manifest digest and image id.
    pub fn new(reference: &str, tags: &[String], digest: Option<&str>, id: Option<&str>) -> Self {
        let mut me = ImageIdentity::default();
        for d in [digest, id].into_iter().flatten() {
            if golden_oci::valid_digest(d) && !me.digests.iter().any(|x| x == d) {
                me.digests.push(d.to_string());
            }
        }
        let reference = reference.strip_prefix("registry:").unwrap_or(reference);
        let from_reference =
            (!FILE_SOURCES.iter().any(|p| reference.starts_with(p))).then_some(reference);
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

    /// The first repository name and digest, for the image's own purl.
    pub fn primary(&self) -> (Option<&str>, Option<&str>) {
        (
            self.repositories.first().map(String::as_str),
            self.digests.first().map(String::as_str),
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
