//! The worker that runs one connection's `ordered` events one at a time,
//! in arrival order.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, mpsc};

use crate::dispatch::App;
use crate::dispatch::call::Call;
use crate::dispatch::middleware::Chain;
use crate::dispatch::run::run_call;

/// What the loop hands an `ordered` event's worker: the call and the
/// in-flight slot it holds.
pub(super) type OrderedCall = (Call, Option<OwnedSemaphorePermit>);

/// Starts the worker; it ends when the sender is dropped (the loop ended)
/// and the calls queued before are done.
pub(super) fn spawn_ordered_worker<A: App>(
    app: Arc<A>,
    chain: Chain,
    capacity: usize,
) -> mpsc::Sender<OrderedCall> {
    let (tx, mut rx) = mpsc::channel::<OrderedCall>(capacity);
    tokio::spawn(async move {
        while let Some((call, permit)) = rx.recv().await {
            let started = std::time::Instant::now();
            let mut run = std::pin::pin!(run_call(Arc::clone(&app), call, &chain, started));
            if let Some(permit) = permit {
                run.as_mut().hold(permit);
            }
            run.await;
        }
    });
    tx
}
