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
    let conn = Connection::new(ConnectionParts {
        namespace: namespace.name(),
        identity,
        handshake: admission.handshake,
        outbound_queue: hub.config.limits.outbound_queue,
        rooms: Arc::clone(&namespace.rooms),
        hooks: Arc::clone(&app) as _,
        max_rooms: hub.config.limits.max_rooms_per_connection,
    });
    let user = conn.user_id();
    let rooms = Arc::clone(&namespace.rooms);
    rooms.add_addresses(conn.mailbox(), user.as_deref()).await;
    tracing::debug!(
        connection = conn.id(),
        namespace = namespace.name(),
        user = user.as_deref(),
        "connected"
    );
    let mut lp = ConnectionLoop::new(ws, conn, app, namespace, chain, hub);
    // A panic anywhere in the loop must not skip the cleanup below: the
    // connection would stay a member of its rooms forever (a ghost).
    let reason = match catch_panic("connection loop", lp.run()).await {
        Some(reason) => reason,
        None => {
            let close = lp.close(CloseRequest::new(DisconnectReason::InternalError));
            catch_panic("closing", close).await;
            DisconnectReason::InternalError
        }
    };
    lp.conn.mailbox().close();
    rooms.remove_addresses(lp.conn.id(), user.as_deref()).await;
    // Handlers still running finish (their replies are dropped with the
    // socket), so work a client started is not cut off halfway.
    let mut running = std::mem::take(&mut lp.running);
    if !running.is_empty() {
        tokio::spawn(catch_panic("handlers after close", async move {
            while running.next().await.is_some() {}
        }));
    }
    lp.conn.leave_all().await;
    catch_panic(
        "on_disconnect",
        lp.app.hooks().on_disconnect(&lp.conn, &reason),
    )
    .await;
    lp.hub.metrics.connection_closed(&reason);
    tracing::debug!(
        connection = lp.conn.id(),
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
