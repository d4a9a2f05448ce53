//! A panic in any application hook (`on_connect`, `on_disconnect`,
//! `on_room_join`, `on_room_leave`, `on_error`, a room guard) is caught
//! like a handler's: the client gets an error envelope or a clean close,
//! the connection leaves every room, and the server serves on.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod support;

use std::future::Future;
use std::sync::Arc;

use serde_json::json;
use socketspec_runtime::__private::emit;
use socketspec_runtime::config::SessionConfig;
use socketspec_runtime::meta::{AppMeta, EventMeta, RoomMeta};
use socketspec_runtime::{
    App, Call, Connection, DisconnectReason, Error, Hooks, Result, RoomMatch, Server,
};
use support::{Ws, connect_in_process, next_json, request, rooms_settle};

const OBJECT: &str = r#"{"type":"object"}"#;

static EVENTS: [EventMeta; 3] = [
    EventMeta {
        name: "join",
        ordered: false,
        executor: false,
        payload_schema: OBJECT,
        type_checked: false,
    },
    EventMeta {
        name: "leave",
        ordered: true,
        executor: false,
        payload_schema: OBJECT,
        type_checked: false,
    },
    EventMeta {
        name: "boom",
        ordered: false,
        executor: false,
        payload_schema: OBJECT,
        type_checked: false,
    },
];

static ROOMS: [RoomMeta; 2] = [
    RoomMeta {
        pattern: "team:{name}",
        is_static: false,
        guarded: false,
        max_members: None,
    },
    RoomMeta {
        pattern: "vip:{name}",
        is_static: false,
        guarded: true,
        max_members: None,
    },
];

static META: AppMeta = AppMeta {
    title: "panics",
    version: "1",
    namespace: "/",
    events: &EVENTS,
    rooms: &ROOMS,
    spec_json: None,
    docs_html: None,
    asyncapi_json: None,
    schema_defs: "",
};

/// Its hooks panic when the connection's `?panic=` names them.
struct Panicky;

fn panics_in(conn: &Connection, hook: &str) -> bool {
    conn.handshake().query_param("panic") == Some(hook)
}

impl App for Panicky {
    type Hooks = Self;

    fn meta(&self) -> &'static AppMeta {
        &META
    }

    fn hooks(&self) -> &Self {
        self
    }

    #[allow(clippy::manual_async_fn)]
    fn dispatch(
        _this: &Arc<Self>,
        call: Call,
    ) -> impl Future<Output = Result<()>> + Send + 'static + use<> {
        async move {
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
                "leave" => {
                    let members = cx.leave(&room).await?;
                    emit(&cx, "left", &json!({"members": members}))
                }
                _ => Err(Error::handler("boom")),
            }
        }
    }

    async fn guard(&self, conn: &Connection, _room: &RoomMatch<'_>) -> bool {
        assert!(!panics_in(conn, "guard"), "guard panics");
        true
    }
}

impl Hooks for Panicky {
    async fn on_connect(&self, conn: &Connection) -> Result<()> {
        conn.join("team:connect").await?;
        assert!(!panics_in(conn, "connect"), "on_connect panics");
        Ok(())
    }

    async fn on_disconnect(&self, conn: &Connection, _reason: &DisconnectReason) {
        assert!(!panics_in(conn, "disconnect"), "on_disconnect panics");
    }

    async fn on_error(&self, conn: &Connection, _event: &str, _error: &Error) {
        assert!(!panics_in(conn, "error"), "on_error panics");
    }

    async fn on_room_join(&self, conn: &Connection, _room: &str) {
        assert!(!panics_in(conn, "room_join"), "on_room_join panics");
    }

    async fn on_room_leave(&self, conn: &Connection, _room: &str) {
        assert!(!panics_in(conn, "room_leave"), "on_room_leave panics");
    }
}

fn server() -> Server {
    Server::builder(Panicky)
        .session(SessionConfig::without_timers())
        .build()
        .unwrap()
}

async fn connect(server: &Server, panic: &str) -> Ws {
    let query = vec![("panic".to_owned(), panic.to_owned())];
    connect_in_process(server, query).await.0
}

#[tokio::test]
async fn a_panicking_on_connect_closes_with_1011_and_leaves_no_member() {
    let server = server();
    let mut ws = connect(&server, "connect").await;
    let error = next_json(&mut ws).await.unwrap();
    assert_eq!(error["payload"]["code"], "HANDLER_ERROR", "{error}");
    assert!(
        !error.to_string().contains("panics"),
        "panic text leaked: {error}"
    );
    while next_json(&mut ws).await.is_some() {}
    rooms_settle(&server, &[]).await;
}

#[tokio::test]
async fn panicking_room_hooks_and_on_disconnect_leave_no_ghost() {
    let server = server();
    for hook in ["room_join", "room_leave", "disconnect"] {
        let mut ws = connect(&server, hook).await;
        let joined = request(&mut ws, "join", json!({"room": "team:a"})).await;
        assert_eq!(joined["payload"]["members"], 1, "{hook}: {joined}");
        let left = request(&mut ws, "leave", json!({"room": "team:a"})).await;
        assert_eq!(left["payload"]["members"], 0, "{hook}: {left}");
        request(&mut ws, "join", json!({"room": "team:b"})).await;
        ws.close(None).await.unwrap();
        while next_json(&mut ws).await.is_some() {}
        rooms_settle(&server, &[]).await;
    }
    // A later joiner counts only itself.
    let mut ws = connect(&server, "").await;
    let joined = request(&mut ws, "join", json!({"room": "team:b"})).await;
    assert_eq!(joined["payload"]["members"], 1, "{joined}");
}

#[tokio::test]
async fn a_panicking_guard_refuses_and_a_panicking_on_error_still_answers() {
    let server = server();
    let mut ws = connect(&server, "guard").await;
    let refused = request(&mut ws, "join", json!({"room": "vip:x"})).await;
    assert_eq!(refused["payload"]["code"], "PERMISSION_ERROR", "{refused}");
    let joined = request(&mut ws, "join", json!({"room": "team:x"})).await;
    assert_eq!(joined["event"], "joined", "{joined}");

    let mut ws = connect(&server, "error").await;
    let failed = request(&mut ws, "boom", json!({})).await;
    assert_eq!(failed["payload"]["code"], "HANDLER_ERROR", "{failed}");
    let again = request(&mut ws, "boom", json!({})).await;
    assert_eq!(again["payload"]["code"], "HANDLER_ERROR", "{again}");
}
