//! The ACR path end to end: a registry in distribution's `auth: token` mode behind a test token
//! service that behaves like ACR (`/oauth2/exchange`: Entra token → refresh token;
//! `/oauth2/token`: refresh token → RS256 JWT the registry verifies), with a fake GitHub OIDC
//! endpoint and a fake Entra ID in the same test server. golden-build gets an ACR refresh token
//! through golden-registry (GitHub OIDC → Entra → exchange) and hands it to the engine as the
//! password of the null-GUID user; the engine then gets its own registry token and pulls.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use sha2::Digest;

use crate::base_pull::{Registry, platform_entry, publish_base, read_json, require};
use crate::common::*;

const ISSUER: &str = "golden-build-test-issuer";
const SERVICE: &str = "golden-build-test-acr";
const TENANT: &str = "tenant-golden-build";
const CLIENT_ID: &str = "6b2f0c2d-0000-4000-8000-00000000b17d";
const GH_REQUEST_TOKEN: &str = "gh-request-token-51e7a0";
const GH_JWT: &str =
    "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOm8vcjpyZWY6cmVmcy9oZWFkcy9tYWluIn0.gh-sig-7d1";
const ENTRA_TOKEN: &str = "entra-access-token-b0a7-5e";
const REFRESH_TOKEN: &str = "acr-refresh-token-9f1c-d2e8-golden";
const NULL_GUID: &str = "00000000-0000-0000-0000-000000000000";

fn b64url(b: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

fn openssl(args: &[&str], stdin: Option<&[u8]>) -> Vec<u8> {
    require("openssl");
    let mut child = Command::new("openssl")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run openssl");
    let mut input = child.stdin.take().expect("stdin");
    if let Some(s) = stdin {
        input.write_all(s).expect("write to openssl");
    }
    drop(input);
    let out = child.wait_with_output().expect("openssl finishes");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// libtrust key id (what distribution looks `kid` up by): base32 of the first 30 bytes of the
/// SHA-256 of the DER public key, in groups of four.
fn libtrust_kid(der: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let hash = sha2::Sha256::digest(der);
    let mut s = String::new();
    let (mut buf, mut bits) = (0u32, 0u32);
    for &x in &hash[..30] {
        buf = (buf << 8) | u32::from(x);
        bits += 8;
        while bits >= 5 {
            s.push(A[((buf >> (bits - 5)) & 31) as usize] as char);
            bits -= 5;
        }
    }
    s.as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(":")
}

/// An RSA key and the self-signed certificate the registry trusts.
struct SigningKey {
    key: PathBuf,
    cert: PathBuf,
    kid: String,
}

impl SigningKey {
    fn generate(dir: &Path) -> SigningKey {
        let key = dir.join("token.key");
        let cert = dir.join("token.crt");
        let (k, c) = (key.display().to_string(), cert.display().to_string());
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
                "/CN=golden-build-test-token",
                "-keyout",
                &k,
                "-out",
                &c,
            ],
            None,
        );
        let der = openssl(&["pkey", "-in", &k, "-pubout", "-outform", "DER"], None);
        SigningKey {
            kid: libtrust_kid(&der),
            key,
            cert,
        }
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

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(v) => {
                        out.push(v);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn form(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn field<'a>(f: &'a [(String, String)], k: &str) -> Option<&'a str> {
    f.iter().find(|(a, _)| a == k).map(|(_, v)| v.as_str())
}

/// One request as the test server saw it.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    fields: Vec<(String, String)>,
    authorization: Option<String>,
    user_agent: String,
}

/// GitHub's OIDC token endpoint, Entra ID and an ACR-like token service on one loopback port.
struct TestServer {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl TestServer {
    fn start(key: SigningKey) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (st, key) = (seen.clone(), Arc::new(key));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let (st, key) = (st.clone(), key.clone());
                std::thread::spawn(move || {
                    let _ = handle(stream, &st, &key);
                });
            }
        });
        TestServer { addr, seen }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("lock").clone()
    }
}

fn handle(stream: TcpStream, seen: &Mutex<Vec<Seen>>, key: &SigningKey) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let target = parts.next().unwrap_or_default().to_string();
    let (mut length, mut authorization, mut user_agent) = (0usize, None, String::new());
    loop {
        let mut h = String::new();
        reader.read_line(&mut h)?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            let v = v.trim().to_string();
            match k.to_ascii_lowercase().as_str() {
                "content-length" => length = v.parse().unwrap_or(0),
                "authorization" => authorization = Some(v),
                "user-agent" => user_agent = v,
                _ => {}
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let fields = if method == "POST" {
        form(&String::from_utf8_lossy(&body))
    } else {
        form(query)
    };
    let req = Seen {
        method: method.clone(),
        path: path.to_string(),
        fields: fields.clone(),
        authorization: authorization.clone(),
        user_agent,
    };
    seen.lock().expect("lock").push(req);
    let (status, body) = answer(&method, path, &fields, authorization.as_deref(), key);
    let mut stream = stream;
    write!(
        stream,
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    stream.flush()
}

/// An ACR-like front on one `host:port`: `/oauth2/*` goes to the token service, everything else
/// to the distribution registry (ACR serves its exchange on the login server, and
/// golden-registry sends the Entra token nowhere else). One request per connection
/// (`Connection: close`), so routing never depends on a reused connection.
fn start_front_at(addr: &str, tokens: SocketAddr, registry: String) -> String {
    let listener = TcpListener::bind(addr).expect("bind the front again");
    let addr = addr.to_string();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let registry = registry.clone();
            std::thread::spawn(move || {
                let _ = front_one(stream, tokens, &registry);
            });
        }
    });
    addr
}

fn front_one(client: TcpStream, tokens: SocketAddr, registry: &str) -> std::io::Result<()> {
    let mut reader = BufReader::new(client.try_clone()?);
    let mut head = String::new();
    reader.read_line(&mut head)?;
    let path = head
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_string();
    let mut length = 0usize;
    loop {
        let mut h = String::new();
        reader.read_line(&mut h)?;
        let t = h.trim_end();
        if t.is_empty() {
            break;
        }
        let lower = t.to_ascii_lowercase();
        if lower.starts_with("connection:") {
            continue;
        }
        if let Some(v) = lower.strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
        head.push_str(t);
        head.push_str("\r\n");
    }
    head.push_str("Connection: close\r\n\r\n");
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let mut upstream = if path.starts_with("/oauth2/") {
        TcpStream::connect(tokens)?
    } else {
        TcpStream::connect(registry)?
    };
    upstream.write_all(head.as_bytes())?;
    upstream.write_all(&body)?;
    let mut client = client;
    std::io::copy(&mut upstream, &mut client)?;
    client.flush()
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn answer(
    method: &str,
    path: &str,
    f: &[(String, String)],
    authorization: Option<&str>,
    key: &SigningKey,
) -> (u16, String) {
    let deny = |code: u16, msg: &str| {
        (
            code,
            serde_json::json!({"errors": [{"code": "UNAUTHORIZED", "message": msg}]}).to_string(),
        )
    };
    let entra_path = format!("/{TENANT}/oauth2/v2.0/token");
    match (method, path) {
        // GitHub: the request token, the audience Entra expects.
        ("GET", "/idtoken") => {
            if authorization != Some(&format!("Bearer {GH_REQUEST_TOKEN}"))
                || field(f, "audience") != Some("api://AzureADTokenExchange")
                || field(f, "api-version") != Some("2.0")
            {
                return deny(403, "github: bad request token or audience");
            }
            (200, serde_json::json!({"value": GH_JWT}).to_string())
        }
        // Entra: the client assertion from GitHub for our client.
        ("POST", p) if p == entra_path => {
            if field(f, "client_id") != Some(CLIENT_ID) {
                return (
                    400,
                    serde_json::json!({"error": "unauthorized_client", "error_description": "AADSTS700016: Application not found in the directory."}).to_string(),
                );
            }
            if field(f, "grant_type") != Some("client_credentials")
                || field(f, "client_assertion") != Some(GH_JWT)
                || field(f, "scope") != Some("https://containerregistry.azure.net/.default")
            {
                return deny(400, "entra: unexpected form");
            }
            (
                200,
                serde_json::json!({"token_type": "Bearer", "expires_in": 3599, "access_token": ENTRA_TOKEN}).to_string(),
            )
        }
        // ACR: Entra token → refresh token.
        ("POST", "/oauth2/exchange") => {
            if field(f, "grant_type") != Some("access_token")
                || field(f, "access_token") != Some(ENTRA_TOKEN)
                || field(f, "tenant") != Some(TENANT)
                || field(f, "service") != Some(SERVICE)
            {
                return deny(401, "exchange refused");
            }
            (
                200,
                serde_json::json!({"refresh_token": REFRESH_TOKEN}).to_string(),
            )
        }
        // ACR: Basic null-GUID:refresh token (what `docker login` with the refresh token and an
        // engine pull send) or the OAuth2 refresh grant → a registry JWT.
        ("GET", "/oauth2/token") | ("POST", "/oauth2/token") => {
            let basic = format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD
                    .encode(format!("{NULL_GUID}:{REFRESH_TOKEN}"))
            );
            let ok = if method == "GET" {
                authorization == Some(basic.as_str())
            } else {
                field(f, "grant_type") == Some("refresh_token")
                    && field(f, "refresh_token") == Some(REFRESH_TOKEN)
            };
            if !ok {
                return deny(401, "invalid credentials");
            }
            if field(f, "service") != Some(SERVICE) {
                return deny(400, "wrong service");
            }
            let access: Vec<serde_json::Value> = f
                .iter()
                .filter(|(k, _)| k == "scope")
                .flat_map(|(_, v)| v.split(' ').map(str::to_string).collect::<Vec<_>>())
                .filter_map(|s| {
                    let parts: Vec<&str> = s.splitn(3, ':').collect();
                    (parts.len() == 3 && parts[0] == "repository").then(|| {
                        serde_json::json!({"type": "repository", "name": parts[1], "actions": parts[2].split(',').collect::<Vec<_>>()})
                    })
                })
                .collect();
            let n = now();
            let jwt = key.sign(&serde_json::json!({
                "iss": ISSUER, "sub": "golden-build-test", "aud": SERVICE,
                "exp": n + 600, "nbf": n - 30, "iat": n, "jti": format!("{n}-{}", access.len()),
                "access": access,
            }));
            (
                200,
                serde_json::json!({"token": jwt, "access_token": jwt, "expires_in": 600})
                    .to_string(),
            )
        }
        _ => (404, r#"{"error":"not found"}"#.to_string()),
    }
}

#[test]
fn registry_acr_like_base_is_pulled_with_github_oidc_and_the_refresh_token() {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = SigningKey::generate(dir.path());
    let cert = key.cert.clone();
    let server = TestServer::start(key);
    // The registry's name is the front's address; its realm is on that same host.
    let front_listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let front_addr = front_listener.local_addr().expect("addr").to_string();
    drop(front_listener);
    let reg = Registry::start_with(&[
        "--token-realm".into(),
        format!("http://{front_addr}/oauth2/token"),
        "--token-issuer".into(),
        ISSUER.into(),
        "--token-cert".into(),
        cert.display().to_string(),
        "--token-service".into(),
        SERVICE.into(),
    ]);
    let front = start_front_at(&front_addr, server.addr, reg.host());
    // Published straight to the registry; pulled through the front (same storage).
    let (digest, base_id) = publish_base(
        &format!("{}/golden/base-busybox:1", reg.host()),
        Some(&format!("{NULL_GUID}:{REFRESH_TOKEN}")),
    );
    let base_ref = format!("{front}/golden/base-busybox:1");
    let mut cleanup = Cleanup::default();
    // The platform is tagged for the same registry: in `auto` mode the Entra methods apply to
    // the image's own registry (and to ACR hosts).
    let tag = format!("{front}/{}", unique_tag("on-acr-base"));
    let entry = platform_entry(dir.path(), "tiny-0.1-busybox", &tag, &base_ref, false);
    cleanup.add(&tag);
    cleanup.add(&base_ref);
    let oidc = |c: &mut Command, client_id: &str| {
        c.env("GOLDEN_ENTRY", &entry)
            .env("DOCKER_CONFIG", dir.path().join("no-docker-config"))
            .env(
                "ACTIONS_ID_TOKEN_REQUEST_URL",
                server.url("/idtoken?api-version=2.0"),
            )
            .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", GH_REQUEST_TOKEN)
            .env("AZURE_CLIENT_ID", client_id)
            .env("AZURE_TENANT_ID", TENANT)
            .env("AZURE_AUTHORITY_HOST", server.url(""))
            .args(["--repo-root", ".", "--record", "record.json"]);
    };
    let secrets = [GH_REQUEST_TOKEN, GH_JWT, ENTRA_TOKEN, REFRESH_TOKEN];

    // An identity Entra does not know: the credential error names the registry and Entra's
    // answer; nothing is pulled.
    let mut c = golden_build(dir.path());
    oidc(&mut c, "11111111-2222-3333-4444-555555555555");
    let out = run(&mut c);
    assert_eq!(out.code, 2, "{}", out.both());
    assert!(
        out.stderr.contains(&format!(
            "failed to get credentials for `{front}` to pull the base image `{base_ref}`"
        )) && out.stderr.contains("AADSTS700016"),
        "{}",
        out.both()
    );
    assert!(inspect(&base_ref).is_none());

    // GitHub OIDC → Entra → ACR refresh token → the engine pulls; in Actions every secret is
    // masked before use and appears nowhere else.
    let out_file = dir.path().join("github-output");
    std::fs::write(&out_file, "").expect("output file");
    let mut c = golden_build(dir.path());
    oidc(&mut c, CLIENT_ID);
    c.env("GITHUB_ACTIONS", "true")
        .env("GITHUB_OUTPUT", &out_file);
    let before = server.seen().len();
    let out = run(&mut c);
    assert_eq!(out.code, 0, "{}", out.both());
    assert!(out.stderr.contains("auth: github-oidc"), "{}", out.both());
    for s in secrets {
        let masked = format!("::add-mask::{s}");
        assert!(
            s != REFRESH_TOKEN || out.stdout.contains(&masked),
            "the refresh token is masked: {}",
            out.both()
        );
        let elsewhere = out.both().replace(&masked, "");
        assert!(!elsewhere.contains(s), "secret printed: {}", out.both());
    }
    let labels = labels_of(&tag);
    assert_eq!(labels["org.opencontainers.image.base.digest"], digest);
    assert_eq!(labels["used-base"], base_id);
    let rec = read_json(&dir.path().join("record.json"));
    assert_eq!(rec["base_digest"].as_str(), Some(digest.as_str()));

    // What the token service saw in that run: one exchange (golden-build), then the engine's
    // own token request with the null-GUID user and the refresh token.
    let seen = server.seen();
    let run_seen = &seen[before..];
    let count = |m: &str, p: &str| {
        run_seen
            .iter()
            .filter(|s| s.method == m && s.path == p)
            .count()
    };
    assert_eq!(count("GET", "/idtoken"), 1, "{run_seen:#?}");
    assert_eq!(count("POST", "/oauth2/exchange"), 1, "{run_seen:#?}");
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{NULL_GUID}:{REFRESH_TOKEN}"))
    );
    let engine_tokens: Vec<&Seen> = run_seen
        .iter()
        .filter(|s| s.path == "/oauth2/token" && s.authorization.as_deref() == Some(&basic))
        .collect();
    assert!(
        !engine_tokens.is_empty()
            && engine_tokens
                .iter()
                .all(|s| s.user_agent.to_ascii_lowercase().contains("docker")),
        "the engine asked for its registry token with the refresh token: {run_seen:#?}"
    );
    assert!(
        engine_tokens.iter().any(|s| {
            s.fields
                .iter()
                .any(|(k, v)| k == "scope" && v == "repository:golden/base-busybox:pull")
        }),
        "{run_seen:#?}"
    );
}
