//! [`BoxFuture`]: the boxed future that object-safe extension points and
//! type-erased internals return.

use std::future::Future;
use std::pin::Pin;

/// A boxed, sendable future.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;
