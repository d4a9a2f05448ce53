//! Names in the generated TypeScript: the spec's types and the client's
//! methods, and the collisions a spec must avoid with what the generated
//! file defines itself.
//!
//! What the file defines is read from the TypeScript it holds (the protocol
//! module, the runtime and the per-spec client), so a declaration added to
//! the runtime is reserved without a list to keep in step.

use std::collections::BTreeSet;

use heck::{ToLowerCamelCase, ToUpperCamelCase};
use indexmap::IndexMap;

use super::{client, protocol, runtime};
use crate::error::{Error, SpecError, join_path};
use crate::model::{EventModel, Model};

/// The camelCase method of each client event, by event name.
pub(super) type Methods = IndexMap<String, String>;

/// JavaScript and TypeScript globals the generated code uses: a spec type of
/// the same name would shadow them.
const GLOBALS: &[&str] = &[
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

/// Members every object inherits, which a generated method must not shadow.
const OBJECT_MEMBERS: &[&str] = &[
    "constructor",
    "hasOwnProperty",
    "isPrototypeOf",
    "propertyIsEnumerable",
    "toLocaleString",
    "toString",
    "valueOf",
];

/// The TypeScript (and Rust) type name of a `$defs` entry: its name in
/// UpperCamelCase, with the suffix `Def` when the generated code declares or
/// uses that name itself (`$defs.error` -> `ErrorDef`, as in Rust).
pub(super) fn type_name(def: &str) -> String {
    static RESERVED: std::sync::OnceLock<BTreeSet<String>> = std::sync::OnceLock::new();
    let reserved = RESERVED.get_or_init(|| {
        let mut names = taken_type_names();
        names.extend(
            crate::validate::GENERATED_TYPE_NAMES
                .iter()
                .map(|n| (*n).to_owned()),
        );
        names
    });
    let name = def.to_upper_camel_case();
    if reserved.contains(&name) {
        format!("{name}Def")
    } else {
        name
    }
}

/// The alias of an event's several possible replies: `JoinReply`.
pub(super) fn reply_alias(event: &EventModel) -> String {
    format!("{}Reply", event.type_name)
}

/// Names the generated file declares at its top level, or uses from the
/// JavaScript globals: no spec type may take one.
fn taken_type_names() -> BTreeSet<String> {
    let protocol = protocol::render();
    let runtime = runtime::source();
    let mut names: BTreeSet<String> = top_level_declarations(&protocol)
        .chain(top_level_declarations(&runtime))
        .map(str::to_owned)
        .collect();
    names.extend(client::DECLARED_TYPES.iter().map(|n| (*n).to_owned()));
    names.extend(GLOBALS.iter().map(|n| (*n).to_owned()));
    names
}

/// Members of `Client` that a generated event method must not shadow: the
/// runtime's `ClientBase` members (private ones included: shadowing those
/// would break the client), `Client`'s own, and every object's.
fn taken_member_names() -> BTreeSet<String> {
    let runtime = runtime::source();
    let mut names: BTreeSet<String> = class_members(&runtime, runtime::BASE_CLASS)
        .map(str::to_owned)
        .collect();
    names.extend(client::DECLARED_MEMBERS.iter().map(|n| (*n).to_owned()));
    names.extend(OBJECT_MEMBERS.iter().map(|n| (*n).to_owned()));
    names
}

/// The names declared at the top level of `ts` (the generated code keeps
/// top-level declarations at column 0): `export class X`, `interface Y`,
/// `const Z`, `function f`...
pub(super) fn top_level_declarations(ts: &str) -> impl Iterator<Item = &str> {
    ts.lines().filter_map(|line| {
        let mut words = line.split_whitespace();
        let mut word = words.next()?;
        // `line` must start with the keyword: indented lines are not top level.
        if line.starts_with(char::is_whitespace) {
            return None;
        }
        while matches!(word, "export" | "declare" | "abstract" | "default") {
            word = words.next()?;
        }
        if !matches!(
            word,
            "class" | "interface" | "type" | "const" | "let" | "var" | "function" | "enum"
        ) {
            return None;
        }
        identifier_prefix(words.next()?)
    })
}

/// The member names of `class` in `ts`: the lines indented by exactly one
/// level (two spaces) between `class Name` and the closing `}` at column 0,
/// modifiers skipped.
pub(super) fn class_members<'t>(ts: &'t str, class: &str) -> impl Iterator<Item = &'t str> {
    let mut lines = ts.lines();
    let start = format!("class {class}");
    for line in lines.by_ref() {
        if !line.starts_with(char::is_whitespace) && line.contains(&start) {
            break;
        }
    }
    lines
        .take_while(|line| !line.starts_with('}'))
        .filter_map(|line| {
            let member = line.strip_prefix("  ")?;
            if member.starts_with(char::is_whitespace) {
                return None;
            }
            let mut rest = member;
            loop {
                let word = rest.split(|c: char| !is_identifier_char(c)).next()?;
                let after = &rest[word.len()..];
                let modifier = matches!(
                    word,
                    "private"
                        | "protected"
                        | "public"
                        | "readonly"
                        | "static"
                        | "async"
                        | "get"
                        | "set"
                        | "override"
                        | "abstract"
                        | "declare"
                );
                // `get state()` is a getter; `get(...)` would be a method named get.
                if modifier && after.starts_with(' ') {
                    rest = after.trim_start();
                } else {
                    return identifier_prefix(rest);
                }
            }
        })
}

fn is_identifier_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '$'
}

/// The identifier `text` starts with, if any.
fn identifier_prefix(text: &str) -> Option<&str> {
    let end = text
        .find(|c: char| !is_identifier_char(c))
        .unwrap_or(text.len());
    let name = &text[..end];
    (!name.is_empty() && !name.starts_with(|c: char| c.is_ascii_digit())).then_some(name)
}

/// The camelCase method for each client event, by event name. A method
/// the client itself has (`close`) becomes `emit<Name>`; one an earlier
/// event already took (`set_x_y` and `set-x-y` both give `setXY`) gets the
/// suffix `2`, `3`, ... in file order, as Rust's handler methods do.
pub(super) fn method_names(model: &Model) -> Result<Methods, Error> {
    let taken = taken_member_names();
    let mut methods = Methods::new();
    for event in &model.events {
        let camel: String = event
            .name
            .to_lower_camel_case()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let base = if camel.is_empty() || taken.contains(&camel) {
            format!("emit{}", event.name.to_upper_camel_case())
        } else {
            camel
        };
        let free = |m: &String| !methods.values().any(|used| used == m) && !taken.contains(m);
        let method = std::iter::once(base.clone())
            .chain((2..).map(|n| format!("{base}{n}")))
            .find(free)
            .unwrap_or(base);
        methods.insert(event.name.clone(), method);
    }
    Ok(methods)
}

/// Type names an event's payload type must not take in either language:
/// what the generated TypeScript declares or uses (`Client`, `Error`,
/// `String`, ...). Rust's naming avoids them too, so both clients name a
/// payload alike.
pub(crate) fn reserved_type_names() -> BTreeSet<String> {
    taken_type_names()
}

/// Every spec type must keep its name clear of what the client defines.
pub(super) fn check_type_names(model: &Model) -> Result<(), Error> {
    let taken = taken_type_names();
    let mut errors = Vec::new();
    let mut claim = |name: &str, at: String| {
        if taken.contains(name) {
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
        if spec_types.contains(&alias) || taken.contains(&alias) {
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
    let Some(message) = model.server_events.get(index) else {
        return "events".to_owned();
    };
    let name = &message.name;
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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::super::test_support::spec_with;
    use super::*;
    use serde_json::json;

    #[test]
    fn declarations_and_members_are_read_from_typescript() {
        let ts = "export class Base<T> {\n  private readonly _a = 1;\n  get state(): number {\n    return 1;\n  }\n  /** Doc. */\n  static async connect(): Promise<void> {}\n  get(key: string): void {}\n  on<E>(event: E): void {}\n  ): void {\n}\ninterface Hidden {\n  x: number;\n}\nexport const ALL = 1;\nfunction helper() {}\n  const nested = 2;\nexport { helper };\n";
        let declared: Vec<&str> = top_level_declarations(ts).collect();
        assert_eq!(declared, ["Base", "Hidden", "ALL", "helper"]);
        let members: Vec<&str> = class_members(ts, "Base").collect();
        assert_eq!(members, ["_a", "state", "connect", "get", "on"]);
    }

    #[test]
    fn the_runtime_and_the_protocol_module_reserve_their_names() {
        let types = taken_type_names();
        for name in [
            "Client",
            "ClientBase",
            "ClientOptions",
            "ConnectPayload",
            "Envelope",
            "ErrorCode",
            "ServerEvents",
            "SocketspecError",
            "SystemEvents",
            "WebSocketLike",
            "Promise",
        ] {
            assert!(types.contains(name), "{name} is not reserved: {types:?}");
        }
        let members = taken_member_names();
        for name in [
            "close",
            "connect",
            "connectionId",
            "emit",
            "on",
            "once",
            "refreshAuth",
            "request",
            "state",
            "toString",
            "_call",
        ] {
            assert!(
                members.contains(name),
                "{name} is not reserved: {members:?}"
            );
        }
        assert!(!members.contains("sendMessage"));
    }

    #[test]
    fn two_events_with_one_method_name_get_numbered_methods() {
        let model = spec_with(
            json!({
                "close": {"payload": {"type": "object", "properties": {}}},
                "emit_close": {"payload": {"type": "object", "properties": {}}},
                "set_x_y": {},
                "set-x-y": {}
            }),
            json!({}),
        );
        let methods = method_names(&model).unwrap();
        assert_eq!(methods["close"], "emitClose");
        assert_eq!(methods["emit_close"], "emitClose2");
        assert_eq!(methods["set_x_y"], "setXY");
        assert_eq!(methods["set-x-y"], "setXY2");
    }
}
