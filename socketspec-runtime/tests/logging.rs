//! What the runtime logs through `tracing` for an operator, over real TCP
//! WebSockets: serving (with the address), authentication refusals (the
//! reason, not the credential), connect and disconnect (debug, with the
//! connection id), refused payloads and handler errors (with the event and
//! the connection id), shutting down; and never a payload's contents.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::fmt::Write as _;
use std::future::Future;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use socketspec_runtime::auth::ApiKeyAuth;
use socketspec_runtime::meta::{AppMeta, EventMeta};
use socketspec_runtime::{App, Call, Hooks, Result, Server};
use tokio_tungstenite::tungstenite::Message;
use tracing::field::{Field, Visit};
use tracing::{Event, Metadata, Subscriber, span};

/// A secret every payload of the test carries: it must never be logged.
const SECRET: &str = "hunter2-in-a-payload";
const API_KEY: &str = "operator-key-7f3a";

/// Every event logged by any thread, as `LEVEL message field=value...`.
fn lines() -> &'static Mutex<Vec<String>> {
    static LINES: OnceLock<Mutex<Vec<String>>> = OnceLock::new();
    LINES.get_or_init(|| Mutex::new(Vec::new()))
}

struct Capture;

struct Line<'a>(&'a mut String);

impl Visit for Line<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, " {}={value:?}", field.name());
    }
}

impl Subscriber for Capture {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.target().starts_with("socketspec_runtime")
    }
    fn new_span(&self, _: &span::Attributes<'_>) -> span::Id {
        span::Id::from_u64(1)
    }
    fn record(&self, _: &span::Id, _: &span::Record<'_>) {}
    fn record_follows_from(&self, _: &span::Id, _: &span::Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut line = event.metadata().level().to_string();
        event.record(&mut Line(&mut line));
        lines().lock().unwrap().push(line);
    }
    fn enter(&self, _: &span::Id) {}
    fn exit(&self, _: &span::Id) {}
}

/// `say` requires a string `text`; `text: "fail"` makes the handler fail.
struct Talk;

static EVENTS: [EventMeta; 1] = [EventMeta {
    name: "say",
    ordered: false,
    executor: false,
    payload_schema: r#"{"type":"object","required":["text"],"properties":{"text":{"type":"string"}}}"#,
    type_checked: false,
}];

static META: AppMeta = AppMeta {
    title: "talk",
    version: "1",
    namespace: "/",
    events: &EVENTS,
    rooms: &[],
    spec_json: None,
    docs_html: None,
    asyncapi_json: None,
    schema_defs: "",
};

impl Hooks for Talk {}

impl App for Talk {
    type Hooks = Self;

    fn meta(&self) -> &'static AppMeta {
        &META
    }

    fn hooks(&self) -> &Self {
        self
    }

    // Not `async fn`: the future must be 'static, free of the borrow of `this`.
    #[allow(clippy::manual_async_fn)]
    fn dispatch(
        _this: &Arc<Self>,
        call: Call,
    ) -> impl Future<Output = Result<()>> + Send + 'static + use<> {
        async move {
            if call.payload()["text"] == "fail" {
                return Err("no such auction".into());
            }
            Ok(())
        }
    }
}

/// The first logged line with `message` (and every one of `fields`),
/// waiting for it a little: connections log from their own tasks.
async fn logged(message: &str, fields: &[&str]) -> String {
    let wanted = format!("message={message}");
    for _ in 0..200 {
        let found = lines()
            .lock()
            .unwrap()
            .iter()
            .find(|l| l.contains(&wanted) && fields.iter().all(|f| l.contains(f)))
            .cloned();
        if let Some(line) = found {
            return line;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!(
        "no log line `{message}` with {fields:?}; logged:\n{}",
        lines().lock().unwrap().join("\n")
    );
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn next_json(ws: &mut Ws) -> Value {
    loop {
        match tokio::time::timeout(Duration::from_secs(5), ws.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => return serde_json::from_str(&text).unwrap(),
            Ok(Some(Ok(_))) => continue,
            other => panic!("no message: {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_sees_what_happened_and_no_payload() {
    tracing::subscriber::set_global_default(Capture).unwrap();
    let server = Server::builder(Talk)
        .auth(ApiKeyAuth::new([API_KEY]))
        .shutdown_grace(Duration::from_secs(2))
        .build()
        .unwrap();
    let stop = server.shutdown_handle();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let serving = tokio::spawn(server.serve(listener, std::future::pending()));
    logged("serving", &[&format!("addr={addr}")]).await;

    // A wrong key: refused, and the log says why without the key offered.
    let refused =
        tokio_tungstenite::connect_async(format!("ws://{addr}/ws?api_key=wrong-{SECRET}")).await;
    if let Ok((mut ws, _)) = refused {
        let _ = tokio::time::timeout(Duration::from_secs(5), ws.next()).await;
    }
    logged("authentication refused", &["invalid API key"]).await;

    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws?api_key={API_KEY}"))
        .await
        .unwrap();
    let connect = next_json(&mut ws).await;
    let id = connect["payload"]["connection_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let connection = format!("connection={id:?}");
    logged("connected", &[&connection]).await;

    for (payload, request) in [
        (json!({"text": 5, "note": SECRET}), "r1"),
        (json!({"text": "fail", "note": SECRET}), "r2"),
    ] {
        let frame = json!({"event": "say", "payload": payload, "id": request});
        ws.send(Message::Text(frame.to_string().into()))
            .await
            .unwrap();
        let error = next_json(&mut ws).await;
        assert_eq!(error["event"], "__error__", "{error}");
    }
    logged(
        "payload refused",
        &[&connection, "event=\"say\"", "ValidationError"],
    )
    .await;
    logged(
        "handler failed",
        &[&connection, "event=\"say\"", "no such auction"],
    )
    .await;

    ws.close(None).await.unwrap();
    logged("disconnected", &[&connection]).await;

    stop.shutdown();
    serving.await.unwrap().unwrap();
    logged("shutting down", &[]).await;
    logged("shut down", &[]).await;

    let all = lines().lock().unwrap().join("\n");
    assert!(
        !all.contains(SECRET),
        "a payload or credential was logged:\n{all}"
    );
    assert!(!all.contains(API_KEY), "the API key was logged:\n{all}");
}
