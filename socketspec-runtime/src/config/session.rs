//! [`SessionConfig`] (heartbeat and time limits of a connection) and
//! [`RateLimit`] (a per-connection token bucket).

use std::time::Duration;

/// A per-connection token bucket: `events` per `per`, refilled continuously.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    /// Bucket size: events allowed in a burst.
    pub events: u32,
    /// The period over which `events` tokens are refilled.
    pub per: Duration,
}

impl RateLimit {
    /// `events` per `per`.
    pub fn new(events: u32, per: Duration) -> Self {
        RateLimit { events, per }
    }
}

/// Heartbeat and time limits of a connection. `Duration::ZERO` turns a
/// timeout off; sub-second values work.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct SessionConfig {
    /// How often the server sends `__ping__` (25 s).
    pub heartbeat_interval: Duration,
    /// How long the client has to answer with `__pong__` (10 s; close 4004).
    pub heartbeat_timeout: Duration,
    /// Close after this long without an application event (300 s; close 4002).
    pub idle_timeout: Duration,
    /// Close after this long whatever happens (7,200 s; close 4003).
    pub max_duration: Duration,
    /// How long before the idle timeout and `max_duration` the warning comes (60 s).
    pub warning_window: Duration,
    /// How long before the credential's expiry `__auth_expiring__` comes (60 s).
    pub token_refresh_window: Duration,
    /// How long a connection lost without a closing handshake keeps its
    /// session (rooms, and the frames sent to it meanwhile) so that the
    /// client can resume it (`Duration::ZERO`, the default: resumption off;
    /// see docs/protocol.md, "Resumption").
    pub resume_window: Duration,
    /// With resumption on: how many recent frames each connection keeps for
    /// a resume (1,024). A session that falls this far behind while
    /// detached ends; a resume from further back gets a fresh connection.
    pub resume_buffer: usize,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            heartbeat_interval: Duration::from_secs(25),
            heartbeat_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(300),
            max_duration: Duration::from_secs(7200),
            warning_window: Duration::from_secs(60),
            token_refresh_window: Duration::from_secs(60),
            resume_window: Duration::ZERO,
            resume_buffer: 1024,
        }
    }
}

impl SessionConfig {
    /// Every timer off: no heartbeat, no idle timeout, no maximum duration
    /// (handy in tests).
    pub fn without_timers() -> Self {
        SessionConfig {
            heartbeat_interval: Duration::ZERO,
            heartbeat_timeout: Duration::ZERO,
            idle_timeout: Duration::ZERO,
            max_duration: Duration::ZERO,
            ..SessionConfig::default()
        }
    }

    /// Sets `heartbeat_interval`.
    pub fn heartbeat_interval(mut self, interval: Duration) -> Self {
        self.heartbeat_interval = interval;
        self
    }

    /// Sets `heartbeat_timeout`.
    pub fn heartbeat_timeout(mut self, timeout: Duration) -> Self {
        self.heartbeat_timeout = timeout;
        self
    }

    /// Sets `idle_timeout`.
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// Sets `max_duration`.
    pub fn max_duration(mut self, duration: Duration) -> Self {
        self.max_duration = duration;
        self
    }

    /// Sets `warning_window`.
    pub fn warning_window(mut self, window: Duration) -> Self {
        self.warning_window = window;
        self
    }

    /// Sets `resume_window` (`Duration::ZERO` turns resumption off).
    pub fn resume_window(mut self, window: Duration) -> Self {
        self.resume_window = window;
        self
    }

    /// Sets `resume_buffer` (at least one frame).
    pub fn resume_buffer(mut self, frames: usize) -> Self {
        self.resume_buffer = frames.max(1);
        self
    }

    /// Whether connections can resume (`resume_window` is not zero).
    pub fn resumable(&self) -> bool {
        !self.resume_window.is_zero()
    }

    /// Sets `token_refresh_window`.
    pub fn token_refresh_window(mut self, window: Duration) -> Self {
        self.token_refresh_window = window;
        self
    }
}
