//! The axum mount over real TCP: a server's routes merged into an
//! `axum::Router` and served by `axum::serve` upgrade WebSockets (hyper's
//! upgrade extension survives axum), apply the origin check, serve health
//! and metrics beside the application's own routes, shut down gracefully
//! (close 1001, awaited), and answer every malformed upgrade exactly as the
//! built-in front does.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod support;

use std::time::Duration;

use axum::routing::get;
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use socketspec_runtime::config::HttpConfig;
use socketspec_runtime::{Server, ServerBuilder};
use support::{Echo, timers_off};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

const T: Duration = Duration::from_secs(10);

fn builder() -> ServerBuilder {
    Server::builder(Echo).session(timers_off())
}

/// A running `axum::serve` with the server merged beside `/hello`.
struct Mounted {
    addr: String,
    server: Server,
    stop: tokio::sync::oneshot::Sender<()>,
    served: tokio::task::JoinHandle<()>,
}

async fn mount(builder: ServerBuilder) -> Mounted {
    let server = builder.build().unwrap();
    server.start().await.unwrap();
    let router = axum::Router::new()
        .route("/hello", get(|| async { "hello from axum" }))
        .merge(socketspec_runtime::axum::router(server.clone()));
    let tcp = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = tcp.local_addr().unwrap().to_string();
    let listener = socketspec_runtime::axum::listener(tcp, &server);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let handle = server.shutdown_handle();
    let served = tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
                handle.shutdown();
            })
            .await
            .unwrap();
    });
    Mounted {
        addr,
        server,
        stop,
        served,
    }
}

/// The built-in front on port 0.
async fn builtin(builder: ServerBuilder) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let server = builder.build().unwrap();
    tokio::spawn(server.serve(listener, std::future::pending()));
    addr
}

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

async fn connect(
    addr: &str,
    origin: Option<&str>,
) -> Result<Ws, tokio_tungstenite::tungstenite::Error> {
    let mut request = format!("ws://{addr}/ws").into_client_request()?;
    if let Some(origin) = origin {
        request
            .headers_mut()
            .insert("origin", origin.parse().unwrap());
    }
    let (ws, _) = tokio_tungstenite::connect_async(request).await?;
    Ok(ws)
}

/// The next text message as JSON, or `{"closed": code}`.
async fn next_json(ws: &mut Ws) -> Value {
    loop {
        match tokio::time::timeout(T, ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => return serde_json::from_str(&t).unwrap(),
            Ok(Some(Ok(Message::Close(f)))) => {
                return serde_json::json!({"closed": f.map(|f| u16::from(f.code))});
            }
            Ok(Some(Ok(_))) => continue,
            other => panic!("no message: {other:?}"),
        }
    }
}

/// Sends raw bytes on a fresh connection; returns the first response
/// whole (its head, then `content-length` bytes of body), or what came
/// before the server closed.
async fn raw_exchange(addr: &str, request: &[u8]) -> String {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    // A server may answer (and close) before it has read everything.
    let _ = tcp.write_all(request).await;
    let mut response = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        if let Some(end) = find(&response, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&response[..end]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if response.len() >= end + 4 + length {
                response.truncate(end + 4 + length);
                break;
            }
        }
        match tokio::time::timeout(T, tcp.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => response.extend_from_slice(&buf[..n]),
            Err(_) => panic!(
                "no complete response: {:?}",
                String::from_utf8_lossy(&response)
            ),
        }
    }
    String::from_utf8_lossy(&response).into_owned()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Status line and body, without the headers that differ between two
/// HTTP servers for no reason (`date`).
fn status_and_body(response: &str) -> (String, String) {
    let status = response.lines().next().unwrap_or_default().to_owned();
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

#[tokio::test]
async fn a_websocket_upgrades_through_axum_and_echoes() {
    let mounted = mount(builder()).await;
    let mut ws = connect(&mounted.addr, None).await.unwrap();
    let hello = next_json(&mut ws).await;
    assert_eq!(hello["event"], "__connect__", "{hello}");
    assert_eq!(hello["payload"]["namespace"], "/", "{hello}");
    ws.send(Message::text(
        r#"{"event":"echo","payload":{"x":1},"id":"e"}"#,
    ))
    .await
    .unwrap();
    let reply = next_json(&mut ws).await;
    assert_eq!(
        reply,
        serde_json::json!({"event": "echo_reply", "payload": {"x": 1}, "id": "e"})
    );
    assert_eq!(mounted.server.health().connections, 1);
}

#[tokio::test]
async fn the_applications_routes_health_and_metrics_share_the_router() {
    let mounted = mount(builder()).await;
    let get = |path: &str| {
        format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").into_bytes()
    };
    let hello = raw_exchange(&mounted.addr, &get("/hello")).await;
    assert_eq!(
        status_and_body(&hello),
        ("HTTP/1.1 200 OK".to_owned(), "hello from axum".to_owned())
    );
    let health = raw_exchange(&mounted.addr, &get("/socket-health")).await;
    let (status, body) = status_and_body(&health);
    assert_eq!(status, "HTTP/1.1 200 OK");
    let health: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(health["status"], "ok", "{health}");
    let metrics = raw_exchange(&mounted.addr, &get("/metrics")).await;
    assert!(metrics.starts_with("HTTP/1.1 200 OK"), "{metrics}");
    assert!(metrics.contains("socketspec_"), "{metrics}");
    let other = raw_exchange(&mounted.addr, &get("/ws/other")).await;
    assert!(other.starts_with("HTTP/1.1 404"), "{other}");
}

#[tokio::test]
async fn a_nested_mount_serves_under_its_prefix() {
    let server = builder().build().unwrap();
    let router = axum::Router::new().nest("/rt", server.clone().into_router());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });

    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/rt/ws"))
        .await
        .unwrap();
    assert_eq!(next_json(&mut ws).await["event"], "__connect__");
    let health = raw_exchange(&addr, b"GET /rt/socket-health HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert!(health.starts_with("HTTP/1.1 200 OK"), "{health}");
    let outside = raw_exchange(&addr, b"GET /ws HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert!(outside.starts_with("HTTP/1.1 404"), "{outside}");
}

#[tokio::test]
async fn the_origin_check_applies_through_axum() {
    let http = HttpConfig::default().allowed_origins(["https://good.example"]);
    let mounted = mount(builder().http(http)).await;
    match connect(&mounted.addr, Some("https://evil.test")).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 403);
        }
        other => panic!("an evil origin was not refused with 403: {other:?}"),
    }
    let mut ws = connect(&mounted.addr, Some("https://good.example"))
        .await
        .unwrap();
    assert_eq!(next_json(&mut ws).await["event"], "__connect__");
}

#[tokio::test]
async fn graceful_shutdown_closes_with_1001_and_is_awaitable() {
    let mounted = mount(builder()).await;
    let mut ws = connect(&mounted.addr, None).await.unwrap();
    assert_eq!(next_json(&mut ws).await["event"], "__connect__");

    mounted.stop.send(()).unwrap();
    let notice = next_json(&mut ws).await;
    assert_eq!(notice["event"], "__server_shutdown__", "{notice}");
    let disconnect = next_json(&mut ws).await;
    assert_eq!(disconnect["event"], "__disconnect__", "{disconnect}");
    assert_eq!(next_json(&mut ws).await["closed"], 1001);

    tokio::time::timeout(T, mounted.served)
        .await
        .unwrap()
        .unwrap();
    tokio::time::timeout(T, mounted.server.shutdown())
        .await
        .unwrap();
    assert_eq!(mounted.server.health().connections, 0);
}

/// A malformed upgrade is answered byte for byte alike by both fronts
/// (status line and body): the checks are one implementation.
#[tokio::test]
async fn both_fronts_answer_malformed_upgrades_alike() {
    let mounted = mount(builder()).await;
    let plain = builtin(builder()).await;
    let huge = "a".repeat(512 * 1024);
    let requests = [
        // no Sec-WebSocket-Key
        "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Version: 13\r\n\r\n"
            .to_owned(),
        // an unsupported version
        "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n"
            .to_owned(),
        // a plain GET on the WebSocket path
        "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_owned(),
        // an oversized header
        format!(
            "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
             X-Huge: {huge}\r\n\r\n"
        ),
    ];
    for request in requests {
        let via_axum = raw_exchange(&mounted.addr, request.as_bytes()).await;
        let builtin = raw_exchange(&plain, request.as_bytes()).await;
        let (status, _) = status_and_body(&via_axum);
        assert!(
            status.starts_with("HTTP/1.1 4"),
            "{status} for {:.80}",
            request
        );
        assert_eq!(
            status_and_body(&via_axum),
            status_and_body(&builtin),
            "for {:.80}",
            request
        );
    }
}

/// The listener's handshake timeout drops a connection that stalls its
/// upgrade request, and only that: an upgraded WebSocket that stays quiet
/// for longer is kept.
#[tokio::test]
async fn a_stalled_upgrade_is_dropped_after_the_handshake_timeout() {
    let timeout = Duration::from_millis(300);
    let http = HttpConfig::default().handshake_timeout(timeout);
    let mounted = mount(builder().http(http)).await;
    let mut ws = connect(&mounted.addr, None).await.unwrap();
    assert_eq!(next_json(&mut ws).await["event"], "__connect__");

    let mut stalled = TcpStream::connect(&mounted.addr).await.unwrap();
    stalled
        .write_all(b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: webs")
        .await
        .unwrap();
    let mut rest = Vec::new();
    let read = tokio::time::timeout(T, stalled.read_to_end(&mut rest)).await;
    assert!(
        matches!(read, Ok(Ok(_)) | Ok(Err(_))),
        "a stalled upgrade request was kept for {T:?}"
    );

    // The WebSocket, quiet for longer than the timeout, still works.
    tokio::time::sleep(timeout * 2).await;
    ws.send(Message::text(
        r#"{"event":"echo","payload":{},"id":"late"}"#,
    ))
    .await
    .unwrap();
    assert_eq!(next_json(&mut ws).await["id"], "late");
}
