//! [`Core`]: what every handle of one client shares with its background
//! tasks: the options, the credential in force, where the connection
//! stands ([`State`]), the event stream's reading side and the request ids.
//!
//! It sits above [`link`](super::link) (it holds the open link) and below
//! the [`supervisor`](super::supervisor), which replaces links in it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{mpsc, watch};

use super::error::ClientError;
use super::events::EventSource;
use super::link::{Link, Outgoing};
use super::message::{CloseInfo, Incoming};
use super::options::ClientOptions;
use super::resume::Resumption;
use super::transport::Handshake;

/// Where the client's connection stands.
#[derive(Clone)]
pub(crate) enum State {
    /// Connected; requests go to this link.
    Open(Arc<Link>),
    /// Between connections; requests wait (within their timeout).
    Reconnecting,
    /// For good.
    Closed(CloseInfo),
}

/// What every handle of one client shares with its background tasks.
pub(crate) struct Core {
    pub(crate) options: ClientOptions,
    /// The JWT in force (the configured one, or the last refreshed one).
    jwt: Mutex<Option<String>>,
    pub(crate) state: watch::Sender<State>,
    events: EventSource,
    next_id: AtomicU64,
    /// Flips to `true` when the client closes (or its last handle drops).
    stop: watch::Sender<bool>,
    /// The resume token and the last `seq` processed.
    pub(crate) resumption: Arc<Resumption>,
}

impl Core {
    pub(crate) fn new(options: ClientOptions, events: EventSource) -> Self {
        Core {
            jwt: Mutex::new(options.jwt.clone()),
            options,
            state: watch::Sender::new(State::Reconnecting),
            events,
            next_id: AtomicU64::new(1),
            stop: watch::Sender::new(false),
            resumption: Arc::new(Resumption::default()),
        }
    }

    /// A fresh request id.
    pub(crate) fn fresh_id(&self) -> String {
        format!("r{}", self.next_id.fetch_add(1, Ordering::Relaxed))
    }

    /// What the next connection attempt sends: the configured headers, the
    /// credential in force and, after a lost connection, what resumes it.
    pub(crate) fn handshake(&self) -> Result<Handshake, ClientError> {
        let jwt = self.jwt.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(Handshake {
            headers: self.options.handshake_headers(jwt.as_deref())?,
            query: self.resumption.query(),
        })
    }

    pub(crate) fn set_jwt(&self, token: &str) {
        *self.jwt.lock().unwrap_or_else(PoisonError::into_inner) = Some(token.to_owned());
    }

    /// The next item of the event stream (see [`EventSource::next`]).
    pub(crate) async fn next_event(&self) -> Option<Incoming> {
        self.events.next().await
    }

    pub(crate) fn is_stopping(&self) -> bool {
        *self.stop.borrow()
    }

    /// Waits until the client is told to stop.
    pub(crate) fn stop_signal(&self) -> watch::Receiver<bool> {
        self.stop.subscribe()
    }

    /// Closes the client for good: no reconnection, and the current link
    /// starts the closing handshake with `code` and `reason`. Returns the
    /// link when its outbound queue was full, so that an async caller can
    /// wait to queue the close.
    pub(crate) fn request_stop(&self, close_code: u16, reason: &str) -> Option<Arc<Link>> {
        self.stop.send_replace(true);
        let State::Open(link) = &*self.state.borrow() else {
            return None;
        };
        let close = Outgoing::Close {
            code: close_code,
            reason: reason.to_owned(),
        };
        match link.out.try_send(close) {
            Err(mpsc::error::TrySendError::Full(_)) => Some(Arc::clone(link)),
            _ => None,
        }
    }

    /// The open link, waiting through a reconnect until `deadline`.
    pub(crate) async fn open_link(
        &self,
        deadline: tokio::time::Instant,
        what: &str,
    ) -> Result<Arc<Link>, ClientError> {
        let mut rx = self.state.subscribe();
        loop {
            match &*rx.borrow_and_update() {
                State::Open(link) => return Ok(Arc::clone(link)),
                State::Closed(info) => {
                    return Err(ClientError::closed(info.code, info.reason.clone()));
                }
                State::Reconnecting => {}
            }
            match tokio::time::timeout_at(deadline, rx.changed()).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) => return Err(ClientError::closed(None, "the client is gone")),
                Err(_) => {
                    return Err(ClientError::Timeout {
                        what: format!("{what} (waiting to reconnect)"),
                        after: self.options.request_timeout,
                    });
                }
            }
        }
    }
}
