//! [`Call`]: one validated client message on its way to a handler.

use std::ops::Range;
use std::sync::{Arc, OnceLock};

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::namespace::Namespace;
use crate::connection::Connection;
use crate::error::{Error, ErrorCode, Result};
use crate::frame::Frame;

/// One client message that passed decoding, rate limiting and validation.
/// Middleware sees it first; the generated dispatch then decodes its payload.
pub struct Call {
    pub(crate) conn: Connection,
    pub(crate) namespace: Arc<Namespace>,
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
/// ([`EventMeta::type_checked`](crate::meta::EventMeta::type_checked)).
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
    /// The event's name (what the generated dispatch matches on).
    pub fn event(&self) -> &'static str {
        self.namespace.event_name(self.event)
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
            if let Err(violations) = self.namespace.validators.check(self.event, value) {
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
}
