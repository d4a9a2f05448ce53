//! The HTTP front: the [`Server`] and its [`ServerBuilder`], the upgrade
//! (origin, connection cap, authentication), the health, metrics and docs
//! routes, and the graceful shutdown. Each namespace is an endpoint
//! (`endpoint`) that hands upgraded streams to its connection loop.

mod builder;
mod docs;
mod endpoint;
mod http;
mod origin;
mod server;
mod upgrade;

pub use builder::ServerBuilder;
pub use http::Body;
pub use server::{Health, HealthStatus, Server, ShutdownHandle};
pub use upgrade::Refusal;
