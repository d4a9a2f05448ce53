//! A crate that only talks to a socketspec server: it depends on the
//! runtime with the `client` feature alone, generates with
//! `Builder::build_server(false)`, builds, and links no server code (no hyper,
//! jsonschema, jsonwebtoken or redis in its dependency tree).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .unwrap()
}

fn cargo(project: &Path, args: &[&str]) -> std::process::Output {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    Command::new(cargo)
        .args(args)
        .current_dir(project)
        .env("CARGO_TARGET_DIR", workspace().join("target/init-project"))
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn a_client_only_crate_builds_without_server_code() {
    let root = workspace();
    let tmp = tempfile::tempdir().unwrap();
    let project = tmp.path().join("chat-bot");
    std::fs::create_dir_all(project.join("src")).unwrap();
    std::fs::create_dir_all(project.join("spec")).unwrap();
    std::fs::copy(root.join("spec/chat.json"), project.join("spec/chat.json")).unwrap();
    // Start from the workspace's tested versions, so the build works offline.
    std::fs::copy(root.join("Cargo.lock"), project.join("Cargo.lock")).unwrap();
    let runtime = root.join("socketspec-runtime");
    let codegen = root.join("socketspec-codegen");
    std::fs::write(
        project.join("Cargo.toml"),
        format!(
            r#"[package]
name = "chat-bot"
version = "0.1.0"
edition = "2024"

[workspace]

[dependencies]
socketspec-runtime = {{ path = "{}", default-features = false, features = ["client"] }}
serde = {{ version = "1", features = ["derive"] }}
serde_json = "1"
tokio = {{ version = "1", features = ["rt-multi-thread", "macros"] }}

[build-dependencies]
socketspec-codegen = {{ path = "{}" }}
"#,
            runtime.display(),
            codegen.display()
        ),
    )
    .unwrap();
    std::fs::write(
        project.join("build.rs"),
        r#"fn main() {
    if let Err(e) = socketspec_codegen::Builder::new().build_server(false).compile("spec/chat.json") {
        eprintln!("{e}");
        std::process::exit(1);
    }
}
"#,
    )
    .unwrap();
    std::fs::write(
        project.join("src/main.rs"),
        r#"socketspec_runtime::include_spec!("chat");

#[tokio::main]
async fn main() {
    let url = std::env::args().nth(1).unwrap_or_else(|| "ws://127.0.0.1:8080/ws".into());
    match chat::client::Client::connect(&url).await {
        Ok(client) => {
            let reply = client.echo(chat::Echo { seq: 1.into(), data: "hi".into(), extra: Default::default() }).await;
            println!("{reply:?}");
        }
        Err(e) => eprintln!("{e}"),
    }
}
"#,
    )
    .unwrap();

    let build = cargo(&project, &["build", "--offline"]);
    assert!(
        build.status.success(),
        "the client-only crate must build:\n{}",
        String::from_utf8_lossy(&build.stderr)
    );

    let tree = cargo(
        &project,
        &["tree", "--offline", "-e", "normal", "--prefix", "none"],
    );
    assert!(
        tree.status.success(),
        "{}",
        String::from_utf8_lossy(&tree.stderr)
    );
    let tree = String::from_utf8_lossy(&tree.stdout);
    assert!(tree.contains("socketspec-runtime"), "{tree}");
    for server_only in [
        "hyper ",
        "jsonschema ",
        "jsonwebtoken ",
        "redis ",
        "prometheus ",
    ] {
        assert!(
            !tree.contains(server_only),
            "a client-only crate must not link `{}`:\n{tree}",
            server_only.trim()
        );
    }

    // The generated module has no server side.
    let generated = std::fs::read_dir(workspace().join("target/init-project/debug/build"))
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("out"))
        .filter(|out| out.join("chat.rs").is_file())
        .filter_map(|out| Some((std::fs::read_to_string(out.join("chat.rs")).ok()?, out)))
        .find(|(text, _)| !text.contains("pub trait Handler"));
    let Some((text, out)) = generated else {
        panic!("no client-only chat.rs was generated");
    };
    assert!(text.contains("pub mod client"), "{text}");
    // The documents belong to the server side: none is written or embedded.
    assert!(!out.join("chat.docs.html").exists());
    assert!(!text.contains("include_str!"));
}
