//! JWT authentication refuses every credential it should: expired, not yet
//! valid, wrong signature, `alg: none`, another algorithm, algorithm
//! confusion, wrong audience, missing claims.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};
use socketspec_runtime::auth::JwtAuth;
use socketspec_runtime::{AuthBackend, HandshakeRequest};

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn hs(alg: Algorithm, secret: &[u8], claims: &Value) -> String {
    encode(&Header::new(alg), claims, &EncodingKey::from_secret(secret)).unwrap()
}

fn bearer(token: &str) -> HandshakeRequest {
    let mut request = HandshakeRequest::default();
    request
        .headers
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    request
}

async fn check(auth: &JwtAuth, token: &str) -> Result<socketspec_runtime::Identity, String> {
    auth.authenticate(&bearer(token)).await.map_err(|e| e.0)
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[tokio::test]
async fn a_valid_hs256_token_yields_the_identity_with_every_claim() {
    let auth = JwtAuth::hs256(b"secret");
    let token = hs(
        Algorithm::HS256,
        b"secret",
        &json!({"sub": "alice", "exp": now() + 60, "role": "admin"}),
    );
    let identity = check(&auth, &token).await.unwrap();
    assert_eq!(identity.user_id.as_deref(), Some("alice"));
    assert_eq!(identity.role(), Some("admin"));
    assert!(identity.expires_at.is_some());
    // The query string works too.
    let request = HandshakeRequest {
        query: vec![("token".into(), token)],
        ..Default::default()
    };
    assert!(auth.authenticate(&request).await.is_ok());
}

#[tokio::test]
async fn expired_and_not_yet_valid_tokens_are_refused() {
    let auth = JwtAuth::hs256(b"secret");
    let expired = hs(
        Algorithm::HS256,
        b"secret",
        &json!({"sub": "a", "exp": now() - 10}),
    );
    assert!(
        check(&auth, &expired)
            .await
            .unwrap_err()
            .contains("expired")
    );
    let early = hs(
        Algorithm::HS256,
        b"secret",
        &json!({"sub": "a", "exp": now() + 60, "nbf": now() + 30}),
    );
    assert!(
        check(&auth, &early)
            .await
            .unwrap_err()
            .contains("not valid yet")
    );
    // Leeway admits a token that expired moments ago.
    let lenient = JwtAuth::hs256(b"secret").leeway(Duration::from_secs(30));
    assert!(check(&lenient, &expired).await.is_ok());
}

#[tokio::test]
async fn wrong_signature_is_refused() {
    let auth = JwtAuth::hs256(b"secret");
    let forged = hs(
        Algorithm::HS256,
        b"other",
        &json!({"sub": "a", "exp": now() + 60}),
    );
    assert!(
        check(&auth, &forged)
            .await
            .unwrap_err()
            .contains("signature")
    );
}

#[tokio::test]
async fn alg_none_is_refused() {
    let auth = JwtAuth::hs256(b"secret");
    let header = b64(br#"{"alg":"none","typ":"JWT"}"#);
    let claims = b64(json!({"sub": "a", "exp": now() + 60})
        .to_string()
        .as_bytes());
    for token in [format!("{header}.{claims}."), format!("{header}.{claims}")] {
        assert!(check(&auth, &token).await.is_err(), "{token}");
    }
}

#[tokio::test]
async fn another_algorithm_is_refused() {
    let auth = JwtAuth::hs256(b"secret");
    let token = hs(
        Algorithm::HS384,
        b"secret",
        &json!({"sub": "a", "exp": now() + 60}),
    );
    assert!(
        check(&auth, &token)
            .await
            .unwrap_err()
            .contains("algorithm")
    );
}

#[tokio::test]
async fn algorithm_confusion_with_the_public_key_as_hmac_secret_is_refused() {
    let public = include_bytes!("keys/rsa_public.pem");
    let auth = JwtAuth::rs256_pem(public).unwrap();
    // The classic attack: sign HS256 with the server's public key.
    let token = hs(
        Algorithm::HS256,
        public,
        &json!({"sub": "a", "exp": now() + 60}),
    );
    assert!(check(&auth, &token).await.is_err());
    // A genuine RS256 token passes.
    let key = EncodingKey::from_rsa_pem(include_bytes!("keys/rsa_private.pem")).unwrap();
    let token = encode(
        &Header::new(Algorithm::RS256),
        &json!({"sub": "a", "exp": now() + 60}),
        &key,
    )
    .unwrap();
    assert_eq!(
        check(&auth, &token).await.unwrap().user_id.as_deref(),
        Some("a")
    );
}

#[tokio::test]
async fn es256_tokens_verify_with_the_public_key() {
    let auth = JwtAuth::es256_pem(include_bytes!("keys/ec_public.pem")).unwrap();
    let key = EncodingKey::from_ec_pem(include_bytes!("keys/ec_private.pem")).unwrap();
    let token = encode(
        &Header::new(Algorithm::ES256),
        &json!({"sub": "e", "exp": now() + 60}),
        &key,
    )
    .unwrap();
    assert_eq!(
        check(&auth, &token).await.unwrap().user_id.as_deref(),
        Some("e")
    );
}

#[tokio::test]
async fn wrong_audience_is_refused() {
    let auth = JwtAuth::hs256(b"secret").audience(&["chat"]);
    let wrong = hs(
        Algorithm::HS256,
        b"secret",
        &json!({"sub": "a", "exp": now() + 60, "aud": "billing"}),
    );
    assert!(check(&auth, &wrong).await.unwrap_err().contains("audience"));
    let right = hs(
        Algorithm::HS256,
        b"secret",
        &json!({"sub": "a", "exp": now() + 60, "aud": "chat"}),
    );
    assert!(check(&auth, &right).await.is_ok());
}

#[tokio::test]
async fn missing_token_and_missing_claims_are_refused() {
    let auth = JwtAuth::hs256(b"secret");
    let none = auth
        .authenticate(&HandshakeRequest::default())
        .await
        .unwrap_err();
    assert!(none.0.contains("missing token"));
    let no_sub = hs(Algorithm::HS256, b"secret", &json!({"exp": now() + 60}));
    assert!(check(&auth, &no_sub).await.unwrap_err().contains("claim"));
    assert!(check(&auth, "not.a.jwt").await.is_err());
}

#[tokio::test]
async fn refresh_validates_a_bare_token() {
    let auth = JwtAuth::hs256(b"secret");
    let token = hs(
        Algorithm::HS256,
        b"secret",
        &json!({"sub": "a", "exp": now() + 60}),
    );
    assert!(auth.refresh(&token).await.is_ok());
    assert!(auth.refresh("garbage").await.is_err());
}
