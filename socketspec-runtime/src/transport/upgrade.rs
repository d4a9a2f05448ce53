//! The WebSocket upgrade: the request's checks (method, headers, version,
//! origin, shutdown, connection cap), authentication, the 101 answer, and
//! handing the upgraded stream to the namespace's connection loop.
//!
//! The built-in front and an axum mount both come through here, so they
//! cannot drift apart.

use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::Full;
use hyper_util::rt::TokioIo;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

use super::endpoint::Endpoint;
use super::http::{Body, parse_query, text_response};
use super::origin::OriginPolicy;
use crate::auth::HandshakeRequest;
use crate::hub::{ConnectionSlot, Hub};
use crate::socket::Admission;

/// Upgrades `req` into a WebSocket of `endpoint`'s namespace, or answers
/// why not.
pub(super) async fn upgrade<B>(
    hub: &Arc<Hub>,
    origins: &OriginPolicy,
    endpoint: &Arc<dyn Endpoint>,
    mut req: Request<B>,
) -> Response<Body> {
    let headers = req.headers();
    let is_upgrade = req.method() == Method::GET
        && header_has(headers, header::CONNECTION, "upgrade")
        && header_has(headers, header::UPGRADE, "websocket");
    let Some(key) = headers
        .get(header::SEC_WEBSOCKET_KEY)
        .filter(|_| is_upgrade)
    else {
        return text_response(
            StatusCode::BAD_REQUEST,
            "expected a WebSocket upgrade request",
        );
    };
    if headers
        .get(header::SEC_WEBSOCKET_VERSION)
        .map(HeaderValue::as_bytes)
        != Some(b"13")
    {
        return text_response(
            StatusCode::BAD_REQUEST,
            "unsupported Sec-WebSocket-Version (13 expected)",
        );
    }
    let accept = derive_accept_key(key.as_bytes());
    let handshake = HandshakeRequest {
        headers: owned_headers(headers),
        query: parse_query(req.uri().query()),
    };
    let (hub, slot, admission) = match admit(hub, origins, handshake).await {
        Ok(admitted) => admitted,
        Err(refusal) => return refusal.response(),
    };
    let endpoint = Arc::clone(endpoint);
    let on_upgrade = hyper::upgrade::on(&mut req);
    tokio::spawn(async move {
        match on_upgrade.await {
            Ok(upgraded) => {
                endpoint
                    .serve_upgraded(hub, TokioIo::new(upgraded), admission)
                    .await;
            }
            Err(e) => tracing::debug!(error = %e, "upgrade failed"),
        }
        drop(slot);
    });
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let h = response.headers_mut();
    h.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    if let Ok(value) = HeaderValue::from_str(&accept) {
        h.insert(header::SEC_WEBSOCKET_ACCEPT, value);
    }
    response
}

/// The checks every new connection passes, whatever brought it: the
/// origin, the shutdown, the connection cap, then authentication (whose
/// refusal is answered on the WebSocket, so it is part of the admission).
pub(super) async fn admit(
    hub: &Arc<Hub>,
    origins: &OriginPolicy,
    handshake: HandshakeRequest,
) -> Result<(Arc<Hub>, ConnectionSlot, Admission), Refusal> {
    if !origins.allows(handshake.header("origin")) {
        return Err(Refusal::OriginNotAllowed);
    }
    if hub.is_shutting_down() {
        return Err(Refusal::ShuttingDown);
    }
    let slot = hub.reserve_slot().ok_or(Refusal::TooManyConnections)?;
    let identity = match &hub.auth {
        None => Ok(None),
        Some(auth) => auth.authenticate(&handshake).await.map(Some),
    };
    let admission = Admission {
        handshake,
        identity,
    };
    Ok((Arc::clone(hub), slot, admission))
}

/// Why a connection was not admitted (before any WebSocket exists).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// The `Origin` header is missing or not allowed (HTTP 403).
    #[error("origin not allowed")]
    OriginNotAllowed,
    /// A graceful shutdown has started (HTTP 503).
    #[error("server is shutting down")]
    ShuttingDown,
    /// `max_connections` are open (HTTP 503).
    #[error("too many connections")]
    TooManyConnections,
    /// No namespace is served at that path (HTTP 404).
    #[error("no namespace is served there")]
    UnknownNamespace,
}

impl Refusal {
    /// The HTTP status the upgrade is refused with.
    pub fn status(self) -> StatusCode {
        match self {
            Refusal::OriginNotAllowed => StatusCode::FORBIDDEN,
            Refusal::ShuttingDown | Refusal::TooManyConnections => StatusCode::SERVICE_UNAVAILABLE,
            Refusal::UnknownNamespace => StatusCode::NOT_FOUND,
        }
    }

    fn response(self) -> Response<Body> {
        text_response(self.status(), &self.to_string())
    }
}

/// A copy of `headers` that owns its bytes. A plain clone shares (and so
/// keeps alive, for the connection's whole life) hyper's read buffer of the
/// upgrade request: about 8 KiB per idle connection.
fn owned_headers(headers: &http::HeaderMap) -> http::HeaderMap {
    let mut owned = http::HeaderMap::with_capacity(headers.len());
    for (name, value) in headers {
        let name = header::HeaderName::from_bytes(name.as_str().as_bytes());
        let value = HeaderValue::from_bytes(value.as_bytes());
        if let (Ok(name), Ok(value)) = (name, value) {
            owned.append(name, value);
        }
    }
    owned
}

fn header_has(headers: &http::HeaderMap, name: header::HeaderName, token: &str) -> bool {
    headers.get_all(name).iter().any(|v| {
        v.to_str()
            .map(|s| s.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
            .unwrap_or(false)
    })
}
