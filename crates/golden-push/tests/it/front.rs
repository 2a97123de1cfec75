//! A referrers-API front for Debian's docker-registry (distribution 2.8 has no referrers API):
//! every request is forwarded to the real registry behind it, except that a manifest pushed
//! with a `subject` is recorded (and answered with `OCI-Subject`, as OCI 1.1 registries and ACR
//! do) and `GET /v2/<repo>/referrers/<digest>` is answered from the record. So the same tests
//! run against a registry with the API and one without. The front counts what it serves, for
//! the tests to assert on.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Request, Response};

use golden_testkit::http::forward;

use crate::support::{response, serve, sha256};

#[derive(Default)]
pub struct FrontState {
    /// (repository, subject digest) → descriptors of the artifacts pushed with that subject.
    pub referrers: BTreeMap<(String, String), Vec<serde_json::Value>>,
    /// How many referrers listings were answered.
    pub listings: usize,
    /// Manifest writes refused by the injected failure.
    pub failed_writes: usize,
}

pub struct Front {
    pub host: String,
    pub state: Arc<Mutex<FrontState>>,
}

/// `/v2/<repo>/<kind>/<rest>` → (repo, rest) for kind `manifests` or `referrers`.
fn split(path: &str, kind: &str) -> Option<(String, String)> {
    let p = path.strip_prefix("/v2/")?;
    let at = p.rfind(&format!("/{kind}/"))?;
    Some((p[..at].to_string(), p[at + kind.len() + 2..].to_string()))
}

pub async fn start(upstream: String) -> Front {
    start_with(upstream, None).await
}

/// A front that also fails (500) every manifest write into `fail_repo` — an injected failure.
pub async fn start_with(upstream: String, fail_repo: Option<String>) -> Front {
    let state = Arc::new(Mutex::new(FrontState::default()));
    let http = reqwest::Client::new();
    let st = state.clone();
    let host = serve(Arc::new(move |req: Request<Bytes>| {
        let http = http.clone();
        let st = st.clone();
        let upstream = upstream.clone();
        let fail_repo = fail_repo.clone();
        Box::pin(async move {
            let path = req.uri().path().to_string();
            if req.method() == "PUT"
                && let Some(fail) = &fail_repo
                && split(&path, "manifests").is_some_and(|(repo, _)| repo == *fail)
            {
                st.lock().unwrap().failed_writes += 1;
                return Ok(response(500, "injected failure"));
            }
            if req.method() == "GET"
                && let Some((repo, digest)) = split(&path, "referrers")
            {
                let want = req
                    .uri()
                    .query()
                    .and_then(|q| {
                        crate::support::form(q)
                            .into_iter()
                            .find(|(k, _)| k == "artifactType")
                    })
                    .map(|(_, v)| v);
                let mut s = st.lock().unwrap();
                s.listings += 1;
                let list: Vec<serde_json::Value> = s
                    .referrers
                    .get(&(repo, digest))
                    .cloned()
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|d| want.as_deref().is_none_or(|w| d["artifactType"] == w))
                    .collect();
                let body = serde_json::json!({
                    "schemaVersion": 2,
                    "mediaType": "application/vnd.oci.image.index.v1+json",
                    "manifests": list,
                });
                return Ok(Response::builder()
                    .status(200)
                    .header("content-type", "application/vnd.oci.image.index.v1+json")
                    .body(Full::new(Bytes::from(body.to_string())))
                    .unwrap());
            }
            let subject = if req.method() == "PUT"
                && let Some((repo, _)) = split(&path, "manifests")
                && let Ok(m) = serde_json::from_slice::<serde_json::Value>(req.body())
                && let Some(subject) = m["subject"]["digest"].as_str()
            {
                let mut d = serde_json::json!({
                    "mediaType": m["mediaType"].as_str().unwrap_or("application/vnd.oci.image.manifest.v1+json"),
                    "digest": sha256(req.body()),
                    "size": req.body().len(),
                });
                if let Some(t) = m["artifactType"].as_str() {
                    d["artifactType"] = t.into();
                }
                if m["annotations"].is_object() {
                    d["annotations"] = m["annotations"].clone();
                }
                Some((repo, subject.to_string(), d))
            } else {
                None
            };
            let mut resp = forward(&http, &upstream, req).await;
            if let Some((repo, subject, d)) = subject
                && resp.status().is_success()
            {
                let mut s = st.lock().unwrap();
                let list = s.referrers.entry((repo, subject.clone())).or_default();
                if !list.iter().any(|x| x["digest"] == d["digest"]) {
                    list.push(d);
                }
                resp.headers_mut()
                    .insert("oci-subject", subject.parse().unwrap());
            }
            Ok(resp)
        })
    }))
    .await;
    Front {
        host: format!("127.0.0.1:{}", host.port()),
        state,
    }
}
