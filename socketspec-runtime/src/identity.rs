//! Who is on the other end of a connection.

use std::time::SystemTime;

use serde_json::{Map, Value};

/// The authenticated identity of a connection, produced by an
/// [`AuthBackend`](crate::auth::AuthBackend) at the upgrade.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Identity {
    /// The user id (`sub` for JWTs).
    pub user_id: Option<String>,
    /// Every claim of the credential (for JWTs: all of them, e.g. `role`).
    pub claims: Map<String, Value>,
    /// When the credential expires (`exp` for JWTs); `None` when it does not.
    pub expires_at: Option<SystemTime>,
}

impl Identity {
    /// An identity for `user_id` with no claims and no expiry.
    pub fn user(user_id: impl Into<String>) -> Self {
        Identity {
            user_id: Some(user_id.into()),
            ..Identity::default()
        }
    }

    /// A string claim, such as `role`.
    pub fn claim_str(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }

    /// The `role` claim, when it is a string.
    pub fn role(&self) -> Option<&str> {
        self.claim_str("role")
    }
}
