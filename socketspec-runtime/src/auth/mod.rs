//! Authentication at the upgrade: the [`AuthBackend`] trait, [`JwtAuth`],
//! [`ApiKeyAuth`] and [`AnyOf`].
//!
//! A backend sees the upgrade request's headers and query and returns an
//! [`Identity`] or a refusal. On refusal the server completes the upgrade,
//! sends `__error__` `AUTH_ERROR` (no `__connect__`) and closes with 4001.
//!
//! ```
//! use socketspec_runtime::auth::{AuthBackend, AuthRejection, HandshakeRequest};
//! use socketspec_runtime::Identity;
//!
//! /// Admits requests that carry the header a trusted proxy sets.
//! struct ProxyHeader;
//!
//! impl AuthBackend for ProxyHeader {
//!     async fn authenticate(&self, request: &HandshakeRequest) -> Result<Identity, AuthRejection> {
//!         match request.header("x-user") {
//!             Some(user) => Ok(Identity::user(user)),
//!             None => Err(AuthRejection::new("missing x-user")),
//!         }
//!     }
//! }
//! ```

mod any_of;
mod api_key;
mod handshake;
mod jwt;

use std::future::Future;
use std::time::SystemTime;

pub use any_of::AnyOf;
pub use api_key::ApiKeyAuth;
pub use handshake::HandshakeRequest;
pub use jwt::JwtAuth;

use crate::future::BoxFuture;
use crate::identity::Identity;

/// Why a credential was refused; the message reaches the client in the
/// `AUTH_ERROR` envelope, so it says what is wrong without leaking secrets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct AuthRejection(pub String);

impl AuthRejection {
    /// A refusal with `message`.
    pub fn new(message: impl Into<String>) -> Self {
        AuthRejection(message.into())
    }
}

/// Authenticates connections. Implement it for custom schemes (session
/// cookies, mTLS headers set by a proxy...).
pub trait AuthBackend: Send + Sync + 'static {
    /// Authenticates an upgrade request.
    fn authenticate(
        &self,
        request: &HandshakeRequest,
    ) -> impl Future<Output = Result<Identity, AuthRejection>> + Send;

    /// Validates a bare token offered through `__refresh_auth__`. Backends
    /// without refreshable tokens keep the default, which refuses.
    fn refresh(&self, token: &str) -> impl Future<Output = Result<Identity, AuthRejection>> + Send {
        let _ = token;
        async {
            Err(AuthRejection::new(
                "this server does not accept token refresh",
            ))
        }
    }
}

/// [`AuthBackend`] with its futures boxed, so the runtime (and [`AnyOf`])
/// can hold any backend behind one pointer type.
pub(crate) trait DynAuth: Send + Sync + 'static {
    fn authenticate<'a>(
        &'a self,
        request: &'a HandshakeRequest,
    ) -> BoxFuture<'a, Result<Identity, AuthRejection>>;
    fn refresh<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Result<Identity, AuthRejection>>;
}

impl<T: AuthBackend> DynAuth for T {
    fn authenticate<'a>(
        &'a self,
        request: &'a HandshakeRequest,
    ) -> BoxFuture<'a, Result<Identity, AuthRejection>> {
        Box::pin(AuthBackend::authenticate(self, request))
    }
    fn refresh<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Result<Identity, AuthRejection>> {
        Box::pin(AuthBackend::refresh(self, token))
    }
}

/// Compares two secrets without leaking, through timing, where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// Seconds from now until `at` (0 when past), as the protocol's `expires_in`.
pub(crate) fn seconds_until(at: SystemTime) -> f64 {
    at.duration_since(SystemTime::now())
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}
