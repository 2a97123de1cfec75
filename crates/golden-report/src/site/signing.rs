//! Whether an image is signed and what provenance it carries, from what the push records say:
//! the one place that knows which referrer artifact types mean "signature" and "provenance",
//! so the catalog lights up as soon as golden-push attaches them.

use golden_contracts::push::PushRecord;

/// The artifact type of a Sigstore bundle attached as an OCI referrer.
pub const SIGSTORE_BUNDLE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";

/// Artifact types that carry build provenance (in-toto attestations, SLSA statements).
fn is_provenance(artifact_type: &str) -> bool {
    let t = artifact_type.to_ascii_lowercase();
    t.contains("in-toto") || t.contains("slsa") || t.contains("provenance")
}

fn is_signature(artifact_type: &str) -> bool {
    let t = artifact_type.to_ascii_lowercase();
    t == SIGSTORE_BUNDLE || t.starts_with("application/vnd.dev.sigstore.bundle")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signed {
    /// Every pushed architecture has a signature referrer.
    Yes,
    /// Pushed, and at least one architecture has no signature referrer.
    No,
    /// Nothing was pushed in this run (no push record): the documents cannot say.
    Unknown,
}

impl Signed {
    pub fn as_str(self) -> &'static str {
        match self {
            Signed::Yes => "yes",
            Signed::No => "no",
            Signed::Unknown => "unknown",
        }
    }
}

/// One push record: signed when a successful push attached a signature referrer.
pub fn record_signed(r: &PushRecord) -> Signed {
    if !r.succeeded() {
        return Signed::Unknown;
    }
    if r.referrers.iter().any(|x| is_signature(&x.artifact_type)) {
        Signed::Yes
    } else {
        Signed::No
    }
}

/// An image of several architectures: `yes` only when every architecture is signed, `no` when
/// any pushed one is not, `unknown` when nothing was pushed.
pub fn image_signed<'a>(records: impl Iterator<Item = Option<&'a PushRecord>>) -> Signed {
    let mut any = false;
    let mut all = true;
    for r in records {
        match r.map(record_signed) {
            Some(Signed::Yes) => any = true,
            Some(Signed::No) => return Signed::No,
            Some(Signed::Unknown) | None => all = false,
        }
    }
    match (any, all) {
        (true, true) => Signed::Yes,
        (true, false) => Signed::No,
        _ => Signed::Unknown,
    }
}

/// A signature or provenance referrer, as the catalog lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provenance {
    pub arch: String,
    pub kind: &'static str,
    pub artifact_type: String,
    pub digest: String,
}

/// The signature and provenance referrers of one push record.
pub fn provenance(r: &PushRecord) -> Vec<Provenance> {
    r.referrers
        .iter()
        .filter_map(|x| {
            let kind = if is_signature(&x.artifact_type) {
                "signature"
            } else if is_provenance(&x.artifact_type) {
                "provenance"
            } else {
                return None;
            };
            Some(Provenance {
                arch: r.arch.to_string(),
                kind,
                artifact_type: x.artifact_type.clone(),
                digest: x.digest.clone(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(types: &[&str]) -> PushRecord {
        let mut v = serde_json::json!({
            "schema": 1, "kind": "golden-push-record", "id": "a", "result": "success",
            "registry": "r", "image": "r/a", "arch": "amd64", "digest": "sha256:00",
            "reference": "r/a@sha256:00", "tags": [], "referrers": []
        });
        v["referrers"] = types
            .iter()
            .map(|t| serde_json::json!({"artifact_type": t, "digest": "sha256:11", "file": "f"}))
            .collect();
        serde_json::from_value(v).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn signed_only_with_a_sigstore_bundle_on_every_architecture() {
        let signed = record(&["application/vnd.cyclonedx+json", SIGSTORE_BUNDLE]);
        let unsigned = record(&["application/vnd.cyclonedx+json"]);
        assert_eq!(record_signed(&signed), Signed::Yes);
        assert_eq!(record_signed(&unsigned), Signed::No);
        assert_eq!(
            image_signed([Some(&signed), Some(&signed)].into_iter()),
            Signed::Yes
        );
        assert_eq!(
            image_signed([Some(&signed), Some(&unsigned)].into_iter()),
            Signed::No
        );
        assert_eq!(image_signed([Some(&signed), None].into_iter()), Signed::No);
        assert_eq!(image_signed([None, None].into_iter()), Signed::Unknown);
        assert_eq!(provenance(&signed).len(), 1);
        assert_eq!(
            provenance(&record(&["application/vnd.in-toto+json"]))[0].kind,
            "provenance"
        );
    }
}
