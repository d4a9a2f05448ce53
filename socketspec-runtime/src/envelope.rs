//! The JSON envelope every message travels in (PROTOCOL.md).
//!
//! Inbound: `{"event": string, "payload": object?, "id": string?}`, decoded once
//! into an [`Inbound`]. Outbound: [`encode`] writes the envelope straight to the
//! frame's bytes, so a broadcast is serialized once and the same
//! [`Frame`] is cloned (a reference count) for every member.

use std::borrow::Cow;
use std::cell::RefCell;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use tokio_tungstenite::tungstenite::Utf8Bytes;

use crate::error::ErrorCode;

/// An encoded outbound message: cheap to clone, shared by every recipient.
pub type Frame = Utf8Bytes;

/// The reserved system events (PROTOCOL.md, "System events").
pub mod system {
    /// S->C, first message after the upgrade.
    pub const CONNECT: &str = "__connect__";
    /// S->C, just before a close the server starts.
    pub const DISCONNECT: &str = "__disconnect__";
    /// S->C heartbeat.
    pub const PING: &str = "__ping__";
    /// C->S answer to `__ping__`.
    pub const PONG: &str = "__pong__";
    /// S->C error envelope.
    pub const ERROR: &str = "__error__";
    /// S->C, the credential expires soon.
    pub const AUTH_EXPIRING: &str = "__auth_expiring__";
    /// S->C, `max_duration` is near.
    pub const SESSION_EXPIRING: &str = "__session_expiring__";
    /// S->C, the idle timeout is near.
    pub const IDLE_WARNING: &str = "__idle_warning__";
    /// S->C, graceful shutdown began.
    pub const SERVER_SHUTDOWN: &str = "__server_shutdown__";
    /// C->S then S->C, credential refresh.
    pub const REFRESH_AUTH: &str = "__refresh_auth__";

    /// All ten, in the protocol's order.
    pub const ALL: [&str; 10] = [
        CONNECT,
        DISCONNECT,
        PING,
        PONG,
        ERROR,
        AUTH_EXPIRING,
        SESSION_EXPIRING,
        IDLE_WARNING,
        SERVER_SHUTDOWN,
        REFRESH_AUTH,
    ];

    /// Whether `name` is reserved: one of the ten, or any `__x__` name.
    pub fn is_reserved(name: &str) -> bool {
        ALL.contains(&name) || (name.len() >= 4 && name.starts_with("__") && name.ends_with("__"))
    }
}

/// A decoded client message.
#[derive(Debug, Clone, PartialEq)]
pub struct Inbound {
    /// The event name.
    pub event: String,
    /// The payload; an absent or `null` payload is an empty object.
    pub payload: Value,
    /// The client's correlation id, when it sent one.
    pub id: Option<String>,
}

/// Why a text could not be decoded as an envelope (always a `VALIDATION_ERROR`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// A message for the person who sent it.
    pub message: String,
    /// The event name, when the envelope got far enough to have one.
    pub event: Option<String>,
    /// The `id`, when the envelope got far enough to have one.
    pub id: Option<String>,
}

impl DecodeError {
    fn new(message: impl Into<String>) -> Self {
        DecodeError {
            message: message.into(),
            event: None,
            id: None,
        }
    }
}

/// A decoded client message that borrows from the frame: the connection
/// loop's form of [`Inbound`]. The event name and id stay borrowed, and the
/// payload stays text until the loop knows whether the event needs a
/// `Value` (to validate) or decodes its type straight from the text.
#[derive(Debug)]
pub(crate) struct Decoded<'a> {
    pub(crate) event: Cow<'a, str>,
    pub(crate) payload: DecodedPayload<'a>,
    pub(crate) id: Option<Cow<'a, str>>,
}

/// The payload of a [`Decoded`] message: always a JSON object.
#[derive(Debug)]
pub(crate) enum DecodedPayload<'a> {
    /// The object's text, borrowed from the frame.
    Raw(&'a RawValue),
    /// Already parsed (an absent payload, or the checked path's result).
    Value(Value),
}

impl DecodedPayload<'_> {
    /// The payload as a `Value`. A raw payload's syntax was checked while
    /// the envelope was read; only nesting beyond serde_json's limit fails.
    pub(crate) fn into_value(self) -> Result<Value, String> {
        match self {
            DecodedPayload::Value(value) => Ok(value),
            DecodedPayload::Raw(raw) => serde_json::from_str(raw.get())
                .map_err(|e| format!("`payload` could not be read: {e}")),
        }
    }
}

/// The envelope's shape for the common case, read in one pass straight from
/// the bytes (no `Value` for the envelope; strings and payload borrowed).
#[derive(Deserialize)]
struct Wire<'a> {
    #[serde(borrow)]
    event: Cow<'a, str>,
    #[serde(borrow, default)]
    payload: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "borrowed_or_none")]
    id: Option<Cow<'a, str>>,
}

/// `Option<Cow<str>>` that borrows when it can: serde's own impl for an
/// `Option` around a `Cow` always allocates.
fn borrowed_or_none<'de: 'a, 'a, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Cow<'a, str>>, D::Error> {
    #[derive(Deserialize)]
    struct Borrowed<'a>(#[serde(borrow)] Cow<'a, str>);
    Ok(Option::<Borrowed<'a>>::deserialize(d)?.map(|b| b.0))
}

/// Decodes one client message.
///
/// The payload must be a JSON object (or absent/`null`); the `id`, when
/// present, a string. Other top-level fields are ignored.
pub fn decode(bytes: &[u8]) -> Result<Inbound, DecodeError> {
    let decoded = decode_borrowed(bytes)?;
    let payload = decoded
        .payload
        .into_value()
        .map_err(|message| DecodeError {
            message,
            event: Some(decoded.event.to_string()),
            id: decoded.id.as_deref().map(str::to_owned),
        })?;
    Ok(Inbound {
        event: decoded.event.into_owned(),
        payload,
        id: decoded.id.map(Cow::into_owned),
    })
}

/// [`decode`], borrowing from `bytes` (see [`Decoded`]).
pub(crate) fn decode_borrowed(bytes: &[u8]) -> Result<Decoded<'_>, DecodeError> {
    // A derived struct would also accept a JSON array (`["echo"]`) as its
    // fields in order: only an object may take the fast path.
    let is_object = bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    let wire = if is_object {
        serde_json::from_slice::<Wire<'_>>(bytes)
    } else {
        Err(serde::de::Error::custom("not an object"))
    };
    match wire {
        Ok(Wire { event, payload, id }) => match payload {
            None => Ok(Decoded {
                event,
                payload: DecodedPayload::Value(Value::Object(Map::new())),
                id,
            }),
            Some(raw) if raw.get().starts_with('{') => Ok(Decoded {
                event,
                payload: DecodedPayload::Raw(raw),
                id,
            }),
            Some(_) => Err(DecodeError {
                event: Some(event.into_owned()),
                id: id.map(Cow::into_owned),
                message: "`payload` must be a JSON object".to_owned(),
            }),
        },
        // Anything unusual (wrong types, a missing field, repeated keys, not
        // JSON at all) takes the slower path, whose errors say exactly what
        // is wrong and still recover the `event` and `id` when they can.
        Err(_) => decode_value(bytes).map(|inbound| Decoded {
            event: Cow::Owned(inbound.event),
            payload: DecodedPayload::Value(inbound.payload),
            id: inbound.id.map(Cow::Owned),
        }),
    }
}

/// Decodes through a `Value`, checking each field for an exact message.
fn decode_value(bytes: &[u8]) -> Result<Inbound, DecodeError> {
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| DecodeError::new(format!("message is not valid JSON: {e}")))?;
    let Value::Object(mut object) = value else {
        return Err(DecodeError::new(
            "message must be a JSON object like {\"event\": \"name\", \"payload\": {...}}",
        ));
    };
    let id = match object.remove("id") {
        None | Some(Value::Null) => None,
        Some(Value::String(id)) => Some(id),
        Some(_) => return Err(DecodeError::new("`id` must be a string")),
    };
    let event = match object.remove("event") {
        Some(Value::String(event)) => event,
        Some(_) => {
            return Err(DecodeError {
                id,
                ..DecodeError::new("`event` must be a string")
            });
        }
        None => {
            return Err(DecodeError {
                id,
                ..DecodeError::new("message has no `event` field")
            });
        }
    };
    let payload = match object.remove("payload") {
        None | Some(Value::Null) => Value::Object(Map::new()),
        Some(payload @ Value::Object(_)) => payload,
        Some(_) => {
            return Err(DecodeError {
                event: Some(event),
                id,
                message: "`payload` must be a JSON object".to_owned(),
            });
        }
    };
    Ok(Inbound { event, payload, id })
}

/// The `event` and `id` of a message, whatever else it holds.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct Head {
    /// The event name, when it is a string.
    #[serde(default, deserialize_with = "string_or_none")]
    pub event: Option<String>,
    /// The correlation id, when it is a string.
    #[serde(default, deserialize_with = "string_or_none")]
    pub id: Option<String>,
}

fn string_or_none<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match <Value as serde::Deserialize>::deserialize(d)? {
        Value::String(s) => Some(s),
        _ => None,
    })
}

/// Reads only the `event` and `id` of a message (for errors about a message
/// that is refused before decoding, such as one over the size limit); all
/// `None` when it is not a JSON object.
pub fn decode_head(bytes: &[u8]) -> Head {
    serde_json::from_slice(bytes).unwrap_or_default()
}

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
    encode(system::ERROR, &payload, id).unwrap_or_else(|_| Frame::from_static("{}"))
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
    fn decodes_a_full_envelope() {
        let m = decode(br#"{"event":"echo","payload":{"seq":1},"id":"a","extra":1}"#);
        assert_eq!(
            m,
            Ok(Inbound {
                event: "echo".into(),
                payload: json!({"seq": 1}),
                id: Some("a".into())
            })
        );
    }

    #[test]
    fn the_fast_path_borrows_and_agrees_with_the_checked_path() {
        let texts = [
            r#"{"event":"echo","payload":{"seq":1},"id":"a","extra":[1,{"b":2}]}"#,
            r#"{"id":"z","payload":{"k":"v"},"event":"e"}"#,
            r#"{"event":"x"}"#,
            r#"{"event":"x","payload":null,"id":null}"#,
            // Repeated keys: the last one wins, as with a `Value`.
            r#"{"event":"a","event":"b","payload":{}}"#,
            r#"{"event":"a\u0062","id":"\n"}"#,
            // Arrays are not envelopes, though a derived struct reads them.
            r#"["echo"]"#,
            r#" ["echo", {}, "id"]"#,
        ];
        for text in texts {
            let fast = decode_borrowed(text.as_bytes()).map(|d| {
                let payload = d.payload.into_value().unwrap_or_default();
                (d.event.into_owned(), payload, d.id.map(Cow::into_owned))
            });
            let checked = decode_value(text.as_bytes()).map(|i| (i.event, i.payload, i.id));
            assert_eq!(fast, checked, "{text}");
        }
        let plain = decode_borrowed(br#"{"event":"echo","payload":{"a":1},"id":"r"}"#);
        assert!(matches!(
            plain,
            Ok(Decoded {
                event: Cow::Borrowed("echo"),
                payload: DecodedPayload::Raw(raw),
                id: Some(Cow::Borrowed("r")),
            }) if raw.get() == r#"{"a":1}"#
        ));
    }

    #[test]
    fn missing_or_null_payload_is_an_empty_object() {
        for text in [r#"{"event":"x"}"#, r#"{"event":"x","payload":null}"#] {
            let m = decode(text.as_bytes()).map(|m| m.payload);
            assert_eq!(m, Ok(json!({})));
        }
    }

    #[test]
    fn rejects_what_is_not_an_envelope() {
        let cases = [
            ("not json", "not valid JSON"),
            ("[1]", "must be a JSON object"),
            (r#"{"payload":{}}"#, "no `event`"),
            (r#"{"event":1}"#, "`event` must be a string"),
            (
                r#"{"event":"x","payload":[1]}"#,
                "`payload` must be a JSON object",
            ),
            (r#"{"event":"x","id":5}"#, "`id` must be a string"),
        ];
        for (text, needle) in cases {
            let err = decode(text.as_bytes())
                .err()
                .map(|e| e.message)
                .unwrap_or_default();
            assert!(err.contains(needle), "{text}: {err}");
        }
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

    #[test]
    fn head_reads_event_and_id_only() {
        let head = decode_head(br#"{"event":"send","payload":{"x":[1,2]},"id":"r-1"}"#);
        assert_eq!(head.event.as_deref(), Some("send"));
        assert_eq!(head.id.as_deref(), Some("r-1"));
        assert_eq!(decode_head(br#"{"event":3,"id":null}"#), Head::default());
        assert_eq!(decode_head(b"not json"), Head::default());
    }

    #[test]
    fn reserved_names() {
        assert!(system::is_reserved("__ping__"));
        assert!(system::is_reserved("__custom__"));
        assert!(!system::is_reserved("ping"));
        assert!(!system::is_reserved("__x"));
    }
}
