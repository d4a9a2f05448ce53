//! Compiles the chat spec into `$OUT_DIR/chat.rs`, like any user's build.rs.

fn main() {
    if let Err(e) = socketspec_codegen::compile("../../spec/chat.json") {
        // cargo shows a failing build script's output: the spec's mistakes,
        // each with the file, the JSON path and the fix.
        eprintln!("{e}");
        std::process::exit(1);
    }
}
