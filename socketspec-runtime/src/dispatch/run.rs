//! Running one [`Call`]: middleware, the generated dispatch, panic capture,
//! and turning a failure into the error envelope.
//!
//! [`RunCall`] is written by hand rather than as an `async fn` because it is
//! allocated once per message: as an `async fn` it would hold the call twice
//! (argument and moved-into handler) and move the handler future through
//! every wrapper, and its size would push the allocation off the
//! allocator's fast path.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Instant;

use futures_util::future::Either;
use tokio::sync::OwnedSemaphorePermit;

use super::app::{App, Hooks};
use super::call::{Call, RequestId};
use super::middleware::{Chain, Next};
use super::namespace::Namespace;
use crate::connection::Connection;
use crate::envelope;
use crate::error::{Error, Result};
use crate::future::BoxFuture;
use crate::metrics::HandlerTimer;

pin_project_lite::pin_project! {
    /// Runs a call to completion and reports its failure, if any, to the
    /// client (`HANDLER_ERROR` unless the error carries another code) and
    /// to `on_error`. Made by [`run_call`].
    pub(crate) struct RunCall<A: App, F> {
        #[pin]
        handler: F,
        // Set once the handler has returned an error: `on_error` and the
        // error envelope (rare, so boxed).
        report: Option<BoxFuture<'static, ()>>,
        app: Arc<A>,
        conn: Connection,
        namespace: Arc<Namespace>,
        id: Option<RequestId>,
        event: &'static str,
        // Until the handler is over (then `None`).
        timer: Option<HandlerTimer>,
        span: tracing::Span,
        // Holds one of the connection's in-flight slots while the call
        // waits; see [`RunCall::hold`].
        permit: Option<OwnedSemaphorePermit>,
    }

    impl<A: App, F> PinnedDrop for RunCall<A, F> {
        // Dropped before its handler was over (its runtime shut down):
        // still end it in the metrics.
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if let Some(timer) = this.timer.take() {
                timer.finish(&this.namespace.metrics, &this.namespace.event_metrics);
            }
        }
    }
}

/// The future that runs `call` through the middleware and its handler,
/// timed from `started` (when the caller handed it over).
pub(crate) fn run_call<A: App>(
    app: Arc<A>,
    call: Call,
    chain: &Chain,
    started: Instant,
) -> RunCall<A, impl Future<Output = Result<()>> + Send + 'static> {
    let conn = call.conn.clone();
    let namespace = Arc::clone(&call.namespace);
    let id = call.id.clone();
    let event = call.event();
    let timer = namespace.metrics.handler_started(call.event, started);
    // Disabled (one atomic load, fields never evaluated) without a subscriber.
    let span = tracing::info_span!(
        "event",
        event,
        connection = conn.id(),
        request_id = id.as_ref().map(RequestId::as_str)
    );
    let handler = through_middleware(&app, call, chain);
    RunCall {
        handler,
        report: None,
        app,
        conn,
        namespace,
        id,
        event,
        timer: Some(timer),
        span,
        permit: None,
    }
}

impl<A: App, F> RunCall<A, F> {
    /// The event and request id this call answers.
    pub(crate) fn answers(&self) -> (&'static str, Option<RequestId>) {
        (self.event, self.id.clone())
    }

    /// Holds `permit` until the call is over. Only a call that has to wait
    /// takes one of the connection's in-flight slots: one that finishes
    /// within its first poll never counts against the limit.
    pub(crate) fn hold(self: Pin<&mut Self>, permit: OwnedSemaphorePermit) {
        *self.project().permit = Some(permit);
    }
}

impl<A: App, F: Future<Output = Result<()>>> Future for RunCall<A, F> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut this = self.project();
        if let Some(timer) = this.timer.take() {
            let polled = {
                let _entered = this.span.enter();
                let handler = this.handler.as_mut();
                std::panic::catch_unwind(AssertUnwindSafe(|| {
                    crate::panic_report::app_code(|| handler.poll(cx))
                }))
            };
            let error = match polled {
                Ok(Poll::Pending) => {
                    *this.timer = Some(timer);
                    return Poll::Pending;
                }
                Ok(Poll::Ready(Ok(()))) => None,
                Ok(Poll::Ready(Err(error))) => Some(error),
                // The panic's text goes to the log via the panic hook,
                // never to the client.
                Err(_) => Some(Error::handler(format!(
                    "internal error while handling `{}`",
                    this.event
                ))),
            };
            timer.finish(&this.namespace.metrics, &this.namespace.event_metrics);
            if let Some(error) = error {
                *this.report = Some(Box::pin(report(
                    Arc::clone(this.app),
                    this.conn.clone(),
                    Arc::clone(this.namespace),
                    this.event,
                    this.id.take(),
                    error,
                )));
            }
        }
        if let Some(report) = this.report.as_mut() {
            ready!(report.as_mut().poll(cx));
            *this.report = None;
        }
        this.permit.take();
        Poll::Ready(())
    }
}

/// Tells the client that its request `id` to `event` gets no reply because
/// the server is shutting down: the handler had `started` (and may have
/// taken effect) but did not finish within the grace period, or never ran.
/// Not a handler failure: `on_error` is not told.
pub(crate) fn refuse_unfinished(
    conn: &Connection,
    namespace: &Namespace,
    event: &str,
    id: Option<&str>,
    started: bool,
) {
    let message = if started {
        "the server is shutting down; the event did not finish within the grace period"
    } else {
        "the server is shutting down; the event was not handled"
    };
    let code = crate::error::ErrorCode::HandlerError;
    namespace.metrics.error(code);
    let frame = envelope::encode_error(code, Some(event), message, &serde_json::Map::new(), id);
    let _ = conn.send_frame(frame);
}

/// Tells `on_error` (unless the payload was refused) and the client.
async fn report<A: App>(
    app: Arc<A>,
    conn: Connection,
    namespace: Arc<Namespace>,
    event: &'static str,
    id: Option<RequestId>,
    error: Error,
) {
    if error.is_payload_refusal() {
        // Which event and connection, not the payload's contents.
        tracing::debug!(connection = conn.id(), event, code = ?error.code(), "payload refused");
    } else {
        tracing::debug!(connection = conn.id(), event, ?error, "handler failed");
        crate::panic_report::catch_panic("on_error", app.hooks().on_error(&conn, event, &error))
            .await;
    }
    let (code, message, details) = error.into_parts();
    namespace.metrics.error(code);
    let id = id.as_ref().map(RequestId::as_str);
    let frame = envelope::encode_error(code, Some(event), &message, &details, id);
    // A full queue closes the connection as a slow consumer; nothing else to do.
    let _ = conn.send_frame(frame);
}

/// The handler behind the middleware chain. Without middleware (the common
/// case) the generated dispatch runs as it is: statically dispatched, no
/// boxing per message.
fn through_middleware<A: App>(
    app: &Arc<A>,
    call: Call,
    chain: &Chain,
) -> Either<
    impl Future<Output = Result<()>> + Send + 'static + use<A>,
    BoxFuture<'static, Result<()>>,
> {
    if chain.is_empty() {
        return Either::Left(A::dispatch(app, call));
    }
    let app = Arc::clone(app);
    let chain = Arc::clone(chain);
    Either::Right(Box::pin(async move {
        let endpoint = move |call: Call| -> BoxFuture<'static, Result<()>> {
            Box::pin(A::dispatch(&app, call))
        };
        Next::new(&chain, &endpoint).run(call).await
    }))
}
