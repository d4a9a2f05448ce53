//! Replays the `spec_load` fuzz target's checked-in corpus and crash
//! reproducers (`fuzz/corpus/spec_load`, `fuzz/regressions/spec_load`)
//! through the same check the target runs, on stable Rust, in every test run.
//! Fuzzing itself needs nightly: see `docs/reliability.md`.

use std::path::{Path, PathBuf};

#[path = "../../fuzz/checks/spec.rs"]
mod spec;

/// Every input file under `fuzz/<dir>` (README files aside).
fn inputs(dir: &str) -> Vec<PathBuf> {
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

#[test]
fn the_spec_corpus_and_crash_reproducers_replay_cleanly() {
    let corpus = inputs("corpus/spec_load");
    let regressions = inputs("regressions/spec_load");
    assert!(corpus.len() >= 3, "the corpus is checked in");
    for file in corpus.iter().chain(&regressions) {
        let data = std::fs::read(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        spec::check(&data);
    }
}
