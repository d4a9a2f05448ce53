//! `cargo +nightly fuzz run spec_load`: spec loading, validation and code
//! generation on arbitrary text.

#![no_main]

use std::sync::Once;

use libfuzzer_sys::fuzz_target;

#[path = "../checks/spec.rs"]
mod spec;

static QUIET: Once = Once::new();

fuzz_target!(|data: &[u8]| {
    // libfuzzer-sys's panic hook aborts at once, before `catch_unwind` can
    // run; the code generator catches typify's panics on purpose and turns
    // them into spec errors. A panic that escapes still aborts: the fuzz
    // harness aborts on any unwinding out of this closure.
    QUIET.call_once(|| std::panic::set_hook(Box::new(|_| {})));
    spec::check(data);
});
