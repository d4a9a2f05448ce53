//! [`Connection`]: the handle handlers, hooks and guards get for one client.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::task::Poll;
use std::time::Instant;

use futures_util::task::AtomicWaker;

use crate::auth::HandshakeRequest;
use crate::close::CloseReason;
use crate::envelope::Frame;
use crate::error::Result;
use crate::identity::Identity;
use crate::outbox::{Outbox, PushError};
use crate::shared::Shared;

/// One client connection. Cheap to clone (a reference count).
#[derive(Clone)]
pub struct Connection {
    inner: Arc<Inner>,
}

struct Inner {
    id: String,
    identity: RwLock<Option<Arc<Identity>>>,
    rooms: Mutex<BTreeSet<String>>,
    outbox: Outbox,
    handshake: HandshakeRequest,
    connected_at: Instant,
    kill: Kill,
    shared: Arc<Shared>,
}

/// A request, from any task, that the connection loop close the connection.
struct Kill {
    requested: AtomicBool,
    reason: Mutex<Option<CloseReason>>,
    /// The connection loop's task: it is the only one that waits for a
    /// close request, so one registered waker is enough (and far cheaper
    /// per loop turn than a `Notify` future).
    waker: AtomicWaker,
}

/// Why an outbound frame was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SendError {
    /// The queue is full: the connection is being closed as a slow consumer.
    SlowConsumer,
    /// The connection is already closed.
    Closed,
}

impl Connection {
    pub(crate) fn new(
        identity: Option<Identity>,
        handshake: HandshakeRequest,
        outbound_capacity: usize,
        shared: Arc<Shared>,
    ) -> Self {
        Connection {
            inner: Arc::new(Inner {
                id: uuid::Uuid::new_v4().to_string(),
                identity: RwLock::new(identity.map(Arc::new)),
                rooms: Mutex::new(BTreeSet::new()),
                outbox: Outbox::new(outbound_capacity),
                handshake,
                connected_at: Instant::now(),
                kill: Kill {
                    requested: AtomicBool::new(false),
                    reason: Mutex::new(None),
                    waker: AtomicWaker::new(),
                },
                shared,
            }),
        }
    }

    /// The server state this connection belongs to.
    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.inner.shared
    }

    /// The connection id (a UUID), unique per connection.
    pub fn id(&self) -> &str {
        &self.inner.id
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
        self.lock_rooms().iter().cloned().collect()
    }

    /// Whether it is in `room`.
    pub fn in_room(&self, room: &str) -> bool {
        self.lock_rooms().contains(room)
    }

    /// Joins `room` (its full name), running the room's guard and member
    /// limit; returns the member count after the join. Hooks such as
    /// `on_connect` use it to put every connection in a room.
    pub async fn join(&self, room: &str) -> Result<usize> {
        Arc::clone(&self.inner.shared).join(self, room).await
    }

    /// Leaves `room`; returns the member count after the leave.
    pub async fn leave(&self, room: &str) -> Result<usize> {
        Arc::clone(&self.inner.shared).leave(self, room).await
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
        self.inner.kill.requested.load(Ordering::Acquire)
    }

    /// Asks the connection loop to close the connection with `code`
    /// (after `__disconnect__ {reason}`). The first request wins.
    pub fn close(&self, code: u16, reason: impl Into<String>) {
        self.request_close(CloseReason::new(code, reason));
    }

    pub(crate) fn request_close(&self, reason: CloseReason) {
        {
            let mut slot = self
                .inner
                .kill
                .reason
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if slot.is_none() {
                *slot = Some(reason);
            }
        }
        self.inner.kill.requested.store(true, Ordering::Release);
        self.inner.kill.waker.wake();
    }

    /// Resolves once a close was requested. Only the connection loop's task
    /// may wait on it (see [`Kill::waker`]).
    pub(crate) fn close_requested(&self) -> impl Future<Output = ()> + '_ {
        std::future::poll_fn(move |cx| {
            if self.is_closing() {
                return Poll::Ready(());
            }
            self.inner.kill.waker.register(cx.waker());
            // A request between the check and the registration woke nobody.
            if self.is_closing() {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
    }

    /// The queue of frames for this connection's socket (the loop's end).
    pub(crate) fn outbox(&self) -> &Outbox {
        &self.inner.outbox
    }

    pub(crate) fn take_close_reason(&self) -> Option<CloseReason> {
        self.inner
            .kill
            .reason
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }

    pub(crate) fn set_identity(&self, identity: Identity) {
        *self
            .inner
            .identity
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Some(Arc::new(identity));
    }

    pub(crate) fn add_room(&self, room: &str) -> bool {
        self.lock_rooms().insert(room.to_owned())
    }

    pub(crate) fn remove_room(&self, room: &str) -> bool {
        self.lock_rooms().remove(room)
    }

    pub(crate) fn take_rooms(&self) -> BTreeSet<String> {
        std::mem::take(&mut *self.lock_rooms())
    }

    /// Queues a frame without waiting. A full queue means the client reads
    /// slower than it is sent to: the connection is closed with 4008 rather
    /// than letting memory grow.
    pub(crate) fn send_frame(&self, frame: Frame) -> Result<(), SendError> {
        match self.inner.outbox.push(frame) {
            Ok(()) => Ok(()),
            Err(PushError::Full) => {
                self.request_close(CloseReason::slow_consumer());
                Err(SendError::SlowConsumer)
            }
            Err(PushError::Closed) => Err(SendError::Closed),
        }
    }

    fn lock_rooms(&self) -> std::sync::MutexGuard<'_, BTreeSet<String>> {
        self.inner
            .rooms
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("id", &self.inner.id)
            .field("user_id", &self.user_id())
            .finish_non_exhaustive()
    }
}

impl PartialEq for Connection {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}
