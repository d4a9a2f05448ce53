//! Server configuration, split by concern: [`HttpConfig`] (paths, docs,
//! origins), [`Limits`] (sizes, queues, caps), [`SessionConfig`] (heartbeat
//! and timeouts), an optional [`RateLimit`], static rooms and the shutdown
//! grace. Authentication and the backend are set on the
//! [`ServerBuilder`](crate::ServerBuilder), not here.
//!
//! Every struct is `#[non_exhaustive]`: start from `default()` and change
//! what you need, with the setters or by assigning fields.
//!
//! ```
//! use std::time::Duration;
//! use socketspec_runtime::config::{Limits, RateLimit, ServerConfig, SessionConfig};
//!
//! let config = ServerConfig::default()
//!     .limits(Limits::default().max_payload_size(16 * 1024))
//!     .session(SessionConfig::default().idle_timeout(Duration::ZERO))
//!     .rate_limit(RateLimit::new(20, Duration::from_secs(1)));
//! assert_eq!(config.http.ws_path, "/ws");
//! assert_eq!(config.limits.max_payload_size, 16 * 1024);
//! ```

mod http;
mod limits;
mod session;

use std::time::Duration;

pub use http::HttpConfig;
pub use limits::Limits;
pub use session::{RateLimit, SessionConfig};

/// Everything a server is configured with but its authentication and
/// backend.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServerConfig {
    /// Paths, the docs page, allowed origins, the upgrade's timeout.
    pub http: HttpConfig,
    /// Sizes, queues and caps.
    pub limits: Limits,
    /// Heartbeat and time limits of every connection.
    pub session: SessionConfig,
    /// A per-connection token bucket; `None` (the default) limits nothing.
    pub rate_limit: Option<RateLimit>,
    /// Rooms that exist from start-up even when empty, besides the spec's
    /// static rooms.
    pub static_rooms: Vec<String>,
    /// How long in-flight handlers may run once a graceful shutdown starts.
    pub shutdown_grace: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            http: HttpConfig::default(),
            limits: Limits::default(),
            session: SessionConfig::default(),
            rate_limit: None,
            static_rooms: Vec::new(),
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

impl ServerConfig {
    /// Sets the HTTP configuration.
    pub fn http(mut self, http: HttpConfig) -> Self {
        self.http = http;
        self
    }

    /// Sets the limits.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Sets the session configuration.
    pub fn session(mut self, session: SessionConfig) -> Self {
        self.session = session;
        self
    }

    /// Limits every connection to `limit`.
    pub fn rate_limit(mut self, limit: RateLimit) -> Self {
        self.rate_limit = Some(limit);
        self
    }

    /// Adds a room that exists from start-up even when empty.
    pub fn static_room(mut self, room: impl Into<String>) -> Self {
        self.static_rooms.push(room.into());
        self
    }

    /// Sets how long in-flight handlers may run once a graceful shutdown starts.
    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.shutdown_grace = grace;
        self
    }
}
