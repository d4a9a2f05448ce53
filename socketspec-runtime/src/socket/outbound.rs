//! What the loop writes: batches from the outbound queue (one flush per
//! burst), frames sent straight to the socket, and queued error envelopes.
//! A client that does not read cannot stall the loop: a close request
//! interrupts a write, and a stalled write closes it as a slow consumer.

use std::time::Duration;

use futures_util::SinkExt;
use serde_json::{Map, Value};
use socketspec_protocol::{DisconnectReason, SystemEvent};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::tungstenite::{self, Message};

use super::closing::CLOSE_TIMEOUT;
use super::event_loop::{ConnectionLoop, WRITE_BATCH};
use crate::connection::Connection;
use crate::dispatch::App;
use crate::envelope;
use crate::error::ErrorCode;
use crate::frame::Frame;
use crate::mailbox::CloseRequest;

/// How long one write batch may stall (the client does not read) before
/// the connection counts as a slow consumer and is dropped: without it a
/// client that sends and never reads would hold its connection (and its
/// loop, timers included) forever.
const WRITE_STALL_TIMEOUT: Duration = Duration::from_secs(10);

impl<A, S> ConnectionLoop<A, S>
where
    A: App,
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    /// Feeds up to `limit` queued frames to the socket, then flushes what
    /// is unflushed when `flush`, or when [`WRITE_BATCH`] frames are. A
    /// close request interrupts a write that the client does not drain.
    pub(super) async fn write(&mut self, limit: usize, flush: bool) -> Result<(), ()> {
        let ws = &mut self.ws;
        let mailbox = self.conn.mailbox();
        let unflushed = &mut self.unflushed;
        let write = async {
            let mut fed = 0;
            while fed < limit {
                let Some(frame) = mailbox.pop() else { break };
                ws.feed(Message::Text(frame.into_utf8_bytes())).await?;
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
    pub(super) async fn send_now(&mut self, frame: &Frame) -> Result<(), ()> {
        let message = Message::Text(frame.clone().into_utf8_bytes());
        match tokio::time::timeout(CLOSE_TIMEOUT * 5, self.ws.send(message)).await {
            Ok(Ok(())) => Ok(()),
            _ => Err(()),
        }
    }

    /// Writes a system event now. With resumption on, every one but
    /// `__ping__` gets its `seq`: it goes behind the queued frames, and the
    /// whole queue is written.
    pub(super) async fn send_system(&mut self, event: &str, payload: Value) -> Result<(), ()> {
        let Ok(frame) = envelope::encode(event, &payload, None) else {
            return Ok(());
        };
        if event == SystemEvent::Ping.name() {
            self.send_now(&frame).await
        } else {
            self.send_sequenced(frame).await
        }
    }

    /// Writes `frame` now, numbered when resumption is on (after the
    /// frames queued before it).
    pub(super) async fn send_sequenced(&mut self, frame: Frame) -> Result<(), ()> {
        if !self.conn.mailbox().is_sequenced() {
            return self.send_now(&frame).await;
        }
        if !self.conn.mailbox().push_sequenced(frame) {
            return Ok(());
        }
        self.write(usize::MAX, true).await
    }

    /// Queues an error envelope (counted in the metrics).
    pub(super) fn queue_error(
        &self,
        code: ErrorCode,
        event: Option<&str>,
        message: &str,
        details: &Map<String, Value>,
        id: Option<&str>,
    ) {
        self.hub.metrics.error(code);
        let _ = self
            .conn
            .send_frame(envelope::encode_error(code, event, message, details, id));
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
        () = conn.mailbox().close_requested() => Ok(()),
        () = tokio::time::sleep(WRITE_STALL_TIMEOUT) => {
            conn.request_close(CloseRequest::new(DisconnectReason::SlowConsumer));
            Ok(())
        }
    }
}
