//! The error envelope's codes and the error type handlers return.
//!
//! Every failure a client can see travels as an `__error__` envelope whose
//! `code` is one of [`ErrorCode`]. Handlers return [`Error`]; the runtime turns
//! it into the envelope, choosing `HANDLER_ERROR` unless the error carries a
//! more precise code (a refused room join, a broadcast to a missing room...).
//!
//! Three ways to fail a handler:
//! - `?` on any [`std::error::Error`]: a `HANDLER_ERROR` whose client-facing
//!   message is generic (the error's own text stays in the logs and
//!   `on_error`);
//! - [`bail!`](crate::bail) / [`Error::handler`]: a `HANDLER_ERROR` whose
//!   message the client reads as written;
//! - [`OrHandlerError`] on an `Option` or `Result`: the same, inline.
//!
//! ```
//! use socketspec_runtime::{OrHandlerError, Result, bail};
//!
//! fn price(bids: &[u64], auction: usize) -> Result<u64> {
//!     if auction > 99 {
//!         bail!("no auction {auction}");
//!     }
//!     let bid = bids.get(auction).or_handler_error("no bid yet")?;
//!     let parsed: u64 = "17".parse()?; // ParseIntError: a generic HANDLER_ERROR
//!     Ok(bid + parsed)
//! }
//! assert_eq!(price(&[1], 0).ok(), Some(18));
//! assert_eq!(price(&[1], 1).err().map(|e| e.message().to_owned()).as_deref(), Some("no bid yet"));
//! assert_eq!(price(&[1], 100).err().map(|e| e.message().to_owned()).as_deref(), Some("no auction 100"));
//! ```
//!
//! (`Err("text".into())` cannot work: a `From<&str>` would overlap with the
//! `From` for every `std::error::Error`, which Rust refuses.)

use std::fmt;

use serde_json::{Map, Value};

pub use socketspec_protocol::ErrorCode;

/// The result type of handlers, hooks and context methods.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An error a handler, a guard or the runtime reports to the client.
///
/// Build one with the constructors ([`Error::handler`], [`Error::room_not_found`]...)
/// or let `?` convert any [`std::error::Error`]: such an error becomes a
/// `HANDLER_ERROR` whose client-facing message is generic, so internal details
/// (database errors, file paths) never reach a client. Its text stays available
/// to the `on_error` hook and the logs through [`Error::source_text`].
///
/// Like `anyhow::Error`, this type deliberately does not implement
/// `std::error::Error`, which is what makes the blanket `From` possible.
pub struct Error {
    code: ErrorCode,
    message: String,
    details: Map<String, Value>,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
    /// The payload was refused before any handler ran (it does not match
    /// the event's schema or type): not a handler failure, so `on_error`
    /// is not told.
    payload_refused: bool,
}

impl Error {
    /// An error with an explicit code, client-facing message and no details.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Error {
            code,
            message: message.into(),
            details: Map::new(),
            source: None,
            payload_refused: false,
        }
    }

    /// A `HANDLER_ERROR` whose message the client sees as written.
    pub fn handler(message: impl Into<String>) -> Self {
        Error::new(ErrorCode::HandlerError, message)
    }

    /// A `ROOM_NOT_FOUND` for `room` (its full name), with `details.room`.
    pub fn room_not_found(room: &str) -> Self {
        Error::new(
            ErrorCode::RoomNotFound,
            format!("room `{room}` does not exist (it has no members and is not static)"),
        )
        .with_detail("room", room)
    }

    /// A `PERMISSION_ERROR` for a refused join of `room`, with `details.room`.
    pub fn permission_denied(room: &str, why: &str) -> Self {
        Error::new(
            ErrorCode::PermissionError,
            format!("cannot join room `{room}`: {why}"),
        )
        .with_detail("room", room)
    }

    /// Adds one entry to `details`.
    pub fn with_detail(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.details.insert(key.to_owned(), value.into());
        self
    }

    /// The protocol code this error is reported with.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The client-facing message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The `details` object of the envelope.
    pub fn details(&self) -> &Map<String, Value> {
        &self.details
    }

    /// The text of the underlying error when this one was converted with `?`
    /// (for logs and the `on_error` hook; never sent to the client).
    pub fn source_text(&self) -> Option<String> {
        self.source.as_ref().map(|e| e.to_string())
    }

    /// Marks the error as a refused payload (see `payload_refused`).
    #[cfg(feature = "server")]
    pub(crate) fn refusing_payload(mut self) -> Self {
        self.payload_refused = true;
        self
    }

    /// Whether the payload was refused before any handler ran.
    #[cfg(feature = "server")]
    pub(crate) fn is_payload_refusal(&self) -> bool {
        self.payload_refused
    }

    #[cfg(feature = "server")]
    pub(crate) fn into_parts(self) -> (ErrorCode, String, Map<String, Value>) {
        (self.code, self.message, self.details)
    }
}

/// Returns early from a handler with a `HANDLER_ERROR` whose message (a
/// `format!` string) the client reads as written.
#[macro_export]
macro_rules! bail {
    ($($arg:tt)+) => {
        return ::core::result::Result::Err($crate::Error::handler(::std::format!($($arg)+)))
    };
}

/// Turns a missing value or a failed result into a `HANDLER_ERROR` with a
/// message the client reads as written.
pub trait OrHandlerError<T> {
    /// `self`'s value, or a `HANDLER_ERROR` saying `message`.
    fn or_handler_error(self, message: impl Into<String>) -> Result<T>;
}

impl<T> OrHandlerError<T> for Option<T> {
    fn or_handler_error(self, message: impl Into<String>) -> Result<T> {
        self.ok_or_else(|| Error::handler(message))
    }
}

impl<T, E> OrHandlerError<T> for std::result::Result<T, E>
where
    E: std::error::Error + Send + Sync + 'static,
{
    fn or_handler_error(self, message: impl Into<String>) -> Result<T> {
        self.map_err(|e| {
            let mut error = Error::handler(message);
            error.source = Some(Box::new(e));
            error
        })
    }
}

/// Lets a broadcast or push to a room (or a connection, or a user) with
/// nobody in it succeed: the `ROOM_NOT_FOUND` such a send answers becomes
/// `Ok(0)`. Every other error stays.
///
/// ```
/// use socketspec_runtime::{AllowNobody, Error, Result};
///
/// let nobody: Result<usize> = Err(Error::room_not_found("chat:empty"));
/// assert_eq!(nobody.allow_nobody().ok(), Some(0));
/// let failed: Result<usize> = Err(Error::handler("backend down"));
/// assert!(failed.allow_nobody().is_err());
/// ```
pub trait AllowNobody {
    /// `Ok(0)` instead of `ROOM_NOT_FOUND`.
    fn allow_nobody(self) -> Result<usize>;
}

impl AllowNobody for Result<usize> {
    fn allow_nobody(self) -> Result<usize> {
        match self {
            Err(e) if e.code() == ErrorCode::RoomNotFound => Ok(0),
            other => other,
        }
    }
}

impl<E> From<E> for Error
where
    E: std::error::Error + Send + Sync + 'static,
{
    fn from(err: E) -> Self {
        Error {
            code: ErrorCode::HandlerError,
            message: "the handler failed".to_owned(),
            details: Map::new(),
            source: Some(Box::new(err)),
            payload_refused: false,
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("Error");
        s.field("code", &self.code).field("message", &self.message);
        if !self.details.is_empty() {
            s.field("details", &self.details);
        }
        if let Some(source) = &self.source {
            s.field("source", &source.to_string());
        }
        s.finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)?;
        if let Some(source) = &self.source {
            write!(f, " ({source})")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converted_errors_hide_their_text_from_the_client() {
        let io = std::io::Error::other("disk /var/secret is full");
        let err: Error = io.into();
        assert_eq!(err.code(), ErrorCode::HandlerError);
        assert!(!err.message().contains("secret"));
        assert!(err.source_text().unwrap_or_default().contains("secret"));
    }

    #[test]
    fn room_errors_carry_the_full_room_name() {
        let err = Error::room_not_found("chat:general");
        assert_eq!(err.code(), ErrorCode::RoomNotFound);
        assert_eq!(err.details()["room"], "chat:general");
    }
}
