//! `raw-floor`: the benchmark yardstick, a minimal tokio-tungstenite chat
//! server with no framework (see `socketspec_bench::floor`).
//!
//! ```text
//! target/release/raw-floor --bind 127.0.0.1:0
//! listening on ws://127.0.0.1:40123/ws
//! ```

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Parser;
use socketspec_bench::floor::{Floor, FloorConfig};
use tokio::net::TcpListener;
use tokio::signal::unix::{SignalKind, signal};

/// A raw tokio-tungstenite chat server: the floor socketspec is measured against.
#[derive(Debug, Parser)]
#[command(name = "raw-floor", version, about)]
struct Args {
    /// Listen address.
    #[arg(long, default_value = "127.0.0.1:8080")]
    bind: String,
    /// Per-connection read buffer, bytes.
    #[arg(long, default_value_t = 4 * 1024)]
    read_buffer: usize,
    /// Per-connection write buffer, bytes.
    #[arg(long, default_value_t = 8 * 1024)]
    write_buffer: usize,
    /// Outbound frames queued per connection before it is cut off.
    #[arg(long, default_value_t = 1024)]
    queue: usize,
}

async fn run(args: Args) -> Result<()> {
    // 10,000 connections need more descriptors than the usual 1,024.
    let _ = socketspec_bench::raise_fd_limit();
    let listener = TcpListener::bind(&args.bind)
        .await
        .with_context(|| format!("cannot listen on {}", args.bind))?;
    let addr = listener.local_addr()?;
    let mut stdout = std::io::stdout();
    writeln!(stdout, "listening on ws://{addr}/ws")?;
    stdout.flush()?;
    let mut term = signal(SignalKind::terminate())?;
    let shutdown = async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    };
    let floor = Floor::new(FloorConfig {
        read_buffer: args.read_buffer,
        write_buffer: args.write_buffer,
        queue: args.queue,
    });
    floor.serve(listener, shutdown).await;
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("raw-floor: {e:#}");
            ExitCode::FAILURE
        }
    }
}
