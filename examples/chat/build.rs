//! Compiles the chat spec (namespace `/`) and the ops spec (namespace
//! `/ops`) into `$OUT_DIR/chat.rs` and `$OUT_DIR/ops.rs`, like any user's
//! build.rs.
//!
//! The server's `--docs` flag serves the docs page, the spec and the AsyncAPI
//! document of each, so the modules embed them (`embed_documents`); a server
//! without docs routes leaves that off and its modules stay small.

fn main() {
    for spec in ["../../spec/chat.json", "../../spec/ops.json"] {
        let built = socketspec_codegen::Builder::new()
            .embed_documents(true)
            .compile(spec);
        if let Err(e) = built {
            // cargo shows a failing build script's output: the spec's mistakes,
            // each with the file, the JSON path and the fix.
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}
