//! Step 3 of the pipeline: the validated model every emitter reads. Nothing
//! after this step looks at the spec file again.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use heck::ToSnakeCase;
use indexmap::IndexMap;
use serde_json::{Map, Value};

use crate::emit::example::PayloadExample;
use crate::error::{Error, SpecError, join_path};
use crate::push::{self, PushModel};
use crate::resolve::Resolver;
use crate::spec::{Info, Spec};
use crate::typing::TypePlan;
use crate::validate;
use crate::warning::SpecWarning;

/// A validated spec, what [`check`](crate::check) returns; its methods render each output.
#[derive(Debug, Clone)]
pub struct Model {
    /// The spec file.
    pub(crate) file: PathBuf,
    /// Other files its `$ref`s read.
    pub(crate) referenced_files: Vec<PathBuf>,
    /// `info`.
    pub(crate) info: Info,
    /// `namespace`.
    pub(crate) namespace: String,
    /// Every shared definition, `$ref`s resolved to `#/$defs/Name`.
    pub(crate) defs: IndexMap<String, Value>,
    /// Room patterns in file order.
    pub(crate) rooms: Vec<RoomModel>,
    /// Client -> server events in file order.
    pub(crate) events: Vec<EventModel>,
    /// Server -> client events (emits, broadcasts and pushes), each name once.
    pub(crate) server_events: Vec<ServerEventModel>,
    /// The events the server pushes on its own.
    pub(crate) pushes: Vec<PushModel>,
    /// The spec as JSON (served at `{docs_url}/spec.json`).
    pub(crate) spec_json: String,
    /// The Rust type of every payload schema.
    pub(crate) types: TypePlan,
    /// What the build should tell the spec's author (see [`SpecWarning`]).
    pub(crate) warnings: Vec<SpecWarning>,
}

/// A room pattern.
#[derive(Debug, Clone)]
pub struct RoomModel {
    /// The pattern text, e.g. `chat:{room}`.
    pub pattern: String,
    /// Its parameters in order.
    pub params: Vec<String>,
    /// The description.
    pub description: Option<String>,
    /// Exists even when empty.
    pub is_static: bool,
    /// Joins need the guard.
    pub guarded: bool,
    /// Member limit.
    pub max_members: Option<u32>,
    /// Snake-case name used for generated items, e.g. `chat` (`guard_chat`).
    pub ident: String,
}

/// A client -> server event.
#[derive(Debug, Clone)]
pub struct EventModel {
    /// The name on the wire.
    pub name: String,
    /// The handler method's name (`send_message`).
    pub method: String,
    /// The payload type's name (`SendMessage`).
    pub type_name: String,
    /// The description.
    pub description: Option<String>,
    /// Docs grouping.
    pub tags: Vec<String>,
    /// The resolved payload schema.
    pub payload: Value,
    /// Its example, found once when the model is built.
    pub example: PayloadExample,
    /// Indices into `server_events` of what it emits to the sender.
    pub emits: Vec<usize>,
    /// What it broadcasts.
    pub broadcasts: Vec<BroadcastModel>,
    /// Handled in order, one at a time, per connection.
    pub ordered: bool,
    /// A blocking handler run on the blocking pool.
    pub executor: bool,
    /// Deprecated.
    pub deprecated: bool,
}

/// One broadcast an event declares.
#[derive(Debug, Clone)]
pub struct BroadcastModel {
    /// Index into `server_events`.
    pub message: usize,
    /// Index into `rooms`.
    pub room: usize,
    /// Skip the sender.
    pub exclude_sender: bool,
    /// The broadcast's own description.
    pub description: Option<String>,
}

/// A server -> client event.
#[derive(Debug, Clone)]
pub struct ServerEventModel {
    /// The name on the wire.
    pub name: String,
    /// The payload type's name.
    pub type_name: String,
    /// What its typed methods are named after: `emit_<method>`,
    /// `broadcast_<method>` (`chat.new-message` -> `chat_new_message`),
    /// distinct among all server events.
    pub method: String,
    /// The description (the first one declared).
    pub description: Option<String>,
    /// The resolved payload schema.
    pub payload: Value,
    /// Its example, found once when the model is built.
    pub example: PayloadExample,
    /// Where it was first declared (`events.send.emits.ack`).
    pub path: String,
}

impl Model {
    /// Validates `spec` (read from `file`) and builds the model, reporting
    /// every mistake at once.
    pub(crate) fn build(spec: &Spec, file: &Path) -> Result<Model, Error> {
        let mut errors = Vec::new();
        if spec.socketspec != "1" {
            errors.push(SpecError::new(
                file,
                "socketspec",
                format!("unsupported format version `{}`", spec.socketspec),
                "set `\"socketspec\": \"1\"`",
            ));
        }
        let mut resolver = Resolver::new(file);
        resolver.add_local_defs(&spec.defs.0);
        let local_defs = spec.defs.0.clone();

        let rooms = build_rooms(spec, file, &mut errors);
        // Payloads whose `$ref`s did not resolve (already reported): checking
        // their schemas would only repeat the error in other words.
        let mut unresolved: HashSet<String> = HashSet::new();
        let mut server_events: Vec<ServerEventModel> = Vec::new();
        let mut server_origin: Vec<String> = Vec::new();
        let mut events = Vec::new();

        for (name, event) in &spec.events {
            let at = join_path("events", name);
            validate::event_name(file, &at, name, &mut errors);
            let payload = resolve_payload(
                &mut resolver,
                event.payload.as_ref(),
                file,
                &local_defs,
                &join_path(&at, "payload"),
                &mut unresolved,
            );
            let mut emits = Vec::new();
            for (msg_name, msg) in &event.emits {
                let msg_at = join_path(&join_path(&at, "emits"), msg_name);
                let schema = resolve_payload(
                    &mut resolver,
                    msg.payload.as_ref(),
                    file,
                    &local_defs,
                    &join_path(&msg_at, "payload"),
                    &mut unresolved,
                );
                if let Some(i) = server_event(
                    &mut server_events,
                    &mut server_origin,
                    file,
                    &msg_at,
                    msg_name,
                    msg.description.clone(),
                    schema,
                    &mut errors,
                ) {
                    emits.push(i);
                }
            }
            let mut broadcasts = Vec::new();
            for (msg_name, b) in &event.broadcasts {
                let b_at = join_path(&join_path(&at, "broadcasts"), msg_name);
                let schema = resolve_payload(
                    &mut resolver,
                    b.payload.as_ref(),
                    file,
                    &local_defs,
                    &join_path(&b_at, "payload"),
                    &mut unresolved,
                );
                let message = server_event(
                    &mut server_events,
                    &mut server_origin,
                    file,
                    &b_at,
                    msg_name,
                    b.description.clone(),
                    schema,
                    &mut errors,
                );
                let room = rooms.iter().position(|r| r.pattern == b.room);
                // A declared pattern missing from `rooms` was reported as invalid.
                if room.is_none() && spec.rooms.get(&b.room).is_none() {
                    let declared = rooms
                        .iter()
                        .map(|r| format!("`{}`", r.pattern))
                        .collect::<Vec<_>>()
                        .join(", ");
                    errors.push(SpecError::new(
                        file,
                        join_path(&b_at, "room"),
                        format!(
                            "broadcast to room pattern `{}`, which is not declared under `rooms`",
                            b.room
                        ),
                        if declared.is_empty() {
                            format!("declare it: \"rooms\": {{\"{}\": {{}}}}", b.room)
                        } else {
                            format!("declare it under `rooms`, or use one of {declared}")
                        },
                    ));
                }
                if let (Some(message), Some(room)) = (message, room) {
                    broadcasts.push(BroadcastModel {
                        message,
                        room,
                        exclude_sender: b.exclude_sender,
                        description: b.description.clone(),
                    });
                }
            }
            events.push(EventModel {
                name: name.clone(),
                // Both are assigned once every name is known.
                method: String::new(),
                type_name: String::new(),
                description: event.description.clone(),
                tags: event.tags.clone(),
                payload,
                // Found once every definition is known.
                example: PayloadExample::default(),
                emits,
                broadcasts,
                ordered: event.ordered,
                executor: event.executor,
                deprecated: event.deprecated,
            });
        }
        let pushes = {
            let cx = push::Context {
                file,
                spec,
                rooms: &rooms,
                local_defs: &local_defs,
            };
            let mut register = |at: &str,
                                name: &str,
                                description: Option<String>,
                                schema: Value,
                                errors: &mut Vec<SpecError>| {
                server_event(
                    &mut server_events,
                    &mut server_origin,
                    file,
                    at,
                    name,
                    description,
                    schema,
                    errors,
                )
            };
            push::build(
                &cx,
                &mut resolver,
                &mut unresolved,
                &mut register,
                &mut errors,
            )
        };
        errors.append(&mut resolver.errors);
        let defs = resolver.defs.clone();

        // Schemas are checked once every `$ref` is known.
        let broken = check_defs(file, &resolver, &defs, &mut errors);
        let compiles = |schema: &Value| {
            validate::direct_refs(schema)
                .iter()
                .all(|name| !broken.contains(name))
        };
        for event in &events {
            let at = join_path(&join_path("events", &event.name), "payload");
            if unresolved.contains(&at) {
                continue;
            }
            let compile = compiles(&event.payload);
            validate::payload_schema(file, &at, &event.payload, &defs, compile, &mut errors);
        }
        for (msg, origin) in server_events.iter().zip(&server_origin) {
            let at = join_path(origin, "payload");
            if unresolved.contains(&at) {
                continue;
            }
            let compile = compiles(&msg.payload);
            validate::payload_schema(file, &at, &msg.payload, &defs, compile, &mut errors);
        }
        if errors.is_empty() {
            let payloads: Vec<(String, &Value)> = events
                .iter()
                .map(|e| {
                    (
                        join_path(&join_path("events", &e.name), "payload"),
                        &e.payload,
                    )
                })
                .collect();
            crate::server_document::document_compiles(file, &defs, &payloads, &mut errors);
        }
        crate::naming::assign_names(&mut events, &mut server_events, &defs);

        if !errors.is_empty() {
            return Err(Error::Spec(errors));
        }
        let spec_json = serde_json::to_string_pretty(spec).map_err(|e| Error::Generate {
            file: file.to_owned(),
            message: e.to_string(),
        })?;
        let mut model = Model {
            file: file.to_owned(),
            referenced_files: resolver.files.clone(),
            info: spec.info.clone(),
            namespace: spec.namespace.clone(),
            defs,
            rooms,
            events,
            server_events,
            pushes,
            spec_json,
            types: TypePlan::default(),
            warnings: Vec::new(),
        };
        model.types = crate::typing::plan(&model);
        model.warnings = model.types.warnings.clone();
        crate::payload_examples::find(&mut model);
        model
            .warnings
            .extend(crate::payload_examples::unsatisfied(&model));
        Ok(model)
    }

    /// `schema` made self-contained: the shared `$defs` attached, for
    /// validators and documents that need a standalone schema.
    #[cfg(test)]
    pub(crate) fn standalone_schema(&self, schema: &Value) -> Value {
        with_defs(schema, &self.defs)
    }
}

/// `schema` with `defs` attached as its `$defs` (unchanged when there are
/// none, or when it is not an object). A schema with its own `$id` keeps
/// its own `$defs`: it goes under an `allOf` beside the shared ones.
pub(crate) fn with_defs(schema: &Value, defs: &IndexMap<String, Value>) -> Value {
    let attached: Map<String, Value> = defs.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    attach_defs(schema, attached)
}

/// `schema` with `defs` as the `$defs` of its document (see [`with_defs`]).
pub(crate) fn attach_defs(schema: &Value, defs: Map<String, Value>) -> Value {
    if defs.is_empty() || !schema.is_object() {
        return schema.clone();
    }
    if crate::schema::is_resource(schema) {
        return serde_json::json!({"allOf": [schema], "$defs": defs});
    }
    let mut full = schema.clone();
    if let Some(obj) = full.as_object_mut() {
        obj.insert("$defs".into(), Value::Object(defs));
    }
    full
}

/// Checks every shared definition's name and schema, each definition after
/// the ones it references, and returns the names of those that are broken
/// (reported, or reaching one that is), so nothing repeats their errors.
fn check_defs(
    file: &Path,
    resolver: &Resolver,
    defs: &IndexMap<String, Value>,
    errors: &mut Vec<SpecError>,
) -> HashSet<String> {
    let mut broken = resolver.broken.clone();
    let mut done: HashSet<String> = HashSet::new();
    // Where a definition was written: its own file for an imported one.
    let origin = |name: &str| {
        resolver
            .origin(name)
            .cloned()
            .unwrap_or_else(|| (file.to_owned(), join_path("$defs", name)))
    };
    for name in defs.keys() {
        let (origin_file, at) = origin(name);
        if !validate::def_name(&origin_file, &at, name, errors) {
            broken.insert(name.clone());
        }
    }
    broken.extend(validate::in_place_cycles(defs, origin, errors));
    // Depth-first, so a definition is checked after those it references.
    let mut stack: Vec<(String, bool)> = defs.keys().rev().map(|n| (n.clone(), false)).collect();
    while let Some((name, expanded)) = stack.pop() {
        if done.contains(&name) {
            continue;
        }
        let Some(schema) = defs.get(&name) else {
            continue;
        };
        let refs = validate::direct_refs(schema);
        if !expanded {
            stack.push((name.clone(), true));
            for r in refs.iter().rev() {
                if !done.contains(r)
                    && defs.contains_key(r)
                    && !stack.iter().any(|(n, e)| n == r && *e)
                {
                    stack.push((r.clone(), false));
                }
            }
            continue;
        }
        done.insert(name.clone());
        if broken.contains(&name) {
            continue;
        }
        let (origin_file, at) = origin(&name);
        let ok = refs.iter().all(|r| !broken.contains(r))
            && validate::schema_keywords(&origin_file, &at, schema, errors)
            && validate::schema_compiles(&origin_file, &at, schema, defs, errors);
        if !ok {
            broken.insert(name);
        }
    }
    broken
}

fn resolve_payload(
    resolver: &mut Resolver,
    payload: Option<&Value>,
    file: &Path,
    local_defs: &IndexMap<String, Value>,
    at: &str,
    unresolved: &mut HashSet<String>,
) -> Value {
    match payload {
        Some(schema) => {
            let before = resolver.errors.len();
            let resolved = resolver.resolve(schema, file, local_defs, at);
            if resolver.errors.len() > before {
                unresolved.insert(at.to_owned());
            }
            resolved
        }
        // "Absent means an empty object": exactly that, `{}`.
        None => serde_json::json!({"type": "object", "additionalProperties": false}),
    }
}

/// Registers a server event, checking that a name reused across handlers
/// keeps one payload schema.
#[allow(clippy::too_many_arguments)]
fn server_event(
    events: &mut Vec<ServerEventModel>,
    origins: &mut Vec<String>,
    file: &Path,
    at: &str,
    name: &str,
    description: Option<String>,
    payload: Value,
    errors: &mut Vec<SpecError>,
) -> Option<usize> {
    validate::event_name(file, at, name, errors);
    if let Some(i) = events.iter().position(|e| e.name == name) {
        if events[i].payload != payload {
            errors.push(SpecError::new(
                file,
                join_path(at, "payload"),
                format!("server event `{name}` is declared again with a different payload (first at `{}`)", origins[i]),
                "give both declarations the same payload (move it to `$defs` and `$ref` it), or rename one",
            ));
            return None;
        }
        return Some(i);
    }
    events.push(ServerEventModel {
        name: name.to_owned(),
        type_name: String::new(),
        method: String::new(),
        description,
        payload,
        example: PayloadExample::default(),
        path: at.to_owned(),
    });
    origins.push(at.to_owned());
    Some(events.len() - 1)
}

fn build_rooms(spec: &Spec, file: &Path, errors: &mut Vec<SpecError>) -> Vec<RoomModel> {
    let mut rooms: Vec<RoomModel> = Vec::new();
    for (pattern, room) in &spec.rooms {
        let at = join_path("rooms", pattern);
        let Some(parts) = validate::room_pattern(file, &at, pattern, errors) else {
            continue;
        };
        if room.is_static && !parts.params.is_empty() {
            errors.push(SpecError::new(file, join_path(&at, "static"), format!("room pattern `{pattern}` has parameters, so it names many rooms and cannot be static"), "remove `static`, or declare each static room by its full name"));
        }
        if room.max_members == Some(0) {
            errors.push(SpecError::new(
                file,
                join_path(&at, "max_members"),
                "`max_members` is 0, so nobody could join",
                "remove `max_members` or set it to at least 1",
            ));
        }
        let ident = room_ident(&parts.literal, rooms.len());
        let same_kind = |r: &RoomModel| r.params.is_empty() == parts.params.is_empty();
        if let Some(other) = rooms.iter().find(|r| r.ident == ident && same_kind(r)) {
            let item = if parts.params.is_empty() {
                ident.to_uppercase()
            } else {
                ident.clone()
            };
            errors.push(SpecError::new(
                file,
                &at,
                format!(
                    "room patterns `{}` and `{pattern}` would both get the item `rooms::{item}`",
                    other.pattern
                ),
                "make their literal text differ",
            ));
        } else if let Some(other) = rooms
            .iter()
            .find(|r| r.ident == ident && r.guarded && room.guarded)
        {
            errors.push(SpecError::new(file, &at, format!("guarded patterns `{}` and `{pattern}` would both get the guard method `guard_{ident}`", other.pattern), "make their literal text differ"));
        }
        rooms.push(RoomModel {
            pattern: pattern.clone(),
            params: parts.params,
            description: room.description.clone(),
            is_static: room.is_static,
            guarded: room.guarded,
            max_members: room.max_members,
            ident,
        });
    }
    rooms
}

/// The Rust name of a room pattern's items, from its literal text
/// (`chat:{room}` -> `chat`): snake case without the characters an
/// identifier cannot hold, `_` appended to a keyword (`type:{id}` ->
/// `rooms::type_(id)`), and `room_{index}` when nothing usable is left
/// (`²`, `42:{id}`).
fn room_ident(literal: &str, index: usize) -> String {
    let is_ident = |text: &str| syn::parse_str::<syn::Ident>(text).is_ok();
    let mut ident: String = literal
        .to_snake_case()
        .chars()
        .filter(|&c| c == '_' || c.is_ascii_alphanumeric() || is_ident(&format!("a{c}")))
        .collect();
    if !is_ident(&ident) {
        ident.push('_');
    }
    if !is_ident(&ident) {
        ident = format!("room_{index}");
    }
    ident
}
