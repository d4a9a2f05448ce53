//! Rooms: name patterns such as `chat:{room}`, and the registry of who is in
//! which room on this node.
//!
//! A room is a string. The spec's patterns name families of rooms; a
//! parameter (`{room}`) matches one or more characters. Static rooms exist
//! even when empty; other rooms exist while they have members.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, PoisonError};

use crate::connection::{Connection, SendError};
use crate::envelope::Frame;
use crate::meta::RoomMeta;

/// A parsed room pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomPattern {
    text: String,
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Param(String),
}

/// A room name matched against a pattern: the pattern's index in the spec and
/// the parameter values, in the pattern's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomMatch<'a> {
    /// The full room name, e.g. `admin:ops`.
    pub room: &'a str,
    /// The index of the pattern in the spec's `rooms`.
    pub pattern_index: usize,
    /// `(name, value)` for each parameter, e.g. `("section", "ops")`.
    pub params: Vec<(&'a str, &'a str)>,
}

impl RoomMatch<'_> {
    /// The value of parameter `name`.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| *v)
    }
}

impl RoomPattern {
    /// Parses `text`; `{name}` marks a parameter. Malformed braces are
    /// treated as literal text (the code generator rejects them earlier).
    pub fn parse(text: &str) -> Self {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            let Some(close) = rest[open..].find('}') else {
                break;
            };
            if open > 0 {
                parts.push(Part::Literal(rest[..open].to_owned()));
            }
            parts.push(Part::Param(rest[open + 1..open + close].to_owned()));
            rest = &rest[open + close + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Literal(rest.to_owned()));
        }
        RoomPattern {
            text: text.to_owned(),
            parts,
        }
    }

    /// The pattern's text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the pattern has parameters.
    pub fn has_params(&self) -> bool {
        self.parts.iter().any(|p| matches!(p, Part::Param(_)))
    }

    /// Fills the parameters in order: `chat:{room}` with `["general"]` gives
    /// `chat:general`.
    pub fn fill(&self, values: &[&str]) -> String {
        let mut out = String::with_capacity(self.text.len() + 16);
        let mut values = values.iter();
        for part in &self.parts {
            match part {
                Part::Literal(l) => out.push_str(l),
                Part::Param(_) => out.push_str(values.next().copied().unwrap_or_default()),
            }
        }
        out
    }

    /// Matches a room name, returning the parameter values.
    pub fn matches<'r>(&'r self, room: &'r str) -> Option<Vec<(&'r str, &'r str)>> {
        let mut params = Vec::new();
        let mut rest = room;
        let mut parts = self.parts.iter().peekable();
        while let Some(part) = parts.next() {
            match part {
                Part::Literal(l) => rest = rest.strip_prefix(l.as_str())?,
                Part::Param(name) => {
                    // A parameter runs to the next literal (or the end).
                    let end = match parts.peek() {
                        Some(Part::Literal(next)) => rest.find(next.as_str())?,
                        Some(Part::Param(_)) => 1.min(rest.len()),
                        None => rest.len(),
                    };
                    if end == 0 {
                        return None;
                    }
                    params.push((name.as_str(), &rest[..end]));
                    rest = &rest[end..];
                }
            }
        }
        rest.is_empty().then_some(params)
    }
}

/// The spec's room patterns plus the configured static rooms.
#[derive(Debug)]
pub(crate) struct RoomCatalog {
    patterns: Vec<(RoomPattern, &'static RoomMeta)>,
    static_rooms: HashSet<String>,
}

impl RoomCatalog {
    pub(crate) fn new(rooms: &'static [RoomMeta], extra_static: &[String]) -> Self {
        let patterns: Vec<_> = rooms
            .iter()
            .map(|meta| (RoomPattern::parse(meta.pattern), meta))
            .collect();
        let mut static_rooms: HashSet<String> = extra_static.iter().cloned().collect();
        for (pattern, meta) in &patterns {
            if meta.is_static && !pattern.has_params() {
                static_rooms.insert(pattern.as_str().to_owned());
            }
        }
        RoomCatalog {
            patterns,
            static_rooms,
        }
    }

    /// The first pattern `room` matches, with its metadata.
    pub(crate) fn lookup<'r>(
        &'r self,
        room: &'r str,
    ) -> Option<(RoomMatch<'r>, &'static RoomMeta)> {
        self.patterns
            .iter()
            .enumerate()
            .find_map(|(index, (pattern, meta))| {
                pattern.matches(room).map(|params| {
                    (
                        RoomMatch {
                            room,
                            pattern_index: index,
                            params,
                        },
                        *meta,
                    )
                })
            })
    }

    pub(crate) fn is_static(&self, room: &str) -> bool {
        self.static_rooms.contains(room)
    }
}

/// Who is in which room on this node.
#[derive(Default)]
pub(crate) struct LocalRooms {
    rooms: Mutex<HashMap<String, HashMap<String, Connection>>>,
}

/// What a local delivery did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Delivery {
    /// Members the frame was queued for.
    pub delivered: usize,
    /// Members cut off as slow consumers instead.
    pub dropped: usize,
}

impl LocalRooms {
    /// Adds `conn`; returns the local member count after the join.
    pub(crate) fn join(&self, room: &str, conn: &Connection) -> usize {
        let mut rooms = self.lock();
        let members = rooms.entry(room.to_owned()).or_default();
        members.insert(conn.id().to_owned(), conn.clone());
        members.len()
    }

    /// Removes `conn_id`; returns the local member count after the leave.
    pub(crate) fn leave(&self, room: &str, conn_id: &str) -> usize {
        let mut rooms = self.lock();
        let Some(members) = rooms.get_mut(room) else {
            return 0;
        };
        members.remove(conn_id);
        let left = members.len();
        if left == 0 {
            rooms.remove(room);
        }
        left
    }

    pub(crate) fn member_count(&self, room: &str) -> usize {
        self.lock().get(room).map_or(0, HashMap::len)
    }

    /// Number of non-empty rooms on this node.
    pub(crate) fn room_count(&self) -> usize {
        self.lock().len()
    }

    /// Queues the same frame for every member but `except`. Never blocks: a
    /// member whose queue is full is closed as a slow consumer.
    pub(crate) fn deliver(&self, room: &str, frame: &Frame, except: Option<&str>) -> Delivery {
        let rooms = self.lock();
        let mut delivery = Delivery::default();
        let Some(members) = rooms.get(room) else {
            return delivery;
        };
        for (id, conn) in members {
            if Some(id.as_str()) == except {
                continue;
            }
            match conn.send_frame(frame.clone()) {
                Ok(()) => delivery.delivered += 1,
                Err(SendError::SlowConsumer) => delivery.dropped += 1,
                Err(SendError::Closed) => {}
            }
        }
        delivery
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, HashMap<String, Connection>>> {
        self.rooms.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_and_matches_parameters() {
        let p = RoomPattern::parse("chat:{room}");
        assert_eq!(p.fill(&["general"]), "chat:general");
        assert_eq!(p.matches("chat:general"), Some(vec![("room", "general")]));
        assert_eq!(p.matches("chat:"), None);
        assert_eq!(p.matches("admin:x"), None);
    }

    #[test]
    fn literal_patterns_match_exactly() {
        let p = RoomPattern::parse("lobby");
        assert!(!p.has_params());
        assert_eq!(p.matches("lobby"), Some(vec![]));
        assert_eq!(p.matches("lobby2"), None);
    }

    #[test]
    fn several_parameters() {
        let p = RoomPattern::parse("org:{org}/team:{team}");
        assert_eq!(
            p.matches("org:acme/team:red"),
            Some(vec![("org", "acme"), ("team", "red")])
        );
        assert_eq!(p.fill(&["a", "b"]), "org:a/team:b");
    }
}
