//! [`Members`]: who is in one room on this node.

use std::collections::HashMap;
use std::sync::Arc;

use crate::mailbox::Mailbox;

/// The members of one room on this node, by connection id. One member (the
/// common case: every connection's own push address is a room of one) is
/// held without a map, which saves a map's allocation per connection.
pub(crate) enum Members {
    One(Arc<Mailbox>),
    Many(HashMap<Box<str>, Arc<Mailbox>>),
}

impl Members {
    /// A room whose first member is `first`.
    pub(crate) fn new(first: &Arc<Mailbox>) -> Self {
        Members::One(Arc::clone(first))
    }

    /// Adds `member` (a member already there is not counted twice).
    pub(crate) fn insert(&mut self, member: &Arc<Mailbox>) {
        match self {
            Members::One(existing) if existing.id() == member.id() => {
                *existing = Arc::clone(member);
            }
            Members::One(existing) => {
                let mut map = HashMap::with_capacity(2);
                map.insert(existing.id().into(), Arc::clone(existing));
                map.insert(member.id().into(), Arc::clone(member));
                *self = Members::Many(map);
            }
            Members::Many(map) => {
                map.insert(member.id().into(), Arc::clone(member));
            }
        }
    }

    /// Removes the member `id`; returns how many are left.
    pub(crate) fn remove(&mut self, id: &str) -> usize {
        match self {
            Members::One(existing) => usize::from(existing.id() != id),
            Members::Many(map) => {
                map.remove(id);
                if map.len() == 1
                    && let Some(last) = map.values().next().map(Arc::clone)
                {
                    *self = Members::One(last);
                    return 1;
                }
                // Give a spike's memory back: a map keeps its capacity.
                if map.capacity() > 16 && map.len() * 4 < map.capacity() {
                    map.shrink_to(map.len() * 2);
                }
                map.len()
            }
        }
    }

    /// How many there are.
    pub(crate) fn len(&self) -> usize {
        match self {
            Members::One(_) => 1,
            Members::Many(map) => map.len(),
        }
    }

    /// Every member's mailbox.
    pub(crate) fn mailboxes(&self) -> impl Iterator<Item = &Arc<Mailbox>> {
        let (one, many) = match self {
            Members::One(mailbox) => (Some(mailbox), None),
            Members::Many(map) => (None, Some(map.values())),
        };
        one.into_iter().chain(many.into_iter().flatten())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_member_grows_into_a_map_and_shrinks_back() {
        let a = Arc::new(Mailbox::new("a", 4));
        let b = Arc::new(Mailbox::new("b", 4));
        let mut members = Members::new(&a);
        members.insert(&a);
        assert_eq!(members.len(), 1);
        members.insert(&b);
        assert_eq!(members.len(), 2);
        assert_eq!(members.remove("a"), 1);
        assert!(matches!(members, Members::One(_)));
        assert_eq!(
            members.mailboxes().map(|m| m.id()).collect::<Vec<_>>(),
            ["b"]
        );
        assert_eq!(members.remove("nobody"), 1);
        assert_eq!(members.remove("b"), 0);
    }
}
