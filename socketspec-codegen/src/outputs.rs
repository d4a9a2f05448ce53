//! What a validated [`Model`] offers outside the crate: a summary of the
//! spec and each output rendered on its own (docs page, AsyncAPI document,
//! TypeScript client). The Rust module is rendered by
//! [`Builder`](crate::Builder), which holds its options.
//!
//! Each method hands the model to one emitter; none writes a file.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::emit::{asyncapi, docs, typescript};
use crate::error::Error;
use crate::model::Model;
use crate::warning::SpecWarning;

impl Model {
    /// The spec file the model was read from (as given to [`check`](crate::check)).
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// `info.title`.
    pub fn title(&self) -> &str {
        &self.info.title
    }

    /// `info.version`.
    pub fn version(&self) -> &str {
        &self.info.version
    }

    /// The names of the events clients send, in file order.
    pub fn event_names(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.events.iter().map(|e| e.name.as_str())
    }

    /// The names of the events the server sends (emits and broadcasts), each
    /// once, in the order the spec first declares them.
    pub fn server_event_names(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.server_events.iter().map(|e| e.name.as_str())
    }

    /// The room patterns (`chat:{room}`), in file order.
    pub fn room_patterns(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.rooms.iter().map(|r| r.pattern.as_str())
    }

    /// The other files the spec's `$ref`s read, each once: a build script
    /// reruns when any of them changes.
    pub fn referenced_files(&self) -> &[PathBuf] {
        &self.referenced_files
    }

    /// The spec itself as JSON text, as the runtime serves it at
    /// `{docs_url}/spec.json`.
    pub fn spec_json(&self) -> &str {
        &self.spec_json
    }

    /// The docs page: one self-contained HTML file with a try-it console,
    /// with the console's default WebSocket path and URL.
    pub fn docs_html(&self) -> Result<String, Error> {
        docs::render(self)
    }

    /// The docs page with other console defaults.
    pub fn docs_html_with(&self, options: &docs::DocsOptions) -> Result<String, Error> {
        docs::render_with(self, options)
    }

    /// The AsyncAPI 3.0 document, as a JSON value (serialize it to YAML with
    /// any serde format).
    pub fn asyncapi(&self) -> Value {
        asyncapi::document(self)
    }

    /// The AsyncAPI 3.0 document as pretty-printed JSON text.
    pub fn asyncapi_json(&self) -> Result<String, Error> {
        asyncapi::to_json(self)
    }

    /// The TypeScript client: one self-contained `.ts` file for browsers and
    /// Node, with no runtime dependencies.
    pub fn typescript(&self) -> Result<String, Error> {
        typescript::render(self)
    }

    /// What the build warns about: each schema node the generator keeps as
    /// JSON instead of a narrower type, each unknown `format`, ... (see
    /// [`SpecWarning`]). [`Builder::compile`](crate::Builder::compile)
    /// prints them as `cargo:warning` lines.
    pub fn warnings(&self) -> &[SpecWarning] {
        &self.warnings
    }

    /// The handler methods of the generated `Handler` trait, one per client
    /// event in file order, with the Rust names the module gives them: for
    /// tools that write code against it (a handler skeleton, a harness).
    pub fn handler_methods(&self) -> impl ExactSizeIterator<Item = HandlerMethod<'_>> + '_ {
        self.events.iter().map(|e| HandlerMethod {
            event: &e.name,
            method: &e.method,
            payload_type: &e.type_name,
            blocking: e.executor,
            emits: e
                .emits
                .iter()
                .filter_map(|i| self.server_events.get(*i))
                .map(|m| m.name.as_str())
                .collect(),
        })
    }

    /// The guard methods the `Handler` trait requires, one per guarded room
    /// pattern: the method's name (`guard_admin`) and its parameters, each a
    /// `&str` (`section`).
    pub fn guard_methods(&self) -> impl Iterator<Item = (String, &[String])> + '_ {
        self.rooms
            .iter()
            .filter(|r| r.guarded)
            .map(|r| (format!("guard_{}", r.ident), r.params.as_slice()))
    }

    /// Every event's name on the wire and the name of its payload type in
    /// the generated module: the client events, then the server events.
    pub fn payload_types(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.events
            .iter()
            .map(|e| (e.name.as_str(), e.type_name.as_str()))
            .chain(
                self.server_events
                    .iter()
                    .map(|m| (m.name.as_str(), m.type_name.as_str())),
            )
    }
}

/// One method of the generated `Handler` trait (see
/// [`Model::handler_methods`]).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct HandlerMethod<'a> {
    /// The event's name on the wire.
    pub event: &'a str,
    /// The method's name, a raw identifier (`r#type`) for a keyword.
    pub method: &'a str,
    /// The payload type; its context is `<payload_type>Cx`.
    pub payload_type: &'a str,
    /// A blocking handler (`executor: true`): a plain `fn`, not `async`.
    pub blocking: bool,
    /// The server events it emits to its sender (`emit_<name>` on its
    /// context).
    pub emits: Vec<&'a str>,
}
