//! Test credentials: HS256 JWTs with the claims the chat example reads.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::json;

use crate::{Error, Result};

/// Seconds since the Unix epoch.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Mints an HS256 JWT signed with `secret`, with claims `sub`, `exp`
/// (`expires_in_secs` from now; negative for an expired token) and, when
/// given, `role`.
pub fn mint_jwt(
    secret: &str,
    sub: &str,
    role: Option<&str>,
    expires_in_secs: i64,
) -> Result<String> {
    let now = i64::try_from(unix_now()).unwrap_or(i64::MAX);
    let mut claims = json!({"sub": sub, "exp": now.saturating_add(expires_in_secs)});
    if let (Some(role), Some(map)) = (role, claims.as_object_mut()) {
        map.insert("role".to_owned(), json!(role));
    }
    let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    let key = jsonwebtoken::EncodingKey::from_secret(secret.as_bytes());
    jsonwebtoken::encode(&header, &claims, &key)
        .map_err(|e| Error::Other(format!("signing a test JWT: {e}")))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn mints_a_token_with_the_claims() {
        let token = mint_jwt("s", "alice", Some("admin"), 60).unwrap();
        let key = jsonwebtoken::DecodingKey::from_secret(b"s");
        let validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
        let data = jsonwebtoken::decode::<Value>(&token, &key, &validation).unwrap();
        assert_eq!(data.claims["sub"], "alice");
        assert_eq!(data.claims["role"], "admin");
        let exp = data.claims["exp"].as_i64().unwrap();
        let now = i64::try_from(unix_now()).unwrap();
        assert!((now + 59..=now + 61).contains(&exp), "exp {exp}, now {now}");
    }
}
