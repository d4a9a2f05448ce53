//! [`Server`]: the HTTP front. It accepts TCP connections, upgrades
//! requests on each namespace's WebSocket path, serves the health, metrics
//! and docs routes, and runs the graceful shutdown.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode, header};
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;

use super::docs;
use super::endpoint::{Endpoint, namespace_path};
use super::http::{Body, json_response, require_token, text_response};
use super::origin::OriginPolicy;
use super::upgrade::{self, Refusal};
use crate::auth::HandshakeRequest;
use crate::backend::{Inbox, RelayBody, RelayMessage};
use crate::config::ServerConfig;
use crate::dispatch::PayloadError;
use crate::frame::Frame;
use crate::hub::Hub;
use crate::mailbox::CloseRequest;
use crate::meta::AppMeta;
use crate::metrics;
use crate::relay::owner::ServeFn;
use socketspec_protocol::{CloseCode, DisconnectReason};

/// A socketspec server: one or more specs (namespaces), their
/// configuration, authentication and backend. Cheap to clone (a reference
/// count); every clone is the same server.
///
/// ```no_run
/// # use socketspec_runtime::{App, Server};
/// # async fn run<A: App>(app: A) -> Result<(), Box<dyn std::error::Error>> {
/// let server = Server::builder(app).build()?;
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
/// server.serve(listener, async { let _ = tokio::signal::ctrl_c().await; }).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Server {
    inner: Arc<Inner>,
}

struct Inner {
    hub: Arc<Hub>,
    /// Every namespace, with its WebSocket path.
    endpoints: Vec<(String, Arc<dyn Endpoint>)>,
    origins: OriginPolicy,
}

/// Asks a running server to shut down gracefully, from anywhere.
#[derive(Clone)]
pub struct ShutdownHandle {
    hub: Arc<Hub>,
}

impl ShutdownHandle {
    /// Starts the graceful shutdown (idempotent).
    pub fn shutdown(&self) {
        self.hub.start_shutdown();
    }
}

impl std::fmt::Debug for ShutdownHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShutdownHandle").finish_non_exhaustive()
    }
}

/// Where a server stands, as `/socket-health` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum HealthStatus {
    /// Serving.
    Ok,
    /// Serving, but the backend does not reach its store: broadcasts to
    /// other nodes fail and member counts are this node's only.
    Degraded,
    /// A graceful shutdown has started.
    ShuttingDown,
}

/// Live figures of a server, as `/socket-health` reports them.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct Health {
    /// Where the server stands.
    pub status: HealthStatus,
    /// The backend's name.
    pub backend: &'static str,
    /// Whether the backend reaches its store (always true for memory).
    pub backend_healthy: bool,
    /// Open WebSocket connections.
    pub connections: usize,
    /// Non-empty rooms on this node, over every namespace.
    pub rooms: usize,
    /// Tasks alive in the tokio runtime serving it (all of the runtime's
    /// tasks, this server's and any other): back to its idle figure once
    /// every connection has gone, which is how leaks show.
    pub tasks: usize,
}

impl Server {
    pub(crate) fn from_parts(hub: Arc<Hub>, endpoints: Vec<Arc<dyn Endpoint>>) -> Server {
        let origins = OriginPolicy::new(&hub.config.http.allowed_origins);
        let endpoints = endpoints
            .into_iter()
            .map(|e| (namespace_path(&hub.config, e.namespace().name()), e))
            .collect();
        Server {
            inner: Arc::new(Inner {
                hub,
                endpoints,
                origins,
            }),
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> &ServerConfig {
        &self.inner.hub.config
    }

    /// The namespaces served, with their WebSocket paths.
    pub fn namespaces(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.inner
            .endpoints
            .iter()
            .map(|(path, e)| (e.namespace().name(), path.as_str()))
    }

    /// Every room of `namespace` that exists (static, or with members on
    /// any node), sorted by name, with its cluster-wide member count;
    /// `None` when no such namespace is served.
    pub async fn rooms(&self, namespace: &str) -> Option<Vec<(String, usize)>> {
        crate::ServerView::new(&self.inner.hub)
            .rooms(namespace)
            .await
    }

    /// A handle that pushes into `namespace` (to rooms, connections and
    /// users, on every node); `None` when no such namespace is served. Use
    /// it through the generated module's `Push::new(&server)`.
    pub fn push(&self, namespace: &str) -> Option<crate::Push> {
        self.inner
            .endpoints
            .iter()
            .find(|(_, e)| e.namespace().name() == namespace)
            .map(|(_, e)| {
                let ns = e.namespace();
                crate::Push::new(std::sync::Arc::clone(&ns.rooms), ns.name())
            })
    }

    /// Checks `payload` against the schema of `event` in `namespace` with
    /// the validator the server checks clients' messages with, so that
    /// another route (a REST endpoint, say) accepts exactly what a
    /// WebSocket client may send and reports every violation the same way.
    ///
    /// ```no_run
    /// # fn check(server: &socketspec_runtime::Server) {
    /// use socketspec_runtime::PayloadError;
    /// let body = serde_json::json!({"room": "general", "text": ""});
    /// match server.validate_payload("/", "send_message", &body) {
    ///     Ok(()) => {}
    ///     Err(PayloadError::Invalid { violations, .. }) => {
    ///         for v in violations {
    ///             println!("{}: {}", v.path, v.message);
    ///         }
    ///     }
    ///     Err(other) => println!("{other}"),
    /// }
    /// # }
    /// ```
    pub fn validate_payload(
        &self,
        namespace: &str,
        event: &str,
        payload: &serde_json::Value,
    ) -> Result<(), PayloadError> {
        let unknown = || PayloadError::UnknownEvent {
            namespace: namespace.to_owned(),
            event: event.to_owned(),
        };
        let (_, endpoint) = self
            .inner
            .endpoints
            .iter()
            .find(|(_, e)| e.namespace().name() == namespace)
            .ok_or_else(unknown)?;
        let ns = endpoint.namespace();
        let index = ns.events.get(event).ok_or_else(unknown)?;
        ns.validators.check(index, payload).map_err(Into::into)
    }

    /// A handle that starts the graceful shutdown from anywhere.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle {
            hub: Arc::clone(&self.inner.hub),
        }
    }

    /// Current figures.
    pub fn health(&self) -> Health {
        let hub = &self.inner.hub;
        let backend_healthy = hub.backend_healthy();
        let status = if hub.is_shutting_down() {
            HealthStatus::ShuttingDown
        } else if backend_healthy {
            HealthStatus::Ok
        } else {
            HealthStatus::Degraded
        };
        Health {
            status,
            backend: hub.backend_name(),
            backend_healthy,
            connections: hub.connection_count(),
            rooms: hub.room_count(),
            tasks: tokio::runtime::Handle::try_current()
                .map_or(0, |h| h.metrics().num_alive_tasks()),
        }
    }

    /// Every metric in the Prometheus text format, as `/metrics` serves it
    /// (see [`metrics`](crate::metrics) for the series).
    pub fn metrics(&self) -> String {
        let hub = &self.inner.hub;
        hub.metrics.render(hub.connection_count())
    }

    /// Connects the backend (a no-op for memory). [`serve`](Self::serve)
    /// does it; call it yourself before serving connections another way
    /// (an axum mount, [`serve_websocket`](Self::serve_websocket)).
    pub async fn start(&self) -> std::io::Result<()> {
        // The inbox holds the namespaces' rooms only: what the backend's
        // tasks keep alive is the rooms, not the apps.
        let rooms: Vec<_> = self
            .inner
            .endpoints
            .iter()
            .map(|(_, e)| Arc::clone(&e.namespace().rooms))
            .collect();
        let server = Arc::downgrade(&self.inner);
        let every_namespace = rooms.clone();
        let inbox = move || {
            Inbox::new(
                Arc::new(move |room: &str, except: Option<&str>, frame: Frame| {
                    for namespace in &rooms {
                        if namespace.deliver_remote(room, except, &frame) {
                            return;
                        }
                    }
                }),
                Arc::new(move |message: RelayMessage| {
                    if let Some(inner) = server.upgrade() {
                        Server { inner }.relayed(message);
                    }
                }),
                Arc::new(move || {
                    tracing::warn!(
                        "this node was out of the cluster: closing its connections so that their clients re-sync"
                    );
                    let request = CloseRequest::new(DisconnectReason::custom("missed_messages"))
                        .with_code(CloseCode::Other(1012));
                    for namespace in &every_namespace {
                        namespace.close_every_connection(&request);
                    }
                }),
            )
        };
        self.inner
            .hub
            .start_backend(inbox)
            .await
            .map_err(|e| std::io::Error::other(e.to_string()))
    }

    /// Accepts connections on `listener` until `signal` resolves (or a
    /// [`ShutdownHandle`] fires), then shuts down gracefully: no new
    /// connections, `__server_shutdown__` to every client, in-flight handlers
    /// finish within `shutdown_grace`, every connection closes with 1001.
    pub async fn serve(
        self,
        listener: TcpListener,
        signal: impl Future<Output = ()>,
    ) -> std::io::Result<()> {
        self.start().await?;
        if let Ok(addr) = listener.local_addr() {
            let namespaces: Vec<&str> = self.namespaces().map(|(_, path)| path).collect();
            tracing::info!(%addr, ?namespaces, backend = self.inner.hub.backend_name(), "serving");
        }
        let mut stop = self.inner.hub.shutdown.subscribe();
        tokio::pin!(signal);
        loop {
            tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((tcp, _)) => self.spawn_http(tcp),
                    // Out of file descriptors and the like: back off, keep serving.
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                },
                () = &mut signal => break,
                () = shutdown_requested(&mut stop) => break,
            }
        }
        drop(listener);
        self.shutdown().await;
        Ok(())
    }

    /// Shuts down gracefully and resolves once every connection has closed
    /// (with 1001, after its hooks ran) or the grace ran out: what a server
    /// mounted in another HTTP stack awaits before its process exits.
    pub async fn shutdown(&self) {
        let hub = &self.inner.hub;
        tracing::info!(connections = hub.connection_count(), "shutting down");
        hub.start_shutdown();
        hub.wait_drained().await;
        hub.stop_backend().await;
        tracing::info!("shut down");
    }

    fn spawn_http(&self, tcp: tokio::net::TcpStream) {
        let _ = tcp.set_nodelay(true);
        let server = self.clone();
        let handshake_timeout = self.inner.hub.config.http.handshake_timeout;
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let server = server.clone();
                async move { Ok::<_, Infallible>(server.handle(req).await) }
            });
            let mut http = hyper::server::conn::http1::Builder::new();
            http.timer(TokioTimer::new())
                .header_read_timeout(handshake_timeout)
                .keep_alive(true);
            let _ = http
                .serve_connection(TokioIo::new(tcp), service)
                .with_upgrades()
                .await;
        });
    }

    /// Answers one HTTP request: a WebSocket upgrade on a namespace's path,
    /// `/socket-health`, `/metrics`, the docs routes, or 404. Any HTTP stack
    /// built on `http` types can hand requests here (the upgrade needs
    /// hyper's upgrade extension, which axum keeps).
    pub async fn handle<B>(&self, req: Request<B>) -> Response<Body> {
        let path = req.uri().path();
        if let Some(endpoint) = self.endpoint_at(path) {
            return upgrade::upgrade(&self.inner.hub, &self.inner.origins, &endpoint, req).await;
        }
        let http = &self.inner.hub.config.http;
        if (path == "/socket-health" || path == "/metrics")
            && let Some(expected) = &http.ops_access_token
            && let Err(refused) = require_token(&req, expected, "an ops access token is required")
        {
            return *refused;
        }
        if path == "/socket-health" {
            return json_response(StatusCode::OK, &self.health());
        }
        if path == "/metrics" {
            let mut response = Response::new(Full::new(Bytes::from(self.metrics())));
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(metrics::CONTENT_TYPE),
            );
            return response;
        }
        if http.docs
            && let Some(rest) = path.strip_prefix(http.docs_url.as_str())
            && (rest.is_empty() || rest.starts_with('/'))
        {
            let rest = rest.to_owned();
            return docs::serve(http, &self.metas(), &req, &rest);
        }
        text_response(StatusCode::NOT_FOUND, "not found")
    }

    /// The namespace served at `path`.
    fn endpoint_at(&self, path: &str) -> Option<Arc<dyn Endpoint>> {
        self.inner
            .endpoints
            .iter()
            .find(|(p, _)| p == path)
            .map(|(_, e)| Arc::clone(e))
    }

    /// A relay message from another node: a connection to serve here for
    /// it (a resume of a session this node holds), or a frame of one.
    fn relayed(self, message: RelayMessage) {
        let hub = Arc::clone(&self.inner.hub);
        let Some(adapter) = hub.adapter.clone() else {
            return;
        };
        if !matches!(message.body, RelayBody::Open { .. }) {
            hub.relays.dispatch(message);
            return;
        }
        let serve: ServeFn = Box::new(move |namespace, stream, handshake| {
            Box::pin(async move {
                if let Err(refusal) = self.serve_websocket(&namespace, stream, handshake).await {
                    tracing::debug!(%refusal, "a relayed connection was refused");
                }
            })
        });
        crate::relay::owner::open(&hub.relays, &adapter, message, serve);
    }

    fn metas(&self) -> Vec<&'static AppMeta> {
        self.inner
            .endpoints
            .iter()
            .map(|(_, e)| e.namespace().meta)
            .collect()
    }

    /// Serves one already-upgraded WebSocket of `namespace` over any byte
    /// stream, after the same checks as an upgrade on the built-in front
    /// (origin, shutdown, connection cap, authentication of `handshake`):
    /// how the in-process test client and custom HTTP stacks (a TLS
    /// acceptor, say) hand connections to socketspec. Resolves when the
    /// connection ends; an `Err` says why it was never admitted.
    pub async fn serve_websocket<S>(
        &self,
        namespace: &str,
        stream: S,
        handshake: HandshakeRequest,
    ) -> Result<(), Refusal>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let endpoint = self
            .inner
            .endpoints
            .iter()
            .find(|(_, e)| e.namespace().name() == namespace)
            .map(|(_, e)| Arc::clone(e))
            .ok_or(Refusal::UnknownNamespace)?;
        if let Err(e) = self.start().await {
            tracing::error!(error = %e, "the backend did not start");
            return Err(Refusal::ShuttingDown);
        }
        let (hub, slot, admission) =
            upgrade::admit(&self.inner.hub, &self.inner.origins, handshake).await?;
        endpoint
            .serve_stream(hub, Box::new(stream), admission)
            .await;
        drop(slot);
        Ok(())
    }
}

/// Resolves once a shutdown was requested. A function of its own so that the
/// `watch::Ref` it reads is dropped inside it: `serve` stays `Send`.
async fn shutdown_requested(stop: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}
