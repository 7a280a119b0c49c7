#!/usr/bin/env bash
# Builds the widget (release wasm, glue, elements, loader) into pkg/: the npm package and what the demo serves.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
# wasm-pack runs wasm-opt on every .wasm in pkg/: the shell's and the list's from a build before (their
# target-features section stripped, so wasm-opt could not tell which features they use) go first.
rm -f pkg/shell_bg.wasm pkg/recs.wasm
wasm-pack build --target web --release "$@"
# The product page's shell: its own small wasm (shell/), with the same release settings and wasm-opt pass.
cargo build -p loyalty-shell --target wasm32-unknown-unknown --release --locked
# Its glue is wasm-bindgen's no-modules output, which package.mjs puts inside the loader.
wasm-bindgen --target no-modules --no-typescript --out-dir pkg --out-name shell "$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/loyalty_shell.wasm"
wasm-opt -Oz --converge --strip-producers --strip-target-features pkg/shell_bg.wasm -o pkg/shell_bg.wasm
# The recommendations list's wasm (recs/): no wasm-bindgen, so no glue; the shell's worker loads it when a list
# comes near the viewport.
cargo build -p loyalty-recs --target wasm32-unknown-unknown --release --locked
wasm-opt -Oz --converge --strip-producers --strip-target-features "$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/loyalty_recs.wasm" -o pkg/recs.wasm
node scripts/package.mjs
