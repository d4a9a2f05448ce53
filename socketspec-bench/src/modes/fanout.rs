//! `fanout`: M members of one room and a sender (not a member) that sends
//! `send_message`s to it, keeping `window` broadcasts in flight (1 by
//! default: each broadcast is measured on an otherwise idle server).
//!
//! For each message the run records the time from the sender's write until
//! the last member has read its `new_message`, and how many deliveries per
//! second the whole run achieved.
//!
//! Setting up is quadratic on a chat server: every `join_room` broadcasts
//! `user_joined` to the members already there, M²/2 frames in all. Members
//! read (and cheaply skip) those from the moment they join, and the run
//! waits until that flood has drained before it sends anything.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use futures_util::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use tokio::sync::{Semaphore, mpsc, watch};
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

use super::{CONNECT_CONCURRENCY, Target, cpu_us_per};
use crate::client::{self, Envelope, REPLY_TIMEOUT, Ws};
use crate::stats::{Summary, per_second};

/// Options of a `fanout` run.
#[derive(Debug, Clone)]
pub struct FanoutOptions {
    /// Room members.
    pub members: usize,
    /// Messages the sender sends.
    pub messages: usize,
    /// Broadcasts in flight at once.
    pub window: usize,
    /// The bare room name (`chat:{room}` on the server).
    pub room: String,
    /// Bytes of text in each message (at least enough for its number).
    pub text_bytes: usize,
    /// How long the `user_joined` flood of the set-up may take to drain.
    pub setup_timeout: Duration,
}

/// What a `fanout` run measured.
#[derive(Debug, Clone, Serialize)]
pub struct FanoutReport {
    /// Room members.
    pub members: usize,
    /// Messages sent.
    pub messages: usize,
    /// Broadcasts in flight at once.
    pub window: usize,
    /// `new_message` frames read by members (should be members × messages).
    pub deliveries: u64,
    /// From the first send to the last delivery, seconds.
    pub seconds: f64,
    /// `deliveries / seconds`.
    pub deliveries_per_sec: f64,
    /// Time from send until the last member received each message.
    pub last_member: Summary,
    /// Time from send until the first member received each message.
    pub first_member: Summary,
    /// `user_joined` frames members read while the room filled up.
    pub user_joined_frames: u64,
    /// How long connecting, joining and draining took, seconds.
    pub setup_seconds: f64,
    /// Server CPU time (user + system) while the messages went out, seconds.
    pub server_cpu_seconds: Option<f64>,
    /// Server CPU per delivery, microseconds: the server's efficiency,
    /// independent of how fast the members read.
    pub server_cpu_us_per_delivery: Option<f64>,
    /// The observed process's CPU time (`--observe-pid`, e.g. Redis) while
    /// the messages went out, seconds.
    pub observed_cpu_seconds: Option<f64>,
}

/// Per-message arrival bookkeeping shared by every member.
struct Arrivals {
    epoch: Instant,
    members: usize,
    sent_ns: Vec<AtomicU64>,
    first_ns: Vec<AtomicU64>,
    last_ns: Vec<AtomicU64>,
    count: Vec<AtomicUsize>,
    deliveries: AtomicU64,
    user_joined: AtomicU64,
    done: Semaphore,
}

impl Arrivals {
    fn now_ns(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    fn arrived(&self, k: usize) {
        let now = self.now_ns();
        let (Some(first), Some(last), Some(count)) =
            (self.first_ns.get(k), self.last_ns.get(k), self.count.get(k))
        else {
            return;
        };
        first.fetch_min(now, Ordering::AcqRel);
        last.fetch_max(now, Ordering::AcqRel);
        self.deliveries.fetch_add(1, Ordering::Relaxed);
        if count.fetch_add(1, Ordering::AcqRel) + 1 == self.members {
            self.done.add_permits(1);
        }
    }
}

#[derive(Deserialize)]
struct NewMessage<'a> {
    #[serde(borrow)]
    text: std::borrow::Cow<'a, str>,
}

/// Runs `fanout` against `target`.
pub async fn run(target: &Target, opts: &FanoutOptions) -> Result<FanoutReport> {
    if opts.members == 0 || opts.messages == 0 || opts.window == 0 {
        bail!("fanout needs members, messages and a window of at least 1");
    }
    let setup_start = Instant::now();
    let arrivals = Arc::new(Arrivals {
        epoch: Instant::now(),
        members: opts.members,
        sent_ns: (0..opts.messages).map(|_| AtomicU64::new(0)).collect(),
        first_ns: (0..opts.messages)
            .map(|_| AtomicU64::new(u64::MAX))
            .collect(),
        last_ns: (0..opts.messages).map(|_| AtomicU64::new(0)).collect(),
        count: (0..opts.messages).map(|_| AtomicUsize::new(0)).collect(),
        deliveries: AtomicU64::new(0),
        user_joined: AtomicU64::new(0),
        done: Semaphore::new(0),
    });
    // Any member failing stops the run; `stop` ends every member's loop.
    let (stop_tx, stop_rx) = watch::channel(false);
    let (joined_tx, mut joined_rx) = mpsc::channel::<Result<()>>(opts.members);
    let gate = Arc::new(Semaphore::new(CONNECT_CONCURRENCY));
    // Members connect concurrently but join one at a time: two joins racing
    // would each broadcast `user_joined` to the other, making the set-up's
    // frame count (and so the quiet point before timing starts) unknowable.
    let join_turn = Arc::new(tokio::sync::Mutex::new(()));
    let mut members = Vec::with_capacity(opts.members);
    for _ in 0..opts.members {
        let permit = Arc::clone(&gate).acquire_owned().await?;
        let url = target.url.clone();
        let room = opts.room.clone();
        let arrivals = Arc::clone(&arrivals);
        let joined = joined_tx.clone();
        let stop = stop_rx.clone();
        let messages = opts.messages;
        let join_turn = Arc::clone(&join_turn);
        members.push(tokio::spawn(async move {
            let setup = async {
                let mut ws = client::connect(&url).await?;
                let _turn = join_turn.lock().await;
                // Counted in case a server broadcasts before its reply.
                let (_, early) = client::join_room_counting(&mut ws, &room).await?;
                arrivals.user_joined.fetch_add(early, Ordering::Relaxed);
                Ok::<_, anyhow::Error>(ws)
            }
            .await;
            drop(permit);
            let ws = match setup {
                Ok(ws) => {
                    let _ = joined.send(Ok(())).await;
                    ws
                }
                Err(e) => {
                    let _ = joined.send(Err(anyhow!("{e:#}"))).await;
                    return Err(e);
                }
            };
            member(ws, &arrivals, messages, stop).await
        }));
    }
    drop(joined_tx);
    for _ in 0..opts.members {
        match joined_rx.recv().await {
            Some(Ok(())) => {}
            Some(Err(e)) => {
                let _ = stop_tx.send(true);
                return Err(e.context("a fanout member could not join"));
            }
            None => bail!("fanout members ended before joining"),
        }
    }
    wait_for_quiet(&arrivals, opts).await;
    let setup_seconds = setup_start.elapsed().as_secs_f64();

    let cpu_start = target.cpu_seconds();
    let observed_start = target.observed_cpu_seconds();
    let sent = send_all(target, opts, &arrivals).await;
    let cpu_end = target.cpu_seconds();
    let observed_end = target.observed_cpu_seconds();
    let _ = stop_tx.send(true);
    let mut member_error = None;
    for handle in members {
        if let Err(e) = handle.await.map_err(anyhow::Error::from).and_then(|r| r)
            && member_error.is_none()
        {
            member_error = Some(e);
        }
    }
    match (sent, member_error) {
        (Ok(()), None) => {}
        (Ok(()), Some(e)) => return Err(e.context("a fanout member failed")),
        (Err(e), None) => return Err(e),
        // A member that failed usually explains a broadcast that did not
        // reach everyone (the server cut it off, say).
        (Err(e), Some(member)) => {
            return Err(e.context(format!("a fanout member failed: {member:#}")));
        }
    }

    let mut last = Vec::with_capacity(opts.messages);
    let mut first = Vec::with_capacity(opts.messages);
    let mut first_send = u64::MAX;
    let mut last_delivery = 0;
    for k in 0..opts.messages {
        let sent = arrivals.sent_ns[k].load(Ordering::Acquire);
        let l = arrivals.last_ns[k].load(Ordering::Acquire);
        let f = arrivals.first_ns[k].load(Ordering::Acquire);
        first_send = first_send.min(sent);
        last_delivery = last_delivery.max(l);
        last.push(l.saturating_sub(sent));
        first.push(f.saturating_sub(sent));
    }
    let deliveries = arrivals.deliveries.load(Ordering::Acquire);
    let elapsed = Duration::from_nanos(last_delivery.saturating_sub(first_send));
    Ok(FanoutReport {
        members: opts.members,
        messages: opts.messages,
        window: opts.window,
        deliveries,
        seconds: elapsed.as_secs_f64(),
        deliveries_per_sec: per_second(deliveries, elapsed),
        last_member: Summary::from_nanos(&mut last),
        first_member: Summary::from_nanos(&mut first),
        user_joined_frames: arrivals.user_joined.load(Ordering::Acquire),
        setup_seconds,
        server_cpu_seconds: cpu_start.zip(cpu_end).map(|(s, e)| e - s),
        server_cpu_us_per_delivery: cpu_us_per(cpu_start, cpu_end, deliveries),
        observed_cpu_seconds: observed_start.zip(observed_end).map(|(s, e)| e - s),
    })
}

/// Waits until every `user_joined` of the set-up has been read (M(M-1)/2 of
/// them), or until none has arrived for a while (a server that does not
/// broadcast joins), bounded by `setup_timeout`.
async fn wait_for_quiet(arrivals: &Arrivals, opts: &FanoutOptions) {
    let m = opts.members as u64;
    let expected = m * m.saturating_sub(1) / 2;
    let deadline = Instant::now() + opts.setup_timeout;
    let mut last_seen = u64::MAX;
    let mut quiet_since = Instant::now();
    while Instant::now() < deadline {
        let seen = arrivals.user_joined.load(Ordering::Acquire);
        if seen >= expected {
            return;
        }
        if seen != last_seen {
            last_seen = seen;
            quiet_since = Instant::now();
        } else if quiet_since.elapsed() > Duration::from_secs(2) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The sender: a connection outside the room that sends every message,
/// keeping `window` in flight, and waits until all were delivered.
async fn send_all(target: &Target, opts: &FanoutOptions, arrivals: &Arc<Arrivals>) -> Result<()> {
    let ws = client::connect(&target.url).await?;
    let (mut sink, mut stream) = ws.split();
    // Read the sender's own replies (`message_ack`, `__connect__`); an
    // `__error__` fails the run.
    let acks = tokio::spawn(async move {
        let mut acks = 0usize;
        while let Some(message) = stream.next().await {
            let Ok(Message::Text(text)) = message else {
                continue;
            };
            let envelope = Envelope::parse(text.as_str())?;
            if envelope.is_error() {
                bail!("the fanout sender got an error: {}", text.as_str());
            }
            if envelope.event == "message_ack" {
                acks += 1;
            }
        }
        Ok(acks)
    });
    let padding = "x".repeat(opts.text_bytes.saturating_sub(8));
    let mut outcome = Ok(());
    for k in 0..opts.messages {
        let wait = tokio::time::timeout(REPLY_TIMEOUT, arrivals.done.acquire());
        if k >= opts.window {
            match wait.await {
                Ok(Ok(permit)) => permit.forget(),
                _ => {
                    outcome = Err(incomplete(arrivals, k - opts.window));
                    break;
                }
            }
        }
        arrivals.sent_ns[k].store(arrivals.now_ns(), Ordering::Release);
        let text = format!(
            r#"{{"event":"send_message","payload":{{"room":"{room}","text":"m{k} {padding}"}},"id":"s{k}"}}"#,
            room = opts.room
        );
        if let Err(e) = sink.send(Message::Text(Utf8Bytes::from(text))).await {
            outcome = Err(anyhow!(e).context("the fanout sender could not send"));
            break;
        }
    }
    if outcome.is_ok() {
        let outstanding = opts.window.min(opts.messages);
        for i in 0..outstanding {
            match tokio::time::timeout(REPLY_TIMEOUT, arrivals.done.acquire()).await {
                Ok(Ok(permit)) => permit.forget(),
                _ => {
                    outcome = Err(incomplete(arrivals, opts.messages - outstanding + i));
                    break;
                }
            }
        }
    }
    let _ = sink.close().await;
    match tokio::time::timeout(Duration::from_secs(5), acks).await {
        Ok(Ok(Err(e))) if outcome.is_ok() => outcome = Err(e),
        _ => {}
    }
    outcome
}

fn incomplete(arrivals: &Arrivals, k: usize) -> anyhow::Error {
    let got = arrivals
        .count
        .get(k)
        .map_or(0, |c| c.load(Ordering::Acquire));
    anyhow!(
        "message {k} reached {got} of {} members within {REPLY_TIMEOUT:?}",
        arrivals.members
    )
}

/// One member: reads until it has every message or the run stops. Skips
/// the `user_joined` flood with a substring check.
async fn member(
    mut ws: Ws,
    arrivals: &Arrivals,
    messages: usize,
    mut stop: watch::Receiver<bool>,
) -> Result<()> {
    let mut got = 0;
    while got < messages {
        let message = tokio::select! {
            message = ws.next() => message,
            _ = stop.changed() => break,
        };
        let Some(message) = message else {
            bail!("the server closed a member's connection");
        };
        let text = match message? {
            Message::Text(text) => text,
            Message::Close(frame) => {
                bail!("the server closed a member's connection after {got} messages: {frame:?}")
            }
            _ => continue,
        };
        let text = text.as_str();
        if text.contains("\"user_joined\"") {
            arrivals.user_joined.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        if text.contains("\"__disconnect__\"") {
            bail!("a member was disconnected after {got} messages: {text}");
        }
        if !text.contains("\"new_message\"") {
            if text.contains("\"__error__\"") {
                bail!("a member got an error: {text}");
            }
            continue;
        }
        let envelope = Envelope::parse(text)?;
        let payload: NewMessage<'_> = envelope.payload()?;
        let k = payload
            .text
            .strip_prefix('m')
            .and_then(|rest| rest.split(' ').next())
            .and_then(|n| n.parse::<usize>().ok())
            .with_context(|| format!("a new_message the sender did not send: {text}"))?;
        arrivals.arrived(k);
        got += 1;
    }
    drop(ws);
    Ok(())
}
