//! The worker that runs one connection's `ordered` events one at a time,
//! in arrival order, and what it does when a shutdown's grace period ends
//! while calls still wait in its queue.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, OwnedSemaphorePermit, mpsc, oneshot};

use crate::dispatch::App;
use crate::dispatch::call::{Call, RequestId};
use crate::dispatch::middleware::Chain;
use crate::dispatch::run::{refuse_unfinished, run_call};

/// What the loop hands an `ordered` event's worker: the call and the
/// in-flight slot it holds.
type OrderedCall = (Call, Option<OwnedSemaphorePermit>);

/// How long the loop waits for the worker to answer what it still holds.
const REFUSE_TIMEOUT: Duration = Duration::from_secs(1);

/// The loop's handle on its connection's worker. The worker ends when the
/// handle is dropped (the loop ended) and the calls queued before are done.
pub(super) struct OrderedWorker {
    calls: mpsc::Sender<OrderedCall>,
    refuse: Arc<Notify>,
    refused: Option<oneshot::Receiver<()>>,
}

impl OrderedWorker {
    /// Starts the worker; its queue holds `capacity` calls.
    pub(super) fn spawn<A: App>(app: Arc<A>, chain: Chain, capacity: usize) -> OrderedWorker {
        let (calls, rx) = mpsc::channel::<OrderedCall>(capacity);
        let refuse = Arc::new(Notify::new());
        let (done, refused) = oneshot::channel();
        tokio::spawn(work(app, chain, rx, Arc::clone(&refuse), done));
        OrderedWorker {
            calls,
            refuse,
            refused: Some(refused),
        }
    }

    /// Queues a call. The queue's capacity equals the connection's in-flight
    /// slots, and the loop reads a message only while a slot is free, so it
    /// is never full.
    pub(super) fn send(&self, call: Call, permit: Option<OwnedSemaphorePermit>) {
        let _ = self.calls.try_send((call, permit));
    }

    /// The shutdown's grace period is over: the worker answers the call it
    /// runs and every queued one with a `HANDLER_ERROR` (the running one
    /// goes on in the background; its reply would come after the close).
    /// Returns once it has, or after [`REFUSE_TIMEOUT`].
    pub(super) async fn refuse_rest(&mut self) {
        self.refuse.notify_one();
        if let Some(refused) = self.refused.take() {
            let _ = tokio::time::timeout(REFUSE_TIMEOUT, refused).await;
        }
    }
}

/// The worker: runs the calls in order until the queue closes, or answers
/// the rest when told to refuse.
async fn work<A: App>(
    app: Arc<A>,
    chain: Chain,
    mut rx: mpsc::Receiver<OrderedCall>,
    refuse: Arc<Notify>,
    done: oneshot::Sender<()>,
) {
    loop {
        let next = tokio::select! {
            biased;
            () = refuse.notified() => break,
            next = rx.recv() => next,
        };
        let Some((call, permit)) = next else {
            return;
        };
        let (conn, namespace) = (call.conn.clone(), Arc::clone(&call.namespace));
        let (event, id) = (call.event(), call.id.clone());
        let started = std::time::Instant::now();
        let mut run = std::pin::pin!(run_call(Arc::clone(&app), call, &chain, started));
        if let Some(permit) = permit {
            run.as_mut().hold(permit);
        }
        // `run_call` catches the handler's panics; this catches the rest
        // (middleware), so the worker outlives any one call.
        let mut run = std::pin::pin!(crate::panic_report::catch_panic("ordered worker", run));
        tokio::select! {
            biased;
            _ = &mut run => continue,
            () = refuse.notified() => {
                refuse_unfinished(&conn, &namespace, event, id.as_ref().map(RequestId::as_str), true);
                refuse_queued(&mut rx);
                let _ = done.send(());
                // Work a client started is not cut off halfway.
                run.await;
                return;
            }
        }
    }
    refuse_queued(&mut rx);
    let _ = done.send(());
}

/// Answers every call still queued (never started) with the error.
fn refuse_queued(rx: &mut mpsc::Receiver<OrderedCall>) {
    rx.close();
    while let Ok((call, _permit)) = rx.try_recv() {
        let id = call.id.as_ref().map(RequestId::as_str);
        refuse_unfinished(&call.conn, &call.namespace, call.event(), id, false);
    }
}
