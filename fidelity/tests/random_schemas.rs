//! Property test: random schemas (drawn at build time by `build/random.rs`
//! from the keywords specs use; `SOCKETSPEC_PROP_SEED` draws another set)
//! and random instances drawn from them at test time.
//!
//! Every valid instance (valid by `jsonschema`, formats checked) must
//! decode into the generated Rust type and encode back unchanged, both
//! directly and through a running server; every mutation the schema
//! refuses must be refused by the server with `VALIDATION_ERROR`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/instances.rs"]
mod instances;

use instances::{Generator, Rng};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Map, Value, json};
use socketspec_fidelity::{Compiled, SPECS, SpecKind};
use socketspec_runtime::ErrorCode;
use socketspec_runtime::client::ClientError;

fn random_spec() -> &'static Compiled {
    SPECS
        .iter()
        .find(|s| matches!(s.kind, SpecKind::Random { .. }))
        .unwrap()
}

/// Each event's name, payload schema and validator (definitions attached).
struct Event {
    name: &'static str,
    schema: Value,
    validator: jsonschema::Validator,
}

fn events(spec: &Compiled) -> (Map<String, Value>, Vec<Event>) {
    let defs: Map<String, Value> = serde_json::from_str::<Value>(spec.meta.schema_defs)
        .ok()
        .and_then(|d| d.get("$defs").and_then(Value::as_object).cloned())
        .unwrap_or_default();
    let events = spec
        .meta
        .events
        .iter()
        .map(|e| {
            let schema: Value = serde_json::from_str(e.payload_schema).unwrap();
            let mut full = schema.clone();
            full["$defs"] = Value::Object(defs.clone());
            let validator = jsonschema::draft202012::options()
                .should_validate_formats(true)
                .build(&full)
                .unwrap();
            Event {
                name: e.name,
                schema,
                validator,
            }
        })
        .collect();
    (defs, events)
}

/// A valid instance of `event`, if the generator finds one in a few draws.
fn valid_instance(defs: &Map<String, Value>, event: &Event, entropy: u64) -> Option<Value> {
    let mut generator = Generator {
        defs,
        rng: Rng(entropy | 1),
    };
    let value = event.schema.get("properties")?.get("value")?;
    (0..40).find_map(|_| {
        let payload = json!({"value": generator.value(value, 0)});
        event.validator.is_valid(&payload).then_some(payload)
    })
}

#[test]
fn the_generator_finds_valid_instances_of_most_schemas() {
    let spec = random_spec();
    let (defs, events) = events(spec);
    assert!(events.len() >= 100, "{} events", events.len());
    let found = events
        .iter()
        .filter(|e| (1..=5).any(|entropy| valid_instance(&defs, e, entropy).is_some()))
        .count();
    assert!(
        found * 10 >= events.len() * 9,
        "valid instances for only {found} of {} schemas",
        events.len()
    );
    // The draw covers what the planner types and what it keeps as JSON.
    assert!(!spec.warnings.is_empty(), "no schema fell back to JSON");
}

#[test]
fn random_instances_round_trip_and_random_mutations_are_refused() {
    let spec = random_spec();
    let (defs, events) = events(spec);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let client = runtime.block_on((spec.connect)()).unwrap();
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(512);
    let mut runner = TestRunner::new(Config {
        cases,
        ..Config::default()
    });
    let strategy = (0..events.len(), any::<u64>());
    runner
        .run(&strategy, |(index, entropy)| {
            let event = &events[index];
            let Some(payload) = valid_instance(&defs, event, entropy) else {
                return Ok(());
            };
            (spec.round_trip)(event.name, &payload)
                .map_err(|e| TestCaseError::fail(format!("{}: {payload}: {e}", event.name)))?;
            let reply = runtime
                .block_on(client.request(event.name, &payload))
                .map_err(|e| {
                    TestCaseError::fail(format!("{}: {payload} refused: {e}", event.name))
                })?;
            prop_assert!(
                socketspec_runtime::same_json(&reply.payload, &payload),
                "{}: sent {payload}, the handler saw {}",
                event.name,
                reply.payload
            );
            let mut generator = Generator {
                defs: &defs,
                rng: Rng(entropy.rotate_left(17) | 1),
            };
            let mutated = generator.mutate(&payload);
            if !event.validator.is_valid(&mutated) {
                match runtime.block_on(client.request(event.name, &mutated)) {
                    Err(ClientError::Server(e)) if e.code == ErrorCode::ValidationError => {}
                    other => {
                        return Err(TestCaseError::fail(format!(
                            "{}: the invalid {mutated} got {other:?}",
                            event.name
                        )));
                    }
                }
            }
            Ok(())
        })
        .unwrap();
}
