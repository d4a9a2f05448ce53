//! The codes of the `__error__` envelope.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Every error code of the wire protocol. Each `__error__` envelope carries
/// one as its `code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    /// Credential missing or invalid at connect, or a refused `__refresh_auth__`.
    AuthError,
    /// The credential expired mid-session without a refresh.
    AuthExpired,
    /// The handler returned an error or panicked.
    HandlerError,
    /// No application event for `idle_timeout`.
    IdleTimeout,
    /// A message larger than `max_payload_size`.
    PayloadTooLarge,
    /// A room guard refused a join (or a room limit did).
    PermissionError,
    /// The connection's token bucket is empty.
    RateLimitError,
    /// A broadcast to a room that has no members and is not static.
    RoomNotFound,
    /// `max_duration` reached.
    SessionExpired,
    /// No handler for this event.
    UnknownEvent,
    /// Not JSON, not an envelope, or a payload that fails its schema.
    ValidationError,
}

impl ErrorCode {
    /// Every code, in the order of the protocol's table.
    pub const ALL: [ErrorCode; 11] = [
        ErrorCode::AuthError,
        ErrorCode::AuthExpired,
        ErrorCode::HandlerError,
        ErrorCode::IdleTimeout,
        ErrorCode::PayloadTooLarge,
        ErrorCode::PermissionError,
        ErrorCode::RateLimitError,
        ErrorCode::RoomNotFound,
        ErrorCode::SessionExpired,
        ErrorCode::UnknownEvent,
        ErrorCode::ValidationError,
    ];

    /// The code as it appears on the wire, e.g. `"ROOM_NOT_FOUND"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::AuthError => "AUTH_ERROR",
            ErrorCode::AuthExpired => "AUTH_EXPIRED",
            ErrorCode::HandlerError => "HANDLER_ERROR",
            ErrorCode::IdleTimeout => "IDLE_TIMEOUT",
            ErrorCode::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            ErrorCode::PermissionError => "PERMISSION_ERROR",
            ErrorCode::RateLimitError => "RATE_LIMIT_ERROR",
            ErrorCode::RoomNotFound => "ROOM_NOT_FOUND",
            ErrorCode::SessionExpired => "SESSION_EXPIRED",
            ErrorCode::UnknownEvent => "UNKNOWN_EVENT",
            ErrorCode::ValidationError => "VALIDATION_ERROR",
        }
    }

    /// What triggers it, in one line (the protocol's table).
    pub const fn trigger(self) -> &'static str {
        match self {
            ErrorCode::AuthError => {
                "credential missing or invalid at connect; a refused `__refresh_auth__`"
            }
            ErrorCode::AuthExpired => "the credential expired mid-session without a refresh",
            ErrorCode::HandlerError => {
                "the handler returned an error or panicked (a panic's text never reaches the client)"
            }
            ErrorCode::IdleTimeout => "no application event for `idle_timeout`",
            ErrorCode::PayloadTooLarge => "a message larger than `max_payload_size`",
            ErrorCode::PermissionError => "a room guard or a room limit refused a join",
            ErrorCode::RateLimitError => "the connection's token bucket is empty",
            ErrorCode::RoomNotFound => {
                "a broadcast to a room that has no members and is not static"
            }
            ErrorCode::SessionExpired => "`max_duration` reached",
            ErrorCode::UnknownEvent => {
                "no handler for this event, or a client sent a server-only system event"
            }
            ErrorCode::ValidationError => {
                "not JSON, not an object, no string `event`, or the payload fails the event's schema"
            }
        }
    }

    /// Whether the server closes the connection after sending it (at
    /// connect for `AUTH_ERROR`).
    pub const fn closes_connection(self) -> bool {
        matches!(
            self,
            ErrorCode::AuthError
                | ErrorCode::AuthExpired
                | ErrorCode::IdleTimeout
                | ErrorCode::SessionExpired
        )
    }

    /// Parses a wire code; `None` for a code this version does not know.
    pub fn parse(code: &str) -> Option<ErrorCode> {
        ErrorCode::ALL.into_iter().find(|c| c.as_str() == code)
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_and_as_str_agree() {
        for code in ErrorCode::ALL {
            let json = serde_json::to_string(&code).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            assert_eq!(ErrorCode::parse(code.as_str()), Some(code));
        }
        assert_eq!(ErrorCode::parse("NOPE"), None);
    }
}
