//! The chat example as a library: the generated `chat` module (types,
//! handler trait, typed client), the [`Chat`] handler and the servers'
//! command-line flags ([`cli`]), so that tests and example programs can use
//! them (`chat-server` in `main.rs` serves them).
//!
//! ```no_run
//! use chat_example::{Chat, chat};
//! use socketspec_runtime::Server;
//!
//! let server = Server::builder(chat::service(Chat)).build();
//! # let _ = server;
//! ```

pub mod cli;
pub mod handler;

pub use handler::Chat;

socketspec_runtime::include_spec!("chat");
