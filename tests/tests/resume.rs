//! Resumption on one node: the chat server with `--resume-window`, clients
//! on real WebSockets through a [`TcpProxy`] whose connections a test cuts
//! (a socket lost without a closing handshake).
//!
//! Checked here: replay in order after a drop, a resume from an earlier
//! `seq`, fresh connections for unknown, reused, expired and other users'
//! tokens, a clean close ending the session, the window passing (counts
//! drop), overflow, two resumes racing for one token, and a resume that
//! arrives while the server still thinks the old socket open.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use socketspec_e2e::proxy::TcpProxy;
use socketspec_e2e::{ChatServer, mint_jwt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;
type TestResult = Result<(), Box<dyn std::error::Error>>;

const T: Duration = Duration::from_secs(5);
const SECRET: &str = "resume-secret";

/// One client connection: the socket, its `__connect__` payload and the
/// largest `seq` read so far.
struct Conn {
    ws: Ws,
    connect: Value,
    last_seq: u64,
}

impl Conn {
    async fn open(url: &str) -> Conn {
        let (ws, _) = tokio::time::timeout(T, tokio_tungstenite::connect_async(url))
            .await
            .expect("connect timed out")
            .expect("connect failed");
        let mut conn = Conn {
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
    async fn resume(base: &str, token: &str, last_seq: u64) -> Conn {
        let mut conn = Conn::open(&format!("{base}?resume={token}&last_seq={last_seq}")).await;
        conn.last_seq = last_seq;
        conn
    }

    fn id(&self) -> &str {
        self.connect["connection_id"].as_str().unwrap()
    }

    fn token(&self) -> String {
        let token = self.connect["resume_token"].as_str().unwrap();
        assert!(token.len() >= 16, "{token}");
        token.to_owned()
    }

    fn resumed(&self) -> bool {
        self.connect["resumed"].as_bool().unwrap()
    }

    /// The next message but `__ping__`; checks that `seq` follows on.
    async fn next(&mut self) -> Option<Value> {
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
    async fn until(&mut self, event: &str) -> Value {
        loop {
            let message = self.next().await.expect("closed");
            if message["event"] == event {
                return message;
            }
        }
    }

    async fn send(&mut self, event: &str, payload: Value, id: &str) {
        let text = json!({"event": event, "payload": payload, "id": id}).to_string();
        self.ws.send(Message::text(text)).await.unwrap();
    }

    /// Sends a request and returns its reply.
    async fn request(&mut self, event: &str, payload: Value, id: &str) -> Value {
        self.send(event, payload, id).await;
        loop {
            let message = self.next().await.expect("closed before the reply");
            if message["id"] == id {
                return message;
            }
        }
    }

    async fn join(&mut self, room: &str) -> u64 {
        let reply = self
            .request("join_room", json!({"room": room}), &format!("join-{room}"))
            .await;
        assert_eq!(reply["event"], "room_joined", "{reply}");
        reply["payload"]["members"].as_u64().unwrap()
    }

    async fn say(&mut self, room: &str, text: &str) {
        let reply = self
            .request("send_message", json!({"room": room, "text": text}), text)
            .await;
        assert_eq!(reply["event"], "message_ack", "{reply}");
    }
}

/// `new_message` texts until `count` of them arrived.
async fn texts(conn: &mut Conn, count: usize) -> Vec<String> {
    let mut out = Vec::new();
    while out.len() < count {
        let message = conn.until("new_message").await;
        out.push(message["payload"]["text"].as_str().unwrap().to_owned());
    }
    out
}

fn numbered(prefix: &str, range: std::ops::RangeInclusive<usize>) -> Vec<String> {
    range.map(|i| format!("{prefix}{i}")).collect()
}

/// A server with resumption on, and a proxy in front of it.
fn setup(extra: &[&str]) -> (ChatServer, TcpProxy) {
    let mut args = vec!["--resume-window", "30"];
    args.extend_from_slice(extra);
    let server = ChatServer::start(&args);
    let proxy = TcpProxy::start(server.addr()).unwrap();
    (server, proxy)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_connection_resumes_and_gets_every_frame_in_order() -> TestResult {
    let (server, proxy) = setup(&[]);
    let mut alice = Conn::open(&proxy.ws_url()).await;
    assert!(!alice.resumed());
    let token = alice.token();
    let mut bob = Conn::open(&server.ws_url()).await;
    alice.join("r").await;
    bob.join("r").await;
    bob.say("r", "before").await;
    assert_eq!(texts(&mut alice, 1).await, ["before"]);

    proxy.cut();
    for text in numbered("gone", 1..=5) {
        bob.say("r", &text).await;
    }
    // Still a member while detached.
    assert_eq!(bob.join("r").await, 2);

    let mut back = Conn::resume(&proxy.ws_url(), &token, alice.last_seq).await;
    assert!(back.resumed(), "{}", back.connect);
    assert_eq!(back.id(), alice.id());
    assert_ne!(back.token(), token, "a resume gets a new token");
    assert_eq!(texts(&mut back, 5).await, numbered("gone", 1..=5));
    // Live traffic continues the sequence.
    bob.say("r", "live").await;
    assert_eq!(texts(&mut back, 1).await, ["live"]);
    let who = back.request("whoami", json!({}), "who").await;
    assert_eq!(who["payload"]["connection_id"], alice.id());
    assert_eq!(who["payload"]["rooms"], json!(["chat:r", "lobby"]));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resume_from_an_earlier_seq_sends_again_from_there() -> TestResult {
    let (server, proxy) = setup(&[]);
    let mut alice = Conn::open(&proxy.ws_url()).await;
    let token = alice.token();
    let mut bob = Conn::open(&server.ws_url()).await;
    alice.join("r").await;
    bob.join("r").await;
    for text in numbered("m", 1..=4) {
        bob.say("r", &text).await;
    }
    assert_eq!(texts(&mut alice, 4).await, numbered("m", 1..=4));
    let seen = alice.last_seq;
    proxy.cut();
    // The client says it processed two frames fewer than it read.
    let mut back = Conn::resume(&proxy.ws_url(), &token, seen - 2).await;
    assert!(back.resumed());
    assert_eq!(texts(&mut back, 2).await, numbered("m", 3..=4));
    assert_eq!(back.last_seq, seen);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_reused_and_expired_tokens_get_fresh_connections() -> TestResult {
    let (_server, proxy) = setup(&[]);
    let unknown = Conn::resume(&proxy.ws_url(), "0123456789abcdef0123456789abcdef", 0).await;
    assert!(!unknown.resumed(), "{}", unknown.connect);

    let first = Conn::open(&proxy.ws_url()).await;
    let token = first.token();
    proxy.cut();
    let again = Conn::resume(&proxy.ws_url(), &token, 0).await;
    assert!(again.resumed());
    // The token worked once.
    let reused = Conn::resume(&proxy.ws_url(), &token, 0).await;
    assert!(!reused.resumed());
    assert_ne!(reused.id(), first.id());
    // A malformed last_seq is no resume either, and no error.
    let garbled = Conn::open(&format!(
        "{}?resume={}&last_seq=x",
        proxy.ws_url(),
        again.token()
    ))
    .await;
    assert!(!garbled.resumed());

    // A short window: the session is gone once it passes.
    let server = ChatServer::start(&["--resume-window", "0.3"]);
    let proxy = TcpProxy::start(server.addr())?;
    let short = Conn::open(&proxy.ws_url()).await;
    let token = short.token();
    proxy.cut();
    tokio::time::sleep(Duration::from_millis(800)).await;
    let late = Conn::resume(&proxy.ws_url(), &token, 0).await;
    assert!(!late.resumed());
    assert_ne!(late.id(), short.id());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_users_token_gets_a_fresh_connection_and_leaves_the_session() -> TestResult {
    let (_server, proxy) = setup(&["--jwt-secret", SECRET]);
    let alice_jwt = mint_jwt(SECRET, "alice", None, 600)?;
    let bob_jwt = mint_jwt(SECRET, "bob", None, 600)?;
    let url = |jwt: &str| format!("{}?token={jwt}", proxy.ws_url());
    let alice = Conn::open(&url(&alice_jwt)).await;
    let token = alice.token();
    proxy.cut();
    let stolen = Conn::open(&format!("{}&resume={token}&last_seq=0", url(&bob_jwt))).await;
    assert!(!stolen.resumed());
    assert_ne!(stolen.id(), alice.id());
    // The owner still can.
    let back = Conn::open(&format!("{}&resume={token}&last_seq=0", url(&alice_jwt))).await;
    assert!(back.resumed());
    assert_eq!(back.id(), alice.id());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clean_close_ends_the_session() -> TestResult {
    let (server, proxy) = setup(&[]);
    let mut alice = Conn::open(&proxy.ws_url()).await;
    let token = alice.token();
    alice.join("c").await;
    alice.ws.close(None).await?;
    while alice.next().await.is_some() {}
    let mut bob = Conn::open(&server.ws_url()).await;
    assert_eq!(
        bob.join("c").await,
        1,
        "the closed connection left its rooms"
    );
    let back = Conn::resume(&proxy.ws_url(), &token, alice.last_seq).await;
    assert!(!back.resumed());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_window_passing_ends_the_session_and_its_memberships() -> TestResult {
    let server = ChatServer::start(&["--resume-window", "0.5"]);
    let proxy = TcpProxy::start(server.addr())?;
    let mut alice = Conn::open(&proxy.ws_url()).await;
    alice.join("w").await;
    proxy.cut();
    let mut bob = Conn::open(&server.ws_url()).await;
    assert_eq!(bob.join("w").await, 2, "detached, alice is still a member");
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let reply = bob
        .request("join_room", json!({"room": "w"}), "again")
        .await;
    assert_eq!(reply["payload"]["members"], 1, "{reply}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_detached_session_that_overflows_ends() -> TestResult {
    let (server, proxy) = setup(&["--resume-buffer", "4"]);
    let mut alice = Conn::open(&proxy.ws_url()).await;
    let token = alice.token();
    alice.join("o").await;
    let mut bob = Conn::open(&server.ws_url()).await;
    bob.join("o").await;
    proxy.cut();
    // Give the server the moment it needs to see the socket gone.
    tokio::time::sleep(Duration::from_millis(200)).await;
    for text in numbered("flood", 1..=8) {
        bob.say("o", &text).await;
    }
    let reply = bob
        .request("join_room", json!({"room": "o"}), "count")
        .await;
    assert_eq!(
        reply["payload"]["members"], 1,
        "the overflowed session left: {reply}"
    );
    let back = Conn::resume(&proxy.ws_url(), &token, alice.last_seq).await;
    assert!(!back.resumed());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_resumes_racing_for_one_token_resume_once() -> TestResult {
    let (_server, proxy) = setup(&[]);
    let alice = Conn::open(&proxy.ws_url()).await;
    let token = alice.token();
    proxy.cut();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let url = proxy.ws_url();
    let (a, b) = tokio::join!(Conn::resume(&url, &token, 0), Conn::resume(&url, &token, 0));
    let resumed: Vec<bool> = [&a, &b].iter().map(|c| c.resumed()).collect();
    assert_eq!(
        resumed.iter().filter(|r| **r).count(),
        1,
        "exactly one resumes: {resumed:?}"
    );
    let winner = if a.resumed() { &a } else { &b };
    assert_eq!(winner.id(), alice.id());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resume_while_the_old_socket_looks_open_takes_the_session_over() -> TestResult {
    let server = ChatServer::start(&["--resume-window", "30"]);
    let mut old = Conn::open(&server.ws_url()).await;
    let token = old.token();
    old.join("t").await;
    // No cut: the server still has the old socket.
    let mut new = Conn::resume(&server.ws_url(), &token, old.last_seq).await;
    assert!(new.resumed(), "{}", new.connect);
    assert_eq!(new.id(), old.id());
    // The old socket is let go of.
    while old.next().await.is_some() {}
    let mut bob = Conn::open(&server.ws_url()).await;
    bob.join("t").await;
    bob.say("t", "hello").await;
    assert_eq!(texts(&mut new, 1).await, ["hello"]);
    Ok(())
}
