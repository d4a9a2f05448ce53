//! Anchor references in the AsyncAPI document. A `$ref` to a named anchor
//! (`#name`) becomes a JSON pointer to the schema that declares it: the
//! document keeps its schemas under `components`, which is no schema
//! keyword, so a JSON Schema tool reading the document would not find the
//! anchor there.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::schema::{Slot, map_subschemas, subschema_tokens};

/// Points every anchor reference of `doc`'s component schemas and message
/// payloads at the component schema (or the part of one) declaring it.
pub(super) fn point_anchor_refs(doc: &mut Value) {
    let mut anchors = HashMap::new();
    if let Some(schemas) = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
    {
        for (key, schema) in schemas {
            let at = format!("#/components/schemas/{}", token(key));
            collect(schema, &at, &mut anchors);
        }
    }
    if anchors.is_empty() {
        return;
    }
    if let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        for schema in schemas.values_mut() {
            *schema = rewrite(schema, &anchors);
        }
    }
    if let Some(messages) = doc
        .pointer_mut("/components/messages")
        .and_then(Value::as_object_mut)
    {
        for payload in messages.values_mut().filter_map(|m| m.get_mut("payload")) {
            *payload = rewrite(payload, &anchors);
        }
    }
}

/// The `$anchor`s of `schema` (found at pointer `at`), outside schemas
/// with an `$id` of their own, whose anchors are theirs.
fn collect(schema: &Value, at: &str, anchors: &mut HashMap<String, String>) {
    if crate::schema::is_resource(schema) {
        return;
    }
    if let Some(anchor) = schema.get("$anchor").and_then(Value::as_str) {
        anchors
            .entry(anchor.to_owned())
            .or_insert_with(|| at.to_owned());
    }
    for (tokens, sub) in subschema_tokens(schema) {
        let path: Vec<String> = tokens.iter().map(|t| token(t)).collect();
        collect(sub, &format!("{at}/{}", path.join("/")), anchors);
    }
}

fn rewrite(schema: &Value, anchors: &HashMap<String, String>) -> Value {
    if crate::schema::is_resource(schema) {
        return schema.clone();
    }
    map_subschemas(schema, |slot| match slot {
        Slot::Schema(_, sub) => rewrite(sub, anchors),
        Slot::Ref(reference) => {
            let anchor = reference
                .strip_prefix('#')
                .filter(|name| !name.starts_with('/'));
            match anchor.and_then(|name| anchors.get(name)) {
                Some(pointer) => json!(pointer),
                None => json!(reference),
            }
        }
    })
}

/// One JSON pointer token, escaped for a URI fragment.
fn token(text: &str) -> String {
    let escaped = text.replace('~', "~0").replace('/', "~1");
    let mut out = String::with_capacity(escaped.len());
    for byte in escaped.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchor_references_point_at_their_component() {
        let mut doc = json!({"components": {
            "schemas": {
                "Pos": {"$anchor": "pos", "type": "integer", "minimum": 1},
                "Deep": {"properties": {"a b": {"$anchor": "deep", "type": "string"}}},
                "Own": {"$id": "https://example.com/own", "$defs": {"x": {"$anchor": "pos"}}, "$ref": "#pos"}
            },
            "messages": {"m": {"payload": {"properties": {"n": {"$ref": "#pos"}, "d": {"$ref": "#deep"}}}}}
        }});
        point_anchor_refs(&mut doc);
        let payload = &doc["components"]["messages"]["m"]["payload"]["properties"];
        assert_eq!(payload["n"]["$ref"], "#/components/schemas/Pos");
        assert_eq!(
            payload["d"]["$ref"],
            "#/components/schemas/Deep/properties/a%20b"
        );
        // A schema resource's references are its own.
        assert_eq!(doc["components"]["schemas"]["Own"]["$ref"], "#pos");
    }
}
