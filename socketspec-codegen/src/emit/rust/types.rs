//! The payload types: every `$defs` entry, event payload and server event
//! payload, given to typify in one shared type space.

use heck::ToUpperCamelCase;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::Value;

use super::{TypeOptions, doc_attr};
use crate::error::Error;
use crate::model::Model;

/// Schemas whose validation keywords the runtime enforces with `jsonschema`
/// are given to typify without them, so the generated types are plain
/// Rust types (`String`, not a regex-checked newtype needing extra crates).
fn for_typify(schema: &Value) -> Value {
    match schema {
        Value::Object(object) => Value::Object(
            object
                .iter()
                .filter(|(k, _)| {
                    !matches!(
                        k.as_str(),
                        "pattern"
                            | "minLength"
                            | "maxLength"
                            | "format"
                            | "$schema"
                            | "examples"
                            | "default"
                    )
                })
                .map(|(k, v)| {
                    let v = match k.as_str() {
                        // Maps of schemas: recurse into each value.
                        "properties" | "$defs" | "patternProperties" => match v {
                            Value::Object(m) => Value::Object(
                                m.iter().map(|(k, v)| (k.clone(), for_typify(v))).collect(),
                            ),
                            other => other.clone(),
                        },
                        "enum" | "const" | "required" => v.clone(),
                        _ => for_typify(v),
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(for_typify).collect()),
        other => other.clone(),
    }
}

/// A definition that is just a primitive becomes a type alias rather than a
/// newtype: `pub type Room = String;`.
fn primitive_alias(schema: &Value) -> Option<TokenStream> {
    let object = schema.as_object()?;
    let allowed = ["type", "description", "title"];
    if object.keys().any(|k| !allowed.contains(&k.as_str())) {
        return None;
    }
    match object.get("type")?.as_str()? {
        "string" => Some(quote!(::std::string::String)),
        "integer" => Some(quote!(i64)),
        "number" => Some(quote!(f64)),
        "boolean" => Some(quote!(bool)),
        _ => None,
    }
}

pub(super) fn payload_types(model: &Model, options: &TypeOptions) -> Result<TokenStream, Error> {
    let mut settings = typify::TypeSpaceSettings::default();
    settings.with_struct_builder(false);
    settings.with_derive("PartialEq".to_owned());
    options.apply(&mut settings);
    let mut aliases = Vec::new();
    let mut entries: Vec<(String, schemars::schema::Schema)> = Vec::new();
    let to_schema = |v: &Value| -> Result<schemars::schema::Schema, Error> {
        serde_json::from_value(for_typify(v)).map_err(|e| Error::Generate {
            file: model.file.clone(),
            message: format!("schema not understood: {e}"),
        })
    };
    for (name, schema) in &model.defs {
        let type_name = name.to_upper_camel_case();
        let stripped = for_typify(schema);
        if let Some(rust) = primitive_alias(&stripped) {
            let ident = format_ident!("{}", type_name);
            let doc = doc_attr(
                schema.get("description").and_then(Value::as_str),
                &format!(" `$defs.{name}` of the spec."),
            );
            aliases.push(quote! { #doc pub type #ident = #rust; });
            settings.with_replacement(type_name.clone(), type_name.clone(), std::iter::empty());
        }
        entries.push((name.clone(), to_schema(schema)?));
    }
    for event in &model.events {
        entries.push((
            event.type_name.clone(),
            to_schema(&with_description(
                &event.payload,
                event.description.as_deref(),
                &format!("The payload of `{}`.", event.name),
            ))?,
        ));
    }
    for msg in &model.server_events {
        entries.push((
            msg.type_name.clone(),
            to_schema(&with_description(
                &msg.payload,
                msg.description.as_deref(),
                &format!("The payload of `{}`.", msg.name),
            ))?,
        ));
    }
    let mut space = typify::TypeSpace::new(&settings);
    // typify may panic on schemas it does not support; report that as a spec
    // problem instead of crashing the build script.
    let added = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        space.add_ref_types(entries).map(|()| space.to_stream())
    }));
    let stream = match added {
        Ok(Ok(stream)) => stream,
        Ok(Err(e)) => {
            return Err(Error::Generate {
                file: model.file.clone(),
                message: format!("a payload schema cannot be turned into Rust types: {e}"),
            });
        }
        Err(_) => {
            return Err(Error::Generate {
                file: model.file.clone(),
                message: "a payload schema uses a construct the type generator (typify) does not support; simplify it (e.g. avoid deeply combined allOf/oneOf)".to_owned(),
            });
        }
    };
    Ok(quote! { #(#aliases)* #stream })
}

fn with_description(schema: &Value, description: Option<&str>, fallback: &str) -> Value {
    let mut schema = schema.clone();
    if let Some(obj) = schema
        .as_object_mut()
        .filter(|o| !o.contains_key("description"))
    {
        {
            obj.insert(
                "description".into(),
                Value::String(description.unwrap_or(fallback).to_owned()),
            );
        }
    }
    schema
}
