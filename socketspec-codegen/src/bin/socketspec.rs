//! The `socketspec` command line: check a spec.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [cmd, spec] if cmd == "check" => match socketspec_codegen::check(spec) {
            Ok(model) => {
                println!(
                    "{spec}: ok ({} events, {} rooms)",
                    model.events.len(),
                    model.rooms.len()
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("{e}");
                ExitCode::FAILURE
            }
        },
        _ => {
            eprintln!("usage: socketspec check SPEC");
            ExitCode::from(2)
        }
    }
}
