//! [`ClientError`]: everything a client call can fail with, and
//! [`ServerError`]: an `__error__` envelope the server sent.

use std::fmt;
use std::time::Duration;

use serde_json::{Map, Value};

use crate::error::ErrorCode;

/// An `__error__` envelope the server sent (the wire protocol's error
/// envelope, docs/protocol.md).
#[derive(Debug, Clone, PartialEq)]
pub struct ServerError {
    /// The error code.
    pub code: ErrorCode,
    /// A message for a person.
    pub message: String,
    /// The event that caused it, when the server knows it.
    pub event: Option<String>,
    /// The `id` of the request that caused it, else a fresh UUID chosen by
    /// the server.
    pub request_id: String,
    /// Per-code details (`details.room`, `details.retry_after`,
    /// `details.errors`...).
    pub details: Map<String, Value>,
}

impl ServerError {
    /// Reads an `__error__` payload. Fails (with a description) when it has
    /// no `code`, or one this version of the protocol does not know.
    pub fn from_payload(payload: &Value) -> Result<ServerError, String> {
        let code_text = payload
            .get("code")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("`__error__` without a string `code`: {payload}"))?;
        let code = ErrorCode::parse(code_text).ok_or_else(|| {
            format!(
                "`__error__` with an unknown code `{code_text}`: {}",
                payload
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
            )
        })?;
        Ok(ServerError {
            code,
            message: payload
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            event: payload
                .get("event")
                .and_then(Value::as_str)
                .map(str::to_owned),
            request_id: payload
                .get("request_id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            details: payload
                .get("details")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default(),
        })
    }

    /// The envelope's payload again, as the server sent it.
    pub fn to_payload(&self) -> Value {
        serde_json::json!({
            "code": self.code.as_str(),
            "event": self.event,
            "message": self.message,
            "request_id": self.request_id,
            "details": self.details,
        })
    }
}

impl fmt::Display for ServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)?;
        if let Some(event) = &self.event {
            write!(f, " (event `{event}`")?;
            write!(f, ", request {})", self.request_id)?;
        }
        Ok(())
    }
}

impl std::error::Error for ServerError {}

/// Why a client call failed.
///
/// Server-side failures are [`ClientError::Server`], carrying the envelope's
/// [`ErrorCode`], message, details and request id; [`ClientError::code`]
/// gives the code directly:
///
/// ```
/// use socketspec_runtime::ErrorCode;
/// use socketspec_runtime::client::{ClientError, ServerError};
///
/// let payload = serde_json::json!({"code": "ROOM_NOT_FOUND", "event": "send_message",
///     "message": "no such room", "request_id": "r1", "details": {"room": "chat:x"}});
/// let err = ClientError::from(ServerError::from_payload(&payload).unwrap());
/// assert_eq!(err.code(), Some(ErrorCode::RoomNotFound));
/// assert_eq!(err.server_error().unwrap().details["room"], "chat:x");
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The server answered with an `__error__` envelope.
    #[error("{0}")]
    Server(Box<ServerError>),
    /// No answer in time.
    #[error("{what}: no answer within {after:?}")]
    Timeout {
        /// What was awaited, e.g. "reply to `echo` (request r3)".
        what: String,
        /// How long the client waited.
        after: Duration,
    },
    /// The connection closed (or was never open) before the call finished.
    /// With reconnection on, a request in flight when the connection drops
    /// fails with this; later requests wait for the new connection.
    #[error("the connection is closed (close code {code:?}): {reason}")]
    Closed {
        /// The WebSocket close code, when a close frame was received.
        code: Option<u16>,
        /// Why: the server's `__disconnect__` reason, the close frame's
        /// reason, or what the transport reported.
        reason: String,
    },
    /// The server refused the WebSocket upgrade (e.g. 403 for an origin
    /// that is not allowed, 503 while shutting down).
    #[error("the server refused the WebSocket upgrade with HTTP {status}")]
    Rejected {
        /// The HTTP status.
        status: u16,
    },
    /// A network or WebSocket failure.
    #[error("transport error: {0}")]
    Transport(String),
    /// The reply to a request was not one of the events the spec declares
    /// for it.
    #[error("unexpected reply `{got}` (expected {expected})")]
    UnexpectedReply {
        /// The declared reply events, e.g. "`room_joined`".
        expected: String,
        /// The event that came.
        got: String,
    },
    /// A message's payload does not match the type the spec gives it.
    #[error("the payload of `{event}` does not match its type: {message}")]
    Decode {
        /// The event.
        event: String,
        /// What serde reported.
        message: String,
    },
    /// The server broke the wire protocol (a malformed envelope, an unknown
    /// error code).
    #[error("protocol error: {0}")]
    Protocol(String),
    /// A client option is invalid (a header value that is not allowed, a
    /// URL that cannot be parsed).
    #[error("invalid client option: {0}")]
    Config(String),
    /// The payload could not be encoded as JSON.
    #[error("cannot encode the payload: {0}")]
    Encode(String),
}

impl ClientError {
    /// The protocol error code, for errors the server reported.
    pub fn code(&self) -> Option<ErrorCode> {
        self.server_error().map(|e| e.code)
    }

    /// The server's error envelope, for errors the server reported.
    pub fn server_error(&self) -> Option<&ServerError> {
        match self {
            ClientError::Server(e) => Some(e),
            _ => None,
        }
    }

    /// Whether the call failed because the connection is closed.
    pub fn is_closed(&self) -> bool {
        matches!(self, ClientError::Closed { .. })
    }

    /// Whether the call timed out.
    pub fn is_timeout(&self) -> bool {
        matches!(self, ClientError::Timeout { .. })
    }

    /// The error an `__error__` payload describes.
    pub fn from_error_payload(payload: &Value) -> ClientError {
        match ServerError::from_payload(payload) {
            Ok(e) => ClientError::Server(Box::new(e)),
            Err(why) => ClientError::Protocol(why),
        }
    }

    pub(crate) fn closed(code: Option<u16>, reason: impl Into<String>) -> ClientError {
        ClientError::Closed {
            code,
            reason: reason.into(),
        }
    }

    pub(crate) fn from_ws(err: tokio_tungstenite::tungstenite::Error) -> ClientError {
        use tokio_tungstenite::tungstenite::Error as E;
        match err {
            E::Http(response) => ClientError::Rejected {
                status: response.status().as_u16(),
            },
            E::Url(e) => ClientError::Config(format!("invalid URL: {e}")),
            E::ConnectionClosed | E::AlreadyClosed => {
                ClientError::closed(None, "the connection is closed")
            }
            other => ClientError::Transport(other.to_string()),
        }
    }
}

impl From<ServerError> for ClientError {
    fn from(e: ServerError) -> Self {
        ClientError::Server(Box::new(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_an_error_envelope() {
        let payload = json!({"code": "RATE_LIMIT_ERROR", "event": "echo", "message": "slow down",
            "request_id": "r9", "details": {"retry_after": 1.5}});
        let err = ClientError::from_error_payload(&payload);
        assert_eq!(err.code(), Some(ErrorCode::RateLimitError));
        let server = err.server_error().cloned().unwrap_or_else(|| ServerError {
            code: ErrorCode::AuthError,
            message: String::new(),
            event: None,
            request_id: String::new(),
            details: Map::new(),
        });
        assert_eq!(server.request_id, "r9");
        assert_eq!(server.event.as_deref(), Some("echo"));
        assert_eq!(server.details["retry_after"], 1.5);
        assert_eq!(server.to_payload(), payload);
        assert!(err.to_string().contains("RATE_LIMIT_ERROR: slow down"));
    }

    #[test]
    fn an_unknown_code_is_a_protocol_error() {
        let err = ClientError::from_error_payload(&json!({"code": "NEW_CODE", "message": "m"}));
        assert!(matches!(err, ClientError::Protocol(ref m) if m.contains("NEW_CODE")));
        assert_eq!(err.code(), None);
    }
}
