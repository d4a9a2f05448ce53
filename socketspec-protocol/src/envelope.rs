//! The envelope's field names, the error envelope's, `__connect__`'s, and
//! the query parameters of the upgrade request.
//!
//! Client -> server: `{"event": ..., "payload": {...}, "id": ...}`.
//! Server -> client: the same, with `id` only on direct replies and `seq` on
//! every frame but `__ping__` and `__disconnect__` when resumption is on.

/// The event name (string, required).
pub const EVENT: &str = "event";
/// The payload (object; absent or `null` means `{}`).
pub const PAYLOAD: &str = "payload";
/// The client's correlation id (string, optional).
pub const ID: &str = "id";
/// The per-connection sequence number of a server frame (resumption).
pub const SEQ: &str = "seq";

/// The fields of an `__error__` payload.
pub mod error {
    /// One of the error codes.
    pub const CODE: &str = "code";
    /// The event that caused it, or null.
    pub const EVENT: &str = "event";
    /// A message for the person who caused it.
    pub const MESSAGE: &str = "message";
    /// The client's `id` when it sent one, else a fresh UUID.
    pub const REQUEST_ID: &str = "request_id";
    /// An object whose keys depend on the code.
    pub const DETAILS: &str = "details";
}

/// The fields of a `__connect__` payload.
pub mod connect {
    /// This connection's id.
    pub const CONNECTION_ID: &str = "connection_id";
    /// The namespace the connection belongs to (`/` by default).
    pub const NAMESPACE: &str = "namespace";
    /// Seconds between `__ping__`s (0 = off).
    pub const HEARTBEAT_INTERVAL: &str = "heartbeat_interval";
    /// Seconds a `__pong__` may take (0 = off).
    pub const HEARTBEAT_TIMEOUT: &str = "heartbeat_timeout";
    /// Seconds without an application event before the server closes (0 = off).
    pub const IDLE_TIMEOUT: &str = "idle_timeout";
    /// The longest a connection may last, in seconds (0 = off).
    pub const MAX_DURATION: &str = "max_duration";
    /// The largest message the server accepts, in bytes.
    pub const MAX_PAYLOAD_SIZE: &str = "max_payload_size";
    /// The token that resumes this session (resumption on).
    pub const RESUME_TOKEN: &str = "resume_token";
    /// Whether this connection resumed an earlier session (resumption on).
    pub const RESUMED: &str = "resumed";
}

/// Query parameters of the upgrade request.
pub mod query {
    /// A JWT (instead of `Authorization: Bearer`).
    pub const TOKEN: &str = "token";
    /// An API key (instead of `X-API-Key`).
    pub const API_KEY: &str = "api_key";
    /// A resume token from an earlier `__connect__`.
    pub const RESUME: &str = "resume";
    /// The largest `seq` the client has processed.
    pub const LAST_SEQ: &str = "last_seq";
}

/// The header an API key may come in.
pub const API_KEY_HEADER: &str = "x-api-key";
