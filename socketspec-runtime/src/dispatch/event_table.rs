//! [`EventTable`]: event name to its index in the spec, looked up once per
//! inbound message.
//!
//! Names grouped by length: a lookup compares bytes only with the few
//! names of the same length (in practice one or two), which beats both a
//! binary search (a byte comparison per step) and hashing the name with
//! SipHash (which a `HashMap` would do on every message).

use crate::meta::EventMeta;

pub(crate) struct EventTable {
    /// `by_len[n]`: the `(name, index)` of every event whose name is `n`
    /// bytes long.
    by_len: Vec<Vec<(&'static str, usize)>>,
}

impl EventTable {
    pub(crate) fn new(events: &'static [EventMeta]) -> Self {
        let longest = events.iter().map(|e| e.name.len()).max().unwrap_or(0);
        let mut by_len = vec![Vec::new(); longest + 1];
        for (index, event) in events.iter().enumerate() {
            if let Some(group) = by_len.get_mut(event.name.len()) {
                group.push((event.name, index));
            }
        }
        EventTable { by_len }
    }

    /// The index of the event called `name`.
    pub(crate) fn get(&self, name: &str) -> Option<usize> {
        self.by_len
            .get(name.len())?
            .iter()
            .find(|(candidate, _)| candidate.as_bytes() == name.as_bytes())
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
            event("jump"),
            event("a-much-longer-event-name"),
        ]));
        let table = EventTable::new(events);
        for (i, e) in events.iter().enumerate() {
            assert_eq!(table.get(e.name), Some(i));
        }
        assert_eq!(table.get("missing"), None);
        assert_eq!(table.get("jum"), None);
        assert_eq!(table.get("a-much-longer-event-name-still"), None);
        assert_eq!(table.get(""), None);
        assert_eq!(EventTable::new(&[]).get("echo"), None);
    }
}
