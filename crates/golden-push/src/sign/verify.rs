//! `golden-push verify IMAGE`: every rule checked, each a [`Check`]; the image is verified
//! when every check passed. Registry answers are untrusted: a bundle counts only when a given
//! key verifies it and its statement's subject is the image's digest; a scan report counts
//! only when the signed provenance names its blob digest.

use std::collections::BTreeSet;

use golden_oci::Reference;
use golden_registry::{Client, ParsedManifest};
use serde::Serialize;
use serde_json::Value;

use super::bundle::{self, PROVENANCE_PREDICATE, SIGNATURE_PREDICATE, Statement};
use super::key::PublicKey;
use super::policy::{Pattern, Policy};
use super::provenance;
use crate::error::{Error, Result};
use crate::report::short;

const MAX_BUNDLE_BYTES: u64 = 4 << 20;

/// One rule and its outcome.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub rule: String,
    pub passed: bool,
    pub detail: String,
}

/// The outcome of `verify`.
#[derive(Debug, Clone, Serialize)]
pub struct Verification {
    pub image: String,
    pub digest: String,
    pub verified: bool,
    pub checks: Vec<Check>,
}

impl Verification {
    /// The rules that failed.
    pub fn failed(&self) -> Vec<&str> {
        self.checks
            .iter()
            .filter(|c| !c.passed)
            .map(|c| c.rule.as_str())
            .collect()
    }
}

/// A bundle referrer, read and judged.
pub(crate) struct Found {
    pub referrer: String,
    pub outcome: std::result::Result<(Statement, String), String>,
}

/// Every bundle attached to `subject`, each verified with `keys`.
pub(crate) async fn bundles(
    client: &Client,
    subject: &Reference,
    keys: &[PublicKey],
    identity: Option<&super::policy::Identity>,
) -> Result<Vec<Found>> {
    let list = client
        .referrers(subject, Some(bundle::BUNDLE_MEDIA_TYPE))
        .await
        .map_err(Error::registry_at(format!(
            "failed to list the referrers of {subject}"
        )))?;
    let mut out = Vec::new();
    for d in list {
        // A referrer that cannot be read is a bundle that does not verify (say why), not an
        // error that hides the other bundles: anyone with push rights can add one.
        let m = match client.get_manifest(&subject.with_digest(&d.digest)).await {
            Ok(m) => m,
            Err(e) if e.is_not_found() => {
                out.push(Found {
                    referrer: d.digest.clone(),
                    outcome: Err("the listed referrer is not in the registry".into()),
                });
                continue;
            }
            Err(e) => {
                return Err(Error::registry_at(format!(
                    "failed to read the referrer {}",
                    d.digest
                ))(e));
            }
        };
        let layer = match m.parse() {
            Ok(ParsedManifest::Image(m)) => m.layers.into_iter().next(),
            _ => None,
        };
        let Some(layer) = layer else {
            out.push(Found {
                referrer: d.digest.clone(),
                outcome: Err("not a bundle artifact (no layer)".into()),
            });
            continue;
        };
        let bytes = match client
            .get_blob_bytes(subject, &layer.digest, MAX_BUNDLE_BYTES)
            .await
        {
            Ok(b) => b,
            Err(e) if e.is_not_found() => {
                out.push(Found {
                    referrer: d.digest.clone(),
                    outcome: Err(format!(
                        "its bundle blob {} is missing",
                        short(&layer.digest)
                    )),
                });
                continue;
            }
            Err(e) => {
                return Err(Error::registry_at(format!(
                    "failed to read the bundle {}",
                    layer.digest
                ))(e));
            }
        };
        let outcome = bundle::parse_bundle(&bytes)
            .and_then(|b| match (&b.verification_material.certificate, identity) {
                (Some(_), Some(id)) => bundle::verify_with_identity(&b, id, chrono::Utc::now()),
                (Some(_), None) => Err(bundle::BundleProblem::Certificate(
                    "it is keyless (a certificate) and the policy has no `identity`".into(),
                )),
                (None, _) => {
                    bundle::verify_with_keys(&b, keys).map(|(st, k)| (st, k.fingerprint()))
                }
            })
            .map_err(|p| p.to_string());
        out.push(Found {
            referrer: d.digest.clone(),
            outcome,
        });
    }
    Ok(out)
}

fn str_at<'a>(v: &'a Value, ptr: &str) -> &'a str {
    v.pointer(ptr).and_then(Value::as_str).unwrap_or("")
}

fn pattern_check(
    rule: &str,
    pattern: &Option<Pattern>,
    provs: &[&Statement],
    ptr: &str,
) -> Option<Check> {
    let p = pattern.as_ref()?;
    let values: Vec<&str> = provs.iter().map(|s| str_at(&s.predicate, ptr)).collect();
    let hit = values.iter().find(|v| p.matches(v));
    Some(Check {
        rule: rule.to_string(),
        passed: hit.is_some(),
        detail: match hit {
            Some(v) => format!("`{v}` matches `{}`", p.text),
            None => format!(
                "the signed provenance says `{}`, the policy wants `{}`",
                values.first().copied().unwrap_or(""),
                p.text
            ),
        },
    })
}

/// The scan-report rule for one image manifest: a scan report attached to `subject` whose blob
/// digest a signed provenance in `provs` names, about this image, and passed.
async fn scan_rule(
    client: &Client,
    subject: &Reference,
    provs: &[&Statement],
) -> Result<(bool, String)> {
    let digest = subject.digest.clone().unwrap_or_default();
    let reports = provenance::scan_reports(client, subject).await?;
    let signed: BTreeSet<String> = provs
        .iter()
        .flat_map(|p| provenance::named_reports(&p.predicate))
        .collect();
    let (covered, unsigned): (Vec<_>, Vec<_>) =
        reports.iter().partition(|r| signed.contains(&r.digest));
    Ok(if reports.is_empty() {
        (
            false,
            format!("no scan report is attached to {}", short(&digest)),
        )
    } else if provs.is_empty() {
        (
            false,
            "no signed provenance names a scan report, so none is signed".into(),
        )
    } else if covered.is_empty() {
        (
            false,
            format!(
                "no attached scan report is the one the signed provenance names (unsigned: {})",
                unsigned
                    .iter()
                    .map(|r| short(&r.digest))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    } else if let Some(bad) = covered.iter().find(|r| r.passed != Some(true)) {
        (
            false,
            format!(
                "the signed scan report {} {}",
                short(&bad.digest),
                if bad.passed == Some(false) {
                    "failed its policy"
                } else {
                    "has no policy verdict"
                }
            ),
        )
    } else if let Some(bad) = covered
        .iter()
        .find(|r| r.image_digest.as_deref().is_some_and(|d| d != digest))
    {
        (
            false,
            format!(
                "the signed scan report {} is about another image",
                short(&bad.digest)
            ),
        )
    } else {
        (
            true,
            format!(
                "signed scan report {} passed{}",
                covered
                    .iter()
                    .map(|r| short(&r.digest))
                    .collect::<Vec<_>>()
                    .join(", "),
                if unsigned.is_empty() {
                    String::new()
                } else {
                    format!(" ({} unsigned report(s) ignored)", unsigned.len())
                }
            ),
        )
    })
}

/// Verify `image` (a tag or digest) against `keys` and `policy`.
pub async fn verify(
    client: &Client,
    image: &Reference,
    keys: &[PublicKey],
    policy: &Policy,
) -> Result<Verification> {
    let digest = match &image.digest {
        Some(d) => d.clone(),
        None => {
            client
                .resolve_digest(image)
                .await
                .map_err(Error::registry_at(format!("failed to resolve {image}")))?
                .digest
        }
    };
    let subject = image.with_digest(&digest);
    let name = format!("{}/{}", image.registry, image.repository);
    let found = bundles(client, &subject, keys, policy.identity.as_ref()).await?;
    let mut checks = Vec::new();
    let mut problems = Vec::new();
    let mut verified: Vec<(&Statement, &str)> = Vec::new();
    for f in &found {
        match &f.outcome {
            Ok((st, fp)) if st.covers(&digest) => verified.push((st, fp)),
            Ok((st, _)) => problems.push(format!(
                "bundle {} is signed but about {}, not {}",
                short(&f.referrer),
                st.subject
                    .iter()
                    .flat_map(|s| s
                        .digest
                        .iter()
                        .map(|(a, h)| format!("{a}:{}", &h[..h.len().min(12)])))
                    .collect::<Vec<_>>()
                    .join(", "),
                short(&digest)
            )),
            Err(p) => problems.push(format!("bundle {}: {p}", short(&f.referrer))),
        }
    }
    let why_not = |what: &str| {
        if found.is_empty() {
            format!(
                "no Sigstore bundle is attached to {name}@{}",
                short(&digest)
            )
        } else if problems.is_empty() {
            format!(
                "none of the {} verified bundle(s) is a {what}",
                verified.len()
            )
        } else {
            format!("no verified {what}: {}", problems.join("; "))
        }
    };
    // 1. signature
    let sig = verified
        .iter()
        .find(|(s, _)| s.predicate_type == SIGNATURE_PREDICATE);
    checks.push(Check {
        rule: "signature".into(),
        passed: sig.is_some(),
        detail: match sig {
            Some((_, fp)) => format!("{name}@{} is signed by {fp}", short(&digest)),
            None => why_not("signature"),
        },
    });
    // 2. provenance
    let provs: Vec<&Statement> = verified
        .iter()
        .filter(|(s, _)| s.predicate_type == PROVENANCE_PREDICATE)
        .map(|(s, _)| *s)
        .collect();
    if policy.provenance_required {
        checks.push(Check {
            rule: "provenance".into(),
            passed: !provs.is_empty(),
            detail: match provs.first() {
                Some(p) => format!(
                    "signed SLSA provenance: builder `{}`, source `{}`",
                    str_at(&p.predicate, "/runDetails/builder/id"),
                    str_at(
                        &p.predicate,
                        "/buildDefinition/externalParameters/source/repository"
                    )
                ),
                None => why_not("SLSA provenance"),
            },
        });
        if !provs.is_empty() {
            checks.extend(pattern_check(
                "provenance.source_repository",
                &policy.source_repository,
                &provs,
                "/buildDefinition/externalParameters/source/repository",
            ));
            checks.extend(pattern_check(
                "provenance.source_ref",
                &policy.source_ref,
                &provs,
                "/buildDefinition/externalParameters/source/ref",
            ));
            checks.extend(pattern_check(
                "provenance.builder_id",
                &policy.builder_id,
                &provs,
                "/runDetails/builder/id",
            ));
        }
    }
    // 3. scan report: the image's own, or (an index) each platform manifest's.
    if policy.scan_report_required {
        let children = match client.get_manifest(&subject).await {
            Ok(m) => match m.parse() {
                Ok(ParsedManifest::Index(i)) => Some(i.manifests),
                _ => None,
            },
            Err(e) => {
                return Err(Error::registry_at(format!("failed to read {subject}"))(e));
            }
        };
        let (passed, detail) = match children {
            None => scan_rule(client, &subject, &provs).await?,
            Some(list) => {
                let mut all = true;
                let mut parts = Vec::new();
                // BuildKit attestation manifests (platform unknown/unknown) are not images.
                for c in list
                    .iter()
                    .filter(|c| c.platform.as_ref().is_none_or(|p| p.os != "unknown"))
                {
                    let child = image.with_digest(&c.digest);
                    let found = bundles(client, &child, keys, policy.identity.as_ref()).await?;
                    let child_provs: Vec<&Statement> = found
                        .iter()
                        .filter_map(|f| f.outcome.as_ref().ok())
                        .map(|(st, _)| st)
                        .filter(|st| {
                            st.predicate_type == PROVENANCE_PREDICATE && st.covers(&c.digest)
                        })
                        .collect();
                    let (ok, d) = scan_rule(client, &child, &child_provs).await?;
                    all &= ok;
                    let arch = c
                        .platform
                        .as_ref()
                        .map(|p| p.display())
                        .unwrap_or_else(|| short(&c.digest).to_string());
                    parts.push(format!("{arch}: {d}"));
                }
                if parts.is_empty() {
                    (false, "the index lists no platform manifest".to_string())
                } else {
                    (all, parts.join("; "))
                }
            }
        };
        checks.push(Check {
            rule: "scan-report".into(),
            passed,
            detail,
        });
    }
    let ok = checks.iter().all(|c| c.passed);
    Ok(Verification {
        image: name,
        digest,
        verified: ok,
        checks,
    })
}
