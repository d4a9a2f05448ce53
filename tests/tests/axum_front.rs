//! `chat-axum`, the chat service mounted in an `axum::Router`, against the
//! same outside checks as `chat-server` (each core check runs on both
//! binaries, through [`Front`]), and its two REST routes, `GET /api/rooms`
//! and `POST /api/announce`, with every status code the contract lists.

use std::time::Duration;

use serde_json::{Value, json};
use socketspec_e2e::observe::health;
use socketspec_e2e::{
    ChatServer, Client, DEFAULT_TIMEOUT as T, Front, HttpResponse, Result, Signal, event_of,
    http_get, http_post, mint_jwt,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const SECRET: &str = "axum-secret";

/// Connects to `path` (`/ws`, `/ws/ops`) and reads `__connect__`.
async fn connect_to(server: &ChatServer, path: &str) -> Result<(Client, Value)> {
    Client::connect_ready(&format!("ws://{}{path}", server.addr())).await
}

async fn join(client: &mut Client, room: &str) -> Result<()> {
    let reply = client.request("join_room", json!({"room": room})).await?;
    assert_eq!(event_of(&reply), "room_joined", "join_room {room}: {reply}");
    Ok(())
}

/// `__disconnect__`, then the close frame; returns the close code.
async fn disconnect_then_close(client: &mut Client) -> Result<Option<u16>> {
    let notice = client.recv_event("__disconnect__", T).await?;
    assert_eq!(notice["payload"]["reason"], "server_shutdown", "{notice}");
    client.expect_close(T).await
}

fn json_of(response: &HttpResponse) -> Value {
    serde_json::from_str(&response.body).unwrap_or_else(|e| panic!("not JSON ({e}): {response:?}"))
}

// --- The same behaviour on both binaries --------------------------------------

#[tokio::test]
async fn both_fronts_serve_the_chat_namespace() -> Result<()> {
    for front in Front::ALL {
        let server = front.start(&[]);
        let (mut a, hello) = connect_to(&server, "/ws").await?;
        assert_eq!(hello["namespace"], "/", "{front:?}: {hello}");
        let (mut b, _) = connect_to(&server, "/ws").await?;
        join(&mut a, "general").await?;
        join(&mut b, "general").await?;
        let ack = a
            .request("send_message", json!({"room": "general", "text": "hi"}))
            .await?;
        assert_eq!(event_of(&ack), "message_ack", "{front:?}: {ack}");
        let message = b.recv_event("new_message", T).await?;
        assert_eq!(message["payload"]["text"], "hi", "{front:?}: {message}");
        assert_eq!(
            message["payload"]["room"], "general",
            "{front:?}: {message}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn both_fronts_serve_the_ops_namespace_and_refuse_others() -> Result<()> {
    for front in Front::ALL {
        let server = front.start(&[]);
        let (_chat, _) = connect_to(&server, "/ws").await?;
        let (mut ops, hello) = connect_to(&server, "/ws/ops").await?;
        assert_eq!(hello["namespace"], "/ops", "{front:?}: {hello}");
        let stats = ops.request("get_stats", json!({})).await?;
        assert_eq!(event_of(&stats), "stats", "{front:?}: {stats}");
        assert_eq!(stats["payload"]["connections"], 2, "{front:?}: {stats}");
        let unknown = ops
            .request("send_message", json!({"room": "x", "text": "y"}))
            .await?;
        assert_eq!(
            unknown["payload"]["code"], "UNKNOWN_EVENT",
            "{front:?}: {unknown}"
        );
        let other = Client::connect(&format!("ws://{}/ws/other", server.addr())).await;
        let status = other.as_ref().err().and_then(|e| e.http_status());
        assert_eq!(status, Some(404), "{front:?}: {:?}", other.err());
    }
    Ok(())
}

#[tokio::test]
async fn both_fronts_serve_docs_health_and_metrics() -> Result<()> {
    for front in Front::ALL {
        let server = front.start(&["--docs"]);
        for path in [
            "/socket-docs",
            "/socket-docs/spec.json",
            "/socket-docs/asyncapi.json",
            "/metrics",
        ] {
            let r = http_get(server.addr(), path, &[]).await?;
            assert_eq!(r.status, 200, "{front:?} {path}: {r:?}");
        }
        let h = health(server.addr()).await?;
        assert_eq!(h["status"], "ok", "{front:?}: {h}");
        let r = http_get(server.addr(), "/socket-docs/nothing", &[]).await?;
        assert_eq!(r.status, 404, "{front:?}: {r:?}");
        let off = front.start(&[]);
        let r = http_get(off.addr(), "/socket-docs", &[]).await?;
        assert_eq!(r.status, 404, "{front:?} without --docs: {r:?}");
    }
    Ok(())
}

#[tokio::test]
async fn both_fronts_guard_docs_and_ops_routes_with_their_tokens() -> Result<()> {
    for front in Front::ALL {
        let server = front.start(&["--docs", "--docs-token", "d0cs", "--ops-token", "0ps"]);
        for (path, token) in [
            ("/socket-docs/spec.json", "d0cs"),
            ("/metrics", "0ps"),
            ("/socket-health", "0ps"),
        ] {
            let none = http_get(server.addr(), path, &[]).await?;
            assert!(
                matches!(none.status, 401 | 403),
                "{front:?} {path} without a token: {none:?}"
            );
            let bearer = format!("Bearer {token}");
            let with = http_get(server.addr(), path, &[("Authorization", bearer.as_str())]).await?;
            assert_eq!(
                with.status, 200,
                "{front:?} {path} with its token: {with:?}"
            );
        }
    }
    Ok(())
}

#[tokio::test]
async fn both_fronts_refuse_a_foreign_origin_with_403() -> Result<()> {
    let good = "https://good.example";
    for front in Front::ALL {
        let server = front.start(&["--allowed-origin", good]);
        for path in ["/ws", "/ws/ops"] {
            let url = format!("ws://{}{path}", server.addr());
            let evil = Client::options().header("Origin", "https://evil.test");
            let refused = Client::connect_with(&url, evil).await;
            let status = refused.as_ref().err().and_then(|e| e.http_status());
            assert_eq!(status, Some(403), "{front:?} {path}: {:?}", refused.err());
            let fine = Client::options().header("Origin", good);
            let mut client = Client::connect_with(&url, fine).await?;
            client.expect_connect().await?;
        }
    }
    Ok(())
}

#[tokio::test]
async fn sigterm_closes_every_client_with_1001_and_exits_0_on_both_fronts() -> Result<()> {
    for front in Front::ALL {
        let mut server = front.start(&["--shutdown-grace", "2"]);
        let (mut chat, _) = connect_to(&server, "/ws").await?;
        let (mut ops, _) = connect_to(&server, "/ws/ops").await?;
        server.signal(Signal::TERM)?;
        for (path, client) in [("/ws", &mut chat), ("/ws/ops", &mut ops)] {
            let notice = client.recv_json(T).await.map_err(|e| {
                let status = server.wait_exit(Duration::from_secs(3));
                socketspec_e2e::Error::Other(format!(
                    "{front:?} {path}: {e}; exit {status:?}; stderr {}",
                    server.stderr()
                ))
            })?;
            assert_eq!(
                event_of(&notice),
                "__server_shutdown__",
                "{front:?}: {notice}"
            );
            let closed = disconnect_then_close(client)
                .await
                .map_err(|e| socketspec_e2e::Error::Other(format!("{front:?} {path}: {e}")))?;
            assert_eq!(closed, Some(1001), "{front:?} {path}");
        }
        let status = server.exited(Duration::from_secs(10)).await?;
        assert_eq!(
            status.code(),
            Some(0),
            "{front:?}: exit status {status}; stderr:\n{}",
            server.stderr()
        );
    }
    Ok(())
}

/// Sends `request` as raw bytes; returns the status line and the body of
/// the first response (by its `content-length`).
async fn raw_exchange(addr: &str, request: &str) -> Result<(String, String)> {
    let mut tcp = TcpStream::connect(addr).await?;
    // A server may answer (and close) before it has read everything.
    let _ = tcp.write_all(request.as_bytes()).await;
    let mut response = Vec::new();
    let mut buf = [0u8; 4096];
    let complete = |response: &[u8]| {
        let end = response.windows(4).position(|w| w == b"\r\n\r\n")?;
        let head = String::from_utf8_lossy(&response[..end]).to_ascii_lowercase();
        let length = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse::<usize>().ok())
            .unwrap_or(0);
        (response.len() >= end + 4 + length).then(|| {
            let status = head.lines().next().unwrap_or_default().to_owned();
            let body = String::from_utf8_lossy(&response[end + 4..end + 4 + length]);
            (status, body.into_owned())
        })
    };
    loop {
        if let Some(answer) = complete(&response) {
            return Ok(answer);
        }
        match tokio::time::timeout(T, tcp.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => {
                return Ok((
                    String::from_utf8_lossy(&response).into_owned(),
                    String::new(),
                ));
            }
            Ok(Ok(n)) => response.extend_from_slice(&buf[..n]),
            Err(_) => return Err(socketspec_e2e::Error::Timeout("a response".to_owned())),
        }
    }
}

#[tokio::test]
async fn both_fronts_answer_malformed_upgrades_alike() -> Result<()> {
    let builtin = Front::Builtin.start(&[]);
    let axum = Front::Axum.start(&[]);
    let huge = "a".repeat(512 * 1024);
    let requests = [
        // no Sec-WebSocket-Key
        "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Version: 13\r\n\r\n"
            .to_owned(),
        // a version other than 13
        "GET /ws/ops HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n"
            .to_owned(),
        // a plain GET of the WebSocket path
        "GET /ws HTTP/1.1\r\nHost: x\r\n\r\n".to_owned(),
        // a namespace that does not exist, and a path that is nothing
        "GET /ws/other HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
            .to_owned(),
        "GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n".to_owned(),
        // an oversized header
        format!(
            "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
             X-Huge: {huge}\r\n\r\n"
        ),
    ];
    for request in &requests {
        let (status, body) = raw_exchange(builtin.addr(), request).await?;
        assert!(
            status.starts_with("http/1.1 4"),
            "{status} for {request:.60}"
        );
        assert_eq!(
            raw_exchange(axum.addr(), request).await?,
            (status, body),
            "chat-axum differs from chat-server for {request:.60}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn both_fronts_drop_a_stalled_upgrade_after_the_handshake_timeout() -> Result<()> {
    let servers = Front::ALL.map(|front| front.start(&[]));
    let mut stalled = Vec::new();
    for server in &servers {
        let mut tcp = TcpStream::connect(server.addr()).await?;
        tcp.write_all(b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: webs")
            .await?;
        stalled.push((server.front(), tcp));
    }
    for server in &servers {
        // Served meanwhile.
        let (mut client, _) = connect_to(server, "/ws").await?;
        client.assert_alive().await?;
    }
    // The handshake timeout is 10 s on both.
    for (front, tcp) in &mut stalled {
        let mut rest = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(20), tcp.read_to_end(&mut rest)).await;
        assert!(read.is_ok(), "{front:?} kept a stalled upgrade for 20 s");
    }
    Ok(())
}

// --- chat-axum's REST routes -------------------------------------------------

#[tokio::test]
async fn api_rooms_lists_existing_rooms_sorted_with_member_counts() -> Result<()> {
    let server = Front::Axum.start(&[]);
    let r = http_get(server.addr(), "/api/rooms", &[]).await?;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        json_of(&r),
        json!({"rooms": [{"room": "lobby", "members": 0}]})
    );

    let (mut a, _) = connect_to(&server, "/ws").await?;
    let (mut b, _) = connect_to(&server, "/ws").await?;
    join(&mut a, "zeta").await?;
    join(&mut a, "general").await?;
    join(&mut b, "general").await?;
    // A room of another namespace is not listed.
    let (_ops, _) = connect_to(&server, "/ws/ops").await?;
    let r = http_get(server.addr(), "/api/rooms", &[]).await?;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(
        json_of(&r),
        json!({"rooms": [
            {"room": "chat:general", "members": 2},
            {"room": "chat:zeta", "members": 1},
            {"room": "lobby", "members": 2},
        ]})
    );
    Ok(())
}

#[tokio::test]
async fn api_announce_reaches_members_as_new_message_from_server() -> Result<()> {
    let server = Front::Axum.start(&[]);
    let (mut member, _) = connect_to(&server, "/ws").await?;
    join(&mut member, "general").await?;
    let body = json!({"room": "general", "text": "maintenance at noon"});
    let r = http_post(server.addr(), "/api/announce", &[], body.to_string()).await?;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(json_of(&r), json!({"room": "chat:general"}));
    let message = member.recv_event("new_message", T).await?;
    assert_eq!(
        message,
        json!({"event": "new_message", "payload":
            {"room": "general", "from": "server", "text": "maintenance at noon"}})
    );
    Ok(())
}

#[tokio::test]
async fn api_announce_to_an_empty_room_is_404_room_not_found() -> Result<()> {
    let server = Front::Axum.start(&[]);
    let body = json!({"room": "nobody-here", "text": "hello?"}).to_string();
    let r = http_post(server.addr(), "/api/announce", &[], body).await?;
    assert_eq!(r.status, 404, "{r:?}");
    let error = json_of(&r);
    assert_eq!(error["code"], "ROOM_NOT_FOUND", "{error}");
    assert!(error["message"].is_string(), "{error}");
    Ok(())
}

#[tokio::test]
async fn api_announce_reports_every_schema_violation_with_422() -> Result<()> {
    let server = Front::Axum.start(&[]);
    let body = json!({"room": "not a room!", "text": "", "extra": 1}).to_string();
    let r = http_post(server.addr(), "/api/announce", &[], body).await?;
    assert_eq!(r.status, 422, "{r:?}");
    let error = json_of(&r);
    assert_eq!(error["code"], "VALIDATION_ERROR", "{error}");
    let errors = error["errors"].as_array().cloned().unwrap_or_default();
    let paths: Vec<&str> = errors.iter().filter_map(|e| e["path"].as_str()).collect();
    for path in ["/room", "/text", ""] {
        assert!(paths.contains(&path), "no violation at {path:?}: {error}");
    }
    assert!(errors.iter().all(|e| e["message"].is_string()), "{error}");
    // A missing property and a wrong type are violations too.
    let r = http_post(server.addr(), "/api/announce", &[], r#"{"room": 5}"#).await?;
    assert_eq!(r.status, 422, "{r:?}");
    let error = json_of(&r);
    assert_eq!(error["errors"].as_array().map(Vec::len), Some(2), "{error}");
    Ok(())
}

#[tokio::test]
async fn api_announce_refuses_a_body_that_is_not_json_with_400() -> Result<()> {
    let server = Front::Axum.start(&[]);
    for body in ["not json", "{\"room\": ", ""] {
        let r = http_post(server.addr(), "/api/announce", &[], body).await?;
        assert_eq!(r.status, 400, "{body:?}: {r:?}");
    }
    Ok(())
}

#[tokio::test]
async fn api_announce_needs_an_admin_jwt_when_jwt_secret_is_set() -> Result<()> {
    let server = Front::Axum.start(&["--jwt-secret", SECRET]);
    let member_token = mint_jwt(SECRET, "alice", Some("user"), 600)?;
    let url = server.ws_url();
    let mut member =
        Client::connect_with(&url, Client::options().jwt(member_token.clone())).await?;
    member.expect_connect().await?;
    join(&mut member, "general").await?;
    let body = json!({"room": "general", "text": "from the admin"}).to_string();
    let post = |headers: Vec<(&'static str, String)>| {
        let addr = server.addr().to_owned();
        let body = body.clone();
        async move {
            let headers: Vec<(&str, &str)> =
                headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
            http_post(&addr, "/api/announce", &headers, body).await
        }
    };

    let r = post(vec![]).await?;
    assert_eq!(r.status, 401, "no token: {r:?}");
    assert_eq!(json_of(&r)["code"], "AUTH_ERROR");
    let forged = mint_jwt("another-secret", "mallory", Some("admin"), 600)?;
    let expired = mint_jwt(SECRET, "late", Some("admin"), -60)?;
    for bad in [forged, expired, "garbage".to_owned()] {
        let r = post(vec![("Authorization", format!("Bearer {bad}"))]).await?;
        assert_eq!(r.status, 401, "bad token {bad}: {r:?}");
    }
    let r = post(vec![("Authorization", format!("Bearer {member_token}"))]).await?;
    assert_eq!(r.status, 403, "role user: {r:?}");
    assert_eq!(json_of(&r)["code"], "PERMISSION_ERROR");
    let r = post(vec![("Authorization", "Bearer".to_owned())]).await?;
    assert_eq!(r.status, 401, "an empty bearer: {r:?}");

    let admin = mint_jwt(SECRET, "root", Some("admin"), 600)?;
    let r = post(vec![("Authorization", format!("Bearer {admin}"))]).await?;
    assert_eq!(r.status, 200, "admin: {r:?}");
    let message = member.recv_event("new_message", T).await?;
    assert_eq!(message["payload"]["from"], "server", "{message}");
    assert_eq!(message["payload"]["text"], "from the admin", "{message}");
    // GET /api/rooms stays open.
    let r = http_get(server.addr(), "/api/rooms", &[]).await?;
    assert_eq!(r.status, 200, "{r:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_routes_span_a_redis_cluster_of_both_binaries() -> Result<()> {
    socketspec_e2e::redis::require().await;
    let prefix = format!("socketspec-test-{}", uuid::Uuid::new_v4());
    let redis = socketspec_e2e::redis::url();
    let cluster = ["--redis", redis.as_str(), "--redis-prefix", &prefix];
    let axum = Front::Axum.start(&cluster);
    let plain = Front::Builtin.start(&cluster);
    let (mut here, _) = connect_to(&axum, "/ws").await?;
    let (mut there, _) = connect_to(&plain, "/ws").await?;
    join(&mut here, "general").await?;
    join(&mut there, "general").await?;
    // A room whose only member is on the other node.
    join(&mut there, "remote").await?;

    let r = http_get(axum.addr(), "/api/rooms", &[]).await?;
    let rooms = json_of(&r)["rooms"].clone();
    let general = rooms
        .as_array()
        .and_then(|rooms| rooms.iter().find(|r| r["room"] == "chat:general"))
        .cloned();
    assert_eq!(
        general,
        Some(json!({"room": "chat:general", "members": 2})),
        "{rooms}"
    );

    let body = json!({"room": "remote", "text": "across nodes"}).to_string();
    let r = http_post(axum.addr(), "/api/announce", &[], body).await?;
    assert_eq!(r.status, 200, "{r:?}");
    let message = there.recv_event("new_message", T).await?;
    assert_eq!(message["payload"]["from"], "server", "{message}");
    assert_eq!(message["payload"]["text"], "across nodes", "{message}");

    let body = json!({"room": "general", "text": "everyone"}).to_string();
    let r = http_post(axum.addr(), "/api/announce", &[], body).await?;
    assert_eq!(r.status, 200, "{r:?}");
    for client in [&mut here, &mut there] {
        let message = client.recv_event("new_message", T).await?;
        assert_eq!(message["payload"]["text"], "everyone", "{message}");
    }
    Ok(())
}
