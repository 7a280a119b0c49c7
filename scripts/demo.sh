#!/usr/bin/env bash
# `make demo`: installs what is missing, builds the widget (release) and the reference server, and runs the
# server in demo mode: demo program and shoppers in data/demo.db, the demo shop (www/) and the widget (pkg/)
# on http://127.0.0.1:8080, until interrupted.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
./scripts/setup.sh no-browser
./scripts/build.sh
node scripts/size-report.mjs
cargo build -p loyalty-server --locked
export LOYALTY_LISTEN="${LOYALTY_LISTEN:-127.0.0.1:${PORT:-8080}}"
export LOYALTY_DATABASE_URL="${LOYALTY_DATABASE_URL:-sqlite://data/demo.db}"
export LOYALTY_STATIC_DIR=www LOYALTY_PKG_DIR=pkg
exec "$CARGO_TARGET_DIR/debug/loyalty-server" --demo
