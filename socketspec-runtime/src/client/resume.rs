//! [`Resumption`]: what a client needs to resume a lost connection: the
//! resume token of the last `__connect__` and the largest `seq` processed,
//! which also drops frames a resume sends again that were already seen.

use std::sync::{Mutex, MutexGuard, PoisonError};

use socketspec_protocol::envelope::query;

use super::message::ConnectInfo;

/// The resume token and the largest `seq` processed, shared by a client's
/// links (the reader updates it) and its supervisor (which resumes).
#[derive(Debug, Default)]
pub(crate) struct Resumption {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// The token of the current (or lost) connection; `None` when the
    /// server has resumption off or the session is over.
    token: Option<String>,
    last_seq: u64,
}

impl Resumption {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A message arrived with `seq`: whether to process it. A frame at or
    /// below the last one processed is one a resume sent again: dropped.
    pub(crate) fn accept(&self, seq: Option<u64>) -> bool {
        let Some(seq) = seq else { return true };
        let mut state = self.lock();
        if seq <= state.last_seq {
            return false;
        }
        state.last_seq = seq;
        true
    }

    /// A connection was established: a fresh one starts counting again.
    pub(crate) fn connected(&self, info: &ConnectInfo) {
        let mut state = self.lock();
        state.token.clone_from(&info.resume_token);
        if !info.resumed {
            state.last_seq = 0;
        }
    }

    /// The session cannot be resumed (closed with a close frame, or given
    /// up): the next connection is a fresh one.
    pub(crate) fn forget(&self) {
        self.lock().token = None;
    }

    /// Whether there is a session to resume.
    pub(crate) fn can_resume(&self) -> bool {
        self.lock().token.is_some()
    }

    /// The upgrade's query parameters that resume the session, if any.
    pub(crate) fn query(&self) -> Vec<(String, String)> {
        let state = self.lock();
        match &state.token {
            Some(token) => vec![
                (query::RESUME.to_owned(), token.clone()),
                (query::LAST_SEQ.to_owned(), state.last_seq.to_string()),
            ],
            None => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_are_dropped_and_a_fresh_connection_counts_again() {
        let resumption = Resumption::default();
        assert!(resumption.query().is_empty());
        let info = ConnectInfo {
            resume_token: Some("t1".to_owned()),
            ..ConnectInfo::default()
        };
        resumption.connected(&info);
        assert!(resumption.accept(Some(1)));
        assert!(resumption.accept(Some(2)));
        assert!(!resumption.accept(Some(2)));
        assert!(resumption.accept(None));
        assert_eq!(
            resumption.query(),
            [
                ("resume".to_owned(), "t1".to_owned()),
                ("last_seq".to_owned(), "2".to_owned())
            ]
        );
        let resumed = ConnectInfo {
            resume_token: Some("t2".to_owned()),
            resumed: true,
            ..ConnectInfo::default()
        };
        resumption.connected(&resumed);
        assert!(!resumption.accept(Some(1)));
        assert!(resumption.accept(Some(3)));
        resumption.connected(&ConnectInfo::default());
        assert!(resumption.accept(Some(1)));
        assert!(!resumption.can_resume());
    }
}
