//! # socketspec-codegen
//!
//! The build-time half of [socketspec]: reads one spec file (events, JSON
//! Schema payloads, emits, broadcasts, rooms) and generates typed payloads, a
//! handler trait the compiler holds to the spec, per-event contexts and the
//! dispatch glue that `socketspec-runtime` runs, plus a typed Rust client, a
//! TypeScript client, a docs page and an AsyncAPI 3.0 document.
//!
//! The public surface is small:
//!
//! - [`compile`]: `build.rs`'s one-liner, and [`Builder`] for options, with
//!   names close to `tonic-build`'s ([`Builder::build_server`],
//!   [`Builder::build_client`], [`Builder::emit_rerun_if_changed`],
//!   [`Builder::out_dir`], [`Builder::type_attribute`]);
//! - [`check`] and [`check_str`]: validate a spec into a [`Model`], which
//!   renders each output on its own ([`Model::docs_html`],
//!   [`Model::asyncapi_json`], [`Model::typescript`]) for tools such as the
//!   `socketspec` command line;
//! - [`Error`] and [`SpecError`]: every mistake with the file, the JSON path
//!   and the fix;
//! - [`format_schema`]: the spec format's own JSON Schema, for editors.
//!
//! ## In `build.rs`
//! ```no_run
//! // build.rs: writes $OUT_DIR/chat.rs; include it with
//! // `socketspec_runtime::include_spec!("chat")`.
//! socketspec_codegen::compile("spec/chat.json").unwrap();
//! ```
//!
//! With options: a server that serves its docs page needs the documents
//! embedded in the module, and payload types can get extra derives.
//!
//! ```no_run
//! socketspec_codegen::Builder::new()
//!     .embed_documents(true)
//!     .derive("Eq")
//!     .type_attribute("SendMessage", "#[non_exhaustive]")
//!     .typescript_out("web/src/chat.ts")
//!     .compile("spec/chat.json")
//!     .unwrap();
//! ```
//!
//! ## Checking a spec
//!
//! A spec with a mistake fails the build with a message naming the file, the
//! JSON path and the fix:
//!
//! ```
//! let spec = r#"{"socketspec": "1", "info": {"title": "T", "version": "1"},
//!               "events": {"__ping__": {}}}"#;
//! let err = socketspec_codegen::check_str("api.json", spec).unwrap_err();
//! assert!(err.to_string().contains("at `events.__ping__`: `__ping__` is a reserved name"));
//! ```
//!
//! A valid one renders every output without writing a file:
//!
//! ```
//! let model = socketspec_codegen::check("../spec/chat.json").unwrap();
//! assert_eq!(model.title(), "Chat");
//! assert!(model.event_names().any(|name| name == "send_message"));
//! let asyncapi = model.asyncapi();
//! assert_eq!(asyncapi["asyncapi"], "3.0.0");
//! let client = model.typescript().unwrap();
//! assert!(client.contains("sendMessage"));
//! ```
//!
//! ## How it works
//!
//! Inside, it is a one-way pipeline: load the file, validate and resolve it
//! into the model, then one emitter per output (Rust, TypeScript, docs page,
//! AsyncAPI), each reading the same model. None of it is public: the
//! functions above are the way in.
//!
//! [socketspec]: https://example.invalid/socketspec

mod builder;
mod emit;
mod error;
mod load;
mod model;
mod naming;
mod outputs;
mod payload_examples;
mod push;
mod resolve;
mod schema;
mod server_document;
mod spec;
mod type_checked;
mod typing;
mod validate;
mod warning;

use std::path::Path;

pub use builder::{Builder, Generated};
pub use emit::docs::DocsOptions;
pub use error::{Error, SpecError};
pub use model::Model;
pub use outputs::HandlerMethod;
pub use spec::{FORMAT_SCHEMA_ID, format_schema};
pub use warning::SpecWarning;

/// docs/typescript-client.md, whose Rust snippet (a `build.rs`) compiles as
/// this crate's doctest; its TypeScript snippets are type-checked by the
/// end-to-end tests.
#[cfg(doctest)]
#[doc = include_str!("../../docs/typescript-client.md")]
pub struct TypescriptClientGuide;

/// Compiles the spec at `path` (relative to the crate running `build.rs`)
/// into `$OUT_DIR/<name>.rs`, where `<name>` is the file's stem in snake
/// case, with the default options of [`Builder::new`]. Prints
/// `cargo:rerun-if-changed` for the spec and every file it references.
pub fn compile(path: impl AsRef<Path>) -> Result<Generated, Error> {
    Builder::new().compile(path)
}

/// Loads and validates the spec at `path` and runs the whole generation
/// (the Rust module, formatted; the TypeScript client; the docs page; the
/// AsyncAPI document) without writing anything, so a spec it accepts
/// builds. The model's [`Model::warnings`] say what the build will warn
/// about.
pub fn check(path: impl AsRef<Path>) -> Result<Model, Error> {
    let path = path.as_ref();
    let model = validate_only(path)?;
    generate_everything(&model)?;
    Ok(model)
}

/// [`check`] for spec text; `path` names it in error messages.
pub fn check_str(path: impl AsRef<Path>, text: &str) -> Result<Model, Error> {
    let path = path.as_ref();
    let spec = load::parse(path, text)?;
    let model = Model::build(&spec, path)?;
    generate_everything(&model)?;
    Ok(model)
}

/// Every output of a build, discarded: what `check` runs.
fn generate_everything(model: &Model) -> Result<(), Error> {
    catching_panics(model, || {
        Builder::new().render(model, "api")?;
        emit::typescript::render(model)?;
        emit::docs::render(model)?;
        emit::asyncapi::to_json(model)?;
        Ok(())
    })
}

/// Loads and validates the spec at `path` into its model, without
/// generating anything: what [`Builder::compile`] starts with.
pub(crate) fn validate_only(path: &Path) -> Result<Model, Error> {
    let spec = load::load(path)?;
    Model::build(&spec, path)
}

/// Runs a generation step; a panic in it (a bug: the generator refuses
/// what it cannot handle with a spec error) becomes an error that names
/// the spec, not a crashed build script.
pub(crate) fn catching_panics<T>(
    model: &Model,
    step: impl FnOnce() -> Result<T, Error>,
) -> Result<T, Error> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(step)) {
        Ok(result) => result,
        Err(panic) => {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_else(|| "unknown panic".to_owned());
            Err(Error::Generate {
                file: model.file.clone(),
                message: format!(
                    "the generator failed: {message} (a bug in socketspec: please report it with the spec)"
                ),
            })
        }
    }
}

#[cfg(test)]
mod tests;
