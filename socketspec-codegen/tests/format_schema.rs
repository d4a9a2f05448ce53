//! The spec format's JSON Schema (`spec/socketspec.schema.json`) is generated
//! from the codegen's spec types and checked in; these tests keep it fresh
//! and check that it accepts the example spec and rejects a typo.
//!
//! After changing `src/spec.rs`, regenerate it with
//! `SOCKETSPEC_BLESS=1 cargo test -p socketspec-codegen --test format_schema`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use socketspec_codegen::{FORMAT_SCHEMA_ID, format_schema};

fn repo_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the crate is inside the workspace")
        .join(name)
}

fn schema_path() -> PathBuf {
    repo_file("spec/socketspec.schema.json")
}

/// The file's expected text: pretty JSON with a trailing newline.
fn rendered() -> String {
    let mut text = serde_json::to_string_pretty(&format_schema()).unwrap();
    text.push('\n');
    text
}

fn validator() -> jsonschema::Validator {
    jsonschema::validator_for(&format_schema()).expect("the format schema compiles")
}

fn chat_spec() -> Value {
    let text = std::fs::read_to_string(repo_file("spec/chat.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn errors(instance: &Value) -> Vec<String> {
    validator()
        .iter_errors(instance)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

#[test]
fn checked_in_schema_is_up_to_date() {
    let path = schema_path();
    let expected = rendered();
    if std::env::var_os("SOCKETSPEC_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(&path, &expected).unwrap();
        return;
    }
    let actual = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        actual == expected,
        "{} is stale (or missing): it no longer matches the spec types in \
         socketspec-codegen/src/spec.rs.\nUpdate it with:\n\n    \
         SOCKETSPEC_BLESS=1 cargo test -p socketspec-codegen --test format_schema\n\n\
         and commit the result.",
        path.display()
    );
}

#[test]
fn schema_is_draft_2020_12_with_id_and_title() {
    let schema = format_schema();
    assert_eq!(
        schema["$schema"],
        json!("https://json-schema.org/draft/2020-12/schema")
    );
    assert_eq!(schema["$id"], json!(FORMAT_SCHEMA_ID));
    assert_eq!(schema["title"], json!("socketspec spec file"));
    // The first keys are the identifying ones, so the file reads well.
    let keys: Vec<&String> = schema.as_object().unwrap().keys().take(3).collect();
    assert_eq!(keys, ["$schema", "$id", "title"]);
    // Definitions live under `$defs` and every reference points there.
    let defs = schema["$defs"].as_object().unwrap();
    for name in [
        "Info",
        "Room",
        "Event",
        "Message",
        "Broadcast",
        "JsonSchema",
    ] {
        assert!(defs.contains_key(name), "missing $defs.{name}");
    }
    assert!(schema.get("definitions").is_none());
    let text = schema.to_string();
    assert!(!text.contains("#/definitions/"), "{text}");
    // It is itself a valid draft 2020-12 schema.
    jsonschema::draft202012::meta::validate(&schema).unwrap();
}

#[test]
fn required_root_fields() {
    let required = format_schema()["required"].clone();
    let mut required: Vec<String> = serde_json::from_value(required).unwrap();
    required.sort();
    assert_eq!(required, ["events", "info", "socketspec"]);
}

#[test]
fn chat_spec_validates() {
    let spec = chat_spec();
    let errors = errors(&spec);
    assert!(
        errors.is_empty(),
        "spec/chat.json fails the schema: {errors:#?}"
    );
}

#[test]
fn a_typo_fails_at_every_level() {
    // Each pointer names an object of the format; a misspelled key there
    // must fail the schema, as it fails the generator.
    let cases = [
        ("", "event"),
        ("/info", "titel"),
        ("/rooms/lobby", "statik"),
        ("/events/send_message", "broadcast"),
        ("/events/send_message/emits/message_ack", "desciption"),
        (
            "/events/send_message/broadcasts/new_message",
            "exclude_senders",
        ),
    ];
    for (pointer, typo) in cases {
        let mut spec = chat_spec();
        spec.pointer_mut(pointer)
            .unwrap_or_else(|| panic!("chat.json has no {pointer}"))
            .as_object_mut()
            .unwrap()
            .insert(typo.to_owned(), json!(true));
        let errors = errors(&spec);
        assert!(
            errors
                .iter()
                .any(|e| e.starts_with(&format!("{pointer}:")) && e.contains(typo)),
            "a `{typo}` at `{pointer}` should fail the schema, got {errors:?}"
        );
    }
}

#[test]
fn wrong_types_and_missing_fields_fail() {
    let mut spec = chat_spec();
    spec["events"]["echo"]["ordered"] = json!("yes");
    assert!(!validator().is_valid(&spec));

    let mut spec = chat_spec();
    spec["rooms"]["lobby"]["max_members"] = json!(0);
    assert!(
        !validator().is_valid(&spec),
        "max_members must be at least 1"
    );

    let mut spec = chat_spec();
    spec.as_object_mut().unwrap().remove("events");
    let errors = errors(&spec);
    assert!(errors.iter().any(|e| e.contains("events")), "{errors:?}");

    let mut spec = chat_spec();
    spec["events"]["send_message"]["broadcasts"]["new_message"]
        .as_object_mut()
        .unwrap()
        .remove("room");
    assert!(!validator().is_valid(&spec), "a broadcast needs `room`");
}

#[test]
fn every_field_is_documented() {
    // docs/spec-format.md explains the format; a field added to the spec
    // types must be added there too.
    let docs = std::fs::read_to_string(repo_file("docs/spec-format.md")).unwrap();
    let schema = format_schema();
    let mut objects = vec![("(root)".to_owned(), &schema)];
    for (name, def) in schema["$defs"].as_object().unwrap() {
        objects.push((name.clone(), def));
    }
    let mut checked = 0;
    for (object, def) in objects {
        let Some(properties) = def.get("properties").and_then(Value::as_object) else {
            continue;
        };
        for field in properties.keys() {
            assert!(
                docs.contains(&format!("`{field}`")),
                "docs/spec-format.md does not mention `{field}` of {object}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 25, "only {checked} fields found");
    assert!(docs.contains("spec/socketspec.schema.json"));
}
