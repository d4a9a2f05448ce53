//! The `socketspec` command line: `check`, `docs`, `asyncapi`, `client`,
//! and the exit codes (0 ok, 1 a bad spec or failed write, 2 usage).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn chat_spec() -> PathBuf {
    workspace().join("spec/chat.json")
}

fn socketspec(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_socketspec"))
        .args(args)
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

const BAD_SPEC: &str = r#"{
  "socketspec": "1",
  "info": {"title": "Bad", "version": "1"},
  "rooms": {"chat:{room}": {}},
  "events": {
    "__ping__": {},
    "post": {
      "payload": {"type": "object", "properties": {"n": {"type": "integr"}}},
      "broadcasts": {"posted": {"room": "chat:{rom}"}}
    }
  }
}"#;

#[test]
fn check_accepts_the_chat_spec() {
    let o = socketspec(&["check", path_str(&chat_spec())]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("ok (9 events, 10 server events, 3 rooms)"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn check_reports_the_builds_own_errors_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("bad.json");
    std::fs::write(&spec, BAD_SPEC).unwrap();
    let o = socketspec(&["check", path_str(&spec)]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let expected = socketspec_codegen::check(&spec).unwrap_err().to_string();
    assert_eq!(stderr(&o).trim_end(), expected.trim_end());
    // The message names the file, the JSON path and the fix of each mistake.
    let err = stderr(&o);
    assert!(err.contains("bad.json: at `events.__ping__`"), "{err}");
    assert!(err.contains("fix:"), "{err}");
    assert!(
        err.contains("errors in the spec"),
        "several mistakes at once: {err}"
    );
    assert!(stdout(&o).is_empty());
    // Every other command refuses the spec the same way.
    for cmd in [
        vec!["docs", path_str(&spec)],
        vec!["asyncapi", path_str(&spec)],
        vec!["client", "--lang", "rust", path_str(&spec)],
    ] {
        let o = socketspec(&cmd);
        assert_eq!(o.status.code(), Some(1), "{cmd:?}");
        assert_eq!(stderr(&o).trim_end(), expected.trim_end(), "{cmd:?}");
    }
}

#[test]
fn check_reports_a_missing_file() {
    let o = socketspec(&["check", "/nonexistent/spec.json"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("/nonexistent/spec.json"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn usage_mistakes_exit_2() {
    for args in [
        vec![],
        vec!["frobnicate"],
        vec!["check"],
        vec!["client", "--lang", "cobol", "spec.json"],
        vec!["asyncapi", "spec.json", "--xml"],
    ] {
        let o = socketspec(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
    }
    let o = socketspec(&["--help"]);
    assert_eq!(o.status.code(), Some(0));
    for cmd in ["check", "docs", "asyncapi", "client", "init"] {
        assert!(stdout(&o).contains(cmd), "help lists {cmd}");
    }
}

#[test]
fn docs_writes_the_page() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("public/chat.html");
    let o = socketspec(&["docs", path_str(&chat_spec()), "-o", path_str(&out)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let model = socketspec_codegen::check(chat_spec()).unwrap();
    let page = std::fs::read_to_string(&out).unwrap();
    assert_eq!(page, model.docs_html().unwrap());
    // To standard output, with other console defaults.
    let o = socketspec(&[
        "docs",
        path_str(&chat_spec()),
        "--ws-url",
        "wss://example.test/live",
        "--ws-path",
        "/live",
    ]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("value=\"wss://example.test/live\""));
    assert!(stdout(&o).contains("\"wsPath\":\"/live\""));
}

#[test]
fn asyncapi_writes_json_or_yaml() {
    let model = socketspec_codegen::check(chat_spec()).unwrap();
    let expected = model.asyncapi();

    let o = socketspec(&["asyncapi", path_str(&chat_spec())]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let json: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(json, expected);

    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("asyncapi.yaml");
    let o = socketspec(&[
        "asyncapi",
        path_str(&chat_spec()),
        "--yaml",
        "-o",
        path_str(&out),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.starts_with("asyncapi: 3.0.0\n"), "{text:.60}");
    let yaml: Value = serde_norway::from_str(&text).unwrap();
    assert_eq!(yaml, expected);
}

#[test]
fn client_rust_writes_the_generated_module() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("chat_api.rs");
    let o = socketspec(&[
        "client",
        "--lang",
        "rust",
        path_str(&chat_spec()),
        "-o",
        path_str(&out),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = std::fs::read_to_string(&out).unwrap();
    let file = syn::parse_file(&text).unwrap_or_else(|e| panic!("not Rust: {e}"));
    let module = file.items.iter().find_map(|item| match item {
        syn::Item::Mod(m) => Some(m.ident.to_string()),
        _ => None,
    });
    assert_eq!(
        module.as_deref(),
        Some("chat_api"),
        "named after the output file"
    );
    assert!(text.contains("Client"), "the module has the typed client");
    // A client: no server side, so it builds against the runtime's `client`
    // feature alone.
    assert!(!text.contains("trait Handler"), "no server side");
    assert!(!text.contains("AppMeta"), "no server metadata");
    let o = socketspec(&[
        "client",
        "--lang",
        "rust",
        path_str(&chat_spec()),
        "--module",
        "api",
    ]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("pub mod api"), "--module names it");
}

#[test]
fn client_ts_writes_the_typescript_client() {
    let model = socketspec_codegen::check(chat_spec()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("chat.ts");
    let o = socketspec(&[
        "client",
        "--lang",
        "ts",
        path_str(&chat_spec()),
        "-o",
        path_str(&out),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = std::fs::read_to_string(&out).unwrap();
    assert_eq!(text, model.typescript().unwrap());
    assert!(text.contains("sendMessage"), "one method per event");
}
