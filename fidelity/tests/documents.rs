//! The documents of every spec of `specs/`: the docs page renders, the
//! AsyncAPI 3.0 document is valid against the official schema (from
//! `@asyncapi/specs`, installed by `npm ci --prefix tests/browser`), and
//! every message's generated example validates against its payload schema
//! (draft 2020-12, formats checked), so the docs page's try-it console starts
//! with a payload the server accepts.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use serde_json::{Value, json};
use socketspec_fidelity::{SPECS, SpecKind};

fn official_schema() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/browser/node_modules/@asyncapi/specs/schemas/3.0.0.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read {}: {e}; run `npm ci --prefix tests/browser`",
            path.display()
        )
    });
    serde_json::from_str(&text).unwrap()
}

#[test]
fn docs_asyncapi_and_examples_of_every_spec() {
    let official = jsonschema::draft7::new(&official_schema()).unwrap();
    let mut examples = 0;
    for spec in SPECS.iter().filter(|s| matches!(s.kind, SpecKind::File)) {
        let model = socketspec_codegen::check(spec.source).unwrap();
        let page = model.docs_html().unwrap();
        assert!(page.contains(model.title()), "{}", spec.source);
        let doc = model.asyncapi();
        let errors: Vec<String> = official
            .iter_errors(&doc)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", spec.source);
        for (key, message) in doc["components"]["messages"].as_object().unwrap() {
            let mut schema = message["payload"].clone();
            schema["components"] = json!({"schemas": doc["components"]["schemas"]});
            let validator = jsonschema::draft202012::options()
                .should_validate_formats(true)
                .build(&schema)
                .unwrap_or_else(|e| panic!("{}: {key}: {e}", spec.source));
            for example in message["examples"].as_array().into_iter().flatten() {
                let payload = &example["payload"];
                let errors: Vec<String> = validator
                    .iter_errors(payload)
                    .map(|e| e.to_string())
                    .collect();
                assert!(
                    errors.is_empty(),
                    "{}: message {key}: example {payload} fails: {errors:?}",
                    spec.source
                );
                examples += 1;
            }
        }
    }
    assert!(examples >= 50, "only {examples} examples checked");
}
