//! Replays the `spec_load` fuzz target's checked-in corpus and crash
//! reproducers (`fuzz/corpus/spec_load`, `fuzz/regressions/spec_load`)
//! through the same check the target runs, on stable Rust, in every test run.
//! Fuzzing itself needs nightly: see `docs/reliability.md`.

#[path = "../../fuzz/checks/corpus.rs"]
mod corpus;
#[path = "../../fuzz/checks/spec.rs"]
mod spec;

use corpus::inputs;

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
