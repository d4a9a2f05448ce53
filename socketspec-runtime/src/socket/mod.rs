//! The connection loop: one task per connection, generic over the byte
//! stream (TCP behind hyper, an axum upgrade, or `tokio::io::duplex` in
//! tests).
//!
//! The loop owns the WebSocket. It reads frames ([`inbound`]), decodes and
//! validates them, schedules their handlers ([`scheduler`], [`ordered`]),
//! writes the outbound queue in batches ([`outbound`]), answers the
//! protocol's own events and fires the session timers ([`system`],
//! [`timers`]), and closes the connection when it must ([`closing`]).

mod closing;
mod connect;
mod event_loop;
mod flood;
mod inbound;
mod metered;
mod ordered;
mod outbound;
mod parked;
mod rate_limit;
mod request_id;
mod resume;
mod scheduler;
mod system;
mod timers;

use std::sync::Arc;

use futures_util::{SinkExt, StreamExt};
use serde_json::Map;
use socketspec_protocol::DisconnectReason;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

use crate::auth::{AuthRejection, HandshakeRequest};
use crate::connection::{Connection, ConnectionParts};
use crate::dispatch::middleware::Chain;
use crate::dispatch::namespace::Namespace;
use crate::dispatch::{App, Hooks};
use crate::envelope;
use crate::error::ErrorCode;
use crate::hub::Hub;
use crate::identity::Identity;
use crate::mailbox::CloseRequest;
use crate::panic_report::catch_panic;
use event_loop::ConnectionLoop;
pub(crate) use metered::Metered;

/// What the upgrade decided about a new connection.
pub(crate) struct Admission {
    pub(crate) handshake: HandshakeRequest,
    pub(crate) identity: Result<Option<Identity>, AuthRejection>,
}

/// Serves one upgraded WebSocket of namespace `namespace` until it closes.
pub(crate) async fn serve<A, S>(
    app: Arc<A>,
    namespace: Arc<Namespace>,
    chain: Chain,
    hub: Arc<Hub>,
    mut ws: WebSocketStream<Metered<S>>,
    admission: Admission,
) where
    A: App,
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    hub.metrics.connection_opened();
    let identity = match admission.identity {
        Ok(identity) => identity,
        Err(rejection) => {
            // The reason, never the credential.
            tracing::info!(namespace = namespace.name(), reason = %rejection.0, "authentication refused");
            refuse(&hub, &mut ws, &rejection).await;
            return;
        }
    };
    let resumable = hub.config.session.resumable();
    if resumable
        && let Some(reason) = relay_elsewhere(&hub, &namespace, &mut ws, &admission.handshake).await
    {
        hub.metrics.connection_closed(&reason);
        return;
    }
    let resumed = match resumable {
        true => resume::claim(&app, &hub, &namespace, &admission.handshake, &identity).await,
        false => None,
    };
    let (conn, resumed) = match resumed {
        Some(conn) => {
            if let Some(identity) = identity {
                conn.set_identity(identity);
            }
            (conn, true)
        }
        None => {
            let conn = Connection::new(ConnectionParts {
                namespace: namespace.name(),
                identity,
                handshake: admission.handshake,
                outbound_queue: hub.config.limits.outbound_queue,
                rooms: Arc::clone(&namespace.rooms),
                hooks: Arc::clone(&app) as _,
                max_rooms: hub.config.limits.max_rooms_per_connection,
                replay: resumable.then_some(hub.config.session.resume_buffer),
            });
            let user = conn.user_id();
            namespace
                .rooms
                .add_addresses(conn.mailbox(), user.as_deref())
                .await;
            (conn, false)
        }
    };
    let token = resumable.then(|| crate::relay::new_token(hub.node_id()));
    if let Some(token) = &token {
        hub.sessions.attach(token, &conn);
    }
    tracing::debug!(
        connection = conn.id(),
        namespace = namespace.name(),
        user = conn.user_id().as_deref(),
        resumed,
        "connected"
    );
    let session = Session {
        token: token.as_deref(),
        resumed,
    };
    let mut lp = ConnectionLoop::new(ws, conn, app, namespace, chain, hub);
    // A panic anywhere in the loop must not skip the cleanup below: the
    // connection would stay a member of its rooms forever (a ghost).
    let reason = match catch_panic("connection loop", lp.run(session)).await {
        Some(reason) => reason,
        None => {
            let close = lp.close(CloseRequest::new(DisconnectReason::InternalError));
            catch_panic("closing", close).await;
            DisconnectReason::InternalError
        }
    };
    // Handlers still running finish (their replies are dropped with the
    // socket, or kept for a resume), so work a client started is not cut
    // off halfway.
    let mut running = std::mem::take(&mut lp.running);
    if !running.is_empty() {
        tokio::spawn(catch_panic("handlers after close", async move {
            while running.next().await.is_some() {}
        }));
    }
    lp.hub.metrics.connection_closed(&reason);
    match token {
        Some(token) if resume::keeps(&lp.hub, &reason) => {
            resume::detach(&lp.app, &lp.hub, &lp.namespace, token, &lp.conn);
            return;
        }
        Some(token) => {
            lp.hub.sessions.remove(&token);
        }
        None => {}
    }
    end_session(&*lp.app, &lp.namespace, &lp.conn, &reason).await;
}

/// A resume of a session another node holds: that node serves it, through
/// a relay, while it is alive. `Some(reason)`: it was relayed until it
/// ended; `None`: serve the socket here.
async fn relay_elsewhere<S>(
    hub: &Hub,
    namespace: &Namespace,
    ws: &mut WebSocketStream<Metered<S>>,
    handshake: &HandshakeRequest,
) -> Option<DisconnectReason>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let adapter = hub.adapter.as_ref()?;
    let me = adapter.node_id()?;
    let token = handshake.query_param(socketspec_protocol::envelope::query::RESUME)?;
    let owner = crate::relay::token_node(token)?;
    if owner == me || !adapter.node_alive(owner).await {
        return None;
    }
    match crate::relay::front::run(&hub.relays, adapter, ws, owner, namespace.name(), handshake)
        .await
    {
        crate::relay::front::Outcome::Relayed(reason) => Some(DisconnectReason::custom(reason)),
        crate::relay::front::Outcome::NotTaken => None,
    }
}

/// What the loop tells the client in `__connect__` about resumption.
pub(crate) struct Session<'a> {
    /// The connection's resume token (resumption on).
    pub(crate) token: Option<&'a str>,
    /// Whether it resumed a detached session (`on_connect` does not run).
    pub(crate) resumed: bool,
}

/// Ends a connection's session: it leaves its rooms and its addresses, and
/// `on_disconnect` runs with `reason`.
pub(crate) async fn end_session<A: App>(
    app: &A,
    namespace: &Namespace,
    conn: &Connection,
    reason: &DisconnectReason,
) {
    conn.mailbox().close();
    let user = conn.user_id();
    namespace
        .rooms
        .remove_addresses(conn.id(), user.as_deref())
        .await;
    conn.leave_all().await;
    catch_panic("on_disconnect", app.hooks().on_disconnect(conn, reason)).await;
    tracing::debug!(
        connection = conn.id(),
        reason = reason.as_str(),
        "disconnected"
    );
}

/// A refused credential: `AUTH_ERROR`, no `__connect__`, close 4001.
async fn refuse<S>(hub: &Hub, ws: &mut WebSocketStream<S>, rejection: &AuthRejection)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    hub.metrics.error(ErrorCode::AuthError);
    hub.metrics.connection_closed(&DisconnectReason::AuthError);
    let frame = envelope::encode_error(ErrorCode::AuthError, None, &rejection.0, &Map::new(), None);
    let code = DisconnectReason::AuthError
        .close_code()
        .unwrap_or(socketspec_protocol::CloseCode::Auth);
    let _ = tokio::time::timeout(closing::CLOSE_TIMEOUT, async {
        ws.send(Message::Text(frame.into_utf8_bytes())).await?;
        closing::close_socket(ws, code, DisconnectReason::AuthError.as_str()).await
    })
    .await;
}
