//! The load generator's WebSocket client: connecting with small buffers,
//! reading envelopes without building a `serde_json::Value`, and the
//! request/reply helpers every mode uses.

use std::borrow::Cow;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::value::RawValue;
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

/// A client WebSocket over plain TCP.
pub type Ws = WebSocketStream<TcpStream>;

/// How long one request may wait for its reply before the run fails.
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(30);

/// The client side's WebSocket buffers: small, so 10,000 client connections
/// stay cheap and the load generator's memory does not disturb the server's.
pub fn client_config() -> WebSocketConfig {
    WebSocketConfig::default().read_buffer_size(4 * 1024)
}

/// Splits `ws://HOST:PORT/PATH` into `HOST:PORT`.
pub fn host_port(url: &str) -> Result<&str> {
    let rest = url
        .strip_prefix("ws://")
        .ok_or_else(|| anyhow!("only ws:// URLs are supported, got `{url}`"))?;
    Ok(rest.split('/').next().unwrap_or(rest))
}

/// Opens one WebSocket to `url` (TCP_NODELAY on, small buffers).
pub async fn connect(url: &str) -> Result<Ws> {
    let addr = host_port(url)?;
    let tcp = TcpStream::connect(addr)
        .await
        .with_context(|| format!("TCP connect to {addr}"))?;
    tcp.set_nodelay(true)?;
    let (ws, _response) =
        tokio_tungstenite::client_async_with_config(url, tcp, Some(client_config()))
            .await
            .with_context(|| format!("WebSocket handshake with {url}"))?;
    Ok(ws)
}

/// Runs `make(i)` for `i in 0..count` with at most `concurrency` running at
/// once (so a burst of connects does not overflow the server's listen
/// backlog), returning the results in order.
pub async fn bounded<T, F, Fut>(count: usize, concurrency: usize, make: F) -> Result<Vec<T>>
where
    T: Send + 'static,
    F: Fn(usize) -> Fut,
    Fut: Future<Output = Result<T>> + Send + 'static,
{
    let gate = Arc::new(Semaphore::new(concurrency.max(1)));
    let mut handles = Vec::with_capacity(count);
    for i in 0..count {
        let permit = Arc::clone(&gate).acquire_owned().await?;
        let fut = make(i);
        handles.push(tokio::spawn(async move {
            let out = fut.await;
            drop(permit);
            out
        }));
    }
    let mut out = Vec::with_capacity(count);
    for handle in handles {
        out.push(handle.await??);
    }
    Ok(out)
}

/// A server envelope, borrowed from the frame's text.
#[derive(Debug, Deserialize)]
pub struct Envelope<'a> {
    /// The event name.
    #[serde(borrow)]
    pub event: Cow<'a, str>,
    /// The payload, unparsed.
    #[serde(borrow, default)]
    pub payload: Option<&'a RawValue>,
    /// The correlation id of a direct reply.
    #[serde(borrow, default)]
    pub id: Option<Cow<'a, str>>,
}

impl<'a> Envelope<'a> {
    /// Parses one frame's text.
    pub fn parse(text: &'a str) -> Result<Envelope<'a>> {
        serde_json::from_str(text).with_context(|| format!("server sent a non-envelope: {text}"))
    }

    /// Decodes the payload into `T`.
    pub fn payload<T: Deserialize<'a>>(&self) -> Result<T> {
        let raw = self
            .payload
            .ok_or_else(|| anyhow!("`{}` has no payload", self.event))?;
        serde_json::from_str(raw.get())
            .with_context(|| format!("unexpected `{}` payload: {}", self.event, raw.get()))
    }

    /// Whether this is an `__error__` envelope.
    pub fn is_error(&self) -> bool {
        self.event == "__error__"
    }
}

/// Whether `text` is likely a frame for `event`: a substring check on
/// `"event"`'s quoted value, so floods of other events are skipped without
/// parsing them.
pub fn mentions(text: &str, quoted_event: &str) -> bool {
    text.contains(quoted_event)
}

/// Sends one envelope.
pub async fn send(ws: &mut Ws, text: String) -> Result<()> {
    ws.send(Message::Text(Utf8Bytes::from(text))).await?;
    Ok(())
}

/// Reads frames until one whose event is `event`, skipping system events
/// and broadcasts; fails on `__error__`, on close, or after [`REPLY_TIMEOUT`].
/// Returns the frame's text.
pub async fn wait_for(ws: &mut Ws, event: &str) -> Result<String> {
    wait_for_counting(ws, event, None)
        .await
        .map(|(text, _)| text)
}

/// [`wait_for`], also counting the skipped frames that mention `counted`
/// (such as `"user_joined"` broadcasts that race ahead of a join's reply),
/// so that a caller tallying them loses none.
pub async fn wait_for_counting(
    ws: &mut Ws,
    event: &str,
    counted: Option<&str>,
) -> Result<(String, u64)> {
    let quoted = format!("\"{event}\"");
    let counted = counted.map(|c| format!("\"{c}\""));
    let mut skipped = 0;
    let read = async {
        loop {
            let message = ws
                .next()
                .await
                .ok_or_else(|| anyhow!("connection closed while waiting for `{event}`"))??;
            let text = match message {
                Message::Text(text) => text,
                Message::Close(frame) => {
                    bail!("server closed the connection while waiting for `{event}`: {frame:?}")
                }
                _ => continue,
            };
            let text = text.as_str();
            if !mentions(text, &quoted) && !mentions(text, "\"__error__\"") {
                if counted.as_deref().is_some_and(|c| mentions(text, c)) {
                    skipped += 1;
                }
                continue;
            }
            let envelope = Envelope::parse(text)?;
            if envelope.event == event {
                return Ok((text.to_owned(), skipped));
            }
            if envelope.is_error() {
                bail!("server answered with an error while waiting for `{event}`: {text}");
            }
        }
    };
    tokio::time::timeout(REPLY_TIMEOUT, read)
        .await
        .map_err(|_| anyhow!("no `{event}` within {REPLY_TIMEOUT:?}"))?
}

/// The payload of `room_joined`.
#[derive(Debug, Deserialize)]
pub struct RoomJoined {
    /// The room as the client sent it.
    pub room: String,
    /// Members after the join.
    pub members: u64,
}

/// Sends `join_room` for `room` and returns the member count after the join.
pub async fn join_room(ws: &mut Ws, room: &str) -> Result<u64> {
    join_room_counting(ws, room)
        .await
        .map(|(members, _)| members)
}

/// [`join_room`], also returning how many `user_joined` broadcasts (other
/// members joining at the same time) arrived before the join's reply.
pub async fn join_room_counting(ws: &mut Ws, room: &str) -> Result<(u64, u64)> {
    let id = format!("join-{room}");
    send(
        ws,
        format!(r#"{{"event":"join_room","payload":{{"room":"{room}"}},"id":"{id}"}}"#),
    )
    .await?;
    let (text, user_joined) = wait_for_counting(ws, "room_joined", Some("user_joined")).await?;
    let joined: RoomJoined = Envelope::parse(&text)?.payload()?;
    if joined.room != room {
        bail!("joined `{}` instead of `{room}`", joined.room);
    }
    Ok((joined.members, user_joined))
}

/// Opens `count` connections to `url`, `concurrency` at a time, each made
/// ready by one `echo` round trip (so the server has fully set it up).
pub async fn connect_ready_many(url: &str, count: usize, concurrency: usize) -> Result<Vec<Ws>> {
    let url: Arc<str> = Arc::from(url);
    bounded(count, concurrency, |_| {
        let url = Arc::clone(&url);
        async move {
            let mut ws = connect(&url).await?;
            echo_once(&mut ws).await?;
            Ok(ws)
        }
    })
    .await
}

/// Sends one `echo` and waits for its `echo_reply` (a round trip that proves
/// the server has fully set the connection up).
pub async fn echo_once(ws: &mut Ws) -> Result<()> {
    send(
        ws,
        r#"{"event":"echo","payload":{"seq":0,"data":"ready"},"id":"ready"}"#.to_owned(),
    )
    .await?;
    wait_for(ws, "echo_reply").await.map(drop)
}

/// Closes `ws` with the closing handshake, bounded in time.
pub async fn close(mut ws: Ws) {
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        if ws.close(None).await.is_ok() {
            while let Some(Ok(_)) = ws.next().await {}
        }
    })
    .await;
}

/// Fetches `GET /socket-health` from the server behind `url` and returns
/// `(connections, rooms)`, or `None` when the server has no such route.
pub async fn health(url: &str) -> Option<(u64, u64)> {
    let value = health_document(url).await?;
    Some((value["connections"].as_u64()?, value["rooms"].as_u64()?))
}

/// Waits (up to `timeout`) until the server behind `url` reports `status`
/// `ok` on `/socket-health`: a server in a cluster may print its `listening
/// on` line before it reaches its backend, and broadcasts fail until it
/// has. Returns at once for a server without that route; `false` when the
/// status was still something else at the deadline.
pub async fn wait_until_healthy(url: &str, timeout: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let Some(value) = health_document(url).await else {
            return true;
        };
        if value["status"] == "ok" {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The JSON document of `GET /socket-health`, or `None` when the server has
/// no such route (or does not answer within 5 s).
async fn health_document(url: &str) -> Option<serde_json::Value> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = host_port(url).ok()?;
    let fetch = async {
        let mut tcp = TcpStream::connect(addr).await.ok()?;
        let request =
            format!("GET /socket-health HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        tcp.write_all(request.as_bytes()).await.ok()?;
        let mut response = Vec::new();
        tcp.read_to_end(&mut response).await.ok()?;
        let response = String::from_utf8_lossy(&response);
        if !response.starts_with("HTTP/1.1 200") {
            return None;
        }
        let body = response.split("\r\n\r\n").nth(1)?;
        serde_json::from_str(body.trim()).ok()
    };
    tokio::time::timeout(Duration::from_secs(5), fetch)
        .await
        .ok()
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_urls() {
        assert_eq!(host_port("ws://127.0.0.1:80/ws").ok(), Some("127.0.0.1:80"));
        assert!(host_port("wss://x/ws").is_err());
    }

    #[test]
    fn parses_envelopes() {
        let text = r#"{"event":"echo_reply","payload":{"seq":1,"data":"x"},"id":"42"}"#;
        let envelope = Envelope::parse(text).ok();
        let Some(envelope) = envelope else {
            panic!("did not parse")
        };
        assert_eq!(envelope.event, "echo_reply");
        assert_eq!(envelope.id.as_deref(), Some("42"));
        assert!(!envelope.is_error());
    }
}
