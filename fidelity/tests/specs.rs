//! The spec files of `specs/` (one per past defect in `regressions/`):
//! `build.rs` already proved that `check` accepts each and that it builds
//! (names Rust reserves, std names, case and separator collisions, `$defs`
//! named like events, discriminated unions, recursion, ...). Here each runs:
//!
//! - the module's own `check_examples()` passes, and checks something;
//! - every `examples` value of an event's payload, and random valid
//!   instances drawn from its schema, reach the handler unchanged through a
//!   running server and decode into the payload type losslessly;
//! - random mutations the schema refuses are refused with
//!   `VALIDATION_ERROR`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/instances.rs"]
mod instances;

use instances::{Generator, Rng};
use serde_json::{Map, Value};
use socketspec_fidelity::{Compiled, SPECS, SpecKind};
use socketspec_runtime::ErrorCode;
use socketspec_runtime::client::ClientError;
use socketspec_runtime::testing::TestClient;

fn file_specs() -> Vec<&'static Compiled> {
    SPECS
        .iter()
        .filter(|s| matches!(s.kind, SpecKind::File))
        .collect()
}

fn defs_of(spec: &Compiled) -> Map<String, Value> {
    serde_json::from_str::<Value>(spec.meta.schema_defs)
        .ok()
        .and_then(|d| d.get("$defs").and_then(Value::as_object).cloned())
        .unwrap_or_default()
}

/// Sends `payload` as `event` and expects it back unchanged.
async fn echoed(client: &TestClient, spec: &Compiled, event: &str, payload: &Value) {
    (spec.round_trip)(event, payload).unwrap_or_else(|e| {
        panic!(
            "{}: {event}: {payload} does not round-trip: {e}",
            spec.source
        )
    });
    let reply = client
        .request(event, payload)
        .await
        .unwrap_or_else(|e| panic!("{}: {event}: {payload} refused: {e}", spec.source));
    assert!(
        socketspec_runtime::same_json(&reply.payload, payload),
        "{}: {event}: sent {payload}, the handler saw {}",
        spec.source,
        reply.payload
    );
}

#[test]
fn every_regression_spec_is_compiled_and_checks_its_examples() {
    let specs = file_specs();
    assert!(specs.len() >= 6, "{} spec files", specs.len());
    // Issue 12: at least 6 realistic multi-event specs.
    let corpus = specs
        .iter()
        .filter(|s| s.source.contains("/corpus/"))
        .count();
    assert!(corpus >= 6, "{corpus} corpus specs");
    for spec in specs {
        let checked = (spec.check_examples)()
            .unwrap_or_else(|e| panic!("{}: check_examples failed:\n{e}", spec.source));
        assert!(checked > 0, "{} has no examples", spec.source);
    }
}

#[tokio::test]
async fn examples_and_random_instances_reach_the_handler_unchanged() {
    let mut sent = 0;
    let mut refused = 0;
    for spec in file_specs() {
        let defs = defs_of(spec);
        let client = (spec.connect)().await.unwrap();
        for event in spec.meta.events {
            let schema: Value = serde_json::from_str(event.payload_schema).unwrap();
            let mut full = schema.clone();
            if let Some(object) = full.as_object_mut() {
                object.insert("$defs".to_owned(), Value::Object(defs.clone()));
            }
            let validator = jsonschema::draft202012::options()
                .should_validate_formats(true)
                .build(&full)
                .unwrap();
            let mut payloads: Vec<Value> = schema
                .get("examples")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for example in &payloads {
                assert!(
                    validator.is_valid(example),
                    "{}: {}: the example {example} is invalid",
                    spec.source,
                    event.name
                );
            }
            let mut generator = Generator {
                defs: &defs,
                rng: Rng(0x9e37_79b9_7f4a_7c15),
            };
            for _ in 0..40 {
                let candidate = generator.value(&schema, 0);
                // Payloads are JSON objects (docs/protocol.md).
                if candidate.is_object() && validator.is_valid(&candidate) {
                    payloads.push(candidate);
                }
            }
            for payload in &payloads {
                echoed(&client, spec, event.name, payload).await;
                sent += 1;
                let mutated = generator.mutate(payload);
                if !mutated.is_object() || validator.is_valid(&mutated) {
                    continue;
                }
                match client.request(event.name, &mutated).await {
                    Err(ClientError::Server(e)) if e.code == ErrorCode::ValidationError => {
                        refused += 1;
                    }
                    other => panic!(
                        "{}: {}: the invalid {mutated} got {other:?}",
                        spec.source, event.name
                    ),
                }
            }
        }
    }
    assert!(sent >= 100, "only {sent} payloads sent");
    assert!(refused >= 20, "only {refused} invalid payloads refused");
}

#[tokio::test]
async fn formats_are_enforced_and_unknown_ones_warned_about() {
    let spec = socketspec_fidelity::spec("regressions/formats.json").unwrap();
    assert!(
        spec.warnings.iter().any(|(path, message)| {
            *path == "events.formatted.payload.properties.color.format"
                && message.contains("`color` is not one the runtime checks")
        }),
        "{:?}",
        spec.warnings
    );
    let client = (spec.connect)().await.unwrap();
    let bad = [
        ("at", "yesterday"),
        ("day", "2024-02-30"),
        ("email", "nope"),
        ("id", "nope"),
        ("link", "not a uri"),
        ("host", "-bad-.example"),
        ("v4", "10.0.0.256"),
        ("v6", "fe80:::1"),
        ("clock", "25:00:00Z"),
    ];
    for (field, value) in bad {
        let payload = serde_json::json!({ field: value });
        match client.request("formatted", &payload).await {
            Err(ClientError::Server(e)) if e.code == ErrorCode::ValidationError => {}
            other => panic!("{payload}: {other:?}"),
        }
    }
    // An unknown format only documents the value.
    let payload = serde_json::json!({"color": "not checked"});
    echoed(&client, spec, "formatted", &payload).await;
}

#[tokio::test]
async fn schemas_kept_as_written_are_validated_by_the_server() {
    let spec = socketspec_fidelity::spec("regressions/schema_resources.json").unwrap();
    for event in ["anchored", "resource", "dynamic", "meta"] {
        let prefix = format!("events.{event}.");
        assert!(
            spec.warnings
                .iter()
                .any(|(path, message)| path.starts_with(&prefix)
                    && message.contains("the server validates it as written")),
            "{event}: no warning about its kept schema in {:?}",
            spec.warnings
        );
    }
    let client = (spec.connect)().await.unwrap();
    let valid = [
        ("anchored", serde_json::json!({"n": 1})),
        (
            "resource",
            serde_json::json!({"tree": {"value": 1, "children": [{"value": 2, "children": []}]}}),
        ),
        ("dynamic", serde_json::json!({"names": []})),
        ("meta", serde_json::json!({"schema": true})),
    ];
    for (event, payload) in valid {
        echoed(&client, spec, event, &payload).await;
    }
    let invalid = [
        // The anchor's `minimum`.
        ("anchored", serde_json::json!({"n": 0})),
        // The resource's own `#/$defs/node` (an object), not the spec's
        // `$defs.node` (a string).
        ("resource", serde_json::json!({"tree": "a string"})),
        (
            "resource",
            serde_json::json!({"tree": {"value": 1, "more": 2}}),
        ),
        // The dynamic anchor in scope says strings.
        ("dynamic", serde_json::json!({"names": [1]})),
        // The meta-schema: `type` must be a type name.
        ("meta", serde_json::json!({"schema": {"type": 5}})),
    ];
    for (event, payload) in invalid {
        match client.request(event, &payload).await {
            Err(ClientError::Server(e)) if e.code == ErrorCode::ValidationError => {}
            other => panic!("{event}: the invalid {payload} got {other:?}"),
        }
    }
}
