#!/usr/bin/env bash
# Runs the reference server in demo mode (fresh database, free loopback port) with the demo shop and the
# release build in pkg/, and runs the end-to-end tests against it in headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
cargo build -p loyalty-server --locked --quiet
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
data=$(mktemp -d)
LOYALTY_LISTEN="127.0.0.1:$port" LOYALTY_DATABASE_URL="sqlite://$data/demo.db" LOYALTY_STATIC_DIR=www LOYALTY_PKG_DIR=pkg \
  RUST_LOG=warn "$CARGO_TARGET_DIR/debug/loyalty-server" --demo >"$data/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 300); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
curl -sf "http://127.0.0.1:$port/healthz" >/dev/null || { echo "the server did not start:"; cat "${data:-$work}/server.log"; exit 1; }
# One file at a time: the files share the demo shoppers and check their exact balances.
DEMO_URL="http://127.0.0.1:$port/" ./scripts/node-test.sh --test-concurrency=1 tests/e2e/
