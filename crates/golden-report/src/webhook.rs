//! Alerts to people: one message per run to Teams, Slack or any HTTP receiver (`json`), sent
//! only when the failure state changes, with retries; a receiver that fails is a warning and a
//! problem in `summary.json`, never an error or a changed exit code.
//!
//! Dedupe ([`State`], `--alert-state FILE`): the state file holds a fingerprint (SHA-256) of the
//! failure state: the sorted failed image keys with their status, the regression keys
//! ([`crate::regress::Regression::key`]) and run-wide error problems; never volatile text.
//!
//! | before | now | sends |
//! |---|---|---|
//! | green (or no state file) | green | nothing |
//! | any | failing, fingerprint changed (or unknown) | `failing` |
//! | failing | failing, same fingerprint | nothing (logged) |
//! | failing | green | `recovered`, once |
//! | corrupt state (warning) | failing | `failing` |
//!
//! The new state is written (temp file + rename) only when every receiver accepted the
//! message, so a failed delivery is retried on the next run.
//!
//! Architecture invariant: webhook URLs and the secret are never printed; a receiver is named
//! by its kind and host.

use golden_gha::{Annotation, Level};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::regress::Regression;
use crate::summary::{
    ImageStatus, ImageSummary, Problem, ProblemKind, ProblemSeverity, RunInfo, RunSummary,
};

/// `schema` of the json payload and of the state file.
pub const PAYLOAD_SCHEMA: u32 = 1;
pub const STATE_SCHEMA: u32 = 1;
/// Attempts per receiver (retried on 5xx, 429 and connection errors).
pub const ATTEMPTS: u32 = 3;
/// The longest `Retry-After` honoured.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WebhookKind {
    Teams,
    Slack,
    Json,
}

impl WebhookKind {
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookKind::Teams => "teams",
            WebhookKind::Slack => "slack",
            WebhookKind::Json => "json",
        }
    }
}

/// One receiver. `Debug` shows the host only: the URL is a secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Receiver {
    pub kind: WebhookKind,
    pub url: String,
}

impl std::fmt::Debug for Receiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.describe())
    }
}

impl Receiver {
    /// `slack webhook at hooks.slack.com`: kind and host, never the path or query.
    pub fn describe(&self) -> String {
        format!("{} webhook at {}", self.kind.as_str(), host_of(&self.url))
    }
}

/// The host (and port) of `url`, or `an invalid URL`.
pub fn host_of(url: &str) -> String {
    match reqwest::Url::parse(url.trim()) {
        Ok(u) => match (u.host_str(), u.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_string(),
            _ => "an URL without host".into(),
        },
        Err(_) => "an invalid URL".into(),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WebhookConfigError {
    #[error(
        "{urls} --webhook-url but {kinds} --webhook-kind (GOLDEN_WEBHOOK_URL, GOLDEN_WEBHOOK_KIND): give one kind for all URLs, or one kind per URL in the same order"
    )]
    KindCount { urls: usize, kinds: usize },
    #[error(
        "--webhook-url (GOLDEN_WEBHOOK_URL) entry {n} ({host}) is not an http(s) URL; hint: https://hooks.slack.com/services/..."
    )]
    BadUrl { n: usize, host: String },
    #[error("--catalog-url (GOLDEN_CATALOG_URL) is not an http(s) URL")]
    BadCatalog,
}

/// Pair URLs and kinds by position (one kind: for every URL). Blank URL lines are dropped.
pub fn receivers(
    urls: &[String],
    kinds: &[WebhookKind],
) -> Result<Vec<Receiver>, WebhookConfigError> {
    let urls: Vec<&str> = urls
        .iter()
        .map(|u| u.trim())
        .filter(|u| !u.is_empty())
        .collect();
    if urls.is_empty() {
        return Ok(Vec::new());
    }
    let kind_of = |n: usize| -> Result<WebhookKind, WebhookConfigError> {
        match kinds.len() {
            0 => Ok(WebhookKind::Json),
            1 => Ok(kinds[0]),
            k if k == urls.len() => Ok(kinds[n]),
            k => Err(WebhookConfigError::KindCount {
                urls: urls.len(),
                kinds: k,
            }),
        }
    };
    let mut out = Vec::new();
    for (n, u) in urls.iter().enumerate() {
        let ok = reqwest::Url::parse(u)
            .is_ok_and(|p| matches!(p.scheme(), "http" | "https") && p.host_str().is_some());
        if !ok {
            return Err(WebhookConfigError::BadUrl {
                n: n + 1,
                host: host_of(u),
            });
        }
        out.push(Receiver {
            kind: kind_of(n)?,
            url: (*u).to_string(),
        });
    }
    Ok(out)
}

/// Validate `--catalog-url`.
pub fn catalog_url(url: Option<&str>) -> Result<Option<String>, WebhookConfigError> {
    match url.map(str::trim).filter(|u| !u.is_empty()) {
        None => Ok(None),
        Some(u) => match reqwest::Url::parse(u) {
            Ok(p) if matches!(p.scheme(), "http" | "https") => Ok(Some(u.to_string())),
            _ => Err(WebhookConfigError::BadCatalog),
        },
    }
}

/// Receivers, the signing secret, links and the state file.
#[derive(Clone, Default)]
pub struct Settings {
    pub receivers: Vec<Receiver>,
    /// HMAC-SHA256 key for json receivers.
    pub secret: Option<String>,
    pub catalog_url: Option<String>,
    pub state: Option<PathBuf>,
    /// Per-attempt timeout [default: 10 s].
    pub timeout: Option<Duration>,
    /// First retry delay, doubled each attempt [default: 1 s].
    pub backoff: Option<Duration>,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("receivers", &self.receivers)
            .field("secret", &self.secret.as_ref().map(|_| "***"))
            .field("catalog_url", &self.catalog_url)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

/// What the message is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Event {
    Failing,
    Recovered,
}

impl Event {
    pub fn as_str(self) -> &'static str {
        match self {
            Event::Failing => "failing",
            Event::Recovered => "recovered",
        }
    }
}

/// The dedupe state file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    pub schema: u32,
    /// `failing` or `green`.
    pub status: StateStatus,
    /// SHA-256 (hex) of `items` joined by line feeds; empty when green.
    pub fingerprint: String,
    /// The sorted failure items the fingerprint was made from.
    #[serde(default)]
    pub items: Vec<String>,
    pub updated_at: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StateStatus {
    Failing,
    Green,
}

/// The previous state as read at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Previous {
    /// No state file: treated as green.
    Green,
    Failing(String),
    /// Corrupt or unreadable: send if failing.
    Unknown,
}

/// Read the state file: missing = green, corrupt = unknown (and a warning).
pub fn read_state(path: &Path) -> (Previous, Option<Problem>) {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (Previous::Green, None),
        Err(e) => {
            return (
                Previous::Unknown,
                Some(state_warning(path, &format!("cannot read it: {e}"))),
            );
        }
    };
    match serde_json::from_str::<State>(&text) {
        Ok(s) if s.schema <= STATE_SCHEMA => match s.status {
            StateStatus::Green => (Previous::Green, None),
            StateStatus::Failing => (Previous::Failing(s.fingerprint), None),
        },
        Ok(s) => (
            Previous::Unknown,
            Some(state_warning(
                path,
                &format!("schema {} is newer than {STATE_SCHEMA}", s.schema),
            )),
        ),
        Err(e) => (
            Previous::Unknown,
            Some(state_warning(
                path,
                &format!("not a valid state file ({e})"),
            )),
        ),
    }
}

fn state_warning(path: &Path, what: &str) -> Problem {
    Problem {
        kind: ProblemKind::Webhook,
        severity: ProblemSeverity::Warning,
        path: Some(path.display().to_string()),
        image: None,
        message: format!(
            "alert state `{}`: {what}; the previous alert is unknown, so a failing run alerts again",
            path.display()
        ),
    }
}

/// The failure items of a run, sorted: `image:<key>:<status>`, `regression:<key>`,
/// `problem:<kind>` (run-wide errors). Empty: green.
pub fn failure_items(s: &RunSummary) -> Vec<String> {
    let mut items: Vec<String> = Vec::new();
    for i in s.images.iter().filter(|i| i.status.failed()) {
        items.push(format!("image:{}:{}", i.key(), i.status.as_str()));
    }
    for r in &s.regressions {
        items.push(format!("regression:{}", r.key()));
    }
    for p in s
        .problems
        .iter()
        .filter(|p| p.severity == ProblemSeverity::Error && p.image.is_none())
    {
        let kind = serde_json::to_value(p.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        items.push(format!("problem:{kind}"));
    }
    items.sort();
    items.dedup();
    items
}

pub fn fingerprint(items: &[String]) -> String {
    hex::encode(Sha256::digest(items.join("\n").as_bytes()))
}

/// What to send given the previous state and this run's items (`None`: nothing).
pub fn decide(prev: &Previous, items: &[String]) -> Option<Event> {
    if items.is_empty() {
        return matches!(prev, Previous::Failing(_)).then_some(Event::Recovered);
    }
    match prev {
        Previous::Failing(f) if *f == fingerprint(items) => None,
        _ => Some(Event::Failing),
    }
}

/// One failed image for the message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    pub image: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
    /// `build_failed`, `policy_failed`, `incomplete`.
    pub status: ImageStatus,
    /// Why, in one line (the build error, the policy failures, the missing documents).
    pub reason: String,
}

fn one_line(s: &str, max: usize) -> String {
    let flat: String = s
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(max)
        .collect();
    flat
}

fn failure(i: &ImageSummary) -> Failure {
    let reason = match i.status {
        ImageStatus::BuildFailed => i
            .build
            .as_ref()
            .and_then(|b| b.error.as_ref())
            .map(|e| e.message.clone())
            .unwrap_or_else(|| "the build failed".into()),
        ImageStatus::PolicyFailed => {
            let msgs: Vec<String> = i
                .scan
                .iter()
                .flat_map(|s| &s.policy_failures)
                .map(|f| f.message.clone())
                .collect();
            if msgs.is_empty() {
                "the scan policy failed".into()
            } else {
                msgs.join("; ")
            }
        }
        ImageStatus::Incomplete => {
            if i.problems.is_empty() {
                "documents are missing".into()
            } else {
                i.problems.join("; ")
            }
        }
        ImageStatus::Ok => String::new(),
    };
    Failure {
        image: i.id.clone(),
        arch: i.arch.clone(),
        status: i.status,
        reason: one_line(&reason, 300),
    }
}

/// What every payload is made from.
#[derive(Debug, Clone)]
pub struct Message<'a> {
    pub event: Event,
    pub run: &'a RunInfo,
    pub catalog_url: Option<&'a str>,
    pub images: u64,
    pub failures: Vec<Failure>,
    pub regressions: &'a [Regression],
    pub generated_at: &'a str,
}

impl<'a> Message<'a> {
    pub fn new(event: Event, s: &'a RunSummary, catalog_url: Option<&'a str>) -> Self {
        let failing = event == Event::Failing;
        Message {
            event,
            run: &s.run,
            catalog_url,
            images: s.totals.images,
            failures: if failing {
                s.images
                    .iter()
                    .filter(|i| i.status.failed())
                    .map(failure)
                    .collect()
            } else {
                Vec::new()
            },
            regressions: if failing { &s.regressions } else { &[] },
            generated_at: &s.generated_at,
        }
    }

    fn title(&self) -> String {
        let repo = self.run.repository.as_deref().unwrap_or("golden images");
        match self.event {
            Event::Recovered => format!(
                "✅ Golden images recovered: all {} pass ({repo})",
                self.images
            ),
            Event::Failing => format!(
                "❌ Golden images: {} failed, {} regressions ({repo})",
                self.failures.len(),
                self.regressions.len()
            ),
        }
    }

    fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        for f in &self.failures {
            let arch = f
                .arch
                .as_deref()
                .map(|a| format!(" ({a})"))
                .unwrap_or_default();
            out.push(format!(
                "{}{arch}: {}: {}",
                f.image,
                crate::markdown::status_text(f.status),
                f.reason
            ));
        }
        for r in self.regressions {
            out.push(format!("regression: {}", one_line(&r.message, 300)));
        }
        out
    }
}

/// The json body (documented in the crate README).
pub fn json_payload(m: &Message<'_>) -> Value {
    json!({
        "schema": PAYLOAD_SCHEMA,
        "status": m.event,
        "generated_at": m.generated_at,
        "run": {
            "repository": m.run.repository,
            "workflow": m.run.workflow,
            "event": m.run.event,
            "sha": m.run.sha,
            "url": m.run.run_url,
        },
        "catalog_url": m.catalog_url,
        "images": m.images,
        "failures": m.failures,
        "regressions": m.regressions,
    })
}

/// Escape Slack's control characters in untrusted text (`&`, `<`, `>`).
pub fn slack_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn cap(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// Slack incoming webhook with Block Kit: `text` fallback, header, mrkdwn section, context links.
pub fn slack_payload(m: &Message<'_>) -> Value {
    let title = m.title();
    let mut body: Vec<String> = m
        .lines()
        .iter()
        .map(|l| format!("• {}", slack_escape(l)))
        .collect();
    if body.is_empty() {
        body.push("Every image passed.".into());
    }
    let mut links = Vec::new();
    if let Some(u) = &m.run.run_url {
        links.push(format!("<{}|Run>", slack_escape(u)));
    }
    if let Some(u) = m.catalog_url {
        links.push(format!("<{}|Catalog>", slack_escape(u)));
    }
    if links.is_empty() {
        links.push("golden-report".into());
    }
    json!({
        "text": slack_escape(&title),
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": cap(&title, 150), "emoji": true}},
            {"type": "section", "text": {"type": "mrkdwn", "text": cap(&body.join("\n"), 2900)}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": links.join(" · ")}]},
        ],
    })
}

/// Adaptive Card TextBlocks render a Markdown subset: break link syntax (`[text](url)`) and
/// angle brackets in untrusted text so a document cannot put a disguised link in the card.
pub fn teams_escape(s: &str) -> String {
    s.replace("](", "] (").replace('<', "‹").replace('>', "›")
}

/// Teams Workflows ("When a Teams webhook request is received"): an Adaptive Card 1.4.
pub fn teams_payload(m: &Message<'_>) -> Value {
    let mut body = vec![json!({
        "type": "TextBlock", "text": teams_escape(&m.title()), "weight": "Bolder", "size": "Medium", "wrap": true
    })];
    for l in m.lines().iter().take(40) {
        body.push(json!({"type": "TextBlock", "text": cap(&teams_escape(l), 400), "wrap": true}));
    }
    let mut actions = Vec::new();
    if let Some(u) = &m.run.run_url {
        actions.push(json!({"type": "Action.OpenUrl", "title": "Run", "url": u}));
    }
    if let Some(u) = m.catalog_url {
        actions.push(json!({"type": "Action.OpenUrl", "title": "Catalog", "url": u}));
    }
    let mut card = json!({
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": "1.4",
        "body": body,
    });
    if !actions.is_empty() {
        card["actions"] = Value::Array(actions);
    }
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": card,
        }],
    })
}

/// `sha256=<hex HMAC-SHA256 of body>`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    // HMAC accepts keys of any length.
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// A unique delivery id (time, process, counter, hashed).
fn delivery_id() -> String {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let h = Sha256::digest(format!("{t}:{}:{n}", std::process::id()).as_bytes());
    let x = hex::encode(&h[..16]);
    format!(
        "{}-{}-{}-{}-{}",
        &x[..8],
        &x[8..12],
        &x[12..16],
        &x[16..20],
        &x[20..32]
    )
}

/// Why a receiver did not accept the message (no URL in it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryFailure {
    pub attempts: u32,
    pub last: String,
}

fn retry_after(r: &reqwest::Response) -> Option<Duration> {
    let v = r
        .headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?;
    let secs: u64 = v.trim().parse().ok()?;
    Some(Duration::from_secs(secs).min(MAX_RETRY_AFTER))
}

fn describe_error(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "connection failed".into()
    } else {
        "request failed".into()
    }
}

/// Post `body` to `rx` with up to [`ATTEMPTS`] attempts.
async fn deliver(
    client: &reqwest::Client,
    rx: &Receiver,
    body: &[u8],
    headers: &[(&'static str, String)],
    backoff: Duration,
) -> Result<u16, DeliveryFailure> {
    let mut last = String::new();
    for attempt in 1..=ATTEMPTS {
        let mut req = client
            .post(&rx.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(
                reqwest::header::USER_AGENT,
                concat!("golden-report/", env!("CARGO_PKG_VERSION")),
            )
            .body(body.to_vec());
        for (k, v) in headers {
            req = req.header(*k, v);
        }
        let wait = match req.send().await {
            Ok(r) if r.status().is_success() => return Ok(r.status().as_u16()),
            Ok(r) => {
                let st = r.status();
                last = format!("HTTP {}", st.as_u16());
                if !(st.is_server_error() || st == reqwest::StatusCode::TOO_MANY_REQUESTS) {
                    return Err(DeliveryFailure {
                        attempts: attempt,
                        last,
                    });
                }
                retry_after(&r)
            }
            Err(e) => {
                last = describe_error(&e.without_url());
                None
            }
        };
        if attempt < ATTEMPTS {
            let d = wait.unwrap_or(backoff * 2u32.pow(attempt - 1));
            tokio::time::sleep(d).await;
        }
    }
    Err(DeliveryFailure {
        attempts: ATTEMPTS,
        last,
    })
}

/// The body and extra headers of `m` for a receiver of `kind`.
pub fn render(
    kind: WebhookKind,
    m: &Message<'_>,
    secret: Option<&str>,
) -> (Vec<u8>, Vec<(&'static str, String)>) {
    let value = match kind {
        WebhookKind::Teams => teams_payload(m),
        WebhookKind::Slack => slack_payload(m),
        WebhookKind::Json => json_payload(m),
    };
    let body = serde_json::to_vec(&value).unwrap_or_default();
    let mut headers = Vec::new();
    if kind == WebhookKind::Json {
        headers.push(("X-Golden-Event", m.event.as_str().to_string()));
        headers.push(("X-Golden-Delivery", delivery_id()));
        if let Some(s) = secret.filter(|s| !s.is_empty()) {
            headers.push(("X-Golden-Signature-256", signature(s, &body)));
        }
    }
    (body, headers)
}

fn log(msg: &str) {
    eprintln!("golden-report: webhook: {msg}");
}

/// Decide, send and record. Returns the problems to add to the summary (warnings).
pub async fn notify(settings: &Settings, summary: &RunSummary) -> Vec<Problem> {
    let mut problems = Vec::new();
    for r in &settings.receivers {
        golden_gha::add_mask(&r.url);
    }
    if let Some(s) = &settings.secret {
        golden_gha::add_mask(s);
    }
    let prev = match &settings.state {
        Some(p) => {
            let (prev, warn) = read_state(p);
            if let Some(w) = warn {
                golden_gha::annotate(
                    Level::Warning,
                    &Annotation::default(),
                    &golden_gha::neutralize(&w.message),
                );
                problems.push(w);
            }
            prev
        }
        None => Previous::Unknown,
    };
    let items = failure_items(summary);
    let fp = fingerprint(&items);
    let Some(event) = decide(&prev, &items) else {
        if items.is_empty() {
            log("green, and green before: nothing sent");
        } else {
            log(&format!(
                "failure state unchanged since the last alert (fingerprint {}): nothing sent",
                &fp[..12]
            ));
        }
        return problems;
    };
    let msg = Message::new(event, summary, settings.catalog_url.as_deref());
    let client = match reqwest::Client::builder()
        .timeout(settings.timeout.unwrap_or(Duration::from_secs(10)))
        .connect_timeout(Duration::from_secs(5))
        // A redirect would carry the (signed) body to a host nobody configured.
        .redirect(reqwest::redirect::Policy::none())
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            let p = Problem {
                kind: ProblemKind::Webhook,
                severity: ProblemSeverity::Warning,
                path: None,
                image: None,
                message: format!(
                    "webhook: cannot set up the HTTP client ({}); no alert sent",
                    describe_error(&e.without_url())
                ),
            };
            golden_gha::annotate(Level::Warning, &Annotation::default(), &p.message);
            problems.push(p);
            return problems;
        }
    };
    let backoff = settings.backoff.unwrap_or(Duration::from_secs(1));
    let mut all_ok = true;
    for rx in &settings.receivers {
        let (body, headers) = render(rx.kind, &msg, settings.secret.as_deref());
        match deliver(&client, rx, &body, &headers, backoff).await {
            Ok(code) => log(&format!(
                "{} message sent to the {} (HTTP {code})",
                event.as_str(),
                rx.describe()
            )),
            Err(f) => {
                all_ok = false;
                let text = format!(
                    "webhook: the {} did not accept the {} alert after {} attempts ({}); it is sent again on the next run",
                    rx.describe(),
                    event.as_str(),
                    f.attempts,
                    f.last
                );
                golden_gha::annotate(
                    Level::Warning,
                    &Annotation::default(),
                    &golden_gha::neutralize(&text),
                );
                problems.push(Problem {
                    kind: ProblemKind::Webhook,
                    severity: ProblemSeverity::Warning,
                    path: None,
                    image: None,
                    message: text,
                });
            }
        }
    }
    if let Some(path) = &settings.state {
        if all_ok {
            let state = State {
                schema: STATE_SCHEMA,
                status: if items.is_empty() {
                    StateStatus::Green
                } else {
                    StateStatus::Failing
                },
                fingerprint: if items.is_empty() { String::new() } else { fp },
                items,
                updated_at: summary.generated_at.clone(),
            };
            let text = serde_json::to_string_pretty(&state).unwrap_or_default() + "\n";
            if let Err(e) = golden_contracts::write_atomic(path, text.as_bytes()) {
                let p = state_warning(path, &format!("cannot write it ({e})"));
                golden_gha::annotate(
                    Level::Warning,
                    &Annotation::default(),
                    &golden_gha::neutralize(&p.message),
                );
                problems.push(p);
            }
        } else {
            log("a receiver failed: the alert state is not updated, so the next run sends again");
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairing_by_position_or_one_kind_for_all() {
        let urls = vec![
            "https://a.example/x".to_string(),
            "https://b.example/y".to_string(),
        ];
        let r = receivers(&urls, &[WebhookKind::Slack]).unwrap_or_default();
        assert_eq!(r.len(), 2);
        assert!(r.iter().all(|x| x.kind == WebhookKind::Slack));
        let r = receivers(&urls, &[WebhookKind::Slack, WebhookKind::Teams]).unwrap_or_default();
        assert_eq!(r[1].kind, WebhookKind::Teams);
        let e = receivers(
            &urls,
            &[WebhookKind::Slack, WebhookKind::Teams, WebhookKind::Json],
        );
        assert!(matches!(
            e,
            Err(WebhookConfigError::KindCount { urls: 2, kinds: 3 })
        ));
        let e = receivers(&["ftp://h.example/secret-path".into()], &[]);
        let msg = e.map(|_| String::new()).unwrap_or_else(|e| e.to_string());
        assert!(
            msg.contains("h.example") && !msg.contains("secret-path"),
            "{msg}"
        );
    }

    #[test]
    fn decisions() {
        let items = vec!["image:nginx:build_failed".to_string()];
        let fp = fingerprint(&items);
        assert_eq!(decide(&Previous::Green, &[]), None);
        assert_eq!(decide(&Previous::Unknown, &[]), None);
        assert_eq!(
            decide(&Previous::Failing(fp.clone()), &[]),
            Some(Event::Recovered)
        );
        assert_eq!(decide(&Previous::Failing(fp.clone()), &items), None);
        assert_eq!(
            decide(&Previous::Failing("other".into()), &items),
            Some(Event::Failing)
        );
        assert_eq!(decide(&Previous::Green, &items), Some(Event::Failing));
        assert_eq!(decide(&Previous::Unknown, &items), Some(Event::Failing));
    }

    #[test]
    fn hostile_document_text_cannot_ping_or_link() {
        let mut s: RunSummary = serde_json::from_value(json!({
            "schema": 1, "tool": "t", "generated_at": "2026-01-01T00:00:00Z", "input": "in",
            "totals": {"images": 1, "ok": 0, "failed": 1, "build_failed": 1, "policy_failed": 0,
                "incomplete": 0, "builds_succeeded": 0, "builds_failed": 1, "problems": 0,
                "vulnerabilities": {}, "new_vulnerabilities": 0, "fixed_vulnerabilities": 0},
            "images": [{"id": "x<!channel>", "name": "x", "status": "build_failed",
                "build": {"succeeded": false, "duration_seconds": 1.0, "started_at": "t",
                    "error": {"message": "see [here](https://evil.example) <https://evil.example|ok> & more"}}}]
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        s.run.run_url = Some("https://github.com/o/r/actions/runs/1".into());
        let m = Message::new(Event::Failing, &s, None);
        let slack = slack_payload(&m).to_string();
        assert!(
            !slack.contains("<!channel>") && !slack.contains("<https://evil"),
            "{slack}"
        );
        assert!(
            slack.contains("&lt;!channel&gt;") && slack.contains("&amp; more"),
            "{slack}"
        );
        let teams = teams_payload(&m).to_string();
        assert!(
            !teams.contains("](https://evil") && !teams.contains("<!channel>"),
            "{teams}"
        );
        let json = json_payload(&m);
        // The json body carries the text as data, unchanged.
        assert_eq!(json["failures"][0]["image"], "x<!channel>");
    }

    #[test]
    fn slack_text_is_escaped() {
        assert_eq!(
            slack_escape("<!channel> & <a|b>"),
            "&lt;!channel&gt; &amp; &lt;a|b&gt;"
        );
    }
}
