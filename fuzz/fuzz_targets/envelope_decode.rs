//! `cargo +nightly fuzz run envelope_decode`: every client message goes
//! through `envelope::decode` first.

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../checks/envelope.rs"]
mod envelope;

fuzz_target!(|data: &[u8]| envelope::check(data));
