//! Snapshots of the generated output for `spec/chat.json`: the Rust module
//! (default options, as a build script without options writes it) and the
//! TypeScript client. A change to the generators shows up here as a readable
//! diff of the code users get, to be reviewed like any other change.
//!
//! The snapshots live in `tests/snapshots/`. After an intended change,
//! update them and review the diff before committing:
//!
//! ```text
//! INSTA_UPDATE=always cargo test -p socketspec-codegen --test snapshots
//! git diff socketspec-codegen/tests/snapshots/
//! ```
//!
//! (or `cargo insta test -p socketspec-codegen --test snapshots --review`
//! with `cargo-insta` installed). A failing run leaves the new output next
//! to the old as a `.snap.new` file.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use socketspec_codegen::{Builder, Model};

/// The chat spec, named by a relative path: the generated header quotes it,
/// and a snapshot must not depend on where the checkout lives. Tests run in
/// the crate's directory.
fn chat() -> Model {
    socketspec_codegen::check("../spec/chat.json").unwrap()
}

#[test]
fn chat_rust_module() {
    let rust = Builder::new()
        .emit_rerun_if_changed(false)
        .render(&chat(), "chat")
        .unwrap();
    insta::assert_snapshot!("chat_rust_module", rust);
}

#[test]
fn chat_rust_module_with_embedded_documents() {
    // Only what embedding changes: the constants and `META`'s fields, so
    // this snapshot stays small and readable.
    let rust = Builder::new()
        .emit_rerun_if_changed(false)
        .build_client(false)
        .embed_documents(true)
        .render(&chat(), "chat")
        .unwrap();
    let documents: Vec<&str> = rust
        .lines()
        .filter(|line| {
            line.contains("include_str!")
                || line.contains("spec_json:")
                || line.contains("docs_html:")
                || line.contains("asyncapi_json:")
        })
        .map(str::trim)
        .collect();
    insta::assert_snapshot!("chat_embedded_documents", documents.join("\n"));
}

#[test]
fn chat_typescript_client() {
    insta::assert_snapshot!("chat_typescript_client", chat().typescript().unwrap());
}
