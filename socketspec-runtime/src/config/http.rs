//! [`HttpConfig`]: what the HTTP front serves, and where.

use std::time::Duration;

/// Paths, the docs page, allowed origins and the upgrade's timeout.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HttpConfig {
    /// The WebSocket path of the root namespace (`/ws`); namespace `/x` is
    /// served at this path plus `/x`.
    pub ws_path: String,
    /// Serve the docs page at `docs_url`.
    pub docs: bool,
    /// Where the docs page lives (`/socket-docs`).
    pub docs_url: String,
    /// Bearer token (or `?token=`) required for every docs route.
    pub docs_access_token: Option<String>,
    /// Exact `Origin` values allowed to upgrade; `["*"]` (the default) allows
    /// every origin, and a missing `Origin` header too.
    pub allowed_origins: Vec<String>,
    /// How long a client may take to send its upgrade request.
    pub handshake_timeout: Duration,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            ws_path: "/ws".to_owned(),
            docs: false,
            docs_url: "/socket-docs".to_owned(),
            docs_access_token: None,
            allowed_origins: vec!["*".to_owned()],
            handshake_timeout: Duration::from_secs(10),
        }
    }
}

impl HttpConfig {
    /// Sets the WebSocket path.
    pub fn ws_path(mut self, path: impl Into<String>) -> Self {
        self.ws_path = path.into();
        self
    }

    /// Serves the docs page (or not).
    pub fn docs(mut self, docs: bool) -> Self {
        self.docs = docs;
        self
    }

    /// Sets the docs page's path.
    pub fn docs_url(mut self, url: impl Into<String>) -> Self {
        self.docs_url = url.into();
        self
    }

    /// Requires this bearer token for every docs route.
    pub fn docs_access_token(mut self, token: impl Into<String>) -> Self {
        self.docs_access_token = Some(token.into());
        self
    }

    /// Allows exactly these origins (`"*"` allows every origin).
    pub fn allowed_origins<I, S>(mut self, origins: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.allowed_origins = origins.into_iter().map(Into::into).collect();
        self
    }

    /// Sets how long a client may take to send its upgrade request.
    pub fn handshake_timeout(mut self, timeout: Duration) -> Self {
        self.handshake_timeout = timeout;
        self
    }
}

impl std::fmt::Debug for HttpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpConfig")
            .field("ws_path", &self.ws_path)
            .field("docs", &self.docs)
            .field("docs_url", &self.docs_url)
            .field(
                "docs_access_token",
                &self.docs_access_token.as_ref().map(|_| "<set>"),
            )
            .field("allowed_origins", &self.allowed_origins)
            .field("handshake_timeout", &self.handshake_timeout)
            .finish()
    }
}
