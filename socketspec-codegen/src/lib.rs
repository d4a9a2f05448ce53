//! # socketspec-codegen
//!
//! The build-time half of [socketspec]: reads one spec file (events, JSON
//! Schema payloads, emits, broadcasts, rooms) and generates typed payloads, a
//! handler trait the compiler holds to the spec, per-event contexts and the
//! dispatch glue that `socketspec-runtime` runs.
//!
//! It is a pipeline: [`load`] -> [`Model::build`] (validate and resolve) ->
//! emitters ([`emit`]), each reading the same validated model.
//!
//! ## In `build.rs`
//! ```no_run
//! // build.rs: writes $OUT_DIR/chat.rs; include it with
//! // `socketspec_runtime::include_spec!("chat")`.
//! socketspec_codegen::compile("spec/chat.json").unwrap();
//! ```
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
//! [socketspec]: https://example.invalid/socketspec

pub mod emit;
pub mod error;
pub mod load;
pub mod model;
mod resolve;
pub mod schema;
pub mod spec;
mod type_checked;
pub mod typing;
pub mod validate;
pub mod warning;

use std::path::{Path, PathBuf};

use heck::ToSnakeCase;

pub use error::{Error, SpecError};
pub use load::load;
pub use model::Model;
pub use spec::Spec;
pub use warning::SpecWarning;

/// Compiles the spec at `path` (relative to the crate running `build.rs`)
/// into `$OUT_DIR/<name>.rs`, where `<name>` is the file's stem in snake
/// case. Prints `cargo:rerun-if-changed` for the spec and every file it
/// references.
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
    let spec = load(path)?;
    let model = Model::build(&spec, path)?;
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
        Ok(())
    })
}

/// Runs a generation step; a panic in it (a bug: the generator refuses
/// what it cannot handle with a spec error) becomes an error that names
/// the spec, not a crashed build script.
fn catching_panics<T>(model: &Model, step: impl FnOnce() -> Result<T, Error>) -> Result<T, Error> {
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

/// What a compilation wrote.
#[derive(Debug, Clone)]
pub struct Generated {
    /// The module name (`chat`).
    pub module: String,
    /// The Rust file written.
    pub rust_file: PathBuf,
    /// The validated model, for callers that emit more.
    pub model: Model,
}

/// Options for code generation.
///
/// ```no_run
/// socketspec_codegen::Builder::new()
///     .module_name("chat_api")
///     .compile("spec/chat.json")
///     .unwrap();
/// ```
#[derive(Debug, Clone, Default)]
pub struct Builder {
    out_dir: Option<PathBuf>,
    module: Option<String>,
    quiet: bool,
    docs_out: Option<PathBuf>,
    asyncapi_out: Option<PathBuf>,
    typescript_out: Option<PathBuf>,
    client_only: bool,
}

impl Builder {
    /// Default options: output to `$OUT_DIR`, module named after the file.
    pub fn new() -> Self {
        Builder::default()
    }

    /// Writes the generated file to `dir` instead of `$OUT_DIR`, e.g.
    /// `src/generated` for teams that check the code in and want their IDE
    /// to see it as plain source (then `mod` it instead of `include_spec!`).
    pub fn out_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.out_dir = Some(dir.into());
        self
    }

    /// Names the generated module (and file) instead of the spec's stem.
    pub fn module_name(mut self, name: impl Into<String>) -> Self {
        self.module = Some(name.into());
        self
    }

    /// Do not print `cargo:` lines (when not running inside `build.rs`).
    pub fn quiet(mut self, quiet: bool) -> Self {
        self.quiet = quiet;
        self
    }

    /// Also writes the docs page (one self-contained HTML file) to `path`,
    /// e.g. to publish it with the rest of a site. The generated module
    /// holds it either way, as `DOCS_HTML`.
    pub fn docs_out(mut self, path: impl Into<PathBuf>) -> Self {
        self.docs_out = Some(path.into());
        self
    }

    /// Also writes the AsyncAPI 3.0 document (JSON) to `path`. The generated
    /// module holds it either way, as `ASYNCAPI_JSON`.
    pub fn asyncapi_out(mut self, path: impl Into<PathBuf>) -> Self {
        self.asyncapi_out = Some(path.into());
        self
    }

    /// Also writes the TypeScript client (one self-contained `.ts` file, no
    /// runtime dependencies) to `path`, e.g. `web/src/chat.ts`.
    pub fn typescript_out(mut self, path: impl Into<PathBuf>) -> Self {
        self.typescript_out = Some(path.into());
        self
    }

    /// Generates the server side (`Handler`, contexts, `Service`, `META`,
    /// the documents) or not. With `server(false)` the module holds only the
    /// payload types, room helpers and the typed client, so a crate that
    /// only talks to a server depends on
    /// `socketspec-runtime = { default-features = false, features = ["client"] }`
    /// and links no server code.
    pub fn server(mut self, server: bool) -> Self {
        self.client_only = !server;
        self
    }

    /// Validates the spec and writes the generated Rust module.
    pub fn compile(&self, path: impl AsRef<Path>) -> Result<Generated, Error> {
        let path = path.as_ref();
        if !self.quiet {
            println!("cargo:rerun-if-changed={}", path.display());
        }
        let spec = load(path)?;
        let model = Model::build(&spec, path)?;
        if !self.quiet {
            for file in &model.referenced_files {
                println!("cargo:rerun-if-changed={}", file.display());
            }
            // `cargo:warning` takes one line; each warning is two.
            for warning in &model.warnings {
                for line in warning.to_string().lines() {
                    println!("cargo:warning={line}");
                }
            }
        }
        let module = match &self.module {
            Some(m) => m.clone(),
            None => path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("api")
                .to_snake_case(),
        };
        let out_dir = match &self.out_dir {
            Some(dir) => dir.clone(),
            None => std::env::var_os("OUT_DIR")
                .map(PathBuf::from)
                .ok_or_else(|| Error::Generate {
                    file: path.to_owned(),
                    message:
                        "OUT_DIR is not set: call compile() from build.rs, or set Builder::out_dir"
                            .to_owned(),
                })?,
        };
        let source = catching_panics(&model, || self.render(&model, &module))?;
        std::fs::create_dir_all(&out_dir).map_err(|source| Error::Io {
            path: out_dir.clone(),
            source,
        })?;
        let rust_file = out_dir.join(format!("{module}.rs"));
        write_if_changed(&rust_file, &source)?;
        if let Some(path) = &self.docs_out {
            write_creating_dirs(path, &emit::docs::render(&model)?)?;
        }
        if let Some(path) = &self.asyncapi_out {
            write_creating_dirs(path, &emit::asyncapi::to_json(&model)?)?;
        }
        if let Some(path) = &self.typescript_out {
            write_creating_dirs(path, &emit::typescript::render(&model)?)?;
        }
        Ok(Generated {
            module,
            rust_file,
            model,
        })
    }

    /// Renders the Rust module for a validated model, with the docs page and
    /// the AsyncAPI document embedded as `DOCS_HTML` and `ASYNCAPI_JSON`.
    pub fn render(&self, model: &Model, module: &str) -> Result<String, Error> {
        if self.client_only {
            let parts = emit::rust::Parts {
                server: false,
                client: true,
            };
            return emit::rust::render_parts(model, module, &emit::rust::Extras::default(), parts);
        }
        let extras = emit::rust::Extras {
            docs_html: emit::docs::render(model)?,
            asyncapi_json: emit::asyncapi::to_json(model)?,
        };
        emit::rust::render(model, module, &extras)
    }
}

/// [`write_if_changed`], creating the file's directory first.
fn write_creating_dirs(path: &Path, contents: &str) -> Result<(), Error> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| Error::Io {
            path: dir.to_owned(),
            source,
        })?;
    }
    write_if_changed(path, contents)
}

/// Writes `contents` unless the file already holds exactly that, so an
/// unchanged spec does not trigger recompilation of the including crate.
fn write_if_changed(path: &Path, contents: &str) -> Result<(), Error> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == contents) {
        return Ok(());
    }
    std::fs::write(path, contents).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })
}
