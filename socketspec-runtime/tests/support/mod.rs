//! What the runtime's integration tests share: a minimal app (one `echo`
//! event, replied to as `echo_reply` with the same payload), and
//! `eventless_app!` for test apps whose events need no handler.
#![allow(dead_code, unused_macros)] // not every test binary uses every item

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

/// Implements `App` for `$app` with `$meta` and itself as its hooks, for
/// test apps whose events (if any) need no handler: dispatch does nothing.
macro_rules! eventless_app {
    ($app:ty, $meta:expr) => {
        impl ::socketspec_runtime::App for $app {
            type Hooks = Self;

            fn meta(&self) -> &'static ::socketspec_runtime::meta::AppMeta {
                &$meta
            }

            fn hooks(&self) -> &Self {
                self
            }

            #[allow(clippy::manual_async_fn)]
            fn dispatch(
                _this: &::std::sync::Arc<Self>,
                _call: ::socketspec_runtime::Call,
            ) -> impl ::std::future::Future<Output = ::socketspec_runtime::Result<()>>
            + Send
            + 'static
            + use<> {
                async { Ok(()) }
            }
        }
    };
}
