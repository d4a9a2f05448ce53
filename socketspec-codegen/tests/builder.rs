//! What each `Builder` option changes in the files a compilation writes:
//! the documents next to the module and when they are embedded, the server
//! and client halves, extra derives and attributes on the payload types, and
//! the errors for options that cannot work.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use quote::ToTokens;
use socketspec_codegen::{Builder, Error, Generated};

fn chat_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../spec/chat.json")
}

/// Compiles the chat spec with `builder` into a fresh directory.
fn compile(builder: Builder) -> (Generated, String, tempfile::TempDir) {
    let out = tempfile::tempdir().unwrap();
    let generated = builder
        .emit_rerun_if_changed(false)
        .out_dir(out.path())
        .compile(chat_path())
        .unwrap();
    let text = std::fs::read_to_string(&generated.rust_file).unwrap();
    (generated, text, out)
}

/// The items of the generated `pub mod chat`.
fn chat_items(text: &str) -> Vec<syn::Item> {
    let file = syn::parse_file(text).unwrap();
    file.items
        .into_iter()
        .find_map(|item| match item {
            syn::Item::Mod(m) if m.ident == "chat" => m.content.map(|(_, items)| items),
            _ => None,
        })
        .expect("no `mod chat`")
}

/// `pub const NAME: &str = <expr>;` items, as `(NAME, expr tokens)`.
fn str_consts(items: &[syn::Item]) -> Vec<(String, String)> {
    items
        .iter()
        .filter_map(|item| match item {
            syn::Item::Const(c) => {
                Some((c.ident.to_string(), c.expr.to_token_stream().to_string()))
            }
            _ => None,
        })
        .collect()
}

/// The field initialisers of `static META`, as `(field, value tokens)`.
fn meta_fields(items: &[syn::Item]) -> Vec<(String, String)> {
    let meta = items
        .iter()
        .find_map(|item| match item {
            syn::Item::Static(s) if s.ident == "META" => Some(s),
            _ => None,
        })
        .expect("no `static META`");
    let syn::Expr::Struct(init) = &*meta.expr else {
        panic!("META is not a struct literal");
    };
    init.fields
        .iter()
        .map(|f| {
            (
                f.member.to_token_stream().to_string(),
                f.expr.to_token_stream().to_string().replace(' ', ""),
            )
        })
        .collect()
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no field {name}"))
}

/// The attributes of the struct or enum `name`, as token text.
fn type_attributes(items: &[syn::Item], name: &str) -> Vec<String> {
    items
        .iter()
        .find_map(|item| match item {
            syn::Item::Struct(s) if s.ident == name => Some(&s.attrs),
            syn::Item::Enum(e) if e.ident == name => Some(&e.attrs),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no type {name}"))
        .iter()
        .filter(|a| !a.path().is_ident("doc"))
        .map(|a| a.to_token_stream().to_string())
        .collect()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

#[test]
fn documents_are_written_next_to_the_module_and_not_embedded_by_default() {
    let (generated, text, out) = compile(Builder::new());
    let model = &generated.model;
    let expected = [
        (
            out.path().join("chat.spec.json"),
            model.spec_json().to_owned(),
        ),
        (
            out.path().join("chat.docs.html"),
            model.docs_html().unwrap(),
        ),
        (
            out.path().join("chat.asyncapi.json"),
            model.asyncapi_json().unwrap(),
        ),
    ];
    assert_eq!(
        generated.documents,
        expected.iter().map(|(p, _)| p.clone()).collect::<Vec<_>>()
    );
    for (path, contents) in &expected {
        assert_eq!(&read(path), contents, "{}", path.display());
    }
    // The module neither holds nor includes them, and tells the runtime so.
    let items = chat_items(&text);
    assert!(str_consts(&items).is_empty(), "{:?}", str_consts(&items));
    assert!(!text.contains("include_str!"));
    assert!(!text.contains("<!DOCTYPE html>"));
    let fields = meta_fields(&items);
    for name in ["spec_json", "docs_html", "asyncapi_json"] {
        assert_eq!(
            field(&fields, name),
            "::core::option::Option::None",
            "{name}"
        );
    }
}

#[test]
fn embed_documents_includes_the_sibling_files_and_hands_them_to_meta() {
    let (generated, text, out) = compile(Builder::new().embed_documents(true));
    assert_eq!(generated.documents.len(), 3);
    let items = chat_items(&text);
    let consts = str_consts(&items);
    assert_eq!(
        consts,
        [
            ("SPEC_JSON", "chat.spec.json"),
            ("DOCS_HTML", "chat.docs.html"),
            ("ASYNCAPI_JSON", "chat.asyncapi.json"),
        ]
        .map(|(name, file)| (name.to_owned(), format!("include_str ! (\"{file}\")")))
    );
    for file in ["chat.spec.json", "chat.docs.html", "chat.asyncapi.json"] {
        assert!(
            out.path().join(file).is_file(),
            "{file} is included but missing"
        );
    }
    let fields = meta_fields(&items);
    assert_eq!(
        field(&fields, "spec_json"),
        "::core::option::Option::Some(SPEC_JSON)"
    );
    assert_eq!(
        field(&fields, "docs_html"),
        "::core::option::Option::Some(DOCS_HTML)"
    );
    assert_eq!(
        field(&fields, "asyncapi_json"),
        "::core::option::Option::Some(ASYNCAPI_JSON)"
    );
}

#[test]
fn a_module_written_elsewhere_is_named_after_the_option() {
    let (generated, _, out) = compile(Builder::new().module_name("chat_api"));
    assert_eq!(generated.rust_file, out.path().join("chat_api.rs"));
    assert!(out.path().join("chat_api.docs.html").is_file());
}

#[test]
fn build_server_and_build_client_choose_the_halves() {
    let has = |text: &str, what: &str| text.contains(what);

    let (generated, client_only, out) = compile(Builder::new().build_server(false));
    assert!(!has(&client_only, "pub trait Handler"));
    assert!(!has(&client_only, "static META"));
    assert!(has(&client_only, "pub mod client"));
    // The documents belong to the server side.
    assert!(generated.documents.is_empty());
    assert!(!out.path().join("chat.docs.html").exists());

    let (_, server_only, _out) = compile(Builder::new().build_client(false));
    assert!(has(&server_only, "pub trait Handler"));
    assert!(has(&server_only, "static META"));
    assert!(!has(&server_only, "pub mod client"));

    let (_, types_only, _out) = compile(Builder::new().build_server(false).build_client(false));
    assert!(!has(&types_only, "pub trait Handler"));
    assert!(!has(&types_only, "pub mod client"));
    assert!(has(&types_only, "pub struct SendMessage"));
    assert!(has(&types_only, "pub mod rooms"));
}

#[test]
fn docs_out_and_asyncapi_out_write_copies_where_asked() {
    let site = tempfile::tempdir().unwrap();
    let docs_path = site.path().join("site/chat.html");
    let asyncapi_path = site.path().join("site/asyncapi.json");
    let typescript_path = site.path().join("web/chat.ts");
    let (generated, _, _out) = compile(
        Builder::new()
            .docs_out(&docs_path)
            .asyncapi_out(&asyncapi_path)
            .typescript_out(&typescript_path),
    );
    let model = &generated.model;
    assert_eq!(read(&docs_path), model.docs_html().unwrap());
    assert_eq!(read(&asyncapi_path), model.asyncapi_json().unwrap());
    assert_eq!(read(&typescript_path), model.typescript().unwrap());
}

#[test]
fn derives_and_attributes_reach_the_payload_types() {
    // Payload types and room helpers only, so every struct and enum at the
    // module's top level is a payload type.
    let (_, text, _out) = compile(
        Builder::new()
            .build_server(false)
            .build_client(false)
            .derive("Eq")
            .type_attribute("SendMessage", "#[non_exhaustive]")
            .type_attribute("SendMessage", "#[serde(deny_unknown_fields)]")
            .type_attribute(".", "#[doc(alias = \"payload\")]"),
    );
    let items = chat_items(&text);
    let send_message = type_attributes(&items, "SendMessage").join("\n");
    let echo = type_attributes(&items, "Echo").join("\n");
    let mode = type_attributes(&items, "FailMode").join("\n");
    for attrs in [&send_message, &echo, &mode] {
        // One derive list, extended (not a second `#[derive]`).
        assert_eq!(attrs.matches("derive").count(), 1, "{attrs}");
    }
    for name in ["SendMessage", "Echo", "FailMode"] {
        let derives = derives(&items, name);
        assert!(derives.iter().any(|d| d == "Eq"), "{name}: {derives:?}");
        assert!(
            derives.iter().any(|d| d == "PartialEq"),
            "{name}: {derives:?}"
        );
    }
    assert!(send_message.contains("non_exhaustive"), "{send_message}");
    assert!(
        send_message.contains("deny_unknown_fields"),
        "{send_message}"
    );
    assert!(
        !echo.contains("non_exhaustive"),
        "only the named type: {echo}"
    );
    // `"."` is every struct and enum; aliases such as `Room` take no
    // attributes.
    let without: Vec<String> = items
        .iter()
        .filter_map(|item| match item {
            syn::Item::Struct(s) => (!has_doc_alias(&s.attrs)).then(|| s.ident.to_string()),
            syn::Item::Enum(e) => (!has_doc_alias(&e.attrs)).then(|| e.ident.to_string()),
            _ => None,
        })
        .collect();
    assert!(
        without.is_empty(),
        "types without the `.` attribute: {without:?}"
    );
    assert!(text.contains("pub type Room = ::std::string::String;"));
}

/// The paths in the `#[derive(..)]` of the struct or enum `name`.
fn derives(items: &[syn::Item], name: &str) -> Vec<String> {
    let attrs = items
        .iter()
        .find_map(|item| match item {
            syn::Item::Struct(s) if s.ident == name => Some(&s.attrs),
            syn::Item::Enum(e) if e.ident == name => Some(&e.attrs),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no type {name}"));
    attrs
        .iter()
        .filter(|a| a.path().is_ident("derive"))
        .flat_map(|a| {
            a.parse_args_with(
                syn::punctuated::Punctuated::<syn::Path, syn::Token![,]>::parse_terminated,
            )
            .unwrap()
        })
        .map(|p| p.to_token_stream().to_string())
        .collect()
}

fn has_doc_alias(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.to_token_stream()
            .to_string()
            .contains("alias = \"payload\"")
    })
}

/// The message of the error compiling the chat spec with `builder`.
fn builder_error(builder: Builder) -> String {
    let out = tempfile::tempdir().unwrap();
    let error = builder
        .emit_rerun_if_changed(false)
        .out_dir(out.path())
        .compile(chat_path())
        .unwrap_err();
    assert!(matches!(error, Error::Builder { .. }), "{error}");
    // Nothing is written when an option is wrong.
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 0);
    error.to_string()
}

#[test]
fn options_that_cannot_work_are_errors_naming_the_option_and_the_fix() {
    let message = builder_error(Builder::new().derive("#[derive(Hash)]"));
    assert!(message.contains("derive(\"#[derive(Hash)]\")"), "{message}");
    assert!(message.contains("without `#[derive(..)]`"), "{message}");

    let message = builder_error(Builder::new().type_attribute(".", "non_exhaustive"));
    assert!(message.contains("not an attribute"), "{message}");

    let message = builder_error(Builder::new().type_attribute("SendMesage", "#[non_exhaustive]"));
    assert!(message.contains("no type named `SendMesage`"), "{message}");
    assert!(
        message.contains("SendMessage"),
        "lists the real names: {message}"
    );

    let message = builder_error(Builder::new().type_attribute("Room", "#[non_exhaustive]"));
    assert!(message.contains("`Room` is a type alias"), "{message}");

    let message = builder_error(Builder::new().module_name("chat-api"));
    assert!(
        message.contains("`chat-api` is not a Rust identifier"),
        "{message}"
    );
}

#[test]
fn a_spec_file_name_that_makes_no_module_name_says_to_choose_one() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("2024.json");
    std::fs::copy(chat_path(), &spec).unwrap();
    let error = Builder::new()
        .emit_rerun_if_changed(false)
        .out_dir(dir.path().join("out"))
        .compile(&spec)
        .unwrap_err();
    let message = error.to_string();
    assert!(message.contains("2024.json"), "{message}");
    assert!(message.contains("Builder::module_name"), "{message}");
    // The option fixes it.
    Builder::new()
        .emit_rerun_if_changed(false)
        .out_dir(dir.path().join("out"))
        .module_name("api_2024")
        .compile(&spec)
        .unwrap();
}
