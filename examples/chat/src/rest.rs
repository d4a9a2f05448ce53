//! `chat-axum`'s REST routes, beside the socketspec service in the same
//! `axum::Router` and sharing its state (docs/guide-runtime.md, "Mounting
//! in axum"):
//!
//! - `GET /api/rooms`: the rooms of namespace `/` that exist, sorted by
//!   name, with cluster-wide member counts;
//! - `POST /api/announce`: `{room, text}`, validated with the schema of
//!   `send_message` by the server's own validator, broadcast as
//!   `new_message` `{room, from: "server", text}` to `chat:{room}` through
//!   the typed push API. With `--jwt-secret` it needs an admin's JWT.
//!
//! Errors are JSON objects with a `code` of the wire protocol
//! (`ROOM_NOT_FOUND`, `VALIDATION_ERROR`, `AUTH_ERROR`,
//! `PERMISSION_ERROR`), so a client reads them as it reads `__error__`.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use socketspec_runtime::auth::{AuthBackend, JwtAuth};
use socketspec_runtime::{ErrorCode, PayloadError, Server};

use crate::chat;

/// Who `from` says sent an announcement.
pub const ANNOUNCER: &str = "server";

/// The event whose payload schema an announcement follows.
const ANNOUNCE_SCHEMA: &str = "send_message";

/// What the routes share: the running service and its push handle.
#[derive(Clone)]
struct Rest {
    server: Server,
    push: chat::Push,
    /// Verifies the admin's JWT, when `--jwt-secret` is set.
    admin_jwt: Option<Arc<JwtAuth>>,
}

/// The REST routes over `server` (which must serve the chat spec at `/`).
/// With `jwt`, `POST /api/announce` requires a token it accepts whose
/// `role` claim is `admin`.
pub fn routes(server: &Server, jwt: Option<JwtAuth>) -> Result<Router, String> {
    let push = chat::Push::new(server)
        .ok_or_else(|| "the server does not serve the chat namespace `/`".to_owned())?;
    let state = Rest {
        server: server.clone(),
        push,
        admin_jwt: jwt.map(Arc::new),
    };
    Ok(Router::new()
        .route("/api/rooms", get(list_rooms))
        .route("/api/announce", post(announce))
        .with_state(state))
}

/// One room as `GET /api/rooms` lists it.
#[derive(serde::Serialize)]
struct RoomCount {
    room: String,
    members: usize,
}

async fn list_rooms(State(rest): State<Rest>) -> Response {
    let rooms = rest.server.rooms("/").await.unwrap_or_default();
    let rooms: Vec<RoomCount> = rooms
        .into_iter()
        .map(|(room, members)| RoomCount { room, members })
        .collect();
    (StatusCode::OK, json_body(&json!({ "rooms": rooms }))).into_response()
}

async fn announce(State(rest): State<Rest>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(jwt) = &rest.admin_jwt
        && let Err(refused) = check_admin(jwt, &headers).await
    {
        return refused;
    }
    let payload: Value = match serde_json::from_slice(&body) {
        Ok(payload) => payload,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                ErrorCode::ValidationError,
                &format!("the body is not JSON: {e}"),
            );
        }
    };
    match rest.server.validate_payload("/", ANNOUNCE_SCHEMA, &payload) {
        Ok(()) => {}
        Err(PayloadError::Invalid {
            message,
            violations,
        }) => {
            let body = json!({
                "code": ErrorCode::ValidationError.as_str(),
                "message": message,
                "errors": violations,
            });
            return (StatusCode::UNPROCESSABLE_ENTITY, json_body(&body)).into_response();
        }
        Err(other) => {
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                ErrorCode::HandlerError,
                &other.to_string(),
            );
        }
    }
    // The schema held, so the payload has the shape of `send_message`.
    let message: chat::SendMessage = match serde_json::from_value(payload) {
        Ok(message) => message,
        Err(e) => {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::ValidationError,
                &e.to_string(),
            );
        }
    };
    let room = chat::rooms::chat(&message.room);
    let sent = rest
        .push
        .broadcast_new_message(
            &message.room,
            chat::NewMessage::new(message.room.clone(), ANNOUNCER.to_owned(), message.text),
        )
        .await;
    match sent {
        Ok(_) => (StatusCode::OK, json_body(&json!({ "room": room }))).into_response(),
        Err(e) if e.code() == ErrorCode::RoomNotFound => {
            let body = json!({
                "code": ErrorCode::RoomNotFound.as_str(),
                "message": e.message(),
                "room": room,
            });
            (StatusCode::NOT_FOUND, json_body(&body)).into_response()
        }
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, e.code(), e.message()),
    }
}

/// Admits a request whose bearer token `jwt` accepts and whose `role` is
/// `admin`; otherwise the 401 or 403 to answer.
async fn check_admin(jwt: &JwtAuth, headers: &HeaderMap) -> Result<(), Response> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim());
    let Some(token) = token else {
        return Err(unauthorized(
            "missing token: send `Authorization: Bearer <jwt>`",
        ));
    };
    let identity = jwt
        .refresh(token)
        .await
        .map_err(|refusal| unauthorized(&refusal.to_string()))?;
    if identity.role() == Some("admin") {
        Ok(())
    } else {
        Err(error(
            StatusCode::FORBIDDEN,
            ErrorCode::PermissionError,
            "announcements need the `admin` role",
        ))
    }
}

fn unauthorized(message: &str) -> Response {
    let mut response = error(StatusCode::UNAUTHORIZED, ErrorCode::AuthError, message);
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

fn error(status: StatusCode, code: ErrorCode, message: &str) -> Response {
    let body = json!({"code": code.as_str(), "message": message});
    (status, json_body(&body)).into_response()
}

/// A JSON body with its content type.
fn json_body(value: &Value) -> impl IntoResponse + use<> {
    (
        [(header::CONTENT_TYPE, "application/json")],
        value.to_string(),
    )
}
