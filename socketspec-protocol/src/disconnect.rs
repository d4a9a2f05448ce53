//! Why a connection ended: the `reason` of `__disconnect__`, the
//! `on_disconnect` hook's argument and the metrics' label.

use std::borrow::Cow;
use std::fmt;

use crate::CloseCode;

/// Why a connection ended.
///
/// The server sends `__disconnect__ {reason}` with [`as_str`](Self::as_str)
/// before every close it starts; `on_disconnect` gets the same value for
/// every end, the client's included.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DisconnectReason {
    /// The client closed the connection (a close frame, or the end of the stream).
    ClientClose,
    /// The connection broke without a closing handshake, or a write failed.
    TransportError,
    /// The server closed it without a more precise reason.
    ClosedByServer,
    /// The client read slower than it was sent to: its outbound queue filled (4008).
    SlowConsumer,
    /// A frame far above `max_payload_size` (1009).
    MessageTooBig,
    /// A WebSocket protocol violation (1002).
    ProtocolError,
    /// A text frame that is not UTF-8 (1007).
    InvalidUtf8,
    /// Frames that never end a message, or a control-frame flood (1008).
    FrameFlood,
    /// No `__pong__` within `heartbeat_timeout` (4004).
    HeartbeatTimeout,
    /// No application event within `idle_timeout` (4002).
    IdleTimeout,
    /// `max_duration` reached (4003).
    SessionExpired,
    /// The credential expired without a refresh (4001).
    AuthExpired,
    /// The credential was refused at connect (4001).
    AuthError,
    /// A graceful shutdown closed it (1001).
    ServerShutdown,
    /// The `on_connect` hook failed (1011).
    OnConnectFailed,
    /// The server failed unexpectedly while serving it (1011).
    InternalError,
    /// A resumable session's window passed without a resume.
    ResumeExpired,
    /// A reason an application chose (through `Connection::close`).
    Custom(Cow<'static, str>),
}

impl DisconnectReason {
    /// Every reason the runtime itself uses, in a fixed order (what the
    /// metrics label).
    pub const KNOWN: [DisconnectReason; 17] = [
        DisconnectReason::ClientClose,
        DisconnectReason::TransportError,
        DisconnectReason::ClosedByServer,
        DisconnectReason::SlowConsumer,
        DisconnectReason::MessageTooBig,
        DisconnectReason::ProtocolError,
        DisconnectReason::InvalidUtf8,
        DisconnectReason::FrameFlood,
        DisconnectReason::HeartbeatTimeout,
        DisconnectReason::IdleTimeout,
        DisconnectReason::SessionExpired,
        DisconnectReason::AuthExpired,
        DisconnectReason::AuthError,
        DisconnectReason::ServerShutdown,
        DisconnectReason::OnConnectFailed,
        DisconnectReason::InternalError,
        DisconnectReason::ResumeExpired,
    ];

    /// A reason an application chose.
    pub fn custom(reason: impl Into<Cow<'static, str>>) -> Self {
        let reason = reason.into();
        DisconnectReason::KNOWN
            .into_iter()
            .find(|known| known.as_str() == reason)
            .unwrap_or(DisconnectReason::Custom(reason))
    }

    /// The reason as the wire and the hooks spell it, e.g. `idle_timeout`.
    pub fn as_str(&self) -> &str {
        match self {
            DisconnectReason::ClientClose => "client_close",
            DisconnectReason::TransportError => "transport_error",
            DisconnectReason::ClosedByServer => "closed_by_server",
            DisconnectReason::SlowConsumer => "slow_consumer",
            DisconnectReason::MessageTooBig => "message_too_big",
            DisconnectReason::ProtocolError => "protocol_error",
            DisconnectReason::InvalidUtf8 => "invalid_utf8",
            DisconnectReason::FrameFlood => "frame_flood",
            DisconnectReason::HeartbeatTimeout => "heartbeat_timeout",
            DisconnectReason::IdleTimeout => "idle_timeout",
            DisconnectReason::SessionExpired => "session_expired",
            DisconnectReason::AuthExpired => "auth_expired",
            DisconnectReason::AuthError => "auth_error",
            DisconnectReason::ServerShutdown => "server_shutdown",
            DisconnectReason::OnConnectFailed => "on_connect_failed",
            DisconnectReason::InternalError => "internal_error",
            DisconnectReason::ResumeExpired => "resume_expired",
            DisconnectReason::Custom(reason) => reason,
        }
    }

    /// The close code the server sends with it, for reasons the server
    /// starts; `None` for ends it does not start (the client's close, a
    /// broken transport).
    pub fn close_code(&self) -> Option<CloseCode> {
        Some(match self {
            DisconnectReason::ClientClose
            | DisconnectReason::TransportError
            | DisconnectReason::ResumeExpired => return None,
            DisconnectReason::ClosedByServer | DisconnectReason::Custom(_) => CloseCode::Normal,
            DisconnectReason::SlowConsumer => CloseCode::SlowConsumer,
            DisconnectReason::MessageTooBig => CloseCode::MessageTooBig,
            DisconnectReason::ProtocolError => CloseCode::ProtocolError,
            DisconnectReason::InvalidUtf8 => CloseCode::InvalidPayload,
            DisconnectReason::FrameFlood => CloseCode::PolicyViolation,
            DisconnectReason::HeartbeatTimeout => CloseCode::HeartbeatTimeout,
            DisconnectReason::IdleTimeout => CloseCode::IdleTimeout,
            DisconnectReason::SessionExpired => CloseCode::SessionExpired,
            DisconnectReason::AuthExpired | DisconnectReason::AuthError => CloseCode::Auth,
            DisconnectReason::ServerShutdown => CloseCode::GoingAway,
            DisconnectReason::OnConnectFailed | DisconnectReason::InternalError => {
                CloseCode::InternalError
            }
        })
    }

    /// Its position in [`KNOWN`](Self::KNOWN); `None` for a custom reason.
    pub fn known_index(&self) -> Option<usize> {
        DisconnectReason::KNOWN.iter().position(|k| k == self)
    }
}

impl fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<str> for DisconnectReason {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for DisconnectReason {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_reasons_are_distinct_and_custom_text_maps_back_to_them() {
        for (i, reason) in DisconnectReason::KNOWN.iter().enumerate() {
            assert_eq!(reason.known_index(), Some(i));
            assert_eq!(
                &DisconnectReason::custom(reason.as_str().to_owned()),
                reason
            );
        }
        let custom = DisconnectReason::custom("kicked");
        assert_eq!(custom, DisconnectReason::Custom("kicked".into()));
        assert_eq!(custom.known_index(), None);
        assert_eq!(custom.close_code(), Some(CloseCode::Normal));
        assert_eq!(
            DisconnectReason::IdleTimeout.close_code(),
            Some(CloseCode::IdleTimeout)
        );
    }
}
