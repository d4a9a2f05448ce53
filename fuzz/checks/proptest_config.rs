//! The configuration both property-test files share
//! (`socketspec-codegen/tests/prop_spec.rs`,
//! `socketspec-runtime/tests/prop_envelope.rs`).

use proptest::test_runner::{Config, FileFailurePersistence};

/// `cases` cases, or `PROPTEST_CASES` to search longer; the seed follows
/// `PROPTEST_RNG_SEED` (scripts/test.sh fixes it). A failure is saved next
/// to the test file (`<name>.regressions`) and replayed first on every
/// later run.
pub fn config(cases: u32) -> Config {
    // `Config::default()` reads the `PROPTEST_*` variables.
    let from_env = Config::default();
    Config {
        cases: if std::env::var_os("PROPTEST_CASES").is_some() {
            from_env.cases
        } else {
            cases
        },
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("regressions"))),
        ..from_env
    }
}
