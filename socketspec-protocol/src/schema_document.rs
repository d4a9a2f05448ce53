//! The one JSON Schema document a server validates payloads with: the
//! spec's shared definitions and every client event's payload schema (under
//! `$defs`, at [`payload_schema_key`]), registered under
//! [`SCHEMA_DOCUMENT`]. The runtime builds its validators from it and
//! `socketspec check` compiles the same document, so a spec `check`
//! accepts is one a server starts with.

use serde_json::{Map, Value, json};

/// The URI under which the document is registered.
pub const SCHEMA_DOCUMENT: &str = "urn:socketspec:schemas";

/// The `$defs` key of event `index`'s payload schema in the document: a
/// name no definition can have.
pub fn payload_schema_key(index: usize) -> String {
    format!("event:{index}")
}

/// The schema a validator of event `index` compiles: a reference to its
/// payload schema in the registered document.
pub fn payload_schema_ref(index: usize) -> Value {
    json!({"$ref": format!("{SCHEMA_DOCUMENT}#/$defs/{}", payload_schema_key(index))})
}

/// The document: the shared definitions `defs`, then `payloads` in event
/// order. A self-contained payload schema (a hand-written one) brings its
/// own `$defs`, which join the shared ones so that its `#/$defs/Name` finds
/// them; a schema with an `$id` of its own keeps its `$defs` to itself.
///
/// ```
/// use serde_json::{Map, json};
/// use socketspec_protocol::{payload_schema_key, schema_document};
///
/// let document = schema_document(Map::new(), [json!({"type": "object"})]);
/// assert_eq!(document["$defs"][payload_schema_key(0)], json!({"type": "object"}));
/// ```
pub fn schema_document(
    mut defs: Map<String, Value>,
    payloads: impl IntoIterator<Item = Value>,
) -> Value {
    for (index, schema) in payloads.into_iter().enumerate() {
        if schema.get("$id").is_none()
            && let Some(own) = schema.get("$defs").and_then(Value::as_object)
        {
            for (name, def) in own {
                defs.entry(name.clone()).or_insert_with(|| def.clone());
            }
        }
        defs.insert(payload_schema_key(index), schema);
    }
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$defs": defs,
    })
}
