//! Credentials are bound to hosts: fake registries and token services on loopback ports (each
//! `host:port` is a different host) record what they receive, and the tests assert that no
//! credential reaches a host it is not bound to.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::time::Duration;

use golden_registry::digest::sha256_digest;
use golden_registry::{Client, ClientOptions, Env, Reference, RegistryError, RetryPolicy, Scope};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const SECRET: &str = "s3cr3t-golden";

fn host_of(server: &MockServer) -> String {
    server.uri().trim_start_matches("http://").to_string()
}

fn client(pairs: Vec<(&str, String)>) -> Client {
    let mut pairs = pairs;
    pairs.push(("DOCKER_CONFIG", "/nonexistent-golden".into()));
    Client::new(ClientOptions {
        env: Env::from_pairs(pairs),
        retry: RetryPolicy {
            max_retries: 0,
            ..RetryPolicy::default()
        },
        ..ClientOptions::default()
    })
    .unwrap()
}

/// Everything a server received, as text (method, path, query, headers, body).
async fn received(server: &MockServer) -> Vec<String> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .map(show)
        .collect()
}

fn show(r: &Request) -> String {
    let headers: Vec<String> = r
        .headers
        .iter()
        .map(|(k, v)| format!("{k}: {}", v.to_str().unwrap_or("?")))
        .collect();
    format!(
        "{} {} | {} | {}",
        r.method,
        r.url,
        headers.join("; "),
        String::from_utf8_lossy(&r.body)
    )
}

fn carries_credential(line: &str) -> bool {
    let l = line.to_ascii_lowercase();
    l.contains("authorization:")
        || l.contains(SECRET)
        || l.contains("refresh_token=")
        || l.contains("access_token=")
        || l.contains("client_secret")
}

async fn bearer_challenge(server: &MockServer, realm: &str) {
    Mock::given(method("GET"))
        .and(path("/v2/"))
        .respond_with(ResponseTemplate::new(401).insert_header(
            "www-authenticate",
            format!(r#"Bearer realm="{realm}",service="reg""#).as_str(),
        ))
        .mount(server)
        .await;
}

/// A token service that answers anything with a token (it must still never see a secret).
async fn token_service(server: &MockServer) {
    Mock::given(path("/token"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(serde_json::json!({"token": "issued"})),
        )
        .mount(server)
        .await;
}

fn b64(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(s)
}

#[tokio::test]
async fn a_realm_on_another_host_never_receives_the_credential() {
    for creds in [
        vec![
            ("GOLDEN_REGISTRY_USERNAME", "u".to_string()),
            ("GOLDEN_REGISTRY_PASSWORD", SECRET.to_string()),
        ],
        vec![("GOLDEN_ACR_REFRESH_TOKEN", SECRET.to_string())],
    ] {
        let a = MockServer::start().await;
        let b = MockServer::start().await;
        bearer_challenge(&a, &format!("{}/token", b.uri())).await;
        token_service(&b).await;
        let mut env = creds.clone();
        // Host A is allowed (as the configured registry would be); host B is not.
        env.push(("GOLDEN_AUTH_HOSTS", host_of(&a)));
        let c = client(env);
        let image = Reference::parse(&format!("{}/golden/x:1", host_of(&a))).unwrap();
        let err = c.get_manifest(&image).await.unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("on another host") && msg.contains(&host_of(&b)),
            "{msg}"
        );
        assert!(!msg.contains(SECRET), "{msg}");
        for line in received(&b).await {
            assert!(!carries_credential(&line), "host B received: {line}");
        }
        assert!(matches!(err, RegistryError::Auth(_)), "{err:?}");
    }
}

#[tokio::test]
async fn a_realm_host_on_the_allow_list_receives_it() {
    let a = MockServer::start().await;
    let b = MockServer::start().await;
    bearer_challenge(&a, &format!("{}/token", b.uri())).await;
    Mock::given(method("GET"))
        .and(path("/token"))
        .and(wiremock::matchers::header(
            "authorization",
            format!("Basic {}", b64(&format!("u:{SECRET}"))).as_str(),
        ))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(serde_json::json!({"token": "issued"})),
        )
        .expect(1)
        .mount(&b)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/golden/x/tags/list"))
        .and(wiremock::matchers::header("authorization", "Bearer issued"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"name": "golden/x", "tags": ["1"]})),
        )
        .expect(1)
        .mount(&a)
        .await;
    let c = client(vec![
        ("GOLDEN_REGISTRY_USERNAME", "u".into()),
        ("GOLDEN_REGISTRY_PASSWORD", SECRET.into()),
        (
            "GOLDEN_AUTH_HOSTS",
            format!("{},{}", host_of(&a), host_of(&b)),
        ),
    ]);
    let repo = Reference::parse(&format!("{}/golden/x", host_of(&a))).unwrap();
    assert_eq!(c.list_tags(&repo).await.unwrap(), ["1"]);
    a.verify().await;
    b.verify().await;
}

/// An Entra authority that counts how often it is asked.
async fn entra(server: &MockServer, expect: u64) {
    Mock::given(method("POST"))
        .and(path("/tenant-1/oauth2/v2.0/token"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(serde_json::json!({"access_token": "entra"})),
        )
        .expect(expect)
        .mount(server)
        .await;
}

fn azure_env(authority: &MockServer) -> Vec<(&'static str, String)> {
    vec![
        ("AZURE_CLIENT_ID", "client-1".into()),
        ("AZURE_TENANT_ID", "tenant-1".into()),
        ("AZURE_CLIENT_SECRET", SECRET.into()),
        ("AZURE_AUTHORITY_HOST", authority.uri()),
    ]
}

#[tokio::test]
async fn the_acr_exchange_goes_to_the_registry_not_to_the_realm() {
    let reg = MockServer::start().await;
    let realm = MockServer::start().await;
    let authority = MockServer::start().await;
    entra(&authority, 1).await;
    bearer_challenge(&reg, &format!("{}/oauth2/token", realm.uri())).await;
    Mock::given(method("POST"))
        .and(path("/oauth2/exchange"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"refresh_token": "acr-rt"})),
        )
        .expect(1)
        .mount(&reg)
        .await;
    // The realm is allowed (it is the registry's token service), so the ACR refresh token
    // goes there; the Entra token must not.
    Mock::given(method("POST"))
        .and(path("/oauth2/token"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(serde_json::json!({"access_token": "acr-at"})),
        )
        .mount(&realm)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/golden/x/tags/list"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"name": "golden/x", "tags": []})),
        )
        .mount(&reg)
        .await;
    let mut env = azure_env(&authority);
    env.push((
        "GOLDEN_AUTH_HOSTS",
        format!("{},{}", host_of(&reg), host_of(&realm)),
    ));
    let c = client(env);
    let repo = Reference::parse(&format!("{}/golden/x", host_of(&reg))).unwrap();
    c.list_tags(&repo).await.unwrap();
    for line in received(&realm).await {
        assert!(
            !line.contains("/oauth2/exchange") && !line.contains("access_token=entra"),
            "the realm host received the Entra token: {line}"
        );
    }
    reg.verify().await;
    authority.verify().await;
}

#[tokio::test]
async fn copying_from_a_public_registry_with_azure_and_token_variables_sends_nothing_there() {
    let public = MockServer::start().await;
    let target = MockServer::start().await;
    let authority = MockServer::start().await;
    // Entra is asked once: for the push target only.
    entra(&authority, 1).await;
    bearer_challenge(&public, &format!("{}/token", public.uri())).await;
    token_service(&public).await;
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": format!("sha256:{}", "0".repeat(64)), "size": 2},
        "layers": []
    })
    .to_string();
    Mock::given(method("GET"))
        .and(path("/v2/library/nginx/manifests/1"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "application/vnd.oci.image.manifest.v1+json")
                .set_body_string(manifest),
        )
        .mount(&public)
        .await;
    // The target: an ACR-like registry with its realm on itself.
    bearer_challenge(&target, &format!("{}/oauth2/token", target.uri())).await;
    Mock::given(method("POST"))
        .and(path("/oauth2/exchange"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"refresh_token": "acr-rt"})),
        )
        .expect(1)
        .mount(&target)
        .await;
    Mock::given(method("POST"))
        .and(path("/oauth2/token"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(serde_json::json!({"access_token": "acr-at"})),
        )
        .expect(1)
        .mount(&target)
        .await;
    let mut env = azure_env(&authority);
    env.push(("GOLDEN_REGISTRY_USERNAME", "u".into()));
    env.push(("GOLDEN_REGISTRY_PASSWORD", SECRET.into()));
    env.push(("GOLDEN_ACR_REFRESH_TOKEN", SECRET.into()));
    let c = client(env);
    let src = Reference::parse(&format!("{}/library/nginx:1", host_of(&public))).unwrap();
    let dst = Reference::parse(&format!("{}/golden/nginx:1", host_of(&target))).unwrap();
    // What `golden-push copy` does first: pull on the source, push on the target.
    c.authorize(&src.registry, &[Scope::pull("library/nginx")])
        .await
        .unwrap();
    c.authorize(&dst.registry, &[Scope::push("golden/nginx")])
        .await
        .unwrap();
    c.get_manifest(&src).await.unwrap();
    let auth = c.auth_for(&src.registry).unwrap();
    assert!(
        auth.description.starts_with("anonymous"),
        "{}",
        auth.description
    );
    let seen = received(&public).await;
    assert!(!seen.is_empty());
    for line in seen {
        // The anonymous token it issued itself is the only thing it may see back.
        let l = line.replace("authorization: Bearer issued", "");
        assert!(
            !carries_credential(&l),
            "the public registry received: {line}"
        );
    }
    target.verify().await;
    authority.verify().await;
}

#[tokio::test]
async fn an_upload_location_on_another_host_gets_no_authorization() {
    let reg = MockServer::start().await;
    let elsewhere = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/"))
        .respond_with(
            ResponseTemplate::new(401).insert_header("www-authenticate", r#"Basic realm="r""#),
        )
        .mount(&reg)
        .await;
    Mock::given(method("POST"))
        .and(path("/v2/golden/x/blobs/uploads/"))
        .respond_with(
            ResponseTemplate::new(202)
                .insert_header("location", format!("{}/upload/1", elsewhere.uri()).as_str()),
        )
        .mount(&reg)
        .await;
    Mock::given(method("PUT"))
        .and(path("/upload/1"))
        .respond_with(ResponseTemplate::new(201))
        .mount(&elsewhere)
        .await;
    let c = client(vec![
        ("GOLDEN_REGISTRY_USERNAME", "u".into()),
        ("GOLDEN_REGISTRY_PASSWORD", SECRET.into()),
    ]);
    let repo = Reference::parse(&format!("{}/golden/x", host_of(&reg))).unwrap();
    let data = bytes::Bytes::from_static(b"layer");
    c.upload_bytes(&repo, data.clone(), &sha256_digest(&data))
        .await
        .unwrap();
    // The registry itself (the push target) got the credential...
    let at_reg = received(&reg).await;
    assert!(
        at_reg
            .iter()
            .any(|l| l.starts_with("POST") && l.contains("authorization: Basic")),
        "{at_reg:?}"
    );
    // ...the other host did not.
    let at_other = received(&elsewhere).await;
    assert!(!at_other.is_empty());
    for line in at_other {
        assert!(!carries_credential(&line), "{line}");
    }
}

/// A registry that answers every request with `status` and a body without `Content-Length`
/// (close-delimited) of `size` bytes, or endless when `size` is `None`.
async fn raw_server(status: &'static str, size: Option<usize>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let mut got = Vec::new();
                while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                    match sock.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => got.extend_from_slice(&buf[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&got).to_string();
                let reply = if head.starts_with("GET /v2/ ") {
                    "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".to_string()
                } else {
                    format!(
                        "HTTP/1.1 {status}\r\nContent-Type: application/vnd.oci.image.manifest.v1+json\r\nConnection: close\r\n\r\n"
                    )
                };
                if sock.write_all(reply.as_bytes()).await.is_err() || head.starts_with("GET /v2/ ")
                {
                    return;
                }
                let chunk = vec![b' '; 64 << 10];
                let mut sent = 0usize;
                while size.is_none_or(|s| sent < s) {
                    if sock.write_all(&chunk).await.is_err() {
                        return;
                    }
                    sent += chunk.len();
                }
                let _ = sock.shutdown().await;
            });
        }
    });
    addr
}

#[tokio::test]
async fn bodies_without_a_length_are_capped() {
    let c = client(vec![]);
    // A manifest that never ends stops at the manifest limit with a clear error.
    let host = raw_server("200 OK", Some(9 << 20)).await;
    let image = Reference::parse(&format!("{host}/golden/x:1")).unwrap();
    let msg = tokio::time::timeout(Duration::from_secs(30), c.get_manifest(&image))
        .await
        .expect("reading stopped")
        .unwrap_err()
        .to_string();
    assert!(msg.contains("larger than the limit"), "{msg}");
    // An error reply that never ends: only its start is read.
    let host = raw_server("400 Bad Request", None).await;
    let image = Reference::parse(&format!("{host}/golden/x:1")).unwrap();
    let err = tokio::time::timeout(Duration::from_secs(30), c.get_manifest(&image))
        .await
        .expect("an endless error body is not read to its end")
        .unwrap_err();
    assert!(err.to_string().contains("400"), "{err}");
}

#[tokio::test]
async fn token_replies_without_a_length_are_capped() {
    let realm = raw_server("200 OK", Some(2 << 20)).await;
    let reg = MockServer::start().await;
    bearer_challenge(&reg, &format!("http://{realm}/token")).await;
    let c = client(vec![]);
    let image = Reference::parse(&format!("{}/golden/x:1", host_of(&reg))).unwrap();
    let msg = tokio::time::timeout(Duration::from_secs(30), c.get_manifest(&image))
        .await
        .expect("reading stopped")
        .unwrap_err()
        .to_string();
    assert!(msg.contains("larger than the limit"), "{msg}");
}
