//! Property tests of what a client controls: envelope decoding, payload
//! validation and dispatch.
//!
//! - `envelope::decode` never panics, on any bytes or any JSON, and accepts
//!   exactly what docs/protocol.md says (an object, a string `event`, an object
//!   or null `payload`, a string or null `id`);
//! - whatever decodes round-trips through `envelope::encode`;
//! - through a real server (in-process), any payload for any event gets
//!   exactly one answer: the handler's reply when the payload satisfies the
//!   event's JSON Schema, else `VALIDATION_ERROR`, never a panic or a
//!   dropped connection; arbitrary text frames get exactly one `__error__`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
#[path = "../../fuzz/checks/proptest_config.rs"]
mod proptest_config;

use proptest::prelude::*;
use proptest_config::config;
use serde_json::{Map, Value, json};
use socketspec_runtime::__private::emit;
use socketspec_runtime::config::SessionConfig;
use socketspec_runtime::envelope::{Inbound, decode, encode};
use socketspec_runtime::meta::{AppMeta, EventMeta};
use socketspec_runtime::{App, Call, HandshakeRequest, Hooks, Result, Server};
use tokio::io::DuplexStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::Role;

// ---------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------

fn arb_number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        (-1000i32..1000).prop_map(|i| Value::from(f64::from(i) / 8.0)),
    ]
}

fn arb_string() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,12}",
        "[a-z_]{0,12}",
        Just(String::new()),
        Just("\u{0}".to_owned()),
        Just("\u{feff}".to_owned()),
        Just("__ping__".to_owned()),
    ]
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        arb_number(),
        arb_string().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(arb_string(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn arb_object() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::btree_map(arb_string(), arb_json(), 0..6)
        .prop_map(|m| m.into_iter().collect())
}

/// JSON shaped like an envelope, each field right or wrong.
fn arb_envelope_like() -> impl Strategy<Value = Value> {
    let event = prop_oneof![
        arb_string().prop_map(Value::String),
        arb_json(),
        Just(Value::String("send".into())),
    ];
    let payload = prop_oneof![arb_object().prop_map(Value::Object), arb_json()];
    let id = prop_oneof![arb_string().prop_map(Value::String), arb_json()];
    (
        prop::option::of(event),
        prop::option::of(payload),
        prop::option::of(id),
        arb_object(),
    )
        .prop_map(|(event, payload, id, mut extra)| {
            for (key, value) in [("event", event), ("payload", payload), ("id", id)] {
                match value {
                    Some(v) => {
                        extra.insert(key.to_owned(), v);
                    }
                    None => {
                        extra.remove(key);
                    }
                }
            }
            Value::Object(extra)
        })
}

/// What docs/protocol.md says `decode` must do with `value`.
fn oracle(value: &Value) -> Option<Inbound> {
    let object = value.as_object()?;
    let event = object.get("event")?.as_str()?.to_owned();
    let payload = match object.get("payload") {
        None | Some(Value::Null) => Value::Object(Map::new()),
        Some(p @ Value::Object(_)) => p.clone(),
        Some(_) => return None,
    };
    let id = match object.get("id") {
        None | Some(Value::Null) => None,
        Some(Value::String(id)) => Some(id.clone()),
        Some(_) => return None,
    };
    Some(Inbound { event, payload, id })
}

// ---------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(config(1_000))]

    #[test]
    fn decode_never_panics_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let _ = decode(&bytes);
    }

    #[test]
    fn decode_never_panics_on_mutated_envelopes(
        value in arb_envelope_like(),
        cut in any::<prop::sample::Index>(),
        flip in any::<prop::sample::Index>(),
        byte in any::<u8>(),
    ) {
        let text = value.to_string().into_bytes();
        // Truncated anywhere.
        let truncated = &text[..cut.index(text.len() + 1)];
        let decoded = decode(truncated);
        if truncated.len() < text.len() {
            // A strict prefix of a JSON object is never a whole document.
            prop_assert!(decoded.is_err());
        }
        // One byte replaced.
        let mut mutated = text.clone();
        if !mutated.is_empty() {
            let at = flip.index(mutated.len());
            mutated[at] = byte;
        }
        let _ = decode(&mutated);
    }

    #[test]
    fn decode_accepts_exactly_the_protocol_envelopes(value in arb_envelope_like()) {
        let decoded = decode(value.to_string().as_bytes());
        prop_assert_eq!(decoded.ok(), oracle(&value));
    }

    #[test]
    fn decode_of_any_json_matches_the_oracle(value in arb_json()) {
        let decoded = decode(value.to_string().as_bytes());
        prop_assert_eq!(decoded.ok(), oracle(&value));
    }

    #[test]
    fn any_decodable_envelope_round_trips(value in arb_envelope_like()) {
        if let Ok(inbound) = decode(value.to_string().as_bytes()) {
            let frame = encode(&inbound.event, &inbound.payload, inbound.id.as_deref());
            let frame = frame.expect("a decoded payload always encodes");
            prop_assert_eq!(decode(frame.as_bytes()), Ok(inbound));
        }
    }

    #[test]
    fn encoded_envelopes_decode_to_what_was_encoded(
        event in arb_string(),
        payload in arb_object(),
        id in prop::option::of(arb_string()),
    ) {
        let frame = encode(&event, &payload, id.as_deref()).expect("encodes");
        let decoded = decode(frame.as_bytes());
        prop_assert_eq!(decoded, Ok(Inbound { event, payload: Value::Object(payload), id }));
    }
}

// ---------------------------------------------------------------------------
// Validation and dispatch, through a server
// ---------------------------------------------------------------------------

/// Schemas with what a real spec uses: required fields, patterns, lengths,
/// ranges, enums, nested objects and arrays, `$defs` and `$ref`.
const SEND_SCHEMA: &str = r##"{
  "type": "object",
  "required": ["room", "text"],
  "properties": {
    "room": {"$ref": "#/$defs/Room"},
    "text": {"type": "string", "minLength": 1, "maxLength": 20},
    "count": {"type": "integer", "minimum": 0, "maximum": 100},
    "mode": {"enum": ["a", "b", null]},
    "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 3},
    "meta": {"type": "object", "properties": {"n": {"type": ["number", "null"]}}, "additionalProperties": false}
  },
  "additionalProperties": false,
  "$defs": {"Room": {"type": "string", "pattern": "^[a-z]{1,8}$"}}
}"##;

static EVENTS: [EventMeta; 3] = [
    EventMeta {
        name: "send",
        ordered: false,
        executor: false,
        payload_schema: SEND_SCHEMA,
        type_checked: false,
    },
    EventMeta {
        name: "open",
        ordered: false,
        executor: false,
        payload_schema: r#"{"type": "object"}"#,
        type_checked: false,
    },
    EventMeta {
        name: "queued",
        ordered: true,
        executor: false,
        payload_schema: r#"{"type": "object", "properties": {"n": {"type": "integer"}}}"#,
        type_checked: false,
    },
];

static META: AppMeta = AppMeta {
    title: "props",
    version: "1",
    namespace: "/",
    events: &EVENTS,
    rooms: &[],
    spec_json: None,
    docs_html: None,
    asyncapi_json: None,
    schema_defs: "",
};

/// The typed payload of `send`, as generated code would decode it.
#[derive(Debug, serde::Deserialize)]
#[allow(dead_code)]
struct SendPayload {
    room: String,
    text: String,
    count: Option<i64>,
    mode: Option<String>,
    tags: Option<Vec<String>>,
    meta: Option<Value>,
}

/// Replies `ok` with the payload it got (decoding `send` into its type).
struct Props;

impl Hooks for Props {}

impl App for Props {
    type Hooks = Self;

    fn meta(&self) -> &'static AppMeta {
        &META
    }

    fn hooks(&self) -> &Self {
        self
    }

    #[allow(clippy::manual_async_fn)]
    fn dispatch(
        _this: &Arc<Self>,
        mut call: Call,
    ) -> impl Future<Output = Result<()>> + Send + 'static + use<> {
        async move {
            if call.event() == "send" {
                let typed: SendPayload = call.decode()?;
                return emit(&call.context(), "ok", &json!({"room": typed.room}));
            }
            emit(&call.context(), "ok", call.payload())
        }
    }
}

struct Harness {
    rt: tokio::runtime::Runtime,
    ws: std::cell::RefCell<WebSocketStream<DuplexStream>>,
    validators: Vec<(String, jsonschema::Validator)>,
}

impl Harness {
    fn new() -> Harness {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let server = Server::builder(Props)
            .session(SessionConfig::without_timers())
            .build()
            .expect("server");
        let ws = rt.block_on(async {
            let (client, server_side) = tokio::io::duplex(256 * 1024);
            tokio::spawn(async move {
                let _ = server
                    .serve_websocket("/", server_side, HandshakeRequest::default())
                    .await;
            });
            let mut ws = WebSocketStream::from_raw_socket(client, Role::Client, None).await;
            let first = next_json(&mut ws).await;
            assert_eq!(first["event"], "__connect__");
            ws
        });
        let validators = EVENTS
            .iter()
            .map(|e| {
                let schema: Value = serde_json::from_str(e.payload_schema).expect("schema");
                (
                    e.name.to_owned(),
                    jsonschema::draft202012::new(&schema).expect("compiles"),
                )
            })
            .collect();
        Harness {
            rt,
            ws: std::cell::RefCell::new(ws),
            validators,
        }
    }

    /// Sends `text` and returns the one message that answers it.
    fn exchange(&self, text: String) -> Value {
        let mut ws = self.ws.borrow_mut();
        self.rt.block_on(async {
            ws.send(Message::text(text)).await.expect("send");
            next_json(&mut ws).await
        })
    }
}

async fn next_json(ws: &mut WebSocketStream<DuplexStream>) -> Value {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("an answer within 5 s")
            .expect("the connection stays open")
            .expect("no transport error");
        match message {
            Message::Text(text) => return serde_json::from_str(text.as_str()).expect("JSON"),
            Message::Close(frame) => panic!("the server closed the connection: {frame:?}"),
            _ => {}
        }
    }
}

thread_local! {
    static HARNESS: Harness = Harness::new();
}

fn arb_send_payload() -> impl Strategy<Value = Value> {
    // Near-valid payloads, so both outcomes are common.
    let room = prop_oneof![
        "[a-z]{1,8}".prop_map(Value::String),
        arb_string().prop_map(Value::String),
        arb_json(),
    ];
    let text = prop_oneof![".{1,20}".prop_map(Value::String), arb_json()];
    let count = prop_oneof![(0i64..=100).prop_map(Value::from), arb_json()];
    (
        prop::option::of(room),
        prop::option::of(text),
        prop::option::of(count),
        prop::option::of(prop_oneof![Just(json!("a")), Just(json!(null)), arb_json()]),
        prop::option::of(prop_oneof![Just(json!(["x"])), arb_json()]),
        prop::option::of(prop_oneof![Just(json!({"n": 1.5})), arb_json()]),
        prop::option::of(arb_object()),
    )
        .prop_map(|(room, text, count, mode, tags, meta, extra)| {
            let mut m = Map::new();
            for (k, v) in [
                ("room", room),
                ("text", text),
                ("count", count),
                ("mode", mode),
                ("tags", tags),
                ("meta", meta),
            ] {
                if let Some(v) = v {
                    m.insert(k.to_owned(), v);
                }
            }
            if let Some(extra) = extra {
                m.extend(extra);
            }
            Value::Object(m)
        })
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn every_payload_gets_its_reply_or_a_validation_error(
        event in prop_oneof![Just("send"), Just("open"), Just("queued")],
        payload in prop_oneof![arb_send_payload(), arb_object().prop_map(Value::Object)],
        id in "[a-z0-9]{1,8}",
    ) {
        HARNESS.with(|h| {
            let text = json!({"event": event, "payload": payload, "id": id}).to_string();
            let reply = h.exchange(text);
            prop_assert_eq!(&reply["id"], &json!(id), "{}", reply);
            let schema_valid = h
                .validators
                .iter()
                .find(|(name, _)| name == event)
                .map(|(_, v)| v.is_valid(&payload))
                .unwrap_or(false);
            // The handler then decodes into its type: JSON Schema calls 5.0
            // an integer, serde's i64 does not, and that is a
            // VALIDATION_ERROR too.
            let typed = event != "send" || serde_json::from_value::<SendPayload>(payload.clone()).is_ok();
            let valid = schema_valid && typed;
            if valid {
                prop_assert_eq!(&reply["event"], "ok", "{} for valid {}", reply, payload);
            } else {
                prop_assert_eq!(&reply["event"], "__error__", "{} for {}", reply, payload);
                prop_assert_eq!(&reply["payload"]["code"], "VALIDATION_ERROR");
                let errors = reply["payload"]["details"]["errors"].as_array().cloned().unwrap_or_default();
                prop_assert!(!errors.is_empty(), "{}", reply);
            }
            Ok(())
        })?;
    }

    #[test]
    fn arbitrary_text_frames_get_exactly_one_error(
        text in prop_oneof![
            ".{0,64}",
            arb_json().prop_map(|v| v.to_string()),
            arb_envelope_like().prop_map(|v| v.to_string()),
        ]
        .prop_filter("no handler would run", |t| {
            serde_json::from_str::<Value>(t).ok().and_then(|v| oracle(&v)).is_none()
        }),
    ) {
        HARNESS.with(|h| {
            let reply = h.exchange(text.clone());
            prop_assert_eq!(&reply["event"], "__error__", "{} for {:?}", reply, text);
            let code = reply["payload"]["code"].as_str().unwrap_or_default();
            prop_assert!(
                code == "VALIDATION_ERROR" || code == "UNKNOWN_EVENT",
                "{} for {:?}", reply, text
            );
            Ok(())
        })?;
    }

    #[test]
    fn unknown_events_with_any_payload_are_unknown_event(
        event in arb_string().prop_filter("not a spec or client system event", |e| {
            !["send", "open", "queued", "__pong__", "__refresh_auth__"].contains(&e.as_str())
        }),
        payload in arb_object(),
    ) {
        HARNESS.with(|h| {
            let reply = h.exchange(json!({"event": event, "payload": payload}).to_string());
            prop_assert_eq!(&reply["payload"]["code"], "UNKNOWN_EVENT", "{}", reply);
            prop_assert_eq!(&reply["payload"]["event"], &json!(event));
            Ok(())
        })?;
    }
}
