//! The client's event stream: a bounded queue from the connection tasks
//! ([`EventSink`]) to whoever reads the stream ([`EventSource`]).
//!
//! The reader of a connection must never wait for the application (a
//! client that stops reading its stream would otherwise stop answering
//! `__ping__` and replies), so a full queue drops the new item and counts
//! it; the next read reports the count as [`Incoming::Lagged`].

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::{Mutex, mpsc};

use super::message::Incoming;

/// A bounded event queue of `capacity` items (at least one).
pub(crate) fn channel(capacity: usize) -> (EventSink, EventSource) {
    let (tx, rx) = mpsc::channel(capacity.max(1));
    let lagged = Arc::new(AtomicU64::new(0));
    (
        EventSink {
            tx,
            lagged: Arc::clone(&lagged),
        },
        EventSource {
            rx: Mutex::new(rx),
            lagged,
        },
    )
}

/// The sending side, held by the supervisor and each connection's reader.
/// The stream ends once every sink is dropped.
#[derive(Clone)]
pub(crate) struct EventSink {
    tx: mpsc::Sender<Incoming>,
    lagged: Arc<AtomicU64>,
}

impl EventSink {
    /// Queues an item; never waits. When the queue is full the item is
    /// dropped and counted.
    pub(crate) fn push(&self, item: Incoming) {
        if let Err(mpsc::error::TrySendError::Full(_)) = self.tx.try_send(item) {
            self.lagged.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// The reading side, shared by every handle of one client.
pub(crate) struct EventSource {
    rx: Mutex<mpsc::Receiver<Incoming>>,
    lagged: Arc<AtomicU64>,
}

impl EventSource {
    /// The next item: a lag notice first when items were dropped since the
    /// last read, else the next queued item; `None` once every sink is gone
    /// and the queue is drained.
    pub(crate) async fn next(&self) -> Option<Incoming> {
        let mut rx = self.rx.lock().await;
        let lagged = self.lagged.swap(0, Ordering::Relaxed);
        if lagged > 0 {
            return Some(Incoming::Lagged(lagged));
        }
        rx.recv().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::CloseInfo;

    fn closed(reason: &str) -> Incoming {
        Incoming::Closed(CloseInfo {
            code: None,
            reason: reason.to_owned(),
            reconnecting: false,
        })
    }

    #[tokio::test]
    async fn a_full_queue_drops_and_reports_the_count_then_ends() {
        let (sink, source) = channel(1);
        sink.push(closed("kept"));
        sink.push(closed("dropped"));
        sink.push(closed("dropped too"));
        assert_eq!(source.next().await, Some(Incoming::Lagged(2)));
        assert_eq!(source.next().await, Some(closed("kept")));
        drop(sink);
        assert_eq!(source.next().await, None);
    }
}
