#!/usr/bin/env bash
# `make bench-recs`: the recommender's speed side by side: the wasm build and a plain JavaScript version of the
# same ranking in headless Chromium, and the native build, over synthetic catalogs of 1,000, 10,000 and 100,000
# products (top 10 for a shopper with 200 history events; index building from the catalog's JSON).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
./scripts/setup.sh
./scripts/build.sh >/dev/null
cargo build -p loyalty-server --locked --quiet
echo "native (cargo run --release -p loyalty-core --example bench_recs)"
cargo run --release --locked --quiet -p loyalty-core --example bench_recs
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
work=$(mktemp -d)
cp -r www "$work/www"
cp -r scripts/bench-recs "$work/www/bench-recs"
LOYALTY_LISTEN="127.0.0.1:$port" LOYALTY_DATABASE_URL="sqlite://$work/demo.db" LOYALTY_STATIC_DIR="$work/www" LOYALTY_PKG_DIR=pkg \
  RUST_LOG=warn "$CARGO_TARGET_DIR/debug/loyalty-server" --demo >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 300); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
BENCH_URL="http://127.0.0.1:$port" node scripts/bench-recs.mjs
