//! Replays the `envelope_decode` fuzz target's checked-in corpus and crash
//! reproducers (`fuzz/corpus/envelope_decode`, `fuzz/regressions/envelope_decode`)
//! through the same check the target runs, on stable Rust, in every test run.
//! Fuzzing itself needs nightly: see `docs/reliability.md`.

#[path = "../../fuzz/checks/corpus.rs"]
mod corpus;
#[path = "../../fuzz/checks/envelope.rs"]
mod envelope;

use corpus::inputs;

#[test]
fn the_envelope_corpus_and_crash_reproducers_replay_cleanly() {
    let corpus = inputs("corpus/envelope_decode");
    let regressions = inputs("regressions/envelope_decode");
    assert!(corpus.len() >= 15, "the corpus is checked in");
    for file in corpus.iter().chain(&regressions) {
        let data = std::fs::read(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        envelope::check(&data);
    }
}
