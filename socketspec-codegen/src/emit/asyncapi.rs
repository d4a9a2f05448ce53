//! The AsyncAPI 3.0 export: one document describing the server application.
//!
//! - One channel, `socket`: the WebSocket at `/ws` with a `ws` binding (the
//!   `token` / `api_key` query parameters and the `Authorization` /
//!   `X-API-Key` headers the handshake accepts).
//! - Messages are whole envelopes (`{"event", "payload", "id"}`), so the
//!   `event` discriminator and the correlation `id` are part of each schema;
//!   `correlationId` points at `$message.payload#/id`.
//! - Operations from the server's point of view: `receive_<event>` for each
//!   event a client sends (with a `reply` listing what it emits back), and
//!   `send_<event>` for each event the server sends (emits, broadcasts,
//!   system events, `__error__`).
//! - Room patterns are tags (`room:chat:{room}`) on the broadcast
//!   operations, with an `x-socketspec-broadcast` extension naming the
//!   pattern, and listed in full under `x-socketspec-rooms`.
//! - Shared `$defs` become `components.schemas`; `$ref`s are rewritten.
//!
//! ```
//! let model = socketspec_codegen::check("../spec/chat.json").unwrap();
//! let doc = model.asyncapi();
//! assert_eq!(doc["asyncapi"], "3.0.0");
//! assert_eq!(doc["operations"]["receive_send_message"]["action"], "receive");
//! ```

use std::collections::HashSet;

use serde_json::{Map, Value, json};

use crate::emit::example;
use crate::emit::protocol::{self, SystemEvent};
use crate::error::Error;
use crate::model::Model;
use crate::schema::{Slot, map_subschemas};

/// The AsyncAPI version the document follows.
pub const ASYNCAPI_VERSION: &str = "3.0.0";

/// The WebSocket path the channel's address names (the runtime's default
/// `ws_path`).
pub const DEFAULT_ADDRESS: &str = "/ws";

const CHANNEL: &str = "socket";

/// The AsyncAPI document as JSON text (pretty-printed).
pub fn to_json(model: &Model) -> Result<String, Error> {
    serde_json::to_string_pretty(&document(model)).map_err(|e| Error::Generate {
        file: model.file.clone(),
        message: format!("writing the AsyncAPI document: {e}"),
    })
}

/// The AsyncAPI 3.0 document for a validated model.
pub fn document(model: &Model) -> Value {
    let mut messages = Map::new(); // components.messages
    let mut channel_messages = Map::new();
    let mut operations = Map::new();
    let mut used_keys: HashSet<String> = HashSet::new();
    let mut claim = |wanted: String| -> String {
        let mut key = component_key(&wanted);
        let mut n = 2;
        while used_keys.contains(&key) {
            key = format!("{}_{n}", component_key(&wanted));
            n += 1;
        }
        used_keys.insert(key.clone());
        key
    };
    let channel_ref = json!({"$ref": format!("#/channels/{CHANNEL}")});
    let message_ref = |key: &str| json!({"$ref": format!("#/channels/{CHANNEL}/messages/{key}")});

    // Client events keep their plain names; a server event that shares one
    // gets a suffix.
    let client_keys: Vec<String> = model.events.iter().map(|e| claim(e.name.clone())).collect();

    // Server -> client application events.
    let mut server_keys: Vec<String> = Vec::new();
    for msg in &model.server_events {
        let key = claim(msg.name.clone());
        let origins: Vec<&str> = model
            .events
            .iter()
            .filter(|e| {
                e.emits
                    .iter()
                    .any(|i| model.server_events[*i].name == msg.name)
                    || e.broadcasts
                        .iter()
                        .any(|b| model.server_events[b.message].name == msg.name)
            })
            .map(|e| e.name.as_str())
            .collect();
        let emitted = model.events.iter().any(|e| {
            e.emits
                .iter()
                .any(|i| model.server_events[*i].name == msg.name)
        });
        let mut message = envelope_message(
            &msg.name,
            msg.description.as_deref(),
            &msg.payload,
            msg.example.valid(),
            emitted,
            true,
        );
        if let Some(obj) = message.as_object_mut() {
            obj.insert("x-socketspec-sent-by".into(), json!(origins));
        }
        messages.insert(key.clone(), message);
        channel_messages.insert(
            key.clone(),
            json!({"$ref": format!("#/components/messages/{key}")}),
        );
        server_keys.push(key);
    }

    // Client -> server application events.
    for (event, key) in model.events.iter().zip(&client_keys) {
        let key = key.clone();
        let mut message = envelope_message(
            &event.name,
            event.description.as_deref(),
            &event.payload,
            event.example.valid(),
            true,
            false,
        );
        if let Some(obj) = message.as_object_mut()
            && !event.tags.is_empty()
        {
            obj.insert("tags".into(), tags(&event.tags));
        }
        messages.insert(key.clone(), message);
        channel_messages.insert(
            key.clone(),
            json!({"$ref": format!("#/components/messages/{key}")}),
        );

        let mut op = Map::new();
        op.insert("action".into(), json!("receive"));
        op.insert("channel".into(), channel_ref.clone());
        op.insert("title".into(), json!(event.name));
        if let Some(d) = &event.description {
            op.insert("summary".into(), json!(first_sentence(d)));
            op.insert("description".into(), json!(d));
        }
        if !event.tags.is_empty() {
            op.insert("tags".into(), tags(&event.tags));
        }
        op.insert("messages".into(), json!([message_ref(&key)]));
        if !event.emits.is_empty() {
            let replies: Vec<Value> = event
                .emits
                .iter()
                .map(|i| message_ref(&server_keys[*i]))
                .collect();
            op.insert(
                "reply".into(),
                json!({"channel": channel_ref.clone(), "messages": replies}),
            );
        }
        op.insert(
            "x-socketspec".into(),
            json!({
                "ordered": event.ordered,
                "deprecated": event.deprecated,
                "emits": event.emits.iter().map(|i| &model.server_events[*i].name).collect::<Vec<_>>(),
                "broadcasts": event.broadcasts.iter().map(|b| json!({
                    "event": model.server_events[b.message].name,
                    "room": model.rooms[b.room].pattern,
                    "exclude_sender": b.exclude_sender,
                })).collect::<Vec<_>>(),
            }),
        );
        operations.insert(format!("receive_{key}"), Value::Object(op));
    }

    // One send operation per server event; broadcasts carry their rooms.
    for (i, msg) in model.server_events.iter().enumerate() {
        let key = &server_keys[i];
        let mut rooms: Vec<Value> = Vec::new();
        let mut room_tags: Vec<String> = Vec::new();
        let mut replies_to: Vec<&str> = Vec::new();
        for e in &model.events {
            if e.emits.contains(&i) {
                replies_to.push(&e.name);
            }
            for b in e.broadcasts.iter().filter(|b| b.message == i) {
                let pattern = &model.rooms[b.room].pattern;
                let tag = format!("room:{pattern}");
                if !room_tags.contains(&tag) {
                    room_tags.push(tag);
                }
                rooms.push(json!({
                    "room": pattern,
                    "params": model.rooms[b.room].params,
                    "from": e.name,
                    "exclude_sender": b.exclude_sender,
                }));
            }
        }
        let mut summary = Vec::new();
        if !replies_to.is_empty() {
            summary.push(format!("Reply to {}", replies_to.join(", ")));
        }
        if !rooms.is_empty() {
            let list: Vec<String> = room_tags
                .iter()
                .map(|t| t.trim_start_matches("room:").to_owned())
                .collect();
            summary.push(format!("Broadcast to {}", list.join(", ")));
        }
        let mut op = Map::new();
        op.insert("action".into(), json!("send"));
        op.insert("channel".into(), channel_ref.clone());
        op.insert("title".into(), json!(msg.name));
        if !summary.is_empty() {
            op.insert("summary".into(), json!(summary.join("; ")));
        }
        if let Some(d) = &msg.description {
            op.insert("description".into(), json!(d));
        }
        if !room_tags.is_empty() {
            op.insert("tags".into(), tags(&room_tags));
        }
        op.insert("messages".into(), json!([message_ref(key)]));
        if !rooms.is_empty() {
            op.insert("x-socketspec-broadcast".into(), Value::Array(rooms));
        }
        operations.insert(format!("send_{key}"), Value::Object(op));
    }

    // System events.
    for sys in protocol::system_events() {
        system_messages(
            &sys,
            &mut claim,
            &mut messages,
            &mut channel_messages,
            &mut operations,
            &channel_ref,
        );
    }

    let schemas: Map<String, Value> = model
        .defs
        .iter()
        .map(|(name, schema)| (component_key(name), rewrite_refs(schema)))
        .collect();

    let mut info = Map::new();
    info.insert("title".into(), json!(model.info.title));
    info.insert("version".into(), json!(model.info.version));
    let mut description = model.info.description.clone().unwrap_or_default();
    if !description.is_empty() {
        description.push_str("\n\n");
    }
    description.push_str(&format!(
        "Generated by socketspec from its spec (namespace `{}`). Every message is one JSON envelope \
         `{{\"event\", \"payload\", \"id\"}}` in a WebSocket text frame (wire protocol version 1). \
         A client may set `id` on a message; the replies the handler emits to it, and any `__error__` \
         it causes, carry the same `id`. Broadcasts never carry one.",
        model.namespace
    ));
    info.insert("description".into(), json!(description));
    let mut info_tags: Vec<Value> = Vec::new();
    let mut seen_tags: HashSet<String> = HashSet::new();
    for e in &model.events {
        for t in &e.tags {
            if seen_tags.insert(t.clone()) {
                info_tags.push(json!({"name": t}));
            }
        }
    }
    for r in &model.rooms {
        let mut d = format!("Room pattern `{}`", r.pattern);
        if r.is_static {
            d.push_str(" (static: exists even when empty)");
        }
        if r.guarded {
            d.push_str(" (guarded: joins must pass its guard)");
        }
        if let Some(desc) = &r.description {
            d.push_str(". ");
            d.push_str(desc);
        }
        info_tags.push(json!({"name": format!("room:{}", r.pattern), "description": d}));
    }
    if !info_tags.is_empty() {
        info.insert("tags".into(), Value::Array(info_tags));
    }

    let rooms: Vec<Value> = model
        .rooms
        .iter()
        .map(|r| {
            let mut room = json!({
                "pattern": r.pattern,
                "params": r.params,
                "static": r.is_static,
                "guarded": r.guarded,
            });
            if let Some(obj) = room.as_object_mut() {
                if let Some(d) = &r.description {
                    obj.insert("description".into(), json!(d));
                }
                if let Some(m) = r.max_members {
                    obj.insert("max_members".into(), json!(m));
                }
            }
            room
        })
        .collect();

    let mut doc = json!({
        "asyncapi": ASYNCAPI_VERSION,
        "info": info,
        "defaultContentType": "application/json",
        "channels": {
            CHANNEL: {
                "address": DEFAULT_ADDRESS,
                "title": "WebSocket connection",
                "summary": "The one WebSocket every event travels over.",
                "description": "One text frame holds one JSON envelope. The address is the runtime's default `ws_path`; a server may mount the socket elsewhere. Authentication (when the server requires it) happens on the upgrade: a JWT as `Authorization: Bearer <t>` or `?token=<t>`, an API key as `X-API-Key: <k>` or `?api_key=<k>`.",
                "messages": channel_messages,
                "bindings": {
                    "ws": {
                        "bindingVersion": "0.1.0",
                        "method": "GET",
                        "query": {
                            "type": "object",
                            "properties": {
                                "token": {"type": "string", "description": "A JWT (HS256; claims `sub`, `exp`, others kept), when the server uses token auth."},
                                "api_key": {"type": "string", "description": "An API key, when the server uses API-key auth."}
                            }
                        },
                        "headers": {
                            "type": "object",
                            "properties": {
                                "Authorization": {"type": "string", "description": "`Bearer <JWT>`, instead of `?token=`."},
                                "X-API-Key": {"type": "string", "description": "The API key, instead of `?api_key=`."},
                                "Origin": {"type": "string", "description": "Checked against the server's allowed origins."}
                            }
                        }
                    }
                }
            }
        },
        "operations": operations,
        "components": {
            "schemas": schemas,
            "messages": messages,
            "correlationIds": {
                "requestId": {
                    "description": "The client's `id`, echoed on every reply and error the message causes.",
                    "location": "$message.payload#/id"
                }
            },
            "securitySchemes": {
                "jwtQuery": {"type": "httpApiKey", "name": "token", "in": "query", "description": "A JWT in the `token` query parameter (or `Authorization: Bearer`). Only when the server requires token auth."},
                "apiKeyQuery": {"type": "httpApiKey", "name": "api_key", "in": "query", "description": "An API key in the `api_key` query parameter (or the `X-API-Key` header). Only when the server requires API-key auth."}
            }
        },
        "x-socketspec-rooms": rooms,
    });
    super::asyncapi_anchors::point_anchor_refs(&mut doc);
    doc
}

/// A message whose payload is the whole envelope.
fn envelope_message(
    name: &str,
    description: Option<&str>,
    payload: &Value,
    example: Option<&Value>,
    carries_id: bool,
    server_sent: bool,
) -> Value {
    envelope_message_raw(
        name,
        description,
        &rewrite_refs(payload),
        example.cloned(),
        carries_id,
        server_sent,
    )
}

fn envelope_message_raw(
    name: &str,
    description: Option<&str>,
    payload: &Value,
    example_payload: Option<Value>,
    carries_id: bool,
    server_sent: bool,
) -> Value {
    let mut properties = Map::new();
    properties.insert(
        "event".into(),
        json!({"type": "string", "const": name, "description": "The event name."}),
    );
    properties.insert("payload".into(), payload.clone());
    if carries_id {
        let id_description = if server_sent {
            "Present when this is a reply to a client message that carried an `id`: that `id`."
        } else {
            "Optional correlation id chosen by the client; replies and errors carry it back."
        };
        properties.insert(
            "id".into(),
            json!({"type": "string", "description": id_description}),
        );
    }
    let required: Vec<&str> = if server_sent {
        vec!["event", "payload"]
    } else {
        vec!["event"]
    };
    // Only a payload the schema accepts is an example; a schema nothing
    // satisfies gets none.
    let example_envelope = example_payload.map(|example_payload| {
        let mut envelope = Map::new();
        envelope.insert("event".into(), json!(name));
        envelope.insert("payload".into(), example_payload);
        if carries_id {
            envelope.insert("id".into(), json!("c1-1"));
        }
        envelope
    });
    let mut message = Map::new();
    message.insert("name".into(), json!(name));
    message.insert("title".into(), json!(name));
    if let Some(d) = description {
        message.insert("summary".into(), json!(first_sentence(d)));
        message.insert("description".into(), json!(d));
    }
    message.insert("contentType".into(), json!("application/json"));
    message.insert(
        "payload".into(),
        json!({"type": "object", "required": required, "properties": properties}),
    );
    if carries_id {
        message.insert(
            "correlationId".into(),
            json!({"$ref": "#/components/correlationIds/requestId"}),
        );
    }
    if let Some(envelope) = example_envelope {
        message.insert(
            "examples".into(),
            json!([{"name": "example", "payload": Value::Object(envelope)}]),
        );
    }
    Value::Object(message)
}

fn system_messages(
    sys: &SystemEvent,
    claim: &mut impl FnMut(String) -> String,
    messages: &mut Map<String, Value>,
    channel_messages: &mut Map<String, Value>,
    operations: &mut Map<String, Value>,
    channel_ref: &Value,
) {
    let base = format!("system_{}", sys.name.trim_matches('_'));
    let both = sys.client_sends() && sys.server_sends();
    let defs = indexmap::IndexMap::new();
    let directions: [(Option<&Value>, bool); 2] = [
        (sys.client_payload.as_ref(), false),
        (sys.server_payload.as_ref(), true),
    ];
    for (payload, server_sent) in directions {
        let Some(payload) = payload else { continue };
        let wanted = match (both, server_sent) {
            (true, false) => format!("{base}_request"),
            (true, true) => format!("{base}_result"),
            _ => base.clone(),
        };
        let key = claim(wanted);
        // Replies to a client message (`__error__`, `__refresh_auth__`'s
        // answer) carry its `id`.
        let carries_id = !server_sent || sys.name == "__error__" || sys.name == "__refresh_auth__";
        let description = format!("System event ({}). {}", sys.direction, sys.when);
        let mut message = envelope_message_raw(
            sys.name,
            Some(&description),
            payload,
            example::valid_example_with_defs(&defs, payload),
            carries_id,
            server_sent,
        );
        if let Some(obj) = message.as_object_mut() {
            obj.insert("tags".into(), json!([{"name": "system"}]));
        }
        messages.insert(key.clone(), message);
        channel_messages.insert(
            key.clone(),
            json!({"$ref": format!("#/components/messages/{key}")}),
        );
        let mut op = Map::new();
        op.insert(
            "action".into(),
            json!(if server_sent { "send" } else { "receive" }),
        );
        op.insert("channel".into(), channel_ref.clone());
        op.insert("title".into(), json!(sys.name));
        op.insert("summary".into(), json!(sys.when));
        op.insert("tags".into(), json!([{"name": "system"}]));
        op.insert(
            "messages".into(),
            json!([{"$ref": format!("#/channels/{CHANNEL}/messages/{key}")}]),
        );
        let prefix = if server_sent { "send" } else { "receive" };
        operations.insert(format!("{prefix}_{key}"), Value::Object(op));
    }
}

fn tags(names: &[String]) -> Value {
    Value::Array(names.iter().map(|n| json!({"name": n})).collect())
}

/// Component keys must match `^[a-zA-Z0-9\.\-_]+$`.
fn component_key(name: &str) -> String {
    let key: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if key.is_empty() { "_".to_owned() } else { key }
}

/// `#/$defs/Name` -> `#/components/schemas/Name`, everywhere in a schema.
/// `schema` with its `$ref`s into `$defs` pointed at the document's
/// components. Only schema positions are walked: a `const`, `enum`,
/// `default` or `examples` value shaped like `{"$ref": ...}` is data and
/// stays as it is.
fn rewrite_refs(schema: &Value) -> Value {
    // A schema resource of its own: its references resolve against its
    // `$id`, not against the document's components.
    if crate::schema::is_resource(schema) {
        return schema.clone();
    }
    map_subschemas(schema, |slot| match slot {
        Slot::Schema(_, sub) => rewrite_refs(sub),
        Slot::Ref(reference) => match reference.strip_prefix("#/$defs/") {
            // A definition, or a part of one (`Name/properties/a`).
            Some(rest) => {
                let (name, part) = rest.split_once('/').map_or((rest, ""), |(n, p)| (n, p));
                let part = if part.is_empty() {
                    String::new()
                } else {
                    format!("/{part}")
                };
                json!(format!(
                    "#/components/schemas/{}{part}",
                    component_key(name)
                ))
            }
            None => json!(reference),
        },
    })
}

fn first_sentence(text: &str) -> String {
    match text.find(". ") {
        Some(i) => text[..=i].to_owned(),
        None => text.to_owned(),
    }
}
