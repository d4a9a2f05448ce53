//! How a connection ends when the server ends it: the farewell (queued
//! frames, the error envelope, `__disconnect__ {reason}`, the close frame),
//! the graceful shutdown, and reading out what a client still sends so the
//! close frame is not lost to a reset.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Map, json};
use socketspec_protocol::{CloseCode, DisconnectReason, SystemEvent};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode as WireCloseCode;
use tokio_tungstenite::tungstenite::{self, Message};

use super::event_loop::{ConnectionLoop, WRITE_BATCH};
use crate::dispatch::App;
use crate::dispatch::call::RequestId;
use crate::dispatch::run::refuse_unfinished;
use crate::envelope;
use crate::mailbox::CloseRequest;

/// How long the closing exchange may take before the socket is dropped.
pub(super) const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

/// Bytes [`discard_incoming`] reads at most.
const DISCARD_LIMIT: usize = 64 * 1024 * 1024;

impl<A, S> ConnectionLoop<A, S>
where
    A: App,
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    /// Graceful shutdown: announce it, let in-flight handlers finish within
    /// the grace period (their replies still go out), then close with 1001.
    pub(super) async fn shutdown(&mut self) -> DisconnectReason {
        let grace = self.hub.config.shutdown_grace;
        let _ = self
            .send_system(
                SystemEvent::ServerShutdown.name(),
                json!({"grace": grace.as_secs_f64()}),
            )
            .await;
        let all = u32::try_from(self.hub.config.limits.max_in_flight.max(1)).unwrap_or(u32::MAX);
        let in_flight = std::sync::Arc::clone(&self.in_flight);
        let drained = in_flight.acquire_many_owned(all);
        tokio::pin!(drained);
        let deadline = tokio::time::Instant::now() + grace;
        loop {
            tokio::select! {
                _ = &mut drained => break,
                () = tokio::time::sleep_until(deadline) => break,
                Some(()) = self.running.next(), if !self.running.is_empty() => {}
                () = self.conn.mailbox().ready() => {
                    if self.write(WRITE_BATCH, true).await.is_err() {
                        return DisconnectReason::ServerShutdown;
                    }
                }
                // What the client sent before it heard of the shutdown (some
                // of it already read into the WebSocket's buffer) is not
                // handled, and not left unanswered either.
                message = self.ws.next() => match message {
                    Some(Ok(Message::Text(text))) => self.refuse_while_shutting_down(text.as_bytes()),
                    Some(Ok(Message::Binary(bytes))) => self.refuse_while_shutting_down(&bytes),
                    Some(Ok(_)) => {}
                    Some(Err(_)) | None => break,
                },
            }
        }
        // Handlers still waiting, and `ordered` events still queued, get
        // an error now: their replies would come after the close.
        self.refuse_unfinished_handlers().await;
        // Requests that already arrived (in the WebSocket's buffer or the
        // socket's) get their error before the close frame.
        while let Some(Some(Ok(message))) = futures_util::FutureExt::now_or_never(self.ws.next()) {
            match message {
                Message::Text(text) => self.refuse_while_shutting_down(text.as_bytes()),
                Message::Binary(bytes) => self.refuse_while_shutting_down(&bytes),
                _ => {}
            }
        }
        self.close(CloseRequest::new(DisconnectReason::ServerShutdown))
            .await
    }

    /// The grace period is over: every parked handler's request, and every
    /// `ordered` one running or queued, gets a `HANDLER_ERROR` (the running
    /// handlers go on after the close; what they send then is dropped).
    async fn refuse_unfinished_handlers(&mut self) {
        for parked in self.running.iter() {
            refuse_unfinished(
                &self.conn,
                &self.namespace,
                parked.event,
                parked.id.as_ref().map(RequestId::as_str),
                true,
            );
        }
        if let Some(ordered) = self.ordered.as_mut() {
            ordered.refuse_rest().await;
        }
    }

    /// Answers a request that arrived during the shutdown with an error
    /// (with its `id`), so that no request read goes unanswered.
    fn refuse_while_shutting_down(&self, bytes: &[u8]) {
        let Ok(decoded) = envelope::decode_borrowed(bytes) else {
            return;
        };
        if socketspec_protocol::is_reserved(&decoded.event) {
            return;
        }
        let id = decoded.id.as_deref();
        refuse_unfinished(&self.conn, &self.namespace, &decoded.event, id, false);
    }

    /// The server-initiated close: queued frames, the error envelope if any,
    /// `__disconnect__ {reason}`, then the close frame.
    pub(super) async fn close(&mut self, request: CloseRequest) -> DisconnectReason {
        let ws = &mut self.ws;
        let mailbox = self.conn.mailbox();
        let metrics = &self.hub.metrics;
        let mut error = request.error.as_ref().map(|(code, message)| {
            metrics.error(*code);
            envelope::encode_error(*code, None, message, &Map::new(), None)
        });
        // Numbered frames: the error gets its `seq` after the queued ones.
        if mailbox.is_sequenced()
            && let Some(frame) = error.take()
        {
            mailbox.push_sequenced(frame);
        }
        let farewell = async {
            while let Some(frame) = mailbox.pop() {
                ws.feed(Message::Text(frame.into_utf8_bytes())).await?;
            }
            if let Some(frame) = error {
                ws.feed(Message::Text(frame.into_utf8_bytes())).await?;
            }
            let disconnect = json!({"reason": request.reason.as_str()});
            if let Ok(frame) = envelope::encode(SystemEvent::Disconnect.name(), &disconnect, None) {
                ws.feed(Message::Text(frame.into_utf8_bytes())).await?;
            }
            ws.flush().await?;
            close_socket(ws, request.code, request.reason.as_str()).await
        };
        let _ = tokio::time::timeout(CLOSE_TIMEOUT, farewell).await;
        request.reason
    }
}

/// Reads and drops what the client is still sending (the rest of a message
/// too big to take), for at most [`CLOSE_TIMEOUT`]: closing a socket with
/// unread data resets the connection, and the client would lose the close
/// frame (and its 1009) that is already on its way.
pub(super) async fn discard_incoming<S: AsyncRead + Unpin>(stream: &mut S) {
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
pub(super) async fn close_socket<S>(
    ws: &mut WebSocketStream<S>,
    code: CloseCode,
    reason: &str,
) -> Result<(), tungstenite::Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    ws.close(Some(CloseFrame {
        code: WireCloseCode::from(code.as_u16()),
        reason: reason.into(),
    }))
    .await?;
    while let Some(Ok(_)) = ws.next().await {}
    Ok(())
}
