//! Shipping the run's metrics: a Prometheus Pushgateway (`--pushgateway`) and OTLP/HTTP JSON
//! (`--otlp-endpoint`, `--otlp-file`). See docs/monitoring.md.
//!
//! The source is what [`crate::metrics::render`] wrote to `metrics.prom` (OpenMetrics), parsed
//! back into families and samples ([`parse_openmetrics`]), so everything the file carries is
//! shipped and nothing else:
//! - to the Pushgateway as the Prometheus text format 0.0.4 (no `# UNIT`, no `# EOF`), one
//!   `PUT` per group: one group per image (`job`, `workflow`, `image`, `arch` when set) with
//!   that image's series, and one run-level group (`job`, `workflow`) with the run-wide ones.
//!   A `PUT` replaces its group only, so the next run replaces exactly the same image's series
//!   and leaves the others alone;
//! - as one OTLP `ExportMetricsServiceRequest` in the JSON encoding: every family a gauge.
//!
//! Delivery never fails the run: each target gets a timeout and 3 attempts with backoff on
//! connection errors and 5xx; what still fails is returned as a [`Delivery`] with an error, and
//! the binary prints it as a warning. URLs are printed redacted ([`redact`]): no userinfo, no
//! query. Secrets (passwords, tokens, header values) are never printed.
//!
//! Architecture invariant: no secret reaches a message; reqwest errors are printed without
//! their URL (`without_url`).

use base64::Engine as _;
use reqwest::Url;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Default Pushgateway job label.
pub const DEFAULT_JOB: &str = "golden-images";
/// Path appended to an OTLP endpoint without a path (as with `OTEL_EXPORTER_OTLP_ENDPOINT`).
pub const OTLP_METRICS_PATH: &str = "/v1/metrics";
/// The Prometheus text format the Pushgateway reads.
pub const TEXT_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

#[derive(Debug, thiserror::Error)]
pub enum ShipError {
    #[error(
        "{flag}: not a valid http(s) URL ({reason}); expected e.g. `https://pushgateway.example.com:9091`"
    )]
    BadUrl { flag: &'static str, reason: String },
    #[error(
        "GOLDEN_PUSHGATEWAY_TOKEN and basic auth ({which}) are both set: set one (the token is sent as `Authorization: Bearer`)"
    )]
    AuthConflict { which: &'static str },
    #[error(
        "GOLDEN_PUSHGATEWAY_USERNAME and GOLDEN_PUSHGATEWAY_PASSWORD go together: {missing} is not set"
    )]
    AuthIncomplete { missing: &'static str },
    #[error(
        "GOLDEN_OTLP_HEADERS: entry {index} is not `key=value` (expected `k=v,k2=v2`, like OTEL_EXPORTER_OTLP_HEADERS)"
    )]
    BadHeader { index: usize },
    #[error("GOLDEN_OTLP_HEADERS: entry {index}: `{name}` is not a valid HTTP header name")]
    BadHeaderName { index: usize, name: String },
    #[error("failed to read the metrics: line {line}: {reason}")]
    Parse { line: usize, reason: String },
    #[error("failed to write the OTLP payload `{path}`")]
    WriteFile {
        path: PathBuf,
        #[source]
        source: golden_contracts::DocError,
    },
    #[error("failed to set up the HTTP client")]
    Client(#[source] reqwest::Error),
}

/// How the Pushgateway is authenticated.
#[derive(Clone, Default, PartialEq, Eq)]
pub enum Auth {
    #[default]
    None,
    Basic {
        username: String,
        password: String,
    },
    Bearer(String),
}

impl std::fmt::Debug for Auth {
    // Never the secret, not even in a debug print.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::None => f.write_str("None"),
            Auth::Basic { username, .. } => write!(f, "Basic({username}, ***)"),
            Auth::Bearer(_) => f.write_str("Bearer(***)"),
        }
    }
}

impl Auth {
    /// From `GOLDEN_PUSHGATEWAY_USERNAME`/`_PASSWORD`/`_TOKEN` (already read, empty = unset);
    /// credentials in the URL count as basic auth.
    pub fn from_parts(
        username: Option<String>,
        password: Option<String>,
        token: Option<String>,
        url_basic: Option<(String, String)>,
    ) -> Result<Auth, ShipError> {
        let env_basic = match (username, password) {
            (Some(u), Some(p)) => Some((u, p)),
            (Some(_), None) => {
                return Err(ShipError::AuthIncomplete {
                    missing: "GOLDEN_PUSHGATEWAY_PASSWORD",
                });
            }
            (None, Some(_)) => {
                return Err(ShipError::AuthIncomplete {
                    missing: "GOLDEN_PUSHGATEWAY_USERNAME",
                });
            }
            (None, None) => None,
        };
        match (env_basic, url_basic, token) {
            (Some(_), Some(_), _) => Err(ShipError::AuthConflict {
                which: "GOLDEN_PUSHGATEWAY_USERNAME/PASSWORD and credentials in the --pushgateway URL",
            }),
            (Some(_), None, Some(_)) => Err(ShipError::AuthConflict {
                which: "GOLDEN_PUSHGATEWAY_USERNAME/PASSWORD",
            }),
            (None, Some(_), Some(_)) => Err(ShipError::AuthConflict {
                which: "credentials in the --pushgateway URL",
            }),
            (Some((username, password)), None, None) | (None, Some((username, password)), None) => {
                Ok(Auth::Basic { username, password })
            }
            (None, None, Some(t)) => Ok(Auth::Bearer(t)),
            (None, None, None) => Ok(Auth::None),
        }
    }

    fn secrets(&self) -> Vec<&str> {
        match self {
            Auth::None => Vec::new(),
            Auth::Basic { password, .. } => vec![password.as_str()],
            Auth::Bearer(t) => vec![t.as_str()],
        }
    }
}

/// A target URL: what is requested (without userinfo) and what may be printed.
#[derive(Clone)]
pub struct Target {
    url: Url,
    /// Userinfo found in the URL (`https://user:pass@host`), taken out of the URL.
    pub url_basic: Option<(String, String)>,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&redact(&self.url))
    }
}

impl Target {
    /// Parse the URL of `flag`; the error never repeats the URL (it may hold a password).
    pub fn parse(flag: &'static str, raw: &str) -> Result<Target, ShipError> {
        let mut url = Url::parse(raw.trim()).map_err(|e| ShipError::BadUrl {
            flag,
            reason: e.to_string(),
        })?;
        if url.scheme() != "http" && url.scheme() != "https" {
            return Err(ShipError::BadUrl {
                flag,
                reason: format!("scheme `{}`", url.scheme()),
            });
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(ShipError::BadUrl {
                flag,
                reason: "no host".into(),
            });
        }
        let url_basic = if url.username().is_empty() && url.password().is_none() {
            None
        } else {
            let user = percent_decode(url.username());
            let pass = url.password().map(percent_decode).unwrap_or_default();
            let _ = url.set_username("");
            let _ = url.set_password(None);
            Some((user, pass))
        };
        Ok(Target { url, url_basic })
    }

    /// The URL as printed: [`redact`].
    pub fn redacted(&self) -> String {
        redact(&self.url)
    }
}

/// A URL safe to print: userinfo removed, the query replaced by `?REDACTED`, no fragment.
pub fn redact(url: &Url) -> String {
    let mut u = url.clone();
    let _ = u.set_username("");
    let _ = u.set_password(None);
    u.set_fragment(None);
    if u.query().is_some() {
        u.set_query(Some("REDACTED"));
    }
    u.to_string()
}

/// Redact every URL-looking word of `text` (`http://...`, `https://...`): for messages that
/// may carry one (reqwest's are printed without theirs anyway).
pub fn redact_text(text: &str) -> String {
    text.split(' ')
        .map(|w| {
            if w.starts_with("http://") || w.starts_with("https://") {
                Url::parse(w).map_or_else(|_| "<url>".to_string(), |u| redact(&u))
            } else {
                w.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if let Some(v) = (b[i] == b'%')
            .then(|| s.get(i + 1..i + 3))
            .flatten()
            .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `GOLDEN_OTLP_HEADERS`: `k=v,k2=v2` (values percent-decoded, as OTEL_EXPORTER_OTLP_HEADERS).
pub fn parse_headers(text: &str) -> Result<Vec<(String, String)>, ShipError> {
    let mut out = Vec::new();
    for (n, part) in text.split(',').enumerate() {
        if part.trim().is_empty() {
            continue;
        }
        let Some((k, v)) = part.split_once('=') else {
            return Err(ShipError::BadHeader { index: n + 1 });
        };
        let k = k.trim();
        if k.is_empty() || reqwest::header::HeaderName::from_bytes(k.as_bytes()).is_err() {
            return Err(ShipError::BadHeaderName {
                index: n + 1,
                name: golden_gha::neutralize(k),
            });
        }
        out.push((k.to_string(), percent_decode(v.trim())));
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// The metrics model, read back from metrics.prom.

/// One sample: its labels in file order and its value as written.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub labels: Vec<(String, String)>,
    pub value: String,
}

impl Sample {
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// One metric family (all gauges today).
#[derive(Debug, Clone, PartialEq)]
pub struct Family {
    pub name: String,
    pub kind: String,
    pub help: String,
    pub unit: Option<String>,
    pub samples: Vec<Sample>,
}

/// Parse the OpenMetrics text [`crate::metrics::render`] writes (`# TYPE`, `# UNIT`, `# HELP`,
/// samples without timestamps, `# EOF`).
pub fn parse_openmetrics(text: &str) -> Result<Vec<Family>, ShipError> {
    let mut families: Vec<Family> = Vec::new();
    let err = |line: usize, reason: &str| ShipError::Parse {
        line,
        reason: reason.to_string(),
    };
    for (n, line) in text.lines().enumerate() {
        let n = n + 1;
        if line.is_empty() || line == "# EOF" {
            continue;
        }
        if let Some(rest) = line.strip_prefix("# ") {
            let (kw, rest) = rest.split_once(' ').ok_or_else(|| err(n, "bad comment"))?;
            let (name, arg) = rest.split_once(' ').unwrap_or((rest, ""));
            if !matches!(kw, "TYPE" | "UNIT" | "HELP") {
                return Err(err(n, "unknown comment"));
            }
            // Metadata opens its family, whatever order it comes in (OpenMetrics: TYPE
            // first; the text format 0.0.4: HELP first).
            if families
                .last()
                .is_none_or(|f| f.name != name || !f.samples.is_empty())
            {
                families.push(Family {
                    name: name.to_string(),
                    kind: "untyped".into(),
                    help: String::new(),
                    unit: None,
                    samples: Vec::new(),
                });
            }
            let f = families
                .last_mut()
                .ok_or_else(|| err(n, "metadata without a family"))?;
            match kw {
                "TYPE" => f.kind = arg.to_string(),
                "UNIT" => f.unit = Some(arg.to_string()),
                _ => f.help = unescape(arg),
            }
            continue;
        }
        let (name, labels, value) = parse_sample(line).ok_or_else(|| err(n, "bad sample"))?;
        let f = families
            .last_mut()
            .filter(|f| f.name == name)
            .ok_or_else(|| err(n, "sample outside its family"))?;
        f.samples.push(Sample { labels, value });
    }
    Ok(families)
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c == '\\' {
            match it.next() {
                Some('n') => out.push('\n'),
                Some(o) => out.push(o),
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[allow(clippy::type_complexity)]
fn parse_sample(line: &str) -> Option<(String, Vec<(String, String)>, String)> {
    let name_end = line.find(['{', ' '])?;
    let name = line[..name_end].to_string();
    let mut rest = &line[name_end..];
    let mut labels = Vec::new();
    if let Some(r) = rest.strip_prefix('{') {
        let mut r = r;
        loop {
            if let Some(after) = r.strip_prefix('}') {
                r = after;
                break;
            }
            let r2 = r.strip_prefix(',').unwrap_or(r);
            let (k, after) = r2.split_once("=\"")?;
            let mut value = String::new();
            let mut chars = after.char_indices();
            let end = loop {
                let (i, c) = chars.next()?;
                match c {
                    '\\' => match chars.next()?.1 {
                        'n' => value.push('\n'),
                        o => value.push(o),
                    },
                    '"' => break i,
                    o => value.push(o),
                }
            };
            labels.push((k.to_string(), value));
            r = &after[end + 1..];
        }
        rest = r;
    }
    let value = rest.trim();
    if value.is_empty() || value.contains(' ') {
        return None;
    }
    Some((name, labels, value.to_string()))
}

/// The number of series (samples) of `families`.
pub fn series(families: &[Family]) -> usize {
    families.iter().map(|f| f.samples.len()).sum()
}

// ---------------------------------------------------------------------------------------------
// Pushgateway.

fn escape_label(v: &str) -> String {
    crate::metrics::escape_label(v)
}

/// The Prometheus text format 0.0.4 of `families` (HELP, TYPE, samples; no UNIT, no EOF).
pub fn render_text(families: &[Family]) -> String {
    let mut out = String::new();
    for f in families.iter().filter(|f| !f.samples.is_empty()) {
        let help = f.help.replace('\\', "\\\\").replace('\n', "\\n");
        let _ = writeln!(out, "# HELP {} {help}", f.name);
        let _ = writeln!(out, "# TYPE {} {}", f.name, f.kind);
        for s in &f.samples {
            if s.labels.is_empty() {
                let _ = writeln!(out, "{} {}", f.name, s.value);
            } else {
                let labels: Vec<String> = s
                    .labels
                    .iter()
                    .map(|(k, v)| format!("{k}=\"{}\"", escape_label(v)))
                    .collect();
                let _ = writeln!(out, "{}{{{}}} {}", f.name, labels.join(","), s.value);
            }
        }
    }
    out
}

/// One Pushgateway group: its grouping labels (in path order, `job` first) and its families.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub labels: Vec<(String, String)>,
    pub families: Vec<Family>,
}

/// Split the families into the run-level group and one group per image (and architecture).
pub fn groups(families: &[Family], job: &str, workflow: &str) -> Vec<Group> {
    let base = vec![
        ("job".to_string(), job.to_string()),
        ("workflow".to_string(), workflow.to_string()),
    ];
    let mut out: Vec<Group> = vec![Group {
        labels: base.clone(),
        families: Vec::new(),
    }];
    for f in families {
        for s in &f.samples {
            let mut key = base.clone();
            if let Some(image) = s.label("image") {
                key.push(("image".into(), image.into()));
                if let Some(arch) = s.label("arch") {
                    key.push(("arch".into(), arch.into()));
                }
            }
            let g = match out.iter().position(|g| g.labels == key) {
                Some(i) => &mut out[i],
                None => {
                    out.push(Group {
                        labels: key,
                        families: Vec::new(),
                    });
                    out.last_mut().unwrap_or_else(|| unreachable!())
                }
            };
            match g.families.iter_mut().find(|x| x.name == f.name) {
                Some(x) => x.samples.push(s.clone()),
                None => g.families.push(Family {
                    samples: vec![s.clone()],
                    ..f.clone()
                }),
            }
        }
    }
    out
}

fn plain_segment(v: &str) -> bool {
    !v.is_empty()
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':' | b'~'))
}

/// The path of a group: `/metrics/job/<job>/<name>/<value>...`, a value that is empty or not
/// plain (`/`, spaces, ...) as `<name>@base64/<base64url>` (`=` for the empty value).
pub fn group_path(labels: &[(String, String)]) -> String {
    let mut p = String::from("/metrics");
    for (k, v) in labels {
        if plain_segment(v) {
            let _ = write!(p, "/{k}/{v}");
        } else if v.is_empty() {
            let _ = write!(p, "/{k}@base64/=");
        } else {
            let enc = base64::engine::general_purpose::URL_SAFE.encode(v.as_bytes());
            let _ = write!(p, "/{k}@base64/{enc}");
        }
    }
    p
}

// ---------------------------------------------------------------------------------------------
// OTLP.

fn otlp_unit(unit: Option<&str>) -> &'static str {
    match unit {
        Some("seconds") => "s",
        Some("bytes") => "By",
        _ => "1",
    }
}

fn str_attr(k: &str, v: &str) -> serde_json::Value {
    serde_json::json!({"key": k, "value": {"stringValue": v}})
}

/// The OTLP/HTTP JSON payload (`ExportMetricsServiceRequest`): one resource (service
/// `golden-report`, the run's workflow and repository), one scope, every family a gauge whose
/// data points carry the sample labels as attributes; integers as `asInt`, others `asDouble`
/// (64-bit integers as decimal strings, the protobuf JSON mapping).
pub fn otlp_json(
    families: &[Family],
    time_unix_nano: u128,
    run: &crate::summary::RunInfo,
    job: &str,
) -> serde_json::Value {
    let mut resource = vec![
        str_attr("service.name", "golden-report"),
        str_attr("service.version", env!("CARGO_PKG_VERSION")),
        str_attr("golden.job", job),
    ];
    if let Some(w) = &run.workflow {
        resource.push(str_attr("golden.workflow", w));
    }
    if let Some(r) = &run.repository {
        resource.push(str_attr("golden.repository", r));
    }
    if let Some(u) = &run.run_url {
        resource.push(str_attr("golden.run_url", u));
    }
    let t = time_unix_nano.to_string();
    let metrics: Vec<serde_json::Value> = families
        .iter()
        .filter(|f| !f.samples.is_empty())
        .map(|f| {
            let points: Vec<serde_json::Value> = f
                .samples
                .iter()
                .map(|s| {
                    let attrs: Vec<serde_json::Value> =
                        s.labels.iter().map(|(k, v)| str_attr(k, v)).collect();
                    let mut p = serde_json::json!({"attributes": attrs, "timeUnixNano": t});
                    if let Ok(i) = s.value.parse::<i64>() {
                        p["asInt"] = serde_json::Value::String(i.to_string());
                    } else if let Some(n) = s
                        .value
                        .parse::<f64>()
                        .ok()
                        .and_then(serde_json::Number::from_f64)
                    {
                        p["asDouble"] = serde_json::Value::Number(n);
                    } else {
                        // NaN and infinities: the protobuf JSON mapping's strings.
                        p["asDouble"] = serde_json::Value::String(s.value.clone());
                    }
                    p
                })
                .collect();
            serde_json::json!({
                "name": f.name,
                "description": f.help,
                "unit": otlp_unit(f.unit.as_deref()),
                "gauge": {"dataPoints": points},
            })
        })
        .collect();
    serde_json::json!({
        "resourceMetrics": [{
            "resource": {"attributes": resource},
            "scopeMetrics": [{
                "scope": {"name": "golden-report", "version": env!("CARGO_PKG_VERSION")},
                "metrics": metrics,
            }],
        }],
    })
}

/// The OTLP URL: `/v1/metrics` appended when the endpoint has no path (the
/// `OTEL_EXPORTER_OTLP_ENDPOINT` convention); a URL with a path is used as it is.
pub fn otlp_url(target: &Target) -> Url {
    let mut u = target.url.clone();
    if u.path().is_empty() || u.path() == "/" {
        u.set_path(OTLP_METRICS_PATH);
    }
    u
}

// ---------------------------------------------------------------------------------------------
// Delivery.

/// Where and how to ship.
#[derive(Debug, Clone)]
pub struct ShipConfig {
    pub pushgateway: Option<Target>,
    pub pushgateway_auth: Auth,
    pub job: String,
    pub otlp: Option<Target>,
    pub otlp_headers: Vec<(String, String)>,
    pub otlp_file: Option<PathBuf>,
    /// Per request.
    pub timeout: Duration,
    /// Attempts per request (3).
    pub attempts: u32,
    /// Wait before the second attempt, doubled before each next one.
    pub backoff: Duration,
}

impl ShipConfig {
    pub fn is_empty(&self) -> bool {
        self.pushgateway.is_none() && self.otlp.is_none() && self.otlp_file.is_none()
    }

    /// Every secret this configuration holds, for `::add-mask::` before anything is sent.
    pub fn secrets(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .pushgateway_auth
            .secrets()
            .into_iter()
            .map(str::to_string)
            .collect();
        for t in [&self.pushgateway, &self.otlp].into_iter().flatten() {
            if let Some((_, p)) = &t.url_basic {
                out.push(p.clone());
            }
        }
        out.extend(self.otlp_headers.iter().map(|(_, v)| v.clone()));
        out.retain(|s| !s.is_empty());
        out.sort();
        out.dedup();
        out
    }
}

/// What happened to one delivery (one line of output).
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// `Pushgateway`, `OTLP`, `OTLP file`.
    pub kind: &'static str,
    /// Redacted URL or the file path.
    pub target: String,
    pub series: usize,
    /// Pushgateway groups sent (1 otherwise).
    pub groups: usize,
    /// Requests made, retries included.
    pub requests: u32,
    /// `None` when everything arrived.
    pub error: Option<String>,
}

impl Delivery {
    pub fn describe(&self) -> String {
        let what = if self.kind == "Pushgateway" {
            format!("{} series in {} groups", self.series, self.groups)
        } else {
            format!("{} series", self.series)
        };
        match &self.error {
            None if self.kind == "OTLP file" => {
                format!("{}: wrote {what} to {}", self.kind, self.target)
            }
            None => format!("{}: sent {what} to {}", self.kind, self.target),
            Some(e) => format!(
                "{}: failed to send {what} to {}: {e}; the run goes on (delivery never fails it)",
                self.kind, self.target
            ),
        }
    }
}

enum Attempt {
    Done,
    Retry(String),
    Fail(String),
}

/// Send one request with retries: connection errors, timeouts and 5xx are retried.
async fn send(
    cfg: &ShipConfig,
    build: impl Fn() -> reqwest::RequestBuilder,
    requests: &mut u32,
) -> Result<(), String> {
    let mut last = String::new();
    let mut wait = cfg.backoff;
    for n in 0..cfg.attempts.max(1) {
        if n > 0 {
            tokio::time::sleep(wait).await;
            wait = wait.saturating_mul(2);
        }
        *requests += 1;
        let outcome = match build().send().await {
            Ok(r) => {
                let status = r.status();
                if status.is_success() {
                    Attempt::Done
                } else {
                    let body = r.text().await.unwrap_or_default();
                    let body = golden_gha::neutralize(&redact_text(
                        &body.chars().take(200).collect::<String>(),
                    ));
                    let msg = format!("HTTP {status}: {}", body.trim());
                    if status.is_server_error() {
                        Attempt::Retry(msg)
                    } else {
                        Attempt::Fail(msg)
                    }
                }
            }
            Err(e) => Attempt::Retry(error_text(e)),
        };
        match outcome {
            Attempt::Done => return Ok(()),
            Attempt::Fail(m) => return Err(m),
            Attempt::Retry(m) => last = m,
        }
    }
    Err(format!("{last} (after {} attempts)", cfg.attempts.max(1)))
}

fn error_text(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut s = if e.is_timeout() {
        "timed out".to_string()
    } else if e.is_connect() {
        "connection failed".to_string()
    } else {
        "request failed".to_string()
    };
    let mut src: Option<&dyn std::error::Error> = std::error::Error::source(&e);
    while let Some(c) = src {
        let _ = write!(s, ": {c}");
        src = c.source();
    }
    redact_text(&s)
}

fn client(cfg: &ShipConfig) -> Result<reqwest::Client, ShipError> {
    reqwest::Client::builder()
        .timeout(cfg.timeout)
        .connect_timeout(cfg.timeout)
        .user_agent(concat!("golden-report/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(ShipError::Client)
}

/// Ship `metrics` (the text of metrics.prom) where `cfg` says. Errors only for what is not a
/// delivery (bad metrics text, an unwritable --otlp-file, no HTTP client); each delivery's
/// outcome is in the returned list.
pub async fn ship(
    cfg: &ShipConfig,
    metrics: &str,
    run: &crate::summary::RunInfo,
    time_unix_nano: u128,
) -> Result<Vec<Delivery>, ShipError> {
    let families = parse_openmetrics(metrics)?;
    let total = series(&families);
    let mut out = Vec::new();
    let payload = (cfg.otlp.is_some() || cfg.otlp_file.is_some())
        .then(|| otlp_json(&families, time_unix_nano, run, &cfg.job));
    if let (Some(path), Some(p)) = (&cfg.otlp_file, &payload) {
        write_json(path, p)?;
        out.push(Delivery {
            kind: "OTLP file",
            target: path.display().to_string(),
            series: total,
            groups: 1,
            requests: 0,
            error: None,
        });
    }
    if cfg.pushgateway.is_none() && cfg.otlp.is_none() {
        return Ok(out);
    }
    let http = client(cfg)?;
    if let Some(target) = &cfg.pushgateway {
        let workflow = run.workflow.as_deref().unwrap_or("");
        let gs = groups(&families, &cfg.job, workflow);
        let mut requests = 0;
        let mut errors = Vec::new();
        for g in &gs {
            let mut url = target.url.clone();
            let base = url.path().trim_end_matches('/').to_string();
            url.set_path(&format!("{base}{}", group_path(&g.labels)));
            let body = render_text(&g.families);
            let r = send(
                cfg,
                || {
                    let rb = http
                        .put(url.clone())
                        .header(reqwest::header::CONTENT_TYPE, TEXT_CONTENT_TYPE)
                        .body(body.clone());
                    match &cfg.pushgateway_auth {
                        Auth::None => rb,
                        Auth::Basic { username, password } => {
                            rb.basic_auth(username, Some(password))
                        }
                        Auth::Bearer(t) => rb.bearer_auth(t),
                    }
                },
                &mut requests,
            )
            .await;
            if let Err(e) = r {
                let name: Vec<String> = g.labels[2..]
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect();
                let name = if name.is_empty() {
                    "run".to_string()
                } else {
                    name.join(",")
                };
                errors.push(format!("group {}: {e}", golden_gha::neutralize(&name)));
            }
        }
        out.push(Delivery {
            kind: "Pushgateway",
            target: target.redacted(),
            series: total,
            groups: gs.len(),
            requests,
            error: (!errors.is_empty()).then(|| errors.join("; ")),
        });
    }
    if let (Some(target), Some(p)) = (&cfg.otlp, &payload) {
        let url = otlp_url(target);
        let body = serde_json::to_vec(p).unwrap_or_default();
        let mut requests = 0;
        let r = send(
            cfg,
            || {
                let mut rb = http
                    .post(url.clone())
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body.clone());
                if let Some((u, pw)) = &target.url_basic {
                    rb = rb.basic_auth(u, Some(pw));
                }
                for (k, v) in &cfg.otlp_headers {
                    rb = rb.header(k.as_str(), v.as_str());
                }
                rb
            },
            &mut requests,
        )
        .await;
        out.push(Delivery {
            kind: "OTLP",
            target: redact(&url),
            series: total,
            groups: 1,
            requests,
            error: r.err(),
        });
    }
    Ok(out)
}

fn write_json(path: &Path, v: &serde_json::Value) -> Result<(), ShipError> {
    let mut text = serde_json::to_string_pretty(v).unwrap_or_default();
    text.push('\n');
    golden_contracts::write_atomic(path, text.as_bytes()).map_err(|source| ShipError::WriteFile {
        path: path.to_path_buf(),
        source,
    })
}

/// Nanoseconds since the epoch of an RFC 3339 time (the run's `now`), else of the clock.
pub fn unix_nanos(rfc3339: &str) -> u128 {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .ok()
        .and_then(|t| t.timestamp_nanos_opt())
        .and_then(|n| u128::try_from(n).ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "# TYPE golden_builds gauge\n# HELP golden_builds Builds.\ngolden_builds{result=\"success\"} 2\n# TYPE golden_image_size_bytes gauge\n# UNIT golden_image_size_bytes bytes\n# HELP golden_image_size_bytes Size.\ngolden_image_size_bytes{image=\"a\\\"b\",os=\"debian\",arch=\"amd64\"} 12\ngolden_image_size_bytes{image=\"unknown:x/y\",os=\"\"} 7.5\n# EOF\n";

    #[test]
    fn openmetrics_is_read_back() {
        let f = parse_openmetrics(TEXT).unwrap_or_default();
        assert_eq!(f.len(), 2);
        assert_eq!(f[1].unit.as_deref(), Some("bytes"));
        assert_eq!(f[1].samples[0].label("image"), Some("a\"b"));
        assert_eq!(f[1].samples[1].value, "7.5");
        assert!(parse_openmetrics("golden_x 1\n").is_err());
    }

    #[test]
    fn text_format_has_no_openmetrics_only_lines() {
        let f = parse_openmetrics(TEXT).unwrap_or_default();
        let t = render_text(&f);
        assert!(!t.contains("# EOF") && !t.contains("# UNIT"), "{t}");
        assert!(t.contains(
            "golden_image_size_bytes{image=\"a\\\"b\",os=\"debian\",arch=\"amd64\"} 12\n"
        ));
        assert!(t.starts_with("# HELP golden_builds Builds.\n# TYPE golden_builds gauge\n"));
    }

    #[test]
    fn groups_split_by_image_and_arch() {
        let f = parse_openmetrics(TEXT).unwrap_or_default();
        let g = groups(&f, "golden-images", "nightly");
        assert_eq!(g.len(), 3);
        assert_eq!(
            group_path(&g[0].labels),
            "/metrics/job/golden-images/workflow/nightly"
        );
        assert_eq!(
            group_path(&g[1].labels),
            "/metrics/job/golden-images/workflow/nightly/image@base64/YSJi/arch/amd64"
        );
        assert_eq!(
            group_path(&g[2].labels),
            "/metrics/job/golden-images/workflow/nightly/image@base64/dW5rbm93bjp4L3k="
        );
        assert_eq!(
            group_path(&[("workflow".into(), String::new())]),
            "/metrics/workflow@base64/="
        );
    }

    #[test]
    fn redaction_drops_userinfo_and_query() {
        let u = Url::parse("https://me:s3cret@gw.example:9091/p?token=abc#x")
            .unwrap_or_else(|_| unreachable!());
        assert_eq!(redact(&u), "https://gw.example:9091/p?REDACTED");
        let t = Target::parse("--pushgateway", "https://me:s%40cret@gw.example")
            .unwrap_or_else(|_| unreachable!());
        assert_eq!(t.url_basic, Some(("me".into(), "s@cret".into())));
        assert_eq!(t.redacted(), "https://gw.example/");
        let e = Target::parse("--pushgateway", "ftp://me:pw@x")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("--pushgateway") && !e.contains("pw"), "{e}");
    }

    #[test]
    fn auth_conflicts_are_errors() {
        let s = |v: &str| Some(v.to_string());
        assert!(matches!(
            Auth::from_parts(s("u"), s("p"), s("t"), None),
            Err(ShipError::AuthConflict { .. })
        ));
        assert!(matches!(
            Auth::from_parts(s("u"), None, None, None),
            Err(ShipError::AuthIncomplete { .. })
        ));
        assert_eq!(
            Auth::from_parts(None, None, s("t"), None).ok(),
            Some(Auth::Bearer("t".into()))
        );
        assert!(!format!("{:?}", Auth::Bearer("tok".into())).contains("tok"));
    }

    #[test]
    fn headers_parse_like_otel() {
        let h = parse_headers("api-key=a%3Db, x-tenant = t1").unwrap_or_default();
        assert_eq!(
            h,
            vec![
                ("api-key".into(), "a=b".into()),
                ("x-tenant".into(), "t1".into())
            ]
        );
        assert!(matches!(
            parse_headers("novalue"),
            Err(ShipError::BadHeader { index: 1 })
        ));
        assert!(parse_headers("bad name=1").is_err());
    }

    #[test]
    fn otlp_url_appends_the_metrics_path_only_without_a_path() {
        let t = |u: &str| Target::parse("--otlp-endpoint", u).unwrap_or_else(|_| unreachable!());
        assert_eq!(
            otlp_url(&t("http://c:4318")).as_str(),
            "http://c:4318/v1/metrics"
        );
        assert_eq!(
            otlp_url(&t("http://c:4318/custom/path")).as_str(),
            "http://c:4318/custom/path"
        );
    }
}
