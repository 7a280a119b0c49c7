#!/usr/bin/env bash
# Serves the demo (release build in pkg/) on a free loopback port and runs the end-to-end tests against it.
set -euo pipefail
cd "$(dirname "$0")/.."
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 scripts/serve.py --port "$port" >/dev/null 2>&1 &
server=$!
trap 'kill $server 2>/dev/null' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/" >/dev/null && break; sleep 0.1; done
DEMO_URL="http://127.0.0.1:$port/" node --test --test-reporter=tap tests/e2e/ | tee /dev/stderr | awk '
  /^# pass / { p = $3 } /^# fail / { f = $3 }
  END { printf "test result: %s. %d passed; %d failed;\n", (f > 0 ? "FAILED" : "ok"), p, f; exit (f > 0) }'
