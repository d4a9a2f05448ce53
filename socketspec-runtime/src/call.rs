//! [`Call`]: one validated client message on its way to a handler, and the
//! [`EventContext`] generated per-event contexts wrap.

use std::future::Future;
use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::connection::{Connection, SendError};
use crate::envelope;
use crate::error::{Error, ErrorCode, Result};
use crate::identity::Identity;
use crate::shared::Shared;

/// One client message that passed decoding, rate limiting and validation.
/// Middleware sees it first; the generated dispatch then decodes its payload.
pub struct Call {
    pub(crate) conn: Connection,
    pub(crate) shared: Arc<Shared>,
    pub(crate) event: usize,
    pub(crate) payload: Value,
    pub(crate) id: Option<String>,
}

impl Call {
    /// The event's index in the spec (what the generated dispatch matches on).
    pub fn event_index(&self) -> usize {
        self.event
    }

    /// The event's name.
    pub fn event(&self) -> &'static str {
        self.shared
            .meta
            .events
            .get(self.event)
            .map_or("", |e| e.name)
    }

    /// The connection that sent it.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// The client's correlation id.
    pub fn request_id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// The validated payload.
    pub fn payload(&self) -> &Value {
        &self.payload
    }

    /// The payload, for middleware that rewrites it.
    pub fn payload_mut(&mut self) -> &mut Value {
        &mut self.payload
    }

    /// Takes the payload and decodes it into the event's type.
    pub fn decode<T: DeserializeOwned>(&mut self) -> Result<T> {
        let payload = std::mem::take(&mut self.payload);
        serde_json::from_value(payload).map_err(|e| {
            Error::new(ErrorCode::ValidationError, format!("payload: {e}")).with_detail(
                "errors",
                serde_json::json!([{"path": "", "message": e.to_string()}]),
            )
        })
    }

    /// The context the event's handler works through.
    pub fn context(&self) -> EventContext<'_> {
        EventContext { call: self }
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

/// What a handler can do while handling one event. Generated contexts wrap
/// it and expose only the emits and broadcasts the spec declares for the
/// event; the raw methods here are for that generated code.
#[derive(Clone, Copy)]
pub struct EventContext<'a> {
    call: &'a Call,
}

impl<'a> EventContext<'a> {
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
        self.call.id.as_deref()
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
        self.call.shared.cluster_count(room).await
    }

    /// Sends `event` to the sender, carrying the request's `id`.
    #[doc(hidden)]
    pub async fn emit_raw<P: Serialize + ?Sized>(&self, event: &str, payload: &P) -> Result<()> {
        let frame = envelope::encode(event, payload, self.request_id())?;
        match self.call.conn.send_frame(frame) {
            Ok(()) | Err(SendError::Closed) => Ok(()),
            Err(SendError::SlowConsumer) => {
                Err(Error::handler("the client is not reading its messages"))
            }
        }
    }

    /// Sends `event` to every member of `room` (the sender too, unless
    /// `exclude_sender`), serialized once.
    #[doc(hidden)]
    pub async fn broadcast_raw<P: Serialize + ?Sized>(
        &self,
        room: &str,
        event: &str,
        payload: &P,
        exclude_sender: bool,
    ) -> Result<usize> {
        let frame = envelope::encode(event, payload, None)?;
        let except = exclude_sender.then(|| self.call.conn.id());
        self.call.shared.broadcast(room, &frame, except).await
    }

    /// Runs a future to completion from a blocking (`executor`) handler.
    #[doc(hidden)]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        tokio::runtime::Handle::current().block_on(future)
    }
}
