//! The payload tables of the docs page: a schema's fields, row by row
//! (nested objects indented, `$ref`s named), with their types and
//! constraints.

use askama::Template;
use serde_json::Value;

use super::docs::inline_html;
use crate::model::Model;

#[derive(Template)]
#[template(path = "docs/schema_table.html")]
struct SchemaTable {
    rows: Vec<Row>,
    closed: bool,
}

/// One row of a payload table.
#[derive(Debug, Clone)]
struct Row {
    depth: usize,
    name: String,
    path: String,
    type_label: String,
    ref_name: String,
    required: bool,
    description_html: String,
    constraints: Vec<String>,
}

pub(super) fn schema_table(model: &Model, schema: &Value) -> Result<String, askama::Error> {
    let mut rows = Vec::new();
    let resolved = deref(model, schema);
    let closed = resolved.get("additionalProperties") == Some(&Value::Bool(false))
        || resolved.get("unevaluatedProperties") == Some(&Value::Bool(false));
    let mut trail = Vec::new();
    object_rows(model, resolved, 0, "", &mut rows, &mut trail);
    SchemaTable { rows, closed }.render()
}

/// Follows `$ref`s into the model's shared definitions.
pub(super) fn deref<'a>(model: &'a Model, mut schema: &'a Value) -> &'a Value {
    for _ in 0..16 {
        match ref_name(schema).and_then(|n| model.defs.get(n)) {
            Some(target) => schema = target,
            None => break,
        }
    }
    schema
}

fn ref_name(schema: &Value) -> Option<&str> {
    schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/$defs/"))
}

/// Rows for the properties of an object schema (and of its `allOf` parts).
fn object_rows(
    model: &Model,
    schema: &Value,
    depth: usize,
    prefix: &str,
    rows: &mut Vec<Row>,
    trail: &mut Vec<String>,
) {
    // A schema resource of its own is kept as written: its insides are its
    // own business (its `#/$defs/...` are not the spec's).
    if crate::schema::is_resource(schema) {
        return;
    }
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if let Some(props) = schema.get("properties").and_then(Value::as_object) {
        for (name, sub) in props {
            let path = if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}.{name}")
            };
            field_rows(
                model,
                name,
                &path,
                sub,
                required.contains(&name.as_str()),
                depth,
                rows,
                trail,
            );
        }
    }
    for part in schema
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        object_rows(model, deref(model, part), depth, prefix, rows, trail);
    }
}

#[allow(clippy::too_many_arguments)]
fn field_rows(
    model: &Model,
    name: &str,
    path: &str,
    schema: &Value,
    required: bool,
    depth: usize,
    rows: &mut Vec<Row>,
    trail: &mut Vec<String>,
) {
    let ref_name_str = ref_name(schema).unwrap_or("").to_owned();
    let resolved = deref(model, schema);
    // The definition this row opens: its own `$ref`, or its items' one.
    let opens = if ref_name_str.is_empty() {
        resolved
            .get("items")
            .and_then(ref_name)
            .unwrap_or("")
            .to_owned()
    } else {
        ref_name_str.clone()
    };
    let recursive = !opens.is_empty() && trail.contains(&opens);
    let description = schema
        .get("description")
        .or_else(|| resolved.get("description"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let mut constraints = constraints(resolved);
    if recursive {
        constraints.push(format!("recursive: see {opens} above"));
    }
    rows.push(Row {
        depth,
        name: name.to_owned(),
        path: path.to_owned(),
        type_label: type_label(resolved),
        ref_name: ref_name_str.clone(),
        required,
        description_html: inline_html(description),
        constraints,
    });
    if recursive || depth >= 6 {
        return;
    }
    if !opens.is_empty() {
        trail.push(opens.clone());
    }
    if has_properties(resolved) {
        object_rows(model, resolved, depth + 1, path, rows, trail);
    } else if let Some(items) = resolved.get("items").filter(|i| i.is_object()) {
        let items_resolved = deref(model, items);
        if has_properties(items_resolved) {
            object_rows(
                model,
                items_resolved,
                depth + 1,
                &format!("{path}[]"),
                rows,
                trail,
            );
        }
    }
    for key in ["oneOf", "anyOf"] {
        for (i, alt) in resolved
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let alt_resolved = deref(model, alt);
            if has_properties(alt_resolved) {
                let label = format!("{name} (option {})", i + 1);
                rows.push(Row {
                    depth: depth + 1,
                    name: label,
                    path: format!("{path}#{}", i + 1),
                    type_label: type_label(alt_resolved),
                    ref_name: ref_name(alt).unwrap_or("").to_owned(),
                    required: false,
                    description_html: inline_html(
                        alt_resolved
                            .get("description")
                            .and_then(Value::as_str)
                            .unwrap_or(""),
                    ),
                    constraints: Vec::new(),
                });
                object_rows(model, alt_resolved, depth + 2, path, rows, trail);
            }
        }
    }
    if !opens.is_empty() {
        trail.pop();
    }
}

fn has_properties(schema: &Value) -> bool {
    schema
        .get("properties")
        .and_then(Value::as_object)
        .is_some_and(|p| !p.is_empty())
        || schema.get("allOf").is_some()
}

/// A short type name: `string`, `integer | null`, `array of string`, `object`.
fn type_label(schema: &Value) -> String {
    if let Some(c) = schema.get("const") {
        return format!("const {c}");
    }
    let base = match schema.get("type") {
        Some(Value::String(t)) => t.clone(),
        Some(Value::Array(types)) => types
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" | "),
        _ => {
            for key in ["oneOf", "anyOf"] {
                if let Some(alts) = schema.get(key).and_then(Value::as_array) {
                    return alts
                        .iter()
                        .map(|a| match ref_name(a) {
                            Some(n) => n.to_owned(),
                            None => type_label(a),
                        })
                        .collect::<Vec<_>>()
                        .join(" | ");
                }
            }
            if schema.get("enum").is_some() {
                "enum".to_owned()
            } else if schema.get("properties").is_some() || schema.get("allOf").is_some() {
                "object".to_owned()
            } else {
                "any".to_owned()
            }
        }
    };
    if base.starts_with("array")
        && let Some(items) = schema.get("items").filter(|i| i.is_object())
    {
        let inner = match ref_name(items) {
            Some(n) => n.to_owned(),
            None => type_label(items),
        };
        return base.replacen("array", &format!("array of {inner}"), 1);
    }
    base
}

/// The constraints of a schema, in words.
fn constraints(schema: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let get = |k: &str| schema.get(k);
    if let Some(values) = get("enum").and_then(Value::as_array) {
        let list: Vec<String> = values.iter().map(Value::to_string).collect();
        out.push(format!("one of: {}", list.join(", ")));
    }
    if let Some(d) = get("default") {
        out.push(format!("default: {d}"));
    }
    if let Some(f) = get("format").and_then(Value::as_str) {
        // The badge says what the server does with it.
        if crate::schema::CHECKED_FORMATS.contains(&f) {
            out.push(format!("format: {f} (checked)"));
        } else {
            out.push(format!("format: {f} (not checked)"));
        }
    }
    match (
        get("minLength").and_then(Value::as_u64),
        get("maxLength").and_then(Value::as_u64),
    ) {
        (Some(a), Some(b)) if a == b => out.push(format!("exactly {a} characters")),
        (Some(a), Some(b)) => out.push(format!("{a}–{b} characters")),
        (Some(a), None) => out.push(format!("at least {a} characters")),
        (None, Some(b)) => out.push(format!("at most {b} characters")),
        (None, None) => {}
    }
    if let Some(p) = get("pattern").and_then(Value::as_str) {
        out.push(format!("pattern: {p}"));
    }
    let num = |k: &str| get(k).filter(|v| v.is_number()).map(Value::to_string);
    match (num("minimum"), num("maximum")) {
        (Some(a), Some(b)) => out.push(format!("{a} ≤ value ≤ {b}")),
        (Some(a), None) => out.push(format!("≥ {a}")),
        (None, Some(b)) => out.push(format!("≤ {b}")),
        (None, None) => {}
    }
    if let Some(a) = num("exclusiveMinimum") {
        out.push(format!("> {a}"));
    }
    if let Some(b) = num("exclusiveMaximum") {
        out.push(format!("< {b}"));
    }
    if let Some(m) = num("multipleOf") {
        out.push(format!("multiple of {m}"));
    }
    match (
        get("minItems").and_then(Value::as_u64),
        get("maxItems").and_then(Value::as_u64),
    ) {
        (Some(a), Some(b)) => out.push(format!("{a}–{b} items")),
        (Some(a), None) => out.push(format!("at least {a} items")),
        (None, Some(b)) => out.push(format!("at most {b} items")),
        (None, None) => {}
    }
    if get("uniqueItems") == Some(&Value::Bool(true)) {
        out.push("items are unique".to_owned());
    }
    if has_properties(schema)
        && (get("additionalProperties") == Some(&Value::Bool(false))
            || get("unevaluatedProperties") == Some(&Value::Bool(false)))
    {
        out.push("no other fields".to_owned());
    }
    if get("deprecated") == Some(&Value::Bool(true)) {
        out.push("deprecated".to_owned());
    }
    if let Some(examples) = get("examples").and_then(Value::as_array) {
        let list: Vec<String> = examples.iter().take(3).map(Value::to_string).collect();
        if !list.is_empty() {
            out.push(format!("e.g. {}", list.join(", ")));
        }
    }
    out
}
