//! The `rooms` module of the generated code: a constant per static room
//! name, a function per pattern that fills its parameters.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::model::{Model, RoomModel};

pub(super) fn room_fn_name(room: &RoomModel) -> String {
    if room.params.is_empty() {
        room.ident.to_uppercase()
    } else {
        room.ident.clone()
    }
}

pub(super) fn rooms_module(model: &Model) -> TokenStream {
    let items = model.rooms.iter().map(|room| {
        let pattern = &room.pattern;
        let mut doc = format!(" The room pattern `{pattern}`.");
        if let Some(d) = &room.description {
            doc.push_str(&format!(" {d}"));
        }
        let name = format_ident!("{}", room_fn_name(room));
        if room.params.is_empty() {
            quote! { #[doc = #doc] pub const #name: &str = #pattern; }
        } else {
            let params: Vec<_> = room.params.iter().map(|p| format_ident!("{}", p)).collect();
            let fmt = pattern.clone();
            quote! {
                #[doc = #doc]
                pub fn #name(#(#params: &str),*) -> ::std::string::String {
                    format!(#fmt)
                }
            }
        }
    });
    quote! {
        /// The spec's rooms: a constant per static name, a function per pattern
        /// that fills its parameters.
        pub mod rooms {
            #(#items)*
        }
    }
}
