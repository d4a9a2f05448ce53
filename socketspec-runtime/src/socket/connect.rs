//! The `__connect__` frame: the first message of every connection.

use serde_json::json;
use socketspec_protocol::SystemEvent;
use socketspec_protocol::envelope::connect as field;

use crate::connection::Connection;
use crate::envelope;
use crate::frame::Frame;
use crate::hub::Hub;

/// `__connect__` for `conn`: its id, namespace and the limits in force
/// (seconds and bytes; 0 = off), and with resumption on its resume token
/// and whether it resumed.
pub(super) fn connect_frame(conn: &Connection, hub: &Hub, session: &super::Session<'_>) -> Frame {
    let s = &hub.config.session;
    let mut payload = json!({
        field::CONNECTION_ID: conn.id(),
        field::NAMESPACE: conn.namespace(),
        field::HEARTBEAT_INTERVAL: s.heartbeat_interval.as_secs_f64(),
        field::HEARTBEAT_TIMEOUT: s.heartbeat_timeout.as_secs_f64(),
        field::IDLE_TIMEOUT: s.idle_timeout.as_secs_f64(),
        field::MAX_DURATION: s.max_duration.as_secs_f64(),
        field::MAX_PAYLOAD_SIZE: hub.config.limits.max_payload_size,
    });
    if let (Some(token), Some(fields)) = (session.token, payload.as_object_mut()) {
        fields.insert(field::RESUME_TOKEN.to_owned(), json!(token));
        fields.insert(field::RESUMED.to_owned(), json!(session.resumed));
    }
    envelope::encode(SystemEvent::Connect.name(), &payload, None)
        .unwrap_or_else(|_| Frame::from_static("{}"))
}
