//! [`Mailbox`]: what the rest of the server holds of one connection: the
//! bounded queue of frames waiting for its socket, and its close request.
//! Rooms and the connection directory hold mailboxes, never connections,
//! so nothing the server keeps points back at a connection's state.
//!
//! Handlers, broadcasts and the server push frames; only the connection
//! loop takes them. Unlike a channel, a push made while the loop is awake
//! (typically a handler the loop is running inline, replying) does not wake
//! it: waking a task that is running makes tokio queue it again and rouse
//! another worker thread to steal it, a futex wake and a context switch per
//! burst of replies for nothing. The loop looks at the queue before it
//! sleeps, so nothing pushed meanwhile is missed.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};

use futures_util::task::AtomicWaker;

use socketspec_protocol::{CloseCode, DisconnectReason, ErrorCode};

use crate::frame::Frame;
use crate::replay::{ReplayLog, with_seq};

/// Why a frame was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PushError {
    /// The queue holds its capacity: the client reads slower than it is sent to.
    Full,
    /// The connection loop ended.
    Closed,
}

/// One connection's queue of outbound frames and its close request.
pub(crate) struct Mailbox {
    id: Box<str>,
    state: Mutex<State>,
    /// The connection loop's task, registered each time it polls [`Mailbox::poll_ready`].
    waker: AtomicWaker,
    /// Whether the loop is running (and will look at the queue before it
    /// sleeps again). Read, and set to `false`, under `state`'s lock, which
    /// orders it against the pushes: see [`Outbox::push`].
    awake: AtomicBool,
    close: CloseSlot,
}

/// A request, from any task, that the connection loop close the connection.
struct CloseSlot {
    requested: AtomicBool,
    request: Mutex<Option<CloseRequest>>,
    /// The connection loop's task: it is the only one that waits for a
    /// close request, so one registered waker is enough (and far cheaper
    /// per loop turn than a `Notify` future).
    waker: AtomicWaker,
}

/// Why the server closes a connection: the reason (`__disconnect__`'s
/// `reason`), the close code, and the error envelope sent first, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CloseRequest {
    pub(crate) code: CloseCode,
    pub(crate) reason: DisconnectReason,
    pub(crate) error: Option<(ErrorCode, String)>,
    /// Drop the socket without a farewell and keep the session for a
    /// resume (a resume arrived for it on a new socket).
    pub(crate) detach: bool,
}

impl CloseRequest {
    /// A close for `reason`, with the code the protocol gives it.
    pub(crate) fn new(reason: DisconnectReason) -> Self {
        CloseRequest {
            code: reason.close_code().unwrap_or(CloseCode::Normal),
            reason,
            error: None,
            detach: false,
        }
    }

    /// Let go of the socket, keeping the session for the resume that asks.
    pub(crate) fn detach() -> Self {
        CloseRequest {
            detach: true,
            ..CloseRequest::new(DisconnectReason::TransportError)
        }
    }

    /// A close with an explicit code.
    pub(crate) fn with_code(mut self, code: CloseCode) -> Self {
        self.code = code;
        self
    }

    /// Sends an error envelope before `__disconnect__`.
    pub(crate) fn with_error(mut self, code: ErrorCode, message: impl Into<String>) -> Self {
        self.error = Some((code, message.into()));
        self
    }
}

/// Why an outbound frame was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SendError {
    /// The queue is full: the connection is being closed as a slow consumer.
    SlowConsumer,
    /// The connection is already closed.
    Closed,
}

struct State {
    frames: VecDeque<Frame>,
    capacity: usize,
    closed: bool,
    /// With resumption on: the `seq` numbers and the frames kept for a
    /// resume (boxed: a connection without resumption pays one pointer).
    replay: Option<Box<ReplayLog>>,
    /// The socket is gone and the session waits for a resume: frames queue
    /// up to the replay limit, and nobody is woken.
    detached: bool,
}

impl Mailbox {
    /// An empty mailbox for connection `id`, holding at most `capacity`
    /// frames (at least one).
    #[cfg(test)]
    pub(crate) fn new(id: &str, capacity: usize) -> Self {
        Mailbox::with_replay(id, capacity, None)
    }

    /// A mailbox that numbers its frames and keeps the last `replay` of
    /// them for a resume (`None`: resumption off).
    pub(crate) fn with_replay(id: &str, capacity: usize, replay: Option<usize>) -> Self {
        // With resumption on, the queue also holds what a resume sends again.
        let capacity = capacity.max(replay.unwrap_or(0)).max(1);
        Mailbox {
            id: id.into(),
            state: Mutex::new(State {
                // Grows on demand: an idle connection allocates nothing here.
                frames: VecDeque::new(),
                capacity,
                closed: false,
                replay: replay.map(|limit| Box::new(ReplayLog::new(limit))),
                detached: false,
            }),
            waker: AtomicWaker::new(),
            awake: AtomicBool::new(true),
            close: CloseSlot {
                requested: AtomicBool::new(false),
                request: Mutex::new(None),
                waker: AtomicWaker::new(),
            },
        }
    }

    /// The connection's id.
    pub(crate) fn id(&self) -> &str {
        &self.id
    }

    /// Queues a frame without waiting. A full queue means the client reads
    /// slower than it is sent to: the connection is closed with 4008 rather
    /// than letting memory grow.
    pub(crate) fn send(&self, frame: Frame) -> Result<(), SendError> {
        match self.push(frame) {
            Ok(()) => Ok(()),
            Err(PushError::Full) => {
                self.request_close(CloseRequest::new(DisconnectReason::SlowConsumer));
                Err(SendError::SlowConsumer)
            }
            Err(PushError::Closed) => Err(SendError::Closed),
        }
    }

    /// Asks the connection loop to close the connection. The first request wins.
    pub(crate) fn request_close(&self, request: CloseRequest) {
        {
            let mut slot = self
                .close
                .request
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if slot.is_none() {
                *slot = Some(request);
            }
        }
        self.close.requested.store(true, Ordering::Release);
        self.close.waker.wake();
    }

    /// Whether a close has been requested.
    pub(crate) fn is_closing(&self) -> bool {
        self.close.requested.load(Ordering::Acquire)
    }

    /// Resolves once a close was requested. Only the connection loop's task
    /// may wait on it (see [`CloseSlot::waker`]).
    pub(crate) fn close_requested(&self) -> impl Future<Output = ()> + '_ {
        std::future::poll_fn(move |cx| {
            if self.is_closing() {
                return Poll::Ready(());
            }
            self.close.waker.register(cx.waker());
            // A request between the check and the registration woke nobody.
            if self.is_closing() {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
    }

    /// Takes the close request (the loop, as it closes).
    pub(crate) fn take_close_request(&self) -> Option<CloseRequest> {
        self.close
            .request
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `frame`, waking the loop unless it is already awake.
    fn push(&self, frame: Frame) -> Result<(), PushError> {
        let sleeping = {
            let mut state = self.lock();
            if state.closed {
                return Err(PushError::Closed);
            }
            if state.frames.len() >= state.capacity {
                return Err(PushError::Full);
            }
            if state.detached {
                // Behind by the whole replay limit: the session cannot
                // resume without a gap.
                let limit = state.replay.as_ref().map_or(0, |r| r.limit());
                if state.frames.len() >= limit {
                    return Err(PushError::Full);
                }
            }
            state.frames.push_back(frame);
            if state.detached {
                let queued = state.frames.len();
                if let Some(replay) = state.replay.as_mut() {
                    replay.trim(queued);
                }
                return Ok(());
            }
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

    /// Takes the oldest frame, as it goes on the wire: with resumption on,
    /// numbered with its `seq` (and kept for a resume).
    pub(crate) fn pop(&self) -> Option<Frame> {
        let mut state = self.lock();
        let frame = state.frames.pop_front()?;
        let queued = state.frames.len();
        match state.replay.as_mut() {
            None => Some(frame),
            Some(replay) => {
                let seq = replay.written(&frame, queued);
                Some(with_seq(&frame, seq))
            }
        }
    }

    /// Queues a frame the loop writes itself (a system event, an error
    /// before a close) behind the others, past the capacity: with
    /// resumption on it must get its `seq` in order. `false` when the
    /// mailbox is closed.
    pub(crate) fn push_sequenced(&self, frame: Frame) -> bool {
        let mut state = self.lock();
        if state.closed {
            return false;
        }
        state.frames.push_back(frame);
        true
    }

    /// Whether frames are numbered (resumption is on).
    pub(crate) fn is_sequenced(&self) -> bool {
        self.lock().replay.is_some()
    }

    /// The socket is gone: frames keep queueing (within the replay limit)
    /// for a resume, and nobody is woken. A frame past the limit requests
    /// a close as a slow consumer (what the detached session waits on: it
    /// ends).
    pub(crate) fn detach(&self) {
        self.lock().detached = true;
        // A close request the loop already took (the one that asked it to
        // let go of the socket) is done with; a later one stays.
        let slot = self
            .close
            .request
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if slot.is_none() {
            self.close.requested.store(false, Ordering::Release);
        }
    }

    /// A resume from `last_seq`: the frames after it are queued again (in
    /// front of those queued meanwhile) and the loop of the new socket
    /// takes them. `false` when they are no longer all kept.
    pub(crate) fn attach(&self, last_seq: u64) -> bool {
        let mut guard = self.lock();
        let state = &mut *guard;
        let Some(replay) = state.replay.as_mut() else {
            return false;
        };
        if state.closed || self.is_closing() || !replay.rewind(last_seq, &mut state.frames) {
            return false;
        }
        state.detached = false;
        self.awake.store(true, Ordering::Relaxed);
        true
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
    /// polls [`Mailbox::poll_ready`] again. No lock needed: only the
    /// `false` that [`Mailbox::poll_ready`] stores must be ordered against
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
        let outbox = Mailbox::new("c", 8);
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
        let outbox = Mailbox::new("c", 2);
        assert_eq!(outbox.send(frame("a")), Ok(()));
        assert_eq!(outbox.send(frame("b")), Ok(()));
        assert!(!outbox.is_closing());
        assert_eq!(outbox.send(frame("c")), Err(SendError::SlowConsumer));
        assert!(outbox.is_closing());
        assert_eq!(
            outbox.take_close_request().map(|r| r.code),
            Some(CloseCode::SlowConsumer)
        );
        outbox.close();
        assert_eq!(outbox.len(), 0);
        assert_eq!(outbox.send(frame("d")), Err(SendError::Closed));
    }
}
