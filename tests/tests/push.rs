//! Server push and namespaces on the chat server: `welcome` from the
//! `on_connect` hook, `tick` from a background task, `direct_message` to a
//! connection or a user, `tick` and `direct_message` across two nodes over
//! Redis, and the `/ops` namespace under the same authentication.

use std::time::Duration;

use serde_json::{Value, json};
use socketspec_e2e::raw_ws::{Incoming, RawWs};
use socketspec_e2e::wait::eventually;
use socketspec_e2e::{
    ChatServer, Client, DEFAULT_TIMEOUT as T, Front, Result, assert_error, event_of, mint_jwt,
};

const SECRET: &str = "push-secret";

async fn ready(url: &str) -> Result<(Client, Value)> {
    Client::connect_ready(url).await
}

fn is_event(name: &'static str) -> impl Fn(&Value) -> bool {
    move |m: &Value| m["event"] == name
}

#[tokio::test]
async fn the_on_connect_hook_pushes_welcome_on_both_fronts() -> Result<()> {
    for front in Front::ALL {
        let server = front.start(&["--welcome"]);
        let (mut client, connect) = ready(&server.ws_url()).await?;
        let welcome = client.recv_json(T).await?;
        assert_eq!(event_of(&welcome), "welcome", "{}: {welcome}", front.name());
        assert_eq!(
            welcome["payload"]["connection_id"],
            connect["connection_id"]
        );
        assert!(
            welcome.get("id").is_none(),
            "a push carries no id: {welcome}"
        );
    }
    // Without the flag nothing is pushed.
    let server = ChatServer::start(&[]);
    let (mut client, _) = ready(&server.ws_url()).await?;
    let got = client.try_recv_non_ping(Duration::from_millis(300)).await?;
    assert!(got.is_none(), "unexpected {got:?}");
    Ok(())
}

#[tokio::test]
async fn a_background_task_pushes_ticks_to_the_ticker_room() -> Result<()> {
    let server = ChatServer::start(&["--tick-interval", "50"]);
    let (mut member, _) = ready(&server.ws_url()).await?;
    member
        .request("join_room", json!({"room": "ticker"}))
        .await?;
    let (mut outsider, _) = ready(&server.ws_url()).await?;
    let mut seqs = Vec::new();
    while seqs.len() < 3 {
        let tick = member.recv_matching(T, "a tick", is_event("tick")).await?;
        seqs.push(tick["payload"]["seq"].as_u64().unwrap_or(0));
    }
    assert!(
        seqs.windows(2).all(|w| w[1] > w[0]),
        "ticks out of order: {seqs:?}"
    );
    let got = outsider
        .try_recv_non_ping(Duration::from_millis(200))
        .await?;
    assert!(got.is_none(), "a non-member got {got:?}");
    Ok(())
}

#[tokio::test]
async fn send_direct_reaches_a_connection_or_every_connection_of_a_user() -> Result<()> {
    let server = ChatServer::start(&["--jwt-secret", SECRET]);
    let url = server.ws_url();
    let connect = |sub: &'static str| {
        let url = url.clone();
        async move {
            let token = mint_jwt(SECRET, sub, None, 600)?;
            let mut client = Client::connect_with(&url, Client::options().jwt(&token)).await?;
            let connect = client.expect_connect().await?;
            Ok::<_, socketspec_e2e::Error>((client, connect))
        }
    };
    let (mut alice, _) = connect("alice").await?;
    let (mut bob1, bob1_connect) = connect("bob").await?;
    let (mut bob2, _) = connect("bob").await?;

    // To one connection.
    let to = bob1_connect["connection_id"].as_str().unwrap_or_default();
    let ack = alice
        .request("send_direct", json!({"to": to, "text": "one"}))
        .await?;
    assert_eq!(event_of(&ack), "message_ack", "{ack}");
    let got = bob1
        .recv_matching(T, "direct_message", is_event("direct_message"))
        .await?;
    assert_eq!(got["payload"], json!({"from": "alice", "text": "one"}));
    assert!(
        bob2.try_recv_non_ping(Duration::from_millis(200))
            .await?
            .is_none()
    );

    // To a user: every connection of it.
    alice
        .request("send_direct", json!({"to": "bob", "text": "all"}))
        .await?;
    for bob in [&mut bob1, &mut bob2] {
        let got = bob
            .recv_matching(T, "direct_message", is_event("direct_message"))
            .await?;
        assert_eq!(got["payload"]["text"], "all");
    }

    // Nobody there.
    let error = alice
        .request("send_direct", json!({"to": "carol", "text": "?"}))
        .await?;
    assert_error(&error, "ROOM_NOT_FOUND");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_direct_crosses_nodes_over_redis_exactly_once() -> Result<()> {
    socketspec_e2e::redis::require().await;
    let prefix = format!("socketspec-push-{}", uuid::Uuid::new_v4());
    let redis = socketspec_e2e::redis::url();
    let args = ["--redis", redis.as_str(), "--redis-prefix", prefix.as_str()];
    let a = ChatServer::start(&args);
    let b = Front::Axum.start(&args);
    let (mut on_a, _) = ready(&a.ws_url()).await?;
    let (mut on_b, b_connect) = ready(&b.ws_url()).await?;
    let to = b_connect["connection_id"].as_str().unwrap_or_default();
    let ack = on_a
        .request("send_direct", json!({"to": to, "text": "across"}))
        .await?;
    assert_eq!(event_of(&ack), "message_ack", "{ack}");
    let got = on_b
        .recv_matching(T, "direct_message", is_event("direct_message"))
        .await?;
    assert_eq!(got["payload"]["text"], "across");
    let again = on_b.try_recv_non_ping(Duration::from_millis(300)).await?;
    assert!(again.is_none(), "delivered twice: {again:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_background_task_on_one_node_pushes_ticks_to_members_on_another() -> Result<()> {
    socketspec_e2e::redis::require().await;
    let prefix = format!("socketspec-push-{}", uuid::Uuid::new_v4());
    let redis = socketspec_e2e::redis::url();
    let cluster = ["--redis", redis.as_str(), "--redis-prefix", prefix.as_str()];
    // Only node A runs the ticker task; the member is on node B.
    let mut ticking = cluster.to_vec();
    ticking.extend(["--tick-interval", "50"]);
    let a = ChatServer::start(&ticking);
    let b = Front::Axum.start(&cluster);
    let (mut member, _) = ready(&b.ws_url()).await?;
    member
        .request("join_room", json!({"room": "ticker"}))
        .await?;
    let mut seqs = Vec::new();
    while seqs.len() < 3 {
        let tick = member.recv_matching(T, "a tick", is_event("tick")).await?;
        seqs.push(tick["payload"]["seq"].as_u64().unwrap_or(0));
    }
    assert!(
        seqs.windows(2).all(|w| w[1] == w[0] + 1),
        "ticks from node A lost, repeated or out of order on node B: {seqs:?}"
    );
    drop(a);
    Ok(())
}

#[tokio::test]
async fn the_ops_namespace_has_the_same_authentication() -> Result<()> {
    let server = ChatServer::start(&["--jwt-secret", SECRET]);
    // No token: refused like on `/ws`.
    let mut raw = RawWs::connect_with(server.addr(), "/ws/ops", &[]).await?;
    match raw.next_message(T).await? {
        Incoming::Json(first) => {
            assert_error(&first, "AUTH_ERROR");
        }
        end => panic!("no AUTH_ERROR on /ws/ops: {end:?}"),
    }
    assert_eq!(raw.expect_end(T).await?, Incoming::Close(Some(4001)));
    // With one: admitted in namespace `/ops`.
    let token = mint_jwt(SECRET, "ops", None, 600)?;
    let ops_url = format!("{}/ops", server.ws_url());
    let mut ops = Client::connect_with(&ops_url, Client::options().jwt(&token)).await?;
    let connect = ops.expect_connect().await?;
    assert_eq!(connect["namespace"], "/ops", "{connect}");
    // The refused connection is gone once its task has ended.
    eventually(T, "stats counting this connection only", async || {
        let stats = ops.request("get_stats", json!({})).await?;
        assert_eq!(event_of(&stats), "stats", "{stats}");
        Ok((stats["payload"]["connections"] == 1).then_some(()))
    })
    .await?;
    Ok(())
}
