//! One live connection ("link"): opening it up to `__connect__`, then a
//! writer task draining the outbound queue and a reader that answers
//! `__ping__`, routes replies to pending requests by `id` and pushes
//! everything else to the event stream.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use super::error::ClientError;
use super::events::EventSink;
use super::message::{CloseInfo, ConnectInfo, Incoming, Reply, ServerMessage};
use super::resume::Resumption;
use super::transport::{BoxSocket, Connector, Handshake};
use socketspec_protocol::SystemEvent;

use crate::frame::Frame;

/// Outbound commands a link's writer understands.
pub(crate) enum Outgoing {
    /// One text frame; `written` learns when it was flushed (or failed).
    Text {
        frame: Frame,
        written: Option<Written>,
    },
    /// One binary frame, with the same acknowledgement.
    Binary {
        bytes: Bytes,
        written: Option<Written>,
    },
    /// Start the closing handshake.
    Close { code: u16, reason: String },
}

/// Learns whether a queued frame was written.
pub(crate) type Written = oneshot::Sender<Result<(), ClientError>>;

/// How long the closing handshake may take before the socket is dropped.
const CLOSE_WAIT: Duration = Duration::from_secs(2);
/// Frames written before one flush.
const WRITE_BATCH: usize = 64;
/// Outbound queue length per link.
const OUTBOUND_QUEUE: usize = 256;

type ReplySender = oneshot::Sender<Result<Reply, ClientError>>;

/// Requests awaiting their reply, by id.
pub(crate) type PendingRequests = HashMap<String, ReplySender>;

/// How a link ended: how it closed, and the requests still awaiting a
/// reply (which a resume carries over to the next link).
pub(crate) struct Ended {
    pub(crate) info: CloseInfo,
    pub(crate) pending: PendingRequests,
}

/// Fails every request of `pending` with `error`.
pub(crate) fn fail_pending(pending: PendingRequests, error: &ClientError) {
    for (_, tx) in pending {
        let _ = tx.send(Err(error.clone()));
    }
}

/// A live connection, shared by the client handle (to send) and the
/// reader (to resolve replies).
pub(crate) struct Link {
    pub(crate) out: mpsc::Sender<Outgoing>,
    pub(crate) info: ConnectInfo,
    /// Requests awaiting their reply, by id; `None` once the link ended.
    pending: Mutex<Option<HashMap<String, ReplySender>>>,
}

impl Link {
    /// Registers a request; fails when the link already ended.
    pub(crate) fn register(
        &self,
        id: &str,
    ) -> Result<oneshot::Receiver<Result<Reply, ClientError>>, ClientError> {
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(map) = pending.as_mut() else {
            return Err(ClientError::closed(None, "the connection closed"));
        };
        let (tx, rx) = oneshot::channel();
        map.insert(id.to_owned(), tx);
        Ok(rx)
    }

    /// Forgets a request (timed out, or never sent).
    pub(crate) fn forget(&self, id: &str) {
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(map) = pending.as_mut() {
            map.remove(id);
        }
    }

    fn take(&self, id: &str) -> Option<ReplySender> {
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        pending.as_mut().and_then(|map| map.remove(id))
    }

    /// Ends the link: later registrations are refused; returns the
    /// requests still awaiting a reply.
    fn end(&self) -> PendingRequests {
        self.pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
            .unwrap_or_default()
    }

    /// Takes over requests a lost link was awaiting (a resume: the server
    /// sends their replies again on this link).
    pub(crate) fn adopt(&self, carried: PendingRequests) {
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        match pending.as_mut() {
            Some(map) => map.extend(carried),
            None => fail_pending(carried, &ClientError::closed(None, "the connection closed")),
        }
    }

    /// Whether the link still accepts requests.
    pub(crate) fn is_open(&self) -> bool {
        self.pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some()
            && !self.out.is_closed()
    }
}

/// A connection that got its `__connect__`, before its tasks run.
pub(crate) struct Opened {
    /// The link requests are sent on.
    pub(crate) link: Arc<Link>,
    /// The `__connect__` message (the event stream's first item for this
    /// connection).
    pub(crate) connect: ServerMessage,
    /// What runs the connection once the caller has published the link.
    pub(crate) tasks: Unstarted,
}

/// The socket and outbound queue of an [`Opened`] connection.
pub(crate) struct Unstarted {
    socket: BoxSocket,
    out_rx: mpsc::Receiver<Outgoing>,
}

impl Unstarted {
    /// Runs the connection's writer and reader; the handle resolves with
    /// how the connection ended. `auto_pong`: answer `__ping__` here.
    pub(crate) fn start(
        self,
        link: Arc<Link>,
        events: EventSink,
        auto_pong: bool,
        resumption: Arc<Resumption>,
    ) -> JoinHandle<Ended> {
        tokio::spawn(run(
            self.socket,
            self.out_rx,
            link,
            events,
            auto_pong,
            resumption,
        ))
    }
}

/// Opens a connection through `connector` with `handshake` and waits (up to
/// `limit`) for `__connect__`. An `__error__` first (the server's
/// `AUTH_ERROR`) or a close is the attempt's error.
pub(crate) async fn open(
    connector: &dyn Connector,
    handshake: &Handshake,
    limit: Duration,
) -> Result<Opened, ClientError> {
    let opened = tokio::time::timeout(limit, async {
        let mut socket = connector.connect(handshake).await?;
        match wait_for_connect(&mut socket).await {
            Ok(connect) => Ok((socket, connect)),
            Err(e) => {
                // Complete the close politely (the server closes after an
                // AUTH_ERROR anyway).
                let _ = tokio::time::timeout(Duration::from_millis(200), socket.close()).await;
                Err(e)
            }
        }
    })
    .await;
    let (socket, connect) = match opened {
        Ok(result) => result?,
        Err(_) => {
            return Err(ClientError::Timeout {
                what: "connecting (up to `__connect__`)".to_owned(),
                after: limit,
            });
        }
    };
    let (out, out_rx) = mpsc::channel(OUTBOUND_QUEUE);
    let link = Arc::new(Link {
        out,
        info: ConnectInfo::from_payload(&connect.payload),
        pending: Mutex::new(Some(HashMap::new())),
    });
    Ok(Opened {
        link,
        connect,
        tasks: Unstarted { socket, out_rx },
    })
}

/// Reads up to `__connect__`; an `__error__` first (the server's
/// `AUTH_ERROR`) or a close is the attempt's error.
async fn wait_for_connect(socket: &mut BoxSocket) -> Result<ServerMessage, ClientError> {
    loop {
        let bytes = match socket.next().await {
            None => {
                return Err(ClientError::closed(
                    None,
                    "the connection ended before `__connect__`",
                ));
            }
            Some(Err(e)) => return Err(ClientError::from_ws(e)),
            Some(Ok(Message::Text(text))) => text.as_bytes().to_vec(),
            Some(Ok(Message::Binary(bytes))) => bytes.to_vec(),
            Some(Ok(Message::Close(frame))) => {
                let (code, reason) = match frame {
                    Some(f) => (Some(u16::from(f.code)), f.reason.to_string()),
                    None => (None, String::new()),
                };
                return Err(ClientError::closed(
                    code,
                    format!("the server closed the connection before `__connect__` {reason}")
                        .trim_end()
                        .to_owned(),
                ));
            }
            Some(Ok(_)) => continue,
        };
        let message = ServerMessage::parse(&bytes)?;
        match SystemEvent::from_name(&message.event) {
            Some(SystemEvent::Connect) => return Ok(message),
            Some(SystemEvent::Error) => {
                return Err(ClientError::from_error_payload(&message.payload));
            }
            _ => {}
        }
    }
}

/// Runs a link until the connection ends; returns how, with the requests
/// still pending.
async fn run(
    socket: BoxSocket,
    out_rx: mpsc::Receiver<Outgoing>,
    link: Arc<Link>,
    events: EventSink,
    auto_pong: bool,
    resumption: Arc<Resumption>,
) -> Ended {
    let (sink, stream) = socket.split();
    let (closing_tx, closing_rx) = oneshot::channel();
    let writer = tokio::spawn(write_loop(sink, out_rx, closing_tx));
    let mut reader = Reader {
        link: &link,
        events: &events,
        auto_pong,
        disconnect: None,
        resumption: &resumption,
    };
    let (code, reason) = reader.read_loop(stream, closing_rx).await;
    let pending = link.end();
    writer.abort();
    Ended {
        info: CloseInfo {
            code,
            reason,
            reconnecting: false,
        },
        pending,
    }
}

async fn write_loop(
    mut sink: SplitSink<BoxSocket, Message>,
    mut out_rx: mpsc::Receiver<Outgoing>,
    closing_tx: oneshot::Sender<()>,
) {
    let mut acks = Vec::new();
    while let Some(first) = out_rx.recv().await {
        let mut next = Some(first);
        let mut close = None;
        let mut result = Ok(());
        let mut fed = 0;
        // Feed what is queued (up to a batch), then flush once.
        while let Some(command) = next.take() {
            let (message, written) = match command {
                Outgoing::Text { frame, written } => {
                    (Message::Text(frame.into_utf8_bytes()), written)
                }
                Outgoing::Binary { bytes, written } => (Message::Binary(bytes), written),
                Outgoing::Close { code, reason } => {
                    close = Some((code, reason));
                    break;
                }
            };
            if result.is_ok() {
                result = sink.feed(message).await;
            }
            acks.extend(written);
            fed += 1;
            if fed < WRITE_BATCH {
                next = out_rx.try_recv().ok();
            }
        }
        if result.is_ok() {
            result = sink.flush().await;
        }
        let outcome = result.map_err(ClientError::from_ws);
        for ack in acks.drain(..) {
            let _ = ack.send(outcome.clone());
        }
        if let Some((code, reason)) = close {
            let frame = CloseFrame {
                code: CloseCode::from(code),
                reason: reason.into(),
            };
            let _ = sink.send(Message::Close(Some(frame))).await;
            let _ = closing_tx.send(());
            return;
        }
        if outcome.is_err() {
            return;
        }
    }
}

struct Reader<'a> {
    link: &'a Arc<Link>,
    events: &'a EventSink,
    /// Whether to answer `__ping__` with `__pong__`.
    auto_pong: bool,
    /// The `__disconnect__` reason, once received.
    disconnect: Option<String>,
    /// The last `seq` processed (frames a resume sends again are dropped).
    resumption: &'a Resumption,
}

impl Reader<'_> {
    /// Reads until the connection ends; returns the close code and reason.
    async fn read_loop(
        &mut self,
        mut stream: SplitStream<BoxSocket>,
        mut closing_rx: oneshot::Receiver<()>,
    ) -> (Option<u16>, String) {
        let mut deadline: Option<Instant> = None;
        let mut writer_done = false;
        loop {
            let next = tokio::select! {
                biased;
                closing = &mut closing_rx, if !writer_done => {
                    writer_done = true;
                    if closing.is_ok() {
                        // The client sent its close frame: wait (briefly)
                        // for the server's answer.
                        deadline = Some(Instant::now() + CLOSE_WAIT);
                    }
                    continue;
                }
                () = sleep_until(deadline), if deadline.is_some() => {
                    return (None, "closed by the client (the server did not answer the close)".to_owned());
                }
                next = stream.next() => next,
            };
            match next {
                None => return (None, self.reason("the connection ended")),
                Some(Err(e)) => {
                    let why = ClientError::from_ws(e).to_string();
                    return (None, self.reason(&why));
                }
                Some(Ok(Message::Text(text))) => self.on_text(text.as_bytes()).await,
                Some(Ok(Message::Binary(bytes))) => self.on_text(&bytes).await,
                Some(Ok(Message::Close(frame))) => {
                    // Reading on flushes tungstenite's answering close frame
                    // and waits for the peer to end the stream. That runs in
                    // the background: the close is final now, and a peer
                    // that does not finish the handshake (one that stopped
                    // reading after a frame it refused, say) must not delay
                    // reporting it.
                    tokio::spawn(async move {
                        let _ = tokio::time::timeout(CLOSE_WAIT, async {
                            while let Some(Ok(_)) = stream.next().await {}
                        })
                        .await;
                    });
                    let (code, text) = match frame {
                        Some(f) => (Some(u16::from(f.code)), f.reason.to_string()),
                        None => (None, String::new()),
                    };
                    let fallback = if text.is_empty() {
                        "closed".to_owned()
                    } else {
                        text
                    };
                    return (code, self.reason(&fallback));
                }
                Some(Ok(_)) => {}
            }
        }
    }

    fn reason(&self, fallback: &str) -> String {
        self.disconnect
            .clone()
            .unwrap_or_else(|| fallback.to_owned())
    }

    async fn on_text(&mut self, bytes: &[u8]) {
        let message = match ServerMessage::parse(bytes) {
            Ok(message) => message,
            Err(e) => {
                tracing::warn!(error = %e, "socketspec client: dropped a malformed message");
                return;
            }
        };
        if !self.resumption.accept(message.seq) {
            return;
        }
        match SystemEvent::from_name(&message.event) {
            Some(SystemEvent::Ping) if self.auto_pong => {
                if let Ok(pong) =
                    crate::envelope::encode(SystemEvent::Pong.name(), &serde_json::json!({}), None)
                {
                    let _ = self
                        .link
                        .out
                        .send(Outgoing::Text {
                            frame: pong,
                            written: None,
                        })
                        .await;
                }
            }
            Some(SystemEvent::Disconnect) => {
                self.disconnect = message
                    .payload
                    .get("reason")
                    .and_then(serde_json::Value::as_str)
                    .map(str::to_owned);
            }
            _ => {}
        }
        if let Some(id) = &message.id
            && let Some(waiter) = self.link.take(id)
        {
            let result = match message.error() {
                Some(error) => Err(error),
                None => Ok(Reply {
                    event: message.event,
                    payload: message.payload,
                }),
            };
            let _ = waiter.send(result);
            return;
        }
        self.events.push(Incoming::Message(message));
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
