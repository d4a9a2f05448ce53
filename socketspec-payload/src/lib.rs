//! # socketspec-payload
//!
//! What the payload types `socketspec-codegen` generates rely on, and what
//! "the payload reaches the handler unchanged" means:
//!
//! - [`Integer`]: any JSON integer, the type of `"type": "integer"` when the
//!   schema's bounds do not keep it within `i64` or `u64`;
//! - [`de`]: the decoding helpers generated `#[serde(deserialize_with)]`
//!   attributes name (integral floats such as `1.0` read as integers;
//!   "absent" kept apart from "`null`");
//! - [`same_json`] and [`round_trip`]: the JSON equality a lossless round
//!   trip is held to, and a check of one value through one type;
//! - [`open_object!`]: `Serialize`/`Deserialize` for the struct of an open
//!   object (named properties as fields, the others in a map), reading
//!   every property once.
//!
//! `socketspec-runtime` re-exports this crate, so user crates need not
//! depend on it: `socketspec_runtime::Integer`,
//! `socketspec_runtime::same_json`.

pub mod de;
mod integer;
#[doc(hidden)]
pub mod object;
mod same;

#[doc(hidden)]
pub use serde as __serde;

pub use integer::{Integer, OutOfRange};
pub use same::{difference, round_trip, same_json};
