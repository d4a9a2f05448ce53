//! The generated Rust client resumes by itself: a socket cut mid-stream
//! (through a [`TcpProxy`]) loses no message and duplicates none, a request
//! in flight gets its reply after the resume, and the application learns
//! whether the new connection resumed or is fresh (and must re-sync).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::time::Duration;

use chat::client::{Client, ClientError, ClientOptions, ReconnectPolicy, ServerEvent};
use socketspec_e2e::proxy::TcpProxy;
use socketspec_e2e::{ChatServer, Signal};

socketspec_runtime::include_spec!("chat");

type TestResult = Result<(), Box<dyn std::error::Error>>;

const T: Duration = Duration::from_secs(10);

fn options() -> ClientOptions {
    ClientOptions::new()
        .reconnect(ReconnectPolicy {
            initial_delay: Duration::from_millis(20),
            max_delay: Duration::from_millis(200),
            max_attempts: None,
        })
        .request_timeout(T)
}

/// What the event stream showed: ticks in order, and each `__connect__`
/// (whether it resumed, and its connection id), the first one included.
#[derive(Default, Debug)]
struct Seen {
    ticks: Vec<i64>,
    connects: Vec<(bool, String)>,
}

/// Reads the event stream until `done` holds.
async fn watch(client: &Client, seen: &mut Seen, done: impl Fn(&Seen) -> bool) {
    let deadline = tokio::time::Instant::now() + T;
    while !done(seen) {
        let event = tokio::time::timeout_at(deadline, client.next_event())
            .await
            .unwrap_or_else(|_| panic!("timed out; saw {seen:?}"))
            .unwrap_or_else(|| panic!("the stream ended; saw {seen:?}"));
        match event {
            ServerEvent::Tick(tick) => seen.ticks.push(tick.seq.as_i64().expect("a tick number")),
            ServerEvent::Connect(info) => seen.connects.push((info.resumed, info.connection_id)),
            _ => {}
        }
    }
}

fn assert_consecutive(ticks: &[i64]) {
    for pair in ticks.windows(2) {
        assert_eq!(pair[1], pair[0] + 1, "a tick lost or repeated: {ticks:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_cut_mid_stream_resumes_with_nothing_lost_or_repeated() -> TestResult {
    let server = ChatServer::start(&["--resume-window", "30", "--tick-interval", "10"]);
    let proxy = TcpProxy::start(server.addr())?;
    let client = Client::connect_with(&proxy.ws_url(), options()).await?;
    let info = client.connect_info().expect("connected");
    assert!(!info.resumed);
    assert!(info.resume_token.is_some());
    client
        .join_room(chat::JoinRoom {
            room: "ticker".into(),
        })
        .await?;
    let mut seen = Seen::default();
    for round in 1..=3 {
        watch(&client, &mut seen, |s| s.ticks.len() >= round * 15).await;
        // A request in flight across the cut: the server answers it while
        // the session is detached, and sends the answer again on resume.
        let slow = {
            let client = client.clone();
            tokio::spawn(async move {
                client
                    .slow_echo(chat::SlowEcho {
                        seq: round.into(),
                        delay_ms: 150,
                        extra: Default::default(),
                    })
                    .await
            })
        };
        tokio::time::sleep(Duration::from_millis(40)).await;
        proxy.cut();
        watch(&client, &mut seen, |s| s.connects.len() > round).await;
        let reply = slow.await??;
        assert_eq!(reply.seq.as_i64(), Some(round as i64));
    }
    watch(&client, &mut seen, |s| s.ticks.len() >= 60).await;
    assert_consecutive(&seen.ticks);
    assert_eq!(seen.connects.len(), 4, "{seen:?}");
    for (resumed, id) in &seen.connects[1..] {
        assert!(resumed, "{seen:?}");
        assert_eq!(*id, info.connection_id);
    }
    assert_eq!(client.connection_id(), Some(info.connection_id.clone()));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_the_server_lost_comes_back_fresh_and_says_so() -> TestResult {
    let mut server = ChatServer::start(&["--resume-window", "30"]);
    let addr = server.addr().to_owned();
    let proxy = TcpProxy::start(&addr)?;
    let client = Client::connect_with(&proxy.ws_url(), options()).await?;
    let first = client.connection_id().expect("connected");
    let slow = {
        let client = client.clone();
        tokio::spawn(async move {
            client
                .slow_echo(chat::SlowEcho {
                    seq: 1.into(),
                    delay_ms: 2000,
                    extra: Default::default(),
                })
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    // The process dies: no closing handshake, and its sessions are gone.
    server.stop(Signal::KILL).await?;
    drop(server);
    let _restarted = tokio::task::spawn_blocking(move || {
        ChatServer::try_start_on(&addr, &["--resume-window", "30"])
    })
    .await??;
    let mut seen = Seen::default();
    watch(&client, &mut seen, |s| s.connects.len() >= 2).await;
    let (resumed, id) = &seen.connects[1];
    assert!(!resumed, "a fresh connection, and the client is told");
    assert_ne!(*id, first);
    // The request's reply will never come: it fails rather than hangs.
    match slow.await? {
        Err(ClientError::Closed { .. }) => {}
        other => panic!("expected the request to fail as closed, got {other:?}"),
    }
    Ok(())
}
