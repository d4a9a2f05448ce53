//! Where room membership and broadcasts live beyond this node.
//!
//! Every node keeps its own members in a local registry and delivers to them
//! itself. A [`Backend`] decides what spans nodes:
//! - [`Backend::memory`] (the default): everything in this process (one node);
//! - `Backend::redis` (feature `redis`): memberships, member counts and
//!   broadcasts span every node connected to the same Redis (see
//!   `docs/multi-node.md`);
//! - [`Backend::custom`]: any [`BackendAdapter`].

#[cfg(feature = "redis")]
mod redis;

use std::future::Future;
use std::sync::Arc;

#[cfg(feature = "redis")]
pub use self::redis::{RedisBackend, RedisConfig};
use crate::frame::Frame;
use crate::future::BoxFuture;

/// The backend a server uses for rooms and broadcasts.
#[derive(Clone, Default)]
pub struct Backend {
    kind: Kind,
}

#[derive(Clone, Default)]
enum Kind {
    #[default]
    Memory,
    #[cfg(feature = "redis")]
    Redis(RedisConfig),
    Custom(Arc<dyn DynBackend>),
}

impl std::fmt::Debug for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.kind {
            Kind::Memory => f.write_str("Memory"),
            #[cfg(feature = "redis")]
            Kind::Redis(config) => f.debug_tuple("Redis").field(config).finish(),
            Kind::Custom(adapter) => f.debug_tuple("Custom").field(&adapter.name()).finish(),
        }
    }
}

impl Backend {
    /// Everything in this process: a single node.
    pub fn memory() -> Self {
        Backend { kind: Kind::Memory }
    }

    /// Rooms and broadcasts span every node connected to the same Redis.
    #[cfg(feature = "redis")]
    pub fn redis(config: RedisConfig) -> Self {
        Backend {
            kind: Kind::Redis(config),
        }
    }

    /// A custom adapter.
    pub fn custom(adapter: impl BackendAdapter) -> Self {
        Backend {
            kind: Kind::Custom(Arc::new(adapter)),
        }
    }

    /// A short name for logs and the health endpoint.
    pub fn name(&self) -> &'static str {
        match &self.kind {
            Kind::Memory => "memory",
            #[cfg(feature = "redis")]
            Kind::Redis(_) => "redis",
            Kind::Custom(adapter) => adapter.name(),
        }
    }

    /// The adapter that spans nodes; `None` for the memory backend.
    pub(crate) fn adapter(&self) -> Result<Option<Arc<dyn DynBackend>>, BackendError> {
        Ok(match &self.kind {
            Kind::Memory => None,
            #[cfg(feature = "redis")]
            Kind::Redis(config) => Some(Arc::new(Arc::new(RedisBackend::new(config.clone())?))),
            Kind::Custom(adapter) => Some(Arc::clone(adapter)),
        })
    }
}

/// A backend failure (the distributed store is unreachable, say). Reported
/// to the code whose broadcast could not be published, never swallowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("backend unavailable: {0}")]
pub struct BackendError(pub String);

/// Delivers a frame to this node's members of a room, except one connection.
type DeliverFn = dyn Fn(&str, Option<&str>, Frame) + Send + Sync;

/// Handles a relay message another node sent this one.
type RelayFn = dyn Fn(RelayMessage) + Send + Sync;

/// Tells this node's connections that they may have missed broadcasts.
type GapFn = dyn Fn() + Send + Sync;

/// Delivers broadcasts that arrive from other nodes to this node's members,
/// and relay messages to the connections they concern.
#[derive(Clone)]
pub struct Inbox {
    deliver: Arc<DeliverFn>,
    relay: Arc<RelayFn>,
    gap: Arc<GapFn>,
}

impl Inbox {
    pub(crate) fn new(deliver: Arc<DeliverFn>, relay: Arc<RelayFn>, gap: Arc<GapFn>) -> Self {
        Inbox {
            deliver,
            relay,
            gap,
        }
    }

    /// Says that this node may have missed broadcasts (it was out of the
    /// cluster while others went on): its connections are closed with
    /// 1012 and `__disconnect__ {reason: "missed_messages"}`, and detached
    /// sessions end, so that every client comes back to a fresh session
    /// (`resumed: false`) and re-syncs.
    pub fn report_gap(&self) {
        (self.gap)();
    }

    /// Delivers `frame` to this node's members of `room`, except the
    /// connection `except`.
    pub fn deliver(&self, room: &str, except: Option<&str>, frame: Frame) {
        (self.deliver)(room, except, frame);
    }

    /// Hands a relay message from another node to the connection it
    /// concerns (see [`BackendAdapter::relay`]).
    pub fn relay(&self, message: RelayMessage) {
        (self.relay)(message);
    }
}

/// A message between two nodes about one relayed connection: a client
/// that resumes, on this node, a session another node holds. The node
/// holding the session runs it; the node holding the socket passes frames
/// both ways (see `docs/multi-node.md`, "Resumption across nodes").
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RelayMessage {
    /// The relayed connection's id (random, chosen by the node with the socket).
    pub relay: String,
    /// The node that sent it (where replies go).
    pub from_node: String,
    /// What it says.
    pub body: RelayBody,
}

impl RelayMessage {
    /// A message of relay `relay` from node `from_node`.
    pub fn new(relay: impl Into<String>, from_node: impl Into<String>, body: RelayBody) -> Self {
        RelayMessage {
            relay: relay.into(),
            from_node: from_node.into(),
            body,
        }
    }
}

/// What a [`RelayMessage`] says.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RelayBody {
    /// Serve a connection of `namespace` with this upgrade request (the
    /// node holding the session authenticates it again).
    Open {
        /// The namespace (`/`, `/ops`).
        namespace: String,
        /// The upgrade request's headers, as text.
        headers: Vec<(String, String)>,
        /// The upgrade request's query.
        query: Vec<(String, String)>,
    },
    /// One text frame, from the client or to it.
    Text(String),
    /// The connection ended: with a close frame's code and reason, or
    /// (`code: None`) lost without one.
    Close {
        /// The close code, if the side that ended sent one.
        code: Option<u16>,
        /// The close reason.
        reason: String,
    },
}

/// What a distributed backend does. The runtime keeps local membership
/// itself and calls the adapter to share it and to reach other nodes.
///
/// Room names reach the adapter already qualified by namespace: treat them
/// as opaque strings.
pub trait BackendAdapter: Send + Sync + 'static {
    /// A short name for logs and `/socket-health`.
    fn name(&self) -> &'static str;

    /// Starts the adapter (connections, subscriptions, liveness); broadcasts
    /// from other nodes go to `inbox`. Called once, before connections.
    fn start(&self, inbox: Inbox) -> impl Future<Output = Result<(), BackendError>> + Send;

    /// This node now has `local_members` members in `room`; returns the
    /// cluster-wide member count.
    fn set_local_members(
        &self,
        room: &str,
        local_members: usize,
    ) -> impl Future<Output = Result<usize, BackendError>> + Send;

    /// The cluster-wide member count of `room`.
    fn member_count(&self, room: &str) -> impl Future<Output = Result<usize, BackendError>> + Send;

    /// Sends `frame` to the members of `room` on every other node, except
    /// the connection `except`.
    fn publish(
        &self,
        room: &str,
        except: Option<&str>,
        frame: &Frame,
    ) -> impl Future<Output = Result<(), BackendError>> + Send;

    /// The rooms whose names start with `prefix` that have members on any
    /// node. The default knows none (a backend that cannot list rooms).
    fn rooms(
        &self,
        prefix: &str,
    ) -> impl Future<Output = Result<Vec<String>, BackendError>> + Send {
        let _ = prefix;
        async { Ok(Vec::new()) }
    }

    /// Whether the backend currently reaches its store.
    fn healthy(&self) -> bool;

    /// Removes this node's memberships; called at graceful shutdown.
    fn shutdown(&self) -> impl Future<Output = ()> + Send;

    /// This node's id, when the backend can relay connections between
    /// nodes (resumption across nodes). The default: it cannot.
    fn node_id(&self) -> Option<&str> {
        None
    }

    /// Whether node `node` is alive (it can take a relayed connection).
    fn node_alive(&self, node: &str) -> impl Future<Output = bool> + Send {
        let _ = node;
        async { false }
    }

    /// Sends `message` to node `to_node`, whose inbox gets it
    /// ([`Inbox::relay`]), in the order sent.
    fn relay(
        &self,
        to_node: &str,
        message: RelayMessage,
    ) -> impl Future<Output = Result<(), BackendError>> + Send {
        let _ = (to_node, message);
        async {
            Err(BackendError(
                "this backend cannot relay connections".to_owned(),
            ))
        }
    }
}

/// [`BackendAdapter`] with its futures boxed, so the runtime can hold any
/// adapter behind one pointer type.
pub(crate) trait DynBackend: Send + Sync + 'static {
    fn name(&self) -> &'static str;
    fn start(&self, inbox: Inbox) -> BoxFuture<'_, Result<(), BackendError>>;
    fn set_local_members<'a>(
        &'a self,
        room: &'a str,
        local_members: usize,
    ) -> BoxFuture<'a, Result<usize, BackendError>>;
    fn member_count<'a>(&'a self, room: &'a str) -> BoxFuture<'a, Result<usize, BackendError>>;
    fn publish<'a>(
        &'a self,
        room: &'a str,
        except: Option<&'a str>,
        frame: &'a Frame,
    ) -> BoxFuture<'a, Result<(), BackendError>>;
    fn rooms<'a>(&'a self, prefix: &'a str) -> BoxFuture<'a, Result<Vec<String>, BackendError>>;
    fn healthy(&self) -> bool;
    fn shutdown(&self) -> BoxFuture<'_, ()>;
    fn node_id(&self) -> Option<&str>;
    fn node_alive<'a>(&'a self, node: &'a str) -> BoxFuture<'a, bool>;
    fn relay<'a>(
        &'a self,
        to_node: &'a str,
        message: RelayMessage,
    ) -> BoxFuture<'a, Result<(), BackendError>>;
}

impl<T: BackendAdapter> DynBackend for T {
    fn name(&self) -> &'static str {
        BackendAdapter::name(self)
    }
    fn start(&self, inbox: Inbox) -> BoxFuture<'_, Result<(), BackendError>> {
        Box::pin(BackendAdapter::start(self, inbox))
    }
    fn set_local_members<'a>(
        &'a self,
        room: &'a str,
        local_members: usize,
    ) -> BoxFuture<'a, Result<usize, BackendError>> {
        Box::pin(BackendAdapter::set_local_members(self, room, local_members))
    }
    fn member_count<'a>(&'a self, room: &'a str) -> BoxFuture<'a, Result<usize, BackendError>> {
        Box::pin(BackendAdapter::member_count(self, room))
    }
    fn publish<'a>(
        &'a self,
        room: &'a str,
        except: Option<&'a str>,
        frame: &'a Frame,
    ) -> BoxFuture<'a, Result<(), BackendError>> {
        Box::pin(BackendAdapter::publish(self, room, except, frame))
    }
    fn rooms<'a>(&'a self, prefix: &'a str) -> BoxFuture<'a, Result<Vec<String>, BackendError>> {
        Box::pin(BackendAdapter::rooms(self, prefix))
    }
    fn healthy(&self) -> bool {
        BackendAdapter::healthy(self)
    }
    fn shutdown(&self) -> BoxFuture<'_, ()> {
        Box::pin(BackendAdapter::shutdown(self))
    }
    fn node_id(&self) -> Option<&str> {
        BackendAdapter::node_id(self)
    }
    fn node_alive<'a>(&'a self, node: &'a str) -> BoxFuture<'a, bool> {
        Box::pin(BackendAdapter::node_alive(self, node))
    }
    fn relay<'a>(
        &'a self,
        to_node: &'a str,
        message: RelayMessage,
    ) -> BoxFuture<'a, Result<(), BackendError>> {
        Box::pin(BackendAdapter::relay(self, to_node, message))
    }
}
