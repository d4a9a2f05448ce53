//! The HTTP front: accepts TCP connections, upgrades requests on the
//! WebSocket path (after the origin check, the connection cap and
//! authentication), serves the health and docs routes, and runs the graceful
//! shutdown.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};

use crate::app::App;
use crate::auth::HandshakeRequest;
use crate::backend::BackendError;
use crate::config::SocketConfig;
use crate::docs;
use crate::metrics::{self, MetricsError};
use crate::middleware::Middleware;
use crate::origin::OriginPolicy;
use crate::shared::Shared;
use crate::socket_loop::{self, Admission};
use crate::validate::SchemaError;

/// Why a server could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// A payload schema does not compile.
    #[error(transparent)]
    Schema(#[from] SchemaError),
    /// The backend's configuration is invalid (e.g. a malformed Redis URL).
    #[error(transparent)]
    Backend(#[from] BackendError),
    /// The metrics registry could not be built.
    #[error(transparent)]
    Metrics(#[from] MetricsError),
    /// `docs` is on but the app embeds no document to serve.
    #[error(
        "`docs` is on but the app embeds no docs page, spec or AsyncAPI document: \
         generate its module with `socketspec_codegen::Builder::new().embed_documents(true)` \
         in build.rs, or turn `docs` off"
    )]
    NoDocuments,
}

/// A socketspec server for the app `A` (the generated `Service<H>`).
///
/// ```no_run
/// # use socketspec_runtime::{App, Server, SocketConfig};
/// # async fn run<A: App>(app: A) -> Result<(), Box<dyn std::error::Error>> {
/// let server = Server::builder(app).config(SocketConfig::default()).build()?;
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
/// server.serve(listener, async { let _ = tokio::signal::ctrl_c().await; }).await?;
/// # Ok(()) }
/// ```
pub struct Server<A: App> {
    app: Arc<A>,
    shared: Arc<Shared>,
    origins: OriginPolicy,
    drained: Arc<Notify>,
}

impl<A: App> Clone for Server<A> {
    fn clone(&self) -> Self {
        Server {
            app: Arc::clone(&self.app),
            shared: Arc::clone(&self.shared),
            origins: self.origins.clone(),
            drained: Arc::clone(&self.drained),
        }
    }
}

/// Builds a [`Server`].
pub struct ServerBuilder<A: App> {
    app: A,
    config: SocketConfig,
    middleware: Vec<Arc<dyn Middleware>>,
}

impl<A: App> ServerBuilder<A> {
    /// Sets the configuration.
    pub fn config(mut self, config: SocketConfig) -> Self {
        self.config = config;
        self
    }

    /// Adds a middleware; the first added runs outermost.
    pub fn middleware(mut self, middleware: impl Middleware) -> Self {
        self.middleware.push(Arc::new(middleware));
        self
    }

    /// Builds the server, compiling every payload schema once.
    pub fn build(self) -> Result<Server<A>, BuildError> {
        let app = Arc::new(self.app);
        let meta = app.meta();
        if self.config.docs && !meta.has_documents() {
            return Err(BuildError::NoDocuments);
        }
        let origins = OriginPolicy::new(&self.config.allowed_origins);
        let hooks: Arc<dyn crate::app::Hooks> = Arc::clone(&app) as _;
        let shared = Shared::new(self.config, meta, hooks, self.middleware)?;
        Ok(Server {
            app,
            shared: Arc::new(shared),
            origins,
            drained: Arc::new(Notify::new()),
        })
    }
}

/// Asks a running server to shut down gracefully.
#[derive(Clone)]
pub struct ShutdownHandle {
    shared: Arc<Shared>,
}

impl ShutdownHandle {
    /// Starts the graceful shutdown (idempotent).
    pub fn shutdown(&self) {
        self.shared.shutdown.send_replace(true);
    }
}

/// Live figures of a server, as `/socket-health` reports them.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Health {
    /// `"ok"`, or `"shutting_down"`.
    pub status: &'static str,
    /// The backend's name.
    pub backend: &'static str,
    /// Whether the backend reaches its store (always true for memory).
    pub backend_healthy: bool,
    /// Open WebSocket connections.
    pub connections: usize,
    /// Non-empty rooms on this node.
    pub rooms: usize,
    /// Tasks alive in the tokio runtime serving it (all of the runtime's
    /// tasks, this server's and any other): back to its idle figure once
    /// every connection has gone, which is how leaks show.
    pub tasks: usize,
}

impl<A: App> Server<A> {
    /// Starts building a server for `app`.
    pub fn builder(app: A) -> ServerBuilder<A> {
        ServerBuilder {
            app,
            config: SocketConfig::default(),
            middleware: Vec::new(),
        }
    }

    /// A server for `app` with `config` and no middleware.
    pub fn new(app: A, config: SocketConfig) -> Result<Self, BuildError> {
        Server::builder(app).config(config).build()
    }

    /// The configuration in force.
    pub fn config(&self) -> &SocketConfig {
        &self.shared.config
    }

    /// A handle that starts the graceful shutdown from anywhere.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle {
            shared: Arc::clone(&self.shared),
        }
    }

    /// Current figures.
    pub fn health(&self) -> Health {
        Health {
            status: if *self.shared.shutdown.borrow() {
                "shutting_down"
            } else {
                "ok"
            },
            backend: self.shared.config.backend.name(),
            backend_healthy: self.shared.backend_healthy(),
            connections: self.shared.connection_count(),
            rooms: self.shared.local.room_count(),
            tasks: tokio::runtime::Handle::try_current()
                .map_or(0, |h| h.metrics().num_alive_tasks()),
        }
    }

    /// Every metric in the Prometheus text format, as `/metrics` serves it
    /// (see [`metrics`](crate::metrics) for the series).
    pub fn metrics(&self) -> String {
        self.shared.metrics.render(self.shared.connection_count())
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
        self.shared
            .start_backend()
            .await
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let mut stop = self.shared.shutdown.subscribe();
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
        self.shutdown_handle().shutdown();
        self.wait_drained().await;
        self.shared.stop_backend().await;
        Ok(())
    }

    async fn wait_drained(&self) {
        let limit = self.shared.config.shutdown_grace + Duration::from_secs(5);
        let _ = tokio::time::timeout(limit, async {
            loop {
                let notified = self.drained.notified();
                if self.shared.connection_count() == 0 {
                    return;
                }
                notified.await;
            }
        })
        .await;
    }

    fn spawn_http(&self, tcp: tokio::net::TcpStream) {
        let _ = tcp.set_nodelay(true);
        let server = self.clone();
        let handshake_timeout = self.shared.config.handshake_timeout;
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let server = server.clone();
                async move { Ok::<_, Infallible>(server.route(req).await) }
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

    async fn route(&self, req: Request<Incoming>) -> Response<Full<Bytes>> {
        let path = req.uri().path().to_owned();
        let config = &self.shared.config;
        if path == config.ws_path {
            return self.upgrade(req).await;
        }
        if path == "/socket-health" {
            return json_response(StatusCode::OK, &self.health());
        }
        if path == "/metrics" {
            let mut response = text_response(StatusCode::OK, "");
            *response.body_mut() = Full::new(Bytes::from(self.metrics()));
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(metrics::CONTENT_TYPE),
            );
            return response;
        }
        if config.docs
            && (path == config.docs_url || path.starts_with(&format!("{}/", config.docs_url)))
        {
            return docs::serve(&self.shared, &req, &path);
        }
        text_response(StatusCode::NOT_FOUND, "not found")
    }

    async fn upgrade(&self, req: Request<Incoming>) -> Response<Full<Bytes>> {
        let headers = req.headers();
        let is_upgrade = req.method() == Method::GET
            && header_has(headers, header::CONNECTION, "upgrade")
            && header_has(headers, header::UPGRADE, "websocket");
        let Some(key) = headers
            .get(header::SEC_WEBSOCKET_KEY)
            .filter(|_| is_upgrade)
        else {
            return text_response(
                StatusCode::BAD_REQUEST,
                "expected a WebSocket upgrade request",
            );
        };
        if headers
            .get(header::SEC_WEBSOCKET_VERSION)
            .map(HeaderValue::as_bytes)
            != Some(b"13")
        {
            return text_response(
                StatusCode::BAD_REQUEST,
                "unsupported Sec-WebSocket-Version (13 expected)",
            );
        }
        let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
        if !self.origins.allows(origin) {
            return text_response(StatusCode::FORBIDDEN, "origin not allowed");
        }
        if *self.shared.shutdown.borrow() {
            return text_response(StatusCode::SERVICE_UNAVAILABLE, "server is shutting down");
        }
        let Some(slot) = ConnectionSlot::reserve(&self.shared, &self.drained) else {
            return text_response(StatusCode::SERVICE_UNAVAILABLE, "too many connections");
        };
        let accept = derive_accept_key(key.as_bytes());
        let handshake = HandshakeRequest {
            headers: owned_headers(headers),
            query: parse_query(req.uri().query()),
        };
        let identity = match &self.shared.config.auth {
            None => Ok(None),
            Some(auth) => auth.authenticate(&handshake).await.map(Some),
        };
        let admission = Admission {
            handshake,
            identity,
        };
        let server = self.clone();
        tokio::spawn(async move {
            match hyper::upgrade::on(req).await {
                Ok(upgraded) => {
                    let ws = WebSocketStream::from_raw_socket(
                        TokioIo::new(upgraded),
                        Role::Server,
                        Some(ws_config(&server.shared.config)),
                    )
                    .await;
                    server.run_socket(ws, admission).await;
                }
                Err(e) => tracing::debug!(error = %e, "upgrade failed"),
            }
            drop(slot);
        });
        let mut response = Response::new(Full::new(Bytes::new()));
        *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        let h = response.headers_mut();
        h.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
        h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        if let Ok(value) = HeaderValue::from_str(&accept) {
            h.insert(header::SEC_WEBSOCKET_ACCEPT, value);
        }
        response
    }

    async fn run_socket<S>(&self, ws: WebSocketStream<S>, admission: Admission)
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        socket_loop::serve(
            Arc::clone(&self.app),
            Arc::clone(&self.shared),
            ws,
            admission,
        )
        .await;
    }

    /// Serves one already-upgraded WebSocket over any byte stream, after
    /// authenticating `handshake`: how the in-process test client and custom
    /// HTTP stacks (axum, a TLS acceptor) hand connections to socketspec.
    pub async fn serve_websocket<S>(&self, stream: S, handshake: HandshakeRequest)
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        if let Err(e) = self.shared.start_backend().await {
            tracing::error!(error = %e, "the backend did not start");
            return;
        }
        let Some(slot) = ConnectionSlot::reserve(&self.shared, &self.drained) else {
            return;
        };
        let identity = match &self.shared.config.auth {
            None => Ok(None),
            Some(auth) => auth.authenticate(&handshake).await.map(Some),
        };
        let ws = WebSocketStream::from_raw_socket(
            stream,
            Role::Server,
            Some(ws_config(&self.shared.config)),
        )
        .await;
        self.run_socket(
            ws,
            Admission {
                handshake,
                identity,
            },
        )
        .await;
        drop(slot);
    }
}

/// Resolves once a shutdown was requested. A function of its own so that the
/// `watch::Ref` it reads is dropped inside it: `serve` stays `Send`.
async fn shutdown_requested(stop: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// The WebSocket layer's limits: small buffers by default, and a hard cap
/// far above `max_payload_size` past which a frame is refused (close 1009)
/// before it is buffered whole.
pub(crate) fn ws_config(config: &SocketConfig) -> WebSocketConfig {
    let hard_limit = config.max_payload_size.saturating_mul(4).max(64 * 1024);
    WebSocketConfig::default()
        .read_buffer_size(config.read_buffer_size.max(256))
        .write_buffer_size(config.write_buffer_size)
        // No cap of its own: a cap refuses any single frame above it (a big
        // reply silently killed the connection). The outbound queue bounds
        // memory, and tokio-tungstenite flushes before it buffers more once
        // the socket would block.
        .max_write_buffer_size(usize::MAX)
        .max_message_size(Some(hard_limit))
        .max_frame_size(Some(hard_limit))
}

/// A counted connection; dropping it frees the slot and wakes a shutdown
/// waiting for the last connection.
struct ConnectionSlot {
    shared: Arc<Shared>,
    drained: Arc<Notify>,
}

impl ConnectionSlot {
    fn reserve(shared: &Arc<Shared>, drained: &Arc<Notify>) -> Option<Self> {
        let max = shared.config.max_connections;
        shared
            .connections
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .ok()?;
        Some(ConnectionSlot {
            shared: Arc::clone(shared),
            drained: Arc::clone(drained),
        })
    }
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        self.shared.connections.fetch_sub(1, Ordering::AcqRel);
        self.drained.notify_waiters();
    }
}

/// A copy of `headers` that owns its bytes. A plain clone shares (and so
/// keeps alive, for the connection's whole life) hyper's read buffer of the
/// upgrade request: about 8 KiB per idle connection.
fn owned_headers(headers: &http::HeaderMap) -> http::HeaderMap {
    let mut owned = http::HeaderMap::with_capacity(headers.len());
    for (name, value) in headers {
        let name = header::HeaderName::from_bytes(name.as_str().as_bytes());
        let value = HeaderValue::from_bytes(value.as_bytes());
        if let (Ok(name), Ok(value)) = (name, value) {
            owned.append(name, value);
        }
    }
    owned
}

fn header_has(headers: &http::HeaderMap, name: header::HeaderName, token: &str) -> bool {
    headers.get_all(name).iter().any(|v| {
        v.to_str()
            .map(|s| s.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
            .unwrap_or(false)
    })
}

pub(crate) fn parse_query(query: Option<&str>) -> Vec<(String, String)> {
    query
        .map(|q| {
            form_urlencoded::parse(q.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        })
        .unwrap_or_default()
}

pub(crate) fn text_response(status: StatusCode, text: &str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(format!("{text}\n"))));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

pub(crate) fn json_response<T: serde::Serialize>(
    status: StatusCode,
    body: &T,
) -> Response<Full<Bytes>> {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut response = Response::new(Full::new(Bytes::from(bytes)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
