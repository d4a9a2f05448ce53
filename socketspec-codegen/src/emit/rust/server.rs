//! The server side of the generated module: the `Handler` trait, one
//! context type per event, and the `Service` that dispatches to the handler.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::rooms::room_fn_name;
use super::{doc_attr, ident};
use crate::model::{EventModel, Model};

fn cx_ident(event: &EventModel) -> syn::Ident {
    format_ident!("{}Cx", event.type_name)
}

pub(super) fn handler_trait(model: &Model) -> TokenStream {
    let methods = model.events.iter().map(|event| {
        let method = ident(&event.method);
        let ty = format_ident!("{}", event.type_name);
        let cx = cx_ident(event);
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
        /// exactly what the spec declares for it.
        pub trait Handler: ::core::marker::Send + ::core::marker::Sync + 'static {
            #(#methods)*
            #(#guards)*

            /// Runs after a connection is established. An error closes it (1011).
            fn on_connect(&self, conn: &::socketspec_runtime::Connection) -> impl ::core::future::Future<Output = ::socketspec_runtime::Result<()>> + ::core::marker::Send {
                let _ = conn;
                async { Ok(()) }
            }
            /// Runs after a connection closes, with the reason.
            fn on_disconnect(&self, conn: &::socketspec_runtime::Connection, reason: &str) -> impl ::core::future::Future<Output = ()> + ::core::marker::Send {
                let _ = (conn, reason);
                async {}
            }
            /// Runs when a handler returns an error or panics.
            fn on_error(&self, conn: &::socketspec_runtime::Connection, event: &str, error: &::socketspec_runtime::Error) -> impl ::core::future::Future<Output = ()> + ::core::marker::Send {
                let _ = (conn, event, error);
                async {}
            }
            /// Runs after a connection joins a room.
            fn on_room_join(&self, conn: &::socketspec_runtime::Connection, room: &str) -> impl ::core::future::Future<Output = ()> + ::core::marker::Send {
                let _ = (conn, room);
                async {}
            }
            /// Runs after a connection leaves a room (also as it disconnects).
            fn on_room_leave(&self, conn: &::socketspec_runtime::Connection, room: &str) -> impl ::core::future::Future<Output = ()> + ::core::marker::Send {
                let _ = (conn, room);
                async {}
            }
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

pub(super) fn context(model: &Model, event: &EventModel) -> TokenStream {
    let cx = cx_ident(event);
    let doc = format!(
        " What the `{}` handler can do: join and leave rooms, and send exactly what the spec declares for this event.",
        event.name
    );
    let blocking = event.executor;
    let asyncness = if blocking { quote!() } else { quote!(async) };
    let run = |call: TokenStream| {
        if blocking {
            quote!(self.inner.block_on(#call))
        } else {
            quote!(#call.await)
        }
    };
    let join = run(quote!(self.inner.join(room)));
    let leave = run(quote!(self.inner.leave(room)));
    let emits = event.emits.iter().map(|i| {
        let msg = &model.server_events[*i];
        let method = format_ident!("emit_{}", method_suffix(&msg.name));
        let ty = format_ident!("{}", msg.type_name);
        let name = &msg.name;
        let doc = format!(" Sends `{name}` to the sender (with the request's `id`).");
        let call = run(quote!(self.inner.emit_raw(#name, &payload)));
        quote! {
            #[doc = #doc]
            pub #asyncness fn #method(&self, payload: #ty) -> ::socketspec_runtime::Result<()> {
                #call
            }
        }
    });
    let broadcasts = event.broadcasts.iter().map(|b| {
        let msg = &model.server_events[b.message];
        let room = &model.rooms[b.room];
        let method = format_ident!("broadcast_{}", method_suffix(&msg.name));
        let ty = format_ident!("{}", msg.type_name);
        let name = &msg.name;
        let params: Vec<_> = room.params.iter().map(|p| format_ident!("{}", p)).collect();
        let pattern_fn = format_ident!("{}", room_fn_name(room));
        let exclude = b.exclude_sender;
        let to = if exclude { "the other members of" } else { "every member of" };
        let doc = format!(" Broadcasts `{name}` to {to} `{}`; returns how many members it reached. Fails with `ROOM_NOT_FOUND` when the room does not exist.", room.pattern);
        let call = run(quote!(self.inner.broadcast_raw(&room, #name, &payload, #exclude)));
        let room_expr = if params.is_empty() { quote!(rooms::#pattern_fn.to_owned()) } else { quote!(rooms::#pattern_fn(#(#params),*)) };
        quote! {
            #[doc = #doc]
            pub #asyncness fn #method(&self, #(#params: &str,)* payload: #ty) -> ::socketspec_runtime::Result<usize> {
                let room = #room_expr;
                #call
            }
        }
    });
    quote! {
        #[doc = #doc]
        pub struct #cx<'a> {
            inner: ::socketspec_runtime::EventContext<'a>,
        }

        impl<'a> #cx<'a> {
            /// The connection that sent the event.
            pub fn connection(&self) -> &'a ::socketspec_runtime::Connection {
                self.inner.connection()
            }
            /// The connection's identity, when the server authenticates.
            pub fn identity(&self) -> ::core::option::Option<::std::sync::Arc<::socketspec_runtime::Identity>> {
                self.inner.identity()
            }
            /// The client's correlation id, when it sent one.
            pub fn request_id(&self) -> ::core::option::Option<&'a str> {
                self.inner.request_id()
            }
            /// Joins `room` (full name, e.g. from [`rooms`]), running its guard;
            /// returns the member count after the join.
            pub #asyncness fn join(&self, room: &str) -> ::socketspec_runtime::Result<usize> {
                #join
            }
            /// Leaves `room`; returns the member count after the leave.
            pub #asyncness fn leave(&self, room: &str) -> ::socketspec_runtime::Result<usize> {
                #leave
            }
            #(#emits)*
            #(#broadcasts)*
        }
    }
}

/// The part of an `emit_...` / `broadcast_...` method name that names the
/// server event: `chat.new-message` -> `chat_new_message`.
fn method_suffix(event: &str) -> String {
    event.replace(['.', '-', ':'], "_").to_lowercase()
}

pub(super) fn service(model: &Model) -> TokenStream {
    let arms = model.events.iter().enumerate().map(|(index, event)| {
        let method = ident(&event.method);
        let ty = format_ident!("{}", event.type_name);
        let cx = cx_ident(event);
        if event.executor {
            quote! {
                #index => {
                    let payload: #ty = call.decode()?;
                    call.run_blocking(move |inner| this.handler.#method(#cx { inner }, payload)).await
                }
            }
        } else {
            quote! {
                #index => {
                    let payload: #ty = call.decode()?;
                    this.handler.#method(#cx { inner: call.context() }, payload).await
                }
            }
        }
    });
    let guard_arms = model
        .rooms
        .iter()
        .enumerate()
        .filter(|(_, r)| r.guarded)
        .map(|(index, room)| {
            let method = format_ident!("guard_{}", room.ident);
            let params = room
                .params
                .iter()
                .map(|p| quote!(room.param(#p).unwrap_or_default()));
            quote! { #index => self.handler.#method(conn, #(#params),*).await, }
        });
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
            fn meta(&self) -> &'static ::socketspec_runtime::AppMeta {
                &META
            }

            #[allow(deprecated)]
            fn dispatch(
                this: &::std::sync::Arc<Self>,
                mut call: ::socketspec_runtime::Call,
            ) -> impl ::core::future::Future<Output = ::socketspec_runtime::Result<()>> + ::core::marker::Send + 'static + use<H> {
                let this = ::std::sync::Arc::clone(this);
                async move {
                    match call.event_index() {
                        #(#arms)*
                        _ => Err(::socketspec_runtime::Error::new(
                            ::socketspec_runtime::ErrorCode::UnknownEvent,
                            "no handler for this event",
                        )),
                    }
                }
            }

            fn guard(
                &self,
                conn: &::socketspec_runtime::Connection,
                room: &::socketspec_runtime::RoomMatch<'_>,
            ) -> impl ::core::future::Future<Output = bool> + ::core::marker::Send {
                async move {
                    // Unused when the spec guards no room.
                    let _ = conn;
                    match room.pattern_index {
                        #(#guard_arms)*
                        _ => true,
                    }
                }
            }

            fn on_connect(&self, conn: &::socketspec_runtime::Connection) -> impl ::core::future::Future<Output = ::socketspec_runtime::Result<()>> + ::core::marker::Send {
                self.handler.on_connect(conn)
            }
            fn on_disconnect(&self, conn: &::socketspec_runtime::Connection, reason: &str) -> impl ::core::future::Future<Output = ()> + ::core::marker::Send {
                self.handler.on_disconnect(conn, reason)
            }
            fn on_error(&self, conn: &::socketspec_runtime::Connection, event: &str, error: &::socketspec_runtime::Error) -> impl ::core::future::Future<Output = ()> + ::core::marker::Send {
                self.handler.on_error(conn, event, error)
            }
            fn on_room_join(&self, conn: &::socketspec_runtime::Connection, room: &str) -> impl ::core::future::Future<Output = ()> + ::core::marker::Send {
                self.handler.on_room_join(conn, room)
            }
            fn on_room_leave(&self, conn: &::socketspec_runtime::Connection, room: &str) -> impl ::core::future::Future<Output = ()> + ::core::marker::Send {
                self.handler.on_room_leave(conn, room)
            }
        }
    }
}
