//! The JSON envelope every message travels in (PROTOCOL.md).
//!
//! Inbound: `{"event": string, "payload": object?, "id": string?}`, decoded once
//! into an [`Inbound`]. Outbound: [`encode`] writes the envelope straight to the
//! frame's bytes, so a broadcast is serialized once and the same
//! [`Frame`] is cloned (a reference count) for every member.

use serde::Serialize;
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

/// Decodes one client message.
///
/// The payload must be a JSON object (or absent/`null`); the `id`, when
/// present, a string. Other top-level fields are ignored.
pub fn decode(bytes: &[u8]) -> Result<Inbound, DecodeError> {
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
    let text = serde_json::to_string(&Outbound { event, payload, id })?;
    Ok(Frame::from(text))
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
