#!/usr/bin/env bash
# Builds the widget (release wasm, glue, elements, loader) into pkg/: the npm package and what the demo serves.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
wasm-pack build --target web --release "$@"
node scripts/package.mjs
