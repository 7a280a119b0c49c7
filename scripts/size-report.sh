#!/usr/bin/env bash
# Prints what a shopper downloads for the widget (release build in pkg/), raw and gzipped (-9).
set -euo pipefail
cd "$(dirname "$0")/.."
wasm=pkg/storefront_loyalty_bg.wasm
glue=pkg/storefront_loyalty.js
for f in "$wasm" "$glue"; do
  [ -f "$f" ] || { echo "missing $f: run wasm-pack build --target web --release first"; exit 1; }
done
gz() { gzip -9 -c "$1" | wc -c; }
wasm_raw=$(wc -c < "$wasm")
wasm_gz=$(gz "$wasm")
glue_raw=$(wc -c < "$glue")
glue_gz=$(gz "$glue")
printf 'size report (release, gzip -9)\n'
printf '  %-28s %8s bytes raw  %8s bytes gzipped\n' "wasm" "$wasm_raw" "$wasm_gz"
printf '  %-28s %8s bytes raw  %8s bytes gzipped\n' "JS glue" "$glue_raw" "$glue_gz"
printf '  %-28s %8s bytes raw  %8s bytes gzipped\n' "total" "$((wasm_raw + glue_raw))" "$((wasm_gz + glue_gz))"
