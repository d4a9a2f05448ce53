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
//!   dispatch, rooms, auth, backends;
//! - `client` (default): the protocol core of generated clients. A crate that
//!   only talks to a socketspec server depends on
//!   `socketspec-runtime = { default-features = false, features = ["client"] }`
//!   and generates its code with `Builder::server(false)`.
//!
//! ## Layers
//! - transport: [`server`] (HTTP upgrade, origins, auth, connection cap);
//! - connection loop: `socket_loop` (frames, limits, timers, outbound queue);
//! - dispatch: [`call`], [`middleware`], `dispatch` (decode, validate, run);
//! - rooms: [`rooms`], [`backend`].
//!
//! ## Using it
//! In `build.rs`, compile the spec; in the crate, include the generated
//! module and implement its `Handler` trait:
//!
//! ```text
//! socketspec_runtime::include_spec!("chat");
//!
//! struct Chat;
//! impl chat::Handler for Chat {
//!     async fn echo(&self, cx: chat::EchoCx<'_>, msg: chat::Echo) -> socketspec_runtime::Result<()> {
//!         cx.emit_echo_reply(chat::EchoReply { seq: msg.seq, data: msg.data }).await
//!     }
//! }
//! ```
//!
//! The pieces below are what generated code and servers use directly:
//!
//! ```
//! use socketspec_runtime::{ErrorCode, SocketConfig, envelope};
//!
//! let frame = envelope::encode("echo_reply", &serde_json::json!({"seq": 1}), Some("a")).unwrap();
//! assert_eq!(frame.as_str(), r#"{"event":"echo_reply","payload":{"seq":1},"id":"a"}"#);
//! assert_eq!(ErrorCode::RoomNotFound.as_str(), "ROOM_NOT_FOUND");
//! assert_eq!(SocketConfig::default().max_payload_size, 65_536);
//! ```
//!
//! [socketspec]: https://example.invalid/socketspec

#[cfg(feature = "server")]
pub mod app;
#[cfg(feature = "server")]
pub mod auth;
#[cfg(feature = "server")]
pub mod backend;
#[cfg(feature = "server")]
pub mod call;
#[cfg(feature = "client")]
pub mod client;
pub mod close;
#[cfg(feature = "server")]
pub mod config;
#[cfg(feature = "server")]
pub mod connection;
#[cfg(feature = "server")]
mod dispatch;
#[cfg(feature = "server")]
mod docs;
pub mod envelope;
pub mod error;
#[cfg(feature = "server")]
mod event_table;
#[cfg(feature = "server")]
pub mod identity;
#[cfg(feature = "server")]
pub mod meta;
#[cfg(feature = "server")]
pub mod metrics;
#[cfg(feature = "server")]
pub mod middleware;
#[cfg(feature = "server")]
mod origin;
#[cfg(feature = "server")]
mod outbox;
#[cfg(feature = "server")]
mod rate_limit;
#[cfg(feature = "server")]
pub mod rooms;
#[cfg(feature = "server")]
pub mod server;
#[cfg(feature = "server")]
mod session;
#[cfg(feature = "server")]
mod shared;
#[cfg(feature = "server")]
mod socket_loop;
#[cfg(all(feature = "server", feature = "client"))]
pub mod testing;
#[cfg(feature = "server")]
mod validate;

#[cfg(feature = "server")]
pub use app::App;
#[cfg(feature = "server")]
pub use auth::{
    AnyOf, ApiKeyAuth, AuthBackend, AuthRejection, BoxFuture, HandshakeRequest, JwtAuth,
};
#[cfg(feature = "server")]
pub use backend::{Backend, BackendAdapter, BackendError, RedisConfig};
#[cfg(feature = "server")]
pub use call::{Call, EventContext};
#[cfg(feature = "server")]
pub use config::{RateLimit, SessionConfig, SocketConfig};
#[cfg(feature = "server")]
pub use connection::Connection;
pub use error::{Error, ErrorCode, Result};
#[cfg(feature = "server")]
pub use identity::Identity;
#[cfg(feature = "server")]
pub use meta::{AppMeta, EventMeta, RoomMeta};
#[cfg(feature = "server")]
pub use middleware::{Middleware, Next};
#[cfg(feature = "server")]
pub use rooms::{RoomMatch, RoomPattern};
#[cfg(feature = "server")]
pub use server::{BuildError, Health, Server, ServerBuilder, ShutdownHandle};
pub use socketspec_payload::{Integer, round_trip, same_json};
#[cfg(feature = "server")]
pub use validate::SchemaError;

/// Re-exports generated code relies on, so user crates need not depend on
/// them directly.
#[doc(hidden)]
pub mod __private {
    pub use serde;
    pub use serde_json;
    pub use socketspec_payload as payload;
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
