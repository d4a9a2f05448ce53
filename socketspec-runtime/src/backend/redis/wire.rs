//! The broadcast message on the channel: length-prefixed fields, so room
//! names and ids may hold any character; and relay messages (between two
//! nodes, about one relayed connection) as JSON.

use serde_json::{Value, json};

use crate::backend::{RelayBody, RelayMessage};

pub(super) struct Message<'a> {
    pub(super) node: &'a str,
    pub(super) room: &'a str,
    pub(super) except: Option<&'a str>,
    pub(super) frame: &'a [u8],
}

pub(super) fn encode(node: &str, room: &str, except: Option<&str>, frame: &[u8]) -> Vec<u8> {
    let except = except.unwrap_or("");
    let mut out = Vec::with_capacity(frame.len() + node.len() + room.len() + except.len() + 24);
    for field in [node, room, except] {
        out.extend_from_slice(field.len().to_string().as_bytes());
        out.push(b':');
        out.extend_from_slice(field.as_bytes());
    }
    out.extend_from_slice(frame);
    out
}

fn field(bytes: &[u8]) -> Option<(&str, &[u8])> {
    let colon = bytes.iter().position(|b| *b == b':')?;
    let len: usize = std::str::from_utf8(&bytes[..colon]).ok()?.parse().ok()?;
    let rest = &bytes[colon + 1..];
    let text = std::str::from_utf8(rest.get(..len)?).ok()?;
    Some((text, &rest[len..]))
}

pub(super) fn decode(bytes: &[u8]) -> Option<Message<'_>> {
    let (node, rest) = field(bytes)?;
    let (room, rest) = field(rest)?;
    let (except, frame) = field(rest)?;
    Some(Message {
        node,
        room,
        except: (!except.is_empty()).then_some(except),
        frame,
    })
}

/// A relay message as JSON.
pub(super) fn encode_relay(message: &RelayMessage) -> Vec<u8> {
    let pairs =
        |list: &[(String, String)]| -> Value { list.iter().map(|(k, v)| json!([k, v])).collect() };
    let body = match &message.body {
        RelayBody::Open {
            namespace,
            headers,
            query,
        } => {
            json!({"open": {"namespace": namespace, "headers": pairs(headers), "query": pairs(query)}})
        }
        RelayBody::Text(text) => json!({"text": text}),
        RelayBody::Close { code, reason } => json!({"close": {"code": code, "reason": reason}}),
    };
    json!({"relay": message.relay, "from": message.from_node, "body": body})
        .to_string()
        .into_bytes()
}

/// Reads a relay message; `None` when it is not one.
pub(super) fn decode_relay(bytes: &[u8]) -> Option<RelayMessage> {
    let value: Value = serde_json::from_slice(bytes).ok()?;
    let text = |v: &Value| v.as_str().map(str::to_owned);
    let pairs = |v: &Value| -> Option<Vec<(String, String)>> {
        v.as_array()?
            .iter()
            .map(|pair| Some((text(pair.get(0)?)?, text(pair.get(1)?)?)))
            .collect()
    };
    let body = &value["body"];
    let body = if let Some(open) = body.get("open") {
        RelayBody::Open {
            namespace: text(&open["namespace"])?,
            headers: pairs(&open["headers"])?,
            query: pairs(&open["query"])?,
        }
    } else if let Some(frame) = body.get("text") {
        RelayBody::Text(text(frame)?)
    } else {
        let close = body.get("close")?;
        RelayBody::Close {
            code: close["code"].as_u64().and_then(|c| u16::try_from(c).ok()),
            reason: text(&close["reason"]).unwrap_or_default(),
        }
    };
    Some(RelayMessage::new(
        text(&value["relay"])?,
        text(&value["from"])?,
        body,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relay_messages_round_trip() {
        for body in [
            RelayBody::Open {
                namespace: "/ops".to_owned(),
                headers: vec![("authorization".to_owned(), "Bearer x".to_owned())],
                query: vec![("resume".to_owned(), "n.t".to_owned())],
            },
            RelayBody::Text(r#"{"event":"e","payload":{"a":"\n"}}"#.to_owned()),
            RelayBody::Close {
                code: Some(1000),
                reason: "bye".to_owned(),
            },
            RelayBody::Close {
                code: None,
                reason: String::new(),
            },
        ] {
            let message = RelayMessage::new("r1", "node-a", body);
            assert_eq!(decode_relay(&encode_relay(&message)), Some(message));
        }
        assert_eq!(decode_relay(b"{}"), None);
        assert_eq!(decode_relay(b"nope"), None);
    }

    #[test]
    fn round_trips_any_characters() {
        let bytes = encode("n1", "chat:a:b\n", Some("c-1"), br#"{"event":"x"}"#);
        let m = decode(&bytes);
        let Some(m) = m else { panic!("decodes") };
        assert_eq!(
            (m.node, m.room, m.except, m.frame),
            ("n1", "chat:a:b\n", Some("c-1"), &br#"{"event":"x"}"#[..])
        );
        let bytes = encode("n1", "r", None, b"{}");
        assert_eq!(decode(&bytes).map(|m| m.except), Some(None));
        assert!(decode(b"9:short").is_none());
    }
}
