//! Plain HTTP against the server's other routes (`/socket-docs`,
//! `/socket-health`, `/metrics`), with hyper-util's client over loopback.
//!
//! Tests that must send malformed or deliberately incomplete HTTP write
//! raw bytes to a `TcpStream` themselves; everything well-formed goes
//! through here.

use bytes::Bytes;
use http::{HeaderMap, Request, StatusCode};
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::client::DEFAULT_TIMEOUT;
use crate::{Error, Result};

/// A plain HTTP response: status, headers and body text.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// The headers.
    pub headers: HeaderMap,
    /// The body, decoded as UTF-8 (lossily).
    pub body: String,
}

impl HttpResponse {
    /// The first header named `name` (case-insensitive), when it is text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// `GET path` (with its query) on `addr` (`HOST:PORT`) with the given extra
/// headers; reads the whole response, within [`DEFAULT_TIMEOUT`].
pub async fn http_get(addr: &str, path: &str, headers: &[(&str, &str)]) -> Result<HttpResponse> {
    let mut request = Request::get(format!("http://{addr}{path}"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request
        .body(Empty::<Bytes>::new())
        .map_err(|e| Error::Other(format!("GET {path}: {e}")))?;
    // One client per request, keeping no idle connection: each test has its
    // own runtime and its own servers, which come and go.
    let client = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(0)
        .build_http::<Empty<Bytes>>();
    let exchange = async {
        let response = client
            .request(request)
            .await
            .map_err(|e| Error::Io(format!("GET {path}: {e}")))?;
        let (parts, body) = response.into_parts();
        let body = body
            .collect()
            .await
            .map_err(|e| Error::Io(format!("GET {path}: reading the body: {e}")))?
            .to_bytes();
        Ok::<_, Error>(HttpResponse {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        })
    };
    tokio::time::timeout(DEFAULT_TIMEOUT, exchange)
        .await
        .map_err(|_| Error::Timeout(format!("GET {path}")))?
}

/// [`http_get`], requiring a `200 OK`; returns the body.
pub async fn http_get_ok(addr: &str, path: &str) -> Result<String> {
    let response = http_get(addr, path, &[]).await?;
    if response.status == StatusCode::OK.as_u16() {
        Ok(response.body)
    } else {
        Err(Error::Other(format!(
            "GET {path} answered {}: {}",
            response.status, response.body
        )))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// A one-shot server answering every connection with `response`;
    /// returns its address and the request head it received.
    async fn canned(response: &'static [u8]) -> (String, tokio::task::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let task = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut head = Vec::new();
            let mut buf = [0u8; 1024];
            while !head.ends_with(b"\r\n\r\n") {
                let n = socket.read(&mut buf).await.unwrap();
                head.extend_from_slice(&buf[..n]);
            }
            socket.write_all(response).await.unwrap();
            String::from_utf8_lossy(&head).into_owned()
        });
        (addr, task)
    }

    #[tokio::test]
    async fn reads_a_chunked_body_and_sends_the_headers() {
        let (addr, request) = canned(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n\
              3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
        )
        .await;
        let r = http_get(&addr, "/x?token=t", &[("Authorization", "Bearer b")])
            .await
            .unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.header("content-type"), Some("text/plain"));
        assert_eq!(r.body, "abcde");
        let head = request.await.unwrap().to_ascii_lowercase();
        assert!(head.starts_with("get /x?token=t http/1.1\r\n"), "{head}");
        assert!(head.contains("authorization: bearer b\r\n"), "{head}");
    }

    #[tokio::test]
    async fn a_status_other_than_200_is_reported_by_http_get_ok() {
        let (addr, _) = canned(b"HTTP/1.1 404 Not Found\r\ncontent-length: 3\r\n\r\nno\n").await;
        let r = http_get_ok(&addr, "/missing").await;
        assert!(
            matches!(r, Err(Error::Other(ref m)) if m.contains("404")),
            "{r:?}"
        );
    }
}
