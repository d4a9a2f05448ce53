//! The documents of every spec of `specs/`: the docs page renders, the
//! AsyncAPI 3.0 document is valid against the official schema (from
//! `@asyncapi/specs`, installed by `npm ci --prefix tests/browser`), and
//! every message's generated example validates against its payload schema
//! (draft 2020-12, formats checked), so the docs page's try-it console starts
//! with a payload the server accepts.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use serde_json::Value;
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
        build_notes_are_on_the_page(spec.source, &model, &page);
        let doc = model.asyncapi();
        let errors: Vec<String> = official
            .iter_errors(&doc)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", spec.source);
        examples += examples_validate(spec.source, &doc);
    }
    assert!(examples >= 50, "only {examples} examples checked");
}

/// Every warning of the build (a raw-JSON fallback, an unchecked format, a
/// payload without a valid example) is listed on the docs page, with its
/// place in the spec; a spec without warnings has no such section.
fn build_notes_are_on_the_page(source: &str, model: &socketspec_codegen::Model, page: &str) {
    let escape = |text: &str| {
        text.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&#34;")
            .replace('\'', "&#39;")
    };
    let warnings = model.warnings();
    assert_eq!(
        page.contains("id=\"rust-notes\""),
        !warnings.is_empty(),
        "{source}: the page's build notes do not match the {} warnings",
        warnings.len()
    );
    for warning in warnings {
        assert!(
            page.contains(&format!("<code>{}</code>", escape(&warning.path))),
            "{source}: the docs page does not mention the warning at {}",
            warning.path
        );
    }
}

/// Validates every message example of an AsyncAPI document `doc` against
/// its payload schema (formats checked); returns how many it checked.
fn examples_validate(source: &str, doc: &Value) -> usize {
    examples_failing(source, doc, &mut |failure| panic!("{failure}"))
}

/// Checks every message example of `doc`, telling `fail` about each that
/// does not validate; returns how many it checked.
fn examples_failing(source: &str, doc: &Value, fail: &mut dyn FnMut(String)) -> usize {
    let mut examples = 0;
    for (key, message) in doc["components"]["messages"].as_object().unwrap() {
        // The component schemas as the payload's `$defs`: `components` is no
        // schema keyword, so a validator would not know the resources they
        // declare with `$id` where the document keeps them.
        let mut schema = message["payload"].clone();
        schema["$defs"] = doc["components"]["schemas"].clone();
        let text = schema
            .to_string()
            .replace("#/components/schemas/", "#/$defs/");
        let schema: Value = serde_json::from_str(&text).unwrap();
        let validator = jsonschema::draft202012::options()
            .should_validate_formats(true)
            .build(&schema)
            .unwrap_or_else(|e| panic!("{source}: {key}: {e}"));
        for example in message["examples"].as_array().into_iter().flatten() {
            let payload = &example["payload"];
            let errors: Vec<String> = validator
                .iter_errors(payload)
                .map(|e| e.to_string())
                .collect();
            if !errors.is_empty() {
                fail(format!(
                    "{source}: message {key}: example {payload} fails: {errors:?}"
                ));
            }
            examples += 1;
        }
    }
    examples
}

/// The generated examples of a large corpus nobody here wrote: every
/// schema of the JSON-Schema-Test-Suite that `check` accepts, and the
/// random schemas, each as an event payload. A schema that no value
/// satisfies (`false`, `not: {}`) gets no example rather than a wrong one.
#[test]
fn generated_examples_of_the_suite_and_the_random_schemas_validate() {
    let mut examples = 0;
    let mut specs = 0;
    let mut failures = Vec::new();
    let mut unsatisfied = 0;
    for spec in SPECS.iter().filter(|s| !matches!(s.kind, SpecKind::File)) {
        let model = socketspec_codegen::check(spec.source)
            .unwrap_or_else(|e| panic!("{}: {e}", spec.source));
        let doc = model.asyncapi();
        examples += examples_failing(spec.source, &doc, &mut |f| failures.push(f));
        specs += 1;
        // A message without an example is one the build warned about.
        let missing = doc["components"]["messages"]
            .as_object()
            .unwrap()
            .values()
            .filter(|m| m.get("examples").is_none())
            .count();
        let warned = model
            .warnings()
            .iter()
            .filter(|w| w.message.starts_with("no example satisfies"))
            .count();
        assert_eq!(missing, warned, "{}: {:#?}", spec.source, model.warnings());
        unsatisfied += missing;
    }
    eprintln!("{examples} examples over {specs} specs; {unsatisfied} payload schemas without one");
    assert!(
        failures.is_empty(),
        "{} of {examples} generated examples fail their schema:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(specs >= 50, "only {specs} generated specs");
    assert!(
        examples >= 1000,
        "only {examples} examples checked over {specs} specs"
    );
}
