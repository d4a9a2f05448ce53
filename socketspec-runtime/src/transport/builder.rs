//! [`ServerBuilder`]: the specs a server serves, its configuration,
//! authentication, backend and middleware.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use super::endpoint::{Endpoint, Mount};
use super::server::Server;
use crate::auth::{AuthBackend, DynAuth};
use crate::backend::Backend;
use crate::config::{HttpConfig, Limits, RateLimit, ServerConfig, SessionConfig};
use crate::dispatch::App;
use crate::dispatch::middleware::{Chain, DynMiddleware, Middleware};
use crate::hub::{BuildError, Hub};

/// Makes a namespace's endpoint once the shared state exists.
type MountFn = Box<dyn FnOnce(&Arc<Hub>, Chain) -> Result<Arc<dyn Endpoint>, BuildError> + Send>;

/// Builds a [`Server`].
///
/// ```no_run
/// # use socketspec_runtime::{App, Server};
/// # fn build<A: App, B: App>(chat: A, ops: B) -> Result<Server, socketspec_runtime::BuildError> {
/// use std::time::Duration;
/// use socketspec_runtime::auth::JwtAuth;
/// use socketspec_runtime::config::{Limits, SessionConfig};
///
/// let server = Server::builder(chat)         // namespace `/`, at /ws
///     .namespace(ops)                        // its spec's namespace, e.g. `/ops` at /ws/ops
///     .auth(JwtAuth::hs256(b"secret"))
///     .limits(Limits::default().max_payload_size(16 * 1024))
///     .session(SessionConfig::default().idle_timeout(Duration::from_secs(60)))
///     .build()?;
/// # Ok(server) }
/// ```
pub struct ServerBuilder {
    config: ServerConfig,
    auth: Option<Arc<dyn DynAuth>>,
    backend: Backend,
    middleware: Vec<Arc<dyn DynMiddleware>>,
    mounts: Vec<MountFn>,
}

impl Server {
    /// Starts building a server for `app` (the generated `Service`), served
    /// at its spec's namespace.
    pub fn builder(app: impl App) -> ServerBuilder {
        ServerBuilder {
            config: ServerConfig::default(),
            auth: None,
            backend: Backend::default(),
            middleware: Vec::new(),
            mounts: Vec::new(),
        }
        .namespace(app)
    }
}

impl ServerBuilder {
    /// Also serves `app` at its spec's namespace (`/ops` is served at the
    /// WebSocket path plus `/ops`). Events and rooms belong to one
    /// namespace; the configuration, authentication, backend and middleware
    /// apply to all.
    pub fn namespace(mut self, app: impl App) -> Self {
        self.mounts.push(Box::new(move |hub, chain| {
            Ok(Arc::new(Mount::new(app, hub, chain)?) as Arc<dyn Endpoint>)
        }));
        self
    }

    /// Sets the whole configuration.
    pub fn config(mut self, config: ServerConfig) -> Self {
        self.config = config;
        self
    }

    /// Sets the HTTP configuration (paths, docs, origins).
    pub fn http(mut self, http: HttpConfig) -> Self {
        self.config.http = http;
        self
    }

    /// Sets the limits.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.config.limits = limits;
        self
    }

    /// Sets the heartbeat and time limits.
    pub fn session(mut self, session: SessionConfig) -> Self {
        self.config.session = session;
        self
    }

    /// Limits every connection to `limit`.
    pub fn rate_limit(mut self, limit: RateLimit) -> Self {
        self.config.rate_limit = Some(limit);
        self
    }

    /// Adds a room that exists from start-up even when empty (in every namespace).
    pub fn static_room(mut self, room: impl Into<String>) -> Self {
        self.config.static_rooms.push(room.into());
        self
    }

    /// Sets how long in-flight handlers may run once a graceful shutdown starts.
    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.config.shutdown_grace = grace;
        self
    }

    /// Authenticates every connection at the upgrade (combine several
    /// methods with [`AnyOf`](crate::auth::AnyOf)). Without it, everyone is
    /// admitted.
    pub fn auth(mut self, auth: impl AuthBackend) -> Self {
        self.auth = Some(Arc::new(auth));
        self
    }

    /// Sets where rooms and broadcasts live (memory by default).
    pub fn backend(mut self, backend: Backend) -> Self {
        self.backend = backend;
        self
    }

    /// Adds a middleware around every handler; the first added runs outermost.
    pub fn middleware(mut self, middleware: impl Middleware) -> Self {
        self.middleware.push(Arc::new(middleware));
        self
    }

    /// Builds the server, compiling every payload schema once.
    pub fn build(self) -> Result<Server, BuildError> {
        let hub = Arc::new(Hub::new(self.config, self.auth, &self.backend)?);
        let chain: Chain = self.middleware.into();
        let mut seen = HashSet::new();
        let mut endpoints = Vec::with_capacity(self.mounts.len());
        for mount in self.mounts {
            let endpoint = mount(&hub, Arc::clone(&chain))?;
            let name = endpoint.namespace().name();
            if !seen.insert(name) {
                return Err(BuildError::DuplicateNamespace(name.to_owned()));
            }
            endpoints.push(endpoint);
        }
        hub.set_namespaces(
            endpoints
                .iter()
                .map(|e| Arc::clone(&e.namespace().rooms))
                .collect(),
        );
        Ok(Server::from_parts(hub, endpoints))
    }
}
