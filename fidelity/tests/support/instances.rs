//! Random JSON instances drawn from a schema: a value the schema should
//! accept (callers keep only those `jsonschema` agrees are valid), and
//! mutations of a value, which it may refuse.
//!
//! The generator reads a schema as the conjunction of its parts (itself,
//! what it references, its `allOf`, one branch of each `anyOf`/`oneOf`,
//! `then` or `else`), picks a kind its `type`s allow, and fills it within
//! the bounds it finds. It knows samples for the patterns and formats the
//! random specs use.

use serde_json::{Map, Value, json};

/// xorshift64*.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

const FORMAT_SAMPLES: [(&str, &str); 9] = [
    ("date", "2024-02-29"),
    ("date-time", "2024-02-29T12:30:00Z"),
    ("time", "12:30:00Z"),
    ("email", "bob@example.com"),
    ("uuid", "2f1c5c2e-8d4b-4f7a-9a1e-2b6c7d8e9f01"),
    ("ipv4", "10.0.0.1"),
    ("ipv6", "fe80::1"),
    ("uri", "https://example.com/a?b=c"),
    ("hostname", "api.example.com"),
];

const PATTERN_SAMPLES: [(&str, [&str; 2]); 3] = [
    ("^[a-z]+$", ["abc", "zz"]),
    ("^[0-9]{2,4}$", ["12", "2024"]),
    ("^x-", ["x-", "x-trace"]),
];

const KINDS: [&str; 7] = [
    "null", "boolean", "integer", "number", "string", "array", "object",
];

/// Draws instances of schemas whose `$ref`s point into `defs`.
pub struct Generator<'a> {
    pub defs: &'a Map<String, Value>,
    pub rng: Rng,
}

impl<'a> Generator<'a> {
    pub fn value(&mut self, schema: &'a Value, depth: usize) -> Value {
        match schema {
            Value::Bool(true) => self.anything(depth),
            Value::Object(_) => {
                let mut parts = Vec::new();
                self.parts(schema, 0, &mut parts);
                self.value_of_parts(&parts, depth)
            }
            _ => Value::Null,
        }
    }

    /// The conjunctive parts of a schema, one branch chosen per union.
    fn parts(&mut self, schema: &'a Value, hops: usize, out: &mut Vec<&'a Map<String, Value>>) {
        let Some(object) = schema.as_object() else {
            return;
        };
        out.push(object);
        if hops > 12 {
            return;
        }
        if let Some(target) = object
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("#/$defs/"))
            .and_then(|name| self.defs.get(name))
        {
            self.parts(target, hops + 1, out);
        }
        if let Some(all) = object.get("allOf").and_then(Value::as_array) {
            for part in all {
                self.parts(part, hops + 1, out);
            }
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(branches) = object.get(key).and_then(Value::as_array)
                && !branches.is_empty()
            {
                let pick = &branches[self.rng.below(branches.len())];
                self.parts(pick, hops + 1, out);
            }
        }
        if let Some(condition) = object.get("if") {
            if self.rng.chance(50) {
                self.parts(condition, hops + 1, out);
                if let Some(then) = object.get("then") {
                    self.parts(then, hops + 1, out);
                }
            } else if let Some(otherwise) = object.get("else") {
                self.parts(otherwise, hops + 1, out);
            }
        }
    }

    fn value_of_parts(&mut self, parts: &[&'a Map<String, Value>], depth: usize) -> Value {
        if let Some(value) = parts.iter().find_map(|p| p.get("const")) {
            return value.clone();
        }
        if let Some(values) = parts
            .iter()
            .find_map(|p| p.get("enum").and_then(Value::as_array))
            && !values.is_empty()
        {
            return values[self.rng.below(values.len())].clone();
        }
        let mut allowed: Vec<&str> = KINDS.to_vec();
        for part in parts {
            let types: Vec<&str> = match part.get("type") {
                Some(Value::String(t)) => vec![t.as_str()],
                Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
                _ => continue,
            };
            allowed.retain(|k| types.contains(k) || (*k == "integer" && types.contains(&"number")));
        }
        let has = |key: &str| parts.iter().any(|p| p.contains_key(key));
        let preferred = if has("properties") || has("required") {
            Some("object")
        } else if has("items") || has("prefixItems") {
            Some("array")
        } else if has("pattern") || has("format") || has("minLength") {
            Some("string")
        } else {
            None
        };
        let kind = match preferred.filter(|p| allowed.contains(p)) {
            Some(p) if self.rng.chance(85) => p,
            _ if allowed.is_empty() => "null",
            _ => allowed[self.rng.below(allowed.len())],
        };
        match kind {
            "null" => Value::Null,
            "boolean" => Value::Bool(self.rng.chance(50)),
            "integer" => self.integer(parts),
            "number" => self.number(parts),
            "string" => self.string(parts),
            "array" => self.array(parts, depth),
            _ => self.object(parts, depth),
        }
    }

    fn get_f64(parts: &[&Map<String, Value>], key: &str) -> Option<f64> {
        parts
            .iter()
            .find_map(|p| p.get(key).and_then(Value::as_f64))
    }

    fn integer(&mut self, parts: &[&Map<String, Value>]) -> Value {
        let low = Self::get_f64(parts, "minimum")
            .or_else(|| Self::get_f64(parts, "exclusiveMinimum").map(|m| m.floor() + 1.0));
        let high = Self::get_f64(parts, "maximum")
            .or_else(|| Self::get_f64(parts, "exclusiveMaximum").map(|m| m.ceil() - 1.0));
        // Integers beyond 64 bits, and integers written as floats, when
        // nothing bounds them.
        if high.is_none() && self.rng.chance(15) {
            return [
                json!(1e20),
                json!(9_223_372_036_854_775_808u64),
                json!(u64::MAX),
            ][self.rng.below(3)]
            .clone();
        }
        let low = low.unwrap_or(-50.0).max(-1e12);
        let high = high.unwrap_or(low + 1000.0).min(1e12);
        let span = (high - low).max(0.0) as u64;
        let mut n = low as i64 + (self.rng.next() % (span + 1)) as i64;
        if let Some(step) = Self::get_f64(parts, "multipleOf").filter(|s| *s >= 1.0) {
            let step = step as i64;
            n -= n.rem_euclid(step);
        }
        if self.rng.chance(20) {
            return json!(n as f64);
        }
        json!(n)
    }

    fn number(&mut self, parts: &[&Map<String, Value>]) -> Value {
        let low = Self::get_f64(parts, "minimum").unwrap_or(-100.0);
        let high = Self::get_f64(parts, "maximum").unwrap_or(low + 100.0);
        let x = low + (high - low) * (self.rng.below(1000) as f64 / 1000.0);
        if self.rng.chance(20) {
            return json!(x.round() as i64);
        }
        json!(x)
    }

    fn string(&mut self, parts: &[&Map<String, Value>]) -> Value {
        if let Some(format) = parts
            .iter()
            .find_map(|p| p.get("format").and_then(Value::as_str))
            && let Some((_, sample)) = FORMAT_SAMPLES.iter().find(|(f, _)| *f == format)
        {
            return json!(sample);
        }
        if let Some(pattern) = parts
            .iter()
            .find_map(|p| p.get("pattern").and_then(Value::as_str))
            && let Some((_, samples)) = PATTERN_SAMPLES.iter().find(|(p, _)| *p == pattern)
        {
            return json!(samples[self.rng.below(2)]);
        }
        let min = Self::get_f64(parts, "minLength").unwrap_or(0.0) as usize;
        let max = Self::get_f64(parts, "maxLength").map_or(min + 8, |m| m as usize);
        let len = min + self.rng.below(max.saturating_sub(min) + 1);
        let text: String = (0..len)
            .map(|_| ['a', 'é', 'z', ' ', '😀', '"'][self.rng.below(6)])
            .collect();
        json!(text)
    }

    fn array(&mut self, parts: &[&'a Map<String, Value>], depth: usize) -> Value {
        let mut items = Vec::new();
        if let Some(prefix) = parts
            .iter()
            .find_map(|p| p.get("prefixItems").and_then(Value::as_array))
        {
            for p in prefix {
                items.push(self.value(p, depth + 1));
            }
        }
        let min = Self::get_f64(parts, "minItems").unwrap_or(0.0) as usize;
        let max = Self::get_f64(parts, "maxItems").map_or(min + 3, |m| m as usize);
        let schema = parts.iter().find_map(|p| p.get("items"));
        let wanted = if depth > 4 {
            min
        } else {
            min + self.rng.below(max.saturating_sub(min) + 1)
        };
        while items.len() < wanted {
            match schema {
                Some(Value::Bool(false)) => break,
                Some(s) => items.push(self.value(s, depth + 1)),
                None => items.push(self.anything(depth + 1)),
            }
        }
        Value::Array(items)
    }

    fn object(&mut self, parts: &[&'a Map<String, Value>], depth: usize) -> Value {
        let required: Vec<&str> = parts
            .iter()
            .filter_map(|p| p.get("required").and_then(Value::as_array))
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let mut out = Map::new();
        for part in parts {
            let Some(props) = part.get("properties").and_then(Value::as_object) else {
                continue;
            };
            for (name, schema) in props {
                if out.contains_key(name) {
                    continue;
                }
                if required.contains(&name.as_str()) || (depth < 4 && self.rng.chance(50)) {
                    out.insert(name.clone(), self.value(schema, depth + 1));
                }
            }
        }
        for name in &required {
            if !out.contains_key(*name) {
                out.insert((*name).to_owned(), self.anything(depth + 1));
            }
        }
        let closed = parts.iter().any(|p| {
            p.get("additionalProperties") == Some(&Value::Bool(false))
                || p.get("unevaluatedProperties") == Some(&Value::Bool(false))
        });
        if let Some(patterns) = parts
            .iter()
            .find_map(|p| p.get("patternProperties").and_then(Value::as_object))
            && let Some(schema) = patterns.get("^x-")
            && self.rng.chance(50)
        {
            out.insert("x-extra".to_owned(), self.value(schema, depth + 1));
        }
        if !closed && self.rng.chance(40) {
            let extra = match parts.iter().find_map(|p| p.get("additionalProperties")) {
                Some(Value::Bool(true)) | None => self.anything(depth + 1),
                Some(schema) => self.value(schema, depth + 1),
            };
            out.insert("zz-more".to_owned(), extra);
        }
        Value::Object(out)
    }

    /// Any JSON value, small.
    pub fn anything(&mut self, depth: usize) -> Value {
        match self.rng.below(if depth > 3 { 5 } else { 7 }) {
            0 => Value::Null,
            1 => json!(self.rng.chance(50)),
            2 => json!(self.rng.below(100) as i64 - 50),
            3 => json!(0.25 * self.rng.below(20) as f64),
            4 => json!("any"),
            5 => Value::Array(vec![self.anything(depth + 1)]),
            _ => json!({"k": self.anything(depth + 1)}),
        }
    }

    /// `value` with one place changed: a member replaced by a value of
    /// another kind, removed, or an unknown member added.
    pub fn mutate(&mut self, value: &Value) -> Value {
        let mut pointer = String::new();
        let mut cursor = value;
        loop {
            let descend = self.rng.chance(60);
            match cursor {
                Value::Object(map) if !map.is_empty() && descend => {
                    let Some((key, next)) = map.iter().nth(self.rng.below(map.len())) else {
                        break;
                    };
                    pointer.push('/');
                    pointer.push_str(&key.replace('~', "~0").replace('/', "~1"));
                    cursor = next;
                }
                Value::Array(items) if !items.is_empty() && descend => {
                    let i = self.rng.below(items.len());
                    pointer.push_str(&format!("/{i}"));
                    cursor = &items[i];
                }
                _ => break,
            }
        }
        let mut out = value.clone();
        let Some(at) = out.pointer_mut(&pointer) else {
            return out;
        };
        match (self.rng.below(3), &mut *at) {
            (0, Value::Object(map)) => {
                map.insert("zz-unknown".to_owned(), json!(1));
            }
            (1, Value::Object(map)) if !map.is_empty() => {
                let key = map.keys().next().cloned().unwrap_or_default();
                map.remove(&key);
            }
            _ => {
                *at = match at {
                    Value::String(_) => json!(7),
                    Value::Number(_) => json!("7"),
                    Value::Bool(_) => Value::Null,
                    Value::Null => json!(false),
                    Value::Array(_) => json!({}),
                    Value::Object(_) => json!([]),
                };
            }
        }
        out
    }
}
