//! [`Connection`]: the handle handlers, hooks and guards get for one client.
//!
//! It is the per-connection state every layer may hold: the id, the
//! identity, the rooms joined, the [`Mailbox`] (outbound queue and close
//! request) and the namespace's rooms. The connection loop (`socket`)
//! owns the socket itself; this handle never touches it.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::Instant;

use socketspec_protocol::{CloseCode, DisconnectReason};

use crate::auth::HandshakeRequest;
use crate::error::Result;
use crate::frame::Frame;
use crate::future::BoxFuture;
use crate::identity::Identity;
use crate::mailbox::{CloseRequest, Mailbox, SendError};
use crate::rooms::{Push, RoomMatch, Rooms};

/// One client connection. Cheap to clone (a reference count).
#[derive(Clone)]
pub struct Connection {
    inner: Arc<Inner>,
}

struct Inner {
    namespace: &'static str,
    identity: RwLock<Option<Arc<Identity>>>,
    joined: Mutex<BTreeSet<String>>,
    mailbox: Arc<Mailbox>,
    handshake: HandshakeRequest,
    connected_at: Instant,
    rooms: Arc<Rooms>,
    hooks: Arc<dyn RoomHooks>,
    max_rooms: usize,
}

/// What joining and leaving rooms asks of the application: its guards and
/// its `on_room_*` hooks (implemented for every [`App`](crate::App)).
pub(crate) trait RoomHooks: Send + Sync + 'static {
    fn guard<'a>(&'a self, conn: &'a Connection, room: &'a RoomMatch<'a>) -> BoxFuture<'a, bool>;
    fn on_room_join<'a>(&'a self, conn: &'a Connection, room: &'a str) -> BoxFuture<'a, ()>;
    fn on_room_leave<'a>(&'a self, conn: &'a Connection, room: &'a str) -> BoxFuture<'a, ()>;
}

/// Everything a new connection starts with.
pub(crate) struct ConnectionParts {
    pub(crate) namespace: &'static str,
    pub(crate) identity: Option<Identity>,
    pub(crate) handshake: HandshakeRequest,
    pub(crate) outbound_queue: usize,
    pub(crate) rooms: Arc<Rooms>,
    pub(crate) hooks: Arc<dyn RoomHooks>,
    /// `Limits::max_rooms_per_connection`.
    pub(crate) max_rooms: usize,
    /// With resumption on, `SessionConfig::resume_buffer`: the frames kept
    /// for a resume.
    pub(crate) replay: Option<usize>,
}

impl Connection {
    pub(crate) fn new(parts: ConnectionParts) -> Self {
        let id = uuid::Uuid::new_v4().to_string();
        Connection {
            inner: Arc::new(Inner {
                namespace: parts.namespace,
                identity: RwLock::new(parts.identity.map(Arc::new)),
                joined: Mutex::new(BTreeSet::new()),
                mailbox: Arc::new(Mailbox::with_replay(
                    &id,
                    parts.outbound_queue,
                    parts.replay,
                )),
                handshake: parts.handshake,
                connected_at: Instant::now(),
                rooms: parts.rooms,
                hooks: parts.hooks,
                max_rooms: parts.max_rooms,
            }),
        }
    }

    /// The connection id (a UUID), unique per connection.
    pub fn id(&self) -> &str {
        self.inner.mailbox.id()
    }

    /// The namespace it belongs to (`/` unless the server serves several).
    pub fn namespace(&self) -> &'static str {
        self.inner.namespace
    }

    /// The identity its credential proved, when the server authenticates.
    pub fn identity(&self) -> Option<Arc<Identity>> {
        self.inner
            .identity
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The identity's user id, when there is one.
    pub fn user_id(&self) -> Option<String> {
        self.identity().and_then(|i| i.user_id.clone())
    }

    /// The full names of the rooms it is in, sorted.
    pub fn rooms(&self) -> Vec<String> {
        self.joined().iter().cloned().collect()
    }

    /// Whether it is in `room`.
    pub fn in_room(&self, room: &str) -> bool {
        self.joined().contains(room)
    }

    /// Joins `room` (its full name), running the room's guard and member
    /// limit; returns the member count after the join. Joining a room it is
    /// already in changes nothing. Hooks such as `on_connect` use it to put
    /// every connection in a room.
    pub async fn join(&self, room: &str) -> Result<usize> {
        let rooms = &self.inner.rooms;
        let plan = rooms.plan_join(room)?;
        if self.in_room(room) {
            return Ok(rooms.cluster_count(room).await);
        }
        let max = self.inner.max_rooms;
        if self.joined().len() >= max {
            return Err(crate::Error::permission_denied(
                room,
                &format!(
                    "this connection is in {max} rooms, the most allowed (max_rooms_per_connection)"
                ),
            )
            .with_detail("limit", max));
        }
        if let Some(matched) = &plan.guard
            && !self.inner.hooks.guard(self, matched).await
        {
            return Err(crate::Error::permission_denied(
                room,
                "the room's guard refused",
            ));
        }
        let count = rooms
            .join(&self.inner.mailbox, room, plan.max_members)
            .await?;
        if self.joined().insert(room.to_owned()) {
            self.inner.hooks.on_room_join(self, room).await;
        }
        Ok(count)
    }

    /// Leaves `room`; returns the member count after the leave. Leaving a
    /// room it is not in is not an error.
    pub async fn leave(&self, room: &str) -> Result<usize> {
        let count = self.inner.rooms.leave(self.id(), room).await;
        if self.joined().remove(room) {
            self.inner.hooks.on_room_leave(self, room).await;
        }
        Ok(count)
    }

    /// The member count of `room` across every node.
    pub async fn member_count(&self, room: &str) -> usize {
        self.inner.rooms.cluster_count(room).await
    }

    /// A handle that pushes into this connection's namespace (to any room,
    /// connection or user); use it through the generated module's `Push`.
    pub fn push(&self) -> Push {
        Push::new(Arc::clone(&self.inner.rooms), self.inner.namespace)
    }

    /// Sends `event` to this connection, without waiting (what the
    /// generated `emit_*` methods on a connection call).
    pub(crate) fn emit<P: serde::Serialize + ?Sized>(
        &self,
        event: &str,
        payload: &P,
    ) -> Result<()> {
        let frame = crate::envelope::encode(event, payload, None)?;
        match self.send_frame(frame) {
            Ok(()) | Err(SendError::Closed) => Ok(()),
            Err(SendError::SlowConsumer) => Err(crate::Error::handler(
                "the client is not reading its messages",
            )),
        }
    }

    /// The upgrade request's headers and query.
    pub fn handshake(&self) -> &HandshakeRequest {
        &self.inner.handshake
    }

    /// When the connection was accepted.
    pub fn connected_at(&self) -> Instant {
        self.inner.connected_at
    }

    /// Whether a close has been requested (by the server or a handler).
    pub fn is_closing(&self) -> bool {
        self.inner.mailbox.is_closing()
    }

    /// Asks the connection loop to close the connection with `code`, after
    /// `__disconnect__ {reason}`; `on_disconnect` gets the same reason. The
    /// first request wins.
    pub fn close(&self, code: CloseCode, reason: impl Into<Cow<'static, str>>) {
        self.request_close(CloseRequest::new(DisconnectReason::custom(reason)).with_code(code));
    }

    /// Leaves every room, as the connection ends.
    pub(crate) async fn leave_all(&self) {
        let joined = std::mem::take(&mut *self.joined());
        for room in joined {
            self.inner.rooms.leave(self.id(), &room).await;
            self.inner.hooks.on_room_leave(self, &room).await;
        }
    }

    pub(crate) fn request_close(&self, request: CloseRequest) {
        self.inner.mailbox.request_close(request);
    }

    /// The queue of frames for this connection's socket.
    pub(crate) fn mailbox(&self) -> &Arc<Mailbox> {
        &self.inner.mailbox
    }

    /// The rooms of its namespace.
    pub(crate) fn namespace_rooms(&self) -> &Arc<Rooms> {
        &self.inner.rooms
    }

    pub(crate) fn set_identity(&self, identity: Identity) {
        *self
            .inner
            .identity
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Some(Arc::new(identity));
    }

    /// Queues a frame for the socket without waiting (see [`Mailbox::send`]).
    pub(crate) fn send_frame(&self, frame: Frame) -> Result<(), SendError> {
        self.inner.mailbox.send(frame)
    }

    fn joined(&self) -> MutexGuard<'_, BTreeSet<String>> {
        self.inner
            .joined
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("id", &self.id())
            .field("namespace", &self.inner.namespace)
            .field("user_id", &self.user_id())
            .finish_non_exhaustive()
    }
}

impl PartialEq for Connection {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}
