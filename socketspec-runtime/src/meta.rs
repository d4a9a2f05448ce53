//! Static descriptions of a spec that generated code hands to the runtime.
//!
//! The code generator writes one `static META: AppMeta` per spec. The runtime
//! reads it once at start-up (to compile payload validators, build the event
//! table and the room patterns) and never re-parses the spec.

/// A whole spec, as the runtime needs it.
#[derive(Debug)]
pub struct AppMeta {
    /// `info.title`.
    pub title: &'static str,
    /// `info.version`.
    pub version: &'static str,
    /// The spec's namespace (`"/"` by default).
    pub namespace: &'static str,
    /// Client -> server events, in the spec's order.
    pub events: &'static [EventMeta],
    /// Room patterns declared in the spec.
    pub rooms: &'static [RoomMeta],
    /// The spec file itself, as JSON (served at `{docs_url}/spec.json`),
    /// when the module embeds it (`Builder::embed_documents` in
    /// socketspec-codegen).
    pub spec_json: Option<&'static str>,
    /// The generated docs page (served at `docs_url`), when embedded.
    pub docs_html: Option<&'static str>,
    /// The generated AsyncAPI 3.0 document (served at
    /// `{docs_url}/asyncapi.json`), when embedded.
    pub asyncapi_json: Option<&'static str>,
    /// The spec's shared definitions, `{"$defs": {...}}` (JSON), written
    /// once: payload schemas refer to them as `#/$defs/Name`. Empty when
    /// there are none.
    pub schema_defs: &'static str,
}

/// One client -> server event.
#[derive(Debug)]
pub struct EventMeta {
    /// The event name on the wire.
    pub name: &'static str,
    /// Handled one at a time, in arrival order, per connection.
    pub ordered: bool,
    /// The handler blocks: it runs on tokio's blocking pool.
    pub executor: bool,
    /// The payload's JSON Schema; its `$ref`s (`#/$defs/Name`) point into
    /// [`AppMeta::schema_defs`].
    pub payload_schema: &'static str,
    /// The payload's generated type refuses everything the schema refuses
    /// (the code generator decides this from a narrow whitelist of shapes:
    /// required plain `string`, `integer`, `number` and `boolean` fields).
    /// For such events the runtime decodes the type straight from the frame
    /// instead of building a `serde_json::Value` and running the validator;
    /// it still runs them to explain a payload the type refused.
    pub type_checked: bool,
}

/// One room pattern, such as `chat:{room}`.
#[derive(Debug)]
pub struct RoomMeta {
    /// The pattern text, `{name}` marking a parameter.
    pub pattern: &'static str,
    /// A static room exists even when empty (only parameterless patterns).
    pub is_static: bool,
    /// Joins must pass the handler's guard for this pattern.
    pub guarded: bool,
    /// The most members the room may have, when limited.
    pub max_members: Option<u32>,
}

impl AppMeta {
    /// The index of the event called `name`.
    pub fn event_index(&self, name: &str) -> Option<usize> {
        self.events.iter().position(|e| e.name == name)
    }

    /// Whether the app embeds any document for the docs routes.
    pub fn has_documents(&self) -> bool {
        self.spec_json.is_some() || self.docs_html.is_some() || self.asyncapi_json.is_some()
    }
}
