//! [`Builder`]: the options of a compilation, named after `tonic-build`'s
//! where the two mean the same thing, and [`Generated`], what it wrote.

use std::path::{Path, PathBuf};

use heck::ToSnakeCase;

use crate::emit::rust::{self, Document, TypeOptions};
use crate::emit::{asyncapi, docs, typescript};
use crate::error::Error;
use crate::model::Model;

/// What a compilation wrote.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Generated {
    /// The module name (`chat`).
    pub module: String,
    /// The Rust file written (`$OUT_DIR/chat.rs`).
    pub rust_file: PathBuf,
    /// The documents written next to it, when the server side is generated
    /// or the documents are embedded: `chat.spec.json`, `chat.docs.html`,
    /// `chat.asyncapi.json`.
    pub documents: Vec<PathBuf>,
    /// The validated spec, for callers that render more from it.
    pub model: Model,
}

/// Options for code generation.
///
/// ```no_run
/// // build.rs of a server that serves its docs page, with a client in
/// // TypeScript for its web front end.
/// socketspec_codegen::Builder::new()
///     .module_name("chat_api")
///     .embed_documents(true)
///     .derive("Eq")
///     .typescript_out("web/src/chat.ts")
///     .compile("spec/chat.json")
///     .unwrap();
/// ```
///
/// ```no_run
/// // build.rs of a crate that only talks to a server.
/// socketspec_codegen::Builder::new()
///     .build_server(false)
///     .compile("spec/chat.json")
///     .unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct Builder {
    out_dir: Option<PathBuf>,
    module: Option<String>,
    emit_rerun_if_changed: bool,
    docs_out: Option<PathBuf>,
    asyncapi_out: Option<PathBuf>,
    typescript_out: Option<PathBuf>,
    build_server: bool,
    build_client: bool,
    embed_documents: bool,
    types: TypeOptions,
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            out_dir: None,
            module: None,
            emit_rerun_if_changed: true,
            docs_out: None,
            asyncapi_out: None,
            typescript_out: None,
            build_server: true,
            build_client: true,
            embed_documents: false,
            types: TypeOptions::default(),
        }
    }
}

impl Builder {
    /// The defaults: output to `$OUT_DIR`, module named after the file,
    /// server side and client both generated, documents written next to the
    /// module but not embedded, `cargo:rerun-if-changed` lines printed.
    pub fn new() -> Self {
        Builder::default()
    }

    /// Writes the generated files to `dir` instead of `$OUT_DIR`, e.g.
    /// `src/generated` for teams that check the code in and want their IDE
    /// to see it as plain source (then `mod` it instead of `include_spec!`).
    pub fn out_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.out_dir = Some(dir.into());
        self
    }

    /// Names the generated module (and its files) instead of the spec's
    /// stem. It must be a Rust identifier.
    pub fn module_name(mut self, name: impl Into<String>) -> Self {
        self.module = Some(name.into());
        self
    }

    /// Prints `cargo:rerun-if-changed` for the spec and every file it
    /// references (the default), or not, when running outside `build.rs`.
    pub fn emit_rerun_if_changed(mut self, emit: bool) -> Self {
        self.emit_rerun_if_changed = emit;
        self
    }

    /// Generates the server side (`Handler`, contexts, `Service`, `META`)
    /// or not (the default is on). Without it the module holds the payload
    /// types, room helpers and the typed client, so a crate that only talks
    /// to a server depends on
    /// `socketspec-runtime = { default-features = false, features = ["client"] }`
    /// and links no server code.
    pub fn build_server(mut self, build: bool) -> Self {
        self.build_server = build;
        self
    }

    /// Generates the typed Rust client (`client::Client`) or not (the
    /// default is on). A server that is never its own client can leave it
    /// out and drop the runtime's `client` feature.
    pub fn build_client(mut self, build: bool) -> Self {
        self.build_client = build;
        self
    }

    /// Embeds the spec, the docs page and the AsyncAPI document in the
    /// module (off by default): the module `include_str!`s the files written
    /// next to it as `SPEC_JSON`, `DOCS_HTML` and `ASYNCAPI_JSON`, and `META`
    /// hands them to the runtime, which serves them when `docs` is on in its
    /// configuration. A server with the docs routes needs this; without it
    /// the module stays small and the build does not compile the documents
    /// into the binary.
    pub fn embed_documents(mut self, embed: bool) -> Self {
        self.embed_documents = embed;
        self
    }

    /// Adds a derive to every generated payload type, e.g. `"Eq"`, `"Hash"`
    /// or `"schemars::JsonSchema"` (a path, without `#[derive(..)]`). The
    /// types already derive `Debug`, `Clone` and `PartialEq`, and implement
    /// `Serialize` and `Deserialize`. A derive some type cannot have (`Eq` on a type with an
    /// `f64`) fails in the crate that includes the module.
    pub fn derive(mut self, path: impl Into<String>) -> Self {
        self.types.derives.push(path.into());
        self
    }

    /// Adds an attribute to the generated payload type named `path` (its
    /// Rust name, such as `SendMessage`), or to every payload type when
    /// `path` is `"."`, as in `tonic-build`. `attribute` is the whole
    /// attribute: `#[serde(deny_unknown_fields)]`. Type aliases (`$defs`
    /// that are a plain string, number or boolean) take none; a name no type
    /// has is an error, not a silently missing attribute. `#[serde(..)]`
    /// attributes apply to the types serde derives (closed objects, enums,
    /// unions); an open object, one that keeps unnamed properties in its
    /// `extra` map, implements `Serialize`/`Deserialize` through
    /// `socketspec_payload::open_object!` and takes other attributes only.
    pub fn type_attribute(mut self, path: impl Into<String>, attribute: impl Into<String>) -> Self {
        self.types.attributes.push((path.into(), attribute.into()));
        self
    }

    /// Also writes the docs page (one self-contained HTML file) to `path`,
    /// e.g. to publish it with the rest of a site.
    pub fn docs_out(mut self, path: impl Into<PathBuf>) -> Self {
        self.docs_out = Some(path.into());
        self
    }

    /// Also writes the AsyncAPI 3.0 document (JSON) to `path`.
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

    /// Validates the spec at `path` and writes the generated Rust module,
    /// the documents next to it (with the server side, or when embedded)
    /// and the files asked for with the `*_out` options.
    pub fn compile(&self, path: impl AsRef<Path>) -> Result<Generated, Error> {
        let path = path.as_ref();
        if self.emit_rerun_if_changed {
            println!("cargo:rerun-if-changed={}", path.display());
        }
        let model = crate::validate_only(path)?;
        if self.emit_rerun_if_changed {
            for file in &model.referenced_files {
                println!("cargo:rerun-if-changed={}", file.display());
            }
            // `cargo:warning` takes one line; a warning may have several.
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
                .unwrap_or_default()
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
        let source = crate::catching_panics(&model, || self.render(&model, &module))?;
        create_dir(&out_dir)?;
        let rust_file = out_dir.join(format!("{module}.rs"));
        write_if_changed(&rust_file, &source)?;

        let mut documents = Vec::new();
        let mut docs_page = None;
        let mut asyncapi_json = None;
        if self.build_server || self.embed_documents {
            for document in Document::ALL {
                let text = match document {
                    Document::Spec => model.spec_json.clone(),
                    Document::DocsPage => docs_page.insert(docs::render(&model)?).clone(),
                    Document::AsyncApi => asyncapi_json.insert(asyncapi::to_json(&model)?).clone(),
                };
                let file = out_dir.join(document.file_name(&module));
                write_if_changed(&file, &text)?;
                documents.push(file);
            }
        }
        if let Some(path) = &self.docs_out {
            let page = match docs_page {
                Some(page) => page,
                None => docs::render(&model)?,
            };
            write_creating_dirs(path, &page)?;
        }
        if let Some(path) = &self.asyncapi_out {
            let json = match asyncapi_json {
                Some(json) => json,
                None => asyncapi::to_json(&model)?,
            };
            write_creating_dirs(path, &json)?;
        }
        if let Some(path) = &self.typescript_out {
            write_creating_dirs(path, &typescript::render(&model)?)?;
        }
        Ok(Generated {
            module,
            rust_file,
            documents,
            model,
        })
    }

    /// Renders the Rust module `pub mod <module> { .. }` for a validated
    /// spec, without writing anything (for tools that print it, such as
    /// `socketspec client --lang rust`). With [`embed_documents`] the module
    /// `include_str!`s its sibling documents, which only
    /// [`compile`](Builder::compile) writes.
    ///
    /// [`embed_documents`]: Builder::embed_documents
    pub fn render(&self, model: &Model, module: &str) -> Result<String, Error> {
        self.check_options(model, module)?;
        let options = rust::Options {
            server: self.build_server,
            client: self.build_client,
            embed_documents: self.embed_documents,
            types: self.types.clone(),
        };
        rust::render(model, module, &options)
    }

    /// Refuses what would make the type generator panic or the module not
    /// parse: a module name that is no identifier, a derive that is no path,
    /// an attribute that is no attribute.
    fn check_options(&self, model: &Model, module: &str) -> Result<(), Error> {
        if syn::parse_str::<syn::Ident>(module).is_err() {
            let message = match &self.module {
                Some(_) => format!(
                    "`{module}` is not a Rust identifier: use letters, digits and `_`, \
                     not starting with a digit, and no keyword"
                ),
                None => format!(
                    "the spec's file name {} gives the module name `{module}`, which is not a \
                     Rust identifier: choose one with Builder::module_name",
                    model.file.display()
                ),
            };
            return Err(Error::Builder {
                option: "module_name".to_owned(),
                message,
            });
        }
        for derive in &self.types.derives {
            if syn::parse_str::<syn::Path>(derive).is_err() {
                return Err(Error::Builder {
                    option: format!("derive({derive:?})"),
                    message: "not a path: name the derive macro alone, e.g. `Hash` or \
                              `schemars::JsonSchema`, without `#[derive(..)]`"
                        .to_owned(),
                });
            }
        }
        for (path, attribute) in &self.types.attributes {
            let parsed = syn::parse::Parser::parse_str(syn::Attribute::parse_outer, attribute);
            if !parsed.is_ok_and(|attributes| !attributes.is_empty()) {
                return Err(Error::Builder {
                    option: format!("type_attribute({path:?}, {attribute:?})"),
                    message: "not an attribute: write it whole, e.g. \
                              `#[serde(deny_unknown_fields)]`"
                        .to_owned(),
                });
            }
        }
        Ok(())
    }
}

fn create_dir(dir: &Path) -> Result<(), Error> {
    std::fs::create_dir_all(dir).map_err(|source| Error::Io {
        path: dir.to_owned(),
        source,
    })
}

/// [`write_if_changed`], creating the file's directory first.
fn write_creating_dirs(path: &Path, contents: &str) -> Result<(), Error> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        create_dir(dir)?;
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
