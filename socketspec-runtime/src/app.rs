//! The [`App`] trait: what generated code implements for a spec, and the
//! type-erased hooks the runtime calls from non-generic code.

use std::future::Future;
use std::sync::Arc;

use crate::auth::BoxFuture;
use crate::call::Call;
use crate::connection::Connection;
use crate::error::{Error, Result};
use crate::meta::AppMeta;
use crate::rooms::RoomMatch;

/// A spec's server side: the generated `Service<H>` implements it by handing
/// each event to the user's `Handler`.
///
/// Users rarely implement this by hand; `socketspec_codegen` writes the
/// implementation, and the hooks' defaults do nothing.
pub trait App: Send + Sync + 'static {
    /// The spec's static description.
    fn meta(&self) -> &'static AppMeta;

    /// Decodes `call`'s payload into the event's type and runs its handler.
    /// The payload has already passed the event's JSON Schema. The future
    /// does not borrow `this` (`use<Self>`): the runtime keeps it next to
    /// the call's bookkeeping in one allocation.
    fn dispatch(
        this: &Arc<Self>,
        call: Call,
    ) -> impl Future<Output = Result<()>> + Send + 'static + use<Self>;

    /// Whether `conn` may join the guarded room `room`.
    fn guard(&self, conn: &Connection, room: &RoomMatch<'_>) -> impl Future<Output = bool> + Send {
        let _ = (conn, room);
        async { true }
    }

    /// Runs after a connection is established (after `__connect__`). An
    /// error closes the connection with 1011.
    fn on_connect(&self, conn: &Connection) -> impl Future<Output = Result<()>> + Send {
        let _ = conn;
        async { Ok(()) }
    }

    /// Runs after a connection closes, with the reason (`client_close`,
    /// `idle_timeout`, `server_shutdown`...).
    fn on_disconnect(&self, conn: &Connection, reason: &str) -> impl Future<Output = ()> + Send {
        let _ = (conn, reason);
        async {}
    }

    /// Runs when a handler returns an error or panics.
    fn on_error(
        &self,
        conn: &Connection,
        event: &str,
        error: &Error,
    ) -> impl Future<Output = ()> + Send {
        let _ = (conn, event, error);
        async {}
    }

    /// Runs after a connection joins a room.
    fn on_room_join(&self, conn: &Connection, room: &str) -> impl Future<Output = ()> + Send {
        let _ = (conn, room);
        async {}
    }

    /// Runs after a connection leaves a room (also when it disconnects).
    fn on_room_leave(&self, conn: &Connection, room: &str) -> impl Future<Output = ()> + Send {
        let _ = (conn, room);
        async {}
    }
}

/// The hooks rooms need, callable without knowing the app's type.
pub(crate) trait Hooks: Send + Sync + 'static {
    fn guard<'a>(&'a self, conn: &'a Connection, room: &'a RoomMatch<'a>) -> BoxFuture<'a, bool>;
    fn on_room_join<'a>(&'a self, conn: &'a Connection, room: &'a str) -> BoxFuture<'a, ()>;
    fn on_room_leave<'a>(&'a self, conn: &'a Connection, room: &'a str) -> BoxFuture<'a, ()>;
}

impl<A: App> Hooks for A {
    fn guard<'a>(&'a self, conn: &'a Connection, room: &'a RoomMatch<'a>) -> BoxFuture<'a, bool> {
        Box::pin(App::guard(self, conn, room))
    }
    fn on_room_join<'a>(&'a self, conn: &'a Connection, room: &'a str) -> BoxFuture<'a, ()> {
        Box::pin(App::on_room_join(self, conn, room))
    }
    fn on_room_leave<'a>(&'a self, conn: &'a Connection, room: &'a str) -> BoxFuture<'a, ()> {
        Box::pin(App::on_room_leave(self, conn, room))
    }
}
