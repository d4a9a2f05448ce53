//! Server configuration: [`SocketConfig`] mirrors the Python original's
//! `SocketApp` constructor one for one, plus the knobs a Rust server needs
//! (buffer sizes, queue bounds, connection caps).

use std::sync::Arc;
use std::time::Duration;

use crate::auth::AuthBackend;
use crate::backend::Backend;

/// Everything a socketspec server can be configured with.
///
/// ```
/// use std::time::Duration;
/// use socketspec_runtime::{RateLimit, SessionConfig, SocketConfig};
///
/// let config = SocketConfig {
///     max_payload_size: 16 * 1024,
///     rate_limit: Some(RateLimit::new(20, Duration::from_secs(1))),
///     session: SessionConfig { idle_timeout: Duration::ZERO, ..SessionConfig::default() },
///     ..SocketConfig::default()
/// };
/// assert_eq!(config.ws_path, "/ws");
/// ```
#[derive(Clone)]
pub struct SocketConfig {
    /// Serve the docs page at `docs_url` (seed: `docs`).
    pub docs: bool,
    /// Where the docs page lives (seed: `docs_url`).
    pub docs_url: String,
    /// Bearer token (or `?token=`) required for every docs route
    /// (seed: `docs_access_token`).
    pub docs_access_token: Option<String>,
    /// How connections authenticate at the upgrade; `None` admits everyone
    /// (seed: `auth`). Combine several with [`AnyOf`](crate::auth::AnyOf).
    pub auth: Option<Arc<dyn AuthBackend>>,
    /// Where rooms and broadcasts live (seed: `backend`, `"memory"` by default).
    pub backend: Backend,
    /// Exact `Origin` values allowed to upgrade; `["*"]` allows every origin
    /// (seed: `allowed_origins`).
    pub allowed_origins: Vec<String>,
    /// The largest inbound message in bytes (seed: `max_payload_size`).
    pub max_payload_size: usize,
    /// Per-connection token bucket (seed: `rate_limit`).
    pub rate_limit: Option<RateLimit>,
    /// Heartbeat and timeouts (seed: `session`).
    pub session: SessionConfig,
    /// Rooms that exist from start-up even when empty, besides the spec's
    /// static rooms (seed: `rooms`).
    pub rooms: Vec<String>,
    /// Namespace prefix for all events (seed: `namespace`). Informational: it
    /// appears in `__connect__`-time docs and the AsyncAPI export; event
    /// names on the wire are not prefixed.
    pub namespace: String,
    /// The WebSocket path the HTTP front upgrades on.
    pub ws_path: String,
    /// The most concurrent connections; past it upgrades get HTTP 503.
    pub max_connections: usize,
    /// How long a client may take to send its upgrade request.
    pub handshake_timeout: Duration,
    /// Outbound messages queued per connection before it counts as a slow
    /// consumer and is closed with 4008.
    pub outbound_queue: usize,
    /// Handlers waiting (parked on an await) per connection; past it the
    /// server stops reading from that connection until one finishes
    /// (backpressure). A handler that finishes without waiting never counts.
    pub max_in_flight: usize,
    /// Per-connection read buffer. Small by default: tungstenite's own default
    /// (128 KiB, allocated up front) would cost ~1.3 GB per 10,000 connections.
    pub read_buffer_size: usize,
    /// Per-connection write buffer target (bytes collected before a flush).
    pub write_buffer_size: usize,
    /// How long in-flight handlers may run once a graceful shutdown starts.
    pub shutdown_grace: Duration,
}

impl Default for SocketConfig {
    fn default() -> Self {
        SocketConfig {
            docs: false,
            docs_url: "/socket-docs".to_owned(),
            docs_access_token: None,
            auth: None,
            backend: Backend::Memory,
            allowed_origins: vec!["*".to_owned()],
            max_payload_size: 65_536,
            rate_limit: None,
            session: SessionConfig::default(),
            rooms: Vec::new(),
            namespace: "/".to_owned(),
            ws_path: "/ws".to_owned(),
            max_connections: 100_000,
            handshake_timeout: Duration::from_secs(10),
            outbound_queue: 1024,
            max_in_flight: 64,
            read_buffer_size: 4 * 1024,
            write_buffer_size: 8 * 1024,
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

impl std::fmt::Debug for SocketConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SocketConfig")
            .field("docs", &self.docs)
            .field("docs_url", &self.docs_url)
            .field(
                "docs_access_token",
                &self.docs_access_token.as_ref().map(|_| "<set>"),
            )
            .field("auth", &self.auth.as_ref().map(|_| "<set>"))
            .field("backend", &self.backend)
            .field("allowed_origins", &self.allowed_origins)
            .field("max_payload_size", &self.max_payload_size)
            .field("rate_limit", &self.rate_limit)
            .field("session", &self.session)
            .field("rooms", &self.rooms)
            .field("namespace", &self.namespace)
            .field("ws_path", &self.ws_path)
            .field("max_connections", &self.max_connections)
            .field("outbound_queue", &self.outbound_queue)
            .field("max_in_flight", &self.max_in_flight)
            .finish_non_exhaustive()
    }
}

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
pub struct SessionConfig {
    /// How often the server sends `__ping__`.
    pub heartbeat_interval: Duration,
    /// How long the client has to answer with `__pong__` (close 4004).
    pub heartbeat_timeout: Duration,
    /// Close after this long without an application event (close 4002).
    pub idle_timeout: Duration,
    /// Close after this long whatever happens (close 4003).
    pub max_duration: Duration,
    /// How long before the idle timeout and `max_duration` the warning comes.
    pub warning_window: Duration,
    /// How long before the credential's expiry `__auth_expiring__` comes.
    pub token_refresh_window: Duration,
    /// How long a crashed node's keys survive in a distributed backend.
    pub redis_key_ttl: Duration,
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
            redis_key_ttl: Duration::from_secs(30),
        }
    }
}
