//! What the planner tells the spec's author besides types: the spec's own
//! `examples` (checked against their types by the generated module) and a
//! warning for each `format` the runtime does not check.

use serde_json::Value;

use super::planner::Planner;
use super::{Example, Ty};
use crate::error::join_path;
use crate::resolve::segment_path;
use crate::schema::{CHECKED_FORMATS, subschemas};

impl<'m> Planner<'m> {
    pub(super) fn record_examples(&mut self, schema: &Value, path: &str, ty: &Ty) {
        let Some(values) = schema.get("examples").and_then(Value::as_array) else {
            return;
        };
        for (i, value) in values.iter().enumerate() {
            let at = format!("{path}.examples[{i}]");
            if self.example_paths.insert(at.clone()) {
                self.examples.push(Example {
                    path: at,
                    value: value.clone(),
                    ty: ty.clone(),
                });
            }
        }
    }

    /// Warns about every `format` the runtime does not check.
    pub(super) fn unchecked_formats(&mut self) {
        let model = self.model;
        let mut roots: Vec<(String, &Value)> = model
            .defs
            .iter()
            .map(|(name, schema)| (join_path("$defs", name), schema))
            .collect();
        roots.extend(model.events.iter().map(|e| {
            (
                join_path(&join_path("events", &e.name), "payload"),
                &e.payload,
            )
        }));
        roots.extend(
            model
                .server_events
                .iter()
                .map(|m| (join_path(&m.path, "payload"), &m.payload)),
        );
        let mut stack = roots;
        while let Some((path, schema)) = stack.pop() {
            if let Some(format) = schema.get("format").and_then(Value::as_str)
                && !CHECKED_FORMATS.contains(&format)
            {
                self.warn(
                    &format!("{path}.format"),
                    &format!("`format` `{format}` is not one the runtime checks, so it only documents the value"),
                    &format!(
                        "use one of {}, or check the value in the handler",
                        CHECKED_FORMATS.map(|f| format!("`{f}`")).join(", ")
                    ),
                );
            }
            for (segment, sub) in subschemas(schema) {
                stack.push((format!("{path}{}", segment_path(&segment)), sub));
            }
        }
    }
}
