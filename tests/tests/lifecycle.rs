//! Session lifecycle: heartbeat, idle timeout, maximum duration, and the
//! graceful shutdown on SIGINT / SIGTERM.

use std::time::{Duration, Instant};

use serde_json::json;
use socketspec_e2e::observe::handlers_in_flight;
use socketspec_e2e::wait::eventually;
use socketspec_e2e::{
    ChatServer, Client, DEFAULT_TIMEOUT as T, Error, Result, Signal, assert_error, event_of,
};

/// Connects with the automatic `__pong__` off: the test answers pings
/// itself, or not at all.
async fn connect_answering_pings_myself(server: &ChatServer) -> Result<Client> {
    let options = Client::options().auto_pong(false);
    let mut client = Client::connect_with(&server.ws_url(), options).await?;
    client.expect_connect().await?;
    Ok(client)
}

/// Reads `__disconnect__` (with a string `reason`; only `__ping__` may come
/// first) and then the close frame; returns the close code.
async fn expect_disconnect_then_close(client: &mut Client) -> Result<Option<u16>> {
    // Heartbeats may still arrive before it (the server pings every interval).
    let disconnect = client.try_recv_non_ping(T).await?.unwrap_or_default();
    assert_eq!(event_of(&disconnect), "__disconnect__", "{disconnect}");
    assert!(disconnect["payload"]["reason"].is_string(), "{disconnect}");
    let code = client.expect_close(T).await?;
    let extra: Vec<_> = client.buffered().collect();
    assert!(extra.is_empty(), "messages after __disconnect__: {extra:?}");
    Ok(code)
}

// --- Heartbeat ---------------------------------------------------------------

const HEARTBEAT: [&str; 4] = ["--heartbeat-interval", "0.2", "--heartbeat-timeout", "0.3"];

#[tokio::test]
async fn heartbeat_sends_ping() -> Result<()> {
    let server = ChatServer::start(&HEARTBEAT);
    let (mut client, _) = Client::connect_ready(&server.ws_url()).await?;
    let started = Instant::now();
    let ping = client.recv_json(Duration::from_secs(2)).await?;
    assert_eq!(ping, json!({"event": "__ping__", "payload": {}}));
    assert!(
        started.elapsed() >= Duration::from_millis(100),
        "ping too early: {:?}",
        started.elapsed()
    );
    Ok(())
}

#[tokio::test]
async fn answering_pings_keeps_the_connection_open() -> Result<()> {
    let server = ChatServer::start(&HEARTBEAT);
    let mut client = connect_answering_pings_myself(&server).await?;
    let until = Instant::now() + Duration::from_millis(1300);
    let mut pings = 0;
    while Instant::now() < until {
        let left = until.saturating_duration_since(Instant::now());
        match client.try_recv_json(left).await? {
            Some(m) if event_of(&m) == "__ping__" => {
                pings += 1;
                client.send_event("__pong__", json!({})).await?;
            }
            Some(m) => panic!("unexpected message while answering pings: {m}"),
            None => break,
        }
    }
    assert!(
        pings >= 3,
        "only {pings} pings in 1.3 s with a 0.2 s interval"
    );
    // `__pong__` gets no reply of its own, and the connection is still served.
    client.assert_alive().await
}

#[tokio::test]
async fn missing_pong_closes_with_4004() -> Result<()> {
    let server = ChatServer::start(&HEARTBEAT);
    let mut client = connect_answering_pings_myself(&server).await?;
    let ping = client.recv_json(Duration::from_secs(2)).await?;
    assert_eq!(event_of(&ping), "__ping__", "{ping}");
    let started = Instant::now();
    let code = expect_disconnect_then_close(&mut client).await?;
    assert_eq!(code, Some(4004));
    assert!(
        started.elapsed() >= Duration::from_millis(150),
        "closed too early: {:?}",
        started.elapsed()
    );
    Ok(())
}

// --- Idle timeout -------------------------------------------------------------

const IDLE: [&str; 4] = ["--idle-timeout", "0.6", "--warning-window", "0.3"];

#[tokio::test]
async fn idle_timeout_warns_then_closes_with_4002() -> Result<()> {
    let server = ChatServer::start(&IDLE);
    let (mut client, _) = Client::connect_ready(&server.ws_url()).await?;
    let started = Instant::now();

    let warning = client.recv_json(Duration::from_secs(2)).await?;
    assert_eq!(event_of(&warning), "__idle_warning__", "{warning}");
    let expires_in = warning["payload"]["expires_in"].as_f64().unwrap_or(-1.0);
    assert!(
        expires_in > 0.0 && expires_in <= 0.31,
        "expires_in: {warning}"
    );
    assert!(
        started.elapsed() >= Duration::from_millis(200),
        "warned too early: {:?}",
        started.elapsed()
    );

    let error = client.recv_json(Duration::from_secs(2)).await?;
    assert_error(&error, "IDLE_TIMEOUT");
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "closed too early: {:?}",
        started.elapsed()
    );
    assert_eq!(expect_disconnect_then_close(&mut client).await?, Some(4002));
    Ok(())
}

#[tokio::test]
async fn application_events_postpone_the_idle_timeout() -> Result<()> {
    let server = ChatServer::start(&IDLE);
    let (mut client, _) = Client::connect_ready(&server.ws_url()).await?;
    let until = Instant::now() + Duration::from_millis(1500);
    let mut seq = 0;
    while Instant::now() < until {
        seq += 1;
        let reply = client
            .request("echo", json!({"seq": seq, "data": ""}))
            .await?;
        assert_eq!(event_of(&reply), "echo_reply", "{reply}");
        // Time passing is the point: activity spread over more than the
        // idle timeout.
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    // Only warnings may have been read meanwhile: never the timeout.
    let seen: Vec<_> = client.buffered().cloned().collect();
    assert!(
        seen.iter().all(|m| event_of(m) == "__idle_warning__"),
        "unexpected messages: {seen:?}"
    );
    client.assert_alive().await
}

#[tokio::test]
async fn pong_does_not_count_as_activity() -> Result<()> {
    let mut args = IDLE.to_vec();
    args.extend(["--heartbeat-interval", "0.1", "--heartbeat-timeout", "0.5"]);
    let server = ChatServer::start(&args);
    let mut client = connect_answering_pings_myself(&server).await?;
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut events = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match client.try_recv_json(left).await {
            Ok(Some(m)) if event_of(&m) == "__ping__" => {
                client.send_event("__pong__", json!({})).await?
            }
            Ok(Some(m)) => events.push(m),
            Ok(None) => panic!("still open after 3 s of pongs only; got {events:?}"),
            Err(Error::Closed(code)) => {
                assert_eq!(code, Some(4002), "messages: {events:?}");
                break;
            }
            Err(e) => return Err(e),
        }
    }
    let names: Vec<&str> = events.iter().map(event_of).collect();
    assert_eq!(
        names,
        ["__idle_warning__", "__error__", "__disconnect__"],
        "{events:?}"
    );
    assert_error(&events[1], "IDLE_TIMEOUT");
    Ok(())
}

// --- Maximum duration -------------------------------------------------------------

#[tokio::test]
async fn max_duration_warns_then_closes_with_4003() -> Result<()> {
    let server = ChatServer::start(&[
        "--max-duration",
        "0.6",
        "--warning-window",
        "0.3",
        "--idle-timeout",
        "0",
    ]);
    let (mut client, _) = Client::connect_ready(&server.ws_url()).await?;
    let started = Instant::now();

    let warning = client.recv_json(Duration::from_secs(2)).await?;
    assert_eq!(event_of(&warning), "__session_expiring__", "{warning}");
    let expires_in = warning["payload"]["expires_in"].as_f64().unwrap_or(-1.0);
    assert!(
        expires_in > 0.0 && expires_in <= 0.31,
        "expires_in: {warning}"
    );

    // Activity does not extend a session's maximum duration.
    client
        .send_event("echo", json!({"seq": 1, "data": ""}))
        .await?;
    let reply = client.recv_json(T).await?;
    assert_eq!(event_of(&reply), "echo_reply", "{reply}");

    let error = client.recv_json(Duration::from_secs(2)).await?;
    assert_error(&error, "SESSION_EXPIRED");
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "expired too early: {:?}",
        started.elapsed()
    );
    assert_eq!(expect_disconnect_then_close(&mut client).await?, Some(4003));
    Ok(())
}

// --- Graceful shutdown ------------------------------------------------------------

async fn check_graceful_shutdown(signal: Signal) -> Result<()> {
    let mut server = ChatServer::start(&["--shutdown-grace", "2"]);
    let (mut a, _) = Client::connect_ready(&server.ws_url()).await?;
    let (mut b, _) = Client::connect_ready(&server.ws_url()).await?;
    a.assert_alive().await?;

    server.signal(signal)?;
    for client in [&mut a, &mut b] {
        let notice = client.recv_json(T).await?;
        assert_eq!(event_of(&notice), "__server_shutdown__", "{notice}");
        assert_eq!(notice["payload"]["grace"].as_f64(), Some(2.0), "{notice}");
        assert_eq!(expect_disconnect_then_close(client).await?, Some(1001));
    }
    let status = server.exited(Duration::from_secs(10)).await?;
    assert_eq!(
        status.code(),
        Some(0),
        "exit status {status}; stderr:\n{}",
        server.stderr()
    );
    Ok(())
}

#[tokio::test]
async fn sigint_shuts_down_gracefully() -> Result<()> {
    check_graceful_shutdown(Signal::INT).await
}

#[tokio::test]
async fn sigterm_shuts_down_gracefully() -> Result<()> {
    check_graceful_shutdown(Signal::TERM).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_with_sigint_returns_success() -> Result<()> {
    let mut server = ChatServer::start(&[]);
    let (mut client, _) = Client::connect_ready(&server.ws_url()).await?;
    // The client reads in its own task while this one waits for the exit.
    let reader = tokio::spawn(async move {
        let notice = client.recv_json(T).await?;
        let code = expect_disconnect_then_close(&mut client).await?;
        Ok::<_, Error>((notice, code))
    });
    let status = server.stop(Signal::INT).await?;
    assert!(
        status.success(),
        "exit status {status}; stderr:\n{}",
        server.stderr()
    );
    let (notice, code) = reader.await.map_err(|e| Error::Other(e.to_string()))??;
    assert_eq!(event_of(&notice), "__server_shutdown__", "{notice}");
    assert_eq!(code, Some(1001));
    Ok(())
}

/// Once a handler runs on `server`, sends it `signal` and expects the
/// shutdown notice on `client`.
async fn shut_down_while_a_handler_runs(
    server: &ChatServer,
    client: &mut Client,
    signal: Signal,
) -> Result<()> {
    eventually(T, "slow_echo running on the server", async || {
        Ok((handlers_in_flight(server.addr()).await? >= 1.0).then_some(()))
    })
    .await?;
    server.signal(signal)?;
    let notice = client.recv_json(T).await?;
    assert_eq!(event_of(&notice), "__server_shutdown__", "{notice}");
    Ok(())
}

#[tokio::test]
async fn in_flight_handlers_finish_during_shutdown() -> Result<()> {
    let mut server = ChatServer::start(&["--shutdown-grace", "3"]);
    let (mut client, _) = Client::connect_ready(&server.ws_url()).await?;
    client
        .send_event_with_id("slow_echo", json!({"seq": 42, "delay_ms": 600}), "slow")
        .await?;
    shut_down_while_a_handler_runs(&server, &mut client, Signal::INT).await?;
    let reply = client.recv_json(T).await?;
    assert_eq!(
        reply,
        json!({"event": "echo_reply", "payload": {"seq": 42, "data": ""}, "id": "slow"})
    );
    assert_eq!(expect_disconnect_then_close(&mut client).await?, Some(1001));
    let status = server.exited(Duration::from_secs(10)).await?;
    assert_eq!(status.code(), Some(0), "exit status {status}");
    Ok(())
}

#[tokio::test]
async fn requests_during_shutdown_get_an_error_not_silence() -> Result<()> {
    let mut server = ChatServer::start(&["--shutdown-grace", "5"]);
    let (mut client, _) = Client::connect_ready(&server.ws_url()).await?;
    client
        .send_event_with_id("slow_echo", json!({"seq": 7, "delay_ms": 1500}), "slow")
        .await?;
    shut_down_while_a_handler_runs(&server, &mut client, Signal::TERM).await?;
    // Sent after the shutdown started, while a handler still runs.
    for i in 0..3 {
        client
            .send_event_with_id(
                "echo",
                json!({"seq": i, "data": "late"}),
                &format!("late{i}"),
            )
            .await?;
    }
    let mut refused = Vec::new();
    let mut slow = None;
    while refused.len() < 3 || slow.is_none() {
        let message = client.recv_json(T).await?;
        match event_of(&message) {
            "__error__" => {
                let p = assert_error(&message, "HANDLER_ERROR");
                assert_eq!(p["event"], "echo", "{message}");
                refused.push(message["id"].as_str().unwrap_or_default().to_owned());
            }
            "echo_reply" => slow = Some(message),
            other => panic!("unexpected {other}: {message}"),
        }
    }
    refused.sort();
    assert_eq!(refused, ["late0", "late1", "late2"]);
    assert_eq!(slow.map(|m| m["id"].clone()), Some(json!("slow")));
    assert_eq!(expect_disconnect_then_close(&mut client).await?, Some(1001));
    let status = server.exited(Duration::from_secs(10)).await?;
    assert_eq!(status.code(), Some(0), "exit status {status}");
    Ok(())
}

/// `ordered` events still running or queued when the shutdown's grace
/// period ends get an error each, before `__disconnect__` and the close.
#[tokio::test]
async fn ordered_events_unfinished_when_the_grace_ends_get_an_error() -> Result<()> {
    let server = ChatServer::start(&["--shutdown-grace", "1"]);
    let (mut client, _) = Client::connect_ready(&server.ws_url()).await?;
    for id in ["running", "queued1", "queued2"] {
        client
            .send_event_with_id("slow_echo", json!({"seq": 1, "delay_ms": 5000}), id)
            .await?;
    }
    shut_down_while_a_handler_runs(&server, &mut client, Signal::TERM).await?;
    // The first runs 5 s, past the 1 s grace; the others wait behind it.
    let mut answered = Vec::new();
    while answered.len() < 3 {
        let message = client.recv_json(T).await?;
        let p = assert_error(&message, "HANDLER_ERROR");
        assert_eq!(p["event"], "slow_echo", "{message}");
        answered.push(message["id"].as_str().unwrap_or_default().to_owned());
    }
    answered.sort();
    assert_eq!(answered, ["queued1", "queued2", "running"]);
    assert_eq!(expect_disconnect_then_close(&mut client).await?, Some(1001));
    Ok(())
}
