//! [`SeqClient`]: a WebSocket client for resumption tests. It reads
//! frames as JSON, checks that every `seq` follows on from the last one,
//! and resumes with `?resume=<token>&last_seq=<n>`.
//!
//! A departure from the protocol is the test's failure: its methods panic
//! with what they saw, like `assert!`, rather than return errors every
//! caller would unwrap.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How long a read or a connect may take.
const T: Duration = Duration::from_secs(5);

/// One client connection: the socket, its `__connect__` payload and the
/// largest `seq` read so far.
pub struct SeqClient {
    /// The socket.
    pub ws: Ws,
    /// The `__connect__` payload.
    pub connect: Value,
    /// The largest `seq` read.
    pub last_seq: u64,
}

impl SeqClient {
    /// Connects to `url` and reads its `__connect__`.
    pub async fn open(url: &str) -> SeqClient {
        let (ws, _) = tokio::time::timeout(T, tokio_tungstenite::connect_async(url))
            .await
            .expect("connect timed out")
            .expect("connect failed");
        let mut conn = SeqClient {
            ws,
            connect: Value::Null,
            last_seq: 0,
        };
        let connect = conn.next().await.expect("no __connect__");
        assert_eq!(connect["event"], "__connect__", "{connect}");
        assert!(
            connect.get("seq").is_none(),
            "__connect__ has no seq: {connect}"
        );
        conn.connect = connect["payload"].clone();
        conn
    }

    /// Resumes through `base` (`ws://HOST:PORT/ws`) from `last_seq` with
    /// `token`.
    pub async fn resume(base: &str, token: &str, last_seq: u64) -> SeqClient {
        let mut conn = SeqClient::open(&format!("{base}?resume={token}&last_seq={last_seq}")).await;
        conn.last_seq = last_seq;
        conn
    }

    /// The connection id `__connect__` announced.
    pub fn id(&self) -> &str {
        self.connect["connection_id"].as_str().unwrap()
    }

    /// The resume token `__connect__` announced (at least 16 characters).
    pub fn token(&self) -> String {
        let token = self.connect["resume_token"].as_str().unwrap();
        assert!(token.len() >= 16, "{token}");
        token.to_owned()
    }

    /// Whether `__connect__` said the connection resumed a session.
    pub fn resumed(&self) -> bool {
        self.connect["resumed"].as_bool().unwrap()
    }

    /// The next message but `__ping__`; checks that `seq` follows on.
    pub async fn next(&mut self) -> Option<Value> {
        loop {
            let message = match tokio::time::timeout(T, self.ws.next()).await {
                Ok(Some(Ok(Message::Text(text)))) => serde_json::from_str::<Value>(&text).unwrap(),
                Ok(Some(Ok(Message::Close(_)))) | Ok(None) | Ok(Some(Err(_))) => return None,
                Ok(Some(Ok(_))) => continue,
                Err(_) => panic!("no message within {T:?}"),
            };
            let event = message["event"].as_str().unwrap_or_default();
            if event == "__ping__" || event == "__disconnect__" || event == "__connect__" {
                assert!(message.get("seq").is_none(), "{message}");
                if event == "__ping__" {
                    continue;
                }
                return Some(message);
            }
            let seq = message["seq"].as_u64().expect("a frame without seq");
            assert_eq!(seq, self.last_seq + 1, "seq out of order: {message}");
            self.last_seq = seq;
            return Some(message);
        }
    }

    /// Messages until `event` arrives; returns it.
    pub async fn until(&mut self, event: &str) -> Value {
        loop {
            let message = self.next().await.expect("closed");
            if message["event"] == event {
                return message;
            }
        }
    }

    /// Sends an envelope with `id`.
    pub async fn send(&mut self, event: &str, payload: Value, id: &str) {
        let text = json!({"event": event, "payload": payload, "id": id}).to_string();
        self.ws.send(Message::text(text)).await.unwrap();
    }

    /// Sends a request and returns its reply.
    pub async fn request(&mut self, event: &str, payload: Value, id: &str) -> Value {
        self.send(event, payload, id).await;
        loop {
            let message = self.next().await.expect("closed before the reply");
            if message["id"] == id {
                return message;
            }
        }
    }

    /// `join_room`; returns the member count after the join.
    pub async fn join(&mut self, room: &str) -> u64 {
        let reply = self
            .request("join_room", json!({"room": room}), &format!("join-{room}"))
            .await;
        assert_eq!(reply["event"], "room_joined", "{reply}");
        reply["payload"]["members"].as_u64().unwrap()
    }

    /// `send_message` to `room` (its `id` is the text), waiting for the ack.
    pub async fn say(&mut self, room: &str, text: &str) {
        let reply = self
            .request("send_message", json!({"room": room, "text": text}), text)
            .await;
        assert_eq!(reply["event"], "message_ack", "{reply}");
    }
}

/// `new_message` texts until `count` of them arrived.
pub async fn texts(conn: &mut SeqClient, count: usize) -> Vec<String> {
    let mut out = Vec::new();
    while out.len() < count {
        let message = conn.until("new_message").await;
        out.push(message["payload"]["text"].as_str().unwrap().to_owned());
    }
    out
}

/// `prefix1`, `prefix2`... for the numbers of `range`.
pub fn numbered(prefix: &str, range: std::ops::RangeInclusive<usize>) -> Vec<String> {
    range.map(|i| format!("{prefix}{i}")).collect()
}
