//! # socketspec-bench
//!
//! The measuring instruments of issue 7: a load generator that speaks
//! docs/protocol.md to any server following docs/chat-example.md (the `socketspec-bench`
//! binary), a raw tokio-tungstenite "floor" server doing the same JSON work
//! without a framework (the `raw-floor` binary), and criterion
//! micro-benchmarks of the hot path (`benches/`).
//!
//! Modes ([`modes`]):
//! - `rtt`: N connections, each keeping W `echo` events in flight;
//! - `fanout`: M members of one room and a sender's `send_message`s;
//! - `idle`: K connections held open, the server's RSS per connection;
//! - `churn`: connect + join + message + disconnect cycles;
//! - `detached`: members of one room lose their sockets without a close
//!   frame while broadcasts go on; the server's RSS per kept session.
//!
//! `suite` ([`suite`]) runs each mode against the chat server and the floor
//! alternately, with the same parameters, and prints a side-by-side table;
//! variants (the chat server with extra flags) join the alternation.
//!
//! Every run is bounded in time and count, and every server the tool starts
//! is stopped when the run ends.

pub mod client;
pub mod floor;
pub mod modes;
pub mod process;
pub mod stats;
pub mod suite;

/// Raises the soft `RLIMIT_NOFILE` to the hard limit (10,000 connections need
/// more than the usual 1,024 descriptors). Servers started by the tool
/// inherit the raised limit. Returns the new soft limit.
pub fn raise_fd_limit() -> anyhow::Result<u64> {
    let limit = rlimit::increase_nofile_limit(u64::MAX)?;
    Ok(limit)
}
