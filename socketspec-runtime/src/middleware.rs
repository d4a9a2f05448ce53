//! Middleware: code that wraps every event handler (seed: `@socket.middleware`).
//!
//! A middleware gets the [`Call`] and the rest of the chain as [`Next`]. It can
//! inspect or rewrite the payload, time the handler, or stop the chain by
//! returning without calling `next.run(call)`.
//!
//! ```
//! use socketspec_runtime::{BoxFuture, Call, Middleware, Next, Result};
//!
//! struct LogEvents;
//!
//! impl Middleware for LogEvents {
//!     fn handle<'a>(&'a self, call: Call, next: Next<'a>) -> BoxFuture<'a, Result<()>> {
//!         Box::pin(async move {
//!             println!("[{}] {}", call.connection().id(), call.event());
//!             next.run(call).await
//!         })
//!     }
//! }
//! ```

use std::sync::Arc;

use crate::auth::BoxFuture;
use crate::call::Call;
use crate::error::Result;

/// Wraps every event handler.
pub trait Middleware: Send + Sync + 'static {
    /// Handles `call`, usually by calling `next.run(call)` somewhere inside.
    fn handle<'a>(&'a self, call: Call, next: Next<'a>) -> BoxFuture<'a, Result<()>>;
}

/// The handler at the end of the chain.
pub(crate) type Endpoint<'a> = &'a (dyn Fn(Call) -> BoxFuture<'static, Result<()>> + Send + Sync);

/// The rest of the middleware chain, ending in the event's handler.
pub struct Next<'a> {
    rest: &'a [Arc<dyn Middleware>],
    endpoint: Endpoint<'a>,
}

impl<'a> Next<'a> {
    pub(crate) fn new(chain: &'a [Arc<dyn Middleware>], endpoint: Endpoint<'a>) -> Self {
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
