//! Every spec the fidelity tests run, compiled by `build.rs` into this
//! crate with nothing but `socketspec-runtime` (which proves generated code
//! needs no other dependency), each with an echo handler. The tests in
//! `tests/` say what is checked.

use std::future::Future;
use std::pin::Pin;

use socketspec_runtime::__private::serde::{Serialize, de::DeserializeOwned};
use socketspec_runtime::__private::serde_json::{self, Value};
use socketspec_runtime::testing::TestClient;

/// A test client connecting to a spec's echo server.
pub type Connecting = Pin<Box<dyn Future<Output = Result<TestClient, String>> + Send>>;

/// One compiled spec.
pub struct Compiled {
    /// Its generated module.
    pub module: &'static str,
    /// The spec file it was compiled from.
    pub source: &'static str,
    /// What it is for.
    pub kind: SpecKind,
    /// Its metadata (schemas, events).
    pub meta: &'static socketspec_runtime::meta::AppMeta,
    /// Decodes a payload of an event (client or server) into its Rust type
    /// and checks it encodes back unchanged.
    pub round_trip: fn(&str, &Value) -> Result<(), String>,
    /// The module's `check_examples`.
    pub check_examples: fn() -> Result<usize, String>,
    /// Connects a test client to a server running the echo handler.
    pub connect: fn() -> Connecting,
    /// The build's warnings (path, message).
    pub warnings: &'static [(&'static str, &'static str)],
}

/// What a compiled spec is for.
pub enum SpecKind {
    /// A spec file of `specs/`.
    File,
    /// A JSON-Schema-Test-Suite file (`file`, relative to the draft's
    /// directory) and its groups as JSON: `[{"group", "accepted",
    /// "errors": [{"path", "message", "fix"}]}]`.
    Suite {
        /// The suite file.
        file: &'static str,
        /// The groups.
        groups: &'static str,
    },
    /// Random schemas drawn from `entropy`.
    Random {
        /// The entropy.
        entropy: u64,
    },
}

/// What an echo handler sends back: the payload as its Rust type encodes
/// it, read as the `seen` server event's type.
pub fn reencode<T: Serialize, U: DeserializeOwned>(payload: &T) -> socketspec_runtime::Result<U> {
    serde_json::to_value(payload)
        .and_then(serde_json::from_value)
        .map_err(|e| socketspec_runtime::Error::handler(format!("re-encoding the payload: {e}")))
}

/// The spec compiled from the file whose name ends with `suffix`.
pub fn spec(suffix: &str) -> Option<&'static Compiled> {
    SPECS.iter().find(|s| s.source.ends_with(suffix))
}

include!(concat!(env!("OUT_DIR"), "/index.rs"));
