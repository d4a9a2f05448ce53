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

# The TypeScript client tests (tests/tests/typescript_client.rs) compile with
# the TypeScript pinned in tests/ts/package-lock.json and run with Node 20+.
need node "install Node.js 20 or later with npm (e.g. apt-get install nodejs npm)"
need npm "install npm (e.g. apt-get install npm)"
if [ tests/ts/package-lock.json -nt tests/ts/node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --prefix tests/ts
fi

# The docs page's browser test (tests/tests/docs_browser.rs) drives Debian's
# Chromium with playwright-core, and the AsyncAPI export is validated against
# the official schema from @asyncapi/specs: both pinned in
# tests/browser/package-lock.json.
if [ tests/browser/package-lock.json -nt tests/browser/node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --prefix tests/browser
fi
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$CHROMIUM" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "scripts/test.sh: installing Debian's chromium and chromium-driver for the docs browser test"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver
  else
    echo "scripts/test.sh: the docs browser test needs Chromium at $CHROMIUM:" \
      "install it (as root: apt-get install -y chromium chromium-driver) or set CHROMIUM" >&2
    exit 1
  fi
fi
export CHROMIUM

# The multi-node tests use Redis at 127.0.0.1:6379 (each under its own key
# prefix); the Redis restart test starts and kills a `redis-server` of its
# own on another port, so the binary must be on PATH.
if ! command -v redis-server >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "scripts/test.sh: installing Debian's redis-server for the multi-node tests"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server
  else
    echo "scripts/test.sh: the multi-node tests need redis-server:" \
      "install it (as root: apt-get install -y redis-server)" >&2
    exit 1
  fi
fi
if ! (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; then
  echo "scripts/test.sh: starting redis-server on 127.0.0.1:6379 for the multi-node tests"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null && break
    sleep 0.2
  done
fi

# Build both chat servers once up front so the end-to-end tests start them
# quickly (the harness uses a binary that exists as it is).
cargo build -p chat-example --bin chat-server --bin chat-axum

# Property tests run a fixed set of cases, so a run is reproducible; search
# for new ones with a random seed (docs/reliability.md, "Fuzzing").
export PROPTEST_RNG_SEED="${PROPTEST_RNG_SEED:-20261128}"
echo "scripts/test.sh: property tests use PROPTEST_RNG_SEED=$PROPTEST_RNG_SEED"

cargo test --workspace --all-targets --no-fail-fast "$@"
cargo test --workspace --doc
