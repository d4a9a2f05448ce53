//! Property tests of the spec pipeline: loading and validation never panic,
//! on any text and on any JSON-shaped spec (a wrong spec is an `Error` that
//! names the file and the path, never a panic, typify's included); when a
//! generated spec is valid, every emitter runs and the generated Rust file
//! parses with `syn`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::cell::Cell;
use std::path::Path;

#[path = "../../fuzz/checks/proptest_config.rs"]
mod proptest_config;

use proptest::prelude::*;
use proptest_config::config;
use serde_json::{Map, Value, json};
use socketspec_codegen::{Builder, check_str};

fn arb_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z_]{1,10}",
        ".{0,12}",
        Just("type".to_owned()),
        Just("self".to_owned()),
        Just("Self".to_owned()),
        Just("fn".to_owned()),
        Just("r#match".to_owned()),
        Just("__ping__".to_owned()),
        Just("0abc".to_owned()),
        Just("héllo wörld".to_owned()),
        Just("a-b.c/d".to_owned()),
        Just(String::new()),
    ]
}

fn arb_scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        arb_text().prop_map(Value::String),
    ]
}

fn arb_json() -> impl Strategy<Value = Value> {
    arb_scalar().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(arb_text(), inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// JSON Schemas: mostly what specs use, sometimes nonsense.
fn arb_schema() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        4 => prop_oneof![
            Just("string"),
            Just("integer"),
            Just("number"),
            Just("boolean"),
            Just("null")
        ]
        .prop_map(|t| json!({ "type": t })),
        1 => Just(json!({})),
        1 => Just(json!(true)),
        1 => Just(json!({"type": ["string", "null"]})),
        1 => Just(json!({"type": "string", "format": "date-time"})),
        1 => Just(json!({"type": "string", "minLength": 1, "maxLength": 64})),
        1 => Just(json!({"type": "integer", "minimum": 0, "maximum": 100})),
        1 => Just(json!({"const": 1})),
        2 => "[A-C]".prop_map(|d| json!({ "$ref": format!("#/$defs/{d}") })),
        1 => "[A-Z][a-z]{0,4}".prop_map(|d| json!({ "$ref": format!("#/$defs/{d}") })),
        1 => Just(json!({"$ref": "#/$defs/Room"})),
        1 => prop_oneof![
            arb_text().prop_map(|r| json!({ "$ref": r })),
            Just(json!({"$ref": "https://example.invalid/x.json"})),
            Just(json!({"$ref": "#/$defs/Room/properties/x"})),
            Just(json!({"$ref": "#"})),
        ],
        1 => arb_text().prop_map(|p| json!({"type": "string", "pattern": p})),
        1 => prop::collection::vec(arb_scalar(), 1..4).prop_map(|e| json!({ "enum": e })),
        1 => arb_json(),
        6 => Just(json!({"type": "string"})),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            3 => (
                prop::collection::btree_map(arb_text(), inner.clone(), 0..4),
                prop::collection::vec(arb_text(), 0..3),
                any::<bool>(),
            )
                .prop_map(|(properties, required, closed)| {
                    json!({
                        "type": "object",
                        "properties": properties,
                        "required": required,
                        "additionalProperties": !closed,
                    })
                }),
            1 => inner.clone().prop_map(|items| json!({"type": "array", "items": items})),
            1 => prop::collection::vec(inner.clone(), 1..3).prop_map(|v| json!({ "oneOf": v })),
            1 => prop::collection::vec(inner.clone(), 1..3).prop_map(|v| json!({ "anyOf": v })),
            1 => prop::collection::vec(inner, 1..3).prop_map(|v| json!({ "allOf": v })),
        ]
    })
}

/// An object payload schema (what events take), or rarely anything.
fn arb_payload() -> impl Strategy<Value = Value> {
    prop_oneof![
        6 => (
            prop::collection::btree_map("[a-z_]{1,8}", arb_schema(), 0..4),
            any::<bool>(),
        )
            .prop_map(|(properties, closed)| {
                let required: Vec<&String> = properties.keys().take(1).collect();
                json!({
                    "type": "object",
                    "properties": properties,
                    "required": required,
                    "additionalProperties": !closed,
                })
            }),
        1 => arb_schema(),
    ]
}

fn arb_room_pattern() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => "[a-z]{1,6}",
        6 => "[a-z]{1,5}:\\{[a-z]{1,5}\\}",
        2 => "[a-z]{1,3}:\\{[a-z]{1,3}\\}/[a-z]{1,3}:\\{[a-z]{1,3}\\}",
        1 => ".{0,8}",
        1 => Just("{x}{y}".to_owned()),
        1 => Just("a:{".to_owned()),
    ]
}

/// Where broadcasts go: mostly the rooms every generated spec declares.
fn arb_broadcast_room() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => Just("chat:{room}".to_owned()),
        2 => Just("lobby".to_owned()),
        1 => arb_room_pattern(),
    ]
}

/// Event and message names: valid most of the time.
fn arb_name() -> impl Strategy<Value = String> {
    prop_oneof![29 => "[a-z][a-z_]{0,10}", 1 => arb_text()]
}

fn arb_event() -> impl Strategy<Value = Value> {
    (
        prop::option::of(arb_payload()),
        prop::collection::btree_map(arb_name(), prop::option::of(arb_payload()), 0..3),
        prop::collection::btree_map(
            arb_name(),
            (
                arb_broadcast_room(),
                prop::option::of(arb_payload()),
                any::<bool>(),
            ),
            0..3,
        ),
        any::<bool>(),
        any::<bool>(),
        prop::option::of(arb_text()),
    )
        .prop_map(
            |(payload, emits, broadcasts, ordered, deprecated, description)| {
                let mut event = Map::new();
                if let Some(p) = payload {
                    event.insert("payload".into(), p);
                }
                let emits: Map<String, Value> = emits
                    .into_iter()
                    .map(|(name, payload)| {
                        let mut m = Map::new();
                        if let Some(p) = payload {
                            m.insert("payload".into(), p);
                        }
                        (name, Value::Object(m))
                    })
                    .collect();
                if !emits.is_empty() {
                    event.insert("emits".into(), Value::Object(emits));
                }
                let broadcasts: Map<String, Value> = broadcasts
                    .into_iter()
                    .map(|(name, (room, payload, exclude))| {
                        let mut m = Map::new();
                        m.insert("room".into(), json!(room));
                        if let Some(p) = payload {
                            m.insert("payload".into(), p);
                        }
                        if exclude {
                            m.insert("exclude_sender".into(), json!(true));
                        }
                        (name, Value::Object(m))
                    })
                    .collect();
                if !broadcasts.is_empty() {
                    event.insert("broadcasts".into(), Value::Object(broadcasts));
                }
                if ordered {
                    event.insert("ordered".into(), json!(true));
                }
                if deprecated {
                    event.insert("deprecated".into(), json!(true));
                }
                if let Some(d) = description {
                    event.insert("description".into(), json!(d));
                }
                Value::Object(event)
            },
        )
}

/// Whole specs: the format's fields, right most of the time.
fn arb_spec() -> impl Strategy<Value = Value> {
    (
        prop_oneof![19 => Just("1".to_owned()), 1 => arb_text()],
        arb_text(),
        prop::collection::btree_map("[A-C]", arb_schema(), 0..3),
        prop::collection::btree_map(
            arb_room_pattern(),
            (
                prop::bool::weighted(0.1),
                any::<bool>(),
                prop::option::weighted(0.2, 0u32..5),
            ),
            0..3,
        ),
        prop::collection::btree_map(arb_name(), arb_event(), 1..4),
        prop::option::weighted(0.1, arb_json()),
    )
        .prop_map(|(version, title, defs, rooms, events, junk)| {
            let mut defs: Map<String, Value> = defs.into_iter().collect();
            defs.insert(
                "Room".into(),
                json!({"type": "string", "pattern": "^[a-z]{1,8}$"}),
            );
            let mut rooms: Map<String, Value> = rooms
                .into_iter()
                .map(|(pattern, (is_static, guarded, max))| {
                    let mut m = Map::new();
                    if is_static {
                        m.insert("static".into(), json!(true));
                    }
                    if guarded {
                        m.insert("guarded".into(), json!(true));
                    }
                    if let Some(max) = max {
                        m.insert("max_members".into(), json!(max));
                    }
                    (pattern, Value::Object(m))
                })
                .collect();
            rooms.insert("chat:{room}".into(), json!({}));
            rooms.insert("lobby".into(), json!({"static": true}));
            let mut spec = json!({
                "socketspec": version,
                "info": {"title": title, "version": "1.0.0"},
                "$defs": defs,
                "rooms": rooms,
                "events": events,
            });
            if let (Some(junk), Some(map)) = (junk, spec.as_object_mut()) {
                map.insert("x-junk".into(), junk);
            }
            spec
        })
}

/// Runs the whole pipeline on `text`; for a valid spec, checks that every
/// emitter works and that the Rust output parses.
fn pipeline(path: &Path, text: &str) -> Result<bool, TestCaseError> {
    // A stack overflow aborts the process before proptest can report the
    // case; with `PROP_SPEC_LAST=file` the case being run is left there.
    if let Some(file) = std::env::var_os("PROP_SPEC_LAST") {
        std::fs::write(file, text).unwrap();
    }
    let model = match check_str(path, text) {
        Ok(model) => model,
        Err(e) => {
            if std::env::var_os("PROP_SPEC_DEBUG").is_some() {
                eprintln!("refused: {e}");
            }
            return Ok(false);
        }
    };
    // Some schemas pass validation and are refused by the type generator
    // (typify) at render time: an error that names the file, not a panic.
    let rust = match Builder::new()
        .emit_rerun_if_changed(false)
        .render(&model, "api")
    {
        Ok(rust) => rust,
        Err(e) => {
            let message = e.to_string();
            prop_assert!(message.contains(&*path.to_string_lossy()), "{}", message);
            if std::env::var_os("PROP_SPEC_DEBUG").is_some() {
                eprintln!("refused at render: {e}");
            }
            return Ok(false);
        }
    };
    if let Err(e) = syn::parse_file(&rust) {
        return Err(TestCaseError::fail(format!(
            "the generated Rust does not parse: {e}\nspec: {text}"
        )));
    }
    prop_assert!(model.typescript().is_ok(), "typescript: {text}");
    prop_assert!(model.asyncapi_json().is_ok(), "asyncapi: {text}");
    prop_assert!(model.docs_html().is_ok(), "docs: {text}");
    Ok(true)
}

proptest! {
    #![proptest_config(config(1_000))]

    #[test]
    fn loading_never_panics_on_any_text(text in ".{0,200}") {
        let _ = check_str("fuzz/spec.json", &text);
    }

    #[test]
    fn loading_never_panics_on_any_json(value in arb_json()) {
        let _ = check_str("fuzz/spec.json", &value.to_string());
    }
}

proptest! {
    #![proptest_config(config(300))]

    #[test]
    fn any_json_shaped_spec_is_an_error_or_generates_parsable_rust(spec in arb_spec()) {
        let text = serde_json::to_string_pretty(&spec).unwrap();
        pipeline(Path::new("fuzz/spec.json"), &text)?;
    }

    #[test]
    fn errors_name_the_file(spec in arb_spec()) {
        let text = spec.to_string();
        if let Err(e) = check_str("some/dir/the-spec.json", &text) {
            prop_assert!(e.to_string().contains("the-spec.json"), "{}", e);
        }
    }
}

/// The generator above must reach valid specs often enough to exercise
/// the emitters, not only the validator.
#[test]
fn generated_specs_are_often_valid() {
    // Deterministic, so the figure does not wander from run to run.
    let mut runner = proptest::test_runner::TestRunner::new_with_rng(
        ProptestConfig::with_cases(200),
        proptest::test_runner::TestRng::deterministic_rng(
            proptest::test_runner::RngAlgorithm::ChaCha,
        ),
    );
    let valid = Cell::new(0usize);
    let total = Cell::new(0usize);
    runner
        .run(&arb_spec(), |spec| {
            let text = spec.to_string();
            total.set(total.get() + 1);
            if pipeline(Path::new("fuzz/spec.json"), &text)? {
                valid.set(valid.get() + 1);
            }
            Ok(())
        })
        .unwrap();
    println!(
        "{} of {} generated specs were valid",
        valid.get(),
        total.get()
    );
    assert!(
        valid.get() * 10 >= total.get(),
        "only {} of {} generated specs were valid",
        valid.get(),
        total.get()
    );
}
