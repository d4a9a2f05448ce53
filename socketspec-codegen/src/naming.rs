//! How spec names become Rust items: every event's handler method and
//! payload type, and every server event's payload type, distinct and clear
//! of the generated module's own items (docs/spec-format.md, "How names
//! become Rust items"). Payload types of `$defs` and inline schemas are
//! named by the type planner (`typing/names.rs`) in the same scope.

use indexmap::IndexMap;
use serde_json::Value;

use crate::model::{EventModel, ServerEventModel};
use crate::schema::exact_ref;
use crate::typing::{Scope, snake_ident, type_name};
use crate::validate::GENERATED_TYPE_NAMES;

/// Handler methods the generated trait defines itself.
const TRAIT_METHODS: [&str; 8] = [
    "on_connect",
    "on_disconnect",
    "on_error",
    "on_room_join",
    "on_room_leave",
    "meta",
    "dispatch",
    "guard",
];

/// Gives every event its handler method and payload type, and every server
/// event its payload type, all distinct and clear of the generated module's
/// own items (docs/spec-format.md, "How names become Rust items"):
///
/// - a method is the event's name in snake_case (a keyword as a raw
///   identifier); one that would be a lifecycle hook, a guard (`guard_*`)
///   or `self`/`super`/`crate` gets the suffix `_event`; a method already
///   taken by an earlier event gets `_2`, `_3`, ...;
/// - a client event's type is its name in UpperCamelCase; when it (or its
///   context, `<Type>Cx`) is taken or one of the module's own names
///   (`Handler`, `Service`, ...), the suffix `Event`, then a number;
/// - a server event's type likewise, with the suffix `Message`;
/// - a server event's methods (`emit_<m>`, `broadcast_<m>`) are named after
///   its name with `.`, `-`, `:` turned into `_`, lowercased; one that an
///   earlier server event already took gets `_2`, `_3`, ... (`user-left`,
///   `user_left` -> `emit_user_left`, `emit_user_left_2`).
pub(crate) fn assign_names(
    events: &mut [EventModel],
    server_events: &mut [ServerEventModel],
    defs: &IndexMap<String, Value>,
) {
    let mut methods = Scope::default();
    for hook in TRAIT_METHODS {
        methods.reserve(hook);
    }
    for event in events.iter_mut() {
        let snake = snake_ident(&event.name, "event");
        let bare = snake.trim_start_matches("r#");
        let base = if snake.ends_with('_') && !event.name.ends_with('_') {
            // `self` -> `self_`: a suffix that reads as a word.
            format!("{}_event", bare.trim_end_matches('_'))
        } else if TRAIT_METHODS.contains(&bare) || bare.starts_with("guard_") {
            format!("{bare}_event")
        } else {
            snake
        };
        event.method = methods.claim(&base, "", "_");
    }
    let mut server_methods = Scope::default();
    for message in server_events.iter_mut() {
        let base = message.name.replace(['.', '-', ':'], "_").to_lowercase();
        message.method = server_methods.claim(&base, "", "_");
    }
    let mut types = Scope::default();
    for name in GENERATED_TYPE_NAMES {
        types.reserve(name);
    }
    for name in crate::emit::typescript::reserved_type_names() {
        types.reserve(&name);
    }
    // A definition keeps its name (both clients call it so); an event of
    // the same name shares it only when its payload is exactly a `$ref` to
    // that definition.
    let def_names: IndexMap<String, &str> = defs
        .keys()
        .map(|def| {
            let base = type_name(def);
            let name = if types.is_taken(&base) {
                format!("{base}Def")
            } else {
                base
            };
            (name, def.as_str())
        })
        .collect();
    for name in def_names.keys() {
        types.reserve(name);
    }
    let shares = |base: &str, payload: &Value| {
        def_names
            .get(base)
            .is_some_and(|def| exact_ref(payload) == Some(*def))
    };
    let free_pair = |base: &str, types: &mut Scope| {
        let candidates = std::iter::once(base.to_owned())
            .chain(std::iter::once(format!("{base}Event")))
            .chain((2..).map(|n| format!("{base}Event{n}")));
        for candidate in candidates {
            let cx = format!("{candidate}Cx");
            if !types.is_taken(&candidate) && !types.is_taken(&cx) {
                types.reserve(&candidate);
                types.reserve(&cx);
                return candidate;
            }
        }
        base.to_owned()
    };
    for event in events.iter_mut() {
        let base = type_name(&event.name);
        let cx = format!("{base}Cx");
        event.type_name = if shares(&base, &event.payload) && !types.is_taken(&cx) {
            types.reserve(&cx);
            base
        } else {
            free_pair(&base, &mut types)
        };
    }
    let mut shared: Vec<String> = events.iter().map(|e| e.type_name.clone()).collect();
    for message in server_events.iter_mut() {
        let base = type_name(&message.name);
        message.type_name = if shares(&base, &message.payload) && !shared.contains(&base) {
            shared.push(base.clone());
            base
        } else {
            types.claim(&base, "Message", "")
        };
    }
}
