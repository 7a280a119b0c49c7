#!/usr/bin/env bash
# `make bench`: what the widget costs the demo product page in headless Chromium, against the reference server in
# demo mode, measured as issue 17 says (scripts/bench.mjs): first load (every byte the widget requests, gzip -9),
# the API's answers beside it, main-thread time with and without the widget, the longest task, wasm arrived ->
# first render, CLS and LCP, as a guest and signed in, unthrottled and at 4x CPU and 1.6 Mbps / 150 ms; then
# Lighthouse's performance score with and without the widget.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
./scripts/setup.sh
./scripts/build.sh >/dev/null
# The optimised server, as a shop runs it (its answers are part of the page's timeline).
cargo build --profile server -p loyalty-server --locked --quiet
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
work=$(mktemp -d)
# The same product page without the widget, for the side-by-side runs.
cp -r www "$work/www"
grep -v 'storefront-loyalty.js' www/product.html | sed 's|<loyalty-points[^>]*></loyalty-points>||' > "$work/www/product-without-widget.html"
LOYALTY_LISTEN="127.0.0.1:$port" LOYALTY_DATABASE_URL="sqlite://$work/demo.db" LOYALTY_STATIC_DIR="$work/www" LOYALTY_PKG_DIR=pkg \
  RUST_LOG=warn "$CARGO_TARGET_DIR/server/loyalty-server" --demo >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 300); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
# The page the targets are set for (no <loyalty-recommendations>), and it signed in as demo-gold the way a
# server-rendered shop page signs in: the identity on the tag's data-* (signed by the demo's own route, valid
# an hour, longer than a bench run).
grep -v 'loyalty-recommendations' www/product.html > "$work/www/product-without-recommendations.html"
identity=$(curl -sf "http://127.0.0.1:$port/demo/identity?customer=demo-gold")
attrs=$(node -e 'const i = JSON.parse(process.argv[1]); console.log(`data-customer-id="${i.customerId}" data-timestamp="${i.timestamp}" data-digest="${i.digest}"`)' "$identity")
sed "s|data-api-base=\"/\"|data-api-base=\"/\" $attrs|" "$work/www/product-without-recommendations.html" \
  > "$work/www/product-without-recommendations-signed-in.html"
grep -q 'data-customer-id="demo-gold"' "$work/www/product-without-recommendations-signed-in.html" || { echo "bench: could not sign the page in" >&2; exit 1; }
# A cart page held to the same budgets: the demo's page head (the tag, its stylesheet), a cart of three lines and
# its badge; no panel on the page.
lines='[{"productId":"longjing","categories":["tea","green-tea"],"unitPrice":16800,"quantity":2},{"productId":"yirgacheffe","categories":["coffee","single-origin"],"unitPrice":9800,"quantity":1},{"productId":"gaiwan","categories":["teaware"],"unitPrice":12800,"quantity":1}]'
cat > "$work/www/cart.html" <<HTML
<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>购物车 · Camellia &amp; Bean</title><link rel="icon" href="data:,"><link rel="stylesheet" href="demo.css">
<script type="module" src="/pkg/storefront-loyalty.js" data-api-base="/" data-position="bottom-left"></script></head>
<body><main><h2>购物车</h2><p><loyalty-cart-points lines='$lines'></loyalty-cart-points></p></main></body></html>
HTML
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
