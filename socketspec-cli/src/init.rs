//! `socketspec init DIR`: a new project that builds and runs.
//!
//! It writes `Cargo.toml` (path dependencies on this socketspec checkout),
//! `build.rs`, `spec/api.json`, `src/main.rs` (a server implementing the
//! generated trait, docs on) and copies socketspec's `Cargo.lock`, so the new
//! project starts from the dependency versions socketspec is tested with.

use std::path::{Path, PathBuf};

use askama::Template;

/// The spec file the project starts with, under `spec/`.
const SPEC_FILE: &str = "api.json";
/// The generated module's name (the spec's stem).
const MODULE: &str = "api";

#[derive(Template)]
#[template(path = "init/Cargo.toml.txt", escape = "none")]
struct CargoToml<'a> {
    name: &'a str,
    runtime_path: &'a str,
    codegen_path: &'a str,
}

#[derive(Template)]
#[template(path = "init/build.rs.txt", escape = "none")]
struct BuildRs<'a> {
    spec_file: &'a str,
    module: &'a str,
}

#[derive(Template)]
#[template(path = "init/api.json.txt", escape = "none")]
struct SpecJson {
    title_json: String,
}

#[derive(Template)]
#[template(path = "init/main.rs.txt", escape = "none")]
struct MainRs<'a> {
    name: &'a str,
    spec_file: &'a str,
    module: &'a str,
}

#[derive(Template)]
#[template(path = "init/README.md.txt", escape = "none")]
struct Readme<'a> {
    name: &'a str,
    spec_file: &'a str,
}

/// Creates the project in `dir`.
pub(crate) fn run(dir: &Path, name: Option<&str>, socketspec: Option<&Path>) -> Result<(), String> {
    if dir.exists() {
        let mut entries =
            std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
        if entries.next().is_some() {
            return Err(format!(
                "{} already exists and is not empty: choose a new directory",
                dir.display()
            ));
        }
    }
    let root = socketspec_root(socketspec)?;
    let dir_name = dir
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("socketspec-app");
    let name = package_name(name.unwrap_or(dir_name));
    let runtime = toml_string(&root.join("socketspec-runtime"));
    let codegen = toml_string(&root.join("socketspec-codegen"));
    let title = title_case(&name);

    let render_error = |e: askama::Error| format!("rendering the project files: {e}");
    let files: Vec<(PathBuf, String)> = vec![
        (
            dir.join("Cargo.toml"),
            CargoToml {
                name: &name,
                runtime_path: &runtime,
                codegen_path: &codegen,
            }
            .render()
            .map_err(render_error)?,
        ),
        (
            dir.join("build.rs"),
            BuildRs {
                spec_file: SPEC_FILE,
                module: MODULE,
            }
            .render()
            .map_err(render_error)?,
        ),
        (
            dir.join("spec").join(SPEC_FILE),
            SpecJson {
                title_json: serde_json::Value::String(title).to_string(),
            }
            .render()
            .map_err(render_error)?,
        ),
        (
            dir.join("src").join("main.rs"),
            MainRs {
                name: &name,
                spec_file: SPEC_FILE,
                module: MODULE,
            }
            .render()
            .map_err(render_error)?,
        ),
        (
            dir.join("README.md"),
            Readme {
                name: &name,
                spec_file: SPEC_FILE,
            }
            .render()
            .map_err(render_error)?,
        ),
        (dir.join(".gitignore"), "/target\n".to_owned()),
    ];
    for (path, text) in &files {
        let mut text = text.clone();
        if !text.ends_with('\n') {
            text.push('\n');
        }
        write_new(path, &text)?;
    }
    let lock = root.join("Cargo.lock");
    if lock.is_file() {
        std::fs::copy(&lock, dir.join("Cargo.lock"))
            .map_err(|e| format!("cannot copy {}: {e}", lock.display()))?;
    }
    println!("created {} ({name})", dir.display());
    println!("  spec/{SPEC_FILE}    the API: events, payload schemas, rooms");
    println!("  build.rs         compiles the spec into the `{MODULE}` module");
    println!("  src/main.rs      the server: implements `{MODULE}::Handler`");
    println!();
    println!("next: cd {} && cargo run", dir.display());
    println!("then open /socket-docs on the address it prints");
    Ok(())
}

/// The socketspec checkout: `--socketspec-path`, else the one this binary
/// was built from.
fn socketspec_root(explicit: Option<&Path>) -> Result<PathBuf, String> {
    let root = match explicit {
        Some(path) => path.to_owned(),
        None => Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .map(Path::to_owned)
            .ok_or("cannot locate the socketspec checkout: pass --socketspec-path")?,
    };
    let root = root.canonicalize().map_err(|e| {
        format!(
            "cannot use {} as the socketspec checkout: {e}; pass --socketspec-path DIR",
            root.display()
        )
    })?;
    for krate in ["socketspec-runtime", "socketspec-codegen"] {
        if !root.join(krate).join("Cargo.toml").is_file() {
            return Err(format!(
                "{} has no {krate}/Cargo.toml: pass --socketspec-path with the socketspec checkout",
                root.display()
            ));
        }
    }
    Ok(root)
}

/// A valid package name: lowercase letters, digits, `-` and `_`, starting
/// with a letter.
fn package_name(raw: &str) -> String {
    let mut name: String = raw
        .trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    name = name.trim_matches('-').to_owned();
    if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        name = format!("app-{name}").trim_end_matches('-').to_owned();
    }
    name
}

/// `my-chat_app` -> `My Chat App`.
fn title_case(name: &str) -> String {
    name.split(['-', '_'])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            match chars.next() {
                Some(first) => first.to_uppercase().chain(chars).collect::<String>(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A path as the inside of a TOML basic string.
fn toml_string(path: &Path) -> String {
    path.display()
        .to_string()
        .replace('\\', "/")
        .replace('"', "\\\"")
}

fn write_new(path: &Path, text: &str) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_names_are_valid() {
        assert_eq!(package_name("My Chat"), "my-chat");
        assert_eq!(package_name("42"), "app-42");
        assert_eq!(package_name("ok_name"), "ok_name");
        assert_eq!(title_case("my-chat_app"), "My Chat App");
    }
}
