//! Dispatch: from a validated message to its handler. [`Call`] carries the
//! message; the middleware chain wraps it; the app's generated dispatch
//! decodes the payload into its type and runs the handler through an
//! [`EventContext`]; a failure becomes the error envelope and `on_error`.
//!
//! Also here: the [`App`] trait generated code implements, the [`Hooks`]
//! an application implements, the event table and payload validators.

pub(crate) mod app;
pub(crate) mod call;
pub(crate) mod context;
pub(crate) mod event_table;
pub(crate) mod middleware;
pub(crate) mod namespace;
pub(crate) mod run;
pub(crate) mod validate;

pub use app::{App, Hooks};
pub use call::Call;
pub use context::EventContext;
pub use middleware::{Middleware, Next};
pub use validate::SchemaError;
