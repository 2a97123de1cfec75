//! The GitHub flows against an in-process fake GitHub API. The fake asserts what GitHub
//! documents: method, path, `Authorization: Bearer <token>` and the exact JSON body; guards with
//! `expect(0)` prove that nothing else was sent.

use golden_report::alert::AlertState;
use golden_report::comment;
use golden_report::comment_file::CommentFile;
use golden_report::pr_comment;
use serde_json::{Value, json};
use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::fixtures::repo_root;
use crate::{RUN_URL, fixture, report};

const TOKEN: &str = "ghs_faketoken0123456789";
const REPO: &str = "octo-org/golden";
const KEY: &str = "golden-images:configs/build-config.yaml";
const AUTH: &str = "Bearer ghs_faketoken0123456789";

fn third_party(rel: &str) -> Value {
    let p = repo_root().join("tests/fixtures/third-party").join(rel);
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

/// A comment shaped like GitHub's documented example (`issue_comment.json`).
fn comment_json(id: u64, login: &str, kind: &str, body: &str) -> Value {
    let mut v = third_party("github-api/issue_comment.json");
    v["id"] = json!(id);
    v["body"] = json!(body);
    v["url"] = json!(format!(
        "https://api.github.com/repos/{REPO}/issues/comments/{id}"
    ));
    v["html_url"] = json!(format!(
        "https://github.com/{REPO}/pull/7#issuecomment-{id}"
    ));
    v["user"]["login"] = json!(login);
    v["user"]["type"] = json!(kind);
    v
}

/// The documented "list issue comments" example: a person's comment.
fn human_comments() -> Vec<Value> {
    third_party("github-api/issue_comments.json")
        .as_array()
        .unwrap()
        .clone()
}

fn issue_json(number: u64, title: &str, body: &str, pr: bool) -> Value {
    let mut v = json!({
        "id": 1000 + number,
        "node_id": "I_kwDOA",
        "url": format!("https://api.github.com/repos/{REPO}/issues/{number}"),
        "html_url": format!("https://github.com/{REPO}/issues/{number}"),
        "number": number,
        "state": "open",
        "title": title,
        "body": body,
        "user": {"login": "github-actions[bot]", "id": 41898282, "type": "Bot"},
        "labels": [{"id": 1, "name": "golden-nightly-failure", "color": "b60205", "default": false}],
        "comments": 0,
        "created_at": "2026-11-20T02:10:00Z",
        "updated_at": "2026-11-20T02:10:00Z"
    });
    if pr {
        v["pull_request"] =
            json!({"url": format!("https://api.github.com/repos/{REPO}/pulls/{number}")});
    }
    v
}

fn forbidden() -> ResponseTemplate {
    ResponseTemplate::new(403)
        .insert_header("x-ratelimit-remaining", "4990")
        .set_body_json(json!({
            "message": "Resource not accessible by integration",
            "documentation_url": "https://docs.github.com/rest/issues/comments#create-an-issue-comment",
            "status": "403"
        }))
}

struct Fake {
    server: MockServer,
    /// Path prefix of the API (`""` for github.com, `/api/v3` for GitHub Enterprise Server).
    prefix: &'static str,
}

impl Fake {
    async fn start(prefix: &'static str) -> Self {
        Fake {
            server: MockServer::start().await,
            prefix,
        }
    }
    fn p(&self, rest: &str) -> String {
        format!("{}{rest}", self.prefix)
    }
    fn api_url(&self) -> String {
        format!("{}{}", self.server.uri(), self.prefix)
    }
    /// The Actions token cannot read `/user`.
    async fn user_forbidden(&self) {
        Mock::given(method("GET"))
            .and(path(self.p("/user")))
            .respond_with(forbidden())
            .mount(&self.server)
            .await;
    }
    /// Fail the test if any write reaches the fake outside the mocks that expect it.
    async fn no_other_writes(&self) {
        for m in ["POST", "PATCH", "PUT", "DELETE"] {
            Mock::given(method(m))
                .respond_with(ResponseTemplate::new(418))
                .with_priority(255)
                .expect(0)
                .named(format!("unexpected {m}"))
                .mount(&self.server)
                .await;
        }
    }
    async fn list_comments(&self, pr: u64, items: Vec<Value>) {
        Mock::given(method("GET"))
            .and(path(self.p(&format!("/repos/{REPO}/issues/{pr}/comments"))))
            .and(query_param("per_page", "100"))
            .and(header("authorization", AUTH))
            .respond_with(ResponseTemplate::new(200).set_body_json(items))
            .expect(1)
            .mount(&self.server)
            .await;
    }
    async fn writes(&self) -> Vec<Request> {
        self.server
            .received_requests()
            .await
            .unwrap()
            .into_iter()
            .filter(|r| r.method.as_str() != "GET")
            .collect()
    }
    async fn reset(&self) {
        self.server.verify().await;
        self.server.reset().await;
    }
}

fn base_env(fake: &Fake) -> Vec<(String, String)> {
    vec![
        ("GITHUB_TOKEN".into(), TOKEN.into()),
        ("GITHUB_REPOSITORY".into(), REPO.into()),
        ("GITHUB_API_URL".into(), fake.api_url()),
        ("GITHUB_SERVER_URL".into(), "https://github.com".into()),
        ("GITHUB_RUN_ID".into(), "4242".into()),
        ("GITHUB_WORKFLOW".into(), "Golden images".into()),
        ("GOLDEN_RATE_LIMIT_MAX_WAIT".into(), "5".into()),
    ]
}

async fn run(args: &[&str], env: &[(String, String)]) -> Output {
    let mut c = tokio::process::Command::new(env!("CARGO_BIN_EXE_golden-report"));
    c.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().await.unwrap()
}

fn ok(o: &Output) {
    assert_eq!(
        o.status.code(),
        Some(0),
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The comment body the binary must send for `input`, computed with the library.
fn expected_body(input: &Path) -> String {
    let r = report(input, None);
    let reserved = comment::marker(KEY).chars().count() + 1;
    comment::body(
        KEY,
        &pr_comment::render(
            &pr_comment::CommentData::from_report(&r),
            Some(RUN_URL),
            reserved,
        ),
    )
}

fn report_args<'a>(input: &'a Path, out: &'a Path) -> Vec<String> {
    vec![
        "--input".into(),
        input.display().to_string(),
        "--output".into(),
        out.display().to_string(),
        "--no-job-summary".into(),
    ]
}

fn args(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[tokio::test]
async fn sticky_comment_is_created_then_updated_then_left_alone() {
    let fake = Fake::start("").await;
    let out = tempfile::tempdir().unwrap();
    let env = base_env(&fake);
    let green = fixture("green");
    let mixed = fixture("mixed");
    let green_body = expected_body(&green);
    let mixed_body = expected_body(&mixed);
    assert_ne!(green_body, mixed_body);

    // Run 1: no comment of ours yet (a person quoting our marker does not count) -> POST.
    fake.user_forbidden().await;
    let mut listed = human_comments();
    listed.push(comment_json(11, "mallory", "User", &green_body));
    fake.list_comments(7, listed).await;
    Mock::given(method("POST"))
        .and(path(format!("/repos/{REPO}/issues/7/comments")))
        .and(header("authorization", AUTH))
        .and(body_json(json!({ "body": green_body })))
        .respond_with(ResponseTemplate::new(201).set_body_json(comment_json(
            4242,
            "github-actions[bot]",
            "Bot",
            &green_body,
        )))
        .expect(1)
        .named("create comment")
        .mount(&fake.server)
        .await;
    fake.no_other_writes().await;
    let mut a = report_args(&green, out.path());
    a.extend(["--pr".into(), "7".into()]);
    let o = run(&args(&a), &env).await;
    ok(&o);
    assert!(
        stderr(&o).contains("created comment 4242 on #7"),
        "{}",
        stderr(&o)
    );
    fake.reset().await;

    // Run 2: our comment exists with the old body -> PATCH that id (the documented method).
    fake.user_forbidden().await;
    let mut listed = human_comments();
    listed.push(comment_json(
        4242,
        "github-actions[bot]",
        "Bot",
        &green_body,
    ));
    fake.list_comments(7, listed).await;
    Mock::given(method("PATCH"))
        .and(path(format!("/repos/{REPO}/issues/comments/4242")))
        .and(header("authorization", AUTH))
        .and(body_json(json!({ "body": mixed_body })))
        .respond_with(ResponseTemplate::new(200).set_body_json(comment_json(
            4242,
            "github-actions[bot]",
            "Bot",
            &mixed_body,
        )))
        .expect(1)
        .named("update comment")
        .mount(&fake.server)
        .await;
    fake.no_other_writes().await;
    let mut a = report_args(&mixed, out.path());
    a.extend(["--pr".into(), "7".into()]);
    let o = run(&args(&a), &env).await;
    ok(&o);
    assert!(
        stderr(&o).contains("updated comment 4242"),
        "{}",
        stderr(&o)
    );
    fake.reset().await;

    // Run 3: same body -> nothing sent at all.
    fake.user_forbidden().await;
    fake.list_comments(
        7,
        vec![comment_json(
            4242,
            "github-actions[bot]",
            "Bot",
            &mixed_body,
        )],
    )
    .await;
    fake.no_other_writes().await;
    let o = run(&args(&a), &env).await;
    ok(&o);
    assert!(fake.writes().await.is_empty());
    assert!(stderr(&o).contains("already up to date"), "{}", stderr(&o));
    fake.reset().await;
}

#[tokio::test]
async fn pagination_follows_link_headers_over_more_than_100_comments_on_ghes() {
    // GitHub Enterprise Server: the API lives under /api/v3.
    let fake = Fake::start("/api/v3").await;
    let out = tempfile::tempdir().unwrap();
    let green = fixture("green");
    let body = expected_body(&green);
    let mut env = base_env(&fake);
    env.push(("GOLDEN_COMMENT_AUTHOR".into(), "golden-bot".into()));
    let people = |from: u64, n: u64| -> Vec<Value> {
        (from..from + n)
            .map(|i| comment_json(i, "octocat", "User", &format!("comment {i}")))
            .collect()
    };
    // GitHub's Link header points at /repositories/{id}/... with page numbers.
    let link = |page: u32| {
        format!(
            "{uri}/api/v3/repositories/1296269/issues/9/comments?per_page=100&page={page}",
            uri = fake.server.uri()
        )
    };
    Mock::given(method("GET"))
        .and(path(format!("/api/v3/repos/{REPO}/issues/9/comments")))
        .and(query_param("per_page", "100"))
        .and(header("authorization", AUTH))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header(
                    "link",
                    format!("<{}>; rel=\"next\", <{}>; rel=\"last\"", link(2), link(3)),
                )
                .set_body_json(people(1, 100)),
        )
        .expect(1)
        .mount(&fake.server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v3/repositories/1296269/issues/9/comments"))
        .and(query_param("page", "2"))
        .and(header("authorization", AUTH))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header(
                    "link",
                    format!(
                        "<{}>; rel=\"prev\", <{}>; rel=\"next\", <{}>; rel=\"last\", <{}>; rel=\"first\"",
                        link(1),
                        link(3),
                        link(3),
                        link(1)
                    ),
                )
                .set_body_json(people(101, 100)),
        )
        .expect(1)
        .mount(&fake.server)
        .await;
    let mut last = people(201, 49);
    // Ours is on the last page, by the configured author; another bot's marker comment is not.
    last.push(comment_json(
        777,
        "other-bot[bot]",
        "Bot",
        &body.replace("green", "x"),
    ));
    last.push(comment_json(
        999,
        "golden-bot",
        "User",
        "<!-- golden-report:golden-images:configs/build-config.yaml -->\nold",
    ));
    Mock::given(method("GET"))
        .and(path("/api/v3/repositories/1296269/issues/9/comments"))
        .and(query_param("page", "3"))
        .and(header("authorization", AUTH))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header(
                    "link",
                    format!("<{}>; rel=\"prev\", <{}>; rel=\"first\"", link(2), link(1)),
                )
                .set_body_json(last),
        )
        .expect(1)
        .mount(&fake.server)
        .await;
    Mock::given(method("PATCH"))
        .and(path(format!("/api/v3/repos/{REPO}/issues/comments/999")))
        .and(header("authorization", AUTH))
        .and(body_json(json!({ "body": body })))
        .respond_with(ResponseTemplate::new(200).set_body_json(comment_json(
            999,
            "golden-bot",
            "User",
            &body,
        )))
        .expect(1)
        .mount(&fake.server)
        .await;
    fake.no_other_writes().await;
    let mut a = report_args(&green, out.path());
    a.extend(["--pr".into(), "9".into()]);
    let o = run(&args(&a), &env).await;
    ok(&o);
    // The /user lookup was skipped: --comment-author was given.
    let gets: Vec<String> = fake
        .server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.url.path().to_string())
        .collect();
    assert!(!gets.iter().any(|p| p.ends_with("/user")), "{gets:?}");
    fake.reset().await;
}

#[tokio::test]
async fn fork_pr_403_writes_the_comment_file_then_the_poster_posts_it() {
    let fake = Fake::start("").await;
    let out = tempfile::tempdir().unwrap();
    let event =
        repo_root().join("tests/fixtures/third-party/github-events/event_pull_request.json");
    let pr = third_party("github-events/event_pull_request.json")["number"]
        .as_u64()
        .unwrap();
    let head_sha = "3370e228f2209994d57af4427fe64e71bb79ac96";
    let mut env = base_env(&fake);
    env.push(("GITHUB_EVENT_NAME".into(), "pull_request".into()));
    env.push(("GITHUB_EVENT_PATH".into(), event.display().to_string()));
    env.push(("GITHUB_ACTIONS".into(), "true".into()));
    let mixed = fixture("mixed");
    let body = expected_body(&mixed);

    fake.user_forbidden().await;
    fake.list_comments(pr, human_comments()).await;
    Mock::given(method("POST"))
        .and(path(format!("/repos/{REPO}/issues/{pr}/comments")))
        .and(header("authorization", AUTH))
        .and(body_json(json!({ "body": body })))
        .respond_with(forbidden())
        .expect(1)
        .mount(&fake.server)
        .await;
    fake.no_other_writes().await;
    let o = run(&args(&report_args(&mixed, out.path())), &env).await;
    ok(&o);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("::notice::cannot comment on #15"),
        "{stdout}"
    );
    assert!(stdout.contains("workflow_run"), "{stdout}");
    // The token is registered as a mask before use and never printed otherwise.
    assert_eq!(stdout.matches(TOKEN).count(), 1);
    assert!(stdout.contains(&format!("::add-mask::{TOKEN}")));
    assert!(!stderr(&o).contains(TOKEN));
    let file_path = out.path().join("pr-comment.json");
    let file = CommentFile::read(&file_path).unwrap();
    assert_eq!(file.pr, pr);
    assert_eq!(file.key, KEY);
    assert_eq!(file.schema, 2);
    let r = report(&mixed, None);
    assert_eq!(file.data, pr_comment::CommentData::from_report(&r));
    // Data, never Markdown: no rendered text in the file.
    let raw = std::fs::read_to_string(&file_path).unwrap();
    assert!(
        !raw.contains("golden-report:") && !raw.contains("\"body\""),
        "{raw}"
    );
    fake.reset().await;

    // The trusted workflow_run job posts it, after checking the PR's head commit.
    let post_env = base_env(&fake);
    Mock::given(method("GET"))
        .and(path(format!("/repos/{REPO}/pulls/{pr}")))
        .and(header("authorization", AUTH))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "number": pr, "state": "open",
            "head": {"sha": head_sha, "ref": "test-pr"},
            "base": {"sha": "0000000000000000000000000000000000000000", "ref": "master"}
        })))
        .mount(&fake.server)
        .await;
    fake.user_forbidden().await;
    fake.list_comments(pr, human_comments()).await;
    Mock::given(method("POST"))
        .and(path(format!("/repos/{REPO}/issues/{pr}/comments")))
        .and(header("authorization", AUTH))
        .and(body_json(json!({ "body": body })))
        .respond_with(ResponseTemplate::new(201).set_body_json(comment_json(
            5151,
            "github-actions[bot]",
            "Bot",
            &body,
        )))
        .expect(1)
        .mount(&fake.server)
        .await;
    fake.no_other_writes().await;
    let f = file_path.display().to_string();
    let o = run(
        &[
            "post-comment",
            "--file",
            &f,
            "--head-sha",
            head_sha,
            "--run-id",
            "4242",
        ],
        &post_env,
    )
    .await;
    ok(&o);
    assert!(stderr(&o).contains("created comment 5151 on #15"));
    fake.reset().await;

    // A file naming another PR (head commit differs) is refused before any write.
    Mock::given(method("GET"))
        .and(path(format!("/repos/{REPO}/pulls/{pr}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "number": pr, "head": {"sha": "ffffffffffffffffffffffffffffffffffffffff"}
        })))
        .mount(&fake.server)
        .await;
    fake.no_other_writes().await;
    let o = run(
        &["post-comment", "--file", &f, "--head-sha", head_sha],
        &post_env,
    )
    .await;
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("refusing to post"), "{}", stderr(&o));
    fake.reset().await;

    // A tampered file (a mention slipped into an image id) is refused before any request,
    // naming the field.
    let mut tampered = file.clone();
    tampered.data.images[0].id = "x thanks @octocat".into();
    tampered.write(&file_path).unwrap();
    fake.no_other_writes().await;
    let o = run(&["post-comment", "--file", &f], &post_env).await;
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("field `data.images[0].id`"),
        "{}",
        stderr(&o)
    );
    assert!(fake.server.received_requests().await.unwrap().is_empty());
    fake.reset().await;
}

#[tokio::test]
async fn no_token_on_a_pr_writes_the_file_and_exits_0() {
    let out = tempfile::tempdir().unwrap();
    let green = fixture("green");
    let mut a = report_args(&green, out.path());
    a.extend(["--pr".into(), "3".into()]);
    let o = run(
        &args(&a),
        &[("GITHUB_WORKFLOW".into(), "Golden images".into())],
    )
    .await;
    ok(&o);
    let f = CommentFile::read(&out.path().join("pr-comment.json")).unwrap();
    assert_eq!(f.pr, 3);
}

fn alert_env(fake: &Fake) -> Vec<(String, String)> {
    let mut env = base_env(fake);
    env.push(("GITHUB_EVENT_NAME".into(), "schedule".into()));
    env.push((
        "GITHUB_EVENT_PATH".into(),
        repo_root()
            .join("tests/fixtures/third-party/github-events/event_schedule.json")
            .display()
            .to_string(),
    ));
    env
}

async fn list_issues(fake: &Fake, items: Vec<Value>) {
    Mock::given(method("GET"))
        .and(path(format!("/repos/{REPO}/issues")))
        .and(query_param("state", "open"))
        .and(query_param("labels", "golden-nightly-failure"))
        .and(query_param("per_page", "100"))
        .and(header("authorization", AUTH))
        .respond_with(ResponseTemplate::new(200).set_body_json(items))
        .expect(1)
        .mount(&fake.server)
        .await;
}

fn request_json(r: &Request) -> Value {
    serde_json::from_slice(&r.body).unwrap()
}

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    k.sort();
    k
}

#[tokio::test]
async fn nightly_alert_is_opened_once_updated_then_closed() {
    let fake = Fake::start("").await;
    let out = tempfile::tempdir().unwrap();
    let env = alert_env(&fake);
    let mixed = fixture("mixed");
    let a = report_args(&mixed, out.path());

    // Night 1: failing, no open issue -> label created, one issue opened.
    list_issues(&fake, vec![]).await;
    Mock::given(method("GET"))
        .and(path(format!("/repos/{REPO}/labels/golden-nightly-failure")))
        .and(header("authorization", AUTH))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({
            "message": "Not Found",
            "documentation_url": "https://docs.github.com/rest/issues/labels#get-a-label"
        })))
        .expect(1)
        .mount(&fake.server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/repos/{REPO}/labels")))
        .and(header("authorization", AUTH))
        .and(body_json(json!({
            "name": "golden-nightly-failure",
            "color": "b60205",
            "description": "Scheduled golden image build failing (managed by golden-report)"
        })))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "id": 208045946, "node_id": "MDU6TGFiZWwyMDgwNDU5NDY=",
            "url": format!("https://api.github.com/repos/{REPO}/labels/golden-nightly-failure"),
            "name": "golden-nightly-failure", "color": "b60205", "default": false,
            "description": "Scheduled golden image build failing (managed by golden-report)"
        })))
        .expect(1)
        .mount(&fake.server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/repos/{REPO}/issues")))
        .and(header("authorization", AUTH))
        .respond_with(ResponseTemplate::new(201).set_body_json(issue_json(
            31,
            "Nightly golden image build failing",
            "",
            false,
        )))
        .expect(1)
        .named("open issue")
        .mount(&fake.server)
        .await;
    fake.no_other_writes().await;
    let o = run(&args(&a), &env).await;
    ok(&o);
    assert!(
        stderr(&o).contains("opened nightly alert issue #31"),
        "{}",
        stderr(&o)
    );
    let writes = fake.writes().await;
    assert_eq!(writes.len(), 2, "label + issue");
    let created = request_json(&writes[1]);
    assert_eq!(keys(&created), vec!["body", "labels", "title"]);
    assert_eq!(created["labels"], json!(["golden-nightly-failure"]));
    let title = created["title"].as_str().unwrap();
    assert!(
        title.starts_with("Nightly golden image build failing: 7 images"),
        "{title}"
    );
    let body1 = created["body"].as_str().unwrap().to_string();
    assert!(body1.starts_with(&format!("<!-- golden-report:alert:{KEY} -->\n")));
    let state1 = AlertState::parse(&body1).unwrap();
    assert_eq!(state1.first_failed.len(), 7);
    assert_eq!(
        state1.first_failed["nginx-1.26-debian"].run.as_deref(),
        Some(RUN_URL)
    );
    fake.reset().await;

    // Night 2: still failing. The open issue is found (a PR and a foreign issue with the same
    // label are not ours) and updated; "since" is kept from the state in its body.
    let mut old_state = state1.clone();
    old_state
        .first_failed
        .get_mut("nginx-1.26-debian")
        .unwrap()
        .at = "2026-11-20T02:00:00Z".into();
    old_state.first_failed.insert(
        "recovered-image".into(),
        golden_report::alert::Since {
            at: "2026-11-19T02:00:00Z".into(),
            run: None,
        },
    );
    let old_body = format!(
        "<!-- golden-report:alert:{KEY} -->\n{}\nold text",
        old_state.render()
    );
    list_issues(
        &fake,
        vec![
            issue_json(12, "Some PR", "<!-- golden-report:alert:x -->", true),
            issue_json(20, "Someone else's issue", "manual report", false),
            issue_json(31, "Nightly golden image build failing", &old_body, false),
        ],
    )
    .await;
    Mock::given(method("PATCH"))
        .and(path(format!("/repos/{REPO}/issues/31")))
        .and(header("authorization", AUTH))
        .respond_with(ResponseTemplate::new(200).set_body_json(issue_json(31, "x", "", false)))
        .expect(1)
        .named("update issue")
        .mount(&fake.server)
        .await;
    fake.no_other_writes().await;
    let o = run(&args(&a), &env).await;
    ok(&o);
    assert!(stderr(&o).contains("updated nightly alert issue #31"));
    let writes = fake.writes().await;
    assert_eq!(writes.len(), 1, "no second issue, no label call");
    let patch = request_json(&writes[0]);
    assert_eq!(keys(&patch), vec!["body", "title"]);
    let body2 = patch["body"].as_str().unwrap();
    let state2 = AlertState::parse(body2).unwrap();
    assert_eq!(
        state2.first_failed["nginx-1.26-debian"].at,
        "2026-11-20T02:00:00Z"
    );
    assert!(!state2.first_failed.contains_key("recovered-image"));
    assert!(body2.contains("Recovered since the last update: recovered-image"));
    assert!(body2.contains("[2026-11-20T02:00:00Z]("));
    fake.reset().await;

    // Night 3: green -> a comment, then the issue is closed as completed.
    let green = fixture("green");
    let g = report_args(&green, out.path());
    list_issues(
        &fake,
        vec![issue_json(
            31,
            "Nightly golden image build failing",
            body2,
            false,
        )],
    )
    .await;
    Mock::given(method("POST"))
        .and(path(format!("/repos/{REPO}/issues/31/comments")))
        .and(header("authorization", AUTH))
        .respond_with(ResponseTemplate::new(201).set_body_json(comment_json(
            8080,
            "github-actions[bot]",
            "Bot",
            "closing",
        )))
        .expect(1)
        .named("closing comment")
        .mount(&fake.server)
        .await;
    Mock::given(method("PATCH"))
        .and(path(format!("/repos/{REPO}/issues/31")))
        .and(header("authorization", AUTH))
        .and(body_json(
            json!({"state": "closed", "state_reason": "completed"}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(issue_json(31, "x", "", false)))
        .expect(1)
        .named("close issue")
        .mount(&fake.server)
        .await;
    fake.no_other_writes().await;
    let o = run(&args(&g), &env).await;
    ok(&o);
    assert!(stderr(&o).contains("closed nightly alert issue #31"));
    let writes = fake.writes().await;
    assert_eq!(writes[0].method.as_str(), "POST", "comment before closing");
    let comment = request_json(&writes[0]);
    let text = comment["body"].as_str().unwrap();
    assert!(text.contains("is green: all 3 images"), "{text}");
    assert_eq!(writes[1].method.as_str(), "PATCH");
    fake.reset().await;

    // Night 4: green, nothing open -> no write.
    list_issues(&fake, vec![]).await;
    fake.no_other_writes().await;
    let o = run(&args(&g), &env).await;
    ok(&o);
    assert!(fake.writes().await.is_empty());
    fake.reset().await;
}

#[tokio::test]
async fn rate_limits_are_waited_out() {
    let fake = Fake::start("").await;
    let out = tempfile::tempdir().unwrap();
    let green = fixture("green");
    let body = expected_body(&green);
    let env = base_env(&fake);
    fake.user_forbidden().await;
    // First the secondary limit (retry-after), then the primary one (remaining 0, reset).
    Mock::given(method("GET"))
        .and(path(format!("/repos/{REPO}/issues/5/comments")))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "1")
                .set_body_json(json!({"message": "You have exceeded a secondary rate limit"})),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .mount(&fake.server)
        .await;
    let reset = chrono::Utc::now().timestamp() + 1;
    Mock::given(method("POST"))
        .and(path(format!("/repos/{REPO}/issues/5/comments")))
        .respond_with(
            ResponseTemplate::new(403)
                .insert_header("x-ratelimit-remaining", "0")
                .insert_header("x-ratelimit-reset", reset.to_string().as_str())
                .set_body_json(
                    json!({"message": "API rate limit exceeded for installation ID 1."}),
                ),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .mount(&fake.server)
        .await;
    fake.list_comments(5, vec![]).await;
    Mock::given(method("POST"))
        .and(path(format!("/repos/{REPO}/issues/5/comments")))
        .and(body_json(json!({ "body": body })))
        .respond_with(ResponseTemplate::new(201).set_body_json(comment_json(
            1,
            "github-actions[bot]",
            "Bot",
            &body,
        )))
        .expect(1)
        .mount(&fake.server)
        .await;
    let mut a = report_args(&green, out.path());
    a.extend(["--pr".into(), "5".into()]);
    let t = Instant::now();
    let o = run(&args(&a), &env).await;
    ok(&o);
    assert!(t.elapsed() >= Duration::from_secs(1), "{:?}", t.elapsed());
    assert!(stderr(&o).contains("rate limited"), "{}", stderr(&o));
    fake.reset().await;

    // A reset further away than GOLDEN_RATE_LIMIT_MAX_WAIT ends the run with an explanation.
    fake.user_forbidden().await;
    Mock::given(method("GET"))
        .and(path(format!("/repos/{REPO}/issues/5/comments")))
        .respond_with(
            ResponseTemplate::new(403)
                .insert_header("x-ratelimit-remaining", "0")
                .insert_header(
                    "x-ratelimit-reset",
                    (chrono::Utc::now().timestamp() + 3600).to_string().as_str(),
                )
                .set_body_json(json!({"message": "API rate limit exceeded"})),
        )
        .mount(&fake.server)
        .await;
    fake.no_other_writes().await;
    let o = run(&args(&a), &env).await;
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("rate limit is exhausted"),
        "{}",
        stderr(&o)
    );
    fake.reset().await;
}

#[tokio::test]
async fn api_errors_are_explained() {
    let fake = Fake::start("").await;
    let out = tempfile::tempdir().unwrap();
    let mixed = fixture("mixed");
    // The alert with a token that cannot write issues.
    list_issues(&fake, vec![]).await;
    Mock::given(method("GET"))
        .and(path(format!("/repos/{REPO}/labels/golden-nightly-failure")))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"name": "golden-nightly-failure"})),
        )
        .mount(&fake.server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/repos/{REPO}/issues")))
        .respond_with(forbidden())
        .expect(1)
        .mount(&fake.server)
        .await;
    let o = run(&args(&report_args(&mixed, out.path())), &alert_env(&fake)).await;
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("failed to open the alert issue"), "{e}");
    assert!(e.contains("issues: write"), "{e}");
    // The files were written before GitHub was asked anything.
    assert!(out.path().join("summary.json").exists());
    fake.reset().await;

    // A bad token.
    fake.user_forbidden().await;
    Mock::given(method("GET"))
        .and(path(format!("/repos/{REPO}/issues/2/comments")))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "message": "Bad credentials",
            "documentation_url": "https://docs.github.com/rest"
        })))
        .mount(&fake.server)
        .await;
    let mut a = report_args(&mixed, out.path());
    a.extend(["--pr".into(), "2".into()]);
    let o = run(&args(&a), &base_env(&fake)).await;
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(
        e.contains("Bad credentials") && e.contains("invalid or expired"),
        "{e}"
    );
    assert!(!e.contains(TOKEN));
    fake.reset().await;
}
