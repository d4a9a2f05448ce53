//! The WebSocket close codes the server uses.

use std::fmt;

/// A WebSocket close code. The server uses the named ones; `Other` carries
/// any other code (one a handler chose, or one a peer sent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CloseCode {
    /// 1000: normal closure.
    Normal,
    /// 1001: the server is shutting down.
    GoingAway,
    /// 1002: a WebSocket protocol violation (unmasked or reserved frames,
    /// broken fragmentation, oversized control frames).
    ProtocolError,
    /// 1006: the connection was lost without a closing handshake (never
    /// sent; what a peer reports).
    Abnormal,
    /// 1007: a text message that is not valid UTF-8.
    InvalidPayload,
    /// 1008: a policy violation (a frame flood that never ends a message).
    PolicyViolation,
    /// 1009: a frame far above `max_payload_size`.
    MessageTooBig,
    /// 1011: an unexpected server condition (e.g. `on_connect` failed).
    InternalError,
    /// 4001: authentication failed or expired.
    Auth,
    /// 4002: idle timeout.
    IdleTimeout,
    /// 4003: `max_duration` reached.
    SessionExpired,
    /// 4004: no `__pong__` within `heartbeat_timeout`.
    HeartbeatTimeout,
    /// 4008: the outbound queue was full (a slow consumer).
    SlowConsumer,
    /// Any other code.
    Other(u16),
}

impl CloseCode {
    /// Every named code, in numeric order.
    pub const NAMED: [CloseCode; 13] = [
        CloseCode::Normal,
        CloseCode::GoingAway,
        CloseCode::ProtocolError,
        CloseCode::Abnormal,
        CloseCode::InvalidPayload,
        CloseCode::PolicyViolation,
        CloseCode::MessageTooBig,
        CloseCode::InternalError,
        CloseCode::Auth,
        CloseCode::IdleTimeout,
        CloseCode::SessionExpired,
        CloseCode::HeartbeatTimeout,
        CloseCode::SlowConsumer,
    ];

    /// The number on the wire.
    pub const fn as_u16(self) -> u16 {
        match self {
            CloseCode::Normal => 1000,
            CloseCode::GoingAway => 1001,
            CloseCode::ProtocolError => 1002,
            CloseCode::Abnormal => 1006,
            CloseCode::InvalidPayload => 1007,
            CloseCode::PolicyViolation => 1008,
            CloseCode::MessageTooBig => 1009,
            CloseCode::InternalError => 1011,
            CloseCode::Auth => 4001,
            CloseCode::IdleTimeout => 4002,
            CloseCode::SessionExpired => 4003,
            CloseCode::HeartbeatTimeout => 4004,
            CloseCode::SlowConsumer => 4008,
            CloseCode::Other(code) => code,
        }
    }

    /// The code for a number (`Other` when it has no name here).
    pub fn from_u16(code: u16) -> CloseCode {
        CloseCode::NAMED
            .into_iter()
            .find(|c| c.as_u16() == code)
            .unwrap_or(CloseCode::Other(code))
    }

    /// Whether a client should not reconnect after it: the credential was
    /// refused or expired (4001) or the client was idle (4002). Anything
    /// else (a lost connection, a shutdown, a slow consumer) may be retried.
    pub const fn is_final(self) -> bool {
        matches!(self, CloseCode::Auth | CloseCode::IdleTimeout)
    }
}

impl From<u16> for CloseCode {
    fn from(code: u16) -> Self {
        CloseCode::from_u16(code)
    }
}

impl From<CloseCode> for u16 {
    fn from(code: CloseCode) -> Self {
        code.as_u16()
    }
}

impl fmt::Display for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.as_u16())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_round_trip() {
        for code in CloseCode::NAMED {
            assert_eq!(CloseCode::from_u16(code.as_u16()), code);
        }
        assert_eq!(CloseCode::from_u16(4100), CloseCode::Other(4100));
        assert_eq!(u16::from(CloseCode::Other(4100)), 4100);
    }
}
