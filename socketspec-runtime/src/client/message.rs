//! What a client receives: envelopes ([`ServerMessage`]), replies
//! ([`Reply`]), the stream's items ([`Incoming`]) and the protocol's system
//! events parsed into Rust ([`SystemEvent`], [`ConnectInfo`]).

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::error::ClientError;
use socketspec_protocol::SystemEvent as Wire;

/// One message from the server: the envelope's three fields.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerMessage {
    /// The event name.
    pub event: String,
    /// The payload (an empty object when the server sent none).
    pub payload: Value,
    /// The request's `id` on direct replies; `None` on broadcasts and most
    /// system events.
    pub id: Option<String>,
    /// Its place in the connection's outbound order, when the server has
    /// resumption on (every message but `__connect__`, `__ping__` and
    /// `__disconnect__`).
    pub seq: Option<u64>,
}

impl ServerMessage {
    /// Parses one frame's text as an envelope.
    pub fn parse(bytes: &[u8]) -> Result<ServerMessage, ClientError> {
        let value: Value = serde_json::from_slice(bytes)
            .map_err(|e| ClientError::Protocol(format!("the server sent non-JSON text: {e}")))?;
        let Value::Object(mut object) = value else {
            return Err(ClientError::Protocol(
                "the server sent JSON that is not an object".to_owned(),
            ));
        };
        let Some(Value::String(event)) = object.remove("event") else {
            return Err(ClientError::Protocol(
                "the server sent a message without a string `event`".to_owned(),
            ));
        };
        let payload = match object.remove("payload") {
            None | Some(Value::Null) => Value::Object(Map::new()),
            Some(payload) => payload,
        };
        let id = match object.remove("id") {
            Some(Value::String(id)) => Some(id),
            _ => None,
        };
        let seq = object.get("seq").and_then(Value::as_u64);
        Ok(ServerMessage {
            event,
            payload,
            id,
            seq,
        })
    }

    /// Decodes the payload into `T`.
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, ClientError> {
        decode_payload(&self.event, self.payload.clone())
    }

    /// The error this message carries, when it is an `__error__`.
    pub fn error(&self) -> Option<ClientError> {
        (self.event == Wire::Error.name()).then(|| ClientError::from_error_payload(&self.payload))
    }
}

/// The reply to a request: the first message carrying the request's `id`
/// that is not an `__error__`.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// The reply's event name.
    pub event: String,
    /// Its payload.
    pub payload: Value,
}

impl Reply {
    /// Decodes the payload into `T` after checking that the reply is the
    /// event `expected` (the one the spec declares for the request).
    pub fn decode<T: DeserializeOwned>(self, expected: &str) -> Result<T, ClientError> {
        if self.event != expected {
            return Err(ClientError::UnexpectedReply {
                expected: format!("`{expected}`"),
                got: self.event,
            });
        }
        decode_payload(&self.event, self.payload)
    }

    /// Decodes the payload into `T` whatever the event.
    pub fn decode_any<T: DeserializeOwned>(self) -> Result<T, ClientError> {
        decode_payload(&self.event, self.payload)
    }

    /// The error for a reply that is none of `expected` (for generated
    /// clients of events with several declared replies).
    pub fn unexpected(self, expected: &[&str]) -> ClientError {
        let expected = expected
            .iter()
            .map(|e| format!("`{e}`"))
            .collect::<Vec<_>>()
            .join(" or ");
        ClientError::UnexpectedReply {
            expected,
            got: self.event,
        }
    }
}

fn decode_payload<T: DeserializeOwned>(event: &str, payload: Value) -> Result<T, ClientError> {
    serde_json::from_value(payload).map_err(|e| ClientError::Decode {
        event: event.to_owned(),
        message: e.to_string(),
    })
}

/// What the server announced in `__connect__`: the connection's id and its
/// limits. A zero duration means "off".
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ConnectInfo {
    /// The connection's id (the `from` of its messages without auth).
    pub connection_id: String,
    /// How often the server pings.
    pub heartbeat_interval: Duration,
    /// How long the client has to answer a ping (the client answers at once).
    pub heartbeat_timeout: Duration,
    /// How long the connection may go without an application event.
    pub idle_timeout: Duration,
    /// The longest the connection may last.
    pub max_duration: Duration,
    /// The largest message the server accepts, in bytes.
    pub max_payload_size: usize,
    /// The token a resume of this connection presents (the server has
    /// resumption on); the client uses it by itself.
    pub resume_token: Option<String>,
    /// Whether this connection resumed the previous one: the same
    /// `connection_id`, its rooms, and every message sent meanwhile
    /// delivered. `false` on a fresh connection, when an application that
    /// reconnected must re-sync (join its rooms again, re-read state).
    pub resumed: bool,
}

impl ConnectInfo {
    /// Reads a `__connect__` payload; missing fields are zero.
    pub fn from_payload(payload: &Value) -> ConnectInfo {
        let secs = |name: &str| seconds(payload.get(name)).unwrap_or_default();
        ConnectInfo {
            connection_id: payload
                .get("connection_id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            heartbeat_interval: secs("heartbeat_interval"),
            heartbeat_timeout: secs("heartbeat_timeout"),
            idle_timeout: secs("idle_timeout"),
            max_duration: secs("max_duration"),
            max_payload_size: payload
                .get("max_payload_size")
                .and_then(Value::as_u64)
                .and_then(|n| usize::try_from(n).ok())
                .unwrap_or(0),
            resume_token: payload
                .get("resume_token")
                .and_then(Value::as_str)
                .map(str::to_owned),
            resumed: payload
                .get("resumed")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        }
    }
}

/// A duration sent as seconds (decimals allowed); `None` when absent,
/// `null` or not a non-negative number.
pub(crate) fn seconds(value: Option<&Value>) -> Option<Duration> {
    value
        .and_then(Value::as_f64)
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
}

/// How a connection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseInfo {
    /// The WebSocket close code, when a close frame was received.
    pub code: Option<u16>,
    /// The server's `__disconnect__` reason, the close frame's reason, or
    /// what the transport reported.
    pub reason: String,
    /// Whether the client is reconnecting (reconnection on, and the close
    /// was not asked for by the client nor an authentication failure).
    pub reconnecting: bool,
}

/// One item of a client's event stream.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    /// A message from the server that is not the reply to a pending request:
    /// broadcasts, system events, and replies and errors nobody awaits.
    Message(ServerMessage),
    /// The connection closed. With reconnection on, a `__connect__` message
    /// follows once the client is connected again.
    Closed(CloseInfo),
    /// This many messages were dropped because the stream's buffer was full
    /// (nobody read it fast enough; see `ClientOptions::event_buffer`).
    Lagged(u64),
}

/// The protocol's server-to-client system events, parsed.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum SystemEvent {
    /// `__connect__`: the connection is established (again, after a
    /// reconnect).
    Connect(ConnectInfo),
    /// `__disconnect__`: the server is about to close the connection.
    Disconnect {
        /// Why (`idle_timeout`, `server_shutdown`...).
        reason: String,
    },
    /// `__ping__` (the client answers it by itself).
    Ping,
    /// `__server_shutdown__`: the server is shutting down gracefully.
    ServerShutdown {
        /// How long in-flight handlers may still run.
        grace: Duration,
    },
    /// `__auth_expiring__`: the credential expires soon; refresh it.
    AuthExpiring {
        /// Time left.
        expires_in: Duration,
    },
    /// `__session_expiring__`: the connection reaches its maximum duration soon.
    SessionExpiring {
        /// Time left.
        expires_in: Duration,
    },
    /// `__idle_warning__`: the idle timeout closes the connection soon.
    IdleWarning {
        /// Time left.
        expires_in: Duration,
    },
    /// `__refresh_auth__` that no pending `refresh_auth` call awaited.
    AuthRefreshed {
        /// The new credential's remaining lifetime, when it expires.
        expires_in: Option<Duration>,
    },
    /// `__error__`.
    Error(ClientError),
}

impl SystemEvent {
    /// Parses `message` when it is a system event; `None` for application
    /// events.
    pub fn parse(message: &ServerMessage) -> Option<SystemEvent> {
        let p = &message.payload;
        let expires_in = || seconds(p.get("expires_in")).unwrap_or_default();
        Some(match Wire::from_name(&message.event)? {
            Wire::Connect => SystemEvent::Connect(ConnectInfo::from_payload(p)),
            Wire::Disconnect => SystemEvent::Disconnect {
                reason: p
                    .get("reason")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
            },
            Wire::Ping => SystemEvent::Ping,
            Wire::ServerShutdown => SystemEvent::ServerShutdown {
                grace: seconds(p.get("grace")).unwrap_or_default(),
            },
            Wire::AuthExpiring => SystemEvent::AuthExpiring {
                expires_in: expires_in(),
            },
            Wire::SessionExpiring => SystemEvent::SessionExpiring {
                expires_in: expires_in(),
            },
            Wire::IdleWarning => SystemEvent::IdleWarning {
                expires_in: expires_in(),
            },
            Wire::RefreshAuth => SystemEvent::AuthRefreshed {
                expires_in: seconds(p.get("expires_in")),
            },
            Wire::Error => SystemEvent::Error(ClientError::from_error_payload(p)),
            Wire::Pong => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn message(text: &str) -> ServerMessage {
        ServerMessage::parse(text.as_bytes()).unwrap_or_else(|e| ServerMessage {
            event: format!("parse failed: {e}"),
            payload: Value::Null,
            id: None,
            seq: None,
        })
    }

    #[test]
    fn parses_envelopes() {
        let m = message(r#"{"event":"echo_reply","payload":{"seq":1},"id":"r1"}"#);
        assert_eq!(m.event, "echo_reply");
        assert_eq!(m.id.as_deref(), Some("r1"));
        assert_eq!(m.seq, None);
        let m = message(r#"{"event":"echo_reply","payload":{},"id":"r1","seq":7}"#);
        assert_eq!(m.seq, Some(7));
        let m = message(r#"{"event":"__ping__"}"#);
        assert_eq!(m.payload, json!({}));
        assert!(ServerMessage::parse(b"[1]").is_err());
        assert!(ServerMessage::parse(b"nope").is_err());
        assert!(ServerMessage::parse(br#"{"payload":{}}"#).is_err());
    }

    #[test]
    fn parses_system_events() {
        let connect = message(
            r#"{"event":"__connect__","payload":{"connection_id":"c1","heartbeat_interval":0.5,
            "heartbeat_timeout":1,"idle_timeout":0,"max_duration":7200,"max_payload_size":100}}"#,
        );
        let Some(SystemEvent::Connect(info)) = SystemEvent::parse(&connect) else {
            panic!("not a connect: {connect:?}");
        };
        assert_eq!(info.connection_id, "c1");
        assert_eq!(info.heartbeat_interval, Duration::from_millis(500));
        assert_eq!(info.idle_timeout, Duration::ZERO);
        assert_eq!(info.max_payload_size, 100);
        let idle = message(r#"{"event":"__idle_warning__","payload":{"expires_in":2.5}}"#);
        assert_eq!(
            SystemEvent::parse(&idle),
            Some(SystemEvent::IdleWarning {
                expires_in: Duration::from_millis(2500)
            })
        );
        let refreshed = message(r#"{"event":"__refresh_auth__","payload":{"expires_in":null}}"#);
        assert_eq!(
            SystemEvent::parse(&refreshed),
            Some(SystemEvent::AuthRefreshed { expires_in: None })
        );
        assert_eq!(SystemEvent::parse(&message(r#"{"event":"x"}"#)), None);
    }

    #[test]
    fn replies_decode_only_as_their_declared_event() {
        let reply = Reply {
            event: "room_left".into(),
            payload: json!({"room": "a"}),
        };
        let err = reply.clone().decode::<Value>("room_joined").err();
        assert!(matches!(err, Some(ClientError::UnexpectedReply { .. })));
        let ok: Result<Value, _> = reply.decode("room_left");
        assert_eq!(ok, Ok(json!({"room": "a"})));
        let bad = Reply {
            event: "n".into(),
            payload: json!({"seq": "x"}),
        };
        let err = bad
            .decode::<std::collections::HashMap<String, u32>>("n")
            .err();
        assert!(matches!(err, Some(ClientError::Decode { .. })));
    }
}
