//! `chat-axum`: the same chat service as `chat-server`, mounted in an
//! `axum::Router` (WebSocket paths, docs, health and metrics through
//! `socketspec_runtime::axum::router`) beside two REST routes that share its
//! state, `GET /api/rooms` and `POST /api/announce` (docs/guide-runtime.md,
//! "Mounting in axum").
//!
//! ```text
//! cargo run --release -p chat-example --bin chat-axum -- --docs
//! ```

use std::process::ExitCode;

use chat_example::{app, cli, rest};

const NAME: &str = "chat-axum";

#[tokio::main]
async fn main() -> ExitCode {
    let args = cli::Args::parse_as(NAME);
    match run(&args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err((code, message)) => {
            eprintln!("{NAME}: {message}");
            ExitCode::from(code)
        }
    }
}

/// Serves until SIGINT or SIGTERM, then shuts down gracefully; the error
/// carries the exit code (2: bad flags, 1: could not serve).
async fn run(args: &cli::Args) -> Result<(), (u8, String)> {
    let server = app::build(args).map_err(|m| (2, m))?;
    let api = rest::routes(&server, args.jwt().map_err(|m| (2, m))?).map_err(|m| (2, m))?;
    // Any other path is answered by the service too, so that an unknown
    // path gets the very 404 `chat-server` gives.
    let fallback = server.clone();
    let router = socketspec_runtime::axum::router(server.clone())
        .merge(api)
        .fallback(move |request: axum::extract::Request| async move {
            fallback.handle(request).await.map(axum::body::Body::new)
        });
    // Connects the backend (Redis) before the first connection.
    server.start().await.map_err(|e| (1, e.to_string()))?;
    // Before the `listening on` line: a client may signal right after it.
    let signal = cli::shutdown_signal();
    let tcp = app::listen(&server, args).await.map_err(|m| (1, m))?;
    // TCP_NODELAY and the handshake timeout, as on the built-in front.
    let listener = socketspec_runtime::axum::listener(tcp, &server);
    let background = app::start_background(&server, args);
    let stop = server.shutdown_handle();
    let served = axum::serve(listener, router)
        .with_graceful_shutdown(async move {
            signal.await;
            // `__server_shutdown__` to every client at once; axum stops
            // accepting meanwhile.
            stop.shutdown();
        })
        .await;
    // Resolves once every connection closed with 1001 and its hooks ran.
    server.shutdown().await;
    if let Some(task) = background {
        task.abort();
    }
    served.map_err(|e| (1, e.to_string()))
}
