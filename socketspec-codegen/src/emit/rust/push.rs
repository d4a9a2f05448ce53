//! The typed push API of the generated module: `Push` (a cloneable handle
//! that sends the spec's `push` events to rooms, connections and users on
//! every node), `PushTo` (one connection or user) and `ConnectionExt`
//! (`conn.emit_x(..)` on a connection of this node, e.g. in a hook).
//! Generated only for specs that declare `push` events.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::rooms::room_fn_name;
use crate::model::Model;

pub(super) fn push_api(model: &Model) -> TokenStream {
    if model.pushes.is_empty() {
        return quote!();
    }
    let broadcasts = model.pushes.iter().filter_map(|push| {
        let room = &model.rooms[push.room?];
        let msg = &model.server_events[push.message];
        let method = format_ident!("broadcast_{}", msg.method);
        let ty = format_ident!("{}", msg.type_name);
        let name = &msg.name;
        let params: Vec<_> = room.params.iter().map(|p| format_ident!("{}", p)).collect();
        let pattern_fn = format_ident!("{}", room_fn_name(room));
        let room_expr = if params.is_empty() {
            quote!(rooms::#pattern_fn)
        } else {
            quote!(&rooms::#pattern_fn(#(#params),*))
        };
        let doc = format!(" Pushes `{name}` to every member of `{}` on every node; returns how many members on this node it reached. Nobody there is `ROOM_NOT_FOUND` (see `AllowNobody`).", room.pattern);
        Some(quote! {
            #[doc = #doc]
            pub async fn #method(&self, #(#params: &str,)* payload: #ty) -> ::socketspec_runtime::Result<usize> {
                ::socketspec_runtime::__private::push_to_room(&self.inner, #room_expr, #name, &payload).await
            }
        })
    });
    let messages: Vec<_> = model
        .pushes
        .iter()
        .map(|p| &model.server_events[p.message])
        .collect();
    let to_methods = messages.iter().map(|msg| {
        let method = format_ident!("emit_{}", msg.method);
        let ty = format_ident!("{}", msg.type_name);
        let name = &msg.name;
        let doc = format!(" Pushes `{name}`; returns how many connections on this node it reached. Nobody connected is `ROOM_NOT_FOUND` (see `AllowNobody`).");
        quote! {
            #[doc = #doc]
            pub async fn #method(&self, payload: #ty) -> ::socketspec_runtime::Result<usize> {
                ::socketspec_runtime::__private::push_to(&self.inner, #name, &payload).await
            }
        }
    });
    let ext_decls = messages.iter().map(|msg| {
        let method = format_ident!("emit_{}", msg.method);
        let ty = format_ident!("{}", msg.type_name);
        let doc = format!(
            " Sends `{}` to this connection (queued, never waited on).",
            msg.name
        );
        quote! {
            #[doc = #doc]
            fn #method(&self, payload: #ty) -> ::socketspec_runtime::Result<()>;
        }
    });
    let ext_impls = messages.iter().map(|msg| {
        let method = format_ident!("emit_{}", msg.method);
        let ty = format_ident!("{}", msg.type_name);
        let name = &msg.name;
        quote! {
            fn #method(&self, payload: #ty) -> ::socketspec_runtime::Result<()> {
                ::socketspec_runtime::__private::emit_to(self, #name, &payload)
            }
        }
    });
    quote! {
        /// Sends the events the spec declares under `push`, from anywhere: a
        /// lifecycle hook, another HTTP route, a background task. Cheap to
        /// clone; pushes reach rooms, connections and users on every node.
        #[derive(Clone, Debug)]
        pub struct Push {
            inner: ::socketspec_runtime::Push,
        }

        impl Push {
            /// The handle of this spec's namespace on `server`; `None` when
            /// `server` does not serve it.
            pub fn new(server: &::socketspec_runtime::Server) -> ::core::option::Option<Self> {
                server.push(META.namespace).map(|inner| Push { inner })
            }

            /// The handle of the namespace `conn` belongs to, for lifecycle
            /// hooks (`on_connect`, `on_disconnect`, ...); `None` when that
            /// is not this spec's namespace.
            pub fn of(conn: &::socketspec_runtime::Connection) -> ::core::option::Option<Self> {
                (conn.namespace() == META.namespace).then(|| Push { inner: conn.push() })
            }

            /// One connection, by id, on whichever node it is.
            pub fn to_connection<'a>(&'a self, id: &'a str) -> PushTo<'a> {
                PushTo { inner: self.inner.to_connection(id) }
            }

            /// Every connection of one user, by user id, on every node.
            pub fn to_user<'a>(&'a self, user_id: &'a str) -> PushTo<'a> {
                PushTo { inner: self.inner.to_user(user_id) }
            }

            #(#broadcasts)*
        }

        impl<'a, E> Cx<'a, E> {
            /// The push handle of this namespace, to send `push` events to
            /// other connections, users and rooms from a handler.
            pub fn push(&self) -> Push {
                Push { inner: self.inner.push() }
            }
        }

        /// One connection, or every connection of a user: where a push goes.
        #[derive(Clone, Copy, Debug)]
        pub struct PushTo<'a> {
            inner: ::socketspec_runtime::Recipient<'a>,
        }

        impl PushTo<'_> {
            #(#to_methods)*
        }

        /// `emit_*` for every `push` event, on a connection of this node
        /// (in a lifecycle hook, say): `use chat::ConnectionExt as _;`.
        pub trait ConnectionExt {
            #(#ext_decls)*
        }

        impl ConnectionExt for ::socketspec_runtime::Connection {
            #(#ext_impls)*
        }
    }
}
