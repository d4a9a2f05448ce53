//! The server side of the generated module: the `Handler` trait, the one
//! generic context `Cx<'a, E>` with each event's emit and broadcast
//! methods, and the `Service` that hands each decoded payload to the
//! handler.
//!
//! Everything else (decoding, validation, limits, rooms, sessions) lives in
//! the runtime; this is glue, kept thin.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::rooms::room_fn_name;
use super::{doc_attr, ident};
use crate::model::{EventModel, Model};

/// The marker type of `event` (the `E` of its `Cx`).
fn marker(event: &EventModel) -> syn::Ident {
    format_ident!("{}", event.type_name)
}

fn cx_alias(event: &EventModel) -> syn::Ident {
    format_ident!("{}Cx", event.type_name)
}

pub(super) fn handler_trait(model: &Model) -> TokenStream {
    let methods = model.events.iter().map(|event| {
        let method = ident(&event.method);
        let ty = format_ident!("{}", event.type_name);
        let cx = cx_alias(event);
        let doc = doc_attr(event.description.as_deref(), &format!(" Handles `{}`.", event.name));
        let extra = handler_notes(model, event);
        let deprecated = event.deprecated.then(|| quote!(#[deprecated(note = "this event is deprecated in the spec")]));
        if event.executor {
            quote! {
                #doc #extra #deprecated
                fn #method(&self, cx: #cx<'_>, payload: #ty) -> ::socketspec_runtime::Result<()>;
            }
        } else {
            quote! {
                #doc #extra #deprecated
                fn #method(&self, cx: #cx<'_>, payload: #ty) -> impl ::core::future::Future<Output = ::socketspec_runtime::Result<()>> + ::core::marker::Send;
            }
        }
    });
    let guards = model.rooms.iter().filter(|r| r.guarded).map(|room| {
        let method = format_ident!("guard_{}", room.ident);
        let params = room.params.iter().map(|p| {
            let p = format_ident!("{}", p);
            quote!(#p: &str)
        });
        let doc = format!(" Whether `conn` may join a room of the guarded pattern `{}`. A refusal is a `PERMISSION_ERROR`.", room.pattern);
        quote! {
            #[doc = #doc]
            fn #method(&self, conn: &::socketspec_runtime::Connection, #(#params),*) -> impl ::core::future::Future<Output = bool> + ::core::marker::Send;
        }
    });
    let title = format!(
        " The server side of {}: one method per event the spec declares.",
        model.info.title
    );
    quote! {
        #[doc = #title]
        ///
        /// The compiler holds implementations to the spec: each method receives
        /// the event's typed payload and a context that can emit and broadcast
        /// exactly what the spec declares for it. The lifecycle hooks
        /// (`on_connect`, `on_disconnect`, ...) come from
        /// [`socketspec_runtime::Hooks`], whose methods all have defaults.
        pub trait Handler: ::socketspec_runtime::Hooks {
            #(#methods)*
            #(#guards)*
        }
    }
}

fn handler_notes(model: &Model, event: &EventModel) -> TokenStream {
    let mut lines = vec![String::new()];
    if event.ordered {
        lines.push(
            " Ordered: messages from one connection are handled one at a time, in arrival order."
                .to_owned(),
        );
    }
    if event.executor {
        lines.push(" Blocking: runs on tokio's blocking pool.".to_owned());
    }
    for i in &event.emits {
        lines.push(format!(
            " Emits `{}` to the sender.",
            model.server_events[*i].name
        ));
    }
    for b in &event.broadcasts {
        lines.push(format!(
            " Broadcasts `{}` to `{}`.",
            model.server_events[b.message].name, model.rooms[b.room].pattern
        ));
    }
    if lines.len() == 1 {
        return quote!();
    }
    quote! { #(#[doc = #lines])* }
}

/// The generic context, the per-event marker types and aliases, and each
/// event's emit and broadcast methods.
pub(super) fn contexts(model: &Model) -> TokenStream {
    let markers = model.events.iter().map(|event| {
        let marker = marker(event);
        let doc = format!(" The event `{}`.", event.name);
        quote! { #[doc = #doc] pub enum #marker {} }
    });
    let per_event = model.events.iter().map(|event| event_context(model, event));
    // Only the dispatch of an event makes a context.
    let unused_new = model.events.is_empty().then(|| quote!(#[allow(dead_code)]));
    quote! {
        /// One type per client event: what tells the contexts apart.
        pub mod events {
            #(#markers)*
        }

        /// What the handler of the event `E` can do: everything of
        /// [`EventContext`](::socketspec_runtime::EventContext) (the
        /// connection, its identity, joining and leaving rooms), plus
        /// exactly the emits and broadcasts the spec declares for `E`.
        pub struct Cx<'a, E> {
            inner: ::socketspec_runtime::EventContext<'a>,
            event: ::core::marker::PhantomData<fn() -> E>,
        }

        impl<'a, E> Cx<'a, E> {
            #unused_new
            fn new(inner: ::socketspec_runtime::EventContext<'a>) -> Self {
                Cx { inner, event: ::core::marker::PhantomData }
            }
        }

        impl<'a, E> ::core::ops::Deref for Cx<'a, E> {
            type Target = ::socketspec_runtime::EventContext<'a>;
            fn deref(&self) -> &Self::Target {
                &self.inner
            }
        }

        #(#per_event)*
    }
}

fn event_context(model: &Model, event: &EventModel) -> TokenStream {
    let marker = marker(event);
    let alias = cx_alias(event);
    let alias_doc = format!(" The context of the `{}` handler.", event.name);
    let blocking = event.executor;
    let emits = event.emits.iter().map(|i| {
        let msg = &model.server_events[*i];
        let method = format_ident!("emit_{}", msg.method);
        let ty = format_ident!("{}", msg.type_name);
        let name = &msg.name;
        let doc = format!(" Sends `{name}` to the sender (with the request's `id`). It is queued, never waited on.");
        quote! {
            #[doc = #doc]
            pub fn #method(&self, payload: #ty) -> ::socketspec_runtime::Result<()> {
                ::socketspec_runtime::__private::emit(&self.inner, #name, &payload)
            }
        }
    });
    let broadcasts = event.broadcasts.iter().map(|b| {
        let msg = &model.server_events[b.message];
        let room = &model.rooms[b.room];
        let method = format_ident!("broadcast_{}", msg.method);
        let ty = format_ident!("{}", msg.type_name);
        let name = &msg.name;
        let params: Vec<_> = room.params.iter().map(|p| format_ident!("{}", p)).collect();
        let pattern_fn = format_ident!("{}", room_fn_name(room));
        let exclude = b.exclude_sender;
        let to = if exclude { "the other members of" } else { "every member of" };
        let doc = format!(" Broadcasts `{name}` to {to} `{}`; returns how many members on this node it reached. Fails with `ROOM_NOT_FOUND` when the room does not exist.", room.pattern);
        let room_expr = if params.is_empty() {
            quote!(rooms::#pattern_fn)
        } else {
            quote!(&rooms::#pattern_fn(#(#params),*))
        };
        let send = quote!(::socketspec_runtime::__private::broadcast(&self.inner, #room_expr, #name, &payload, #exclude));
        if blocking {
            quote! {
                #[doc = #doc]
                pub fn #method(&self, #(#params: &str,)* payload: #ty) -> ::socketspec_runtime::Result<usize> {
                    self.inner.block_on(#send)
                }
            }
        } else {
            quote! {
                #[doc = #doc]
                pub async fn #method(&self, #(#params: &str,)* payload: #ty) -> ::socketspec_runtime::Result<usize> {
                    #send.await
                }
            }
        }
    });
    let methods: Vec<TokenStream> = emits.chain(broadcasts).collect();
    let block = (!methods.is_empty()).then(|| {
        quote! {
            impl Cx<'_, events::#marker> {
                #(#methods)*
            }
        }
    });
    quote! {
        #[doc = #alias_doc]
        pub type #alias<'a> = Cx<'a, events::#marker>;
        #block
    }
}

pub(super) fn service(model: &Model) -> TokenStream {
    let arms = model.events.iter().map(|event| {
        let name = &event.name;
        let method = ident(&event.method);
        let ty = format_ident!("{}", event.type_name);
        if event.executor {
            quote! {
                #name => {
                    let payload: #ty = call.decode()?;
                    call.run_blocking(move |inner| this.handler.#method(Cx::new(inner), payload)).await
                }
            }
        } else {
            quote! {
                #name => {
                    let payload: #ty = call.decode()?;
                    this.handler.#method(Cx::new(call.context()), payload).await
                }
            }
        }
    });
    // Decoding a payload needs the call mutably; a spec without events
    // decodes none.
    let (call_binding, clone_this) = if model.events.is_empty() {
        (quote!(call), quote!(let _ = this;))
    } else {
        (
            quote!(mut call),
            quote!(let this = ::std::sync::Arc::clone(this);),
        )
    };
    let guard_arms = model.rooms.iter().filter(|r| r.guarded).map(|room| {
        let pattern = &room.pattern;
        let method = format_ident!("guard_{}", room.ident);
        let params = room
            .params
            .iter()
            .map(|p| quote!(room.param(#p).unwrap_or_default()));
        quote! { #pattern => self.handler.#method(conn, #(#params),*).await, }
    });
    let any_guard = model.rooms.iter().any(|r| r.guarded);
    let guard = any_guard.then(|| {
        quote! {
            async fn guard(
                &self,
                conn: &::socketspec_runtime::Connection,
                room: &::socketspec_runtime::RoomMatch<'_>,
            ) -> bool {
                match room.pattern {
                    #(#guard_arms)*
                    _ => true,
                }
            }
        }
    });
    let deprecated = model
        .events
        .iter()
        .any(|e| e.deprecated)
        .then(|| quote!(#[allow(deprecated)]));
    quote! {
        /// Wraps a [`Handler`] so the runtime can serve it.
        pub struct Service<H> {
            handler: H,
        }

        /// Wraps `handler` for `socketspec_runtime::Server`.
        pub fn service<H: Handler>(handler: H) -> Service<H> {
            Service { handler }
        }

        impl<H> Service<H> {
            /// The wrapped handler.
            pub fn handler(&self) -> &H {
                &self.handler
            }
        }

        impl<H: Handler> ::socketspec_runtime::App for Service<H> {
            type Hooks = H;

            fn meta(&self) -> &'static ::socketspec_runtime::meta::AppMeta {
                &META
            }

            fn hooks(&self) -> &H {
                &self.handler
            }

            #deprecated
            fn dispatch(
                this: &::std::sync::Arc<Self>,
                #call_binding: ::socketspec_runtime::Call,
            ) -> impl ::core::future::Future<Output = ::socketspec_runtime::Result<()>> + ::core::marker::Send + 'static + use<H> {
                #clone_this
                async move {
                    match call.event() {
                        #(#arms)*
                        _ => Err(::socketspec_runtime::Error::new(
                            ::socketspec_runtime::ErrorCode::UnknownEvent,
                            "no handler for this event",
                        )),
                    }
                }
            }

            #guard
        }
    }
}
