//! Authentication against real registries:
//! - htpasswd registry with docker-config credentials (and username/password variables);
//! - distribution's `auth: token` mode behind a test token service implementing ACR's
//!   `/oauth2/exchange` and `/oauth2/token` and issuing RS256 JWTs the registry verifies (key
//!   and certificate from the openssl CLI), with a fake Entra ID and a fake GitHub OIDC
//!   endpoint (wiremock) that assert what they receive;
//! - a token that stops being accepted mid-session is re-fetched once;
//! - no secret ever appears in the output, even at RUST_LOG=trace.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use bytes::Bytes;
use hyper::Request;
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::*;

const ISSUER: &str = "golden-test-issuer";
const SERVICE: &str = "golden-test-registry";
const TENANT: &str = "tenant-7f3c";
const CLIENT_ID: &str = "5a1e0c2d-0000-4000-8000-00000000c11e";
const GH_REQUEST_TOKEN: &str = "gh-request-token-4b1d9e";
const GH_JWT: &str =
    "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOm9yZy9yZXBvOnJlZjpyZWZzL2hlYWRzL21haW4ifQ.gh-sig-93af";
const ENTRA_TOKEN: &str = "entra-access-token-c0ffee-12";
const SP_SECRET: &str = "sp-client-secret-5ecret~x";
const DOCKER_IDENTITY_TOKEN: &str = "docker-identity-token-77aa";
const BASIC: (&str, &str) = ("tester", "basic-pass-9911");

fn b64url(b: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

fn base32(b: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::new();
    let (mut buf, mut bits) = (0u32, 0u32);
    for &x in b {
        buf = (buf << 8) | x as u32;
        bits += 8;
        while bits >= 5 {
            out.push(A[((buf >> (bits - 5)) & 31) as usize] as char);
            bits -= 5;
        }
    }
    if bits > 0 {
        out.push(A[((buf << (5 - bits)) & 31) as usize] as char);
    }
    out
}

fn openssl(args: &[&str], stdin: Option<&[u8]>) -> Vec<u8> {
    use std::io::Write;
    require("openssl");
    let mut child = Command::new("openssl")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(s) = stdin {
        input.write_all(s).unwrap();
    }
    drop(input);
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// An RSA signing key and the self-signed certificate the registry trusts.
struct SigningKey {
    key: PathBuf,
    cert: PathBuf,
    /// libtrust key id of the public key (what distribution looks `kid` up by).
    kid: String,
}

impl SigningKey {
    fn generate(dir: &Path, name: &str) -> SigningKey {
        let key = dir.join(format!("{name}.key"));
        let cert = dir.join(format!("{name}.crt"));
        openssl(
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "1",
                "-subj",
                "/CN=golden-push-test-token",
                "-keyout",
                &key.display().to_string(),
                "-out",
                &cert.display().to_string(),
            ],
            None,
        );
        let der = openssl(
            &[
                "pkey",
                "-in",
                &key.display().to_string(),
                "-pubout",
                "-outform",
                "DER",
            ],
            None,
        );
        let hash = sha256_raw(&der);
        let s = base32(&hash[..30]);
        let kid = s
            .as_bytes()
            .chunks(4)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join(":");
        SigningKey { key, cert, kid }
    }

    fn sign(&self, claims: &serde_json::Value) -> String {
        let header = serde_json::json!({"typ": "JWT", "alg": "RS256", "kid": self.kid});
        let input = format!(
            "{}.{}",
            b64url(header.to_string().as_bytes()),
            b64url(claims.to_string().as_bytes())
        );
        let sig = openssl(
            &["dgst", "-sha256", "-sign", &self.key.display().to_string()],
            Some(input.as_bytes()),
        );
        format!("{input}.{}", b64url(&sig))
    }
}

fn sha256_raw(b: &[u8]) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(b).to_vec()
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[derive(Default)]
struct TokenState {
    /// Requests seen: (method path, form/query pairs).
    requests: Vec<(String, Vec<(String, String)>)>,
    valid_refresh: Vec<String>,
    issued: Vec<String>,
    exchanges: usize,
}

/// An ACR-like front: the token service (`/oauth2/token`, `/oauth2/exchange`) on the same host
/// as the registry API, which it forwards to a distribution registry (like ACR, whose exchange
/// endpoint is on the login server: golden-registry sends the Entra token nowhere else).
struct TokenService {
    addr: std::net::SocketAddr,
    state: Arc<Mutex<TokenState>>,
    key: Arc<Mutex<Arc<SigningKey>>>,
    upstream: Arc<Mutex<Option<String>>>,
}

/// Forward one request to the registry behind the front (its `Host` stays the front's, so the
/// registry's `Location` headers point back at the front).
async fn forward(
    upstream: &str,
    req: Request<Bytes>,
) -> hyper::Response<http_body_util::Full<Bytes>> {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let url = format!(
        "http://{upstream}{}",
        req.uri()
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/")
    );
    let method = reqwest::Method::from_bytes(req.method().as_str().as_bytes()).unwrap();
    let mut b = client.request(method, url);
    for (k, v) in req.headers() {
        if k.as_str() != "content-length" {
            b = b.header(k.as_str(), v.as_bytes());
        }
    }
    let resp = b.body(req.into_body()).send().await.unwrap();
    let mut out = hyper::Response::builder().status(resp.status().as_u16());
    for (k, v) in resp.headers() {
        if !matches!(
            k.as_str(),
            "content-length" | "transfer-encoding" | "connection"
        ) {
            out = out.header(k.as_str(), v.as_bytes());
        }
    }
    out.body(http_body_util::Full::new(resp.bytes().await.unwrap()))
        .unwrap()
}

impl TokenService {
    async fn start(key: SigningKey) -> TokenService {
        let state = Arc::new(Mutex::new(TokenState {
            valid_refresh: vec![DOCKER_IDENTITY_TOKEN.to_string()],
            ..Default::default()
        }));
        let key = Arc::new(Mutex::new(Arc::new(key)));
        let upstream: Arc<Mutex<Option<String>>> = Arc::new(Mutex::new(None));
        let (st, k, up) = (state.clone(), key.clone(), upstream.clone());
        let handler: Handler = Arc::new(move |req: Request<Bytes>| {
            let (st, k, up) = (st.clone(), k.clone(), up.clone());
            Box::pin(async move {
                let registry = up.lock().unwrap().clone();
                match registry {
                    Some(r) if !req.uri().path().starts_with("/oauth2/") => {
                        Ok(forward(&r, req).await)
                    }
                    _ => Ok(token_service(&st, &k, req)),
                }
            })
        });
        let addr = serve(handler).await;
        TokenService {
            addr,
            state,
            key,
            upstream,
        }
    }

    fn realm(&self) -> String {
        format!("http://{}/oauth2/token", self.addr)
    }

    fn requests(&self, what: &str) -> Vec<Vec<(String, String)>> {
        self.state
            .lock()
            .unwrap()
            .requests
            .iter()
            .filter(|(w, _)| w == what)
            .map(|(_, f)| f.clone())
            .collect()
    }
}

fn get<'a>(f: &'a [(String, String)], k: &str) -> Option<&'a str> {
    f.iter().find(|(a, _)| a == k).map(|(_, v)| v.as_str())
}

fn token_service(
    st: &Mutex<TokenState>,
    key: &Mutex<Arc<SigningKey>>,
    req: Request<Bytes>,
) -> hyper::Response<http_body_util::Full<Bytes>> {
    let m = req.method().to_string();
    let p = req.uri().path().to_string();
    let fields = if m == "POST" {
        form(&String::from_utf8_lossy(req.body()))
    } else {
        form(req.uri().query().unwrap_or(""))
    };
    st.lock()
        .unwrap()
        .requests
        .push((format!("{m} {p}"), fields.clone()));
    let deny = |code: u16, msg: &str| {
        response(
            code,
            format!(r#"{{"errors":[{{"code":"UNAUTHORIZED","message":"{msg}"}}]}}"#),
        )
    };
    match (m.as_str(), p.as_str()) {
        ("POST", "/oauth2/exchange") => {
            if get(&fields, "grant_type") != Some("access_token")
                || get(&fields, "access_token") != Some(ENTRA_TOKEN)
                || get(&fields, "tenant") != Some(TENANT)
                || get(&fields, "service") != Some(SERVICE)
            {
                return deny(
                    401,
                    "exchange refused: wrong grant, tenant, service or Entra token",
                );
            }
            let rt = format!("acr-refresh-{}-{}", now(), uuid_like());
            let mut s = st.lock().unwrap();
            s.valid_refresh.push(rt.clone());
            s.exchanges += 1;
            response(200, serde_json::json!({"refresh_token": rt}).to_string())
        }
        ("POST", "/oauth2/token") | ("GET", "/oauth2/token") => {
            if m == "POST" {
                let rt = get(&fields, "refresh_token")
                    .unwrap_or_default()
                    .to_string();
                if get(&fields, "grant_type") != Some("refresh_token")
                    || !st.lock().unwrap().valid_refresh.contains(&rt)
                {
                    return deny(401, "invalid refresh token");
                }
            } else {
                let want = format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD
                        .encode(format!("{}:{}", BASIC.0, BASIC.1))
                );
                if req
                    .headers()
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    != Some(want.as_str())
                {
                    return deny(401, "basic credentials required");
                }
            }
            if get(&fields, "service") != Some(SERVICE) {
                return deny(400, "wrong service");
            }
            let scopes: Vec<String> = fields
                .iter()
                .filter(|(k, _)| k == "scope")
                .flat_map(|(_, v)| v.split(' ').map(str::to_string).collect::<Vec<_>>())
                .filter(|s| !s.is_empty())
                .collect();
            let mut access = Vec::new();
            for s in &scopes {
                let parts: Vec<&str> = s.splitn(3, ':').collect();
                if parts.len() != 3 || parts[0] != "repository" {
                    continue;
                }
                // Policy: `readonly/*` repositories never get push.
                let actions: Vec<&str> = parts[2]
                    .split(',')
                    .filter(|a| !(parts[1].starts_with("readonly/") && *a == "push"))
                    .collect();
                access.push(
                    serde_json::json!({"type": "repository", "name": parts[1], "actions": actions}),
                );
            }
            let n = now();
            let claims = serde_json::json!({
                "iss": ISSUER, "sub": "golden-push-test", "aud": SERVICE,
                "exp": n + 600, "nbf": n - 30, "iat": n, "jti": uuid_like(), "access": access,
            });
            let k = key.lock().unwrap().clone();
            let jwt = k.sign(&claims);
            st.lock().unwrap().issued.push(jwt.clone());
            response(
                200,
                serde_json::json!({"token": jwt, "access_token": jwt, "expires_in": 600})
                    .to_string(),
            )
        }
        _ => response(404, "not found"),
    }
}

fn uuid_like() -> String {
    hex(&noise(8, now() ^ std::process::id() as u64 ^ rand_seed()))
}

fn rand_seed() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(1);
    N.fetch_add(1, Ordering::Relaxed)
}

/// Fake GitHub OIDC endpoint: asserts the request token and the audience.
async fn fake_github() -> MockServer {
    let gh = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/abc/_apis/pipelines/1/runs/2/idtoken"))
        .and(query_param("api-version", "2.0"))
        .and(query_param("audience", "api://AzureADTokenExchange"))
        .and(header(
            "authorization",
            format!("Bearer {GH_REQUEST_TOKEN}").as_str(),
        ))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(serde_json::json!({"value": GH_JWT})),
        )
        .mount(&gh)
        .await;
    gh
}

/// Asserts an exact set of form fields.
struct FormIs(Vec<(&'static str, String)>);

impl wiremock::Match for FormIs {
    fn matches(&self, req: &wiremock::Request) -> bool {
        let got = form(&String::from_utf8_lossy(&req.body));
        let mut want: Vec<(String, String)> = self
            .0
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        let mut got_sorted = got.clone();
        want.sort();
        got_sorted.sort();
        if want != got_sorted {
            eprintln!("fake Entra: unexpected form {got:?}");
        }
        want == got_sorted
    }
}

/// Fake Entra ID: answers only the exact client-assertion (or client-secret) form.
async fn fake_entra(secret: bool, expect: u64) -> MockServer {
    let entra = MockServer::start().await;
    let mut fields = vec![
        ("client_id", CLIENT_ID.to_string()),
        ("grant_type", "client_credentials".to_string()),
        (
            "scope",
            "https://containerregistry.azure.net/.default".to_string(),
        ),
    ];
    if secret {
        fields.push(("client_secret", SP_SECRET.to_string()));
    } else {
        fields.push((
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".to_string(),
        ));
        fields.push(("client_assertion", GH_JWT.to_string()));
    }
    Mock::given(method("POST"))
        .and(path(format!("/{TENANT}/oauth2/v2.0/token")))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(FormIs(fields))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            serde_json::json!({"token_type": "Bearer", "expires_in": 3599, "access_token": ENTRA_TOKEN}),
        ))
        .expect(expect)
        .mount(&entra)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(401).set_body_json(serde_json::json!({
            "error": "invalid_client",
            "error_description": "AADSTS700016: Application with identifier 'x' was not found in the directory.",
        })))
        .with_priority(10)
        .mount(&entra)
        .await;
    entra
}

fn oidc_env(gh: &MockServer, entra: &MockServer) -> Vec<(&'static str, String)> {
    vec![
        (
            "ACTIONS_ID_TOKEN_REQUEST_URL",
            format!(
                "{}/abc/_apis/pipelines/1/runs/2/idtoken?api-version=2.0",
                gh.uri()
            ),
        ),
        (
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
            GH_REQUEST_TOKEN.to_string(),
        ),
        ("AZURE_CLIENT_ID", CLIENT_ID.to_string()),
        ("AZURE_TENANT_ID", TENANT.to_string()),
        ("AZURE_AUTHORITY_HOST", entra.uri()),
    ]
}

struct TokenRegistry {
    tokens: TokenService,
    reg: Registry,
    dir: tempfile::TempDir,
}

async fn token_registry() -> TokenRegistry {
    let dir = tempfile::tempdir().unwrap();
    let key = SigningKey::generate(dir.path(), "k1");
    let cert = key.cert.display().to_string();
    let tokens = TokenService::start(key).await;
    let reg = Registry::start_with(&[
        "--token-realm".into(),
        tokens.realm(),
        "--token-issuer".into(),
        ISSUER.into(),
        "--token-cert".into(),
        cert,
        "--token-service".into(),
        SERVICE.into(),
    ]);
    *tokens.upstream.lock().unwrap() = Some(reg.host());
    TokenRegistry { tokens, reg, dir }
}

impl TokenRegistry {
    /// The registry as clients see it: the front (registry API and token service on one host).
    fn host(&self) -> String {
        self.tokens.addr.to_string()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn registry_token_auth_with_github_oidc_entra_and_acr_exchange() {
    let t = token_registry().await;
    let gh = fake_github().await;
    // Two assertions reach Entra: the push, and the refused push to readonly/.
    let entra = fake_entra(false, 2).await;
    let archive = small_archive(t.dir.path(), "oidc", "amd64");
    let src = format!("docker-archive:{}", archive.display());
    let to = format!("{}/golden/app:1", t.host());

    // Anonymous: the token service refuses, and the error says which method was used.
    let anon = golden_push(&[&src, "--to", &to, "--retries", "0"], &[]).await;
    anon.failed();
    assert!(
        anon.stderr.contains("refused") && anon.stderr.contains("anonymous"),
        "{}",
        anon.stderr
    );

    // Auto-detected GitHub OIDC → Entra → exchange → token with the push scope.
    let run = golden_push(
        &[&src, "--to", &to, "--format", "json"],
        &oidc_env(&gh, &entra),
    )
    .await;
    run.ok();
    let exchanges = t.tokens.requests("POST /oauth2/exchange");
    assert_eq!(exchanges.len(), 1);
    let posts = t.tokens.requests("POST /oauth2/token");
    assert!(!posts.is_empty());
    assert!(
        posts.iter().all(|f| get(f, "scope")
            .unwrap_or_default()
            .contains("repository:golden/app:pull,push")),
        "{posts:?}"
    );
    let creds = format!("{}:{}", BASIC.0, BASIC.1);
    let info: serde_json::Value =
        serde_json::from_str(&skopeo(&to, false, Some(&creds)).unwrap()).unwrap();
    assert_eq!(info["Digest"], run.output("digest"));

    // A repository the identity may only read: push is refused with scope + method + hint.
    let denied = golden_push(
        &[&src, "--to", &format!("{}/readonly/app:1", t.host())],
        &oidc_env(&gh, &entra),
    )
    .await;
    denied.failed();
    assert!(
        denied
            .stderr
            .contains("refused `repository:readonly/app:pull,push`"),
        "{}",
        denied.stderr
    );
    assert!(denied.stderr.contains("github-oidc"), "{}", denied.stderr);
    assert!(
        denied
            .stderr
            .contains("Container Registry Repository Writer"),
        "{}",
        denied.stderr
    );

    // An unknown application in Entra: the Entra error with the client id and a hint.
    let mut bad = oidc_env(&gh, &entra);
    bad.retain(|(k, _)| *k != "AZURE_CLIENT_ID");
    bad.push((
        "AZURE_CLIENT_ID",
        "0000aaaa-0000-0000-0000-000000000000".into(),
    ));
    let r = golden_push(&[&src, "--to", &to], &bad).await;
    r.failed();
    assert!(
        r.stderr.contains("Entra ID refused")
            && r.stderr.contains("0000aaaa-0000-0000-0000-000000000000"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("not an application in this tenant"),
        "{}",
        r.stderr
    );
    entra.verify().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn registry_token_auth_with_service_principal_and_docker_identity_token() {
    let t = token_registry().await;
    let entra = fake_entra(true, 1).await;
    let archive = small_archive(t.dir.path(), "sp", "amd64");
    let src = format!("docker-archive:{}", archive.display());

    let env = vec![
        ("AZURE_CLIENT_ID", CLIENT_ID.to_string()),
        ("AZURE_TENANT_ID", TENANT.to_string()),
        ("AZURE_CLIENT_SECRET", SP_SECRET.to_string()),
        ("AZURE_AUTHORITY_HOST", entra.uri()),
    ];
    golden_push(&[&src, "--to", &format!("{}/golden/sp:1", t.host())], &env)
        .await
        .ok();
    entra.verify().await;
    assert_eq!(t.tokens.requests("POST /oauth2/exchange").len(), 1);

    // docker config `identitytoken` is an ACR refresh token: POSTed to the realm.
    let cfg = t.dir.path().join("docker");
    std::fs::create_dir_all(&cfg).unwrap();
    std::fs::write(
        cfg.join("config.json"),
        serde_json::json!({"auths": {t.host(): {"identitytoken": DOCKER_IDENTITY_TOKEN}}})
            .to_string(),
    )
    .unwrap();
    let run = golden_push(
        &[&src, "--to", &format!("{}/golden/docker:1", t.host())],
        &[("DOCKER_CONFIG", cfg.display().to_string())],
    )
    .await;
    run.ok();
    assert!(
        t.tokens
            .requests("POST /oauth2/token")
            .iter()
            .any(|f| get(f, "refresh_token") == Some(DOCKER_IDENTITY_TOKEN)),
        "the identity token was used as a refresh token"
    );

    // A refresh token given directly (what `az acr login --expose-token` prints).
    golden_push(
        &[&src, "--to", &format!("{}/golden/direct:1", t.host())],
        &[(
            "GOLDEN_ACR_REFRESH_TOKEN",
            DOCKER_IDENTITY_TOKEN.to_string(),
        )],
    )
    .await
    .ok();
}

#[tokio::test(flavor = "multi_thread")]
async fn registry_token_rejected_mid_session_is_refetched_once() {
    let t = token_registry().await;
    let gh = fake_github().await;
    // Entra sees the push, the long-lived client, and the re-exchange after the refusal.
    let entra = fake_entra(false, 3).await;
    let archive = small_archive(t.dir.path(), "rotate", "amd64");
    let to = format!("{}/golden/rotate:1", t.host());
    let env = oidc_env(&gh, &entra);
    golden_push(
        &[
            &format!("docker-archive:{}", archive.display()),
            "--to",
            &to,
        ],
        &env,
    )
    .await
    .ok();

    // One long-lived client (what a long push is).
    let client = golden_registry::Client::new(golden_registry::ClientOptions {
        env: golden_registry::Env::from_pairs(env.iter().map(|(k, v)| (k.to_string(), v.clone()))),
        // It only reads: the registry is allowed explicitly (not a push target of this client).
        auth_hosts: vec![t.host()],
        ..Default::default()
    })
    .unwrap();
    let r = golden_registry::Reference::parse(&to).unwrap();
    let first = client.get_manifest(&r).await.unwrap();
    let issued_before = t.tokens.state.lock().unwrap().issued.len();

    // The registry stops accepting the cached token (signing key rotated) and the ACR refresh
    // token is revoked: the next request gets 401, the client runs the whole chain again once.
    let k2 = SigningKey::generate(t.dir.path(), "k2");
    std::fs::copy(&k2.cert, t.dir.path().join("k1.crt")).unwrap();
    *t.tokens.key.lock().unwrap() = Arc::new(k2);
    t.tokens
        .state
        .lock()
        .unwrap()
        .valid_refresh
        .retain(|x| x == DOCKER_IDENTITY_TOKEN);
    t.reg.stop();
    t.reg.restart();

    let second = client.get_manifest(&r).await.unwrap();
    assert_eq!(first.digest, second.digest);
    let (issued, exchanges) = {
        let s = t.tokens.state.lock().unwrap();
        (s.issued.len(), s.exchanges)
    };
    assert_eq!(issued, issued_before + 1, "exactly one new access token");
    assert_eq!(
        exchanges, 3,
        "push + client + re-exchange after the refresh token was refused"
    );
    entra.verify().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn registry_htpasswd_with_docker_config_credentials() {
    require("htpasswd");
    let dir = tempfile::tempdir().unwrap();
    let htpasswd = dir.path().join("htpasswd");
    let out = Command::new("htpasswd")
        .args(["-Bbn", BASIC.0, BASIC.1])
        .output()
        .unwrap();
    assert!(out.status.success());
    std::fs::write(&htpasswd, &out.stdout).unwrap();
    let reg = Registry::start_with(&["--htpasswd".into(), htpasswd.display().to_string()]);
    let archive = small_archive(dir.path(), "basic", "amd64");
    let src = format!("docker-archive:{}", archive.display());
    let to = format!("{}/golden/basic:1", reg.host());

    let anon = golden_push(&[&src, "--to", &to], &[]).await;
    anon.failed();
    assert!(
        anon.stderr.contains("HTTP 401") && anon.stderr.contains("no credentials were found"),
        "{}",
        anon.stderr
    );

    let cfg = dir.path().join("docker");
    std::fs::create_dir_all(&cfg).unwrap();
    let write_cfg = |pass: &str| {
        let auth = base64::engine::general_purpose::STANDARD.encode(format!("{}:{pass}", BASIC.0));
        std::fs::write(
            cfg.join("config.json"),
            serde_json::json!({"auths": {format!("http://{}", reg.host()): {"auth": auth}}})
                .to_string(),
        )
        .unwrap();
    };
    let env = [("DOCKER_CONFIG", cfg.display().to_string())];
    write_cfg("wrong-password");
    let wrong = golden_push(&[&src, "--to", &to], &env).await;
    wrong.failed();
    assert!(
        wrong.stderr.contains("docker-config") && wrong.stderr.contains("user `tester`"),
        "{}",
        wrong.stderr
    );
    assert!(!wrong.stderr.contains("wrong-password"));

    write_cfg(BASIC.1);
    let run = golden_push(&[&src, "--to", &to], &env).await;
    run.ok();
    let creds = format!("{}:{}", BASIC.0, BASIC.1);
    let info: serde_json::Value =
        serde_json::from_str(&skopeo(&to, false, Some(&creds)).unwrap()).unwrap();
    assert_eq!(info["Digest"], run.output("digest"));

    // The same with the username/password variables (method `token`).
    golden_push(
        &[&src, "--to", &format!("{}/golden/basic:2", reg.host())],
        &[
            ("GOLDEN_REGISTRY_USERNAME", BASIC.0.to_string()),
            ("GOLDEN_REGISTRY_PASSWORD", BASIC.1.to_string()),
        ],
    )
    .await
    .ok();
}

#[tokio::test(flavor = "multi_thread")]
async fn registry_secrets_never_appear_in_output_even_at_trace() {
    let t = token_registry().await;
    let gh = fake_github().await;
    // One process per command below, each exchanging once.
    let entra = fake_entra(false, 3).await;
    let archive = small_archive(t.dir.path(), "secret", "amd64");
    let to = format!("{}/golden/secret:1", t.host());
    let mut env = oidc_env(&gh, &entra);
    env.push(("RUST_LOG", "trace".into()));
    env.push(("GITHUB_ACTIONS", "true".into()));
    // `referrers` only reads: credentials reach it as the configured registry.
    env.push(("GOLDEN_REGISTRY", t.host()));
    let report = t.dir.path().join("r.json");
    std::fs::write(&report, "{}").unwrap();
    let mut all = String::new();
    for args in [
        vec![
            format!("docker-archive:{}", archive.display()),
            "--to".into(),
            to.clone(),
            "--chunk-size".into(),
            "1".into(),
        ],
        vec![
            "attach".into(),
            to.clone(),
            report.display().to_string(),
            "--artifact-type".into(),
            "application/vnd.golden.test+json".into(),
        ],
        vec!["referrers".into(), to.clone()],
    ] {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = golden_push(&a, &env).await;
        run.ok();
        all.push_str(&run.stdout);
        all.push_str(&run.stderr);
    }
    assert!(
        all.contains("TRACE") || all.contains("trace"),
        "trace logging was on"
    );
    let s = t.tokens.state.lock().unwrap();
    let mut secrets: BTreeMap<&str, String> = BTreeMap::new();
    secrets.insert("GitHub request token", GH_REQUEST_TOKEN.into());
    secrets.insert("GitHub ID token", GH_JWT.into());
    secrets.insert("Entra token", ENTRA_TOKEN.into());
    for (i, r) in s
        .valid_refresh
        .iter()
        .filter(|r| *r != DOCKER_IDENTITY_TOKEN)
        .enumerate()
    {
        secrets.insert(
            if i == 0 {
                "ACR refresh token"
            } else {
                "ACR refresh token 2"
            },
            r.clone(),
        );
    }
    for (i, a) in s.issued.iter().enumerate() {
        secrets.insert(
            [
                "access token 1",
                "access token 2",
                "access token 3",
                "access token 4",
            ][i.min(3)],
            a.clone(),
        );
    }
    assert!(secrets.len() >= 5, "{secrets:?}");
    for (what, secret) in &secrets {
        let mut masked = false;
        for line in all.lines() {
            if line == format!("::add-mask::{secret}") {
                masked = true;
            } else {
                assert!(!line.contains(secret.as_str()), "{what} leaked in: {line}");
            }
            // A JWT's signature alone would also be a leak.
            if let Some(sig) = secret.rsplit('.').next().filter(|s| s.len() > 20) {
                assert!(
                    line.starts_with("::add-mask::") || !line.contains(sig),
                    "{what} signature leaked in: {line}"
                );
            }
        }
        assert!(masked, "{what} was never masked with ::add-mask::");
    }
}

/// The push action inside GitHub Actions (`GITHUB_ACTIONS=true`) with a credential: golden-push
/// prints `::add-mask::` lines on stdout for every token it gets, and the step script never
/// parses stdout (it used to parse it as JSON, so the step failed after the image was tagged:
/// nothing attached, no record). The push succeeds, the referrers are attached, the record is
/// a valid PushRecord, the masks reach the runner on stdout and no secret appears anywhere else.
#[tokio::test(flavor = "multi_thread")]
async fn push_action_in_actions_with_a_credential_attaches_and_writes_the_record() {
    use golden_contracts::Document;
    use golden_contracts::push::{Arch, PushRecord, PushResult};
    let t = token_registry().await;
    let gh = fake_github().await;
    // Two processes log in: the action's push, and the referrers check below.
    let entra = fake_entra(false, 2).await;
    let archive = small_archive(t.dir.path(), "action", "amd64");
    let out = t.dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    let report = out.join("report.json");
    std::fs::write(
        &report,
        r#"{"schema":1,"tool":{"name":"golden-scan"},"image":{"reference":"app","id":"sha256:1"}}"#,
    )
    .unwrap();
    let sbom = out.join("sbom.cdx.json");
    std::fs::write(&sbom, r#"{"bomFormat":"CycloneDX","specVersion":"1.5"}"#).unwrap();
    let build = out.join("build-record.json");
    std::fs::write(
        &build,
        r#"{"schema":1,"id":"app-1-debian","result":"success"}"#,
    )
    .unwrap();
    let record = out.join("push-record.json");
    let host = t.host();
    let mut env = oidc_env(&gh, &entra);
    env.extend([
        (
            "GOLDEN_IMAGE",
            format!("docker-archive:{}", archive.display()),
        ),
        (
            "GOLDEN_ENTRY",
            plan_entry("app-1-debian", &host, "golden/app"),
        ),
        ("GOLDEN_AUTH", "auto".into()),
        (
            "IN_ATTACH",
            format!(
                "{}\n{}\n{}\n",
                report.display(),
                sbom.display(),
                build.display()
            ),
        ),
        ("GOLDEN_RECORD", record.display().to_string()),
        ("IN_MODE", "push".into()),
    ]);
    let run = push_action(&env).await;
    run.ok();

    // The record: valid, strict, one architecture vocabulary, the tags that moved.
    let r = PushRecord::read(&record).unwrap();
    assert_eq!(r.result, PushResult::Success);
    assert_eq!(r.id, "app-1-debian");
    assert_eq!(r.arch, Arch::Amd64);
    assert_eq!(r.registry, host);
    assert_eq!(
        r.tags,
        vec![
            format!("{host}/golden/app:1"),
            format!("{host}/golden/app:1-20260101")
        ]
    );
    assert!(r.tags_not_moved.is_empty());
    let digest = r.digest.clone().unwrap();
    assert_eq!(run.output("digest"), digest);
    assert_eq!(run.output("record"), record.display().to_string());
    let types: Vec<&str> = r
        .referrers
        .iter()
        .map(|x| x.artifact_type.as_str())
        .collect();
    assert_eq!(
        types,
        [
            "application/vnd.golden.scan-report.v1+json",
            "application/vnd.cyclonedx+json",
            "application/vnd.golden.build-record.v1+json"
        ]
    );
    assert_eq!(run.output("attached").lines().count(), 3);
    // The attached report carries the pushed digest.
    let rep: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(rep["image"]["digest"], digest.as_str());

    // Masks on stdout (the runner's command channel), no secret anywhere else.
    // (Taken before the referrers check below, whose own login issues more tokens.)
    let secrets = {
        let s = t.tokens.state.lock().unwrap();
        let mut secrets: Vec<(&str, String)> = vec![
            ("GitHub request token", GH_REQUEST_TOKEN.into()),
            ("GitHub ID token", GH_JWT.into()),
            ("Entra token", ENTRA_TOKEN.into()),
        ];
        secrets.extend(
            s.valid_refresh
                .iter()
                .filter(|r| *r != DOCKER_IDENTITY_TOKEN)
                .map(|r| ("ACR refresh token", r.clone())),
        );
        secrets.extend(
            s.issued
                .iter()
                .map(|a| ("registry access token", a.clone())),
        );
        secrets
    };
    assert!(secrets.len() >= 5, "{secrets:?}");
    let record_text = std::fs::read_to_string(&record).unwrap();
    for (what, secret) in &secrets {
        if *what != "GitHub request token" {
            assert!(
                run.stdout
                    .lines()
                    .any(|l| l == format!("::add-mask::{secret}")),
                "{what} not masked on stdout:\n{}",
                run.stdout
            );
        }
        for line in run.stdout.lines() {
            assert!(
                line.starts_with("::add-mask::") || !line.contains(secret.as_str()),
                "{what} leaked on stdout: {line}"
            );
        }
        for (name, text) in [
            ("stderr", &run.stderr),
            ("GITHUB_OUTPUT", &run.output_file),
            ("the record", &record_text),
        ] {
            assert!(!text.contains(secret.as_str()), "{what} leaked in {name}");
        }
    }

    // The registry has the referrers on the digest.
    let refs = golden_push(
        &[
            "referrers",
            &format!("{host}/golden/app@{digest}"),
            "--format",
            "json",
        ],
        &{
            // `referrers` has no push target: the registry is allowed by name.
            let mut e = oidc_env(&gh, &entra);
            e.push(("GOLDEN_AUTH_HOSTS", host.clone()));
            e
        },
    )
    .await;
    refs.ok();
    let listed: Vec<String> = refs
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["digest"].as_str().unwrap().to_string())
        .collect();
    for x in &r.referrers {
        assert!(listed.contains(&x.digest), "{listed:?} lacks {}", x.digest);
    }
}

/// `golden-push login` writes the credential it uses into a Docker config that another client
/// (skopeo) logs in with; other entries survive; the password is never printed.
#[tokio::test(flavor = "multi_thread")]
async fn registry_login_writes_a_docker_config_other_tools_use() {
    require("htpasswd");
    let dir = tempfile::tempdir().unwrap();
    let htpasswd = dir.path().join("htpasswd");
    let out = Command::new("htpasswd")
        .args(["-Bbn", BASIC.0, BASIC.1])
        .output()
        .unwrap();
    assert!(out.status.success());
    std::fs::write(&htpasswd, &out.stdout).unwrap();
    let reg = Registry::start_with(&["--htpasswd".into(), htpasswd.display().to_string()]);
    let archive = small_archive(dir.path(), "login", "amd64");
    let to = format!("{}/golden/login:1", reg.host());
    let creds = [
        ("GOLDEN_REGISTRY_USERNAME", BASIC.0.to_string()),
        ("GOLDEN_REGISTRY_PASSWORD", BASIC.1.to_string()),
    ];
    golden_push(
        &[
            &format!("docker-archive:{}", archive.display()),
            "--to",
            &to,
        ],
        &creds,
    )
    .await
    .ok();

    let cfg = dir.path().join("docker");
    std::fs::create_dir_all(&cfg).unwrap();
    std::fs::write(
        cfg.join("config.json"),
        r#"{"auths": {"elsewhere.io": {"auth": "eDp5"}}}"#,
    )
    .unwrap();
    let run = golden_push(
        &[
            "login",
            &reg.host(),
            "--docker-config",
            &cfg.display().to_string(),
        ],
        &creds,
    )
    .await;
    run.ok();
    assert!(
        !run.stdout.contains(BASIC.1) && !run.stderr.contains(BASIC.1),
        "the password was printed"
    );
    let file = cfg.join("config.json");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(
        v["auths"]["elsewhere.io"]["auth"], "eDp5",
        "other entries kept"
    );
    use std::os::unix::fs::PermissionsExt as _;
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    // skopeo logs in with that file alone.
    let listed = Command::new("skopeo")
        .args([
            "list-tags",
            "--tls-verify=false",
            "--authfile",
            &file.display().to_string(),
            &format!("docker://{}/golden/login", reg.host()),
        ])
        .output()
        .unwrap();
    assert!(
        listed.status.success(),
        "{}",
        String::from_utf8_lossy(&listed.stderr)
    );
    assert!(String::from_utf8_lossy(&listed.stdout).contains("\"1\""));
    // Without credentials: a clear error, nothing written.
    let none = golden_push(
        &[
            "login",
            &reg.host(),
            "--docker-config",
            &dir.path().join("empty").display().to_string(),
        ],
        &[],
    )
    .await;
    none.failed();
    assert!(
        none.stderr.contains("no credentials were found"),
        "{}",
        none.stderr
    );
    assert!(!dir.path().join("empty/config.json").exists());
    // An access token (GOLDEN_REGISTRY_TOKEN) cannot go into a Docker config: refused with the
    // credentials that can, the token never printed, nothing written.
    let token = "access-token-not-for-docker-config-42";
    let at = golden_push(
        &[
            "login",
            &reg.host(),
            "--docker-config",
            &dir.path().join("token").display().to_string(),
        ],
        &[("GOLDEN_REGISTRY_TOKEN", token.to_string())],
    )
    .await;
    at.failed();
    assert!(
        at.stderr
            .contains("is an access token, which the Docker config cannot hold")
            && at.stderr.contains("GOLDEN_ACR_REFRESH_TOKEN"),
        "{}",
        at.stderr
    );
    assert!(
        !at.stdout.contains(token) && !at.stderr.contains(token),
        "the token was printed"
    );
    assert!(!dir.path().join("token/config.json").exists());
}
