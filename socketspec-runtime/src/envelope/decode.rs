//! Inbound: `{"event": string, "payload": object?, "id": string?}`, decoded
//! once. The connection loop's [`Decoded`] borrows the event name, the id
//! and the payload's text from the frame; [`decode`] is the owned form.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

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
    fn head_reads_event_and_id_only() {
        let head = decode_head(br#"{"event":"send","payload":{"x":[1,2]},"id":"r-1"}"#);
        assert_eq!(head.event.as_deref(), Some("send"));
        assert_eq!(head.id.as_deref(), Some("r-1"));
        assert_eq!(decode_head(br#"{"event":3,"id":null}"#), Head::default());
        assert_eq!(decode_head(b"not json"), Head::default());
    }
}
