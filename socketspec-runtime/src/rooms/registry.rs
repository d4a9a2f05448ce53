//! [`Registry`]: who is in which room on this node. It holds each member's
//! [`Mailbox`] (its outbound queue), never the connection itself.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::frame::Frame;
use crate::mailbox::{Mailbox, SendError};

type Members = HashMap<Box<str>, Arc<Mailbox>>;

/// Who is in which room on this node.
#[derive(Default)]
pub(crate) struct Registry {
    rooms: Mutex<HashMap<String, Members>>,
}

/// What a local delivery did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Delivery {
    /// Members the frame was queued for.
    pub delivered: usize,
    /// Members cut off as slow consumers instead.
    pub dropped: usize,
}

impl Registry {
    /// Adds `member`; returns the local member count after the join.
    pub(crate) fn join(&self, room: &str, member: &Arc<Mailbox>) -> usize {
        let mut rooms = self.lock();
        let members = rooms.entry(room.to_owned()).or_default();
        members.insert(member.id().into(), Arc::clone(member));
        members.len()
    }

    /// Removes `member_id`; returns the local member count after the leave.
    pub(crate) fn leave(&self, room: &str, member_id: &str) -> usize {
        let mut rooms = self.lock();
        let Some(members) = rooms.get_mut(room) else {
            return 0;
        };
        members.remove(member_id);
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

    /// The non-empty rooms on this node with their local member counts.
    pub(crate) fn rooms(&self) -> Vec<(String, usize)> {
        self.lock()
            .iter()
            .map(|(room, members)| (room.clone(), members.len()))
            .collect()
    }

    /// Queues the same frame for every member but `except`. Never blocks: a
    /// member whose queue is full is closed as a slow consumer.
    pub(crate) fn deliver(&self, room: &str, frame: &Frame, except: Option<&str>) -> Delivery {
        let rooms = self.lock();
        let mut delivery = Delivery::default();
        let Some(members) = rooms.get(room) else {
            return delivery;
        };
        for (id, mailbox) in members {
            if Some(&**id) == except {
                continue;
            }
            match mailbox.send(frame.clone()) {
                Ok(()) => delivery.delivered += 1,
                Err(SendError::SlowConsumer) => delivery.dropped += 1,
                Err(SendError::Closed) => {}
            }
        }
        delivery
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Members>> {
        self.rooms.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_join_leave_and_receive_once() {
        let registry = Registry::default();
        let a = Arc::new(Mailbox::new("a", 4));
        let b = Arc::new(Mailbox::new("b", 4));
        assert_eq!(registry.join("r", &a), 1);
        assert_eq!(registry.join("r", &b), 2);
        assert_eq!(registry.join("r", &b), 2);
        let delivery = registry.deliver("r", &Frame::from("x"), Some("a"));
        assert_eq!(delivery.delivered, 1);
        assert_eq!((a.len(), b.len()), (0, 1));
        assert_eq!(registry.leave("r", "a"), 1);
        assert_eq!(registry.leave("r", "b"), 0);
        assert_eq!(registry.room_count(), 0);
    }
}
