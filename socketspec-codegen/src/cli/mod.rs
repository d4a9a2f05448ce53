//! The `socketspec` command line: check a spec, write its docs page, its
//! AsyncAPI document or a client, and start a new project.
//!
//! Exit codes: 0 success, 1 a bad spec or a failed write (the message says
//! which), 2 a usage mistake (clap's own).

mod init;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use heck::ToSnakeCase;
use socketspec_codegen::emit::{asyncapi, docs, typescript};
use socketspec_codegen::{Builder, Error, Model};

/// Schema-first WebSockets: one spec file, typed Rust and TypeScript, docs and
/// AsyncAPI.
#[derive(Debug, Parser)]
#[command(name = "socketspec", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Validate a spec; print every mistake (file, JSON path, fix) and exit 1
    /// if there is any.
    Check {
        /// The spec file (JSON).
        spec: PathBuf,
    },
    /// Write the docs page: one self-contained HTML file with a try-it
    /// console.
    Docs {
        /// The spec file (JSON).
        spec: PathBuf,
        /// Where to write the page (standard output when absent or `-`).
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// The WebSocket path the console uses when the page is served over
        /// HTTP.
        #[arg(long, value_name = "PATH", default_value = "/ws")]
        ws_path: String,
        /// The WebSocket URL the console starts with when the page is opened
        /// from a file.
        #[arg(long, value_name = "URL", default_value = "ws://localhost:8080/ws")]
        ws_url: String,
    },
    /// Write the AsyncAPI 3.0 document (JSON, or YAML with --yaml).
    Asyncapi {
        /// The spec file (JSON).
        spec: PathBuf,
        /// Where to write it (standard output when absent or `-`).
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// YAML instead of JSON.
        #[arg(long)]
        yaml: bool,
    },
    /// Write a typed client: TypeScript (browsers and Node) or Rust.
    Client {
        /// The client's language.
        #[arg(long, value_enum)]
        lang: Lang,
        /// The spec file (JSON).
        spec: PathBuf,
        /// Where to write it (standard output when absent or `-`).
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// The Rust module's name (default: the output file's stem, else the
        /// spec's).
        #[arg(long, value_name = "NAME")]
        module: Option<String>,
    },
    /// Create a new project: a spec, build.rs, Cargo.toml and a main.rs that
    /// implements the generated trait; `cargo run` starts it.
    Init {
        /// The directory to create (it must not exist, or be empty).
        dir: PathBuf,
        /// The package name (default: the directory's name).
        #[arg(long)]
        name: Option<String>,
        /// The socketspec checkout the project's path dependencies point at
        /// (default: the one this binary was built from).
        #[arg(long, value_name = "DIR")]
        socketspec_path: Option<PathBuf>,
    },
}

/// A client language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Lang {
    /// TypeScript, for browsers and Node.
    Ts,
    /// Rust: the generated module (types, client, handler trait).
    Rust,
}

/// Runs the command line.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command) -> Result<(), String> {
    match command {
        Command::Check { spec } => {
            let model = load(&spec)?;
            println!(
                "{}: ok ({} events, {} server events, {} rooms)",
                spec.display(),
                model.events.len(),
                model.server_events.len(),
                model.rooms.len()
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
            let options = docs::DocsOptions {
                ws_path,
                file_ws_url: ws_url,
            };
            let html = docs::render_with(&model, &options).map_err(|e| e.to_string())?;
            emit(output.as_deref(), &html, "docs page")
        }
        Command::Asyncapi { spec, output, yaml } => {
            let model = load(&spec)?;
            let text = if yaml {
                asyncapi::to_yaml(&model)
            } else {
                asyncapi::to_json(&model).map(|mut s| {
                    s.push('\n');
                    s
                })
            }
            .map_err(|e| e.to_string())?;
            emit(output.as_deref(), &text, "AsyncAPI document")
        }
        Command::Client {
            lang,
            spec,
            output,
            module,
        } => {
            let model = load(&spec)?;
            let text = match lang {
                Lang::Ts => typescript::render(&model),
                Lang::Rust => {
                    let module = module.unwrap_or_else(|| {
                        let from = output
                            .as_deref()
                            .filter(|p| *p != Path::new("-"))
                            .unwrap_or(&spec);
                        module_name(from)
                    });
                    Builder::new().quiet(true).render(&model, &module)
                }
            }
            .map_err(|e| e.to_string())?;
            emit(output.as_deref(), &text, "client")
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
fn emit(output: Option<&Path>, text: &str, what: &str) -> Result<(), String> {
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
