//! [`Sessions`]: with resumption on, every resumable connection of this
//! node by its current resume token, open or detached.
//!
//! A connection lost without a closing handshake is *detached*: its
//! [`Connection`] (rooms, identity, mailbox with the frames kept for a
//! resume) stays here until a client claims it with the token, or a task
//! ends it when the resume window passes. A token is claimed once: the
//! claim removes it, and the resumed connection gets a new one (see
//! `relay::new_token`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::Notify;
use tokio::task::AbortHandle;

use crate::connection::Connection;

/// The resumable connections of one node.
#[derive(Default)]
pub(crate) struct Sessions {
    table: Mutex<Table>,
    /// Woken each time a connection detaches (what a resume that found its
    /// session still attached waits on).
    detached: Arc<Notify>,
}

#[derive(Default)]
struct Table {
    entries: HashMap<Box<str>, Entry>,
    /// How many entries are detached.
    detached: usize,
}

impl Table {
    fn take(&mut self, token: &str) -> Option<Entry> {
        let entry = self.entries.remove(token)?;
        if entry.expiry.is_some() {
            self.detached -= 1;
        }
        Some(entry)
    }
}

struct Entry {
    conn: Connection,
    /// `None` while the socket is open; the task that ends the session
    /// once detached.
    expiry: Option<Detached>,
}

struct Detached {
    task: Option<AbortHandle>,
}

/// What a claim of a token found.
pub(crate) enum Claim {
    /// A detached session, now the claimer's (its expiry is cancelled).
    Taken(Connection),
    /// The session's socket looks open still (the server has not noticed
    /// it died): the claimer may ask it to let go and try again.
    Attached(Connection),
    /// No session for that token, namespace and user.
    Refused,
}

impl Sessions {
    fn lock(&self) -> MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// `conn`, with its socket open, answers to `token`.
    pub(crate) fn attach(&self, token: &str, conn: &Connection) {
        let entry = Entry {
            conn: conn.clone(),
            expiry: None,
        };
        self.lock().entries.insert(token.into(), entry);
    }

    /// The socket of `token`'s connection is gone: it waits for a resume.
    /// Returns `false` when the token is unknown.
    pub(crate) fn detach(&self, token: &str) -> bool {
        let found = {
            let mut table = self.lock();
            match table.entries.get_mut(token) {
                Some(entry) if entry.expiry.is_none() => {
                    entry.expiry = Some(Detached { task: None });
                    table.detached += 1;
                    true
                }
                Some(_) => true,
                None => false,
            }
        };
        self.detached.notify_waiters();
        found
    }

    /// Records the task that ends `token`'s detached session.
    pub(crate) fn set_expiry(&self, token: &str, task: AbortHandle) {
        match self
            .lock()
            .entries
            .get_mut(token)
            .and_then(|e| e.expiry.as_mut())
        {
            Some(detached) => detached.task = Some(task),
            // Claimed meanwhile: the task has nothing to end.
            None => task.abort(),
        }
    }

    /// Forgets `token` (its connection ended); the connection, when it was
    /// there.
    pub(crate) fn remove(&self, token: &str) -> Option<Connection> {
        self.lock().take(token).map(|entry| entry.conn)
    }

    /// Takes `token`'s session when it is detached (the expiry task, as the
    /// window passes).
    pub(crate) fn remove_detached(&self, token: &str) -> Option<Connection> {
        let mut table = self.lock();
        table.entries.get(token)?.expiry.as_ref()?;
        table.take(token).map(|entry| entry.conn)
    }

    /// A resume's claim of `token`, for a connection of `namespace` whose
    /// credential proved `user`.
    pub(crate) fn claim(&self, token: &str, namespace: &str, user: Option<&str>) -> Claim {
        let mut table = self.lock();
        let Some(entry) = table.entries.get(token) else {
            return Claim::Refused;
        };
        let conn = &entry.conn;
        if conn.namespace() != namespace || conn.user_id().as_deref() != user {
            return Claim::Refused;
        }
        if entry.expiry.is_none() {
            return Claim::Attached(conn.clone());
        }
        match table.take(token) {
            Some(Entry {
                conn,
                expiry: Some(detached),
            }) => {
                if let Some(task) = detached.task {
                    task.abort();
                }
                Claim::Taken(conn)
            }
            _ => Claim::Refused,
        }
    }

    /// What a resume waits on after asking an attached session to let go.
    pub(crate) fn detach_signal(&self) -> Arc<Notify> {
        Arc::clone(&self.detached)
    }

    /// Detached sessions waiting for a resume.
    pub(crate) fn detached_count(&self) -> usize {
        self.lock().detached
    }
}
