//! Doc comments for what typify leaves undocumented: struct fields and enum
//! variants whose schema has no `description`. The generated module keeps
//! `missing_docs` on, so every public item a user reads in their IDE says
//! at least what it is on the wire.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::visit_mut::VisitMut;

/// `stream` (typify's output) with a doc comment on every named field and
/// enum variant that had none. Output that does not parse is returned as is.
pub(super) fn fill_docs(stream: TokenStream) -> TokenStream {
    let Ok(mut file) = syn::parse2::<syn::File>(stream.clone()) else {
        return stream;
    };
    FillDocs.visit_file_mut(&mut file);
    file.into_token_stream()
}

struct FillDocs;

impl VisitMut for FillDocs {
    fn visit_field_mut(&mut self, field: &mut syn::Field) {
        if let Some(ident) = &field.ident
            && !has_doc(&field.attrs)
        {
            let wire = serde_rename(&field.attrs).unwrap_or_else(|| unraw(&ident.to_string()));
            field
                .attrs
                .insert(0, doc(&format!(" The `{wire}` property.")));
        }
        syn::visit_mut::visit_field_mut(self, field);
    }

    fn visit_variant_mut(&mut self, variant: &mut syn::Variant) {
        if !has_doc(&variant.attrs) {
            let text = match serde_rename(&variant.attrs) {
                Some(wire) => format!(" `{wire:?}` on the wire."),
                None => format!(" The `{}` variant.", variant.ident),
            };
            variant.attrs.insert(0, doc(&text));
        }
        syn::visit_mut::visit_variant_mut(self, variant);
    }
}

fn has_doc(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| a.path().is_ident("doc"))
}

fn doc(text: &str) -> syn::Attribute {
    syn::parse_quote!(#[doc = #text])
}

fn unraw(ident: &str) -> String {
    ident.strip_prefix("r#").unwrap_or(ident).to_owned()
}

/// The `rename = "..."` of a `#[serde(...)]` attribute.
fn serde_rename(attrs: &[syn::Attribute]) -> Option<String> {
    let mut found = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        let _ = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename") {
                let value: syn::LitStr = meta.value()?.parse()?;
                found = Some(value.value());
            } else if meta.input.peek(syn::Token![=]) {
                let _: syn::Expr = meta.value()?.parse()?;
            } else if meta.input.peek(syn::token::Paren) {
                let _ = meta.parse_nested_meta(|_| Ok(()));
            }
            Ok(())
        });
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_and_variants_without_docs_get_one() {
        let stream: TokenStream = syn::parse_quote! {
            pub struct S {
                #[serde(rename = "content-type")]
                pub content_type: String,
                /// Kept.
                pub seq: i64,
                pub r#type: String,
            }
            pub enum Mode {
                #[serde(rename = "error")]
                Error,
                Panic,
            }
        };
        let text = fill_docs(stream).to_string();
        assert!(text.contains("The `content-type` property."), "{text}");
        assert!(text.contains("Kept."), "{text}");
        assert!(!text.contains("The `seq` property."), "{text}");
        assert!(text.contains("The `type` property."), "{text}");
        assert!(text.contains(r#"`\"error\"` on the wire."#), "{text}");
        assert!(text.contains("The `Panic` variant."), "{text}");
    }
}
