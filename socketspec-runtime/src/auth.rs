//! Authentication at the upgrade: the [`AuthBackend`] trait, [`JwtAuth`],
//! [`ApiKeyAuth`] and [`AnyOf`].
//!
//! A backend sees the upgrade request's headers and query and returns an
//! [`Identity`] or a refusal. On refusal the server completes the upgrade,
//! sends `__error__` `AUTH_ERROR` and closes with 4001 (PROTOCOL.md).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::HeaderMap;
use serde_json::{Map, Value};

use crate::identity::Identity;

/// A boxed future, as object-safe traits return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What an auth backend sees of the upgrade request.
#[derive(Debug, Clone, Default)]
pub struct HandshakeRequest {
    /// The request headers.
    pub headers: HeaderMap,
    /// The query string's pairs, percent-decoded.
    pub query: Vec<(String, String)>,
}

impl HandshakeRequest {
    /// The first query value named `name`.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The token of an `Authorization: Bearer <t>` header.
    pub fn bearer_token(&self) -> Option<&str> {
        let value = self.header("authorization")?;
        let (scheme, token) = value.split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
    }
}

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
    fn authenticate<'a>(
        &'a self,
        request: &'a HandshakeRequest,
    ) -> BoxFuture<'a, Result<Identity, AuthRejection>>;

    /// Validates a bare token offered through `__refresh_auth__`. Backends
    /// without refreshable tokens keep the default, which refuses.
    fn refresh<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Result<Identity, AuthRejection>> {
        let _ = token;
        Box::pin(async {
            Err(AuthRejection::new(
                "this server does not accept token refresh",
            ))
        })
    }
}

/// Admits a connection when any one of its backends does (PROTOCOL.md: with
/// several methods configured, any one valid credential is enough).
pub struct AnyOf(pub Vec<Arc<dyn AuthBackend>>);

impl AuthBackend for AnyOf {
    fn authenticate<'a>(
        &'a self,
        request: &'a HandshakeRequest,
    ) -> BoxFuture<'a, Result<Identity, AuthRejection>> {
        Box::pin(async move {
            let mut reasons = Vec::new();
            for backend in &self.0 {
                match backend.authenticate(request).await {
                    Ok(identity) => return Ok(identity),
                    Err(e) => reasons.push(e.0),
                }
            }
            Err(AuthRejection::new(reasons.join("; ")))
        })
    }

    fn refresh<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Result<Identity, AuthRejection>> {
        Box::pin(async move {
            let mut last = AuthRejection::new("no backend accepts token refresh");
            for backend in &self.0 {
                match backend.refresh(token).await {
                    Ok(identity) => return Ok(identity),
                    Err(e) => last = e,
                }
            }
            Err(last)
        })
    }
}

/// JWT authentication (`Authorization: Bearer <t>` or `?token=<t>`), built on
/// `jsonwebtoken`. The algorithm is fixed by the key, so `alg: none` and
/// algorithm confusion (an HS256 token signed with an RSA public key) are
/// refused.
///
/// ```
/// use socketspec_runtime::auth::JwtAuth;
/// let auth = JwtAuth::hs256(b"secret").leeway(std::time::Duration::from_secs(5));
/// # let _ = auth;
/// ```
pub struct JwtAuth {
    key: jsonwebtoken::DecodingKey,
    validation: jsonwebtoken::Validation,
}

impl JwtAuth {
    /// HMAC-SHA256 with a shared secret.
    pub fn hs256(secret: &[u8]) -> Self {
        Self::with_key(
            jsonwebtoken::DecodingKey::from_secret(secret),
            jsonwebtoken::Algorithm::HS256,
        )
    }

    /// RS256 with an RSA public key in PEM form.
    pub fn rs256_pem(public_key_pem: &[u8]) -> Result<Self, AuthRejection> {
        let key = jsonwebtoken::DecodingKey::from_rsa_pem(public_key_pem)
            .map_err(|e| AuthRejection::new(format!("invalid RSA public key: {e}")))?;
        Ok(Self::with_key(key, jsonwebtoken::Algorithm::RS256))
    }

    /// ES256 with an EC P-256 public key in PEM form.
    pub fn es256_pem(public_key_pem: &[u8]) -> Result<Self, AuthRejection> {
        let key = jsonwebtoken::DecodingKey::from_ec_pem(public_key_pem)
            .map_err(|e| AuthRejection::new(format!("invalid EC public key: {e}")))?;
        Ok(Self::with_key(key, jsonwebtoken::Algorithm::ES256))
    }

    fn with_key(key: jsonwebtoken::DecodingKey, alg: jsonwebtoken::Algorithm) -> Self {
        let mut validation = jsonwebtoken::Validation::new(alg);
        validation.leeway = 0;
        validation.validate_nbf = true;
        validation.required_spec_claims = ["exp".to_owned(), "sub".to_owned()].into();
        JwtAuth { key, validation }
    }

    /// Clock leeway for `exp` and `nbf`.
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.validation.leeway = leeway.as_secs();
        self
    }

    /// Require the `aud` claim to be one of `audiences`.
    pub fn audience(mut self, audiences: &[&str]) -> Self {
        self.validation.set_audience(audiences);
        self
    }

    /// Require the `iss` claim to be one of `issuers`.
    pub fn issuer(mut self, issuers: &[&str]) -> Self {
        self.validation.set_issuer(issuers);
        self
    }

    fn validate(&self, token: &str) -> Result<Identity, AuthRejection> {
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, &self.key, &self.validation)
            .map_err(|e| {
            AuthRejection::new(format!("invalid token: {}", describe_jwt_error(&e)))
        })?;
        let claims = data.claims;
        let user_id = claims.get("sub").and_then(Value::as_str).map(str::to_owned);
        let expires_at = claims.get("exp").and_then(Value::as_u64).map(|secs| {
            UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_secs(self.validation.leeway)
        });
        Ok(Identity {
            user_id,
            claims,
            expires_at,
        })
    }
}

fn describe_jwt_error(err: &jsonwebtoken::errors::Error) -> &'static str {
    use jsonwebtoken::errors::ErrorKind;
    match err.kind() {
        ErrorKind::ExpiredSignature => "it has expired",
        ErrorKind::ImmatureSignature => "it is not valid yet (nbf)",
        ErrorKind::InvalidSignature => "the signature does not match",
        ErrorKind::InvalidAlgorithm => "its algorithm is not the one this server accepts",
        ErrorKind::InvalidAudience => "its audience is not accepted",
        ErrorKind::InvalidIssuer => "its issuer is not accepted",
        ErrorKind::MissingRequiredClaim(_) => "a required claim (sub, exp) is missing",
        _ => "it is malformed",
    }
}

impl AuthBackend for JwtAuth {
    fn authenticate<'a>(
        &'a self,
        request: &'a HandshakeRequest,
    ) -> BoxFuture<'a, Result<Identity, AuthRejection>> {
        let token = request
            .bearer_token()
            .or_else(|| request.query_param("token"));
        let result = match token {
            Some(token) => self.validate(token),
            None => Err(AuthRejection::new(
                "missing token: send `Authorization: Bearer <jwt>` or `?token=<jwt>`",
            )),
        };
        Box::pin(async move { result })
    }

    fn refresh<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Result<Identity, AuthRejection>> {
        let result = self.validate(token);
        Box::pin(async move { result })
    }
}

/// API key authentication (`X-API-Key: <k>` or `?api_key=<k>`), comparing
/// keys in constant time.
pub struct ApiKeyAuth {
    keys: Vec<Vec<u8>>,
}

impl ApiKeyAuth {
    /// Accepts any of `keys`.
    pub fn new<I, K>(keys: I) -> Self
    where
        I: IntoIterator<Item = K>,
        K: AsRef<[u8]>,
    {
        ApiKeyAuth {
            keys: keys.into_iter().map(|k| k.as_ref().to_vec()).collect(),
        }
    }
}

/// Compares two secrets without leaking, through timing, where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

impl AuthBackend for ApiKeyAuth {
    fn authenticate<'a>(
        &'a self,
        request: &'a HandshakeRequest,
    ) -> BoxFuture<'a, Result<Identity, AuthRejection>> {
        let offered = request
            .header("x-api-key")
            .or_else(|| request.query_param("api_key"));
        let result = match offered {
            None => Err(AuthRejection::new(
                "missing API key: send `X-API-Key: <key>` or `?api_key=<key>`",
            )),
            Some(offered) => {
                // Check every key so the time taken does not say which matched.
                let matched = self.keys.iter().fold(false, |acc, k| {
                    constant_time_eq(k, offered.as_bytes()) | acc
                });
                if matched {
                    let mut claims = Map::new();
                    claims.insert("auth".to_owned(), Value::from("api_key"));
                    Ok(Identity {
                        user_id: None,
                        claims,
                        expires_at: None,
                    })
                } else {
                    Err(AuthRejection::new("invalid API key"))
                }
            }
        };
        Box::pin(async move { result })
    }
}

/// Seconds from now until `at` (0 when past), as the protocol's `expires_in`.
pub(crate) fn seconds_until(at: SystemTime) -> f64 {
    at.duration_since(SystemTime::now())
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}
