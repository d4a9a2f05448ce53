//! A spec with a mistake fails `cargo build` of the project that compiles
//! it, with a message that names the file, the JSON path and the fix.
//!
//! Builds a project made by `socketspec init` (offline, against this
//! workspace's crates) in `target/init-project`, the target directory the
//! `init` test uses too, so compiled dependencies are shared.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::{Value, json};

#[test]
fn a_spec_mistake_fails_cargo_build_with_file_path_and_fix() {
    let tmp = tempfile::tempdir().unwrap();
    let project = tmp.path().join("broken");
    let init = Command::new(env!("CARGO_BIN_EXE_socketspec"))
        .args(["init", project.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );

    // Two mistakes: a reserved event name, and a broadcast to a room
    // pattern the spec does not declare.
    let spec_path = project.join("spec/api.json");
    let mut spec: Value =
        serde_json::from_str(&std::fs::read_to_string(&spec_path).unwrap()).unwrap();
    spec["events"]["__ping__"] = json!({});
    spec["events"]["hello"]["broadcasts"] =
        json!({"waved": {"room": "rooom:{room}", "payload": {"type": "object"}}});
    std::fs::write(&spec_path, serde_json::to_string_pretty(&spec).unwrap()).unwrap();

    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/init-project");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let build = Command::new(cargo)
        .args(["build", "--offline"])
        .current_dir(&project)
        .env("CARGO_TARGET_DIR", &target)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&build.stderr);
    assert!(!build.status.success(), "the build must fail:\n{stderr}");
    for expected in [
        "error: spec/api.json: at `events.__ping__`: `__ping__` is a reserved name",
        "error: spec/api.json: at `events.hello.broadcasts.waved.room`: broadcast to room pattern `rooom:{room}`, which is not declared under `rooms`",
        "fix: declare it under `rooms`, or use one of `lobby`, `room:{room}`",
        "2 errors in the spec",
    ] {
        assert!(
            stderr.contains(expected),
            "missing {expected:?} in:\n{stderr}"
        );
    }
    assert!(
        !stderr.contains("panicked"),
        "a spec error is not a panic:\n{stderr}"
    );
}
