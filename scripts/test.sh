#!/usr/bin/env bash
# `make test`: installs what is missing, then runs every check and test suite of the project, and ends with
# one line "N passed, N failed" counted over all of them (each test counts once; so does each check such as
# rustfmt or clippy that is not made of tests).
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh

./scripts/setup.sh || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }

passed=0
failed=0
failures=()
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# Runs a step; counts its tests from the "test result:" lines, or counts the step itself as one check.
step() {
  local name=$1
  shift
  printf '\n==> %s\n' "$name"
  local start=$SECONDS
  "$@" 2>&1 | tee "$log"
  local status=${PIPESTATUS[0]}
  local p f
  p=$(sed -n 's/.*test result: [A-Za-z]*\. \([0-9]*\) passed; \([0-9]*\) failed.*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
  f=$(sed -n 's/.*test result: [A-Za-z]*\. \([0-9]*\) passed; \([0-9]*\) failed.*/\2/p' "$log" | awk '{s+=$1} END {print s+0}')
  if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
    if [ "$status" -eq 0 ]; then p=1; else f=1; fi
  elif [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then
    f=1 # the step failed outside its tests (e.g. a compile error after some suites ran)
  fi
  passed=$((passed + p))
  failed=$((failed + f))
  if [ "$status" -ne 0 ]; then failures+=("$name"); fi
  printf '<== %s: %s passed, %s failed (%ss)\n' "$name" "$p" "$f" "$((SECONDS - start))"
}

step "rustfmt" cargo fmt --all --check
step "clippy (native)" cargo clippy --workspace --all-targets --locked -- -D warnings
# The server is native only; core's property tests (proptest) too. The widget's browser tests are linted for wasm32.
step "clippy (wasm32)" bash -c 'cargo clippy -p storefront-loyalty -p loyalty-core -p loyalty-shell -p loyalty-recs --lib --target wasm32-unknown-unknown --locked -- -D warnings &&
  cargo clippy -p storefront-loyalty --tests --target wasm32-unknown-unknown --locked -- -D warnings'
step "rustdoc" env RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked
step "core has no web dependencies" ./scripts/check-core-deps.sh
step "cargo test (native)" cargo test --workspace --locked
# The shell as a product page gets it: loyalty-core without its messages (the workspace run above unifies features).
step "cargo test (the shell as shipped, core without messages)" cargo test -p loyalty-shell --locked
step "browser tests (wasm-pack test, headless Chromium)" wasm-pack test --headless --chrome
step "release build (wasm-pack, npm package)" ./scripts/build.sh
step "size report" node scripts/size-report.mjs
step "TypeScript declarations (tsc --strict)" tsc -p tests/types
step "end-to-end (demo shop, headless Chromium)" ./scripts/e2e.sh
step "npm package in a plain Vite app (build and dev, headless Chromium)" ./scripts/node-test.sh tests/vite/

echo
if [ "${#failures[@]}" -gt 0 ]; then
  echo "failed steps: ${failures[*]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
