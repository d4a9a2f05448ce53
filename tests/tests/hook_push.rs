//! A lifecycle hook pushes through the typed `Push` it takes from its
//! connection (`Push::of`): on one node, and to a connection on another
//! node over Redis, exactly once.

use std::time::Duration;

use serde_json::Value;
use socketspec_e2e::{Client, DEFAULT_TIMEOUT as T, Result};
use socketspec_runtime::{Backend, Connection, Hooks, RedisConfig, Server, bail};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

socketspec_runtime::include_spec!("hook_push");

/// On connect, pushes `arrived` to the connection its `?notify=` names.
struct Notifier;

impl Hooks for Notifier {
    async fn on_connect(&self, conn: &Connection) -> socketspec_runtime::Result<()> {
        let Some(target) = conn.handshake().query_param("notify") else {
            return Ok(());
        };
        let Some(push) = hook_push::Push::of(conn) else {
            bail!("this connection is not in the hook_push namespace");
        };
        let arrived = hook_push::Arrived {
            connection_id: conn.id().to_owned(),
            extra: Default::default(),
        };
        push.to_connection(target).emit_arrived(arrived).await?;
        Ok(())
    }
}

impl hook_push::Handler for Notifier {
    async fn ping_me(
        &self,
        cx: hook_push::PingMeCx<'_>,
        _payload: hook_push::PingMe,
    ) -> socketspec_runtime::Result<()> {
        cx.emit_pong_me(hook_push::PongMe::default())
    }
}

/// A node serving the spec on a free port (over Redis under `prefix` when
/// given); stops when the returned sender is dropped.
async fn node(prefix: Option<&str>) -> Result<(String, oneshot::Sender<()>)> {
    let mut builder = Server::builder(hook_push::service(Notifier));
    if let Some(prefix) = prefix {
        let redis = RedisConfig::new(socketspec_e2e::redis::url()).key_prefix(prefix);
        builder = builder.backend(Backend::redis(redis));
    }
    let server = builder
        .build()
        .map_err(|e| socketspec_e2e::Error::Start(e.to_string()))?;
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("ws://{}/ws", listener.local_addr()?);
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(server.serve(listener, async move {
        let _ = stopped.await;
    }));
    Ok((url, stop))
}

fn is_arrived(m: &Value) -> bool {
    m["event"] == "arrived"
}

/// A watcher connects at `watch_url`, a newcomer at `arrive_url` naming
/// it: the watcher gets one `arrived` naming the newcomer, and nothing more.
async fn newcomer_is_announced_once(watch_url: &str, arrive_url: &str) -> Result<()> {
    let (mut watcher, watching) = Client::connect_ready(watch_url).await?;
    let id = watching["connection_id"].as_str().unwrap_or_default();
    let notify = format!("{arrive_url}?notify={id}");
    let (_newcomer, newcomer) = Client::connect_ready(&notify).await?;
    let arrived = watcher.recv_matching(T, "arrived", is_arrived).await?;
    assert_eq!(
        arrived["payload"]["connection_id"], newcomer["connection_id"],
        "{arrived}"
    );
    assert!(
        arrived.get("id").is_none(),
        "a push carries no id: {arrived}"
    );
    let again = watcher
        .try_recv_non_ping(Duration::from_millis(300))
        .await?;
    assert!(again.is_none(), "delivered twice: {again:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_on_connect_hook_pushes_to_another_connection() -> Result<()> {
    let (url, _stop) = node(None).await?;
    newcomer_is_announced_once(&url, &url).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_on_connect_hook_pushes_across_nodes_over_redis() -> Result<()> {
    socketspec_e2e::redis::require().await;
    let prefix = format!("socketspec-hook-{}", uuid::Uuid::new_v4());
    let (a, _stop_a) = node(Some(&prefix)).await?;
    let (b, _stop_b) = node(Some(&prefix)).await?;
    newcomer_is_announced_once(&b, &a).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_to_nobody_is_the_hooks_error_and_reaches_no_other_client() -> Result<()> {
    // The hook's push finds no such connection: the push answers the hook
    // `ROOM_NOT_FOUND`; the hook returns it, so the connecting client gets
    // `__connect__`, that error, and the close (what a failing `on_connect`
    // does). Nobody else sees anything.
    let (url, _stop) = node(None).await?;
    let (mut bystander, _) = Client::connect_ready(&url).await?;
    let mut client = Client::connect(&format!("{url}?notify=nobody-here")).await?;
    let connect = client.recv_json(T).await?;
    assert_eq!(connect["event"], "__connect__", "{connect}");
    let error = client.recv_json(T).await?;
    socketspec_e2e::assert_error(&error, "ROOM_NOT_FOUND");
    let got = bystander
        .try_recv_non_ping(Duration::from_millis(300))
        .await?;
    assert!(got.is_none(), "a bystander got {got:?}");
    Ok(())
}
