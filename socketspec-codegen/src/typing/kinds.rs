//! Which kinds of JSON value a schema can accept: the first thing the
//! type planner decides, since a Rust type holds one kind (or a `null`
//! beside it, as an `Option`).

use indexmap::IndexMap;
use serde_json::Value;

use crate::schema::ref_name;

/// A set of JSON value kinds. Numbers are split into integers (no
/// fractional part, as JSON Schema counts them) and the others.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub(crate) struct Kinds(u8);

impl Kinds {
    pub(crate) const NONE: Kinds = Kinds(0);
    pub(crate) const NULL: Kinds = Kinds(1);
    pub(crate) const BOOLEAN: Kinds = Kinds(2);
    pub(crate) const INTEGER: Kinds = Kinds(4);
    /// Numbers with a fractional part.
    pub(crate) const FRACTION: Kinds = Kinds(8);
    pub(crate) const NUMBER: Kinds = Kinds(4 | 8);
    pub(crate) const STRING: Kinds = Kinds(16);
    pub(crate) const ARRAY: Kinds = Kinds(32);
    pub(crate) const OBJECT: Kinds = Kinds(64);
    pub(crate) const ALL: Kinds = Kinds(127);

    /// The kinds a `type` name stands for.
    pub(crate) fn of_type(name: &str) -> Kinds {
        match name {
            "null" => Kinds::NULL,
            "boolean" => Kinds::BOOLEAN,
            "integer" => Kinds::INTEGER,
            "number" => Kinds::NUMBER,
            "string" => Kinds::STRING,
            "array" => Kinds::ARRAY,
            "object" => Kinds::OBJECT,
            _ => Kinds::NONE,
        }
    }

    /// The kind of one value.
    pub(crate) fn of_value(value: &Value) -> Kinds {
        match value {
            Value::Null => Kinds::NULL,
            Value::Bool(_) => Kinds::BOOLEAN,
            Value::Number(n) if n.is_i64() || n.is_u64() => Kinds::INTEGER,
            Value::Number(n) if n.as_f64().is_some_and(|x| x.fract() == 0.0) => Kinds::INTEGER,
            Value::Number(_) => Kinds::FRACTION,
            Value::String(_) => Kinds::STRING,
            Value::Array(_) => Kinds::ARRAY,
            Value::Object(_) => Kinds::OBJECT,
        }
    }

    pub(crate) fn and(self, other: Kinds) -> Kinds {
        Kinds(self.0 & other.0)
    }

    pub(crate) fn or(self, other: Kinds) -> Kinds {
        Kinds(self.0 | other.0)
    }

    /// Whether any kind of `other` is in the set.
    pub(crate) fn meets(self, other: Kinds) -> bool {
        self.0 & other.0 != 0
    }

    pub(crate) fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The groups a Rust type can hold one of: null, booleans, numbers
    /// (integers and the others together), strings, arrays, objects.
    pub(crate) fn groups(self) -> Vec<Kinds> {
        [
            Kinds::NULL,
            Kinds::BOOLEAN,
            Kinds::NUMBER,
            Kinds::STRING,
            Kinds::ARRAY,
            Kinds::OBJECT,
        ]
        .into_iter()
        .filter_map(|group| {
            let part = self.and(group);
            (!part.is_empty()).then_some(part)
        })
        .collect()
    }
}

/// The kinds of value `schema` can accept, from `type`, `const`, `enum`,
/// references and `allOf`/`anyOf`/`oneOf`. Other keywords only narrow
/// values within a kind, so the answer may be wider than the truth, never
/// narrower.
pub(crate) fn kinds(schema: &Value, defs: &IndexMap<String, Value>) -> Kinds {
    kinds_within(schema, defs, &mut Vec::new())
}

fn kinds_within<'a>(
    schema: &'a Value,
    defs: &'a IndexMap<String, Value>,
    trail: &mut Vec<&'a str>,
) -> Kinds {
    let object = match schema {
        Value::Bool(false) => return Kinds::NONE,
        // Kept as written for the validator: not read here.
        _ if crate::schema::is_island(schema) => return Kinds::ALL,
        Value::Object(object) => object,
        _ => return Kinds::ALL,
    };
    let mut kinds = Kinds::ALL;
    match object.get("type") {
        Some(Value::String(name)) => kinds = Kinds::of_type(name),
        Some(Value::Array(names)) => {
            kinds = names
                .iter()
                .filter_map(Value::as_str)
                .fold(Kinds::NONE, |k, n| k.or(Kinds::of_type(n)));
        }
        _ => {}
    }
    if let Some(value) = object.get("const") {
        kinds = kinds.and(Kinds::of_value(value));
    }
    if let Some(values) = object.get("enum").and_then(Value::as_array) {
        kinds = kinds.and(
            values
                .iter()
                .fold(Kinds::NONE, |k, v| k.or(Kinds::of_value(v))),
        );
    }
    if let Some(name) = ref_name(schema) {
        // A reference back into one being followed is recursion through a
        // combinator, which the spec checks refuse; answer without it.
        if !trail.contains(&name)
            && let Some((key, target)) = defs.get_key_value(name)
        {
            trail.push(key.as_str());
            kinds = kinds.and(kinds_within(target, defs, trail));
            trail.pop();
        }
    }
    if let Some(all) = object.get("allOf").and_then(Value::as_array) {
        for part in all {
            kinds = kinds.and(kinds_within(part, defs, trail));
        }
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(branches) = object.get(key).and_then(Value::as_array) {
            let union = branches
                .iter()
                .fold(Kinds::NONE, |k, b| k.or(kinds_within(b, defs, trail)));
            kinds = kinds.and(union);
        }
    }
    kinds
}

/// Whether `schema`, or a schema it applies in place (`allOf`, `anyOf`,
/// `oneOf`, `not`, `if`/`then`/`else`, `dependentSchemas`, a definition it
/// references), is kept as written for the validator
/// ([`crate::schema::is_island`]). Such a schema's properties and items
/// may be evaluated where the generator does not look, so no Rust type
/// narrower than `serde_json::Value` is safe for it.
pub(crate) fn island_in_place(schema: &Value, defs: &IndexMap<String, Value>) -> bool {
    island_within(schema, defs, &mut Vec::new())
}

fn island_within<'a>(
    schema: &'a Value,
    defs: &'a IndexMap<String, Value>,
    trail: &mut Vec<&'a str>,
) -> bool {
    if crate::schema::is_island(schema) {
        return true;
    }
    if let Some(name) = ref_name(schema)
        && !trail.contains(&name)
        && let Some((key, target)) = defs.get_key_value(name)
    {
        trail.push(key.as_str());
        let found = island_within(target, defs, trail);
        trail.pop();
        if found {
            return true;
        }
    }
    crate::schema::in_place_subschemas(schema)
        .into_iter()
        .any(|sub| island_within(sub, defs, trail))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn of(schema: Value) -> Kinds {
        let mut defs = IndexMap::new();
        defs.insert("Obj".to_owned(), json!({"type": "object"}));
        defs.insert("Ref".to_owned(), json!({"$ref": "#/$defs/Obj"}));
        kinds(&schema, &defs)
    }

    #[test]
    fn kinds_follow_types_values_references_and_combinators() {
        assert_eq!(of(json!({"type": "integer"})), Kinds::INTEGER);
        assert_eq!(
            of(json!({"type": ["string", "null"]})),
            Kinds::STRING.or(Kinds::NULL)
        );
        assert_eq!(
            of(json!({"enum": ["a", 1, null]})),
            Kinds::STRING.or(Kinds::INTEGER).or(Kinds::NULL)
        );
        assert_eq!(of(json!({"const": 1.0})), Kinds::INTEGER);
        assert_eq!(of(json!({"$ref": "#/$defs/Ref"})), Kinds::OBJECT);
        assert_eq!(of(json!({"properties": {"a": {}}})), Kinds::ALL);
        assert_eq!(
            of(json!({"anyOf": [{"type": "string"}, {"$ref": "#/$defs/Obj"}]})),
            Kinds::STRING.or(Kinds::OBJECT)
        );
        assert_eq!(
            of(json!({"type": "number", "allOf": [{"type": "integer"}]})),
            Kinds::INTEGER
        );
        assert_eq!(of(json!(false)), Kinds::NONE);
        assert_eq!(of(json!({"type": "string", "enum": [1]})), Kinds::NONE);
        assert_eq!(Kinds::ALL.groups().len(), 6);
    }
}
