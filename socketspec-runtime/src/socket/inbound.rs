//! What the loop does with what the client sends: bursts of frames, the
//! size limit, decoding, the client-side system events, the rate limit,
//! the event lookup and payload validation, then the handler's scheduling.

use futures_util::{FutureExt, StreamExt};
use serde_json::{Map, Value, json};
use socketspec_protocol::{DisconnectReason, SystemEvent, is_reserved};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::{self, Message};

use super::event_loop::ConnectionLoop;
use super::request_id::{is_flat, range_in, request_id};
use crate::dispatch::App;
use crate::dispatch::call::Payload;
use crate::envelope::{self, Decoded, DecodedPayload};
use crate::error::ErrorCode;
use crate::frame::Frame;
use crate::mailbox::CloseRequest;
use crate::metrics::FrameKind;

/// Frames handled in one burst (those that already arrived behind the first)
/// before their replies are written.
const READ_BATCH: usize = 64;

impl<A, S> ConnectionLoop<A, S>
where
    A: App,
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    /// Handles `first` and the frames that already arrived behind it (up to
    /// [`READ_BATCH`], while in-flight permits last), then writes what they
    /// produced with one flush: a burst of requests costs one write instead
    /// of one per reply, and one turn of the loop instead of several.
    pub(super) async fn read_burst(&mut self, first: Message) -> Option<DisconnectReason> {
        let mut next = Some(first);
        let mut handled = 0;
        while let Some(message) = next.take() {
            if let Some(reason) = self.on_message(message).await {
                return Some(reason);
            }
            handled += 1;
            if handled == READ_BATCH
                || self.in_flight.available_permits() == 0
                || self.conn.is_closing()
            {
                break;
            }
            // A no-op waker is enough here: the next `select!` round polls
            // the socket again with the task's own waker before it sleeps.
            match self.ws.next().now_or_never() {
                None => {}
                Some(None) => return Some(DisconnectReason::ClientClose),
                Some(Some(Ok(message))) => next = Some(message),
                Some(Some(Err(error))) => return Some(self.on_read_error(error).await),
            }
        }
        match self.write(usize::MAX, true).await {
            Ok(()) => None,
            Err(()) => Some(DisconnectReason::TransportError),
        }
    }

    /// Handles one inbound WebSocket message; `Some(reason)` ends the loop.
    async fn on_message(&mut self, message: Message) -> Option<DisconnectReason> {
        self.hub.metrics.frame(match &message {
            Message::Text(_) => FrameKind::Text,
            Message::Binary(_) => FrameKind::Binary,
            _ => FrameKind::Control,
        });
        if matches!(message, Message::Text(_) | Message::Binary(_)) {
            self.flood.message();
        }
        match message {
            Message::Text(text) => {
                let frame = Frame::from_utf8_bytes(text);
                self.on_text(frame.as_bytes(), Some(&frame)).await
            }
            Message::Binary(bytes) => match std::str::from_utf8(&bytes) {
                Ok(_) => self.on_text(&bytes, None).await,
                Err(_) => {
                    self.queue_error(
                        ErrorCode::ValidationError,
                        None,
                        "binary frame is not UTF-8 JSON",
                        &Map::new(),
                        None,
                    );
                    None
                }
            },
            // tungstenite queues the close reply itself; flushing it and
            // reading to the end completes the closing handshake.
            Message::Close(_) => {
                let ws = &mut self.ws;
                let _ = tokio::time::timeout(super::closing::CLOSE_TIMEOUT, async {
                    let _ = futures_util::SinkExt::flush(ws).await;
                    while let Some(Ok(_)) = ws.next().await {}
                })
                .await;
                Some(DisconnectReason::ClientClose)
            }
            Message::Ping(_) | Message::Pong(_) => {
                if self.flood.control(Instant::now()) {
                    return Some(
                        self.close(CloseRequest::new(DisconnectReason::FrameFlood))
                            .await,
                    );
                }
                None
            }
            Message::Frame(_) => None,
        }
    }

    /// Handles one text message. `frame` is the message itself when it
    /// came as text, so a payload can stay in it (see [`Payload::raw`]).
    async fn on_text(&mut self, bytes: &[u8], frame: Option<&Frame>) -> Option<DisconnectReason> {
        let limit = self.hub.config.limits.max_payload_size;
        if bytes.len() > limit {
            self.refuse_too_large(bytes, limit);
            return None;
        }
        let decoded = envelope::decode_borrowed(bytes);
        // Client-side system events are neither rate-limited nor activity.
        if let Ok(inbound) = &decoded {
            if inbound.event == SystemEvent::Pong.name() {
                self.clock.pong();
                return None;
            }
            if inbound.event == SystemEvent::RefreshAuth.name() {
                if let Ok(Decoded { payload, id, .. }) = decoded {
                    let payload = payload.into_value().unwrap_or(Value::Null);
                    self.refresh_auth(&payload, id.as_deref()).await;
                }
                return None;
            }
        }
        let now = Instant::now();
        if let Some(bucket) = &mut self.bucket
            && let Err(wait) = bucket.try_take(now)
        {
            let (event, id) = match &decoded {
                Ok(m) => (Some(m.event.as_ref()), m.id.as_deref()),
                Err(e) => (e.event.as_deref(), e.id.as_deref()),
            };
            let mut details = Map::new();
            let retry_after = (wait.as_secs_f64() * 1000.0).ceil() / 1000.0;
            details.insert("retry_after".to_owned(), json!(retry_after));
            self.queue_error(
                ErrorCode::RateLimitError,
                event,
                "rate limit exceeded; the message was dropped",
                &details,
                id,
            );
            return None;
        }
        let inbound = match decoded {
            Ok(inbound) => inbound,
            Err(e) => {
                self.queue_error(
                    ErrorCode::ValidationError,
                    e.event.as_deref(),
                    &e.message,
                    &Map::new(),
                    e.id.as_deref(),
                );
                return None;
            }
        };
        let Some(index) = self.namespace.events.get(inbound.event.as_ref()) else {
            self.refuse_unknown(&inbound.event, inbound.id.as_deref());
            return None;
        };
        self.namespace.event_metrics.received(index);
        self.clock.activity(now);
        let meta = self.namespace.meta.events.get(index);
        // Middleware may read the payload as a `Value`: only without any is
        // it worth keeping the text for the type to decode.
        let type_checked = meta.is_some_and(|m| m.type_checked) && self.chain.is_empty();
        let Decoded { event, payload, id } = inbound;
        let raw = match &payload {
            DecodedPayload::Raw(raw) if type_checked && is_flat(raw.get()) => {
                frame.and_then(|f| Some((f.clone(), range_in(f, raw.get())?)))
            }
            _ => None,
        };
        let payload = match raw {
            Some((frame, range)) => Payload::raw(frame, range),
            None => match self.validated(index, payload, &event, id.as_deref()) {
                Some(value) => Payload::value(value),
                None => return None,
            },
        };
        let ordered = meta.is_some_and(|m| m.ordered);
        let id = id.map(|id| request_id(id, frame));
        self.start_call(index, ordered, payload, id, now).await;
        None
    }

    /// Answers a message over `max_payload_size` with `PAYLOAD_TOO_LARGE`.
    fn refuse_too_large(&self, bytes: &[u8], limit: usize) {
        let mut details = Map::new();
        details.insert("limit".to_owned(), json!(limit));
        details.insert("size".to_owned(), json!(bytes.len()));
        let message = format!("message is {} bytes; the limit is {limit}", bytes.len());
        // The error still answers the request by its id. Reading the
        // envelope's head costs a parse bounded by the WebSocket hard
        // cap (4 x the limit); the payload is never validated or kept.
        let head = envelope::decode_head(bytes);
        self.queue_error(
            ErrorCode::PayloadTooLarge,
            head.event.as_deref(),
            &message,
            &details,
            head.id.as_deref(),
        );
    }

    /// Answers an event this namespace does not have with `UNKNOWN_EVENT`.
    fn refuse_unknown(&self, event: &str, id: Option<&str>) {
        let message = if is_reserved(event) {
            format!("`{event}` is a server-to-client system event")
        } else {
            format!("no handler for event `{event}`")
        };
        self.queue_error(
            ErrorCode::UnknownEvent,
            Some(event),
            &message,
            &Map::new(),
            id,
        );
    }

    /// `payload` parsed and checked against the schema of event `index`
    /// (`event`, request `id`), or `None` after queueing the
    /// `VALIDATION_ERROR`.
    fn validated(
        &self,
        index: usize,
        payload: DecodedPayload<'_>,
        event: &str,
        id: Option<&str>,
    ) -> Option<Value> {
        let (message, details) = match payload.into_value() {
            Ok(value) => match self.namespace.validators.check(index, &value) {
                Ok(()) => return Some(value),
                Err(violations) => {
                    let mut details = Map::new();
                    details.insert("errors".to_owned(), violations.errors);
                    (violations.message, details)
                }
            },
            Err(message) => (message, Map::new()),
        };
        // Which event and connection, not the payload's contents.
        tracing::debug!(
            connection = self.conn.id(),
            event,
            code = ?ErrorCode::ValidationError,
            "payload refused"
        );
        self.queue_error(
            ErrorCode::ValidationError,
            Some(event),
            &message,
            &details,
            id,
        );
        None
    }

    /// Ends the loop after a read failed, with the close the failure calls for.
    pub(super) async fn on_read_error(&mut self, error: tungstenite::Error) -> DisconnectReason {
        use tungstenite::error::ProtocolError;
        match error {
            tungstenite::Error::Capacity(_) => {
                let reason = self
                    .close(CloseRequest::new(DisconnectReason::MessageTooBig))
                    .await;
                super::closing::discard_incoming(self.ws.get_mut()).await;
                reason
            }
            tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed => {
                DisconnectReason::ClientClose
            }
            // The client vanished without a closing handshake.
            tungstenite::Error::Protocol(ProtocolError::ResetWithoutClosingHandshake) => {
                DisconnectReason::TransportError
            }
            // RFC 6455 7.1.7: fail the connection, with the matching code.
            tungstenite::Error::Protocol(error) => {
                tracing::debug!(connection = self.conn.id(), %error, "protocol violation");
                self.close(CloseRequest::new(DisconnectReason::ProtocolError))
                    .await
            }
            tungstenite::Error::Utf8(_) => {
                self.close(CloseRequest::new(DisconnectReason::InvalidUtf8))
                    .await
            }
            other => {
                tracing::debug!(connection = self.conn.id(), error = %other, "read failed");
                DisconnectReason::TransportError
            }
        }
    }
}
