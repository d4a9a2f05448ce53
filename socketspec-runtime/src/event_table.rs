//! [`EventTable`]: event name to its index in the spec, looked up once per
//! inbound message.
//!
//! A sorted list searched by binary search: a spec has tens of events, so a
//! few byte comparisons beat hashing the name with SipHash (which a
//! `HashMap` would do on every message).

use crate::meta::EventMeta;

pub(crate) struct EventTable {
    /// `(name, index)`, sorted by name.
    sorted: Vec<(&'static str, usize)>,
}

impl EventTable {
    pub(crate) fn new(events: &'static [EventMeta]) -> Self {
        let mut sorted: Vec<_> = events
            .iter()
            .enumerate()
            .map(|(i, e)| (e.name, i))
            .collect();
        sorted.sort_unstable_by_key(|(name, _)| *name);
        EventTable { sorted }
    }

    /// The index of the event called `name`.
    pub(crate) fn get(&self, name: &str) -> Option<usize> {
        self.sorted
            .binary_search_by(|(candidate, _)| (*candidate).cmp(name))
            .ok()
            .and_then(|at| self.sorted.get(at))
            .map(|(_, index)| *index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(name: &'static str) -> EventMeta {
        EventMeta {
            name,
            ordered: false,
            executor: false,
            payload_schema: "{}",
            type_checked: false,
        }
    }

    #[test]
    fn finds_every_event_by_name_and_nothing_else() {
        let events: &'static [EventMeta] = Box::leak(Box::new([
            event("send"),
            event("echo"),
            event("join"),
            event("a"),
        ]));
        let table = EventTable::new(events);
        for (i, e) in events.iter().enumerate() {
            assert_eq!(table.get(e.name), Some(i));
        }
        assert_eq!(table.get("missing"), None);
        assert_eq!(table.get(""), None);
        assert_eq!(EventTable::new(&[]).get("echo"), None);
    }
}
