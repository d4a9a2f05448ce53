//! Small HTTP helpers the routes share: plain-text and JSON responses, and
//! the query string's pairs.

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use http_body_util::Full;

/// The body of every response the HTTP front writes.
pub type Body = Full<Bytes>;

/// A `text/plain` response.
pub(crate) fn text_response(status: StatusCode, text: &str) -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::from(format!("{text}\n"))));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// An `application/json` response.
pub(crate) fn json_response<T: serde::Serialize>(status: StatusCode, body: &T) -> Response<Body> {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut response = Response::new(Full::new(Bytes::from(bytes)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// The query string's pairs, percent-decoded.
pub(crate) fn parse_query(query: Option<&str>) -> Vec<(String, String)> {
    query
        .map(|q| {
            form_urlencoded::parse(q.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        })
        .unwrap_or_default()
}

/// `Ok` when the request offers `expected` as `Authorization: Bearer <t>`
/// or `?token=<t>` (compared in constant time); else the 401 to answer.
// The `Err` is the response itself, built only for a refused request.
#[allow(clippy::result_large_err)]
pub(crate) fn require_token<B>(
    req: &http::Request<B>,
    expected: &str,
    message: &str,
) -> Result<(), Box<Response<Body>>> {
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim().to_owned());
    let offered = bearer.or_else(|| {
        parse_query(req.uri().query())
            .into_iter()
            .find(|(k, _)| k == "token")
            .map(|(_, v)| v)
    });
    if offered.is_some_and(|t| crate::auth::constant_time_eq(t.as_bytes(), expected.as_bytes())) {
        return Ok(());
    }
    let mut response = text_response(StatusCode::UNAUTHORIZED, message);
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    Err(Box::new(response))
}
