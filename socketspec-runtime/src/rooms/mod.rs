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
mod members;
mod push;
mod registry;

use std::borrow::Cow;
use std::sync::Arc;

pub(crate) use catalog::RoomCatalog;
pub use catalog::{InvalidPattern, RoomMatch};
pub use push::{Push, Recipient};
pub(crate) use registry::{Registry, RoomBudget};

use crate::backend::{BackendError, DynBackend};
use crate::error::{Error, Result};
use crate::frame::Frame;
use crate::mailbox::{CloseRequest, Mailbox};
use crate::meta::RoomMeta;
use crate::metrics::Metrics;

/// The rooms of one namespace.
pub(crate) struct Rooms {
    /// The namespace's name (`/`, `/ops`).
    namespace: String,
    /// Prefixes this namespace's room names in the backend (empty for `/`).
    backend_prefix: String,
    catalog: RoomCatalog,
    registry: Registry,
    /// Every connection (`c:<id>`) and every user's connections
    /// (`u:<user id>`): what pushes to one connection or one user reach.
    addresses: Registry,
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
        budget: Arc<RoomBudget>,
        adapter: Option<Arc<dyn DynBackend>>,
        metrics: Arc<Metrics>,
    ) -> std::result::Result<Self, InvalidPattern> {
        Ok(Rooms {
            namespace: namespace.to_owned(),
            backend_prefix: backend_prefix(namespace),
            catalog: RoomCatalog::new(patterns, static_rooms)?,
            registry: Registry::counted(budget),
            addresses: Registry::default(),
            adapter,
            metrics,
        })
    }

    /// The namespace's name.
    pub(crate) fn namespace(&self) -> &str {
        &self.namespace
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
        let local = self.registry.join(room, member).map_err(|_| {
            let max = self.registry.room_cap().unwrap_or_default();
            Error::permission_denied(
                room,
                &format!("the server holds {max} rooms, the most it allows (max_rooms)"),
            )
            .with_detail("limit", max)
        })?;
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
        let sent = self
            .send(
                &self.registry,
                room,
                &self.key(room),
                exists_here,
                frame,
                except,
            )
            .await?;
        sent.ok_or_else(|| Error::room_not_found(room))
    }

    /// Sends one encoded frame to `address` on every node; `Ok(None)` when
    /// nobody is there.
    pub(crate) async fn push(&self, address: &Address<'_>, frame: &Frame) -> Result<Option<usize>> {
        let local = address.local_key();
        let exists_here = self.addresses.member_count(&local) > 0;
        let key = format!("{}{ADDRESS_MARK}{local}", self.backend_prefix);
        self.send(&self.addresses, &local, &key, exists_here, frame, None)
            .await
    }

    /// The shared path of broadcasts and pushes: publish to the other nodes
    /// (when the target exists somewhere), then deliver here. `Ok(None)`:
    /// nobody is there on any node.
    async fn send(
        &self,
        registry: &Registry,
        local: &str,
        key: &str,
        exists_here: bool,
        frame: &Frame,
        except: Option<&str>,
    ) -> Result<Option<usize>> {
        match &self.adapter {
            None if !exists_here => return Ok(None),
            None => {}
            Some(adapter) => {
                if !exists_here && adapter.member_count(key).await.map_err(broadcast_failed)? == 0 {
                    return Ok(None);
                }
                adapter
                    .publish(key, except, frame)
                    .await
                    .map_err(broadcast_failed)?;
            }
        }
        let delivery = registry.deliver(local, frame, except);
        self.metrics.broadcast(delivery.delivered, delivery.dropped);
        Ok(Some(delivery.delivered))
    }

    /// Makes `mailbox` reachable by pushes to its connection id and (when it
    /// has one) its user id, on every node.
    pub(crate) async fn add_addresses(&self, mailbox: &Arc<Mailbox>, user: Option<&str>) {
        for address in addresses_of(mailbox.id(), user) {
            let local = address.local_key();
            // Address registries have no budget: this join cannot fail.
            let count = self.addresses.join(&local, mailbox).unwrap_or(1);
            self.share_address_count(&local, count).await;
        }
    }

    /// Undoes [`add_addresses`](Self::add_addresses) as the connection ends.
    pub(crate) async fn remove_addresses(&self, id: &str, user: Option<&str>) {
        for address in addresses_of(id, user) {
            let local = address.local_key();
            let count = self.addresses.leave(&local, id);
            self.share_address_count(&local, count).await;
        }
    }

    async fn share_address_count(&self, local: &str, count: usize) {
        if let Some(adapter) = &self.adapter {
            let key = format!("{}{ADDRESS_MARK}{local}", self.backend_prefix);
            if let Err(e) = adapter.set_local_members(&key, count).await {
                tracing::warn!(error = %e, "could not share a connection's address");
            }
        }
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
        match room.strip_prefix(ADDRESS_MARK) {
            Some(address) => self.addresses.deliver(address, frame, except),
            None => self.registry.deliver(room, frame, except),
        };
        true
    }

    /// Asks every connection of this namespace on this node (detached
    /// sessions included) to close with `request`.
    pub(crate) fn close_every_connection(&self, request: &CloseRequest) {
        for mailbox in self.addresses.members_under("c:") {
            mailbox.request_close(request.clone());
        }
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

/// Starts a backend key of an address (a connection or a user) rather
/// than a room.
const ADDRESS_MARK: char = '\u{2}';

/// Who a push goes to (besides rooms).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Address<'a> {
    /// One connection, by id.
    Connection(&'a str),
    /// Every connection of one user, by user id.
    User(&'a str),
}

impl Address<'_> {
    fn local_key(&self) -> String {
        match self {
            Address::Connection(id) => format!("c:{id}"),
            Address::User(id) => format!("u:{id}"),
        }
    }
}

fn addresses_of<'a>(id: &'a str, user: Option<&'a str>) -> impl Iterator<Item = Address<'a>> {
    std::iter::once(Address::Connection(id)).chain(user.map(Address::User))
}

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
