//! Numbers a token's signer controls: a fractional `exp` is enforced, an
//! absurd one (beyond `i64`/`u64` seconds) neither panics nor removes the
//! deadline, and a non-numeric one is refused. Through the upgrade and
//! through `__refresh_auth__`.

use std::time::Duration;

use serde_json::{Value, json};
use socketspec_e2e::raw_ws::{Incoming, RawWs};
use socketspec_e2e::{
    ChatServer, Client, DEFAULT_TIMEOUT as T, Result, assert_error, event_of, mint_jwt,
    mint_jwt_claims, unix_now,
};

const SECRET: &str = "e2e-secret";
/// A hundred years, the furthest deadline the server keeps.
const CENTURY: f64 = 100.0 * 365.0 * 24.0 * 3600.0;

fn now() -> f64 {
    unix_now() as f64
}

async fn connect(server: &ChatServer, token: &str) -> Result<Client> {
    Client::connect_with(&server.ws_url(), Client::options().jwt(token)).await
}

async fn refresh(client: &mut Client, token: &str) -> Result<Value> {
    client
        .request("__refresh_auth__", json!({ "token": token }))
        .await
}

fn expires_in(reply: &Value) -> f64 {
    assert_eq!(event_of(reply), "__refresh_auth__", "{reply}");
    reply["payload"]["expires_in"]
        .as_f64()
        .unwrap_or_else(|| panic!("the deadline was dropped: {reply}"))
}

#[tokio::test]
async fn a_fractional_exp_at_connect_is_enforced() -> Result<()> {
    let server = ChatServer::start(&["--jwt-secret", SECRET, "--token-refresh-window", "0"]);
    let token = mint_jwt_claims(SECRET, &json!({"sub": "alice", "exp": now() + 2.5}))?;
    let mut client = connect(&server, &token).await?;
    client.expect_connect().await?;
    let error = client.recv_json(Duration::from_secs(6)).await?;
    assert_error(&error, "AUTH_EXPIRED");
    let disconnect = client.recv_json(T).await?;
    assert_eq!(event_of(&disconnect), "__disconnect__", "{disconnect}");
    assert_eq!(client.expect_close(T).await?, Some(4001));
    Ok(())
}

#[tokio::test]
async fn a_fractional_exp_in_a_refresh_keeps_a_deadline() -> Result<()> {
    let server = ChatServer::start(&["--jwt-secret", SECRET]);
    let mut client = connect(&server, &mint_jwt(SECRET, "alice", None, 600)?).await?;
    client.expect_connect().await?;
    let fractional = mint_jwt_claims(SECRET, &json!({"sub": "alice", "exp": now() + 30.5}))?;
    let left = expires_in(&refresh(&mut client, &fractional).await?);
    assert!((25.0..=31.5).contains(&left), "expires_in {left}");
    client.assert_alive().await?;
    Ok(())
}

#[tokio::test]
async fn an_absurd_exp_saturates_at_connect_and_in_a_refresh() -> Result<()> {
    let server = ChatServer::start(&["--jwt-secret", SECRET]);
    for exp in [json!(9.3e18), json!(u64::MAX), json!(1.0e300)] {
        let token = mint_jwt_claims(SECRET, &json!({"sub": "alice", "exp": exp}))?;
        let mut client = connect(&server, &token).await?;
        client.expect_connect().await?;
        let who = client.request("whoami", json!({})).await?;
        assert_eq!(who["payload"]["user_id"], "alice", "{who}");

        let left = expires_in(&refresh(&mut client, &token).await?);
        assert!(
            left > 0.0 && left <= CENTURY + 1.0,
            "exp {exp}: expires_in {left}"
        );
        client.assert_alive().await?;
        client.close().await?;
    }
    // The server is still whole: a fresh client is served.
    let mut client = connect(&server, &mint_jwt(SECRET, "bob", None, 60)?).await?;
    client.expect_connect().await?;
    client.assert_alive().await?;
    Ok(())
}

#[tokio::test]
async fn a_non_numeric_exp_is_refused() -> Result<()> {
    let server = ChatServer::start(&["--jwt-secret", SECRET]);
    let exp = format!("{}", unix_now() + 600);
    let token = mint_jwt_claims(SECRET, &json!({"sub": "alice", "exp": exp}))?;
    let auth = format!("Bearer {token}");
    let mut raw =
        RawWs::connect_with(server.addr(), "/ws", &[("Authorization", auth.as_str())]).await?;
    match raw.next_message(T).await? {
        Incoming::Json(first) => {
            assert_error(&first, "AUTH_ERROR");
        }
        end => panic!("a string exp: the connection ended ({end:?}) with no AUTH_ERROR"),
    }

    let mut client = connect(&server, &mint_jwt(SECRET, "alice", None, 600)?).await?;
    client.expect_connect().await?;
    let error = refresh(&mut client, &token).await?;
    assert_error(&error, "AUTH_ERROR");
    client.assert_alive().await?;
    Ok(())
}
