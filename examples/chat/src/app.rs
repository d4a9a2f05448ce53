//! The chat server as both binaries build it: namespace `/` (the chat spec)
//! and `/ops` (the ops spec), the flags' configuration, and the tick task.

use std::time::Duration;

use socketspec_runtime::Server;

use crate::cli::Args;
use crate::{Chat, Ops, chat, ops, ticker};

/// Builds the server the flags describe (not yet serving).
pub fn build(args: &Args) -> Result<Server, String> {
    let builder =
        Server::builder(chat::service(Chat::new(args.welcome))).namespace(ops::service(Ops));
    args.configure(builder)?.build().map_err(|e| e.to_string())
}

/// Starts what runs beside the connections: the tick task, when
/// `--tick-interval` asks for it.
pub fn start_background(server: &Server, args: &Args) -> Option<tokio::task::JoinHandle<()>> {
    if args.tick_interval == 0 {
        return None;
    }
    let push = chat::Push::new(server)?;
    Some(ticker::spawn(
        push,
        Duration::from_millis(args.tick_interval),
    ))
}
