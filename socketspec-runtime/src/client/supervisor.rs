//! The client's shared state ([`Core`]) and the supervisor task that watches
//! the current link and, when reconnection is on, replaces it with backoff.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::error::ClientError;
use super::link::{self, Link, Outgoing};
use super::message::{CloseInfo, Incoming, ServerMessage};
use super::options::ClientOptions;
use super::transport::{Connector, Handshake};
use crate::error::ErrorCode;
use socketspec_protocol::CloseCode;
use socketspec_protocol::SystemEvent;

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
    pub(crate) events_rx: tokio::sync::Mutex<mpsc::Receiver<Incoming>>,
    lagged: AtomicU64,
    next_id: AtomicU64,
    /// Flips to `true` when the client closes (or its last handle drops).
    stop: watch::Sender<bool>,
}

impl Core {
    pub(crate) fn new(options: ClientOptions, events_rx: mpsc::Receiver<Incoming>) -> Self {
        Core {
            jwt: Mutex::new(options.jwt.clone()),
            options,
            state: watch::Sender::new(State::Reconnecting),
            events_rx: tokio::sync::Mutex::new(events_rx),
            lagged: AtomicU64::new(0),
            next_id: AtomicU64::new(1),
            stop: watch::Sender::new(false),
        }
    }

    /// A fresh request id.
    pub(crate) fn fresh_id(&self) -> String {
        format!("r{}", self.next_id.fetch_add(1, Ordering::Relaxed))
    }

    pub(crate) fn handshake(&self) -> Result<Handshake, ClientError> {
        let jwt = self.jwt.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(Handshake {
            headers: self.options.handshake_headers(jwt.as_deref())?,
        })
    }

    pub(crate) fn set_jwt(&self, token: &str) {
        *self.jwt.lock().unwrap_or_else(PoisonError::into_inner) = Some(token.to_owned());
    }

    /// Queues an item for the event stream; never blocks the reader. When
    /// the buffer is full the item is dropped and counted.
    pub(crate) fn push_event(&self, events: &mpsc::Sender<Incoming>, item: Incoming) {
        if let Err(mpsc::error::TrySendError::Full(_)) = events.try_send(item) {
            self.lagged.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Messages dropped since the last call.
    pub(crate) fn take_lagged(&self) -> u64 {
        self.lagged.swap(0, Ordering::Relaxed)
    }

    pub(crate) fn is_stopping(&self) -> bool {
        *self.stop.borrow()
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

/// Watches the current link; when it ends, reports the close on the event
/// stream and, with reconnection on, opens a new one with backoff. Dropping
/// `events` (when this returns) ends the event stream.
pub(crate) async fn supervise(
    core: Arc<Core>,
    connector: Arc<dyn Connector>,
    events: mpsc::Sender<Incoming>,
    mut task: JoinHandle<CloseInfo>,
) {
    let mut stop = core.stop.subscribe();
    loop {
        let mut info = (&mut task).await.unwrap_or_else(|e| CloseInfo {
            code: None,
            reason: format!("the connection task failed: {e}"),
            reconnecting: false,
        });
        let policy = match core.options.reconnect {
            Some(policy) if !core.is_stopping() && info.code != Some(CloseCode::Auth.as_u16()) => {
                policy
            }
            _ => {
                core.push_event(&events, Incoming::Closed(info.clone()));
                core.state.send_replace(State::Closed(info));
                return;
            }
        };
        info.reconnecting = true;
        core.state.send_replace(State::Reconnecting);
        core.push_event(&events, Incoming::Closed(info.clone()));
        let mut attempt: u32 = 0;
        loop {
            tokio::select! {
                () = tokio::time::sleep(policy.jittered(attempt)) => {}
                _ = stop.wait_for(|s| *s) => return give_up(&core, &events, "closed by the client".to_owned()),
            }
            let attempt_result = tokio::select! {
                r = link::establish(&core, &*connector, &events) => r,
                _ = stop.wait_for(|s| *s) => return give_up(&core, &events, "closed by the client".to_owned()),
            };
            match attempt_result {
                Ok(next_task) => {
                    // A stop that raced the attempt closes the new link too.
                    if core.is_stopping() {
                        let _ = core.request_stop(CloseCode::Normal.as_u16(), "client_close");
                    }
                    task = next_task;
                    break;
                }
                Err(ClientError::Server(e)) if e.code == ErrorCode::AuthError => {
                    let error = ServerMessage {
                        event: SystemEvent::Error.name().to_owned(),
                        payload: e.to_payload(),
                        id: None,
                    };
                    core.push_event(&events, Incoming::Message(error));
                    return give_up(&core, &events, format!("reconnecting was refused: {e}"));
                }
                Err(e) => {
                    tracing::debug!(attempt, error = %e, "socketspec client: reconnect failed");
                    attempt = attempt.saturating_add(1);
                    if policy.max_attempts.is_some_and(|max| attempt >= max) {
                        return give_up(
                            &core,
                            &events,
                            format!("gave up reconnecting after {attempt} attempts: {e}"),
                        );
                    }
                }
            }
        }
    }
}

fn give_up(core: &Core, events: &mpsc::Sender<Incoming>, reason: String) {
    let info = CloseInfo {
        code: None,
        reason,
        reconnecting: false,
    };
    core.push_event(events, Incoming::Closed(info.clone()));
    core.state.send_replace(State::Closed(info));
}
