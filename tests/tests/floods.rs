//! Streams that never drain: a fragmented message that never ends (empty
//! continuation frames forever) and a ping flood are closed with 1008, and
//! the session timers fire whatever the socket does.

use std::time::Duration;

use socketspec_e2e::raw_ws::{Incoming, RawWs, client_frame, opcode};
use socketspec_e2e::wait::eventually;
use socketspec_e2e::{ChatServer, Result, http_get};

const WAIT: Duration = Duration::from_secs(15);

/// `frames` empty continuation frames in one buffer.
fn empty_continuations(frames: usize) -> Vec<u8> {
    let one = client_frame(false, opcode::CONTINUATION, b"");
    one.repeat(frames)
}

/// The `frame_flood` count of `socketspec_connections_closed_total`.
fn flood_closes(metrics: &str) -> Option<f64> {
    metrics
        .lines()
        .find(|l| {
            l.starts_with("socketspec_connections_closed_total") && l.contains("\"frame_flood\"")
        })
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
}

/// Writes `batch` until `total` bytes went out or a write fails (the
/// server closed); then the end of the connection as the client sees it.
async fn flood(raw: &mut RawWs, batch: &[u8], total: usize) -> Result<Incoming> {
    let mut sent = 0;
    while sent < total {
        let write = tokio::time::timeout(Duration::from_secs(5), raw.write_unbounded(batch)).await;
        if !matches!(write, Ok(Ok(()))) {
            break;
        }
        sent += batch.len();
    }
    raw.expect_end(WAIT).await
}

#[tokio::test]
async fn a_message_that_never_ends_is_closed_with_1008() -> Result<()> {
    let server = ChatServer::start(&[]);
    let mut raw = RawWs::connect(server.addr()).await?;
    raw.send_frame(false, opcode::TEXT, b"{\"event\":\"echo\"")
        .await?;
    // 6 bytes a frame: 64 MiB would take ten million frames; the rule
    // closes the connection after 2 MiB that came to nothing.
    let end = flood(&mut raw, &empty_continuations(8192), 64 << 20).await?;
    assert!(
        matches!(end, Incoming::Close(Some(1008)) | Incoming::Eof),
        "the flood was not stopped: {end:?}"
    );
    // However the client saw the end, the server counts it a flood.
    eventually(WAIT, "a frame_flood close in /metrics", async || {
        let metrics = http_get(server.addr(), "/metrics", &[]).await?;
        Ok(flood_closes(&metrics.body).filter(|n| *n >= 1.0))
    })
    .await?;
    Ok(())
}

#[tokio::test]
async fn a_ping_flood_is_closed_with_1008() -> Result<()> {
    let server = ChatServer::start(&[]);
    let mut raw = RawWs::connect(server.addr()).await?;
    let pings = client_frame(true, opcode::PING, b"p").repeat(500);
    let end = flood(&mut raw, &pings, pings.len()).await?;
    assert_eq!(end, Incoming::Close(Some(1008)));
    Ok(())
}

#[tokio::test]
async fn heartbeat_fires_while_the_socket_never_drains() -> Result<()> {
    // A flood that stays under the 2 MiB rule: only the heartbeat (no
    // `__pong__` ever comes) can end it, and it must get its turn.
    let server = ChatServer::start(&["--heartbeat-interval", "0.3", "--heartbeat-timeout", "0.3"]);
    let mut raw = RawWs::connect(server.addr()).await?;
    raw.send_frame(false, opcode::TEXT, b"{\"event\":\"echo\"")
        .await?;
    let batch = empty_continuations(1024);
    let mut end = None;
    for _ in 0..200 {
        if raw.write_unbounded(&batch).await.is_err() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
        if let Ok(Ok(done)) =
            tokio::time::timeout(Duration::from_millis(1), raw.expect_end(WAIT)).await
        {
            end = Some(done);
            break;
        }
    }
    let end = match end {
        Some(end) => end,
        None => raw.expect_end(WAIT).await?,
    };
    assert_eq!(end, Incoming::Close(Some(4004)));
    Ok(())
}
