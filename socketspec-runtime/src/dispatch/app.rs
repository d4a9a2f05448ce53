//! [`App`]: what generated code implements for a spec, and [`Hooks`]: the
//! lifecycle hooks an application may implement.

use std::future::Future;
use std::sync::Arc;

use socketspec_protocol::DisconnectReason;

use super::call::Call;
use crate::connection::{Connection, RoomHooks};
use crate::error::{Error, Result};
use crate::future::BoxFuture;
use crate::meta::AppMeta;
use crate::rooms::RoomMatch;

/// A spec's server side: the generated `Service<H>` implements it by handing
/// each event to the user's `Handler`.
///
/// Users rarely implement this by hand; `socketspec-codegen` writes the
/// implementation.
pub trait App: Send + Sync + 'static {
    /// The lifecycle hooks (the user's handler, in generated code).
    type Hooks: Hooks;

    /// The spec's static description.
    fn meta(&self) -> &'static AppMeta;

    /// The lifecycle hooks.
    fn hooks(&self) -> &Self::Hooks;

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
}

/// Lifecycle hooks: code that runs as connections come and go, join and
/// leave rooms, and as handlers fail. Every method has a default that does
/// nothing, so `impl Hooks for MyHandler {}` is a complete implementation.
///
/// ```
/// use socketspec_runtime::{Connection, Hooks, Result, DisconnectReason};
///
/// struct Chat;
///
/// impl Hooks for Chat {
///     async fn on_connect(&self, conn: &Connection) -> Result<()> {
///         conn.join("lobby").await?;
///         Ok(())
///     }
///     async fn on_disconnect(&self, conn: &Connection, reason: &DisconnectReason) {
///         tracing::debug!(connection = conn.id(), %reason, "gone");
///     }
/// }
/// ```
pub trait Hooks: Send + Sync + 'static {
    /// Runs after a connection is established (after `__connect__`). An
    /// error closes the connection with 1011.
    fn on_connect(&self, conn: &Connection) -> impl Future<Output = Result<()>> + Send {
        let _ = conn;
        async { Ok(()) }
    }

    /// Runs after a connection closed, with the reason (`client_close`,
    /// `idle_timeout`, `server_shutdown`...). It runs once per connection,
    /// on every path a connection can end by.
    fn on_disconnect(
        &self,
        conn: &Connection,
        reason: &DisconnectReason,
    ) -> impl Future<Output = ()> + Send {
        let _ = (conn, reason);
        async {}
    }

    /// Runs when a handler returns an error or panics (not for payloads
    /// refused before any handler ran).
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

    /// Runs after a connection leaves a room (also as it disconnects).
    fn on_room_leave(&self, conn: &Connection, room: &str) -> impl Future<Output = ()> + Send {
        let _ = (conn, room);
        async {}
    }
}

/// An app's room hooks, callable from its connections without their
/// knowing the app's type.
impl<A: App> RoomHooks for A {
    fn guard<'a>(&'a self, conn: &'a Connection, room: &'a RoomMatch<'a>) -> BoxFuture<'a, bool> {
        Box::pin(App::guard(self, conn, room))
    }
    fn on_room_join<'a>(&'a self, conn: &'a Connection, room: &'a str) -> BoxFuture<'a, ()> {
        Box::pin(self.hooks().on_room_join(conn, room))
    }
    fn on_room_leave<'a>(&'a self, conn: &'a Connection, room: &'a str) -> BoxFuture<'a, ()> {
        Box::pin(self.hooks().on_room_leave(conn, room))
    }
}
