//! `chat-server`: the socketspec showcase (docs/chat-example.md), on the
//! runtime's built-in HTTP front.
//!
//! ```text
//! cargo run --release -p chat-example --bin chat-server -- --docs
//! ```

use std::process::ExitCode;

use clap::Parser;

use chat_example::{app, cli};

#[tokio::main]
async fn main() -> ExitCode {
    let args = cli::Args::parse();
    let server = match app::build(&args) {
        Ok(server) => server,
        Err(message) => {
            eprintln!("chat-server: {message}");
            return ExitCode::from(2);
        }
    };
    // Before the `listening on` line: a client may signal right after it.
    let signal = cli::shutdown_signal();
    let listener = match app::listen(&server, &args).await {
        Ok(listener) => listener,
        Err(message) => {
            eprintln!("chat-server: {message}");
            return ExitCode::FAILURE;
        }
    };
    let background = app::start_background(&server, &args);
    let served = server.serve(listener, signal).await;
    if let Some(task) = background {
        task.abort();
    }
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("chat-server: {e}");
            ExitCode::FAILURE
        }
    }
}
