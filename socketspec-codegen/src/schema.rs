//! What the generator knows about JSON Schema (draft 2020-12) keywords:
//! which hold subschemas (and so may hold `$ref`s), which only annotate.
//!
//! Every walk over a schema goes through [`subschemas`], so a value under
//! `const`, `enum`, `examples` or `default` is data, never a schema: a
//! `const` shaped like `{"$ref": "..."}` is not a reference.

use serde_json::{Map, Value};

use crate::error::join_path;

/// Keywords whose value is one subschema.
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

/// Keywords whose value is a list of subschemas.
const LIST: [&str; 4] = ["allOf", "anyOf", "oneOf", "prefixItems"];

/// Keywords whose value is a map of subschemas.
const MAP: [&str; 4] = [
    "properties",
    "patternProperties",
    "$defs",
    "dependentSchemas",
];

/// Keywords that never change which values are valid.
pub(crate) const ANNOTATIONS: [&str; 10] = [
    "description",
    "title",
    "examples",
    "default",
    "$comment",
    "deprecated",
    "readOnly",
    "writeOnly",
    "contentMediaType",
    "contentEncoding",
];

/// The `format`s the runtime checks (with `jsonschema`'s format
/// validation); any other `format` is only an annotation, and the build
/// warns about it.
pub const CHECKED_FORMATS: [&str; 17] = [
    "date-time",
    "date",
    "time",
    "duration",
    "email",
    "hostname",
    "ipv4",
    "ipv6",
    "uri",
    "uri-reference",
    "iri",
    "iri-reference",
    "uri-template",
    "uuid",
    "json-pointer",
    "relative-json-pointer",
    "regex",
];

/// Whether `key` only annotates a schema.
pub(crate) fn is_annotation(key: &str) -> bool {
    ANNOTATIONS.contains(&key)
}

/// Every direct subschema of `schema` with the path segment that reaches
/// it (`properties.name`, `anyOf[1]`, `items`), in the schema's key order.
pub(crate) fn subschemas(schema: &Value) -> Vec<(String, &Value)> {
    subschema_tokens(schema)
        .into_iter()
        .map(|(tokens, sub)| {
            let segment = match tokens.as_slice() {
                [key, name] if MAP.contains(&key.as_str()) => join_path(key, name),
                [key, index] => format!("{key}[{index}]"),
                _ => tokens.concat(),
            };
            (segment, sub)
        })
        .collect()
}

/// A place [`map_subschemas`] hands to its callback.
pub(crate) enum Slot<'a> {
    /// A subschema, with the path segment that reaches it.
    Schema(&'a str, &'a Value),
    /// The value of a `$ref`.
    Ref(&'a str),
}

/// `schema` with every direct subschema and `$ref` value replaced by what
/// `f` returns for it; every other keyword's value is kept as it is.
pub(crate) fn map_subschemas(schema: &Value, mut f: impl FnMut(Slot<'_>) -> Value) -> Value {
    let Some(object) = schema.as_object() else {
        return schema.clone();
    };
    let mut out = Map::new();
    for (key, value) in object {
        let k = key.as_str();
        let new = if k == "$ref" {
            match value.as_str() {
                Some(reference) => f(Slot::Ref(reference)),
                None => value.clone(),
            }
        } else if SINGLE.contains(&k) {
            f(Slot::Schema(k, value))
        } else if LIST.contains(&k) {
            match value.as_array() {
                Some(items) => Value::Array(
                    items
                        .iter()
                        .enumerate()
                        .map(|(i, item)| f(Slot::Schema(&format!("{k}[{i}]"), item)))
                        .collect(),
                ),
                None => value.clone(),
            }
        } else if MAP.contains(&k) {
            match value.as_object() {
                Some(map) => Value::Object(
                    map.iter()
                        .map(|(name, item)| {
                            (name.clone(), f(Slot::Schema(&join_path(k, name), item)))
                        })
                        .collect(),
                ),
                None => value.clone(),
            }
        } else {
            value.clone()
        };
        out.insert(key.clone(), new);
    }
    Value::Object(out)
}

/// Keywords whose subschemas apply to the value itself, not to a part of it.
const IN_PLACE: [&str; 7] = ["allOf", "anyOf", "oneOf", "not", "if", "then", "else"];

/// The subschemas `schema` applies to the very value it checks: under
/// `allOf`, `anyOf`, `oneOf`, `not`, `if`/`then`/`else` and
/// `dependentSchemas`, but none under `properties`, `items` and the like,
/// which check a part of the value.
pub(crate) fn in_place_subschemas(schema: &Value) -> Vec<&Value> {
    let Some(object) = schema.as_object() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (key, value) in object {
        if IN_PLACE.contains(&key.as_str()) {
            match value {
                Value::Array(items) => out.extend(items),
                other => out.push(other),
            }
        } else if key == "dependentSchemas"
            && let Some(map) = value.as_object()
        {
            out.extend(map.values());
        }
    }
    out
}

/// Every direct subschema of `schema`, with the JSON pointer tokens that
/// reach it (`["properties", "a"]`, `["allOf", "0"]`, `["items"]`).
pub(crate) fn subschema_tokens(schema: &Value) -> Vec<(Vec<String>, &Value)> {
    let Some(object) = schema.as_object() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (key, value) in object {
        let k = key.as_str();
        if SINGLE.contains(&k) {
            out.push((vec![key.clone()], value));
        } else if LIST.contains(&k) {
            for (i, item) in value.as_array().into_iter().flatten().enumerate() {
                out.push((vec![key.clone(), i.to_string()], item));
            }
        } else if MAP.contains(&k) {
            for (name, item) in value.as_object().into_iter().flatten() {
                out.push((vec![key.clone(), name.clone()], item));
            }
        }
    }
    out
}

/// Whether `schema` is a schema resource of its own (it has an `$id`): its
/// references resolve against that `$id`, so nothing rewrites or follows
/// them from outside.
pub(crate) fn is_resource(schema: &Value) -> bool {
    schema.get("$id").is_some()
}

/// Whether the generator keeps `schema` exactly as written for the server's
/// validator and types its values as `serde_json::Value`: a schema resource
/// of its own (`$id`, whose references resolve against it), a dynamic
/// reference, or a reference the spec's one `#/$defs/Name` namespace cannot
/// follow ([`kept_reference`]).
pub(crate) fn is_island(schema: &Value) -> bool {
    let Some(object) = schema.as_object() else {
        return false;
    };
    is_resource(schema)
        || object.contains_key("$dynamicRef")
        || object
            .get("$ref")
            .and_then(Value::as_str)
            .is_some_and(kept_reference)
}

/// A `$ref` left as written for the validator: to a named anchor
/// (`#name`), to an absolute URI (a schema of the spec with that `$id`, or
/// a draft 2020-12 meta-schema, which the validator knows; `check` refuses
/// any other, since the server never fetches a schema), or to a part of a
/// definition (`#/$defs/Name/properties/a`).
pub(crate) fn kept_reference(reference: &str) -> bool {
    let anchor = reference
        .strip_prefix('#')
        .is_some_and(|fragment| !fragment.is_empty() && !fragment.starts_with('/'));
    let absolute = reference.contains("://") || reference.starts_with("urn:");
    let inside_definition = reference
        .strip_prefix("#/$defs/")
        .is_some_and(|rest| rest.contains('/'));
    anchor || absolute || inside_definition
}

/// Whether `schema` holds an island anywhere (not following references).
pub(crate) fn contains_island(schema: &Value) -> bool {
    is_island(schema)
        || subschemas(schema)
            .iter()
            .any(|(_, sub)| contains_island(sub))
}

/// The definition a resolved `$ref` names (`#/$defs/Name` -> `Name`).
pub(crate) fn ref_name(schema: &Value) -> Option<&str> {
    schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/$defs/"))
}

/// The definition `schema` is exactly (a `$ref` with nothing beside it but
/// annotations), if it is one.
pub(crate) fn exact_ref(schema: &Value) -> Option<&str> {
    let object = schema.as_object()?;
    let name = ref_name(schema)?;
    object
        .keys()
        .all(|k| k == "$ref" || is_annotation(k))
        .then_some(name)
}

/// Whether `schema` accepts every value (`true`, `{}`, or annotations only).
pub(crate) fn accepts_anything(schema: &Value) -> bool {
    match schema {
        Value::Bool(b) => *b,
        Value::Object(object) => object.keys().all(|k| is_annotation(k)),
        _ => false,
    }
}

/// `schema` without its annotations, at every depth: what decides which
/// values are valid (two schemas equal under this give the same type).
pub(crate) fn without_annotations(schema: &Value) -> Value {
    let mapped = map_subschemas(schema, |slot| match slot {
        Slot::Schema(_, s) => without_annotations(s),
        Slot::Ref(r) => Value::String(r.to_owned()),
    });
    match mapped {
        Value::Object(mut object) => {
            object.retain(|k, _| !is_annotation(k));
            Value::Object(object)
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn data_keywords_are_not_walked() {
        let schema = json!({
            "const": {"$ref": "#/$defs/X"},
            "enum": [{"properties": {}}],
            "properties": {"a": {"$ref": "#/$defs/A"}},
            "anyOf": [{"type": "string"}, true]
        });
        let paths: Vec<String> = subschemas(&schema).into_iter().map(|(p, _)| p).collect();
        assert_eq!(paths, ["properties.a", "anyOf[0]", "anyOf[1]"]);
        let mut seen = Vec::new();
        let rewritten = map_subschemas(&schema, |slot| match slot {
            Slot::Schema(_, s) => map_subschemas(s, |slot| match slot {
                Slot::Schema(_, s) => s.clone(),
                Slot::Ref(r) => {
                    seen.push(r.to_owned());
                    json!("#/$defs/B")
                }
            }),
            Slot::Ref(r) => json!(r),
        });
        assert_eq!(seen, ["#/$defs/A"]);
        assert_eq!(rewritten["const"], json!({"$ref": "#/$defs/X"}));
        assert_eq!(rewritten["properties"]["a"], json!({"$ref": "#/$defs/B"}));
    }

    #[test]
    fn exact_references_and_annotations() {
        assert_eq!(
            exact_ref(&json!({"$ref": "#/$defs/A", "description": "d"})),
            Some("A")
        );
        assert_eq!(exact_ref(&json!({"$ref": "#/$defs/A", "minimum": 1})), None);
        assert!(accepts_anything(&json!({"description": "any"})));
        assert!(!accepts_anything(&json!({"type": "string"})));
        assert_eq!(
            without_annotations(
                &json!({"type": "string", "description": "x", "properties": {"a": {"title": "t"}}})
            ),
            json!({"type": "string", "properties": {"a": {}}})
        );
    }
}
