//! [`Error`]: what can go wrong in the harness or on the wire.

use std::fmt;

use socketspec_runtime::client::ClientError;

/// What went wrong in the harness or on the wire.
#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// A binary the tests run could not be located or built (cargo's
    /// output included).
    Build(String),
    /// The server process could not be started or did not report its address.
    Start(String),
    /// The WebSocket upgrade was refused with this HTTP status.
    Http(u16),
    /// The server broke the wire protocol (see [`crate::wire_check`]).
    Protocol(String),
    /// A client call failed for another reason (the project client's error).
    Client(ClientError),
    /// An I/O error outside the WebSocket (processes, pipes, raw sockets).
    Io(String),
    /// A message that is not JSON, or JSON that could not be encoded.
    Json(String),
    /// Nothing (or not the awaited message) arrived in time.
    Timeout(String),
    /// The connection closed; the close code, if the server sent one.
    Closed(Option<u16>),
    /// Anything else, e.g. a token that could not be signed.
    Other(String),
}

impl Error {
    /// The HTTP status of a refused upgrade.
    pub fn http_status(&self) -> Option<u16> {
        match self {
            Error::Http(status) => Some(*status),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Build(m) => write!(f, "building a test binary failed:\n{m}"),
            Error::Start(m) => write!(f, "starting chat-server failed: {m}"),
            Error::Http(s) => write!(f, "the upgrade was refused with HTTP {s}"),
            Error::Protocol(m) => write!(f, "the server broke the wire protocol: {m}"),
            Error::Client(e) => write!(f, "client error: {e}"),
            Error::Io(m) => write!(f, "i/o error: {m}"),
            Error::Json(m) => write!(f, "json error: {m}"),
            Error::Timeout(m) => write!(f, "timed out: {m}"),
            Error::Closed(code) => write!(f, "the connection closed (close code {code:?})"),
            Error::Other(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for Error {}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(e.to_string())
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::Json(e.to_string())
    }
}

impl From<ClientError> for Error {
    fn from(e: ClientError) -> Self {
        match e {
            ClientError::Rejected { status } => Error::Http(status),
            ClientError::Closed { code, .. } => Error::Closed(code),
            ClientError::Timeout { .. } => Error::Timeout(e.to_string()),
            ClientError::Protocol(m) => Error::Protocol(m),
            other => Error::Client(other),
        }
    }
}

/// The harness's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
