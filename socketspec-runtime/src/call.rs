//! [`Call`]: one validated client message on its way to a handler, and the
//! [`EventContext`] generated per-event contexts wrap.

use std::future::Future;
use std::ops::Range;
use std::sync::{Arc, OnceLock};

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::connection::{Connection, SendError};
use crate::envelope::{self, Frame};
use crate::error::{Error, ErrorCode, Result};
use crate::identity::Identity;

/// One client message that passed decoding, rate limiting and validation.
/// Middleware sees it first; the generated dispatch then decodes its payload.
pub struct Call {
    pub(crate) conn: Connection,
    pub(crate) event: usize,
    pub(crate) payload: Payload,
    pub(crate) id: Option<RequestId>,
}

/// A request's correlation id: where it can be, a range of the frame it
/// came in, so taking it costs no allocation and cloning it only a
/// reference count.
#[derive(Clone)]
pub(crate) enum RequestId {
    /// `frame[range]`.
    InFrame(Frame, Range<usize>),
    /// An id that had to be unescaped.
    Owned(Arc<str>),
}

impl RequestId {
    /// The id's text.
    pub(crate) fn as_str(&self) -> &str {
        match self {
            RequestId::InFrame(frame, range) => frame.as_str().get(range.clone()).unwrap_or(""),
            RequestId::Owned(id) => id,
        }
    }
}

/// A call's payload: a validated `Value`, or the payload's text still in
/// its frame, for events whose generated type is their validation
/// ([`EventMeta::type_checked`](crate::EventMeta::type_checked)).
pub(crate) struct Payload {
    /// The parsed payload (always set unless `raw` is).
    value: Option<Value>,
    /// `raw` parsed on demand for [`Call::payload`], which only has `&self`.
    lazy: OnceLock<Value>,
    raw: Option<(Frame, Range<usize>)>,
}

impl Payload {
    /// A payload already parsed and validated.
    pub(crate) fn value(value: Value) -> Self {
        Payload {
            value: Some(value),
            lazy: OnceLock::new(),
            raw: None,
        }
    }

    /// A payload left as `frame[range]` (a JSON object's text), to be
    /// decoded straight into the event's type.
    pub(crate) fn raw(frame: Frame, range: Range<usize>) -> Self {
        Payload {
            value: None,
            lazy: OnceLock::new(),
            raw: Some((frame, range)),
        }
    }

    fn text(&self) -> Option<&str> {
        let (frame, range) = self.raw.as_ref()?;
        frame.as_str().get(range.clone())
    }

    fn parse(&self) -> Value {
        // The text was checked as JSON when the envelope was decoded.
        self.text()
            .and_then(|text| serde_json::from_str(text).ok())
            .unwrap_or_else(|| Value::Object(serde_json::Map::new()))
    }

    fn get(&self) -> &Value {
        match &self.value {
            Some(value) => value,
            None => self.lazy.get_or_init(|| self.parse()),
        }
    }

    fn get_mut(&mut self) -> &mut Value {
        if self.value.is_none() {
            let value = self.lazy.take().unwrap_or_else(|| self.parse());
            self.value = Some(value);
            // Middleware may rewrite it: from here on the `Value` is the payload.
            self.raw = None;
        }
        self.value.get_or_insert(Value::Null)
    }

    fn take(&mut self) -> Value {
        match self.value.take() {
            Some(value) => value,
            None => self.lazy.take().unwrap_or_else(|| self.parse()),
        }
    }
}

impl Call {
    /// The event's index in the spec (what the generated dispatch matches on).
    pub fn event_index(&self) -> usize {
        self.event
    }

    /// The event's name.
    pub fn event(&self) -> &'static str {
        self.conn
            .shared()
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
        self.id.as_ref().map(RequestId::as_str)
    }

    /// The validated payload.
    pub fn payload(&self) -> &Value {
        self.payload.get()
    }

    /// The payload, for middleware that rewrites it.
    pub fn payload_mut(&mut self) -> &mut Value {
        self.payload.get_mut()
    }

    /// Takes the payload and decodes it into the event's type.
    ///
    /// A payload still in its frame is decoded straight from the text; when
    /// the type refuses it, the schema's validator explains why, so the
    /// client gets the same `VALIDATION_ERROR` as for any other event.
    pub fn decode<T: DeserializeOwned>(&mut self) -> Result<T> {
        if self.payload.value.is_none()
            && let Some(text) = self.payload.text()
        {
            if let Ok(decoded) = serde_json::from_str(text) {
                return Ok(decoded);
            }
            let value = self.payload.get();
            if let Err(violations) = self.conn.shared().validators.check(self.event, value) {
                return Err(Error::new(ErrorCode::ValidationError, violations.message)
                    .with_detail("errors", violations.errors)
                    .refusing_payload());
            }
        }
        serde_json::from_value(self.payload.take()).map_err(|e| {
            Error::new(ErrorCode::ValidationError, format!("payload: {e}"))
                .with_detail(
                    "errors",
                    serde_json::json!([{"path": "", "message": e.to_string()}]),
                )
                .refusing_payload()
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
        self.call.conn.shared().cluster_count(room).await
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
        self.call
            .conn
            .shared()
            .broadcast(room, &frame, except)
            .await
    }

    /// Runs a future to completion from a blocking (`executor`) handler.
    #[doc(hidden)]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        tokio::runtime::Handle::current().block_on(future)
    }
}
