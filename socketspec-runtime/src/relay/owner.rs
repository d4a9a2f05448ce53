//! The node holding the session: it serves a relayed connection over an
//! in-memory pipe, as a connection of its own, and passes the frames to and
//! from the node with the client's socket.

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use http::{HeaderMap, HeaderName, HeaderValue};
use tokio::io::DuplexStream;
use tokio::sync::mpsc;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};

use super::Relays;
use crate::auth::HandshakeRequest;
use crate::backend::{DynBackend, RelayBody, RelayMessage};
use crate::future::BoxFuture;

/// Bytes the pipe between the relay and the connection buffers.
const PIPE_BUFFER: usize = 64 * 1024;

/// Serves one connection of a namespace over a byte stream, after the
/// usual admission (the server's `serve_websocket`).
pub(crate) type ServeFn =
    Box<dyn FnOnce(String, DuplexStream, HandshakeRequest) -> BoxFuture<'static, ()> + Send>;

/// Another node asks this one to serve a relayed connection (`message` is
/// its `Open`): the connection is served here, its frames go back to that
/// node.
pub(crate) fn open(
    relays: &Arc<Relays>,
    adapter: &Arc<dyn DynBackend>,
    message: RelayMessage,
    serve: ServeFn,
) {
    let RelayBody::Open {
        namespace,
        headers,
        query,
    } = message.body
    else {
        return;
    };
    let Some(me) = adapter.node_id().map(str::to_owned) else {
        return;
    };
    let mut header_map = HeaderMap::new();
    for (name, value) in headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::try_from(name.as_str()),
            HeaderValue::try_from(value.as_str()),
        ) {
            header_map.append(name, value);
        }
    }
    let handshake = HandshakeRequest {
        headers: header_map,
        query,
        dropped: 0,
    };
    let (client_end, server_end) = tokio::io::duplex(PIPE_BUFFER);
    let from_front = relays.register(&message.relay);
    tokio::spawn(serve(namespace, server_end, handshake));
    let bridge = Bridge {
        relays: Arc::clone(relays),
        adapter: Arc::clone(adapter),
        id: message.relay,
        front: message.from_node,
        me,
    };
    tokio::spawn(bridge.run(client_end, from_front));
}

/// The relay's end on this node.
struct Bridge {
    relays: Arc<Relays>,
    adapter: Arc<dyn DynBackend>,
    id: String,
    /// The node with the client's socket.
    front: String,
    me: String,
}

impl Bridge {
    async fn send(&self, body: RelayBody) -> Result<(), ()> {
        let message = RelayMessage::new(&self.id, &self.me, body);
        self.adapter
            .relay(&self.front, message)
            .await
            .map_err(|e| tracing::debug!(error = %e, "relaying failed"))
    }

    async fn run(self, pipe: DuplexStream, mut from_front: mpsc::Receiver<RelayBody>) {
        // The connection's own limits apply on its side of the pipe.
        let config = WebSocketConfig::default()
            .max_message_size(None)
            .max_frame_size(None);
        let mut ws = WebSocketStream::from_raw_socket(pipe, Role::Client, Some(config)).await;
        loop {
            tokio::select! {
                message = ws.next() => match message {
                    Some(Ok(Message::Text(text))) => {
                        if self.send(RelayBody::Text(text.as_str().to_owned())).await.is_err() {
                            break;
                        }
                    }
                    Some(Ok(Message::Close(frame))) => {
                        let _ = self.send(super::close_body(frame)).await;
                        let _ = tokio::time::timeout(Duration::from_secs(2), ws.flush()).await;
                        break;
                    }
                    Some(Ok(_)) => {}
                    None | Some(Err(_)) => {
                        let _ = self.send(RelayBody::Close { code: None, reason: String::new() }).await;
                        break;
                    }
                },
                body = from_front.recv() => match body {
                    Some(RelayBody::Text(text)) => {
                        if ws.send(Message::text(text)).await.is_err() {
                            break;
                        }
                    }
                    Some(RelayBody::Close { code: Some(code), reason }) => {
                        super::close_with(&mut ws, code, &reason).await;
                        break;
                    }
                    // The client's socket was lost: dropping the pipe makes
                    // the connection detach, and wait for the next resume.
                    Some(RelayBody::Close { code: None, .. }) | None => break,
                    Some(RelayBody::Open { .. }) => {}
                },
            }
        }
        self.relays.remove(&self.id);
    }
}
