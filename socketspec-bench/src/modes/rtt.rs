//! `rtt`: N connections, each keeping W `echo` events in flight.
//!
//! Every `echo` carries its send time (nanoseconds since the run began) as
//! its `id`; the `echo_reply` carries it back, so a round trip needs no
//! client-side bookkeeping. Replies that arrive together are handled
//! together and their follow-up `echo`s written with one flush.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow, bail};
use futures_util::{FutureExt, SinkExt, StreamExt};
use serde::Serialize;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

use super::{CONNECT_CONCURRENCY, Target, cpu_us_per};
use crate::client::{self, Envelope, REPLY_TIMEOUT, Ws};
use crate::stats::{Summary, per_second};

/// Options of an `rtt` run.
#[derive(Debug, Clone)]
pub struct RttOptions {
    /// Connections.
    pub connections: usize,
    /// `echo` events each connection keeps in flight.
    pub window: usize,
    /// How long to measure (ignored with `messages`).
    pub duration: Duration,
    /// Load before measuring starts (ignored with `messages`).
    pub warmup: Duration,
    /// Send exactly this many `echo`s per connection and measure them all,
    /// instead of running for `warmup + duration`.
    pub messages: Option<u64>,
    /// Bytes of `data` in each `echo`.
    pub data_bytes: usize,
}

/// What an `rtt` run measured.
#[derive(Debug, Clone, Serialize)]
pub struct RttReport {
    /// Connections.
    pub connections: usize,
    /// In flight per connection.
    pub window: usize,
    /// Round trips completed inside the measuring window.
    pub events: u64,
    /// Length of the measuring window, seconds.
    pub seconds: f64,
    /// `events / seconds`.
    pub events_per_sec: f64,
    /// Round-trip times.
    pub rtt: Summary,
    /// Round trips completed in total (warm-up included).
    pub total_events: u64,
    /// Server CPU time (user + system) over the measuring window, seconds.
    pub server_cpu_seconds: Option<f64>,
    /// Server CPU per round trip in the window, microseconds: the server's
    /// efficiency, independent of how fast the load generator is.
    pub server_cpu_us_per_event: Option<f64>,
}

/// When a connection may send, and which round trips count.
#[derive(Debug, Clone, Copy)]
struct Plan {
    epoch: Instant,
    measure_from: Instant,
    stop_at: Option<Instant>,
    budget: u64,
}

struct ConnResult {
    samples: Vec<u64>,
    total: u64,
}

/// Runs `rtt` against `target`.
pub async fn run(target: &Target, opts: &RttOptions) -> Result<RttReport> {
    if opts.connections == 0 || opts.window == 0 {
        bail!("rtt needs at least one connection and a window of at least 1");
    }
    let sockets =
        client::connect_ready_many(&target.url, opts.connections, CONNECT_CONCURRENCY).await?;

    let epoch = Instant::now();
    let plan = match opts.messages {
        Some(budget) => Plan {
            epoch,
            measure_from: epoch,
            stop_at: None,
            budget,
        },
        None => Plan {
            epoch,
            measure_from: epoch + opts.warmup,
            stop_at: Some(epoch + opts.warmup + opts.duration),
            budget: u64::MAX,
        },
    };
    let mut cpu_start = target.cpu_seconds();
    let data: Arc<str> = Arc::from("x".repeat(opts.data_bytes));
    let window = opts.window;
    let tasks: Vec<_> = sockets
        .into_iter()
        .map(|ws| {
            let data = Arc::clone(&data);
            tokio::spawn(async move { drive(ws, plan, window, &data).await })
        })
        .collect();
    let mut cpu_end = None;
    if let Some(stop_at) = plan.stop_at {
        tokio::time::sleep_until(plan.measure_from.into()).await;
        cpu_start = target.cpu_seconds();
        tokio::time::sleep_until(stop_at.into()).await;
        cpu_end = target.cpu_seconds();
    }
    let mut samples = Vec::new();
    let mut total = 0;
    for task in tasks {
        let result = task.await??;
        total += result.total;
        samples.extend(result.samples);
    }
    let finished = Instant::now();
    if plan.stop_at.is_none() {
        cpu_end = target.cpu_seconds();
    }
    let window_length = match plan.stop_at {
        Some(stop) => stop.duration_since(plan.measure_from),
        None => finished.duration_since(epoch),
    };
    let events = samples.len() as u64;
    Ok(RttReport {
        connections: opts.connections,
        window: opts.window,
        events,
        seconds: window_length.as_secs_f64(),
        events_per_sec: per_second(events, window_length),
        rtt: Summary::from_nanos(&mut samples),
        total_events: total,
        server_cpu_seconds: cpu_start.zip(cpu_end).map(|(s, e)| e - s),
        server_cpu_us_per_event: cpu_us_per(cpu_start, cpu_end, events),
    })
}

fn echo_text(seq: u64, data: &str, sent_ns: u64) -> Message {
    Message::Text(Utf8Bytes::from(format!(
        r#"{{"event":"echo","payload":{{"seq":{seq},"data":"{data}"}},"id":"{sent_ns}"}}"#
    )))
}

fn nanos_since(epoch: Instant, at: Instant) -> u64 {
    u64::try_from(at.duration_since(epoch).as_nanos()).unwrap_or(u64::MAX)
}

/// One connection's loop: keep `window` in flight until the plan says stop,
/// then collect the replies still outstanding.
async fn drive(mut ws: Ws, plan: Plan, window: usize, data: &str) -> Result<ConnResult> {
    let mut samples = Vec::new();
    let mut sent = 0u64;
    let mut received = 0u64;
    let can_send =
        |sent: u64, now: Instant| sent < plan.budget && plan.stop_at.is_none_or(|s| now < s);
    for _ in 0..window {
        let now = Instant::now();
        if !can_send(sent, now) {
            break;
        }
        ws.feed(echo_text(sent, data, nanos_since(plan.epoch, now)))
            .await?;
        sent += 1;
    }
    ws.flush().await?;
    while received < sent {
        let first = tokio::time::timeout(REPLY_TIMEOUT, ws.next())
            .await
            .map_err(|_| anyhow!("no echo_reply within {REPLY_TIMEOUT:?}"))?;
        let mut next = Some(first);
        while let Some(message) = next.take() {
            let message =
                message.ok_or_else(|| anyhow!("server closed the connection during rtt"))??;
            if let Message::Text(text) = message {
                let now = Instant::now();
                if let Some(sent_ns) = reply_sent_ns(text.as_str())? {
                    received += 1;
                    let sent_at = plan.epoch + Duration::from_nanos(sent_ns);
                    let counts =
                        sent_at >= plan.measure_from && plan.stop_at.is_none_or(|s| now <= s);
                    if counts {
                        samples.push(nanos_since(sent_at, now));
                    }
                    if can_send(sent, now) {
                        ws.feed(echo_text(sent, data, nanos_since(plan.epoch, now)))
                            .await?;
                        sent += 1;
                    }
                }
            }
            // Handle whatever else has already arrived before flushing.
            next = ws.next().now_or_never();
        }
        ws.flush().await?;
    }
    client::close(ws).await;
    Ok(ConnResult {
        samples,
        total: received,
    })
}

/// The send time carried by an `echo_reply`; `None` for other events
/// (`__connect__`, pings); an error for `__error__`.
fn reply_sent_ns(text: &str) -> Result<Option<u64>> {
    let envelope = Envelope::parse(text)?;
    if envelope.is_error() {
        bail!("server answered an echo with an error: {text}");
    }
    if envelope.event != "echo_reply" {
        return Ok(None);
    }
    let id = envelope
        .id
        .ok_or_else(|| anyhow!("echo_reply without the request's id: {text}"))?;
    id.parse()
        .map(Some)
        .map_err(|_| anyhow!("echo_reply with a foreign id: {text}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_send_time_back() {
        let ok = reply_sent_ns(r#"{"event":"echo_reply","payload":{"seq":1,"data":""},"id":"77"}"#);
        assert_eq!(ok.ok().flatten(), Some(77));
        let other = reply_sent_ns(r#"{"event":"__connect__","payload":{}}"#);
        assert_eq!(other.ok().flatten(), None);
        assert!(reply_sent_ns(r#"{"event":"__error__","payload":{}}"#).is_err());
    }
}
