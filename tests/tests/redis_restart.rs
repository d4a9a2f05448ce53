//! Redis killed and restarted (empty) under two nodes: each node reports
//! itself degraded until it has re-registered every membership, retrying
//! until it can; afterwards counts are whole and a room whose members are
//! all on the other node is still found.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::json;
use socketspec_e2e::observe::health;
use socketspec_e2e::wait::eventually;
use socketspec_e2e::{ChatServer, Client, Result};

/// A throwaway `redis-server` on a port of its own, killed and restarted
/// by the test (the machine's Redis is shared by other tests).
struct ThrowawayRedis {
    port: u16,
    child: Option<Child>,
}

impl ThrowawayRedis {
    fn start() -> ThrowawayRedis {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut redis = ThrowawayRedis { port, child: None };
        redis.restart();
        redis
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it (again, empty) on the same port and waits until it answers.
    fn restart(&mut self) {
        self.kill();
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect(
                "the Redis restart test needs `redis-server` on PATH \
                 (apt-get install redis-server)",
            );
        self.child = Some(child);
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("redis-server did not start on port {}", self.port);
    }
}

impl Drop for ThrowawayRedis {
    fn drop(&mut self) {
        self.kill();
    }
}

async fn status(server: &ChatServer) -> Result<String> {
    Ok(health(server.addr()).await?["status"]
        .as_str()
        .unwrap_or_default()
        .to_owned())
}

async fn join(client: &mut Client, room: &str) -> Result<u64> {
    let reply = client.request("join_room", json!({"room": room})).await?;
    assert_eq!(reply["event"], "room_joined", "{reply}");
    Ok(reply["payload"]["members"].as_u64().unwrap_or(0))
}

async fn ready(server: &ChatServer) -> Result<Client> {
    Ok(Client::connect_ready(&server.ws_url()).await?.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memberships_come_back_after_redis_restarts_empty() -> Result<()> {
    let mut redis = ThrowawayRedis::start();
    let url = redis.url();
    let args = ["--redis", url.as_str(), "--redis-key-ttl", "3"];
    let a = ChatServer::start(&args);
    let b = ChatServer::start(&args);
    for node in [&a, &b] {
        eventually(Duration::from_secs(10), "a healthy node", async || {
            Ok((status(node).await? == "ok").then_some(()))
        })
        .await?;
    }
    let mut on_a = ready(&a).await?;
    let mut only_a = ready(&a).await?;
    let mut on_b = ready(&b).await?;
    join(&mut on_a, "shared").await?;
    assert_eq!(join(&mut on_b, "shared").await?, 2);
    join(&mut only_a, "a-side").await?;

    redis.kill();
    for node in [&a, &b] {
        eventually(Duration::from_secs(10), "a degraded node", async || {
            Ok((status(node).await? == "degraded").then_some(()))
        })
        .await?;
    }
    redis.restart();
    // Both re-register (retrying past the first failed command) and only
    // then call themselves healthy.
    for node in [&a, &b] {
        eventually(
            Duration::from_secs(20),
            "a healthy node again",
            async || Ok((status(node).await? == "ok").then_some(())),
        )
        .await?;
    }
    let mut late = ready(&b).await?;
    assert_eq!(
        join(&mut late, "shared").await?,
        3,
        "counts after the restart"
    );
    // A room whose only member is on node A, addressed from node B.
    let reply = on_b
        .request("send_message", json!({"room": "a-side", "text": "found?"}))
        .await?;
    assert_eq!(reply["event"], "message_ack", "{reply}");
    only_a
        .recv_matching(Duration::from_secs(5), "the message from node B", |m| {
            m["event"] == "new_message" && m["payload"]["text"] == "found?"
        })
        .await?;
    Ok(())
}
