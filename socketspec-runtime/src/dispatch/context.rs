//! [`EventContext`]: what a handler can do while handling one event.

use std::future::Future;
use std::sync::Arc;

use serde::Serialize;

use super::call::{Call, RequestId};
use crate::connection::Connection;
use crate::envelope;
use crate::error::{Error, Result};
use crate::identity::Identity;
use crate::mailbox::SendError;

impl Call {
    /// The context the event's handler works through.
    pub fn context(&self) -> EventContext<'_> {
        EventContext::new(self)
    }

    /// Runs a blocking handler on tokio's blocking pool, so it never stalls
    /// the event loop. Used by the generated dispatch for `executor` events.
    pub async fn run_blocking<F>(self, handler: F) -> Result<()>
    where
        F: FnOnce(EventContext<'_>) -> Result<()> + Send + 'static,
    {
        let joined = tokio::task::spawn_blocking(move || handler(self.context())).await;
        match joined {
            Ok(result) => result,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(_) => Err(Error::handler("the blocking handler was cancelled")),
        }
    }
}

/// What a handler can do while handling one event. The generated
/// context (`Cx<'_, E>`) dereferences to it and adds exactly the emits and
/// broadcasts the spec declares for the event.
#[derive(Clone, Copy)]
pub struct EventContext<'a> {
    call: &'a Call,
}

impl<'a> EventContext<'a> {
    pub(crate) fn new(call: &'a Call) -> Self {
        EventContext { call }
    }

    /// The connection that sent the event.
    pub fn connection(&self) -> &'a Connection {
        &self.call.conn
    }

    /// The connection's identity.
    pub fn identity(&self) -> Option<Arc<Identity>> {
        self.call.conn.identity()
    }

    /// The client's correlation id, when it sent one.
    pub fn request_id(&self) -> Option<&'a str> {
        self.call.id.as_ref().map(RequestId::as_str)
    }

    /// Joins `room` (its full name), running its guard; returns the member
    /// count after the join.
    pub async fn join(&self, room: &str) -> Result<usize> {
        self.call.conn.join(room).await
    }

    /// Leaves `room`; returns the member count after the leave.
    pub async fn leave(&self, room: &str) -> Result<usize> {
        self.call.conn.leave(room).await
    }

    /// The member count of `room` across every node.
    pub async fn member_count(&self, room: &str) -> usize {
        self.call.conn.member_count(room).await
    }

    /// What the handler may read of the whole server: connections and
    /// rooms of every namespace.
    pub fn server(&self) -> crate::ServerView<'a> {
        crate::ServerView::new(&self.call.namespace.hub)
    }

    /// A handle that pushes into the connection's namespace (to another
    /// connection, a user, a room); use it through the generated `Push`.
    pub fn push(&self) -> crate::Push {
        self.call.conn.push()
    }

    /// Runs a future to completion from a blocking (`executor`) handler.
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        tokio::runtime::Handle::current().block_on(future)
    }

    /// Sends `event` to the sender, carrying the request's `id` (what the
    /// generated `emit_*` methods call).
    pub(crate) fn emit<P: Serialize + ?Sized>(&self, event: &str, payload: &P) -> Result<()> {
        let frame = envelope::encode(event, payload, self.request_id())?;
        match self.call.conn.send_frame(frame) {
            Ok(()) | Err(SendError::Closed) => Ok(()),
            Err(SendError::SlowConsumer) => {
                Err(Error::handler("the client is not reading its messages"))
            }
        }
    }

    /// Sends `event` to every member of `room` (the sender too, unless
    /// `exclude_sender`), serialized once (what the generated `broadcast_*`
    /// methods call).
    pub(crate) async fn broadcast<P: Serialize + ?Sized>(
        &self,
        room: &str,
        event: &str,
        payload: &P,
        exclude_sender: bool,
    ) -> Result<usize> {
        let frame = envelope::encode(event, payload, None)?;
        let except = exclude_sender.then(|| self.call.conn.id());
        self.call
            .conn
            .namespace_rooms()
            .broadcast(room, &frame, except)
            .await
    }
}
