//! A minimal app shared by the runtime's integration tests: one `echo`
//! event, replied to as `echo_reply` with the same payload.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use socketspec_runtime::{App, AppMeta, Call, EventMeta, Result, SessionConfig};

/// Replies to `echo` with `echo_reply` carrying the same payload.
pub struct Echo;

static EVENTS: [EventMeta; 1] = [EventMeta {
    name: "echo",
    ordered: false,
    executor: false,
    payload_schema: r#"{"type":"object"}"#,
    type_checked: false,
}];

static META: AppMeta = AppMeta {
    title: "echo",
    version: "1",
    namespace: "/",
    events: &EVENTS,
    rooms: &[],
    spec_json: "{}",
    docs_html: "",
    asyncapi_json: "{}",
    schema_defs: "",
};

impl App for Echo {
    fn meta(&self) -> &'static AppMeta {
        &META
    }

    // Not `async fn`: the future must be 'static, free of the borrow of `this`.
    #[allow(clippy::manual_async_fn)]
    fn dispatch(
        _this: &Arc<Self>,
        call: Call,
    ) -> impl Future<Output = Result<()>> + Send + 'static + use<> {
        async move { call.context().emit_raw("echo_reply", call.payload()).await }
    }
}

/// A session with every timer off.
#[allow(dead_code)] // not every test binary uses it
pub fn timers_off() -> SessionConfig {
    SessionConfig {
        heartbeat_interval: Duration::ZERO,
        heartbeat_timeout: Duration::ZERO,
        idle_timeout: Duration::ZERO,
        max_duration: Duration::ZERO,
        ..SessionConfig::default()
    }
}
