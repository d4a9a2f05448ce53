//! JSON Schema to TypeScript: the type of a schema, `export interface` or
//! `export type` declarations, and the constraints TypeScript cannot express
//! (lengths, patterns, bounds) as JSDoc tags, since the server enforces them.

use std::fmt::Write as _;

use serde_json::{Map, Value};

use super::names::type_name;
use super::text::{doc_comment, property_key};
use crate::model::Model;

/// The doc lines of a schema: title, description and its constraints as
/// JSDoc tags (the server enforces them; the types cannot express them).
pub(super) fn schema_doc(schema: &Value) -> Vec<String> {
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
    // Kept as written for the server's validator: any JSON value here.
    if crate::schema::is_island(schema) {
        return atom("unknown");
    }
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
                // An index signature, not `Record<..>`: a recursive alias
                // (`type Config = string | { [key: string]: Config }`) may
                // refer to itself through it (TS2456 otherwise).
                format!("{{ [key: string]: {} }}", ty(schema, indent).text)
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
pub(super) fn named_type(out: &mut String, name: &str, schema: &Value, doc: &[String]) {
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
pub(super) fn accepts_empty(model: &Model, schema: &Value) -> bool {
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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::super::test_support::chat;
    use super::*;
    use serde_json::json;

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
  map?: { [key: string]: number };
  any?: unknown;
}

"#;
        assert_eq!(out, expected);
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
