//! [`ConnectionLoop`]: the state of one connection's loop, and the loop
//! itself: one `select!` over the close request, the shutdown signal, the
//! outbound queue, parked handlers, the socket and the session timers.
//! What each wake-up does lives in the sibling files (inbound, outbound,
//! scheduler, system, closing).

use std::sync::Arc;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use socketspec_protocol::DisconnectReason;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{Semaphore, watch};
use tokio::time::Instant;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::{self, Message};

use super::flood::FloodGuard;
use super::metered::Metered;
use super::ordered::OrderedWorker;
use super::parked::Parked;
use super::rate_limit::TokenBucket;
use super::timers::SessionClock;
use crate::connection::Connection;
use crate::dispatch::middleware::Chain;
use crate::dispatch::namespace::Namespace;
use crate::dispatch::{App, Hooks};
use crate::envelope;
use crate::hub::Hub;
use crate::mailbox::CloseRequest;

/// Frames written before one flush.
pub(super) const WRITE_BATCH: usize = 64;

/// One connection's loop: it owns the WebSocket.
pub(super) struct ConnectionLoop<A, S> {
    pub(super) ws: WebSocketStream<Metered<S>>,
    pub(super) conn: Connection,
    pub(super) app: Arc<A>,
    pub(super) namespace: Arc<Namespace>,
    pub(super) chain: Chain,
    pub(super) hub: Arc<Hub>,
    pub(super) clock: SessionClock,
    pub(super) bucket: Option<TokenBucket>,
    pub(super) flood: FloodGuard,
    pub(super) in_flight: Arc<Semaphore>,
    /// Unordered handlers of this connection, polled by the loop itself
    /// (before it reads the next frame, so a handler that broadcasts before
    /// its first real await does so in arrival order) instead of one task
    /// spawned per message.
    pub(super) running: FuturesUnordered<Parked>,
    /// Frames fed to the socket since the last flush. Flushing once when
    /// nothing else is ready (instead of after every reply) turns a burst of
    /// replies into one write.
    pub(super) unflushed: usize,
    pub(super) ordered: Option<OrderedWorker>,
    pub(super) shutdown: watch::Receiver<bool>,
}

/// What ended a `select!` round.
enum Wake {
    Close,
    Shutdown,
    Outbound,
    Inbound(Option<Result<Message, tungstenite::Error>>),
    Timer,
    /// Bytes keep arriving and no message comes of them.
    Flood,
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
    /// A loop for `conn` over `ws`.
    pub(super) fn new(
        ws: WebSocketStream<Metered<S>>,
        conn: Connection,
        app: Arc<A>,
        namespace: Arc<Namespace>,
        chain: Chain,
        hub: Arc<Hub>,
    ) -> Self {
        let now = Instant::now();
        let config = &hub.config;
        let auth_expiry = conn.identity().and_then(|i| i.expires_at);
        ConnectionLoop {
            clock: SessionClock::new(config.session, now, auth_expiry),
            bucket: config.rate_limit.map(|limit| TokenBucket::new(limit, now)),
            flood: FloodGuard::new(
                ws.get_ref().counter(),
                config.limits.hard_cap(),
                config.limits.max_control_frames_per_sec,
                now,
            ),
            in_flight: Arc::new(Semaphore::new(config.limits.max_in_flight.max(1))),
            running: FuturesUnordered::new(),
            unflushed: 0,
            ordered: None,
            shutdown: hub.shutdown.subscribe(),
            ws,
            conn,
            app,
            namespace,
            chain,
            hub,
        }
    }

    /// Runs until the connection ends; returns why it ended.
    pub(super) async fn run(&mut self, session: super::Session<'_>) -> DisconnectReason {
        let connect = super::connect::connect_frame(&self.conn, &self.hub, &session);
        if self.send_now(&connect).await.is_err() {
            return DisconnectReason::TransportError;
        }
        // A resumed session was connected all along: no `on_connect`.
        let connected = if session.resumed {
            Some(Ok(()))
        } else {
            crate::panic_report::catch_panic("on_connect", self.app.hooks().on_connect(&self.conn))
                .await
        };
        let connected =
            connected.unwrap_or_else(|| Err(crate::Error::handler("internal error in on_connect")));
        if let Err(error) = connected {
            tracing::warn!(connection = self.conn.id(), ?error, "on_connect failed");
            let (code, message, details) = error.into_parts();
            self.hub.metrics.error(code);
            let frame = envelope::encode_error(code, None, &message, &details, None);
            let _ = self.send_sequenced(frame).await;
            return self
                .close(CloseRequest::new(DisconnectReason::OnConnectFailed))
                .await;
        }
        loop {
            match self.next_wake().await {
                Wake::Close => {
                    let request = self
                        .conn
                        .mailbox()
                        .take_close_request()
                        .unwrap_or_else(|| CloseRequest::new(DisconnectReason::ClosedByServer));
                    if request.detach {
                        // A resume took the session to a new socket.
                        return DisconnectReason::TransportError;
                    }
                    if request.reason == DisconnectReason::SlowConsumer {
                        // Its socket is not draining: the farewell would only block.
                        return request.reason;
                    }
                    return self.close(request).await;
                }
                Wake::Shutdown => return self.shutdown().await,
                Wake::Outbound => {
                    let depth = self.conn.mailbox().len();
                    self.hub.metrics.outbound_depth(depth);
                    if self.write(WRITE_BATCH, false).await.is_err() {
                        return DisconnectReason::TransportError;
                    }
                }
                Wake::Inbound(None) => return DisconnectReason::ClientClose,
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
                Wake::Flood => {
                    return self
                        .close(CloseRequest::new(DisconnectReason::FrameFlood))
                        .await;
                }
                Wake::HandlerDone | Wake::PermitFree => {}
                Wake::Flush => {
                    if self.write(0, true).await.is_err() {
                        return DisconnectReason::TransportError;
                    }
                }
            }
        }
    }

    async fn next_wake(&mut self) -> Wake {
        let deadline = self.clock.next_deadline();

        let can_read = self.in_flight.available_permits() > 0;
        let mailbox = self.conn.mailbox();
        let wake = tokio::select! {
            biased;
            () = mailbox.close_requested() => Wake::Close,
            // Whenever it started: also while the loop was busy elsewhere
            // (sending `__connect__`, running `on_connect`, reading).
            () = shutdown_started(&mut self.shutdown) => Wake::Shutdown,
            () = mailbox.ready() => Wake::Outbound,
            Some(()) = self.running.next(), if !self.running.is_empty() => Wake::HandlerDone,
            // Before the socket, and without tokio's timer: a peer that keeps
            // the socket busy (a frame flood uses up the task's cooperative
            // budget on every poll, which would leave a `Sleep` pending
            // forever) must not hold off the session timers or the flood rule.
            () = due(deadline), if deadline.is_some() => Wake::Timer,
            () = self.flood.tripped() => Wake::Flood,
            message = self.ws.next(), if can_read => Wake::Inbound(message),
            // An `ordered` handler that replies nothing frees its permit in
            // its worker's task: this wakes the loop to read again.
            Ok(_permit) = self.in_flight.acquire(), if !can_read => Wake::PermitFree,
            () = sleep_until(deadline), if deadline.is_some() => Wake::Timer,
            // Last: only when nothing else is ready.
            () = std::future::ready(()), if self.unflushed > 0 => Wake::Flush,
        };
        mailbox.mark_awake();
        wake
    }
}

/// Resolves once the graceful shutdown has started, at once when it already
/// has. A function of its own so that the `watch::Ref` it reads is dropped
/// inside it (the loop's future stays `Send`).
pub(super) async fn shutdown_started(shutdown: &mut watch::Receiver<bool>) {
    if shutdown.wait_for(|started| *started).await.is_err() {
        // The hub (the sender) outlives every connection: never here.
        std::future::pending::<()>().await;
    }
}

/// Ready once `deadline` has passed, checked on every poll; never wakes
/// the task itself (the `sleep_until` branch does).
fn due(deadline: Option<Instant>) -> impl Future<Output = ()> {
    std::future::poll_fn(move |_| {
        if deadline.is_some_and(|at| at <= Instant::now()) {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
