//! Unit tests that span several emitters and read internal results (the
//! model, the example generator, the protocol tables); tests of the public
//! surface live in `tests/`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod docs_page;
mod names;
