//! Generates the Rust modules the end-to-end tests of the generated client
//! include with `socketspec_runtime::include_spec!`: the chat spec, and a
//! spec of the client generator's corner cases (several replies, names that
//! clash with the client's own items), and a spec whose `on_connect` hook
//! pushes to another connection.

fn main() {
    let specs = [
        "../spec/chat.json",
        "specs/client_corners.json",
        "specs/hook_push.json",
    ];
    for spec in specs {
        if let Err(e) = socketspec_codegen::compile(spec) {
            panic!("generating the client for {spec}: {e}");
        }
    }
}
