//! The spec format's Rust types: what a spec file may contain.
//!
//! These types are the single source of truth for the format: serde reads
//! spec files with them (rejecting unknown fields, so a typo is an error, not
//! a silently ignored key) and schemars derives `spec/socketspec.schema.json`
//! from them, which editors use for completion and checking.

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A socketspec spec file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// The JSON Schema this file follows, for editors
    /// (e.g. `"./socketspec.schema.json"`). Ignored by the generator.
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// The format version: `"1"`.
    pub socketspec: String,
    /// Title, version and description of the API.
    pub info: Info,
    /// Namespace prefix for all events (`"/"` by default).
    #[serde(default = "default_namespace")]
    pub namespace: String,
    /// Reusable JSON Schemas, referenced as `{"$ref": "#/$defs/Name"}`. Each
    /// becomes one Rust type, generated once however often it is used.
    #[serde(rename = "$defs", default, skip_serializing_if = "UniqueMap::is_empty")]
    #[schemars(with = "BTreeMap<String, JsonSchemaValue>")]
    pub defs: UniqueMap<Value>,
    /// Room name patterns such as `chat:{room}`; `{name}` marks a parameter.
    #[serde(default, skip_serializing_if = "UniqueMap::is_empty")]
    #[schemars(with = "BTreeMap<String, Room>")]
    pub rooms: UniqueMap<Room>,
    /// The events clients send, by name.
    #[schemars(with = "BTreeMap<String, Event>")]
    pub events: UniqueMap<Event>,
    /// Events the server sends on its own, by name: from lifecycle hooks,
    /// other HTTP routes or any task, to one connection, to every
    /// connection of a user, or (when `room` is set) to a room.
    #[serde(default, skip_serializing_if = "UniqueMap::is_empty")]
    #[schemars(with = "BTreeMap<String, Push>")]
    pub push: UniqueMap<Push>,
}

/// The `$id` of the format's JSON Schema (`spec/socketspec.schema.json`).
pub const FORMAT_SCHEMA_ID: &str = "https://example.invalid/socketspec/socketspec.schema.json";

/// The spec format's own JSON Schema (draft 2020-12), derived from the
/// Rust types serde reads spec files with.
///
/// This is what `spec/socketspec.schema.json` holds; a spec file that names
/// it in `"$schema"` gets completion and checking in editors. A test fails
/// when the checked-in copy is stale.
pub fn format_schema() -> Value {
    let mut settings = schemars::r#gen::SchemaSettings::draft2019_09();
    settings.definitions_path = "#/$defs/".to_owned();
    settings.meta_schema = Some("https://json-schema.org/draft/2020-12/schema".to_owned());
    let root = settings.into_generator().into_root_schema_for::<Spec>();
    let mut generated = match serde_json::to_value(root) {
        Ok(Value::Object(map)) => map,
        // A schemars root schema always serializes to a JSON object.
        other => unreachable!("schemars produced a root schema that is not an object: {other:?}"),
    };
    let mut out = serde_json::Map::new();
    if let Some(meta) = generated.remove("$schema") {
        out.insert("$schema".into(), meta);
    }
    out.insert("$id".into(), Value::String(FORMAT_SCHEMA_ID.to_owned()));
    generated.remove("title");
    out.insert(
        "title".into(),
        Value::String("socketspec spec file".to_owned()),
    );
    for key in ["description", "type", "required"] {
        if let Some(value) = generated.remove(key) {
            out.insert(key.into(), value);
        }
    }
    let defs = generated.remove("definitions");
    out.extend(generated);
    if let Some(defs) = defs {
        out.insert("$defs".into(), defs);
    }
    Value::Object(out)
}

fn default_namespace() -> String {
    "/".to_owned()
}

/// Title, version and description of the API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Info {
    /// The API's name, shown in the docs page header.
    pub title: String,
    /// The API's version (free text, e.g. `1.0.0`).
    pub version: String,
    /// What the API is for (Markdown-free plain text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A room pattern.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Room {
    /// What the room is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The room exists even when empty (only for patterns without parameters).
    #[serde(rename = "static", default, skip_serializing_if = "is_false")]
    pub is_static: bool,
    /// Joins must pass a guard: the handler trait gets a
    /// `guard_<name>(conn, params...) -> bool` method for this pattern.
    #[serde(default, skip_serializing_if = "is_false")]
    pub guarded: bool,
    /// The most members a room of this pattern may have (at least 1).
    #[schemars(range(min = 1))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_members: Option<u32>,
}

/// An event clients send.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Event {
    /// What the event does; becomes the handler method's doc comment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Groups events in the docs page.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// The payload's JSON Schema (draft 2020-12); it must describe an object.
    /// Absent means an empty object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<JsonSchemaValue>")]
    pub payload: Option<Value>,
    /// Events the handler sends back to the sender, by name.
    #[serde(default, skip_serializing_if = "UniqueMap::is_empty")]
    #[schemars(with = "BTreeMap<String, Message>")]
    pub emits: UniqueMap<Message>,
    /// Events the handler broadcasts to rooms, by name.
    #[serde(default, skip_serializing_if = "UniqueMap::is_empty")]
    #[schemars(with = "BTreeMap<String, Broadcast>")]
    pub broadcasts: UniqueMap<Broadcast>,
    /// Messages from one connection to this event are handled one at a
    /// time, in arrival order.
    #[serde(default, skip_serializing_if = "is_false")]
    pub ordered: bool,
    /// The handler blocks (CPU work, blocking I/O): it is generated as a
    /// plain `fn` and run on tokio's blocking pool.
    #[serde(default, skip_serializing_if = "is_false")]
    pub executor: bool,
    /// Marks the event deprecated: `#[deprecated]` on its handler method and
    /// a badge in the docs.
    #[serde(default, skip_serializing_if = "is_false")]
    pub deprecated: bool,
}

/// An event the server sends to the sender.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Message {
    /// What the message means.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The payload's JSON Schema; it must describe an object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<JsonSchemaValue>")]
    pub payload: Option<Value>,
}

/// An event the server broadcasts to a room.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Broadcast {
    /// The room pattern it goes to, exactly as declared under `rooms`
    /// (e.g. `chat:{room}`); the generated method takes one argument per
    /// parameter.
    pub room: String,
    /// What the message means.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The payload's JSON Schema; it must describe an object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<JsonSchemaValue>")]
    pub payload: Option<Value>,
    /// Deliver to the room's other members only, not to the sender.
    #[serde(default, skip_serializing_if = "is_false")]
    pub exclude_sender: bool,
}

/// An event the server sends on its own (not as a handler's reply).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Push {
    /// What the message means.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The payload's JSON Schema; it must describe an object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<JsonSchemaValue>")]
    pub payload: Option<Value>,
    /// The room pattern it may be broadcast to, exactly as declared under
    /// `rooms` (e.g. `chat:{room}`). Without it, it goes only to
    /// connections and users.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room: Option<String>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// Any JSON Schema (draft 2020-12), as the format's schema describes it.
struct JsonSchemaValue;

impl JsonSchema for JsonSchemaValue {
    fn schema_name() -> String {
        "JsonSchema".to_owned()
    }

    fn json_schema(_: &mut schemars::r#gen::SchemaGenerator) -> schemars::schema::Schema {
        let mut schema = schemars::schema::SchemaObject::default();
        schema.metadata().description = Some(
            "A JSON Schema (draft 2020-12). `$ref` may point into `#/$defs` or at another file."
                .to_owned(),
        );
        schema.instance_type = Some(
            vec![
                schemars::schema::InstanceType::Object,
                schemars::schema::InstanceType::Boolean,
            ]
            .into(),
        );
        schema.into()
    }
}

/// An ordered map that refuses duplicate keys (serde_json would silently
/// keep the last one, hiding a copy-paste mistake).
#[derive(Debug, Clone, PartialEq)]
pub struct UniqueMap<V>(pub IndexMap<String, V>);

impl<V> Default for UniqueMap<V> {
    fn default() -> Self {
        UniqueMap(IndexMap::new())
    }
}

impl<V> UniqueMap<V> {
    /// Whether the map is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Iterates in file order.
    pub fn iter(&self) -> indexmap::map::Iter<'_, String, V> {
        self.0.iter()
    }

    /// The value for `key`.
    pub fn get(&self, key: &str) -> Option<&V> {
        self.0.get(key)
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.0.len()
    }
}

impl<'a, V> IntoIterator for &'a UniqueMap<V> {
    type Item = (&'a String, &'a V);
    type IntoIter = indexmap::map::Iter<'a, String, V>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl<V: Serialize> Serialize for UniqueMap<V> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for UniqueMap<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct UniqueVisitor<V>(PhantomData<V>);

        impl<'de, V: Deserialize<'de>> Visitor<'de> for UniqueVisitor<V> {
            type Value = UniqueMap<V>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object with unique keys")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
                let mut map = IndexMap::new();
                while let Some(key) = access.next_key::<String>()? {
                    if map.contains_key(&key) {
                        // `load` turns this into "`key` is declared twice" at the key's path.
                        return Err(de::Error::custom(format_args!("duplicate key `{key}`")));
                    }
                    let value = access.next_value()?;
                    map.insert(key, value);
                }
                Ok(UniqueMap(map))
            }
        }

        deserializer.deserialize_map(UniqueVisitor(PhantomData))
    }
}
