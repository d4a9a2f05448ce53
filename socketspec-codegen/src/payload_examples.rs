//! Each payload's example, found once when the model is built, and a build
//! warning for every payload schema no candidate satisfies.

use crate::emit::example::PayloadExample;
use crate::error::join_path;
use crate::model::Model;
use crate::warning::SpecWarning;

/// Every payload's example, found once: the AsyncAPI document, the docs
/// page and the build's warnings all read it.
pub(crate) fn find(model: &mut Model) {
    let defs = &model.defs;
    for event in &mut model.events {
        event.example = PayloadExample::find(defs, &event.payload);
    }
    for message in &mut model.server_events {
        message.example = PayloadExample::find(defs, &message.payload);
    }
}

/// A warning for each payload schema no generated example satisfies: the
/// AsyncAPI document then has no example for it, and the docs page's
/// editor starts with a payload the server refuses. (No value may satisfy
/// the schema at all, e.g. `false` or `not: {}`.)
pub(crate) fn unsatisfied(model: &Model) -> Vec<SpecWarning> {
    let payloads = model
        .events
        .iter()
        .map(|e| {
            (
                join_path(&join_path("events", &e.name), "payload"),
                &e.example,
            )
        })
        .chain(
            model
                .server_events
                .iter()
                .map(|m| (join_path(&m.path, "payload"), &m.example)),
        );
    payloads
        .filter(|(_, example)| example.valid().is_none())
        .map(|(path, _)| {
            SpecWarning::new(
                &model.file,
                path,
                "no example satisfies this payload schema, so the AsyncAPI document has none and the docs page's editor starts with a payload the server refuses",
                "add an `examples` value the schema accepts, or check that some value can satisfy the schema",
            )
        })
        .collect()
}
