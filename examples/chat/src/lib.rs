//! The chat example as a library: the generated `chat` and `ops` modules
//! (types, handler traits, typed push API and clients), their handlers
//! ([`Chat`], [`Ops`]), the `tick` task ([`ticker`]), the servers'
//! command-line flags ([`cli`]) and `chat-axum`'s REST routes ([`rest`]), so
//! that tests and example programs can use them (`chat-server` in `main.rs`
//! serves them on the built-in front, `chat-axum` in `src/bin` inside an
//! `axum::Router`).
//!
//! ```no_run
//! use chat_example::{Chat, chat};
//! use socketspec_runtime::Server;
//!
//! let server = Server::builder(chat::service(Chat::default())).build();
//! # let _ = server;
//! ```

// The servers' allocator: jemalloc, whose background threads return freed
// memory to the system (glibc's malloc kept 110 MiB after 10,000
// connections closed; jemalloc gives all but 6 MiB back), at the same
// throughput (docs/benchmarks.md, "Allocators"). The runtime itself leaves
// the choice to the application.
#[cfg(feature = "jemalloc")]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

pub mod app;
pub mod cli;
pub mod handler;
pub mod ops_handler;
pub mod rest;
pub mod ticker;

pub use handler::Chat;

/// docs/guide-runtime.md, whose Rust snippets run as this crate's doctests.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/guide-runtime.md")]
pub struct GuideRuntime;

/// docs/spec-format.md: its Rust snippets use the chat spec's generated
/// module and run as this crate's doctests.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/spec-format.md")]
pub struct SpecFormat;

/// docs/multi-node.md: its Rust snippets run as this crate's doctests.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/multi-node.md")]
pub struct MultiNode;
pub use ops_handler::Ops;

socketspec_runtime::include_spec!("chat");
socketspec_runtime::include_spec!("ops");
