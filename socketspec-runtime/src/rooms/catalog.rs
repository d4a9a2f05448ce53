//! [`RoomCatalog`]: the spec's room patterns and the static rooms, and
//! [`RoomMatch`], a room name matched against them.

use std::collections::HashSet;

use socketspec_protocol::{PatternError, RoomPattern};

use crate::meta::RoomMeta;

/// A room name matched against a pattern: the pattern's index in the spec and
/// the parameter values, in the pattern's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomMatch<'a> {
    /// The full room name, e.g. `admin:ops`.
    pub room: &'a str,
    /// The pattern, e.g. `admin:{section}`.
    pub pattern: &'static str,
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

/// A room pattern of the spec that does not parse (a hand-written
/// `AppMeta`; generated code is checked at build time).
#[derive(Debug, thiserror::Error)]
#[error("room pattern `{pattern}`: {error}")]
pub struct InvalidPattern {
    /// The pattern's text.
    pub pattern: String,
    /// What is wrong with it.
    pub error: PatternError,
}

/// The spec's room patterns plus the configured static rooms.
#[derive(Debug)]
pub(crate) struct RoomCatalog {
    patterns: Vec<(RoomPattern, &'static RoomMeta)>,
    static_rooms: HashSet<String>,
}

impl RoomCatalog {
    pub(crate) fn new(
        rooms: &'static [RoomMeta],
        extra_static: &[String],
    ) -> Result<Self, InvalidPattern> {
        let mut patterns = Vec::with_capacity(rooms.len());
        for meta in rooms {
            let pattern = RoomPattern::parse(meta.pattern).map_err(|error| InvalidPattern {
                pattern: meta.pattern.to_owned(),
                error,
            })?;
            patterns.push((pattern, meta));
        }
        let mut static_rooms: HashSet<String> = extra_static.iter().cloned().collect();
        for (pattern, meta) in &patterns {
            if meta.is_static && !pattern.has_params() {
                static_rooms.insert(pattern.as_str().to_owned());
            }
        }
        Ok(RoomCatalog {
            patterns,
            static_rooms,
        })
    }

    /// The first pattern `room` matches, with its metadata.
    pub(crate) fn lookup<'r>(
        &'r self,
        room: &'r str,
    ) -> Option<(RoomMatch<'r>, &'static RoomMeta)> {
        self.patterns.iter().find_map(|(pattern, meta)| {
            pattern.matches(room).map(|params| {
                (
                    RoomMatch {
                        room,
                        pattern: meta.pattern,
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

    /// The static rooms, sorted.
    pub(crate) fn static_rooms(&self) -> Vec<&str> {
        let mut rooms: Vec<&str> = self.static_rooms.iter().map(String::as_str).collect();
        rooms.sort_unstable();
        rooms
    }
}
