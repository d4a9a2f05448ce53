//! The generated `check_examples()`: every `examples` value of the spec,
//! decoded into the Rust type of its schema and encoded back, must be the
//! same JSON (`socketspec_runtime::same_json`). Users call it from their
//! own `cargo test`, so a spec change that would lose data in Rust fails
//! there.

use proc_macro2::TokenStream;
use quote::quote;

use super::types::ty_tokens;
use crate::model::Model;

pub(super) fn check_examples(model: &Model) -> TokenStream {
    let items = &model.types.items;
    let checks = model.types.examples.iter().map(|example| {
        let at = &example.path;
        let text = example.value.to_string();
        let ty = ty_tokens(&example.ty, items);
        quote! { (#at, #text, ::socketspec_runtime::round_trip::<#ty>), }
    });
    quote! {
        /// Checks every `examples` value of the spec against its Rust type:
        /// each must decode (from a JSON value and from its text) and encode
        /// back to the same JSON (`socketspec_runtime::same_json`). Returns
        /// how many were checked, or one line per failure with its place in
        /// the spec. Call it from a test:
        ///
        /// ```text
        /// #[test]
        /// fn spec_examples_round_trip() {
        ///     assert!(api::check_examples().is_ok());
        /// }
        /// ```
        pub fn check_examples() -> ::core::result::Result<usize, ::std::string::String> {
            type Check = fn(&serde_json::Value) -> ::core::result::Result<(), ::std::string::String>;
            let checks: &[(&str, &str, Check)] = &[#(#checks)*];
            let mut failures: ::std::vec::Vec<::std::string::String> = ::std::vec::Vec::new();
            for (at, text, check) in checks {
                let outcome = serde_json::from_str::<serde_json::Value>(text)
                    .map_err(|e| e.to_string())
                    .and_then(|value| check(&value));
                if let ::core::result::Result::Err(e) = outcome {
                    failures.push(::std::format!("{at}: {e}"));
                }
            }
            if failures.is_empty() {
                ::core::result::Result::Ok(checks.len())
            } else {
                ::core::result::Result::Err(failures.join("\n"))
            }
        }
    }
}
