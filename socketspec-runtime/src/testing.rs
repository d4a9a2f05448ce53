//! Testing an app in-process: [`TestClient`] drives a [`Server`] over
//! `tokio::io::duplex`, through the whole stack (authentication from the
//! given headers and query, limits, rooms, middleware, handlers), without
//! TCP or HTTP.
//!
//! With the chat example's generated module and handler (`tests/in_process.rs`
//! of `examples/chat` runs this for real):
//!
//! ```text
//! use std::time::Duration;
//! use serde_json::json;
//! use socketspec_runtime::{Server, testing::TestClient};
//!
//! let server = Server::builder(Chat::default()).build()?;
//! let mut alice = TestClient::connect(&server).await?;
//! let reply = alice.request("join_room", json!({"room": "general"})).await?;
//! assert_eq!(reply.payload["members"], 1);
//! alice.emit("send_message", json!({"room": "general", "text": "hi"})).await?;
//! let message = alice.receive_broadcast("new_message", Duration::from_secs(1)).await?;
//! assert_eq!(message.payload["text"], "hi");
//! ```
//!
//! The typed generated client runs over the same transport:
//! `chat::client::Client::from_raw(test_client.into_raw())`, or build a
//! [`RawClient`] with an [`InProcessConnector`].
//!
//! The origin check and the connection's HTTP upgrade are the only parts of
//! a server not exercised: they belong to the HTTP front.

use std::collections::VecDeque;
use std::time::Duration;

use http::{HeaderMap, HeaderName, HeaderValue};
use serde::Serialize;
use serde_json::{Value, json};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::Role;

use crate::auth::HandshakeRequest;
use crate::client::{
    BoxFuture, BoxSocket, ClientError, ClientOptions, CloseInfo, ConnectInfo, Connector, Handshake,
    Incoming, RawClient, Reply, ServerError, ServerMessage,
};
use crate::transport::Server;
use socketspec_protocol::SystemEvent;

/// Bytes buffered in each direction of the in-process pipe.
const PIPE_BUFFER: usize = 64 * 1024;

/// Opens in-process WebSockets to a [`Server`]: each connection is a
/// `tokio::io::duplex` pipe whose server end is handed to
/// [`Server::serve_websocket`] with the given headers and query (so
/// authentication sees them as it would an upgrade request's).
pub struct InProcessConnector {
    server: Server,
    namespace: String,
    headers: HeaderMap,
    query: Vec<(String, String)>,
}

impl InProcessConnector {
    /// A connector to `server`'s namespace `/` with no extra headers or query.
    pub fn new(server: &Server) -> Self {
        InProcessConnector {
            server: server.clone(),
            namespace: "/".to_owned(),
            headers: HeaderMap::new(),
            query: Vec::new(),
        }
    }

    /// Connects to `namespace` (e.g. `/ops`) instead of `/`.
    pub fn namespace(mut self, namespace: &str) -> Self {
        self.namespace = namespace.to_owned();
        self
    }

    /// Adds an upgrade header (e.g. `Authorization`).
    pub fn header(mut self, name: &str, value: &str) -> Result<Self, ClientError> {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|e| ClientError::Config(format!("header name `{name}`: {e}")))?;
        let value = HeaderValue::from_str(value)
            .map_err(|e| ClientError::Config(format!("value of header `{name}`: {e}")))?;
        self.headers.append(name, value);
        Ok(self)
    }

    /// Adds a query parameter (e.g. `token`, `api_key`).
    pub fn query(mut self, name: &str, value: &str) -> Self {
        self.query.push((name.to_owned(), value.to_owned()));
        self
    }
}

impl Connector for InProcessConnector {
    fn connect<'a>(
        &'a self,
        handshake: &'a Handshake,
    ) -> BoxFuture<'a, Result<BoxSocket, ClientError>> {
        Box::pin(async move {
            let (client_end, server_end) = tokio::io::duplex(PIPE_BUFFER);
            let mut headers = self.headers.clone();
            for (name, value) in &handshake.headers {
                headers.append(name, value.clone());
            }
            let mut query = self.query.clone();
            query.extend(handshake.query.iter().cloned());
            let request = HandshakeRequest {
                headers,
                query,
                dropped: 0,
            };
            let server = self.server.clone();
            let namespace = self.namespace.clone();
            tokio::spawn(async move {
                // A refused connection drops its end of the pipe: the
                // client sees the stream end before any `__connect__`.
                if let Err(refusal) = server
                    .serve_websocket(&namespace, server_end, request)
                    .await
                {
                    tracing::debug!(%refusal, "in-process connection refused");
                }
            });
            let ws = WebSocketStream::from_raw_socket(client_end, Role::Client, None).await;
            Ok(Box::new(ws) as BoxSocket)
        })
    }
}

/// A test client connected in-process to a [`Server`]: send events, await
/// replies, and read what the server sends, filtered by event, with
/// timeouts. `__pong__` is automatic (unless turned off in the options).
pub struct TestClient {
    raw: RawClient,
    info: ConnectInfo,
    /// Messages read while looking for another one, oldest first.
    buffer: VecDeque<ServerMessage>,
    closed: Option<CloseInfo>,
}

impl std::fmt::Debug for TestClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestClient")
            .field("connection_id", &self.info.connection_id)
            .field("buffered", &self.buffer.len())
            .field("closed", &self.closed)
            .finish_non_exhaustive()
    }
}

impl TestClient {
    /// Connects without headers or query.
    pub async fn connect(server: &Server) -> Result<TestClient, ClientError> {
        TestClient::connect_with(server, &[], &[]).await
    }

    /// Connects with upgrade `headers` and `query` pairs (what
    /// authentication reads: `Authorization`, `X-API-Key`, `token`...). A
    /// refused credential is a [`ClientError::Server`] with `AUTH_ERROR`.
    pub async fn connect_with(
        server: &Server,
        headers: &[(&str, &str)],
        query: &[(&str, &str)],
    ) -> Result<TestClient, ClientError> {
        TestClient::connect_with_options(server, headers, query, ClientOptions::new()).await
    }

    /// [`TestClient::connect_with`] with client options (a JWT, no
    /// automatic pong, a request timeout...).
    pub async fn connect_with_options(
        server: &Server,
        headers: &[(&str, &str)],
        query: &[(&str, &str)],
        options: ClientOptions,
    ) -> Result<TestClient, ClientError> {
        let mut connector = InProcessConnector::new(server);
        for (name, value) in headers {
            connector = connector.header(name, value)?;
        }
        for (name, value) in query {
            connector = connector.query(name, value);
        }
        let raw = RawClient::connect_with(connector, options).await?;
        let info = raw.connect_info().unwrap_or_default();
        let mut client = TestClient {
            raw,
            info,
            buffer: VecDeque::new(),
            closed: None,
        };
        // The stream starts with this connection's `__connect__`: consume it.
        let _ = client
            .receive(SystemEvent::Connect.name(), Duration::from_secs(1))
            .await;
        Ok(client)
    }

    /// What the server announced in `__connect__`.
    pub fn connect_info(&self) -> &ConnectInfo {
        &self.info
    }

    /// The connection's id.
    pub fn connection_id(&self) -> &str {
        &self.info.connection_id
    }

    /// The underlying protocol client.
    pub fn raw(&self) -> &RawClient {
        &self.raw
    }

    /// The underlying protocol client, e.g. for a generated typed client:
    /// `chat::client::Client::from_raw(test_client.into_raw())`.
    pub fn into_raw(self) -> RawClient {
        self.raw
    }

    /// Sends `event` without an `id`; returns once it is written.
    pub async fn emit(&self, event: &str, payload: Value) -> Result<(), ClientError> {
        self.raw.send_with_id(event, &payload, None).await
    }

    /// Sends `event` with the correlation `id`; its replies then carry it
    /// and are read with [`TestClient::receive`].
    pub async fn emit_with_id(
        &self,
        event: &str,
        payload: Value,
        id: &str,
    ) -> Result<(), ClientError> {
        self.raw.send_with_id(event, &payload, Some(id)).await
    }

    /// Sends `text` verbatim as one frame (malformed input on purpose).
    pub async fn send_text(&self, text: &str) -> Result<(), ClientError> {
        self.raw.send_text(text).await
    }

    /// Sends `event` with a fresh `id` and waits for the reply (an
    /// `__error__` is [`ClientError::Server`]).
    pub async fn request<P: Serialize + ?Sized>(
        &self,
        event: &str,
        payload: &P,
    ) -> Result<Reply, ClientError> {
        self.raw.request(event, payload).await
    }

    /// Joins a room through the spec's `join_room` event with
    /// `{"room": room}`, the convention the chat example follows; returns
    /// the reply. Specs with another join event use [`TestClient::request`].
    pub async fn join_room(&self, room: &str) -> Result<Reply, ClientError> {
        self.raw
            .request("join_room", &json!({ "room": room }))
            .await
    }

    /// Offers a new JWT (`__refresh_auth__`); see [`RawClient::refresh_auth`].
    pub async fn refresh_auth(&self, token: &str) -> Result<Option<Duration>, ClientError> {
        self.raw.refresh_auth(token).await
    }

    /// The first message named `event` (read earlier or arriving within
    /// `timeout`). Other messages read meanwhile are kept for later calls,
    /// except `__ping__`s, which are dropped.
    pub async fn receive(
        &mut self,
        event: &str,
        timeout: Duration,
    ) -> Result<ServerMessage, ClientError> {
        self.receive_matching(timeout, &format!("`{event}`"), |m| m.event == event)
            .await
    }

    /// The next message other than `__ping__`.
    pub async fn receive_any(&mut self, timeout: Duration) -> Result<ServerMessage, ClientError> {
        self.receive_matching(timeout, "a message", |m| {
            m.event != SystemEvent::Ping.name()
        })
        .await
    }

    /// Like [`TestClient::receive_any`], but `Ok(None)` when nothing arrives
    /// within `timeout` (to check that nothing does).
    pub async fn try_receive_any(
        &mut self,
        timeout: Duration,
    ) -> Result<Option<ServerMessage>, ClientError> {
        match self.receive_any(timeout).await {
            Ok(message) => Ok(Some(message)),
            Err(ClientError::Timeout { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The first broadcast named `event`: a message without an `id`.
    pub async fn receive_broadcast(
        &mut self,
        event: &str,
        timeout: Duration,
    ) -> Result<ServerMessage, ClientError> {
        self.receive_matching(timeout, &format!("broadcast `{event}`"), |m| {
            m.event == event && m.id.is_none()
        })
        .await
    }

    /// The first `__error__`, parsed.
    pub async fn receive_error(&mut self, timeout: Duration) -> Result<ServerError, ClientError> {
        let message = self.receive(SystemEvent::Error.name(), timeout).await?;
        ServerError::from_payload(&message.payload).map_err(ClientError::Protocol)
    }

    /// Waits until the server closes the connection; returns how. Messages
    /// read meanwhile stay available to the `receive` methods.
    pub async fn expect_close(&mut self, timeout: Duration) -> Result<CloseInfo, ClientError> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(info) = &self.closed {
                return Ok(info.clone());
            }
            match tokio::time::timeout_at(deadline, self.raw.next_event()).await {
                Err(_) => {
                    return Err(ClientError::Timeout {
                        what: "the connection to close".to_owned(),
                        after: timeout,
                    });
                }
                Ok(item) => self.absorb(item),
            }
        }
    }

    /// Closes the connection (code 1000).
    pub async fn close(self) -> Result<(), ClientError> {
        self.raw.close(1000, "test_client_close").await
    }

    /// Messages read ahead and not yet returned.
    pub fn buffered(&self) -> impl Iterator<Item = &ServerMessage> {
        self.buffer.iter()
    }

    async fn receive_matching(
        &mut self,
        timeout: Duration,
        what: &str,
        wanted: impl Fn(&ServerMessage) -> bool,
    ) -> Result<ServerMessage, ClientError> {
        if let Some(index) = self.buffer.iter().position(&wanted)
            && let Some(message) = self.buffer.remove(index)
        {
            return Ok(message);
        }
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(info) = &self.closed {
                return Err(ClientError::closed(
                    info.code,
                    format!("{} (while waiting for {what})", info.reason),
                ));
            }
            let item = match tokio::time::timeout_at(deadline, self.raw.next_event()).await {
                Ok(item) => item,
                Err(_) => {
                    let seen: Vec<&str> = self.buffer.iter().map(|m| m.event.as_str()).collect();
                    return Err(ClientError::Timeout {
                        what: format!("{what} (got meanwhile: {seen:?})"),
                        after: timeout,
                    });
                }
            };
            if let Some(Incoming::Message(message)) = &item
                && wanted(message)
            {
                return Ok(message.clone());
            }
            self.absorb(item);
        }
    }

    /// Files a stream item: messages into the buffer (pings dropped), a
    /// final close into `closed`.
    fn absorb(&mut self, item: Option<Incoming>) {
        match item {
            Some(Incoming::Message(message)) => {
                if message.event != SystemEvent::Ping.name() {
                    self.buffer.push_back(message);
                }
            }
            Some(Incoming::Closed(info)) => {
                if !info.reconnecting {
                    self.closed = Some(info);
                }
            }
            Some(Incoming::Lagged(_)) => {}
            None => {
                if self.closed.is_none() {
                    self.closed = Some(CloseInfo {
                        code: None,
                        reason: "the client is closed".to_owned(),
                        reconnecting: false,
                    });
                }
            }
        }
    }
}
