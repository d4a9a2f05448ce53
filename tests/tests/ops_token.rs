//! `--ops-token`: `/metrics` and `/socket-health` answer 401 without the
//! token (header or query) and 200 with it; without the flag they are open.

use socketspec_e2e::{ChatServer, Result, http_get};

#[tokio::test]
async fn ops_routes_need_the_token_when_one_is_set() -> Result<()> {
    let server = ChatServer::start(&["--ops-token", "ops-secret"]);
    for path in ["/metrics", "/socket-health"] {
        let none = http_get(server.addr(), path, &[]).await?;
        assert_eq!(none.status, 401, "{path} without a token: {}", none.body);
        assert_eq!(
            none.headers
                .get("www-authenticate")
                .and_then(|v| v.to_str().ok()),
            Some("Bearer")
        );
        let wrong = http_get(server.addr(), path, &[("Authorization", "Bearer nope")]).await?;
        assert_eq!(wrong.status, 401, "{path} with a wrong token");
        let bearer = http_get(
            server.addr(),
            path,
            &[("Authorization", "Bearer ops-secret")],
        )
        .await?;
        assert_eq!(bearer.status, 200, "{path} with the token: {}", bearer.body);
        let query = http_get(server.addr(), &format!("{path}?token=ops-secret"), &[]).await?;
        assert_eq!(query.status, 200, "{path}?token=: {}", query.body);
    }
    Ok(())
}

#[tokio::test]
async fn ops_routes_are_open_by_default() -> Result<()> {
    let server = ChatServer::start(&[]);
    for path in ["/metrics", "/socket-health"] {
        let open = http_get(server.addr(), path, &[]).await?;
        assert_eq!(open.status, 200, "{path}: {}", open.body);
    }
    Ok(())
}
