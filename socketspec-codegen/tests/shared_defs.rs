//! Shared definitions once (issue 12, item 7): a spec whose many events
//! share many `$defs` generates a module in which every definition's type
//! is declared exactly once, whose embedded schemas (`META`, the spec, the
//! AsyncAPI document) carry each definition once, not once per event that
//! uses it, and whose size grows linearly with events + definitions.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Map, Value, json};
use socketspec_codegen::{Builder, Model, check_str};

/// A definition's distinctive description, to count in generated text.
fn marker(def: usize) -> String {
    format!("Shared definition marker q{def}z.")
}

fn def_name(def: usize) -> String {
    format!("Shared{def}")
}

fn reference(def: usize) -> Value {
    json!({"$ref": format!("#/$defs/{}", def_name(def))})
}

/// Definition `i`: objects (referencing earlier definitions), enums,
/// strings with patterns, bounded integers and arrays, in turn.
fn definition(i: usize) -> Value {
    let description = marker(i);
    match i % 5 {
        0 if i > 0 => json!({
            "type": "object",
            "description": description,
            "required": ["id"],
            "properties": {
                "id": {"type": "integer", "minimum": 0},
                "label": {"type": "string"},
                "before": reference(i - 1),
                "other": reference(i / 2),
            },
        }),
        0 | 1 => json!({
            "type": "object",
            "description": description,
            "properties": {"name": {"type": "string"}, "count": {"type": "integer"}},
        }),
        2 => {
            json!({"description": description, "enum": [format!("first{i}"), format!("second{i}")]})
        }
        3 => json!({"type": "string", "description": description, "pattern": "^[a-z]+$"}),
        _ => json!({
            "type": "array",
            "description": description,
            "items": reference(i - 1),
            "maxItems": 10,
        }),
    }
}

/// A spec of `events` client events (each with a server event) sharing
/// `defs` definitions: every event references several of them.
fn spec(events: usize, defs: usize) -> String {
    let mut all_defs = Map::new();
    for i in 0..defs {
        all_defs.insert(def_name(i), definition(i));
    }
    let mut all_events = Map::new();
    for e in 0..events {
        let mut properties = Map::new();
        for (k, d) in [e, e * 7 + 3, e * 13 + 5, e * 31 + 11]
            .into_iter()
            .enumerate()
        {
            properties.insert(format!("field{k}"), reference(d % defs));
        }
        properties.insert(
            "all".to_owned(),
            json!({"type": "array", "items": reference((e + 1) % defs)}),
        );
        all_events.insert(
            format!("event_{e}"),
            json!({
                "payload": {"type": "object", "required": ["field0"], "properties": properties},
                "emits": {format!("reply_{e}"): {"payload": {
                    "type": "object",
                    "properties": {"value": reference((e * 17 + 2) % defs)},
                }}},
            }),
        );
    }
    json!({
        "socketspec": "1",
        "info": {"title": "Many shared definitions", "version": "1"},
        "$defs": all_defs,
        "events": all_events,
    })
    .to_string()
}

fn model(events: usize, defs: usize) -> Model {
    check_str("shared.json", &spec(events, defs)).unwrap_or_else(|e| panic!("{e}"))
}

fn module(model: &Model) -> String {
    Builder::new()
        .build_server(true)
        .build_client(true)
        .render(model, "shared")
        .unwrap()
}

/// Items named `name` declared in `code` (`struct`, `enum` or `type`).
fn declarations(code: &str, name: &str) -> usize {
    ["struct", "enum", "type"]
        .iter()
        .map(|kind| {
            let item = format!("{kind} {name}");
            code.match_indices(&item)
                .filter(|(at, _)| {
                    let next = code[at + item.len()..].chars().next();
                    !next.is_some_and(|c| c.is_alphanumeric() || c == '_')
                })
                .count()
        })
        .sum()
}

#[test]
fn every_definition_is_declared_once_in_the_module() {
    let model = model(40, 60);
    let code = module(&model);
    for def in 0..60 {
        let name = def_name(def);
        assert_eq!(
            declarations(&code, &name),
            1,
            "`{name}` is not declared exactly once"
        );
    }
}

#[test]
fn embedded_schemas_carry_each_definition_once() {
    let model = model(40, 60);
    let code = module(&model);
    let asyncapi = model.asyncapi_json().unwrap();
    for def in 0..60 {
        let marker = marker(def);
        // Its doc comment, and `META.schema_defs`.
        let in_module = code.matches(&marker).count();
        assert!(
            (1..=2).contains(&in_module),
            "{marker} appears {in_module} times in the module"
        );
        assert_eq!(model.spec_json().matches(&marker).count(), 1, "{marker}");
        assert_eq!(asyncapi.matches(&marker).count(), 1, "{marker} in AsyncAPI");
    }
    // The TypeScript client declares each definition once. (The docs page
    // embeds no schema: it shows a definition's description in the row of
    // each field that uses it, which grows with the fields, see below.)
    let ts = model.typescript().unwrap();
    for def in 0..60 {
        let marker = marker(def);
        let in_ts = ts.matches(&marker).count();
        assert_eq!(
            in_ts, 1,
            "{marker} appears {in_ts} times in the TypeScript client"
        );
    }
    // No event's schema carries the definitions: they are referenced.
    let defs = code.matches("schema_defs").count();
    assert!(defs <= 2, "schema_defs {defs} times");
}

#[test]
fn the_module_grows_linearly_with_events_and_definitions() {
    // Bytes per event+definition of the module, the docs page and the
    // TypeScript client.
    let sizes = |events: usize, defs: usize| {
        let model = model(events, defs);
        let items = (events + defs) as f64;
        [
            module(&model).len(),
            model.docs_html().unwrap().len(),
            model.typescript().unwrap().len(),
        ]
        .map(|bytes| bytes as f64 / items)
    };
    let small = sizes(10, 15);
    let large = sizes(40, 60);
    let larger = sizes(80, 120);
    // Quadratic growth (each event repeating every definition) would
    // multiply the bytes per item by 4 and 8.
    for (what, i) in [("module", 0), ("docs page", 1), ("TypeScript client", 2)] {
        assert!(
            large[i] <= small[i] * 1.5 && larger[i] <= small[i] * 1.5,
            "{what}: bytes per event+definition {:.0} (25 items), {:.0} (100), {:.0} (200)",
            small[i],
            large[i],
            larger[i]
        );
    }
    assert!(
        larger[0] < 12_000.0,
        "{:.0} bytes per event+definition",
        larger[0]
    );
}
