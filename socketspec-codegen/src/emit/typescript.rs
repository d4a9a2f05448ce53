//! The TypeScript emitter: one self-contained `.ts` file per spec, with no
//! runtime dependencies.
//!
//! It holds, in this order:
//! 1. the protocol's fixed part ([`PRELUDE`]): `ErrorCode`, `SocketspecError`,
//!    the system events' payloads, the options and the minimal `WebSocket`
//!    shape the client needs;
//! 2. one interface (or type alias) per `$defs` entry, client event payload
//!    and server event payload, generated from their JSON Schemas with the
//!    descriptions as doc comments;
//! 3. `ServerEvents`, the typed event map behind `client.on(...)`;
//! 4. `ClientBase` ([`CLIENT_BASE`]): the wire protocol (ids, correlation,
//!    timeouts, `__pong__`, `__refresh_auth__`, reconnect with backoff);
//! 5. `Client`: `Client.connect(url, options)` and one camelCase method per
//!    client event, typed by the spec.
//!
//! The output is formatted by hand (two-space indentation, one member per
//! line) because users read it in their IDE.

use std::fmt::Write as _;

use heck::{ToLowerCamelCase, ToUpperCamelCase};
use serde_json::{Map, Value};

use crate::error::{Error, SpecError, join_path};
use crate::model::{EventModel, Model};

/// Names the generated file defines (or uses from the JavaScript globals),
/// which no spec type may take.
const TAKEN_TYPE_NAMES: &[&str] = &[
    // Defined by the generated file.
    "Client",
    "ClientBase",
    "ClientOptions",
    "ReconnectOptions",
    "RequestOptions",
    "ConnectionState",
    "StateChange",
    "ErrorCode",
    "ClientErrorCode",
    "ERROR_CODES",
    "ErrorPayload",
    "SocketspecError",
    "SocketspecErrorInit",
    "ConnectPayload",
    "DisconnectPayload",
    "PingPayload",
    "ExpiringPayload",
    "ServerShutdownPayload",
    "RefreshAuthReply",
    "SystemEvents",
    "ServerEvents",
    "ServerMessage",
    "Envelope",
    "WebSocketLike",
    "WebSocketConstructor",
    "SocketHandlers",
    "PendingRequest",
    "Globals",
    // JavaScript and TypeScript globals the generated code uses.
    "Array",
    "ArrayBuffer",
    "Boolean",
    "Error",
    "JSON",
    "Map",
    "Math",
    "Number",
    "Object",
    "Promise",
    "Readonly",
    "ReadonlyArray",
    "Record",
    "Set",
    "String",
];

/// Members of `Client` (and `ClientBase`) that a generated event method must
/// not shadow. An event whose camelCase name is one of these gets the method
/// `emit<Name>` instead.
const TAKEN_MEMBER_NAMES: &[&str] = &[
    "close",
    "connect",
    "connectInfo",
    "connectionId",
    "constructor",
    "emit",
    "hasOwnProperty",
    "isPrototypeOf",
    "off",
    "on",
    "onStateChange",
    "once",
    "propertyIsEnumerable",
    "refreshAuth",
    "request",
    "state",
    "toLocaleString",
    "toString",
    "valueOf",
];

/// The system events a client can receive, with their payload types, in the
/// order of PROTOCOL.md's table.
const SYSTEM_EVENTS: &[(&str, &str, &str)] = &[
    (
        "__connect__",
        "ConnectPayload",
        "The first message of every connection (also after a reconnect).",
    ),
    (
        "__disconnect__",
        "DisconnectPayload",
        "Sent just before the server closes the connection.",
    ),
    (
        "__ping__",
        "PingPayload",
        "A heartbeat; the client answers with `__pong__` by itself.",
    ),
    (
        "__error__",
        "ErrorPayload",
        "An error not claimed by a pending request (e.g. about an `emit`, or a broadcast that failed).",
    ),
    (
        "__auth_expiring__",
        "ExpiringPayload",
        "The credential expires soon: call `refreshAuth(newToken)`.",
    ),
    (
        "__session_expiring__",
        "ExpiringPayload",
        "The session reaches its maximum duration soon.",
    ),
    (
        "__idle_warning__",
        "ExpiringPayload",
        "The idle timeout closes the connection soon unless an event is sent.",
    ),
    (
        "__server_shutdown__",
        "ServerShutdownPayload",
        "The server began a graceful shutdown.",
    ),
];

/// Renders the TypeScript client for a validated model.
pub fn render(model: &Model) -> Result<String, Error> {
    let methods = method_names(model)?;
    check_type_names(model)?;
    let mut out = String::new();
    header(model, &methods, &mut out);
    out.push_str(PRELUDE);

    if !model.defs.is_empty() {
        section(&mut out, "Shared definitions (`$defs` of the spec)");
        for (name, schema) in &model.defs {
            let mut doc = schema_doc(schema);
            if doc.is_empty() {
                doc.push(format!("`$defs.{name}` of the spec."));
            }
            named_type(&mut out, &type_name(name), schema, &doc);
        }
    }

    section(&mut out, "Client -> server event payloads");
    for event in &model.events {
        let mut doc = paragraph(event.description.as_deref());
        doc.push(format!(
            "The payload of `{}`: send it with `client.{}(...)`.",
            event.name, methods[&event.name]
        ));
        doc.extend(schema_doc(&event.payload));
        if event.deprecated {
            doc.push("@deprecated This event is deprecated in the spec.".to_owned());
        }
        named_type(&mut out, &event.type_name, &event.payload, &doc);
    }

    section(&mut out, "Server -> client event payloads");
    for (index, message) in model.server_events.iter().enumerate() {
        let mut doc = paragraph(message.description.as_deref());
        doc.push(format!(
            "The payload of `{}`: {}.",
            message.name,
            origin(model, index)
        ));
        doc.extend(schema_doc(&message.payload));
        named_type(&mut out, &message.type_name, &message.payload, &doc);
    }
    for event in model.events.iter().filter(|e| e.emits.len() > 1) {
        let doc = vec![format!(
            "The replies `{}` may answer with; `event` tells which one came.",
            event.name
        )];
        let _ = writeln!(
            out,
            "{}export type {} =\n{};\n",
            doc_comment(&doc, 0),
            reply_alias(event),
            reply_union(model, event, 1)
        );
    }

    section(&mut out, "The event map");
    server_events_map(model, &mut out);
    out.push_str(CLIENT_BASE);
    client_class(model, &methods, &mut out);
    Ok(out)
}

// ---------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------

/// The TypeScript (and Rust) type name of a `$defs` entry.
fn type_name(def: &str) -> String {
    def.to_upper_camel_case()
}

/// The alias of an event's several possible replies: `JoinReply`.
fn reply_alias(event: &EventModel) -> String {
    format!("{}Reply", event.type_name)
}

/// The camelCase method for each client event, by event name.
fn method_names(model: &Model) -> Result<indexmap::IndexMap<String, String>, Error> {
    let mut methods: indexmap::IndexMap<String, String> = indexmap::IndexMap::new();
    let mut errors = Vec::new();
    for event in &model.events {
        let camel: String = event
            .name
            .to_lower_camel_case()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let method = if camel.is_empty() || TAKEN_MEMBER_NAMES.contains(&camel.as_str()) {
            format!("emit{}", event.name.to_upper_camel_case())
        } else {
            camel
        };
        if let Some((other, _)) = methods.iter().find(|(_, m)| **m == method) {
            errors.push(SpecError::new(
                &model.file,
                join_path("events", &event.name),
                format!(
                    "events `{other}` and `{}` would both get the TypeScript client method `{method}`",
                    event.name
                ),
                "rename one of the two",
            ));
        }
        methods.insert(event.name.clone(), method);
    }
    if errors.is_empty() {
        Ok(methods)
    } else {
        Err(Error::Spec(errors))
    }
}

/// Every spec type must keep its name clear of what the client defines.
fn check_type_names(model: &Model) -> Result<(), Error> {
    let mut errors = Vec::new();
    let mut claim = |name: &str, at: String| {
        if TAKEN_TYPE_NAMES.contains(&name) {
            errors.push(SpecError::new(
                &model.file,
                at,
                format!(
                    "its TypeScript type would be named `{name}`, which the generated TypeScript client defines or uses itself"
                ),
                "rename it",
            ));
        }
    };
    for name in model.defs.keys() {
        claim(&type_name(name), join_path("$defs", name));
    }
    for event in &model.events {
        claim(&event.type_name, join_path("events", &event.name));
    }
    for (index, message) in model.server_events.iter().enumerate() {
        claim(&message.type_name, server_event_path(model, index));
    }
    let spec_types: Vec<String> = model
        .defs
        .keys()
        .map(|n| type_name(n))
        .chain(model.events.iter().map(|e| e.type_name.clone()))
        .chain(model.server_events.iter().map(|m| m.type_name.clone()))
        .collect();
    for event in model.events.iter().filter(|e| e.emits.len() > 1) {
        let alias = reply_alias(event);
        if spec_types.contains(&alias) || TAKEN_TYPE_NAMES.contains(&alias.as_str()) {
            errors.push(SpecError::new(
                &model.file,
                join_path("events", &event.name),
                format!(
                    "it declares several emits, so the TypeScript client names their union `{alias}`, which another type already uses"
                ),
                "rename the event or the other type",
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::Spec(errors))
    }
}

/// The JSON path where server event `index` is first declared.
fn server_event_path(model: &Model, index: usize) -> String {
    let name = &model.server_events[index].name;
    for event in &model.events {
        let at = join_path("events", &event.name);
        if event.emits.contains(&index) {
            return join_path(&join_path(&at, "emits"), name);
        }
        if event.broadcasts.iter().any(|b| b.message == index) {
            return join_path(&join_path(&at, "broadcasts"), name);
        }
    }
    join_path("events", name)
}

/// A property key: bare when it is an identifier, else a string literal.
fn property_key(name: &str) -> String {
    let mut chars = name.chars();
    let identifier = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$');
    if identifier {
        name.to_owned()
    } else {
        string_literal(name)
    }
}

/// A TypeScript string literal (JSON's escaping is valid TypeScript).
fn string_literal(text: &str) -> String {
    Value::String(text.to_owned()).to_string()
}

// ---------------------------------------------------------------------------
// Layout helpers
// ---------------------------------------------------------------------------

fn header(model: &Model, methods: &indexmap::IndexMap<String, String>, out: &mut String) {
    let file = model
        .file
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_else(|| model.file.display().to_string());
    let _ = writeln!(
        out,
        "// Generated by socketspec-codegen from {file} ({} {}).\n\
         // Do not edit: change the spec and regenerate.\n\
         //\n\
         // A typed client for the socketspec wire protocol, version 1, with no\n\
         // runtime dependencies. It runs wherever a WebSocket does: in browsers, in\n\
         // Node 22+ (Node 20 with --experimental-websocket), or with a constructor\n\
         // you pass in, such as the `ws` package's. Compile it with lib ES2020 or later.",
        comment_safe(&model.info.title),
        comment_safe(&model.info.version)
    );
    if let Some(description) = &model.info.description {
        out.push_str("//\n");
        for line in description.lines() {
            let _ = writeln!(out, "// {}", comment_safe(line).trim_end());
        }
    }
    let example = model
        .events
        .iter()
        .find(|e| e.emits.len() == 1)
        .or_else(|| model.events.first());
    out.push_str("//\n// Usage:\n//\n//   const client = await Client.connect(\"ws://localhost:8080/ws\");\n");
    if let Some(event) = example {
        let _ = writeln!(
            out,
            "//   const reply = await client.{}({{ /* {} */ }});",
            methods[&event.name], event.type_name
        );
    }
    if let Some(message) = model.server_events.iter().find(|m| {
        model.events.iter().any(|e| {
            e.broadcasts
                .iter()
                .any(|b| model.server_events[b.message].name == m.name)
        })
    }) {
        let _ = writeln!(
            out,
            "//   client.on({}, (payload) => console.log(payload));",
            string_literal(&message.name)
        );
    }
    out.push_str("//   await client.close();\n\n/* eslint-disable */\n");
}

fn section(out: &mut String, title: &str) {
    let rule = "-".repeat(75);
    let _ = writeln!(out, "// {rule}\n// {title}\n// {rule}\n");
}

/// Text made safe inside a `/** ... */` or `//` comment.
fn comment_safe(text: &str) -> String {
    text.replace("*/", "*\\/")
}

/// A description as doc lines, followed by an empty line (a paragraph
/// break) when there is one.
fn paragraph(text: Option<&str>) -> Vec<String> {
    let mut lines: Vec<String> = text
        .map(|t| t.lines().map(str::to_owned).collect())
        .unwrap_or_default();
    if !lines.is_empty() {
        lines.push(String::new());
    }
    lines
}

/// A JSDoc comment at `indent` levels (two spaces each), or nothing for no
/// lines.
fn doc_comment(lines: &[String], indent: usize) -> String {
    let pad = "  ".repeat(indent);
    let lines: Vec<String> = lines.iter().map(|l| comment_safe(l.trim_end())).collect();
    match lines.as_slice() {
        [] => String::new(),
        [one] if !one.is_empty() => format!("{pad}/** {one} */\n"),
        _ => {
            let mut doc = format!("{pad}/**\n");
            for line in &lines {
                if line.is_empty() {
                    let _ = writeln!(doc, "{pad} *");
                } else {
                    let _ = writeln!(doc, "{pad} * {line}");
                }
            }
            let _ = writeln!(doc, "{pad} */");
            doc
        }
    }
}

/// The doc lines of a schema: title, description and its constraints as
/// JSDoc tags (the server enforces them; the types cannot express them).
fn schema_doc(schema: &Value) -> Vec<String> {
    let Some(object) = schema.as_object() else {
        return Vec::new();
    };
    let mut lines = Vec::new();
    for key in ["title", "description"] {
        if let Some(text) = object.get(key).and_then(Value::as_str) {
            lines.extend(text.lines().map(str::to_owned));
        }
    }
    for key in [
        "format",
        "pattern",
        "minLength",
        "maxLength",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
        "minItems",
        "maxItems",
        "uniqueItems",
        "minProperties",
        "maxProperties",
        "default",
    ] {
        if let Some(value) = object.get(key) {
            let text = match value {
                Value::String(s) if key == "format" || key == "pattern" => s.clone(),
                other => other.to_string(),
            };
            lines.push(format!("@{key} {text}"));
        }
    }
    if object.get("type").and_then(Value::as_str) == Some("integer") {
        lines.push("@integer".to_owned());
    }
    if object.get("deprecated") == Some(&Value::Bool(true)) {
        lines.push("@deprecated".to_owned());
    }
    lines
}

/// Where a server event comes from: the replies and broadcasts declaring it.
fn origin(model: &Model, index: usize) -> String {
    let mut parts = Vec::new();
    let replies: Vec<String> = model
        .events
        .iter()
        .filter(|e| e.emits.contains(&index))
        .map(|e| format!("`{}`", e.name))
        .collect();
    if !replies.is_empty() {
        parts.push(format!("the reply to {}", replies.join(", ")));
    }
    for event in &model.events {
        for broadcast in event.broadcasts.iter().filter(|b| b.message == index) {
            let room = model
                .rooms
                .get(broadcast.room)
                .map(|r| r.pattern.as_str())
                .unwrap_or("?");
            let skip = if broadcast.exclude_sender {
                ", except the sender"
            } else {
                ""
            };
            parts.push(format!("broadcast by `{}` to `{room}`{skip}", event.name));
        }
    }
    parts.join("; ")
}

// ---------------------------------------------------------------------------
// JSON Schema -> TypeScript types
// ---------------------------------------------------------------------------

/// How tightly a rendered type binds, to parenthesize only where needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Binding {
    Union,
    Intersection,
    Atom,
}

/// A rendered type expression.
#[derive(Debug, Clone)]
struct Ty {
    text: String,
    binding: Binding,
}

fn atom(text: impl Into<String>) -> Ty {
    Ty {
        text: text.into(),
        binding: Binding::Atom,
    }
}

fn parenthesized(ty: Ty, at_least: Binding) -> String {
    if ty.binding < at_least {
        format!("({})", ty.text)
    } else {
        ty.text
    }
}

fn union(members: Vec<Ty>) -> Ty {
    let mut texts: Vec<String> = Vec::new();
    for member in members {
        let text = parenthesized(member, Binding::Intersection);
        if !texts.contains(&text) {
            texts.push(text);
        }
    }
    match texts.len() {
        0 => atom("never"),
        1 => atom(texts.remove(0)),
        _ => Ty {
            text: texts.join(" | "),
            binding: Binding::Union,
        },
    }
}

fn intersection(mut members: Vec<Ty>) -> Ty {
    if members.len() == 1 {
        return members.remove(0);
    }
    let mut texts: Vec<String> = Vec::new();
    for member in members {
        let text = parenthesized(member, Binding::Intersection);
        if !texts.contains(&text) {
            texts.push(text);
        }
    }
    match texts.len() {
        0 => atom("unknown"),
        1 => Ty {
            text: texts.remove(0),
            binding: Binding::Atom,
        },
        _ => Ty {
            text: texts.join(" & "),
            binding: Binding::Intersection,
        },
    }
}

/// A JSON value as a literal type (JSON literals are valid TypeScript types).
fn literal(value: &Value) -> Ty {
    atom(value.to_string())
}

/// The type of `schema`, laid out for `indent` levels of nesting.
fn ty(schema: &Value, indent: usize) -> Ty {
    let Some(object) = schema.as_object() else {
        return match schema {
            Value::Bool(false) => atom("never"),
            _ => atom("unknown"),
        };
    };
    if let Some(reference) = object.get("$ref").and_then(Value::as_str) {
        return match reference.strip_prefix("#/$defs/") {
            Some(name) => atom(type_name(name)),
            None => atom("unknown"),
        };
    }
    if let Some(value) = object.get("const") {
        return literal(value);
    }
    if let Some(Value::Array(values)) = object.get("enum") {
        return union(values.iter().map(literal).collect());
    }
    let mut parts = Vec::new();
    match object.get("type") {
        Some(Value::String(kind)) => parts.push(of_type(kind, object, indent)),
        Some(Value::Array(kinds)) => parts.push(union(
            kinds
                .iter()
                .filter_map(Value::as_str)
                .map(|kind| of_type(kind, object, indent))
                .collect(),
        )),
        _ if object.contains_key("properties") => parts.push(of_type("object", object, indent)),
        _ if object.contains_key("items") || object.contains_key("prefixItems") => {
            parts.push(of_type("array", object, indent));
        }
        _ => {}
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(Value::Array(alternatives)) = object.get(key) {
            parts.push(union(alternatives.iter().map(|s| ty(s, indent)).collect()));
        }
    }
    if let Some(Value::Array(all)) = object.get("allOf") {
        parts.extend(all.iter().map(|s| ty(s, indent)));
    }
    intersection(parts)
}

/// The type of one JSON Schema `type`.
fn of_type(kind: &str, object: &Map<String, Value>, indent: usize) -> Ty {
    match kind {
        "string" => atom("string"),
        "integer" | "number" => atom("number"),
        "boolean" => atom("boolean"),
        "null" => atom("null"),
        "array" => array_type(object, indent),
        "object" => atom(object_literal(object, indent)),
        _ => atom("unknown"),
    }
}

fn array_type(object: &Map<String, Value>, indent: usize) -> Ty {
    let items = object.get("items");
    if let Some(Value::Array(prefix)) = object.get("prefixItems") {
        let mut members: Vec<String> = prefix.iter().map(|s| ty(s, indent).text).collect();
        match items {
            Some(Value::Bool(false)) => {}
            Some(rest) => members.push(format!(
                "...{}[]",
                parenthesized(ty(rest, indent), Binding::Atom)
            )),
            None => members.push("...unknown[]".to_owned()),
        }
        return atom(format!("[{}]", members.join(", ")));
    }
    match items {
        Some(items) => atom(format!(
            "{}[]",
            parenthesized(ty(items, indent), Binding::Atom)
        )),
        None => atom("unknown[]"),
    }
}

/// An object type: `{ ... }` with one member per line, or a `Record` when it
/// declares no properties.
fn object_literal(object: &Map<String, Value>, indent: usize) -> String {
    let properties = object.get("properties").and_then(Value::as_object);
    let additional = object.get("additionalProperties");
    match properties {
        Some(properties) if !properties.is_empty() => {
            let pad = "  ".repeat(indent);
            format!(
                "{{\n{}{pad}}}",
                object_members(object, properties, indent + 1)
            )
        }
        _ => match additional {
            Some(Value::Bool(false)) => "Record<string, never>".to_owned(),
            Some(schema @ Value::Object(_)) => {
                format!("Record<string, {}>", ty(schema, indent).text)
            }
            _ => "Record<string, unknown>".to_owned(),
        },
    }
}

/// The member lines of an object type, at `indent` levels.
fn object_members(
    object: &Map<String, Value>,
    properties: &Map<String, Value>,
    indent: usize,
) -> String {
    let required: Vec<&str> = object
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let pad = "  ".repeat(indent);
    let mut out = String::new();
    for (name, schema) in properties {
        out.push_str(&doc_comment(&schema_doc(schema), indent));
        let optional = if required.contains(&name.as_str()) {
            ""
        } else {
            "?"
        };
        let _ = writeln!(
            out,
            "{pad}{}{optional}: {};",
            property_key(name),
            ty(schema, indent).text
        );
    }
    if let Some(Value::Object(_)) = object.get("additionalProperties") {
        let _ = writeln!(out, "{pad}/** Further properties the schema allows. */");
        let _ = writeln!(out, "{pad}[key: string]: unknown;");
    }
    out
}

/// `export interface Name { ... }` for a plain object schema, else
/// `export type Name = ...;`.
fn named_type(out: &mut String, name: &str, schema: &Value, doc: &[String]) {
    out.push_str(&doc_comment(doc, 0));
    let interface = schema.as_object().and_then(|object| {
        let plain = object.get("type").and_then(Value::as_str) == Some("object")
            && !["$ref", "const", "enum", "oneOf", "anyOf", "allOf"]
                .iter()
                .any(|k| object.contains_key(*k));
        let properties = object.get("properties").and_then(Value::as_object)?;
        (plain && !properties.is_empty()).then(|| object_members(object, properties, 1))
    });
    match interface {
        Some(members) => {
            let _ = writeln!(out, "export interface {name} {{\n{members}}}\n");
        }
        None => {
            let _ = writeln!(out, "export type {name} = {};\n", ty(schema, 0).text);
        }
    }
}

/// Whether `{}` is a valid payload for `schema` (nothing required), so the
/// method's argument can default to it.
fn accepts_empty(model: &Model, schema: &Value) -> bool {
    let schema = match schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/$defs/"))
    {
        Some(name) => model.defs.get(name).unwrap_or(schema),
        None => schema,
    };
    let Some(object) = schema.as_object() else {
        return false;
    };
    let nothing_required = object
        .get("required")
        .and_then(Value::as_array)
        .is_none_or(Vec::is_empty);
    nothing_required
        && object.get("type").and_then(Value::as_str) == Some("object")
        && !["oneOf", "anyOf", "allOf", "minProperties"]
            .iter()
            .any(|k| object.contains_key(*k))
}

/// `| { event: "a"; payload: A }` lines for an event with several emits.
fn reply_union(model: &Model, event: &EventModel, indent: usize) -> String {
    let pad = "  ".repeat(indent);
    event
        .emits
        .iter()
        .map(|&i| {
            let message = &model.server_events[i];
            format!(
                "{pad}| {{ event: {}; payload: {} }}",
                string_literal(&message.name),
                message.type_name
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

// ---------------------------------------------------------------------------
// The event map and the client
// ---------------------------------------------------------------------------

fn server_events_map(model: &Model, out: &mut String) {
    out.push_str(&doc_comment(
        &[
            "Everything the server sends, by event name: the spec's server events and".to_owned(),
            "the protocol's system events. Listen with `client.on(event, listener)`.".to_owned(),
        ],
        0,
    ));
    out.push_str("export interface ServerEvents extends SystemEvents {\n");
    for (index, message) in model.server_events.iter().enumerate() {
        let mut doc = paragraph(message.description.as_deref());
        doc.push(format!("{}.", capitalize(&origin(model, index))));
        out.push_str(&doc_comment(&doc, 1));
        let _ = writeln!(
            out,
            "  {}: {};",
            property_key(&message.name),
            message.type_name
        );
    }
    out.push_str("}\n\n");
    out.push_str(&doc_comment(
        &["The protocol's system events a client receives, by name.".to_owned()],
        0,
    ));
    out.push_str("export interface SystemEvents {\n");
    for (name, payload, doc) in SYSTEM_EVENTS {
        out.push_str(&doc_comment(&[(*doc).to_owned()], 1));
        let _ = writeln!(out, "  {name}: {payload};");
    }
    out.push_str("}\n\n");
    out.push_str(
        "/** One message from the server, typed by its `event`. */\n\
         export type ServerMessage = {\n  \
           [E in keyof ServerEvents]: { event: E; payload: ServerEvents[E]; id?: string };\n\
         }[keyof ServerEvents];\n\n",
    );
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn client_class(model: &Model, methods: &indexmap::IndexMap<String, String>, out: &mut String) {
    section(out, "The client");
    let _ = writeln!(
        out,
        "/**\n * A typed client for {} {}: one method per client event, replies\n * correlated by `id`, `on(event, listener)` for everything else.\n *\n * Connect with {{@link Client.connect}}.\n */",
        comment_safe(&model.info.title),
        comment_safe(&model.info.version)
    );
    out.push_str(CLIENT_CONNECT);
    for event in &model.events {
        out.push('\n');
        client_method(model, event, &methods[&event.name], out);
    }
    out.push_str("}\n");
}

fn client_method(model: &Model, event: &EventModel, method: &str, out: &mut String) {
    let mut doc = paragraph(event.description.as_deref());
    let replies: Vec<&str> = event
        .emits
        .iter()
        .map(|&i| model.server_events[i].name.as_str())
        .collect();
    match replies.as_slice() {
        [] => doc.push(format!(
            "Sends `{}`; resolves once it is sent (the spec declares no reply).\nAn error about it arrives as an `__error__` event.",
            event.name
        )),
        [one] => doc.push(format!(
            "Sends `{}` and resolves with its `{one}` reply.",
            event.name
        )),
        several => doc.push(format!(
            "Sends `{}` and resolves with its first reply, one of {} (see `event`).",
            event.name,
            several
                .iter()
                .map(|r| format!("`{r}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
    for broadcast in &event.broadcasts {
        let message = &model.server_events[broadcast.message];
        let room = model
            .rooms
            .get(broadcast.room)
            .map(|r| r.pattern.as_str())
            .unwrap_or("?");
        doc.push(format!(
            "Broadcasts `{}` to `{room}`: receive it with `on({})`.",
            message.name,
            string_literal(&message.name)
        ));
    }
    if method != event.name.to_lower_camel_case() {
        doc.push(format!(
            "(Named `{method}` because `{}` is taken by the client itself.)",
            event.name.to_lower_camel_case()
        ));
    }
    doc.push(String::new());
    if replies.is_empty() {
        doc.push(
            "@throws {SocketspecError} `DISCONNECTED` when the connection is not open.".to_owned(),
        );
    } else {
        doc.push("@throws {SocketspecError} the server's error about this request (e.g. `VALIDATION_ERROR`),".to_owned());
        doc.push(
            "`TIMEOUT` when no reply comes in time, `DISCONNECTED` when the connection drops."
                .to_owned(),
        );
    }
    if event.deprecated {
        doc.push("@deprecated This event is deprecated in the spec.".to_owned());
    }
    out.push_str(&doc_comment(&doc, 1));
    let default = if accepts_empty(model, &event.payload) {
        " = {}"
    } else {
        ""
    };
    let name = string_literal(&event.name);
    let reply_names = replies
        .iter()
        .map(|r| string_literal(r))
        .collect::<Vec<_>>()
        .join(", ");
    match event.emits.as_slice() {
        [] => {
            let _ = writeln!(
                out,
                "  {method}(payload: {}{default}): Promise<void> {{\n    return this._send({name}, payload);\n  }}",
                event.type_name
            );
        }
        [one] => {
            let reply = &model.server_events[*one].type_name;
            let _ = writeln!(
                out,
                "  {method}(payload: {}{default}, options?: RequestOptions): Promise<{reply}> {{\n    \
                 return this._call({name}, payload, [{reply_names}], options).then(\n      \
                 (reply) => reply.payload as {reply},\n    );\n  }}",
                event.type_name
            );
        }
        _ => {
            let alias = reply_alias(event);
            let _ = writeln!(
                out,
                "  {method}(payload: {}{default}, options?: RequestOptions): Promise<{alias}> {{\n    \
                 return this._call({name}, payload, [{reply_names}], options).then(\n      \
                 (reply) => reply as {alias},\n    );\n  }}",
                event.type_name
            );
        }
    }
}

// ---------------------------------------------------------------------------
// The fixed parts
// ---------------------------------------------------------------------------

/// Errors, system payloads, options and the WebSocket shape: the same for
/// every spec.
const PRELUDE: &str = r##"
// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/** The error codes a socketspec server sends in an `__error__` envelope. */
export type ErrorCode =
  | "AUTH_ERROR"
  | "AUTH_EXPIRED"
  | "HANDLER_ERROR"
  | "IDLE_TIMEOUT"
  | "PAYLOAD_TOO_LARGE"
  | "PERMISSION_ERROR"
  | "RATE_LIMIT_ERROR"
  | "ROOM_NOT_FOUND"
  | "SESSION_EXPIRED"
  | "UNKNOWN_EVENT"
  | "VALIDATION_ERROR";

/** Every {@link ErrorCode}, in alphabetical order. */
export const ERROR_CODES: readonly ErrorCode[] = [
  "AUTH_ERROR",
  "AUTH_EXPIRED",
  "HANDLER_ERROR",
  "IDLE_TIMEOUT",
  "PAYLOAD_TOO_LARGE",
  "PERMISSION_ERROR",
  "RATE_LIMIT_ERROR",
  "ROOM_NOT_FOUND",
  "SESSION_EXPIRED",
  "UNKNOWN_EVENT",
  "VALIDATION_ERROR",
];

/**
 * Failures the client detects itself; no server sends these codes.
 * - `TIMEOUT`: no reply within the request timeout.
 * - `DISCONNECTED`: the connection is not open, or closed before the reply came.
 * - `CONNECT_FAILED`: the connection could not be opened.
 */
export type ClientErrorCode = "TIMEOUT" | "DISCONNECTED" | "CONNECT_FAILED";

/** The payload of `__error__`: the protocol's error envelope. */
export interface ErrorPayload {
  /** What went wrong. */
  code: ErrorCode;
  /** The event that caused it, or `null` when unknown. */
  event: string | null;
  /** A human-readable explanation. */
  message: string;
  /** The `id` of the request that caused it; a fresh UUID when it had none. */
  request_id: string;
  /**
   * Per code: `errors` (VALIDATION_ERROR: one `{path, message}` per violation),
   * `room` (PERMISSION_ERROR, ROOM_NOT_FOUND: the full room name),
   * `retry_after` (RATE_LIMIT_ERROR, seconds), `limit` and `size`
   * (PAYLOAD_TOO_LARGE, bytes).
   */
  details: Record<string, unknown>;
}

/** The optional parts of a {@link SocketspecError}. */
export interface SocketspecErrorInit {
  /** The event that caused it. */
  event?: string | null;
  /** The request's `id`. */
  requestId?: string | null;
  /** The envelope's `details`. */
  details?: Record<string, unknown>;
}

/**
 * Why a request failed: the `__error__` the server sent about it, or a
 * failure the client detected (`TIMEOUT`, `DISCONNECTED`, `CONNECT_FAILED`).
 */
export class SocketspecError extends Error {
  /** The server's error code, or a {@link ClientErrorCode}. */
  readonly code: ErrorCode | ClientErrorCode;
  /** The event that caused it, or `null`. */
  readonly event: string | null;
  /** The request's `id` (the server's `request_id`), or `null`. */
  readonly requestId: string | null;
  /** The envelope's `details`; empty for failures the client detected. */
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode | ClientErrorCode, message: string, init: SocketspecErrorInit = {}) {
    super(message);
    // Keeps `instanceof SocketspecError` working when compiled to ES5.
    Object.setPrototypeOf(this, new.target.prototype);
    this.name = "SocketspecError";
    this.code = code;
    this.event = init.event ?? null;
    this.requestId = init.requestId ?? null;
    this.details = init.details ?? {};
  }

  /** The error an `__error__` payload describes. */
  static fromPayload(payload: ErrorPayload): SocketspecError {
    return new SocketspecError(payload.code, `${payload.code}: ${payload.message}`, {
      event: payload.event,
      requestId: payload.request_id,
      details: payload.details,
    });
  }

  /** Whether the server reported this error (rather than the client). */
  get fromServer(): boolean {
    return (ERROR_CODES as readonly string[]).includes(this.code);
  }
}

// ---------------------------------------------------------------------------
// System events
// ---------------------------------------------------------------------------

/** The payload of `__connect__`: the connection's id and the server's limits. */
export interface ConnectPayload {
  /** The server's id for this connection. */
  connection_id: string;
  /** Seconds between `__ping__`s (0: off). */
  heartbeat_interval: number;
  /** Seconds the server waits for `__pong__` (answered automatically). */
  heartbeat_timeout: number;
  /** Seconds without an application event before the server closes (0: off). */
  idle_timeout: number;
  /** Maximum seconds a connection may last (0: off). */
  max_duration: number;
  /** Largest message the server accepts, in bytes. */
  max_payload_size: number;
}

/** The payload of `__disconnect__`. */
export interface DisconnectPayload {
  /** Why the server closes the connection. */
  reason: string;
}

/** The payload of `__ping__` (empty). */
export type PingPayload = Record<string, never>;

/** The payload of `__auth_expiring__`, `__session_expiring__` and `__idle_warning__`. */
export interface ExpiringPayload {
  /** Seconds left. */
  expires_in: number;
}

/** The payload of `__server_shutdown__`. */
export interface ServerShutdownPayload {
  /** Seconds in-flight requests have left before every connection closes. */
  grace: number;
}

/** The server's answer to `refreshAuth`. */
export interface RefreshAuthReply {
  /** Seconds until the new credential expires; `null` when it never does. */
  expires_in: number | null;
}

// ---------------------------------------------------------------------------
// Transport and options
// ---------------------------------------------------------------------------

/**
 * The part of a WebSocket the client uses. The browser's `WebSocket`, Node's
 * global one and the `ws` package's all fit.
 */
export interface WebSocketLike {
  /** 1 while open. */
  readonly readyState: number;
  /** Sends one text frame. */
  send(data: string): void;
  /** Starts the closing handshake. */
  close(code?: number, reason?: string): void;
}

/** A WebSocket constructor, such as `globalThis.WebSocket` or `ws`'s. */
export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** One message on the wire. */
export interface Envelope {
  /** The event name. */
  event: string;
  /** The payload (`{}` when the message had none). */
  payload: unknown;
  /** The correlation id, on replies to a request. */
  id?: string;
}

/** When and how to reconnect after the connection drops. */
export interface ReconnectOptions {
  /** Reconnect at all (default: false). */
  enabled?: boolean;
  /** The first delay, doubled after each failed attempt (default: 500 ms). */
  initialDelayMs?: number;
  /** The longest delay between attempts (default: 10000 ms). */
  maxDelayMs?: number;
  /** Give up after this many failed attempts in a row (default: never). */
  maxAttempts?: number;
}

/** Options of {@link Client.connect}. */
export interface ClientOptions {
  /** A JWT, sent as `?token=`. `refreshAuth` replaces it for reconnects. */
  token?: string;
  /** An API key, sent as `?api_key=`. */
  apiKey?: string;
  /** How long a request waits for its reply (default: 10000 ms; 0: forever). */
  requestTimeoutMs?: number;
  /** How long opening a connection may take, up to `__connect__` (default: 10000 ms). */
  connectTimeoutMs?: number;
  /**
   * Reconnect with exponential backoff when the connection drops (not after
   * `close()`, an auth failure (4001) or the idle timeout (4002)). Requests
   * pending at the drop are rejected with `DISCONNECTED`; rooms are not
   * rejoined by themselves: do it in an `on("__connect__", ...)` listener.
   */
  reconnect?: ReconnectOptions;
  /** The WebSocket constructor (default: `globalThis.WebSocket`). */
  WebSocket?: WebSocketConstructor;
}

/** Options of one request. */
export interface RequestOptions {
  /** Overrides {@link ClientOptions.requestTimeoutMs} (0: wait forever). */
  timeoutMs?: number;
}

/** Where the client's connection stands. */
export type ConnectionState = "connecting" | "open" | "reconnecting" | "closed";

/** A change of {@link ConnectionState}, with the close that caused it. */
export interface StateChange {
  /** The new state. */
  state: ConnectionState;
  /** The WebSocket close code, when a close caused the change. */
  code?: number;
  /** The close reason, when a close caused the change. */
  reason?: string;
}

"##;

/// The protocol machinery every generated `Client` extends.
const CLIENT_BASE: &str = r##"// ---------------------------------------------------------------------------
// The protocol machinery
// ---------------------------------------------------------------------------

/** The globals the client uses, typed here so it needs no DOM or Node types. */
interface Globals {
  WebSocket?: WebSocketConstructor;
  TextDecoder?: new () => { decode(input: ArrayBuffer | ArrayBufferView): string };
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const globals = globalThis as unknown as Globals;

/** The event-handler properties the client sets on its socket. */
interface SocketHandlers {
  binaryType?: string;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

/** A request waiting for its reply. */
interface PendingRequest {
  readonly event: string;
  /** The reply events that settle it; `null`: any reply. */
  readonly replies: readonly string[] | null;
  readonly resolve: (reply: Envelope) => void;
  readonly reject: (error: SocketspecError) => void;
  readonly timer: unknown;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 10000;
const DEFAULT_CONNECT_TIMEOUT_MS = 10000;
const OPEN = 1;
/** Close codes after which reconnecting would not help: auth, idle timeout. */
const FINAL_CLOSE_CODES: readonly number[] = [4001, 4002];

/** Parses one frame into an envelope; `null` for anything else. */
function decodeEnvelope(data: unknown): Envelope | null {
  let text: string;
  if (typeof data === "string") {
    text = data;
  } else if (globals.TextDecoder && (data instanceof ArrayBuffer || ArrayBuffer.isView(data))) {
    text = new globals.TextDecoder().decode(data);
  } else {
    return null;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return null;
  }
  const record = value as Record<string, unknown>;
  const event = record["event"];
  if (typeof event !== "string") {
    return null;
  }
  const payload = record["payload"] ?? {};
  const id = record["id"];
  return typeof id === "string" ? { event, payload, id } : { event, payload };
}

/** The error an `__error__` payload describes, tolerating a malformed one. */
function errorFrom(payload: unknown): SocketspecError {
  const p = (typeof payload === "object" && payload !== null ? payload : {}) as Record<string, unknown>;
  const code = typeof p["code"] === "string" ? (p["code"] as ErrorCode) : "HANDLER_ERROR";
  const details = p["details"];
  return SocketspecError.fromPayload({
    code,
    event: typeof p["event"] === "string" ? p["event"] : null,
    message: typeof p["message"] === "string" ? p["message"] : "(no message)",
    request_id: typeof p["request_id"] === "string" ? p["request_id"] : "",
    details:
      typeof details === "object" && details !== null ? (details as Record<string, unknown>) : {},
  });
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** `url` with `key=value` added to its query string. */
function withQuery(url: string, key: string, value: string): string {
  const hash = url.indexOf("#");
  const base = hash < 0 ? url : url.slice(0, hash);
  const fragment = hash < 0 ? "" : url.slice(hash);
  const separator = base.includes("?") ? "&" : "?";
  return `${base}${separator}${key}=${encodeURIComponent(value)}${fragment}`;
}

/**
 * The wire protocol, independent of the spec: connecting, `id` correlation,
 * timeouts, listeners, heartbeats, `__refresh_auth__`, closing and
 * reconnecting. {@link Client} adds one typed method per event.
 */
export class ClientBase {
  private readonly _url: string;
  private readonly _options: ClientOptions;
  private readonly _WebSocket: WebSocketConstructor;
  private _token: string | undefined;
  private _socket: WebSocketLike | null = null;
  private _state: ConnectionState = "connecting";
  private _connectInfo: ConnectPayload | null = null;
  private _closing = false;
  private _attempts = 0;
  private _reconnectTimer: unknown = null;
  private _closeWaiters: Array<() => void> = [];
  /** Messages held back until `connect()`'s caller could add listeners. */
  private _held: Envelope[] | null = null;
  private readonly _pending = new Map<string, PendingRequest>();
  private readonly _listeners = new Map<string, Set<(payload: unknown) => void>>();
  private readonly _stateListeners = new Set<(change: StateChange) => void>();
  private readonly _idPrefix = `ts-${Math.random().toString(36).slice(2, 10)}-`;
  private _nextId = 0;

  protected constructor(url: string, options: ClientOptions) {
    const WebSocketImpl = options.WebSocket ?? globals.WebSocket;
    if (!WebSocketImpl) {
      throw new SocketspecError(
        "CONNECT_FAILED",
        "no WebSocket implementation: pass one as the `WebSocket` option (e.g. the `ws` package's), " +
          "or run Node 20 with --experimental-websocket",
      );
    }
    this._url = url;
    this._options = options;
    this._WebSocket = WebSocketImpl;
    this._token = options.token;
  }

  /** Where the connection stands. */
  get state(): ConnectionState {
    return this._state;
  }

  /** The `__connect__` payload of the current (or last) connection. */
  get connectInfo(): ConnectPayload | null {
    return this._connectInfo;
  }

  /** The server's id for the current (or last) connection. */
  get connectionId(): string | null {
    return this._connectInfo?.connection_id ?? null;
  }

  /**
   * Calls `listener` with the payload of every `event` the server sends,
   * except replies and errors that settle a pending request (those go to
   * the request's promise). Returns a function that removes the listener.
   */
  on<E extends keyof ServerEvents>(event: E, listener: (payload: ServerEvents[E]) => void): () => void {
    const name = event as string;
    let set = this._listeners.get(name);
    if (!set) {
      set = new Set();
      this._listeners.set(name, set);
    }
    set.add(listener as (payload: unknown) => void);
    return () => this.off(event, listener);
  }

  /** Removes a listener added with {@link ClientBase.on}. */
  off<E extends keyof ServerEvents>(event: E, listener: (payload: ServerEvents[E]) => void): void {
    this._listeners.get(event as string)?.delete(listener as (payload: unknown) => void);
  }

  /**
   * Resolves with the payload of the next `event`; rejects with `TIMEOUT`
   * after `options.timeoutMs` (default: the request timeout; 0: never).
   */
  once<E extends keyof ServerEvents>(event: E, options: RequestOptions = {}): Promise<ServerEvents[E]> {
    return new Promise<ServerEvents[E]>((resolve, reject) => {
      const timeoutMs = options.timeoutMs ?? this._requestTimeoutMs();
      let timer: unknown = null;
      const remove = this.on(event, (payload) => {
        remove();
        if (timer !== null) {
          globals.clearTimeout(timer);
        }
        resolve(payload);
      });
      if (timeoutMs > 0) {
        timer = globals.setTimeout(() => {
          remove();
          reject(new SocketspecError("TIMEOUT", `no \`${String(event)}\` within ${timeoutMs} ms`));
        }, timeoutMs);
      }
    });
  }

  /** Calls `listener` whenever the {@link ConnectionState} changes. Returns a remover. */
  onStateChange(listener: (change: StateChange) => void): () => void {
    this._stateListeners.add(listener);
    return () => {
      this._stateListeners.delete(listener);
    };
  }

  /**
   * Sends any event with a fresh `id`, untyped, and resolves with the first
   * message the server sends with that `id`; rejects with a
   * {@link SocketspecError} on a correlated `__error__`, a timeout or a
   * disconnect. Prefer the typed methods of {@link Client}.
   */
  request(event: string, payload: unknown = {}, options?: RequestOptions): Promise<Envelope> {
    return this._call(event, payload, null, options);
  }

  /**
   * Sends any event without an `id` (fire and forget), untyped. An error
   * about it reaches the `__error__` listeners.
   *
   * @throws {SocketspecError} `DISCONNECTED` when the connection is not open.
   */
  emit(event: string, payload: unknown = {}): void {
    this._transmit({ event, payload });
  }

  /**
   * Offers a new credential (`__refresh_auth__`) and resolves with its expiry;
   * later reconnects use it. Rejects with `AUTH_ERROR` when the server
   * refuses it (the old credential then stays in force until it expires).
   */
  async refreshAuth(token: string, options?: RequestOptions): Promise<RefreshAuthReply> {
    const reply = await this._call("__refresh_auth__", { token }, ["__refresh_auth__"], options);
    this._token = token;
    return reply.payload as RefreshAuthReply;
  }

  /**
   * Closes the connection for good (no reconnect) and rejects pending
   * requests with `DISCONNECTED`. Resolves once the socket has closed.
   * Browsers accept only the codes 1000 and 3000-4999.
   */
  close(code = 1000, reason = ""): Promise<void> {
    this._closing = true;
    if (this._reconnectTimer !== null) {
      globals.clearTimeout(this._reconnectTimer);
      this._reconnectTimer = null;
    }
    this._rejectPending("the client closed the connection");
    const socket = this._socket;
    if (!socket) {
      this._setState({ state: "closed", code, reason });
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const fallback = globals.setTimeout(() => this._disconnected(socket, code, reason), 3000);
      this._closeWaiters.push(() => {
        globals.clearTimeout(fallback);
        resolve();
      });
      try {
        socket.close(code, reason);
      } catch {
        this._disconnected(socket, code, reason);
      }
    });
  }

  /** Opens the first connection; `Client.connect` awaits it. */
  protected async _start(): Promise<void> {
    try {
      await this._open();
    } catch (error) {
      this._setState({ state: "closed" });
      throw error;
    }
  }

  /**
   * Sends `event` with a fresh `id` and resolves with the first correlated
   * message among `replies` (any, for `null`); rejects on a correlated
   * `__error__`, on timeout and on disconnect.
   */
  protected _call(
    event: string,
    payload: unknown,
    replies: readonly string[] | null,
    options?: RequestOptions,
  ): Promise<Envelope> {
    return new Promise<Envelope>((resolve, reject) => {
      const id = this._newId();
      const timeoutMs = options?.timeoutMs ?? this._requestTimeoutMs();
      const timer =
        timeoutMs > 0
          ? globals.setTimeout(() => {
              this._pending.delete(id);
              reject(
                new SocketspecError("TIMEOUT", `no reply to \`${event}\` within ${timeoutMs} ms`, {
                  event,
                  requestId: id,
                }),
              );
            }, timeoutMs)
          : null;
      this._pending.set(id, { event, replies, resolve, reject, timer });
      try {
        this._transmit({ event, payload, id });
      } catch (error) {
        this._settle(id)?.reject(
          error instanceof SocketspecError
            ? error
            : new SocketspecError("DISCONNECTED", describe(error), { event, requestId: id }),
        );
      }
    });
  }

  /** Sends `event` with a fresh `id`; resolves once sent. */
  protected _send(event: string, payload: unknown): Promise<void> {
    try {
      this._transmit({ event, payload, id: this._newId() });
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
  }

  private _newId(): string {
    this._nextId += 1;
    return `${this._idPrefix}${this._nextId}`;
  }

  private _requestTimeoutMs(): number {
    return this._options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  }

  private _transmit(envelope: Envelope): void {
    const socket = this._socket;
    if (!socket || this._state !== "open" || socket.readyState !== OPEN) {
      throw new SocketspecError(
        "DISCONNECTED",
        `cannot send \`${envelope.event}\`: the connection is ${this._state}`,
        { event: envelope.event, requestId: envelope.id ?? null },
      );
    }
    const payload = envelope.payload ?? {};
    const message =
      envelope.id === undefined ? { event: envelope.event, payload } : { ...envelope, payload };
    socket.send(JSON.stringify(message));
  }

  /** Removes a pending request and stops its timer. */
  private _settle(id: string): PendingRequest | undefined {
    const pending = this._pending.get(id);
    if (pending) {
      this._pending.delete(id);
      if (pending.timer !== null) {
        globals.clearTimeout(pending.timer);
      }
    }
    return pending;
  }

  private _rejectPending(why: string): void {
    for (const id of Array.from(this._pending.keys())) {
      const pending = this._settle(id);
      pending?.reject(new SocketspecError("DISCONNECTED", `\`${pending.event}\` got no reply: ${why}`, {
        event: pending.event,
        requestId: id,
      }));
    }
  }

  private _connectUrl(): string {
    let url = this._url;
    if (this._token !== undefined) {
      url = withQuery(url, "token", this._token);
    }
    if (this._options.apiKey !== undefined) {
      url = withQuery(url, "api_key", this._options.apiKey);
    }
    return url;
  }

  /** One connection attempt: resolves on `__connect__`. */
  private _open(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      let connected = false;
      let socket: WebSocketLike;
      try {
        socket = new this._WebSocket(this._connectUrl());
      } catch (error) {
        reject(new SocketspecError("CONNECT_FAILED", `cannot open ${this._url}: ${describe(error)}`));
        return;
      }
      const fail = (error: SocketspecError) => {
        if (!settled) {
          settled = true;
          globals.clearTimeout(timer);
          reject(error);
        }
      };
      const connectTimeoutMs = this._options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
      const timer = globals.setTimeout(() => {
        const why = `no \`__connect__\` from ${this._url} within ${connectTimeoutMs} ms`;
        fail(new SocketspecError("CONNECT_FAILED", why));
        try {
          socket.close();
        } catch {
          // Already closing.
        }
      }, connectTimeoutMs);
      const handlers = socket as unknown as SocketHandlers;
      try {
        handlers.binaryType = "arraybuffer";
      } catch {
        // Not supported: binary frames then stay undecoded and are dropped.
      }
      handlers.onmessage = (event) => {
        const message = decodeEnvelope(event.data);
        if (!message) {
          return;
        }
        if (connected) {
          this._dispatch(message);
        } else if (message.event === "__connect__") {
          connected = true;
          settled = true;
          globals.clearTimeout(timer);
          if (this._closing) {
            socket.close(1000, "");
            reject(new SocketspecError("DISCONNECTED", "the client was closed while connecting"));
            return;
          }
          this._socket = socket;
          this._connectInfo = message.payload as ConnectPayload;
          this._attempts = 0;
          this._setState({ state: "open" });
          // Messages right behind `__connect__` (a warning, a broadcast) wait
          // one task, so code after `await Client.connect(...)` can listen first.
          this._held = [];
          resolve();
          this._deliver("__connect__", message.payload);
          globals.setTimeout(() => this._releaseHeld(), 0);
        } else if (message.event === "__error__") {
          fail(errorFrom(message.payload));
        }
      };
      handlers.onclose = (event) => {
        if (connected) {
          this._disconnected(socket, event.code, event.reason);
        } else {
          const code = event.code === 4001 ? "AUTH_ERROR" : "CONNECT_FAILED";
          const reason = event.reason ? `: ${event.reason}` : "";
          const why = `the connection to ${this._url} closed before \`__connect__\``;
          fail(new SocketspecError(code, `${why} (code ${event.code}${reason})`));
        }
      };
      handlers.onerror = () => {
        // A close event follows and reports the failure.
      };
    });
  }

  private _releaseHeld(): void {
    const held = this._held ?? [];
    this._held = null;
    for (const message of held) {
      this._dispatch(message);
    }
  }

  /** Routes one message of an open connection. */
  private _dispatch(message: Envelope): void {
    if (this._held !== null) {
      this._held.push(message);
      return;
    }
    if (message.event === "__ping__") {
      try {
        this._transmit({ event: "__pong__", payload: {} });
      } catch {
        // The connection is going away; nothing to answer.
      }
    }
    if (message.id !== undefined) {
      const pending = this._pending.get(message.id);
      if (pending && message.event === "__error__") {
        this._settle(message.id);
        pending.reject(errorFrom(message.payload));
        return;
      }
      if (pending && (pending.replies === null || pending.replies.includes(message.event))) {
        this._settle(message.id);
        pending.resolve(message);
        return;
      }
    }
    this._deliver(message.event, message.payload);
  }

  /** Calls the listeners of `event`; a listener that throws does not stop the others. */
  private _deliver(event: string, payload: unknown): void {
    const set = this._listeners.get(event);
    if (!set) {
      return;
    }
    for (const listener of Array.from(set)) {
      try {
        listener(payload);
      } catch (error) {
        // Reported like an exception in any event handler, without breaking the client.
        globals.setTimeout(() => {
          throw error;
        }, 0);
      }
    }
  }

  private _setState(change: StateChange): void {
    if (this._state === change.state) {
      return;
    }
    this._state = change.state;
    for (const listener of Array.from(this._stateListeners)) {
      try {
        listener(change);
      } catch (error) {
        globals.setTimeout(() => {
          throw error;
        }, 0);
      }
    }
  }

  /** The open connection `socket` closed (or `close()` gave up waiting). */
  private _disconnected(socket: WebSocketLike, code: number, reason: string): void {
    if (this._socket !== socket) {
      return;
    }
    this._socket = null;
    const handlers = socket as unknown as SocketHandlers;
    handlers.onmessage = null;
    handlers.onclose = null;
    this._rejectPending(`the connection closed (code ${code}${reason ? `: ${reason}` : ""})`);
    const reconnect = this._options.reconnect;
    if (!this._closing && reconnect?.enabled && !FINAL_CLOSE_CODES.includes(code)) {
      this._scheduleReconnect({ state: "reconnecting", code, reason });
    } else {
      this._setState({ state: "closed", code, reason });
    }
    const waiters = this._closeWaiters;
    this._closeWaiters = [];
    for (const waiter of waiters) {
      waiter();
    }
  }

  private _scheduleReconnect(change: StateChange): void {
    const options = this._options.reconnect ?? {};
    if (options.maxAttempts !== undefined && this._attempts >= options.maxAttempts) {
      this._setState({ ...change, state: "closed" });
      return;
    }
    this._setState(change);
    const initial = options.initialDelayMs ?? 500;
    const max = options.maxDelayMs ?? 10000;
    const base = Math.min(max, initial * 2 ** this._attempts);
    // Jitter (75-100% of the delay) keeps many clients from reconnecting in step.
    const delay = base * (0.75 + Math.random() * 0.25);
    this._attempts += 1;
    this._reconnectTimer = globals.setTimeout(() => {
      this._reconnectTimer = null;
      if (this._closing) {
        return;
      }
      this._open().catch((error: unknown) => {
        if (this._closing) {
          return;
        }
        if (error instanceof SocketspecError && error.code === "AUTH_ERROR") {
          this._setState({ state: "closed", code: 4001, reason: error.message });
          return;
        }
        this._scheduleReconnect({ state: "reconnecting" });
      });
    }, delay);
  }
}

"##;

/// The start of `class Client`: `connect`.
const CLIENT_CONNECT: &str = r##"export class Client extends ClientBase {
  /**
   * Opens a connection and resolves once the server's `__connect__` arrived.
   *
   * @throws {SocketspecError} `AUTH_ERROR` when the server refuses the
   * credentials, `CONNECT_FAILED` when the connection cannot be opened.
   */
  static async connect(url: string, options: ClientOptions = {}): Promise<Client> {
    const client = new Client(url, options);
    await client._start();
    return client;
  }
"##;

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn chat() -> Model {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/chat.json");
        crate::check(&path).unwrap()
    }

    fn spec_with(events: Value, defs: Value) -> Model {
        let spec = json!({
            "socketspec": "1",
            "info": {"title": "T", "version": "1"},
            "$defs": defs,
            "rooms": {"r:{id}": {}},
            "events": events,
        });
        // The model alone: `check_str` runs this emitter too, and some
        // tests here expect it to refuse the spec.
        let file = std::path::Path::new("t.json");
        Model::build(&crate::load::parse(file, &spec.to_string()).unwrap(), file).unwrap()
    }

    #[test]
    fn the_chat_spec_renders_its_interfaces() {
        let ts = render(&chat()).unwrap();
        for expected in [
            "// Generated by socketspec-codegen from chat.json (Chat 1.0.0).",
            "export type Room = string;",
            "export interface SendMessage {\n",
            "  room: Room;\n",
            "  /**\n   * The message, 1-2000 characters.\n   * @minLength 1\n   * @maxLength 2000\n   */\n  text: string;\n",
            "export interface MessageAck {\n  status: \"ok\";\n  message_id: string;\n}",
            "  user_id: string | null;\n",
            "  rooms: string[];\n",
            "  mode?: \"error\" | \"panic\";\n",
            "export type Whoami = Record<string, unknown>;",
            "export interface NewMessage {\n",
            "  new_message: NewMessage;\n",
            "  user_joined: UserJoined;\n",
            "export class SocketspecError extends Error {",
            "export class Client extends ClientBase {",
            "  sendMessage(payload: SendMessage, options?: RequestOptions): Promise<MessageAck> {\n    return this._call(\"send_message\", payload, [\"message_ack\"], options)",
            "  joinRoom(payload: JoinRoom, options?: RequestOptions): Promise<RoomJoined> {",
            "  slowEcho(payload: SlowEcho, options?: RequestOptions): Promise<EchoReply> {",
            "  whoami(payload: Whoami = {}, options?: RequestOptions): Promise<Identity> {",
            "  fail(payload: Fail = {}): Promise<void> {\n    return this._send(\"fail\", payload);",
            "Broadcasts `new_message` to `chat:{room}`: receive it with `on(\"new_message\")`.",
            "/**\n * A room's bare name: 1-64 letters, digits, `_` or `-`.\n * @pattern ^[A-Za-z0-9_-]{1,64}$\n */\nexport type Room = string;",
        ] {
            assert!(ts.contains(expected), "missing {expected:?} in:\n{ts}");
        }
        // The two emits of `room_joined` share one interface.
        assert_eq!(ts.matches("export interface RoomJoined {").count(), 1);
    }

    #[test]
    fn every_error_code_and_system_event_is_typed() {
        let ts = render(&chat()).unwrap();
        for code in [
            "AUTH_ERROR",
            "AUTH_EXPIRED",
            "HANDLER_ERROR",
            "IDLE_TIMEOUT",
            "PAYLOAD_TOO_LARGE",
            "PERMISSION_ERROR",
            "RATE_LIMIT_ERROR",
            "ROOM_NOT_FOUND",
            "SESSION_EXPIRED",
            "UNKNOWN_EVENT",
            "VALIDATION_ERROR",
        ] {
            assert!(
                ts.contains(&format!("  | \"{code}\"")),
                "{code} missing from ErrorCode"
            );
        }
        for (name, payload) in [
            ("__connect__", "ConnectPayload"),
            ("__disconnect__", "DisconnectPayload"),
            ("__ping__", "PingPayload"),
            ("__auth_expiring__", "ExpiringPayload"),
            ("__session_expiring__", "ExpiringPayload"),
            ("__idle_warning__", "ExpiringPayload"),
            ("__server_shutdown__", "ServerShutdownPayload"),
            ("__error__", "ErrorPayload"),
        ] {
            assert!(
                ts.contains(&format!("  {name}: {payload};\n")),
                "{name} missing from SystemEvents"
            );
        }
        for client_side in ["__pong__", "__refresh_auth__"] {
            assert!(
                !ts.contains(&format!("  {client_side}: ")),
                "{client_side} is not a server event"
            );
        }
    }

    #[test]
    fn output_is_deterministic_and_balanced() {
        let model = chat();
        let first = render(&model).unwrap();
        assert_eq!(first, render(&model).unwrap());
        for (open, close) in [('{', '}'), ('(', ')'), ('[', ']')] {
            assert_eq!(
                first.matches(open).count(),
                first.matches(close).count(),
                "unbalanced {open}{close}"
            );
        }
        assert!(!first.contains('\t'));
        assert!(
            first.lines().all(|l| l == l.trim_end()),
            "trailing whitespace"
        );
    }

    #[test]
    fn schemas_become_typescript_types() {
        let schema = json!({
            "type": "object",
            "required": ["a", "first-name", "nested", "tags"],
            "properties": {
                "a": {"type": "integer", "minimum": 0},
                "first-name": {"type": "string"},
                "nested": {
                    "type": "object",
                    "required": ["x"],
                    "properties": {
                        "x": {"type": ["number", "null"], "description": "An x."},
                        "y": {"type": "array", "items": {"type": ["string", "integer"]}}
                    }
                },
                "tags": {"type": "array", "items": {"$ref": "#/$defs/Tag"}},
                "kind": {"oneOf": [{"const": 1}, {"type": "boolean"}]},
                "pair": {"type": "array", "prefixItems": [{"type": "string"}, {"type": "number"}], "items": false},
                "both": {"allOf": [{"$ref": "#/$defs/Tag"}, {"type": "object", "properties": {"z": {"type": "string"}}}]},
                "map": {"type": "object", "additionalProperties": {"type": "number"}},
                "any": {}
            }
        });
        let mut out = String::new();
        named_type(&mut out, "Thing", &schema, &["A thing.".to_owned()]);
        let expected = r#"/** A thing. */
export interface Thing {
  /**
   * @minimum 0
   * @integer
   */
  a: number;
  "first-name": string;
  nested: {
    /** An x. */
    x: number | null;
    y?: (string | number)[];
  };
  tags: Tag[];
  kind?: 1 | boolean;
  pair?: [string, number];
  both?: Tag & {
    z?: string;
  };
  map?: Record<string, number>;
  any?: unknown;
}

"#;
        assert_eq!(out, expected);
    }

    #[test]
    fn doc_comments_cannot_be_closed_by_a_description() {
        let doc = doc_comment(&["ends */ here".to_owned()], 0);
        assert_eq!(doc, "/** ends *\\/ here */\n");
    }

    #[test]
    fn several_emits_become_a_discriminated_union() {
        let model = spec_with(
            json!({
                "lookup": {
                    "payload": {"type": "object", "properties": {"key": {"type": "string"}}},
                    "emits": {
                        "found": {"payload": {"type": "object", "required": ["value"], "properties": {"value": {"type": "string"}}}},
                        "missing": {"payload": {"type": "object", "properties": {}}}
                    }
                }
            }),
            json!({}),
        );
        let ts = render(&model).unwrap();
        assert!(
            ts.contains(
                "export type LookupReply =\n  | { event: \"found\"; payload: Found }\n  | { event: \"missing\"; payload: Missing };"
            ),
            "{ts}"
        );
        assert!(ts.contains(
            "  lookup(payload: Lookup = {}, options?: RequestOptions): Promise<LookupReply> {\n    return this._call(\"lookup\", payload, [\"found\", \"missing\"], options)"
        ));
    }

    #[test]
    fn names_taken_by_the_client_are_avoided_or_reported() {
        let model = spec_with(
            json!({
                "close": {"payload": {"type": "object", "properties": {}}},
                "chat.send": {"payload": {"type": "object", "properties": {}}}
            }),
            json!({}),
        );
        let ts = render(&model).unwrap();
        assert!(
            ts.contains("  emitClose(payload: Close = {}): Promise<void> {"),
            "{ts}"
        );
        assert!(ts.contains("(Named `emitClose` because `close` is taken by the client itself.)"));
        assert!(ts.contains("  chatSend(payload: ChatSend = {}): Promise<void> {"));

        let model = spec_with(
            json!({"ping": {"payload": {"type": "object", "properties": {"c": {"$ref": "#/$defs/Client"}}}}}),
            json!({"Client": {"type": "string"}}),
        );
        let err = render(&model).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("at `$defs.Client`"), "{text}");
        assert!(
            text.contains("which the generated TypeScript client defines or uses itself"),
            "{text}"
        );
    }

    #[test]
    fn payloads_that_require_nothing_default_to_an_empty_object() {
        let chat = chat();
        let by_name = |n: &str| chat.events.iter().find(|e| e.name == n).unwrap();
        assert!(accepts_empty(&chat, &by_name("whoami").payload));
        assert!(accepts_empty(&chat, &by_name("fail").payload));
        assert!(!accepts_empty(&chat, &by_name("send_message").payload));
    }
}
