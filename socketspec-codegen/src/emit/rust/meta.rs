//! The static metadata the runtime reads (`META`) and, when asked for, the
//! documents the module embeds (`SPEC_JSON`, `DOCS_HTML`, `ASYNCAPI_JSON`).
//!
//! The documents are written as files next to the module
//! (`chat.spec.json`, `chat.docs.html`, `chat.asyncapi.json`) and the module
//! `include_str!`s them only when embedding is on: the docs page alone is
//! over 100 KB, and most builds (clients, servers without a docs route)
//! never read it. `include_str!` resolves its path next to the file that
//! holds it, so the module finds them both in `OUT_DIR` and in a
//! checked-in `src/generated/`.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::model::Model;

/// One document written next to the generated module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Document {
    /// The spec itself, as JSON (served at `{docs_url}/spec.json`).
    Spec,
    /// The docs page (served at `docs_url`).
    DocsPage,
    /// The AsyncAPI 3.0 document, JSON (served at `{docs_url}/asyncapi.json`).
    AsyncApi,
}

impl Document {
    /// Every document, in the order they are written.
    pub(crate) const ALL: [Document; 3] = [Document::Spec, Document::DocsPage, Document::AsyncApi];

    /// The file's name next to the module `module`: `chat.docs.html`.
    pub(crate) fn file_name(self, module: &str) -> String {
        let suffix = match self {
            Document::Spec => "spec.json",
            Document::DocsPage => "docs.html",
            Document::AsyncApi => "asyncapi.json",
        };
        format!("{module}.{suffix}")
    }

    /// The constant that holds it when embedded.
    fn constant(self) -> &'static str {
        match self {
            Document::Spec => "SPEC_JSON",
            Document::DocsPage => "DOCS_HTML",
            Document::AsyncApi => "ASYNCAPI_JSON",
        }
    }

    fn doc(self) -> &'static str {
        match self {
            Document::Spec => " The spec file, as JSON.",
            Document::DocsPage => " The generated docs page: one self-contained HTML file.",
            Document::AsyncApi => " The generated AsyncAPI 3.0 document (JSON).",
        }
    }
}

/// `pub const SPEC_JSON: &str = include_str!("chat.spec.json");` and the
/// other two.
pub(super) fn documents(module: &str) -> TokenStream {
    let constants = Document::ALL.map(|document| {
        let name = format_ident!("{}", document.constant());
        let doc = document.doc();
        let file = document.file_name(module);
        let from = format!(" Embedded from `{file}`, written next to this module.");
        quote! {
            #[doc = #doc]
            #[doc = ""]
            #[doc = #from]
            pub const #name: &str = include_str!(#file);
        }
    });
    quote! { #(#constants)* }
}

/// `META`, pointing at the embedded documents when `embedded` (the runtime
/// serves those on its docs routes) and at none otherwise.
pub(super) fn meta(model: &Model, embedded: bool) -> TokenStream {
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
            ::socketspec_runtime::meta::EventMeta { name: #name, ordered: #ordered, executor: #executor, payload_schema: #schema, type_checked: #type_checked }
        }
    });
    let rooms = model.rooms.iter().map(|r| {
        let pattern = &r.pattern;
        let is_static = r.is_static;
        let guarded = r.guarded;
        let max = match r.max_members {
            Some(n) => quote!(::core::option::Option::Some(#n)),
            None => quote!(::core::option::Option::None),
        };
        quote! {
            ::socketspec_runtime::meta::RoomMeta { pattern: #pattern, is_static: #is_static, guarded: #guarded, max_members: #max }
        }
    });
    let [spec_json, docs_html, asyncapi_json] = Document::ALL.map(|document| {
        if embedded {
            let name = format_ident!("{}", document.constant());
            quote!(::core::option::Option::Some(#name))
        } else {
            quote!(::core::option::Option::None)
        }
    });
    let schema_defs = if model.defs.is_empty() {
        String::new()
    } else {
        serde_json::json!({ "$defs": model.defs }).to_string()
    };
    quote! {
        /// What the runtime needs to know about the spec.
        pub static META: ::socketspec_runtime::meta::AppMeta = ::socketspec_runtime::meta::AppMeta {
            title: #title,
            version: #version,
            namespace: #namespace,
            events: &[#(#events),*],
            rooms: &[#(#rooms),*],
            spec_json: #spec_json,
            docs_html: #docs_html,
            asyncapi_json: #asyncapi_json,
            schema_defs: #schema_defs,
        };
    }
}
