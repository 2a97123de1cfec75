//! Shipping metrics (issue 21): the documented metric names against the renderer, the
//! dashboard and the alert rules; the Pushgateway and OTLP deliveries against in-process fake
//! receivers (wiremock) that assert method, path, content type, auth and body; retries; and
//! the binary's output never holding a secret.

use crate::fixtures::repo_root;
use crate::{NOW, fixture, report};
use golden_report::metrics;
use golden_report::regress::{Measure, Regression, RegressionKind};
use golden_report::ship::{self, Auth, ShipConfig, Target};
use golden_report::summary::{PushSummary, RunInfo};
use std::collections::BTreeSet;
use std::process::Output;
use std::time::Duration;
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

fn read(rel: &str) -> String {
    std::fs::read_to_string(repo_root().join(rel)).unwrap()
}

/// The metric names of the table in docs/monitoring.md (rows whose first cell is a
/// backquoted name).
fn documented() -> BTreeSet<String> {
    let doc = read("docs/monitoring.md");
    let names: BTreeSet<String> = doc
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split_once('`').map(|(n, _)| n.to_string()))
        .filter(|n| n.starts_with("golden_"))
        .collect();
    assert!(names.len() >= 10, "metrics table not found: {names:?}");
    names
}

fn rendered_names(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect()
}

/// Metric names in a PromQL expression: the golden ones and the Pushgateway's.
fn expr_metrics(expr: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    for c in expr.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_alphanumeric() || c == '_' || c == ':' {
            word.push(c);
        } else {
            if word.starts_with("golden_") || word.starts_with("push_") {
                out.push(std::mem::take(&mut word));
            }
            word.clear();
        }
    }
    out
}

#[test]
fn documented_metrics_match_the_renderer() {
    // Against a baseline, so the baseline-only families are rendered too.
    // With one regression, so the family that exists only then is rendered too.
    let mut r = report(&fixture("green"), Some(&fixture("baseline")));
    r.summary.regressions.push(Regression {
        image: r.summary.images[0].id.clone(),
        arch: None,
        kind: RegressionKind::Size,
        subject: None,
        before: Some(Measure::Count(100)),
        after: Measure::Count(120),
        threshold: Some(10.0),
        message: "grew".into(),
    });
    // With one image's push measured (a push record of golden-push writing the values), so
    // the push families are rendered too.
    r.summary.images[0].push = Some(PushSummary {
        succeeded: true,
        duration_seconds: Some(12.5),
        bytes_uploaded: Some(1024),
        compressed_size: Some(4096),
    });
    let rendered = rendered_names(&metrics::render(&r.summary));
    let doc = documented();
    let undocumented: Vec<_> = rendered.difference(&doc).collect();
    let gone: Vec<_> = doc.difference(&rendered).collect();
    assert!(
        undocumented.is_empty(),
        "rendered but not in docs/monitoring.md: {undocumented:?}"
    );
    assert!(
        gone.is_empty(),
        "documented in docs/monitoring.md but no longer rendered: {gone:?}"
    );
}

#[test]
fn dashboard_and_rules_name_only_documented_metrics() {
    let mut known = documented();
    // Added by the Pushgateway per group (documented as such).
    known.insert("push_time_seconds".into());
    known.insert("push_failure_time_seconds".into());

    let dash: serde_json::Value = serde_json::from_str(&read("docs/monitoring/dashboard.json"))
        .expect("docs/monitoring/dashboard.json is not valid JSON");
    assert!(dash["schemaVersion"].as_u64().unwrap() >= 36);
    let vars = dash["templating"]["list"].as_array().unwrap();
    assert!(
        vars.iter()
            .any(|v| v["type"] == "datasource" && v["query"] == "prometheus"),
        "no Prometheus datasource variable"
    );
    let mut exprs = Vec::new();
    for p in dash["panels"].as_array().unwrap() {
        assert_eq!(
            p["datasource"]["uid"], "${datasource}",
            "panel {}",
            p["title"]
        );
        for t in p["targets"].as_array().unwrap() {
            exprs.push(t["expr"].as_str().unwrap().to_string());
        }
    }
    assert!(exprs.len() >= 8, "{exprs:?}");
    let rules = read("docs/monitoring/rules.yml");
    let rule_exprs: Vec<String> = rules
        .lines()
        .filter_map(|l| l.trim().strip_prefix("expr:"))
        .map(|e| e.trim().to_string())
        .collect();
    assert_eq!(rule_exprs.len(), 5, "{rule_exprs:?}");
    let mut seen = BTreeSet::new();
    for e in exprs.iter().chain(&rule_exprs) {
        let names = expr_metrics(e);
        assert!(!names.is_empty(), "no metric in `{e}`");
        for n in names {
            assert!(
                known.contains(&n),
                "`{n}` in `{e}` is not a documented metric"
            );
            seen.insert(n);
        }
    }
    // The dashboard shows the main families.
    for m in [
        "golden_image_size_bytes",
        "golden_image_vulnerabilities",
        "golden_build_duration_seconds",
        "golden_image_compliance_failures",
        "golden_image_policy_passed",
    ] {
        assert!(seen.contains(m), "{m} is on no panel");
    }
}

#[test]
fn the_metric_scanner_finds_names() {
    assert_eq!(
        expr_metrics("time() - push_time_seconds{image=\"\"} > golden_a offset 7d"),
        vec!["push_time_seconds", "golden_a"]
    );
}

// ---------------------------------------------------------------------------------------------
// Deliveries against fakes.

fn cfg() -> ShipConfig {
    ShipConfig {
        pushgateway: None,
        pushgateway_auth: Auth::None,
        job: ship::DEFAULT_JOB.into(),
        otlp: None,
        otlp_headers: Vec::new(),
        otlp_file: None,
        timeout: Duration::from_secs(5),
        attempts: 3,
        backoff: Duration::from_millis(10),
    }
}

fn run_info() -> RunInfo {
    RunInfo {
        workflow: Some("Golden images/nightly".into()),
        repository: Some("octo-org/golden".into()),
        ..RunInfo::default()
    }
}

fn text() -> String {
    let r = report(&fixture("mixed"), None);
    metrics::render(&r.summary)
}

fn b64(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE.encode(s)
}

#[tokio::test]
async fn pushgateway_gets_one_put_per_group_with_auth_and_text_format() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path_regex("^/prefix/metrics/job/golden-images/"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let mut c = cfg();
    c.pushgateway =
        Some(Target::parse("--pushgateway", &format!("{}/prefix/", server.uri())).unwrap());
    c.pushgateway_auth = Auth::Basic {
        username: "pusher".into(),
        password: "pa ss".into(),
    };
    let metrics_text = text();
    let families = ship::parse_openmetrics(&metrics_text).unwrap();
    let d = ship::ship(&c, &metrics_text, &run_info(), 1).await.unwrap();
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].error, None, "{d:?}");

    let reqs = server.received_requests().await.unwrap();
    assert_eq!(d[0].groups, reqs.len());
    let wf = b64("Golden images/nightly");
    let base = format!("/prefix/metrics/job/golden-images/workflow@base64/{wf}");
    let mut paths = BTreeSet::new();
    let mut total = 0;
    for r in &reqs {
        assert_eq!(r.method.as_str(), "PUT");
        assert_eq!(
            r.headers.get("content-type").unwrap(),
            "text/plain; version=0.0.4; charset=utf-8"
        );
        // base64("pusher:pa ss")
        assert_eq!(
            r.headers.get("authorization").unwrap(),
            "Basic cHVzaGVyOnBhIHNz"
        );
        let body = String::from_utf8(r.body.clone()).unwrap();
        assert!(
            !body.contains("# EOF") && !body.contains("# UNIT"),
            "{body}"
        );
        let path = r.url.path().to_string();
        assert!(path.starts_with(&base), "{path}");
        // Each group carries exactly its own image's series (or the run-wide ones).
        let image = path
            .strip_prefix(&base)
            .unwrap()
            .strip_prefix("/image/")
            .map(str::to_string);
        let got = ship::parse_openmetrics(&body).unwrap();
        for f in &got {
            for s in &f.samples {
                assert_eq!(s.label("image"), image.as_deref(), "{path}: {f:?}");
                total += 1;
            }
        }
        paths.insert(path);
    }
    assert_eq!(total, ship::series(&families));
    assert!(paths.contains(&base), "no run-level group: {paths:?}");
    assert!(
        paths.contains(&format!("{base}/image/nginx-1.26-debian")),
        "{paths:?}"
    );
    // The run-level group: builds, images, problems with the fixture's values.
    let run = reqs.iter().find(|r| r.url.path() == base).unwrap();
    let body = String::from_utf8(run.body.clone()).unwrap();
    assert!(
        body.contains("golden_builds{result=\"failure\"} 1\n"),
        "{body}"
    );
}

#[tokio::test]
async fn pushgateway_bearer_token_and_encoded_arch_groups() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(202))
        .mount(&server)
        .await;
    let mut c = cfg();
    c.pushgateway = Some(Target::parse("--pushgateway", &server.uri()).unwrap());
    c.pushgateway_auth = Auth::Bearer("tok-123".into());
    let text = "# TYPE golden_image_size_bytes gauge\n# UNIT golden_image_size_bytes bytes\n# HELP golden_image_size_bytes Size.\ngolden_image_size_bytes{image=\"unknown:a/b\",os=\"\",platform=\"\",version=\"\",arch=\"arm64\"} 5\n# EOF\n";
    let run = RunInfo::default();
    let d = ship::ship(&c, text, &run, 1).await.unwrap();
    assert_eq!(d[0].error, None);
    let reqs = server.received_requests().await.unwrap();
    let paths: BTreeSet<String> = reqs.iter().map(|r| r.url.path().to_string()).collect();
    let expected: BTreeSet<String> = [
        "/metrics/job/golden-images/workflow@base64/=".to_string(),
        format!(
            "/metrics/job/golden-images/workflow@base64/=/image@base64/{}/arch/arm64",
            b64("unknown:a/b")
        ),
    ]
    .into();
    assert_eq!(paths, expected);
    for r in &reqs {
        assert_eq!(r.headers.get("authorization").unwrap(), "Bearer tok-123");
    }
}

#[tokio::test]
async fn otlp_posts_gauges_as_json_with_headers() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path_regex("^/v1/metrics$"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let mut c = cfg();
    c.otlp = Some(Target::parse("--otlp-endpoint", &server.uri()).unwrap());
    c.otlp_headers = ship::parse_headers("api-key=k%2C1,x-scope=team").unwrap();
    c.otlp_file = Some(dir.path().join("otlp.json"));
    let metrics_text = text();
    let nanos = ship::unix_nanos(NOW);
    let d = ship::ship(&c, &metrics_text, &run_info(), nanos)
        .await
        .unwrap();
    assert_eq!(d.len(), 2, "{d:?}");
    assert!(d.iter().all(|x| x.error.is_none()), "{d:?}");

    let reqs = server.received_requests().await.unwrap();
    assert_eq!(reqs.len(), 1);
    let r: &Request = &reqs[0];
    assert_eq!(r.headers.get("content-type").unwrap(), "application/json");
    assert_eq!(r.headers.get("api-key").unwrap(), "k,1");
    assert_eq!(r.headers.get("x-scope").unwrap(), "team");
    let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("otlp.json")).unwrap())
            .unwrap();
    assert_eq!(body, file, "the file holds the payload sent");

    let rm = &body["resourceMetrics"][0];
    let attrs = rm["resource"]["attributes"].as_array().unwrap();
    assert!(attrs.contains(
        &serde_json::json!({"key": "service.name", "value": {"stringValue": "golden-report"}})
    ));
    assert!(attrs.contains(&serde_json::json!({"key": "golden.workflow", "value": {"stringValue": "Golden images/nightly"}})));
    let ms = rm["scopeMetrics"][0]["metrics"].as_array().unwrap();
    let families = ship::parse_openmetrics(&metrics_text).unwrap();
    assert_eq!(ms.len(), families.len());
    let points: usize = ms
        .iter()
        .map(|m| m["gauge"]["dataPoints"].as_array().unwrap().len())
        .sum();
    assert_eq!(points, ship::series(&families));
    let size = ms
        .iter()
        .find(|m| m["name"] == "golden_image_size_bytes")
        .unwrap();
    assert_eq!(size["unit"], "By");
    let p = &size["gauge"]["dataPoints"][0];
    assert_eq!(p["timeUnixNano"], "1795748400000000000");
    let fam = families
        .iter()
        .find(|f| f.name == "golden_image_size_bytes")
        .unwrap();
    assert_eq!(p["asInt"], fam.samples[0].value.as_str());
    assert!(
        p["attributes"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!({"key": "image", "value": {"stringValue": fam.samples[0].label("image").unwrap()}}))
    );
    let dur = ms
        .iter()
        .find(|m| m["name"] == "golden_build_duration_seconds")
        .unwrap();
    assert_eq!(dur["unit"], "s");
    assert_eq!(dur["gauge"]["dataPoints"][0]["asDouble"], 42.5);
}

#[tokio::test]
async fn server_errors_are_retried_three_times_then_reported() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503).set_body_string("down for maintenance"))
        .mount(&server)
        .await;
    let mut c = cfg();
    c.otlp = Some(
        Target::parse(
            "--otlp-endpoint",
            &format!("{}/otlp/v1/metrics", server.uri()),
        )
        .unwrap(),
    );
    let d = ship::ship(&c, &text(), &run_info(), 1).await.unwrap();
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
    assert_eq!(d[0].requests, 3);
    let e = d[0].error.as_deref().unwrap();
    assert!(e.contains("503") && e.contains("after 3 attempts"), "{e}");
    assert!(server.received_requests().await.unwrap()[0].url.path() == "/otlp/v1/metrics");
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(400).set_body_string("bad metric"))
        .mount(&server)
        .await;
    let mut c = cfg();
    c.pushgateway = Some(Target::parse("--pushgateway", &server.uri()).unwrap());
    let text = "# TYPE golden_builds gauge\n# HELP golden_builds B.\ngolden_builds{result=\"success\"} 1\n# EOF\n";
    let d = ship::ship(&c, text, &run_info(), 1).await.unwrap();
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
    assert!(d[0].error.as_deref().unwrap().contains("400"), "{d:?}");
}

#[tokio::test]
async fn a_refused_connection_is_retried() {
    // A port nothing listens on: bind, read the port, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut c = cfg();
    c.pushgateway =
        Some(Target::parse("--pushgateway", &format!("http://127.0.0.1:{port}")).unwrap());
    let text = "# TYPE golden_builds gauge\n# HELP golden_builds B.\ngolden_builds{result=\"success\"} 1\n# EOF\n";
    let d = ship::ship(&c, text, &run_info(), 1).await.unwrap();
    assert_eq!(d[0].requests, 3);
    assert!(
        d[0].error.as_deref().unwrap().contains("connection failed"),
        "{d:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// The binary: exit code, output lines, no secret anywhere.

async fn run(args: &[String], env: &[(&str, String)]) -> Output {
    let mut c = tokio::process::Command::new(env!("CARGO_BIN_EXE_golden-report"));
    c.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().await.unwrap()
}

fn all_output(o: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[tokio::test]
async fn the_binary_never_prints_secrets_and_a_failed_delivery_keeps_exit_0() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(500).set_body_string("oops"))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let out = tempfile::tempdir().unwrap();
    let addr = server.address();
    let password = "url-pa55word";
    let header_secret = "hdr-s3cret";
    let args: Vec<String> = vec![
        "--input".into(),
        fixture("green").display().to_string(),
        "--output".into(),
        out.path().display().to_string(),
        "--no-job-summary".into(),
        "--pushgateway".into(),
        format!("http://pusher:{password}@{addr}/?x=qsecret"),
        "--otlp-endpoint".into(),
        format!("http://{addr}"),
    ];
    let env = [
        ("GITHUB_ACTIONS", "true".to_string()),
        ("GITHUB_WORKFLOW", "nightly".to_string()),
        (
            "GOLDEN_OTLP_HEADERS",
            format!("authorization=Bearer {header_secret}"),
        ),
    ];
    let o = run(&args, &env).await;
    let text = all_output(&o);
    assert_eq!(o.status.code(), Some(0), "{text}");
    // Masked first (that line is the only one allowed to hold them), printed nowhere else.
    let unmasked: String = text
        .lines()
        .filter(|l| !l.starts_with("::add-mask::"))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(text.contains(&format!("::add-mask::{password}")), "{text}");
    assert!(
        text.contains(&format!("::add-mask::Bearer {header_secret}")),
        "{text}"
    );
    for s in [password, header_secret, "qsecret"] {
        assert!(!unmasked.contains(s), "`{s}` printed:\n{text}");
    }
    // One warning annotation for the Pushgateway (3 attempts per group), one line for OTLP.
    let warnings: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("::warning::"))
        .collect();
    assert_eq!(warnings.len(), 1, "{text}");
    assert!(
        warnings[0].contains("Pushgateway: failed") && warnings[0].contains("after 3 attempts"),
        "{text}"
    );
    assert!(text.contains("OTLP: sent "), "{text}");
    assert!(
        text.contains(&format!("to http://{addr}/v1/metrics")),
        "{text}"
    );
    let reqs = server.received_requests().await.unwrap();
    let puts = reqs.iter().filter(|r| r.method.as_str() == "PUT").count();
    let groups = 1 + 3; // run-level + the three green images
    assert_eq!(puts, 3 * groups, "3 attempts per group");
    let post = reqs.iter().find(|r| r.method.as_str() == "POST").unwrap();
    assert_eq!(
        post.headers.get("authorization").unwrap(),
        &format!("Bearer {header_secret}")
    );
}

#[tokio::test]
async fn conflicting_auth_is_a_clear_usage_error() {
    let out = tempfile::tempdir().unwrap();
    let args: Vec<String> = vec![
        "--input".into(),
        fixture("green").display().to_string(),
        "--output".into(),
        out.path().display().to_string(),
        "--no-job-summary".into(),
        "--pushgateway".into(),
        "http://127.0.0.1:9".into(),
    ];
    let env = [
        ("GOLDEN_PUSHGATEWAY_USERNAME", "u".to_string()),
        ("GOLDEN_PUSHGATEWAY_PASSWORD", "pw-secret".to_string()),
        ("GOLDEN_PUSHGATEWAY_TOKEN", "tok-secret".to_string()),
    ];
    let o = run(&args, &env).await;
    let text = all_output(&o);
    assert_eq!(o.status.code(), Some(2), "{text}");
    assert!(
        text.contains("GOLDEN_PUSHGATEWAY_TOKEN and basic auth"),
        "{text}"
    );
    assert!(
        !text.contains("pw-secret") && !text.contains("tok-secret"),
        "{text}"
    );
    // Without a Pushgateway the credentials are not used, so they are not checked either.
    let o = run(&args[..5], &env).await;
    assert_eq!(o.status.code(), Some(0), "{}", all_output(&o));
}

#[test]
fn fixable_families_carry_the_summary_counts() {
    let r = report(&fixture("green"), Some(&fixture("baseline")));
    let families = ship::parse_openmetrics(&metrics::render(&r.summary)).unwrap();
    let fam = |n: &str| families.iter().find(|f| f.name == n).unwrap().clone();
    let fixable = fam("golden_image_fixable_vulnerabilities");
    let new_fixable = fam("golden_image_new_fixable_vulnerabilities");
    let mut nonzero = 0;
    for i in &r.summary.images {
        let Some(sc) = &i.scan else { continue };
        let s = fixable
            .samples
            .iter()
            .find(|s| s.label("image") == Some(i.id.as_str()))
            .unwrap();
        assert_eq!(s.value, sc.fixable.to_string(), "{}", i.id);
        let Some(d) = i.baseline.as_ref().filter(|d| d.compared_scan) else {
            continue;
        };
        for sev in ["CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"] {
            let want = d
                .new_vulnerabilities
                .iter()
                .filter(|v| v.fixed.is_some() && v.severity.as_str() == sev)
                .count();
            let lower = sev.to_ascii_lowercase();
            let s = new_fixable
                .samples
                .iter()
                .find(|s| {
                    s.label("image") == Some(i.id.as_str())
                        && s.label("severity") == Some(lower.as_str())
                })
                .unwrap();
            assert_eq!(s.value, want.to_string(), "{} {sev}", i.id);
            nonzero += want;
        }
    }
    assert!(
        nonzero > 0,
        "the fixture has no new fixable vulnerability: the test proves nothing"
    );
}
