//! The `push` section of a spec: events the server sends on its own, into
//! the model (each a server event, and the room pattern it may go to).

use std::collections::HashSet;
use std::path::Path;

use indexmap::IndexMap;
use serde_json::Value;

use crate::error::{SpecError, join_path};
use crate::model::RoomModel;
use crate::resolve::Resolver;
use crate::spec::Spec;

/// One event the server may push.
#[derive(Debug, Clone)]
pub(crate) struct PushModel {
    /// Index into the model's server events.
    pub(crate) message: usize,
    /// Index into the model's rooms, when it may be broadcast to a room.
    pub(crate) room: Option<usize>,
}

/// What building the push section needs of the model being built.
pub(crate) struct Context<'a> {
    pub(crate) file: &'a Path,
    pub(crate) spec: &'a Spec,
    pub(crate) rooms: &'a [RoomModel],
    pub(crate) local_defs: &'a IndexMap<String, Value>,
}

/// A server event: name, description, resolved schema, where it was declared.
pub(crate) type Register<'r> =
    dyn FnMut(&str, &str, Option<String>, Value, &mut Vec<SpecError>) -> Option<usize> + 'r;

/// The push section, in file order.
pub(crate) fn build(
    cx: &Context<'_>,
    resolver: &mut Resolver,
    unresolved: &mut HashSet<String>,
    register: &mut Register<'_>,
    errors: &mut Vec<SpecError>,
) -> Vec<PushModel> {
    let mut pushes = Vec::new();
    for (name, push) in &cx.spec.push {
        let at = join_path("push", name);
        let payload_at = join_path(&at, "payload");
        let schema = match &push.payload {
            Some(schema) => {
                let before = resolver.errors.len();
                let resolved = resolver.resolve(schema, cx.file, cx.local_defs, &payload_at);
                if resolver.errors.len() > before {
                    unresolved.insert(payload_at);
                }
                resolved
            }
            None => serde_json::json!({"type": "object", "properties": {}}),
        };
        let message = register(&at, name, push.description.clone(), schema, errors);
        let room = match &push.room {
            None => None,
            Some(pattern) => match cx.rooms.iter().position(|r| &r.pattern == pattern) {
                Some(index) => Some(index),
                None => {
                    // A declared pattern missing from the model was reported as invalid.
                    if cx.spec.rooms.get(pattern).is_none() {
                        errors.push(undeclared_room(cx, &join_path(&at, "room"), pattern));
                    }
                    continue;
                }
            },
        };
        if let Some(message) = message {
            pushes.push(PushModel { message, room });
        }
    }
    pushes
}

/// A push to a room pattern that `rooms` does not declare.
fn undeclared_room(cx: &Context<'_>, at: &str, pattern: &str) -> SpecError {
    let declared = cx
        .rooms
        .iter()
        .map(|r| format!("`{}`", r.pattern))
        .collect::<Vec<_>>()
        .join(", ");
    SpecError::new(
        cx.file,
        at,
        format!("push to room pattern `{pattern}`, which is not declared under `rooms`"),
        if declared.is_empty() {
            format!("declare it: \"rooms\": {{\"{pattern}\": {{}}}}")
        } else {
            format!("declare it under `rooms`, or use one of {declared}")
        },
    )
}
