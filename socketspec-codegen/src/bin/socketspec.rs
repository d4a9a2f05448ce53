//! The `socketspec` command line:
//!
//! ```text
//! socketspec check SPEC
//! socketspec docs SPEC [-o page.html]
//! socketspec asyncapi SPEC [-o FILE] [--yaml]
//! socketspec client --lang ts|rust SPEC [-o FILE]
//! socketspec init DIR
//! ```
//!
//! Install it with `cargo install --path socketspec-codegen`.

#[path = "../cli/mod.rs"]
mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
