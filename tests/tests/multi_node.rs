//! Many nodes over Redis (the one `socketspec_e2e::redis` names, each test
//! under its own key prefix): broadcasts reach every member on every node
//! exactly once and in each sender's order, member counts are cluster-wide,
//! a killed node leaves the counts within the key TTL, and nodes survive
//! Redis going away. The same room suite also runs on the memory backend.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::json;
use socketspec_e2e::observe::health;
use socketspec_e2e::wait::eventually;
use socketspec_e2e::{ChatServer, Client, Result, Signal, assert_error, event_of};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;
use tokio::task::JoinSet;

fn redis_url() -> String {
    socketspec_e2e::redis::url()
}

/// Fails clearly when the tests' Redis is not there.
async fn require_redis() {
    socketspec_e2e::redis::require().await;
}

fn prefix() -> String {
    format!("socketspec-test-{}", uuid::Uuid::new_v4())
}

fn node(redis_url: &str, prefix: &str, extra: &[&str]) -> ChatServer {
    let mut args = vec!["--redis", redis_url, "--redis-prefix", prefix];
    args.extend_from_slice(extra);
    ChatServer::start(&args)
}

async fn client(server: &ChatServer) -> Result<(Client, String)> {
    let (client, connect) = Client::connect_ready(&server.ws_url()).await?;
    let id = connect["connection_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    Ok((client, id))
}

async fn join(client: &mut Client, room: &str) -> Result<u64> {
    let reply = client.request("join_room", json!({"room": room})).await?;
    assert_eq!(reply["event"], "room_joined", "{reply}");
    Ok(reply["payload"]["members"].as_u64().unwrap_or(0))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_deliver_every_broadcast_once_in_sender_order() -> Result<()> {
    require_redis().await;
    let prefix = prefix();
    let nodes: Vec<ChatServer> = (0..3).map(|_| node(&redis_url(), &prefix, &[])).collect();
    const CLIENTS: usize = 30;
    const MESSAGES: usize = 5;
    let mut clients = Vec::new();
    for i in 0..CLIENTS {
        let (c, id) = client(&nodes[i % 3]).await?;
        clients.push((c, id, if i % 2 == 0 { "even" } else { "odd" }));
    }
    // Member counts are cluster-wide: the n-th joiner of a room sees n.
    let mut seen_counts: HashMap<&str, Vec<u64>> = HashMap::new();
    for (c, _, room) in clients.iter_mut() {
        let members = join(c, room).await?;
        seen_counts.entry(room).or_default().push(members);
    }
    for counts in seen_counts.values() {
        assert_eq!(counts, &(1..=15).collect::<Vec<u64>>());
    }
    let senders: HashMap<String, &str> = clients
        .iter()
        .map(|(_, id, room)| (id.clone(), *room))
        .collect();

    // Every client sends a burst; each then reads until it has every
    // message of its room (15 senders x MESSAGES), checking as it goes.
    let mut tasks: JoinSet<Result<()>> = JoinSet::new();
    for (mut c, id, room) in clients {
        let senders = senders.clone();
        tasks.spawn(async move {
            for i in 0..MESSAGES {
                c.send_event(
                    "send_message",
                    json!({"room": room, "text": format!("{id}#{i}")}),
                )
                .await?;
            }
            let expected = 15 * MESSAGES;
            let mut got: Vec<(String, String)> = Vec::new();
            while got.len() < expected {
                let m = c.recv_event("new_message", Duration::from_secs(10)).await?;
                let from = m["payload"]["from"].as_str().unwrap_or_default().to_owned();
                assert_eq!(
                    m["payload"]["room"], room,
                    "a message from another room: {m}"
                );
                assert_eq!(senders.get(&from), Some(&room), "from a non-member: {m}");
                got.push((
                    from,
                    m["payload"]["text"].as_str().unwrap_or_default().to_owned(),
                ));
            }
            // Nothing more arrives: exactly once.
            let extra = c.try_recv_non_ping(Duration::from_millis(300)).await?;
            assert!(
                extra.as_ref().is_none_or(|m| m["event"] != "new_message"),
                "a duplicate: {extra:?}"
            );
            let unique: HashSet<_> = got.iter().collect();
            assert_eq!(unique.len(), expected, "duplicates among {got:?}");
            // Per-sender order.
            let mut next: HashMap<&str, usize> = HashMap::new();
            for (from, text) in &got {
                let n = next.entry(from.as_str()).or_default();
                assert_eq!(text, &format!("{from}#{n}"), "out of order for {from}");
                *n += 1;
            }
            Ok(())
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("client task panicked")?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_node_leaves_the_counts_within_the_key_ttl() -> Result<()> {
    require_redis().await;
    let prefix = prefix();
    let ttl = ["--redis-key-ttl", "1"];
    let a = node(&redis_url(), &prefix, &ttl);
    let b = node(&redis_url(), &prefix, &ttl);
    let mut c_node = node(&redis_url(), &prefix, &ttl);
    let (mut on_a, _) = client(&a).await?;
    assert_eq!(join(&mut on_a, "k").await?, 1);
    let (mut on_c1, _) = client(&c_node).await?;
    let (mut on_c2, _) = client(&c_node).await?;
    assert_eq!(join(&mut on_c1, "k").await?, 2);
    assert_eq!(join(&mut on_c2, "k").await?, 3);

    c_node.signal(Signal::KILL)?;
    let _ = c_node.exited(Duration::from_secs(5)).await?;
    // Within the TTL (plus one refresh period of slack) C's members are
    // gone: a member joining on B is the second, once C's two have left
    // the count (until then it leaves again and retries).
    let (mut on_b, _) = client(&b).await?;
    let within = Duration::from_millis(1600);
    eventually(within, "node C's members leaving the count", async || {
        if join(&mut on_b, "k").await? == 2 {
            return Ok(Some(()));
        }
        on_b.request("leave_room", json!({"room": "k"})).await?;
        Ok(None)
    })
    .await?;

    // The surviving nodes keep working together.
    on_a.request("send_message", json!({"room": "k", "text": "still here"}))
        .await?;
    let m = on_b
        .recv_event("new_message", Duration::from_secs(5))
        .await?;
    assert_eq!(m["payload"]["text"], "still here");
    Ok(())
}

/// A TCP proxy between a node and Redis that the test can cut, as if Redis
/// went away (every connection killed, new ones refused), and restore.
struct RedisProxy {
    port: u16,
    down: Arc<AtomicBool>,
    links: Arc<Mutex<JoinSet<()>>>,
}

impl RedisProxy {
    async fn start() -> RedisProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let down = Arc::new(AtomicBool::new(false));
        let links = Arc::new(Mutex::new(JoinSet::new()));
        let (d, l) = (Arc::clone(&down), Arc::clone(&links));
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if d.load(Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                l.lock().await.spawn(async move {
                    if let Ok(mut outbound) =
                        TcpStream::connect(socketspec_e2e::redis::address()).await
                    {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
        RedisProxy { port, down, links }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    async fn cut(&self) {
        self.down.store(true, Ordering::SeqCst);
        self.links.lock().await.abort_all();
    }

    fn restore(&self) {
        self.down.store(false, Ordering::SeqCst);
    }
}

/// Sends to `room` from `from` until `to` (on another node) hears it: by
/// then the sender's node counts the other one alive.
async fn until_heard(from: &mut Client, to: &mut Client, room: &str) -> Result<()> {
    eventually(
        Duration::from_secs(5),
        "a broadcast reaching the other node",
        async || {
            from.request("send_message", json!({"room": room, "text": "before"}))
                .await?;
            let got = to
                .recv_matching(Duration::from_millis(300), "the broadcast", |m| {
                    m["event"] == "new_message" && m["payload"]["text"] == "before"
                })
                .await;
            Ok(got.ok().map(|_| ()))
        },
    )
    .await
}

async fn healthy(server: &ChatServer) -> Result<bool> {
    Ok(health(server.addr()).await?["backend_healthy"] == true)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_survive_redis_going_away_and_report_unsent_broadcasts() -> Result<()> {
    require_redis().await;
    let prefix = prefix();
    let proxy = RedisProxy::start().await;
    let a = node(&proxy.url(), &prefix, &[]);
    let b = node(&redis_url(), &prefix, &[]);
    let (mut on_a, _) = client(&a).await?;
    let (mut on_b, _) = client(&b).await?;
    join(&mut on_a, "outage").await?;
    assert_eq!(join(&mut on_b, "outage").await?, 2);
    eventually(Duration::from_secs(10), "node A healthy", async || {
        Ok(healthy(&a).await?.then_some(()))
    })
    .await?;

    proxy.cut().await;
    // The node notices, reports it, keeps serving local work, and refuses
    // to pretend a broadcast went out.
    let refused = eventually(
        Duration::from_secs(5),
        "a broadcast during the outage failing to its sender",
        async || {
            let reply = on_a
                .request("send_message", json!({"room": "outage", "text": "lost?"}))
                .await?;
            Ok((reply["event"] == "__error__").then_some(reply))
        },
    )
    .await?;
    let payload = assert_error(&refused, "HANDLER_ERROR");
    assert!(
        payload["message"]
            .as_str()
            .unwrap_or_default()
            .contains("not sent"),
        "{payload}"
    );
    assert!(!healthy(&a).await?);
    on_a.assert_alive().await?;

    proxy.restore();
    // It reconnects, resubscribes and re-registers: broadcasts flow again
    // both ways, and the counts are whole.
    eventually(
        Duration::from_secs(10),
        "broadcasts flowing again after Redis came back",
        async || {
            let reply = on_a
                .request("send_message", json!({"room": "outage", "text": "back"}))
                .await?;
            Ok((reply["event"] == "message_ack").then_some(()))
        },
    )
    .await?;
    let m = on_b
        .recv_matching(
            Duration::from_secs(5),
            "the message sent after recovery",
            |m| m["event"] == "new_message" && m["payload"]["text"] == "back",
        )
        .await?;
    assert_eq!(m["payload"]["room"], "outage");
    on_b.request("send_message", json!({"room": "outage", "text": "to a"}))
        .await?;
    on_a.recv_matching(Duration::from_secs(5), "a message from node B", |m| {
        m["event"] == "new_message" && m["payload"]["text"] == "to a"
    })
    .await?;
    // Healthy again once the re-registration pass has completed (it may
    // finish just after the first broadcast flows).
    eventually(
        Duration::from_secs(10),
        "node A healthy again",
        async || Ok(healthy(&a).await?.then_some(())),
    )
    .await?;
    let (mut third, _) = client(&b).await?;
    assert_eq!(join(&mut third, "outage").await?, 3);
    Ok(())
}

/// One behavioural suite for rooms, run on both backends.
async fn room_suite(nodes: &[ChatServer]) -> Result<()> {
    let (mut x, x_id) = client(&nodes[0]).await?;
    let (mut y, _) = client(&nodes[nodes.len() - 1]).await?;
    // A room that nobody joined does not exist.
    let missing = x
        .request("send_message", json!({"room": "suite", "text": "hi"}))
        .await?;
    assert_eq!(
        assert_error(&missing, "ROOM_NOT_FOUND")["details"]["room"],
        "chat:suite"
    );
    assert_eq!(join(&mut x, "suite").await?, 1);
    assert_eq!(join(&mut y, "suite").await?, 2);
    // The earlier member hears of the join; the joiner does not.
    let joined = x.recv_event("user_joined", Duration::from_secs(5)).await?;
    assert_eq!(joined["payload"]["room"], "suite");
    // A broadcast reaches both members, the sender included.
    x.request("send_message", json!({"room": "suite", "text": "one"}))
        .await?;
    for c in [&mut x, &mut y] {
        let m = c.recv_event("new_message", Duration::from_secs(5)).await?;
        assert_eq!(
            (m["payload"]["text"].clone(), m["payload"]["from"].clone()),
            (json!("one"), json!(x_id))
        );
    }
    // Leaving updates the count; the last leave removes the room.
    y.request("leave_room", json!({"room": "suite"})).await?;
    let (mut z, _) = client(&nodes[0]).await?;
    assert_eq!(join(&mut z, "suite").await?, 2);
    z.request("leave_room", json!({"room": "suite"})).await?;
    x.request("leave_room", json!({"room": "suite"})).await?;
    let gone = y
        .request("send_message", json!({"room": "suite", "text": "x"}))
        .await?;
    assert_error(&gone, "ROOM_NOT_FOUND");
    // A disconnect leaves every room.
    join(&mut x, "suite2").await?;
    x.close().await?;
    // Until the server has seen the close, the room exists and takes the
    // message (anyone may send to a room); then it is gone.
    let after = eventually(
        Duration::from_secs(5),
        "the closed member's room to go",
        async || {
            let reply = y
                .request("send_message", json!({"room": "suite2", "text": "x"}))
                .await?;
            Ok((event_of(&reply) != "message_ack").then_some(reply))
        },
    )
    .await?;
    assert_error(&after, "ROOM_NOT_FOUND");
    Ok(())
}

#[tokio::test]
async fn room_suite_on_the_memory_backend() -> Result<()> {
    room_suite(&[ChatServer::start(&[])]).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn room_suite_on_one_redis_node() -> Result<()> {
    require_redis().await;
    room_suite(&[node(&redis_url(), &prefix(), &[])]).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn room_suite_across_two_redis_nodes() -> Result<()> {
    require_redis().await;
    let prefix = prefix();
    room_suite(&[
        node(&redis_url(), &prefix, &[]),
        node(&redis_url(), &prefix, &[]),
    ])
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broadcast_that_misses_a_cut_off_node_is_reported_to_its_sender() -> Result<()> {
    require_redis().await;
    let prefix = prefix();
    let proxy = RedisProxy::start().await;
    let a = node(&redis_url(), &prefix, &["--redis-key-ttl", "3"]);
    let b = node(&proxy.url(), &prefix, &["--redis-key-ttl", "3"]);
    let (mut on_a, _) = client(&a).await?;
    let (mut on_b, _) = client(&b).await?;
    join(&mut on_a, "partition").await?;
    assert_eq!(join(&mut on_b, "partition").await?, 2);
    // Node A knows both nodes are alive once it has counted them.
    until_heard(&mut on_a, &mut on_b, "partition").await?;

    // Node B is cut off from Redis; node A is not. A's broadcast reaches
    // only A's subscription while B's liveness key still stands: the
    // sender learns that it may not have been delivered.
    proxy.cut().await;
    let refused = eventually(
        Duration::from_secs(5),
        "a broadcast that missed node B failing to its sender",
        async || {
            let reply = on_a
                .request(
                    "send_message",
                    json!({"room": "partition", "text": "missed?"}),
                )
                .await?;
            Ok((reply["event"] == "__error__").then_some(reply))
        },
    )
    .await?;
    let payload = assert_error(&refused, "HANDLER_ERROR");
    let message = payload["message"].as_str().unwrap_or_default();
    assert!(message.contains("of 2 live nodes"), "{payload}");
    // Node B says it is degraded.
    assert!(!healthy(&b).await?);

    proxy.restore();
    eventually(
        Duration::from_secs(15),
        "acked broadcasts again",
        async || {
            let reply = on_a
                .request(
                    "send_message",
                    json!({"room": "partition", "text": "after"}),
                )
                .await?;
            Ok((reply["event"] == "message_ack").then_some(()))
        },
    )
    .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_of_a_node_that_fell_out_of_the_cluster_are_told_to_resync() -> Result<()> {
    require_redis().await;
    let prefix = prefix();
    let proxy = RedisProxy::start().await;
    let a = node(&redis_url(), &prefix, &["--redis-key-ttl", "1"]);
    let b = node(&proxy.url(), &prefix, &["--redis-key-ttl", "1"]);
    let (mut on_a, _) = client(&a).await?;
    let (mut on_b, _) = client(&b).await?;
    join(&mut on_a, "gap").await?;
    assert_eq!(join(&mut on_b, "gap").await?, 2);

    // Node A counts node B once a broadcast reaches it.
    until_heard(&mut on_a, &mut on_b, "gap").await?;
    // Node B is cut off: first A's broadcasts fail (B still counts)...
    proxy.cut().await;
    eventually(
        Duration::from_secs(5),
        "a broadcast failing while node B is cut off",
        async || {
            let reply = on_a
                .request("send_message", json!({"room": "gap", "text": "failed"}))
                .await?;
            Ok((reply["event"] == "__error__").then_some(()))
        },
    )
    .await?;
    // ...then B's liveness key expires, A stops counting it, and A's
    // broadcasts are acknowledged without reaching it.
    eventually(
        Duration::from_secs(10),
        "a broadcast acknowledged while node B is out of the cluster",
        async || {
            let reply = on_a
                .request("send_message", json!({"room": "gap", "text": "missed"}))
                .await?;
            Ok((reply["event"] == "message_ack").then_some(()))
        },
    )
    .await?;
    // Back in the cluster, node B tells its members they may have missed
    // messages: they come back to fresh sessions and re-sync.
    proxy.restore();
    let farewell = on_b
        .recv_matching(Duration::from_secs(15), "__disconnect__", |m| {
            m["event"] == "__disconnect__"
        })
        .await?;
    assert_eq!(
        farewell["payload"]["reason"], "missed_messages",
        "{farewell}"
    );
    assert_eq!(on_b.expect_close(Duration::from_secs(5)).await?, Some(1012));
    Ok(())
}
