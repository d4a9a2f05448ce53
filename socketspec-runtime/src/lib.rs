//! # socketspec-runtime
//!
//! The runtime of [socketspec], a schema-first WebSocket framework: one spec
//! file describes the events, their JSON Schema payloads, what each handler
//! emits and broadcasts to which rooms; `socketspec-codegen` turns it into
//! typed payloads and a handler trait at build time, and this crate runs it.
//!
//! It supplies the socket loop (tokio + tokio-tungstenite), the wire protocol
//! and its error envelope, payload validation, rooms and guards, middleware,
//! lifecycle hooks, sessions (heartbeat, idle timeout, max duration,
//! credential expiry and refresh), authentication (JWT, API key, custom),
//! origin checks, rate and payload limits, and graceful shutdown.
//!
//! ## Features
//! - `server` (default): the server side: HTTP front, connection loop,
//!   dispatch, rooms, auth;
//! - `client` (default): the protocol core of generated clients. A crate that
//!   only talks to a socketspec server depends on
//!   `socketspec-runtime = { default-features = false, features = ["client"] }`
//!   and generates its code with `Builder::build_server(false)`;
//! - `redis`: the Redis backend, for rooms and broadcasts across nodes;
//! - `axum`: `socketspec_runtime::axum::router` mounts a server's routes (WebSocket paths,
//!   docs, health, metrics) in an `axum::Router`.
//!
//! ## Layers
//! Each layer uses only the ones below it:
//! - [`transport`](Server): the HTTP front (upgrade, origins, auth, routes);
//! - the connection loop (`socket`): frames, limits, timers, system events,
//!   scheduling;
//! - dispatch ([`Call`], [`Middleware`], [`App`]): decode, validate, run the
//!   handler;
//! - rooms and the [`backend`]: membership and broadcasts, on one node or many;
//! - the foundation: [`Frame`], [`envelope`], [`Error`], [`protocol`].
//!
//! ## Using it
//! In `build.rs`, compile the spec; in the crate, include the generated
//! module and implement its `Handler` trait (and [`Hooks`], whose methods
//! all have defaults):
//!
//! ```text
//! socketspec_runtime::include_spec!("chat");
//!
//! struct Chat;
//! impl socketspec_runtime::Hooks for Chat {}
//! impl chat::Handler for Chat {
//!     async fn echo(&self, cx: chat::EchoCx<'_>, msg: chat::Echo) -> socketspec_runtime::Result<()> {
//!         cx.emit_echo_reply(chat::EchoReply { seq: msg.seq, data: msg.data })
//!     }
//! }
//! ```
//!
//! The pieces below are what generated code and servers use directly:
//!
//! ```
//! use socketspec_runtime::{ErrorCode, envelope};
//! use socketspec_runtime::config::ServerConfig;
//!
//! let frame = envelope::encode("echo_reply", &serde_json::json!({"seq": 1}), Some("a")).unwrap();
//! assert_eq!(frame.as_str(), r#"{"event":"echo_reply","payload":{"seq":1},"id":"a"}"#);
//! assert_eq!(ErrorCode::RoomNotFound.as_str(), "ROOM_NOT_FOUND");
//! assert_eq!(ServerConfig::default().limits.max_payload_size, 65_536);
//! ```
//!
//! [socketspec]: https://example.invalid/socketspec

#[cfg(feature = "server")]
pub mod auth;
#[cfg(feature = "axum")]
pub mod axum;
#[cfg(feature = "server")]
pub mod backend;
#[cfg(feature = "client")]
pub mod client;
#[cfg(feature = "server")]
pub mod config;
#[cfg(feature = "server")]
mod connection;
#[cfg(feature = "server")]
mod dispatch;
pub mod envelope;
pub mod error;
mod frame;
mod future;
#[cfg(feature = "server")]
mod hub;
#[cfg(feature = "server")]
mod identity;
#[cfg(feature = "server")]
mod mailbox;
#[cfg(feature = "server")]
pub mod meta;
#[cfg(feature = "server")]
pub mod metrics;
#[cfg(feature = "server")]
mod panic_report;
#[cfg(feature = "server")]
mod relay;
#[cfg(feature = "server")]
mod replay;
#[cfg(feature = "server")]
mod rooms;
#[cfg(feature = "server")]
mod sessions;
#[cfg(feature = "server")]
mod socket;
#[cfg(all(feature = "server", feature = "client"))]
pub mod testing;
#[cfg(feature = "server")]
mod transport;

/// The wire protocol's facts: system events, error codes, close codes,
/// disconnect reasons, envelope fields, the room-pattern grammar.
pub use socketspec_protocol as protocol;
pub use socketspec_protocol::{CloseCode, DisconnectReason, ErrorCode, SystemEvent};

#[cfg(feature = "server")]
pub use auth::{AuthBackend, HandshakeRequest};
#[cfg(feature = "server")]
pub use backend::Backend;
#[cfg(feature = "redis")]
pub use backend::RedisConfig;
#[cfg(feature = "server")]
pub use connection::Connection;
#[cfg(feature = "server")]
pub use dispatch::{
    App, Call, EventContext, Hooks, Middleware, Next, PayloadError, SchemaError, Violation,
};
pub use error::{AllowNobody, Error, OrHandlerError, Result};
pub use frame::Frame;
pub use future::BoxFuture;
#[cfg(feature = "server")]
pub use hub::{BuildError, ServerView};
#[cfg(feature = "server")]
pub use identity::Identity;
#[cfg(feature = "server")]
pub use rooms::{InvalidPattern, Push, Recipient, RoomMatch};
pub use socketspec_payload::{Integer, round_trip, same_json};
#[cfg(feature = "server")]
pub use transport::{Body, Health, HealthStatus, Refusal, Server, ServerBuilder, ShutdownHandle};

/// What generated code relies on, so user crates need not depend on it
/// directly. Not a public API: it changes with the code generator.
#[doc(hidden)]
pub mod __private {
    pub use serde;
    pub use serde_json;
    pub use socketspec_payload as payload;

    #[cfg(feature = "server")]
    pub use self::server::*;

    #[cfg(feature = "server")]
    mod server {
        use serde::Serialize;

        use crate::dispatch::EventContext;
        use crate::error::Result;

        /// Sends `event` to the sender of the event `cx` handles.
        pub fn emit<P: Serialize + ?Sized>(
            cx: &EventContext<'_>,
            event: &str,
            payload: &P,
        ) -> Result<()> {
            cx.emit(event, payload)
        }

        /// Broadcasts `event` to `room`.
        pub async fn broadcast<P: Serialize + ?Sized>(
            cx: &EventContext<'_>,
            room: &str,
            event: &str,
            payload: &P,
            exclude_sender: bool,
        ) -> Result<usize> {
            cx.broadcast(room, event, payload, exclude_sender).await
        }

        /// Pushes `event` to every member of `room`.
        pub async fn push_to_room<P: Serialize + ?Sized>(
            push: &crate::Push,
            room: &str,
            event: &str,
            payload: &P,
        ) -> Result<usize> {
            push.to_room(room, event, payload).await
        }

        /// Pushes `event` to a connection or a user.
        pub async fn push_to<P: Serialize + ?Sized>(
            recipient: &crate::Recipient<'_>,
            event: &str,
            payload: &P,
        ) -> Result<usize> {
            recipient.send(event, payload).await
        }

        /// Sends `event` to `conn` (a connection of this node).
        pub fn emit_to<P: Serialize + ?Sized>(
            conn: &crate::Connection,
            event: &str,
            payload: &P,
        ) -> Result<()> {
            conn.emit(event, payload)
        }
    }
}

/// Includes the code `socketspec_codegen` generated for a spec into the
/// current module, as `pub mod <name>`.
///
/// ```text
/// socketspec_runtime::include_spec!("chat"); // declares `pub mod chat`
/// ```
#[macro_export]
macro_rules! include_spec {
    ($name:literal) => {
        include!(concat!(env!("OUT_DIR"), "/", $name, ".rs"));
    };
}
