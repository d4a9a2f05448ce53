//! Resumption across nodes over Redis: a client whose socket to node A is
//! lost resumes through node B (behind a load balancer, the usual case).
//! Node A still holds the session; node B relays the connection to it.
//! Checked: the replay and live traffic after a resume on another node,
//! two resumes racing through two nodes (exactly one resumes), a resume
//! through a node whose session holder died (a fresh connection), and a
//! relayed connection lost again resuming again.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::time::Duration;

use socketspec_e2e::proxy::TcpProxy;
use socketspec_e2e::seq_client::{SeqClient, numbered, texts};
use socketspec_e2e::{ChatServer, Signal};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn node(prefix: &str) -> ChatServer {
    let url = socketspec_e2e::redis::url();
    ChatServer::start(&[
        "--redis",
        &url,
        "--redis-prefix",
        prefix,
        "--resume-window",
        "30",
    ])
}

fn prefix() -> String {
    format!("socketspec-test-{}", uuid::Uuid::new_v4())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_resumes_through_another_node_with_every_frame() -> TestResult {
    socketspec_e2e::redis::require().await;
    let prefix = prefix();
    let (a, b) = (node(&prefix), node(&prefix));
    let to_a = TcpProxy::start(a.addr())?;
    let mut alice = SeqClient::open(&to_a.ws_url()).await;
    let token = alice.token();
    alice.join("x").await;
    let mut bob = SeqClient::open(&b.ws_url()).await;
    bob.join("x").await;
    bob.say("x", "before").await;
    assert_eq!(texts(&mut alice, 1).await, ["before"]);

    to_a.cut();
    for text in numbered("away", 1..=5) {
        bob.say("x", &text).await;
    }
    // Back through node B.
    let to_b = TcpProxy::start(b.addr())?;
    let mut back = SeqClient::resume(&to_b.ws_url(), &token, alice.last_seq).await;
    assert!(back.resumed(), "{}", back.connect);
    assert_eq!(back.id(), alice.id());
    assert_eq!(texts(&mut back, 5).await, numbered("away", 1..=5));
    // Live both ways: what it sends reaches the room, what the room gets
    // reaches it.
    back.say("x", "from alice").await;
    assert_eq!(texts(&mut bob, 1).await, ["from alice"]);
    bob.say("x", "live").await;
    assert_eq!(texts(&mut back, 1).await, ["live"]);
    // One member per session, cluster-wide.
    let mut carol = SeqClient::open(&a.ws_url()).await;
    assert_eq!(carol.join("x").await, 3);

    // Lost again, now on the relay: it resumes again (through node A).
    let seen = back.last_seq;
    let token = back.token();
    to_b.cut();
    bob.say("x", "again").await;
    let mut again = SeqClient::resume(&to_a.ws_url(), &token, seen).await;
    assert!(again.resumed(), "{}", again.connect);
    assert_eq!(again.id(), alice.id());
    assert_eq!(texts(&mut again, 1).await, ["again"]);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_resumes_racing_through_two_nodes_resume_once() -> TestResult {
    socketspec_e2e::redis::require().await;
    let prefix = prefix();
    let (a, b, c) = (node(&prefix), node(&prefix), node(&prefix));
    let to_a = TcpProxy::start(a.addr())?;
    let alice = SeqClient::open(&to_a.ws_url()).await;
    let token = alice.token();
    to_a.cut();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (via_b, via_c) = (b.ws_url(), c.ws_url());
    let (one, two) = tokio::join!(
        SeqClient::resume(&via_b, &token, 0),
        SeqClient::resume(&via_c, &token, 0)
    );
    let resumed = [one.resumed(), two.resumed()];
    assert_eq!(
        resumed.iter().filter(|r| **r).count(),
        1,
        "exactly one resumes: {resumed:?}"
    );
    let winner = if one.resumed() { &one } else { &two };
    assert_eq!(winner.id(), alice.id());
    let loser = if one.resumed() { &two } else { &one };
    assert_ne!(loser.id(), alice.id());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resume_whose_node_died_gets_a_fresh_connection() -> TestResult {
    socketspec_e2e::redis::require().await;
    let prefix = prefix();
    let (mut a, b) = (node(&prefix), node(&prefix));
    let alice = SeqClient::open(&a.ws_url()).await;
    let token = alice.token();
    a.stop(Signal::KILL).await?;
    let back = SeqClient::resume(&b.ws_url(), &token, 0).await;
    assert!(!back.resumed());
    assert_ne!(back.id(), alice.id());
    Ok(())
}
