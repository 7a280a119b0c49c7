#!/usr/bin/env bash
# Installs every tool `make test` and `make demo` need on a fresh machine, skipping what is already there.
# See ../shared/TOOLCHAIN.md for why each tool installs the way it does here (no downloads outside the
# package registries: wasm-pack's own downloads of wasm-bindgen and wasm-opt fail, so we provide both).
set -euo pipefail
cd "$(dirname "$0")/.."

want_browser=${1:-browser}
log() { printf '[setup] %s\n' "$*"; }

# The wasm-bindgen CLI must equal the crate version pinned in Cargo.toml ("=X.Y.Z").
bindgen_version=$(sed -n 's/^wasm-bindgen = { version = "=\([0-9.]*\)".*/\1/p; s/^wasm-bindgen = "=\([0-9.]*\)"/\1/p' Cargo.toml | head -n 1)
[ -n "$bindgen_version" ] || { echo "setup: cannot read the pinned wasm-bindgen version from Cargo.toml" >&2; exit 1; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if ! command -v wasm-pack >/dev/null 2>&1; then
  log "installing wasm-pack (about 3 minutes on 2 cores)"
  cargo install wasm-pack --locked
fi

if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$bindgen_version" ]; then
  log "installing wasm-bindgen-cli $bindgen_version (about 3 minutes on 2 cores)"
  # No --locked: its lock file pins a crate version the registry mirror lacks (TOOLCHAIN.md).
  cargo install wasm-bindgen-cli --version "$bindgen_version" --force
fi

# wasm-opt (binaryen) and the end-to-end tools come from the npm registry, pinned by package-lock.json.
if [ ! -x node_modules/.bin/wasm-opt ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing npm dev tools (binaryen for wasm-opt)"
  npm ci --no-audit --no-fund --loglevel=error
fi

if [ "$want_browser" = browser ] && { [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; }; then
  log "installing Debian chromium and chromium-driver"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium chromium-driver >/dev/null
fi
log "tools ready"
