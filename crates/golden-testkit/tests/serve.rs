//! The `golden-testkit serve` binary as the scenarios use it: settings file, the whole
//! OIDC → Entra → ACR exchange → registry token chain, the GitHub API fake, and the journal.

use std::collections::HashMap;
use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

struct Served {
    child: Child,
    env: HashMap<String, String>,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(dir: &Path) -> Served {
    let child = Command::new(env!("CARGO_BIN_EXE_golden-testkit"))
        .args(["serve", "--dir"])
        .arg(dir)
        .args([
            "--repository",
            "octo/golden",
            "--tenant",
            "t-1",
            "--client-id",
            "c-1",
        ])
        .spawn()
        .expect("start golden-testkit");
    let start = Instant::now();
    let envf = dir.join("env");
    while !envf.exists() {
        assert!(start.elapsed() < Duration::from_secs(20), "no env file");
        std::thread::sleep(Duration::from_millis(50));
    }
    let text = std::fs::read_to_string(envf).expect("env");
    let env = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.trim_matches('\'').to_string()))
        .collect();
    Served { child, env }
}

fn journal(dir: &Path) -> Vec<Value> {
    std::fs::read_to_string(dir.join("requests.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("jsonl"))
        .collect()
}

#[tokio::test]
async fn oidc_entra_exchange_and_token_chain() {
    let dir = tempfile::tempdir().unwrap();
    let s = serve(dir.path());
    let e = &s.env;
    let http = reqwest::Client::new();
    // Without the request token: refused.
    let r = http
        .get(format!(
            "{}&audience=api://AzureADTokenExchange",
            e["ACTIONS_ID_TOKEN_REQUEST_URL"]
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let oidc: Value = http
        .get(format!(
            "{}&audience=api://AzureADTokenExchange",
            e["ACTIONS_ID_TOKEN_REQUEST_URL"]
        ))
        .bearer_auth(&e["ACTIONS_ID_TOKEN_REQUEST_TOKEN"])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let jwt = oidc["value"].as_str().unwrap().to_string();
    let entra_url = format!("{}/t-1/oauth2/v2.0/token", e["AZURE_AUTHORITY_HOST"]);
    let mut form = vec![
        ("client_id", "c-1".to_string()),
        ("grant_type", "client_credentials".to_string()),
        (
            "scope",
            "https://containerregistry.azure.net/.default".to_string(),
        ),
        (
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".to_string(),
        ),
        ("client_assertion", "not-issued-here".to_string()),
    ];
    let r = http.post(&entra_url).form(&form).send().await.unwrap();
    assert_eq!(
        r.status(),
        401,
        "an assertion the kit did not issue is refused"
    );
    form[4].1 = jwt.clone();
    let entra: Value = http
        .post(&entra_url)
        .form(&form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let aad = entra["access_token"].as_str().unwrap().to_string();
    let realm = &e["TOKEN_REALM"];
    let exchange = realm.replace("/oauth2/token", "/oauth2/exchange");
    let ex: Value = http
        .post(&exchange)
        .form(&[
            ("grant_type", "access_token"),
            ("service", "golden-test-registry"),
            ("tenant", "t-1"),
            ("access_token", aad.as_str()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let rt = ex["refresh_token"].as_str().unwrap().to_string();
    let tok: Value = http
        .post(realm)
        .form(&[
            ("grant_type", "refresh_token"),
            ("service", "golden-test-registry"),
            ("scope", "repository:golden/x:pull,push"),
            ("refresh_token", rt.as_str()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access = tok["access_token"].as_str().unwrap().to_string();
    assert_eq!(access.split('.').count(), 3);

    let issued = std::fs::read_to_string(dir.path().join("issued-secrets.txt")).unwrap();
    for sec in [
        &jwt,
        &aad,
        &rt,
        &access,
        &e["ACTIONS_ID_TOKEN_REQUEST_TOKEN"],
        &e["GITHUB_TOKEN"],
    ] {
        assert!(
            issued.lines().any(|l| l == sec.as_str()),
            "not listed: {sec}"
        );
    }
    let j = journal(dir.path());
    let text = serde_json::to_string(&j).unwrap();
    for sec in [&jwt, &aad, &rt, &access] {
        assert!(!text.contains(sec.as_str()), "the journal shows a secret");
    }
    let services: Vec<(&str, bool)> = j
        .iter()
        .map(|x| (x["service"].as_str().unwrap(), x["ok"].as_bool().unwrap()))
        .collect();
    assert_eq!(
        services,
        vec![
            ("oidc", false),
            ("oidc", true),
            ("entra", false),
            ("entra", true),
            ("acr", true),
            ("acr", true)
        ]
    );
}

#[tokio::test]
async fn github_api_issues_comments_and_auth() {
    let dir = tempfile::tempdir().unwrap();
    let s = serve(dir.path());
    let e = &s.env;
    let api = &e["GITHUB_API_URL"];
    let tok = &e["GITHUB_TOKEN"];
    let http = reqwest::Client::new();
    let r = http
        .get(format!("{api}/repos/octo/golden/issues"))
        .bearer_auth("wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // A pull request exists once the scenario sets its head.
    let r = http
        .put(format!("{api}/_testkit/pulls/5"))
        .bearer_auth(&e["GOLDEN_TESTKIT_CONTROL_TOKEN"])
        .json(&json!({"sha": "abc"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let c: Value = http
        .post(format!("{api}/repos/octo/golden/issues/5/comments"))
        .header("authorization", format!("token {tok}"))
        .json(&json!({"body": "hello"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = c["id"].as_u64().unwrap();
    let r = http
        .post(format!("{api}/repos/octo/golden/issues/5/comments"))
        .bearer_auth(tok)
        .json(&json!({"body": "x", "extra": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422, "unexpected fields are refused");
    let r = http
        .patch(format!("{api}/repos/octo/golden/issues/comments/{id}"))
        .bearer_auth(tok)
        .json(&json!({"body": "hello again"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let issue: Value = http
        .post(format!("{api}/repos/octo/golden/issues"))
        .bearer_auth(tok)
        .json(&json!({"title": "nightly failed", "body": "b", "labels": ["golden-nightly"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let n = issue["number"].as_u64().unwrap();
    let open: Value = http
        .get(format!(
            "{api}/repos/octo/golden/issues?state=open&labels=golden-nightly&per_page=100"
        ))
        .bearer_auth(tok)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(open.as_array().unwrap().len(), 1);
    let r = http
        .patch(format!("{api}/repos/octo/golden/issues/{n}"))
        .bearer_auth(tok)
        .json(&json!({"state": "closed", "state_reason": "completed"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let state: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("github.json")).unwrap()).unwrap();
    assert_eq!(state["issues"][0]["state"], "closed");
    assert_eq!(state["comments"][0]["body"], "hello again");
    let bad: Vec<String> = journal(dir.path())
        .iter()
        .filter(|x| x["service"] == "github" && x["ok"] == false)
        .map(|x| x["note"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        bad,
        vec![
            "missing or wrong token".to_string(),
            "unexpected field `extra`".to_string()
        ]
    );
}
