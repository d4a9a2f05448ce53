//! Mounting a [`Server`] in [axum] (feature `axum`).
//!
//! [`router`] turns a configured server into an [`axum::Router`] holding
//! its routes: the WebSocket path of every namespace, `/socket-health`,
//! `/metrics`, and the docs routes when the server serves them. Merge it
//! into the application's router, or nest it under a prefix.
//!
//! Every route hands its request to [`Server::handle`], the function the
//! built-in front runs too: the upgrade's checks (method, headers,
//! version), the origin check, the shutdown, the connection cap,
//! authentication and every limit are one implementation, so the two
//! fronts cannot answer differently. The upgrade needs the request's
//! `hyper::upgrade::OnUpgrade` extension, which `axum::serve` (and any
//! hyper server run `with_upgrades`) puts there and axum keeps.
//!
//! What the built-in front does around the routes is the application's
//! part here:
//! - call [`Server::start`] before serving (it connects the backend);
//! - on shutdown, stop accepting (`with_graceful_shutdown`), then await
//!   [`Server::shutdown`]: it sends `__server_shutdown__`, lets in-flight
//!   handlers finish within the grace, closes every connection with 1001
//!   and resolves once their hooks ran;
//! - serve a [`listener`] rather than a bare `TcpListener`: it adds what
//!   the built-in front does to each new connection and `axum::serve` does
//!   not, `TCP_NODELAY` and the handshake timeout (a client that never
//!   completes its upgrade request is dropped).
//!
//! ```no_run
//! use axum::routing::get;
//! use socketspec_runtime::{App, Server};
//!
//! async fn run<A: App>(app: A) -> Result<(), Box<dyn std::error::Error>> {
//!     let server = Server::builder(app).build()?;
//!     server.start().await?;
//!     let router = axum::Router::new()
//!         .route("/hello", get(|| async { "hello" }))
//!         .merge(socketspec_runtime::axum::router(server.clone()));
//!     let tcp = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//!     let listener = socketspec_runtime::axum::listener(tcp, &server);
//!     let stop = server.shutdown_handle();
//!     axum::serve(listener, router)
//!         .with_graceful_shutdown(async move {
//!             let _ = tokio::signal::ctrl_c().await;
//!             stop.shutdown();
//!         })
//!         .await?;
//!     server.shutdown().await;
//!     Ok(())
//! }
//! ```
//!
//! [axum]: https://docs.rs/axum/0.8

mod listener;

use axum::Router;
use axum::extract::{Request, State};
use axum::response::Response;
use axum::routing::any;

pub use self::listener::{Guarded, Listener, listener};
use crate::Server;

/// An [`axum::Router`] serving `server`'s routes: each namespace's
/// WebSocket path, `/socket-health`, `/metrics`, and (when the server's
/// `HttpConfig::docs` is on) the docs page and everything under it. Each
/// route answers exactly as the built-in front does, through
/// [`Server::handle`], whatever the method.
pub fn router(server: Server) -> Router {
    let mut paths: Vec<String> = server
        .namespaces()
        .map(|(_, path)| path.to_owned())
        .collect();
    paths.push("/socket-health".to_owned());
    paths.push("/metrics".to_owned());
    let http = &server.config().http;
    if http.docs {
        let docs = http.docs_url.trim_end_matches('/');
        paths.push(docs.to_owned());
        paths.push(format!("{docs}/"));
        paths.push(format!("{docs}/{{*rest}}"));
    }
    let mut router = Router::new();
    for path in paths {
        router = router.route(&path, any(handle));
    }
    router.with_state(server)
}

/// Hands the request to the server (the one implementation both fronts
/// share).
async fn handle(State(server): State<Server>, request: Request) -> Response {
    server.handle(request).await.map(axum::body::Body::new)
}

impl Server {
    /// This server's routes as an [`axum::Router`]: the same as
    /// [`router`]`(self)`.
    pub fn into_router(self) -> Router {
        router(self)
    }
}
