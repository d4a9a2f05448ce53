//! Scheduling a validated message's handler: `ordered` events go to the
//! connection's worker; the others run in the loop, inline to their first
//! real await, and park in the loop's set of running handlers after that.
//! Handlers waiting hold in-flight slots; with none left the loop stops
//! reading (backpressure).

use std::sync::Arc;
use std::task::Poll;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::Instant;

use super::event_loop::ConnectionLoop;
use super::ordered::OrderedWorker;
use super::parked::Parked;
use crate::dispatch::App;
use crate::dispatch::call::{Call, Payload, RequestId};
use crate::dispatch::run::run_call;

impl<A, S> ConnectionLoop<A, S>
where
    A: App,
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    /// Starts the handler of event `index` for a message that `arrived`.
    pub(super) async fn start_call(
        &mut self,
        index: usize,
        ordered: bool,
        payload: Payload,
        id: Option<RequestId>,
        arrived: Instant,
    ) {
        let call = Call {
            conn: self.conn.clone(),
            namespace: Arc::clone(&self.namespace),
            event: index,
            payload,
            id,
        };
        if ordered {
            // Cannot fail: the loop reads a message only while a slot is free.
            let permit = Arc::clone(&self.in_flight).try_acquire_owned().ok();
            let capacity = self.hub.config.limits.max_in_flight.max(1);
            let worker = self.ordered.get_or_insert_with(|| {
                OrderedWorker::spawn(Arc::clone(&self.app), Arc::clone(&self.chain), capacity)
            });
            worker.send(call, permit);
            return;
        }
        // The handler starts now: the clock read for the message serves
        // for its timer too.
        let started = arrived.into_std();
        let mut handler = Box::pin(run_call(Arc::clone(&self.app), call, &self.chain, started));
        // Most handlers finish without waiting on anything: run each to
        // its first real await now, so its reply joins this burst's write,
        // and park only those that wait. Not while others are parked,
        // though: one of them may be woken but not yet polled, and a newer
        // handler run now would reach a shared step (a Redis publish)
        // first, breaking per-sender broadcast order. Behind them in the
        // queue, it is polled after them.
        if self.running.is_empty() {
            let first_poll = std::future::poll_fn(|cx| Poll::Ready(handler.as_mut().poll(cx)));
            if first_poll.await.is_ready() {
                return;
            }
        }
        // Only a parked handler holds an in-flight slot (see `RunCall::hold`).
        if let Ok(permit) = Arc::clone(&self.in_flight).try_acquire_owned() {
            handler.as_mut().hold(permit);
        }
        let (event, id) = handler.answers();
        self.running.push(Parked::new(handler, event, id));
    }
}
