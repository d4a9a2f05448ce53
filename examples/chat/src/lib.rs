//! The chat example as a library: the generated `chat` and `ops` modules
//! (types, handler traits, typed push API and clients), their handlers
//! ([`Chat`], [`Ops`]), the `tick` task ([`ticker`]) and the servers'
//! command-line flags ([`cli`]), so that tests and example programs can use
//! them (`chat-server` in `main.rs` serves them).
//!
//! ```no_run
//! use chat_example::{Chat, chat};
//! use socketspec_runtime::Server;
//!
//! let server = Server::builder(chat::service(Chat::default())).build();
//! # let _ = server;
//! ```

pub mod app;
pub mod cli;
pub mod handler;
pub mod ops_handler;
pub mod ticker;

pub use handler::Chat;
pub use ops_handler::Ops;

socketspec_runtime::include_spec!("chat");
socketspec_runtime::include_spec!("ops");
