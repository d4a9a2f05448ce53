//! Compiles the chat spec into `$OUT_DIR/chat.rs` for the dispatch
//! micro-benchmark, as `examples/chat/build.rs` does, without the embedded
//! documents: the benchmarks never serve the docs routes.

fn main() {
    if let Err(e) = socketspec_codegen::compile("../spec/chat.json") {
        eprintln!("{e}");
        std::process::exit(1);
    }
}
