//! Example payloads generated from JSON Schemas, for the docs page's "try it"
//! editors and the AsyncAPI document's message examples.
//!
//! The generator respects `const`, `enum`, `default` and `examples`, string
//! lengths, formats and (simple) patterns, numeric bounds and `multipleOf`,
//! and array sizes; it picks values a person would recognise from the
//! property's name (`room` -> `"general"`, `text` -> `"Hello, world!"`).
//! Every string it proposes is checked against the schema with `jsonschema`,
//! so an unusual pattern falls back to a sample drawn from the pattern
//! itself.
//!
//! ```text
//! use serde_json::json;
//! let model = socketspec_codegen::check_str("api.json", r#"{
//!     "socketspec": "1", "info": {"title": "T", "version": "1"},
//!     "events": {"join": {"payload": {"type": "object", "required": ["room"],
//!         "properties": {"room": {"type": "string", "pattern": "^[a-z]{1,8}$"}}}}}
//! }"#).unwrap();
//! assert_eq!(model.events[0].example.valid(), Some(&json!({"room": "general"})));
//! ```

use indexmap::IndexMap;
use serde_json::{Map, Value};

use super::samples::{
    fit_length, format_example, integer, name_hint, number, sample_pattern, vary,
};

/// How deep nested (or recursive) schemas are followed.
const MAX_DEPTH: usize = 8;

/// A payload schema's example, searched once ([`PayloadExample::find`]).
#[derive(Debug, Clone, Default)]
pub struct PayloadExample {
    value: Value,
    valid: bool,
}

impl PayloadExample {
    /// The example of `schema`, whose `$ref`s point into `defs`.
    pub(crate) fn find(defs: &IndexMap<String, Value>, schema: &Value) -> PayloadExample {
        match search(defs, schema) {
            Ok(value) => PayloadExample { value, valid: true },
            Err(value) => PayloadExample {
                value,
                valid: false,
            },
        }
    }

    /// A value the schema accepts; `None` when no candidate satisfied it.
    pub fn valid(&self) -> Option<&Value> {
        self.valid.then_some(&self.value)
    }

    /// The valid example, or else the closest candidate (a starting point
    /// for the docs page's editor).
    pub fn best(&self) -> &Value {
        &self.value
    }
}

/// A valid example of `schema`: the schema's own first valid `examples`
/// value, else the first generated candidate that the schema accepts
/// (checked with `jsonschema`, formats included), trying other union
/// branches, fewer optional properties and the like in turn; `None` when
/// no candidate satisfies the schema (no value may: `false`, `not: {}`).
pub fn valid_example_with_defs(defs: &IndexMap<String, Value>, schema: &Value) -> Option<Value> {
    search(defs, schema).ok()
}

/// `Ok` with the first valid candidate, or `Err` with the first one tried.
fn search(defs: &IndexMap<String, Value>, schema: &Value) -> Result<Value, Value> {
    let validator = jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&crate::model::with_defs(schema, defs))
        .ok();
    let valid = |value: &Value| validator.as_ref().is_none_or(|v| v.is_valid(value));
    // The schema's own `examples` (beside a `$ref` too), then the ones of
    // the definition it references.
    let own = [schema, deref_with(defs, schema)]
        .into_iter()
        .filter_map(|s| s.get("examples").and_then(Value::as_array))
        .flatten()
        .find(|e| valid(e));
    if let Some(example) = own {
        return Ok(example.clone());
    }
    let mut first = None;
    for strategy in STRATEGIES {
        let candidate = Generator {
            defs,
            trail: std::cell::RefCell::new(Vec::new()),
            strategy,
        }
        .value(schema, "", 0, false);
        if valid(&candidate) {
            return Ok(candidate);
        }
        first.get_or_insert(candidate);
    }
    Err(first.unwrap_or(Value::Null))
}

/// How a candidate is built; [`PayloadExample::find`] tries them in order.
#[derive(Debug, Clone, Copy)]
struct Strategy {
    /// Use `examples` and `default` values found inside the schema.
    given: bool,
    /// Include optional properties.
    optional: bool,
    /// Which `oneOf`/`anyOf` branch to take (rotating from the first
    /// non-null one).
    branch: usize,
    /// Array items wanted (at least the minimum).
    extra_items: u64,
}

const STRATEGIES: [Strategy; 10] = [
    Strategy {
        given: true,
        optional: true,
        branch: 0,
        extra_items: 1,
    },
    Strategy {
        given: true,
        optional: false,
        branch: 0,
        extra_items: 0,
    },
    Strategy {
        given: false,
        optional: true,
        branch: 0,
        extra_items: 1,
    },
    Strategy {
        given: false,
        optional: false,
        branch: 0,
        extra_items: 0,
    },
    Strategy {
        given: true,
        optional: true,
        branch: 1,
        extra_items: 1,
    },
    Strategy {
        given: false,
        optional: false,
        branch: 1,
        extra_items: 0,
    },
    Strategy {
        given: true,
        optional: true,
        branch: 2,
        extra_items: 1,
    },
    Strategy {
        given: false,
        optional: false,
        branch: 2,
        extra_items: 0,
    },
    Strategy {
        given: false,
        optional: true,
        branch: 3,
        extra_items: 2,
    },
    Strategy {
        given: false,
        optional: false,
        branch: 3,
        extra_items: 0,
    },
];

struct Generator<'a> {
    defs: &'a IndexMap<String, Value>,
    /// The definitions being expanded, outermost first: a `$ref` back into
    /// one of them is recursion.
    trail: std::cell::RefCell<Vec<String>>,
    strategy: Strategy,
}

/// Follows a `$ref` chain to the schema it names.
fn deref_with<'s>(defs: &'s IndexMap<String, Value>, mut schema: &'s Value) -> &'s Value {
    for _ in 0..MAX_DEPTH {
        let Some(target) = crate::schema::ref_name(schema).and_then(|name| defs.get(name)) else {
            break;
        };
        schema = target;
    }
    schema
}

impl Generator<'_> {
    /// Follows a `$ref` chain to the schema it names.
    fn deref<'s>(&'s self, schema: &'s Value) -> &'s Value {
        deref_with(self.defs, schema)
    }

    /// An example for `schema`. `minimal` (inside a recursive definition):
    /// only required properties and the fewest array items, so the example
    /// stays finite.
    fn value(&self, schema: &Value, name: &str, depth: usize, minimal: bool) -> Value {
        let entered = schema
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("#/$defs/"))
            .map(str::to_owned);
        let Some(def) = entered else {
            return self.value_inner(schema, name, depth, minimal);
        };
        let recursive = self.trail.borrow().contains(&def);
        self.trail.borrow_mut().push(def);
        let value = self.value_inner(schema, name, depth, minimal || recursive);
        self.trail.borrow_mut().pop();
        value
    }

    fn value_inner(&self, schema: &Value, name: &str, depth: usize, minimal: bool) -> Value {
        let schema = self.deref(schema);
        let Some(obj) = schema.as_object() else {
            // `true` or `{}`-like: anything goes.
            return Value::Null;
        };
        if depth > MAX_DEPTH {
            return Value::Null;
        }
        if let Some(v) = obj.get("const") {
            return v.clone();
        }
        if self.strategy.given {
            if let Some(first) = obj
                .get("examples")
                .and_then(Value::as_array)
                .and_then(|a| a.first())
            {
                return first.clone();
            }
            if let Some(v) = obj.get("default") {
                return v.clone();
            }
        }
        if let Some(first) = obj
            .get("enum")
            .and_then(Value::as_array)
            .and_then(|a| a.iter().find(|v| !v.is_null()).or(a.first()))
        {
            return first.clone();
        }
        for key in ["oneOf", "anyOf"] {
            if let Some(alts) = obj.get(key).and_then(Value::as_array) {
                let not_null: Vec<&Value> = alts
                    .iter()
                    .filter(|a| !is_null_type(self.deref(a)))
                    .collect();
                let pick = if not_null.is_empty() {
                    alts.first()
                } else {
                    not_null.get(self.strategy.branch % not_null.len()).copied()
                };
                if let Some(alt) = pick {
                    return self.merge_siblings(
                        obj,
                        key,
                        self.value(alt, name, depth + 1, minimal),
                        minimal,
                    );
                }
            }
        }
        if let Some(parts) = obj.get("allOf").and_then(Value::as_array) {
            let mut merged = Value::Null;
            for part in parts {
                merged = merge(merged, self.value(part, name, depth + 1, minimal));
            }
            return self.merge_siblings(obj, "allOf", merged, minimal);
        }
        match primary_type(obj) {
            Some("object") => self.object(obj, depth, minimal),
            Some("array") => self.array(obj, name, depth, minimal),
            Some("string") => self.string(schema, obj, name),
            Some("integer") => integer(obj, name),
            Some("number") => number(obj, name),
            Some("boolean") => Value::Bool(true),
            Some("null") => Value::Null,
            _ => Value::Null,
        }
    }

    /// `{"allOf": [...], "properties": {...}}`: the keywords beside the
    /// combinator add to the example.
    fn merge_siblings(
        &self,
        obj: &Map<String, Value>,
        combinator: &str,
        base: Value,
        minimal: bool,
    ) -> Value {
        let mut rest = obj.clone();
        rest.remove(combinator);
        // What the branch requires (`oneOf: [{required: [a]}, ...]`) the
        // siblings' properties must describe, even when they are optional.
        if let Value::Object(branch) = &base {
            let mut required: Vec<Value> = rest
                .get("required")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for key in branch.keys() {
                let key = Value::String(key.clone());
                if !required.contains(&key) {
                    required.push(key);
                }
            }
            rest.insert("required".to_owned(), Value::Array(required));
        }
        if rest.contains_key("properties") || primary_type(&rest) == Some("object") {
            merge(base, self.object(&rest, 1, minimal))
        } else {
            base
        }
    }

    fn object(&self, obj: &Map<String, Value>, depth: usize, minimal: bool) -> Value {
        let required: Vec<&str> = obj
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let mut out = Map::new();
        let min_properties = obj
            .get("minProperties")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        let optional =
            !minimal && (self.strategy.optional || min_properties > required.len() as u64);
        if let Some(props) = obj.get("properties").and_then(Value::as_object) {
            for (key, sub) in props {
                if !optional && !required.contains(&key.as_str()) {
                    continue;
                }
                out.insert(key.clone(), self.value(sub, key, depth + 1, minimal));
            }
        }
        // Required keys with no property schema still need a value.
        for key in required {
            out.entry(key.to_owned()).or_insert(Value::Null);
        }
        // `minProperties` beyond the named properties: keys drawn from
        // `patternProperties`, then from `additionalProperties`.
        let wanted = usize::try_from(min_properties).unwrap_or(usize::MAX);
        let patterns = obj.get("patternProperties").and_then(Value::as_object);
        for (pattern, sub) in patterns.into_iter().flatten() {
            if out.len() >= wanted {
                break;
            }
            let key = sample_pattern(pattern);
            if !out.contains_key(&key) {
                let value = self.value(sub, &key, depth + 1, minimal);
                out.insert(key, value);
            }
        }
        let extra = obj.get("additionalProperties");
        let mut index = 1;
        while out.len() < wanted && extra != Some(&Value::Bool(false)) && index <= wanted + 1 {
            let key = format!("key{index}");
            index += 1;
            if out.contains_key(&key) {
                continue;
            }
            let value = match extra.filter(|e| e.is_object()) {
                Some(sub) => self.value(sub, &key, depth + 1, minimal),
                None => Value::String("value".to_owned()),
            };
            out.insert(key, value);
        }
        Value::Object(out)
    }

    fn array(&self, obj: &Map<String, Value>, name: &str, depth: usize, minimal: bool) -> Value {
        let singular = name.strip_suffix('s').unwrap_or(name);
        let mut items: Vec<Value> = Vec::new();
        if let Some(prefix) = obj.get("prefixItems").and_then(Value::as_array) {
            items.extend(
                prefix
                    .iter()
                    .map(|p| self.value(p, singular, depth + 1, minimal)),
            );
        }
        let min = obj.get("minItems").and_then(Value::as_u64).unwrap_or(0);
        let max = obj.get("maxItems").and_then(Value::as_u64);
        let item_schema = obj.get("items").filter(|i| i.is_object());
        // An item that would re-enter a definition being expanded: as few
        // as allowed.
        let reenters = item_schema
            .and_then(|i| i.get("$ref"))
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("#/$defs/"))
            .is_some_and(|d| self.trail.borrow().iter().any(|t| t == d));
        let wanted = if minimal || reenters {
            min
        } else {
            min.max(self.strategy.extra_items)
                .min(max.unwrap_or(u64::MAX))
        };
        let unique = obj.get("uniqueItems") == Some(&Value::Bool(true));
        while (items.len() as u64) < wanted {
            let Some(schema) = item_schema else { break };
            let mut item = self.value(schema, singular, depth + 1, minimal);
            if unique {
                // The same schema gives the same value: vary it until it
                // differs from every item so far (the validator has the
                // last word on whether the variant fits).
                let mut step = items.len() as u64;
                while items.contains(&item) && step < items.len() as u64 + 8 {
                    item = vary(&item, step);
                    step += 1;
                }
                if items.contains(&item) {
                    break;
                }
            }
            items.push(item);
        }
        Value::Array(items)
    }

    fn string(&self, schema: &Value, obj: &Map<String, Value>, name: &str) -> Value {
        let min = obj.get("minLength").and_then(Value::as_u64).unwrap_or(0) as usize;
        let max = obj
            .get("maxLength")
            .and_then(Value::as_u64)
            .map(|m| m as usize);
        let mut candidates: Vec<String> = Vec::new();
        if let Some(format) = obj.get("format").and_then(Value::as_str) {
            candidates.extend(format_example(format).map(str::to_owned));
        }
        candidates.push(name_hint(name).to_owned());
        if let Some(pattern) = obj.get("pattern").and_then(Value::as_str) {
            candidates.push(sample_pattern(pattern));
        }
        candidates.extend(["example", "general", "abc", "a", "1", "A1"].map(str::to_owned));
        let fitted: Vec<String> = candidates.iter().map(|c| fit_length(c, min, max)).collect();
        let validator = self.validator(schema);
        let pick = fitted
            .iter()
            .find(|c| {
                validator
                    .as_ref()
                    .is_none_or(|v| v.is_valid(&Value::String((*c).clone())))
            })
            .or(fitted.first());
        Value::String(pick.cloned().unwrap_or_default())
    }

    /// A validator for a string schema, its shared definitions attached.
    fn validator(&self, schema: &Value) -> Option<jsonschema::Validator> {
        jsonschema::draft202012::options()
            .should_validate_formats(true)
            .build(&crate::model::with_defs(schema, self.defs))
            .ok()
    }
}

fn is_null_type(schema: &Value) -> bool {
    schema.get("type").and_then(Value::as_str) == Some("null")
}

/// The schema's type: its `type` (the first non-null one of a list), or
/// what its keywords imply.
fn primary_type(obj: &Map<String, Value>) -> Option<&str> {
    match obj.get("type") {
        Some(Value::String(t)) => Some(t.as_str()),
        Some(Value::Array(types)) => types
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .or(Some("null")),
        _ if obj.contains_key("properties") || obj.contains_key("required") => Some("object"),
        _ if obj.contains_key("items") || obj.contains_key("prefixItems") => Some("array"),
        _ if obj.contains_key("pattern")
            || obj.contains_key("minLength")
            || obj.contains_key("maxLength")
            || obj.contains_key("format") =>
        {
            Some("string")
        }
        _ if obj.contains_key("minimum") || obj.contains_key("maximum") => Some("number"),
        _ => None,
    }
}

fn merge(a: Value, b: Value) -> Value {
    match (a, b) {
        (Value::Object(mut a), Value::Object(b)) => {
            // A property one side only names (`null`, from a bare
            // `required`) takes the other side's value.
            for (k, v) in b {
                let merged = match a.remove(&k) {
                    Some(existing) => merge(existing, v),
                    None => v,
                };
                a.insert(k, merged);
            }
            Value::Object(a)
        }
        (Value::Null, b) => b,
        (a, _) => a,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn unique_items_get_distinct_values() {
        let defs = IndexMap::new();
        for schema in [
            json!({"type": "array", "items": {"type": "boolean"}, "minItems": 2, "uniqueItems": true}),
            json!({"type": "array", "items": {"type": "integer"}, "minItems": 3, "uniqueItems": true}),
            json!({"type": "array", "items": {"type": "string"}, "minItems": 3, "uniqueItems": true}),
            json!({"type": "array", "items": {"type": "object", "required": ["a"], "properties": {"a": {"type": "string"}}}, "minItems": 2, "uniqueItems": true}),
        ] {
            let example = valid_example_with_defs(&defs, &schema);
            assert!(example.is_some(), "{schema}");
        }
        // Nothing satisfies these: no example rather than a wrong one.
        for schema in [
            json!(false),
            json!({"not": {}}),
            json!({"type": "array", "items": {"const": 1}, "minItems": 2, "uniqueItems": true}),
        ] {
            assert_eq!(valid_example_with_defs(&defs, &schema), None, "{schema}");
        }
    }

    #[test]
    fn integers_respect_bounds_and_steps() {
        let obj = |v: Value| v.as_object().cloned().unwrap_or_default();
        assert_eq!(
            integer(&obj(json!({"minimum": 5, "maximum": 9})), "n"),
            json!(5)
        );
        assert_eq!(
            integer(&obj(json!({"minimum": 0, "maximum": 5000})), "delay_ms"),
            json!(100)
        );
        assert_eq!(integer(&obj(json!({"multipleOf": 7})), "n"), json!(7));
        assert_eq!(
            integer(&obj(json!({"exclusiveMaximum": 0})), "n"),
            json!(-1)
        );
    }

    #[test]
    fn strings_fit_length_and_pattern() {
        let defs = IndexMap::new();
        let find = |schema: Value| PayloadExample::find(&defs, &schema).best().clone();
        let v = find(json!({"type": "string", "minLength": 20}));
        assert!(v.as_str().is_some_and(|s| s.chars().count() >= 20), "{v}");
        let v = find(json!({"type": "string", "pattern": "^[A-Z]{2}\\d{4}$"}));
        assert_eq!(v, json!("AA1111"));
        let v = find(json!({"type": "string", "format": "email"}));
        assert_eq!(v, json!("alice@example.com"));
    }
}
