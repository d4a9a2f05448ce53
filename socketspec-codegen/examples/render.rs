//! Prints the Rust module generated for a spec: `cargo run --example render -- SPEC`.

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: render SPEC");
        std::process::exit(2);
    };
    match socketspec_codegen::Builder::new()
        .emit_rerun_if_changed(false)
        .out_dir(std::env::temp_dir())
        .compile(&path)
    {
        Ok(generated) => match std::fs::read_to_string(&generated.rust_file) {
            Ok(text) => print!("{text}"),
            Err(e) => eprintln!("{e}"),
        },
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}
