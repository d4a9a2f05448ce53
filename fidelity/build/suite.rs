//! The JSON-Schema-Test-Suite as specs: one per file, one event per test
//! group, the group's schema the definition `g<index>` and the payload
//! `{"value": <that>}` (payloads are objects). The schema's own `$defs`
//! move to the spec's, renamed `g<index>_<n>_<name>`, and its references
//! (`#`, `#/$defs/<name>`) follow; anything else is left as written, for
//! `check` to accept or refuse. A schema with an `$id` is a resource of its
//! own, whose references resolve against it: it stays whole.

use std::path::Path;

use serde_json::{Map, Value, json};

/// A suite file made into a spec.
pub struct Prepared {
    /// The module name.
    pub module: String,
    /// The spec (JSON text) with the groups `check` accepts.
    pub spec: String,
    /// Every group: accepted, or refused with `check`'s errors (JSON).
    pub groups: String,
}

const SINGLE: [&str; 11] = [
    "additionalProperties",
    "unevaluatedProperties",
    "items",
    "contains",
    "propertyNames",
    "not",
    "if",
    "then",
    "else",
    "unevaluatedItems",
    "contentSchema",
];
const LIST: [&str; 4] = ["allOf", "anyOf", "oneOf", "prefixItems"];
const MAP: [&str; 4] = [
    "properties",
    "patternProperties",
    "$defs",
    "dependentSchemas",
];
const DRAFT: &str = "https://json-schema.org/draft/2020-12/schema";

pub fn prepare(file: &Path, relative: &str) -> Prepared {
    let text =
        std::fs::read_to_string(file).unwrap_or_else(|e| panic!("reading {}: {e}", file.display()));
    let groups: Vec<Value> =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let mut stem = String::new();
    for c in relative.trim_end_matches(".json").chars() {
        if c.is_ascii_uppercase() {
            stem.push('_');
            stem.push(c.to_ascii_lowercase());
        } else if c.is_ascii_alphanumeric() {
            stem.push(c);
        } else {
            stem.push('_');
        }
    }
    let module = format!("suite_{stem}");
    let mut accepted = Vec::new();
    let mut outcomes = Vec::new();
    for (index, group) in groups.iter().enumerate() {
        let (defs, event) = wrap(index, &group["schema"]);
        let alone = spec(relative, &[(defs.clone(), event.clone())]);
        match socketspec_codegen::check_str(format!("{relative} (group {index})"), &alone) {
            Ok(model) => {
                let warnings: Vec<Value> = model
                    .warnings()
                    .iter()
                    .map(|w| json!({"path": w.path, "message": w.message}))
                    .collect();
                outcomes.push(json!({"group": index, "accepted": true, "warnings": warnings}));
                accepted.push((defs, event));
            }
            Err(e) => {
                let errors: Vec<Value> = e
                    .spec_errors()
                    .iter()
                    .map(|s| json!({"path": s.path, "message": s.message, "fix": s.fix}))
                    .collect();
                outcomes.push(json!({
                    "group": index,
                    "accepted": false,
                    "errors": errors,
                    "other": if errors.is_empty() { e.to_string() } else { String::new() },
                }));
            }
        }
    }
    Prepared {
        module,
        spec: spec(relative, &accepted),
        groups: Value::Array(outcomes).to_string(),
    }
}

/// One group in a spec: the `$defs` it brings, its event name and the event.
type Group = (Map<String, Value>, (String, Value));

/// A spec of the given groups (definitions, event name and event).
fn spec(relative: &str, groups: &[Group]) -> String {
    let mut defs = Map::new();
    let mut events = Map::new();
    for (group_defs, (name, event)) in groups {
        defs.extend(group_defs.clone());
        events.insert(name.clone(), event.clone());
    }
    serde_json::to_string_pretty(&json!({
        "socketspec": "1",
        "info": {"title": format!("JSON-Schema-Test-Suite {relative}"), "version": "draft2020-12"},
        "$defs": defs,
        "events": events,
    }))
    .unwrap_or_default()
}

/// Group `index`'s definitions and event.
fn wrap(index: usize, schema: &Value) -> Group {
    let name = format!("g{index}");
    let mut root = schema.clone();
    let mut hoisted: Vec<(String, String, Value)> = Vec::new();
    if let Some(object) = root.as_object_mut() {
        if object.get("$schema").and_then(Value::as_str) == Some(DRAFT) {
            object.remove("$schema");
        }
        let resource = object.contains_key("$id");
        if !resource && let Some(Value::Object(inner)) = object.remove("$defs") {
            for (n, (def, body)) in inner.into_iter().enumerate() {
                let clean: String = def
                    .chars()
                    .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                hoisted.push((def, format!("{name}_{n}_{clean}"), body));
            }
        }
    }
    let renames: Vec<(String, String)> = hoisted
        .iter()
        .map(|(old, new, _)| (old.clone(), new.clone()))
        .collect();
    let mut defs = Map::new();
    defs.insert(name.clone(), rewrite(&root, &name, &renames));
    for (_, new, body) in &hoisted {
        defs.insert(new.clone(), rewrite(body, &name, &renames));
    }
    let event = json!({
        "payload": {
            "type": "object",
            "properties": {"value": {"$ref": format!("#/$defs/{name}")}},
            "required": ["value"]
        },
        "emits": {"seen": {"payload": {"type": "object"}}}
    });
    (defs, (name, event))
}

/// `schema` with its references to the root and to its own definitions
/// pointed at their new names (schema keywords only: data stays).
fn rewrite(schema: &Value, root: &str, renames: &[(String, String)]) -> Value {
    let Value::Object(object) = schema else {
        return schema.clone();
    };
    // Its references resolve against its own `$id`.
    if object.contains_key("$id") {
        return schema.clone();
    }
    let mut out = Map::new();
    for (key, value) in object {
        let k = key.as_str();
        let new = if k == "$ref" || k == "$dynamicRef" {
            match value.as_str() {
                Some(reference) => Value::String(retarget(reference, root, renames)),
                None => value.clone(),
            }
        } else if SINGLE.contains(&k) {
            rewrite(value, root, renames)
        } else if LIST.contains(&k) {
            match value {
                Value::Array(items) => {
                    Value::Array(items.iter().map(|i| rewrite(i, root, renames)).collect())
                }
                other => other.clone(),
            }
        } else if MAP.contains(&k) {
            match value {
                Value::Object(map) => Value::Object(
                    map.iter()
                        .map(|(n, s)| (n.clone(), rewrite(s, root, renames)))
                        .collect(),
                ),
                other => other.clone(),
            }
        } else {
            value.clone()
        };
        out.insert(key.clone(), new);
    }
    Value::Object(out)
}

fn retarget(reference: &str, root: &str, renames: &[(String, String)]) -> String {
    if reference == "#" {
        return format!("#/$defs/{root}");
    }
    if let Some(rest) = reference.strip_prefix("#/$defs/") {
        // A definition, or a part of one.
        let (token, part) = rest.split_once('/').map_or((rest, ""), |(t, p)| (t, p));
        let name = percent_decode(token).replace("~1", "/").replace("~0", "~");
        if let Some((_, new)) = renames.iter().find(|(old, _)| *old == name) {
            let part = if part.is_empty() {
                String::new()
            } else {
                format!("/{part}")
            };
            return format!("#/$defs/{new}{part}");
        }
        return reference.to_owned();
    }
    // A pointer into the root schema, which becomes definition `root`.
    if let Some(pointer) = reference.strip_prefix("#/") {
        return format!("#/$defs/{root}/{pointer}");
    }
    reference.to_owned()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = text.get(i + 1..i + 3)
            && let Ok(byte) = u8::from_str_radix(hex, 16)
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
