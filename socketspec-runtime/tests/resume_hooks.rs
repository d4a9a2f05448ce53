//! Resumption as the application sees it: across a resume no hook runs
//! (no `on_disconnect`, no second `on_connect`); when the window passes,
//! an overflow ends the session or the server shuts down, `on_disconnect`
//! runs once and the session leaves its rooms.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod support;

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use socketspec_runtime::__private::{broadcast, emit};
use socketspec_runtime::config::SessionConfig;
use socketspec_runtime::meta::{AppMeta, EventMeta, RoomMeta};
use socketspec_runtime::{App, Call, Connection, DisconnectReason, Hooks, Result, Server};
use support::{Ws, connect_in_process, request, rooms_settle};

const OBJECT: &str = r#"{"type":"object"}"#;

static EVENTS: [EventMeta; 2] = [
    EventMeta {
        name: "join",
        ordered: false,
        executor: false,
        payload_schema: OBJECT,
        type_checked: false,
    },
    EventMeta {
        name: "say",
        ordered: false,
        executor: false,
        payload_schema: OBJECT,
        type_checked: false,
    },
];

static ROOMS: [RoomMeta; 1] = [RoomMeta {
    pattern: "team:{name}",
    is_static: false,
    guarded: false,
    max_members: None,
}];

static META: AppMeta = AppMeta {
    title: "resume",
    version: "1",
    namespace: "/",
    events: &EVENTS,
    rooms: &ROOMS,
    spec_json: None,
    docs_html: None,
    asyncapi_json: None,
    schema_defs: "",
};

/// Counts its hooks.
#[derive(Default)]
struct Counting {
    connects: AtomicUsize,
    disconnects: Mutex<Vec<String>>,
}

/// `join {room}` joins it and answers `joined {members}`; `say {room,
/// text}` broadcasts `said {text}` to the room and answers `sent`.
async fn dispatch(call: Call) -> Result<()> {
    let cx = call.context();
    let room = call.payload()["room"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    match call.event() {
        "join" => {
            let members = cx.join(&room).await?;
            emit(&cx, "joined", &json!({"members": members}))
        }
        _ => {
            let text = call.payload()["text"].clone();
            broadcast(&cx, &room, "said", &json!({"text": text}), false).await?;
            emit(&cx, "sent", &json!({}))
        }
    }
}

impl Hooks for Counting {
    async fn on_connect(&self, _conn: &Connection) -> Result<()> {
        self.connects.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    async fn on_disconnect(&self, _conn: &Connection, reason: &DisconnectReason) {
        self.disconnects
            .lock()
            .unwrap()
            .push(reason.as_str().to_owned());
    }
}

/// A server whose hooks the test reads through `app`.
fn server(app: &Arc<Counting>, window: Duration, buffer: usize) -> Server {
    let session = SessionConfig::without_timers()
        .resume_window(window)
        .resume_buffer(buffer);
    Server::builder(Shared(Arc::clone(app)))
        .session(session)
        .build()
        .unwrap()
}

/// Connects (resuming with `resume` = (token, last_seq) when given);
/// returns the socket and its `__connect__` payload.
async fn connect(server: &Server, resume: Option<(&str, u64)>) -> (Ws, Value) {
    let query = match resume {
        Some((token, last_seq)) => vec![
            ("resume".to_owned(), token.to_owned()),
            ("last_seq".to_owned(), last_seq.to_string()),
        ],
        None => Vec::new(),
    };
    let (ws, connect) = connect_in_process(server, query).await;
    (ws, connect["payload"].clone())
}

async fn settle<T: PartialEq + std::fmt::Debug>(what: &str, expected: T, get: impl Fn() -> T) {
    for _ in 0..150 {
        if get() == expected {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(get(), expected, "{what}");
}

/// The app of the test's servers: it dispatches with [`dispatch`] and
/// counts its hooks in the shared [`Counting`].
struct Shared(Arc<Counting>);

impl App for Shared {
    type Hooks = Counting;

    fn meta(&self) -> &'static AppMeta {
        &META
    }

    fn hooks(&self) -> &Counting {
        &self.0
    }

    #[allow(clippy::manual_async_fn)]
    fn dispatch(
        _this: &Arc<Self>,
        call: Call,
    ) -> impl Future<Output = Result<()>> + Send + 'static + use<> {
        dispatch(call)
    }
}

#[tokio::test]
async fn a_resume_keeps_the_connection_and_its_seq_and_the_window_passing_ends_it() {
    let server = server(
        &Arc::new(Counting::default()),
        Duration::from_millis(400),
        64,
    );
    let (mut ws, first) = connect(&server, None).await;
    assert_eq!(first["resumed"], false);
    let joined = request(&mut ws, "join", json!({"room": "team:a"})).await;
    assert_eq!(joined["seq"], 1, "{joined}");
    drop(ws); // the socket is lost: no closing handshake

    // Detached, the session is still in its room.
    tokio::time::sleep(Duration::from_millis(50)).await;
    rooms_settle(&server, &[("team:a", 1)]).await;
    let token = first["resume_token"].as_str().unwrap();
    let (mut ws, again) = connect(&server, Some((token, 1))).await;
    assert_eq!(again["resumed"], true, "{again}");
    assert_eq!(again["connection_id"], first["connection_id"]);
    // The broadcast (2), then the reply (3): the numbers go on.
    let sent = request(&mut ws, "say", json!({"room": "team:a", "text": "hi"})).await;
    assert_eq!(sent["seq"], 3, "{sent}");

    // Lost again, and this time nobody comes back.
    drop(ws);
    rooms_settle(&server, &[]).await;
}

#[tokio::test]
async fn hooks_run_once_per_session_whatever_the_resumes() {
    let app = Arc::new(Counting::default());
    let server = server(&app, Duration::from_millis(300), 64);
    let (mut ws, first) = connect(&server, None).await;
    request(&mut ws, "join", json!({"room": "team:h"})).await;
    let mut token = first["resume_token"].as_str().unwrap().to_owned();
    let mut last_seq = 1;
    for _ in 0..3 {
        drop(ws);
        tokio::time::sleep(Duration::from_millis(30)).await;
        let (mut again, connect) = connect(&server, Some((&token, last_seq))).await;
        assert_eq!(connect["resumed"], true, "{connect}");
        let said = request(&mut again, "say", json!({"room": "team:h", "text": "x"})).await;
        last_seq = said["seq"].as_u64().unwrap();
        token = connect["resume_token"].as_str().unwrap().to_owned();
        ws = again;
    }
    assert_eq!(app.connects.load(Ordering::SeqCst), 1);
    assert!(app.disconnects.lock().unwrap().is_empty());
    drop(ws);
    settle(
        "on_disconnect ran once, as the window passed",
        vec!["resume_expired".to_owned()],
        || app.disconnects.lock().unwrap().clone(),
    )
    .await;
    rooms_settle(&server, &[]).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(app.disconnects.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn an_overflow_or_a_shutdown_ends_a_detached_session() {
    let app = Arc::new(Counting::default());
    let server = server(&app, Duration::from_secs(60), 3);
    let (mut lost, first) = connect(&server, None).await;
    request(&mut lost, "join", json!({"room": "team:o"})).await;
    let (mut talker, _) = connect(&server, None).await;
    request(&mut talker, "join", json!({"room": "team:o"})).await;
    drop(lost);
    tokio::time::sleep(Duration::from_millis(50)).await;
    for i in 0..6 {
        request(&mut talker, "say", json!({"room": "team:o", "text": i})).await;
    }
    settle("the overflowed session ended", 1, || {
        app.disconnects.lock().unwrap().len()
    })
    .await;
    rooms_settle(&server, &[("team:o", 1)]).await;
    let token = first["resume_token"].as_str().unwrap();
    let (_ws, again) = connect(&server, Some((token, 1))).await;
    assert_eq!(again["resumed"], false);

    // A shutdown ends the sessions still waiting.
    let (mut waiting, _) = connect(&server, None).await;
    request(&mut waiting, "join", json!({"room": "team:s"})).await;
    drop(waiting);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let before = app.disconnects.lock().unwrap().len();
    server.shutdown_handle().shutdown();
    settle("the detached session ended at shutdown", true, || {
        app.disconnects
            .lock()
            .unwrap()
            .iter()
            .skip(before)
            .any(|r| r == "server_shutdown")
    })
    .await;
}
