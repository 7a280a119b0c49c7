#!/usr/bin/env bash
# The rules core must know nothing of the browser: fail if loyalty-core depends, even indirectly, on
# wasm-bindgen, web-sys, js-sys or gloo (for any target).
set -euo pipefail
cd "$(dirname "$0")/.."
tree=$(cargo tree -p loyalty-core --edges normal,build --prefix none --target all --locked)
if bad=$(printf '%s\n' "$tree" | grep -E '^(wasm-bindgen|web-sys|js-sys|gloo)' ); then
  echo "loyalty-core must not depend on browser crates, found:"
  printf '%s\n' "$bad" | sort -u
  exit 1
fi
echo "loyalty-core dependencies: $(printf '%s\n' "$tree" | awk '{print $1}' | sort -u | tr '\n' ' ')"
