//! Middleware: code that wraps every event handler.
//!
//! A middleware gets the [`Call`] and the rest of the chain as [`Next`]. It can
//! inspect or rewrite the payload, time the handler, or stop the chain by
//! returning without calling `next.run(call)`.
//!
//! ```
//! use socketspec_runtime::{Call, Middleware, Next, Result};
//!
//! struct LogEvents;
//!
//! impl Middleware for LogEvents {
//!     async fn handle(&self, call: Call, next: Next<'_>) -> Result<()> {
//!         println!("[{}] {}", call.connection().id(), call.event());
//!         next.run(call).await
//!     }
//! }
//! ```

use std::future::Future;
use std::sync::Arc;

use super::call::Call;
use crate::error::Result;
use crate::future::BoxFuture;

/// Wraps every event handler (of every namespace of a server).
pub trait Middleware: Send + Sync + 'static {
    /// Handles `call`, usually by calling `next.run(call)` somewhere inside.
    fn handle(&self, call: Call, next: Next<'_>) -> impl Future<Output = Result<()>> + Send;
}

/// [`Middleware`] with its future boxed, so a chain can hold any middleware.
pub(crate) trait DynMiddleware: Send + Sync + 'static {
    fn handle<'a>(&'a self, call: Call, next: Next<'a>) -> BoxFuture<'a, Result<()>>;
}

impl<M: Middleware> DynMiddleware for M {
    fn handle<'a>(&'a self, call: Call, next: Next<'a>) -> BoxFuture<'a, Result<()>> {
        Box::pin(Middleware::handle(self, call, next))
    }
}

/// A server's middleware, outermost first.
pub(crate) type Chain = Arc<[Arc<dyn DynMiddleware>]>;

/// The handler at the end of the chain.
pub(crate) type Endpoint<'a> = &'a (dyn Fn(Call) -> BoxFuture<'static, Result<()>> + Send + Sync);

/// The rest of the middleware chain, ending in the event's handler.
pub struct Next<'a> {
    rest: &'a [Arc<dyn DynMiddleware>],
    endpoint: Endpoint<'a>,
}

impl<'a> Next<'a> {
    pub(crate) fn new(chain: &'a [Arc<dyn DynMiddleware>], endpoint: Endpoint<'a>) -> Self {
        Next {
            rest: chain,
            endpoint,
        }
    }

    /// Runs the rest of the chain and the handler.
    pub async fn run(self, call: Call) -> Result<()> {
        match self.rest.split_first() {
            Some((first, rest)) => {
                first
                    .handle(
                        call,
                        Next {
                            rest,
                            endpoint: self.endpoint,
                        },
                    )
                    .await
            }
            None => (self.endpoint)(call).await,
        }
    }
}
