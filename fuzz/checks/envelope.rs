//! What the `envelope_decode` fuzz target checks on every input, shared
//! with its stable replay (`socketspec-runtime/tests/fuzz_corpus.rs`).

use socketspec_runtime::envelope::{decode, encode};

/// Decoding `data` never panics, and whatever decodes re-encodes and
/// decodes to the same envelope.
pub fn check(data: &[u8]) {
    let Ok(inbound) = decode(data) else {
        return;
    };
    let frame = match encode(&inbound.event, &inbound.payload, inbound.id.as_deref()) {
        Ok(frame) => frame,
        Err(e) => panic!("a decoded envelope did not encode: {e}"),
    };
    assert_eq!(
        decode(frame.as_bytes()).as_ref(),
        Ok(&inbound),
        "the envelope did not round-trip: {}",
        String::from_utf8_lossy(data)
    );
}
