//! Rooms: the spec's room patterns ([`catalog`]), who is in which room on
//! this node ([`registry`]), and the rules that tie them to the backend:
//! joining (the pattern, `max_members`), leaving, counting members across
//! nodes, and broadcasting.
//!
//! A room is a string. The spec's patterns (`chat:{room}`) name families of
//! rooms; static rooms exist even when empty; other rooms exist while they
//! have members. Each namespace has its own [`Rooms`]: the same name in two
//! namespaces is two rooms.
//!
//! This layer knows mailboxes, not connections: the guard and the
//! `on_room_*` hooks, which take a connection, are run by the caller
//! ([`Connection::join`](crate::Connection::join)).

mod catalog;
mod registry;

use std::borrow::Cow;
use std::sync::Arc;

pub(crate) use catalog::RoomCatalog;
pub use catalog::{InvalidPattern, RoomMatch};
pub(crate) use registry::Registry;

use crate::backend::{BackendError, DynBackend};
use crate::error::{Error, Result};
use crate::frame::Frame;
use crate::mailbox::Mailbox;
use crate::meta::RoomMeta;
use crate::metrics::Metrics;

/// The rooms of one namespace.
pub(crate) struct Rooms {
    /// Prefixes this namespace's room names in the backend (empty for `/`).
    backend_prefix: String,
    catalog: RoomCatalog,
    registry: Registry,
    /// What spans nodes; `None` for the memory backend.
    adapter: Option<Arc<dyn DynBackend>>,
    metrics: Arc<Metrics>,
}

/// What a join must pass before it happens.
pub(crate) struct JoinPlan<'r> {
    /// The guarded pattern the room matched, when it is guarded.
    pub(crate) guard: Option<RoomMatch<'r>>,
    /// The room's member limit.
    pub(crate) max_members: Option<u32>,
}

impl Rooms {
    pub(crate) fn new(
        namespace: &str,
        patterns: &'static [RoomMeta],
        static_rooms: &[String],
        adapter: Option<Arc<dyn DynBackend>>,
        metrics: Arc<Metrics>,
    ) -> std::result::Result<Self, InvalidPattern> {
        Ok(Rooms {
            backend_prefix: backend_prefix(namespace),
            catalog: RoomCatalog::new(patterns, static_rooms)?,
            registry: Registry::default(),
            adapter,
            metrics,
        })
    }

    /// Checks that `room` may exist (it matches a pattern or is static) and
    /// says what the join must pass.
    pub(crate) fn plan_join<'r>(&'r self, room: &'r str) -> Result<JoinPlan<'r>> {
        match self.catalog.lookup(room) {
            Some((matched, meta)) => Ok(JoinPlan {
                guard: meta.guarded.then_some(matched),
                max_members: meta.max_members,
            }),
            None if self.catalog.is_static(room) => Ok(JoinPlan {
                guard: None,
                max_members: None,
            }),
            None => Err(Error::handler(format!(
                "room `{room}` matches no room pattern of the spec"
            ))),
        }
    }

    /// Adds `member` to `room` (whose plan passed), enforcing its member
    /// limit; returns the member count after the join.
    pub(crate) async fn join(
        &self,
        member: &Arc<Mailbox>,
        room: &str,
        max_members: Option<u32>,
    ) -> Result<usize> {
        if let Some(max) = max_members
            && self.cluster_count(room).await >= max as usize
        {
            return Err(Error::permission_denied(room, "the room is full"));
        }
        let local = self.registry.join(room, member);
        Ok(self.share_count(room, local).await)
    }

    /// Removes `member_id` from `room`; returns the member count after.
    pub(crate) async fn leave(&self, member_id: &str, room: &str) -> usize {
        let local = self.registry.leave(room, member_id);
        self.share_count(room, local).await
    }

    /// Tells the backend this node's member count of `room`; returns the
    /// cluster-wide count (the local one when the backend is unreachable:
    /// local work goes on, and the memberships are re-registered later).
    async fn share_count(&self, room: &str, local: usize) -> usize {
        let Some(adapter) = &self.adapter else {
            return local;
        };
        match adapter.set_local_members(&self.key(room), local).await {
            Ok(count) => count,
            Err(e) => {
                tracing::warn!(room, error = %e, "could not share a membership change");
                local
            }
        }
    }

    /// The cluster-wide member count (the local one without a backend or
    /// when it is unreachable).
    pub(crate) async fn cluster_count(&self, room: &str) -> usize {
        let local = self.registry.member_count(room);
        match &self.adapter {
            Some(adapter) => adapter.member_count(&self.key(room)).await.unwrap_or(local),
            None => local,
        }
    }

    /// Sends one encoded frame to the members of `room` on every node. With
    /// a distributed backend the frame is published first: when that fails
    /// nobody gets it and the sender gets the error, never a silent loss.
    pub(crate) async fn broadcast(
        &self,
        room: &str,
        frame: &Frame,
        except: Option<&str>,
    ) -> Result<usize> {
        let exists_here = self.registry.member_count(room) > 0 || self.catalog.is_static(room);
        match &self.adapter {
            None if !exists_here => return Err(Error::room_not_found(room)),
            None => {}
            Some(adapter) => {
                let key = self.key(room);
                if !exists_here && adapter.member_count(&key).await.map_err(broadcast_failed)? == 0
                {
                    return Err(Error::room_not_found(room));
                }
                adapter
                    .publish(&key, except, frame)
                    .await
                    .map_err(broadcast_failed)?;
            }
        }
        let delivery = self.registry.deliver(room, frame, except);
        self.metrics.broadcast(delivery.delivered, delivery.dropped);
        Ok(delivery.delivered)
    }

    /// Delivers a broadcast another node published for the backend key
    /// `key`, when it names one of this namespace's rooms.
    pub(crate) fn deliver_remote(&self, key: &str, except: Option<&str>, frame: &Frame) -> bool {
        let Some(room) = key.strip_prefix(self.backend_prefix.as_str()) else {
            return false;
        };
        if self.backend_prefix.is_empty() && key.starts_with(NAMESPACE_MARK) {
            return false;
        }
        self.registry.deliver(room, frame, except);
        true
    }

    /// Non-empty rooms on this node.
    pub(crate) fn room_count(&self) -> usize {
        self.registry.room_count()
    }

    /// Every room that exists (static, or with members on any node) with
    /// its cluster-wide member count, sorted by name.
    pub(crate) async fn list(&self) -> Vec<(String, usize)> {
        let mut names: Vec<String> = self
            .registry
            .rooms()
            .into_iter()
            .map(|(room, _)| room)
            .chain(self.catalog.static_rooms().into_iter().map(str::to_owned))
            .collect();
        if let Some(adapter) = &self.adapter {
            match adapter.rooms(&self.backend_prefix).await {
                Ok(remote) => names.extend(remote),
                Err(e) => tracing::warn!(error = %e, "could not list the cluster's rooms"),
            }
        }
        names.sort_unstable();
        names.dedup();
        let mut out = Vec::with_capacity(names.len());
        for room in names {
            let count = self.cluster_count(&room).await;
            if count > 0 || self.catalog.is_static(&room) {
                out.push((room, count));
            }
        }
        out
    }

    /// `room` as the backend names it.
    fn key<'r>(&self, room: &'r str) -> Cow<'r, str> {
        if self.backend_prefix.is_empty() {
            Cow::Borrowed(room)
        } else {
            Cow::Owned(format!("{}{room}", self.backend_prefix))
        }
    }
}

/// Starts a backend room key of a namespace other than `/`.
const NAMESPACE_MARK: char = '\u{1}';

/// How a namespace's rooms are prefixed in the backend: nothing for `/` (so
/// a one-namespace cluster keeps plain room names), `\u{1}<namespace>\u{1}`
/// for the others.
fn backend_prefix(namespace: &str) -> String {
    if namespace == "/" {
        String::new()
    } else {
        format!("{NAMESPACE_MARK}{namespace}{NAMESPACE_MARK}")
    }
}

fn broadcast_failed(e: BackendError) -> Error {
    Error::handler(format!("the broadcast was not sent: {e}"))
}
