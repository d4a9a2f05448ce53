//! A graceful shutdown that starts while a connection's loop is busy
//! elsewhere (here: in its `on_connect` hook, right after `__connect__`)
//! still reaches that connection: `__server_shutdown__`, `__disconnect__`,
//! close 1001. It used to be missed, and the connection stayed open until
//! the drain gave up.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[macro_use]
mod support;

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use serde_json::Value;
use socketspec_runtime::meta::AppMeta;
use socketspec_runtime::{Connection, Hooks, Result, Server};
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio_tungstenite::tungstenite::Message;

/// Its `on_connect` waits for the test's go-ahead.
struct Gated {
    entered: Arc<Notify>,
    gate: Arc<Notify>,
}

static META: AppMeta = AppMeta {
    title: "gated",
    version: "1",
    namespace: "/",
    events: &[],
    rooms: &[],
    spec_json: None,
    docs_html: None,
    asyncapi_json: None,
    schema_defs: "",
};

impl Hooks for Gated {
    async fn on_connect(&self, _conn: &Connection) -> Result<()> {
        self.entered.notify_one();
        self.gate.notified().await;
        Ok(())
    }
}

eventless_app!(Gated, META);

#[tokio::test]
async fn a_shutdown_during_on_connect_still_closes_the_connection_with_1001() {
    let entered = Arc::new(Notify::new());
    let gate = Arc::new(Notify::new());
    let app = Gated {
        entered: Arc::clone(&entered),
        gate: Arc::clone(&gate),
    };
    // A grace longer than the test's wait: a missed shutdown cannot pass
    // as a drain that gave up.
    let server = Server::builder(app)
        .shutdown_grace(Duration::from_secs(30))
        .build()
        .unwrap();
    let stop = server.shutdown_handle();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(server.serve(listener, std::future::pending()));

    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws"))
        .await
        .unwrap();
    let mut events = Vec::new();
    let mut next = async || loop {
        match tokio::time::timeout(Duration::from_secs(10), ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => {
                let v: Value = serde_json::from_str(&t).unwrap();
                return v["event"].as_str().unwrap_or_default().to_owned();
            }
            Ok(Some(Ok(Message::Close(f)))) => {
                return format!("close {:?}", f.map(|f| u16::from(f.code)));
            }
            Ok(Some(Ok(_))) => continue,
            other => panic!("no message: {other:?}"),
        }
    };
    events.push(next().await);
    entered.notified().await;
    stop.shutdown();
    gate.notify_one();
    for _ in 0..3 {
        events.push(next().await);
    }
    assert_eq!(
        events,
        [
            "__connect__",
            "__server_shutdown__",
            "__disconnect__",
            "close Some(1001)"
        ]
    );
}
