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
    /// Extra query parameters for the upgrade URL: `resume` and
    /// `last_seq` when the client resumes a lost connection.
    pub query: Vec<(String, String)>,
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
            let url = with_query(&self.url, &handshake.query);
            let mut request = url
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

/// `url` with `query` appended (percent-encoded), before any fragment.
fn with_query(url: &str, query: &[(String, String)]) -> String {
    if query.is_empty() {
        return url.to_owned();
    }
    let (base, fragment) = match url.split_once('#') {
        Some((base, fragment)) => (base, Some(fragment)),
        None => (url, None),
    };
    let mut out = base.to_owned();
    let mut separator = if !base.contains('?') {
        "?"
    } else if base.ends_with('?') || base.ends_with('&') {
        ""
    } else {
        "&"
    };
    for (name, value) in query {
        out.push_str(separator);
        out.push_str(&encode(name));
        out.push('=');
        out.push_str(&encode(value));
        separator = "&";
    }
    if let Some(fragment) = fragment {
        out.push('#');
        out.push_str(fragment);
    }
    out
}

/// Percent-encodes all but RFC 3986's unreserved characters.
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::with_query;

    #[test]
    fn query_parameters_are_appended_and_encoded() {
        let q = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
                .collect()
        };
        let resume = q(&[("resume", "ab c"), ("last_seq", "7")]);
        assert_eq!(
            with_query("ws://h/ws", &resume),
            "ws://h/ws?resume=ab%20c&last_seq=7"
        );
        assert_eq!(
            with_query("ws://h/ws?token=t", &resume),
            "ws://h/ws?token=t&resume=ab%20c&last_seq=7"
        );
        assert_eq!(with_query("ws://h/ws?", &q(&[("a", "1")])), "ws://h/ws?a=1");
        assert_eq!(with_query("ws://h/ws", &[]), "ws://h/ws");
    }
}
