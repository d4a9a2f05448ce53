//! `idle`: K connections opened and held; the server's RSS before and after,
//! per connection.
//!
//! Each connection makes one `echo` round trip before it is counted, so the
//! server has fully set it up (buffers touched, room joined, tasks parked).

use std::time::{Duration, Instant};

use anyhow::Result;
use serde::Serialize;

use super::{CONNECT_CONCURRENCY, Target};
use crate::client;

/// Options of an `idle` run.
#[derive(Debug, Clone)]
pub struct IdleOptions {
    /// Connections to hold.
    pub connections: usize,
    /// How long to hold them before the RSS is read.
    pub settle: Duration,
}

/// What an `idle` run measured.
#[derive(Debug, Clone, Serialize)]
pub struct IdleReport {
    /// Connections held.
    pub connections: usize,
    /// The server's RSS before the first connection, KiB.
    pub rss_before_kib: u64,
    /// The server's RSS with every connection open, KiB.
    pub rss_held_kib: u64,
    /// `(held - before) / connections`, bytes.
    pub bytes_per_connection: f64,
    /// The server's RSS a moment after every connection closed, KiB.
    pub rss_after_close_kib: u64,
    /// The server's thread count with every connection open.
    pub server_threads: Option<u64>,
    /// How long opening them took, seconds.
    pub connect_seconds: f64,
}

/// Runs `idle` against `target` (its process id is required).
pub async fn run(target: &Target, opts: &IdleOptions) -> Result<IdleReport> {
    let rss_before_kib = target.require_rss_kib("idle")?;
    let start = Instant::now();
    let held =
        client::connect_ready_many(&target.url, opts.connections, CONNECT_CONCURRENCY).await?;
    let connect_seconds = start.elapsed().as_secs_f64();
    tokio::time::sleep(opts.settle).await;
    let rss_held_kib = target.require_rss_kib("idle")?;
    let server_threads = target.pid.and_then(crate::process::threads);
    drop(held);
    tokio::time::sleep(opts.settle.max(Duration::from_millis(500))).await;
    let rss_after_close_kib = target.require_rss_kib("idle")?;
    let grown = rss_held_kib.saturating_sub(rss_before_kib) as f64 * 1024.0;
    Ok(IdleReport {
        connections: opts.connections,
        rss_before_kib,
        rss_held_kib,
        bytes_per_connection: grown / opts.connections.max(1) as f64,
        rss_after_close_kib,
        server_threads,
        connect_seconds,
    })
}
