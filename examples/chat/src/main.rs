//! `chat-server`: the socketspec showcase (CHAT-EXAMPLE.md).
//!
//! ```text
//! cargo run --release -p chat-example --bin chat-server -- --docs
//! ```

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use socketspec_runtime::Server;

use chat_example::{chat, cli, handler};

#[tokio::main]
async fn main() -> ExitCode {
    let args = cli::Args::parse();
    let builder = match args.configure(Server::builder(chat::service(handler::Chat))) {
        Ok(builder) => builder,
        Err(message) => {
            eprintln!("chat-server: {message}");
            return ExitCode::from(2);
        }
    };
    let server = match builder.build() {
        Ok(server) => server,
        Err(e) => {
            eprintln!("chat-server: {e}");
            return ExitCode::FAILURE;
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
    match server.serve(listener, cli::shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("chat-server: {e}");
            ExitCode::FAILURE
        }
    }
}
