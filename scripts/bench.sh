#!/usr/bin/env bash
# `make bench`: the widget's start-up cost in headless Chromium on loopback, against the reference server in
# demo mode: download sizes, time to first render, long tasks, main-thread time with and without the widget
# (side by side, medians), layout shift, and Lighthouse's performance score with and without the widget.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
./scripts/setup.sh
./scripts/build.sh >/dev/null
cargo build -p loyalty-server --locked --quiet
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
work=$(mktemp -d)
# The same product page without the widget, for the side-by-side runs.
cp -r www "$work/www"
grep -v 'storefront-loyalty.js' www/product.html | sed 's|<loyalty-points[^>]*></loyalty-points>||' > "$work/www/product-without-widget.html"
LOYALTY_LISTEN="127.0.0.1:$port" LOYALTY_DATABASE_URL="sqlite://$work/demo.db" LOYALTY_STATIC_DIR="$work/www" LOYALTY_PKG_DIR=pkg \
  RUST_LOG=warn "$CARGO_TARGET_DIR/debug/loyalty-server" --demo >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 300); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
BENCH_URL="http://127.0.0.1:$port" node scripts/bench.mjs
if [ "${LIGHTHOUSE:-1}" = 1 ]; then
  flags="--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage --disable-background-networking --disable-component-update --disable-sync --no-first-run"
  for page in product product-without-widget; do
    CHROME_PATH=/usr/bin/chromium npx --yes lighthouse@12 "http://127.0.0.1:$port/$page.html" --quiet --only-categories=performance \
      --output=json --output-path="$work/$page.json" --chrome-flags="$flags" >/dev/null 2>&1 || echo "lighthouse failed on $page"
  done
  node -e '
    const read = (p) => { try { return Math.round(require(p).categories.performance.score * 100); } catch { return NaN; } };
    const a = read(process.argv[1]), b = read(process.argv[2]);
    console.log(`Lighthouse performance (product page, mobile): with the widget ${a}, without ${b}, difference ${b - a} (budget: at most 3)`);
  ' "$work/product.json" "$work/product-without-widget.json"
fi
