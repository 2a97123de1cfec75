//! SLSA v1 provenance (`https://slsa.dev/provenance/v1`) of a pushed image or index: the
//! builder (the workflow file and ref that ran, or the local chain), the source repository,
//! ref and commit, the plan entry (id, tags, build args), the Dockerfile path and digest, the
//! base image by digest, the toolkit version, start/finish times, and the scan reports attached
//! to the image (blob digest and verdict) as byproducts.

use std::collections::BTreeMap;

use golden_contracts::push::SCAN_REPORT_TYPE;
use golden_gha::env as gh;
use golden_oci::Reference;
use golden_registry::{Client, ParsedManifest};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// SLSA `buildType` of golden images.
pub const BUILD_TYPE: &str = "urn:golden-images:build-type:golden-build:v1";
/// Builder id outside GitHub Actions (`make local`).
pub const LOCAL_BUILDER: &str = "urn:golden-images:builder:local";
/// Largest scan report read back from the registry.
const MAX_REPORT_BYTES: u64 = 64 << 20;

/// What the caller knows: the plan entry, the build record, the runner's variables.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    pub entry: Option<golden_contracts::plan::PlanEntry>,
    pub build_record: Option<golden_contracts::build::BuildRecord>,
    /// sha256 of the Dockerfile when it could be read (`path`, `sha256:<hex>`).
    pub dockerfile: Option<(String, Option<String>)>,
    /// The GitHub variables read ([`golden_gha::env`] names).
    pub github: BTreeMap<&'static str, String>,
    /// RFC 3339: when the work started (the build record's start, else the push's).
    pub started_on: Option<String>,
    pub finished_on: String,
}

impl Inputs {
    /// From the process environment and the given entry / build record; the Dockerfile is
    /// hashed when its path (relative to `cwd`) can be read.
    pub fn from_env(
        entry: Option<golden_contracts::plan::PlanEntry>,
        build_record: Option<golden_contracts::build::BuildRecord>,
        cwd: &std::path::Path,
    ) -> Inputs {
        let mut github = BTreeMap::new();
        for name in [
            gh::GITHUB_SERVER_URL,
            gh::GITHUB_REPOSITORY,
            gh::GITHUB_REF,
            gh::GITHUB_SHA,
            gh::GITHUB_WORKFLOW_REF,
            gh::GITHUB_RUN_ID,
            gh::GITHUB_RUN_ATTEMPT,
            gh::GITHUB_EVENT_NAME,
        ] {
            if let Ok(v) = std::env::var(name)
                && !v.trim().is_empty()
            {
                github.insert(name, v);
            }
        }
        let dockerfile = entry.as_ref().map(|e| {
            let digest = std::fs::read(cwd.join(&e.dockerfile))
                .ok()
                .map(|b| format!("sha256:{}", hex::encode(Sha256::digest(&b))));
            (e.dockerfile.clone(), digest)
        });
        let started_on = build_record.as_ref().map(|r| r.started_at.clone());
        Inputs {
            entry,
            build_record,
            dockerfile,
            github,
            started_on,
            finished_on: now(),
        }
    }
}

pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A scan report attached to an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanRef {
    /// The referrer (artifact manifest) digest.
    pub referrer: String,
    /// The report blob's digest.
    pub digest: String,
    /// `policy.passed`, when the report has one.
    pub passed: Option<bool>,
    /// `image.digest`, when the report has one.
    pub image_digest: Option<String>,
}

/// What the registry says about the image at signing time.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub labels: BTreeMap<String, String>,
    pub scan_reports: Vec<ScanRef>,
}

/// The scan reports attached to `subject` (pinned), each read back.
pub async fn scan_reports(client: &Client, subject: &Reference) -> Result<Vec<ScanRef>> {
    let list = client
        .referrers(subject, Some(SCAN_REPORT_TYPE))
        .await
        .map_err(Error::registry_at(format!(
            "failed to list the scan reports of {subject}"
        )))?;
    let mut out = Vec::new();
    for d in list {
        let m = client
            .get_manifest(&subject.with_digest(&d.digest))
            .await
            .map_err(Error::registry_at(format!(
                "failed to read the scan report referrer {}",
                d.digest
            )))?;
        let Ok(ParsedManifest::Image(m)) = m.parse() else {
            continue;
        };
        let Some(layer) = m.layers.first() else {
            continue;
        };
        let bytes = client
            .get_blob_bytes(subject, &layer.digest, MAX_REPORT_BYTES)
            .await
            .map_err(Error::registry_at(format!(
                "failed to read the scan report {}",
                layer.digest
            )))?;
        let v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        out.push(ScanRef {
            referrer: d.digest.clone(),
            digest: golden_registry::digest::sha256_digest(&bytes),
            passed: v.pointer("/policy/passed").and_then(Value::as_bool),
            image_digest: v
                .pointer("/image/digest")
                .and_then(Value::as_str)
                .map(str::to_string),
        });
    }
    Ok(out)
}

/// Read the image's labels (an index has none) and its scan reports.
pub async fn gather(client: &Client, subject: &Reference) -> Result<Facts> {
    let m = client
        .get_manifest(subject)
        .await
        .map_err(Error::registry_at(format!("failed to read {subject}")))?;
    let mut labels = BTreeMap::new();
    if let Ok(ParsedManifest::Image(m)) = m.parse() {
        let cfg = client
            .get_blob_bytes(subject, &m.config.digest, 8 << 20)
            .await
            .map_err(Error::registry_at(format!(
                "failed to read the config of {subject}"
            )))?;
        let v: Value = serde_json::from_slice(&cfg).unwrap_or(Value::Null);
        if let Some(obj) = v.pointer("/config/Labels").and_then(Value::as_object) {
            for (k, v) in obj {
                if let Some(s) = v.as_str() {
                    labels.insert(k.clone(), s.to_string());
                }
            }
        }
    }
    Ok(Facts {
        labels,
        scan_reports: scan_reports(client, subject).await?,
    })
}

fn digest_map(d: &str) -> Value {
    match d.split_once(':') {
        Some((alg, hex)) => json!({ alg: hex }),
        None => json!({}),
    }
}

/// The scan report digests (`sha256:<hex>`) a provenance predicate names as byproducts.
pub fn named_reports(predicate: &Value) -> std::collections::BTreeSet<String> {
    predicate
        .pointer("/runDetails/byproducts")
        .and_then(Value::as_array)
        .map(|a| a.as_slice())
        .unwrap_or_default()
        .iter()
        .filter(|b| b.get("mediaType").and_then(Value::as_str) == Some(SCAN_REPORT_TYPE))
        .filter_map(|b| b.pointer("/digest/sha256").and_then(Value::as_str))
        .map(|h| format!("sha256:{h}"))
        .collect()
}

/// The builder id: `SERVER/OWNER/REPO/.github/workflows/FILE@REF` under Actions, else
/// [`LOCAL_BUILDER`].
pub fn builder_id(github: &BTreeMap<&'static str, String>) -> String {
    match github.get(gh::GITHUB_WORKFLOW_REF) {
        Some(w) => format!(
            "{}/{w}",
            github
                .get(gh::GITHUB_SERVER_URL)
                .map(String::as_str)
                .unwrap_or("https://github.com")
                .trim_end_matches('/')
        ),
        None => LOCAL_BUILDER.to_string(),
    }
}

/// The SLSA v1 predicate.
pub fn predicate(i: &Inputs, f: &Facts) -> Value {
    let label = |k: &str| f.labels.get(k).cloned();
    let repository = match (
        i.github.get(gh::GITHUB_SERVER_URL),
        i.github.get(gh::GITHUB_REPOSITORY),
    ) {
        (Some(s), Some(r)) => Some(format!("{}/{r}", s.trim_end_matches('/'))),
        _ => label("org.opencontainers.image.source"),
    };
    let revision = i
        .github
        .get(gh::GITHUB_SHA)
        .cloned()
        .or_else(|| label("org.opencontainers.image.revision"));
    let git_ref = i.github.get(gh::GITHUB_REF).cloned();
    let base_name = i
        .build_record
        .as_ref()
        .and_then(|r| r.base_image.clone())
        .or_else(|| label("org.opencontainers.image.base.name"));
    let base_digest = i
        .build_record
        .as_ref()
        .and_then(|r| r.base_digest.clone())
        .or_else(|| label("org.opencontainers.image.base.digest"));
    let mut deps = Vec::new();
    if let Some(repo) = &repository {
        let mut d = json!({ "uri": format!("git+{repo}{}", git_ref.as_deref().map(|r| format!("@{r}")).unwrap_or_default()) });
        if let Some(rev) = &revision {
            d["digest"] = json!({ "gitCommit": rev });
        }
        deps.push(d);
    }
    if let Some(name) = &base_name {
        let mut d = json!({ "uri": format!("oci://{name}"), "name": "base" });
        if let Some(bd) = &base_digest {
            d["digest"] = digest_map(bd);
        }
        deps.push(d);
    }
    let mut external = json!({
        "source": { "repository": repository, "ref": git_ref, "revision": revision },
    });
    if let Some(e) = &i.entry {
        external["entry"] = json!({
            "id": e.id, "tags": e.tags, "build_args": e.build_args,
            "context": e.context, "os": e.os, "platform": e.platform, "version": e.version,
        });
    }
    if let Some((path, digest)) = &i.dockerfile {
        external["dockerfile"] = json!({ "path": path, "digest": digest });
    }
    let byproducts: Vec<Value> = f
        .scan_reports
        .iter()
        .map(|r| {
            json!({
                "name": "scan-report",
                "digest": digest_map(&r.digest),
                "mediaType": SCAN_REPORT_TYPE,
                "annotations": { "passed": r.passed, "referrer": r.referrer },
            })
        })
        .collect();
    let invocation = match (
        i.github.get(gh::GITHUB_SERVER_URL),
        i.github.get(gh::GITHUB_REPOSITORY),
        i.github.get(gh::GITHUB_RUN_ID),
    ) {
        (Some(s), Some(r), Some(id)) => Some(format!(
            "{}/{r}/actions/runs/{id}/attempts/{}",
            s.trim_end_matches('/'),
            i.github
                .get(gh::GITHUB_RUN_ATTEMPT)
                .map(String::as_str)
                .unwrap_or("1")
        )),
        _ => None,
    };
    json!({
        "buildDefinition": {
            "buildType": BUILD_TYPE,
            "externalParameters": external,
            "internalParameters": {
                "toolkit": format!("golden-push {}", env!("CARGO_PKG_VERSION")),
                "event": i.github.get(gh::GITHUB_EVENT_NAME),
            },
            "resolvedDependencies": deps,
        },
        "runDetails": {
            "builder": {
                "id": builder_id(&i.github),
                "version": { "golden-images": env!("CARGO_PKG_VERSION") },
            },
            "metadata": {
                "invocationId": invocation,
                "startedOn": i.started_on,
                "finishedOn": i.finished_on,
            },
            "byproducts": byproducts,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn predicate_under_actions_names_workflow_source_base_and_reports() {
        let github = BTreeMap::from([
            (gh::GITHUB_SERVER_URL, "https://github.com".to_string()),
            (gh::GITHUB_REPOSITORY, "acme/golden".to_string()),
            (gh::GITHUB_REF, "refs/heads/main".to_string()),
            (gh::GITHUB_SHA, "abc123".to_string()),
            (
                gh::GITHUB_WORKFLOW_REF,
                "acme/golden/.github/workflows/golden-images.yml@refs/heads/main".to_string(),
            ),
            (gh::GITHUB_RUN_ID, "42".to_string()),
        ]);
        let i = Inputs {
            github,
            dockerfile: Some((
                "base-images/debian/Dockerfile".into(),
                Some("sha256:dd".into()),
            )),
            started_on: Some("2026-01-01T00:00:00Z".into()),
            finished_on: "2026-01-01T00:05:00Z".into(),
            ..Inputs::default()
        };
        let f = Facts {
            labels: BTreeMap::from([
                (
                    "org.opencontainers.image.base.name".into(),
                    "r.io/golden/base-debian:12".into(),
                ),
                (
                    "org.opencontainers.image.base.digest".into(),
                    "sha256:bb".into(),
                ),
            ]),
            scan_reports: vec![ScanRef {
                referrer: "sha256:rr".into(),
                digest: "sha256:ss".into(),
                passed: Some(true),
                image_digest: None,
            }],
        };
        let p = predicate(&i, &f);
        assert_eq!(
            p["runDetails"]["builder"]["id"],
            "https://github.com/acme/golden/.github/workflows/golden-images.yml@refs/heads/main"
        );
        let src = &p["buildDefinition"]["externalParameters"]["source"];
        assert_eq!(src["repository"], "https://github.com/acme/golden");
        assert_eq!(src["ref"], "refs/heads/main");
        assert_eq!(src["revision"], "abc123");
        let deps = p["buildDefinition"]["resolvedDependencies"]
            .as_array()
            .unwrap();
        assert_eq!(deps[0]["digest"]["gitCommit"], "abc123");
        assert_eq!(deps[1]["uri"], "oci://r.io/golden/base-debian:12");
        assert_eq!(deps[1]["digest"]["sha256"], "bb");
        assert_eq!(p["runDetails"]["byproducts"][0]["digest"]["sha256"], "ss");
        assert_eq!(
            p["runDetails"]["metadata"]["invocationId"],
            "https://github.com/acme/golden/actions/runs/42/attempts/1"
        );
        assert_eq!(
            p["buildDefinition"]["externalParameters"]["dockerfile"]["digest"],
            "sha256:dd"
        );
    }

    #[test]
    fn local_builder_and_labels_as_source() {
        let f = Facts {
            labels: BTreeMap::from([
                (
                    "org.opencontainers.image.source".into(),
                    "https://example.test/acme/golden".into(),
                ),
                ("org.opencontainers.image.revision".into(), "feed".into()),
            ]),
            scan_reports: Vec::new(),
        };
        let p = predicate(&Inputs::default(), &f);
        assert_eq!(p["runDetails"]["builder"]["id"], LOCAL_BUILDER);
        let src = &p["buildDefinition"]["externalParameters"]["source"];
        assert_eq!(src["repository"], "https://example.test/acme/golden");
        assert_eq!(src["revision"], "feed");
    }
}
