//! The raw floor: a minimal, fast tokio-tungstenite chat server with no
//! framework, the yardstick the chat server is measured against.
//!
//! It does the same JSON work as `examples/chat` for the events the
//! benchmarks use: it parses every envelope and payload into typed structs and
//! serializes every reply, joins every connection to `lobby`, broadcasts
//! `user_joined` to the other members on `join_room`, and on `send_message`
//! serializes `new_message` once and hands the same bytes to every member of
//! `chat:{room}`. It does *not* validate payloads against JSON Schema, has no
//! sessions, timers, auth, rate limits, middleware or `__connect__`
//! envelope, and answers unknown events with a plain `__error__`.
//!
//! Like the chat server it writes through bounded per-connection queues (a
//! member whose queue is full is cut off), batches writes before flushing,
//! and uses 4 KiB read / 8 KiB write buffers.

use std::borrow::Cow;
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use futures_util::{FutureExt, SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, mpsc};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::StatusCode;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

/// Frames written (or inbound messages handled) before one flush.
const BATCH: usize = 64;
/// How long the closing exchange may take.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

/// The floor's knobs.
#[derive(Debug, Clone, Copy)]
pub struct FloorConfig {
    /// Per-connection WebSocket read buffer, bytes.
    pub read_buffer: usize,
    /// Per-connection WebSocket write buffer, bytes.
    pub write_buffer: usize,
    /// Outbound frames queued per connection before it is cut off.
    pub queue: usize,
}

impl Default for FloorConfig {
    fn default() -> Self {
        FloorConfig {
            read_buffer: 4 * 1024,
            write_buffer: 8 * 1024,
            queue: 1024,
        }
    }
}

impl FloorConfig {
    /// The tungstenite configuration for one connection.
    pub fn ws_config(&self) -> WebSocketConfig {
        WebSocketConfig::default()
            .read_buffer_size(self.read_buffer)
            .write_buffer_size(self.write_buffer)
            .max_write_buffer_size(self.write_buffer.max(64 * 1024) * 16)
    }
}

/// One member of a room: its outbound queue and the switch that cuts it off.
#[derive(Clone)]
struct Member {
    tx: mpsc::Sender<Utf8Bytes>,
    kick: Arc<Notify>,
}

impl Member {
    fn deliver(&self, frame: &Utf8Bytes) {
        match self.tx.try_send(frame.clone()) {
            Ok(()) | Err(mpsc::error::TrySendError::Closed(_)) => {}
            // A slow consumer is cut off, never allowed to grow memory.
            Err(mpsc::error::TrySendError::Full(_)) => self.kick.notify_one(),
        }
    }
}

type Room = HashMap<u64, Member>;

/// The floor server: rooms and connection ids, shared by every connection.
pub struct Floor {
    config: FloorConfig,
    rooms: RwLock<HashMap<String, Room>>,
    next_id: AtomicU64,
}

/// One connection's own state.
struct Session {
    id: u64,
    name: String,
    me: Member,
    rooms: Vec<String>,
}

#[derive(Deserialize)]
struct Inbound<'a> {
    #[serde(borrow)]
    event: Cow<'a, str>,
    #[serde(borrow, default)]
    payload: Option<&'a RawValue>,
    #[serde(borrow, default)]
    id: Option<Cow<'a, str>>,
}

#[derive(Serialize)]
struct Outbound<'a, P> {
    event: &'a str,
    payload: P,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
}

#[derive(Deserialize, Serialize)]
struct Echo<'a> {
    seq: i64,
    #[serde(borrow)]
    data: Cow<'a, str>,
}

#[derive(Deserialize)]
struct RoomPayload<'a> {
    #[serde(borrow)]
    room: Cow<'a, str>,
}

#[derive(Deserialize)]
struct SendMessage<'a> {
    #[serde(borrow)]
    room: Cow<'a, str>,
    #[serde(borrow)]
    text: Cow<'a, str>,
}

#[derive(Serialize)]
struct RoomJoined<'a> {
    room: &'a str,
    members: usize,
}

#[derive(Serialize)]
struct UserJoined<'a> {
    room: &'a str,
    user: &'a str,
}

#[derive(Serialize)]
struct RoomLeft<'a> {
    room: &'a str,
}

#[derive(Serialize)]
struct NewMessage<'a> {
    room: &'a str,
    from: &'a str,
    text: &'a str,
}

#[derive(Serialize)]
struct MessageAck {
    status: &'static str,
    message_id: String,
}

#[derive(Serialize)]
struct Identity<'a> {
    connection_id: &'a str,
    user_id: Option<&'a str>,
    role: Option<&'a str>,
    rooms: Vec<&'a str>,
}

#[derive(Serialize)]
struct ErrorPayload<'a> {
    code: &'a str,
    event: Option<&'a str>,
    message: &'a str,
    request_id: &'a str,
    details: Details<'a>,
}

#[derive(Serialize)]
struct Details<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    room: Option<&'a str>,
}

fn frame<P: Serialize>(event: &str, payload: P, id: Option<&str>) -> Utf8Bytes {
    // Serializing these plain structs into a String cannot fail.
    serde_json::to_string(&Outbound { event, payload, id })
        .map(Utf8Bytes::from)
        .unwrap_or_else(|_| Utf8Bytes::from_static("{}"))
}

fn error_frame(
    code: &str,
    event: Option<&str>,
    message: &str,
    room: Option<&str>,
    id: Option<&str>,
) -> Utf8Bytes {
    let fresh;
    let request_id = match id {
        Some(id) => id,
        None => {
            fresh = uuid::Uuid::new_v4().to_string();
            &fresh
        }
    };
    let payload = ErrorPayload {
        code,
        event,
        message,
        request_id,
        details: Details { room },
    };
    frame("__error__", payload, id)
}

fn payload<'a, T: Deserialize<'a>>(raw: Option<&'a RawValue>) -> Result<T, String> {
    let text = raw.map_or("{}", RawValue::get);
    serde_json::from_str(text).map_err(|e| format!("payload: {e}"))
}

impl Floor {
    /// A floor with no connections yet.
    pub fn new(config: FloorConfig) -> Arc<Floor> {
        Arc::new(Floor {
            config,
            rooms: RwLock::new(HashMap::new()),
            next_id: AtomicU64::new(1),
        })
    }

    /// Accepts connections from `listener` until `shutdown` completes.
    pub async fn serve(self: Arc<Self>, listener: TcpListener, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => return,
                accepted = listener.accept() => {
                    let Ok((tcp, _peer)) = accepted else { continue };
                    let floor = Arc::clone(&self);
                    tokio::spawn(async move { floor.serve_tcp(tcp).await });
                }
            }
        }
    }

    /// Upgrades one TCP connection (path `/ws` only) and serves it.
    pub async fn serve_tcp(self: Arc<Self>, tcp: TcpStream) {
        let _ = tcp.set_nodelay(true);
        // tungstenite's callback type fixes the (large) error response.
        #[allow(clippy::result_large_err)]
        let check_path = |request: &Request, response: Response| {
            if request.uri().path() == "/ws" {
                Ok(response)
            } else {
                let mut refusal = ErrorResponse::new(Some("not found".to_owned()));
                *refusal.status_mut() = StatusCode::NOT_FOUND;
                Err(refusal)
            }
        };
        let upgraded = tokio_tungstenite::accept_hdr_async_with_config(
            tcp,
            check_path,
            Some(self.config.ws_config()),
        )
        .await;
        if let Ok(ws) = upgraded {
            self.serve_websocket(ws).await;
        }
    }

    /// Serves one upgraded WebSocket over any byte stream until it closes.
    pub async fn serve_websocket<S>(&self, mut ws: WebSocketStream<S>)
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, mut rx) = mpsc::channel(self.config.queue.max(1));
        let kick = Arc::new(Notify::new());
        let mut session = Session {
            id,
            name: format!("conn-{id}"),
            me: Member {
                tx,
                kick: Arc::clone(&kick),
            },
            rooms: Vec::new(),
        };
        self.join(&mut session, "lobby");
        loop {
            tokio::select! {
                biased;
                () = kick.notified() => break,
                frame = rx.recv() => {
                    let Some(frame) = frame else { break };
                    if write_batch(&mut ws, &mut rx, frame).await.is_err() {
                        break;
                    }
                }
                message = ws.next() => {
                    let Some(Ok(message)) = message else { break };
                    if !self.read_batch(&mut session, &mut ws, message).await {
                        break;
                    }
                }
            }
        }
        self.leave_all(&session);
    }

    /// Handles `first` and whatever else has already arrived, then flushes
    /// the replies once. Returns false when the connection is done.
    async fn read_batch<S>(
        &self,
        session: &mut Session,
        ws: &mut WebSocketStream<S>,
        first: Message,
    ) -> bool
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let mut next = Some(first);
        let mut handled = 0;
        while let Some(message) = next.take() {
            let text = match &message {
                Message::Text(text) => text.as_bytes(),
                Message::Binary(bytes) => bytes,
                Message::Close(_) => {
                    let _ = tokio::time::timeout(CLOSE_TIMEOUT, async {
                        let _ = ws.flush().await;
                        while let Some(Ok(_)) = ws.next().await {}
                    })
                    .await;
                    return false;
                }
                Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => &[],
            };
            if !text.is_empty()
                && let Some(reply) = self.handle(session, text)
                && ws.feed(Message::Text(reply)).await.is_err()
            {
                return false;
            }
            handled += 1;
            if handled < BATCH {
                match ws.next().now_or_never() {
                    Some(Some(Ok(message))) => next = Some(message),
                    Some(None | Some(Err(_))) => return false,
                    None => {}
                }
            }
        }
        ws.flush().await.is_ok()
    }

    /// Handles one client message; returns the direct reply, if any.
    fn handle(&self, session: &mut Session, text: &[u8]) -> Option<Utf8Bytes> {
        let inbound: Inbound<'_> = match serde_json::from_slice(text) {
            Ok(inbound) => inbound,
            Err(e) => {
                let message = format!("message is not an envelope: {e}");
                return Some(error_frame("VALIDATION_ERROR", None, &message, None, None));
            }
        };
        let event = inbound.event.as_ref();
        let id = inbound.id.as_deref();
        let invalid =
            |message: String| error_frame("VALIDATION_ERROR", Some(event), &message, None, id);
        match event {
            "echo" => match payload::<Echo<'_>>(inbound.payload) {
                Ok(echo) => Some(frame("echo_reply", echo, id)),
                Err(message) => Some(invalid(message)),
            },
            "join_room" => match payload::<RoomPayload<'_>>(inbound.payload) {
                Ok(p) => {
                    let full = format!("chat:{}", p.room);
                    let members = self.join(session, &full);
                    let joined = frame(
                        "user_joined",
                        UserJoined {
                            room: &p.room,
                            user: &session.name,
                        },
                        None,
                    );
                    self.broadcast(&full, &joined, Some(session.id));
                    Some(frame(
                        "room_joined",
                        RoomJoined {
                            room: &p.room,
                            members,
                        },
                        id,
                    ))
                }
                Err(message) => Some(invalid(message)),
            },
            "leave_room" => match payload::<RoomPayload<'_>>(inbound.payload) {
                Ok(p) => {
                    self.leave(session, &format!("chat:{}", p.room));
                    Some(frame("room_left", RoomLeft { room: &p.room }, id))
                }
                Err(message) => Some(invalid(message)),
            },
            "send_message" => match payload::<SendMessage<'_>>(inbound.payload) {
                Ok(p) => {
                    let full = format!("chat:{}", p.room);
                    let message = frame(
                        "new_message",
                        NewMessage {
                            room: &p.room,
                            from: &session.name,
                            text: &p.text,
                        },
                        None,
                    );
                    if self.broadcast(&full, &message, None) == 0 {
                        let text = format!("room `{full}` does not exist");
                        return Some(error_frame(
                            "ROOM_NOT_FOUND",
                            Some(event),
                            &text,
                            Some(&full),
                            id,
                        ));
                    }
                    let ack = MessageAck {
                        status: "ok",
                        message_id: uuid::Uuid::new_v4().to_string(),
                    };
                    Some(frame("message_ack", ack, id))
                }
                Err(message) => Some(invalid(message)),
            },
            "whoami" => {
                let mut rooms: Vec<&str> = session.rooms.iter().map(String::as_str).collect();
                rooms.sort_unstable();
                let identity = Identity {
                    connection_id: &session.name,
                    user_id: None,
                    role: None,
                    rooms,
                };
                Some(frame("identity", identity, id))
            }
            _ => {
                let message = format!("no handler for event `{event}`");
                Some(error_frame(
                    "UNKNOWN_EVENT",
                    Some(event),
                    &message,
                    None,
                    id,
                ))
            }
        }
    }

    /// Adds the session to `room`; returns the member count after the join.
    fn join(&self, session: &mut Session, room: &str) -> usize {
        let Ok(mut rooms) = self.rooms.write() else {
            return 0;
        };
        let members = rooms.entry(room.to_owned()).or_default();
        if members.insert(session.id, session.me.clone()).is_none() {
            session.rooms.push(room.to_owned());
        }
        members.len()
    }

    fn leave(&self, session: &mut Session, room: &str) {
        if let Ok(mut rooms) = self.rooms.write() {
            remove_member(&mut rooms, room, session.id);
        }
        session.rooms.retain(|r| r != room);
    }

    fn leave_all(&self, session: &Session) {
        if let Ok(mut rooms) = self.rooms.write() {
            for room in &session.rooms {
                remove_member(&mut rooms, room, session.id);
            }
        }
    }

    /// Hands the same bytes to every member of `room` but `except`; returns
    /// how many members the room has (0: it does not exist).
    fn broadcast(&self, room: &str, frame: &Utf8Bytes, except: Option<u64>) -> usize {
        let Ok(rooms) = self.rooms.read() else {
            return 0;
        };
        let Some(members) = rooms.get(room) else {
            return 0;
        };
        for (id, member) in members {
            if Some(*id) != except {
                member.deliver(frame);
            }
        }
        members.len()
    }

    /// How many rooms exist (non-empty), for tests.
    pub fn room_count(&self) -> usize {
        self.rooms.read().map(|rooms| rooms.len()).unwrap_or(0)
    }
}

fn remove_member(rooms: &mut HashMap<String, Room>, room: &str, id: u64) {
    if let Some(members) = rooms.get_mut(room) {
        members.remove(&id);
        if members.is_empty() {
            rooms.remove(room);
        }
    }
}

/// Writes `first` and whatever else is queued (up to [`BATCH`]), then
/// flushes once.
async fn write_batch<S>(
    ws: &mut WebSocketStream<S>,
    rx: &mut mpsc::Receiver<Utf8Bytes>,
    first: Utf8Bytes,
) -> Result<(), tokio_tungstenite::tungstenite::Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    ws.feed(Message::Text(first)).await?;
    for _ in 1..BATCH {
        match rx.try_recv() {
            Ok(frame) => ws.feed(Message::Text(frame)).await?,
            Err(_) => break,
        }
    }
    ws.flush().await
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio_tungstenite::tungstenite::protocol::Role;

    async fn pair(floor: &Arc<Floor>) -> WebSocketStream<tokio::io::DuplexStream> {
        let (client, server) = tokio::io::duplex(64 * 1024);
        let floor = Arc::clone(floor);
        tokio::spawn(async move {
            let ws = WebSocketStream::from_raw_socket(server, Role::Server, None).await;
            floor.serve_websocket(ws).await;
        });
        WebSocketStream::from_raw_socket(client, Role::Client, None).await
    }

    async fn next_text(ws: &mut WebSocketStream<tokio::io::DuplexStream>) -> serde_json::Value {
        loop {
            match ws.next().await {
                Some(Ok(Message::Text(text))) => {
                    return serde_json::from_str(text.as_str()).unwrap_or_default();
                }
                Some(Ok(_)) => continue,
                other => panic!("connection ended: {other:?}"),
            }
        }
    }

    async fn say(ws: &mut WebSocketStream<tokio::io::DuplexStream>, text: &str) {
        let sent = ws
            .send(Message::Text(Utf8Bytes::from(text.to_owned())))
            .await;
        assert!(sent.is_ok());
    }

    #[tokio::test]
    async fn echo_join_send_and_cleanup() {
        let floor = Floor::new(FloorConfig::default());
        let mut a = pair(&floor).await;
        let mut b = pair(&floor).await;
        say(
            &mut a,
            r#"{"event":"echo","payload":{"seq":3,"data":"hi"},"id":"e"}"#,
        )
        .await;
        let reply = next_text(&mut a).await;
        assert_eq!(
            reply,
            serde_json::json!({"event":"echo_reply","payload":{"seq":3,"data":"hi"},"id":"e"})
        );
        say(&mut a, r#"{"event":"join_room","payload":{"room":"r"}}"#).await;
        assert_eq!(next_text(&mut a).await["payload"]["members"], 1);
        say(&mut b, r#"{"event":"join_room","payload":{"room":"r"}}"#).await;
        assert_eq!(next_text(&mut b).await["payload"]["members"], 2);
        assert_eq!(next_text(&mut a).await["event"], "user_joined");
        say(
            &mut b,
            r#"{"event":"send_message","payload":{"room":"r","text":"yo"},"id":"s"}"#,
        )
        .await;
        assert_eq!(next_text(&mut a).await["payload"]["text"], "yo");
        let mut events = vec![
            next_text(&mut b).await["event"].clone(),
            next_text(&mut b).await["event"].clone(),
        ];
        events.sort_by_key(|e| e.to_string());
        assert_eq!(events, ["message_ack", "new_message"]);
        say(&mut a, r#"{"event":"whoami"}"#).await;
        assert_eq!(
            next_text(&mut a).await["payload"]["rooms"],
            serde_json::json!(["chat:r", "lobby"])
        );
        say(&mut a, r#"{"event":"nope","id":"n"}"#).await;
        assert_eq!(next_text(&mut a).await["payload"]["code"], "UNKNOWN_EVENT");
        say(
            &mut a,
            r#"{"event":"send_message","payload":{"room":"none","text":"x"}}"#,
        )
        .await;
        assert_eq!(next_text(&mut a).await["payload"]["code"], "ROOM_NOT_FOUND");
        drop(a);
        drop(b);
        for _ in 0..100 {
            if floor.room_count() == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(floor.room_count(), 0);
    }
}
