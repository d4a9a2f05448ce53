//! The spec is a contract the compiler enforces: these programs must not
//! compile (trybuild checks each one's error).

use std::path::Path;

#[test]
fn handlers_cannot_break_the_spec() {
    // The UI programs include the chat module generated into tests/ui/gen.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let generated = socketspec_codegen::Builder::new()
        .emit_rerun_if_changed(false)
        .out_dir(root.join("tests/ui/gen"))
        .compile(root.join("../../spec/chat.json"));
    if let Err(e) = generated {
        panic!("the chat spec must compile: {e}");
    }
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
