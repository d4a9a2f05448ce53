//! The wire protocol's basics against the chat server: `__connect__`, the
//! envelope, correlation ids, binary frames, and the `Origin` check.

use serde_json::{Value, json};
use socketspec_e2e::{ChatServer, Client, DEFAULT_TIMEOUT as T, Result, event_of};

/// The "done when" check: `__connect__` first, then an echo round trip.
#[tokio::test]
async fn connect_then_echo_round_trip() -> Result<()> {
    let server = ChatServer::start(&[]);
    let mut client = Client::connect(&server.ws_url()).await?;

    let first = client.recv_json(T).await?;
    assert_eq!(first["event"], "__connect__", "first message: {first}");
    assert!(
        first.get("id").is_none(),
        "__connect__ must not carry an id: {first}"
    );
    let p = &first["payload"];
    let connection_id = p["connection_id"].as_str().unwrap_or_default();
    assert!(!connection_id.is_empty(), "connection_id: {first}");
    // The chat server's defaults: heartbeat 25/10, idle 300, max 7200, payload 65536.
    assert_eq!(p["heartbeat_interval"].as_f64(), Some(25.0), "{first}");
    assert_eq!(p["heartbeat_timeout"].as_f64(), Some(10.0), "{first}");
    assert_eq!(p["idle_timeout"].as_f64(), Some(300.0), "{first}");
    assert_eq!(p["max_duration"].as_f64(), Some(7200.0), "{first}");
    assert_eq!(p["max_payload_size"].as_u64(), Some(65536), "{first}");

    client
        .send_json(&json!({"event": "echo", "payload": {"seq": 1, "data": "x"}, "id": "a"}))
        .await?;
    let reply = client.recv_json(T).await?;
    assert_eq!(
        reply,
        json!({"event": "echo_reply", "payload": {"seq": 1, "data": "x"}, "id": "a"})
    );
    Ok(())
}

#[tokio::test]
async fn connect_payload_reports_configured_limits() -> Result<()> {
    let server = ChatServer::start(&[
        "--heartbeat-interval",
        "2.5",
        "--heartbeat-timeout",
        "1.5",
        "--idle-timeout",
        "0",
        "--max-duration",
        "30",
        "--max-payload-size",
        "1000",
    ]);
    let (_client, p) = Client::connect_ready(&server.ws_url()).await?;
    assert_eq!(p["heartbeat_interval"].as_f64(), Some(2.5), "{p}");
    assert_eq!(p["heartbeat_timeout"].as_f64(), Some(1.5), "{p}");
    assert_eq!(p["idle_timeout"].as_f64(), Some(0.0), "{p}");
    assert_eq!(p["max_duration"].as_f64(), Some(30.0), "{p}");
    assert_eq!(p["max_payload_size"].as_u64(), Some(1000), "{p}");
    Ok(())
}

#[tokio::test]
async fn each_connection_gets_its_own_connection_id() -> Result<()> {
    let server = ChatServer::start(&[]);
    let (_a, pa) = Client::connect_ready(&server.ws_url()).await?;
    let (_b, pb) = Client::connect_ready(&server.ws_url()).await?;
    assert_ne!(pa["connection_id"], pb["connection_id"]);
    Ok(())
}

#[tokio::test]
async fn binary_frame_with_json_is_accepted() -> Result<()> {
    let server = ChatServer::start(&[]);
    let (mut client, _) = Client::connect_ready(&server.ws_url()).await?;
    let text = r#"{"event":"echo","payload":{"seq":7,"data":"bin"},"id":"b1"}"#;
    client.send_binary(text.as_bytes().to_vec()).await?;
    let reply = client.recv_reply("b1", T).await?;
    assert_eq!(
        reply,
        json!({"event": "echo_reply", "payload": {"seq": 7, "data": "bin"}, "id": "b1"})
    );
    Ok(())
}

#[tokio::test]
async fn absent_or_null_payload_means_empty_object() -> Result<()> {
    let server = ChatServer::start(&[]);
    let (mut client, _) = Client::connect_ready(&server.ws_url()).await?;
    client
        .send_raw_text(r#"{"event":"whoami","id":"w1"}"#)
        .await?;
    let reply = client.recv_reply("w1", T).await?;
    assert_eq!(event_of(&reply), "identity", "{reply}");
    client
        .send_raw_text(r#"{"event":"whoami","payload":null,"id":"w2"}"#)
        .await?;
    let reply = client.recv_reply("w2", T).await?;
    assert_eq!(event_of(&reply), "identity", "{reply}");
    Ok(())
}

#[tokio::test]
async fn other_top_level_fields_are_ignored() -> Result<()> {
    let server = ChatServer::start(&[]);
    let (mut client, _) = Client::connect_ready(&server.ws_url()).await?;
    client
        .send_json(&json!({"event": "echo", "payload": {"seq": 3, "data": "y"}, "id": "x1", "extra": [1, 2], "v": 9}))
        .await?;
    let reply = client.recv_reply("x1", T).await?;
    assert_eq!(
        reply,
        json!({"event": "echo_reply", "payload": {"seq": 3, "data": "y"}, "id": "x1"})
    );
    Ok(())
}

#[tokio::test]
async fn replies_without_client_id_carry_no_id() -> Result<()> {
    let server = ChatServer::start(&[]);
    let (mut client, _) = Client::connect_ready(&server.ws_url()).await?;
    client
        .send_event("echo", json!({"seq": 4, "data": "z"}))
        .await?;
    let reply = client.recv_json(T).await?;
    assert_eq!(
        reply,
        json!({"event": "echo_reply", "payload": {"seq": 4, "data": "z"}})
    );
    Ok(())
}

#[tokio::test]
async fn replies_carry_each_messages_own_id() -> Result<()> {
    let server = ChatServer::start(&[]);
    let (mut client, _) = Client::connect_ready(&server.ws_url()).await?;
    for (seq, id) in [(1, "first"), (2, "second"), (3, "third")] {
        client
            .send_event_with_id("echo", json!({"seq": seq, "data": id}), id)
            .await?;
    }
    for (seq, id) in [(1, "first"), (2, "second"), (3, "third")] {
        let reply = client.recv_reply(id, T).await?;
        assert_eq!(reply["payload"], json!({"seq": seq, "data": id}), "{reply}");
    }
    Ok(())
}

// --- Origin ----------------------------------------------------------------

const GOOD: &str = "https://good.example";

async fn connect_with_origin(server: &ChatServer, origin: Option<&str>) -> Result<Client> {
    let mut options = Client::options();
    if let Some(origin) = origin {
        options = options.header("Origin", origin);
    }
    Client::connect_with(&server.ws_url(), options).await
}

#[tokio::test]
async fn allowed_origin_can_upgrade() -> Result<()> {
    let server = ChatServer::start(&["--allowed-origin", GOOD]);
    let mut client = connect_with_origin(&server, Some(GOOD)).await?;
    client.expect_connect().await?;
    client.assert_alive().await
}

#[tokio::test]
async fn lookalike_origin_is_refused_with_403() -> Result<()> {
    let server = ChatServer::start(&["--allowed-origin", GOOD]);
    for origin in [
        "https://good.example.evil.test",
        "http://good.example",
        "https://evil.test",
    ] {
        let result = connect_with_origin(&server, Some(origin)).await;
        let status = result.as_ref().err().and_then(|e| e.http_status());
        assert_eq!(status, Some(403), "Origin {origin}: {:?}", result.err());
    }
    Ok(())
}

#[tokio::test]
async fn missing_origin_is_refused_with_403_when_origins_are_listed() -> Result<()> {
    let server = ChatServer::start(&["--allowed-origin", GOOD]);
    let result = connect_with_origin(&server, None).await;
    let status = result.as_ref().err().and_then(|e| e.http_status());
    assert_eq!(status, Some(403), "{:?}", result.err());
    Ok(())
}

#[tokio::test]
async fn allowed_origin_flag_is_repeatable() -> Result<()> {
    let other = "http://localhost:3000";
    let server = ChatServer::start(&["--allowed-origin", GOOD, "--allowed-origin", other]);
    for origin in [GOOD, other] {
        let mut client = connect_with_origin(&server, Some(origin)).await?;
        client.expect_connect().await?;
    }
    let result = connect_with_origin(&server, Some("https://third.example")).await;
    assert_eq!(result.err().and_then(|e| e.http_status()), Some(403));
    Ok(())
}

#[tokio::test]
async fn without_allowed_origin_every_origin_is_accepted() -> Result<()> {
    let server = ChatServer::start(&[]);
    for origin in [Some("https://anything.example"), None] {
        let mut client = connect_with_origin(&server, origin).await?;
        let payload: Value = client.expect_connect().await?;
        assert!(payload["connection_id"].is_string());
    }
    Ok(())
}
