//! Step 2 of the pipeline: the checks a spec must pass beyond its shape,
//! each producing a [`SpecError`] with the JSON path and the fix.

use std::path::Path;

use indexmap::IndexMap;
use serde_json::Value;

use socketspec_protocol::RoomPattern;

use crate::error::SpecError;
use crate::typing::kinds::Kinds;

/// Type names the generated module defines itself.
pub(crate) const GENERATED_TYPE_NAMES: [&str; 10] = [
    "ConnectionExt",
    "Cx",
    "Push",
    "PushTo",
    "Handler",
    "Service",
    "ServerEvent",
    "ClientEvent",
    "META",
    "SPEC_JSON",
];

pub use socketspec_protocol::is_reserved;

/// Checks an event or message name.
pub(crate) fn event_name(file: &Path, at: &str, name: &str, errors: &mut Vec<SpecError>) {
    if is_reserved(name) {
        errors.push(SpecError::new(
            file,
            at,
            format!("`{name}` is a reserved name: the protocol's system events and every name that starts and ends with `__` belong to socketspec"),
            format!("rename the event, e.g. `{}`", suggestion(name)),
        ));
        return;
    }
    let valid = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | ':'));
    if !valid {
        errors.push(SpecError::new(
            file,
            at,
            format!("`{name}` is not a valid event name"),
            "start with a letter and use letters, digits, `_`, `.`, `-` or `:` (e.g. `send_message`)",
        ));
    }
}

/// A replacement for a reserved name: the name without its underscores.
fn suggestion(name: &str) -> &str {
    match name.trim_matches('_') {
        "" => "my_event",
        trimmed => trimmed,
    }
}

/// Checks a `$defs` name: it becomes a Rust type name and part of a
/// `#/$defs/Name` URI.
pub(crate) fn def_name(file: &Path, at: &str, name: &str, errors: &mut Vec<SpecError>) -> bool {
    let valid = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if !valid {
        errors.push(SpecError::new(
            file,
            at,
            format!("`{name}` is not a valid definition name: it becomes a Rust type name"),
            "start with a letter and use letters, digits, `_`, `.` or `-` (e.g. `ChatRoom`)",
        ));
    }
    valid
}

/// Room parameter names the generated methods use for their own arguments.
const TAKEN_PARAM_NAMES: [&str; 2] = ["payload", "conn"];

/// A parsed room pattern: literal text and `{param}`s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PatternParts {
    pub(crate) params: Vec<String>,
    pub(crate) literal: String,
}

/// Parses and checks a room pattern: the protocol's grammar, and parameter
/// names the generated methods can take as arguments.
pub(crate) fn room_pattern(
    file: &Path,
    at: &str,
    pattern: &str,
    errors: &mut Vec<SpecError>,
) -> Option<PatternParts> {
    let parsed = match RoomPattern::parse(pattern) {
        Ok(parsed) => parsed,
        Err(e) => {
            errors.push(SpecError::new(file, at, e.describe(pattern), e.fix()));
            return None;
        }
    };
    for name in parsed.params() {
        if syn::parse_str::<syn::Ident>(name).is_err() || TAKEN_PARAM_NAMES.contains(&name) {
            errors.push(SpecError::new(
                file,
                at,
                format!(
                    "room parameter `{{{name}}}` in `{pattern}` cannot be filled: `{name}` is a Rust keyword or an argument name the generated methods use"
                ),
                "rename the parameter, e.g. `{room}` or `{team_id}`",
            ));
            return None;
        }
    }
    Some(PatternParts {
        params: parsed.params().map(str::to_owned).collect(),
        literal: parsed.literal_text(),
    })
}

/// Checks `schema`'s keywords against the draft 2020-12 meta-schema.
pub(crate) fn schema_keywords(
    file: &Path,
    at: &str,
    schema: &Value,
    errors: &mut Vec<SpecError>,
) -> bool {
    match jsonschema::draft202012::meta::validate(schema) {
        Ok(()) => supported_keywords(file, at, schema, errors),
        Err(e) => {
            errors.push(SpecError::new(
                file,
                format!("{at}{}", dotted(&e.instance_path().to_string())),
                format!("invalid JSON Schema: {e}"),
                "correct the keyword's value (JSON Schema draft 2020-12)",
            ));
            false
        }
    }
}

/// The 2020-12 meta-schema's own URI, the only `$schema` a spec's schemas
/// may name.
const DRAFT_2020_12: &str = "https://json-schema.org/draft/2020-12/schema";

/// Refuses the keywords that would change what the others mean: a custom
/// vocabulary, another draft's `$schema` or its recursive references.
/// (`$id`, anchors and dynamic references are kept as written for the
/// server's validator: see [`crate::schema::is_island`].)
fn supported_keywords(file: &Path, at: &str, schema: &Value, errors: &mut Vec<SpecError>) -> bool {
    let before = errors.len();
    if let Some(object) = schema.as_object() {
        for (key, value) in object {
            let (message, fix) = match key.as_str() {
                "$recursiveAnchor" | "$recursiveRef" => (
                    "`$recursiveAnchor` and `$recursiveRef` are draft 2019-09 keywords, which draft 2020-12 replaced",
                    "use `$dynamicAnchor` and `$dynamicRef`, or a `$ref` to a definition: `{\"$ref\": \"#/$defs/Name\"}`",
                ),
                "$vocabulary" => (
                    "custom vocabularies are not supported",
                    "remove `$vocabulary`; socketspec schemas use the draft 2020-12 vocabularies",
                ),
                "$schema"
                    if value.as_str().map(|s| s.trim_end_matches('#')) != Some(DRAFT_2020_12) =>
                {
                    (
                        "socketspec schemas are JSON Schema draft 2020-12; another `$schema` would change what the keywords mean",
                        "remove `$schema` (or set it to https://json-schema.org/draft/2020-12/schema)",
                    )
                }
                _ => continue,
            };
            errors.push(SpecError::new(
                file,
                crate::error::join_path(at, key),
                message,
                fix,
            ));
        }
    }
    for (segment, sub) in crate::schema::subschemas(schema) {
        supported_keywords(
            file,
            &format!("{at}{}", crate::resolve::segment_path(&segment)),
            sub,
            errors,
        );
    }
    errors.len() == before
}

/// Compiles `schema` with the shared definitions it reaches attached, which
/// checks what the meta-schema cannot (regular expressions, references).
pub(crate) fn schema_compiles(
    file: &Path,
    at: &str,
    schema: &Value,
    defs: &IndexMap<String, Value>,
    errors: &mut Vec<SpecError>,
) -> bool {
    let mut reached = reachable(schema, defs);
    // A reference to an anchor may land in any definition.
    if crate::schema::contains_island(schema)
        || reached
            .iter()
            .any(|name| crate::schema::contains_island(&defs[name.as_str()]))
    {
        reached = defs.keys().cloned().collect();
    }
    let attached = reached
        .iter()
        .map(|name| (name.clone(), defs[name.as_str()].clone()))
        .collect();
    let full = crate::model::attach_defs(schema, attached);
    match jsonschema::draft202012::new(&full) {
        Ok(_) => true,
        Err(e) => {
            let fallback = format!("{at}{}", dotted(&e.schema_path().to_string()));
            let (path, message, fix) =
                crate::server_document::compile_failure(schema, at, &e.to_string(), fallback);
            errors.push(SpecError::new(file, path, message, fix));
            false
        }
    }
}

/// Checks that `schema` is a valid JSON Schema (draft 2020-12) describing an
/// object. `defs` are the resolved shared definitions it may reference;
/// `compile` is false when a definition it reaches is already reported as
/// broken (compiling would only repeat that error).
pub(crate) fn payload_schema(
    file: &Path,
    at: &str,
    schema: &Value,
    defs: &IndexMap<String, Value>,
    compile: bool,
    errors: &mut Vec<SpecError>,
) {
    if !schema_keywords(file, at, schema, errors) {
        return;
    }
    // The runtime only ever hands a payload schema a JSON object; what
    // matters is that the schema accepts one, however it says so (`type`,
    // a chain of `$ref`s, `properties` alone, a union).
    if !crate::typing::kinds::kinds(schema, defs).meets(Kinds::OBJECT) {
        errors.push(SpecError::new(
            file,
            at,
            "a payload schema must describe a JSON object (`\"type\": \"object\"`)",
            "wrap the value in an object: {\"type\": \"object\", \"properties\": {\"value\": ...}}",
        ));
        return;
    }
    if compile {
        schema_compiles(file, at, schema, defs, errors);
    }
}

/// The shared definitions `schema` references directly (`#/$defs/Name`).
pub(crate) fn direct_refs(schema: &Value) -> Vec<String> {
    let mut out = Vec::new();
    collect_refs(schema, &mut out);
    out
}

fn collect_refs(schema: &Value, out: &mut Vec<String>) {
    // Inside a schema resource of its own, `#/$defs/Name` is its own.
    if crate::schema::is_resource(schema) {
        return;
    }
    if let Some(name) = crate::schema::ref_name(schema)
        && !out.iter().any(|n| n == name)
    {
        out.push(name.to_owned());
    }
    for (_, sub) in crate::schema::subschemas(schema) {
        collect_refs(sub, out);
    }
}

/// Every shared definition `schema` reaches, directly or through others.
pub(crate) fn reachable(schema: &Value, defs: &IndexMap<String, Value>) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    let mut queue = direct_refs(schema);
    while let Some(name) = queue.pop() {
        if seen.contains(&name) {
            continue;
        }
        if let Some(def) = defs.get(&name) {
            queue.extend(direct_refs(def));
            seen.push(name);
        }
    }
    seen.sort();
    seen
}

/// `/properties/x` -> `.properties.x`.
pub(crate) fn dotted(pointer: &str) -> String {
    pointer
        .split('/')
        .skip(1)
        .map(|s| crate::error::join_path("", &s.replace("~1", "/").replace("~0", "~")))
        .map(|s| {
            if s.starts_with('[') {
                s
            } else {
                format!(".{s}")
            }
        })
        .collect()
}

/// The shared definitions `schema` applies to the very value it checks:
/// its own `$ref` and those under `allOf`, `anyOf`, `oneOf`, `not`,
/// `if`/`then`/`else` and `dependentSchemas`, but none under `properties`,
/// `items` and the like, which check a part of the value.
fn in_place_refs(schema: &Value, out: &mut Vec<String>) {
    let Some(object) = schema.as_object() else {
        return;
    };
    if let Some(name) = object
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/$defs/"))
        && !out.iter().any(|n| n == name)
    {
        out.push(name.to_owned());
    }
    for sub in crate::schema::in_place_subschemas(schema) {
        in_place_refs(sub, out);
    }
}

/// Finds shared definitions that apply themselves to the same value
/// (`"B": {"allOf": [{"$ref": "#/$defs/B"}, ...]}`): checking a value
/// against one never ends, and no type can be generated for it. Reports
/// each cycle once, at its first definition, and returns every definition
/// on a cycle. `origin` names where a definition was written.
pub(crate) fn in_place_cycles(
    defs: &IndexMap<String, Value>,
    origin: impl Fn(&str) -> (std::path::PathBuf, String),
    errors: &mut Vec<SpecError>,
) -> Vec<String> {
    let edges: IndexMap<&str, Vec<String>> = defs
        .iter()
        .map(|(name, schema)| {
            let mut out = Vec::new();
            in_place_refs(schema, &mut out);
            (name.as_str(), out)
        })
        .collect();
    let mut on_cycle: Vec<String> = Vec::new();
    for name in defs.keys() {
        if on_cycle.contains(name) {
            continue;
        }
        let Some(chain) = path_back(name, &edges) else {
            continue;
        };
        let (file, at) = origin(name);
        errors.push(SpecError::new(
            &file,
            at,
            format!(
                "`{name}` applies itself to the same value ({}), so checking a value against it never ends",
                chain.join(" → ")
            ),
            "a recursive schema must nest its `$ref` under `properties` or `items`; remove the reference from `allOf`/`anyOf`/`oneOf`/`not`/`if`",
        ));
        on_cycle.extend(chain.into_iter().map(str::to_owned));
    }
    on_cycle
}

/// The shortest chain of in-place references from `start` back to itself
/// (`[start, ..., start]`), if there is one.
fn path_back<'a>(
    start: &'a str,
    edges: &'a IndexMap<&'a str, Vec<String>>,
) -> Option<Vec<&'a str>> {
    let mut parent: IndexMap<&str, &str> = IndexMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(current) = queue.pop_front() {
        for next in edges.get(current).into_iter().flatten() {
            if next == start {
                let mut chain = vec![start];
                let mut at = current;
                while at != start {
                    chain.push(at);
                    at = parent.get(at).copied().unwrap_or(start);
                }
                chain.push(start);
                chain.reverse();
                return Some(chain);
            }
            if let Some((key, _)) = edges.get_key_value(next.as_str())
                && !parent.contains_key(key)
            {
                parent.insert(key, current);
                queue.push_back(key);
            }
        }
    }
    None
}
