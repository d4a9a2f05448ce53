//! Outbound: [`encode`] writes an envelope straight to a frame's bytes,
//! so a broadcast is serialized once and the same [`Frame`] is shared by
//! every member.

use std::cell::RefCell;

use serde::Serialize;
use serde_json::{Map, Value};
use socketspec_protocol::{ErrorCode, SystemEvent};

use crate::frame::Frame;

#[derive(Serialize)]
struct Outbound<'a, P: ?Sized> {
    event: &'a str,
    payload: &'a P,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
}

/// Encodes an outbound envelope. Fails only when `payload`'s `Serialize`
/// implementation fails (e.g. a map with non-string keys).
pub fn encode<P: Serialize + ?Sized>(
    event: &str,
    payload: &P,
    id: Option<&str>,
) -> Result<Frame, serde_json::Error> {
    let outbound = Outbound { event, payload, id };
    SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
        Ok(mut buf) => {
            buf.clear();
            let encoded = serde_json::to_writer(&mut *buf, &outbound).map(|()| exact_frame(&buf));
            if buf.capacity() > SCRATCH_KEEP {
                *buf = Vec::new();
            }
            encoded
        }
        // A payload whose `Serialize` encodes a frame itself: not worth a
        // second buffer.
        Err(_) => serde_json::to_string(&outbound).map(Frame::from),
    })
}

/// Bytes of a thread's [`SCRATCH`] kept between frames; the buffer of a
/// bigger frame is freed once it is copied out.
const SCRATCH_KEEP: usize = 16 * 1024;

thread_local! {
    /// Where [`encode`] writes a frame before copying it out at its exact
    /// size. Serializing straight into a `String` would leave spare
    /// capacity, and a `Bytes` made from a `Vec` with spare capacity
    /// allocates a second block to track it: one allocation per frame
    /// instead of two.
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// `bytes` (what serde_json wrote, so UTF-8) as a frame of exactly its size.
fn exact_frame(bytes: &[u8]) -> Frame {
    let text = String::from_utf8(bytes.to_vec())
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
    Frame::from(text)
}

/// The payload of an `__error__` envelope.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorPayload<'a> {
    /// The error code.
    pub code: ErrorCode,
    /// The event that caused it, or null.
    pub event: Option<&'a str>,
    /// A message for a person.
    pub message: &'a str,
    /// The client's `id`, else a fresh UUID.
    pub request_id: &'a str,
    /// Per-code details.
    pub details: &'a Map<String, Value>,
}

/// Encodes an `__error__` envelope. `id` is the client's correlation id: it
/// is echoed at envelope level and as `request_id`; without one a fresh UUID
/// becomes the `request_id`.
pub fn encode_error(
    code: ErrorCode,
    event: Option<&str>,
    message: &str,
    details: &Map<String, Value>,
    id: Option<&str>,
) -> Frame {
    let fresh;
    let request_id = match id {
        Some(id) => id,
        None => {
            fresh = uuid::Uuid::new_v4().to_string();
            &fresh
        }
    };
    let payload = ErrorPayload {
        code,
        event,
        message,
        request_id,
        details,
    };
    // Serializing strings, an enum and a `Map<String, Value>` cannot fail.
    encode(SystemEvent::Error.name(), &payload, id).unwrap_or_else(|_| Frame::from_static("{}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A payload whose `Serialize` encodes a frame of its own (the thread's
    /// buffer is in use then).
    struct Nested;

    impl Serialize for Nested {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let inner =
                encode("inner", &json!({"a": 1}), None).map_err(serde::ser::Error::custom)?;
            s.serialize_str(inner.as_str())
        }
    }

    #[test]
    fn frames_are_exact_whatever_came_before_or_inside() {
        let big = "x".repeat(SCRATCH_KEEP * 2);
        for _ in 0..2 {
            let frame = encode("big", &json!({"data": big}), Some("1")).unwrap_or_default();
            let expected = format!(r#"{{"event":"big","payload":{{"data":"{big}"}},"id":"1"}}"#);
            assert!(frame.as_str() == expected, "{:.60}", frame.as_str());
            let small = encode("echo_reply", &json!({"seq": 1}), None).unwrap_or_default();
            assert_eq!(
                small.as_str(),
                r#"{"event":"echo_reply","payload":{"seq":1}}"#
            );
        }
        let nested = encode("outer", &Nested, Some("n")).unwrap_or_default();
        assert_eq!(
            nested.as_str(),
            r#"{"event":"outer","payload":"{\"event\":\"inner\",\"payload\":{\"a\":1}}","id":"n"}"#
        );
    }

    #[test]
    fn encodes_ids_only_when_given() {
        let with = encode("a", &json!({"x": 1}), Some("c-1")).unwrap_or_default();
        assert_eq!(
            with.as_str(),
            r#"{"event":"a","payload":{"x":1},"id":"c-1"}"#
        );
        let without = encode("a", &json!({}), None).unwrap_or_default();
        assert_eq!(without.as_str(), r#"{"event":"a","payload":{}}"#);
    }

    #[test]
    fn error_envelope_uses_the_id_as_request_id() {
        let frame = encode_error(
            ErrorCode::UnknownEvent,
            Some("x"),
            "no",
            &Map::new(),
            Some("r"),
        );
        let v: Value = serde_json::from_str(frame.as_str()).unwrap_or_default();
        assert_eq!(v["id"], "r");
        assert_eq!(v["payload"]["request_id"], "r");
        assert_eq!(v["payload"]["code"], "UNKNOWN_EVENT");
        let frame = encode_error(ErrorCode::UnknownEvent, None, "no", &Map::new(), None);
        let v: Value = serde_json::from_str(frame.as_str()).unwrap_or_default();
        assert!(v.get("id").is_none());
        assert_eq!(v["payload"]["request_id"].as_str().map(str::len), Some(36));
    }
}
