//! The chat server's HTTP side: the docs routes behind `--docs` /
//! `--docs-token`, and the JWT clock leeway flag.

use serde_json::Value;
use socketspec_e2e::raw_ws::{Incoming, RawWs};
use socketspec_e2e::{ChatServer, Client, Result, assert_error, http_get, mint_jwt};

const DOC_ROUTES: [&str; 3] = [
    "/socket-docs",
    "/socket-docs/spec.json",
    "/socket-docs/asyncapi.json",
];

#[tokio::test]
async fn docs_are_off_by_default() -> Result<()> {
    let server = ChatServer::start(&[]);
    for path in ["/socket-docs", "/socket-docs/spec.json"] {
        let r = http_get(server.addr(), path, &[]).await?;
        assert_eq!(r.status, 404, "{path} without --docs: {r:?}");
    }
    Ok(())
}

#[tokio::test]
async fn docs_serve_the_page_and_the_raw_spec() -> Result<()> {
    let server = ChatServer::start(&["--docs"]);
    let page = http_get(server.addr(), "/socket-docs", &[]).await?;
    assert_eq!(page.status, 200, "{page:?}");
    assert!(
        page.header("content-type")
            .unwrap_or_default()
            .starts_with("text/html"),
        "{page:?}"
    );

    let spec = http_get(server.addr(), "/socket-docs/spec.json", &[]).await?;
    assert_eq!(spec.status, 200, "{spec:?}");
    let json: Value = serde_json::from_str(&spec.body)?;
    assert!(json.is_object(), "spec.json: {json}");
    for event in [
        "join_room",
        "leave_room",
        "join_admin",
        "send_message",
        "echo",
        "slow_echo",
        "whoami",
        "fail",
    ] {
        assert!(
            spec.body.contains(event),
            "spec.json does not mention {event}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn docs_token_protects_every_docs_route() -> Result<()> {
    let server = ChatServer::start(&["--docs", "--docs-token", "d0cs"]);
    for path in DOC_ROUTES {
        for headers in [vec![], vec![("Authorization", "Bearer wrong")]] {
            let r = http_get(server.addr(), path, &headers).await?;
            assert!(matches!(r.status, 401 | 403), "{path} {headers:?}: {r:?}");
        }
        let r = http_get(server.addr(), &format!("{path}?token=wrong"), &[]).await?;
        assert!(matches!(r.status, 401 | 403), "{path}?token=wrong: {r:?}");

        let r = http_get(server.addr(), path, &[("Authorization", "Bearer d0cs")]).await?;
        assert_eq!(r.status, 200, "{path} with the bearer token: {r:?}");
        let r = http_get(server.addr(), &format!("{path}?token=d0cs"), &[]).await?;
        assert_eq!(r.status, 200, "{path}?token=: {r:?}");
    }
    Ok(())
}

#[tokio::test]
async fn jwt_leeway_admits_a_recently_expired_token() -> Result<()> {
    let secret = "leeway-secret";
    let token = mint_jwt(secret, "late", None, -5)?;
    let auth = format!("Bearer {token}");

    let lenient = ChatServer::start(&["--jwt-secret", secret, "--jwt-leeway", "60"]);
    let options = Client::options().header("Authorization", auth.as_str());
    let mut client = Client::connect_with(&lenient.ws_url(), options).await?;
    client.expect_connect().await?;
    client.assert_alive().await?;

    // The refusal, frame by frame: the raw client sees the close code.
    let strict = ChatServer::start(&["--jwt-secret", secret]);
    let mut raw =
        RawWs::connect_with(strict.addr(), "/ws", &[("Authorization", auth.as_str())]).await?;
    let first = raw.next_message(socketspec_e2e::DEFAULT_TIMEOUT).await?;
    let Incoming::Json(first) = first else {
        panic!("expected the AUTH_ERROR envelope, got {first:?}");
    };
    assert_error(&first, "AUTH_ERROR");
    assert_eq!(
        raw.expect_end(socketspec_e2e::DEFAULT_TIMEOUT).await?,
        Incoming::Close(Some(4001))
    );
    Ok(())
}
