//! A minimal HTTP/1 server on a loopback port for the fakes.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

/// The answer of a fake.
pub type Reply = Response<Full<Bytes>>;

/// A request handler: the whole body is read before it is called.
pub type Handler = Arc<dyn Fn(Request<Bytes>) -> Reply + Send + Sync>;

/// An asynchronous request handler (one that forwards, say).
pub type AsyncHandler = Arc<
    dyn Fn(Request<Bytes>) -> std::pin::Pin<Box<dyn std::future::Future<Output = Reply> + Send>>
        + Send
        + Sync,
>;

/// Serve `handler` on a random port of 127.0.0.1 until the runtime stops.
pub async fn serve(handler: Handler) -> std::io::Result<SocketAddr> {
    serve_async(Arc::new(move |req: Request<Bytes>| {
        let reply = handler(req);
        Box::pin(async move { reply })
    }))
    .await
}

/// Forward one request to `upstream` (`host:port`, plain HTTP), keeping its `Host` header, so
/// what the upstream writes in `Location` points back at the front.
pub async fn forward(client: &reqwest::Client, upstream: &str, req: Request<Bytes>) -> Reply {
    let url = format!(
        "http://{upstream}{}",
        req.uri().path_and_query().map_or("/", |p| p.as_str())
    );
    let Ok(method) = reqwest::Method::from_bytes(req.method().as_str().as_bytes()) else {
        return reply(405, "method not allowed");
    };
    let mut b = client.request(method, url);
    for (k, v) in req.headers() {
        if k.as_str() != "content-length" {
            b = b.header(k.as_str(), v.as_bytes());
        }
    }
    let resp = match b.body(req.into_body()).send().await {
        Ok(r) => r,
        Err(e) => return reply(502, format!("the registry behind the front: {e}")),
    };
    let mut out = Response::builder().status(resp.status().as_u16());
    for (k, v) in resp.headers() {
        if !matches!(
            k.as_str(),
            "content-length" | "transfer-encoding" | "connection"
        ) {
            out = out.header(k.as_str(), v.as_bytes());
        }
    }
    match resp.bytes().await {
        Ok(body) => out
            .body(Full::new(body))
            .unwrap_or_else(|_| reply(502, "bad upstream response")),
        Err(e) => reply(502, format!("the registry behind the front: {e}")),
    }
}

/// Serve the asynchronous `handler` on a random port of 127.0.0.1 until the runtime stops.
pub async fn serve_async(handler: AsyncHandler) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let h = handler.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |req: Request<Incoming>| {
                    let h = h.clone();
                    async move {
                        let (parts, body) = req.into_parts();
                        let body = body
                            .collect()
                            .await
                            .map(|b| b.to_bytes())
                            .unwrap_or_default();
                        Ok::<_, Infallible>(h(Request::from_parts(parts, body)).await)
                    }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    Ok(addr)
}

/// A response with a status and a body (JSON bodies get their content type).
pub fn reply(status: u16, body: impl Into<Bytes>) -> Reply {
    let body: Bytes = body.into();
    let json = body.first().is_some_and(|b| *b == b'{' || *b == b'[');
    let mut b = Response::builder().status(status);
    if json {
        b = b.header("content-type", "application/json; charset=utf-8");
    }
    b.body(Full::new(body)).unwrap_or_else(|_| {
        let mut r = Response::new(Full::new(Bytes::from_static(b"bad response")));
        *r.status_mut() = hyper::StatusCode::INTERNAL_SERVER_ERROR;
        r
    })
}

/// A JSON response.
pub fn json(status: u16, v: &serde_json::Value) -> Reply {
    reply(status, v.to_string())
}

/// Parse an `application/x-www-form-urlencoded` body or a query string.
pub fn form(s: &str) -> Vec<(String, String)> {
    match reqwest::Url::parse(&format!("http://x/?{s}")) {
        Ok(u) => u
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// The first value of `k` in form pairs.
pub fn field<'a>(f: &'a [(String, String)], k: &str) -> Option<&'a str> {
    f.iter().find(|(a, _)| a == k).map(|(_, v)| v.as_str())
}

/// A header's value as text.
pub fn header<'a>(req: &'a Request<Bytes>, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_decodes_pairs_and_plus() {
        let f = form("a=1&scope=repository%3Ax%3Apull&b=x+y");
        assert_eq!(field(&f, "a"), Some("1"));
        assert_eq!(field(&f, "scope"), Some("repository:x:pull"));
        assert_eq!(field(&f, "b"), Some("x y"));
        assert_eq!(field(&f, "c"), None);
    }

    #[test]
    fn json_bodies_get_a_content_type() {
        assert_eq!(
            reply(200, "{}").headers()["content-type"],
            "application/json; charset=utf-8"
        );
        assert!(
            reply(404, "not found")
                .headers()
                .get("content-type")
                .is_none()
        );
    }
}
