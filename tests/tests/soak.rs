//! Soak: many connections, churn and broadcasts against the real chat
//! server, counting every message. Stable room members must get every
//! broadcast sent to their room, in order per sender (lost = 0), and the
//! server's memory must stay flat once warmed up.
//!
//! The short version runs in the normal test run (~15 s of load). The long
//! one is the same test with more time, connections or rate:
//!
//! ```text
//! SOCKETSPEC_SOAK_SECS=600 SOCKETSPEC_SOAK_CONNECTIONS=3000 \
//!   cargo test --release -p socketspec-e2e --test soak -- --nocapture
//! ```
//!
//! Knobs (environment): `SOCKETSPEC_SOAK_SECS` (load duration, default 15),
//! `SOCKETSPEC_SOAK_CONNECTIONS` (stable members, default 1000),
//! `SOCKETSPEC_SOAK_ROOMS` (default 20), `SOCKETSPEC_SOAK_RATE` (messages per
//! second per room, default 10), `SOCKETSPEC_SOAK_CHURNERS` (connections
//! that keep joining and leaving, default 20).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use socketspec_e2e::host::{raise_nofile_limit, rss_kib};
use socketspec_e2e::observe::{health, metrics, wait_health};
use socketspec_e2e::raw_ws::RawWs;
use socketspec_e2e::{ChatServer, Client, Error, Result, event_of};
use tokio::sync::Semaphore;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn join_err(e: tokio::task::JoinError) -> Error {
    Error::Other(format!("a task failed: {e}"))
}

/// What one stable member saw.
#[derive(Debug, Default)]
struct Seen {
    /// Next expected sequence number per sender.
    next: HashMap<u64, u64>,
    received: u64,
    out_of_order: u64,
}

/// A stable member: counts every `new_message` per sender (the client
/// answers pings by itself),
/// until it has `totals[sender]` from each of its room's senders (known once
/// `final_counts` is set) or the deadline passes.
async fn member(
    mut client: Client,
    room: usize,
    final_counts: Arc<tokio::sync::OnceCell<Vec<u64>>>,
    drain_deadline: Arc<tokio::sync::OnceCell<tokio::time::Instant>>,
) -> Result<(usize, Seen, Client)> {
    let mut seen = Seen::default();
    loop {
        if let Some(totals) = final_counts.get() {
            let want = totals[room];
            let have = seen.next.get(&(room as u64)).copied().unwrap_or(0);
            if have >= want {
                return Ok((room, seen, client));
            }
            if drain_deadline
                .get()
                .is_some_and(|d| tokio::time::Instant::now() >= *d)
            {
                return Ok((room, seen, client));
            }
        }
        let Some(message) = client.try_recv_json(Duration::from_millis(200)).await? else {
            continue;
        };
        // Pings (answered by the client) and the rest are not counted.
        if event_of(&message) != "new_message" {
            continue;
        }
        let text = message["payload"]["text"].as_str().unwrap_or_default();
        let mut parts = text.split(' ');
        let sender: u64 = parts
            .next()
            .and_then(|s| s.parse().ok())
            .unwrap_or(u64::MAX);
        let seq: u64 = parts
            .next()
            .and_then(|s| s.parse().ok())
            .unwrap_or(u64::MAX);
        let next = seen.next.entry(sender).or_insert(0);
        if seq != *next {
            seen.out_of_order += 1;
        }
        *next = seq + 1;
        seen.received += 1;
    }
}

/// Sends `rate` messages a second to room `room` until `stop`; returns how
/// many it sent (every one acknowledged).
async fn sender(url: String, room: usize, rate: u64, stop: Arc<AtomicBool>) -> Result<u64> {
    let (mut client, _) = Client::connect_ready(&url).await?;
    let period = Duration::from_secs_f64(1.0 / rate.max(1) as f64);
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut seq = 0u64;
    let padding = "p".repeat(100);
    while !stop.load(Ordering::Relaxed) {
        tick.tick().await;
        let id = format!("s{room}-{seq}");
        // The client answers the heartbeat meanwhile.
        let ack = client
            .request_with_id(
                "send_message",
                json!({"room": format!("soak{room}"), "text": format!("{room} {seq} {padding}")}),
                &id,
                Duration::from_secs(10),
            )
            .await?;
        if event_of(&ack) != "message_ack" {
            return Err(Error::Other(format!("send_message refused: {ack}")));
        }
        seq += 1;
    }
    Ok(seq)
}

/// Connects, joins a room, reads a little, leaves in one of several ways;
/// over and over until `stop`.
async fn churner(
    url: String,
    addr: String,
    rooms: usize,
    index: usize,
    stop: Arc<AtomicBool>,
    cycles: Arc<AtomicU64>,
) -> Result<()> {
    let mut n = index;
    while !stop.load(Ordering::Relaxed) {
        n += 7;
        let room = format!("soak{}", n % rooms);
        match n % 3 {
            0 => {
                let (mut c, _) = Client::connect_ready(&url).await?;
                c.request("join_room", json!({"room": room})).await?;
                let _ = c
                    .recv_event("new_message", Duration::from_millis(300))
                    .await;
                c.close().await?;
                let _ = c.expect_close(Duration::from_secs(5)).await;
            }
            // Join, read a little, and vanish (FIN, no close frame).
            1 => {
                let mut raw = RawWs::connect(&addr).await?;
                raw.recv_event("__connect__", Duration::from_secs(5))
                    .await?;
                raw.send_json(&json!({"event": "join_room", "payload": {"room": room}}))
                    .await?;
                raw.recv_event("room_joined", Duration::from_secs(5))
                    .await?;
                let _ = raw
                    .recv_event("new_message", Duration::from_millis(300))
                    .await;
                raw.vanish();
            }
            _ => {
                let mut raw = RawWs::connect(&addr).await?;
                raw.recv_event("__connect__", Duration::from_secs(5))
                    .await?;
                raw.send_json(&json!({"event": "join_room", "payload": {"room": room}}))
                    .await?;
                raw.recv_event("room_joined", Duration::from_secs(5))
                    .await?;
                raw.reset()?;
            }
        }
        cycles.fetch_add(1, Ordering::Relaxed);
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soak_many_connections_churn_and_broadcasts_lose_nothing() -> Result<()> {
    let secs = env_or("SOCKETSPEC_SOAK_SECS", 15);
    let members = env_or("SOCKETSPEC_SOAK_CONNECTIONS", 1000) as usize;
    let rooms = env_or("SOCKETSPEC_SOAK_ROOMS", 20).max(1) as usize;
    let rate = env_or("SOCKETSPEC_SOAK_RATE", 10);
    let churners = env_or("SOCKETSPEC_SOAK_CHURNERS", 20) as usize;
    let limit = raise_nofile_limit((members as u64 + 2_000) * 2);
    assert!(
        limit as usize >= members + 500,
        "the open-file limit ({limit}) is too low for {members} connections"
    );
    // Heartbeat on (every member answers), idle timeout off: stable members
    // only listen.
    let server = ChatServer::start(&[
        "--heartbeat-interval",
        "5",
        "--heartbeat-timeout",
        "5",
        "--idle-timeout",
        "0",
    ]);
    let addr = server.addr().to_owned();
    let url = server.ws_url();
    let idle = health(&addr).await?;
    let rss_idle = rss_kib(server.pid()).unwrap_or(0);

    // Stable members, `members / rooms` per room, joined 50 at a time.
    let final_counts = Arc::new(tokio::sync::OnceCell::new());
    let drain_deadline = Arc::new(tokio::sync::OnceCell::new());
    let gate = Arc::new(Semaphore::new(50));
    let mut joins = Vec::new();
    for i in 0..members {
        let url = url.clone();
        let gate = Arc::clone(&gate);
        joins.push(tokio::spawn(async move {
            let _permit = gate.acquire().await;
            let (mut c, _) = Client::connect_ready(&url).await?;
            let room = i % rooms;
            let joined = c
                .request("join_room", json!({"room": format!("soak{room}")}))
                .await?;
            if event_of(&joined) != "room_joined" {
                return Err(Error::Other(format!("join refused: {joined}")));
            }
            Ok::<_, Error>((c, room))
        }));
    }
    let mut member_tasks = Vec::new();
    for j in joins {
        let (client, room) = j.await.map_err(join_err)??;
        member_tasks.push(tokio::spawn(member(
            client,
            room,
            Arc::clone(&final_counts),
            Arc::clone(&drain_deadline),
        )));
    }
    let connected = health(&addr).await?;
    assert_eq!(
        connected["connections"].as_u64(),
        Some(members as u64),
        "{connected}"
    );

    // Load: one sender per room, churners, an RSS sampler.
    let stop = Arc::new(AtomicBool::new(false));
    let mut senders = Vec::new();
    for room in 0..rooms {
        senders.push(tokio::spawn(sender(
            url.clone(),
            room,
            rate,
            Arc::clone(&stop),
        )));
    }
    let churn_cycles = Arc::new(AtomicU64::new(0));
    let mut churn = Vec::new();
    for i in 0..churners {
        churn.push(tokio::spawn(churner(
            url.clone(),
            addr.clone(),
            rooms,
            i,
            Arc::clone(&stop),
            Arc::clone(&churn_cycles),
        )));
    }
    let started = Instant::now();
    let warm_up = Duration::from_secs(secs).mul_f64(0.3);
    let mut rss_warm = None;
    let mut rss_peak = 0u64;
    let mut rss_samples = Vec::new();
    while started.elapsed() < Duration::from_secs(secs) {
        // The load's duration is the point: sample the RSS once a second.
        tokio::time::sleep(Duration::from_secs(1)).await;
        let rss = rss_kib(server.pid()).unwrap_or(0);
        rss_peak = rss_peak.max(rss);
        rss_samples.push(rss);
        if rss_warm.is_none() && started.elapsed() >= warm_up {
            rss_warm = Some(rss);
        }
    }
    let rss_loaded = rss_kib(server.pid()).unwrap_or(0);
    let rss_warm = rss_warm.unwrap_or(rss_loaded);
    stop.store(true, Ordering::Relaxed);
    let mut totals = vec![0u64; rooms];
    for (room, s) in senders.into_iter().enumerate() {
        totals[room] = s.await.map_err(join_err)??;
    }
    for c in churn {
        c.await.map_err(join_err)??;
    }
    let load_time = started.elapsed();
    let sent: u64 = totals.iter().sum();
    let _ = final_counts.set(totals.clone());
    let _ = drain_deadline.set(tokio::time::Instant::now() + Duration::from_secs(30));

    // Count: every stable member must have every message of its room.
    let mut expected = 0u64;
    let mut received = 0u64;
    let mut out_of_order = 0u64;
    let mut short_members = 0usize;
    let mut clients = Vec::new();
    for t in member_tasks {
        let (room, seen, client) = t.await.map_err(join_err)??;
        let want = totals[room];
        let got = seen.next.get(&(room as u64)).copied().unwrap_or(0);
        expected += want;
        received += seen.received;
        out_of_order += seen.out_of_order;
        if got < want {
            short_members += 1;
        }
        clients.push(client);
    }
    let lost = expected.saturating_sub(received);
    let m = metrics(&addr).await?;
    let fanout_sum = m
        .get("socketspec_broadcast_fanout_sum")
        .copied()
        .unwrap_or(0.0);
    let slow = m
        .get("socketspec_connections_closed_total{reason=\"slow_consumer\"}")
        .copied()
        .unwrap_or(0.0);
    let heartbeat = m
        .get("socketspec_connections_closed_total{reason=\"heartbeat_timeout\"}")
        .copied()
        .unwrap_or(0.0);

    // Everyone leaves; nothing may stay behind.
    for mut c in clients {
        let _ = c.close().await;
    }
    let after = wait_health(&addr, Duration::from_secs(30), |h| {
        h["connections"] == 0 && h["rooms"] == 0 && h["tasks"] == idle["tasks"]
    })
    .await?;
    let rss_end = rss_kib(server.pid()).unwrap_or(0);
    let churned = churn_cycles.load(Ordering::Relaxed);
    println!(
        "soak | {members} stable members in {rooms} rooms + {rooms} senders + {churners} churners, \
         {load_time:.1?} of load at {rate} msg/s per room | sent {sent} messages, expected {expected} \
         deliveries to stable members, received {received}, lost {lost}, out of order {out_of_order}; \
         {fanout_sum} deliveries in all (churners included); {churned} churn cycles; \
         slow consumers {slow}, heartbeat timeouts {heartbeat} | RSS idle {rss_idle} KiB, after warm-up \
         {rss_warm} KiB, at the end of the load {rss_loaded} KiB, peak {rss_peak} KiB, after everyone \
         left {rss_end} KiB; samples {rss_samples:?} | after: {after}"
    );
    assert_eq!(lost, 0, "{short_members} members missed messages");
    assert_eq!(received, expected, "no duplicates either");
    assert_eq!(out_of_order, 0, "per-sender order");
    assert_eq!(slow, 0.0, "no live member was cut off");
    assert_eq!(heartbeat, 0.0, "every member answered its pings");
    assert!(sent > 0 && churned > 0);
    assert_eq!(after["connections"], 0, "{after}");
    assert_eq!(after["rooms"], 0, "{after}");
    assert_eq!(after["tasks"], idle["tasks"], "{after} vs idle {idle}");
    // Flat after warm-up: a generous bound for allocator noise.
    let growth = rss_loaded.saturating_sub(rss_warm);
    let bound = (rss_warm / 4).max(16 * 1024);
    assert!(
        growth <= bound,
        "RSS grew {growth} KiB under steady load after warm-up ({rss_warm} -> {rss_loaded} KiB; \
         samples {rss_samples:?})"
    );
    Ok(())
}
