//! The client side of the wire protocol, written once for every spec.
//!
//! [`RawClient`] speaks the wire protocol (docs/protocol.md) with untyped
//! JSON: it connects (with headers, a JWT or an API key), waits for
//! `__connect__` (an `__error__` instead is the connect call's
//! [`ClientError`], e.g. `AUTH_ERROR`), answers every `__ping__` with
//! `__pong__`, sends each request with a fresh `id` and resolves it with
//! the first message carrying that `id` (an `__error__` becomes a typed
//! [`ClientError::Server`]), and hands everything else to a bounded event
//! stream. With reconnection on, it reopens a dropped connection with
//! exponential backoff; requests in flight fail with [`ClientError::Closed`],
//! later ones wait for the new connection.
//!
//! The code generator builds a typed client per spec on top of it
//! (`<spec>::client::Client`: one async method per event, a `ServerEvent`
//! enum for the stream), so users never write envelopes by hand.
//!
//! ## Transports
//! The core drives any [`Socket`] (a stream and sink of WebSocket messages;
//! every `tokio_tungstenite::WebSocketStream<S>` is one) opened by a
//! [`Connector`]: [`UrlConnector`] over TCP, or
//! [`testing::InProcessConnector`](crate::testing::InProcessConnector)
//! straight into a `Server` over `tokio::io::duplex`.
//!
//! ```no_run
//! use socketspec_runtime::client::{ClientOptions, RawClient};
//!
//! # async fn run() -> Result<(), socketspec_runtime::client::ClientError> {
//! let client = RawClient::connect("ws://127.0.0.1:8080/ws", ClientOptions::new()).await?;
//! let reply = client.request("echo", &serde_json::json!({"seq": 1, "data": "hi"})).await?;
//! assert_eq!(reply.event, "echo_reply");
//! client.close(1000, "done").await?;
//! # Ok(()) }
//! ```

mod error;
mod events;
mod link;
mod message;
mod options;
mod resume;
mod state;
mod supervisor;
#[cfg(test)]
mod tests;
mod transport;

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde_json::{Map, Value, json};
use tokio::sync::oneshot;

pub use crate::future::BoxFuture;
pub use error::{ClientError, ServerError};
pub use futures_util::stream::Stream;
pub use message::{CloseInfo, ConnectInfo, Incoming, Reply, ServerMessage, SystemEvent};
pub use options::{ClientOptions, ReconnectPolicy};
pub use transport::{BoxSocket, Connector, Handshake, Socket, UrlConnector};

use socketspec_protocol::SystemEvent as Wire;

use crate::envelope;
use crate::error::ErrorCode;
use crate::frame::Frame;
use link::{Link, Outgoing};
use state::{Core, State};

/// How long [`RawClient::close`] waits for the closing handshake.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// A protocol-level client: untyped JSON payloads, every protocol duty
/// handled. Cheap to clone; every clone drives the same connection, and the
/// connection closes when the last clone is dropped.
#[derive(Clone)]
pub struct RawClient {
    handle: Arc<Handle>,
}

/// Closes the connection when the last [`RawClient`] clone is dropped.
struct Handle {
    core: Arc<Core>,
}

impl Drop for Handle {
    fn drop(&mut self) {
        let _ = self.core.request_stop(1000, "client dropped");
    }
}

impl std::fmt::Debug for RawClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawClient")
            .field("connection", &self.connect_info().map(|i| i.connection_id))
            .finish_non_exhaustive()
    }
}

impl RawClient {
    /// Connects to `url` (e.g. `ws://127.0.0.1:8080/ws`) and waits for
    /// `__connect__`. A refused credential is a [`ClientError::Server`] with
    /// `AUTH_ERROR`; a refused upgrade is [`ClientError::Rejected`]. The first
    /// connection is not retried, whatever the reconnect policy.
    pub async fn connect(url: &str, options: ClientOptions) -> Result<RawClient, ClientError> {
        RawClient::connect_with(UrlConnector::new(url), options).await
    }

    /// Connects through `connector` (any transport), as [`RawClient::connect`].
    pub async fn connect_with(
        connector: impl Connector,
        options: ClientOptions,
    ) -> Result<RawClient, ClientError> {
        let connector: Arc<dyn Connector> = Arc::new(connector);
        let (events, source) = events::channel(options.event_buffer);
        let core = Arc::new(Core::new(options, source));
        let task =
            supervisor::establish(&core, &*connector, &events, &mut Default::default()).await?;
        tokio::spawn(supervisor::supervise(
            Arc::clone(&core),
            connector,
            events,
            task,
        ));
        Ok(RawClient {
            handle: Arc::new(Handle { core }),
        })
    }

    fn core(&self) -> &Core {
        &self.handle.core
    }

    /// The options the client was built with.
    pub fn options(&self) -> &ClientOptions {
        &self.core().options
    }

    /// What the server announced in the current connection's `__connect__`;
    /// `None` while reconnecting or once closed.
    pub fn connect_info(&self) -> Option<ConnectInfo> {
        match &*self.core().state.borrow() {
            State::Open(link) => Some(link.info.clone()),
            _ => None,
        }
    }

    /// Whether the client is connected right now.
    pub fn is_connected(&self) -> bool {
        matches!(&*self.core().state.borrow(), State::Open(link) if link.is_open())
    }

    /// Sends `event` with a fresh `id` and waits for the reply: the first
    /// message carrying that `id`. An `__error__` is [`ClientError::Server`];
    /// no reply within the request timeout is [`ClientError::Timeout`].
    pub async fn request<P: Serialize + ?Sized>(
        &self,
        event: &str,
        payload: &P,
    ) -> Result<Reply, ClientError> {
        self.request_with_timeout(event, payload, self.core().options.request_timeout)
            .await
    }

    /// [`RawClient::request`] with its own timeout.
    pub async fn request_with_timeout<P: Serialize + ?Sized>(
        &self,
        event: &str,
        payload: &P,
        timeout: Duration,
    ) -> Result<Reply, ClientError> {
        let deadline = tokio::time::Instant::now() + timeout;
        let id = self.core().fresh_id();
        let what = || format!("reply to `{event}` (request {id})");
        let frame = encode(event, payload, Some(&id))?;
        let link = self.core().open_link(deadline, &what()).await?;
        self.check_size(&link, &frame, event, Some(&id))?;
        let reply = link.register(&id)?;
        if link
            .out
            .send(Outgoing::Text {
                frame,
                written: None,
            })
            .await
            .is_err()
        {
            link.forget(&id);
            return Err(ClientError::closed(None, "the connection closed"));
        }
        match tokio::time::timeout_at(deadline, reply).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(ClientError::closed(None, "the connection closed")),
            Err(_) => {
                link.forget(&id);
                Err(ClientError::Timeout {
                    what: what(),
                    after: timeout,
                })
            }
        }
    }

    /// Sends `event` with a fresh `id` without waiting for a reply; returns
    /// once the frame is written, with the id. Anything the server answers
    /// (an `__error__` from the handler...) arrives on the event stream
    /// carrying that id.
    pub async fn send<P: Serialize + ?Sized>(
        &self,
        event: &str,
        payload: &P,
    ) -> Result<String, ClientError> {
        let id = self.core().fresh_id();
        self.send_with_id(event, payload, Some(&id)).await?;
        Ok(id)
    }

    /// Sends `event` with the given `id` (or none), without waiting for a
    /// reply; returns once the frame is written.
    pub async fn send_with_id<P: Serialize + ?Sized>(
        &self,
        event: &str,
        payload: &P,
        id: Option<&str>,
    ) -> Result<(), ClientError> {
        let frame = encode(event, payload, id)?;
        let deadline = tokio::time::Instant::now() + self.core().options.request_timeout;
        let link = self
            .core()
            .open_link(deadline, &format!("sending `{event}`"))
            .await?;
        self.check_size(&link, &frame, event, id)?;
        write(&link, |written| Outgoing::Text { frame, written }).await
    }

    /// Sends `text` verbatim as one text frame (for tests of malformed
    /// input); returns once it is written.
    pub async fn send_text(&self, text: impl Into<String>) -> Result<(), ClientError> {
        let deadline = tokio::time::Instant::now() + self.core().options.request_timeout;
        let link = self.core().open_link(deadline, "sending a frame").await?;
        write(&link, |written| Outgoing::Text {
            frame: Frame::from(text.into()),
            written,
        })
        .await
    }

    /// Sends `bytes` verbatim as one binary frame; returns once it is
    /// written. The protocol accepts a binary frame holding a UTF-8 JSON
    /// envelope like a text frame (and answers anything else in one with a
    /// `VALIDATION_ERROR`); replies arrive on the event stream. Like
    /// [`RawClient::send_text`], the size is not checked.
    pub async fn send_binary(&self, bytes: impl Into<bytes::Bytes>) -> Result<(), ClientError> {
        let deadline = tokio::time::Instant::now() + self.core().options.request_timeout;
        let link = self.core().open_link(deadline, "sending a frame").await?;
        write(&link, |written| Outgoing::Binary {
            bytes: bytes.into(),
            written,
        })
        .await
    }

    /// Offers a new JWT (`__refresh_auth__`). On success returns the new
    /// credential's remaining lifetime (when it expires) and uses the token
    /// for later reconnects; a refusal is `AUTH_ERROR` and the old credential
    /// stays in force.
    pub async fn refresh_auth(&self, token: &str) -> Result<Option<Duration>, ClientError> {
        let reply = self
            .request(Wire::RefreshAuth.name(), &json!({ "token": token }))
            .await?;
        if reply.event != Wire::RefreshAuth.name() {
            return Err(ClientError::UnexpectedReply {
                expected: format!("`{}`", Wire::RefreshAuth.name()),
                got: reply.event,
            });
        }
        self.core().set_jwt(token);
        Ok(message::seconds(reply.payload.get("expires_in")))
    }

    /// The next item of the event stream: every server message that is not
    /// the reply to a pending request (broadcasts, system events including
    /// `__connect__` and `__ping__`, unawaited replies and errors), closes,
    /// and lag notices. `None` once the client is closed for good and the
    /// stream is drained.
    pub async fn next_event(&self) -> Option<Incoming> {
        self.core().next_event().await
    }

    /// The event stream as a [`Stream`] (see [`RawClient::next_event`]).
    pub fn events(&self) -> impl Stream<Item = Incoming> + Send + '_ {
        futures_util::stream::unfold(self, |client| async move {
            client.next_event().await.map(|item| (item, client))
        })
    }

    /// The event stream with each item converted by `convert` (generated
    /// clients type it this way).
    pub fn events_as<T: Send + 'static>(
        &self,
        convert: fn(Incoming) -> T,
    ) -> impl Stream<Item = T> + Send + '_ {
        futures_util::stream::unfold(self, move |client| async move {
            client
                .next_event()
                .await
                .map(|item| (convert(item), client))
        })
    }

    /// Closes the connection with `code` and `reason` and turns reconnection
    /// off; waits (up to 5 s) for the closing handshake. Closing a closed
    /// client does nothing.
    pub async fn close(&self, code: u16, reason: &str) -> Result<(), ClientError> {
        let wait = async {
            if let Some(link) = self.core().request_stop(code, reason) {
                let close = Outgoing::Close {
                    code,
                    reason: reason.to_owned(),
                };
                let _ = link.out.send(close).await;
            }
            self.closed().await
        };
        match tokio::time::timeout(CLOSE_TIMEOUT, wait).await {
            Ok(_) => Ok(()),
            Err(_) => Err(ClientError::Timeout {
                what: "closing".to_owned(),
                after: CLOSE_TIMEOUT,
            }),
        }
    }

    /// Waits until the client is closed for good (by [`RawClient::close`],
    /// by the server without reconnection, or after reconnecting gave up);
    /// returns how.
    pub async fn closed(&self) -> CloseInfo {
        let mut rx = self.core().state.subscribe();
        loop {
            if let State::Closed(info) = &*rx.borrow_and_update() {
                return info.clone();
            }
            if rx.changed().await.is_err() {
                return CloseInfo {
                    code: None,
                    reason: "the client is gone".to_owned(),
                    reconnecting: false,
                };
            }
        }
    }

    /// Refuses a frame above the server's announced `max_payload_size`.
    fn check_size(
        &self,
        link: &Link,
        frame: &Frame,
        event: &str,
        id: Option<&str>,
    ) -> Result<(), ClientError> {
        let limit = link.info.max_payload_size;
        let size = frame.len();
        if !self.core().options.check_payload_size || limit == 0 || size <= limit {
            return Ok(());
        }
        let mut details = Map::new();
        details.insert("limit".to_owned(), Value::from(limit));
        details.insert("size".to_owned(), Value::from(size));
        Err(ServerError {
            code: ErrorCode::PayloadTooLarge,
            message: format!(
                "message is {size} bytes; the server's limit is {limit} (refused by the client, not sent)"
            ),
            event: Some(event.to_owned()),
            request_id: id.unwrap_or_default().to_owned(),
            details,
        }
        .into())
    }
}

fn encode<P: Serialize + ?Sized>(
    event: &str,
    payload: &P,
    id: Option<&str>,
) -> Result<Frame, ClientError> {
    envelope::encode(event, payload, id).map_err(|e| ClientError::Encode(e.to_string()))
}

/// Queues the frame `command` builds on `link` and waits until it is
/// written.
async fn write(
    link: &Link,
    command: impl FnOnce(Option<link::Written>) -> Outgoing,
) -> Result<(), ClientError> {
    let (tx, rx) = oneshot::channel();
    let command = command(Some(tx));
    if link.out.send(command).await.is_err() {
        return Err(ClientError::closed(None, "the connection closed"));
    }
    rx.await
        .unwrap_or_else(|_| Err(ClientError::closed(None, "the connection closed")))
}
