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

pub mod app;
pub mod auth;
pub mod backend;
pub mod call;
pub mod client;
pub mod close;
pub mod config;
pub mod connection;
mod dispatch;
mod docs;
pub mod envelope;
pub mod error;
pub mod identity;
pub mod meta;
pub mod middleware;
mod origin;
mod rate_limit;
pub mod rooms;
pub mod server;
mod session;
mod shared;
mod socket_loop;
pub mod testing;
mod validate;

pub use app::App;
pub use auth::{
    AnyOf, ApiKeyAuth, AuthBackend, AuthRejection, BoxFuture, HandshakeRequest, JwtAuth,
};
pub use backend::{Backend, BackendAdapter, BackendError, RedisConfig};
pub use call::{Call, EventContext};
pub use config::{RateLimit, SessionConfig, SocketConfig};
pub use connection::Connection;
pub use error::{Error, ErrorCode, Result};
pub use identity::Identity;
pub use meta::{AppMeta, EventMeta, RoomMeta};
pub use middleware::{Middleware, Next};
pub use rooms::{RoomMatch, RoomPattern};
pub use server::{BuildError, Health, Server, ServerBuilder, ShutdownHandle};
pub use validate::SchemaError;

/// Re-exports generated code relies on, so user crates need not depend on
/// them directly.
#[doc(hidden)]
pub mod __private {
    pub use serde;
    pub use serde_json;
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
