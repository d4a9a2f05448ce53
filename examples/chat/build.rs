//! Compiles the chat spec into `$OUT_DIR/chat.rs`, like any user's build.rs.
//!
//! The server's `--docs` flag serves the docs page, the spec and the AsyncAPI
//! document, so the module embeds them (`embed_documents`); a server without
//! docs routes leaves that off and its module stays small.

fn main() {
    let built = socketspec_codegen::Builder::new()
        .embed_documents(true)
        .compile("../../spec/chat.json");
    if let Err(e) = built {
        // cargo shows a failing build script's output: the spec's mistakes,
        // each with the file, the JSON path and the fix.
        eprintln!("{e}");
        std::process::exit(1);
    }
}
