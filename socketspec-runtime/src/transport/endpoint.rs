//! [`Endpoint`]: one namespace as the HTTP front serves it, whatever its
//! app's type. [`Mount`] is the one implementation: an app and its
//! namespace's dispatch state.

use std::sync::Arc;

use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};

use crate::config::{Limits, ServerConfig};
use crate::dispatch::App;
use crate::dispatch::event_table::EventTable;
use crate::dispatch::middleware::Chain;
use crate::dispatch::namespace::Namespace;
use crate::dispatch::validate::Validators;
use crate::future::BoxFuture;
use crate::hub::{BuildError, Hub};
use crate::rooms::Rooms;
use crate::socket::{self, Admission};

/// Any byte stream a WebSocket can run over.
pub(crate) trait Io: AsyncRead + AsyncWrite + Unpin + Send + 'static {}

impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> Io for T {}

/// One namespace, served.
pub(crate) trait Endpoint: Send + Sync + 'static {
    /// Its dispatch state.
    fn namespace(&self) -> &Arc<Namespace>;

    /// Serves a connection upgraded by hyper (the built-in front and axum).
    fn serve_upgraded(
        self: Arc<Self>,
        hub: Arc<Hub>,
        io: TokioIo<Upgraded>,
        admission: Admission,
    ) -> BoxFuture<'static, ()>;

    /// Serves a connection over any other byte stream.
    fn serve_stream(
        self: Arc<Self>,
        hub: Arc<Hub>,
        io: Box<dyn Io>,
        admission: Admission,
    ) -> BoxFuture<'static, ()>;
}

/// An app and its namespace.
pub(crate) struct Mount<A> {
    app: Arc<A>,
    namespace: Arc<Namespace>,
    chain: Chain,
}

impl<A: App> Mount<A> {
    /// Compiles `app`'s validators, event table, metrics and rooms.
    pub(crate) fn new(app: A, hub: &Arc<Hub>, middleware: Chain) -> Result<Self, BuildError> {
        let meta = app.meta();
        check_namespace(meta.namespace)?;
        if hub.config.http.docs && !meta.has_documents() {
            return Err(BuildError::NoDocuments(meta.namespace.to_owned()));
        }
        let rooms = Rooms::new(
            meta.namespace,
            meta.rooms,
            &hub.config.static_rooms,
            hub.adapter.clone(),
            Arc::clone(&hub.metrics),
        )?;
        let namespace = Namespace {
            meta,
            events: EventTable::new(meta.events),
            validators: Validators::compile(meta)?,
            event_metrics: hub.metrics.events(meta.namespace, meta.events)?,
            metrics: Arc::clone(&hub.metrics),
            rooms: Arc::new(rooms),
            hub: Arc::clone(hub),
        };
        Ok(Mount {
            app: Arc::new(app),
            namespace: Arc::new(namespace),
            chain: middleware,
        })
    }

    async fn serve<S: Io>(self: Arc<Self>, hub: Arc<Hub>, io: S, admission: Admission) {
        let config = ws_config(&hub.config.limits);
        let ws = WebSocketStream::from_raw_socket(io, Role::Server, Some(config)).await;
        let namespace = Arc::clone(&self.namespace);
        let chain = Arc::clone(&self.chain);
        socket::serve(Arc::clone(&self.app), namespace, chain, hub, ws, admission).await;
    }
}

impl<A: App> Endpoint for Mount<A> {
    fn namespace(&self) -> &Arc<Namespace> {
        &self.namespace
    }

    fn serve_upgraded(
        self: Arc<Self>,
        hub: Arc<Hub>,
        io: TokioIo<Upgraded>,
        admission: Admission,
    ) -> BoxFuture<'static, ()> {
        Box::pin(self.serve(hub, io, admission))
    }

    fn serve_stream(
        self: Arc<Self>,
        hub: Arc<Hub>,
        io: Box<dyn Io>,
        admission: Admission,
    ) -> BoxFuture<'static, ()> {
        Box::pin(self.serve(hub, io, admission))
    }
}

/// A namespace is `/` or `/name`, with a name the URL path can carry as is.
fn check_namespace(namespace: &str) -> Result<(), BuildError> {
    let valid = namespace == "/"
        || namespace.strip_prefix('/').is_some_and(|name| {
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        });
    if valid {
        Ok(())
    } else {
        Err(BuildError::InvalidNamespace(namespace.to_owned()))
    }
}

/// The WebSocket path of `namespace` under the root path `ws_path`.
pub(crate) fn namespace_path(config: &ServerConfig, namespace: &str) -> String {
    if namespace == "/" {
        config.http.ws_path.clone()
    } else {
        format!("{}{namespace}", config.http.ws_path.trim_end_matches('/'))
    }
}

/// The WebSocket layer's limits: small buffers by default, and a hard cap
/// far above `max_payload_size` past which a frame is refused (close 1009)
/// before it is buffered whole.
pub(crate) fn ws_config(limits: &Limits) -> WebSocketConfig {
    let hard_limit = limits.max_payload_size.saturating_mul(4).max(64 * 1024);
    WebSocketConfig::default()
        .read_buffer_size(limits.read_buffer_size.max(256))
        .write_buffer_size(limits.write_buffer_size)
        // No cap of its own: a cap refuses any single frame above it (a big
        // reply silently killed the connection). The outbound queue bounds
        // memory, and tokio-tungstenite flushes before it buffers more once
        // the socket would block.
        .max_write_buffer_size(usize::MAX)
        .max_message_size(Some(hard_limit))
        .max_frame_size(Some(hard_limit))
}
