//! The chat example's behaviour (docs/chat-example.md), tested in-process with
//! `socketspec_runtime::testing::TestClient`: the whole server stack
//! (authentication from headers and query, limits, rooms, guards,
//! middleware, handlers, session timers) over `tokio::io::duplex`, no TCP.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chat_example::{Chat, chat};
use serde_json::{Value, json};
use socketspec_runtime::auth::{AnyOf, ApiKeyAuth, JwtAuth};
use socketspec_runtime::client::{ClientError, ClientOptions, RawClient, ReconnectPolicy};
use socketspec_runtime::config::{Limits, RateLimit, SessionConfig};
use socketspec_runtime::testing::{InProcessConnector, TestClient};
use socketspec_runtime::{Call, ErrorCode, Middleware, Next, Server, ServerBuilder};

type TestResult = Result<(), Box<dyn std::error::Error>>;
type ChatServer = Server;

/// The longest any single wait lasts.
const T: Duration = Duration::from_secs(2);
/// How long to listen to make sure nothing arrives.
const QUIET: Duration = Duration::from_millis(150);
const SECRET: &[u8] = b"in-process-secret";

fn server(configure: impl FnOnce(ServerBuilder) -> ServerBuilder) -> ChatServer {
    configure(Server::builder(chat::service(Chat::default())))
        .build()
        .expect("the chat spec's schemas compile")
}

fn default_server() -> ChatServer {
    server(|b| b)
}

fn token(sub: &str, role: Option<&str>, expires_in: u64) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut claims = json!({"sub": sub, "exp": now + expires_in});
    if let Some(role) = role {
        claims["role"] = json!(role);
    }
    let key = jsonwebtoken::EncodingKey::from_secret(SECRET);
    jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &key).expect("signs")
}

fn code_of<T: std::fmt::Debug>(result: Result<T, ClientError>) -> ErrorCode {
    match result {
        Err(e) => e
            .code()
            .unwrap_or_else(|| panic!("not a server error: {e:?}")),
        Ok(value) => panic!("expected an error, got {value:?}"),
    }
}

// --- events ---------------------------------------------------------------------

#[tokio::test]
async fn every_event_behaves_as_the_contract_says() -> TestResult {
    let server = default_server();
    let mut client = TestClient::connect(&server).await?;
    let me = client.connection_id().to_owned();
    assert_eq!(client.connect_info().max_payload_size, 65_536);

    let joined = client.join_room("general").await?;
    assert_eq!(joined.event, "room_joined");
    assert_eq!(joined.payload, json!({"room": "general", "members": 1}));

    let who = client.request("whoami", &json!({})).await?;
    assert_eq!(
        who.payload,
        json!({"connection_id": me, "user_id": null, "role": null, "rooms": ["chat:general", "lobby"]})
    );

    let ack = client
        .request("send_message", &json!({"room": "general", "text": "hi"}))
        .await?;
    assert_eq!(ack.event, "message_ack");
    assert_eq!(ack.payload["status"], "ok");
    let own = client.receive_broadcast("new_message", T).await?;
    assert_eq!(
        own.payload,
        json!({"room": "general", "from": me, "text": "hi"})
    );

    let reply = client
        .request("echo", &json!({"seq": 3, "data": "d"}))
        .await?;
    assert_eq!(
        (reply.event.as_str(), reply.payload),
        ("echo_reply", json!({"seq": 3, "data": "d"}))
    );
    let slow = client
        .request("slow_echo", &json!({"seq": 4, "delay_ms": 20}))
        .await?;
    assert_eq!(slow.payload, json!({"seq": 4, "data": ""}));

    let left = client
        .request("leave_room", &json!({"room": "general"}))
        .await?;
    assert_eq!(
        (left.event.as_str(), left.payload),
        ("room_left", json!({"room": "general"}))
    );

    for mode in ["error", "panic"] {
        client
            .emit_with_id("fail", json!({"mode": mode}), mode)
            .await?;
        let error = client.receive_error(T).await?;
        assert_eq!(error.code, ErrorCode::HandlerError);
        assert_eq!(error.request_id, mode);
        assert!(!error.message.contains("deliberate"), "{error:?}");
    }

    let refused = client
        .request("join_admin", &json!({"section": "ops"}))
        .await;
    let error = refused.unwrap_err();
    assert_eq!(error.code(), Some(ErrorCode::PermissionError));
    assert_eq!(error.server_error().unwrap().details["room"], "admin:ops");

    assert_eq!(
        code_of(
            client
                .request("send_message", &json!({"room": "empty", "text": "x"}))
                .await
        ),
        ErrorCode::RoomNotFound
    );
    assert!(client.try_receive_any(QUIET).await?.is_none());
    client.close().await?;
    Ok(())
}

#[tokio::test]
async fn the_envelope_rules_hold() -> TestResult {
    let server = default_server();
    let mut client = TestClient::connect(&server).await?;

    // A reply carries the request's id; without an id, it carries none.
    client
        .emit_with_id("echo", json!({"seq": 1, "data": "a"}), "c-17")
        .await?;
    let reply = client.receive("echo_reply", T).await?;
    assert_eq!(reply.id.as_deref(), Some("c-17"));
    client.emit("echo", json!({"seq": 2, "data": "b"})).await?;
    let reply = client.receive("echo_reply", T).await?;
    assert_eq!((reply.id, reply.payload["seq"].clone()), (None, json!(2)));

    // Malformed input and unknown events: typed errors, connection open.
    client.send_text("not json").await?;
    assert_eq!(
        client.receive_error(T).await?.code,
        ErrorCode::ValidationError
    );
    client
        .emit_with_id("no_such_event", json!({}), "u1")
        .await?;
    let error = client.receive_error(T).await?;
    assert_eq!(
        (
            error.code,
            error.request_id.as_str(),
            error.event.as_deref()
        ),
        (ErrorCode::UnknownEvent, "u1", Some("no_such_event"))
    );
    client.emit("__ping__", json!({})).await?;
    assert_eq!(client.receive_error(T).await?.code, ErrorCode::UnknownEvent);
    let error = client
        .request("send_message", &json!({"room": "a b", "text": ""}))
        .await
        .unwrap_err();
    let details = &error.server_error().unwrap().details;
    let paths: Vec<&str> = details["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["path"].as_str())
        .collect();
    assert!(
        paths.contains(&"/room") && paths.contains(&"/text"),
        "{paths:?}"
    );
    assert!(
        client
            .request("echo", &json!({"seq": 9, "data": ""}))
            .await
            .is_ok()
    );
    Ok(())
}

// --- rooms and broadcasts ------------------------------------------------------------

#[tokio::test]
async fn broadcasts_reach_the_room_and_only_the_room() -> TestResult {
    let server = default_server();
    let mut alice = TestClient::connect(&server).await?;
    let mut bob = TestClient::connect(&server).await?;
    let mut carol = TestClient::connect(&server).await?;

    alice.join_room("x").await?;
    let reply = bob.join_room("x").await?;
    assert_eq!(reply.payload["members"], 2);
    let joined = alice.receive_broadcast("user_joined", T).await?;
    assert_eq!(
        joined.payload,
        json!({"room": "x", "user": bob.connection_id()})
    );
    assert!(
        bob.try_receive_any(QUIET).await?.is_none(),
        "the joiner is excluded"
    );

    alice
        .request("send_message", &json!({"room": "x", "text": "hello"}))
        .await?;
    for member in [&mut alice, &mut bob] {
        let message = member.receive_broadcast("new_message", T).await?;
        assert_eq!(message.payload["text"], "hello");
        assert_eq!(message.id, None);
    }
    assert!(
        carol.try_receive_any(QUIET).await?.is_none(),
        "not a member"
    );

    // A sender's broadcasts arrive in the order sent.
    for i in 0..20 {
        alice
            .emit(
                "send_message",
                json!({"room": "x", "text": format!("m{i}")}),
            )
            .await?;
    }
    for i in 0..20 {
        let message = bob.receive_broadcast("new_message", T).await?;
        assert_eq!(message.payload["text"], format!("m{i}"));
    }
    Ok(())
}

// --- authentication ----------------------------------------------------------------

fn auth_server() -> ChatServer {
    server(|b| {
        b.auth(
            AnyOf::new()
                .or(JwtAuth::hs256(SECRET))
                .or(ApiKeyAuth::new(["k-1"])),
        )
    })
}

#[tokio::test]
async fn credentials_from_headers_and_query_are_authenticated() -> TestResult {
    let server = auth_server();
    let refused = TestClient::connect(&server).await;
    assert_eq!(code_of(refused), ErrorCode::AuthError);
    let bad = TestClient::connect_with(&server, &[("Authorization", "Bearer nope")], &[]).await;
    assert_eq!(code_of(bad), ErrorCode::AuthError);

    let bearer = format!("Bearer {}", token("alice", Some("admin"), 600));
    let alice = TestClient::connect_with(&server, &[("Authorization", &bearer)], &[]).await?;
    let who = alice.request("whoami", &json!({})).await?;
    assert_eq!(
        (who.payload["user_id"].clone(), who.payload["role"].clone()),
        (json!("alice"), json!("admin"))
    );
    let admin = alice
        .request("join_admin", &json!({"section": "ops"}))
        .await?;
    assert_eq!(admin.payload, json!({"room": "admin:ops", "members": 1}));

    let by_query = token("bob", None, 600);
    let bob = TestClient::connect_with(&server, &[], &[("token", &by_query)]).await?;
    let who = bob.request("whoami", &json!({})).await?;
    assert_eq!(who.payload["user_id"], "bob");
    assert_eq!(
        code_of(bob.request("join_admin", &json!({"section": "ops"})).await),
        ErrorCode::PermissionError
    );

    let keyed = TestClient::connect_with(&server, &[], &[("api_key", "k-1")]).await?;
    assert!(
        keyed
            .request("echo", &json!({"seq": 1, "data": ""}))
            .await
            .is_ok()
    );
    let keyed = TestClient::connect_with(&server, &[("X-API-Key", "k-1")], &[]).await?;
    assert!(
        keyed
            .request("echo", &json!({"seq": 1, "data": ""}))
            .await
            .is_ok()
    );

    // Refresh: same subject accepted, another refused, connection open.
    let expires = bob.refresh_auth(&token("bob", None, 900)).await?.unwrap();
    assert!(expires > Duration::from_secs(890), "{expires:?}");
    assert_eq!(
        code_of(bob.refresh_auth(&token("eve", None, 900)).await),
        ErrorCode::AuthError
    );
    assert!(
        bob.request("echo", &json!({"seq": 2, "data": ""}))
            .await
            .is_ok()
    );
    Ok(())
}

// --- limits, middleware, timers --------------------------------------------------------

#[tokio::test]
async fn rate_and_payload_limits_apply() -> TestResult {
    let server = server(|b| {
        b.rate_limit(RateLimit::new(2, Duration::from_secs(10)))
            .limits(Limits::default().max_payload_size(100))
    });
    let mut client = TestClient::connect(&server).await?;
    for seq in 0..2 {
        client
            .request("echo", &json!({"seq": seq, "data": ""}))
            .await?;
    }
    let limited = client.request("echo", &json!({"seq": 2, "data": ""})).await;
    let error = limited.unwrap_err();
    assert_eq!(error.code(), Some(ErrorCode::RateLimitError));
    assert!(
        error.server_error().unwrap().details["retry_after"]
            .as_f64()
            .unwrap()
            > 0.0
    );

    // Over the limit: refused locally by the client, and by the server when
    // sent anyway (a raw frame).
    let big = "x".repeat(200);
    let local = client
        .request("echo", &json!({"seq": 3, "data": big}))
        .await;
    assert_eq!(code_of(local), ErrorCode::PayloadTooLarge);
    let frame = json!({"event": "echo", "payload": {"seq": 3, "data": big}}).to_string();
    client.send_text(&frame).await?;
    let error = client.receive_error(T).await?;
    assert_eq!(error.code, ErrorCode::PayloadTooLarge);
    assert_eq!(error.details["limit"], 100);
    assert_eq!(error.details["size"], frame.len());
    Ok(())
}

/// Records every event name it sees, and refuses `echo`s whose data is "blocked".
#[derive(Default, Clone)]
struct Recorder(Arc<Mutex<Vec<String>>>);

impl Middleware for Recorder {
    async fn handle(&self, call: Call, next: Next<'_>) -> socketspec_runtime::Result<()> {
        if let Ok(mut seen) = self.0.lock() {
            seen.push(call.event().to_owned());
        }
        if call.payload().get("data") == Some(&Value::from("blocked")) {
            return Err(socketspec_runtime::Error::handler("blocked by middleware"));
        }
        next.run(call).await
    }
}

#[tokio::test]
async fn middleware_wraps_every_handler() -> TestResult {
    let recorder = Recorder::default();
    let server = Server::builder(chat::service(Chat::default()))
        .middleware(recorder.clone())
        .build()?;
    let client = TestClient::connect(&server).await?;
    client.join_room("m").await?;
    client
        .request("echo", &json!({"seq": 1, "data": "ok"}))
        .await?;
    let error = client
        .request("echo", &json!({"seq": 2, "data": "blocked"}))
        .await
        .unwrap_err();
    assert_eq!(error.code(), Some(ErrorCode::HandlerError));
    assert_eq!(
        error.server_error().unwrap().message,
        "blocked by middleware"
    );
    let seen = recorder.0.lock().map(|s| s.clone()).unwrap_or_default();
    assert_eq!(seen, ["join_room", "echo", "echo"]);
    Ok(())
}

#[tokio::test]
async fn heartbeat_idle_and_shutdown() -> TestResult {
    let session = SessionConfig::default()
        .heartbeat_interval(Duration::from_millis(100))
        .heartbeat_timeout(Duration::from_millis(250))
        .idle_timeout(Duration::from_millis(800))
        .warning_window(Duration::from_millis(300));
    let server = server(|b| b.session(session));

    // Automatic pongs keep the connection; without them it closes with 4004.
    let mut ponging = TestClient::connect(&server).await?;
    ponging.receive("__ping__", T).await?;
    let silent_options = ClientOptions::new().auto_pong(false);
    let mut silent = TestClient::connect_with_options(&server, &[], &[], silent_options).await?;
    let closed = silent.expect_close(T).await?;
    assert_eq!(closed.code, Some(4004));
    assert!(ponging.raw().is_connected());

    // Idle: a warning, then IDLE_TIMEOUT, __disconnect__ and 4002.
    let warning = ponging.receive("__idle_warning__", T).await?;
    assert!(warning.payload["expires_in"].as_f64().unwrap() <= 0.3);
    assert_eq!(ponging.receive_error(T).await?.code, ErrorCode::IdleTimeout);
    let reason = ponging.receive("__disconnect__", T).await?;
    assert_eq!(reason.payload["reason"], "idle_timeout");
    assert_eq!(ponging.expect_close(T).await?.code, Some(4002));

    // Graceful shutdown: __server_shutdown__, __disconnect__, 1001.
    let mut client = TestClient::connect(&server).await?;
    server.shutdown_handle().shutdown();
    let shutdown = client.receive("__server_shutdown__", T).await?;
    assert_eq!(shutdown.payload["grace"], 10.0);
    let reason = client.receive("__disconnect__", T).await?;
    assert_eq!(reason.payload["reason"], "server_shutdown");
    assert_eq!(client.expect_close(T).await?.code, Some(1001));
    Ok(())
}

// --- the typed client over the in-process transport -----------------------------------

#[tokio::test]
async fn the_generated_client_runs_in_process() -> TestResult {
    use chat::client::{Client, ServerEvent};
    use futures_util::StreamExt;
    let server = default_server();
    let alice = Client::from_raw(TestClient::connect(&server).await?.into_raw());
    let bob = Client::from_raw(TestClient::connect(&server).await?.into_raw());
    alice.join_room(chat::JoinRoom { room: "t".into() }).await?;
    bob.join_room(chat::JoinRoom { room: "t".into() }).await?;
    let ack = alice
        .send_message(chat::SendMessage {
            room: "t".into(),
            text: "typed".into(),
        })
        .await?;
    assert_eq!(ack.status, chat::MessageAckStatus::Ok);
    // The typed stream, as a `Stream`.
    let mut events = std::pin::pin!(bob.events().filter_map(|e| async move {
        match e {
            ServerEvent::NewMessage(m) => Some(m),
            _ => None,
        }
    }));
    let got = tokio::time::timeout(T, events.next())
        .await?
        .expect("bob's stream ended");
    assert_eq!(got.text, "typed");
    assert_eq!(Some(got.from), alice.connection_id());

    // 100 requests in flight on one connection, each matched to its reply.
    let calls = (0..100).map(|seq| {
        let alice = alice.clone();
        async move {
            alice
                .echo(chat::Echo {
                    seq: seq.into(),
                    data: format!("n{seq}"),
                    extra: Default::default(),
                })
                .await
        }
    });
    let replies = futures_util::future::join_all(calls).await;
    for (seq, reply) in replies.into_iter().enumerate() {
        let reply = reply?;
        assert_eq!((reply.seq, reply.data), (seq.into(), format!("n{seq}")));
    }
    Ok(())
}

#[tokio::test]
async fn a_raw_client_reconnects_in_process() -> TestResult {
    let server = server(|b| {
        b.session(
            SessionConfig::default()
                .idle_timeout(Duration::from_millis(300))
                .warning_window(Duration::from_millis(100)),
        )
    });
    let policy = ReconnectPolicy {
        initial_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(100),
        max_attempts: Some(5),
    };
    let client = RawClient::connect_with(
        InProcessConnector::new(&server),
        ClientOptions::new().reconnect(policy),
    )
    .await?;
    let first = client.connect_info().unwrap().connection_id;
    // The idle timeout closes it (4002); the client comes back by itself.
    let mut saw_close = false;
    let second = loop {
        let item = tokio::time::timeout(T, client.next_event())
            .await?
            .expect("open stream");
        match item {
            socketspec_runtime::client::Incoming::Closed(info) => {
                assert_eq!((info.code, info.reconnecting), (Some(4002), true));
                saw_close = true;
            }
            socketspec_runtime::client::Incoming::Message(m)
                if m.event == "__connect__" && saw_close =>
            {
                break m.payload["connection_id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
            }
            _ => {}
        }
    };
    assert_ne!(first, second);
    assert_eq!(client.connect_info().unwrap().connection_id, second);
    let reply = client
        .request("echo", &json!({"seq": 1, "data": "back"}))
        .await?;
    assert_eq!(reply.payload["data"], "back");
    client.close(1000, "done").await?;
    Ok(())
}

/// Passes every call on untouched. Its only effect: with middleware
/// installed the runtime always validates payloads as `Value`s, so a server
/// with it shows what the checked path answers.
struct PassThrough;

impl Middleware for PassThrough {
    async fn handle(&self, call: Call, next: Next<'_>) -> socketspec_runtime::Result<()> {
        next.run(call).await
    }
}

/// Sends `text` as one frame and returns what answers id `id`: the reply's
/// event and payload, or the error's code, event, message and details (its
/// `request_id` is the id, so it is left out).
async fn answer(client: &mut TestClient, text: &str, id: &str) -> Value {
    client.send_text(text).await.expect("sends");
    loop {
        let message = client.receive_any(T).await.expect("an answer");
        if message.id.as_deref() != Some(id) {
            continue;
        }
        let mut payload = message.payload;
        if let Some(error) = payload.as_object_mut() {
            error.remove("request_id");
        }
        return json!({"event": message.event, "payload": payload});
    }
}

#[tokio::test]
async fn type_checked_events_answer_exactly_like_validated_ones() -> TestResult {
    // `echo` (required `seq: integer`, `data: string`) and `whoami` (any
    // object) are decoded straight into their types; behind middleware the
    // same events go through the JSON Schema validator first.
    let fast = default_server();
    let checked = Server::builder(chat::service(Chat::default()))
        .middleware(PassThrough)
        .build()?;
    let mut on_fast = TestClient::connect(&fast).await?;
    let mut on_checked = TestClient::connect(&checked).await?;
    let envelopes = [
        r#"{"event":"echo","payload":{"seq":1,"data":"x"},"id":"ID"}"#,
        r#"{"event":"echo","payload":{"seq":1,"data":"x","extra":[1]},"id":"ID"}"#,
        r#"{"event":"echo","payload":{"seq":1,"data":"x","extra":true},"id":"ID"}"#,
        r#"{"id":"ID","payload" : { "data" : "a\"b\u00e9\\" , "seq" : -7 } ,"event":"echo"}"#,
        r#"{"event":"echo","payload":{"seq":"1","data":"x"},"id":"ID"}"#,
        r#"{"event":"echo","payload":{"seq":1,"data":null},"id":"ID"}"#,
        r#"{"event":"echo","payload":{"data":"no seq"},"id":"ID"}"#,
        r#"{"event":"echo","payload":{},"id":"ID"}"#,
        r#"{"event":"echo","id":"ID"}"#,
        // Valid for the schema, so accepted on both paths: `seq` is an
        // `Integer`, which reads `1.0` as 1 and keeps integers beyond `i64`.
        r#"{"event":"echo","payload":{"seq":1.0,"data":"x"},"id":"ID"}"#,
        r#"{"event":"echo","payload":{"seq":9223372036854775808,"data":"x"},"id":"ID"}"#,
        // A repeated key: the last one wins, as in a `Value`.
        r#"{"event":"echo","payload":{"seq":1,"data":"x","seq":2},"id":"ID"}"#,
        r#"{"event":"echo","payload":[1],"id":"ID"}"#,
        r#"{"event":"whoami","payload":{"anything":{"goes":true}},"id":"ID"}"#,
        r#"{"event":"whoami","payload":null,"id":"ID"}"#,
    ];
    for (i, envelope) in envelopes.iter().enumerate() {
        let id = format!("k{i}");
        let text = envelope.replace("\"ID\"", &format!("\"{id}\""));
        let a = answer(&mut on_fast, &text, &id).await;
        let b = answer(&mut on_checked, &text, &id).await;
        // `whoami` names the connection: compare everything else.
        let strip = |mut v: Value| {
            if let Some(p) = v["payload"].as_object_mut() {
                p.remove("connection_id");
            }
            v
        };
        assert_eq!(strip(a.clone()), strip(b), "{text}");
        let refused = matches!(i, 4..=8 | 12);
        assert_eq!(a["event"] == "__error__", refused, "{text}: {a}");
        if refused {
            assert_eq!(a["payload"]["code"], "VALIDATION_ERROR", "{text}: {a}");
        }
        if matches!(i, 9 | 10) {
            let sent: Value = serde_json::from_str(&text)?;
            assert!(
                socketspec_runtime::same_json(&a["payload"]["seq"], &sent["payload"]["seq"]),
                "{text}: {a}"
            );
        }
    }
    Ok(())
}
