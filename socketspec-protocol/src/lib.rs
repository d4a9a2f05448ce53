//! # socketspec-protocol
//!
//! The facts of the socketspec wire protocol, written once and shared by the
//! runtime (server and client), the code generator (which also prints them
//! into the TypeScript client) and the documents it renders:
//!
//! - [`SystemEvent`]: the ten reserved `__x__` events and who sends them;
//! - [`ErrorCode`]: the codes of the `__error__` envelope;
//! - [`CloseCode`]: the WebSocket close codes the server uses;
//! - [`DisconnectReason`]: the `reason` of `__disconnect__`;
//! - [`envelope`]: the envelope's field names and the upgrade's query
//!   parameters;
//! - [`RoomPattern`]: the room-pattern grammar (`chat:{room}`).
//!
//! It has no dependency beyond `serde`, so any tool can use it.
//!
//! ```
//! use socketspec_protocol::{CloseCode, ErrorCode, RoomPattern, SystemEvent};
//!
//! assert_eq!(SystemEvent::Ping.name(), "__ping__");
//! assert_eq!(SystemEvent::from_name("__pong__"), Some(SystemEvent::Pong));
//! assert!(socketspec_protocol::is_reserved("__my_event__"));
//! assert_eq!(ErrorCode::RoomNotFound.as_str(), "ROOM_NOT_FOUND");
//! assert_eq!(CloseCode::IdleTimeout.as_u16(), 4002);
//!
//! let pattern = RoomPattern::parse("chat:{room}").unwrap();
//! assert_eq!(pattern.fill(&["general"]), "chat:general");
//! assert_eq!(pattern.matches("chat:general"), Some(vec![("room", "general")]));
//! ```

mod close;
mod disconnect;
pub mod envelope;
mod error_code;
mod room;
mod schema_document;
mod system;

pub use close::CloseCode;
pub use disconnect::DisconnectReason;
pub use error_code::ErrorCode;
pub use room::{PatternError, RoomPattern};
pub use schema_document::{
    SCHEMA_DOCUMENT, payload_schema_key, payload_schema_ref, schema_document,
};
pub use system::{Direction, SystemEvent, is_reserved};

/// The protocol's version, as `__connect__` and the documents state it.
pub const PROTOCOL_VERSION: u32 = 1;
