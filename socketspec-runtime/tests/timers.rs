//! Session timers on tokio's paused clock: exact, instant, through the real
//! connection loop over an in-process byte stream.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod support;

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use socketspec_runtime::config::SessionConfig;
use socketspec_runtime::{HandshakeRequest, Server};
use support::{Echo, timers_off as off};
use tokio::io::DuplexStream;
use tokio::time::Instant;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::Role;

type Client = WebSocketStream<DuplexStream>;

async fn connect(session: SessionConfig) -> Client {
    let server = Server::builder(Echo).session(session).build().unwrap();
    let (client, server_side) = tokio::io::duplex(64 * 1024);
    tokio::spawn(async move {
        server
            .serve_websocket("/", server_side, HandshakeRequest::default())
            .await
    });
    let mut ws = WebSocketStream::from_raw_socket(client, Role::Client, None).await;
    assert_eq!(next(&mut ws).await.unwrap()["event"], "__connect__");
    ws
}

/// The next JSON message, or `None` at a close (its code in `Err`).
async fn next(ws: &mut Client) -> std::result::Result<Value, Option<u16>> {
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(t))) => return Ok(serde_json::from_str(&t).unwrap()),
            Some(Ok(Message::Close(frame))) => return Err(frame.map(|f| u16::from(f.code))),
            Some(Ok(_)) => continue,
            _ => return Err(None),
        }
    }
}

#[tokio::test(start_paused = true)]
async fn idle_warning_then_idle_timeout_at_the_exact_times() {
    let t0 = Instant::now();
    let mut ws = connect(off().idle_timeout(Duration::from_secs(300))).await;
    let warning = next(&mut ws).await.unwrap();
    assert_eq!(warning["event"], "__idle_warning__");
    assert_eq!(warning["payload"]["expires_in"], 60.0);
    assert_eq!(t0.elapsed(), Duration::from_secs(240));
    let error = next(&mut ws).await.unwrap();
    assert_eq!(error["payload"]["code"], "IDLE_TIMEOUT");
    assert_eq!(
        next(&mut ws).await.unwrap(),
        json!({"event": "__disconnect__", "payload": {"reason": "idle_timeout"}})
    );
    assert_eq!(next(&mut ws).await, Err(Some(4002)));
    assert_eq!(t0.elapsed(), Duration::from_secs(300));
}

#[tokio::test(start_paused = true)]
async fn application_events_reset_the_idle_timer_but_pongs_do_not() {
    let t0 = Instant::now();
    let mut ws = connect(
        off()
            .idle_timeout(Duration::from_secs(30))
            .warning_window(Duration::ZERO)
            .heartbeat_interval(Duration::from_secs(10))
            .heartbeat_timeout(Duration::from_secs(5)),
    )
    .await;
    // Answer every ping; send one echo after the ping at 20 s. The idle
    // timeout comes 30 s after the echo, however many pongs follow.
    let mut echoed = false;
    loop {
        match next(&mut ws).await {
            Ok(m) if m["event"] == "__ping__" => {
                ws.send(Message::text(r#"{"event":"__pong__"}"#))
                    .await
                    .unwrap();
                if !echoed && t0.elapsed() >= Duration::from_secs(20) {
                    ws.send(Message::text(r#"{"event":"echo","payload":{}}"#))
                        .await
                        .unwrap();
                    echoed = true;
                }
            }
            Ok(m) if m["event"] == "echo_reply" => {}
            Ok(m) if m["event"] == "__error__" => {
                assert_eq!(m["payload"]["code"], "IDLE_TIMEOUT");
                break;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(t0.elapsed(), Duration::from_secs(50));
}

#[tokio::test(start_paused = true)]
async fn a_missing_pong_closes_with_4004() {
    let t0 = Instant::now();
    let mut ws = connect(
        off()
            .heartbeat_interval(Duration::from_secs(25))
            .heartbeat_timeout(Duration::from_secs(10)),
    )
    .await;
    assert_eq!(next(&mut ws).await.unwrap()["event"], "__ping__");
    assert_eq!(t0.elapsed(), Duration::from_secs(25));
    assert_eq!(
        next(&mut ws).await.unwrap()["payload"]["reason"],
        "heartbeat_timeout"
    );
    assert_eq!(next(&mut ws).await, Err(Some(4004)));
    assert_eq!(t0.elapsed(), Duration::from_secs(35));
}

#[tokio::test(start_paused = true)]
async fn answered_pings_keep_the_connection_open() {
    let mut ws = connect(
        off()
            .heartbeat_interval(Duration::from_secs(25))
            .heartbeat_timeout(Duration::from_secs(10)),
    )
    .await;
    for _ in 0..10 {
        assert_eq!(next(&mut ws).await.unwrap()["event"], "__ping__");
        ws.send(Message::text(r#"{"event":"__pong__","payload":{}}"#))
            .await
            .unwrap();
    }
    ws.send(Message::text(
        r#"{"event":"echo","payload":{"n":1},"id":"x"}"#,
    ))
    .await
    .unwrap();
    let reply = next(&mut ws).await.unwrap();
    assert_eq!(
        reply,
        json!({"event": "echo_reply", "payload": {"n": 1}, "id": "x"})
    );
}

#[tokio::test(start_paused = true)]
async fn max_duration_warns_then_expires_with_4003() {
    let t0 = Instant::now();
    let mut ws = connect(off().max_duration(Duration::from_secs(7200))).await;
    let warning = next(&mut ws).await.unwrap();
    assert_eq!(warning["event"], "__session_expiring__");
    assert_eq!(warning["payload"]["expires_in"], 60.0);
    assert_eq!(t0.elapsed(), Duration::from_secs(7140));
    assert_eq!(
        next(&mut ws).await.unwrap()["payload"]["code"],
        "SESSION_EXPIRED"
    );
    assert_eq!(
        next(&mut ws).await.unwrap()["payload"]["reason"],
        "session_expired"
    );
    assert_eq!(next(&mut ws).await, Err(Some(4003)));
    assert_eq!(t0.elapsed(), Duration::from_secs(7200));
}

#[tokio::test(start_paused = true)]
async fn zero_turns_every_timer_off() {
    let mut ws = connect(off()).await;
    let quiet = tokio::time::timeout(Duration::from_secs(100_000), next(&mut ws)).await;
    assert!(
        quiet.is_err(),
        "nothing may arrive with every timer off: {quiet:?}"
    );
}
