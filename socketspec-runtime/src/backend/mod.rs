//! Where room membership and broadcasts live beyond this node.
//!
//! Every node keeps its own members in a local registry and delivers to them
//! itself. A [`Backend`] decides what spans nodes:
//! - [`Backend::Memory`]: everything in this process (one node);
//! - [`Backend::Redis`]: memberships, member counts and broadcasts span every
//!   node connected to the same Redis (see `docs/multi-node.md`);
//! - [`Backend::Custom`]: any [`BackendAdapter`].

mod redis;

use std::sync::Arc;

pub use self::redis::{RedisBackend, RedisConfig};
use crate::auth::BoxFuture;
use crate::envelope::Frame;

/// The backend a server uses for rooms and broadcasts (seed: `backend`).
#[derive(Clone, Default)]
pub enum Backend {
    /// Everything in this process: a single node.
    #[default]
    Memory,
    /// Rooms and broadcasts span every node connected to the same Redis.
    Redis(RedisConfig),
    /// A custom adapter.
    Custom(Arc<dyn BackendAdapter>),
}

impl std::fmt::Debug for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Backend::Memory => f.write_str("Memory"),
            Backend::Redis(config) => f.debug_tuple("Redis").field(config).finish(),
            Backend::Custom(adapter) => f.debug_tuple("Custom").field(&adapter.name()).finish(),
        }
    }
}

impl Backend {
    /// A short name for logs and the health endpoint.
    pub fn name(&self) -> &'static str {
        match self {
            Backend::Memory => "memory",
            Backend::Redis(_) => "redis",
            Backend::Custom(adapter) => adapter.name(),
        }
    }
}

/// A backend failure (the distributed store is unreachable, say). Reported
/// to the client whose broadcast could not be published, never swallowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("backend unavailable: {0}")]
pub struct BackendError(pub String);

/// Delivers a frame to this node's members of a room, except one connection.
type DeliverFn = dyn Fn(&str, Option<&str>, Frame) + Send + Sync;

/// Delivers broadcasts that arrive from other nodes to this node's members.
#[derive(Clone)]
pub struct Inbox {
    deliver: Arc<DeliverFn>,
}

impl Inbox {
    pub(crate) fn new(deliver: Arc<DeliverFn>) -> Self {
        Inbox { deliver }
    }

    /// Delivers `frame` to this node's members of `room`, except the
    /// connection `except`.
    pub fn deliver(&self, room: &str, except: Option<&str>, frame: Frame) {
        (self.deliver)(room, except, frame);
    }
}

/// What a distributed backend does. The runtime keeps local membership
/// itself and calls the adapter to share it and to reach other nodes.
pub trait BackendAdapter: Send + Sync + 'static {
    /// A short name for logs and `/socket-health`.
    fn name(&self) -> &'static str;

    /// Starts the adapter (connections, subscriptions, liveness); broadcasts
    /// from other nodes go to `inbox`. Called once, before connections.
    fn start(&self, inbox: Inbox) -> BoxFuture<'_, Result<(), BackendError>>;

    /// This node now has `local_members` members in `room`; returns the
    /// cluster-wide member count.
    fn set_local_members<'a>(
        &'a self,
        room: &'a str,
        local_members: usize,
    ) -> BoxFuture<'a, Result<usize, BackendError>>;

    /// The cluster-wide member count of `room`.
    fn member_count<'a>(&'a self, room: &'a str) -> BoxFuture<'a, Result<usize, BackendError>>;

    /// Sends `frame` to the members of `room` on every other node.
    fn publish<'a>(
        &'a self,
        room: &'a str,
        except: Option<&'a str>,
        frame: &'a Frame,
    ) -> BoxFuture<'a, Result<(), BackendError>>;

    /// Whether the backend currently reaches its store.
    fn healthy(&self) -> bool;

    /// Removes this node's memberships; called at graceful shutdown.
    fn shutdown(&self) -> BoxFuture<'_, ()>;
}
