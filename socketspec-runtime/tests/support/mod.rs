//! A minimal app shared by the runtime's integration tests: one `echo`
//! event, replied to as `echo_reply` with the same payload.

use std::future::Future;
use std::sync::Arc;

use socketspec_runtime::meta::{AppMeta, EventMeta};
use socketspec_runtime::{App, Call, Hooks, Result};

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
    spec_json: None,
    docs_html: None,
    asyncapi_json: None,
    schema_defs: "",
};

impl Hooks for Echo {}

impl App for Echo {
    type Hooks = Self;

    fn meta(&self) -> &'static AppMeta {
        &META
    }

    fn hooks(&self) -> &Self {
        self
    }

    // Not `async fn`: the future must be 'static, free of the borrow of `this`.
    #[allow(clippy::manual_async_fn)]
    fn dispatch(
        _this: &Arc<Self>,
        call: Call,
    ) -> impl Future<Output = Result<()>> + Send + 'static + use<> {
        async move { socketspec_runtime::__private::emit(&call.context(), "echo_reply", call.payload()) }
    }
}

/// A session with every timer off.
#[allow(dead_code)] // not every test binary uses it
pub fn timers_off() -> socketspec_runtime::config::SessionConfig {
    socketspec_runtime::config::SessionConfig::without_timers()
}
