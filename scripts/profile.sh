#!/usr/bin/env bash
# `make profile`: where the widget's bytes and milliseconds go. Builds the release wasm as scripts/build.sh does,
# then a profiling build of the same code with the name section kept (wasm-opt -Oz -g), and prints a twiggy
# report by item, dominator and group (scripts/profile-size.mjs), then CPU profiles of demo product-page loads
# of the release build in headless Chromium, split by phase (scripts/profile-cpu.mjs). Not part of `make test`: twiggy is installed
# here, only when it is missing. Leaves pkg/ as the release build.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
./scripts/setup.sh
if ! command -v twiggy >/dev/null 2>&1; then
  echo "[profile] installing twiggy (about 1 minute on 2 cores)"
  cargo install twiggy --locked
fi

work=$(mktemp -d)
server=
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"' EXIT

# The release build, exactly what `make bench` and the demo serve.
./scripts/build.sh >/dev/null
cp -r pkg "$work/pkg-release"
# The same cargo build without wasm-pack's wasm-opt pass, then wasm-opt ourselves: the release's flags (Cargo.toml,
# package.metadata.wasm-pack) must give the release wasm byte for byte, and the same with -g keeps the function
# names for twiggy and for the CPU profile's wasm frames.
wasm-pack build --target web --release --no-opt >/dev/null 2>&1
flags=(-Oz --converge --strip-producers --strip-target-features)
wasm-opt "${flags[@]}" pkg/storefront_loyalty_bg.wasm -o "$work/check.wasm"
if ! cmp -s "$work/check.wasm" "$work/pkg-release/storefront_loyalty_bg.wasm"; then
  echo "profile: wasm-opt ${flags[*]} here does not reproduce wasm-pack's release wasm; the item sizes would not be the release's" >&2
  exit 1
fi
wasm-opt "${flags[@]}" -g pkg/storefront_loyalty_bg.wasm -o "$work/named.wasm"
# pkg/ goes back to the release build, hashes and all.
rm -rf pkg && cp -r "$work/pkg-release" pkg

echo "== where the bytes go (twiggy 0.8 on the profiling build; sizes are the release build's) =="
twiggy top -n 1000000 -f json "$work/named.wasm" > "$work/top.json"
twiggy dominators -d 100000 -r 1000000 -f json "$work/named.wasm" > "$work/dominators.json"
node scripts/profile-size.mjs "$work/top.json" "$work/dominators.json" pkg/storefront_loyalty_bg.wasm "${ROWS:-30}"

echo
echo "== where the milliseconds go (headless Chromium, CDP Profiler and Tracing) =="
cargo build -p loyalty-server --locked --quiet
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# The demo product page as served (with recommendations), the same page without <loyalty-recommendations> (what
# a shell has to serve), and that page with no widget at all (the baseline for style, layout and GC).
cp -r www "$work/www"
grep -v 'loyalty-recommendations' www/product.html > "$work/www/product-without-recommendations.html"
grep -v 'storefront-loyalty.js' "$work/www/product-without-recommendations.html" | sed 's|<loyalty-points[^>]*></loyalty-points>||' \
  > "$work/www/product-without-widget.html"
# The release build is served and profiled; its wasm frames are named from the profiling build (same code).
LOYALTY_LISTEN="127.0.0.1:$port" LOYALTY_DATABASE_URL="sqlite://$work/demo.db" LOYALTY_STATIC_DIR="$work/www" \
  LOYALTY_PKG_DIR="$work/pkg-release" RUST_LOG=warn "$CARGO_TARGET_DIR/debug/loyalty-server" --demo >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 300); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
PROFILE_URL="http://127.0.0.1:$port" PROFILE_NAMES="$work/named.wasm" node scripts/profile-cpu.mjs
