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

use serde_json::json;
use socketspec_e2e::proxy::TcpProxy;
use socketspec_e2e::seq_client::{SeqClient as Conn, numbered, texts};
use socketspec_e2e::{ChatServer, mint_jwt};
type TestResult = Result<(), Box<dyn std::error::Error>>;

const SECRET: &str = "resume-secret";

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
