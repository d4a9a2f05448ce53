//! # socketspec-cli
//!
//! The `socketspec` command line: check a spec, write its docs page, its
//! AsyncAPI document or a client, and start a new project. It is a thin
//! layer over `socketspec-codegen`'s public API, kept in its own crate so
//! that build scripts, which depend on the code generator, never compile a
//! command-line parser.
//!
//! ```text
//! socketspec check SPEC
//! socketspec docs SPEC [-o page.html] [--ws-url URL] [--ws-path PATH]
//! socketspec asyncapi SPEC [-o FILE] [--yaml]
//! socketspec client --lang ts|rust SPEC [-o FILE] [--module NAME]
//! socketspec init DIR [--name NAME] [--socketspec-path DIR]
//! ```
//!
//! Install it from a checkout with `cargo install --path socketspec-cli`.
//!
//! Exit codes: 0 success, 1 a bad spec or a failed write (the message says
//! which), 2 a usage mistake (clap's own).
//!
//! The binary is [`run`] over the process's arguments; tools can call it
//! too:
//!
//! ```
//! use std::process::ExitCode;
//!
//! // Prints "../spec/chat.json: ok (8 events, 7 server events, 3 rooms)".
//! let code = socketspec_cli::run(["socketspec", "check", "../spec/chat.json"]);
//! assert_eq!(code, ExitCode::SUCCESS);
//! let code = socketspec_cli::run(["socketspec", "check", "no/such/spec.json"]);
//! assert_eq!(code, ExitCode::FAILURE);
//! ```

mod args;
mod commands;
mod init;

/// The guide to the docs page, the AsyncAPI export, the `Builder` and this
/// command line (`docs/guide-docs-asyncapi-cli.md`), included here so that
/// its Rust snippets compile as doctests and cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../../docs/guide-docs-asyncapi-cli.md")]
pub struct GuideDocsAsyncapiCli;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;

/// Runs the command line on `args` (the program's name first, as
/// [`std::env::args_os`] gives them) and returns the exit code; messages go
/// to standard error, output to standard output or the `-o` file.
pub fn run<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match args::Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            // `--help` and `--version` are "errors" that print to standard
            // output and exit 0; usage mistakes print to standard error and
            // exit 2.
            let _ = e.print();
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
        }
    };
    match commands::run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}
