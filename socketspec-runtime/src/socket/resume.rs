//! Resumption, as the connection loop's caller sees it: claiming a
//! detached session for a new socket (`?resume=<token>&last_seq=<n>`),
//! detaching a connection whose socket was lost, and ending a detached
//! session when its window passes, it overflows, or the server shuts down.

use std::sync::Arc;
use std::time::Duration;

use socketspec_protocol::DisconnectReason;
use socketspec_protocol::envelope::query;

use super::end_session;
use super::event_loop::shutdown_started;
use crate::auth::HandshakeRequest;
use crate::connection::Connection;
use crate::dispatch::App;
use crate::dispatch::namespace::Namespace;
use crate::hub::Hub;
use crate::identity::Identity;
use crate::mailbox::CloseRequest;
use crate::sessions::Claim;

/// How long a resume waits for a session whose old socket the server still
/// thinks open to let go of it.
const TAKEOVER_WAIT: Duration = Duration::from_secs(2);

/// The session the upgrade asks to resume, when it can: the same
/// namespace, the same user, a detached session (or an open one, which is
/// asked to let go of its old socket first), and every frame after
/// `last_seq` still kept. Anything else is a fresh connection (`None`),
/// never an error.
pub(crate) async fn claim<A: App>(
    app: &Arc<A>,
    hub: &Hub,
    namespace: &Namespace,
    handshake: &HandshakeRequest,
    identity: &Option<Identity>,
) -> Option<Connection> {
    let token = handshake.query_param(query::RESUME)?;
    let last_seq: u64 = handshake.query_param(query::LAST_SEQ)?.parse().ok()?;
    let user = identity.as_ref().and_then(|i| i.user_id.as_deref());
    let conn = match hub.sessions.claim(token, namespace.name(), user) {
        Claim::Taken(conn) => conn,
        Claim::Refused => return None,
        Claim::Attached(old) => {
            let signal = hub.sessions.detach_signal();
            let detached = signal.notified();
            tokio::pin!(detached);
            detached.as_mut().enable();
            old.request_close(CloseRequest::detach());
            let _ = tokio::time::timeout(TAKEOVER_WAIT, detached).await;
            match hub.sessions.claim(token, namespace.name(), user) {
                Claim::Taken(conn) => conn,
                Claim::Refused | Claim::Attached(_) => return None,
            }
        }
    };
    if conn.mailbox().attach(last_seq) {
        return Some(conn);
    }
    // The token is spent and the frames after `last_seq` are gone: the
    // session cannot go on.
    end_session(&**app, namespace, &conn, &DisconnectReason::TransportError).await;
    None
}

/// Whether a connection that ended for `reason` keeps its session for a
/// resume: only a socket lost without a closing handshake does, while the
/// server runs, within the cap on detached sessions.
pub(crate) fn keeps(hub: &Hub, reason: &DisconnectReason) -> bool {
    *reason == DisconnectReason::TransportError
        && !hub.is_shutting_down()
        && hub.sessions.detached_count() < hub.config.limits.max_connections
}

/// Detaches `conn` (its socket is gone): its session waits for a resume
/// with `token` until the resume window passes, a frame overflows what it
/// keeps, a close is requested, or the server shuts down; then it ends as
/// a disconnect would.
pub(crate) fn detach<A: App>(
    app: &Arc<A>,
    hub: &Arc<Hub>,
    namespace: &Arc<Namespace>,
    token: Box<str>,
    conn: &Connection,
) {
    conn.mailbox().detach();
    if !hub.sessions.detach(&token) {
        return;
    }
    tracing::debug!(connection = conn.id(), "detached: waiting for a resume");
    let window = hub.config.session.resume_window;
    let (app, hub2, namespace, conn) = (
        Arc::clone(app),
        Arc::clone(hub),
        Arc::clone(namespace),
        conn.clone(),
    );
    let key = token.clone();
    let task = tokio::spawn(async move {
        let hub = hub2;
        let mut shutdown = hub.shutdown.subscribe();
        let shutdown = shutdown_started(&mut shutdown);
        let reason = tokio::select! {
            () = tokio::time::sleep(window) => DisconnectReason::ResumeExpired,
            () = conn.mailbox().close_requested() => conn
                .mailbox()
                .take_close_request()
                .map_or(DisconnectReason::ClosedByServer, |r| r.reason),
            () = shutdown => DisconnectReason::ServerShutdown,
        };
        // Claimed meanwhile: the resumed connection goes on.
        let Some(conn) = hub.sessions.remove_detached(&key) else {
            return;
        };
        tracing::debug!(
            connection = conn.id(),
            reason = reason.as_str(),
            "detached session ended"
        );
        end_session(&*app, &namespace, &conn, &reason).await;
    });
    hub.sessions.set_expiry(&token, task.abort_handle());
}
