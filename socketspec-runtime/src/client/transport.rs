//! The transport abstraction: the client core drives any [`Socket`] (every
//! `WebSocketStream<S>` is one), and a [`Connector`] opens a new one for
//! each connection attempt, so reconnection works the same over TCP
//! ([`UrlConnector`]) and in-process (`testing::InProcessConnector`).

use futures_util::{Sink, Stream};
use http::HeaderMap;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use super::error::ClientError;
use crate::future::BoxFuture;

/// A WebSocket the client core can drive: a stream of incoming messages and
/// a sink for outgoing ones. Every `tokio_tungstenite::WebSocketStream<S>`
/// over any byte stream `S` is one.
pub trait Socket:
    Stream<Item = Result<Message, WsError>> + Sink<Message, Error = WsError> + Send + Unpin + 'static
{
}

impl<T> Socket for T where
    T: Stream<Item = Result<Message, WsError>>
        + Sink<Message, Error = WsError>
        + Send
        + Unpin
        + 'static
{
}

/// A type-erased [`Socket`].
pub type BoxSocket = Box<dyn Socket>;

/// What a connection attempt sends besides the WebSocket handshake itself.
#[derive(Debug, Clone, Default)]
pub struct Handshake {
    /// Extra upgrade headers: the configured ones and the credential
    /// (`Authorization: Bearer`, `X-API-Key`).
    pub headers: HeaderMap,
}

/// Opens WebSockets to one server; called once per connection attempt (the
/// first one and every reconnect).
pub trait Connector: Send + Sync + 'static {
    /// Opens a new WebSocket, sending `handshake`'s headers with the upgrade.
    fn connect<'a>(
        &'a self,
        handshake: &'a Handshake,
    ) -> BoxFuture<'a, Result<BoxSocket, ClientError>>;
}

/// Connects over TCP to a `ws://` URL with `tokio_tungstenite::connect_async`.
///
/// (`wss://` needs a TLS feature of tokio-tungstenite that this build does
/// not enable; put a TLS-capable [`Connector`] in its place.)
#[derive(Debug, Clone)]
pub struct UrlConnector {
    url: String,
}

impl UrlConnector {
    /// A connector for `url`, e.g. `ws://127.0.0.1:8080/ws`.
    pub fn new(url: impl Into<String>) -> Self {
        UrlConnector { url: url.into() }
    }

    /// The URL.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Connector for UrlConnector {
    fn connect<'a>(
        &'a self,
        handshake: &'a Handshake,
    ) -> BoxFuture<'a, Result<BoxSocket, ClientError>> {
        Box::pin(async move {
            let mut request = self
                .url
                .as_str()
                .into_client_request()
                .map_err(ClientError::from_ws)?;
            for (name, value) in &handshake.headers {
                request.headers_mut().append(name, value.clone());
            }
            let (ws, _response) = tokio_tungstenite::connect_async(request)
                .await
                .map_err(ClientError::from_ws)?;
            Ok(Box::new(ws) as BoxSocket)
        })
    }
}
