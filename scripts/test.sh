#!/usr/bin/env bash
# Runs socketspec's whole test suite: unit, doc, end-to-end (real WebSockets
# against the chat server) and compile-fail tests.
#
# It sets up what the tests need by itself and says clearly what is missing
# when it cannot.
set -euo pipefail
cd "$(dirname "$0")/.."

need() {
  if ! command -v "$1" >/dev/null 2>&1; then
    echo "scripts/test.sh: '$1' is required but not installed: $2" >&2
    exit 1
  fi
}
need cargo "install Rust with rustup (https://rustup.rs)"

# Build the chat server once up front so the end-to-end tests start it quickly.
cargo build -p chat-example --bin chat-server

cargo test --workspace --all-targets "$@"
cargo test --workspace --doc
