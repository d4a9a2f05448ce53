//! [`FloodGuard`]: the rule that closes a connection whose frames never
//! amount to anything (close 1008, reason `frame_flood`).
//!
//! - Bytes read since the last complete message may not exceed eight times
//!   the WebSocket hard cap (2 MiB by default). The most a legitimate
//!   message can take on the wire is its hard cap in one-byte fragments,
//!   seven bytes each, so only a message that never ends gets there.
//! - Control frames (pings, pongs) are limited per second
//!   (`Limits::max_control_frames_per_sec`).

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::Poll;

use tokio::time::{Duration, Instant};

/// Tracks one connection's bytes and control frames.
pub(super) struct FloodGuard {
    bytes_read: Arc<AtomicU64>,
    max_unproductive_bytes: u64,
    last_message_at_byte: u64,
    control_limit: u32,
    control_window: Instant,
    control_seen: u32,
}

impl FloodGuard {
    /// A guard for a connection whose WebSocket hard cap is `hard_cap` bytes.
    /// `bytes_read` is the connection's live count of bytes read.
    pub(super) fn new(
        bytes_read: Arc<AtomicU64>,
        hard_cap: usize,
        control_per_sec: u32,
        now: Instant,
    ) -> Self {
        FloodGuard {
            bytes_read,
            max_unproductive_bytes: (hard_cap as u64).saturating_mul(8),
            last_message_at_byte: 0,
            control_limit: control_per_sec.max(1),
            control_window: now,
            control_seen: 0,
        }
    }

    /// A complete data message arrived.
    pub(super) fn message(&mut self) {
        self.last_message_at_byte = self.bytes_read.load(Ordering::Relaxed);
    }

    /// Whether the bytes read since the last message amount to a flood.
    pub(super) fn unproductive(&self) -> bool {
        let read = self.bytes_read.load(Ordering::Relaxed);
        read.saturating_sub(self.last_message_at_byte) > self.max_unproductive_bytes
    }

    /// Resolves when [`unproductive`](Self::unproductive); it is re-checked
    /// every time the loop's `select!` is polled, and never registers a
    /// waker of its own (the socket's reads wake the task).
    pub(super) fn tripped(&self) -> impl Future<Output = ()> + '_ {
        std::future::poll_fn(|_| {
            if self.unproductive() {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
    }

    /// Counts one control frame; `true` when it is one too many this second.
    pub(super) fn control(&mut self, now: Instant) -> bool {
        if now.saturating_duration_since(self.control_window) >= Duration::from_secs(1) {
            self.control_window = now;
            self.control_seen = 0;
        }
        self.control_seen = self.control_seen.saturating_add(1);
        self.control_seen > self.control_limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_without_a_message_become_a_flood() {
        let read = Arc::new(AtomicU64::new(0));
        let mut g = FloodGuard::new(Arc::clone(&read), 1000, 10, Instant::now());
        read.store(8000, Ordering::Relaxed);
        assert!(!g.unproductive());
        read.store(8001, Ordering::Relaxed);
        assert!(g.unproductive());
        g.message();
        read.store(16_000, Ordering::Relaxed);
        assert!(!g.unproductive());
    }

    #[test]
    fn control_frames_are_counted_per_second() {
        let t0 = Instant::now();
        let mut g = FloodGuard::new(Arc::default(), 1000, 3, t0);
        assert!(!g.control(t0));
        assert!(!g.control(t0));
        assert!(!g.control(t0));
        assert!(g.control(t0));
        assert!(!g.control(t0 + Duration::from_secs(1)));
    }
}
