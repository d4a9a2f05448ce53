//! `check`'s side of the one JSON Schema document a server validates
//! payloads with (`socketspec_protocol::schema_document`, which both build
//! it with): compiled here exactly as the server will, so a spec `check`
//! accepts is one a server starts with, and its failures (a reference to a
//! schema nobody declares, one `$id` claimed by two schemas) worded for the
//! spec's author.

use std::path::Path;

use indexmap::IndexMap;
use serde_json::Value;
use socketspec_protocol::{SCHEMA_DOCUMENT, payload_schema_ref, schema_document};

use crate::error::{SpecError, join_path};
use crate::resolve::segment_path;
use crate::schema::subschemas;

/// Where and why `schema` (at `at`) does not compile, and the fix: a
/// reference to a schema that no `$id` of the spec names (the server never
/// fetches one), or another fault of a keyword (reported at `fallback`).
pub(crate) fn compile_failure(
    schema: &Value,
    at: &str,
    error: &str,
    fallback: String,
) -> (String, String, &'static str) {
    const OUTSIDE: &str = "copy the schema into `$defs` (or a file beside the spec) and use `#/$defs/Name` or `file.json#/$defs/Name`";
    let missing = error
        .strip_prefix("Resource '")
        .and_then(|rest| rest.split_once('\''))
        .filter(|(_, rest)| rest.starts_with(" is not present in a registry"))
        .map(|(uri, _)| uri);
    match missing {
        Some(uri) => match find_ref(schema, uri, at) {
            Some((path, reference)) => (
                path,
                format!(
                    "`$ref` `{reference}` points outside the project: no schema of the spec has that `$id`, and the server never fetches a schema"
                ),
                OUTSIDE,
            ),
            None => (
                fallback,
                format!("the schema does not compile: {error}"),
                OUTSIDE,
            ),
        },
        None => (
            fallback,
            format!("the schema does not compile: {error}"),
            "correct the keyword (e.g. a `pattern` must be a valid regular expression)",
        ),
    }
}

/// The JSON path and text of the first `$ref` in `schema` (found at `at`)
/// to the resource `uri` (as written, or relative to an `$id`).
fn find_ref(schema: &Value, uri: &str, at: &str) -> Option<(String, String)> {
    // A relative reference names the resource resolved against an `$id`.
    let names = |reference: &str| {
        let resource = reference.split('#').next().unwrap_or_default();
        resource == uri
            || (!resource.is_empty() && !resource.contains(':') && uri.ends_with(resource))
    };
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str)
        && names(reference)
    {
        return Some((join_path(at, "$ref"), reference.to_owned()));
    }
    subschemas(schema)
        .into_iter()
        .find_map(|(segment, sub)| find_ref(sub, uri, &format!("{at}{}", segment_path(&segment))))
}

/// Compiles the one document a server validates payloads with, as the
/// server does: the shared definitions and every client event's payload
/// (`payloads`, in event order, with their JSON paths), so that a spec
/// `check` accepts is one a server starts with (two schema resources with
/// one `$id`, or a reference that resolves only outside it, are caught here).
pub(crate) fn document_compiles(
    file: &Path,
    defs: &IndexMap<String, Value>,
    payloads: &[(String, &Value)],
    errors: &mut Vec<SpecError>,
) {
    if !one_schema_per_id(file, defs, payloads, errors) {
        return;
    }
    let shared = defs.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    let document = schema_document(shared, payloads.iter().map(|(_, s)| (*s).clone()));
    let registry = match jsonschema::Registry::new()
        .add(SCHEMA_DOCUMENT, document)
        .and_then(|builder| builder.prepare())
    {
        Ok(registry) => registry,
        Err(e) => {
            errors.push(SpecError::new(
                file,
                "$defs",
                format!("the spec's schemas do not compile together: {e}"),
                "give each `$id` one schema",
            ));
            return;
        }
    };
    for (index, (at, schema)) in payloads.iter().enumerate() {
        if let Err(e) = jsonschema::draft202012::options()
            .should_validate_formats(true)
            .with_registry(&registry)
            .build(&payload_schema_ref(index))
        {
            let (path, message, fix) = compile_failure(schema, at, &e.to_string(), at.clone());
            errors.push(SpecError::new(file, path, message, fix));
        }
    }
}

/// Refuses an absolute `$id` that two different schemas declare: in one
/// document, one of them would silently stand for both.
fn one_schema_per_id(
    file: &Path,
    defs: &IndexMap<String, Value>,
    payloads: &[(String, &Value)],
    errors: &mut Vec<SpecError>,
) -> bool {
    let mut declared = Vec::new();
    for (name, schema) in defs {
        declared_ids(schema, &join_path("$defs", name), &mut declared);
    }
    for (at, schema) in payloads {
        declared_ids(schema, at, &mut declared);
    }
    let before = errors.len();
    for (i, (id, at, schema)) in declared.iter().enumerate() {
        if let Some((_, first, _)) = declared[..i]
            .iter()
            .find(|(other, _, body)| other == id && body != schema)
        {
            errors.push(SpecError::new(
                file,
                at,
                format!("`$id` `{id}` is declared by two different schemas (also at `{first}`)"),
                "give each schema its own `$id`, or declare it once and `$ref` it",
            ));
        }
    }
    errors.len() == before
}

/// Every absolute `$id` declared in `schema` (found at `at`): the URI, the
/// path of the `$id` and the schema that declares it.
fn declared_ids<'a>(schema: &'a Value, at: &str, out: &mut Vec<(String, String, &'a Value)>) {
    if let Some(id) = schema.get("$id").and_then(Value::as_str)
        && (id.contains("://") || id.starts_with("urn:"))
    {
        out.push((
            id.trim_end_matches('#').to_owned(),
            join_path(at, "$id"),
            schema,
        ));
    }
    for (segment, sub) in subschemas(schema) {
        declared_ids(sub, &format!("{at}{}", segment_path(&segment)), out);
    }
}
