//! Close codes (PROTOCOL.md, "Connection set-up") and why a close happens.

use crate::error::ErrorCode;

/// Close codes the server uses.
pub mod code {
    /// Normal closure.
    pub const NORMAL: u16 = 1000;
    /// The server is shutting down.
    pub const GOING_AWAY: u16 = 1001;
    /// A WebSocket protocol violation (unmasked or reserved frames,
    /// broken fragmentation, oversized control frames).
    pub const PROTOCOL_ERROR: u16 = 1002;
    /// A text message that is not valid UTF-8.
    pub const INVALID_PAYLOAD: u16 = 1007;
    /// A frame far above `max_payload_size`.
    pub const MESSAGE_TOO_BIG: u16 = 1009;
    /// An unexpected server condition (e.g. `on_connect` failed).
    pub const INTERNAL_ERROR: u16 = 1011;
    /// Authentication failed or expired.
    pub const AUTH: u16 = 4001;
    /// Idle timeout.
    pub const IDLE_TIMEOUT: u16 = 4002;
    /// `max_duration` reached.
    pub const SESSION_EXPIRED: u16 = 4003;
    /// No `__pong__` within `heartbeat_timeout`.
    pub const HEARTBEAT_TIMEOUT: u16 = 4004;
    /// The outbound queue was full.
    pub const SLOW_CONSUMER: u16 = 4008;
}

/// Why the server closes a connection: the close code, the `reason` sent in
/// `__disconnect__`, and the error envelope sent before it, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseReason {
    /// The WebSocket close code.
    pub code: u16,
    /// `__disconnect__`'s `reason`, also the close frame's reason text.
    pub reason: String,
    /// The error envelope to send first, with its message.
    pub error: Option<(ErrorCode, String)>,
}

impl CloseReason {
    /// A close with no error envelope.
    pub fn new(code: u16, reason: impl Into<String>) -> Self {
        CloseReason {
            code,
            reason: reason.into(),
            error: None,
        }
    }

    #[cfg(feature = "server")]
    pub(crate) fn with_error(mut self, code: ErrorCode, message: impl Into<String>) -> Self {
        self.error = Some((code, message.into()));
        self
    }

    #[cfg(feature = "server")]
    pub(crate) fn slow_consumer() -> Self {
        CloseReason::new(code::SLOW_CONSUMER, "slow_consumer")
    }
}
