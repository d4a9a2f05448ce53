//! The chat example as a library: the generated `chat` module (types,
//! handler trait, typed client) and the [`Chat`] handler, so that tests and
//! example programs can use them (`chat-server` in `main.rs` serves them).
//!
//! ```no_run
//! use chat_example::{Chat, chat};
//! use socketspec_runtime::{Server, SocketConfig};
//!
//! let server = Server::new(chat::service(Chat), SocketConfig::default());
//! # let _ = server;
//! ```

pub mod handler;

pub use handler::Chat;

socketspec_runtime::include_spec!("chat");
