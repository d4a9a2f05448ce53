//! The error envelope's codes and the error type handlers return.
//!
//! Every failure a client can see travels as an `__error__` envelope whose
//! `code` is one of [`ErrorCode`]. Handlers return [`Error`]; the runtime turns
//! it into the envelope, choosing `HANDLER_ERROR` unless the error carries a
//! more precise code (a refused room join, a broadcast to a missing room...).
//!
//! Four ways to fail a handler, all a `HANDLER_ERROR`:
//! - `Err("no such auction".into())` (a `&'static str`, a `String` or a
//!   `Cow<'static, str>`): the client reads the text as written;
//! - [`bail!`](crate::bail) / [`Error::handler`]: the same, with `format!`
//!   arguments;
//! - [`OrHandlerError`] on an `Option` or `Result`: the same, inline;
//! - `?` on any [`std::error::Error`] (and on anything else that converts into
//!   `Box<dyn std::error::Error + Send + Sync>`, `anyhow::Error` included):
//!   the client-facing message is generic, so internal details (database
//!   errors, file paths) never reach a client; the error's own text stays in
//!   the logs and `on_error` ([`Error::source_text`]).
//!
//! ```
//! use socketspec_runtime::{OrHandlerError, Result, bail};
//!
//! fn price(bids: &[u64], auction: usize) -> Result<u64> {
//!     if auction > 99 {
//!         bail!("no auction {auction}");
//!     }
//!     if auction == 42 {
//!         return Err("no such auction".into());
//!     }
//!     let bid = bids.get(auction).or_handler_error("no bid yet")?;
//!     let parsed: u64 = "17".parse()?; // ParseIntError: a generic HANDLER_ERROR
//!     Ok(bid + parsed)
//! }
//! let message = |r: Result<u64>| r.err().map(|e| e.message().to_owned());
//! assert_eq!(price(&[1], 0).ok(), Some(18));
//! assert_eq!(message(price(&[1], 1)).as_deref(), Some("no bid yet"));
//! assert_eq!(message(price(&[1], 42)).as_deref(), Some("no such auction"));
//! assert_eq!(message(price(&[1], 100)).as_deref(), Some("no auction 100"));
//! ```

use std::fmt;

use serde_json::{Map, Value};

pub use socketspec_protocol::ErrorCode;

/// The result type of handlers, hooks and context methods.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An error a handler, a guard or the runtime reports to the client.
///
/// Build one with the constructors ([`Error::handler`], [`Error::room_not_found`]...),
/// from a message (`"no such auction".into()`, a `String` too: the client
/// reads it as written), or let `?` convert any [`std::error::Error`]: such
/// an error becomes a `HANDLER_ERROR` whose client-facing message is
/// generic, so internal details (database errors, file paths) never reach a
/// client. Its text stays available to the `on_error` hook and the logs
/// through [`Error::source_text`].
///
/// Like `anyhow::Error`, this type deliberately does not implement
/// `std::error::Error`: that is what lets one `From` take both messages and
/// errors.
pub struct Error {
    code: ErrorCode,
    message: String,
    details: Map<String, Value>,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
    /// The payload was refused before any handler ran (it does not match
    /// the event's schema or type): not a handler failure, so `on_error`
    /// is not told.
    #[cfg_attr(not(feature = "server"), allow(dead_code))]
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

/// Messages and errors alike: everything `Box<dyn std::error::Error + Send +
/// Sync>` converts from (a `&'static str`, a `String`, a `Cow<'static, str>`,
/// every `std::error::Error`, `anyhow::Error`). A message becomes the
/// client-facing text; an error stays the source of a generic message.
impl<E> From<E> for Error
where
    E: Into<Box<dyn std::error::Error + Send + Sync + 'static>> + 'static,
{
    fn from(err: E) -> Self {
        match message_of(&err) {
            Some(message) => Error::handler(message),
            None => Error {
                code: ErrorCode::HandlerError,
                message: "the handler failed".to_owned(),
                details: Map::new(),
                source: Some(err.into()),
                payload_refused: false,
            },
        }
    }
}

/// The text of `value` when it is a message rather than an error: one of the
/// string types a person writes a message in.
fn message_of(value: &dyn std::any::Any) -> Option<String> {
    if let Some(text) = value.downcast_ref::<&'static str>() {
        return Some((*text).to_owned());
    }
    if let Some(text) = value.downcast_ref::<String>() {
        return Some(text.clone());
    }
    value
        .downcast_ref::<std::borrow::Cow<'static, str>>()
        .map(|text| text.clone().into_owned())
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
    fn messages_reach_the_client_as_written() {
        let cases: [(Error, &str); 3] = [
            ("no such auction".into(), "no such auction"),
            (format!("lot {}", 7).into(), "lot 7"),
            (std::borrow::Cow::Borrowed("closed").into(), "closed"),
        ];
        for (err, text) in cases {
            assert_eq!(err.code(), ErrorCode::HandlerError);
            assert_eq!(err.message(), text);
            assert_eq!(err.source_text(), None);
        }
    }

    #[test]
    fn boxed_errors_convert_with_question_mark_and_stay_hidden() {
        fn failing() -> Result<()> {
            let boxed: std::result::Result<(), Box<dyn std::error::Error + Send + Sync>> =
                Err(Box::new(std::io::Error::other("db at 10.0.0.7 refused")));
            boxed?;
            Ok(())
        }
        let Err(err) = failing() else {
            panic!("the boxed error was swallowed");
        };
        assert_eq!(err.message(), "the handler failed");
        assert!(err.source_text().unwrap_or_default().contains("10.0.0.7"));
    }

    #[test]
    fn anyhow_errors_convert_with_question_mark_and_stay_hidden() {
        fn failing() -> Result<()> {
            let outcome: anyhow::Result<()> = Err(anyhow::anyhow!("cache at 10.0.0.9 is down"));
            outcome?;
            Ok(())
        }
        let Err(err) = failing() else {
            panic!("the anyhow error was swallowed");
        };
        assert_eq!(err.code(), ErrorCode::HandlerError);
        assert_eq!(err.message(), "the handler failed");
        assert!(err.source_text().unwrap_or_default().contains("10.0.0.9"));
    }

    #[test]
    fn room_errors_carry_the_full_room_name() {
        let err = Error::room_not_found("chat:general");
        assert_eq!(err.code(), ErrorCode::RoomNotFound);
        assert_eq!(err.details()["room"], "chat:general");
    }
}
