//! Protection over real TCP: the connection cap, half-open handshakes, a
//! 10 MB frame, and a flood from a rate-limited client.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod support;

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use socketspec_runtime::config::{HttpConfig, Limits, RateLimit};
use socketspec_runtime::{Server, ServerBuilder};
use support::{Echo, timers_off as quiet};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// Starts a server on port 0; returns its address.
async fn start(configure: impl FnOnce(ServerBuilder) -> ServerBuilder) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let server = configure(Server::builder(Echo).session(quiet()))
        .build()
        .unwrap();
    tokio::spawn(server.serve(listener, std::future::pending()));
    addr
}

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

async fn connect(addr: &str) -> std::result::Result<Ws, tokio_tungstenite::tungstenite::Error> {
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws")).await?;
    let connect = next_json(&mut ws).await;
    assert_eq!(connect["event"], "__connect__");
    Ok(ws)
}

async fn next_json(ws: &mut Ws) -> Value {
    loop {
        match tokio::time::timeout(Duration::from_secs(10), ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => return serde_json::from_str(&t).unwrap(),
            Ok(Some(Ok(Message::Close(f)))) => {
                return serde_json::json!({"closed": f.map(|f| u16::from(f.code))});
            }
            Ok(Some(Ok(_))) => continue,
            other => panic!("no message: {other:?}"),
        }
    }
}

async fn echo_round_trip(ws: &mut Ws) {
    ws.send(Message::text(
        r#"{"event":"echo","payload":{"x":1},"id":"e"}"#,
    ))
    .await
    .unwrap();
    loop {
        let m = next_json(ws).await;
        if m["id"] == "e" {
            assert_eq!(m["event"], "echo_reply", "{m}");
            return;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_past_the_cap_get_http_503() {
    let addr = start(|b| b.limits(Limits::default().max_connections(2))).await;
    let mut a = connect(&addr).await.unwrap();
    let _b = connect(&addr).await.unwrap();
    match connect(&addr).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 503)
        }
        other => panic!(
            "the third connection must be refused with 503: {:?}",
            other.map(|_| ())
        ),
    }
    // A slot frees when a connection closes.
    a.close(None).await.unwrap();
    drop(a);
    let mut admitted = None;
    for _ in 0..50 {
        if let Ok(ws) = connect(&addr).await {
            admitted = Some(ws);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    echo_round_trip(&mut admitted.expect("a freed slot admits a new connection")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_open_handshakes_neither_block_others_nor_pile_up() {
    let addr =
        start(|b| b.http(HttpConfig::default().handshake_timeout(Duration::from_millis(500))))
            .await;
    // 1,000 clients that start an upgrade request and never finish it.
    let mut half_open = Vec::new();
    for _ in 0..1000 {
        let mut tcp = TcpStream::connect(&addr).await.unwrap();
        tcp.write_all(b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n")
            .await
            .unwrap();
        half_open.push(tcp);
    }
    // A normal client is still served at once.
    let started = Instant::now();
    let mut ws = connect(&addr).await.unwrap();
    echo_round_trip(&mut ws).await;
    println!(
        "normal client served in {:?} beside 1,000 half-open handshakes",
        started.elapsed()
    );
    // The half-open ones are dropped once the handshake timeout passes.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut closed = 0;
    for tcp in &mut half_open {
        let mut buf = [0u8; 512];
        match tokio::time::timeout(Duration::from_millis(200), tcp.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => closed += 1,
            // hyper may answer 408 before closing; read to the end.
            Ok(Ok(_)) => {
                let mut rest = Vec::new();
                if matches!(
                    tokio::time::timeout(Duration::from_millis(200), tcp.read_to_end(&mut rest))
                        .await,
                    Ok(Ok(_))
                ) {
                    closed += 1;
                }
            }
            Err(_) => {}
        }
    }
    assert_eq!(
        closed, 1000,
        "every half-open handshake must be closed after the timeout"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_10_mb_frame_is_refused_with_1009_without_taking_the_server_down() {
    let addr = start(|b| b).await;
    let mut bystander = connect(&addr).await.unwrap();
    let mut ws = connect(&addr).await.unwrap();
    let huge = format!(
        r#"{{"event":"echo","payload":{{"x":"{}"}}}}"#,
        "a".repeat(10 * 1024 * 1024)
    );
    // The server may close before the whole frame is written.
    let _ = ws.send(Message::text(huge)).await;
    let mut close = None;
    while let Ok(Some(message)) = tokio::time::timeout(Duration::from_secs(10), ws.next()).await {
        match message {
            Ok(Message::Close(frame)) => {
                close = frame.map(|f| u16::from(f.code));
                break;
            }
            Ok(_) => continue,
            Err(_) => break,
        }
    }
    assert_eq!(close, Some(1009));
    echo_round_trip(&mut bystander).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_from_a_rate_limited_client_is_dropped_and_the_connection_stays() {
    let addr = start(|b| b.rate_limit(RateLimit::new(10, Duration::from_secs(60)))).await;
    let mut ws = connect(&addr).await.unwrap();
    for i in 0..1000 {
        ws.feed(Message::text(format!(
            r#"{{"event":"echo","payload":{{"i":{i}}},"id":"m{i}"}}"#
        )))
        .await
        .unwrap();
    }
    ws.flush().await.unwrap();
    let (mut replies, mut limited) = (0, 0);
    while replies + limited < 1000 {
        let m = next_json(&mut ws).await;
        match m["event"].as_str() {
            Some("echo_reply") => replies += 1,
            Some("__error__") => {
                assert_eq!(m["payload"]["code"], "RATE_LIMIT_ERROR", "{m}");
                assert!(
                    m["payload"]["details"]["retry_after"]
                        .as_f64()
                        .is_some_and(|s| s > 0.0),
                    "{m}"
                );
                limited += 1;
            }
            other => panic!("unexpected {other:?}: {m}"),
        }
    }
    assert_eq!((replies, limited), (10, 990));
    // Still open: a pong is not rate-limited and is answered by nothing, and
    // the connection is not closed.
    ws.send(Message::text(r#"{"event":"__pong__"}"#))
        .await
        .unwrap();
    assert!(
        tokio::time::timeout(Duration::from_millis(300), ws.next())
            .await
            .is_err(),
        "the connection must stay open and quiet"
    );
}
