//! Step 4 of the pipeline: emitters. Each reads the validated
//! [`Model`](crate::model::Model) and writes one output.

pub mod rust;
