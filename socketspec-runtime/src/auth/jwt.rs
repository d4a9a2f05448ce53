//! [`JwtAuth`]: JSON Web Tokens, validated with `jsonwebtoken`.

use std::time::{Duration, UNIX_EPOCH};

use serde_json::{Map, Value};

use super::{AuthBackend, AuthRejection, HandshakeRequest};
use crate::identity::Identity;

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
    async fn authenticate(&self, request: &HandshakeRequest) -> Result<Identity, AuthRejection> {
        let token = request
            .bearer_token()
            .or_else(|| request.query_param("token"));
        match token {
            Some(token) => self.validate(token),
            None => Err(AuthRejection::new(
                "missing token: send `Authorization: Bearer <jwt>` or `?token=<jwt>`",
            )),
        }
    }

    async fn refresh(&self, token: &str) -> Result<Identity, AuthRejection> {
        self.validate(token)
    }
}
