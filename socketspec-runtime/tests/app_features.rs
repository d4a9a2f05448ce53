//! The runtime's application features through the real connection loop:
//! middleware (wraps every handler, can stop the chain, can rewrite the
//! payload), lifecycle hooks, room guards, `max_members`, static rooms,
//! blocking (`executor`) handlers and concurrent versus ordered dispatch.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use socketspec_runtime::__private::{broadcast, emit};
use socketspec_runtime::config::{Limits, SessionConfig};
use socketspec_runtime::meta::{AppMeta, EventMeta, RoomMeta};
use socketspec_runtime::{
    App, Call, Connection, DisconnectReason, Error, HandshakeRequest, Hooks, Middleware, Next,
    Result, RoomMatch, Server,
};
use tokio::io::DuplexStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::Role;

const OBJECT: &str = r#"{"type":"object"}"#;

static EVENTS: [EventMeta; 7] = [
    EventMeta {
        name: "join",
        ordered: false,
        executor: false,
        payload_schema: OBJECT,
        type_checked: false,
    },
    EventMeta {
        name: "leave",
        ordered: false,
        executor: false,
        payload_schema: OBJECT,
        type_checked: false,
    },
    EventMeta {
        name: "say",
        ordered: false,
        executor: false,
        payload_schema: OBJECT,
        type_checked: false,
    },
    EventMeta {
        name: "block",
        ordered: false,
        executor: true,
        payload_schema: OBJECT,
        type_checked: false,
    },
    EventMeta {
        name: "boom",
        ordered: false,
        executor: false,
        payload_schema: OBJECT,
        type_checked: false,
    },
    EventMeta {
        name: "sleep",
        ordered: false,
        executor: false,
        payload_schema: OBJECT,
        type_checked: false,
    },
    EventMeta {
        name: "sleep_ordered",
        ordered: true,
        executor: false,
        payload_schema: OBJECT,
        type_checked: false,
    },
];

static ROOMS: [RoomMeta; 3] = [
    RoomMeta {
        pattern: "lobby",
        is_static: true,
        guarded: false,
        max_members: None,
    },
    RoomMeta {
        pattern: "team:{name}",
        is_static: false,
        guarded: false,
        max_members: Some(2),
    },
    RoomMeta {
        pattern: "vip:{name}",
        is_static: false,
        guarded: true,
        max_members: None,
    },
];

static META: AppMeta = AppMeta {
    title: "features",
    version: "1",
    namespace: "/",
    events: &EVENTS,
    rooms: &ROOMS,
    spec_json: None,
    docs_html: None,
    asyncapi_json: None,
    schema_defs: "",
};

/// Records every hook call, in order, in a log the test shares.
struct Features {
    log: Arc<Mutex<Vec<String>>>,
}

impl Features {
    fn record(&self, entry: String) {
        self.log.lock().unwrap().push(entry);
    }
}

fn text(call: &Call, key: &str) -> String {
    call.payload()[key].as_str().unwrap_or_default().to_owned()
}

impl App for Features {
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
        async move {
            let cx = call.context();
            match call.event() {
                "join" => {
                    let members = cx.join(&text(&call, "room")).await?;
                    emit(&cx, "joined", &json!({"members": members}))
                }
                "leave" => {
                    let members = cx.leave(&text(&call, "room")).await?;
                    emit(&cx, "left", &json!({"members": members}))
                }
                "say" => {
                    let reached =
                        broadcast(&cx, &text(&call, "room"), "said", call.payload(), false).await?;
                    emit(&cx, "sent", &json!({"reached": reached}))
                }
                "block" => {
                    call.run_blocking(|cx| {
                        // Blocking work is fine here: this is the blocking pool.
                        std::thread::sleep(Duration::from_millis(50));
                        let on_runtime_worker = std::thread::current()
                            .name()
                            .is_some_and(|n| n.contains("tokio-runtime-worker"));
                        emit(&cx, "blocked", &json!({"on_worker": on_runtime_worker}))
                    })
                    .await
                }
                "boom" => Err(Error::handler("boom")),
                "sleep" | "sleep_ordered" => {
                    let ms = call.payload()["ms"].as_u64().unwrap_or(0);
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                    emit(&cx, "slept", &json!({"ms": ms}))
                }
                _ => Ok(()),
            }
        }
    }

    async fn guard(&self, conn: &Connection, room: &RoomMatch<'_>) -> bool {
        self.record(format!("guard {} {:?}", room.room, room.param("name")));
        conn.handshake().query_param("vip") == Some("yes")
    }
}

impl Hooks for Features {
    async fn on_connect(&self, conn: &Connection) -> Result<()> {
        conn.join("lobby").await?;
        self.record("connect".into());
        Ok(())
    }

    async fn on_disconnect(&self, _conn: &Connection, reason: &DisconnectReason) {
        self.record(format!("disconnect {reason}"));
    }

    async fn on_error(&self, _conn: &Connection, event: &str, error: &Error) {
        self.record(format!("error {event} {}", error.code()));
    }

    async fn on_room_join(&self, _conn: &Connection, room: &str) {
        self.record(format!("join {room}"));
    }

    async fn on_room_leave(&self, _conn: &Connection, room: &str) {
        self.record(format!("leave {room}"));
    }
}

/// Counts calls, stops `say` with text "stop", and upper-cases `say` text.
struct Gate {
    seen: Arc<Mutex<Vec<String>>>,
}

impl Middleware for Gate {
    async fn handle(&self, mut call: Call, next: Next<'_>) -> Result<()> {
        self.seen.lock().unwrap().push(call.event().to_owned());
        if call.event() == "say" {
            if text(&call, "text") == "stop" {
                return Err(Error::handler("stopped by middleware"));
            }
            let upper = text(&call, "text").to_uppercase();
            call.payload_mut()["text"] = Value::String(upper);
        }
        next.run(call).await
    }
}

type Client = WebSocketStream<DuplexStream>;

struct Harness {
    server: Server,
    /// Events the middleware saw.
    seen: Arc<Mutex<Vec<String>>>,
    /// Hook calls.
    hooks: Arc<Mutex<Vec<String>>>,
}

impl Harness {
    fn new() -> Harness {
        Harness::with_max_in_flight(Limits::default().max_in_flight)
    }

    fn with_max_in_flight(max_in_flight: usize) -> Harness {
        Harness::with(max_in_flight, Duration::from_secs(30))
    }

    fn with(max_in_flight: usize, shutdown_grace: Duration) -> Harness {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let hooks = Arc::new(Mutex::new(Vec::new()));
        let server = Server::builder(Features {
            log: Arc::clone(&hooks),
        })
        .shutdown_grace(shutdown_grace)
        .session(SessionConfig::without_timers())
        .limits(Limits::default().max_in_flight(max_in_flight))
        .middleware(Gate {
            seen: Arc::clone(&seen),
        })
        .build()
        .unwrap();
        Harness {
            server,
            seen,
            hooks,
        }
    }

    async fn connect(&self, query: &[(&str, &str)]) -> Client {
        let (client, server_side) = tokio::io::duplex(64 * 1024);
        let server = self.server.clone();
        let handshake = HandshakeRequest {
            query: query
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..HandshakeRequest::default()
        };
        tokio::spawn(async move { server.serve_websocket("/", server_side, handshake).await });
        let mut ws = WebSocketStream::from_raw_socket(client, Role::Client, None).await;
        assert_eq!(next(&mut ws).await["event"], "__connect__");
        ws
    }

    fn hooks(&self) -> Vec<String> {
        self.hooks.lock().unwrap().clone()
    }
}

async fn next(ws: &mut Client) -> Value {
    loop {
        match tokio::time::timeout(Duration::from_secs(5), ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => return serde_json::from_str(&t).unwrap(),
            Ok(Some(Ok(_))) => continue,
            other => panic!("no message: {other:?}"),
        }
    }
}

async fn request(ws: &mut Client, event: &str, payload: Value) -> Value {
    ws.send(Message::text(
        json!({"event": event, "payload": payload, "id": event}).to_string(),
    ))
    .await
    .unwrap();
    loop {
        let m = next(ws).await;
        if m["id"] == event {
            return m;
        }
    }
}

#[tokio::test]
async fn middleware_wraps_every_handler_rewrites_payloads_and_can_stop_the_chain() {
    let h = Harness::new();
    let mut a = h.connect(&[]).await;
    let mut b = h.connect(&[]).await;
    request(&mut a, "join", json!({"room": "team:red"})).await;
    request(&mut b, "join", json!({"room": "team:red"})).await;
    let sent = request(&mut a, "say", json!({"room": "team:red", "text": "hi"})).await;
    assert_eq!(sent["payload"]["reached"], 2);
    // The middleware rewrote the payload before the handler broadcast it.
    let said = next(&mut b).await;
    assert_eq!(
        said,
        json!({"event": "said", "payload": {"room": "team:red", "text": "HI"}})
    );
    // It stops the chain: the handler never runs, the error reaches the client.
    let stopped = request(&mut a, "say", json!({"room": "team:red", "text": "stop"})).await;
    assert_eq!(stopped["payload"]["code"], "HANDLER_ERROR");
    assert_eq!(stopped["payload"]["message"], "stopped by middleware");
    let quiet = tokio::time::timeout(Duration::from_millis(200), b.next()).await;
    assert!(
        quiet.is_err(),
        "a stopped broadcast must not reach anyone: {quiet:?}"
    );
    let seen = h.seen.lock().unwrap().clone();
    assert_eq!(seen, ["join", "join", "say", "say"]);
}

#[tokio::test]
async fn lifecycle_hooks_run_in_order() {
    let h = Harness::new();
    let mut a = h.connect(&[]).await;
    request(&mut a, "join", json!({"room": "team:x"})).await;
    request(&mut a, "leave", json!({"room": "team:x"})).await;
    request(&mut a, "join", json!({"room": "team:y"})).await;
    let failed = request(&mut a, "boom", json!({})).await;
    assert_eq!(failed["payload"]["code"], "HANDLER_ERROR");
    a.close(None).await.unwrap();
    while a.next().await.is_some() {}
    let mut hooks = Vec::new();
    for _ in 0..50 {
        hooks = h.hooks();
        if hooks.last().is_some_and(|l| l.starts_with("disconnect")) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        hooks,
        [
            "join lobby",
            "connect",
            "join team:x",
            "leave team:x",
            "join team:y",
            "error boom HANDLER_ERROR",
            "leave lobby",
            "leave team:y",
            "disconnect client_close",
        ]
    );
}

#[tokio::test]
async fn guards_decide_joins_of_guarded_patterns() {
    let h = Harness::new();
    let mut plain = h.connect(&[]).await;
    let refused = request(&mut plain, "join", json!({"room": "vip:gold"})).await;
    assert_eq!(refused["payload"]["code"], "PERMISSION_ERROR");
    assert_eq!(refused["payload"]["details"]["room"], "vip:gold");
    let mut vip = h.connect(&[("vip", "yes")]).await;
    let joined = request(&mut vip, "join", json!({"room": "vip:gold"})).await;
    assert_eq!(joined["payload"]["members"], 1);
    // The guard saw the pattern's parameter.
    assert!(
        h.hooks()
            .contains(&r#"guard vip:gold Some("gold")"#.to_owned()),
        "{:?}",
        h.hooks()
    );
}

#[tokio::test]
async fn max_members_refuses_joins_past_the_limit() {
    let h = Harness::new();
    let mut clients = Vec::new();
    for _ in 0..3 {
        clients.push(h.connect(&[]).await);
    }
    assert_eq!(
        request(&mut clients[0], "join", json!({"room": "team:full"})).await["payload"]["members"],
        1
    );
    assert_eq!(
        request(&mut clients[1], "join", json!({"room": "team:full"})).await["payload"]["members"],
        2
    );
    let third = request(&mut clients[2], "join", json!({"room": "team:full"})).await;
    assert_eq!(third["payload"]["code"], "PERMISSION_ERROR");
    assert!(
        third["payload"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("full")
    );
}

#[tokio::test]
async fn static_rooms_exist_when_empty_and_others_only_with_members() {
    let h = Harness::new();
    let mut a = h.connect(&[]).await;
    // Everyone is in the static lobby, and a broadcast there reaches them.
    assert_eq!(
        request(&mut a, "say", json!({"room": "lobby", "text": "x"})).await["payload"]["reached"],
        1
    );
    request(&mut a, "leave", json!({"room": "lobby"})).await;
    // Empty but static: still exists.
    assert_eq!(
        request(&mut a, "say", json!({"room": "lobby", "text": "x"})).await["payload"]["reached"],
        0
    );
    // Not static and empty: ROOM_NOT_FOUND with the full name.
    let missing = request(&mut a, "say", json!({"room": "team:none", "text": "x"})).await;
    assert_eq!(missing["payload"]["code"], "ROOM_NOT_FOUND");
    assert_eq!(missing["payload"]["details"]["room"], "team:none");
    // A room that matches no pattern is a handler error, not a silent room.
    let unknown = request(&mut a, "join", json!({"room": "nowhere"})).await;
    assert_eq!(unknown["payload"]["code"], "HANDLER_ERROR");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn executor_handlers_run_on_the_blocking_pool() {
    let h = Harness::new();
    let mut a = h.connect(&[]).await;
    let reply = request(&mut a, "block", json!({})).await;
    assert_eq!(
        reply,
        json!({"event": "blocked", "payload": {"on_worker": false}, "id": "block"})
    );
}

#[tokio::test]
async fn unordered_events_run_concurrently_and_ordered_ones_in_arrival_order() {
    let h = Harness::new();
    let mut a = h.connect(&[]).await;
    for (id, ms) in [("s1", 300), ("s2", 0)] {
        a.send(Message::text(
            json!({"event": "sleep", "payload": {"ms": ms}, "id": id}).to_string(),
        ))
        .await
        .unwrap();
    }
    let first = next(&mut a).await;
    assert_eq!(
        first["id"], "s2",
        "a slow handler must not hold up the next one"
    );
    assert_eq!(next(&mut a).await["id"], "s1");
    for (id, ms) in [("o1", 300), ("o2", 0)] {
        a.send(Message::text(
            json!({"event": "sleep_ordered", "payload": {"ms": ms}, "id": id}).to_string(),
        ))
        .await
        .unwrap();
    }
    assert_eq!(next(&mut a).await["id"], "o1");
    assert_eq!(next(&mut a).await["id"], "o2");
}

/// Sends a `sleep` of 300 ms (id `slow`), then a `leave` that finishes at
/// once (id `quick`), without waiting for either reply.
async fn send_slow_then_quick(ws: &mut Client) {
    for (event, payload, id) in [
        ("sleep", json!({"ms": 300}), "slow"),
        ("leave", json!({"room": "r"}), "quick"),
    ] {
        ws.send(Message::text(
            json!({"event": event, "payload": payload, "id": id}).to_string(),
        ))
        .await
        .unwrap();
    }
}

#[tokio::test]
async fn reading_pauses_while_max_in_flight_handlers_wait() {
    let h = Harness::with_max_in_flight(1);
    let mut a = h.connect(&[]).await;
    // Handlers that finish at once never hold the one slot: all answered.
    for i in 0..5 {
        let reply = request(&mut a, "leave", json!({"room": format!("r{i}")})).await;
        assert_eq!(reply["event"], "left", "{reply}");
    }
    // A waiting handler holds it: the next message is not even read until
    // it is done, so its reply comes second although it finishes at once.
    send_slow_then_quick(&mut a).await;
    assert_eq!(next(&mut a).await["id"], "slow");
    assert_eq!(next(&mut a).await["id"], "quick");

    // The same two with the default limit: the quick one overtakes.
    let h = Harness::new();
    let mut b = h.connect(&[]).await;
    send_slow_then_quick(&mut b).await;
    assert_eq!(next(&mut b).await["id"], "quick");
    assert_eq!(next(&mut b).await["id"], "slow");
}

/// When a shutdown's grace period ends, every request still being handled
/// (a parked handler, the running `ordered` one) or still queued behind it
/// gets a `HANDLER_ERROR` with its `id` before `__disconnect__`: none goes
/// unanswered. The handlers are not told (`on_error` is for their own
/// failures).
#[tokio::test]
async fn requests_unfinished_when_the_grace_ends_get_an_error_each() {
    let h = Harness::with(Limits::default().max_in_flight, Duration::from_millis(300));
    let mut ws = h.connect(&[]).await;
    for (event, id) in [
        ("sleep", "parked"),
        ("sleep_ordered", "running"),
        ("sleep_ordered", "queued"),
    ] {
        let frame = json!({"event": event, "payload": {"ms": 5000}, "id": id});
        ws.send(Message::text(frame.to_string())).await.unwrap();
    }
    // Let the loop read all three before the shutdown starts.
    tokio::time::sleep(Duration::from_millis(100)).await;
    h.server.shutdown_handle().shutdown();
    assert_eq!(next(&mut ws).await["event"], "__server_shutdown__");
    let mut answered = Vec::new();
    loop {
        let m = next(&mut ws).await;
        if m["event"] == "__disconnect__" {
            break;
        }
        assert_eq!(m["event"], "__error__", "{m}");
        assert_eq!(m["payload"]["code"], "HANDLER_ERROR", "{m}");
        assert_eq!(m["payload"]["request_id"], m["id"], "{m}");
        answered.push(m["id"].as_str().unwrap().to_owned());
    }
    answered.sort();
    assert_eq!(answered, ["parked", "queued", "running"]);
    assert!(
        !h.hooks().iter().any(|h| h.starts_with("error")),
        "{:?}",
        h.hooks()
    );
}
