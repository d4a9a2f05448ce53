//! [`Registry`]: who is in which room on this node. It holds each member's
//! [`Mailbox`] (its outbound queue), never the connection itself.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::frame::Frame;
use crate::mailbox::{Mailbox, SendError};

use super::members::Members;

/// Who is in which room on this node.
#[derive(Default)]
pub(crate) struct Registry {
    rooms: Mutex<HashMap<String, Members>>,
    /// The server-wide room cap this registry's rooms count against;
    /// `None` for registries that are not rooms (connection addresses).
    budget: Option<Arc<RoomBudget>>,
}

/// How many rooms exist on this node across namespaces, and how many may.
#[derive(Debug)]
pub(crate) struct RoomBudget {
    used: AtomicUsize,
    max: usize,
}

impl RoomBudget {
    /// A budget of `max` rooms.
    pub(crate) fn new(max: usize) -> Self {
        RoomBudget {
            used: AtomicUsize::new(0),
            max,
        }
    }

    /// The cap.
    pub(crate) fn max(&self) -> usize {
        self.max
    }

    fn take(&self) -> bool {
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                (used < self.max).then_some(used + 1)
            })
            .is_ok()
    }

    fn give_back(&self) {
        let _ = self
            .used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_sub(1)
            });
    }
}

/// A join that would create a room past the server-wide cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RoomCapReached;

/// What a local delivery did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Delivery {
    /// Members the frame was queued for.
    pub delivered: usize,
    /// Members cut off as slow consumers instead.
    pub dropped: usize,
}

impl Registry {
    /// A registry of rooms counted against `budget`.
    pub(crate) fn counted(budget: Arc<RoomBudget>) -> Self {
        Registry {
            rooms: Mutex::default(),
            budget: Some(budget),
        }
    }

    /// Adds `member`; returns the local member count after the join, or
    /// `RoomCapReached` when the room is new and the budget is spent.
    pub(crate) fn join(&self, room: &str, member: &Arc<Mailbox>) -> Result<usize, RoomCapReached> {
        let mut rooms = self.lock();
        if let Some(members) = rooms.get_mut(room) {
            members.insert(member);
            return Ok(members.len());
        }
        if self.budget.as_ref().is_some_and(|b| !b.take()) {
            return Err(RoomCapReached);
        }
        rooms.insert(room.to_owned(), Members::new(member));
        Ok(1)
    }

    /// The server-wide cap this registry counts against.
    pub(crate) fn room_cap(&self) -> Option<usize> {
        self.budget.as_ref().map(|b| b.max())
    }

    /// Removes `member_id`; returns the local member count after the leave.
    pub(crate) fn leave(&self, room: &str, member_id: &str) -> usize {
        let mut rooms = self.lock();
        let Some(members) = rooms.get_mut(room) else {
            return 0;
        };
        let left = members.remove(member_id);
        if left == 0 {
            rooms.remove(room);
            if let Some(budget) = &self.budget {
                budget.give_back();
            }
            // Give a spike's memory back: a map keeps its capacity.
            let len = rooms.len();
            if rooms.capacity() > 64 && len * 4 < rooms.capacity() {
                rooms.shrink_to(len * 2);
            }
        }
        left
    }

    pub(crate) fn member_count(&self, room: &str) -> usize {
        self.lock().get(room).map_or(0, Members::len)
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

    /// Every member of the rooms whose names start with `prefix`.
    pub(crate) fn members_under(&self, prefix: &str) -> Vec<Arc<Mailbox>> {
        self.lock()
            .iter()
            .filter(|(room, _)| room.starts_with(prefix))
            .flat_map(|(_, members)| members.mailboxes().cloned().collect::<Vec<_>>())
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
        for mailbox in members.mailboxes() {
            if Some(mailbox.id()) == except {
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
        assert_eq!(registry.join("r", &a), Ok(1));
        assert_eq!(registry.join("r", &b), Ok(2));
        assert_eq!(registry.join("r", &b), Ok(2));
        let delivery = registry.deliver("r", &Frame::from("x"), Some("a"));
        assert_eq!(delivery.delivered, 1);
        assert_eq!((a.len(), b.len()), (0, 1));
        assert_eq!(registry.leave("r", "a"), 1);
        assert_eq!(registry.leave("r", "b"), 0);
        assert_eq!(registry.room_count(), 0);
    }

    #[test]
    fn new_rooms_count_against_the_budget() {
        let budget = Arc::new(RoomBudget::new(2));
        let registry = Registry::counted(Arc::clone(&budget));
        let a = Arc::new(Mailbox::new("a", 4));
        assert_eq!(registry.join("r1", &a), Ok(1));
        assert_eq!(registry.join("r2", &a), Ok(1));
        assert_eq!(registry.join("r3", &a), Err(RoomCapReached));
        // An existing room takes more members.
        let b = Arc::new(Mailbox::new("b", 4));
        assert_eq!(registry.join("r1", &b), Ok(2));
        registry.leave("r2", "a");
        assert_eq!(registry.join("r3", &a), Ok(1));
    }
}
