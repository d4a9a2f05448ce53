//! Reading a fuzz target's checked-in inputs, for the stable replays in
//! `socketspec-runtime/tests/fuzz_corpus.rs` and
//! `socketspec-codegen/tests/fuzz_corpus.rs` (both crates sit next to `fuzz/`).

use std::path::{Path, PathBuf};

/// Every input file under `fuzz/<dir>` (README files aside), sorted.
pub fn inputs(dir: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz")
        .join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.file_name().is_some_and(|n| n != "README.md"))
        .collect();
    files.sort();
    files
}
