//! The payload types: the model's [`TypePlan`] printed as Rust items, with
//! serde attributes that decode every valid payload and encode it back
//! unchanged.
//!
//! Paths are absolute (`::std::string::String`) so a spec type named
//! `String`, `Option` or `Result` shadows nothing, and serde is reached
//! through `socketspec_runtime`, the one dependency generated code needs.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::{TypeOptions, doc_attr, ident};
use crate::error::Error;
use crate::model::Model;
use crate::typing::{Field, Item, ItemKind, StructPlan, Ty, TypePlan, Variant};

/// The serde crate generated derives use.
const SERDE: &str = "::socketspec_runtime::__private::serde";
/// The helpers of `socketspec_payload::de`, for `deserialize_with`.
const INTEGERS: &str = "::socketspec_runtime::__private::payload::de::integers";
const PRESENT: &str = "::socketspec_runtime::__private::payload::de::present";
const PRESENT_INTEGERS: &str = "::socketspec_runtime::__private::payload::de::present_integers";

/// The payload types, with the derives and attributes of `options` (each
/// derive once per type, after the generator's own).
pub(super) fn payload_types(model: &Model, options: &TypeOptions) -> Result<TokenStream, Error> {
    let plan = &model.types;
    let items = plan.items.iter().map(|item| render_item(item, plan));
    let types = quote! {
        // Unused by a spec whose payloads are all plain JSON values.
        #[allow(unused_imports)]
        use ::socketspec_runtime::__private::{serde, serde_json};
        #(#items)*
    };
    if options.derives.is_empty() && options.attributes.is_empty() {
        return Ok(types);
    }
    let mut file = syn::parse2::<syn::File>(types).map_err(|e| Error::Generate {
        file: model.file.clone(),
        message: format!("generated payload types do not parse: {e}"),
    })?;
    for item in &mut file.items {
        let (name, attrs) = match item {
            syn::Item::Struct(s) => (s.ident.to_string(), &mut s.attrs),
            syn::Item::Enum(e) => (e.ident.to_string(), &mut e.attrs),
            _ => continue,
        };
        add_options(&name, attrs, options);
    }
    Ok(quote!(#file))
}

/// Adds `options`' derives the type lacks to its one `#[derive(..)]`, and
/// the attributes meant for the type `name` (or for every type, `"."`).
fn add_options(name: &str, attrs: &mut Vec<syn::Attribute>, options: &TypeOptions) {
    type Paths = syn::punctuated::Punctuated<syn::Path, syn::Token![,]>;
    let wanted = options
        .derives
        .iter()
        .filter_map(|d| syn::parse_str::<syn::Path>(d).ok());
    match attrs.iter_mut().find(|a| a.path().is_ident("derive")) {
        Some(derive) => {
            let mut paths = derive
                .parse_args_with(Paths::parse_terminated)
                .unwrap_or_default();
            for path in wanted {
                let last = last_segment(&path);
                if !paths.iter().any(|p| last_segment(p) == last) {
                    paths.push(path);
                }
            }
            *derive = syn::parse_quote!(#[derive(#paths)]);
        }
        None => {
            let paths: Vec<syn::Path> = wanted.collect();
            if !paths.is_empty() {
                attrs.insert(0, syn::parse_quote!(#[derive(#(#paths),*)]));
            }
        }
    }
    for (path, attribute) in &options.attributes {
        if path == "." || path == name {
            let parsed = syn::parse::Parser::parse_str(syn::Attribute::parse_outer, attribute);
            attrs.extend(parsed.unwrap_or_default());
        }
    }
}

/// `serde::Serialize` -> `Serialize`: derives compare by their last segment.
fn last_segment(path: &syn::Path) -> String {
    path.segments
        .last()
        .map(|s| s.ident.to_string())
        .unwrap_or_default()
}

/// The Rust spelling of a type.
pub(super) fn ty_tokens(ty: &Ty, items: &[Item]) -> TokenStream {
    match ty {
        Ty::Any | Ty::Def(_) => quote!(serde_json::Value),
        Ty::Object => quote!(serde_json::Map<::std::string::String, serde_json::Value>),
        Ty::Unit => quote!(()),
        Ty::Bool => quote!(bool),
        Ty::I64 => quote!(i64),
        Ty::U64 => quote!(u64),
        Ty::Integer => quote!(::socketspec_runtime::Integer),
        Ty::F64 => quote!(f64),
        Ty::String => quote!(::std::string::String),
        Ty::Vec(inner) => {
            let inner = ty_tokens(inner, items);
            quote!(::std::vec::Vec<#inner>)
        }
        Ty::Tuple(parts) => {
            let parts = parts.iter().map(|p| ty_tokens(p, items));
            quote!((#(#parts,)*))
        }
        Ty::Map(inner) => {
            let inner = ty_tokens(inner, items);
            quote!(::std::collections::BTreeMap<::std::string::String, #inner>)
        }
        Ty::Option(inner) => {
            let inner = ty_tokens(inner, items);
            quote!(::std::option::Option<#inner>)
        }
        Ty::Boxed(inner) => {
            let inner = ty_tokens(inner, items);
            quote!(::std::boxed::Box<#inner>)
        }
        Ty::Named(i) => match items.get(*i) {
            Some(item) => {
                let name = format_ident!("{}", item.name);
                quote!(#name)
            }
            None => quote!(serde_json::Value),
        },
    }
}

fn render_item(item: &Item, plan: &TypePlan) -> TokenStream {
    let items = plan.items.as_slice();
    let name = format_ident!("{}", item.name);
    let doc = doc_attr(Some(&item.doc), "");
    match &item.kind {
        ItemKind::Alias(ty) => {
            let ty = ty_tokens(ty, items);
            quote! { #doc pub type #name = #ty; }
        }
        ItemKind::Newtype(ty) => {
            let with = integers_attr(ty.has_machine_integers(items));
            let ty = ty_tokens(ty, items);
            quote! {
                #doc
                #[derive(serde::Deserialize, serde::Serialize, Clone, Debug, PartialEq)]
                #[serde(crate = #SERDE, transparent)]
                pub struct #name {
                    /// The value.
                    #with
                    pub value: #ty,
                }
            }
        }
        ItemKind::Struct(plan) => render_struct(&name, &doc, plan, items),
        ItemKind::Enum(variants) => render_enum(&name, &doc, variants),
        ItemKind::Tagged { tag, variants } => {
            let variants = variants.iter().map(|v| {
                let vname = format_ident!("{}", v.name);
                let value = &v.value;
                let vdoc = format!(" `\"{tag}\": \"{value}\"`.");
                match &v.ty {
                    Some(ty) => {
                        let ty = ty_tokens(ty, items);
                        quote! { #[doc = #vdoc] #[serde(rename = #value)] #vname(#ty), }
                    }
                    None => quote! { #[doc = #vdoc] #[serde(rename = #value)] #vname, },
                }
            });
            quote! {
                #doc
                #[derive(serde::Deserialize, serde::Serialize, Clone, Debug, PartialEq)]
                #[serde(crate = #SERDE, tag = #tag)]
                pub enum #name {
                    #(#variants)*
                }
            }
        }
        ItemKind::Untagged(variants) => {
            let variants = variants.iter().map(|v| untagged_variant(v, items));
            quote! {
                #doc
                #[derive(serde::Deserialize, serde::Serialize, Clone, Debug, PartialEq)]
                #[serde(crate = #SERDE, untagged)]
                pub enum #name {
                    #(#variants)*
                }
            }
        }
    }
}

fn untagged_variant(v: &Variant, items: &[Item]) -> TokenStream {
    let vname = format_ident!("{}", v.name);
    let vdoc = format!(" A JSON {}.", v.name.to_lowercase());
    let ty = v.ty.clone().unwrap_or(Ty::Any);
    let with = integers_attr(ty.has_machine_integers(items));
    let ty = ty_tokens(&ty, items);
    quote! { #[doc = #vdoc] #vname(#with #ty), }
}

fn integers_attr(needed: bool) -> TokenStream {
    if needed {
        quote!(#[serde(deserialize_with = #INTEGERS)])
    } else {
        quote!()
    }
}

fn render_struct(
    name: &syn::Ident,
    doc: &TokenStream,
    plan: &StructPlan,
    items: &[Item],
) -> TokenStream {
    let default = plan
        .fields
        .iter()
        .all(|f| !f.required)
        .then(|| quote!(, Default));
    let constructor = render_constructor(name, plan, items);
    if let Some(extra) = &plan.extra {
        let open = render_open_struct(name, doc, plan, extra, items, default);
        return quote! { #open #constructor };
    }
    let fields = plan.fields.iter().map(|f| render_field(f, items));
    let deny = plan.closed.then(|| quote!(, deny_unknown_fields));
    quote! {
        #doc
        #[derive(serde::Deserialize, serde::Serialize, Clone, Debug, PartialEq #default)]
        #[serde(crate = #SERDE #deny)]
        pub struct #name {
            #(#fields)*
        }
        #constructor
    }
}

/// `new` from the required properties, for a struct that has any (one with
/// none derives `Default` instead): the optional fields start `None` and
/// the extra map empty, so constructing a payload never spells them out,
/// and `Type { note: Some(..), ..Type::new(a, b) }` sets the others.
fn render_constructor(name: &syn::Ident, plan: &StructPlan, items: &[Item]) -> Option<TokenStream> {
    let required: Vec<&Field> = plan.fields.iter().filter(|f| f.required).collect();
    if required.is_empty() {
        return None;
    }
    let params = required.iter().map(|f| {
        let field = ident(&f.name);
        let ty = ty_tokens(&f.ty, items);
        quote!(#field: #ty)
    });
    let inits = plan.fields.iter().map(|f| {
        let field = ident(&f.name);
        if f.required {
            quote!(#field,)
        } else {
            quote!(#field: ::std::option::Option::None,)
        }
    });
    let extra = plan.extra.as_ref().map(|extra| {
        let field = ident(&extra.name);
        quote!(#field: ::std::default::Default::default(),)
    });
    let many = (required.len() > 7).then(|| quote!(#[allow(clippy::too_many_arguments)]));
    let optional = required.len() < plan.fields.len();
    let doc = match (optional, plan.extra.is_some()) {
        (true, true) => format!(
            " `{name}` from its required properties; the optional ones are `None` and there are no others."
        ),
        (true, false) => {
            format!(" `{name}` from its required properties; the optional ones are `None`.")
        }
        (false, true) => format!(" `{name}` from its properties, with no others."),
        (false, false) => format!(" `{name}` from its properties."),
    };
    Some(quote! {
        impl #name {
            #[doc = #doc]
            #many
            pub fn new(#(#params),*) -> Self {
                Self { #(#inits)* #extra }
            }
        }
    })
}

/// An open object: its named properties as fields and the others in a map
/// field, with `Serialize`/`Deserialize` from `socketspec_payload`'s
/// `open_object!`, which reads each property once (serde's `flatten`
/// buffers the whole object first).
fn render_open_struct(
    name: &syn::Ident,
    doc: &TokenStream,
    plan: &StructPlan,
    extra: &crate::typing::Extra,
    items: &[Item],
    default: Option<TokenStream>,
) -> TokenStream {
    let read = |integers: bool| {
        if integers {
            quote!(integers)
        } else {
            quote!(plain)
        }
    };
    let fields = plan.fields.iter().map(|f| {
        let field = ident(&f.name);
        let ty = ty_tokens(&f.ty, items);
        let fallback = field_fallback_doc(f);
        let doc = doc_attr(f.doc.as_deref(), &fallback);
        if f.required {
            quote! { #doc pub #field: #ty, }
        } else {
            quote! { #doc pub #field: ::std::option::Option<#ty>, }
        }
    });
    let entries = plan.fields.iter().map(|f| {
        let field = ident(&f.name);
        let json = &f.json;
        let kind = if f.required {
            quote!(required)
        } else {
            quote!(optional)
        };
        let with = read(f.ty.has_machine_integers(items));
        quote! { #kind #field = #json, #with; }
    });
    let extra_field = ident(&extra.name);
    let extra_ty = match &extra.ty {
        Ty::Any => ty_tokens(&Ty::Object, items),
        other => ty_tokens(&Ty::Map(Box::new(other.clone())), items),
    };
    let extra_with = read(extra.ty.has_machine_integers(items));
    quote! {
        #doc
        #[derive(Clone, Debug, PartialEq #default)]
        pub struct #name {
            #(#fields)*
            /// The properties the schema allows beyond the named ones, kept
            /// so the payload round-trips unchanged.
            pub #extra_field: #extra_ty,
        }
        ::socketspec_runtime::__private::payload::open_object! {
            #name {
                #(#entries)*
            }
            #extra_field, #extra_with
        }
    }
}

/// A field's doc comment when the schema gives none: its JSON name and
/// whether it is required.
fn field_fallback_doc(field: &Field) -> String {
    format!(
        "`{}` ({}).",
        field.json,
        if field.required {
            "required"
        } else {
            "optional"
        }
    )
}

fn render_field(field: &Field, items: &[Item]) -> TokenStream {
    let name = ident(&field.name);
    let bare = field.name.trim_start_matches("r#");
    let rename = (bare != field.json).then(|| {
        let json = &field.json;
        quote!(#[serde(rename = #json)])
    });
    let fallback = field_fallback_doc(field);
    let doc = doc_attr(field.doc.as_deref(), &fallback);
    let ty = ty_tokens(&field.ty, items);
    let integers = field.ty.has_machine_integers(items);
    if field.required {
        let with = integers_attr(integers);
        return quote! { #doc #rename #with pub #name: #ty, };
    }
    // Optional: absent is `None`; a value that may be `null` is decoded
    // as `Some(null)`, so the two stay apart.
    let with = match (field.ty.accepts_null(items), integers) {
        (true, false) => Some(PRESENT),
        (true, true) => Some(PRESENT_INTEGERS),
        (false, true) => Some(INTEGERS),
        (false, false) => None,
    }
    .map(|path| quote!(, deserialize_with = #path));
    quote! {
        #doc
        #rename
        #[serde(default, skip_serializing_if = "::std::option::Option::is_none" #with)]
        pub #name: ::std::option::Option<#ty>,
    }
}

fn render_enum(name: &syn::Ident, doc: &TokenStream, variants: &[Variant]) -> TokenStream {
    let defs = variants.iter().map(|v| {
        let vname = format_ident!("{}", v.name);
        let value = &v.value;
        let vdoc = format!(" `{value:?}`.");
        quote! { #[doc = #vdoc] #[serde(rename = #value)] #vname, }
    });
    let arms = variants.iter().map(|v| {
        let vname = format_ident!("{}", v.name);
        let value = &v.value;
        quote! { Self::#vname => #value, }
    });
    quote! {
        #doc
        #[derive(serde::Deserialize, serde::Serialize, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[serde(crate = #SERDE)]
        pub enum #name {
            #(#defs)*
        }

        impl #name {
            /// The value as it is written in JSON.
            pub fn as_str(&self) -> &'static str {
                match self {
                    #(#arms)*
                }
            }
        }

        impl ::std::fmt::Display for #name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    }
}
