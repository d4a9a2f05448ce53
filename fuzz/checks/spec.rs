//! What the `spec_load` fuzz target checks on every input, shared with its
//! stable replay (`socketspec-codegen/tests/fuzz_corpus.rs`).

use socketspec_codegen::{Builder, check_str};

/// Loading and validating `data` as a spec never panics (a bad spec is an
/// error naming the file); a spec that passes renders every output, and
/// its Rust module parses with `syn`.
pub fn check(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let model = match check_str("fuzz/spec.json", text) {
        Ok(model) => model,
        Err(e) => {
            assert!(e.to_string().contains("fuzz/spec.json"), "{e}");
            return;
        }
    };
    // The type generator refuses some schemas that validation lets through:
    // an error naming the file, never a panic.
    let rust = match Builder::new()
        .emit_rerun_if_changed(false)
        .render(&model, "api")
    {
        Ok(rust) => rust,
        Err(e) => {
            assert!(e.to_string().contains("fuzz/spec.json"), "{e}");
            return;
        }
    };
    if let Err(e) = syn::parse_file(&rust) {
        panic!("the generated Rust does not parse: {e}\n{text}");
    }
    let _ = model.typescript();
    let _ = model.asyncapi_json();
    let _ = model.docs_html();
}
