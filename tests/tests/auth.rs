//! Authentication: `AUTH_ERROR` at connect (JWT and API key), credential
//! expiry mid-session (`AUTH_EXPIRED`) and `__refresh_auth__`.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use socketspec_e2e::raw_ws::{Incoming, RawWs};
use socketspec_e2e::{
    ChatServer, Client, DEFAULT_TIMEOUT as T, Result, assert_error, event_of, mint_jwt,
};

const SECRET: &str = "e2e-secret";
const API_KEY: &str = "e2e-key-123";

async fn connect_with_headers(server: &ChatServer, headers: &[(&str, &str)]) -> Result<Client> {
    let mut options = Client::options();
    for (name, value) in headers {
        options = options.header(*name, *value);
    }
    Client::connect_with(&server.ws_url(), options).await
}

async fn connect_bearer(server: &ChatServer, token: &str) -> Result<Client> {
    Client::connect_with(&server.ws_url(), Client::options().jwt(token)).await
}

/// A connection attempt to be refused, made with the raw client: the
/// project's client reports a refusal as an error and completes the close
/// itself, while these tests check the frames and the close code.
async fn attempt(server: &ChatServer, path: &str, headers: &[(&str, &str)]) -> Result<RawWs> {
    RawWs::connect_with(server.addr(), path, headers).await
}

async fn attempt_bearer(server: &ChatServer, token: &str) -> Result<RawWs> {
    let auth = format!("Bearer {token}");
    attempt(server, "/ws", &[("Authorization", auth.as_str())]).await
}

/// The refused-at-connect sequence: `__error__` AUTH_ERROR first (no
/// `__connect__`), then close 4001.
async fn assert_refused(mut raw: RawWs, what: &str) -> Result<()> {
    let first = match raw.next_message(T).await? {
        Incoming::Json(first) => first,
        end => panic!("{what}: the connection ended ({end:?}) before any message"),
    };
    assert_ne!(event_of(&first), "__connect__", "{what}: admitted");
    let p = assert_error(&first, "AUTH_ERROR");
    assert_eq!(p["event"], Value::Null, "{what}: {first}");
    let mut after = Vec::new();
    let end = loop {
        match raw.next_message(T).await? {
            Incoming::Json(message) => after.push(message),
            end => break end,
        }
    };
    assert_eq!(end, Incoming::Close(Some(4001)), "{what}");
    let connects: Vec<_> = after
        .iter()
        .filter(|m| event_of(m) == "__connect__")
        .collect();
    assert!(
        connects.is_empty(),
        "{what}: __connect__ after AUTH_ERROR: {connects:?}"
    );
    Ok(())
}

/// Reads `__connect__` and asks `whoami`; returns the identity payload.
async fn assert_admitted(client: &mut Client) -> Result<Value> {
    client.expect_connect().await?;
    let who = client.request("whoami", json!({})).await?;
    assert_eq!(event_of(&who), "identity", "{who}");
    Ok(who["payload"].clone())
}

// --- JWT at connect ----------------------------------------------------------------

#[tokio::test]
async fn jwt_missing_token_is_auth_error_then_4001() -> Result<()> {
    let server = ChatServer::start(&["--jwt-secret", SECRET]);
    assert_refused(attempt(&server, "/ws", &[]).await?, "no token").await
}

#[tokio::test]
async fn jwt_bad_tokens_are_auth_error_then_4001() -> Result<()> {
    let server = ChatServer::start(&["--jwt-secret", SECRET]);
    let wrong_secret = mint_jwt("another-secret", "alice", None, 600)?;
    let expired = mint_jwt(SECRET, "alice", None, -30)?;
    for (token, what) in [
        (wrong_secret.as_str(), "wrong signature"),
        (expired.as_str(), "expired"),
        ("not.a.jwt", "garbage"),
    ] {
        assert_refused(attempt_bearer(&server, token).await?, what).await?;
    }
    let raw = attempt(&server, "/ws?token=garbage", &[]).await?;
    assert_refused(raw, "garbage ?token=").await
}

#[tokio::test]
async fn jwt_bearer_header_is_accepted() -> Result<()> {
    let server = ChatServer::start(&["--jwt-secret", SECRET]);
    let token = mint_jwt(SECRET, "alice", Some("admin"), 600)?;
    let mut client = connect_bearer(&server, &token).await?;
    let who = assert_admitted(&mut client).await?;
    assert_eq!(who["user_id"], "alice", "{who}");
    assert_eq!(who["role"], "admin", "{who}");
    Ok(())
}

#[tokio::test]
async fn jwt_query_token_is_accepted() -> Result<()> {
    let server = ChatServer::start(&["--jwt-secret", SECRET]);
    let token = mint_jwt(SECRET, "bob", None, 600)?;
    let url = format!("{}?token={token}", server.ws_url());
    let mut client = Client::connect(&url).await?;
    let who = assert_admitted(&mut client).await?;
    assert_eq!(who["user_id"], "bob", "{who}");
    Ok(())
}

// --- API key at connect ------------------------------------------------------------

#[tokio::test]
async fn api_key_header_and_query_are_accepted() -> Result<()> {
    let server = ChatServer::start(&["--api-key", API_KEY]);
    let mut by_header = connect_with_headers(&server, &[("X-API-Key", API_KEY)]).await?;
    assert_admitted(&mut by_header).await?;
    let url = format!("{}?api_key={API_KEY}", server.ws_url());
    let mut by_query = Client::connect(&url).await?;
    assert_admitted(&mut by_query).await?;
    Ok(())
}

#[tokio::test]
async fn api_key_missing_or_wrong_is_auth_error_then_4001() -> Result<()> {
    let server = ChatServer::start(&["--api-key", API_KEY]);
    assert_refused(attempt(&server, "/ws", &[]).await?, "no key").await?;
    let wrong = attempt(&server, "/ws", &[("X-API-Key", "e2e-key-124")]).await?;
    assert_refused(wrong, "wrong key").await?;
    let raw = attempt(&server, "/ws?api_key=nope", &[]).await?;
    assert_refused(raw, "wrong ?api_key=").await
}

#[tokio::test]
async fn with_jwt_and_api_key_either_credential_is_enough() -> Result<()> {
    let server = ChatServer::start(&["--jwt-secret", SECRET, "--api-key", API_KEY]);
    let mut by_key = connect_with_headers(&server, &[("X-API-Key", API_KEY)]).await?;
    assert_admitted(&mut by_key).await?;
    let token = mint_jwt(SECRET, "carol", None, 600)?;
    let mut by_jwt = connect_bearer(&server, &token).await?;
    let who = assert_admitted(&mut by_jwt).await?;
    assert_eq!(who["user_id"], "carol", "{who}");
    assert_refused(attempt(&server, "/ws", &[]).await?, "neither").await
}

// --- AUTH_EXPIRED ---------------------------------------------------------------------

#[tokio::test]
async fn credential_expiry_warns_then_auth_expired_and_4001() -> Result<()> {
    let server = ChatServer::start(&["--jwt-secret", SECRET, "--token-refresh-window", "1"]);
    let token = mint_jwt(SECRET, "alice", None, 2)?;
    let mut client = connect_bearer(&server, &token).await?;
    client.expect_connect().await?;
    let started = Instant::now();

    let warning = client.recv_json(Duration::from_secs(3)).await?;
    assert_eq!(event_of(&warning), "__auth_expiring__", "{warning}");
    let expires_in = warning["payload"]["expires_in"].as_f64().unwrap_or(-1.0);
    assert!(
        expires_in > 0.0 && expires_in <= 1.01,
        "expires_in: {warning}"
    );

    let error = client.recv_json(Duration::from_secs(3)).await?;
    assert_error(&error, "AUTH_EXPIRED");
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "expired too early: {:?}",
        started.elapsed()
    );
    let disconnect = client.recv_json(T).await?;
    assert_eq!(event_of(&disconnect), "__disconnect__", "{disconnect}");
    assert!(disconnect["payload"]["reason"].is_string(), "{disconnect}");
    assert_eq!(client.expect_close(T).await?, Some(4001));
    Ok(())
}

// --- __refresh_auth__ -------------------------------------------------------------------

#[tokio::test]
async fn refresh_auth_with_a_fresh_token_extends_the_session() -> Result<()> {
    let server = ChatServer::start(&["--jwt-secret", SECRET, "--token-refresh-window", "1"]);
    let token = mint_jwt(SECRET, "alice", None, 3)?;
    let mut client = connect_bearer(&server, &token).await?;
    client.expect_connect().await?;
    let connected = Instant::now();

    let fresh = mint_jwt(SECRET, "alice", Some("admin"), 60)?;
    client
        .send_json(&json!({"event": "__refresh_auth__", "payload": {"token": fresh}, "id": "rf1"}))
        .await?;
    let reply = client.recv_json(T).await?;
    assert_eq!(event_of(&reply), "__refresh_auth__", "{reply}");
    assert_eq!(reply["id"], "rf1", "{reply}");
    let expires_in = reply["payload"]["expires_in"].as_f64().unwrap_or(-1.0);
    assert!(
        expires_in > 55.0 && expires_in <= 60.0,
        "expires_in: {reply}"
    );

    // Past the first token's expiry: no warning, no AUTH_EXPIRED.
    let until = connected + Duration::from_millis(3500);
    let got = client
        .try_recv_non_ping(until.saturating_duration_since(Instant::now()))
        .await?;
    assert!(got.is_none(), "unexpected after refresh: {got:?}");
    client.assert_alive().await?;
    // The new claims are in force.
    let who = client.request("whoami", json!({})).await?;
    assert_eq!(who["payload"]["user_id"], "alice", "{who}");
    assert_eq!(who["payload"]["role"], "admin", "{who}");
    Ok(())
}

#[tokio::test]
async fn refresh_auth_for_another_subject_is_refused_and_keeps_the_connection() -> Result<()> {
    let server = ChatServer::start(&["--jwt-secret", SECRET]);
    let token = mint_jwt(SECRET, "alice", None, 600)?;
    let mut client = connect_bearer(&server, &token).await?;
    client.expect_connect().await?;

    let mallory = mint_jwt(SECRET, "mallory", Some("admin"), 600)?;
    let error = client
        .request_with_id("__refresh_auth__", json!({"token": mallory}), "rf2", T)
        .await?;
    let p = assert_error(&error, "AUTH_ERROR");
    assert_eq!(p["request_id"], "rf2", "{error}");
    assert_eq!(p["event"], "__refresh_auth__", "{error}");

    let forged = mint_jwt("not-the-secret", "alice", None, 600)?;
    let error = client
        .request("__refresh_auth__", json!({"token": forged}))
        .await?;
    assert_error(&error, "AUTH_ERROR");
    let error = client.request("__refresh_auth__", json!({})).await?;
    assert_error(&error, "AUTH_ERROR");

    // Still alice, still connected.
    let who = client.request("whoami", json!({})).await?;
    assert_eq!(who["payload"]["user_id"], "alice", "{who}");
    assert_eq!(who["payload"]["role"], Value::Null, "{who}");
    client.assert_alive().await
}

#[tokio::test]
async fn refresh_auth_without_token_auth_is_refused() -> Result<()> {
    let server = ChatServer::start(&[]);
    let (mut client, _) = Client::connect_ready(&server.ws_url()).await?;
    let token = mint_jwt(SECRET, "alice", None, 600)?;
    let error = client
        .request_with_id("__refresh_auth__", json!({"token": token}), "rf3", T)
        .await?;
    let p = assert_error(&error, "AUTH_ERROR");
    assert_eq!(p["request_id"], "rf3", "{error}");
    client.assert_alive().await
}
