//! The docs routes serve only the documents an app embeds: a server with
//! `docs` on and nothing to serve is refused at build time, and a document
//! the app leaves out answers 404 like any unknown path.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[macro_use]
mod support;

use socketspec_runtime::config::HttpConfig;
use socketspec_runtime::meta::AppMeta;
use socketspec_runtime::{BuildError, Hooks, Server};
use support::Echo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const SPEC: &str = r#"{"socketspec":"1"}"#;

/// An app that embeds the spec alone (no docs page, no AsyncAPI document).
struct SpecOnly;

static SPEC_ONLY: AppMeta = AppMeta {
    title: "spec only",
    version: "1",
    namespace: "/",
    events: &[],
    rooms: &[],
    spec_json: Some(SPEC),
    docs_html: None,
    asyncapi_json: None,
    schema_defs: "",
};

impl Hooks for SpecOnly {}

eventless_app!(SpecOnly, SPEC_ONLY);

fn docs_on() -> HttpConfig {
    HttpConfig::default().docs(true)
}

/// `GET path` over a fresh connection: the status code and the body.
async fn get(addr: &str, path: &str) -> (u16, String) {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    tcp.read_to_string(&mut response).await.unwrap();
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP response: {response:?}"));
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    (status, body)
}

#[test]
fn docs_on_for_an_app_without_documents_is_refused_naming_the_fix() {
    let Err(error) = Server::builder(Echo).http(docs_on()).build() else {
        panic!("a server with docs on and no document to serve was built");
    };
    assert!(
        matches!(error, BuildError::NoDocuments(ref ns) if ns == "/"),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(message.contains("embed_documents(true)"), "{message}");
    // With docs off the same app builds.
    assert!(Server::builder(Echo).build().is_ok());
}

#[tokio::test]
async fn a_document_the_app_does_not_embed_answers_404() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let server = Server::builder(SpecOnly).http(docs_on()).build().unwrap();
    tokio::spawn(server.serve(listener, std::future::pending()));

    assert_eq!(
        get(&addr, "/socket-docs/spec.json").await,
        (200, SPEC.to_owned())
    );
    assert_eq!(get(&addr, "/socket-docs").await.0, 404);
    assert_eq!(get(&addr, "/socket-docs/asyncapi.json").await.0, 404);
    assert_eq!(get(&addr, "/socket-docs/other").await.0, 404);
}
