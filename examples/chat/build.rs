//! Compiles the chat spec into `$OUT_DIR/chat.rs`, like any user's build.rs.

fn main() {
    socketspec_codegen::compile("../../spec/chat.json").unwrap();
}
