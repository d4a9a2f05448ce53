//! End-to-end test harness for socketspec.
//!
//! The tests in `tests/tests/*.rs` drive the chat example (`examples/chat`,
//! binary `chat-server`) as a real process over real WebSockets, and check
//! it against the wire protocol (docs/protocol.md) and the chat example's
//! contract. This crate holds what they share, one module per concern:
//!
//! - [`artifacts`]: the workspace, the target directory and profile of the
//!   running tests, and the binaries they run (built when missing);
//! - [`server`]: [`ChatServer`], the server process (start on port 0, the
//!   `listening on` line, stderr, signals, kill on drop), of either binary
//!   ([`Front`]: `chat-server` or `chat-axum`);
//! - [`client`]: [`Client`], the project's own `RawClient` with messages as
//!   JSON envelopes and bounded waits, under a [`wire_check`] of every frame
//!   the server sends;
//! - [`raw_ws`]: [`RawWs`](raw_ws::RawWs), a byte-level WebSocket client for
//!   tests that must misbehave;
//! - [`http`]: plain HTTP over hyper-util's client;
//! - [`observe`]: `/socket-health` and `/metrics`; [`host`]: memory and
//!   file limits; [`bystander`]: latency of a well-behaved client;
//! - [`jwt`]: test tokens; [`wait`]: polling instead of sleeping;
//! - [`proxy`]: a TCP forwarder whose connections a test can cut;
//!   [`seq_client`]: a client that checks `seq` and resumes.
//!
//! Every wait is bounded; nothing here blocks forever.

pub mod artifacts;
pub mod bystander;
pub mod client;
mod error;
pub mod host;
pub mod http;
pub mod jwt;
pub mod observe;
pub mod proxy;
pub mod raw_ws;
pub mod redis;
pub mod seq_client;
pub mod server;
pub mod wait;
pub mod wire_check;

pub use artifacts::{chat_server_binary, target_dir, workspace_root};
pub use client::{Client, DEFAULT_TIMEOUT, assert_error, event_of};
pub use error::{Error, Result};
pub use http::{HttpResponse, http_get, http_post};
pub use jwt::{mint_jwt, mint_jwt_claims, unix_now};
pub use server::{ChatServer, Front, Signal};
pub use socketspec_runtime::client::ClientOptions;
