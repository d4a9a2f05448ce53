//! The broadcast message on the channel: length-prefixed fields, so room
//! names and ids may hold any character.

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

#[cfg(test)]
mod tests {
    use super::*;

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
