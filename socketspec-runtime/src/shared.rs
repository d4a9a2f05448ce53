//! [`Shared`]: the state every connection of one server shares (config,
//! event table, validators, rooms), behind one `Arc`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::{OnceCell, watch};

use crate::app::Hooks;
use crate::backend::{Backend, BackendAdapter, BackendError, Inbox, RedisBackend};
use crate::config::SocketConfig;
use crate::connection::Connection;
use crate::envelope::Frame;
use crate::error::{Error, Result};
use crate::event_table::EventTable;
use crate::meta::AppMeta;
use crate::metrics::Metrics;
use crate::middleware::Middleware;
use crate::rooms::{LocalRooms, RoomCatalog};
use crate::validate::Validators;

pub(crate) struct Shared {
    pub(crate) config: SocketConfig,
    pub(crate) meta: &'static AppMeta,
    pub(crate) hooks: Arc<dyn Hooks>,
    pub(crate) events: EventTable,
    pub(crate) validators: Validators,
    pub(crate) middleware: Vec<Arc<dyn Middleware>>,
    pub(crate) catalog: RoomCatalog,
    pub(crate) local: Arc<LocalRooms>,
    /// What spans nodes; `None` for the memory backend.
    pub(crate) adapter: Option<Arc<dyn BackendAdapter>>,
    started: OnceCell<Result<(), BackendError>>,
    pub(crate) connections: AtomicUsize,
    /// Prometheus series (`/metrics`).
    pub(crate) metrics: Metrics,
    /// Flips to `true` when a graceful shutdown starts.
    pub(crate) shutdown: watch::Sender<bool>,
}

impl Shared {
    pub(crate) fn new(
        config: SocketConfig,
        meta: &'static AppMeta,
        hooks: Arc<dyn Hooks>,
        middleware: Vec<Arc<dyn Middleware>>,
    ) -> std::result::Result<Self, crate::server::BuildError> {
        let validators = Validators::compile(meta)?;
        let adapter: Option<Arc<dyn BackendAdapter>> = match &config.backend {
            Backend::Memory => None,
            Backend::Redis(redis) => Some(Arc::new(Arc::new(RedisBackend::new(
                redis.clone(),
                config.session.redis_key_ttl,
            )?))),
            Backend::Custom(adapter) => Some(Arc::clone(adapter)),
        };
        let events = EventTable::new(meta.events);
        let catalog = RoomCatalog::new(meta.rooms, &config.rooms);
        Ok(Shared {
            config,
            meta,
            hooks,
            events,
            validators,
            middleware,
            catalog,
            local: Arc::new(LocalRooms::default()),
            adapter,
            started: OnceCell::new(),
            connections: AtomicUsize::new(0),
            metrics: Metrics::new(meta.events)?,
            shutdown: watch::Sender::new(false),
        })
    }

    /// Joins `room`, enforcing its guard and `max_members`.
    pub(crate) async fn join(&self, conn: &Connection, room: &str) -> Result<usize> {
        let Some((matched, meta)) = self.catalog.lookup(room) else {
            if self.catalog.is_static(room) {
                return Ok(self.add_member(conn, room).await);
            }
            return Err(Error::handler(format!(
                "room `{room}` matches no room pattern of the spec"
            )));
        };
        if conn.in_room(room) {
            return Ok(self.cluster_count(room).await);
        }
        if meta.guarded && !self.hooks.guard(conn, &matched).await {
            return Err(Error::permission_denied(room, "the room's guard refused"));
        }
        if let Some(max) = meta.max_members
            && self.cluster_count(room).await >= max as usize
        {
            return Err(Error::permission_denied(room, "the room is full"));
        }
        Ok(self.add_member(conn, room).await)
    }

    async fn add_member(&self, conn: &Connection, room: &str) -> usize {
        let local = self.local.join(room, conn);
        let count = self.share_count(room, local).await;
        if conn.add_room(room) {
            self.hooks.on_room_join(conn, room).await;
        }
        count
    }

    /// Tells the backend this node's member count of `room`; returns the
    /// cluster-wide count (the local one when the backend is unreachable:
    /// local work goes on, and the memberships are re-registered later).
    async fn share_count(&self, room: &str, local: usize) -> usize {
        let Some(adapter) = &self.adapter else {
            return local;
        };
        match adapter.set_local_members(room, local).await {
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
        let local = self.local.member_count(room);
        match &self.adapter {
            Some(adapter) => adapter.member_count(room).await.unwrap_or(local),
            None => local,
        }
    }

    /// Leaves `room`; leaving a room one is not in is not an error.
    pub(crate) async fn leave(&self, conn: &Connection, room: &str) -> Result<usize> {
        let local = self.local.leave(room, conn.id());
        let count = self.share_count(room, local).await;
        if conn.remove_room(room) {
            self.hooks.on_room_leave(conn, room).await;
        }
        Ok(count)
    }

    /// Leaves every room, as a connection closes.
    pub(crate) async fn leave_all(&self, conn: &Connection) {
        for room in conn.take_rooms() {
            let local = self.local.leave(&room, conn.id());
            self.share_count(&room, local).await;
            self.hooks.on_room_leave(conn, &room).await;
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
        let exists_here = self.local.member_count(room) > 0 || self.catalog.is_static(room);
        match &self.adapter {
            None if !exists_here => return Err(Error::room_not_found(room)),
            None => {}
            Some(adapter) => {
                if !exists_here && adapter.member_count(room).await.map_err(broadcast_failed)? == 0
                {
                    return Err(Error::room_not_found(room));
                }
                adapter
                    .publish(room, except, frame)
                    .await
                    .map_err(broadcast_failed)?;
            }
        }
        let delivery = self.local.deliver(room, frame, except);
        self.metrics.broadcast(delivery.delivered, delivery.dropped);
        Ok(delivery.delivered)
    }

    /// Starts the backend once (connections, subscription, liveness).
    pub(crate) async fn start_backend(&self) -> std::result::Result<(), BackendError> {
        let Some(adapter) = &self.adapter else {
            return Ok(());
        };
        self.started
            .get_or_init(|| async {
                let local = Arc::clone(&self.local);
                let inbox = Inbox::new(Arc::new(
                    move |room: &str, except: Option<&str>, frame: Frame| {
                        local.deliver(room, &frame, except);
                    },
                ));
                adapter.start(inbox).await
            })
            .await
            .clone()
    }

    /// Whether the backend reaches its store (always true for memory).
    pub(crate) fn backend_healthy(&self) -> bool {
        self.adapter.as_ref().is_none_or(|a| a.healthy())
    }

    pub(crate) async fn stop_backend(&self) {
        if let Some(adapter) = &self.adapter {
            adapter.shutdown().await;
        }
    }

    pub(crate) fn connection_count(&self) -> usize {
        self.connections.load(Ordering::Relaxed)
    }
}

fn broadcast_failed(e: BackendError) -> Error {
    Error::handler(format!("the broadcast was not sent: {e}"))
}
