//! Signatures and provenance against a real registry: push --sign-key → verify (0), each
//! tampering → 1 naming the rule, sigstore-js (an independent verifier) accepts the bundles.

use std::path::{Path, PathBuf};

use crate::support::*;

const BUNDLE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
const REPORT: &str = "application/vnd.golden.scan-report.v1+json";

fn report(dir: &Path, name: &str, passed: bool) -> PathBuf {
    let p = dir.join(format!("{name}-report.json"));
    std::fs::write(
        &p,
        serde_json::json!({
            "schema": 1,
            "image": { "name": name },
            "policy": { "policy": "default", "passed": passed, "failures": [] },
        })
        .to_string(),
    )
    .unwrap();
    p
}

async fn keygen(dir: &Path, name: &str) -> (String, String) {
    let key = dir.join(name);
    let run = golden_push(&["keygen", &key.display().to_string()], &[]).await;
    run.ok();
    assert!(
        run.stdout.contains("fingerprint: SHA256:"),
        "{}",
        run.stdout
    );
    assert!(
        !run.stdout.contains("PRIVATE") && !run.stderr.contains("PRIVATE"),
        "keygen never prints the key"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the private key is private");
    }
    (key.display().to_string(), format!("{}.pub", key.display()))
}

fn github_env() -> Vec<(&'static str, String)> {
    vec![
        ("GITHUB_SERVER_URL", "https://github.com".into()),
        ("GITHUB_REPOSITORY", "acme/golden".into()),
        ("GITHUB_REF", "refs/heads/main".into()),
        (
            "GITHUB_SHA",
            "0123456789abcdef0123456789abcdef01234567".into(),
        ),
        (
            "GITHUB_WORKFLOW_REF",
            "acme/golden/.github/workflows/golden-images.yml@refs/heads/main".into(),
        ),
        ("GITHUB_RUN_ID", "42".into()),
    ]
}

/// Push `name` to `repo:tag` with a scan report; signed with `key` when given. The digest.
async fn push(
    reg: &Registry,
    dir: &Path,
    name: &str,
    tag: &str,
    passed: bool,
    sign: &[&str],
) -> String {
    let archive = small_archive(dir, name, "amd64");
    let rep = report(dir, name, passed);
    let mut args = vec![
        "push".to_string(),
        format!("docker-archive:{}", archive.display()),
        "--to".into(),
        format!("{}/golden/signed:{tag}", reg.host()),
        "--attach".into(),
        format!("{}={REPORT}", rep.display()),
    ];
    args.extend(sign.iter().map(|s| s.to_string()));
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = golden_push(&a, &github_env()).await;
    run.ok();
    run.output("digest").to_string()
}

async fn verify(image: &str, extra: &[&str]) -> Run {
    let mut a = vec!["verify", image];
    a.extend_from_slice(extra);
    golden_push(&a, &[]).await
}

fn not_verified(run: &Run, rule: &str) {
    assert_eq!(
        run.status, 1,
        "verify should say not verified (1):\n{}\n{}",
        run.stdout, run.stderr
    );
    assert!(
        run.stdout.contains(&format!("[FAIL] {rule}:")),
        "the failed rule {rule} is named:\n{}",
        run.stdout
    );
    assert!(run.stdout.contains("NOT verified"), "{}", run.stdout);
}

async fn get(url: &str, accept: &str) -> bytes::Bytes {
    let r = reqwest::Client::new()
        .get(url)
        .header("accept", accept)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "GET {url}: {}", r.status());
    r.bytes().await.unwrap()
}

const INDEX: &str = "application/vnd.oci.image.index.v1+json";
const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

/// The referrers index (tag schema: docker-registry 2.8 has no referrers API) of `digest`.
async fn referrers(reg: &Registry, digest: &str) -> serde_json::Value {
    let tag = digest.replace(':', "-");
    let b = get(
        &format!("http://{}/v2/golden/signed/manifests/{tag}", reg.host()),
        INDEX,
    )
    .await;
    serde_json::from_slice(&b).unwrap()
}

async fn put_referrers(reg: &Registry, digest: &str, index: &serde_json::Value) {
    let tag = digest.replace(':', "-");
    let r = reqwest::Client::new()
        .put(format!(
            "http://{}/v2/golden/signed/manifests/{tag}",
            reg.host()
        ))
        .header("content-type", INDEX)
        .body(index.to_string())
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
}

/// Every bundle attached to `digest`, written to files.
async fn bundle_files(reg: &Registry, digest: &str, dir: &Path) -> Vec<PathBuf> {
    let idx = referrers(reg, digest).await;
    let mut out = Vec::new();
    for (i, m) in idx["manifests"].as_array().unwrap().iter().enumerate() {
        if m["artifactType"] != BUNDLE {
            continue;
        }
        let d = m["digest"].as_str().unwrap();
        let man: serde_json::Value = serde_json::from_slice(
            &get(
                &format!("http://{}/v2/golden/signed/manifests/{d}", reg.host()),
                MANIFEST,
            )
            .await,
        )
        .unwrap();
        assert_eq!(man["layers"][0]["mediaType"], BUNDLE);
        let blob = man["layers"][0]["digest"].as_str().unwrap();
        let bytes = get(
            &format!("http://{}/v2/golden/signed/blobs/{blob}", reg.host()),
            "*/*",
        )
        .await;
        let p = dir.join(format!("bundle-{i}.json"));
        std::fs::write(&p, &bytes).unwrap();
        out.push(p);
    }
    out
}

/// sigstore-js on our bundles: required (fails loudly when node or the package is missing).
fn sigstore_js(public: &str, bundles: &[PathBuf]) -> (bool, String) {
    require("node");
    let script = repo_root().join("tests/sigstore-js/verify.js");
    assert!(
        repo_root()
            .join("tests/sigstore-js/node_modules/@sigstore/verify")
            .is_dir(),
        "sigstore-js is not installed: run scripts/setup.sh (npm ci in tests/sigstore-js)"
    );
    let out = std::process::Command::new("node")
        .arg(&script)
        .arg(public)
        .args(bundles)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_ne!(
        out.status.code(),
        Some(2),
        "verify.js usage/install error: {text}"
    );
    (out.status.success(), text)
}

#[tokio::test(flavor = "multi_thread")]
async fn registry_sign_verify_round_trip_tampering_and_sigstore_js() {
    let reg = Registry::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (key, public) = keygen(d, "signing.pem").await;
    let (other_key, other_public) = keygen(d, "other.pem").await;
    let sign = ["--sign-key", key.as_str()];
    let img = |tag: &str| format!("{}/golden/signed:{tag}", reg.host());

    // Round trip: push signs and attaches provenance; verify passes and says what it checked.
    let good = push(&reg, d, "good", "good", true, &sign).await;
    let policy = d.join("policy.yaml");
    std::fs::write(
        &policy,
        "keys: [signing.pem.pub]\nprovenance:\n  source_repository: 'https://github\\.com/acme/golden'\n  source_ref: refs/heads/main\n  builder_id: 'https://github\\.com/acme/golden/\\.github/workflows/golden-images\\.yml@.*'\n",
    )
    .unwrap();
    let ok = verify(&img("good"), &["--policy", &policy.display().to_string()]).await;
    ok.ok();
    for rule in [
        "signature",
        "provenance",
        "provenance.source_repository",
        "provenance.source_ref",
        "provenance.builder_id",
        "scan-report",
    ] {
        assert!(
            ok.stdout.contains(&format!("[ok] {rule}:")),
            "{rule}:\n{}",
            ok.stdout
        );
    }
    assert_eq!(ok.output("verified"), "true");
    assert_eq!(ok.output("digest"), good);
    // By digest and with --key instead of the policy's keys, JSON output.
    let j = verify(
        &format!("{}/golden/signed@{good}", reg.host()),
        &["--key", &public, "--format", "json"],
    )
    .await;
    j.ok();
    assert_eq!(j.json()["verified"], true);

    // The bundles: three referrers (report, signature, provenance), sigstore-js agrees.
    let idx = referrers(&reg, &good).await;
    let types: Vec<&str> = idx["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["artifactType"].as_str().unwrap())
        .collect();
    assert_eq!(types, [REPORT, BUNDLE, BUNDLE]);
    let files = bundle_files(&reg, &good, d).await;
    let (js_ok, text) = sigstore_js(&public, &files);
    assert!(js_ok, "sigstore-js rejects our bundles:\n{text}");
    assert!(
        text.contains("https://sigstore.dev/cosign/sign/v1")
            && text.contains("https://slsa.dev/provenance/v1"),
        "{text}"
    );
    let (js_ok, text) = sigstore_js(&other_public, &files);
    assert!(!js_ok, "sigstore-js must refuse another key:\n{text}");
    // sigstore-js also refuses a bundle whose statement was changed after signing.
    let mut b: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&files[0]).unwrap()).unwrap();
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut st: serde_json::Value = serde_json::from_slice(
        &b64.decode(b["dsseEnvelope"]["payload"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    st["subject"][0]["digest"]["sha256"] = "00".repeat(32).into();
    b["dsseEnvelope"]["payload"] = b64.encode(st.to_string()).into();
    let forged = d.join("forged.json");
    std::fs::write(&forged, b.to_string()).unwrap();
    let (js_ok, text) = sigstore_js(&public, &[forged]);
    assert!(
        !js_ok,
        "sigstore-js must refuse a changed statement:\n{text}"
    );

    // Signing again adds nothing: the signature and the provenance (same reports) are kept.
    // (An empty AZURE_KEYVAULT_KEY_ID, as an action passes an unset input, is no second signer.)
    let again = golden_push(
        &["sign", &img("good"), "--sign-key", &key],
        &[("AZURE_KEYVAULT_KEY_ID", String::new())],
    )
    .await;
    again.ok();
    assert!(
        again.stderr.contains("already signed")
            && again.stderr.contains("already has its signed provenance"),
        "{}",
        again.stderr
    );
    assert_eq!(
        referrers(&reg, &good).await["manifests"]
            .as_array()
            .unwrap()
            .len(),
        3
    );

    // A wrong key.
    let wrong = verify(&img("good"), &["--key", &other_public]).await;
    not_verified(&wrong, "signature");
    assert!(
        wrong.stdout.contains("does not verify with any given key"),
        "{}",
        wrong.stdout
    );

    // A provenance that does not match the policy.
    let strict = d.join("strict.yaml");
    std::fs::write(
        &strict,
        "keys: [signing.pem.pub]\nprovenance:\n  source_ref: refs/heads/release\n",
    )
    .unwrap();
    let run = verify(&img("good"), &["--policy", &strict.display().to_string()]).await;
    not_verified(&run, "provenance.source_ref");
    assert!(run.stdout.contains("[ok] signature:"), "{}", run.stdout);

    // push --verify-policy: a digest that does not pass gets no tag; one that passes does.
    let archive = small_archive(d, "gated", "amd64");
    let rep = report(d, "gated", true);
    let gated = |policy: &Path| {
        vec![
            "push".to_string(),
            format!("docker-archive:{}", archive.display()),
            "--to".into(),
            img("gated"),
            "--attach".into(),
            format!("{}={REPORT}", rep.display()),
            "--sign-key".into(),
            key.clone(),
            "--verify-policy".into(),
            policy.display().to_string(),
        ]
    };
    let args = gated(&strict);
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = golden_push(&a, &github_env()).await;
    run.failed();
    assert!(
        run.stderr.contains("does not pass the verify policy")
            && run.stderr.contains("provenance.source_ref")
            && run.stderr.contains("no tag was moved"),
        "{}",
        run.stderr
    );
    let tag_url = format!("http://{}/v2/golden/signed/manifests/gated", reg.host());
    assert_eq!(
        reqwest::get(&tag_url).await.unwrap().status(),
        404,
        "no tag after a failed verification"
    );
    let args = gated(&policy);
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = golden_push(&a, &github_env()).await;
    run.ok();
    assert!(run.stderr.contains("verified "), "{}", run.stderr);

    // A changed manifest: the tag now points at another (unsigned) image.
    push(&reg, d, "changed", "good", true, &[]).await;
    not_verified(
        &verify(&img("good"), &["--key", &public]).await,
        "signature",
    );
    // The original digest still verifies.
    verify(
        &format!("{}/golden/signed@{good}", reg.host()),
        &["--key", &public],
    )
    .await
    .ok();

    // A missing provenance.
    let bare = push(
        &reg,
        d,
        "bare",
        "bare",
        true,
        &["--sign-key", &key, "--provenance=false"],
    )
    .await;
    let run = verify(&img("bare"), &["--key", &public]).await;
    not_verified(&run, "provenance");
    assert!(run.stdout.contains("[ok] signature:"), "{}", run.stdout);
    assert!(!bare.is_empty());

    // A failed scan report, signed.
    push(&reg, d, "failing", "failing", false, &sign).await;
    let run = verify(&img("failing"), &["--key", &public]).await;
    not_verified(&run, "scan-report");
    assert!(run.stdout.contains("failed its policy"), "{}", run.stdout);

    // A replaced scan report referrer: another (passing) report attached, the original taken
    // out of the referrers index.
    let rep = push(&reg, d, "replaced", "replaced", true, &sign).await;
    let forged_report = report(d, "forged", true);
    golden_push(
        &[
            "attach",
            &img("replaced"),
            &forged_report.display().to_string(),
            "--artifact-type",
            REPORT,
        ],
        &[],
    )
    .await
    .ok();
    let mut idx = referrers(&reg, &rep).await;
    let first_report = idx["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .position(|m| m["artifactType"] == REPORT)
        .unwrap();
    idx["manifests"]
        .as_array_mut()
        .unwrap()
        .remove(first_report);
    put_referrers(&reg, &rep, &idx).await;
    let run = verify(&img("replaced"), &["--key", &public]).await;
    not_verified(&run, "scan-report");
    assert!(run.stdout.contains("unsigned:"), "{}", run.stdout);

    // A replaced signature referrer: signed again by another key, ours taken out.
    let sig = push(&reg, d, "resigned", "resigned", true, &sign).await;
    let mut idx = referrers(&reg, &sig).await;
    idx["manifests"]
        .as_array_mut()
        .unwrap()
        .retain(|m| m["artifactType"] != BUNDLE);
    put_referrers(&reg, &sig, &idx).await;
    golden_push(
        &["sign", &img("resigned"), "--sign-key", &other_key],
        &github_env(),
    )
    .await
    .ok();
    let run = verify(&img("resigned"), &["--key", &public]).await;
    not_verified(&run, "signature");
    not_verified(&run, "provenance");

    // Usage errors are 2: no key, a bad policy.
    let run = verify(&img("good"), &[]).await;
    run.failed();
    assert!(run.stderr.contains("--key PUB"), "{}", run.stderr);
    let bad = d.join("bad.yaml");
    std::fs::write(&bad, "provenance:\n  source_repo: x\n").unwrap();
    let run = verify(
        &img("good"),
        &["--key", &public, "--policy", &bad.display().to_string()],
    )
    .await;
    run.failed();
    assert!(
        run.stderr.contains("bad.yaml") && run.stderr.contains("source_repo"),
        "{}",
        run.stderr
    );
    // keygen never overwrites.
    let run = golden_push(&["keygen", &key], &[]).await;
    run.failed();
}

/// A multi-arch index: each platform pushed signed with its report, the index signed by
/// `index --records --sign-key`; verify checks the index's signature and provenance and each
/// platform's signed scan report.
#[tokio::test(flavor = "multi_thread")]
async fn registry_signed_index_verifies_and_a_failing_platform_report_fails_it() {
    let reg = Registry::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (key, public) = keygen(d, "k.pem").await;
    let mut records = Vec::new();
    for (arch, passed) in [("amd64", true), ("arm64", true), ("arm64", false)] {
        let sub = d.join(format!("{arch}-{passed}"));
        std::fs::create_dir_all(&sub).unwrap();
        // Another name for the failing one: another image (the same bytes would be the same
        // digest, whose signed reports then include the failing one).
        let name = format!("multi-{arch}-{passed}");
        let archive = small_archive(&sub, &name, arch);
        let rep = report(&sub, &name, passed);
        let record = sub.join("push-record.json");
        let to = format!(
            "{}/golden/signed:{}",
            reg.host(),
            if passed { "multi" } else { "bad" }
        );
        golden_push(
            &[
                "push",
                &format!("docker-archive:{}", archive.display()),
                "--to",
                &to,
                "--arch-suffix",
                arch,
                "--attach",
                &format!("{}={REPORT}", rep.display()),
                "--sign-key",
                &key,
                "--record",
                &record.display().to_string(),
            ],
            &[],
        )
        .await
        .ok();
        records.push(record);
    }
    let index = |recs: &[&PathBuf]| {
        let mut a = vec![
            "index".to_string(),
            "--expect-arch".into(),
            "amd64,arm64".into(),
            "--sign-key".into(),
            key.clone(),
        ];
        for r in recs {
            a.push("--records".into());
            a.push(r.display().to_string());
        }
        a
    };
    let args = index(&[&records[0], &records[1]]);
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    golden_push(&a, &[]).await.ok();
    let run = verify(
        &format!("{}/golden/signed:multi", reg.host()),
        &["--key", &public],
    )
    .await;
    run.ok();
    assert!(
        run.stdout.contains("linux/amd64: signed scan report")
            && run.stdout.contains("linux/arm64: signed scan report"),
        "{}",
        run.stdout
    );

    // The same amd64 image with an arm64 whose signed report failed.
    let mut bad = std::fs::read_to_string(&records[0]).unwrap();
    bad = bad.replace(":multi", ":bad");
    let amd = d.join("amd64-bad-record.json");
    std::fs::write(&amd, bad).unwrap();
    let args = index(&[&amd, &records[2]]);
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    golden_push(&a, &[]).await.ok();
    let run = verify(
        &format!("{}/golden/signed:bad", reg.host()),
        &["--key", &public],
    )
    .await;
    not_verified(&run, "scan-report");
    assert!(
        run.stdout.contains("linux/arm64: the signed scan report")
            && run.stdout.contains("failed its policy"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("[ok] signature:"), "{}", run.stdout);
}

mod keyvault {
    //! Azure Key Vault signing with fakes of GitHub's OIDC endpoint, Entra ID and Key Vault
    //! (wiremock; the vault holds a real P-256 key and signs the digest it is sent), asserting
    //! the requests: the Entra scope, the bearer token, `alg` ES256 and a sha256 `value`.

    use std::sync::{Arc, Mutex};

    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use wiremock::matchers::{body_string_contains, header, method, path, query_param};
    use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

    use super::*;

    const TENANT: &str = "tenant-kv-1";
    const CLIENT_ID: &str = "0c1d2e3f-0000-4000-8000-00000000abcd";
    const GH_REQUEST_TOKEN: &str = "gh-request-token-kv-77";
    const GH_JWT: &str = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOmFjbWUvZ29sZGVuIn0.gh-sig-kv";
    const KV_TOKEN: &str = "entra-vault-token-5e11";

    /// Signs the sha256 it is sent, after checking the request body's shape.
    struct Vault {
        key: EcdsaKeyPair,
        kid: String,
        seen: Arc<Mutex<Vec<serde_json::Value>>>,
    }

    impl Respond for Vault {
        fn respond(&self, req: &Request) -> ResponseTemplate {
            let body: serde_json::Value = match serde_json::from_slice(&req.body) {
                Ok(b) => b,
                Err(_) => return ResponseTemplate::new(400),
            };
            self.seen.lock().unwrap().push(body.clone());
            let Some(digest) = body["value"]
                .as_str()
                .and_then(|v| URL_SAFE_NO_PAD.decode(v).ok())
                .filter(|d| d.len() == 32 && body["alg"] == "ES256")
            else {
                return ResponseTemplate::new(400)
                    .set_body_json(serde_json::json!({"error": {"code": "BadParameter"}}));
            };
            let d =
                aws_lc_rs::digest::Digest::import_less_safe(&digest, &aws_lc_rs::digest::SHA256)
                    .unwrap();
            let sig = self.key.sign_digest(&d).unwrap();
            ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "kid": self.kid,
                "value": URL_SAFE_NO_PAD.encode(sig.as_ref()),
            }))
        }
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn registry_keyvault_signs_through_the_rest_sign_operation() {
        let reg = Registry::start();
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();

        let gh = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/idtoken"))
            .and(query_param("audience", "api://AzureADTokenExchange"))
            .and(header(
                "authorization",
                format!("Bearer {GH_REQUEST_TOKEN}").as_str(),
            ))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(serde_json::json!({"value": GH_JWT})),
            )
            .expect(1)
            .mount(&gh)
            .await;
        let entra = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path(format!("/{TENANT}/oauth2/v2.0/token")))
            .and(body_string_contains("scope=https%3A%2F%2Fvault.azure.net%2F.default"))
            .and(body_string_contains(format!("client_assertion={GH_JWT}").as_str()))
            .and(body_string_contains(format!("client_id={CLIENT_ID}").as_str()))
            .and(body_string_contains("grant_type=client_credentials"))
            .respond_with(ResponseTemplate::new(200).set_body_json(
                serde_json::json!({"token_type": "Bearer", "expires_in": 3599, "access_token": KV_TOKEN}),
            ))
            .expect(1)
            .mount(&entra)
            .await;

        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let key =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref()).unwrap();
        let point = key.public_key().as_ref().to_vec();
        let kv = MockServer::start().await;
        let kid = format!("{}/keys/golden/v1", kv.uri());
        Mock::given(method("GET"))
            .and(path("/keys/golden"))
            .and(query_param("api-version", "7.4"))
            .and(header(
                "authorization",
                format!("Bearer {KV_TOKEN}").as_str(),
            ))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "key": {
                    "kid": kid, "kty": "EC", "crv": "P-256", "key_ops": ["sign", "verify"],
                    "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
                    "y": URL_SAFE_NO_PAD.encode(&point[33..]),
                },
            })))
            .expect(1)
            .mount(&kv)
            .await;
        let seen = Arc::new(Mutex::new(Vec::new()));
        Mock::given(method("POST"))
            .and(path("/keys/golden/v1/sign"))
            .and(query_param("api-version", "7.4"))
            .and(header(
                "authorization",
                format!("Bearer {KV_TOKEN}").as_str(),
            ))
            .respond_with(Vault {
                key,
                kid: kid.clone(),
                seen: seen.clone(),
            })
            .expect(2)
            .mount(&kv)
            .await;

        let mut env = github_env();
        env.extend([
            ("AZURE_CLIENT_ID", CLIENT_ID.to_string()),
            ("AZURE_TENANT_ID", TENANT.to_string()),
            ("AZURE_AUTHORITY_HOST", entra.uri()),
            (
                "ACTIONS_ID_TOKEN_REQUEST_URL",
                format!("{}/idtoken", gh.uri()),
            ),
            (
                "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
                GH_REQUEST_TOKEN.to_string(),
            ),
            ("AZURE_KEYVAULT_KEY_ID", format!("{}/keys/golden", kv.uri())),
            ("GOLDEN_AUTH", "anonymous".to_string()),
        ]);
        let archive = small_archive(d, "vault", "amd64");
        let rep = report(d, "vault", true);
        let run = golden_push(
            &[
                "push",
                &format!("docker-archive:{}", archive.display()),
                "--to",
                &format!("{}/golden/signed:vault", reg.host()),
                "--attach",
                &format!("{}={REPORT}", rep.display()),
            ],
            &env,
        )
        .await;
        run.ok();
        for secret in [KV_TOKEN, GH_JWT, GH_REQUEST_TOKEN] {
            assert!(
                !run.stdout.contains(secret) && !run.stderr.contains(secret),
                "a token was printed"
            );
        }
        let digest = run.output("digest").to_string();
        let calls = seen.lock().unwrap().clone();
        assert_eq!(
            calls.len(),
            2,
            "one sign call for the signature, one for the provenance: {calls:?}"
        );

        // The vault's public key verifies everything, with golden-push and with sigstore-js.
        let mut spki = vec![
            0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06,
            0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
        ];
        spki.extend(&point);
        let public = d.join("vault.pub");
        std::fs::write(
            &public,
            golden_push::sign::PublicKey::from_spki(spki, "vault")
                .unwrap()
                .to_pem(),
        )
        .unwrap();
        let public = public.display().to_string();
        verify(
            &format!("{}/golden/signed:vault", reg.host()),
            &["--key", &public],
        )
        .await
        .ok();
        let files = bundle_files(&reg, &digest, d).await;
        assert_eq!(files.len(), 2);
        // Each sign call carried the sha256 of one bundle's DSSE pre-authentication encoding.
        let b64 = base64::engine::general_purpose::STANDARD;
        for f in &files {
            let b: serde_json::Value = serde_json::from_slice(&std::fs::read(f).unwrap()).unwrap();
            let payload = b64
                .decode(b["dsseEnvelope"]["payload"].as_str().unwrap())
                .unwrap();
            let pae = golden_push::sign::bundle::pae("application/vnd.in-toto+json", &payload);
            let want = URL_SAFE_NO_PAD
                .encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &pae).as_ref());
            assert!(
                calls.iter().any(|c| c["value"] == want.as_str()),
                "no sign call for {}",
                f.display()
            );
        }
        let (ok, text) = sigstore_js(&public, &files);
        assert!(ok, "sigstore-js rejects the Key Vault bundles:\n{text}");
    }
}

/// Keyless bundles (a certificate instead of a key hint) against a locally generated CA (the
/// openssl CLI) as the trusted root: a leaf whose SAN is a GitHub workflow URI and whose Fulcio
/// issuer extension names GitHub's OIDC issuer. Policy match → 0; another subject, another
/// issuer, another root, an expired certificate → 1 naming `signature`.
#[tokio::test(flavor = "multi_thread")]
async fn registry_keyless_certificate_identity_and_trusted_root() {
    use base64::Engine;
    require("openssl");
    let reg = Registry::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let sh = |script: &str| {
        let out = std::process::Command::new("sh")
            .arg("-ec")
            .arg(script)
            .current_dir(d)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{script}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    const ISSUER: &str = "https://token.actions.githubusercontent.com";
    const SAN: &str =
        "https://github.com/acme/golden/.github/workflows/golden-images.yml@refs/heads/main";
    sh(&format!(
        "for ca in ca other; do
           openssl ecparam -name prime256v1 -genkey -noout | openssl pkcs8 -topk8 -nocrypt -out $ca.key
           openssl req -x509 -new -key $ca.key -subj /CN=golden-test-$ca -days 2 -addext basicConstraints=critical,CA:TRUE -out $ca.pem
         done
         openssl ecparam -name prime256v1 -genkey -noout | openssl pkcs8 -topk8 -nocrypt -out leaf.key
         openssl req -new -key leaf.key -subj /CN=leaf -out leaf.csr
         printf '%s\\n' 'subjectAltName=URI:{SAN}' '1.3.6.1.4.1.57264.1.8=ASN1:UTF8String:{ISSUER}' 'extendedKeyUsage=codeSigning' > ext
         openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 -extfile ext -out leaf.pem
         mkdir db && : > db/index.txt && echo 01 > db/serial
         printf '%s\\n' '[ca]' 'default_ca=d' '[d]' 'database=db/index.txt' 'new_certs_dir=db' 'serial=db/serial' 'default_md=sha256' 'policy=p' '[p]' 'commonName=supplied' > ca.cnf
         openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -in leaf.csr -out expired.pem -startdate 20200101000000Z -enddate 20200102000000Z -extfile ext -notext 2>/dev/null"
    ));
    let der = |pem: &str| {
        let text = std::fs::read_to_string(d.join(pem)).unwrap();
        let b64: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
        b64
    };
    let key = golden_push::sign::LocalKey::read(&d.join("leaf.key")).unwrap();
    let signer = golden_push::sign::KeySigner::new(key, "leaf");
    // Push two images, attach a keyless signature bundle to each (valid / expired certificate).
    let mut refs = Vec::new();
    for (tag, cert) in [("keyless", "leaf.pem"), ("expired", "expired.pem")] {
        let digest = push(&reg, d, tag, tag, true, &[]).await;
        let st = golden_push::sign::Statement::new(
            &format!("{}/golden/signed", reg.host()),
            &digest,
            golden_push::sign::SIGNATURE_PREDICATE,
            serde_json::json!({}),
        );
        let mut b = golden_push::sign::bundle::sign_statement(&signer, &st)
            .await
            .unwrap();
        b.verification_material.public_key = None;
        b.verification_material.certificate = Some(golden_push::sign::bundle::RawBytes {
            raw_bytes: base64::engine::general_purpose::STANDARD.encode(
                base64::engine::general_purpose::STANDARD
                    .decode(der(cert))
                    .unwrap(),
            ),
        });
        let f = d.join(format!("{tag}.bundle.json"));
        std::fs::write(&f, serde_json::to_vec(&b).unwrap()).unwrap();
        golden_push(
            &[
                "attach",
                &format!("{}/golden/signed@{digest}", reg.host()),
                &f.display().to_string(),
                "--artifact-type",
                BUNDLE,
                "--media-type",
                BUNDLE,
            ],
            &[],
        )
        .await
        .ok();
        refs.push(format!("{}/golden/signed:{tag}", reg.host()));
    }
    let policy = |name: &str, issuer: &str, subject: &str, root: &str| {
        let p = d.join(name);
        std::fs::write(
            &p,
            format!(
                "identity:\n  issuer: '{issuer}'\n  subject: '{subject}'\n  trusted_root: {root}\nprovenance:\n  required: false\nscan_report:\n  required: false\n"
            ),
        )
        .unwrap();
        p.display().to_string()
    };
    let subject_re =
        r"https://github\.com/acme/golden/\.github/workflows/golden-images\.yml@refs/heads/main";
    let good = policy("good.yaml", ISSUER, subject_re, "ca.pem");
    let run = verify(&refs[0], &["--policy", &good]).await;
    run.ok();
    assert!(
        run.stdout.contains(&format!("signed by {SAN}")),
        "{}",
        run.stdout
    );
    for (name, issuer, subject, root, why) in [
        (
            "subject.yaml",
            ISSUER,
            r"https://github\.com/acme/golden/\.github/workflows/release\.yml@.*",
            "ca.pem",
            "does not match",
        ),
        (
            "issuer.yaml",
            "https://accounts.google.com",
            subject_re,
            "ca.pem",
            "issuer is",
        ),
        (
            "root.yaml",
            ISSUER,
            subject_re,
            "other.pem",
            "not issued by the trusted root",
        ),
    ] {
        let p = policy(name, issuer, subject, root);
        let run = verify(&refs[0], &["--policy", &p]).await;
        not_verified(&run, "signature");
        assert!(run.stdout.contains(why), "{name}: {}", run.stdout);
    }
    let run = verify(&refs[1], &["--policy", &good]).await;
    not_verified(&run, "signature");
    assert!(run.stdout.contains("expired"), "{}", run.stdout);
    // A keyless bundle without an identity in the policy is not trusted by a key.
    let (_, public) = keygen(d, "k.pem").await;
    let run = verify(&refs[0], &["--key", &public]).await;
    not_verified(&run, "signature");
    assert!(run.stdout.contains("no `identity`"), "{}", run.stdout);
}
