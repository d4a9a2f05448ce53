//! The connection loop: one task per connection, generic over the byte
//! stream (TCP, a hyper upgrade, or `tokio::io::duplex` in tests).
//!
//! The loop owns the WebSocket. It reads frames, decodes and validates them,
//! hands calls to handler tasks (bounded per connection), writes the outbound
//! queue in batches, and fires session timers from a single deadline.

use std::borrow::Cow;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use tokio::time::Instant;

use futures_util::stream::FuturesUnordered;
use futures_util::{FutureExt, SinkExt, StreamExt};
use serde_json::{Map, Value, json};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, watch};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{self, Message};

use crate::app::App;
use crate::auth::{AuthRejection, BoxFuture, HandshakeRequest, seconds_until};
use crate::call::{Call, Payload, RequestId};
use crate::close::{CloseReason, code};
use crate::connection::Connection;
use crate::dispatch::run_call;
use crate::envelope::{self, Decoded, DecodedPayload, Frame, system};
use crate::error::ErrorCode;
use crate::identity::Identity;
use crate::metrics::FrameKind;
use crate::rate_limit::TokenBucket;
use crate::session::{SessionClock, TimerAction};
use crate::shared::Shared;

/// Frames written before one flush.
const WRITE_BATCH: usize = 64;
/// Frames handled in one burst (those that already arrived behind the first)
/// before their replies are written.
const READ_BATCH: usize = 64;
/// How long the closing exchange may take before the socket is dropped.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);
/// How long one write batch may stall (the client does not read) before
/// the connection counts as a slow consumer and is dropped: without it a
/// client that sends and never reads would hold its connection (and its
/// loop, timers included) forever.
const WRITE_STALL_TIMEOUT: Duration = Duration::from_secs(10);

/// What the upgrade decided about a new connection.
pub(crate) struct Admission {
    pub(crate) handshake: HandshakeRequest,
    pub(crate) identity: Result<Option<Identity>, AuthRejection>,
}

/// Serves one upgraded WebSocket until it closes.
pub(crate) async fn serve<A, S>(
    app: Arc<A>,
    shared: Arc<Shared>,
    mut ws: WebSocketStream<S>,
    admission: Admission,
) where
    A: App,
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    shared.metrics.connection_opened();
    let identity = match admission.identity {
        Ok(identity) => identity,
        Err(rejection) => {
            shared.metrics.error(ErrorCode::AuthError);
            shared.metrics.connection_closed("auth_error");
            let frame =
                envelope::encode_error(ErrorCode::AuthError, None, &rejection.0, &Map::new(), None);
            let _ = tokio::time::timeout(CLOSE_TIMEOUT, async {
                ws.send(Message::Text(frame)).await?;
                close_socket(&mut ws, code::AUTH, "auth_error").await
            })
            .await;
            return;
        }
    };
    let conn = Connection::new(
        identity,
        admission.handshake,
        shared.config.outbound_queue,
        Arc::clone(&shared),
    );
    let now = Instant::now();
    let auth_expiry = conn.identity().and_then(|i| i.expires_at);
    let mut lp = ConnectionLoop {
        clock: SessionClock::new(shared.config.session, now, auth_expiry),
        bucket: shared
            .config
            .rate_limit
            .map(|limit| TokenBucket::new(limit, now)),
        in_flight: Arc::new(Semaphore::new(shared.config.max_in_flight.max(1))),
        running: FuturesUnordered::new(),
        unflushed: 0,
        ordered: None,
        shutdown: shared.shutdown.subscribe(),
        ws,
        conn,
        app,
        shared,
    };
    let reason = lp.run().await;
    lp.conn.outbox().close();
    // Handlers still running finish (their replies are dropped with the
    // socket), so work a client started is not cut off halfway.
    let mut running = std::mem::take(&mut lp.running);
    if !running.is_empty() {
        tokio::spawn(async move { while running.next().await.is_some() {} });
    }
    lp.shared.leave_all(&lp.conn).await;
    lp.app.on_disconnect(&lp.conn, &reason).await;
    lp.shared.metrics.connection_closed(&reason);
}

struct ConnectionLoop<A, S> {
    ws: WebSocketStream<S>,
    conn: Connection,
    app: Arc<A>,
    shared: Arc<Shared>,
    clock: SessionClock,
    bucket: Option<TokenBucket>,
    in_flight: Arc<Semaphore>,
    /// Unordered handlers of this connection, polled by the loop itself
    /// (before it reads the next frame, so a handler that broadcasts before
    /// its first real await does so in arrival order) instead of one task
    /// spawned per message.
    running: FuturesUnordered<BoxFuture<'static, ()>>,
    /// Frames fed to the socket since the last flush. Flushing once when
    /// nothing else is ready (instead of after every reply) turns a burst of
    /// replies into one write.
    unflushed: usize,
    ordered: Option<mpsc::Sender<OrderedCall>>,
    shutdown: watch::Receiver<bool>,
}

/// What ended a `select!` round.
enum Wake {
    Close,
    Shutdown,
    Outbound,
    Inbound(Option<Result<Message, tungstenite::Error>>),
    Timer,
    HandlerDone,
    /// An in-flight permit came back while reading was paused.
    PermitFree,
    Flush,
}

impl<A, S> ConnectionLoop<A, S>
where
    A: App,
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    /// Runs until the connection ends; returns the disconnect reason.
    async fn run(&mut self) -> String {
        if self
            .send_now(&connect_frame(&self.conn, &self.shared))
            .await
            .is_err()
        {
            return "transport_error".to_owned();
        }
        if let Err(error) = self.app.on_connect(&self.conn).await {
            tracing::warn!(connection = self.conn.id(), ?error, "on_connect failed");
            let (code, message, details) = error.into_parts();
            self.shared.metrics.error(code);
            let _ = self
                .send_now(&envelope::encode_error(
                    code, None, &message, &details, None,
                ))
                .await;
            return self
                .close(CloseReason::new(code::INTERNAL_ERROR, "on_connect_failed"))
                .await;
        }
        loop {
            match self.next_wake().await {
                Wake::Close => {
                    let reason = self
                        .conn
                        .take_close_reason()
                        .unwrap_or_else(|| CloseReason::new(code::NORMAL, "closed_by_server"));
                    if reason.code == code::SLOW_CONSUMER {
                        // Its socket is not draining: the farewell would only block.
                        return reason.reason;
                    }
                    return self.close(reason).await;
                }
                Wake::Shutdown => return self.shutdown().await,
                Wake::Outbound => {
                    self.shared.metrics.outbound_depth(self.conn.outbox().len());
                    if self.write(WRITE_BATCH, false).await.is_err() {
                        return "transport_error".to_owned();
                    }
                }
                Wake::Inbound(None) => return "client_close".to_owned(),
                Wake::Inbound(Some(Ok(message))) => {
                    if let Some(reason) = self.read_burst(message).await {
                        return reason;
                    }
                }
                Wake::Inbound(Some(Err(error))) => return self.on_read_error(error).await,
                Wake::Timer => {
                    if let Some(reason) = self.on_timer().await {
                        return reason;
                    }
                }
                Wake::HandlerDone | Wake::PermitFree => {}
                Wake::Flush => {
                    if self.write(0, true).await.is_err() {
                        return "transport_error".to_owned();
                    }
                }
            }
        }
    }

    async fn next_wake(&mut self) -> Wake {
        let deadline = self.clock.next_deadline();
        let can_read = self.in_flight.available_permits() > 0;
        let outbox = self.conn.outbox();
        let wake = tokio::select! {
            biased;
            () = self.conn.close_requested() => Wake::Close,
            Ok(()) = self.shutdown.changed(), if !*self.shutdown.borrow() => Wake::Shutdown,
            () = outbox.ready() => Wake::Outbound,
            Some(()) = self.running.next(), if !self.running.is_empty() => Wake::HandlerDone,
            message = self.ws.next(), if can_read => Wake::Inbound(message),
            // An `ordered` handler that replies nothing frees its permit in
            // its worker's task: this wakes the loop to read again.
            Ok(_permit) = self.in_flight.acquire(), if !can_read => Wake::PermitFree,
            () = sleep_until(deadline), if deadline.is_some() => Wake::Timer,
            // Last: only when nothing else is ready.
            () = std::future::ready(()), if self.unflushed > 0 => Wake::Flush,
        };
        self.conn.outbox().mark_awake();
        wake
    }

    /// Handles `first` and the frames that already arrived behind it (up to
    /// [`READ_BATCH`], while in-flight permits last), then writes what they
    /// produced with one flush: a burst of requests costs one write instead
    /// of one per reply, and one turn of the loop instead of several.
    async fn read_burst(&mut self, first: Message) -> Option<String> {
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
                Some(None) => return Some("client_close".to_owned()),
                Some(Some(Ok(message))) => next = Some(message),
                Some(Some(Err(error))) => return Some(self.on_read_error(error).await),
            }
        }
        match self.write(usize::MAX, true).await {
            Ok(()) => None,
            Err(()) => Some("transport_error".to_owned()),
        }
    }

    /// Feeds up to `limit` queued frames to the socket, then flushes what
    /// is unflushed when `flush`, or when [`WRITE_BATCH`] frames are. A
    /// close request interrupts a write that the client does not drain.
    async fn write(&mut self, limit: usize, flush: bool) -> Result<(), ()> {
        let ws = &mut self.ws;
        let outbox = self.conn.outbox();
        let unflushed = &mut self.unflushed;
        let write = async {
            let mut fed = 0;
            while fed < limit {
                let Some(frame) = outbox.pop() else { break };
                ws.feed(Message::Text(frame)).await?;
                fed += 1;
            }
            *unflushed += fed;
            if *unflushed > 0 && (flush || *unflushed >= WRITE_BATCH) {
                *unflushed = 0;
                ws.flush().await
            } else {
                Ok(())
            }
        };
        guard_write(&self.conn, write).await
    }

    /// Writes one frame straight to the socket, bounded in time.
    async fn send_now(&mut self, frame: &Frame) -> Result<(), ()> {
        match tokio::time::timeout(
            CLOSE_TIMEOUT * 5,
            self.ws.send(Message::Text(frame.clone())),
        )
        .await
        {
            Ok(Ok(())) => Ok(()),
            _ => Err(()),
        }
    }

    async fn send_system(&mut self, event: &str, payload: Value) -> Result<(), ()> {
        match envelope::encode(event, &payload, None) {
            Ok(frame) => self.send_now(&frame).await,
            Err(_) => Ok(()),
        }
    }

    fn queue_error(
        &self,
        code: ErrorCode,
        event: Option<&str>,
        message: &str,
        details: &Map<String, Value>,
        id: Option<&str>,
    ) {
        self.shared.metrics.error(code);
        let _ = self
            .conn
            .send_frame(envelope::encode_error(code, event, message, details, id));
    }

    /// Handles one inbound WebSocket message; `Some(reason)` ends the loop.
    async fn on_message(&mut self, message: Message) -> Option<String> {
        self.shared.metrics.frame(match &message {
            Message::Text(_) => FrameKind::Text,
            Message::Binary(_) => FrameKind::Binary,
            _ => FrameKind::Control,
        });
        match message {
            Message::Text(text) => self.on_text(text.as_bytes(), Some(&text)).await,
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
                let _ = tokio::time::timeout(CLOSE_TIMEOUT, async {
                    let _ = ws.flush().await;
                    while let Some(Ok(_)) = ws.next().await {}
                })
                .await;
                Some("client_close".to_owned())
            }
            Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => None,
        }
    }

    /// Handles one text message. `frame` is the message itself when it
    /// came as text, so a payload can stay in it (see [`Payload::raw`]).
    async fn on_text(&mut self, bytes: &[u8], frame: Option<&Frame>) -> Option<String> {
        let limit = self.shared.config.max_payload_size;
        if bytes.len() > limit {
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
            return None;
        }
        let decoded = envelope::decode_borrowed(bytes);
        // Client-side system events are neither rate-limited nor activity.
        if let Ok(inbound) = &decoded {
            if inbound.event == system::PONG {
                self.clock.pong();
                return None;
            }
            if inbound.event == system::REFRESH_AUTH {
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
        let Some(index) = self.shared.events.get(inbound.event.as_ref()) else {
            let message = if system::is_reserved(&inbound.event) {
                format!("`{}` is a server-to-client system event", inbound.event)
            } else {
                format!("no handler for event `{}`", inbound.event)
            };
            self.queue_error(
                ErrorCode::UnknownEvent,
                Some(&inbound.event),
                &message,
                &Map::new(),
                inbound.id.as_deref(),
            );
            return None;
        };
        self.shared.metrics.event(index);
        self.clock.activity(now);
        let meta = self.shared.meta.events.get(index);
        // Middleware may read the payload as a `Value`: only without any is
        // it worth keeping the text for the type to decode.
        let type_checked =
            meta.is_some_and(|m| m.type_checked) && self.shared.middleware.is_empty();
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
            Ok(value) => match self.shared.validators.check(index, &value) {
                Ok(()) => return Some(value),
                Err(violations) => {
                    let mut details = Map::new();
                    details.insert("errors".to_owned(), violations.errors);
                    (violations.message, details)
                }
            },
            Err(message) => (message, Map::new()),
        };
        self.queue_error(
            ErrorCode::ValidationError,
            Some(event),
            &message,
            &details,
            id,
        );
        None
    }

    async fn start_call(
        &mut self,
        index: usize,
        ordered: bool,
        payload: Payload,
        id: Option<RequestId>,
        arrived: Instant,
    ) {
        let call = Call {
            conn: self.conn.clone(),
            event: index,
            payload,
            id,
        };
        if ordered {
            // Cannot fail: the loop reads a message only while a slot is free.
            let permit = Arc::clone(&self.in_flight).try_acquire_owned().ok();
            let tx = self.ordered.get_or_insert_with(|| {
                spawn_ordered_worker(
                    Arc::clone(&self.app),
                    self.shared.config.max_in_flight.max(1),
                )
            });
            // Capacity equals the permit count, so this cannot be full.
            let _ = tx.try_send((call, permit));
            return;
        }
        // The handler starts now: the clock read for the message serves
        // for its timer too.
        let started = arrived.into_std();
        let mut handler = Box::pin(run_call(Arc::clone(&self.app), call, started));
        // Most handlers finish without waiting on anything: run each to
        // its first real await now, so its reply joins this burst's write,
        // and park only those that wait. Not while others are parked,
        // though: one of them may be woken but not yet polled, and a newer
        // handler run now would reach a shared step (a Redis publish)
        // first, breaking per-sender broadcast order. Behind them in the
        // queue, it is polled after them.
        if self.running.is_empty() {
            let first_poll = std::future::poll_fn(|cx| Poll::Ready(handler.as_mut().poll(cx)));
            if first_poll.await.is_ready() {
                return;
            }
        }
        // Only a parked handler holds an in-flight slot (see `RunCall::hold`).
        if let Ok(permit) = Arc::clone(&self.in_flight).try_acquire_owned() {
            handler.as_mut().hold(permit);
        }
        self.running.push(handler);
    }

    async fn refresh_auth(&mut self, payload: &Value, id: Option<&str>) {
        let refuse = |this: &Self, message: &str| {
            this.queue_error(
                ErrorCode::AuthError,
                Some(system::REFRESH_AUTH),
                message,
                &Map::new(),
                id,
            );
        };
        let Some(auth) = self.shared.config.auth.clone() else {
            return refuse(self, "this server has no token authentication to refresh");
        };
        let Some(token) = payload.get("token").and_then(Value::as_str) else {
            return refuse(
                self,
                "`__refresh_auth__` needs a string `token` in its payload",
            );
        };
        let identity = match auth.refresh(token).await {
            Ok(identity) => identity,
            Err(rejection) => return refuse(self, &rejection.0),
        };
        if identity.user_id != self.conn.user_id() {
            return refuse(
                self,
                "the new token's subject differs from the connection's",
            );
        }
        self.clock
            .set_auth_expiry(identity.expires_at, Instant::now());
        let expires_in = identity.expires_at.map(seconds_until);
        self.conn.set_identity(identity);
        if let Ok(frame) =
            envelope::encode(system::REFRESH_AUTH, &json!({"expires_in": expires_in}), id)
        {
            let _ = self.conn.send_frame(frame);
        }
    }

    async fn on_read_error(&mut self, error: tungstenite::Error) -> String {
        match error {
            tungstenite::Error::Capacity(_) => {
                let reason = self
                    .close(CloseReason::new(code::MESSAGE_TOO_BIG, "message_too_big"))
                    .await;
                discard_incoming(self.ws.get_mut()).await;
                reason
            }
            tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed => {
                "client_close".to_owned()
            }
            // The client vanished without a closing handshake.
            tungstenite::Error::Protocol(
                tungstenite::error::ProtocolError::ResetWithoutClosingHandshake,
            ) => "transport_error".to_owned(),
            // RFC 6455 7.1.7: fail the connection, with the matching code.
            tungstenite::Error::Protocol(error) => {
                tracing::debug!(connection = self.conn.id(), %error, "protocol violation");
                self.close(CloseReason::new(code::PROTOCOL_ERROR, "protocol_error"))
                    .await
            }
            tungstenite::Error::Utf8(_) => {
                self.close(CloseReason::new(code::INVALID_PAYLOAD, "invalid_utf8"))
                    .await
            }
            other => {
                tracing::debug!(connection = self.conn.id(), error = %other, "read failed");
                "transport_error".to_owned()
            }
        }
    }

    async fn on_timer(&mut self) -> Option<String> {
        let action = self.clock.fire(Instant::now())?;
        let secs = |d: Duration| json!({"expires_in": d.as_secs_f64()});
        let sent = match action {
            TimerAction::Ping => self.send_system(system::PING, json!({})).await,
            TimerAction::IdleWarning(left) => {
                self.send_system(system::IDLE_WARNING, secs(left)).await
            }
            TimerAction::SessionWarning(left) => {
                self.send_system(system::SESSION_EXPIRING, secs(left)).await
            }
            TimerAction::AuthWarning(left) => {
                self.send_system(system::AUTH_EXPIRING, secs(left)).await
            }
            TimerAction::HeartbeatTimeout => {
                return Some(
                    self.close(CloseReason::new(
                        code::HEARTBEAT_TIMEOUT,
                        "heartbeat_timeout",
                    ))
                    .await,
                );
            }
            TimerAction::IdleTimeout => {
                let reason = CloseReason::new(code::IDLE_TIMEOUT, "idle_timeout").with_error(
                    ErrorCode::IdleTimeout,
                    "no application event within the idle timeout",
                );
                return Some(self.close(reason).await);
            }
            TimerAction::SessionExpired => {
                let reason = CloseReason::new(code::SESSION_EXPIRED, "session_expired").with_error(
                    ErrorCode::SessionExpired,
                    "the session reached its maximum duration",
                );
                return Some(self.close(reason).await);
            }
            TimerAction::AuthExpired => {
                let reason = CloseReason::new(code::AUTH, "auth_expired").with_error(
                    ErrorCode::AuthExpired,
                    "the credential expired without a refresh",
                );
                return Some(self.close(reason).await);
            }
        };
        sent.is_err().then(|| "transport_error".to_owned())
    }

    /// Graceful shutdown: announce it, let in-flight handlers finish within
    /// the grace period (their replies still go out), then close with 1001.
    async fn shutdown(&mut self) -> String {
        let grace = self.shared.config.shutdown_grace;
        let _ = self
            .send_system(
                system::SERVER_SHUTDOWN,
                json!({"grace": grace.as_secs_f64()}),
            )
            .await;
        let all = u32::try_from(self.shared.config.max_in_flight.max(1)).unwrap_or(u32::MAX);
        let in_flight = Arc::clone(&self.in_flight);
        let drained = in_flight.acquire_many_owned(all);
        tokio::pin!(drained);
        let deadline = tokio::time::Instant::now() + grace;
        loop {
            tokio::select! {
                _ = &mut drained => break,
                () = tokio::time::sleep_until(deadline) => break,
                Some(()) = self.running.next(), if !self.running.is_empty() => {}
                () = self.conn.outbox().ready() => {
                    if self.write(WRITE_BATCH, true).await.is_err() {
                        return "server_shutdown".to_owned();
                    }
                }
            }
        }
        self.close(CloseReason::new(code::GOING_AWAY, "server_shutdown"))
            .await
    }

    /// The server-initiated close: queued frames, the error envelope if any,
    /// `__disconnect__ {reason}`, then the close frame.
    async fn close(&mut self, reason: CloseReason) -> String {
        let ws = &mut self.ws;
        let outbox = self.conn.outbox();
        let metrics = &self.shared.metrics;
        let farewell = async {
            while let Some(frame) = outbox.pop() {
                ws.feed(Message::Text(frame)).await?;
            }
            if let Some((code, message)) = &reason.error {
                metrics.error(*code);
                let frame = envelope::encode_error(*code, None, message, &Map::new(), None);
                ws.feed(Message::Text(frame)).await?;
            }
            if let Ok(frame) =
                envelope::encode(system::DISCONNECT, &json!({"reason": reason.reason}), None)
            {
                ws.feed(Message::Text(frame)).await?;
            }
            ws.flush().await?;
            close_socket(ws, reason.code, &reason.reason).await
        };
        let _ = tokio::time::timeout(CLOSE_TIMEOUT, farewell).await;
        reason.reason
    }
}

/// Runs a socket write that a client which does not read could stall
/// forever: a close request interrupts it, and a stall of
/// `WRITE_STALL_TIMEOUT` closes the connection as a slow consumer.
async fn guard_write(
    conn: &Connection,
    write: impl std::future::Future<Output = Result<(), tungstenite::Error>>,
) -> Result<(), ()> {
    // Biased: a write that completes at once never arms the stall timer.
    tokio::select! {
        biased;
        result = write => result.map_err(|_| ()),
        () = conn.close_requested() => Ok(()),
        () = tokio::time::sleep(WRITE_STALL_TIMEOUT) => {
            conn.request_close(CloseReason::slow_consumer());
            Ok(())
        }
    }
}

/// Bytes [`discard_incoming`] reads at most.
const DISCARD_LIMIT: usize = 64 * 1024 * 1024;

/// Reads and drops what the client is still sending (the rest of a message
/// too big to take), for at most [`CLOSE_TIMEOUT`]: closing a socket with
/// unread data resets the connection, and the client would lose the close
/// frame (and its 1009) that is already on its way.
async fn discard_incoming<S: AsyncRead + Unpin>(stream: &mut S) {
    use tokio::io::AsyncReadExt;
    // On the heap: a buffer in the future would make every idle connection's
    // task that much bigger.
    let mut buf = vec![0u8; 8192];
    let mut left = DISCARD_LIMIT;
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, async {
        while left > 0 {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => left = left.saturating_sub(n),
            }
        }
    })
    .await;
}

/// Sends the close frame and waits (briefly) for the client's answer.
async fn close_socket<S>(
    ws: &mut WebSocketStream<S>,
    close_code: u16,
    reason: &str,
) -> Result<(), tungstenite::Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    ws.close(Some(CloseFrame {
        code: CloseCode::from(close_code),
        reason: reason.into(),
    }))
    .await?;
    while let Some(Ok(_)) = ws.next().await {}
    Ok(())
}

/// What the loop hands an `ordered` event's worker: the call and the
/// in-flight slot it holds.
type OrderedCall = (Call, Option<OwnedSemaphorePermit>);

fn spawn_ordered_worker<A: App>(app: Arc<A>, capacity: usize) -> mpsc::Sender<OrderedCall> {
    let (tx, mut rx) = mpsc::channel::<OrderedCall>(capacity);
    tokio::spawn(async move {
        while let Some((call, permit)) = rx.recv().await {
            let started = std::time::Instant::now();
            let mut run = std::pin::pin!(run_call(Arc::clone(&app), call, started));
            if let Some(permit) = permit {
                run.as_mut().hold(permit);
            }
            run.await;
        }
    });
    tx
}

fn connect_frame(conn: &Connection, shared: &Shared) -> Frame {
    let s = &shared.config.session;
    let payload = json!({
        "connection_id": conn.id(),
        "heartbeat_interval": s.heartbeat_interval.as_secs_f64(),
        "heartbeat_timeout": s.heartbeat_timeout.as_secs_f64(),
        "idle_timeout": s.idle_timeout.as_secs_f64(),
        "max_duration": s.max_duration.as_secs_f64(),
        "max_payload_size": shared.config.max_payload_size,
    });
    envelope::encode(system::CONNECT, &payload, None).unwrap_or_else(|_| Frame::from_static("{}"))
}

/// Whether a payload object's text has no nested object or array (nor a
/// `{` or `[` inside a string, which is rare enough to not tell apart).
/// Type-checked payloads are flat; anything nested (extra properties the
/// schema allows) takes the `Value` path, so nesting limits and errors are
/// the same whichever path a message takes.
fn is_flat(object: &str) -> bool {
    object
        .as_bytes()
        .get(1..)
        .is_some_and(|inner| memchr::memchr2(b'{', b'[', inner).is_none())
}

/// The request id `id`, kept as a range of `frame` when it is a slice of
/// it (no escapes), else copied.
fn request_id(id: Cow<'_, str>, frame: Option<&Frame>) -> RequestId {
    match (&id, frame) {
        (Cow::Borrowed(text), Some(frame)) => match range_in(frame, text) {
            Some(range) => RequestId::InFrame(frame.clone(), range),
            None => RequestId::Owned(Arc::from(*text)),
        },
        _ => RequestId::Owned(Arc::from(id.as_ref())),
    }
}

/// Where `part` (a slice of `frame`'s text) sits in `frame`.
fn range_in(frame: &Frame, part: &str) -> Option<std::ops::Range<usize>> {
    let text = frame.as_str();
    let start = (part.as_ptr() as usize).checked_sub(text.as_ptr() as usize)?;
    let range = start..start.checked_add(part.len())?;
    // Bounds and identity checked: only a true sub-slice is accepted.
    text.get(range.clone())
        .is_some_and(|s| s.as_ptr() == part.as_ptr())
        .then_some(range)
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_flat_objects_skip_the_value_path() {
        assert!(is_flat(r#"{"seq":1,"data":"x"}"#));
        assert!(is_flat("{}"));
        assert!(!is_flat(r#"{"seq":1,"x":{}}"#));
        assert!(!is_flat(r#"{"seq":1,"x":[1]}"#));
        // A bracket inside a string also takes the `Value` path: harmless.
        assert!(!is_flat(r#"{"data":"[x]"}"#));
        assert!(!is_flat(""));
    }

    #[test]
    fn a_range_is_found_only_for_a_true_sub_slice() {
        let frame = Frame::from_static(r#"{"payload":{"a":1}}"#);
        let inner = frame.as_str().get(11..18).unwrap_or_default();
        assert_eq!(range_in(&frame, inner), Some(11..18));
        let elsewhere = String::from(inner);
        assert_eq!(range_in(&frame, &elsewhere), None);
    }

    #[test]
    fn request_ids_stay_in_their_frame_unless_unescaped() {
        let frame = Frame::from_static(r#"{"event":"e","id":"abc"}"#);
        let id = frame.as_str().get(19..22).unwrap_or_default();
        let kept = request_id(Cow::Borrowed(id), Some(&frame));
        assert!(matches!(kept, RequestId::InFrame(_, ref r) if *r == (19..22)));
        assert_eq!(kept.as_str(), "abc");
        // Unescaped (`"a\"b"`), or from a frame we do not hold: copied.
        let unescaped = request_id(Cow::Owned("a\"b".to_owned()), Some(&frame));
        assert!(matches!(unescaped, RequestId::Owned(_)));
        assert_eq!(unescaped.as_str(), "a\"b");
        let elsewhere = request_id(Cow::Borrowed("xyz"), Some(&frame));
        assert_eq!(elsewhere.as_str(), "xyz");
        assert_eq!(request_id(Cow::Borrowed(id), None).as_str(), "abc");
    }
}
