//! The docs routes: the generated page at `docs_url`, the raw spec at
//! `{docs_url}/spec.json` and the AsyncAPI document at
//! `{docs_url}/asyncapi.json`, all behind `docs_access_token` when set.

use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode, header};
use http_body_util::Full;

use crate::auth::{HandshakeRequest, constant_time_eq};
use crate::server::{parse_query, text_response};
use crate::shared::Shared;

pub(crate) fn serve<B>(shared: &Shared, req: &Request<B>, path: &str) -> Response<Full<Bytes>> {
    let config = &shared.config;
    if let Some(expected) = &config.docs_access_token {
        let request = HandshakeRequest {
            headers: req.headers().clone(),
            query: parse_query(req.uri().query()),
        };
        let offered = request
            .bearer_token()
            .or_else(|| request.query_param("token"));
        if !offered.is_some_and(|t| constant_time_eq(t.as_bytes(), expected.as_bytes())) {
            let mut response =
                text_response(StatusCode::UNAUTHORIZED, "a docs access token is required");
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            return response;
        }
    }
    let rest = &path[config.docs_url.len()..];
    let (body, content_type) = match rest {
        "" | "/" => (shared.meta.docs_html, "text/html; charset=utf-8"),
        "/spec.json" => (shared.meta.spec_json, "application/json"),
        "/asyncapi.json" => (shared.meta.asyncapi_json, "application/json"),
        _ => (None, ""),
    };
    // A document the app does not embed is as absent as an unknown path.
    let Some(body) = body else {
        return text_response(StatusCode::NOT_FOUND, "not found");
    };
    let mut response = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}
