//! [`HandshakeRequest`]: what an auth backend (and the application, through
//! [`Connection::handshake`](crate::Connection::handshake)) sees of the
//! upgrade request.

use http::HeaderMap;

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
