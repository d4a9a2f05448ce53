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
    /// Headers and query pairs left out by the server's handshake budget
    /// (`HttpConfig::handshake_budget`); 0 when everything was kept.
    pub dropped: usize,
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

    /// Keeps the query pairs, then the headers, in request order, while
    /// their names and values add up to at most `budget` bytes; counts the
    /// rest in `dropped`. What a connection holds for its whole life.
    pub fn retain_within(&mut self, budget: usize) {
        let mut left = budget;
        let mut take = |bytes: usize| match left.checked_sub(bytes) {
            Some(rest) => {
                left = rest;
                true
            }
            None => {
                left = 0;
                false
            }
        };
        let before = self.query.len() + self.headers.len();
        self.query.retain(|(k, v)| take(k.len() + v.len()));
        self.query.shrink_to_fit();
        let mut kept = HeaderMap::new();
        for (name, value) in &self.headers {
            if take(name.as_str().len() + value.len()) {
                kept.append(name.clone(), value.clone());
            }
        }
        self.headers = kept;
        self.dropped += before - (self.query.len() + self.headers.len());
    }

    /// The token of an `Authorization: Bearer <t>` header.
    pub fn bearer_token(&self) -> Option<&str> {
        let value = self.header("authorization")?;
        let (scheme, token) = value.split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_keeps_what_fits_in_order() {
        let mut headers = HeaderMap::new();
        headers.insert("authorization", "Bearer abc".parse().unwrap());
        headers.insert("x-huge", "x".repeat(10_000).parse().unwrap());
        headers.insert("user-agent", "ua".parse().unwrap());
        let mut request = HandshakeRequest {
            headers,
            query: vec![("room".into(), "a".into())],
            dropped: 0,
        };
        request.retain_within(64);
        assert_eq!(request.query_param("room"), Some("a"));
        assert_eq!(request.bearer_token(), Some("abc"));
        assert_eq!(request.header("x-huge"), None);
        assert_eq!(request.header("user-agent"), None);
        assert_eq!(request.dropped, 2);
    }
}
