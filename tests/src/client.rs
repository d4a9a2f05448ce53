//! [`Client`]: the tests' protocol speaker, a thin layer over the runtime's
//! own `RawClient`.
//!
//! `RawClient` does the protocol: the upgrade with headers and
//! credentials, waiting for `__connect__`, answering `__ping__` (unless
//! told not to), request/reply by `id` with typed `__error__`s, close
//! codes. This layer adds what tests need on top: messages as JSON
//! envelopes (`{"event", "payload", "id"}`) to assert on, bounded waits,
//! reading a wanted message while keeping the others for later, and a
//! check of every frame the server sends ([`crate::wire_check`]).
//!
//! Tests that must misbehave below the protocol (malformed frames, not
//! completing a close, vanishing without one, refusing to read) use
//! [`RawWs`](crate::raw_ws::RawWs) instead.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::{Map, Value, json};
use socketspec_runtime::client::{
    ClientError, ClientOptions, CloseInfo, Incoming, RawClient, ServerMessage, UrlConnector,
};

use crate::wire_check::{CheckedConnector, WireLog};
use crate::{Error, Result};

/// How long [`Client`] helpers without an explicit timeout wait.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// How many unread messages a client holds. Far more than any test leaves
/// unread: a test that lags this far gets an error, never a silent loss.
const EVENT_BUFFER: usize = 1 << 16;

/// The `event` field of an envelope (`""` when missing).
pub fn event_of(message: &Value) -> &str {
    message.get("event").and_then(Value::as_str).unwrap_or("")
}

/// Checks that `message` is a well-formed `__error__` envelope with `code`
/// (payload with `code`, `event`, a string `message`, a string
/// `request_id` and an object `details`) and returns its payload.
///
/// # Panics
/// When it is not.
pub fn assert_error<'a>(message: &'a Value, code: &str) -> &'a Value {
    assert_eq!(
        event_of(message),
        "__error__",
        "expected an __error__ {code}, got {message}"
    );
    let payload = &message["payload"];
    assert_eq!(payload["code"], code, "wrong error code in {message}");
    assert!(
        payload.get("event").is_some(),
        "`event` missing (null expected when unknown) in {message}"
    );
    assert!(
        payload["event"].is_null() || payload["event"].is_string(),
        "bad `event` in {message}"
    );
    assert!(
        payload["message"].is_string(),
        "`message` must be a string in {message}"
    );
    assert!(
        payload["request_id"].is_string(),
        "`request_id` must be a string in {message}"
    );
    assert!(
        payload["details"].is_object(),
        "`details` must be an object in {message}"
    );
    payload
}

/// The envelope of a message as the server sent it (the wire check
/// guarantees these are its only fields).
fn envelope(message: ServerMessage) -> Value {
    let mut map = Map::new();
    map.insert("event".to_owned(), Value::String(message.event));
    map.insert("payload".to_owned(), message.payload);
    if let Some(id) = message.id {
        map.insert("id".to_owned(), Value::String(id));
    }
    if let Some(seq) = message.seq {
        map.insert("seq".to_owned(), Value::from(seq));
    }
    Value::Object(map)
}

/// One read from the event stream.
enum Next {
    Json(Value),
    Closed(Option<u16>),
    TimedOut,
}

static NEXT_SEQ: AtomicU64 = AtomicU64::new(1);

/// A protocol client for tests: the project's `RawClient` with messages as
/// JSON envelopes.
///
/// Messages read while looking for something else (see
/// [`Client::recv_event`], [`Client::recv_reply`]) are kept, in order, and
/// returned by later reads; only `__ping__` is dropped by those searches.
pub struct Client {
    raw: RawClient,
    wire: Arc<WireLog>,
    pending: VecDeque<Value>,
    closed: Option<CloseInfo>,
}

impl Client {
    /// The options [`Client::connect`] uses: the harness's timeouts, a
    /// large event buffer, and no local payload-size check (tests send what
    /// they mean to send). Add headers or credentials to them for
    /// [`Client::connect_with`].
    pub fn options() -> ClientOptions {
        ClientOptions::new()
            .request_timeout(DEFAULT_TIMEOUT)
            .connect_timeout(DEFAULT_TIMEOUT)
            .event_buffer(EVENT_BUFFER)
            .check_payload_size(false)
    }

    /// Connects to `url` (e.g. `ChatServer::ws_url`) and waits for
    /// `__connect__`, which stays first in line for [`Client::expect_connect`].
    pub async fn connect(url: &str) -> Result<Client> {
        Client::connect_with(url, Client::options()).await
    }

    /// [`Client::connect`] with `options` (start from [`Client::options`]).
    /// A refused upgrade is [`Error::Http`] with its status; a refused
    /// credential is [`Error::Client`] holding the `AUTH_ERROR`.
    pub async fn connect_with(url: &str, options: ClientOptions) -> Result<Client> {
        let wire = Arc::new(WireLog::default());
        let connector = CheckedConnector::new(UrlConnector::new(url), Arc::clone(&wire));
        let raw = RawClient::connect_with(connector, options).await;
        wire.ensure_clean()?;
        Ok(Client {
            raw: raw?,
            wire,
            pending: VecDeque::new(),
            closed: None,
        })
    }

    /// Connects to `url` and reads `__connect__`; returns the client and
    /// that message's payload.
    pub async fn connect_ready(url: &str) -> Result<(Client, Value)> {
        let mut client = Client::connect(url).await?;
        let payload = client.expect_connect().await?;
        Ok((client, payload))
    }

    /// Reads the next message and checks that it is `__connect__` with a
    /// string `connection_id`; returns its payload.
    pub async fn expect_connect(&mut self) -> Result<Value> {
        let first = self.recv_json(DEFAULT_TIMEOUT).await?;
        if event_of(&first) != "__connect__" {
            return Err(Error::Other(format!(
                "expected `__connect__` first, got {first}"
            )));
        }
        let payload = first.get("payload").cloned().unwrap_or(Value::Null);
        if payload
            .get("connection_id")
            .and_then(Value::as_str)
            .is_none()
        {
            return Err(Error::Other(format!(
                "`__connect__` without a string connection_id: {first}"
            )));
        }
        Ok(payload)
    }

    /// The project client underneath.
    pub fn raw(&self) -> &RawClient {
        &self.raw
    }

    /// Sends `value` verbatim as one text frame.
    pub async fn send_json(&mut self, value: &Value) -> Result<()> {
        self.send_raw_text(&value.to_string()).await
    }

    /// Sends `{"event": event, "payload": payload}` (no `id`).
    pub async fn send_event(&mut self, event: &str, payload: Value) -> Result<()> {
        bounded(self.raw.send_with_id(event, &payload, None)).await
    }

    /// Sends `{"event": event, "payload": payload, "id": id}`.
    pub async fn send_event_with_id(
        &mut self,
        event: &str,
        payload: Value,
        id: &str,
    ) -> Result<()> {
        bounded(self.raw.send_with_id(event, &payload, Some(id))).await
    }

    /// Sends `text` as one text frame, verbatim.
    pub async fn send_raw_text(&mut self, text: &str) -> Result<()> {
        bounded(self.raw.send_text(text)).await
    }

    /// Sends `bytes` as one binary frame.
    pub async fn send_binary(&mut self, bytes: impl Into<Vec<u8>>) -> Result<()> {
        bounded(self.raw.send_binary(bytes.into())).await
    }

    /// Closes the connection from the client side (code 1000) and waits for
    /// the closing handshake.
    pub async fn close(&mut self) -> Result<()> {
        self.raw.close(1000, "test client close").await?;
        Ok(())
    }

    /// The close code once the connection is known to be closed: `Some(Some(code))`
    /// after a close frame, `Some(None)` after the stream ended without one.
    pub fn closed(&self) -> Option<Option<u16>> {
        self.closed.as_ref().map(|info| info.code)
    }

    /// Messages read ahead and not yet returned.
    pub fn buffered(&self) -> impl Iterator<Item = &Value> {
        self.pending.iter()
    }

    /// Reads the next item of the client's event stream.
    async fn read_next(&mut self, deadline: tokio::time::Instant) -> Result<Next> {
        if let Some(info) = &self.closed {
            return Ok(Next::Closed(info.code));
        }
        let item = tokio::time::timeout_at(deadline, self.raw.next_event()).await;
        // The wire check saw every frame before the client queued it.
        self.wire.ensure_clean()?;
        match item {
            Err(_) => Ok(Next::TimedOut),
            Ok(Some(Incoming::Message(message))) => Ok(Next::Json(envelope(message))),
            Ok(Some(Incoming::Closed(info))) => {
                let code = info.code;
                self.closed = Some(info);
                Ok(Next::Closed(code))
            }
            Ok(Some(Incoming::Lagged(n))) => Err(Error::Other(format!(
                "the test read too slowly: the client dropped {n} messages"
            ))),
            Ok(None) => {
                self.closed = Some(CloseInfo {
                    code: None,
                    reason: "the event stream ended".to_owned(),
                    reconnecting: false,
                });
                Ok(Next::Closed(None))
            }
        }
    }

    /// The next message (buffered first). [`Error::Timeout`] when none
    /// arrives within `timeout`, [`Error::Closed`] when the connection closed.
    pub async fn recv_json(&mut self, timeout: Duration) -> Result<Value> {
        match self.try_recv_json(timeout).await? {
            Some(value) => Ok(value),
            None => Err(Error::Timeout(format!("no message within {timeout:?}"))),
        }
    }

    /// Like [`Client::recv_json`], but `Ok(None)` when nothing arrives in time.
    pub async fn try_recv_json(&mut self, timeout: Duration) -> Result<Option<Value>> {
        if let Some(value) = self.pending.pop_front() {
            return Ok(Some(value));
        }
        let deadline = tokio::time::Instant::now() + timeout;
        match self.read_next(deadline).await? {
            Next::Json(value) => Ok(Some(value)),
            Next::Closed(code) => Err(Error::Closed(code)),
            Next::TimedOut => Ok(None),
        }
    }

    /// The next message that is not `__ping__` (pings are dropped), or
    /// `Ok(None)` when none arrives within `timeout`.
    pub async fn try_recv_non_ping(&mut self, timeout: Duration) -> Result<Option<Value>> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.try_recv_json(left).await? {
                Some(value) if event_of(&value) == "__ping__" => {}
                other => return Ok(other),
            }
        }
    }

    /// The first message whose `event` is `name`, buffered or not. Other
    /// messages read meanwhile are kept for later reads, except `__ping__`,
    /// which is dropped (unless `name` is `__ping__`).
    pub async fn recv_event(&mut self, name: &str, timeout: Duration) -> Result<Value> {
        self.recv_matching(timeout, &format!("event {name:?}"), |m| event_of(m) == name)
            .await
    }

    /// The first message for which `wanted` holds; see [`Client::recv_event`].
    pub async fn recv_matching(
        &mut self,
        timeout: Duration,
        what: &str,
        wanted: impl Fn(&Value) -> bool,
    ) -> Result<Value> {
        if let Some(index) = self.pending.iter().position(&wanted)
            && let Some(value) = self.pending.remove(index)
        {
            return Ok(value);
        }
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            match self.read_next(deadline).await? {
                Next::Json(value) if wanted(&value) => return Ok(value),
                Next::Json(value) => {
                    if event_of(&value) != "__ping__" {
                        self.pending.push_back(value);
                    }
                }
                Next::Closed(code) => {
                    return Err(Error::Other(format!(
                        "connection closed (code {code:?}) while waiting for {what}; got meanwhile: {}",
                        self.describe_pending()
                    )));
                }
                Next::TimedOut => {
                    return Err(Error::Timeout(format!(
                        "no {what} within {timeout:?}; got meanwhile: {}",
                        self.describe_pending()
                    )));
                }
            }
        }
    }

    fn describe_pending(&self) -> String {
        let all: Vec<String> = self.pending.iter().map(Value::to_string).collect();
        format!("[{}]", all.join(", "))
    }

    /// Waits for the server to close the connection; returns the close code
    /// (`None` if the stream ended without a close frame). Messages read
    /// meanwhile stay available to [`Client::recv_json`] and [`Client::buffered`].
    pub async fn expect_close(&mut self, timeout: Duration) -> Result<Option<u16>> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            match self.read_next(deadline).await? {
                Next::Json(value) => self.pending.push_back(value),
                Next::Closed(code) => return Ok(code),
                Next::TimedOut => {
                    return Err(Error::Timeout(format!(
                        "the connection was still open after {timeout:?}; got meanwhile: {}",
                        self.describe_pending()
                    )));
                }
            }
        }
    }

    /// Sends `event` with `payload` through the project client's
    /// request/reply (a fresh `id`, matched by the client) and returns the
    /// reply, or the `__error__` it got, as an envelope without its `id`.
    /// Waits up to [`DEFAULT_TIMEOUT`].
    pub async fn request(&mut self, event: &str, payload: Value) -> Result<Value> {
        let result = self.raw.request(event, &payload).await;
        self.wire.ensure_clean()?;
        match result {
            Ok(reply) => Ok(json!({"event": reply.event, "payload": reply.payload})),
            // The wire check verified the error payload's fields, so this
            // is the payload the server sent.
            Err(ClientError::Server(error)) => {
                Ok(json!({"event": "__error__", "payload": error.to_payload()}))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Sends `event` with `payload` and the chosen `id`, and returns the
    /// first message carrying that `id` (the reply or an `__error__`), as
    /// the server sent it, waiting up to `timeout`.
    pub async fn request_with_id(
        &mut self,
        event: &str,
        payload: Value,
        id: &str,
        timeout: Duration,
    ) -> Result<Value> {
        self.send_event_with_id(event, payload, id).await?;
        self.recv_reply(id, timeout).await
    }

    /// The first message whose envelope `id` is `id`.
    pub async fn recv_reply(&mut self, id: &str, timeout: Duration) -> Result<Value> {
        self.recv_matching(timeout, &format!("reply with id {id:?}"), |m| {
            m.get("id").and_then(Value::as_str) == Some(id)
        })
        .await
    }

    /// Sends `echo` and checks the `echo_reply`: proof that the connection
    /// is open and served.
    pub async fn assert_alive(&mut self) -> Result<()> {
        let seq = i64::try_from(NEXT_SEQ.fetch_add(1, Ordering::Relaxed)).unwrap_or(0);
        let expected = json!({"seq": seq, "data": "alive?"});
        let reply = self.request("echo", expected.clone()).await?;
        if event_of(&reply) == "echo_reply" && reply.get("payload") == Some(&expected) {
            Ok(())
        } else {
            Err(Error::Other(format!(
                "expected echo_reply {expected}, got {reply}"
            )))
        }
    }
}

/// A send through the project client, bounded by [`DEFAULT_TIMEOUT`]
/// (a write waits for the socket, which a server that stopped reading
/// never drains).
async fn bounded(send: impl Future<Output = Result<(), ClientError>>) -> Result<()> {
    match tokio::time::timeout(DEFAULT_TIMEOUT, send).await {
        Ok(result) => Ok(result?),
        Err(_) => Err(Error::Timeout("sending a frame".to_owned())),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use futures_util::SinkExt;
    use tokio::net::TcpListener;
    use tokio_tungstenite::tungstenite::Message;

    /// A WebSocket server on loopback that sends `frames` to its first
    /// client, then holds the connection open; returns its URL.
    async fn scripted_server(frames: &'static [&'static str]) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("ws://{}/ws", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let mut ws = tokio_tungstenite::accept_async(tcp).await.unwrap();
            for frame in frames {
                ws.send(Message::text(*frame)).await.unwrap();
            }
            std::future::pending::<()>().await;
        });
        url
    }

    const CONNECT: &str = r#"{"event":"__connect__","payload":{"connection_id":"c1"}}"#;

    #[tokio::test]
    async fn messages_read_as_the_envelopes_the_server_sent() {
        let url = scripted_server(&[
            CONNECT,
            r#"{"event":"user_joined","payload":{"room":"x"}}"#,
            r#"{"event":"echo_reply","payload":{"seq":1},"id":"a"}"#,
        ])
        .await;
        let (mut client, connect) = Client::connect_ready(&url).await.unwrap();
        assert_eq!(connect, json!({"connection_id": "c1"}));
        let reply = client.recv_reply("a", DEFAULT_TIMEOUT).await.unwrap();
        assert_eq!(
            reply,
            json!({"event": "echo_reply", "payload": {"seq": 1}, "id": "a"})
        );
        let kept = client.recv_json(DEFAULT_TIMEOUT).await.unwrap();
        assert_eq!(
            kept,
            json!({"event": "user_joined", "payload": {"room": "x"}})
        );
    }

    #[tokio::test]
    async fn an_envelope_with_an_extra_field_is_a_protocol_error() {
        let url = scripted_server(&[
            CONNECT,
            r#"{"event":"user_joined","payload":{},"debug":true}"#,
        ])
        .await;
        let (mut client, _) = Client::connect_ready(&url).await.unwrap();
        let read = client.recv_json(DEFAULT_TIMEOUT).await;
        assert!(
            matches!(read, Err(Error::Protocol(ref m)) if m.contains("`debug`")),
            "{read:?}"
        );
    }

    #[tokio::test]
    async fn a_message_before_connect_is_a_protocol_error() {
        // The project's client skips it while waiting for `__connect__`;
        // the wire check does not.
        let url = scripted_server(&[r#"{"event":"hello","payload":{}}"#, CONNECT]).await;
        let connected = Client::connect(&url).await;
        assert!(
            matches!(connected, Err(Error::Protocol(ref m)) if m.contains("`hello`")),
            "{:?}",
            connected.err()
        );
    }
}
