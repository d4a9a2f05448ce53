//! One test (or a few) per event of the chat example (spec/chat.json,
//! handled by `examples/chat/src/handler.rs`).

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use socketspec_e2e::wait::eventually;
use socketspec_e2e::{
    ChatServer, Client, DEFAULT_TIMEOUT as T, Result, assert_error, event_of, mint_jwt,
};

/// How long to listen to make sure a message does NOT arrive.
const QUIET: Duration = Duration::from_millis(300);

const SECRET: &str = "e2e-secret";

/// Connects and returns the client with its connection id.
async fn connect(server: &ChatServer) -> Result<(Client, String)> {
    let (client, payload) = Client::connect_ready(&server.ws_url()).await?;
    let id = payload["connection_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    Ok((client, id))
}

/// Connects with `Authorization: Bearer <token for sub/role>`.
async fn connect_as(server: &ChatServer, sub: &str, role: Option<&str>) -> Result<Client> {
    let token = mint_jwt(SECRET, sub, role, 600)?;
    let mut client = Client::connect_with(&server.ws_url(), Client::options().jwt(token)).await?;
    client.expect_connect().await?;
    Ok(client)
}

/// Asserts that nothing but heartbeats arrives for [`QUIET`].
async fn assert_quiet(client: &mut Client, who: &str) -> Result<()> {
    let got = client.try_recv_non_ping(QUIET).await?;
    assert!(got.is_none(), "{who} got an unexpected message: {got:?}");
    Ok(())
}

async fn join(client: &mut Client, room: &str) -> Result<Value> {
    let reply = client.request("join_room", json!({"room": room})).await?;
    assert_eq!(event_of(&reply), "room_joined", "join_room {room}: {reply}");
    Ok(reply)
}

// --- join_room -----------------------------------------------------------------

#[tokio::test]
async fn join_room_counts_members_and_notifies_the_others() -> Result<()> {
    let server = ChatServer::start(&[]);
    let (mut a, _) = connect(&server).await?;
    let (mut b, b_id) = connect(&server).await?;

    a.send_event_with_id("join_room", json!({"room": "x"}), "j1")
        .await?;
    let reply = a.recv_json(T).await?;
    assert_eq!(
        reply,
        json!({"event": "room_joined", "payload": {"room": "x", "members": 1}, "id": "j1"})
    );

    b.send_event_with_id("join_room", json!({"room": "x"}), "j2")
        .await?;
    let reply = b.recv_json(T).await?;
    assert_eq!(
        reply,
        json!({"event": "room_joined", "payload": {"room": "x", "members": 2}, "id": "j2"})
    );

    let joined = a.recv_json(T).await?;
    assert_eq!(
        joined,
        json!({"event": "user_joined", "payload": {"room": "x", "user": b_id}}),
        "the first member is told who joined (a broadcast: no id)"
    );
    assert_quiet(&mut b, "the joiner (its own user_joined)").await?;
    assert_quiet(&mut a, "the first member").await
}

#[tokio::test]
async fn user_joined_stays_within_the_room() -> Result<()> {
    let server = ChatServer::start(&[]);
    let (mut a, _) = connect(&server).await?;
    let (mut b, _) = connect(&server).await?;
    join(&mut a, "one").await?;
    join(&mut b, "two").await?;
    assert_quiet(&mut a, "a member of another room").await
}

// --- leave_room ----------------------------------------------------------------

#[tokio::test]
async fn leave_room_replies_room_left_and_stops_broadcasts() -> Result<()> {
    let server = ChatServer::start(&[]);
    let (mut a, _) = connect(&server).await?;
    let (mut b, _) = connect(&server).await?;
    join(&mut a, "x").await?;
    join(&mut b, "x").await?;
    a.recv_event("user_joined", T).await?;

    a.send_event_with_id("leave_room", json!({"room": "x"}), "l1")
        .await?;
    let reply = a.recv_json(T).await?;
    assert_eq!(
        reply,
        json!({"event": "room_left", "payload": {"room": "x"}, "id": "l1"})
    );

    let who = a.request("whoami", json!({})).await?;
    assert_eq!(who["payload"]["rooms"], json!(["lobby"]), "{who}");

    let ack = b
        .request("send_message", json!({"room": "x", "text": "still here?"}))
        .await?;
    assert_eq!(event_of(&ack), "message_ack", "{ack}");
    b.recv_event("new_message", T).await?;
    assert_quiet(&mut a, "a client that left the room").await?;

    // The last member leaves: the room no longer exists.
    let reply = b.request("leave_room", json!({"room": "x"})).await?;
    assert_eq!(reply["payload"], json!({"room": "x"}), "{reply}");
    let error = b
        .request("send_message", json!({"room": "x", "text": "anyone?"}))
        .await?;
    let p = assert_error(&error, "ROOM_NOT_FOUND");
    assert_eq!(p["details"]["room"], "chat:x", "{error}");
    Ok(())
}

// --- join_admin ----------------------------------------------------------------

#[tokio::test]
async fn join_admin_without_auth_is_a_permission_error() -> Result<()> {
    let server = ChatServer::start(&[]);
    let (mut a, _) = connect(&server).await?;
    let error = a
        .request_with_id("join_admin", json!({"section": "ops"}), "adm", T)
        .await?;
    let p = assert_error(&error, "PERMISSION_ERROR");
    assert_eq!(p["details"]["room"], "admin:ops", "{error}");
    assert_eq!(p["event"], "join_admin", "{error}");
    assert_eq!(p["request_id"], "adm", "{error}");
    let who = a.request("whoami", json!({})).await?;
    assert_eq!(who["payload"]["rooms"], json!(["lobby"]), "{who}");
    a.assert_alive().await
}

#[tokio::test]
async fn join_admin_with_admin_role_joins_the_admin_room() -> Result<()> {
    let server = ChatServer::start(&["--jwt-secret", SECRET]);
    let mut admin = connect_as(&server, "root", Some("admin")).await?;
    let reply = admin
        .request_with_id("join_admin", json!({"section": "ops"}), "adm", T)
        .await?;
    assert_eq!(
        reply,
        json!({"event": "room_joined", "payload": {"room": "admin:ops", "members": 1}, "id": "adm"})
    );
    let who = admin.request("whoami", json!({})).await?;
    assert_eq!(
        who["payload"]["rooms"],
        json!(["admin:ops", "lobby"]),
        "{who}"
    );
    Ok(())
}

#[tokio::test]
async fn join_admin_with_another_role_is_refused() -> Result<()> {
    let server = ChatServer::start(&["--jwt-secret", SECRET]);
    let mut user = connect_as(&server, "bob", Some("user")).await?;
    let error = user
        .request("join_admin", json!({"section": "ops"}))
        .await?;
    let p = assert_error(&error, "PERMISSION_ERROR");
    assert_eq!(p["details"]["room"], "admin:ops", "{error}");
    let mut nobody = connect_as(&server, "carol", None).await?;
    let error = nobody
        .request("join_admin", json!({"section": "billing"}))
        .await?;
    let p = assert_error(&error, "PERMISSION_ERROR");
    assert_eq!(p["details"]["room"], "admin:billing", "{error}");
    user.assert_alive().await
}

// --- send_message --------------------------------------------------------------

#[tokio::test]
async fn send_message_acks_and_broadcasts_to_every_member() -> Result<()> {
    let server = ChatServer::start(&[]);
    let (mut a, a_id) = connect(&server).await?;
    let (mut b, _) = connect(&server).await?;
    let (mut outsider, _) = connect(&server).await?;
    join(&mut a, "x").await?;
    join(&mut b, "x").await?;
    a.recv_event("user_joined", T).await?;

    let ack = a
        .request_with_id(
            "send_message",
            json!({"room": "x", "text": "hello"}),
            "m1",
            T,
        )
        .await?;
    assert_eq!(event_of(&ack), "message_ack", "{ack}");
    assert_eq!(ack["payload"]["status"], "ok", "{ack}");
    let message_id = ack["payload"]["message_id"].as_str().unwrap_or_default();
    assert!(!message_id.is_empty(), "message_id: {ack}");

    let expected =
        json!({"event": "new_message", "payload": {"room": "x", "from": a_id, "text": "hello"}});
    assert_eq!(
        a.recv_event("new_message", T).await?,
        expected,
        "the sender is a member too"
    );
    assert_eq!(b.recv_event("new_message", T).await?, expected);
    assert_quiet(&mut outsider, "a client outside the room").await?;
    assert_quiet(&mut a, "the sender").await
}

#[tokio::test]
async fn send_message_from_is_the_user_id_with_jwt() -> Result<()> {
    let server = ChatServer::start(&["--jwt-secret", SECRET]);
    let mut alice = connect_as(&server, "alice", None).await?;
    let mut bob = connect_as(&server, "bob", Some("user")).await?;
    join(&mut alice, "x").await?;
    join(&mut bob, "x").await?;
    let joined = alice.recv_event("user_joined", T).await?;
    assert_eq!(
        joined["payload"],
        json!({"room": "x", "user": "bob"}),
        "{joined}"
    );

    let ack = alice
        .request("send_message", json!({"room": "x", "text": "hi bob"}))
        .await?;
    assert_eq!(ack["payload"]["status"], "ok", "{ack}");
    let expected = json!({"event": "new_message", "payload": {"room": "x", "from": "alice", "text": "hi bob"}});
    assert_eq!(bob.recv_event("new_message", T).await?, expected);
    assert_eq!(alice.recv_event("new_message", T).await?, expected);
    Ok(())
}

#[tokio::test]
async fn message_ids_are_distinct() -> Result<()> {
    let server = ChatServer::start(&[]);
    let (mut a, _) = connect(&server).await?;
    join(&mut a, "x").await?;
    let first = a
        .request("send_message", json!({"room": "x", "text": "1"}))
        .await?;
    let second = a
        .request("send_message", json!({"room": "x", "text": "2"}))
        .await?;
    assert_ne!(
        first["payload"]["message_id"],
        second["payload"]["message_id"]
    );
    Ok(())
}

/// The wire protocol (docs/protocol.md): "Messages a connection receives
/// from one sender arrive in the order sent". `send_message` is not
/// `ordered`, so messages sent in a burst may be handled concurrently; each
/// one here is sent after the previous one was acknowledged, which fixes
/// the order the server sends in.
#[tokio::test]
async fn broadcasts_from_one_sender_arrive_in_order() -> Result<()> {
    let server = ChatServer::start(&[]);
    let (mut a, _) = connect(&server).await?;
    let (mut b, _) = connect(&server).await?;
    join(&mut a, "order").await?;
    join(&mut b, "order").await?;
    for i in 0..30 {
        let ack = a
            .request(
                "send_message",
                json!({"room": "order", "text": format!("m{i}")}),
            )
            .await?;
        assert_eq!(event_of(&ack), "message_ack", "{ack}");
    }
    for i in 0..30 {
        let m = b.recv_event("new_message", T).await?;
        assert_eq!(m["payload"]["text"], format!("m{i}"), "{m}");
    }
    Ok(())
}

/// The strong reading of the same sentence: a burst of `send_message` from
/// one client is broadcast in the order the client sent it, although the
/// event is not `ordered` (the connection loop runs each handler up to its
/// first real await before reading the next frame).
#[tokio::test]
async fn burst_of_messages_is_broadcast_in_send_order() -> Result<()> {
    let server = ChatServer::start(&[]);
    let (mut a, _) = connect(&server).await?;
    let (mut b, _) = connect(&server).await?;
    join(&mut a, "burst").await?;
    join(&mut b, "burst").await?;
    for i in 0..30 {
        a.send_event(
            "send_message",
            json!({"room": "burst", "text": format!("m{i}")}),
        )
        .await?;
    }
    for i in 0..30 {
        let m = b.recv_event("new_message", T).await?;
        assert_eq!(m["payload"]["text"], format!("m{i}"), "{m}");
    }
    Ok(())
}

// --- echo / slow_echo ----------------------------------------------------------

#[tokio::test]
async fn echo_returns_seq_and_data() -> Result<()> {
    let server = ChatServer::start(&[]);
    let (mut a, _) = connect(&server).await?;
    for (seq, data) in [
        (0, ""),
        (-5, "négatif ✓"),
        (1_000_000, "a \"quoted\" \n line"),
    ] {
        let reply = a.request("echo", json!({"seq": seq, "data": data})).await?;
        assert_eq!(event_of(&reply), "echo_reply", "{reply}");
        assert_eq!(reply["payload"], json!({"seq": seq, "data": data}));
    }
    Ok(())
}

#[tokio::test]
async fn slow_echo_is_ordered() -> Result<()> {
    let server = ChatServer::start(&[]);
    let (mut a, _) = connect(&server).await?;
    a.send_event_with_id("slow_echo", json!({"seq": 1, "delay_ms": 300}), "s1")
        .await?;
    a.send_event_with_id("slow_echo", json!({"seq": 2, "delay_ms": 0}), "s2")
        .await?;
    let first = a.recv_json(T).await?;
    let second = a.recv_json(T).await?;
    assert_eq!(
        first,
        json!({"event": "echo_reply", "payload": {"seq": 1, "data": ""}, "id": "s1"})
    );
    assert_eq!(
        second,
        json!({"event": "echo_reply", "payload": {"seq": 2, "data": ""}, "id": "s2"})
    );
    Ok(())
}

#[tokio::test]
async fn slow_echo_waits_its_delay() -> Result<()> {
    let server = ChatServer::start(&[]);
    let (mut a, _) = connect(&server).await?;
    let started = Instant::now();
    let reply = a
        .request("slow_echo", json!({"seq": 9, "delay_ms": 250}))
        .await?;
    assert_eq!(reply["payload"], json!({"seq": 9, "data": ""}), "{reply}");
    assert!(
        started.elapsed() >= Duration::from_millis(240),
        "{:?}",
        started.elapsed()
    );
    Ok(())
}

#[tokio::test]
async fn slow_handler_does_not_hold_up_other_events() -> Result<()> {
    let server = ChatServer::start(&[]);
    let (mut a, _) = connect(&server).await?;
    a.send_event_with_id("slow_echo", json!({"seq": 1, "delay_ms": 1000}), "slow")
        .await?;
    let started = Instant::now();
    a.send_event_with_id("echo", json!({"seq": 2, "data": "fast"}), "fast")
        .await?;
    let first = a.recv_json(T).await?;
    assert_eq!(
        first["id"], "fast",
        "echo must not wait for slow_echo: {first}"
    );
    assert!(
        started.elapsed() < Duration::from_millis(800),
        "{:?}",
        started.elapsed()
    );
    let second = a.recv_json(T).await?;
    assert_eq!(second["id"], "slow", "{second}");
    Ok(())
}

// --- whoami ----------------------------------------------------------------------

#[tokio::test]
async fn whoami_reports_identity_and_sorted_rooms() -> Result<()> {
    let server = ChatServer::start(&[]);
    let (mut a, a_id) = connect(&server).await?;

    let who = a.request_with_id("whoami", json!({}), "w0", T).await?;
    assert_eq!(
        who,
        json!({"event": "identity", "id": "w0", "payload": {
            "connection_id": a_id, "user_id": null, "role": null, "rooms": ["lobby"]}})
    );

    join(&mut a, "x").await?;
    let who = a.request("whoami", json!({})).await?;
    assert_eq!(
        who["payload"],
        json!({"connection_id": a_id, "user_id": null, "role": null, "rooms": ["chat:x", "lobby"]})
    );

    join(&mut a, "b").await?;
    join(&mut a, "a").await?;
    let who = a.request("whoami", json!({})).await?;
    assert_eq!(
        who["payload"]["rooms"],
        json!(["chat:a", "chat:b", "chat:x", "lobby"]),
        "{who}"
    );
    Ok(())
}

#[tokio::test]
async fn whoami_with_jwt_reports_user_and_role() -> Result<()> {
    let server = ChatServer::start(&["--jwt-secret", SECRET]);
    let mut admin = connect_as(&server, "root", Some("admin")).await?;
    let who = admin.request("whoami", json!({})).await?;
    assert_eq!(who["payload"]["user_id"], "root", "{who}");
    assert_eq!(who["payload"]["role"], "admin", "{who}");
    assert!(who["payload"]["connection_id"].is_string(), "{who}");
    assert_eq!(who["payload"]["rooms"], json!(["lobby"]), "{who}");

    let mut plain = connect_as(&server, "dave", None).await?;
    let who = plain.request("whoami", json!({})).await?;
    assert_eq!(who["payload"]["user_id"], "dave", "{who}");
    assert_eq!(who["payload"]["role"], Value::Null, "{who}");
    Ok(())
}

// --- fail ------------------------------------------------------------------------

#[tokio::test]
async fn fail_with_error_mode_is_a_handler_error() -> Result<()> {
    let server = ChatServer::start(&[]);
    let (mut a, _) = connect(&server).await?;
    for (payload, id) in [(json!({"mode": "error"}), "f1"), (json!({}), "f2")] {
        let error = a.request_with_id("fail", payload, id, T).await?;
        let p = assert_error(&error, "HANDLER_ERROR");
        assert_eq!(error["id"], id, "{error}");
        assert_eq!(p["request_id"], id, "{error}");
        assert_eq!(p["event"], "fail", "{error}");
        // The handler returns `Err("...".into())`: its text, as written.
        assert_eq!(
            p["message"], "the handler failed on purpose (mode \"error\")",
            "{error}"
        );
    }
    a.assert_alive().await
}

/// The panic message the server printed to stderr, if the default hook ran.
fn panic_text(stderr: &str) -> Option<String> {
    let mut lines = stderr.lines();
    lines.find(|l| l.contains("panicked at"))?;
    lines
        .next()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
}

#[tokio::test]
async fn fail_with_panic_mode_is_a_handler_error_that_leaks_nothing() -> Result<()> {
    let server = ChatServer::start(&[]);
    let (mut a, _) = connect(&server).await?;
    let (mut other, _) = connect(&server).await?;
    let error = a
        .request_with_id("fail", json!({"mode": "panic"}), "p1", T)
        .await?;
    let p = assert_error(&error, "HANDLER_ERROR");
    assert_eq!(p["request_id"], "p1", "{error}");
    assert_eq!(p["event"], "fail", "{error}");
    let message = p["message"].as_str().unwrap_or_default();
    for leak in ["panicked", ".rs:", "RUST_BACKTRACE", "backtrace", "src/"] {
        assert!(!message.contains(leak), "message leaks {leak:?}: {message}");
    }
    // Whatever the handler panicked with must not reach the client: read it
    // from the server's stderr (the default panic hook prints it there).
    let text = eventually(
        T,
        "the handler's panic on the server's stderr",
        async || Ok(panic_text(&server.stderr())),
    )
    .await?;
    assert!(
        !message.contains(&text),
        "message {message:?} contains the panic text {text:?}"
    );
    a.assert_alive().await?;
    other.assert_alive().await
}

#[tokio::test]
async fn handler_panics_are_reported_at_a_bounded_rate_without_backtraces() -> Result<()> {
    let server = ChatServer::try_start_with_env(&[("RUST_BACKTRACE", "1")], &[])?;
    let (mut a, _) = connect(&server).await?;
    for i in 0..30 {
        let error = a
            .request_with_id("fail", json!({"mode": "panic"}), &format!("p{i}"), T)
            .await?;
        assert_error(&error, "HANDLER_ERROR");
    }
    a.assert_alive().await?;
    let stderr = server.stderr();
    let reports = stderr.matches("panicked at").count();
    assert!(
        (1..=10).contains(&reports),
        "{reports} panic reports for 30 panics:\n{stderr}"
    );
    assert!(
        !stderr.contains("stack backtrace"),
        "a backtrace was printed:\n{stderr}"
    );
    Ok(())
}
