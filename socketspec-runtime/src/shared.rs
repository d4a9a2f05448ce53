//! [`Shared`]: the state every connection of one server shares (config,
//! event table, validators, rooms), behind one `Arc`.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::watch;

use crate::app::Hooks;
use crate::config::SocketConfig;
use crate::connection::Connection;
use crate::envelope::Frame;
use crate::error::{Error, Result};
use crate::meta::AppMeta;
use crate::middleware::Middleware;
use crate::rooms::{LocalRooms, RoomCatalog};
use crate::validate::Validators;

pub(crate) struct Shared {
    pub(crate) config: SocketConfig,
    pub(crate) meta: &'static AppMeta,
    pub(crate) hooks: Arc<dyn Hooks>,
    pub(crate) events: HashMap<&'static str, usize>,
    pub(crate) validators: Validators,
    pub(crate) middleware: Vec<Arc<dyn Middleware>>,
    pub(crate) catalog: RoomCatalog,
    pub(crate) local: LocalRooms,
    pub(crate) connections: AtomicUsize,
    /// Flips to `true` when a graceful shutdown starts.
    pub(crate) shutdown: watch::Sender<bool>,
}

impl Shared {
    pub(crate) fn new(
        config: SocketConfig,
        meta: &'static AppMeta,
        hooks: Arc<dyn Hooks>,
        middleware: Vec<Arc<dyn Middleware>>,
    ) -> std::result::Result<Self, crate::validate::SchemaError> {
        let validators = Validators::compile(meta)?;
        let events = meta
            .events
            .iter()
            .enumerate()
            .map(|(i, e)| (e.name, i))
            .collect();
        let catalog = RoomCatalog::new(meta.rooms, &config.rooms);
        Ok(Shared {
            config,
            meta,
            hooks,
            events,
            validators,
            middleware,
            catalog,
            local: LocalRooms::default(),
            connections: AtomicUsize::new(0),
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
            return Ok(self.local.member_count(room));
        }
        if meta.guarded && !self.hooks.guard(conn, &matched).await {
            return Err(Error::permission_denied(room, "the room's guard refused"));
        }
        if let Some(max) = meta.max_members
            && self.local.member_count(room) >= max as usize
        {
            return Err(Error::permission_denied(room, "the room is full"));
        }
        Ok(self.add_member(conn, room).await)
    }

    async fn add_member(&self, conn: &Connection, room: &str) -> usize {
        let count = self.local.join(room, conn);
        if conn.add_room(room) {
            self.hooks.on_room_join(conn, room).await;
        }
        count
    }

    /// Leaves `room`; leaving a room one is not in is not an error.
    pub(crate) async fn leave(&self, conn: &Connection, room: &str) -> Result<usize> {
        let count = self.local.leave(room, conn.id());
        if conn.remove_room(room) {
            self.hooks.on_room_leave(conn, room).await;
        }
        Ok(count)
    }

    /// Leaves every room, as a connection closes.
    pub(crate) async fn leave_all(&self, conn: &Connection) {
        for room in conn.take_rooms() {
            self.local.leave(&room, conn.id());
            self.hooks.on_room_leave(conn, &room).await;
        }
    }

    pub(crate) fn member_count(&self, room: &str) -> usize {
        self.local.member_count(room)
    }

    /// Sends one encoded frame to the members of `room`.
    pub(crate) async fn broadcast(
        &self,
        room: &str,
        frame: &Frame,
        except: Option<&str>,
    ) -> Result<usize> {
        if self.local.member_count(room) == 0 && !self.catalog.is_static(room) {
            return Err(Error::room_not_found(room));
        }
        Ok(self.local.deliver(room, frame, except).delivered)
    }

    pub(crate) fn connection_count(&self) -> usize {
        self.connections.load(Ordering::Relaxed)
    }
}
