//! Step 4 of the pipeline: emitters. Each reads the validated
//! [`Model`](crate::model::Model) and writes one output.

pub mod asyncapi;
mod asyncapi_anchors;
pub mod docs;
pub mod example;
pub mod protocol;
pub mod rust;
mod samples;
mod schema_table;
pub mod typescript;
