//! The `socketspec` binary: see the `socketspec_cli` library for the
//! commands.

fn main() -> std::process::ExitCode {
    socketspec_cli::run(std::env::args_os())
}
