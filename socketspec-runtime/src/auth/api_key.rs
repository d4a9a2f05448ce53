//! [`ApiKeyAuth`]: API keys, compared in constant time.

use serde_json::{Map, Value};

use super::{AuthBackend, AuthRejection, HandshakeRequest, constant_time_eq};
use crate::identity::Identity;

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

impl AuthBackend for ApiKeyAuth {
    async fn authenticate(&self, request: &HandshakeRequest) -> Result<Identity, AuthRejection> {
        let offered = request
            .header("x-api-key")
            .or_else(|| request.query_param("api_key"));
        match offered {
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
        }
    }
}
