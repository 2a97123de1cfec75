//! Retries with exponential backoff and full jitter, on connection errors, 429 (honouring
//! `Retry-After`, seconds or HTTP date) and 5xx.

use std::time::Duration;

use reqwest::{RequestBuilder, Response, StatusCode};

/// How hard to retry a request.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Retries after the first attempt (0 = no retry).
    pub max_retries: u32,
    /// First backoff; doubles each retry (full jitter: a random delay up to the bound).
    pub base_delay: Duration,
    /// Upper bound of one backoff.
    pub max_delay: Duration,
    /// Upper bound of a `Retry-After` the client is willing to wait.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 5,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(10),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

fn jitter_fraction() -> f64 {
    // Random enough for spreading retries; no extra dependency.
    (uuid::Uuid::new_v4().as_u128() % 10_000) as f64 / 10_000.0
}

impl RetryPolicy {
    /// Backoff before retry number `attempt` (1-based).
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
        let bound = exp.min(self.max_delay);
        // full jitter in [bound/2, bound]: never hammer, never wait needlessly long
        bound.mul_f64(0.5 + jitter_fraction() / 2.0)
    }
}

/// Parse `Retry-After` (delta seconds or an HTTP date).
pub(crate) fn retry_after(resp: &Response) -> Option<Duration> {
    let v = resp
        .headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate(v)?;
    let now = std::time::SystemTime::now();
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Minimal RFC 7231 IMF-fixdate parser (`Sun, 06 Nov 1994 08:49:37 GMT`).
fn httpdate(s: &str) -> Option<std::time::SystemTime> {
    let parts: Vec<&str> = s.split_whitespace().collect();
    if parts.len() != 6 || parts[5] != "GMT" {
        return None;
    }
    let day: u64 = parts[1].parse().ok()?;
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .position(|m| *m == parts[2])? as u64
        + 1;
    let year: i64 = parts[3].parse().ok()?;
    let hms: Vec<u64> = parts[4].split(':').filter_map(|x| x.parse().ok()).collect();
    if hms.len() != 3 {
        return None;
    }
    // days from civil (Howard Hinnant)
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = month as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + (hms[0] * 3600 + hms[1] * 60 + hms[2]) as i64;
    let secs = u64::try_from(secs).ok()?;
    Some(std::time::UNIX_EPOCH + Duration::from_secs(secs))
}

pub(crate) fn is_retryable_status(s: StatusCode) -> bool {
    s == StatusCode::TOO_MANY_REQUESTS
        || matches!(s.as_u16(), 500 | 502 | 503 | 504)
        || s == StatusCode::REQUEST_TIMEOUT
}

pub(crate) fn is_transport_retryable(e: &reqwest::Error) -> bool {
    e.is_connect() || e.is_timeout() || e.is_request() || e.is_body() || e.is_decode()
}

/// Outcome of [`send`]: the last response (maybe still 429/5xx when retries ran out) and how
/// many attempts were made, or the last transport error.
pub(crate) async fn send(
    policy: &RetryPolicy,
    retry_transport: bool,
    what: &str,
    build: impl Fn() -> RequestBuilder,
) -> Result<(Response, u32), (reqwest::Error, u32)> {
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        match build().send().await {
            Ok(resp) => {
                let st = resp.status();
                if is_retryable_status(st) && attempt <= policy.max_retries {
                    let wait = match retry_after(&resp) {
                        Some(d) => d.min(policy.max_retry_after),
                        None => policy.backoff(attempt),
                    };
                    tracing::warn!(
                        "{what}: HTTP {} (attempt {attempt}/{}), retrying in {:.1} s",
                        st.as_u16(),
                        policy.max_retries + 1,
                        wait.as_secs_f64()
                    );
                    drop(resp);
                    tokio::time::sleep(wait).await;
                    continue;
                }
                return Ok((resp, attempt));
            }
            Err(e) => {
                if retry_transport && is_transport_retryable(&e) && attempt <= policy.max_retries {
                    let wait = policy.backoff(attempt);
                    tracing::warn!(
                        "{what}: {} (attempt {attempt}/{}), retrying in {:.1} s",
                        short_error(&e),
                        policy.max_retries + 1,
                        wait.as_secs_f64()
                    );
                    tokio::time::sleep(wait).await;
                    continue;
                }
                return Err((e, attempt));
            }
        }
    }
}

/// One-line description of a transport error (with its causes, without the URL's query).
pub(crate) fn short_error(e: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut s = if e.is_connect() {
        "connection failed".to_string()
    } else if e.is_timeout() {
        "timed out".to_string()
    } else {
        "transport error".to_string()
    };
    let mut src = e.source();
    while let Some(c) = src {
        s.push_str(": ");
        s.push_str(&c.to_string());
        src = c.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_bounded() {
        let p = RetryPolicy::default();
        for a in 1..=10 {
            let d = p.backoff(a);
            let bound = p.base_delay.saturating_mul(1 << (a - 1)).min(p.max_delay);
            assert!(d <= bound && d >= bound / 2, "{a}: {d:?} vs {bound:?}");
        }
    }

    #[test]
    fn parses_http_dates() {
        let t = httpdate("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        assert_eq!(
            t.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs(),
            784_111_777
        );
        assert!(httpdate("yesterday").is_none());
    }
}
