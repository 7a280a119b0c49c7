#!/usr/bin/env bash
# `make demo`: installs what is missing, builds the widget (release) and serves the demo shop on
# http://127.0.0.1:8080 until interrupted.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
./scripts/setup.sh no-browser
wasm-pack build --target web --release
./scripts/size-report.sh
exec python3 scripts/serve.py --port "${PORT:-8080}"
