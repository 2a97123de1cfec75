//! Fault injection with a proxy in front of a real registry: a registry killed in the middle of
//! an upload (error, no tag; the rerun resumes and ends with the same digest), and 429/503
//! answers (retried, honouring Retry-After).

use std::sync::{Arc, Mutex};
use std::time::Instant;

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Request, Response};

use crate::support::*;

type Action = Arc<dyn Fn() + Send + Sync>;

enum Fault {
    /// Answer with this status (and `Retry-After` seconds) instead of forwarding.
    Status(u16, Option<u64>),
    /// Run the action (e.g. kill the registry), then drop the connection without an answer.
    Drop(Action),
    /// Forward, but flip one byte of the answer's body.
    Corrupt,
}

struct Rule {
    method: &'static str,
    path_contains: &'static str,
    /// Fire on the n-th matching request (1-based).
    nth: usize,
    seen: usize,
    fault: Fault,
}

#[derive(Default)]
struct State {
    rules: Vec<Rule>,
    /// (method, path, what happened)
    log: Vec<(String, String, String)>,
}

struct Proxy {
    host: String,
    state: Arc<Mutex<State>>,
}

impl Proxy {
    async fn start(upstream: String, rules: Vec<Rule>) -> Proxy {
        let state = Arc::new(Mutex::new(State {
            rules,
            log: Vec::new(),
        }));
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let st = state.clone();
        let handler: Handler = Arc::new(move |req: Request<Bytes>| {
            let st = st.clone();
            let http = http.clone();
            let upstream = upstream.clone();
            Box::pin(async move { proxy(&st, &http, &upstream, req).await })
        });
        let addr = serve(handler).await;
        Proxy {
            host: addr.to_string(),
            state,
        }
    }

    fn log(&self) -> Vec<(String, String, String)> {
        self.state.lock().unwrap().log.clone()
    }

    fn injected(&self) -> Vec<String> {
        self.log()
            .into_iter()
            .filter(|(_, _, what)| what != "forwarded")
            .map(|(m, p, what)| format!("{m} {p} {what}"))
            .collect()
    }
}

async fn proxy(
    st: &Mutex<State>,
    http: &reqwest::Client,
    upstream: &str,
    req: Request<Bytes>,
) -> Result<Response<Full<Bytes>>, String> {
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    let fault = {
        let mut s = st.lock().unwrap();
        let mut hit = None;
        for (i, r) in s.rules.iter_mut().enumerate() {
            if r.method == method && path.contains(r.path_contains) {
                r.seen += 1;
                if r.seen == r.nth && hit.is_none() {
                    hit = Some(i);
                }
            }
        }
        hit.map(|i| match &s.rules[i].fault {
            Fault::Status(code, ra) => Fault::Status(*code, *ra),
            Fault::Drop(a) => Fault::Drop(a.clone()),
            Fault::Corrupt => Fault::Corrupt,
        })
    };
    match fault {
        Some(Fault::Status(code, retry_after)) => {
            st.lock()
                .unwrap()
                .log
                .push((method, path, format!("injected {code}")));
            let mut b = Response::builder().status(code);
            if let Some(s) = retry_after {
                b = b.header("retry-after", s.to_string());
            }
            return Ok(b
                .body(Full::new(Bytes::from_static(
                    b"{\"errors\":[{\"code\":\"TOOMANYREQUESTS\",\"message\":\"injected\"}]}",
                )))
                .unwrap());
        }
        Some(Fault::Drop(action)) => {
            st.lock()
                .unwrap()
                .log
                .push((method, path, "killed registry".into()));
            action();
            return Err("connection dropped by the test proxy".into());
        }
        Some(Fault::Corrupt) | None => {}
    }
    let corrupt = matches!(fault, Some(Fault::Corrupt));
    let url = format!(
        "{upstream}{}",
        req.uri()
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/")
    );
    let mut fwd = http.request(req.method().clone(), url);
    for (k, v) in req.headers() {
        let name = k.as_str();
        if !matches!(
            name,
            "connection" | "content-length" | "transfer-encoding" | "keep-alive" | "te" | "upgrade"
        ) {
            fwd = fwd.header(k, v);
        }
    }
    let resp = match fwd.body(req.into_body()).send().await {
        Ok(r) => r,
        Err(e) => {
            st.lock()
                .unwrap()
                .log
                .push((method, path, "upstream down".into()));
            return Err(format!("upstream: {e}"));
        }
    };
    let mut b = Response::builder().status(resp.status());
    for (k, v) in resp.headers() {
        if !matches!(
            k.as_str(),
            "connection" | "content-length" | "transfer-encoding" | "keep-alive"
        ) {
            b = b.header(k, v);
        }
    }
    let body = resp.bytes().await.map_err(|e| e.to_string())?;
    if corrupt && !body.is_empty() {
        let mut v = body.to_vec();
        let mid = v.len() / 2;
        v[mid] ^= 0x20;
        st.lock()
            .unwrap()
            .log
            .push((method, path, "corrupted".into()));
        return Ok(b.body(Full::new(Bytes::from(v))).unwrap());
    }
    st.lock()
        .unwrap()
        .log
        .push((method, path, "forwarded".into()));
    Ok(b.body(Full::new(body)).unwrap())
}

/// Layer 0: 3 MiB, layer 1: 6 MiB (incompressible). Layers are compressed and uploaded
/// largest first: with 1 MiB chunks layer 1 takes PATCHes 1-7, layer 0 PATCHes 8-11.
fn two_layer_archive(dir: &std::path::Path) -> std::path::PathBuf {
    make_archive(
        dir,
        "fault",
        "amd64",
        &[
            vec![File {
                path: "three",
                data: noise(3 << 20, 7),
            }],
            vec![File {
                path: "six",
                data: noise(6 << 20, 8),
            }],
        ],
        &[],
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn registry_killed_mid_upload_leaves_no_tag_and_the_rerun_resumes() {
    let reg = Arc::new(Registry::start());
    let dir = tempfile::tempdir().unwrap();
    let archive = format!("docker-archive:{}", two_layer_archive(dir.path()).display());
    let killer = reg.clone();
    let proxy = Proxy::start(
        format!("http://{}", reg.host()),
        vec![Rule {
            method: "PATCH",
            path_contains: "/blobs/uploads/",
            // The second chunk of layer 0, after layer 1 was completely uploaded.
            nth: 9,
            seen: 0,
            fault: Fault::Drop(Arc::new(move || killer.stop())),
        }],
    )
    .await;
    let cache = dir.path().join("cache");
    let env = [("GOLDEN_CACHE_DIR", cache.display().to_string())];
    let to = format!("{}/golden/fault:1", proxy.host);
    let args = [
        archive.as_str(),
        "--to",
        &to,
        "--chunk-size",
        "1",
        "--jobs",
        "1",
        "--retries",
        "2",
        "--format",
        "json",
    ];

    let first = golden_push(&args, &env).await;
    first.failed();
    assert!(
        first.stderr.contains("failed to reach registry"),
        "{}",
        first.stderr
    );
    assert!(
        proxy
            .injected()
            .iter()
            .any(|l| l.starts_with("PATCH") && l.ends_with("killed registry")),
        "{:?}",
        proxy.log()
    );
    assert!(
        first.outputs.is_empty(),
        "no output on failure: {:?}",
        first.outputs
    );

    // Nothing is tagged.
    reg.restart();
    let err = skopeo(&format!("{}/golden/fault:1", reg.host()), true, None).unwrap_err();
    assert!(
        err.contains("manifest unknown") || err.contains("not found"),
        "{err}"
    );

    // Rerun on a "fresh runner" (empty local cache): layer 1, fully uploaded before the kill,
    // is found by HEAD once compressed and not sent again; layer 0 is sent.
    let second = golden_push(&args, &[]).await;
    second.ok();
    let r = second.json();
    assert_eq!(r["layers"][0]["action"], "uploaded", "{}", second.stderr);
    assert_eq!(r["layers"][1]["action"], "exists", "{}", second.stderr);
    let info: serde_json::Value = serde_json::from_str(
        &skopeo(&format!("{}/golden/fault:1", reg.host()), false, None).unwrap(),
    )
    .unwrap();
    assert_eq!(info["Digest"], second.output("digest"));

    // Same digest as an uninterrupted push to a fresh registry.
    let clean = Registry::start();
    let c = golden_push(
        &[
            archive.as_str(),
            "--to",
            &format!("{}/golden/fault:1", clean.host()),
        ],
        &[],
    )
    .await;
    c.ok();
    assert_eq!(c.output("digest"), second.output("digest"));
}

#[tokio::test(flavor = "multi_thread")]
async fn registry_429_and_503_are_retried_with_retry_after() {
    let reg = Registry::start();
    let dir = tempfile::tempdir().unwrap();
    let archive = format!("docker-archive:{}", two_layer_archive(dir.path()).display());
    let rule = |method, path_contains, nth, fault| Rule {
        method,
        path_contains,
        nth,
        seen: 0,
        fault,
    };
    let proxy = Proxy::start(
        format!("http://{}", reg.host()),
        vec![
            rule("GET", "/v2/", 1, Fault::Status(503, None)),
            rule("HEAD", "/blobs/", 1, Fault::Status(429, Some(1))),
            rule("POST", "/blobs/uploads/", 1, Fault::Status(503, None)),
            rule("PATCH", "/blobs/uploads/", 2, Fault::Status(429, Some(1))),
            rule("PATCH", "/blobs/uploads/", 4, Fault::Status(502, None)),
            rule("PUT", "/manifests/sha256:", 1, Fault::Status(503, None)),
            rule("PUT", "/manifests/1", 1, Fault::Status(429, Some(1))),
        ],
    )
    .await;
    let to = format!("{}/golden/retry:1", proxy.host);
    let started = Instant::now();
    let run = golden_push(
        &[
            archive.as_str(),
            "--to",
            &to,
            "--chunk-size",
            "1",
            "--jobs",
            "1",
        ],
        &[],
    )
    .await;
    run.ok();
    let took = started.elapsed().as_secs_f64();
    let injected = proxy.injected();
    assert_eq!(
        injected.len(),
        7,
        "every fault was served once: {injected:?}"
    );
    assert!(
        took >= 3.0,
        "three Retry-After: 1 must be honoured, took {took:.1} s"
    );
    assert!(run.stderr.contains("HTTP 429"), "{}", run.stderr);
    assert!(run.stderr.contains("HTTP 503"), "{}", run.stderr);
    let info: serde_json::Value = serde_json::from_str(
        &skopeo(&format!("{}/golden/retry:1", reg.host()), false, None).unwrap(),
    )
    .unwrap();
    assert_eq!(info["Digest"], run.output("digest"));

    // Retries are bounded: a registry that keeps answering 503 fails with a clear error.
    let always = Proxy::start(
        format!("http://{}", reg.host()),
        (1..=50)
            .map(|n| rule("HEAD", "/blobs/", n, Fault::Status(503, None)))
            .collect(),
    )
    .await;
    let run = golden_push(
        &[
            archive.as_str(),
            "--to",
            &format!("{}/golden/retry:2", always.host),
            "--retries",
            "2",
        ],
        &[],
    )
    .await;
    run.failed();
    assert!(run.stderr.contains("HTTP 503"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn registry_corrupted_reads_are_caught_by_the_digest_checks() {
    let reg = Registry::start();
    let dir = tempfile::tempdir().unwrap();
    let archive = small_archive(dir.path(), "corrupt", "amd64");
    let pushed = golden_push(
        &[
            &format!("docker-archive:{}", archive.display()),
            "--to",
            &format!("{}/golden/c:1", reg.host()),
        ],
        &[],
    )
    .await;
    pushed.ok();
    let digest = pushed.output("digest").to_string();
    let proxy = Proxy::start(
        format!("http://{}", reg.host()),
        vec![
            Rule {
                method: "GET",
                path_contains: "/blobs/",
                nth: 1,
                seen: 0,
                fault: Fault::Corrupt,
            },
            Rule {
                method: "GET",
                path_contains: "/manifests/",
                nth: 1,
                seen: 0,
                fault: Fault::Corrupt,
            },
        ],
    )
    .await;
    let client = golden_registry::Client::new(golden_registry::ClientOptions::default()).unwrap();
    let by_digest =
        golden_registry::Reference::parse(&format!("{}/golden/c@{digest}", proxy.host)).unwrap();

    // A manifest whose bytes do not hash to the digest asked for.
    let e = client.get_manifest(&by_digest).await.unwrap_err();
    assert!(
        matches!(e, golden_registry::RegistryError::DigestMismatch { .. }),
        "{e}"
    );
    // The next read is clean: the same call works.
    let m = client.get_manifest(&by_digest).await.unwrap();
    let golden_registry::ParsedManifest::Image(im) = m.parse().unwrap() else {
        panic!()
    };

    // A blob whose bytes do not hash to its digest: the write target gets them, the call fails.
    let mut sink = Vec::new();
    let e = client
        .get_blob(&by_digest, &im.layers[0].digest, &mut sink)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("digest mismatch"), "{e}");
    let n = client
        .get_blob(&by_digest, &im.layers[0].digest, &mut Vec::new())
        .await
        .unwrap();
    assert_eq!(n, im.layers[0].size);
    assert_eq!(proxy.injected().len(), 2, "{:?}", proxy.log());
}

/// The tags of `repo` in the registry at `host` (sorted; empty when the repository is unknown).
async fn tags_of(host: &str, repo: &str) -> Vec<String> {
    let v: serde_json::Value = reqwest::get(format!("http://{host}/v2/{repo}/tags/list"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap_or_default();
    let mut tags: Vec<String> = v["tags"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|t| t.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    tags.sort();
    tags
}

fn read_record(p: &std::path::Path) -> golden_contracts::push::PushRecord {
    use golden_contracts::Document;
    golden_contracts::push::PushRecord::read(p).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn registry_one_tag_failing_is_reported_with_exactly_the_tags_that_moved() {
    let reg = Registry::start();
    let dir = tempfile::tempdir().unwrap();
    let archive = small_archive(dir.path(), "tags", "amd64");
    let sbom = dir.path().join("sbom.cdx.json");
    std::fs::write(&sbom, r#"{"bomFormat":"CycloneDX","specVersion":"1.5"}"#).unwrap();
    let proxy = Proxy::start(
        format!("http://{}", reg.host()),
        vec![Rule {
            method: "PUT",
            path_contains: "/manifests/second",
            nth: 1,
            seen: 0,
            fault: Fault::Status(400, None),
        }],
    )
    .await;
    let record = dir.path().join("out/push-record.json");
    let run = golden_push(
        &[
            &format!("docker-archive:{}", archive.display()),
            "--to",
            &format!("{}/golden/tags:first", proxy.host),
            "--tag",
            "second,third",
            "--attach",
            &sbom.display().to_string(),
            "--record",
            &record.display().to_string(),
            "--retries",
            "0",
        ],
        &[],
    )
    .await;
    run.failed();
    assert!(
        run.stderr.contains("failed to tag")
            && run.stderr.contains("moved: ")
            && run.stderr.contains(":first")
            && run.stderr.contains("not moved: "),
        "{}",
        run.stderr
    );
    let r = read_record(&record);
    assert_eq!(r.result, golden_contracts::push::PushResult::Failure);
    let name = format!("{}/golden/tags", proxy.host);
    assert_eq!(r.tags, vec![format!("{name}:first")]);
    assert_eq!(
        r.tags_not_moved,
        vec![format!("{name}:second"), format!("{name}:third")]
    );
    // The referrer went to the digest before any tag.
    assert_eq!(r.referrers.len(), 1);
    assert!(r.digest.is_some() && r.error.as_deref().unwrap_or("").contains("second"));
    // A failed push records what is known: the manifest was stored, so its size and the
    // bytes sent are; the wall time always is.
    assert!(
        r.compressed_size.is_some_and(|s| s > 0)
            && r.bytes_uploaded == r.compressed_size
            && r.duration_seconds.is_some_and(|d| d > 0.0),
        "{r:?}"
    );
    let tags = tags_of(&reg.host(), "golden/tags").await;
    assert!(tags.contains(&"first".to_string()), "{tags:?}");
    assert!(
        !tags.contains(&"second".to_string()) && !tags.contains(&"third".to_string()),
        "tags are set one after the other and stop at the failing one: {tags:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn registry_attach_failing_moves_no_tag() {
    let reg = Registry::start();
    let dir = tempfile::tempdir().unwrap();
    let archive = small_archive(dir.path(), "attach", "amd64");
    let sbom = dir.path().join("sbom.cdx.json");
    std::fs::write(&sbom, r#"{"bomFormat":"CycloneDX","specVersion":"1.5"}"#).unwrap();
    // PUT by digest #1 is the image manifest, #2 the SBOM's artifact manifest.
    let proxy = Proxy::start(
        format!("http://{}", reg.host()),
        vec![Rule {
            method: "PUT",
            path_contains: "/manifests/sha256:",
            nth: 2,
            seen: 0,
            fault: Fault::Status(400, None),
        }],
    )
    .await;
    let record = dir.path().join("push-record.json");
    let run = golden_push(
        &[
            &format!("docker-archive:{}", archive.display()),
            "--to",
            &format!("{}/golden/attach:1", proxy.host),
            "--tag",
            "latest",
            "--attach",
            &sbom.display().to_string(),
            "--record",
            &record.display().to_string(),
            "--retries",
            "0",
        ],
        &[],
    )
    .await;
    run.failed();
    assert!(run.stderr.contains("no tag was moved"), "{}", run.stderr);
    let r = read_record(&record);
    assert!(r.tags.is_empty() && r.referrers.is_empty(), "{r:?}");
    assert_eq!(r.tags_not_moved.len(), 2, "{r:?}");
    assert_eq!(
        tags_of(&reg.host(), "golden/attach").await,
        Vec::<String>::new()
    );
}

/// Issue 16: no tag moves before the signature and the provenance are attached. The proxy sees
/// every request in order: the last referrers-index update (the provenance bundle, attached
/// last) comes before the first tag PUT; and a failing signature attach moves no tag.
#[tokio::test(flavor = "multi_thread")]
async fn registry_push_signs_and_attaches_provenance_before_any_tag() {
    let reg = Registry::start();
    let dir = tempfile::tempdir().unwrap();
    let archive = small_archive(dir.path(), "order", "amd64");
    let key = dir.path().join("k.pem");
    golden_push(&["keygen", &key.display().to_string()], &[])
        .await
        .ok();
    let proxy = Proxy::start(format!("http://{}", reg.host()), Vec::new()).await;
    let record = dir.path().join("push-record.json");
    let run = golden_push(
        &[
            &format!("docker-archive:{}", archive.display()),
            "--to",
            &format!("{}/golden/order:1", proxy.host),
            "--tag",
            "latest",
            "--sign-key",
            &key.display().to_string(),
            "--record",
            &record.display().to_string(),
        ],
        &[],
    )
    .await;
    run.ok();
    let puts: Vec<String> = proxy
        .log()
        .into_iter()
        .filter(|(m, p, _)| m == "PUT" && p.contains("/manifests/"))
        .map(|(_, p, _)| p.rsplit('/').next().unwrap().to_string())
        .collect();
    // image manifest, signature bundle, referrers index, provenance bundle, referrers index,
    // then the tags.
    assert_eq!(puts.len(), 7, "{puts:?}");
    let first_tag = puts.iter().position(|r| !r.starts_with("sha256")).unwrap();
    let last_bundle = puts.iter().rposition(|r| r.starts_with("sha256")).unwrap();
    assert!(
        last_bundle < first_tag,
        "a tag moved before the bundles: {puts:?}"
    );
    assert_eq!(&puts[first_tag..], ["1", "latest"], "{puts:?}");
    assert_eq!(
        puts.iter().filter(|r| r.starts_with("sha256-")).count(),
        2,
        "two bundles listed in the referrers index before the tags: {puts:?}"
    );
    let r = read_record(&record);
    let kinds: Vec<&str> = r.referrers.iter().map(|x| x.file.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "https://sigstore.dev/cosign/sign/v1",
            "https://slsa.dev/provenance/v1"
        ]
    );

    // The signature's artifact manifest refused: an error, and no tag.
    let proxy = Proxy::start(
        format!("http://{}", reg.host()),
        vec![Rule {
            method: "PUT",
            path_contains: "/manifests/sha256:",
            nth: 2,
            seen: 0,
            fault: Fault::Status(400, None),
        }],
    )
    .await;
    let run = golden_push(
        &[
            &format!("docker-archive:{}", archive.display()),
            "--to",
            &format!("{}/golden/order2:1", proxy.host),
            "--sign-key",
            &key.display().to_string(),
            "--retries",
            "0",
        ],
        &[],
    )
    .await;
    run.failed();
    assert!(run.stderr.contains("no tag was moved"), "{}", run.stderr);
    assert_eq!(
        tags_of(&reg.host(), "golden/order2").await,
        Vec::<String>::new()
    );
}
