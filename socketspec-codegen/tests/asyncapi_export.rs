//! The AsyncAPI 3.0 export, validated against the official JSON Schema from
//! the npm package `@asyncapi/specs` (`schemas/3.0.0.json`, installed under
//! `tests/browser/node_modules` by `scripts/test.sh`), and checked for the
//! structure tools rely on: every `$ref` resolves, every message's example
//! matches its own schema, operations and replies follow the spec.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn chat() -> socketspec_codegen::Model {
    socketspec_codegen::check(workspace().join("spec/chat.json")).unwrap()
}

/// The official AsyncAPI 3.0.0 schema. Missing is a failure, with the fix.
fn official_schema() -> Value {
    let path = workspace().join("tests/browser/node_modules/@asyncapi/specs/schemas/3.0.0.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read the official AsyncAPI 3.0 schema at {}: {e}\n\
             install it with `npm install --prefix tests/browser` (scripts/test.sh does it)",
            path.display()
        )
    });
    serde_json::from_str(&text).unwrap()
}

fn validate_against_official(doc: &Value) {
    let schema = official_schema();
    // Draft-07 with every definition embedded under its own `$id`: refs
    // resolve inside the document, nothing is fetched.
    let validator = jsonschema::draft7::new(&schema)
        .unwrap_or_else(|e| panic!("the official schema does not compile offline: {e}"));
    let errors: Vec<String> = validator
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "the export is not valid AsyncAPI 3.0:\n{}",
        errors.join("\n")
    );
}

#[test]
fn the_official_schema_rejects_a_broken_document() {
    // The validator really validates: a document missing `info` fails.
    let schema = official_schema();
    let validator = jsonschema::draft7::new(&schema).unwrap();
    let mut doc = chat().asyncapi();
    assert!(validator.is_valid(&doc));
    doc.as_object_mut().unwrap().remove("info");
    assert!(!validator.is_valid(&doc));
    let mut doc = chat().asyncapi();
    doc["operations"]["receive_echo"]["action"] = json!("publish");
    assert!(!validator.is_valid(&doc));
}

#[test]
fn chat_export_is_valid_asyncapi_3() {
    let doc = chat().asyncapi();
    assert_eq!(doc["asyncapi"], "3.0.0");
    validate_against_official(&doc);
}

#[test]
fn chat_export_describes_every_event_reply_broadcast_and_system_event() {
    let model = chat();
    let doc = model.asyncapi();
    let ops = doc["operations"].as_object().unwrap();
    let channel = &doc["channels"]["socket"];
    assert_eq!(channel["address"], "/ws");
    assert_eq!(channel["bindings"]["ws"]["bindingVersion"], "0.1.0");
    assert!(channel["bindings"]["ws"]["query"]["properties"]["token"].is_object());
    assert!(channel["bindings"]["ws"]["query"]["properties"]["api_key"].is_object());

    // The spec file itself says what each event replies with.
    let spec: Value =
        serde_json::from_str(&std::fs::read_to_string(workspace().join("spec/chat.json")).unwrap())
            .unwrap();
    let events = spec["events"].as_object().unwrap();
    assert_eq!(model.event_names().len(), events.len());
    for (name, event) in events {
        let op = &ops[&format!("receive_{name}")];
        assert_eq!(op["action"], "receive", "{name}");
        assert_eq!(op["channel"]["$ref"], "#/channels/socket");
        let replies: Vec<&str> = op["reply"]["messages"]
            .as_array()
            .map(|m| m.iter().filter_map(|r| r["$ref"].as_str()).collect())
            .unwrap_or_default();
        let expected: Vec<String> = event["emits"]
            .as_object()
            .map(|emits| {
                emits
                    .keys()
                    .map(|emit| format!("#/channels/socket/messages/{emit}"))
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(replies, expected, "replies of {name}");
        let message = &doc["components"]["messages"][name];
        assert_eq!(
            message["payload"]["properties"]["event"]["const"],
            json!(name)
        );
        assert_eq!(
            message["correlationId"]["$ref"],
            "#/components/correlationIds/requestId"
        );
    }
    for server in model.server_event_names() {
        let op = &ops[&format!("send_{server}")];
        assert_eq!(op["action"], "send", "{server}");
    }
    // Room patterns: tags and the extension on the broadcast operation.
    let new_message = &ops["send_new_message"];
    assert_eq!(new_message["tags"], json!([{"name": "room:chat:{room}"}]));
    assert_eq!(
        new_message["x-socketspec-broadcast"][0]["room"],
        "chat:{room}"
    );
    assert_eq!(
        new_message["x-socketspec-broadcast"][0]["from"],
        "send_message"
    );
    let user_joined = &ops["send_user_joined"];
    assert_eq!(
        user_joined["x-socketspec-broadcast"][0]["exclude_sender"],
        true
    );
    let info_tags: Vec<&str> = doc["info"]["tags"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    for room in ["room:lobby", "room:chat:{room}", "room:admin:{section}"] {
        assert!(info_tags.contains(&room), "{room} in {info_tags:?}");
    }
    assert_eq!(doc["x-socketspec-rooms"][2]["guarded"], true);
    assert_eq!(doc["x-socketspec-rooms"][0]["static"], true);
    // Ordered events are marked.
    assert_eq!(ops["receive_slow_echo"]["x-socketspec"]["ordered"], true);
    assert_eq!(ops["receive_echo"]["x-socketspec"]["ordered"], false);

    // System events both ways, the error envelope with every code.
    let names: Vec<&str> = doc["components"]["messages"]
        .as_object()
        .unwrap()
        .values()
        .filter_map(|m| m["name"].as_str())
        .collect();
    for sys in socketspec_protocol::SystemEvent::ALL.map(|e| e.name()) {
        assert!(names.contains(&sys), "{sys} missing from {names:?}");
    }
    assert_eq!(ops["receive_system_pong"]["action"], "receive");
    assert_eq!(ops["send_system_ping"]["action"], "send");
    assert_eq!(
        ops["receive_system_refresh_auth_request"]["action"],
        "receive"
    );
    assert_eq!(ops["send_system_refresh_auth_result"]["action"], "send");
    let codes = &doc["components"]["messages"]["system_error"]["payload"]["properties"]["payload"]
        ["properties"]["code"]["enum"];
    assert_eq!(codes.as_array().map(Vec::len), Some(11), "{codes}");
    // Shared definitions moved to components, refs rewritten.
    assert_eq!(
        doc["components"]["schemas"]["Room"]["pattern"],
        "^[A-Za-z0-9_-]{1,64}$"
    );
    assert_eq!(
        doc["components"]["messages"]["join_room"]["payload"]["properties"]["payload"]["properties"]
            ["room"]["$ref"],
        "#/components/schemas/Room"
    );
}

/// Every `$ref` in the document points at something that exists.
fn assert_refs_resolve(doc: &Value, at: &Value, path: &str) {
    match at {
        Value::Object(obj) => {
            if let Some(Value::String(r)) = obj.get("$ref") {
                let pointer = r
                    .strip_prefix('#')
                    .unwrap_or_else(|| panic!("external ref {r} at {path}"));
                assert!(
                    doc.pointer(pointer).is_some(),
                    "{r} at {path} does not resolve"
                );
            }
            for (k, v) in obj {
                assert_refs_resolve(doc, v, &format!("{path}/{k}"));
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                assert_refs_resolve(doc, v, &format!("{path}/{i}"));
            }
        }
        _ => {}
    }
}

/// Each message's example validates against its own payload schema.
fn assert_examples_match(doc: &Value) {
    for (key, message) in doc["components"]["messages"].as_object().unwrap() {
        let mut schema = message["payload"].clone();
        schema["components"] = json!({"schemas": doc["components"]["schemas"]});
        let validator = jsonschema::draft7::new(&schema)
            .unwrap_or_else(|e| panic!("message {key}: schema does not compile: {e}"));
        let example = &message["examples"][0]["payload"];
        let errors: Vec<String> = validator
            .iter_errors(example)
            .map(|e| e.to_string())
            .collect();
        assert!(
            errors.is_empty(),
            "message {key}: example {example} fails: {errors:?}"
        );
    }
}

#[test]
fn chat_refs_resolve_and_examples_match_their_schemas() {
    let doc = chat().asyncapi();
    assert_refs_resolve(&doc, &doc, "");
    assert_examples_match(&doc);
}

const RICH_SPEC: &str = r##"{
  "socketspec": "1",
  "info": {"title": "Shop <Orders>", "version": "2.1.0"},
  "$defs": {
    "Sku": {"type": "string", "pattern": "^[A-Z]{3}-\\d{3}$"},
    "Line": {"type": "object", "required": ["sku", "qty"], "properties": {
      "sku": {"$ref": "#/$defs/Sku"},
      "qty": {"type": "integer", "exclusiveMinimum": 0, "multipleOf": 2}
    }}
  },
  "rooms": {
    "orders:{customer}": {"guarded": true, "max_members": 5},
    "ops": {"static": true}
  },
  "events": {
    "place-order": {
      "tags": ["orders"],
      "deprecated": true,
      "payload": {"type": "object", "required": ["lines", "when"], "properties": {
        "lines": {"type": "array", "minItems": 2, "items": {"$ref": "#/$defs/Line"}},
        "when": {"type": "string", "format": "date-time"},
        "note": {"type": ["string", "null"], "maxLength": 3},
        "channel": {"type": "string", "enum": ["web", "phone"]}
      }},
      "emits": {"order.placed": {"payload": {"type": "object", "properties": {"id": {"type": "string", "minLength": 8}}}}},
      "broadcasts": {"order_feed": {"room": "orders:{customer}", "payload": {"type": "object", "properties": {"sku": {"$ref": "#/$defs/Sku"}}}},
                     "ops_feed": {"room": "ops"}}
    }
  }
}"##;

#[test]
fn a_rich_spec_exports_valid_asyncapi() {
    let model = socketspec_codegen::check_str("shop.json", RICH_SPEC).unwrap();
    let doc = model.asyncapi();
    validate_against_official(&doc);
    assert_refs_resolve(&doc, &doc, "");
    assert_examples_match(&doc);
    // Names with dots and dashes are valid component keys.
    let messages = doc["components"]["messages"].as_object().unwrap();
    assert_eq!(
        messages["order.placed"]["payload"]["properties"]["event"]["const"],
        "order.placed"
    );
    assert_eq!(messages["place-order"]["tags"], json!([{"name": "orders"}]));
    assert_eq!(
        doc["operations"]["receive_place-order"]["x-socketspec"]["deprecated"],
        true
    );
    assert_eq!(doc["x-socketspec-rooms"][0]["max_members"], 5);
}

#[test]
fn json_text_is_the_same_document() {
    let model = chat();
    let json: Value = serde_json::from_str(&model.asyncapi_json().unwrap()).unwrap();
    assert_eq!(json, model.asyncapi());
}

#[test]
fn data_shaped_like_a_reference_is_exported_as_written() {
    let spec = r##"{
        "socketspec": "1", "info": {"title": "Refs as data", "version": "1"},
        "$defs": {"Shape": {"type": "object", "properties": {"kind": {"const": {"$ref": "#/$defs/Shape"}}}}},
        "events": {"draw": {"payload": {"type": "object", "properties": {
            "marker": {"enum": [{"$ref": "#/$defs/Shape"}, "plain"]},
            "shape": {"$ref": "#/$defs/Shape"}
        }}}}
    }"##;
    let model = socketspec_codegen::check_str("refs.json", spec).unwrap();
    let doc = model.asyncapi();
    let text = serde_json::to_string(&doc).unwrap();
    // The `const` and `enum` values keep the spec's text; the schema
    // reference points at the component.
    assert!(
        text.contains(r##"{"const":{"$ref":"#/$defs/Shape"}}"##),
        "{text}"
    );
    assert!(
        text.contains(r##""enum":[{"$ref":"#/$defs/Shape"},"plain"]"##),
        "{text}"
    );
    assert!(
        text.contains(r##""$ref":"#/components/schemas/"##),
        "{text}"
    );
    validate_against_official(&doc);
}
