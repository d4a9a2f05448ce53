//! [`Outbox`]: the bounded queue of frames waiting for one connection's
//! socket.
//!
//! Handlers, broadcasts and the server push frames; only the connection
//! loop takes them. Unlike a channel, a push made while the loop is awake
//! (typically a handler the loop is running inline, replying) does not wake
//! it: waking a task that is running makes tokio queue it again and rouse
//! another worker thread to steal it, a futex wake and a context switch per
//! burst of replies for nothing. The loop looks at the queue before it
//! sleeps, so nothing pushed meanwhile is missed.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};

use futures_util::task::AtomicWaker;

use crate::envelope::Frame;

/// Why a frame was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PushError {
    /// The queue holds its capacity: the client reads slower than it is sent to.
    Full,
    /// The connection loop ended.
    Closed,
}

pub(crate) struct Outbox {
    state: Mutex<State>,
    /// The connection loop's task, registered each time it polls [`Outbox::poll_ready`].
    waker: AtomicWaker,
    /// Whether the loop is running (and will look at the queue before it
    /// sleeps again). Read, and set to `false`, under `state`'s lock, which
    /// orders it against the pushes: see [`Outbox::push`].
    awake: AtomicBool,
}

struct State {
    frames: VecDeque<Frame>,
    capacity: usize,
    closed: bool,
}

impl Outbox {
    /// An empty outbox holding at most `capacity` frames (at least one).
    pub(crate) fn new(capacity: usize) -> Self {
        Outbox {
            state: Mutex::new(State {
                // Grows on demand: an idle connection allocates nothing here.
                frames: VecDeque::new(),
                capacity: capacity.max(1),
                closed: false,
            }),
            waker: AtomicWaker::new(),
            awake: AtomicBool::new(true),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `frame`, waking the loop unless it is already awake.
    pub(crate) fn push(&self, frame: Frame) -> Result<(), PushError> {
        let sleeping = {
            let mut state = self.lock();
            if state.closed {
                return Err(PushError::Closed);
            }
            if state.frames.len() >= state.capacity {
                return Err(PushError::Full);
            }
            state.frames.push_back(frame);
            // Under the lock: either the loop went to sleep before this
            // push (its `awake = false` is visible here, so we wake it), or
            // it takes the lock after us and finds the frame.
            !self.awake.load(Ordering::Relaxed)
        };
        if sleeping {
            self.waker.wake();
        }
        Ok(())
    }

    /// Takes the oldest frame.
    pub(crate) fn pop(&self) -> Option<Frame> {
        self.lock().frames.pop_front()
    }

    /// Frames waiting.
    pub(crate) fn len(&self) -> usize {
        self.lock().frames.len()
    }

    /// Ready when a frame is waiting. Pending marks the loop asleep: pushes
    /// from then on wake it.
    pub(crate) fn poll_ready(&self, cx: &mut Context<'_>) -> Poll<()> {
        self.waker.register(cx.waker());
        let state = self.lock();
        if state.frames.is_empty() {
            self.awake.store(false, Ordering::Relaxed);
            Poll::Pending
        } else {
            self.awake.store(true, Ordering::Relaxed);
            Poll::Ready(())
        }
    }

    /// Resolves when a frame is waiting.
    pub(crate) fn ready(&self) -> impl Future<Output = ()> + '_ {
        std::future::poll_fn(|cx| self.poll_ready(cx))
    }

    /// The loop woke (for any reason): pushes need not wake it until it
    /// polls [`Outbox::poll_ready`] again. No lock needed: only the
    /// `false` that [`Outbox::poll_ready`] stores must be ordered against
    /// pushes; a push that misses this `true` merely wakes the loop once
    /// for nothing.
    pub(crate) fn mark_awake(&self) {
        self.awake.store(true, Ordering::Relaxed);
    }

    /// The loop ended: refuse further frames and free the queued ones.
    pub(crate) fn close(&self) {
        let mut state = self.lock();
        state.closed = true;
        state.frames = VecDeque::new();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::AtomicUsize;
    use std::task::{Wake, Waker};

    use super::*;

    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn frame(text: &'static str) -> Frame {
        Frame::from_static(text)
    }

    #[test]
    fn a_sleeping_loop_is_woken_and_an_awake_one_is_not() {
        let wakes = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(Arc::clone(&wakes));
        let mut cx = Context::from_waker(&waker);
        let outbox = Outbox::new(8);
        assert!(outbox.poll_ready(&mut cx).is_pending());
        assert_eq!(outbox.push(frame("a")), Ok(()));
        assert_eq!(wakes.0.load(Ordering::SeqCst), 1);
        assert!(outbox.poll_ready(&mut cx).is_ready());
        // Awake now: a push while it works does not wake it again...
        assert_eq!(outbox.push(frame("b")), Ok(()));
        assert_eq!(wakes.0.load(Ordering::SeqCst), 1);
        // ...and it finds both before sleeping.
        assert_eq!(outbox.pop().as_ref().map(Frame::as_str), Some("a"));
        assert!(outbox.poll_ready(&mut cx).is_ready());
        assert_eq!(outbox.pop().as_ref().map(Frame::as_str), Some("b"));
        assert!(outbox.poll_ready(&mut cx).is_pending());
        outbox.mark_awake();
        assert_eq!(outbox.push(frame("c")), Ok(()));
        assert_eq!(wakes.0.load(Ordering::SeqCst), 1);
        assert_eq!(outbox.len(), 1);
    }

    #[test]
    fn full_and_closed_are_refused() {
        let outbox = Outbox::new(2);
        assert_eq!(outbox.push(frame("a")), Ok(()));
        assert_eq!(outbox.push(frame("b")), Ok(()));
        assert_eq!(outbox.push(frame("c")), Err(PushError::Full));
        outbox.close();
        assert_eq!(outbox.len(), 0);
        assert_eq!(outbox.push(frame("d")), Err(PushError::Closed));
    }
}
