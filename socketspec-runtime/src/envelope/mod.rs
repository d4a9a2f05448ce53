//! The JSON envelope every message travels in.
//!
//! Client -> server: `{"event": string, "payload": object?, "id": string?}`;
//! server -> client: `{"event", "payload", "id"?}` where `id` appears only
//! on direct replies to a message that carried one.

mod decode;
mod encode;

pub use decode::{DecodeError, Head, Inbound, decode, decode_head};
pub(crate) use decode::{Decoded, DecodedPayload, decode_borrowed};
pub use encode::{ErrorPayload, encode, encode_error};
