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

# The multi-node tests need a Redis (each test works under its own key
# prefix) and the `redis-server` binary (the Redis restart test starts and
# kills one of its own on another port). They use SOCKETSPEC_TEST_REDIS_URL:
# when it is not set, the machine's Redis at 127.0.0.1:6379 if one answers
# there, otherwise a throwaway redis-server started here on a free loopback
# port and stopped when this script exits.
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
answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if [ -z "${SOCKETSPEC_TEST_REDIS_URL:-}" ]; then
  if answers 6379; then
    SOCKETSPEC_TEST_REDIS_URL="redis://127.0.0.1:6379"
  else
    port=""
    for candidate in $(shuf -i 20000-60000 -n 50); do
      if ! answers "$candidate"; then port="$candidate"; break; fi
    done
    if [ -z "$port" ]; then
      echo "scripts/test.sh: found no free loopback port for a throwaway redis-server" >&2
      exit 1
    fi
    redis_dir="$(mktemp -d)"
    redis-server --bind 127.0.0.1 --port "$port" --save "" --appendonly no \
      --dir "$redis_dir" --logfile "$redis_dir/redis.log" &
    redis_pid=$!
    trap 'kill "$redis_pid" 2>/dev/null; wait "$redis_pid" 2>/dev/null; rm -rf "$redis_dir"' EXIT
    for _ in $(seq 50); do answers "$port" && break; sleep 0.1; done
    if ! answers "$port"; then
      echo "scripts/test.sh: the throwaway redis-server did not start on port $port:" >&2
      cat "$redis_dir/redis.log" >&2
      exit 1
    fi
    echo "scripts/test.sh: no Redis at 127.0.0.1:6379; started a throwaway redis-server on 127.0.0.1:$port for this run"
    SOCKETSPEC_TEST_REDIS_URL="redis://127.0.0.1:$port"
  fi
fi
export SOCKETSPEC_TEST_REDIS_URL
echo "scripts/test.sh: the multi-node tests use Redis at $SOCKETSPEC_TEST_REDIS_URL"

# Build both chat servers once up front so the end-to-end tests start them
# quickly (the harness uses a binary that exists as it is).
cargo build -p chat-example --bin chat-server --bin chat-axum

# Property tests run a fixed set of cases, so a run is reproducible; search
# for new ones with a random seed (docs/reliability.md, "Fuzzing").
export PROPTEST_RNG_SEED="${PROPTEST_RNG_SEED:-20261128}"
echo "scripts/test.sh: property tests use PROPTEST_RNG_SEED=$PROPTEST_RNG_SEED"

cargo test --workspace --all-targets --no-fail-fast "$@"
cargo test --workspace --doc
