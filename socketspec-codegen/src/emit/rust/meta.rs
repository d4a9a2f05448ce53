//! The static metadata the runtime reads (`META`) and the documents the
//! module embeds (`SPEC_JSON`, `DOCS_HTML`, `ASYNCAPI_JSON`).

use proc_macro2::TokenStream;
use quote::quote;

use crate::model::Model;

/// Extra, already-rendered items to place in the generated module (docs page,
/// AsyncAPI document), produced by the other emitters.
#[derive(Debug, Default, Clone)]
pub struct Extras {
    /// The docs page's HTML.
    pub docs_html: String,
    /// The AsyncAPI document (JSON).
    pub asyncapi_json: String,
}

pub(super) fn meta(model: &Model, extras: &Extras) -> TokenStream {
    let title = &model.info.title;
    let version = &model.info.version;
    let namespace = &model.namespace;
    let events = model.events.iter().map(|e| {
        let name = &e.name;
        let ordered = e.ordered;
        let executor = e.executor;
        // Without the shared `$defs`: they are in `schema_defs`, once.
        let schema = e.payload.to_string();
        let type_checked = crate::type_checked::type_checks_exactly(&e.payload, &model.defs);
        quote! {
            ::socketspec_runtime::EventMeta { name: #name, ordered: #ordered, executor: #executor, payload_schema: #schema, type_checked: #type_checked }
        }
    });
    let rooms = model.rooms.iter().map(|r| {
        let pattern = &r.pattern;
        let is_static = r.is_static;
        let guarded = r.guarded;
        let max = match r.max_members {
            Some(n) => quote!(Some(#n)),
            None => quote!(None),
        };
        quote! {
            ::socketspec_runtime::RoomMeta { pattern: #pattern, is_static: #is_static, guarded: #guarded, max_members: #max }
        }
    });
    let schema_defs = if model.defs.is_empty() {
        String::new()
    } else {
        serde_json::json!({ "$defs": model.defs }).to_string()
    };
    let spec_json = &model.spec_json;
    let docs_html = &extras.docs_html;
    let asyncapi = &extras.asyncapi_json;
    quote! {
        /// The spec file, as JSON.
        pub const SPEC_JSON: &str = #spec_json;
        /// The generated docs page: one self-contained HTML file.
        pub const DOCS_HTML: &str = #docs_html;
        /// The generated AsyncAPI 3.0 document (JSON).
        pub const ASYNCAPI_JSON: &str = #asyncapi;

        /// What the runtime needs to know about the spec.
        pub static META: ::socketspec_runtime::AppMeta = ::socketspec_runtime::AppMeta {
            title: #title,
            version: #version,
            namespace: #namespace,
            events: &[#(#events),*],
            rooms: &[#(#rooms),*],
            spec_json: SPEC_JSON,
            docs_html: DOCS_HTML,
            asyncapi_json: ASYNCAPI_JSON,
            schema_defs: #schema_defs,
        };
    }
}
