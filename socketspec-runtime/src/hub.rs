//! [`Hub`]: what every connection of one server shares, whatever its
//! namespace: the configuration, the authentication, the backend, the
//! metrics, the connection count and the shutdown signal.
//!
//! It holds no connection and no namespace: rooms belong to namespaces
//! (`rooms::Rooms`), connections to their loops.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use std::sync::OnceLock;

use tokio::sync::{Notify, OnceCell, watch};

use crate::auth::DynAuth;
use crate::backend::{Backend, BackendError, DynBackend, Inbox};
use crate::config::ServerConfig;
use crate::dispatch::validate::SchemaError;
use crate::metrics::{Metrics, MetricsError};
use crate::relay::Relays;
use crate::rooms::{InvalidPattern, RoomBudget, Rooms};
use crate::sessions::Sessions;

/// Why a server could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// A payload schema does not compile.
    #[error(transparent)]
    Schema(#[from] SchemaError),
    /// A room pattern does not parse.
    #[error(transparent)]
    RoomPattern(#[from] InvalidPattern),
    /// The backend's configuration is invalid (e.g. a malformed Redis URL).
    #[error(transparent)]
    Backend(#[from] BackendError),
    /// The metrics registry could not be built.
    #[error(transparent)]
    Metrics(#[from] MetricsError),
    /// Two specs claim the same namespace.
    #[error("two specs are served at namespace `{0}`: give each its own `namespace`")]
    DuplicateNamespace(String),
    /// A spec's namespace is not `/` or `/name`.
    #[error(
        "namespace `{0}` cannot be served: a namespace is `/` or `/` followed by letters, digits, `_`, `-` or `.`, e.g. `/ops`"
    )]
    InvalidNamespace(String),
    /// The docs page is on, but a spec embeds no document to serve.
    #[error(
        "the docs page is on (`HttpConfig::docs`), but the spec of namespace `{0}` embeds no docs page, spec or AsyncAPI document: generate its module with `socketspec_codegen::Builder::new().embed_documents(true)` in build.rs, or turn the docs off"
    )]
    NoDocuments(String),
}

/// The state every connection of a server shares.
pub(crate) struct Hub {
    pub(crate) config: ServerConfig,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) auth: Option<Arc<dyn DynAuth>>,
    backend_name: &'static str,
    pub(crate) adapter: Option<Arc<dyn DynBackend>>,
    started: OnceCell<Result<(), BackendError>>,
    connections: AtomicUsize,
    /// `max_connections` as the open-files limit allows it.
    connection_cap: usize,
    /// Woken each time a connection ends (what a shutdown waits on).
    drained: Notify,
    /// Flips to `true` when a graceful shutdown starts.
    pub(crate) shutdown: watch::Sender<bool>,
    /// Every namespace's rooms, set once the server is built (what
    /// `ServerView` reads: the figures of every namespace).
    namespaces: OnceLock<Vec<Arc<Rooms>>>,
    /// The server-wide room cap (`Limits::max_rooms`), shared by every
    /// namespace's rooms.
    pub(crate) room_budget: Arc<RoomBudget>,
    /// With resumption on: the resumable connections, open or detached.
    pub(crate) sessions: Sessions,
    /// Connections relayed between this node and another (resumption
    /// across nodes).
    pub(crate) relays: Arc<Relays>,
}

impl Hub {
    pub(crate) fn new(
        config: ServerConfig,
        auth: Option<Arc<dyn DynAuth>>,
        backend: &Backend,
    ) -> Result<Self, BuildError> {
        Ok(Hub {
            room_budget: Arc::new(RoomBudget::new(config.limits.max_rooms)),
            connection_cap: config.limits.connection_cap(),
            config,
            metrics: Arc::new(Metrics::new()?),
            auth,
            backend_name: backend.name(),
            adapter: backend.adapter()?,
            started: OnceCell::new(),
            connections: AtomicUsize::new(0),
            drained: Notify::new(),
            shutdown: watch::Sender::new(false),
            namespaces: OnceLock::new(),
            sessions: Sessions::default(),
            relays: Arc::new(Relays::default()),
        })
    }

    /// Records every namespace's rooms (once, as the server is built).
    pub(crate) fn set_namespaces(&self, rooms: Vec<Arc<Rooms>>) {
        let _ = self.namespaces.set(rooms);
    }

    /// The rooms of `namespace`.
    pub(crate) fn rooms_of(&self, namespace: &str) -> Option<&Arc<Rooms>> {
        self.namespaces
            .get()?
            .iter()
            .find(|r| r.namespace() == namespace)
    }

    /// Non-empty rooms on this node, over every namespace.
    pub(crate) fn room_count(&self) -> usize {
        self.namespaces
            .get()
            .map_or(0, |all| all.iter().map(|r| r.room_count()).sum())
    }

    /// The backend's name.
    pub(crate) fn backend_name(&self) -> &'static str {
        self.backend_name
    }

    /// Starts the backend once (connections, subscription, liveness);
    /// broadcasts from other nodes go to the inbox `inbox` makes.
    pub(crate) async fn start_backend(
        &self,
        inbox: impl FnOnce() -> Inbox,
    ) -> Result<(), BackendError> {
        let Some(adapter) = &self.adapter else {
            return Ok(());
        };
        self.started
            .get_or_init(|| async { adapter.start(inbox()).await })
            .await
            .clone()
    }

    /// Whether the backend reaches its store (always true for memory).
    pub(crate) fn backend_healthy(&self) -> bool {
        self.adapter.as_ref().is_none_or(|a| a.healthy())
    }

    /// This node's id in the cluster, when the backend can relay
    /// connections between nodes.
    pub(crate) fn node_id(&self) -> Option<&str> {
        self.adapter.as_ref().and_then(|a| a.node_id())
    }

    /// Removes this node's memberships from the backend.
    pub(crate) async fn stop_backend(&self) {
        if let Some(adapter) = &self.adapter {
            adapter.shutdown().await;
        }
    }

    /// Open connections.
    pub(crate) fn connection_count(&self) -> usize {
        self.connections.load(Ordering::Relaxed)
    }

    /// Whether a graceful shutdown has started.
    pub(crate) fn is_shutting_down(&self) -> bool {
        *self.shutdown.borrow()
    }

    /// Starts the graceful shutdown (idempotent).
    pub(crate) fn start_shutdown(&self) {
        self.shutdown.send_replace(true);
    }

    /// Counts a new connection, unless the cap is reached.
    pub(crate) fn reserve_slot(self: &Arc<Self>) -> Option<ConnectionSlot> {
        let max = self.connection_cap;
        self.connections
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .ok()?;
        Some(ConnectionSlot {
            hub: Arc::clone(self),
        })
    }

    /// Waits until every connection has ended, for at most the shutdown
    /// grace plus the time the last closes may take.
    pub(crate) async fn wait_drained(&self) {
        let limit = self.config.shutdown_grace + Duration::from_secs(5);
        let _ = tokio::time::timeout(limit, async {
            loop {
                let notified = self.drained.notified();
                if self.connection_count() == 0 {
                    return;
                }
                notified.await;
            }
        })
        .await;
    }
}

/// What a handler may read of the whole server: open connections and rooms
/// of every namespace on this node, and the rooms of any namespace across
/// the cluster. From [`EventContext::server`](crate::EventContext::server).
#[derive(Clone, Copy)]
pub struct ServerView<'a> {
    hub: &'a Hub,
}

impl<'a> ServerView<'a> {
    pub(crate) fn new(hub: &'a Hub) -> Self {
        ServerView { hub }
    }

    /// Open connections on this node, over every namespace.
    pub fn connections(&self) -> usize {
        self.hub.connection_count()
    }

    /// Non-empty rooms on this node, over every namespace.
    pub fn local_rooms(&self) -> usize {
        self.hub.room_count()
    }

    /// Every room of `namespace` that exists (static, or with members on
    /// any node), sorted by name, with its cluster-wide member count;
    /// `None` when the server serves no such namespace.
    pub async fn rooms(&self, namespace: &str) -> Option<Vec<(String, usize)>> {
        Some(self.hub.rooms_of(namespace)?.list().await)
    }

    /// Whether a graceful shutdown has started.
    pub fn is_shutting_down(&self) -> bool {
        self.hub.is_shutting_down()
    }
}

impl std::fmt::Debug for ServerView<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerView")
            .field("connections", &self.connections())
            .finish_non_exhaustive()
    }
}

/// A counted connection; dropping it frees the slot and wakes a shutdown
/// waiting for the last connection.
pub(crate) struct ConnectionSlot {
    hub: Arc<Hub>,
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        self.hub.connections.fetch_sub(1, Ordering::AcqRel);
        self.hub.drained.notify_waiters();
    }
}
