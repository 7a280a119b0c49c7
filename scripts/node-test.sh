#!/usr/bin/env bash
# Runs node:test files (the arguments) with the TAP reporter and ends with the "test result:" line that
# scripts/test.sh counts, so Node suites are counted like Rust ones.
set -euo pipefail
node --test --test-reporter=tap "$@" | tee /dev/stderr | awk '
  /^# pass / { p = $3 } /^# fail / { f = $3 }
  END { printf "test result: %s. %d passed; %d failed;\n", (f > 0 ? "FAILED" : "ok"), p, f; exit (f > 0) }'
