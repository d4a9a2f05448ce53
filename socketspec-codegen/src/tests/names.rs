//! Names that would clash in Rust are accepted and named by the documented
//! rules (docs/spec-format.md, "How names become Rust items"): every spec
//! name yields items that compile. (The `fidelity` crate compiles specs
//! with all of these; here the names themselves are checked.)

use std::path::Path;

use crate::{Builder, Model};
use serde_json::{Value, json};

/// The model of a spec, and its Rust module rendered (so it is known to
/// generate; the `fidelity` crate compiles such specs). Only the model:
/// the TypeScript client refuses some of these names itself.
fn model(defs: Value, events: Value) -> Model {
    let spec = json!({
        "socketspec": "1",
        "info": {"title": "T", "version": "1"},
        "$defs": defs,
        "events": events,
    });
    let file = Path::new("api.json");
    let model = Model::build(&crate::load::parse(file, &spec.to_string()).unwrap(), file).unwrap();
    let rust = Builder::new().render(&model, "api").unwrap();
    syn::parse_file(&rust).unwrap();
    model
}

fn event<'a>(model: &'a Model, name: &str) -> (&'a str, &'a str) {
    let e = model.events.iter().find(|e| e.name == name).unwrap();
    (e.method.as_str(), e.type_name.as_str())
}

fn item_names(model: &Model) -> Vec<&str> {
    model.types.items.iter().map(|i| i.name.as_str()).collect()
}

#[test]
fn events_differing_only_by_case_or_separators() {
    let m = model(
        json!({}),
        json!({"send-message": {}, "send_message": {}, "sendMessage": {}}),
    );
    assert_eq!(event(&m, "send-message"), ("send_message", "SendMessage"));
    assert_eq!(
        event(&m, "send_message"),
        ("send_message_2", "SendMessageEvent")
    );
    assert_eq!(
        event(&m, "sendMessage"),
        ("send_message_3", "SendMessageEvent2")
    );
}

#[test]
fn events_named_like_the_traits_own_items_or_keywords() {
    let m = model(
        json!({}),
        json!({"on_connect": {}, "guard_admin": {}, "meta": {}, "self": {}, "crate": {},
               "type": {}, "handler": {}, "service": {}}),
    );
    assert_eq!(event(&m, "on_connect").0, "on_connect_event");
    assert_eq!(event(&m, "guard_admin").0, "guard_admin_event");
    assert_eq!(event(&m, "meta").0, "meta_event");
    assert_eq!(event(&m, "self"), ("self_event", "SelfType"));
    assert_eq!(event(&m, "crate").0, "crate_event");
    assert_eq!(event(&m, "type"), ("r#type", "Type"));
    assert_eq!(event(&m, "handler").1, "HandlerEvent");
    assert_eq!(event(&m, "service").1, "ServiceEvent");
}

#[test]
fn server_events_named_like_client_events_or_contexts() {
    let m = model(
        json!({}),
        json!({"status": {"emits": {"status": {}, "status_cx": {}}},
               "typing": {"broadcasts": {}}, "b": {"emits": {"typing": {}}}}),
    );
    let server: Vec<&str> = m
        .server_events
        .iter()
        .map(|s| s.type_name.as_str())
        .collect();
    assert_eq!(
        server,
        ["StatusMessage", "StatusCxMessage", "TypingMessage"]
    );
    assert_eq!(event(&m, "status").1, "Status");
}

#[test]
fn a_definition_named_like_an_event() {
    // The payload is exactly the definition: one type, the event's.
    let m = model(
        json!({"ping": {"type": "object", "properties": {"at": {"type": "string"}}}}),
        json!({"ping": {"payload": {"$ref": "#/$defs/ping"}}}),
    );
    assert_eq!(item_names(&m), ["Ping"]);
    // Anything else: the definition keeps its name (TypeScript's too), the
    // event's type gets the suffix `Event`.
    let m = model(
        json!({"ping": {"type": "object", "properties": {"at": {"type": "string"}}}}),
        json!({"ping": {"payload": {"type": "object", "properties": {"p": {"$ref": "#/$defs/ping"}}}}}),
    );
    assert_eq!(item_names(&m), ["Ping", "PingEvent"]);
    assert_eq!(event(&m, "ping"), ("ping", "PingEvent"));
    // Two events of one definition: aliases of it.
    let m = model(
        json!({"Msg": {"type": "object"}}),
        json!({"a": {"payload": {"$ref": "#/$defs/Msg"}}, "b": {"payload": {"$ref": "#/$defs/Msg"}}}),
    );
    assert_eq!(item_names(&m), ["Msg", "A", "B"]);
}

#[test]
fn definitions_named_like_rust_prelude_and_std_items() {
    let names = [
        "Send", "Sync", "Result", "Option", "String", "Vec", "Default", "Box", "Error", "Ok",
        "Some", "Clone", "Future", "Value", "Map",
    ];
    let defs: serde_json::Map<String, Value> = names
        .iter()
        .map(|n| {
            (
                (*n).to_owned(),
                json!({"type": "object", "properties": {"x": {"type": "string"}}}),
            )
        })
        .collect();
    let m = model(Value::Object(defs), json!({}));
    for name in names {
        // What the TypeScript client uses itself (`String`, `Error`, `Map`)
        // takes the suffix `Def`, in both languages.
        let with_suffix = format!("{name}Def");
        assert!(
            item_names(&m).contains(&name) || item_names(&m).contains(&with_suffix.as_str()),
            "{name}: {:?}",
            item_names(&m)
        );
    }
    for (name, rust) in [
        ("Send", "Send"),
        ("Result", "Result"),
        ("String", "StringDef"),
        ("Error", "ErrorDef"),
    ] {
        assert!(
            item_names(&m).contains(&rust),
            "{name}: {:?}",
            item_names(&m)
        );
    }
    // Definitions keep their names; an event of the same name (whose
    // payload is not exactly the definition) steps aside.
    let m = model(
        json!({"Send": {"type": "object"}}),
        json!({"send": {}, "sync": {}}),
    );
    assert_eq!(event(&m, "send"), ("send", "SendEvent"));
    assert_eq!(event(&m, "sync"), ("sync", "Sync"));
    assert!(item_names(&m).contains(&"Send"));
}

#[test]
fn properties_differing_only_by_case_or_separators() {
    let m = model(
        json!({}),
        json!({"a": {"payload": {"type": "object", "properties": {
            "content-type": {"type": "string"}, "content_type": {"type": "string"},
            "contentType": {"type": "string"}, "type": {"type": "string"},
            "self": {"type": "string"}, "1st": {"type": "string"}, "extra": {"type": "string"}
        }}}}),
    );
    let Some(crate::typing::ItemKind::Struct(plan)) = m.types.item("A").map(|i| &i.kind) else {
        panic!("no struct A")
    };
    let fields: Vec<(&str, &str)> = plan
        .fields
        .iter()
        .map(|f| (f.name.as_str(), f.json.as_str()))
        .collect();
    assert_eq!(
        fields,
        [
            ("content_type", "content-type"),
            ("content_type_2", "content_type"),
            ("content_type_3", "contentType"),
            ("r#type", "type"),
            ("self_", "self"),
            ("field_1st", "1st"),
            ("extra", "extra"),
        ]
    );
    assert_eq!(
        plan.extra.as_ref().map(|e| e.name.as_str()),
        Some("extra_2")
    );
}

#[test]
fn enum_values_differing_only_by_case() {
    let m = model(
        json!({"Method": {"enum": ["GET", "get", "Get", "", "+", "1st"]}}),
        json!({}),
    );
    let Some(crate::typing::ItemKind::Enum(variants)) = m.types.item("Method").map(|i| &i.kind)
    else {
        panic!("no enum Method")
    };
    let names: Vec<&str> = variants.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names, ["Get", "Get2", "Get3", "Empty", "Value", "V1st"]);
}
