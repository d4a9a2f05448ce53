//! Running one [`Call`]: middleware, the generated dispatch, panic capture,
//! and turning a failure into the error envelope.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures_util::FutureExt;
use tracing::Instrument;

use crate::app::App;
use crate::auth::BoxFuture;
use crate::call::Call;
use crate::envelope;
use crate::error::{Error, Result};
use crate::middleware::Next;

/// Runs `call` to completion and reports its failure, if any, to the client
/// (`HANDLER_ERROR` unless the error carries another code) and to `on_error`.
pub(crate) async fn run_call<A: App>(app: Arc<A>, call: Call) {
    let conn = call.conn.clone();
    let shared = Arc::clone(&call.shared);
    let id = call.id.clone();
    let event = call.event();
    let timer = shared.metrics.handler_started(call.event);
    // Disabled (one atomic load, fields never evaluated) without a subscriber.
    let span = tracing::info_span!(
        "event",
        event,
        connection = conn.id(),
        request_id = id.as_deref()
    );

    let handled = AssertUnwindSafe(through_middleware(&app, call).instrument(span))
        .catch_unwind()
        .await;
    drop(timer);
    let error = match handled {
        Ok(Ok(())) => return,
        Ok(Err(error)) => error,
        // The panic's text goes to the log via the panic hook, never to the client.
        Err(_) => Error::handler(format!("internal error while handling `{event}`")),
    };
    if !error.is_payload_refusal() {
        tracing::debug!(connection = conn.id(), event, ?error, "handler failed");
        app.on_error(&conn, event, &error).await;
    }
    let (code, message, details) = error.into_parts();
    shared.metrics.error(code);
    let frame = envelope::encode_error(code, Some(event), &message, &details, id.as_deref());
    // A full queue closes the connection as a slow consumer; nothing else to do.
    let _ = conn.send_frame(frame);
}

async fn through_middleware<A: App>(app: &Arc<A>, call: Call) -> Result<()> {
    let shared = Arc::clone(&call.shared);
    if shared.middleware.is_empty() {
        // The common case stays statically dispatched: no boxing per message.
        return A::dispatch(app, call).await;
    }
    let app = Arc::clone(app);
    let endpoint =
        move |call: Call| -> BoxFuture<'static, Result<()>> { Box::pin(A::dispatch(&app, call)) };
    Next::new(&shared.middleware, &endpoint).run(call).await
}
