//! The wire protocol's facts as TypeScript, generated from the
//! `socketspec-protocol` crate: the system events' names (and which ones a
//! client listens to), the error codes, the close codes and which of them
//! end reconnecting, the disconnect reasons, the envelope, the system
//! events' payloads and the credentials' query parameters.
//!
//! The runtime (`ts/*.ts`) imports these names from `./protocol` instead of
//! writing the values, so tsc checks it against them; the generated file
//! holds this module in front of the runtime. The names and values come
//! from the crate; the doc comments and the payloads' TypeScript types are
//! written here.

use std::fmt::Write as _;

use heck::ToLowerCamelCase;
use socketspec_protocol::{
    CloseCode, Direction, DisconnectReason, ErrorCode, PROTOCOL_VERSION, SystemEvent, envelope,
};

use super::text::{doc_comment, doc_line, property_key, section, string_literal};

/// The module, as the generated file holds it.
pub(super) fn render() -> String {
    let mut out = String::new();
    section(
        &mut out,
        "The wire protocol (generated from the socketspec-protocol crate)",
    );
    let _ = writeln!(
        out,
        "{}export const PROTOCOL_VERSION = {PROTOCOL_VERSION};\n",
        doc_line(
            "The version of the socketspec wire protocol this client speaks.",
            0
        )
    );
    system_event_names(&mut out);
    error_codes(&mut out);
    close_codes(&mut out);
    disconnect_reasons(&mut out);
    query_params(&mut out);
    for payload in &PAYLOADS {
        interface(&mut out, payload);
    }
    system_events_map(&mut out);
    out
}

// ---------------------------------------------------------------------------
// Names and codes
// ---------------------------------------------------------------------------

/// The key of a system event in `SYSTEM_EVENT`: `__auth_expiring__` gives
/// `authExpiring`.
fn system_event_key(event: SystemEvent) -> String {
    event.name().trim_matches('_').to_lower_camel_case()
}

/// What a system event is, for a client's developer.
fn system_event_doc(event: SystemEvent) -> &'static str {
    match event {
        SystemEvent::Connect => "The first message of every connection (also after a reconnect).",
        SystemEvent::Disconnect => "Sent just before the server closes the connection.",
        SystemEvent::Ping => "A heartbeat; the client answers with `__pong__` by itself.",
        SystemEvent::Pong => "The answer to `__ping__`, which the client sends by itself.",
        SystemEvent::Error => {
            "An error not claimed by a pending request (e.g. about an `emit`, or a broadcast that failed)."
        }
        SystemEvent::AuthExpiring => "The credential expires soon: call `refreshAuth(newToken)`.",
        SystemEvent::SessionExpiring => "The session reaches its maximum duration soon.",
        SystemEvent::IdleWarning => {
            "The idle timeout closes the connection soon unless an event is sent."
        }
        SystemEvent::ServerShutdown => "The server began a graceful shutdown.",
        SystemEvent::RefreshAuth => {
            "A new credential, answered with its expiry: `refreshAuth(token)` sends it."
        }
    }
}

/// The payload type of a system event a client listens to; `None` for one
/// it sends (`__pong__`) or gets only as a request's reply
/// (`__refresh_auth__`).
fn received_payload(event: SystemEvent) -> Option<&'static str> {
    if event.direction() != Direction::ServerToClient {
        return None;
    }
    Some(match event {
        SystemEvent::Connect => "ConnectPayload",
        SystemEvent::Disconnect => "DisconnectPayload",
        SystemEvent::Ping => "PingPayload",
        SystemEvent::Error => "ErrorPayload",
        SystemEvent::AuthExpiring | SystemEvent::SessionExpiring | SystemEvent::IdleWarning => {
            "ExpiringPayload"
        }
        SystemEvent::ServerShutdown => "ServerShutdownPayload",
        SystemEvent::Pong | SystemEvent::RefreshAuth => return None,
    })
}

fn system_event_names(out: &mut String) {
    out.push_str(&doc_comment(
        &[
            "The reserved system events' names on the wire, by what they are for.".to_owned(),
            "No spec declares an event of these names.".to_owned(),
        ],
        0,
    ));
    out.push_str("export const SYSTEM_EVENT = {\n");
    for event in SystemEvent::ALL {
        let doc = format!(
            "{}: {}",
            event.direction().as_str(),
            system_event_doc(event)
        );
        out.push_str(&doc_line(&doc, 1));
        let _ = writeln!(
            out,
            "  {}: {},",
            system_event_key(event),
            string_literal(event.name())
        );
    }
    out.push_str("} as const;\n\n");
}

fn error_codes(out: &mut String) {
    let mut doc =
        vec!["The error codes a socketspec server sends in an `__error__` envelope:".to_owned()];
    doc.extend(
        ErrorCode::ALL
            .iter()
            .map(|code| format!("- `{}`: {}.", code.as_str(), code.trigger())),
    );
    out.push_str(&doc_comment(&doc, 0));
    out.push_str("export type ErrorCode =\n");
    let members: Vec<String> = ErrorCode::ALL
        .iter()
        .map(|code| format!("  | {}", string_literal(code.as_str())))
        .collect();
    let _ = writeln!(out, "{};\n", members.join("\n"));
    out.push_str(&doc_line(
        "Every {@link ErrorCode}, in the protocol's order.",
        0,
    ));
    out.push_str("export const ERROR_CODES: readonly ErrorCode[] = [\n");
    for code in ErrorCode::ALL {
        let _ = writeln!(out, "  {},", string_literal(code.as_str()));
    }
    out.push_str("];\n\n");
}

/// The key of a close code in `CLOSE_CODE` and what it means.
fn close_code_entry(code: CloseCode) -> Option<(&'static str, &'static str)> {
    Some(match code {
        CloseCode::Normal => ("normal", "Normal closure."),
        CloseCode::GoingAway => ("goingAway", "The server is shutting down."),
        CloseCode::ProtocolError => ("protocolError", "A WebSocket protocol violation."),
        CloseCode::Abnormal => (
            "abnormal",
            "The connection was lost without a closing handshake (never sent; what the socket reports).",
        ),
        CloseCode::InvalidPayload => ("invalidPayload", "A text message that is not valid UTF-8."),
        CloseCode::PolicyViolation => (
            "policyViolation",
            "A policy violation, such as a frame flood that never ends a message.",
        ),
        CloseCode::MessageTooBig => ("messageTooBig", "A frame far above `max_payload_size`."),
        CloseCode::InternalError => ("internalError", "An unexpected server condition."),
        CloseCode::Auth => ("auth", "Authentication failed or expired."),
        CloseCode::IdleTimeout => ("idleTimeout", "The idle timeout."),
        CloseCode::SessionExpired => ("sessionExpired", "`max_duration` reached."),
        CloseCode::HeartbeatTimeout => (
            "heartbeatTimeout",
            "No `__pong__` within `heartbeat_timeout`.",
        ),
        CloseCode::SlowConsumer => (
            "slowConsumer",
            "The outbound queue was full (a slow consumer).",
        ),
        CloseCode::Other(_) => return None,
    })
}

fn close_codes(out: &mut String) {
    out.push_str(&doc_line(
        "The WebSocket close codes a socketspec server uses, by meaning.",
        0,
    ));
    out.push_str("export const CLOSE_CODE = {\n");
    for code in CloseCode::NAMED {
        if let Some((key, doc)) = close_code_entry(code) {
            out.push_str(&doc_line(&format!("{}: {doc}", code.as_u16()), 1));
            let _ = writeln!(out, "  {key}: {},", code.as_u16());
        }
    }
    out.push_str("} as const;\n\n");
    let finals: Vec<CloseCode> = CloseCode::NAMED
        .into_iter()
        .filter(|c| c.is_final())
        .collect();
    let mut doc = vec![
        "The close codes after which the client does not reconnect, since trying".to_owned(),
        "again would not help:".to_owned(),
    ];
    for code in &finals {
        if let Some((key, meaning)) = close_code_entry(*code) {
            doc.push(format!(
                "- `CLOSE_CODE.{key}` ({}): {meaning}",
                code.as_u16()
            ));
        }
    }
    out.push_str(&doc_comment(&doc, 0));
    let numbers: Vec<String> = finals.iter().map(|c| c.as_u16().to_string()).collect();
    let _ = writeln!(
        out,
        "export const FINAL_CLOSE_CODES: readonly number[] = [{}];\n",
        numbers.join(", ")
    );
}

fn disconnect_reasons(out: &mut String) {
    out.push_str(&doc_comment(
        &[
            "Why the server closes a connection: the `reason` of `__disconnect__`.".to_owned(),
            "An application may close connections with reasons of its own.".to_owned(),
        ],
        0,
    ));
    out.push_str("export type DisconnectReason =\n");
    for reason in DisconnectReason::KNOWN
        .iter()
        .filter(|r| r.close_code().is_some())
    {
        let _ = writeln!(out, "  | {}", string_literal(reason.as_str()));
    }
    // `string & {}` admits any text while editors still offer the names above.
    out.push_str("  | (string & {});\n\n");
}

fn query_params(out: &mut String) {
    out.push_str(&doc_line(
        "The query parameters of the connection URL: credentials, and resuming a session.",
        0,
    ));
    out.push_str("export const QUERY_PARAM = {\n");
    for (key, name, doc) in [
        (
            "token",
            envelope::query::TOKEN,
            "A JWT (browsers cannot set an `Authorization` header on a WebSocket).",
        ),
        (
            "apiKey",
            envelope::query::API_KEY,
            "An API key (instead of the `X-API-Key` header).",
        ),
        (
            "resume",
            envelope::query::RESUME,
            "The `resume_token` of the lost connection whose session to resume.",
        ),
        (
            "lastSeq",
            envelope::query::LAST_SEQ,
            "The largest `seq` the client processed; the server sends again every frame after it.",
        ),
    ] {
        out.push_str(&doc_line(doc, 1));
        let _ = writeln!(out, "  {key}: {},", string_literal(name));
    }
    out.push_str("} as const;\n\n");
}

// ---------------------------------------------------------------------------
// The envelope and the system events' payloads
// ---------------------------------------------------------------------------

/// One field of a generated interface.
struct Field {
    name: &'static str,
    ty: &'static str,
    optional: bool,
    doc: &'static str,
}

const fn field(name: &'static str, ty: &'static str, doc: &'static str) -> Field {
    Field {
        name,
        ty,
        optional: false,
        doc,
    }
}

/// A generated interface; no fields gives an empty-object type.
struct Payload {
    name: &'static str,
    doc: &'static str,
    fields: &'static [Field],
}

/// The envelope and the payloads a client receives, in the order the file
/// holds them. Field names come from `socketspec_protocol::envelope` where
/// it names them.
const PAYLOADS: [Payload; 8] = [
    Payload {
        name: "Envelope",
        doc: "One message on the wire.",
        fields: &[
            field(envelope::EVENT, "string", "The event name."),
            field(
                envelope::PAYLOAD,
                "unknown",
                "The payload (`{}` when the message had none).",
            ),
            Field {
                name: envelope::ID,
                ty: "string",
                optional: true,
                doc: "The correlation id, on replies to a request.",
            },
            Field {
                name: envelope::SEQ,
                ty: "number",
                optional: true,
                doc: "The frame's sequence number in its session (1, 2, 3, ..., continued by a resumed connection), on every frame the server sends after `__connect__` except `__ping__` and `__disconnect__`, when the server has resumption on.",
            },
        ],
    },
    Payload {
        name: "ErrorPayload",
        doc: "The payload of `__error__`: the protocol's error envelope.",
        fields: &[
            field(envelope::error::CODE, "ErrorCode", "What went wrong."),
            field(
                envelope::error::EVENT,
                "string | null",
                "The event that caused it, or `null` when unknown.",
            ),
            field(
                envelope::error::MESSAGE,
                "string",
                "A human-readable explanation.",
            ),
            field(
                envelope::error::REQUEST_ID,
                "string",
                "The `id` of the request that caused it; a fresh UUID when it had none.",
            ),
            field(
                envelope::error::DETAILS,
                "Record<string, unknown>",
                "Per code: `errors` (VALIDATION_ERROR: one `{path, message}` per violation), `room` (PERMISSION_ERROR, ROOM_NOT_FOUND: the full room name), `retry_after` (RATE_LIMIT_ERROR, seconds), `limit` and `size` (PAYLOAD_TOO_LARGE, bytes).",
            ),
        ],
    },
    Payload {
        name: "ConnectPayload",
        doc: "The payload of `__connect__`: the connection's id and the server's limits.",
        fields: &[
            field(
                envelope::connect::CONNECTION_ID,
                "string",
                "The server's id for this connection.",
            ),
            field(
                envelope::connect::HEARTBEAT_INTERVAL,
                "number",
                "Seconds between `__ping__`s (0: off).",
            ),
            field(
                envelope::connect::HEARTBEAT_TIMEOUT,
                "number",
                "Seconds the server waits for `__pong__` (answered automatically).",
            ),
            field(
                envelope::connect::IDLE_TIMEOUT,
                "number",
                "Seconds without an application event before the server closes (0: off).",
            ),
            field(
                envelope::connect::MAX_DURATION,
                "number",
                "Maximum seconds a connection may last (0: off).",
            ),
            field(
                envelope::connect::MAX_PAYLOAD_SIZE,
                "number",
                "Largest message the server accepts, in bytes.",
            ),
            Field {
                name: envelope::connect::RESUME_TOKEN,
                ty: "string",
                optional: true,
                doc: "The token that resumes this session after the connection is lost without a closing handshake (resumption on; the client keeps it by itself).",
            },
            Field {
                name: envelope::connect::RESUMED,
                ty: "boolean",
                optional: true,
                doc: "Whether this connection resumed the previous one's session, nothing lost (`true`), or is a fresh one (`false`; resumption on).",
            },
        ],
    },
    Payload {
        name: "DisconnectPayload",
        doc: "The payload of `__disconnect__`.",
        fields: &[field(
            "reason",
            "DisconnectReason",
            "Why the server closes the connection.",
        )],
    },
    Payload {
        name: "PingPayload",
        doc: "The payload of `__ping__` (empty).",
        fields: &[],
    },
    Payload {
        name: "ExpiringPayload",
        doc: "The payload of `__auth_expiring__`, `__session_expiring__` and `__idle_warning__`.",
        fields: &[field("expires_in", "number", "Seconds left.")],
    },
    Payload {
        name: "ServerShutdownPayload",
        doc: "The payload of `__server_shutdown__`.",
        fields: &[field(
            "grace",
            "number",
            "Seconds in-flight requests have left before every connection closes.",
        )],
    },
    Payload {
        name: "RefreshAuthReply",
        doc: "The server's answer to `refreshAuth`.",
        fields: &[field(
            "expires_in",
            "number | null",
            "Seconds until the new credential expires; `null` when it never does.",
        )],
    },
];

fn interface(out: &mut String, payload: &Payload) {
    out.push_str(&doc_line(payload.doc, 0));
    if payload.fields.is_empty() {
        let _ = writeln!(
            out,
            "export type {} = Record<string, never>;\n",
            payload.name
        );
        return;
    }
    let _ = writeln!(out, "export interface {} {{", payload.name);
    for field in payload.fields {
        out.push_str(&doc_comment(&wrap(field.doc, 72), 1));
        let optional = if field.optional { "?" } else { "" };
        let _ = writeln!(
            out,
            "  {}{optional}: {};",
            property_key(field.name),
            field.ty
        );
    }
    out.push_str("}\n\n");
}

/// `text` in lines of at most about `width` characters, split at spaces.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in text.split(' ') {
        match lines.last_mut() {
            Some(line) if line.len() + 1 + word.len() <= width => {
                line.push(' ');
                line.push_str(word);
            }
            _ => lines.push(word.to_owned()),
        }
    }
    lines
}

fn system_events_map(out: &mut String) {
    out.push_str(&doc_line(
        "The protocol's system events a client receives, by name.",
        0,
    ));
    out.push_str("export interface SystemEvents {\n");
    for event in SystemEvent::ALL {
        if let Some(payload) = received_payload(event) {
            out.push_str(&doc_line(system_event_doc(event), 1));
            let _ = writeln!(out, "  {}: {payload};", event.name());
        }
    }
    out.push_str("}\n\n");
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    /// The checked-in copy the runtime's own checks compile against
    /// (`ts/protocol.ts`): the module behind a note that says where it comes from.
    fn module_file() -> String {
        format!(
            "// Generated by socketspec-codegen from the socketspec-protocol crate\n\
             // (src/emit/typescript/protocol.rs): do not edit. The runtime modules\n\
             // beside it import it; `cargo test -p socketspec-codegen` fails when it is\n\
             // stale, and SOCKETSPEC_BLESS=1 rewrites it.\n\n{}",
            render()
        )
    }

    #[test]
    fn every_error_code_close_code_and_received_system_event_is_there() {
        let ts = render();
        for code in ErrorCode::ALL {
            assert!(ts.contains(&format!("  | \"{}\"", code.as_str())), "{code}");
        }
        for code in CloseCode::NAMED {
            assert!(ts.contains(&format!(": {},\n", code.as_u16())), "{code}");
        }
        assert!(ts.contains("export const FINAL_CLOSE_CODES: readonly number[] = [4001, 4002];"));
        assert!(ts.contains("  refreshAuth: \"__refresh_auth__\",\n"));
        assert!(ts.contains("  __connect__: ConnectPayload;\n"));
        assert!(ts.contains("  | \"idle_timeout\"\n"));
        assert!(ts.contains("  seq?: number;\n"), "the envelope's seq");
        assert!(ts.contains("  resume_token?: string;\n  /**"));
        assert!(ts.contains("  resumed?: boolean;\n}"));
        assert!(ts.contains("  resume: \"resume\",\n"));
        assert!(ts.contains("  lastSeq: \"last_seq\",\n"));
        assert!(
            !ts.contains("\"client_close\""),
            "the server never sends it"
        );
        for client_side in ["__pong__", "__refresh_auth__"] {
            assert!(
                !ts.contains(&format!("  {client_side}: ")),
                "{client_side} is not a server event"
            );
        }
    }

    #[test]
    fn long_docs_wrap_at_spaces() {
        assert_eq!(wrap("a bb ccc dddd", 6), ["a bb", "ccc", "dddd"]);
        assert_eq!(wrap("short", 72), ["short"]);
    }

    /// The runtime's modules import `./protocol`: `ts/protocol.ts` must be what
    /// this emitter writes, or the runtime's own checks test other facts.
    #[test]
    fn the_checked_in_protocol_module_is_current() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("ts/protocol.ts");
        let expected = module_file();
        if std::env::var_os("SOCKETSPEC_BLESS").is_some() {
            std::fs::write(&path, &expected).unwrap();
            return;
        }
        let actual = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            actual == expected,
            "{} is stale: regenerate it with `SOCKETSPEC_BLESS=1 cargo test -p socketspec-codegen the_checked_in_protocol_module_is_current`",
            path.display()
        );
    }
}
