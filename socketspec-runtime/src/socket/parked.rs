//! [`Parked`]: a handler of the loop's set of running handlers, with the
//! request it answers.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::dispatch::call::RequestId;
use crate::future::BoxFuture;

/// A handler that waits on something, and the request it answers: if it
/// still waits when a shutdown's grace period ends, the client is told
/// (`ConnectionLoop::shutdown`).
pub(super) struct Parked {
    future: BoxFuture<'static, ()>,
    pub(super) event: &'static str,
    pub(super) id: Option<RequestId>,
}

impl Future for Parked {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.future.as_mut().poll(cx)
    }
}

impl Parked {
    /// `future` runs the handler of `event` for the request `id`.
    pub(super) fn new(
        future: BoxFuture<'static, ()>,
        event: &'static str,
        id: Option<RequestId>,
    ) -> Parked {
        Parked { future, event, id }
    }
}
