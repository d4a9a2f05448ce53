//! `detached`: what a session kept for a resume costs the server while
//! broadcasts keep arriving for it.
//!
//! K members join one room (one at a time, reading the `user_joined` flood
//! of the set-up until it has drained). With `preload`, a sender outside
//! the room first sends that many messages, which every member reads (more
//! than the server's resume buffer puts every connection in the steady
//! state of a room with broadcasts going on). Then, by default, every member's
//! socket is dropped *without* a close frame (the TCP stream is closed
//! under the WebSocket), which is how a connection is lost: a server with
//! resumption on keeps each session, a member of its rooms, queueing what
//! is sent to it. A sender then joins the room (its `room_joined` tells how
//! many members the room still counts: K + 1 when the sessions were kept,
//! 1 when they ended) and sends M `send_message`s, each acknowledged before
//! the next. The server's RSS growth from before the first connection to
//! after the messages, divided by K, is the cost per connection.
//!
//! With `keep` the members stay connected and read every message instead
//! (the same load on live connections). With `expiry_wait` the run then
//! waits for the resume window to pass and checks that the sessions ended
//! (a fresh join is alone in the room) and what memory came back.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use futures_util::StreamExt;
use serde::Serialize;
use tokio::sync::{Semaphore, mpsc, watch};
use tokio_tungstenite::tungstenite::Message;

use super::{CONNECT_CONCURRENCY, Target, cpu_us_per};
use crate::client::{self, REPLY_TIMEOUT, Ws};

/// Options of a `detached` run.
#[derive(Debug, Clone)]
pub struct DetachedOptions {
    /// Members (K).
    pub connections: usize,
    /// Messages the sender sends once the members are gone (M).
    pub messages: usize,
    /// Messages sent (and read by every member) before the drop.
    pub preload: usize,
    /// The bare room name.
    pub room: String,
    /// Bytes of text per message.
    pub text_bytes: usize,
    /// Keep the members connected (reading) instead of dropping them.
    pub keep: bool,
    /// How long to wait before each RSS reading.
    pub settle: Duration,
    /// After the run, wait this long (past the server's resume window) and
    /// check that the sessions ended and their memory came back.
    pub expiry_wait: Option<Duration>,
    /// How long the `user_joined` flood of the set-up may take to drain.
    pub setup_timeout: Duration,
}

/// What a `detached` run measured.
#[derive(Debug, Clone, Serialize)]
pub struct DetachedReport {
    /// Members (K).
    pub connections: usize,
    /// Messages sent to the room after the drop (M).
    pub messages: usize,
    /// Messages every member read before the drop.
    pub preload: usize,
    /// Whether the members stayed connected (`keep`) instead of dropping.
    pub kept_connected: bool,
    /// The server's RSS before the first connection, KiB.
    pub rss_before_kib: u64,
    /// With every member joined, the set-up's flood and the preload read, KiB.
    pub rss_joined_kib: u64,
    /// After the drop was noticed (`None` with `keep`), KiB.
    pub rss_dropped_kib: Option<u64>,
    /// After the M messages, KiB.
    pub rss_loaded_kib: u64,
    /// `(loaded - before) / K`, bytes: the cost per member under the load.
    pub bytes_per_connection: f64,
    /// `(loaded - joined) / K`, bytes: what the drop and the M messages
    /// changed per member.
    pub bytes_per_connection_since_joined: f64,
    /// Members the room counted when the sender joined, the sender
    /// included: K + 1 when every session was kept, 1 when all ended.
    pub members_seen_by_sender: u64,
    /// `members_seen_by_sender - 1`.
    pub sessions_in_room: u64,
    /// `/socket-health`'s open connections once the drop was noticed
    /// (0: every socket gone), when the server has that route.
    pub health_connections_after_drop: Option<u64>,
    /// `/socket-health`'s open connections with the sender connected.
    pub health_connections_loaded: Option<u64>,
    /// `new_message` frames the members read after the preload (K × M
    /// with `keep`, else 0).
    pub deliveries: u64,
    /// `user_joined` frames the members read while the room filled.
    pub user_joined_frames: u64,
    /// Connecting, joining and draining, seconds.
    pub setup_seconds: f64,
    /// Sending the M messages (acknowledged one by one), seconds.
    pub send_seconds: f64,
    /// Server CPU per message while they went out, microseconds.
    pub server_cpu_us_per_message: Option<f64>,
    /// With `expiry_wait`: members a fresh join counted afterwards (1: every
    /// session ended).
    pub members_after_expiry: Option<u64>,
    /// With `expiry_wait`: the server's RSS afterwards, KiB.
    pub rss_after_expiry_kib: Option<u64>,
    /// With `expiry_wait`: `/socket-health`'s (connections, rooms) afterwards.
    pub health_after_expiry: Option<(u64, u64)>,
}

/// What the members are told to do once the room is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Order {
    /// Keep reading.
    Read,
    /// Close the TCP stream without a close frame.
    Drop,
    /// Close with the closing handshake.
    Close,
}

/// Frames the members have read.
#[derive(Default)]
struct Counts {
    user_joined: AtomicU64,
    new_message: AtomicU64,
}

/// Runs `detached` against `target` (its process id is required).
pub async fn run(target: &Target, opts: &DetachedOptions) -> Result<DetachedReport> {
    if opts.connections == 0 {
        bail!("detached needs at least one connection");
    }
    let rss_before_kib = target.require_rss_kib("detached")?;
    let setup_start = Instant::now();
    let counts = Arc::new(Counts::default());
    let (order_tx, order_rx) = watch::channel(Order::Read);
    let members = spawn_members(target, opts, &counts, &order_rx).await;
    let members = match members {
        Ok(members) => members,
        Err(e) => {
            let _ = order_tx.send(Order::Close);
            return Err(e);
        }
    };
    let k = opts.connections as u64;
    let flood = k * k.saturating_sub(1) / 2;
    wait_for_count(&counts.user_joined, flood, opts.setup_timeout).await;
    let preloaded = k * opts.preload as u64;
    if opts.preload > 0 {
        let sent = send_all(target, &opts.room, opts.preload, opts.text_bytes, false).await;
        let read = sent.is_ok()
            && wait_for_count(&counts.new_message, preloaded, opts.setup_timeout).await;
        if !read {
            let _ = order_tx.send(Order::Close);
            sent.context("the preload")?;
            bail!(
                "the members read {} of the preload's {preloaded} messages",
                counts.new_message.load(Ordering::Acquire)
            );
        }
    }
    let setup_seconds = setup_start.elapsed().as_secs_f64();
    tokio::time::sleep(opts.settle).await;
    let rss_joined_kib = target.require_rss_kib("detached")?;

    let mut health_connections_after_drop = None;
    let mut rss_dropped_kib = None;
    let mut members = Some(members);
    if !opts.keep {
        let _ = order_tx.send(Order::Drop);
        if let Some(handles) = members.take() {
            join_members(handles).await?;
        }
        health_connections_after_drop = wait_for_open(&target.url, 0).await;
        tokio::time::sleep(opts.settle).await;
        rss_dropped_kib = Some(target.require_rss_kib("detached")?);
    }

    let outcome = send_all(target, &opts.room, opts.messages, opts.text_bytes, true).await;
    let (members_seen_by_sender, send_seconds, cpu) = match outcome {
        Ok(sent) => sent,
        Err(e) => {
            let _ = order_tx.send(Order::Close);
            return Err(e);
        }
    };
    if opts.keep {
        let expected = preloaded + k * opts.messages as u64;
        if !wait_for_count(&counts.new_message, expected, REPLY_TIMEOUT).await {
            let _ = order_tx.send(Order::Close);
            bail!(
                "the members read {} of {expected} messages within {REPLY_TIMEOUT:?}",
                counts.new_message.load(Ordering::Acquire)
            );
        }
    }
    tokio::time::sleep(opts.settle).await;
    let rss_loaded_kib = target.require_rss_kib("detached")?;
    let health_connections_loaded = client::health(&target.url).await.map(|(c, _)| c);
    let _ = order_tx.send(Order::Close);
    if let Some(handles) = members.take() {
        join_members(handles).await?;
    }

    let mut members_after_expiry = None;
    let mut rss_after_expiry_kib = None;
    let mut health_after_expiry = None;
    if let Some(wait) = opts.expiry_wait {
        tokio::time::sleep(wait).await;
        let mut ws = client::connect(&target.url).await?;
        members_after_expiry = Some(client::join_room(&mut ws, &opts.room).await?);
        client::close(ws).await;
        wait_for_open(&target.url, 0).await;
        tokio::time::sleep(opts.settle).await;
        rss_after_expiry_kib = Some(target.require_rss_kib("detached")?);
        health_after_expiry = client::health(&target.url).await;
    }

    let per_member = |kib: u64| kib as f64 * 1024.0 / opts.connections as f64;
    let grown = |from: u64| rss_loaded_kib as i64 - from as i64;
    Ok(DetachedReport {
        connections: opts.connections,
        messages: opts.messages,
        preload: opts.preload,
        kept_connected: opts.keep,
        rss_before_kib,
        rss_joined_kib,
        rss_dropped_kib,
        rss_loaded_kib,
        bytes_per_connection: per_member(rss_loaded_kib.saturating_sub(rss_before_kib)),
        bytes_per_connection_since_joined: grown(rss_joined_kib) as f64 * 1024.0
            / opts.connections as f64,
        members_seen_by_sender,
        sessions_in_room: members_seen_by_sender.saturating_sub(1),
        health_connections_after_drop,
        health_connections_loaded,
        deliveries: counts
            .new_message
            .load(Ordering::Acquire)
            .saturating_sub(preloaded),
        user_joined_frames: counts.user_joined.load(Ordering::Acquire),
        setup_seconds,
        send_seconds,
        server_cpu_us_per_message: cpu,
        members_after_expiry,
        rss_after_expiry_kib,
        health_after_expiry,
    })
}

type Members = Vec<tokio::task::JoinHandle<Result<()>>>;

/// Connects the K members (64 at a time) and joins them to the room one
/// at a time (two joins racing would each broadcast to the other, and the
/// set-up's frame count would be unknowable); each then reads until told
/// otherwise.
async fn spawn_members(
    target: &Target,
    opts: &DetachedOptions,
    counts: &Arc<Counts>,
    orders: &watch::Receiver<Order>,
) -> Result<Members> {
    let (joined_tx, mut joined_rx) = mpsc::channel::<Result<()>>(opts.connections);
    let gate = Arc::new(Semaphore::new(CONNECT_CONCURRENCY));
    let join_turn = Arc::new(tokio::sync::Mutex::new(()));
    let mut members = Vec::with_capacity(opts.connections);
    for _ in 0..opts.connections {
        let permit = Arc::clone(&gate).acquire_owned().await?;
        let url = target.url.clone();
        let room = opts.room.clone();
        let counts = Arc::clone(counts);
        let joined = joined_tx.clone();
        let orders = orders.clone();
        let join_turn = Arc::clone(&join_turn);
        members.push(tokio::spawn(async move {
            let setup = async {
                let mut ws = client::connect(&url).await?;
                let _turn = join_turn.lock().await;
                let (_, early) = client::join_room_counting(&mut ws, &room).await?;
                counts.user_joined.fetch_add(early, Ordering::Relaxed);
                Ok::<_, anyhow::Error>(ws)
            }
            .await;
            drop(permit);
            match setup {
                Ok(ws) => {
                    let _ = joined.send(Ok(())).await;
                    member(ws, &counts, orders).await
                }
                Err(e) => {
                    let _ = joined.send(Err(anyhow!("{e:#}"))).await;
                    Err(e)
                }
            }
        }));
    }
    drop(joined_tx);
    for _ in 0..opts.connections {
        match joined_rx.recv().await {
            Some(Ok(())) => {}
            Some(Err(e)) => return Err(e.context("a member could not join")),
            None => bail!("the members ended before joining"),
        }
    }
    Ok(members)
}

async fn join_members(members: Members) -> Result<()> {
    for handle in members {
        handle.await??;
    }
    Ok(())
}

/// One member: reads (counting `user_joined` and `new_message`) until it is
/// told to drop its socket or close it.
async fn member(mut ws: Ws, counts: &Counts, mut orders: watch::Receiver<Order>) -> Result<()> {
    loop {
        let message = tokio::select! {
            message = ws.next() => message,
            changed = orders.changed() => {
                let order = if changed.is_ok() { *orders.borrow_and_update() } else { Order::Close };
                match order {
                    Order::Read => continue,
                    // The TCP stream closes under the WebSocket: no close frame.
                    Order::Drop => drop(ws),
                    Order::Close => client::close(ws).await,
                }
                return Ok(());
            }
        };
        let Some(message) = message else {
            bail!("the server closed a member's connection");
        };
        let Message::Text(text) = message? else {
            continue;
        };
        let text = text.as_str();
        if text.contains("\"user_joined\"") {
            counts.user_joined.fetch_add(1, Ordering::Relaxed);
        } else if text.contains("\"new_message\"") {
            counts.new_message.fetch_add(1, Ordering::Relaxed);
        } else if text.contains("\"__error__\"") || text.contains("\"__disconnect__\"") {
            bail!("a member got {text}");
        }
    }
}

/// Waits until `counter` reaches `expected` (`true`), or until it has not
/// moved for 2 s or `timeout` passed (`false`).
async fn wait_for_count(counter: &AtomicU64, expected: u64, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    let mut last_seen = u64::MAX;
    let mut quiet_since = Instant::now();
    while Instant::now() < deadline {
        let seen = counter.load(Ordering::Acquire);
        if seen >= expected {
            return true;
        }
        if seen != last_seen {
            last_seen = seen;
            quiet_since = Instant::now();
        } else if quiet_since.elapsed() > Duration::from_secs(2) {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

/// Waits (up to 30 s) until `/socket-health` reports at most `open`
/// connections; returns the last count, or `None` (after 1 s) when the
/// server has no such route.
async fn wait_for_open(url: &str, open: u64) -> Option<u64> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let Some((connections, _)) = client::health(url).await else {
            tokio::time::sleep(Duration::from_secs(1)).await;
            return None;
        };
        if connections <= open || Instant::now() >= deadline {
            return Some(connections);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A sender: joins `room` when `join` (returning the members it counted,
/// else 0), sends `messages` messages and waits for each `message_ack`
/// before the next. Returns (members seen, seconds, server CPU per message).
async fn send_all(
    target: &Target,
    room: &str,
    messages: usize,
    text_bytes: usize,
    join: bool,
) -> Result<(u64, f64, Option<f64>)> {
    let mut ws = client::connect(&target.url).await?;
    let members = if join {
        client::join_room(&mut ws, room)
            .await
            .context("the sender's join")?
    } else {
        0
    };
    let padding = "x".repeat(text_bytes.saturating_sub(8));
    let cpu_start = target.cpu_seconds();
    let start = Instant::now();
    for k in 0..messages {
        client::send(
            &mut ws,
            format!(
                r#"{{"event":"send_message","payload":{{"room":"{room}","text":"m{k} {padding}"}},"id":"s{k}"}}"#
            ),
        )
        .await?;
        client::wait_for(&mut ws, "message_ack")
            .await
            .with_context(|| format!("message {k}"))?;
    }
    let seconds = start.elapsed().as_secs_f64();
    let cpu_end = target.cpu_seconds();
    client::close(ws).await;
    Ok((
        members,
        seconds,
        cpu_us_per(cpu_start, cpu_end, messages as u64),
    ))
}
