//! Opening links for a client ([`establish`]) and the supervisor task that
//! watches the current link and, when reconnection is on, replaces it with
//! backoff.

use std::sync::Arc;

use tokio::task::JoinHandle;

use super::error::ClientError;
use super::events::EventSink;
use super::link::{self, Ended, PendingRequests, fail_pending};
use super::message::{CloseInfo, Incoming, ServerMessage};
use super::state::{Core, State};
use super::transport::Connector;
use crate::error::ErrorCode;
use socketspec_protocol::CloseCode;
use socketspec_protocol::SystemEvent;

/// Opens a connection and waits for `__connect__`; on success the link
/// becomes the client's open link, its tasks run, and the returned handle
/// resolves with how it ended. `carried`: requests a lost link awaited;
/// they wait on when the connection resumed, and fail when it is a fresh
/// one (their replies will never come).
pub(crate) async fn establish(
    core: &Core,
    connector: &dyn Connector,
    events: &EventSink,
    carried: &mut PendingRequests,
) -> Result<JoinHandle<Ended>, ClientError> {
    let handshake = core.handshake()?;
    let link::Opened {
        link,
        connect,
        tasks,
    } = link::open(connector, &handshake, core.options.connect_timeout).await?;
    core.resumption.connected(&link.info);
    let carried = std::mem::take(carried);
    if link.info.resumed {
        link.adopt(carried);
    } else {
        fail_pending(carried, &not_resumed());
    }
    // Open before the stream shows `__connect__`, so that a reader of the
    // stream sees the new connection in `connect_info`.
    core.state.send_replace(State::Open(Arc::clone(&link)));
    events.push(Incoming::Message(connect));
    Ok(tasks.start(
        link,
        events.clone(),
        core.options.auto_pong,
        Arc::clone(&core.resumption),
    ))
}

/// The error of a request whose connection was lost and not resumed.
fn not_resumed() -> ClientError {
    ClientError::closed(
        None,
        "the connection was lost and could not be resumed: the reply will not come",
    )
}

/// Watches the current link; when it ends, reports the close on the event
/// stream and, with reconnection on, opens a new one with backoff. Dropping
/// `events` (when this returns) ends the event stream.
pub(crate) async fn supervise(
    core: Arc<Core>,
    connector: Arc<dyn Connector>,
    events: EventSink,
    mut task: JoinHandle<Ended>,
) {
    let mut stop = core.stop_signal();
    loop {
        let Ended { mut info, pending } = (&mut task).await.unwrap_or_else(|e| Ended {
            info: CloseInfo {
                code: None,
                reason: format!("the connection task failed: {e}"),
                reconnecting: false,
            },
            pending: PendingRequests::new(),
        });
        // A close frame ends the session; only a lost socket resumes.
        if info.code.is_some() || core.is_stopping() || core.options.reconnect.is_none() {
            core.resumption.forget();
        }
        let mut carried = PendingRequests::new();
        if core.resumption.can_resume() {
            carried = pending;
        } else {
            fail_pending(
                pending,
                &ClientError::closed(info.code, info.reason.clone()),
            );
        }
        let policy = match core.options.reconnect {
            Some(policy) if !core.is_stopping() && info.code != Some(CloseCode::Auth.as_u16()) => {
                policy
            }
            _ => {
                fail_pending(carried, &not_resumed());
                events.push(Incoming::Closed(info.clone()));
                core.state.send_replace(State::Closed(info));
                return;
            }
        };
        info.reconnecting = true;
        core.state.send_replace(State::Reconnecting);
        events.push(Incoming::Closed(info.clone()));
        let mut attempt: u32 = 0;
        loop {
            tokio::select! {
                () = tokio::time::sleep(policy.jittered(attempt)) => {}
                _ = stop.wait_for(|s| *s) => return give_up(&core, &events, carried, "closed by the client".to_owned()),
            }
            let attempt_result = tokio::select! {
                r = establish(&core, &*connector, &events, &mut carried) => r,
                _ = stop.wait_for(|s| *s) => return give_up(&core, &events, carried, "closed by the client".to_owned()),
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
                        seq: None,
                    };
                    events.push(Incoming::Message(error));
                    return give_up(
                        &core,
                        &events,
                        carried,
                        format!("reconnecting was refused: {e}"),
                    );
                }
                Err(e) => {
                    tracing::debug!(attempt, error = %e, "socketspec client: reconnect failed");
                    attempt = attempt.saturating_add(1);
                    if policy.max_attempts.is_some_and(|max| attempt >= max) {
                        return give_up(
                            &core,
                            &events,
                            carried,
                            format!("gave up reconnecting after {attempt} attempts: {e}"),
                        );
                    }
                }
            }
        }
    }
}

fn give_up(core: &Core, events: &EventSink, carried: PendingRequests, reason: String) {
    fail_pending(carried, &ClientError::closed(None, reason.clone()));
    core.resumption.forget();
    let info = CloseInfo {
        code: None,
        reason,
        reconnecting: false,
    };
    events.push(Incoming::Closed(info.clone()));
    core.state.send_replace(State::Closed(info));
}
