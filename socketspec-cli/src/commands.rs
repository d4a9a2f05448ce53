//! What each command does, through `socketspec-codegen`'s public API: the
//! same validation and the same outputs as a build.

use std::io::Write;
use std::path::Path;

use heck::ToSnakeCase;
use socketspec_codegen::{Builder, DocsOptions, Error, Model};

use crate::args::{Command, Lang};
use crate::init;

/// Runs one command; the error is the message to print (exit code 1).
pub(crate) fn run(command: Command) -> Result<(), String> {
    match command {
        Command::Check { spec } => {
            let model = load(&spec)?;
            println!(
                "{}: ok ({} events, {} server events, {} rooms)",
                spec.display(),
                model.event_names().len(),
                model.server_event_names().len(),
                model.room_patterns().len()
            );
            Ok(())
        }
        Command::Docs {
            spec,
            output,
            ws_path,
            ws_url,
        } => {
            let model = load(&spec)?;
            let options = DocsOptions {
                ws_path,
                file_ws_url: ws_url,
            };
            let html = model.docs_html_with(&options).map_err(|e| e.to_string())?;
            write(output.as_deref(), &html, "docs page")
        }
        Command::Asyncapi { spec, output, yaml } => {
            let model = load(&spec)?;
            let text = if yaml {
                serde_norway::to_string(&model.asyncapi())
                    .map_err(|e| format!("writing the AsyncAPI document as YAML: {e}"))?
            } else {
                let mut json = model.asyncapi_json().map_err(|e| e.to_string())?;
                json.push('\n');
                json
            };
            write(output.as_deref(), &text, "AsyncAPI document")
        }
        Command::Client {
            lang,
            spec,
            output,
            module,
        } => {
            let model = load(&spec)?;
            let text = match lang {
                Lang::Ts => model.typescript(),
                Lang::Rust => {
                    let module = module.unwrap_or_else(|| {
                        let from = output
                            .as_deref()
                            .filter(|p| *p != Path::new("-"))
                            .unwrap_or(&spec);
                        module_name(from)
                    });
                    // A client: no handler trait, no server metadata, so
                    // the crate using it needs only the runtime's `client`
                    // feature.
                    Builder::new()
                        .emit_rerun_if_changed(false)
                        .build_server(false)
                        .render(&model, &module)
                }
            }
            .map_err(|e| e.to_string())?;
            write(output.as_deref(), &text, "client")
        }
        Command::Init {
            dir,
            name,
            socketspec_path,
        } => init::run(&dir, name.as_deref(), socketspec_path.as_deref()),
    }
}

/// Loads and validates a spec; the error is the build's own message.
fn load(spec: &Path) -> Result<Model, String> {
    socketspec_codegen::check(spec).map_err(|e: Error| e.to_string())
}

/// A module name from a file name: `chat_api.rs` -> `chat_api`.
fn module_name(path: &Path) -> String {
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("api")
        .to_snake_case();
    if stem.is_empty() || stem.starts_with(|c: char| c.is_ascii_digit()) {
        format!("api_{stem}")
    } else {
        stem
    }
}

/// Writes `text` to `output`, or to standard output.
fn write(output: Option<&Path>, text: &str, what: &str) -> Result<(), String> {
    match output.filter(|p| *p != Path::new("-")) {
        Some(path) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            }
            std::fs::write(path, text)
                .map_err(|e| format!("cannot write the {what} to {}: {e}", path.display()))?;
            eprintln!("wrote the {what} to {}", path.display());
            Ok(())
        }
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(text.as_bytes())
                .and_then(|()| stdout.flush())
                .map_err(|e| format!("cannot write the {what}: {e}"))
        }
    }
}
