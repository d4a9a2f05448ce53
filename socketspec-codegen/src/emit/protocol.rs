//! The wire protocol's fixed parts (docs/protocol.md), as data the docs page and
//! the AsyncAPI document both render: the reserved system events with their
//! payload schemas, the error envelope, the error codes and the close codes.

use serde_json::{Value, json};

/// A reserved system event.
#[derive(Debug, Clone)]
pub struct SystemEvent {
    /// The name on the wire (`__ping__`).
    pub name: &'static str,
    /// Who sends it: `"S->C"`, `"C->S"` or `"C->S, then S->C"`.
    pub direction: &'static str,
    /// The payload a client sends, for events a client sends.
    pub client_payload: Option<Value>,
    /// The payload the server sends, for events the server sends.
    pub server_payload: Option<Value>,
    /// The payload in one line, as the protocol's table writes it.
    pub payload_summary: &'static str,
    /// When it is sent.
    pub when: &'static str,
}

impl SystemEvent {
    /// Whether the server sends it.
    pub fn server_sends(&self) -> bool {
        self.server_payload.is_some()
    }

    /// Whether a client sends it.
    pub fn client_sends(&self) -> bool {
        self.client_payload.is_some()
    }
}

fn seconds(description: &str) -> Value {
    json!({"type": "number", "minimum": 0, "description": description})
}

fn object(required: &[&str], properties: Value) -> Value {
    json!({"type": "object", "required": required, "properties": properties})
}

/// The ten reserved system events, in the protocol's order.
pub fn system_events() -> Vec<SystemEvent> {
    let expires_in = || {
        object(
            &["expires_in"],
            json!({"expires_in": seconds("Seconds until it happens.")}),
        )
    };
    vec![
        SystemEvent {
            name: "__connect__",
            direction: "S->C",
            client_payload: None,
            server_payload: Some(object(
                &[
                    "connection_id",
                    "heartbeat_interval",
                    "heartbeat_timeout",
                    "idle_timeout",
                    "max_duration",
                    "max_payload_size",
                ],
                json!({
                    "connection_id": {"type": "string", "description": "This connection's id."},
                    "heartbeat_interval": seconds("Seconds between `__ping__`s (0 = off)."),
                    "heartbeat_timeout": seconds("Seconds a `__pong__` may take (0 = off)."),
                    "idle_timeout": seconds("Seconds without an application event before the server closes the connection (0 = off)."),
                    "max_duration": seconds("The longest a connection may last, in seconds (0 = off)."),
                    "max_payload_size": {"type": "integer", "minimum": 0, "description": "The largest message the server accepts, in bytes (0 = off)."}
                }),
            )),
            payload_summary: "{connection_id, heartbeat_interval, heartbeat_timeout, idle_timeout, max_duration, max_payload_size} (seconds, bytes; 0 = off)",
            when: "First message after the upgrade succeeds (after auth).",
        },
        SystemEvent {
            name: "__disconnect__",
            direction: "S->C",
            client_payload: None,
            server_payload: Some(object(
                &["reason"],
                json!({"reason": {"type": "string", "description": "Why the server closes the connection."}}),
            )),
            payload_summary: "{reason}",
            when: "Just before any close the server starts on a connection that got __connect__.",
        },
        SystemEvent {
            name: "__ping__",
            direction: "S->C",
            client_payload: None,
            server_payload: Some(object(&[], json!({}))),
            payload_summary: "{}",
            when: "Every heartbeat_interval.",
        },
        SystemEvent {
            name: "__pong__",
            direction: "C->S",
            client_payload: Some(object(&[], json!({}))),
            server_payload: None,
            payload_summary: "{}",
            when: "The client's answer to __ping__; missing for heartbeat_timeout, the server closes the connection (4004).",
        },
        SystemEvent {
            name: "__error__",
            direction: "S->C",
            client_payload: None,
            server_payload: Some(error_payload_schema()),
            payload_summary: "the error envelope (below)",
            when: "Any error.",
        },
        SystemEvent {
            name: "__auth_expiring__",
            direction: "S->C",
            client_payload: None,
            server_payload: Some(expires_in()),
            payload_summary: "{expires_in}",
            when: "token_refresh_window before the credential's expiry.",
        },
        SystemEvent {
            name: "__session_expiring__",
            direction: "S->C",
            client_payload: None,
            server_payload: Some(expires_in()),
            payload_summary: "{expires_in}",
            when: "warning_window before max_duration is reached.",
        },
        SystemEvent {
            name: "__idle_warning__",
            direction: "S->C",
            client_payload: None,
            server_payload: Some(expires_in()),
            payload_summary: "{expires_in}",
            when: "warning_window before the idle timeout closes the connection.",
        },
        SystemEvent {
            name: "__server_shutdown__",
            direction: "S->C",
            client_payload: None,
            server_payload: Some(object(
                &["grace"],
                json!({"grace": seconds("Seconds in-flight handlers may still run.")}),
            )),
            payload_summary: "{grace}",
            when: "Graceful shutdown began; in-flight handlers finish, then every connection is closed with 1001.",
        },
        SystemEvent {
            name: "__refresh_auth__",
            direction: "C->S, then S->C",
            client_payload: Some(object(
                &["token"],
                json!({"token": {"type": "string", "description": "The new credential."}}),
            )),
            server_payload: Some(expires_in()),
            payload_summary: "C->S {token}; S->C {expires_in}",
            when: "The client offers a new credential; the server answers with the new expiry, or with __error__ AUTH_ERROR (the old credential stays in force).",
        },
    ]
}

/// One error code of the error envelope.
#[derive(Debug, Clone, Copy)]
pub struct ErrorCodeDoc {
    /// The code (`VALIDATION_ERROR`).
    pub code: &'static str,
    /// What causes it.
    pub trigger: &'static str,
    /// The keys of `details` it carries.
    pub details: &'static str,
    /// What happens to the connection afterwards.
    pub after: &'static str,
}

/// Every error code, in the protocol's order.
pub const ERROR_CODES: [ErrorCodeDoc; 11] = [
    ErrorCodeDoc {
        code: "AUTH_ERROR",
        trigger: "Credential missing or invalid at connect; a refused __refresh_auth__.",
        details: "",
        after: "Closed (4001) at connect; open on refresh.",
    },
    ErrorCodeDoc {
        code: "AUTH_EXPIRED",
        trigger: "The credential expired mid-session without a refresh.",
        details: "",
        after: "Closed (4001).",
    },
    ErrorCodeDoc {
        code: "HANDLER_ERROR",
        trigger: "The handler returned an error or panicked (the message never leaks a panic's text).",
        details: "",
        after: "Open.",
    },
    ErrorCodeDoc {
        code: "IDLE_TIMEOUT",
        trigger: "No application event for idle_timeout.",
        details: "",
        after: "Closed (4002).",
    },
    ErrorCodeDoc {
        code: "PAYLOAD_TOO_LARGE",
        trigger: "Message larger than max_payload_size.",
        details: "limit, size",
        after: "Open; far above the limit the WebSocket layer closes with 1009.",
    },
    ErrorCodeDoc {
        code: "PERMISSION_ERROR",
        trigger: "A room guard refused a join.",
        details: "room",
        after: "Open.",
    },
    ErrorCodeDoc {
        code: "RATE_LIMIT_ERROR",
        trigger: "The connection's token bucket is empty; the message is dropped.",
        details: "retry_after",
        after: "Open.",
    },
    ErrorCodeDoc {
        code: "ROOM_NOT_FOUND",
        trigger: "A broadcast to a room that has no members and is not static.",
        details: "room",
        after: "Open.",
    },
    ErrorCodeDoc {
        code: "SESSION_EXPIRED",
        trigger: "max_duration reached.",
        details: "",
        after: "Closed (4003).",
    },
    ErrorCodeDoc {
        code: "UNKNOWN_EVENT",
        trigger: "No handler for this event, or a client sent a server-only system event.",
        details: "",
        after: "Open.",
    },
    ErrorCodeDoc {
        code: "VALIDATION_ERROR",
        trigger: "Not JSON, not an object, no string event, or the payload fails the event's schema.",
        details: "errors: [{path, message}]",
        after: "Open.",
    },
];

/// The close codes the server uses.
pub const CLOSE_CODES: [(u16, &str); 8] = [
    (1000, "normal"),
    (1001, "server shutdown"),
    (1009, "message too big"),
    (4001, "auth error or expiry"),
    (4002, "idle timeout"),
    (4003, "session expired"),
    (4004, "heartbeat timeout"),
    (4008, "slow consumer (outbound queue full)"),
];

/// The JSON Schema of `__error__`'s payload (the error envelope).
pub fn error_payload_schema() -> Value {
    let codes: Vec<&str> = ERROR_CODES.iter().map(|c| c.code).collect();
    json!({
        "type": "object",
        "required": ["code", "message", "request_id", "details"],
        "properties": {
            "code": {"type": "string", "enum": codes, "description": "What went wrong."},
            "event": {"type": ["string", "null"], "description": "The event that caused it, or null."},
            "message": {"type": "string", "description": "A readable explanation."},
            "request_id": {"type": "string", "description": "The client's `id` when it sent one, else a fresh UUID."},
            "details": {"type": "object", "description": "Keys per code: `limit` and `size`, `room`, `retry_after`, or `errors` (each `{path, message}`)."}
        }
    })
}
