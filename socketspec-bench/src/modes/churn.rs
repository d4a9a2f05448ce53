//! `churn`: connect + `join_room` + `send_message` + disconnect cycles, run
//! by a few concurrent workers; then a check that every join was undone.
//!
//! The check: a fresh client's `join_room` of the same room must report
//! `members: 1` (the room emptied and was removed), and, when the server
//! has a `/socket-health` route, its open connections and non-empty rooms
//! must drop back to zero. The server's RSS is read before, half-way and at
//! the end: the second half's growth is what a leak would show.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde::Serialize;

use super::{Target, cpu_us_per};
use crate::client;

/// Options of a `churn` run.
#[derive(Debug, Clone)]
pub struct ChurnOptions {
    /// Cycles in all.
    pub cycles: usize,
    /// Cycles running at once.
    pub concurrency: usize,
    /// The bare room name every cycle joins.
    pub room: String,
}

/// What a `churn` run measured.
#[derive(Debug, Clone, Serialize)]
pub struct ChurnReport {
    /// Cycles completed.
    pub cycles: usize,
    /// Cycles running at once.
    pub concurrency: usize,
    /// Time for all cycles, seconds.
    pub seconds: f64,
    /// `cycles / seconds`.
    pub cycles_per_sec: f64,
    /// Members a fresh client's `join_room` reported afterwards (1 = clean).
    pub members_after: u64,
    /// `members_after - 1`: joins that were not undone.
    pub leftover_members: u64,
    /// `/socket-health`'s open connections afterwards, when the server has it.
    pub health_connections_after: Option<u64>,
    /// `/socket-health`'s non-empty rooms afterwards, when the server has it.
    pub health_rooms_after: Option<u64>,
    /// The server's RSS before the first cycle, KiB.
    pub rss_start_kib: Option<u64>,
    /// The server's RSS after half the cycles, KiB.
    pub rss_mid_kib: Option<u64>,
    /// The server's RSS after every cycle, KiB.
    pub rss_end_kib: Option<u64>,
    /// `rss_end - rss_mid`, KiB (a leak grows it; noise is a few hundred KiB).
    pub rss_growth_second_half_kib: Option<i64>,
    /// Server CPU per cycle, microseconds.
    pub server_cpu_us_per_cycle: Option<f64>,
}

/// One cycle: connect, join, send a message and wait for its ack, close.
async fn cycle(url: &str, room: &str, n: usize) -> Result<()> {
    let mut ws = client::connect(url).await?;
    client::join_room(&mut ws, room).await?;
    client::send(
        &mut ws,
        format!(
            r#"{{"event":"send_message","payload":{{"room":"{room}","text":"churn {n}"}},"id":"m{n}"}}"#
        ),
    )
    .await?;
    client::wait_for(&mut ws, "message_ack").await?;
    client::close(ws).await;
    Ok(())
}

/// Runs `count` cycles on `concurrency` workers.
async fn run_cycles(url: &str, room: &str, count: usize, concurrency: usize) -> Result<()> {
    let next = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..concurrency.clamp(1, count.max(1)))
        .map(|_| {
            let next = Arc::clone(&next);
            let url = url.to_owned();
            let room = room.to_owned();
            tokio::spawn(async move {
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= count {
                        return Ok::<_, anyhow::Error>(());
                    }
                    cycle(&url, &room, n)
                        .await
                        .with_context(|| format!("churn cycle {n}"))?;
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await??;
    }
    Ok(())
}

/// Runs `churn` against `target`.
pub async fn run(target: &Target, opts: &ChurnOptions) -> Result<ChurnReport> {
    if opts.cycles == 0 {
        bail!("churn needs at least one cycle");
    }
    let rss_start_kib = target.rss_kib();
    let half = opts.cycles / 2;
    let cpu_start = target.cpu_seconds();
    let start = Instant::now();
    run_cycles(&target.url, &opts.room, half, opts.concurrency).await?;
    let first_half = start.elapsed();
    let rss_mid_kib = target.rss_kib();
    let resume = Instant::now();
    run_cycles(
        &target.url,
        &opts.room,
        opts.cycles - half,
        opts.concurrency,
    )
    .await?;
    let elapsed = first_half + resume.elapsed();
    let cpu_end = target.cpu_seconds();

    // Every join undone: a fresh member is alone in the room.
    let mut ws = client::connect(&target.url).await?;
    let members_after = client::join_room(&mut ws, &opts.room).await?;
    client::close(ws).await;

    let mut health = client::health(&target.url).await;
    if health.is_some() {
        let deadline = Instant::now() + Duration::from_secs(5);
        while health.is_some_and(|(connections, rooms)| connections + rooms > 0)
            && Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
            health = client::health(&target.url).await;
        }
    } else {
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let rss_end_kib = target.rss_kib();
    let growth = match (rss_mid_kib, rss_end_kib) {
        (Some(mid), Some(end)) => Some(end as i64 - mid as i64),
        _ => None,
    };
    Ok(ChurnReport {
        cycles: opts.cycles,
        concurrency: opts.concurrency,
        seconds: elapsed.as_secs_f64(),
        cycles_per_sec: crate::stats::per_second(opts.cycles as u64, elapsed),
        members_after,
        leftover_members: members_after.saturating_sub(1),
        health_connections_after: health.map(|(c, _)| c),
        health_rooms_after: health.map(|(_, r)| r),
        rss_start_kib,
        rss_mid_kib,
        rss_end_kib,
        rss_growth_second_half_kib: growth,
        server_cpu_us_per_cycle: cpu_us_per(cpu_start, cpu_end, opts.cycles as u64),
    })
}
