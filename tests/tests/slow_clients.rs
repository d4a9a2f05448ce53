//! Slow and dying clients against the real chat server: a member that never
//! reads is cut off at its outbound bound while the room's other members get
//! every broadcast; abrupt TCP resets mid-broadcast; half-open connections
//! found by the heartbeat; 10,000 connect/disconnect cycles that leave no
//! connection, room, task or memory behind (read from `/socket-health`,
//! `/metrics` and `/proc/PID/status`).
//!
//! Run with `--nocapture` for the figures (`slow |` lines).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use socketspec_e2e::bystander::Bystander;
use socketspec_e2e::host::{raise_nofile_limit, rss_kib};
use socketspec_e2e::observe::{health, metrics, parse_metrics, wait_health};
use socketspec_e2e::raw_ws::{Incoming, RawWs};
use socketspec_e2e::{ChatServer, Client, Error, Result, event_of};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const SANITY: Duration = Duration::from_secs(2);
const WAIT: Duration = Duration::from_secs(10);

fn report(case: &str, outcome: &str) {
    println!("slow | {case} | {outcome}");
}

fn join_err(e: tokio::task::JoinError) -> Error {
    Error::Other(format!("a task failed: {e}"))
}

/// A member of `room` that reads every `new_message` and checks that they
/// come in order (texts `"<seq> ..."`), until it has `expect` of them.
async fn reader(url: String, room: &str, expect: usize) -> Result<(Client, usize)> {
    let (mut client, _) = Client::connect_ready(&url).await?;
    let joined = client.request("join_room", json!({"room": room})).await?;
    assert_eq!(event_of(&joined), "room_joined", "{joined}");
    Ok((client, expect))
}

async fn read_all(mut client: Client, expect: usize) -> Result<usize> {
    let mut next = 0usize;
    while next < expect {
        let message = client.recv_event("new_message", WAIT).await?;
        let text = message["payload"]["text"].as_str().unwrap_or_default();
        let seq: usize = text
            .split(' ')
            .next()
            .and_then(|s| s.parse().ok())
            .unwrap_or(usize::MAX);
        assert_eq!(seq, next, "out of order or lost: {text:.20}");
        next += 1;
    }
    Ok(next)
}

/// Sends `count` messages to `room`, `window` at a time, reading every ack.
async fn send_messages(client: &mut Client, room: &str, count: usize, size: usize) -> Result<()> {
    let filler = "m".repeat(size);
    let window = 100;
    let mut sent = 0;
    while sent < count {
        let batch = window.min(count - sent);
        for i in sent..sent + batch {
            client
                .send_event_with_id(
                    "send_message",
                    json!({"room": room, "text": format!("{i} {filler}")}),
                    &format!("m{i}"),
                )
                .await?;
        }
        for _ in 0..batch {
            let ack = client.recv_json(WAIT).await?;
            assert_eq!(event_of(&ack), "message_ack", "{ack}");
        }
        sent += batch;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_that_never_reads_is_cut_off_while_the_others_get_every_broadcast() -> Result<()> {
    let server = ChatServer::start(&[]);
    let bystander = Bystander::start(&server.ws_url()).await?;
    let room = "slowroom";
    // The member that never reads: a 4 KiB receive buffer, so it backs up
    // after a few KiB instead of several MiB.
    let mut sleeper = RawWs::connect_small_buffer(server.addr(), 4096).await?;
    sleeper.recv_event("__connect__", WAIT).await?;
    sleeper
        .send_json(&json!({"event": "join_room", "payload": {"room": room}}))
        .await?;
    sleeper.recv_event("room_joined", WAIT).await?;

    let messages = 6_000;
    let mut readers = Vec::new();
    for _ in 0..5 {
        let (client, expect) = reader(server.ws_url(), room, messages).await?;
        readers.push(tokio::spawn(read_all(client, expect)));
    }
    let (mut sender, _) = Client::connect_ready(&server.ws_url()).await?;
    let started = Instant::now();
    send_messages(&mut sender, room, messages, 1_000).await?;
    let send_time = started.elapsed();
    for r in readers {
        let got = r.await.map_err(join_err)??;
        assert_eq!(got, messages);
    }
    // The sleeper was cut off (the readers are done and gone): only the
    // sender and the bystander are left.
    let h = wait_health(server.addr(), WAIT, |h| h["connections"] == 2).await?;
    assert_eq!(h["connections"], 2, "{h}");
    let m = metrics(server.addr()).await?;
    let slow = m
        .get("socketspec_connections_closed_total{reason=\"slow_consumer\"}")
        .copied()
        .unwrap_or(0.0);
    let dropped = m
        .get("socketspec_broadcast_dropped_total")
        .copied()
        .unwrap_or(0.0);
    assert_eq!(slow, 1.0, "one slow consumer");
    assert!(dropped >= 1.0, "the overflowing broadcast is counted");
    // What the sleeper sees when it finally reads: its backlog, then the
    // end (the 4008 close frame cannot pass a socket that does not drain).
    let mut backlog = 0usize;
    let end = loop {
        match sleeper.next_message(WAIT).await? {
            Incoming::Json(v) if event_of(&v) == "new_message" => backlog += 1,
            Incoming::Json(_) => {}
            end => break end,
        }
    };
    assert!(
        matches!(end, Incoming::Close(Some(4008)) | Incoming::Eof),
        "{end:?}"
    );
    assert!(
        backlog < messages,
        "the sleeper got {backlog} of {messages}"
    );
    report(
        "a room member that never reads (4 KiB receive buffer), 6,000 broadcasts of ~1 KB",
        &format!(
            "cut off as a slow consumer (outbound queue 1024 full) after {backlog} messages reached it ({end:?}); \
             5 readers got all 6,000 in order; {dropped} deliveries refused (its queue stayed full until it was gone); sent in {send_time:.1?}"
        ),
    );
    bystander.finish("never reads", SANITY).await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abrupt_tcp_resets_mid_broadcast_lose_nothing_for_the_living() -> Result<()> {
    let server = ChatServer::start(&[]);
    let bystander = Bystander::start(&server.ws_url()).await?;
    let room = "resets";
    let messages = 2_000;
    let mut readers = Vec::new();
    for _ in 0..5 {
        let (client, expect) = reader(server.ws_url(), room, messages).await?;
        readers.push(tokio::spawn(read_all(client, expect)));
    }
    // 60 members that will die abruptly (RST, no close frame) while the
    // broadcasts run; they read until then.
    let mut dying = Vec::new();
    for _ in 0..60 {
        let mut raw = RawWs::connect(server.addr()).await?;
        raw.recv_event("__connect__", WAIT).await?;
        raw.send_json(&json!({"event": "join_room", "payload": {"room": room}}))
            .await?;
        raw.recv_event("room_joined", WAIT).await?;
        dying.push(raw);
    }
    let (mut sender, _) = Client::connect_ready(&server.ws_url()).await?;
    let killer = tokio::spawn(async move {
        let mut killed = 0;
        for raw in dying {
            // Spacing, not waiting: the resets are spread over the
            // broadcasts' run.
            tokio::time::sleep(Duration::from_millis(15)).await;
            raw.reset()?;
            killed += 1;
        }
        Ok::<_, Error>(killed)
    });
    send_messages(&mut sender, room, messages, 200).await?;
    let killed = killer.await.map_err(join_err)??;
    for r in readers {
        assert_eq!(r.await.map_err(join_err)??, messages);
    }
    // The readers are done and gone too: the sender and the bystander are
    // left, in the lobby.
    let h = wait_health(server.addr(), WAIT, |h| {
        h["connections"] == 2 && h["rooms"] == 1
    })
    .await?;
    assert_eq!(h["connections"], 2, "{h}");
    assert_eq!(h["rooms"], 1, "{h}");
    report(
        &format!("{killed} of 65 room members reset their TCP (RST) during 2,000 broadcasts"),
        "the 5 living members got all 2,000 in order; the dead were cleaned up (connections and rooms back)",
    );
    bystander.finish("resets", SANITY).await;
    Ok(())
}

/// A TCP proxy that can go silent: after `cut`, it forwards nothing in
/// either direction and closes nothing, like a peer whose network died.
struct Blackhole {
    addr: String,
    cut: Arc<AtomicBool>,
}

impl Blackhole {
    async fn start(upstream: String) -> Result<Blackhole> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?.to_string();
        let cut = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&cut);
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = TcpStream::connect(&upstream).await else {
                    continue;
                };
                let (cr, cw) = client.into_split();
                let (sr, sw) = server.into_split();
                tokio::spawn(pipe(cr, sw, Arc::clone(&flag)));
                tokio::spawn(pipe(sr, cw, Arc::clone(&flag)));
            }
        });
        Ok(Blackhole { addr, cut })
    }
}

async fn pipe(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    cut: Arc<AtomicBool>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    while let Ok(n) = from.read(&mut buf).await {
        if n == 0 {
            break;
        }
        if cut.load(Ordering::SeqCst) {
            // Silent: keep both sockets open, forward nothing, ever.
            std::future::pending::<()>().await;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
}

/// Answers `__ping__` with `__pong__` on a raw connection until `stop`;
/// returns how many pings it answered.
async fn pong_until(mut raw: RawWs, stop: Arc<AtomicBool>) -> Result<usize> {
    let mut pongs = 0;
    while !stop.load(Ordering::SeqCst) {
        match raw.next_message(Duration::from_millis(100)).await {
            Ok(Incoming::Json(v)) if event_of(&v) == "__ping__" => {
                raw.send_json(&json!({"event": "__pong__"})).await?;
                pongs += 1;
            }
            Ok(Incoming::Json(_)) | Err(Error::Timeout(_)) => {}
            Ok(end) => return Err(Error::Other(format!("the live client was closed: {end:?}"))),
            Err(e) => return Err(e),
        }
    }
    Ok(pongs)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_open_connections_are_found_by_the_heartbeat() -> Result<()> {
    let server = ChatServer::start(&["--heartbeat-interval", "0.2", "--heartbeat-timeout", "0.3"]);
    // A live client that answers every ping stays connected throughout.
    let mut live = RawWs::connect(server.addr()).await?;
    live.recv_event("__connect__", WAIT).await?;
    let stop = Arc::new(AtomicBool::new(false));
    let live = tokio::spawn(pong_until(live, Arc::clone(&stop)));

    // 20 clients behind a proxy whose network then dies silently.
    let proxy = Blackhole::start(server.addr().to_owned()).await?;
    let mut silent = Vec::new();
    for _ in 0..20 {
        let mut raw = RawWs::connect(&proxy.addr).await?;
        raw.recv_event("__connect__", WAIT).await?;
        raw.send_json(&json!({"event": "join_room", "payload": {"room": "halfopen"}}))
            .await?;
        raw.recv_event("room_joined", WAIT).await?;
        silent.push(raw);
    }
    let h = health(server.addr()).await?;
    assert_eq!(h["connections"], 21, "{h}");
    proxy.cut.store(true, Ordering::SeqCst);
    let cut_at = Instant::now();
    let h = wait_health(server.addr(), WAIT, |h| h["connections"] == 1).await?;
    let found_after = cut_at.elapsed();
    assert_eq!(
        h["connections"], 1,
        "the half-open connections are gone: {h}"
    );
    assert_eq!(h["rooms"], 1, "only the lobby is left: {h}");
    let m = metrics(server.addr()).await?;
    assert_eq!(
        m.get("socketspec_connections_closed_total{reason=\"heartbeat_timeout\"}"),
        Some(&20.0)
    );
    // A client that simply stops answering (process frozen, socket open)
    // gets the 4004 close frame.
    let mut frozen = RawWs::connect(server.addr()).await?;
    frozen.recv_event("__connect__", WAIT).await?;
    let started = Instant::now();
    let end = frozen.expect_end(WAIT).await?;
    let frozen_after = started.elapsed();
    assert_eq!(end, Incoming::Close(Some(4004)));
    stop.store(true, Ordering::SeqCst);
    let pongs = live.await.map_err(join_err)??;
    assert!(pongs > 0);
    report(
        "20 half-open connections (their network dies silently; heartbeat 0.2 s + 0.3 s)",
        &format!(
            "all found (no pong within 0.3 s), closed with 4004 and released {found_after:.2?} after the cut \
             (the closing handshake waits up to 2 s for a dead peer); their rooms emptied; \
             a live client answering {pongs} pings stayed connected"
        ),
    );
    report(
        "a client that stops answering pings (socket open)",
        &format!("close 4004 after {frozen_after:.2?}"),
    );
    drop(silent);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_connect_disconnect_cycles_leave_nothing_behind() -> Result<()> {
    raise_nofile_limit(4096);
    let server = ChatServer::start(&[]);
    let addr = server.addr().to_owned();
    let url = server.ws_url();
    let idle = health(&addr).await?;
    assert_eq!(
        (idle["connections"].as_u64(), idle["rooms"].as_u64()),
        (Some(0), Some(0))
    );
    let rss_idle = rss_kib(server.pid()).unwrap_or(0);
    let cycles = 10_000;
    let workers = 40;
    let done = Arc::new(AtomicUsize::new(0));
    let run = |count: usize| {
        let done = Arc::clone(&done);
        let url = url.clone();
        let addr = addr.clone();
        async move {
            let mut tasks = Vec::new();
            for w in 0..workers {
                let done = Arc::clone(&done);
                let url = url.clone();
                let addr = addr.clone();
                tasks.push(tokio::spawn(async move {
                    for i in 0..count / workers {
                        cycle(&url, &addr, w * 1_000_000 + i).await?;
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok::<_, Error>(())
                }));
            }
            for t in tasks {
                t.await.map_err(join_err)??;
            }
            Ok::<_, Error>(())
        }
    };
    let started = Instant::now();
    // Warm-up: the allocator and the runtime reach their working size.
    run(1_000).await?;
    wait_health(&addr, WAIT, |h| h["connections"] == 0).await?;
    let rss_warm = rss_kib(server.pid()).unwrap_or(0);
    run(cycles - 1_000).await?;
    let total_time = started.elapsed();
    // Tasks: back to the idle figure (the health request's own task) once
    // the last connection and its handlers are gone.
    let after = wait_health(&addr, WAIT, |h| {
        h["connections"] == 0 && h["rooms"] == 0 && h["tasks"] == idle["tasks"]
    })
    .await?;
    let rss_after = rss_kib(server.pid()).unwrap_or(0);
    assert_eq!(after["connections"], 0, "{after}");
    assert_eq!(after["rooms"], 0, "no room left behind: {after}");
    assert_eq!(
        after["tasks"], idle["tasks"],
        "no task left behind: {after} vs idle {idle}"
    );
    let m = metrics(&addr).await?;
    let opened = m
        .get("socketspec_connections_opened_total")
        .copied()
        .unwrap_or(0.0);
    let closed: f64 = m
        .iter()
        .filter(|(k, _)| k.starts_with("socketspec_connections_closed_total"))
        .map(|(_, v)| v)
        .sum();
    assert_eq!(opened, f64::from(u32::try_from(cycles).unwrap_or(0)));
    assert_eq!(closed, opened, "every connection opened was closed");
    assert_eq!(m.get("socketspec_handlers_in_flight"), Some(&0.0));
    assert_eq!(done.load(Ordering::Relaxed), cycles);
    // Memory: flat after warm-up (a generous bound: allocator noise).
    let growth = rss_after.saturating_sub(rss_warm);
    assert!(
        growth < 16 * 1024,
        "RSS grew {growth} KiB over {} cycles after warm-up ({rss_warm} -> {rss_after} KiB)",
        cycles - 1_000
    );
    report(
        "10,000 connect/disconnect cycles (40 at a time; close handshake, drop, RST, \
         with and without a room join and a request in flight)",
        &format!(
            "{total_time:.1?}; connections 0, rooms 0, tasks {} (as when idle); \
             opened {opened} = closed {closed}; RSS {rss_idle} KiB idle, {rss_warm} KiB after 1,000 cycles, \
             {rss_after} KiB after 10,000",
            after["tasks"],
        ),
    );
    Ok(())
}

/// One connection's life; how it ends depends on `n`.
async fn cycle(url: &str, addr: &str, n: usize) -> Result<()> {
    match n % 5 {
        // Connect, join a room of its own, leave with a close handshake.
        0 => {
            let (mut c, _) = Client::connect_ready(url).await?;
            c.request("join_room", json!({"room": format!("churn{n}")}))
                .await?;
            c.close().await?;
            let _ = c.expect_close(WAIT).await;
        }
        // Connect and drop (FIN, no close frame).
        1 => {
            let mut raw = RawWs::connect(addr).await?;
            raw.recv_event("__connect__", WAIT).await?;
            raw.vanish();
        }
        // Join a room, send a request and reset before the reply.
        2 => {
            let mut raw = RawWs::connect(addr).await?;
            raw.recv_event("__connect__", WAIT).await?;
            raw.send_json(&json!({"event": "join_room", "payload": {"room": format!("churn{n}")}}))
                .await?;
            raw.send_json(&json!({"event": "slow_echo", "payload": {"seq": 1, "delay_ms": 20}}))
                .await?;
            raw.reset()?;
        }
        // Upgrade and vanish before reading `__connect__`.
        3 => {
            let raw = RawWs::connect(addr).await?;
            raw.vanish();
        }
        // A request, its reply, then a client close.
        _ => {
            let (mut c, _) = Client::connect_ready(url).await?;
            c.assert_alive().await?;
            c.close().await?;
            let _ = c.expect_close(WAIT).await;
        }
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_metrics_report_what_happened() -> Result<()> {
    let server = ChatServer::start(&[]);
    let addr = server.addr();
    let (mut a, _) = Client::connect_ready(&server.ws_url()).await?;
    let (mut b, _) = Client::connect_ready(&server.ws_url()).await?;
    a.assert_alive().await?;
    a.request("join_room", json!({"room": "m"})).await?;
    b.request("join_room", json!({"room": "m"})).await?;
    a.request("send_message", json!({"room": "m", "text": "hi"}))
        .await?;
    a.send_raw_text("not json").await?;
    a.recv_event("__error__", WAIT).await?;
    let h = health(addr).await?;
    assert_eq!(h["status"], "ok");
    assert_eq!(h["backend"], "memory");
    assert_eq!(h["backend_healthy"], true);
    assert_eq!(h["connections"], 2);
    assert_eq!(h["rooms"], 2, "lobby and chat:m: {h}");
    assert!(h["tasks"].as_u64().is_some_and(|t| t > 0), "{h}");

    let response = socketspec_e2e::http_get(addr, "/metrics", &[]).await?;
    assert_eq!(response.status, 200);
    assert_eq!(
        response.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let m = parse_metrics(&response.body);
    let get = |k: &str| m.get(k).copied().unwrap_or(-1.0);
    assert_eq!(get("socketspec_connections"), 2.0);
    assert_eq!(get("socketspec_connections_opened_total"), 2.0);
    assert_eq!(
        get("socketspec_events_total{event=\"echo\",namespace=\"/\"}"),
        1.0
    );
    assert_eq!(
        get("socketspec_events_total{event=\"join_room\",namespace=\"/\"}"),
        2.0
    );
    assert_eq!(
        get("socketspec_events_total{event=\"send_message\",namespace=\"/\"}"),
        1.0
    );
    assert_eq!(
        get("socketspec_events_total{event=\"whoami\",namespace=\"/\"}"),
        0.0
    );
    assert_eq!(
        get("socketspec_errors_total{code=\"VALIDATION_ERROR\"}"),
        1.0
    );
    assert_eq!(get("socketspec_errors_total{code=\"ROOM_NOT_FOUND\"}"), 0.0);
    assert_eq!(
        get("socketspec_handler_duration_seconds_count{event=\"join_room\",namespace=\"/\"}"),
        2.0
    );
    assert_eq!(get("socketspec_handlers_in_flight"), 0.0);
    // Broadcasts: two user_joined (to 0 and 1 other members) and one
    // new_message (to both).
    assert_eq!(get("socketspec_broadcasts_total"), 3.0);
    assert_eq!(get("socketspec_broadcast_fanout_sum"), 3.0);
    assert!(get("socketspec_outbound_queue_depth_count") >= 1.0);
    assert_eq!(get("socketspec_frames_received_total{kind=\"text\"}"), 5.0);
    assert!(get("socketspec_runtime_alive_tasks") > 0.0);
    drop((a, b));
    let h = wait_health(addr, WAIT, |h| h["connections"] == 0).await?;
    assert_eq!(h["rooms"], 0, "{h}");
    let m = metrics(addr).await?;
    assert_eq!(m.get("socketspec_connections_opened_total"), Some(&2.0));
    report(
        "/socket-health and /metrics",
        "connections, rooms, tasks; events by name, errors by code, handler latency, \
         queue depth, broadcast fan-out, close reasons",
    );
    Ok(())
}
