//! [`Push`]: sends a namespace's events from outside any handler (a
//! lifecycle hook, another HTTP route, a background task) to a room, one
//! connection or every connection of a user, on every node.
//!
//! The generated module wraps it with one typed method per event its spec
//! declares under `push`, so only those events, with their payload types,
//! can be sent; this handle's own sending is private to that code.

use std::sync::Arc;

use serde::Serialize;

use super::{Address, Rooms};
use crate::envelope;
use crate::error::{Error, ErrorCode, Result};

/// A cheap, cloneable handle that pushes into one namespace. Get it from
/// [`Server::push`](crate::Server::push) or
/// [`EventContext::push`](crate::EventContext::push); use it through the
/// generated module's typed `Push`.
#[derive(Clone)]
pub struct Push {
    rooms: Arc<Rooms>,
    namespace: &'static str,
}

/// One connection, or every connection of a user: where a push goes.
/// Made by [`Push::to_connection`] and [`Push::to_user`].
#[derive(Clone, Copy)]
pub struct Recipient<'a> {
    push: &'a Push,
    address: Address<'a>,
}

impl Push {
    pub(crate) fn new(rooms: Arc<Rooms>, namespace: &'static str) -> Self {
        Push { rooms, namespace }
    }

    /// The namespace it pushes into.
    pub fn namespace(&self) -> &'static str {
        self.namespace
    }

    /// The connection `id`, on whichever node it is.
    pub fn to_connection<'a>(&'a self, id: &'a str) -> Recipient<'a> {
        Recipient {
            push: self,
            address: Address::Connection(id),
        }
    }

    /// Every connection of the user `user_id`, on every node.
    pub fn to_user<'a>(&'a self, user_id: &'a str) -> Recipient<'a> {
        Recipient {
            push: self,
            address: Address::User(user_id),
        }
    }

    /// Sends `event` to every member of `room`; the number of members on
    /// this node it reached, or `ROOM_NOT_FOUND` when the room has nobody
    /// on any node (and is not static).
    pub(crate) async fn to_room<P: Serialize + ?Sized>(
        &self,
        room: &str,
        event: &str,
        payload: &P,
    ) -> Result<usize> {
        let frame = envelope::encode(event, payload, None)?;
        self.rooms.broadcast(room, &frame, None).await
    }
}

impl Recipient<'_> {
    /// Sends `event`; the number of connections on this node it reached,
    /// or `ROOM_NOT_FOUND` when nobody is there on any node.
    pub(crate) async fn send<P: Serialize + ?Sized>(
        &self,
        event: &str,
        payload: &P,
    ) -> Result<usize> {
        let frame = envelope::encode(event, payload, None)?;
        match self.push.rooms.push(&self.address, &frame).await? {
            Some(reached) => Ok(reached),
            None => Err(self.nobody()),
        }
    }

    fn nobody(&self) -> Error {
        let (what, to) = match self.address {
            Address::Connection(id) => ("connection", id),
            Address::User(id) => ("user", id),
        };
        Error::new(
            ErrorCode::RoomNotFound,
            format!("no {what} `{to}` is connected"),
        )
        .with_detail("to", to)
    }
}

impl std::fmt::Debug for Push {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Push")
            .field("namespace", &self.namespace)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Recipient<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recipient")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}
