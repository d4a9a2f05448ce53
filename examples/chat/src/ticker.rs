//! The background task behind `--tick-interval`: it broadcasts `tick`
//! `{seq}` to `chat:ticker` through the typed push API, with no handler
//! and no client message involved.

use std::time::Duration;

use socketspec_runtime::AllowNobody;

use crate::chat;

/// The room the ticks go to (`chat:ticker`).
pub const TICKER_ROOM: &str = "ticker";

/// Broadcasts `tick` `{seq: 1, 2, 3, ...}` every `every`, until the
/// returned task is aborted or the runtime stops. A tick with nobody in the
/// room is not an error; a failed one (the backend down) is logged.
pub fn spawn(push: chat::Push, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut seq: u64 = 0;
        loop {
            interval.tick().await;
            seq += 1;
            let sent = push
                .broadcast_tick(TICKER_ROOM, chat::Tick::new(seq.into()))
                .await
                .allow_nobody();
            if let Err(error) = sent {
                tracing::warn!(seq, %error, "a tick was not sent");
            }
        }
    })
}
