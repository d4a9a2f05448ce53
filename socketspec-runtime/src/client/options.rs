//! [`ClientOptions`]: headers, credentials, timeouts and reconnection.

use std::fmt;
use std::time::Duration;

use http::{HeaderMap, HeaderName, HeaderValue};

use super::error::ClientError;

/// How a client connects and behaves.
///
/// ```
/// use std::time::Duration;
/// use socketspec_runtime::client::{ClientOptions, ReconnectPolicy};
///
/// let options = ClientOptions::new()
///     .jwt("eyJ...")
///     .header("Origin", "https://app.example")
///     .request_timeout(Duration::from_secs(5))
///     .reconnect(ReconnectPolicy::default());
/// # let _ = options;
/// ```
#[derive(Clone)]
pub struct ClientOptions {
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) jwt: Option<String>,
    pub(crate) api_key: Option<String>,
    pub(crate) request_timeout: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) reconnect: Option<ReconnectPolicy>,
    pub(crate) event_buffer: usize,
    pub(crate) auto_pong: bool,
    pub(crate) check_payload_size: bool,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            headers: Vec::new(),
            jwt: None,
            api_key: None,
            request_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(10),
            reconnect: None,
            event_buffer: 1024,
            auto_pong: true,
            check_payload_size: true,
        }
    }
}

impl fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("ClientOptions")
            .field("headers", &names)
            .field("jwt", &self.jwt.as_ref().map(|_| "<set>"))
            .field("api_key", &self.api_key.as_ref().map(|_| "<set>"))
            .field("request_timeout", &self.request_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("reconnect", &self.reconnect)
            .field("event_buffer", &self.event_buffer)
            .field("auto_pong", &self.auto_pong)
            .field("check_payload_size", &self.check_payload_size)
            .finish()
    }
}

impl ClientOptions {
    /// The defaults: no credential, 10 s request and connect timeouts, no
    /// reconnection, a 1024-message event buffer, automatic `__pong__`.
    pub fn new() -> Self {
        ClientOptions::default()
    }

    /// Adds a header to the upgrade request (e.g. `Origin`, a cookie).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Authenticates with a JWT, sent as `Authorization: Bearer <token>`.
    /// [`refresh_auth`](super::RawClient::refresh_auth) replaces it, for
    /// reconnects too.
    pub fn jwt(mut self, token: impl Into<String>) -> Self {
        self.jwt = Some(token.into());
        self
    }

    /// Authenticates with an API key, sent as `X-API-Key: <key>`.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// How long a request waits for its reply (default 10 s). While the
    /// client reconnects, the wait for the new connection counts too.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// How long connecting may take, up to `__connect__` (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Reconnects with `policy` when the connection drops (off by default).
    pub fn reconnect(mut self, policy: ReconnectPolicy) -> Self {
        self.reconnect = Some(policy);
        self
    }

    /// Turns reconnection off (the default).
    pub fn no_reconnect(mut self) -> Self {
        self.reconnect = None;
        self
    }

    /// How many unread messages the event stream holds before it drops new
    /// ones and reports [`Incoming::Lagged`](super::Incoming::Lagged)
    /// (default 1024). Replies to requests never go through it.
    pub fn event_buffer(mut self, messages: usize) -> Self {
        self.event_buffer = messages.max(1);
        self
    }

    /// Whether the client answers `__ping__` with `__pong__` by itself
    /// (default on; tests turn it off to see the heartbeat timeout).
    pub fn auto_pong(mut self, on: bool) -> Self {
        self.auto_pong = on;
        self
    }

    /// Whether a message larger than the server's `max_payload_size` (from
    /// `__connect__`) is refused locally with `PAYLOAD_TOO_LARGE` instead of
    /// being sent (default on). The server's own refusal of such a message
    /// carries no request id, so a request could not be matched to it.
    pub fn check_payload_size(mut self, on: bool) -> Self {
        self.check_payload_size = on;
        self
    }

    /// The upgrade request's extra headers, with `jwt` (when given, else
    /// the configured JWT) and the API key.
    pub(crate) fn handshake_headers(&self, jwt: Option<&str>) -> Result<HeaderMap, ClientError> {
        let mut headers = HeaderMap::new();
        let mut add = |name: &str, value: &str| -> Result<(), ClientError> {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|e| ClientError::Config(format!("header name `{name}`: {e}")))?;
            let value = HeaderValue::from_str(value)
                .map_err(|e| ClientError::Config(format!("value of header `{name}`: {e}")))?;
            headers.append(name, value);
            Ok(())
        };
        for (name, value) in &self.headers {
            add(name, value)?;
        }
        if let Some(token) = jwt.or(self.jwt.as_deref()) {
            add("authorization", &format!("Bearer {token}"))?;
        }
        if let Some(key) = &self.api_key {
            add("x-api-key", key)?;
        }
        Ok(headers)
    }
}

/// When and how often a client reconnects after its connection drops.
///
/// The delay before attempt `n` (from 0) is `initial_delay * 2^n`, capped at
/// `max_delay`, with up to 20 % random jitter so that many clients do not
/// come back in lockstep after a server restart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReconnectPolicy {
    /// The delay before the first attempt.
    pub initial_delay: Duration,
    /// The longest delay between attempts.
    pub max_delay: Duration,
    /// Give up after this many failed attempts in a row (`None`: never).
    pub max_attempts: Option<u32>,
}

impl Default for ReconnectPolicy {
    fn default() -> Self {
        ReconnectPolicy {
            initial_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(5),
            max_attempts: None,
        }
    }
}

impl ReconnectPolicy {
    /// The delay before attempt `attempt` (0 for the first), jitter aside.
    pub fn delay(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.min(20));
        self.initial_delay
            .saturating_mul(factor)
            .min(self.max_delay.max(self.initial_delay))
    }

    pub(crate) fn jittered(&self, attempt: u32) -> Duration {
        let base = self.delay(attempt);
        // 0..=20 % extra, from the random bits of a v4 UUID.
        let percent = (uuid::Uuid::new_v4().as_u128() % 21) as u32;
        base + base * percent / 100
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let p = ReconnectPolicy {
            initial_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
            max_attempts: None,
        };
        let delays: Vec<u128> = (0..6).map(|n| p.delay(n).as_millis()).collect();
        assert_eq!(delays, [100, 200, 400, 800, 1000, 1000]);
        let j = p.jittered(1);
        assert!(j >= Duration::from_millis(200) && j <= Duration::from_millis(240));
        assert_eq!(p.delay(u32::MAX), Duration::from_secs(1));
    }

    #[test]
    fn credentials_become_headers() {
        let options = ClientOptions::new()
            .header("Origin", "https://a.example")
            .jwt("t1")
            .api_key("k");
        let headers = options.handshake_headers(None).unwrap_or_default();
        assert_eq!(headers["origin"], "https://a.example");
        assert_eq!(headers["authorization"], "Bearer t1");
        assert_eq!(headers["x-api-key"], "k");
        let refreshed = options.handshake_headers(Some("t2")).unwrap_or_default();
        assert_eq!(refreshed["authorization"], "Bearer t2");
        let bad = ClientOptions::new().header("bad header", "x");
        assert!(matches!(
            bad.handshake_headers(None),
            Err(ClientError::Config(_))
        ));
        assert!(!format!("{options:?}").contains("t1"));
    }
}
