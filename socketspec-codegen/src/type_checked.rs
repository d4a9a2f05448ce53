//! Which payload schemas their generated Rust type checks exactly.
//!
//! For most payloads the runtime builds a `serde_json::Value`, runs the JSON
//! Schema validator on it, and then decodes the handler's type from it. When
//! the type alone already refuses everything the schema refuses, decoding
//! the type straight from the frame *is* the validation, and the runtime
//! skips the `Value` and the validator (it still runs them to explain a
//! payload the type refused, so errors read the same).
//!
//! The test is deliberately narrow, a whitelist of shapes whose generated
//! type is known: an object whose properties are all required and each a
//! plain `string`, `integer`, `number` or `boolean` (no constraints, no
//! formats), with `additionalProperties` absent or `false`. Anything else
//! keeps the validator. A property that is not required is excluded because
//! its `Option<T>` field accepts `null`, which the schema refuses.

use indexmap::IndexMap;
use serde_json::{Map, Value};

/// Keywords that only annotate a schema: they never change what is valid.
const ANNOTATIONS: [&str; 6] = [
    "description",
    "title",
    "examples",
    "$comment",
    "deprecated",
    "default",
];

/// Whether decoding `schema`'s generated type checks every constraint of
/// `schema` (with `$ref`s pointing into `defs`).
pub(crate) fn type_checks_exactly(schema: &Value, defs: &IndexMap<String, Value>) -> bool {
    let Some(object) = resolve(schema, defs).and_then(Value::as_object) else {
        return false;
    };
    let known = |key: &str| {
        matches!(
            key,
            "type" | "properties" | "required" | "additionalProperties"
        ) || is_annotation(key)
    };
    // `default` on the payload itself would let typify fill in a missing
    // payload's fields: not a plain object any more.
    if !object.keys().all(|k| known(k)) || object.contains_key("default") {
        return false;
    }
    if object.get("type").and_then(Value::as_str) != Some("object") {
        return false;
    }
    if !matches!(
        object.get("additionalProperties"),
        None | Some(Value::Bool(false))
    ) {
        return false;
    }
    let empty = Map::new();
    let properties = match object.get("properties") {
        None => &empty,
        Some(Value::Object(p)) => p,
        Some(_) => return false,
    };
    let Some(required) = required_names(object) else {
        return false;
    };
    required.len() == properties.len()
        && properties
            .keys()
            .all(|name| required.contains(&name.as_str()))
        && properties.values().all(|p| is_plain_scalar(p, defs))
}

fn is_annotation(key: &str) -> bool {
    ANNOTATIONS.contains(&key)
}

/// The `required` names, or `None` when they are not a list of distinct strings.
fn required_names(object: &Map<String, Value>) -> Option<Vec<&str>> {
    let names: Vec<&str> = match object.get("required") {
        None => Vec::new(),
        Some(Value::Array(items)) => items.iter().map(Value::as_str).collect::<Option<_>>()?,
        Some(_) => return None,
    };
    let mut sorted = names.clone();
    sorted.sort_unstable();
    sorted.dedup();
    (sorted.len() == names.len()).then_some(names)
}

/// `{"type": "string" | "integer" | "number" | "boolean"}` plus annotations.
/// (`default` is fine here: the property is required, so it never applies.)
fn is_plain_scalar(schema: &Value, defs: &IndexMap<String, Value>) -> bool {
    let Some(object) = resolve(schema, defs).and_then(Value::as_object) else {
        return false;
    };
    object.keys().all(|k| k == "type" || is_annotation(k))
        && matches!(
            object.get("type").and_then(Value::as_str),
            Some("string" | "integer" | "number" | "boolean")
        )
}

/// Follows one `{"$ref": "#/$defs/Name"}` (the only form resolved schemas
/// use); other schemas are returned as they are.
fn resolve<'a>(schema: &'a Value, defs: &'a IndexMap<String, Value>) -> Option<&'a Value> {
    let Some(target) = schema.get("$ref") else {
        return Some(schema);
    };
    let object = schema.as_object()?;
    // A `$ref` with siblings other than annotations is a combination.
    if !object.keys().all(|k| k == "$ref" || is_annotation(k)) {
        return None;
    }
    let name = target.as_str()?.strip_prefix("#/$defs/")?;
    let found = defs.get(name)?;
    // One level only: a chain of references is left to the validator.
    (found.get("$ref").is_none()).then_some(found)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn exact(schema: Value) -> bool {
        let mut defs = IndexMap::new();
        defs.insert("Name".to_owned(), json!({"type": "string"}));
        defs.insert(
            "Room".to_owned(),
            json!({"type": "string", "pattern": "^[a-z]+$"}),
        );
        type_checks_exactly(&schema, &defs)
    }

    #[test]
    fn plain_required_scalars_are_checked_by_their_type() {
        assert!(exact(json!({
            "type": "object",
            "description": "Echo.",
            "required": ["seq", "data", "on", "ratio"],
            "properties": {
                "seq": {"type": "integer", "description": "n"},
                "data": {"type": "string"},
                "on": {"type": "boolean"},
                "ratio": {"type": "number"}
            }
        })));
        assert!(exact(json!({
            "type": "object",
            "required": ["who"],
            "properties": {"who": {"$ref": "#/$defs/Name"}},
            "additionalProperties": false
        })));
        assert!(exact(json!({"type": "object", "properties": {}})));
    }

    #[test]
    fn anything_the_type_would_not_check_keeps_the_validator() {
        let refused = [
            // Constraints the generated type does not enforce.
            json!({"type": "object", "required": ["t"], "properties": {"t": {"type": "string", "maxLength": 3}}}),
            json!({"type": "object", "required": ["t"], "properties": {"t": {"type": "integer", "minimum": 0}}}),
            json!({"type": "object", "required": ["r"], "properties": {"r": {"$ref": "#/$defs/Room"}}}),
            json!({"type": "object", "required": ["t"], "properties": {"t": {"type": "string", "format": "email"}}}),
            json!({"type": "object", "required": ["t"], "properties": {"t": {"enum": ["a"]}}}),
            json!({"type": "object", "required": ["t"], "properties": {"t": {"type": ["string", "null"]}}}),
            // An optional property accepts `null` through its `Option`.
            json!({"type": "object", "properties": {"t": {"type": "string"}}}),
            // Required but undeclared, declared twice, or not a list.
            json!({"type": "object", "required": ["t", "u"], "properties": {"t": {"type": "string"}}}),
            json!({"type": "object", "required": ["t", "t"], "properties": {"t": {"type": "string"}}}),
            json!({"type": "object", "required": "t", "properties": {"t": {"type": "string"}}}),
            // Nested objects, arrays, open or typed extra properties.
            json!({"type": "object", "required": ["o"], "properties": {"o": {"type": "object"}}}),
            json!({"type": "object", "required": ["a"], "properties": {"a": {"type": "array"}}}),
            json!({"type": "object", "properties": {}, "additionalProperties": true}),
            json!({"type": "object", "properties": {}, "additionalProperties": {"type": "string"}}),
            // Combinations and whole-object keywords.
            json!({"type": "object", "properties": {}, "minProperties": 1}),
            json!({"allOf": [{"type": "object"}]}),
            json!({"type": "object", "properties": {}, "default": {}}),
            json!({"$ref": "#/$defs/Missing"}),
            json!(true),
        ];
        for schema in refused {
            assert!(!exact(schema.clone()), "{schema}");
        }
    }
}
