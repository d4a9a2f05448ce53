//! [`JwtAuth`]: JSON Web Tokens, validated with `jsonwebtoken`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

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
        // `exp` and `nbf` are checked in `validate`: `jsonwebtoken` reads
        // them as integers only, so a fractional or huge one would slip by.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.required_spec_claims = ["sub".to_owned()].into();
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
        // `jsonwebtoken` checks integer `exp`/`nbf` only: a fractional or
        // out-of-range one would pass unchecked. The time checks are ours.
        let leeway = self.validation.leeway as f64;
        let now = unix_seconds(SystemTime::now());
        let expires_at = match numeric_date(&claims, "exp")? {
            Some(exp) => Some(expiry(exp + leeway, now)?),
            None => {
                return Err(AuthRejection::new(
                    "invalid token: the exp claim is missing",
                ));
            }
        };
        if let Some(nbf) = numeric_date(&claims, "nbf")?
            && nbf - leeway > now
        {
            return Err(AuthRejection::new(
                "invalid token: it is not valid yet (nbf)",
            ));
        }
        let user_id = claims.get("sub").and_then(Value::as_str).map(str::to_owned);
        Ok(Identity {
            user_id,
            claims,
            expires_at,
        })
    }
}

/// The furthest expiry a token is held to: a later `exp` (up to the
/// largest JSON number) counts as this far away, so time arithmetic cannot
/// overflow and no deadline is ever dropped.
pub const FURTHEST_EXPIRY: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// A NumericDate claim (RFC 7519: a JSON number of seconds, fractions
/// allowed); `None` when absent, refused when not a number.
fn numeric_date(claims: &Map<String, Value>, name: &str) -> Result<Option<f64>, AuthRejection> {
    match claims.get(name) {
        None => Ok(None),
        Some(value) => value
            .as_f64()
            .filter(|v| v.is_finite())
            .map(Some)
            .ok_or_else(|| {
                AuthRejection::new(format!("invalid token: the {name} claim is not a number"))
            }),
    }
}

/// The wall-clock deadline of an `exp` (leeway included) `now` being the
/// current Unix time in seconds; refused when already past.
fn expiry(exp: f64, now: f64) -> Result<SystemTime, AuthRejection> {
    let left = exp - now;
    if left <= 0.0 {
        return Err(AuthRejection::new("invalid token: it has expired"));
    }
    let left = Duration::try_from_secs_f64(left)
        .unwrap_or(FURTHEST_EXPIRY)
        .min(FURTHEST_EXPIRY);
    let now = UNIX_EPOCH + Duration::try_from_secs_f64(now).unwrap_or_default();
    Ok(now.checked_add(left).unwrap_or(now))
}

fn unix_seconds(at: SystemTime) -> f64 {
    at.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
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
        ErrorKind::MissingRequiredClaim(_) => "a required claim (sub) is missing",
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn claims(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn a_fractional_exp_is_a_deadline() {
        let at = expiry(1_000.5, 1_000.0).unwrap();
        let left = at.duration_since(UNIX_EPOCH).unwrap().as_secs_f64();
        assert!((left - 1_000.5).abs() < 1e-6, "{left}");
        assert!(expiry(999.5, 1_000.0).is_err());
    }

    #[test]
    fn an_absurd_exp_saturates_instead_of_overflowing() {
        for exp in [9.3e18, 1.8e19, f64::MAX] {
            let at = expiry(exp, 1_000.0).unwrap();
            let left = at
                .duration_since(UNIX_EPOCH + Duration::from_secs(1_000))
                .unwrap();
            assert_eq!(left, FURTHEST_EXPIRY);
        }
    }

    #[test]
    fn numeric_dates_must_be_numbers() {
        let c = claims(serde_json::json!({"exp": "1733333333", "nbf": 1.5}));
        assert!(numeric_date(&c, "exp").is_err());
        assert_eq!(numeric_date(&c, "nbf").unwrap(), Some(1.5));
        assert_eq!(numeric_date(&c, "iat").unwrap(), None);
    }
}
