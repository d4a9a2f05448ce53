//! Panics in application code (handlers, hooks, guards, middleware): caught
//! by the runtime, and reported on stderr at a bounded rate and without a
//! backtrace, instead of by the default panic hook (which, with
//! `RUST_BACKTRACE=1`, writes kilobytes to stderr for every panicking
//! request). Panics anywhere else still go to the previous hook.

use std::cell::Cell;
use std::future::Future;
use std::panic::{AssertUnwindSafe, PanicHookInfo};
use std::sync::{Mutex, Once, PoisonError};
use std::task::Poll;
use std::time::{Duration, Instant};

/// Reports let through per [`WINDOW`]; the rest are counted.
const REPORTS_PER_WINDOW: u32 = 10;
const WINDOW: Duration = Duration::from_secs(60);

thread_local! {
    /// Set while this thread runs application code for the runtime.
    static IN_APP_CODE: Cell<bool> = const { Cell::new(false) };
}

/// Installs the reporting panic hook, once per process, in front of the
/// hook that was there.
pub(crate) fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if IN_APP_CODE.with(Cell::get) {
                report(info);
            } else {
                previous(info);
            }
        }));
    });
}

/// Runs `f` marked as application code.
pub(crate) fn app_code<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            IN_APP_CODE.with(|flag| flag.set(self.0));
        }
    }
    let _restore = Restore(IN_APP_CODE.with(|flag| flag.replace(true)));
    f()
}

/// Runs `future` as application code, catching a panic: `None` then,
/// after logging which part (`what`) it was. A client never sees the
/// panic's text.
///
/// A future type rather than an `async fn`: an `async fn` would keep its
/// argument and the pinned copy of it both in its state, doubling the size
/// of every connection's task.
pub(crate) fn catch_panic<F: Future>(what: &'static str, future: F) -> CatchPanic<F> {
    CatchPanic {
        what,
        inner: future,
    }
}

pin_project_lite::pin_project! {
    /// The future of [`catch_panic`].
    pub(crate) struct CatchPanic<F> {
        what: &'static str,
        #[pin]
        inner: F,
    }
}

impl<F: Future> Future for CatchPanic<F> {
    type Output = Option<F::Output>;

    fn poll(self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let inner = this.inner;
        let polled = std::panic::catch_unwind(AssertUnwindSafe(|| app_code(|| inner.poll(cx))));
        match polled {
            Ok(Poll::Ready(output)) => Poll::Ready(Some(output)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(_) => {
                tracing::error!(
                    what = *this.what,
                    "a panic was caught; the connection goes on or closes cleanly"
                );
                Poll::Ready(None)
            }
        }
    }
}

/// Rate-limited reports: (window start, reports in it, suppressed since the
/// last report).
static RATE: Mutex<Option<(Instant, u32, u64)>> = Mutex::new(None);

fn report(info: &PanicHookInfo<'_>) {
    let now = Instant::now();
    let mut rate = RATE.lock().unwrap_or_else(PoisonError::into_inner);
    let (start, reported, suppressed) = rate.get_or_insert((now, 0, 0));
    if now.duration_since(*start) >= WINDOW {
        (*start, *reported) = (now, 0);
    }
    if *reported >= REPORTS_PER_WINDOW {
        *suppressed += 1;
        return;
    }
    *reported += 1;
    let earlier = std::mem::take(suppressed);
    drop(rate);
    let message = info
        .payload()
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| info.payload().downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(a non-text panic payload)");
    let location = info
        .location()
        .map(|l| format!("{}:{}", l.file(), l.line()))
        .unwrap_or_default();
    // The default hook's first two lines, then a note instead of a backtrace.
    let earlier = if earlier > 0 {
        format!(" {earlier} more were not reported;")
    } else {
        String::new()
    };
    eprintln!(
        "panicked at {location}:\n{message}\nnote: in application code, caught by socketspec;{earlier} \
         at most {REPORTS_PER_WINDOW} reports a minute, never a backtrace"
    );
}
