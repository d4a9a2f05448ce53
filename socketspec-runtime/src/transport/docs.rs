//! The docs routes: each namespace's generated page, raw spec and AsyncAPI
//! document, all behind `docs_access_token` when set.
//!
//! Namespace `/` is served at `docs_url` (`/socket-docs`, plus
//! `/spec.json` and `/asyncapi.json`); namespace `/ops` at `docs_url` plus
//! `/ops`.

use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode, header};
use http_body_util::Full;

use super::http::{Body, parse_query, text_response};
use crate::auth::{HandshakeRequest, constant_time_eq};
use crate::config::HttpConfig;
use crate::meta::AppMeta;

/// Answers a request under `docs_url`; `rest` is the path after it.
pub(crate) fn serve<B>(
    config: &HttpConfig,
    namespaces: &[&'static AppMeta],
    req: &Request<B>,
    rest: &str,
) -> Response<Body> {
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
    let Some((meta, document)) = find(namespaces, rest) else {
        return text_response(StatusCode::NOT_FOUND, "not found");
    };
    let (body, content_type) = match document {
        "" | "/" => (meta.docs_html, "text/html; charset=utf-8"),
        "/spec.json" => (meta.spec_json, "application/json"),
        "/asyncapi.json" => (meta.asyncapi_json, "application/json"),
        _ => (None, ""),
    };
    let Some(body) = body else {
        return text_response(StatusCode::NOT_FOUND, "not found");
    };
    let mut response = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// The namespace whose documents `rest` names, and the document's part of it.
fn find<'r>(namespaces: &[&'static AppMeta], rest: &'r str) -> Option<(&'static AppMeta, &'r str)> {
    let named = namespaces.iter().find_map(|meta| {
        let prefix = meta.namespace.strip_prefix('/').filter(|p| !p.is_empty())?;
        let after = rest.strip_prefix('/')?.strip_prefix(prefix)?;
        (after.is_empty() || after.starts_with('/')).then_some((*meta, after))
    });
    named.or_else(|| {
        namespaces
            .iter()
            .find(|meta| meta.namespace == "/")
            .map(|meta| (*meta, rest))
    })
}
