//! [`BoxFuture`]: the boxed future that object-safe extension points and
//! type-erased internals return.

use std::future::Future;
use std::pin::Pin;

/// A boxed, sendable future.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Runs `future` (an application hook), catching a panic: `None` then,
/// after logging which hook it was. The panic's own text went to the panic
/// hook; a client never sees it.
pub(crate) async fn catch_panic<F: Future>(hook: &'static str, future: F) -> Option<F::Output> {
    use futures_util::FutureExt;
    match std::panic::AssertUnwindSafe(future).catch_unwind().await {
        Ok(output) => Some(output),
        Err(_) => {
            tracing::error!(hook, "a hook panicked; the panic was caught");
            None
        }
    }
}
