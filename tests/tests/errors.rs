//! One test (or a few) per reachable row of the wire protocol's error table
//! (docs/protocol.md), except the authentication rows (see `auth.rs`) and
//! the timeouts (`lifecycle.rs`).

use std::time::Duration;

use serde_json::{Value, json};
use socketspec_e2e::{ChatServer, Client, DEFAULT_TIMEOUT as T, Result, assert_error, event_of};

async fn connect(server: &ChatServer) -> Result<Client> {
    Ok(Client::connect_ready(&server.ws_url()).await?.0)
}

/// Checks that `request_id` is a fresh UUID and that no envelope `id` is set.
fn assert_fresh_request_id(error: &Value) -> String {
    assert!(
        error.get("id").is_none(),
        "no client id was sent, so no envelope id: {error}"
    );
    let request_id = error["payload"]["request_id"].as_str().unwrap_or_default();
    assert!(
        uuid::Uuid::parse_str(request_id).is_ok(),
        "request_id is not a UUID: {error}"
    );
    request_id.to_owned()
}

// --- VALIDATION_ERROR -------------------------------------------------------------

#[tokio::test]
async fn not_json_is_a_validation_error() -> Result<()> {
    let server = ChatServer::start(&[]);
    let mut c = connect(&server).await?;
    for text in ["not json", "{\"event\": \"echo\"", ""] {
        c.send_raw_text(text).await?;
        let error = c.recv_json(T).await?;
        let p = assert_error(&error, "VALIDATION_ERROR");
        assert_eq!(p["event"], Value::Null, "{text:?}: {error}");
        assert_fresh_request_id(&error);
    }
    c.assert_alive().await
}

#[tokio::test]
async fn invalid_utf8_binary_frame_is_a_validation_error() -> Result<()> {
    let server = ChatServer::start(&[]);
    let mut c = connect(&server).await?;
    c.send_binary(vec![0xff, 0xfe, 0x7b]).await?;
    let error = c.recv_json(T).await?;
    assert_error(&error, "VALIDATION_ERROR");
    c.assert_alive().await
}

#[tokio::test]
async fn not_an_object_is_a_validation_error() -> Result<()> {
    let server = ChatServer::start(&[]);
    let mut c = connect(&server).await?;
    for text in ["[1,2]", "\"echo\"", "42", "null", "true"] {
        c.send_raw_text(text).await?;
        let error = c.recv_json(T).await?;
        let p = assert_error(&error, "VALIDATION_ERROR");
        assert_eq!(p["event"], Value::Null, "{text}: {error}");
        assert_fresh_request_id(&error);
    }
    c.assert_alive().await
}

#[tokio::test]
async fn missing_or_non_string_event_is_a_validation_error() -> Result<()> {
    let server = ChatServer::start(&[]);
    let mut c = connect(&server).await?;
    let cases = [
        (json!({"payload": {}, "id": "e1"}), "e1"),
        (json!({"event": 5, "payload": {}, "id": "e2"}), "e2"),
        (json!({"event": null, "id": "e3"}), "e3"),
    ];
    for (message, id) in cases {
        c.send_json(&message).await?;
        let error = c.recv_json(T).await?;
        let p = assert_error(&error, "VALIDATION_ERROR");
        assert_eq!(error["id"], id, "{message}: {error}");
        assert_eq!(p["request_id"], id, "{message}: {error}");
    }
    c.assert_alive().await
}

#[tokio::test]
async fn non_object_payload_is_a_validation_error() -> Result<()> {
    let server = ChatServer::start(&[]);
    let mut c = connect(&server).await?;
    for payload in [json!([1]), json!("text"), json!(3)] {
        c.send_json(&json!({"event": "echo", "payload": payload, "id": "np"}))
            .await?;
        let error = c.recv_json(T).await?;
        let p = assert_error(&error, "VALIDATION_ERROR");
        assert_eq!(p["event"], "echo", "{error}");
        assert_eq!(p["request_id"], "np", "{error}");
    }
    c.assert_alive().await
}

/// The JSON pointers of `details.errors`, checking each entry's shape.
fn error_paths(error: &Value) -> Vec<String> {
    let errors = error["payload"]["details"]["errors"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        !errors.is_empty(),
        "details.errors must list the violations: {error}"
    );
    errors
        .iter()
        .map(|e| {
            assert!(
                e["message"].is_string(),
                "each violation has a message: {error}"
            );
            e["path"].as_str().unwrap_or("<no path>").to_owned()
        })
        .collect()
}

#[tokio::test]
async fn schema_violations_list_every_path() -> Result<()> {
    let server = ChatServer::start(&[]);
    let mut c = connect(&server).await?;
    let error = c
        .request_with_id(
            "send_message",
            json!({"room": "bad room!", "text": ""}),
            "v1",
            T,
        )
        .await?;
    let p = assert_error(&error, "VALIDATION_ERROR");
    assert_eq!(p["event"], "send_message", "{error}");
    assert_eq!(error["id"], "v1", "{error}");
    assert_eq!(p["request_id"], "v1", "{error}");
    let paths = error_paths(&error);
    assert!(
        paths.iter().any(|x| x == "/text"),
        "no /text in {paths:?}: {error}"
    );
    assert!(
        paths.iter().any(|x| x == "/room"),
        "no /room in {paths:?}: {error}"
    );
    c.assert_alive().await
}

#[tokio::test]
async fn schema_checks_types_and_bounds() -> Result<()> {
    let server = ChatServer::start(&[]);
    let mut c = connect(&server).await?;
    let long_room = "r".repeat(65);
    let long_text = "t".repeat(2001);
    let cases = [
        ("echo", json!({"seq": "one", "data": "x"}), "/seq"),
        ("echo", json!({"seq": 1, "data": 5}), "/data"),
        ("join_room", json!({"room": long_room}), "/room"),
        ("join_room", json!({"room": ""}), "/room"),
        ("join_admin", json!({"section": "a:b"}), "/section"),
        (
            "send_message",
            json!({"room": "x", "text": long_text}),
            "/text",
        ),
        (
            "slow_echo",
            json!({"seq": 1, "delay_ms": 5001}),
            "/delay_ms",
        ),
        ("slow_echo", json!({"seq": 1, "delay_ms": -1}), "/delay_ms"),
        ("fail", json!({"mode": "explode"}), "/mode"),
    ];
    for (event, payload, path) in cases {
        let error = c.request(event, payload.clone()).await?;
        let p = assert_error(&error, "VALIDATION_ERROR");
        assert_eq!(p["event"], event, "{error}");
        let paths = error_paths(&error);
        assert!(
            paths.iter().any(|x| x == path),
            "{event} {payload}: expected {path} in {paths:?}"
        );
    }
    // Boundaries that are valid.
    let ok = c
        .request("join_room", json!({"room": "r".repeat(64)}))
        .await?;
    assert_eq!(event_of(&ok), "room_joined", "{ok}");
    let ok = c
        .request("slow_echo", json!({"seq": 1, "delay_ms": 0}))
        .await?;
    assert_eq!(event_of(&ok), "echo_reply", "{ok}");
    Ok(())
}

#[tokio::test]
async fn missing_required_field_is_a_validation_error() -> Result<()> {
    let server = ChatServer::start(&[]);
    let mut c = connect(&server).await?;
    let error = c.request("echo", json!({"data": "no seq"})).await?;
    assert_error(&error, "VALIDATION_ERROR");
    assert!(!error_paths(&error).is_empty());
    c.assert_alive().await
}

#[tokio::test]
async fn errors_without_an_id_get_a_fresh_uuid_request_id() -> Result<()> {
    let server = ChatServer::start(&[]);
    let mut c = connect(&server).await?;
    c.send_event("echo", json!({"seq": "x"})).await?;
    let first = c.recv_json(T).await?;
    assert_error(&first, "VALIDATION_ERROR");
    let first_id = assert_fresh_request_id(&first);
    c.send_event("echo", json!({"seq": "y"})).await?;
    let second = c.recv_json(T).await?;
    let second_id = assert_fresh_request_id(&second);
    assert_ne!(first_id, second_id, "each error gets its own request_id");
    Ok(())
}

// --- UNKNOWN_EVENT ------------------------------------------------------------------

#[tokio::test]
async fn undeclared_event_is_unknown_event() -> Result<()> {
    let server = ChatServer::start(&[]);
    let mut c = connect(&server).await?;
    let error = c
        .request_with_id("no_such_event", json!({}), "u1", T)
        .await?;
    let p = assert_error(&error, "UNKNOWN_EVENT");
    assert_eq!(p["event"], "no_such_event", "{error}");
    assert_eq!(p["request_id"], "u1", "{error}");
    c.send_event("room_joined", json!({"room": "x", "members": 1}))
        .await?;
    let error = c.recv_json(T).await?;
    assert_error(&error, "UNKNOWN_EVENT");
    assert_fresh_request_id(&error);
    c.assert_alive().await
}

#[tokio::test]
async fn client_sending_server_system_events_is_unknown_event() -> Result<()> {
    let server = ChatServer::start(&[]);
    let mut c = connect(&server).await?;
    for event in [
        "__ping__",
        "__connect__",
        "__error__",
        "__disconnect__",
        "__custom__",
    ] {
        let error = c.request(event, json!({})).await?;
        let p = assert_error(&error, "UNKNOWN_EVENT");
        assert_eq!(p["event"], event, "{error}");
    }
    c.assert_alive().await
}

#[tokio::test]
async fn pong_from_the_client_gets_no_reply() -> Result<()> {
    let server = ChatServer::start(&[]);
    let mut c = connect(&server).await?;
    c.send_event_with_id("__pong__", json!({}), "pong").await?;
    let got = c.try_recv_json(Duration::from_millis(300)).await?;
    assert!(got.is_none(), "__pong__ got an answer: {got:?}");
    c.assert_alive().await
}

// --- PAYLOAD_TOO_LARGE ------------------------------------------------------------

/// An `echo` message of exactly `size` bytes.
fn echo_of_size(size: usize, id: &str) -> String {
    let head = format!(r#"{{"event":"echo","id":"{id}","payload":{{"seq":1,"data":""#);
    let tail = r#""}}"#;
    let fill = size.saturating_sub(head.len() + tail.len());
    let text = format!("{head}{}{tail}", "x".repeat(fill));
    assert_eq!(text.len(), size);
    text
}

#[tokio::test]
async fn payload_too_large_reports_limit_and_size() -> Result<()> {
    let server = ChatServer::start(&["--max-payload-size", "1000"]);
    let mut c = connect(&server).await?;
    c.send_raw_text(&echo_of_size(2000, "big")).await?;
    let error = c.recv_json(T).await?;
    let p = assert_error(&error, "PAYLOAD_TOO_LARGE");
    assert_eq!(p["details"]["limit"].as_u64(), Some(1000), "{error}");
    assert_eq!(p["details"]["size"].as_u64(), Some(2000), "{error}");
    c.assert_alive().await
}

#[tokio::test]
async fn payload_at_the_limit_is_accepted() -> Result<()> {
    let server = ChatServer::start(&["--max-payload-size", "1000"]);
    let mut c = connect(&server).await?;
    c.send_raw_text(&echo_of_size(1000, "edge")).await?;
    let reply = c.recv_json(T).await?;
    assert_eq!(event_of(&reply), "echo_reply", "{reply}");
    c.send_raw_text(&echo_of_size(1001, "over")).await?;
    let error = c.recv_json(T).await?;
    let p = assert_error(&error, "PAYLOAD_TOO_LARGE");
    assert_eq!(p["details"]["size"].as_u64(), Some(1001), "{error}");
    Ok(())
}

#[tokio::test]
async fn binary_frame_over_the_limit_is_payload_too_large() -> Result<()> {
    let server = ChatServer::start(&["--max-payload-size", "1000"]);
    let mut c = connect(&server).await?;
    c.send_binary(echo_of_size(1500, "bin").into_bytes())
        .await?;
    let error = c.recv_json(T).await?;
    let p = assert_error(&error, "PAYLOAD_TOO_LARGE");
    assert_eq!(p["details"]["size"].as_u64(), Some(1500), "{error}");
    c.assert_alive().await
}

#[tokio::test]
async fn frame_far_above_the_limit_closes_with_1009() -> Result<()> {
    let server = ChatServer::start(&["--max-payload-size", "1000"]);
    let mut c = connect(&server).await?;
    // The server may stop reading before the whole frame is written.
    let _ = c.send_raw_text(&echo_of_size(1 << 20, "huge")).await;
    let code = c.expect_close(T).await?;
    assert_eq!(
        code,
        Some(1009),
        "messages before the close: {:?}",
        c.buffered().collect::<Vec<_>>()
    );
    let events: Vec<&str> = c.buffered().map(event_of).collect();
    assert_eq!(
        events,
        ["__disconnect__"],
        "a server-initiated close is announced"
    );
    Ok(())
}

// --- ROOM_NOT_FOUND ------------------------------------------------------------------

#[tokio::test]
async fn message_to_a_room_nobody_joined_is_room_not_found() -> Result<()> {
    let server = ChatServer::start(&[]);
    let mut c = connect(&server).await?;
    let error = c
        .request_with_id(
            "send_message",
            json!({"room": "ghost", "text": "hello?"}),
            "rn",
            T,
        )
        .await?;
    let p = assert_error(&error, "ROOM_NOT_FOUND");
    assert_eq!(p["details"]["room"], "chat:ghost", "{error}");
    assert_eq!(p["event"], "send_message", "{error}");
    assert_eq!(p["request_id"], "rn", "{error}");
    assert_eq!(error["id"], "rn", "{error}");
    c.assert_alive().await
}

// --- PERMISSION_ERROR -------------------------------------------------------------------

#[tokio::test]
async fn refused_join_is_permission_error_and_keeps_the_connection() -> Result<()> {
    let server = ChatServer::start(&[]);
    let mut c = connect(&server).await?;
    let error = c
        .request("join_admin", json!({"section": "secrets"}))
        .await?;
    let p = assert_error(&error, "PERMISSION_ERROR");
    assert_eq!(p["details"]["room"], "admin:secrets", "{error}");
    c.assert_alive().await
}

// --- RATE_LIMIT_ERROR -------------------------------------------------------------------

#[tokio::test]
async fn rate_limit_drops_the_excess_and_keeps_the_connection() -> Result<()> {
    let server = ChatServer::start(&["--rate-limit", "5/1"]);
    let mut c = connect(&server).await?;
    for i in 0..20 {
        c.send_event_with_id("echo", json!({"seq": i, "data": ""}), &format!("rl{i}"))
            .await?;
    }
    let mut passed = 0;
    let mut retry_after: f64 = 0.0;
    for i in 0..20 {
        let id = format!("rl{i}");
        let reply = c.recv_reply(&id, T).await?;
        if event_of(&reply) == "echo_reply" {
            passed += 1;
            assert_eq!(reply["payload"]["seq"], i, "{reply}");
        } else {
            let p = assert_error(&reply, "RATE_LIMIT_ERROR");
            assert_eq!(p["request_id"], id.as_str(), "{reply}");
            assert_eq!(p["event"], "echo", "{reply}");
            let wait = p["details"]["retry_after"].as_f64();
            assert!(
                wait.is_some_and(|w| w > 0.0 && w <= 1.0),
                "retry_after: {reply}"
            );
            retry_after = retry_after.max(wait.unwrap_or(0.0));
        }
    }
    assert!(
        (5..=7).contains(&passed),
        "{passed} of 20 passed a 5/1 limit"
    );
    let first = c.try_recv_json(Duration::from_millis(100)).await?;
    assert!(first.is_none(), "one reply per message: extra {first:?}");
    // Time passing is what is checked here: once the announced
    // `retry_after` has elapsed, the limiter admits the connection again.
    tokio::time::sleep(Duration::from_secs_f64(retry_after + 0.05)).await;
    c.assert_alive().await
}

#[tokio::test]
async fn client_system_events_are_not_rate_limited() -> Result<()> {
    let server = ChatServer::start(&["--rate-limit", "1/10"]);
    let mut c = connect(&server).await?;
    c.assert_alive().await?; // spends the only token
    for i in 0..3 {
        // No token auth on this server: refused with AUTH_ERROR, never RATE_LIMIT_ERROR.
        let error = c
            .request_with_id(
                "__refresh_auth__",
                json!({"token": "t"}),
                &format!("ra{i}"),
                T,
            )
            .await?;
        assert_error(&error, "AUTH_ERROR");
        c.send_event("__pong__", json!({})).await?;
    }
    let error = c.request("echo", json!({"seq": 1, "data": ""})).await?;
    assert_error(&error, "RATE_LIMIT_ERROR");
    let pong_reply = c.try_recv_json(Duration::from_millis(200)).await?;
    assert!(
        pong_reply.is_none(),
        "__pong__ was answered: {pong_reply:?}"
    );
    Ok(())
}
