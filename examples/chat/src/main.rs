//! `chat-server`: the socketspec showcase (docs/chat-example.md), on the
//! runtime's built-in HTTP front.
//!
//! ```text
//! cargo run --release -p chat-example --bin chat-server -- --docs
//! ```

use std::io::Write;
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
    let listener = match tokio::net::TcpListener::bind(&args.bind).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("chat-server: cannot listen on {}: {e}", args.bind);
            return ExitCode::FAILURE;
        }
    };
    let addr = match listener.local_addr() {
        Ok(addr) => addr,
        Err(e) => {
            eprintln!("chat-server: {e}");
            return ExitCode::FAILURE;
        }
    };
    let ws_path = server.config().http.ws_path.clone();
    let mut stdout = std::io::stdout();
    let _ = writeln!(stdout, "listening on ws://{addr}{ws_path}");
    let _ = stdout.flush();
    let background = app::start_background(&server, &args);
    let served = server.serve(listener, cli::shutdown_signal()).await;
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
