//! Open files run out before `max_connections` no more: under a low
//! open-files limit the server caps its connections below it, answers 503
//! past the cap, and keeps answering `/socket-health`.

use socketspec_e2e::raw_ws::RawWs;
use socketspec_e2e::{ChatServer, Error, Result, http_get};

#[tokio::test]
async fn past_the_open_files_limit_upgrades_get_503_and_health_answers() -> Result<()> {
    let server = ChatServer::try_start_with_open_files(128, &[])?;
    let mut open = Vec::new();
    let mut refused = 0;
    for _ in 0..160 {
        match RawWs::connect(server.addr()).await {
            Ok(ws) => open.push(ws),
            Err(Error::Other(message)) if message.contains(" 503") => refused += 1,
            Err(other) => panic!(
                "after {} connections, an upgrade failed without a 503: {other}",
                open.len()
            ),
        }
    }
    assert!(
        refused > 0,
        "all {} upgrades admitted under 128 open files",
        open.len()
    );
    assert!(
        open.len() > 32 && open.len() < 128,
        "{} connections admitted under 128 open files",
        open.len()
    );
    let health = http_get(server.addr(), "/socket-health", &[]).await?;
    assert_eq!(health.status, 200, "{}", health.body);
    // Room comes back as connections close.
    open.truncate(open.len() - 5);
    socketspec_e2e::wait::eventually(socketspec_e2e::DEFAULT_TIMEOUT, "a free slot", async || {
        Ok(RawWs::connect(server.addr()).await.ok())
    })
    .await?;
    Ok(())
}
