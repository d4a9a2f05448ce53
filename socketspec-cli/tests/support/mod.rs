//! What the CLI's project tests share: building a generated project offline
//! against this workspace's crates.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The workspace's root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `cargo build --offline --quiet` in `project`, with `target/init-project`
/// under the workspace as its target directory, so compiled dependencies
/// are reused from one run (and one test) to the next.
pub fn build_offline(project: &Path) -> Output {
    let target = workspace().join("target").join("init-project");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    Command::new(cargo)
        .args(["build", "--offline", "--quiet"])
        .current_dir(project)
        .env("CARGO_TARGET_DIR", &target)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("running cargo: {e}"))
}
