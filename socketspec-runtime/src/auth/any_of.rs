//! [`AnyOf`]: several authentication methods, any one of which is enough.

use std::sync::Arc;

use super::{AuthBackend, AuthRejection, DynAuth, HandshakeRequest};
use crate::identity::Identity;

/// Admits a connection when any one of its backends does: with several
/// methods configured, any one valid credential is enough.
///
/// ```
/// use socketspec_runtime::auth::{AnyOf, ApiKeyAuth, JwtAuth};
///
/// let auth = AnyOf::new()
///     .or(JwtAuth::hs256(b"secret"))
///     .or(ApiKeyAuth::new(["k-1"]));
/// # let _ = auth;
/// ```
#[derive(Default, Clone)]
pub struct AnyOf {
    backends: Vec<Arc<dyn DynAuth>>,
}

impl AnyOf {
    /// No backend yet (admits nobody).
    pub fn new() -> Self {
        AnyOf::default()
    }

    /// Also admits what `backend` admits.
    pub fn or(mut self, backend: impl AuthBackend) -> Self {
        self.backends.push(Arc::new(backend));
        self
    }

    /// How many backends it tries.
    pub fn len(&self) -> usize {
        self.backends.len()
    }

    /// Whether it has no backend.
    pub fn is_empty(&self) -> bool {
        self.backends.is_empty()
    }
}

impl AuthBackend for AnyOf {
    async fn authenticate(&self, request: &HandshakeRequest) -> Result<Identity, AuthRejection> {
        let mut reasons = Vec::new();
        for backend in &self.backends {
            match backend.authenticate(request).await {
                Ok(identity) => return Ok(identity),
                Err(e) => reasons.push(e.0),
            }
        }
        Err(AuthRejection::new(reasons.join("; ")))
    }

    async fn refresh(&self, token: &str) -> Result<Identity, AuthRejection> {
        let mut last = AuthRejection::new("no backend accepts token refresh");
        for backend in &self.backends {
            match backend.refresh(token).await {
                Ok(identity) => return Ok(identity),
                Err(e) => last = e,
            }
        }
        Err(last)
    }
}
