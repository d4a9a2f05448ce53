//! The command line's grammar: commands, arguments and their help texts
//! (clap derives the parser and `--help` from these types).

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// Schema-first WebSockets: one spec file, typed Rust and TypeScript, docs and
/// AsyncAPI.
#[derive(Debug, Parser)]
#[command(name = "socketspec", version, about, propagate_version = true)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
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
pub(crate) enum Lang {
    /// TypeScript, for browsers and Node.
    Ts,
    /// Rust: the generated module's client side (payload types, room
    /// helpers, the typed client).
    Rust,
}
