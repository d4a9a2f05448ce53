//! What the runtime's integration tests share: a minimal app (one `echo`
//! event, replied to as `echo_reply` with the same payload),
//! `eventless_app!` for test apps whose events need no handler, and an
//! in-process WebSocket client ([`connect_in_process`], [`next_json`],
//! [`request`], [`rooms_settle`]).
#![allow(dead_code, unused_macros)] // not every test binary uses every item

use std::future::Future;
use std::sync::Arc;

use socketspec_runtime::meta::{AppMeta, EventMeta};
use socketspec_runtime::{App, Call, Hooks, Result};

/// Replies to `echo` with `echo_reply` carrying the same payload.
pub struct Echo;

static EVENTS: [EventMeta; 1] = [EventMeta {
    name: "echo",
    ordered: false,
    executor: false,
    payload_schema: r#"{"type":"object"}"#,
    type_checked: false,
}];

static META: AppMeta = AppMeta {
    title: "echo",
    version: "1",
    namespace: "/",
    events: &EVENTS,
    rooms: &[],
    spec_json: None,
    docs_html: None,
    asyncapi_json: None,
    schema_defs: "",
};

impl Hooks for Echo {}

impl App for Echo {
    type Hooks = Self;

    fn meta(&self) -> &'static AppMeta {
        &META
    }

    fn hooks(&self) -> &Self {
        self
    }

    // Not `async fn`: the future must be 'static, free of the borrow of `this`.
    #[allow(clippy::manual_async_fn)]
    fn dispatch(
        _this: &Arc<Self>,
        call: Call,
    ) -> impl Future<Output = Result<()>> + Send + 'static + use<> {
        async move { socketspec_runtime::__private::emit(&call.context(), "echo_reply", call.payload()) }
    }
}

/// A session with every timer off.
#[allow(dead_code)] // not every test binary uses it
pub fn timers_off() -> socketspec_runtime::config::SessionConfig {
    socketspec_runtime::config::SessionConfig::without_timers()
}

/// Implements `App` for `$app` with `$meta` and itself as its hooks, for
/// test apps whose events (if any) need no handler: dispatch does nothing.
macro_rules! eventless_app {
    ($app:ty, $meta:expr) => {
        impl ::socketspec_runtime::App for $app {
            type Hooks = Self;

            fn meta(&self) -> &'static ::socketspec_runtime::meta::AppMeta {
                &$meta
            }

            fn hooks(&self) -> &Self {
                self
            }

            #[allow(clippy::manual_async_fn)]
            fn dispatch(
                _this: &::std::sync::Arc<Self>,
                _call: ::socketspec_runtime::Call,
            ) -> impl ::std::future::Future<Output = ::socketspec_runtime::Result<()>>
            + Send
            + 'static
            + use<> {
                async { Ok(()) }
            }
        }
    };
}

/// The client end of an in-process connection.
pub type Ws = tokio_tungstenite::WebSocketStream<tokio::io::DuplexStream>;

/// Connects to `server`'s namespace `/` over an in-memory pipe, with
/// `query` as the upgrade's query; returns the socket and the
/// `__connect__` message.
#[allow(clippy::unwrap_used)]
pub async fn connect_in_process(
    server: &socketspec_runtime::Server,
    query: Vec<(String, String)>,
) -> (Ws, serde_json::Value) {
    use tokio_tungstenite::tungstenite::protocol::Role;
    let (client, server_side) = tokio::io::duplex(64 * 1024);
    let server = server.clone();
    let handshake = socketspec_runtime::HandshakeRequest {
        query,
        ..socketspec_runtime::HandshakeRequest::default()
    };
    tokio::spawn(async move { server.serve_websocket("/", server_side, handshake).await });
    let mut ws =
        tokio_tungstenite::WebSocketStream::from_raw_socket(client, Role::Client, None).await;
    let connect = next_json(&mut ws).await.unwrap();
    assert_eq!(connect["event"], "__connect__", "{connect}");
    (ws, connect)
}

/// The next JSON message, or `None` when the connection closed.
#[allow(clippy::unwrap_used, clippy::panic)]
pub async fn next_json(ws: &mut Ws) -> Option<serde_json::Value> {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    loop {
        match tokio::time::timeout(std::time::Duration::from_secs(5), ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => return Some(serde_json::from_str(&t).unwrap()),
            Ok(Some(Ok(Message::Close(_)))) | Ok(None) | Ok(Some(Err(_))) => return None,
            Ok(Some(Ok(_))) => continue,
            Err(_) => panic!("no message within 5 s"),
        }
    }
}

/// Sends `event` with `payload` and the event's name as its `id`; returns
/// the first message carrying that id.
#[allow(clippy::unwrap_used, clippy::expect_used)]
pub async fn request(ws: &mut Ws, event: &str, payload: serde_json::Value) -> serde_json::Value {
    use futures_util::SinkExt;
    let text = serde_json::json!({"event": event, "payload": payload, "id": event}).to_string();
    ws.send(tokio_tungstenite::tungstenite::Message::text(text))
        .await
        .unwrap();
    loop {
        let m = next_json(ws).await.expect("the connection closed");
        if m["id"] == event {
            return m;
        }
    }
}

/// Waits until the rooms of namespace `/` with members are `expected`,
/// once the server's cleanup has run.
#[allow(clippy::unwrap_used, clippy::panic)]
pub async fn rooms_settle(server: &socketspec_runtime::Server, expected: &[(&str, usize)]) {
    let expected: Vec<(String, usize)> =
        expected.iter().map(|(r, n)| (r.to_string(), *n)).collect();
    let mut rooms = Vec::new();
    for _ in 0..150 {
        rooms = server.rooms("/").await.unwrap();
        if rooms == expected {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("rooms {rooms:?}, expected {expected:?}");
}
