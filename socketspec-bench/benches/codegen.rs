//! Code generation for a generated 100-event spec: validating it into a
//! model, rendering the Rust module, and the whole `build.rs` step
//! (`Builder::compile` into a directory, file written).
//!
//! ```text
//! cargo bench -p socketspec-bench --bench codegen
//! ```

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Map, Value, json};

const EVENTS: usize = 100;

fn fail(what: &str, error: impl std::fmt::Display) -> ! {
    panic!("{what}: {error}")
}

/// A spec with `events` events, each with a four-field payload (a `$ref`, a
/// bounded string, an integer and an array), one emit and one broadcast to
/// a parameterised room: about what a large real API looks like.
pub fn spec(events: usize) -> String {
    let mut all = Map::new();
    for i in 0..events {
        let payload = json!({
            "type": "object",
            "required": ["room", "text"],
            "properties": {
                "room": {"$ref": "#/$defs/Room"},
                "text": {"type": "string", "minLength": 1, "maxLength": 2000},
                "count": {"type": "integer", "minimum": 0},
                "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 8}
            },
            "additionalProperties": false
        });
        all.insert(
            format!("event_{i:03}"),
            json!({
                "description": format!("Event number {i}."),
                "tags": [format!("group_{}", i % 10)],
                "payload": payload,
                "emits": {
                    format!("reply_{i:03}"): {
                        "description": "The reply.",
                        "payload": {
                            "type": "object",
                            "required": ["status", "id"],
                            "properties": {
                                "status": {"type": "string", "enum": ["ok", "queued"]},
                                "id": {"type": "string"}
                            }
                        }
                    }
                },
                "broadcasts": {
                    format!("notice_{i:03}"): {
                        "room": "room:{room}",
                        "description": "Tell the room.",
                        "payload": {
                            "type": "object",
                            "required": ["room", "text", "from"],
                            "properties": {
                                "room": {"$ref": "#/$defs/Room"},
                                "text": {"type": "string"},
                                "from": {"type": "string"}
                            }
                        }
                    }
                }
            }),
        );
    }
    let spec = json!({
        "socketspec": "1",
        "info": {"title": "Big", "version": "1.0.0", "description": "A generated 100-event spec."},
        "$defs": {"Room": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"}},
        "rooms": {"room:{room}": {"description": "A room."}},
        "events": Value::Object(all)
    });
    serde_json::to_string_pretty(&spec).unwrap_or_else(|e| fail("spec", e))
}

fn codegen(c: &mut Criterion) {
    let text = spec(EVENTS);
    let dir = tempfile::tempdir().unwrap_or_else(|e| fail("temp dir", e));
    let path = dir.path().join("big.json");
    std::fs::write(&path, &text).unwrap_or_else(|e| fail("write spec", e));
    let model = socketspec_codegen::check_str(&path, &text).unwrap_or_else(|e| fail("spec", e));
    assert_eq!(model.event_names().len(), EVENTS);

    let mut group = c.benchmark_group("codegen 100-event spec");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    group.bench_function("load + validate + model (check_str)", |b| {
        b.iter(|| socketspec_codegen::check_str(&path, black_box(&text)))
    });
    let builder = socketspec_codegen::Builder::new().emit_rerun_if_changed(false);
    group.bench_function("render Rust (Builder::render)", |b| {
        b.iter(|| builder.render(black_box(&model), "big"))
    });
    let out = dir.path().join("out");
    let compile = socketspec_codegen::Builder::new()
        .emit_rerun_if_changed(false)
        .out_dir(&out);
    group.bench_function("whole build.rs step (Builder::compile)", |b| {
        b.iter(|| {
            // Remove the output so every iteration writes it, as a clean build does.
            let _ = std::fs::remove_dir_all(&out);
            compile.compile(black_box(&path))
        })
    });
    group.finish();
}

criterion_group!(benches, codegen);
criterion_main!(benches);
