//! The node with the client's socket: it asks the node holding the session
//! to serve the connection, then passes frames both ways until either side
//! ends.

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

use super::Relays;
use crate::auth::HandshakeRequest;
use crate::backend::{DynBackend, RelayBody, RelayMessage};

/// How long the session's node has to answer before the connection is
/// served here, fresh.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(3);

/// How a relay attempt went.
pub(crate) enum Outcome {
    /// The connection was relayed until it ended, with this reason.
    Relayed(String),
    /// The session's node did not take it: serve the socket here.
    NotTaken,
}

/// Relays the connection on `ws` (an upgrade of namespace `namespace`
/// asking to resume a session of node `owner`) to that node.
pub(crate) async fn run<S>(
    relays: &Relays,
    adapter: &Arc<dyn DynBackend>,
    ws: &mut WebSocketStream<S>,
    owner: &str,
    namespace: &str,
    handshake: &HandshakeRequest,
) -> Outcome
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let Some(me) = adapter.node_id().map(str::to_owned) else {
        return Outcome::NotTaken;
    };
    let id = uuid::Uuid::new_v4().to_string();
    let mut from_owner = relays.register(&id);
    let link = Link {
        adapter,
        owner,
        id: &id,
        me: &me,
    };
    let open = RelayBody::Open {
        namespace: namespace.to_owned(),
        headers: handshake
            .headers
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect(),
        query: handshake.query.clone(),
    };
    if link.send(open).await.is_err() {
        relays.remove(&id);
        return Outcome::NotTaken;
    }
    // The first frame (`__connect__`) says the session's node serves it.
    let first = match tokio::time::timeout(ANSWER_TIMEOUT, from_owner.recv()).await {
        Ok(Some(RelayBody::Text(text))) => text,
        _ => {
            let _ = link.send(lost()).await;
            relays.remove(&id);
            return Outcome::NotTaken;
        }
    };
    let reason = match ws.send(Message::text(first)).await {
        Ok(()) => pass_frames(&link, ws, &mut from_owner).await,
        Err(_) => {
            let _ = link.send(lost()).await;
            "transport_error".to_owned()
        }
    };
    relays.remove(&id);
    Outcome::Relayed(reason)
}

/// One relay, seen from the client's side.
struct Link<'a> {
    adapter: &'a Arc<dyn DynBackend>,
    owner: &'a str,
    id: &'a str,
    me: &'a str,
}

impl Link<'_> {
    async fn send(&self, body: RelayBody) -> Result<(), ()> {
        let message = RelayMessage::new(self.id, self.me, body);
        self.adapter
            .relay(self.owner, message)
            .await
            .map_err(|e| tracing::debug!(error = %e, "relaying failed"))
    }
}

/// The socket was lost (no close frame).
fn lost() -> RelayBody {
    RelayBody::Close {
        code: None,
        reason: String::new(),
    }
}

/// Passes frames until one side ends; returns why it ended.
async fn pass_frames<S>(
    link: &Link<'_>,
    ws: &mut WebSocketStream<S>,
    from_owner: &mut mpsc::Receiver<RelayBody>,
) -> String
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    loop {
        tokio::select! {
            message = ws.next() => match message {
                Some(Ok(Message::Text(text))) => {
                    if link.send(RelayBody::Text(text.as_str().to_owned())).await.is_err() {
                        return "transport_error".to_owned();
                    }
                }
                Some(Ok(Message::Binary(bytes))) => {
                    let text = String::from_utf8_lossy(&bytes).into_owned();
                    if link.send(RelayBody::Text(text)).await.is_err() {
                        return "transport_error".to_owned();
                    }
                }
                Some(Ok(Message::Close(frame))) => {
                    let _ = link.send(super::close_body(frame)).await;
                    let _ = tokio::time::timeout(Duration::from_secs(2), ws.flush()).await;
                    return "client_close".to_owned();
                }
                Some(Ok(_)) => {}
                None | Some(Err(_)) => {
                    let _ = link.send(lost()).await;
                    return "transport_error".to_owned();
                }
            },
            body = from_owner.recv() => match body {
                Some(RelayBody::Text(text)) => {
                    if ws.send(Message::text(text)).await.is_err() {
                        let _ = link.send(lost()).await;
                        return "transport_error".to_owned();
                    }
                }
                Some(RelayBody::Close { code: Some(code), reason }) => {
                    super::close_with(ws, code, &reason).await;
                    return reason;
                }
                // The session's node lost the connection (or this relay
                // fell behind): drop the socket without a close frame, so
                // that the client resumes again.
                Some(RelayBody::Close { code: None, .. }) | None => {
                    return "transport_error".to_owned();
                }
                Some(RelayBody::Open { .. }) => {}
            },
        }
    }
}
