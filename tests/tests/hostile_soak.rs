//! A soak under mixed hostile load: 10,000 connect / join / message /
//! disconnect cycles while other clients upgrade with 240 KB of headers,
//! flood a connection's room cap, flood frames and make handlers panic.
//! Afterwards the server holds no connection and no room, and its memory is
//! within 32 MiB of where it started.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::json;
use socketspec_e2e::host::rss_kib;
use socketspec_e2e::observe::health;
use socketspec_e2e::raw_ws::{RawWs, client_frame, opcode};
use socketspec_e2e::wait::eventually;
use socketspec_e2e::{ChatServer, Client, Error, Result, event_of};

const CYCLES: usize = 10_000;
const WORKERS: usize = 20;

async fn cycle(server: &ChatServer, i: usize) -> Result<()> {
    let (mut client, _) = Client::connect_ready(&server.ws_url()).await?;
    let room = format!("soak{}", i % 50);
    let joined = client.request("join_room", json!({"room": room})).await?;
    assert_eq!(event_of(&joined), "room_joined", "{joined}");
    let ack = client
        .request("send_message", json!({"room": room, "text": "hi"}))
        .await?;
    assert_eq!(event_of(&ack), "message_ack", "{ack}");
    client.close().await
}

/// One hostile act of kind `n % 4`.
async fn hostile(server: &ChatServer, n: usize) -> Result<()> {
    match n % 4 {
        // 60 headers of 4,000 bytes on the upgrade.
        0 => {
            let filler = "h".repeat(4000);
            let names: Vec<String> = (0..60).map(|i| format!("X-Filler-{i}")).collect();
            let headers: Vec<(&str, &str)> = names
                .iter()
                .map(|n| (n.as_str(), filler.as_str()))
                .collect();
            let mut raw = RawWs::connect_with(server.addr(), "/ws", &headers).await?;
            raw.echo(1).await
        }
        // Joins up to the room cap and past it.
        1 => {
            let (mut client, _) = Client::connect_ready(&server.ws_url()).await?;
            for r in 0..120 {
                client
                    .request("join_room", json!({"room": format!("flood{n}x{r}")}))
                    .await?;
            }
            client.close().await
        }
        // A frame flood: a message that never ends.
        2 => {
            let mut raw = RawWs::connect(server.addr()).await?;
            raw.send_frame(false, opcode::TEXT, b"{").await?;
            let batch = client_frame(false, opcode::CONTINUATION, b"").repeat(8192);
            for _ in 0..100 {
                let write =
                    tokio::time::timeout(Duration::from_secs(2), raw.write_unbounded(&batch));
                if !matches!(write.await, Ok(Ok(()))) {
                    break;
                }
            }
            let _ = raw.expect_end(Duration::from_secs(10)).await;
            Ok(())
        }
        // A handler that panics.
        _ => {
            let (mut client, _) = Client::connect_ready(&server.ws_url()).await?;
            client.request("fail", json!({"mode": "panic"})).await?;
            client.close().await
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_cycles_under_hostile_load_leave_nothing_behind() -> Result<()> {
    let server = Arc::new(ChatServer::start(&["--max-rooms-per-connection", "100"]));
    let rss_start = rss_kib(server.pid()).unwrap_or(0);
    let stop = Arc::new(AtomicBool::new(false));

    let mut attackers = Vec::new();
    for a in 0..4 {
        let (server, stop) = (Arc::clone(&server), Arc::clone(&stop));
        attackers.push(tokio::spawn(async move {
            let mut n = a;
            while !stop.load(Ordering::Relaxed) {
                hostile(&server, n).await?;
                n += 4;
            }
            Ok::<_, Error>(n / 4)
        }));
    }
    let mut workers = Vec::new();
    for w in 0..WORKERS {
        let server = Arc::clone(&server);
        workers.push(tokio::spawn(async move {
            for i in (w..CYCLES).step_by(WORKERS) {
                cycle(&server, i).await?;
            }
            Ok::<_, Error>(())
        }));
    }
    for worker in workers {
        worker.await.map_err(|e| Error::Other(e.to_string()))??;
    }
    stop.store(true, Ordering::Relaxed);
    let mut acts = 0;
    for attacker in attackers {
        acts += attacker.await.map_err(|e| Error::Other(e.to_string()))??;
    }
    assert!(acts >= 4, "the hostile load barely ran: {acts} acts");

    let settled = eventually(
        Duration::from_secs(20),
        "no connection and no room",
        async || {
            let h = health(server.addr()).await?;
            Ok((h["connections"] == 0 && h["rooms"] == 0).then_some(h))
        },
    )
    .await?;
    assert_eq!(settled["status"], "ok", "{settled}");
    let rss_end = rss_kib(server.pid()).unwrap_or(0);
    println!("{CYCLES} cycles, {acts} hostile acts; RSS {rss_start} -> {rss_end} KiB");
    assert!(
        rss_end <= rss_start + 32 * 1024,
        "RSS grew from {rss_start} to {rss_end} KiB"
    );
    Ok(())
}
