//! Random schemas for the property test: drawn from the keywords specs use
//! (types and their constraints, enums and consts, arrays and tuples,
//! objects open, closed, with pattern properties, discriminated and mixed
//! unions, `allOf`, `if`/`then`, `not`, `dependentSchemas`,
//! `unevaluatedProperties`, references to recursive and nullable
//! definitions), seeded so a build is reproducible
//! (`SOCKETSPEC_PROP_SEED` draws another set).

use serde_json::{Map, Value, json};

/// The entropy when `SOCKETSPEC_PROP_SEED` is not set.
pub const DEFAULT_SEED: u64 = 0x5eed_f1de_2024;
/// How many schemas (one event each).
pub const SCHEMAS: usize = 120;

/// xorshift64*: small, deterministic, good enough to pick shapes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const WORDS: [&str; 10] = [
    "GET",
    "get",
    "Get",
    "low",
    "high",
    "in-progress",
    "",
    "self",
    "1st",
    "a b",
];
const PROPS: [&str; 10] = [
    "a",
    "b",
    "name",
    "content-type",
    "content_type",
    "type",
    "self",
    "x1",
    "extra",
    "kind2",
];
const FORMATS: [&str; 9] = [
    "date",
    "date-time",
    "time",
    "email",
    "uuid",
    "ipv4",
    "ipv6",
    "uri",
    "hostname",
];
const PATTERNS: [&str; 3] = ["^[a-z]+$", "^[0-9]{2,4}$", "^x-"];

/// The spec: `SCHEMAS` events `p<i>`, each taking `{"value": <schema>}`
/// and sending it back as `seen`, and the definitions they reference.
pub fn spec(entropy: u64, count: usize) -> String {
    let mut rng = Rng(entropy | 1);
    let mut events = Map::new();
    for i in 0..count {
        let schema = draw(&mut rng, 3);
        events.insert(
            format!("p{i}"),
            json!({
                "payload": {
                    "type": "object",
                    "properties": {"value": schema},
                    "required": ["value"]
                },
                "emits": {"seen": {"payload": {"type": "object"}}}
            }),
        );
    }
    serde_json::to_string_pretty(&json!({
        "socketspec": "1",
        "info": {"title": format!("Random schemas (entropy {entropy})"), "version": "1"},
        "$defs": {
            "Tree": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "children": {"type": "array", "items": {"$ref": "#/$defs/Tree"}}
                },
                "required": ["name"]
            },
            "Money": {"type": "integer", "minimum": 0, "maximum": 1_000_000},
            "Level": {"enum": ["low", "high", null]},
            "Base": {
                "type": "object",
                "properties": {"id": {"type": "string"}, "at": {"type": "string", "format": "date-time"}},
                "required": ["id"]
            },
            "Config": {
                "anyOf": [
                    {"type": "string"},
                    {"type": "object", "additionalProperties": {"$ref": "#/$defs/Config"}}
                ]
            }
        },
        "events": events,
    }))
    .unwrap_or_default()
}

fn draw(rng: &mut Rng, depth: usize) -> Value {
    if depth == 0 || rng.chance(35) {
        return scalar(rng);
    }
    match rng.below(15) {
        0 | 1 => object(rng, depth),
        2 => json!({"type": "array", "items": draw(rng, depth - 1), "maxItems": 1 + rng.below(3)}),
        3 => json!({
            "type": "array",
            "prefixItems": [scalar(rng), scalar(rng)],
            "items": false,
            "minItems": 2
        }),
        4 => json!({"type": "array", "prefixItems": [scalar(rng)], "items": scalar(rng)}),
        5 => discriminated(rng, depth),
        6 => json!({"anyOf": [string(rng), integer(rng), object(rng, depth - 1)]}),
        7 => json!({"oneOf": [{"$ref": "#/$defs/Money"}, {"type": "null"}]}),
        8 => json!({"allOf": [object(rng, depth - 1), object(rng, depth - 1)]}),
        9 => json!({
            "type": "object",
            "properties": {"mode": {"enum": ["a", "b"]}, "n": {"type": "integer"}},
            "required": ["mode"],
            "if": {"properties": {"mode": {"const": "a"}}},
            "then": {"required": ["n"]}
        }),
        10 => json!({
            "type": "object",
            "properties": {"a": {"type": "string"}},
            "dependentSchemas": {"a": {"properties": {"b": {"type": "integer"}}, "required": ["b"]}}
        }),
        11 => json!({
            "allOf": [{"$ref": "#/$defs/Base"}],
            "properties": {"z": {"type": "boolean"}},
            "unevaluatedProperties": false
        }),
        12 => {
            json!({"$ref": rng.pick(&["#/$defs/Tree", "#/$defs/Level", "#/$defs/Config", "#/$defs/Base"])})
        }
        13 => json!({"properties": {"a": {"type": "string"}}}),
        _ => json!({"type": "string", "not": {"const": "forbidden"}}),
    }
}

fn scalar(rng: &mut Rng) -> Value {
    match rng.below(11) {
        0 | 1 => string(rng),
        2 | 3 => integer(rng),
        4 => {
            let mut s = json!({"type": "number"});
            if rng.chance(40) {
                s["minimum"] = json!(0.5);
                s["maximum"] = json!(10.5);
            }
            s
        }
        5 => json!({"type": "boolean"}),
        6 => json!({"type": [*rng.pick(&["string", "integer", "number", "boolean"]), "null"]}),
        7 => {
            let count = 1 + rng.below(4);
            let mut values: Vec<&str> = Vec::new();
            while values.len() < count {
                let w = *rng.pick(&WORDS);
                if !values.contains(&w) {
                    values.push(w);
                }
            }
            json!({"type": "string", "enum": values})
        }
        8 => rng
            .pick(&[
                json!({"const": "fixed"}),
                json!({"const": 3}),
                json!({"const": true}),
                json!({"const": {"$ref": "#/$defs/NotAReference"}}),
                json!({"const": null}),
            ])
            .clone(),
        9 => json!({"enum": ["a", 1, null]}),
        _ => json!({"type": "string", "format": rng.pick(&FORMATS)}),
    }
}

fn string(rng: &mut Rng) -> Value {
    match rng.below(3) {
        0 => {
            let min = rng.below(3);
            json!({"type": "string", "minLength": min, "maxLength": min + 1 + rng.below(8)})
        }
        1 => json!({"type": "string", "pattern": rng.pick(&PATTERNS)}),
        _ => json!({"type": "string"}),
    }
}

fn integer(rng: &mut Rng) -> Value {
    match rng.below(6) {
        0 => json!({"type": "integer"}),
        1 => json!({"type": "integer", "minimum": 0, "maximum": 100}),
        2 => json!({"type": "integer", "exclusiveMinimum": -5, "exclusiveMaximum": 5}),
        3 => json!({"type": "integer", "minimum": 0}),
        4 => json!({"type": "integer", "minimum": 0, "maximum": u64::MAX}),
        _ => json!({"type": "integer", "multipleOf": 3}),
    }
}

fn object(rng: &mut Rng, depth: usize) -> Value {
    let mut properties = Map::new();
    for _ in 0..rng.below(4) {
        let name = *rng.pick(&PROPS);
        properties.insert(name.to_owned(), draw(rng, depth.saturating_sub(1)));
    }
    let required: Vec<&String> = properties.keys().filter(|_| rng.chance(50)).collect();
    let mut object = json!({"type": "object", "properties": properties, "required": required});
    match rng.below(5) {
        0 => object["additionalProperties"] = json!(false),
        1 => object["additionalProperties"] = json!(true),
        2 => object["additionalProperties"] = scalar(rng),
        3 => {
            object["patternProperties"] = json!({"^x-": scalar(rng)});
            if rng.chance(50) {
                object["additionalProperties"] = json!(false);
            }
        }
        _ => {}
    }
    object
}

fn discriminated(rng: &mut Rng, depth: usize) -> Value {
    let branches: Vec<Value> = ["update", "heartbeat", "snapshot"]
        .iter()
        .take(2 + rng.below(2))
        .map(|tag| {
            let mut branch = object(rng, depth - 1);
            branch["properties"]["kind"] = json!({"const": tag});
            let mut required: Vec<Value> =
                branch["required"].as_array().cloned().unwrap_or_default();
            required.push(json!("kind"));
            branch["required"] = Value::Array(required);
            if rng.chance(30) {
                json!({"allOf": [{"$ref": "#/$defs/Base"}, branch]})
            } else {
                branch
            }
        })
        .collect();
    json!({"type": "object", "oneOf": branches})
}
