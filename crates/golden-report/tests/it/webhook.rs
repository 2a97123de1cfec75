//! Alerts to people (issue 21): fake Teams, Slack and json receivers on 127.0.0.1 (wiremock)
//! that record what they receive; the real binary sends, deduplicates, recovers and retries.

use golden_contracts::Document;
use golden_report::summary::{ProblemKind, ProblemSeverity, RunSummary};
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use std::path::{Path, PathBuf};
use std::process::Output;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::fixtures::{green, write_set};

const SECRET: &str = "hmac-key-s3cr3t-value";
const RUN_URL: &str = "https://github.com/octo-org/golden/actions/runs/4242";
const CATALOG: &str = "https://octo-org.github.io/golden/catalog/";

/// A receiver whose URL path is a secret token (as Slack's and Teams' are).
struct Receiver {
    server: MockServer,
    token: String,
}

impl Receiver {
    async fn start(name: &str, status: u16) -> Self {
        let server = MockServer::start().await;
        let token = format!("T0{name}/B0SECRETPATH{name}/xoxsecret{name}");
        Mock::given(method("POST"))
            .and(path(format!("/hooks/{token}")))
            .respond_with(ResponseTemplate::new(status))
            .mount(&server)
            .await;
        Receiver { server, token }
    }
    fn url(&self) -> String {
        format!("{}/hooks/{}?sig=querysecret", self.server.uri(), self.token)
    }
    fn host(&self) -> String {
        self.server.uri().trim_start_matches("http://").to_string()
    }
    async fn received(&self) -> Vec<Request> {
        self.server.received_requests().await.unwrap()
    }
}

fn failing_set(dir: &Path) {
    let mut imgs = green();
    imgs[1].build_ok = false;
    write_set(dir, &imgs);
}

struct Run {
    input: PathBuf,
    out: PathBuf,
    state: PathBuf,
}

async fn run(r: &Run, env: &[(&str, String)]) -> Output {
    let mut c = tokio::process::Command::new(env!("CARGO_BIN_EXE_golden-report"));
    c.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("GITHUB_SERVER_URL", "https://github.com")
        .env("GITHUB_REPOSITORY", "octo-org/golden")
        .env("GITHUB_RUN_ID", "4242")
        .env("GOLDEN_INPUT", &r.input)
        .env("GOLDEN_OUTPUT", &r.out)
        .env("GOLDEN_NO_JOB_SUMMARY", "true")
        .env("GOLDEN_ALERT_STATE", &r.state)
        .env("GOLDEN_CATALOG_URL", CATALOG);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().await.unwrap()
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Every `::` line is a well-formed workflow command the runner knows, and no secret appears
/// outside `add-mask` commands (which the runner consumes and never shows).
fn assert_clean(o: &Output, secrets: &[&str]) {
    let (out, err) = text(o);
    for stream in [&out, &err] {
        for line in stream.lines() {
            if line.trim_start().starts_with("::") {
                let (name, _, _) = golden_gha::runner_log::parse_line(line)
                    .unwrap_or_else(|| panic!("malformed workflow command {line:?}"));
                assert!(
                    [
                        "warning",
                        "notice",
                        "error",
                        "add-mask",
                        "group",
                        "endgroup",
                        "stop-commands"
                    ]
                    .contains(&name.as_str())
                        || golden_gha::runner_log::commands(stream)
                            .iter()
                            .any(|c| c.name == "stop-commands" && c.data == name),
                    "unexpected command {line:?}"
                );
                if name == "add-mask" {
                    continue;
                }
            }
            for s in secrets {
                assert!(!line.contains(s), "secret {s:?} printed: {line:?}");
            }
        }
    }
}

fn body(r: &Request) -> Value {
    serde_json::from_slice(&r.body).unwrap()
}

fn header<'a>(r: &'a Request, name: &str) -> &'a str {
    r.headers
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
}

#[tokio::test]
async fn teams_slack_and_json_are_sent_once_per_change_signed_and_recover() {
    let json_rx = Receiver::start("json", 200).await;
    let slack = Receiver::start("slack", 200).await;
    let teams = Receiver::start("teams", 202).await;
    let d = tempfile::tempdir().unwrap();
    let r = Run {
        input: d.path().join("failing"),
        out: d.path().join("out"),
        state: d.path().join("state").join("alert-state.json"),
    };
    failing_set(&r.input);
    let env = vec![
        (
            "GOLDEN_WEBHOOK_URL",
            format!("{}\n{}\n{}\n", json_rx.url(), slack.url(), teams.url()),
        ),
        ("GOLDEN_WEBHOOK_KIND", "json,slack,teams".to_string()),
        ("GOLDEN_WEBHOOK_SECRET", SECRET.to_string()),
        ("GITHUB_ACTIONS", "true".to_string()),
    ];
    let secrets = [
        json_rx.token.as_str(),
        slack.token.as_str(),
        teams.token.as_str(),
        "querysecret",
        SECRET,
    ];

    // 1. Failing, no state file (= green before): one message to each.
    let o = run(&r, &env).await;
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    assert_clean(&o, &secrets);
    // Each full URL and the secret are masked before use.
    let masked: Vec<String> = golden_gha::runner_log::commands(&text(&o).0)
        .into_iter()
        .filter(|c| c.name == "add-mask")
        .map(|c| c.data)
        .collect();
    for want in [json_rx.url(), slack.url(), teams.url(), SECRET.to_string()] {
        assert!(masked.contains(&want), "{want} not masked: {masked:?}");
    }
    let got = json_rx.received().await;
    assert_eq!(got.len(), 1);
    let req = &got[0];
    assert_eq!(req.method.as_str(), "POST");
    assert_eq!(header(req, "content-type"), "application/json");
    assert_eq!(header(req, "x-golden-event"), "failing");
    assert!(header(req, "x-golden-delivery").len() >= 32);
    // The signature, verified here over the exact bytes received.
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(&req.body);
    let want = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    assert_eq!(header(req, "x-golden-signature-256"), want);
    let b = body(req);
    assert_eq!(b["schema"], 1);
    assert_eq!(b["status"], "failing");
    assert_eq!(b["run"]["url"], RUN_URL);
    assert_eq!(b["run"]["repository"], "octo-org/golden");
    assert_eq!(b["catalog_url"], CATALOG);
    let failures = b["failures"].as_array().unwrap();
    assert_eq!(failures.len(), 1, "{b:#}");
    assert_eq!(failures[0]["image"], "nginx-1.26-debian");
    assert_eq!(failures[0]["status"], "build_failed");
    assert!(
        failures[0]["reason"]
            .as_str()
            .unwrap()
            .contains("returned a non-zero code: 100"),
        "{b:#}"
    );
    assert_eq!(b["regressions"], serde_json::json!([]));

    let got = slack.received().await;
    assert_eq!(got.len(), 1);
    assert_eq!(header(&got[0], "content-type"), "application/json");
    assert!(got[0].headers.get("x-golden-signature-256").is_none());
    let s = body(&got[0]);
    assert!(s["text"].as_str().unwrap().contains("1 failed"), "{s:#}");
    let blocks = s["blocks"].as_array().unwrap();
    let types: Vec<_> = blocks.iter().map(|x| x["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["header", "section", "context"]);
    assert_eq!(blocks[0]["text"]["type"], "plain_text");
    assert_eq!(blocks[1]["text"]["type"], "mrkdwn");
    assert!(
        blocks[1]["text"]["text"]
            .as_str()
            .unwrap()
            .contains("nginx-1.26-debian: build failed"),
        "{s:#}"
    );
    assert_eq!(
        blocks[2]["elements"][0]["text"],
        format!("<{RUN_URL}|Run> · <{CATALOG}|Catalog>")
    );

    let got = teams.received().await;
    assert_eq!(got.len(), 1);
    let t = body(&got[0]);
    assert_eq!(t["type"], "message");
    let att = &t["attachments"][0];
    assert_eq!(
        att["contentType"],
        "application/vnd.microsoft.card.adaptive"
    );
    assert_eq!(att["content"]["type"], "AdaptiveCard");
    assert_eq!(att["content"]["version"], "1.4");
    assert_eq!(att["content"]["body"][0]["type"], "TextBlock");
    assert!(
        att["content"]["body"][1]["text"]
            .as_str()
            .unwrap()
            .contains("nginx-1.26-debian: build failed"),
        "{t:#}"
    );
    assert_eq!(att["content"]["actions"][0]["url"], RUN_URL);
    assert_eq!(att["content"]["actions"][1]["url"], CATALOG);

    let state: Value = serde_json::from_str(&std::fs::read_to_string(&r.state).unwrap()).unwrap();
    assert_eq!(state["status"], "failing");
    assert_eq!(
        state["items"],
        serde_json::json!(["image:nginx-1.26-debian:build_failed"])
    );

    // 2. The same failure again: nothing sent, and the log says why.
    let o = run(&r, &env).await;
    assert_eq!(o.status.code(), Some(0));
    assert!(
        text(&o).1.contains("failure state unchanged"),
        "{:?}",
        text(&o)
    );
    for rx in [&json_rx, &slack, &teams] {
        assert_eq!(rx.received().await.len(), 1);
    }

    // 3. A changed failure (a second image fails): sent again.
    let mut imgs = green();
    imgs[1].build_ok = false;
    imgs[2].build_ok = false;
    let changed = d.path().join("changed");
    write_set(&changed, &imgs);
    let r2 = Run {
        input: changed,
        out: r.out.clone(),
        state: r.state.clone(),
    };
    run(&r2, &env).await;
    let got = json_rx.received().await;
    assert_eq!(got.len(), 2);
    assert_eq!(body(&got[1])["failures"].as_array().unwrap().len(), 2);

    // 4. All green: one `recovered` message; 5. green again: nothing.
    let g = Run {
        input: d.path().join("green"),
        out: r.out.clone(),
        state: r.state.clone(),
    };
    write_set(&g.input, &green());
    let o = run(&g, &env).await;
    assert_clean(&o, &secrets);
    let got = json_rx.received().await;
    assert_eq!(got.len(), 3);
    assert_eq!(header(&got[2], "x-golden-event"), "recovered");
    let b = body(&got[2]);
    assert_eq!(b["status"], "recovered");
    assert_eq!(b["failures"], serde_json::json!([]));
    assert!(
        body(&slack.received().await[2])["text"]
            .as_str()
            .unwrap()
            .contains("recovered")
    );
    run(&g, &env).await;
    for rx in [&json_rx, &slack, &teams] {
        assert_eq!(rx.received().await.len(), 3);
    }
}

#[tokio::test]
async fn a_receiver_failing_three_times_is_a_warning_and_a_problem_and_is_retried_next_run() {
    let bad = Receiver::start("bad", 500).await;
    let d = tempfile::tempdir().unwrap();
    let r = Run {
        input: d.path().join("failing"),
        out: d.path().join("out"),
        state: d.path().join("alert-state.json"),
    };
    failing_set(&r.input);
    let env = vec![
        ("GOLDEN_WEBHOOK_URL", bad.url()),
        ("GITHUB_ACTIONS", "true".to_string()),
    ];
    let o = run(&r, &env).await;
    // The exit code is the one without webhooks (0: no --fail-on-failure).
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    assert_clean(&o, &[bad.token.as_str(), "querysecret"]);
    assert_eq!(bad.received().await.len(), 3);
    let (out, _) = text(&o);
    let warnings: Vec<_> = golden_gha::runner_log::commands(&out)
        .into_iter()
        .filter(|c| c.name == "warning")
        .collect();
    assert!(
        warnings.iter().any(
            |w| w.data.contains(&format!("json webhook at {}", bad.host()))
                && w.data.contains("after 3 attempts (HTTP 500)")
        ),
        "{warnings:?}"
    );
    let s = RunSummary::read(&r.out.join("summary.json")).unwrap();
    let p: Vec<_> = s
        .problems
        .iter()
        .filter(|p| p.kind == ProblemKind::Webhook)
        .collect();
    assert_eq!(p.len(), 1, "{:#?}", s.problems);
    assert_eq!(p[0].severity, ProblemSeverity::Warning);
    assert!(p[0].message.contains(&bad.host()));
    // Nothing recorded: the next run sends again.
    assert!(!r.state.exists());
    let o = run(&r, &env).await;
    assert_eq!(bad.received().await.len(), 6);
    // With --fail-on-failure the exit code is still the report's own (1 for the failed build),
    // not changed by the webhook.
    let mut env2 = env.clone();
    env2.push(("GOLDEN_FAIL_ON_FAILURE", "true".into()));
    let o2 = run(&r, &env2).await;
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(o2.status.code(), Some(1));
}

#[tokio::test]
async fn a_corrupt_state_file_is_a_warning_and_a_failing_run_alerts() {
    let rx = Receiver::start("json", 200).await;
    let d = tempfile::tempdir().unwrap();
    let r = Run {
        input: d.path().join("failing"),
        out: d.path().join("out"),
        state: d.path().join("alert-state.json"),
    };
    failing_set(&r.input);
    std::fs::write(&r.state, "{ half a file").unwrap();
    let o = run(&r, &[("GOLDEN_WEBHOOK_URL", rx.url())]).await;
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    assert_eq!(rx.received().await.len(), 1);
    // No secret: no signature header.
    assert!(
        rx.received().await[0]
            .headers
            .get("x-golden-signature-256")
            .is_none()
    );
    let s = RunSummary::read(&r.out.join("summary.json")).unwrap();
    assert!(
        s.problems
            .iter()
            .any(|p| p.kind == ProblemKind::Webhook && p.message.contains("not a valid state file")),
        "{:#?}",
        s.problems
    );
    // The state was rewritten: the next identical run is quiet.
    run(&r, &[("GOLDEN_WEBHOOK_URL", rx.url())]).await;
    assert_eq!(rx.received().await.len(), 1);
}

#[test]
fn webhook_configuration_errors_name_the_flag_and_hide_the_url() {
    let d = tempfile::tempdir().unwrap();
    write_set(d.path(), &green());
    let input = d.path().to_str().unwrap();
    let o = crate::inputs::run(
        &[
            "--input",
            input,
            "--output",
            d.path().join("o").to_str().unwrap(),
        ],
        &[
            (
                "GOLDEN_WEBHOOK_URL",
                "https://a.example/p1\nhttps://b.example/p2",
            ),
            ("GOLDEN_WEBHOOK_KIND", "slack,teams,json"),
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("--webhook-kind"), "{err}");
    let o = crate::inputs::run(
        &[
            "--input",
            input,
            "--output",
            d.path().join("o").to_str().unwrap(),
        ],
        &[("GOLDEN_WEBHOOK_URL", "ftp://files.example/secret-token")],
    );
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("--webhook-url") && err.contains("files.example"),
        "{err}"
    );
    assert!(!err.contains("secret-token"), "{err}");
    let o = crate::inputs::run(
        &[
            "--input",
            input,
            "--output",
            d.path().join("o").to_str().unwrap(),
        ],
        &[("GOLDEN_WEBHOOK_KIND", "discord")],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("teams"));
}

/// A 429 with `Retry-After: 1` is waited out and retried; the second attempt is accepted.
#[tokio::test]
async fn a_429_is_retried_after_its_retry_after() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/hook"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "1"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/hook"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    let d = tempfile::tempdir().unwrap();
    let r = Run {
        input: d.path().join("failing"),
        out: d.path().join("out"),
        state: d.path().join("alert-state.json"),
    };
    failing_set(&r.input);
    let t = std::time::Instant::now();
    let o = run(
        &r,
        &[("GOLDEN_WEBHOOK_URL", format!("{}/hook", server.uri()))],
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
    assert!(t.elapsed() >= std::time::Duration::from_secs(1));
    assert!(r.state.exists(), "accepted on retry: the state is recorded");
}

/// A receiver nobody listens on: connection errors are retried, then reported by host.
#[tokio::test]
async fn an_unreachable_receiver_is_reported_by_host() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let d = tempfile::tempdir().unwrap();
    let r = Run {
        input: d.path().join("failing"),
        out: d.path().join("out"),
        state: d.path().join("alert-state.json"),
    };
    failing_set(&r.input);
    let url = format!("http://127.0.0.1:{port}/services/T000/B000/closedsecret");
    let o = run(
        &r,
        &[
            ("GOLDEN_WEBHOOK_URL", url),
            ("GOLDEN_WEBHOOK_KIND", "slack".into()),
            ("GITHUB_ACTIONS", "true".into()),
        ],
    )
    .await;
    assert_eq!(o.status.code(), Some(0));
    assert_clean(&o, &["closedsecret", "/services/"]);
    let s = RunSummary::read(&r.out.join("summary.json")).unwrap();
    let p = s
        .problems
        .iter()
        .find(|p| p.kind == ProblemKind::Webhook)
        .unwrap();
    assert!(
        p.message
            .contains(&format!("slack webhook at 127.0.0.1:{port}"))
            && p.message.contains("after 3 attempts (connection failed)"),
        "{}",
        p.message
    );
}

/// Regressions alone (every image passed) are a failing state: the json message lists them,
/// and the dedupe key is the regression's, not its message.
#[tokio::test]
async fn regressions_alone_are_sent_with_their_shape() {
    let rx = Receiver::start("json", 200).await;
    let d = tempfile::tempdir().unwrap();
    let before = green();
    let mut now = green();
    now[0].size = before[0].size * 2;
    write_set(&d.path().join("base"), &before);
    let r = Run {
        input: d.path().join("now"),
        out: d.path().join("out"),
        state: d.path().join("alert-state.json"),
    };
    write_set(&r.input, &now);
    let env = [
        ("GOLDEN_WEBHOOK_URL", rx.url()),
        (
            "GOLDEN_BASELINE",
            d.path().join("base").display().to_string(),
        ),
    ];
    let o = run(&r, &env).await;
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let got = rx.received().await;
    assert_eq!(got.len(), 1);
    let b = body(&got[0]);
    assert_eq!(b["status"], "failing");
    assert_eq!(b["failures"], serde_json::json!([]));
    let regs = b["regressions"].as_array().unwrap();
    assert_eq!(regs.len(), 1, "{b:#}");
    assert_eq!(regs[0]["image"], "base-debian");
    assert_eq!(regs[0]["kind"], "size");
    assert_eq!(regs[0]["before"], before[0].size);
    assert_eq!(regs[0]["after"], now[0].size);
    assert_eq!(regs[0]["threshold"], 10.0);
    let state: Value = serde_json::from_str(&std::fs::read_to_string(&r.state).unwrap()).unwrap();
    assert_eq!(
        state["items"],
        serde_json::json!(["regression:base-debian:size"])
    );
    // Same regression next run: quiet.
    run(&r, &env).await;
    assert_eq!(rx.received().await.len(), 1);
}
