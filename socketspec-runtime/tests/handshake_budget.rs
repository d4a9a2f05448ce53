//! The handshake budget: authentication sees the whole upgrade request,
//! the connection keeps at most `HttpConfig::handshake_budget` bytes of
//! its headers and query, over a real TCP upgrade.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[macro_use]
mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use socketspec_runtime::auth::AuthRejection;
use socketspec_runtime::config::{HttpConfig, SessionConfig};
use socketspec_runtime::meta::AppMeta;
use socketspec_runtime::{
    AuthBackend, Connection, HandshakeRequest, Hooks, Identity, Result, Server,
};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

static META: AppMeta = AppMeta {
    title: "budget",
    version: "1",
    namespace: "/",
    events: &[],
    rooms: &[],
    spec_json: None,
    docs_html: None,
    asyncapi_json: None,
    schema_defs: "",
};

/// What authentication and `on_connect` saw.
#[derive(Default, Debug)]
struct Seen {
    auth_headers: usize,
    kept_headers: usize,
    kept_bytes: usize,
    dropped: usize,
}

#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Seen>>);

impl AuthBackend for Recorder {
    async fn authenticate(
        &self,
        request: &HandshakeRequest,
    ) -> std::result::Result<Identity, AuthRejection> {
        self.0.lock().unwrap().auth_headers = request.headers.len();
        Ok(Identity::default())
    }
}

impl Hooks for Recorder {
    async fn on_connect(&self, conn: &Connection) -> Result<()> {
        let handshake = conn.handshake();
        let headers: usize = handshake
            .headers
            .iter()
            .map(|(n, v)| n.as_str().len() + v.len())
            .sum();
        let query: usize = handshake.query.iter().map(|(k, v)| k.len() + v.len()).sum();
        let mut seen = self.0.lock().unwrap();
        seen.kept_headers = handshake.headers.len();
        seen.kept_bytes = headers + query;
        seen.dropped = handshake.dropped;
        Ok(())
    }
}

eventless_app!(Recorder, META);

async fn upgrade_with_headers(headers: usize, each: usize, budget: usize) -> Seen {
    let recorder = Recorder::default();
    let server = Server::builder(recorder.clone())
        .auth(recorder.clone())
        .http(HttpConfig::default().handshake_budget(budget))
        .session(SessionConfig::without_timers())
        .build()
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let serving = tokio::spawn(server.clone().serve(listener, std::future::pending()));

    let mut request = format!("ws://{addr}/ws?room=a")
        .into_client_request()
        .unwrap();
    for i in 0..headers {
        let value = "v".repeat(each);
        request.headers_mut().insert(
            format!("x-filler-{i}").parse::<http::HeaderName>().unwrap(),
            value.parse().unwrap(),
        );
    }
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let connect = tokio::time::timeout(Duration::from_secs(5), ws.next())
        .await
        .unwrap();
    assert!(
        connect
            .unwrap()
            .unwrap()
            .to_text()
            .unwrap()
            .contains("__connect__")
    );
    serving.abort();
    std::mem::take(&mut *recorder.0.lock().unwrap())
}

#[tokio::test]
async fn a_huge_upgrade_costs_no_more_than_the_budget() {
    // 60 headers of 4,000 bytes: 240 KB, under hyper's request limits.
    let seen = upgrade_with_headers(60, 4000, 8 * 1024).await;
    assert!(
        seen.auth_headers >= 60,
        "authentication saw everything: {seen:?}"
    );
    assert!(seen.kept_bytes <= 8 * 1024, "kept {seen:?}");
    assert!(
        seen.kept_headers > 0,
        "the first headers are kept: {seen:?}"
    );
    assert!(seen.dropped >= 58, "{seen:?}");
}

#[tokio::test]
async fn a_normal_upgrade_is_kept_whole() {
    let seen = upgrade_with_headers(3, 100, 8 * 1024).await;
    assert_eq!(seen.dropped, 0, "{seen:?}");
    assert_eq!(seen.kept_headers, seen.auth_headers, "{seen:?}");
}
