//! [`ReplayLog`]: with resumption on, the sequence numbers (`seq`) of one
//! connection's frames and the recent frames a resume may send again.
//!
//! A frame's `seq` is its place in the connection's outbound order: the
//! log counts the frames taken from the outbound queue, so a frame gets
//! its number as it goes to the socket, and the queue needs no room for
//! one. Written frames stay in the log (the same shared [`Frame`] a
//! broadcast put in every member's queue, not a copy) until `limit` newer
//! ones push them out: a socket that dies may have swallowed the last ones
//! unread, and a resume from `last_seq` puts those after it back in front
//! of the queue ([`ReplayLog::rewind`]).

use std::collections::VecDeque;

use crate::frame::Frame;

/// The written frames of one connection kept for a resume, and the next `seq`.
#[derive(Debug)]
pub(crate) struct ReplayLog {
    /// Written frames, oldest first; the last one has `seq` `next_seq - 1`.
    written: VecDeque<Frame>,
    /// The `seq` of the next frame taken from the queue.
    next_seq: u64,
    /// How many frames (written and queued) the session keeps at most.
    limit: usize,
}

impl ReplayLog {
    /// An empty log keeping at most `limit` frames; the first `seq` is 1.
    pub(crate) fn new(limit: usize) -> Self {
        ReplayLog {
            written: VecDeque::new(),
            next_seq: 1,
            limit: limit.max(1),
        }
    }

    /// How many frames a session keeps at most.
    pub(crate) fn limit(&self) -> usize {
        self.limit
    }

    /// `frame`, taken from the queue, goes to the socket: it gets the next
    /// `seq` (returned) and is kept. `queued` frames still wait behind it;
    /// together they stay within the limit, the oldest written ones going
    /// first.
    pub(crate) fn written(&mut self, frame: &Frame, queued: usize) -> u64 {
        let seq = self.next_seq;
        self.next_seq = self.next_seq.saturating_add(1);
        // Make room first: a push into a full ring would double its
        // capacity, and the ring would keep it.
        self.trim(queued + 1);
        self.written.push_back(frame.clone());
        seq
    }

    /// Drops the oldest written frames until they and `queued` frames fit
    /// in the limit.
    pub(crate) fn trim(&mut self, queued: usize) {
        while !self.written.is_empty() && self.written.len() + queued > self.limit {
            self.written.pop_front();
        }
    }

    /// A resume from `last_seq` (the largest `seq` the client processed):
    /// the written frames after it go back to the front of `queue`, in
    /// order, and will be written again with their `seq`. `false` when the
    /// log cannot: frames after `last_seq` are gone, or the client claims
    /// frames never written.
    pub(crate) fn rewind(&mut self, last_seq: u64, queue: &mut VecDeque<Frame>) -> bool {
        let kept = self.written.len() as u64;
        let first_kept = self.next_seq - kept;
        if last_seq >= self.next_seq || last_seq.saturating_add(1) < first_kept {
            return false;
        }
        let again = self.next_seq - 1 - last_seq;
        for _ in 0..again {
            if let Some(frame) = self.written.pop_back() {
                queue.push_front(frame);
            }
        }
        self.next_seq -= again;
        true
    }
}

/// `frame` as it goes on the wire with its `seq`: the envelope's object
/// with `"seq":N` added last. Frames without it (`__ping__`,
/// `__disconnect__`) are never sequenced.
pub(crate) fn with_seq(frame: &Frame, seq: u64) -> Frame {
    let text = frame.as_str();
    let Some(body) = text.trim_end().strip_suffix('}') else {
        return frame.clone();
    };
    let comma = if body.trim_end().ends_with('{') {
        ""
    } else {
        ","
    };
    let digits = decimal(seq);
    let digits = digits.as_str();
    // The exact length: a string whose capacity is its length becomes the
    // frame's bytes without another allocation.
    let len = body.len() + comma.len() + SEQ_FIELD.len() + digits.len() + 1;
    let mut out = String::with_capacity(len);
    out.push_str(body);
    out.push_str(comma);
    out.push_str(SEQ_FIELD);
    out.push_str(digits);
    out.push('}');
    Frame::from(out)
}

/// `"seq":`, as it goes before the number.
const SEQ_FIELD: &str = "\"seq\":";

/// `n` in decimal, without the formatting machinery.
fn decimal(mut n: u64) -> Digits {
    let mut digits = Digits {
        buf: [0; 20],
        start: 20,
    };
    loop {
        digits.start -= 1;
        digits.buf[digits.start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return digits;
        }
    }
}

/// The decimal digits of a `u64` (at most 20).
struct Digits {
    buf: [u8; 20],
    start: usize,
}

impl Digits {
    fn as_str(&self) -> &str {
        // Only ASCII digits were written.
        std::str::from_utf8(&self.buf[self.start..]).unwrap_or("0")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(log: &mut ReplayLog, texts: &[&'static str]) {
        for text in texts {
            log.written(&Frame::from_static(text), 0);
        }
    }

    #[test]
    fn a_rewind_puts_the_frames_after_last_seq_back_in_order() {
        let mut log = ReplayLog::new(8);
        frames(&mut log, &["a", "b", "c", "d"]);
        let mut queue = VecDeque::from([Frame::from_static("e")]);
        assert!(log.rewind(2, &mut queue));
        let texts: Vec<&str> = queue.iter().map(Frame::as_str).collect();
        assert_eq!(texts, ["c", "d", "e"]);
        // They get their old numbers again.
        assert_eq!(log.written(&Frame::from_static("c"), 2), 3);
    }

    #[test]
    fn a_rewind_past_what_is_kept_or_ahead_of_it_is_refused() {
        let mut log = ReplayLog::new(2);
        frames(&mut log, &["a", "b", "c"]);
        let mut queue = VecDeque::new();
        // Only b (2) and c (3) are kept: a resume from 0 would miss a.
        assert!(!log.rewind(0, &mut queue));
        assert!(!log.rewind(4, &mut queue));
        assert!(log.rewind(1, &mut queue));
        assert_eq!(queue.len(), 2);
    }

    #[test]
    fn a_full_log_does_not_grow_past_its_limit() {
        let mut log = ReplayLog::new(1024);
        for _ in 0..5000 {
            log.written(&Frame::from_static("x"), 0);
        }
        assert_eq!(log.written.len(), 1024);
        assert!(log.written.capacity() < 2048, "{}", log.written.capacity());
    }

    #[test]
    fn nothing_written_resumes_from_zero() {
        let mut log = ReplayLog::new(4);
        let mut queue = VecDeque::new();
        assert!(log.rewind(0, &mut queue));
        assert!(queue.is_empty());
        assert!(!log.rewind(1, &mut queue));
    }

    #[test]
    fn seq_is_added_to_the_envelope() {
        let frame = Frame::from_static(r#"{"event":"x","payload":{}}"#);
        assert_eq!(
            with_seq(&frame, 7).as_str(),
            r#"{"event":"x","payload":{},"seq":7}"#
        );
        assert_eq!(
            with_seq(&Frame::from_static("{}"), 1).as_str(),
            r#"{"seq":1}"#
        );
    }
}
