//! The README's five-minute tour builds: its spec, `build.rs`, handler and
//! `main`, taken from README.md as they are, in a project made by
//! `socketspec init` (offline, against this workspace's crates).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::process::Command;

use support::{build_offline, workspace};

/// The first fenced block of `lang` after `heading` in `text`.
fn block_after<'a>(text: &'a str, heading: &str, lang: &str) -> &'a str {
    let start = text
        .find(heading)
        .unwrap_or_else(|| panic!("README.md has no `{heading}`"));
    let fence = format!("```{lang}\n");
    let open = start
        + text[start..]
            .find(&fence)
            .unwrap_or_else(|| panic!("no ```{lang} block after `{heading}`"))
        + fence.len();
    let close = open + text[open..].find("```").unwrap();
    &text[open..close]
}

#[test]
fn the_readme_tour_builds() {
    let readme = std::fs::read_to_string(workspace().join("README.md")).unwrap();
    let spec = block_after(&readme, "**1. Write a spec**", "json");
    let build_rs = block_after(&readme, "**2. Generate code in `build.rs`**", "rust");
    let handler = block_after(&readme, "**3. Implement the generated trait.**", "rust");
    let main = block_after(&readme, "**4. Run it:**", "rust");

    let tmp = tempfile::tempdir().unwrap();
    let project = tmp.path().join("tour");
    let init = Command::new(env!("CARGO_BIN_EXE_socketspec"))
        .args(["init", project.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    std::fs::write(project.join("spec/chat.json"), spec).unwrap();
    std::fs::write(project.join("build.rs"), build_rs).unwrap();
    std::fs::write(project.join("src/main.rs"), format!("{handler}\n{main}")).unwrap();

    let build = build_offline(&project);
    assert!(
        build.status.success(),
        "the README's tour does not build:\n{}",
        String::from_utf8_lossy(&build.stderr)
    );
}
