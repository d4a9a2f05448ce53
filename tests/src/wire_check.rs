//! A check of every frame the server sends, under the project's client.
//!
//! The harness's [`Client`](crate::Client) speaks through the runtime's
//! `RawClient`, which parses envelopes leniently, as a client should (an
//! absent payload reads as `{}`, unknown top-level fields are dropped, a
//! malformed message is logged and skipped). The tests check the server,
//! so [`CheckedConnector`] wraps the socket the client reads and records
//! every departure from the wire protocol (docs/protocol.md), which the
//! harness then reports as [`Error::Protocol`]:
//!
//! - every data frame is a text frame holding one JSON object whose only
//!   fields are `event` (a string), `payload` (an object, always present)
//!   and `id` (a string, when present);
//! - an `__error__`'s payload has `code`, `message` and `request_id`
//!   (strings), `event` (a string or null) and `details` (an object);
//! - the first message of a connection is `__connect__` (or the
//!   `__error__` that refuses it).
//!
//! With these checked, the envelope the harness rebuilds from the client's
//! parsed message is exactly the JSON the server sent.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use futures_util::{Sink, Stream};
use serde_json::Value;
use serde_json::value::RawValue;
use socketspec_runtime::BoxFuture;
use socketspec_runtime::client::{BoxSocket, ClientError, Connector, Handshake};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use crate::{Error, Result};

/// The departures from the protocol seen on one client's connections.
#[derive(Debug, Default)]
pub struct WireLog {
    violations: Mutex<Vec<String>>,
}

impl WireLog {
    fn record(&self, violation: String) {
        self.violations
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(violation);
    }

    /// Everything recorded so far.
    pub fn violations(&self) -> Vec<String> {
        self.violations
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// [`Error::Protocol`] listing the violations, if there is any.
    pub fn ensure_clean(&self) -> Result<()> {
        let violations = self.violations();
        if violations.is_empty() {
            Ok(())
        } else {
            Err(Error::Protocol(violations.join("; ")))
        }
    }
}

/// A [`Connector`] whose sockets check what the server sends (see the
/// module docs) into a shared [`WireLog`].
pub struct CheckedConnector<C> {
    inner: C,
    log: Arc<WireLog>,
}

impl<C: Connector> CheckedConnector<C> {
    /// Wraps `inner`; violations go to `log`.
    pub fn new(inner: C, log: Arc<WireLog>) -> Self {
        CheckedConnector { inner, log }
    }
}

impl<C: Connector> Connector for CheckedConnector<C> {
    fn connect<'a>(
        &'a self,
        handshake: &'a Handshake,
    ) -> BoxFuture<'a, Result<BoxSocket, ClientError>> {
        Box::pin(async move {
            let socket = self.inner.connect(handshake).await?;
            let checked = CheckedSocket {
                inner: socket,
                log: Arc::clone(&self.log),
                messages: 0,
            };
            Ok(Box::new(checked) as BoxSocket)
        })
    }
}

/// A socket that checks every incoming message on its way to the client.
struct CheckedSocket {
    inner: BoxSocket,
    log: Arc<WireLog>,
    /// Data frames read so far on this connection.
    messages: u64,
}

impl CheckedSocket {
    fn inspect(&mut self, message: &Message) {
        let text = match message {
            Message::Text(text) => text.as_str(),
            Message::Binary(_) => {
                self.log
                    .record("the server sent a binary frame (messages are text)".to_owned());
                return;
            }
            _ => return,
        };
        self.messages += 1;
        match check_envelope(text) {
            Ok(event) => {
                if self.messages == 1 && event != "__connect__" && event != "__error__" {
                    self.log.record(format!(
                        "the first message is `{event}`, not `__connect__`: {text}"
                    ));
                }
            }
            Err(why) => self.log.record(format!("{why}: {}", clip(text))),
        }
    }
}

impl Stream for CheckedSocket {
    type Item = Result<Message, WsError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let item = Pin::new(&mut *self.inner).poll_next(cx);
        if let Poll::Ready(Some(Ok(message))) = &item {
            self.inspect(message);
        }
        item
    }
}

impl Sink<Message> for CheckedSocket {
    type Error = WsError;

    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), WsError>> {
        Pin::new(&mut *self.inner).poll_ready(cx)
    }

    fn start_send(mut self: Pin<&mut Self>, item: Message) -> Result<(), WsError> {
        Pin::new(&mut *self.inner).start_send(item)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), WsError>> {
        Pin::new(&mut *self.inner).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), WsError>> {
        Pin::new(&mut *self.inner).poll_close(cx)
    }
}

/// Checks one server message's envelope; returns its event name.
pub fn check_envelope(text: &str) -> Result<String, String> {
    // Borrowed raw values: the shape is checked without building the
    // payload (a hot path for the soak and hardening tests).
    let fields: HashMap<String, &RawValue> =
        serde_json::from_str(text).map_err(|e| format!("not a JSON object ({e})"))?;
    if let Some(other) = fields
        .keys()
        .find(|k| !matches!(k.as_str(), "event" | "payload" | "id" | "seq"))
    {
        return Err(format!("unexpected top-level field `{other}`"));
    }
    let event: String = match fields.get("event") {
        Some(raw) => {
            serde_json::from_str(raw.get()).map_err(|_| "`event` is not a string".to_owned())?
        }
        None => return Err("no `event`".to_owned()),
    };
    match fields.get("payload") {
        Some(raw) if raw.get().starts_with('{') => {}
        Some(_) => return Err(format!("the payload of `{event}` is not an object")),
        None => return Err(format!("`{event}` without a payload")),
    }
    if let Some(raw) = fields.get("id")
        && !raw.get().starts_with('"')
    {
        return Err(format!("the `id` of `{event}` is not a string"));
    }
    if let Some(raw) = fields.get("seq") {
        // Resumption on: a positive integer on every frame but these.
        if matches!(
            event.as_str(),
            "__connect__" | "__ping__" | "__disconnect__"
        ) {
            return Err(format!("`{event}` carries a `seq`"));
        }
        if !matches!(raw.get().parse::<u64>(), Ok(n) if n > 0) {
            return Err(format!("the `seq` of `{event}` is not a positive integer"));
        }
    }
    if event == "__error__"
        && let Some(raw) = fields.get("payload")
    {
        check_error_payload(raw.get())?;
    }
    Ok(event)
}

/// The error envelope's fields and their types.
fn check_error_payload(payload: &str) -> Result<(), String> {
    let payload: Value =
        serde_json::from_str(payload).map_err(|e| format!("`__error__` payload: {e}"))?;
    let has = |name: &str, ok: fn(&Value) -> bool| payload.get(name).is_some_and(ok);
    let checks: [(&str, bool); 5] = [
        ("a string `code`", has("code", Value::is_string)),
        (
            "an `event` (string or null)",
            has("event", |v| v.is_string() || v.is_null()),
        ),
        ("a string `message`", has("message", Value::is_string)),
        ("a string `request_id`", has("request_id", Value::is_string)),
        ("an object `details`", has("details", Value::is_object)),
    ];
    match checks.iter().find(|(_, ok)| !ok) {
        Some((what, _)) => Err(format!("`__error__` without {what}")),
        None => Ok(()),
    }
}

fn clip(text: &str) -> String {
    if text.len() <= 200 {
        text.to_owned()
    } else {
        let end = (0..=200)
            .rev()
            .find(|i| text.is_char_boundary(*i))
            .unwrap_or(0);
        format!("{}… ({} bytes)", &text[..end], text.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_formed_envelopes_pass() {
        for (text, event) in [
            (r#"{"event":"__ping__","payload":{}}"#, "__ping__"),
            (
                r#"{"event":"echo_reply","payload":{"seq":1},"id":"a"}"#,
                "echo_reply",
            ),
            (
                r#"{"event":"echo_reply","payload":{},"id":"a","seq":3}"#,
                "echo_reply",
            ),
            (
                r#"{"event":"__error__","payload":{"code":"X","event":null,"message":"m","request_id":"r","details":{}}}"#,
                "__error__",
            ),
        ] {
            assert_eq!(check_envelope(text).as_deref(), Ok(event), "{text}");
        }
    }

    #[test]
    fn every_departure_is_named() {
        for (text, why) in [
            ("nope", "not a JSON object"),
            ("[1]", "not a JSON object"),
            (r#"{"payload":{}}"#, "no `event`"),
            (r#"{"event":1,"payload":{}}"#, "`event` is not a string"),
            (r#"{"event":"e"}"#, "without a payload"),
            (r#"{"event":"e","payload":null}"#, "not an object"),
            (
                r#"{"event":"e","payload":{},"id":null}"#,
                "`id` of `e` is not a string",
            ),
            (
                r#"{"event":"e","payload":{},"ts":1}"#,
                "unexpected top-level field `ts`",
            ),
            (
                r#"{"event":"__ping__","payload":{},"seq":1}"#,
                "`__ping__` carries a `seq`",
            ),
            (
                r#"{"event":"e","payload":{},"seq":0}"#,
                "`seq` of `e` is not a positive integer",
            ),
            (
                r#"{"event":"e","payload":{},"seq":"1"}"#,
                "`seq` of `e` is not a positive integer",
            ),
            (
                r#"{"event":"__error__","payload":{"code":"X","message":"m","request_id":"r","details":{}}}"#,
                "without an `event`",
            ),
            (
                r#"{"event":"__error__","payload":{"code":"X","event":null,"message":"m","request_id":"r","details":[]}}"#,
                "without an object `details`",
            ),
        ] {
            match check_envelope(text) {
                Err(e) => assert!(e.contains(why), "{text}: {e}"),
                Ok(event) => panic!("{text} passed as {event}"),
            }
        }
    }
}
