#!/usr/bin/env bash
# `make bench-server`: a load benchmark of the reference server (optimised build, SQLite file, loopback)
# with wrk: requests per second and p50/p99 latency for GET /v1/customers/me (valid identities over 10,000
# seeded shoppers) and for the order webhook (distinct, validly signed orders, not replays).
# A benchmark that prints figures, not a test; the machine's two cores are shared by wrk and the server.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
SHOPPERS=${SHOPPERS:-10000}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-32}
if ! command -v wrk >/dev/null 2>&1; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
fi
cargo build --profile server -p loyalty-server --locked
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export LOYALTY_SHOP_ID=bench-shop
export LOYALTY_SHOP_SECRET=$(python3 -c 'import secrets; print(secrets.token_hex(32))')
export LOYALTY_WEBHOOK_SECRET=$(python3 -c 'import secrets; print(secrets.token_hex(32))')
export LOYALTY_ADMIN_KEY=$(python3 -c 'import secrets; print(secrets.token_hex(32))')
export LOYALTY_LISTEN="127.0.0.1:$port" LOYALTY_DATABASE_URL="sqlite://$work/bench.db" RUST_LOG=warn
"$CARGO_TARGET_DIR/server/loyalty-server" >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 300); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
curl -sf "http://127.0.0.1:$port/healthz" >/dev/null || { echo "the server did not start:"; cat "${data:-$work}/server.log"; exit 1; }
python3 - "$port" <<'PY'
import json, sys, urllib.request, os
program = json.load(open("server/demo/program.json"))
request = urllib.request.Request(f"http://127.0.0.1:{sys.argv[1]}/v1/admin/program", data=json.dumps({"program": program}).encode(),
    method="PUT", headers={"authorization": "Bearer " + os.environ["LOYALTY_ADMIN_KEY"], "content-type": "application/json"})
urllib.request.urlopen(request).read()
PY
start=$(date +%s)
python3 scripts/bench_server.py seed "http://127.0.0.1:$port" "$SHOPPERS"
echo "seeding took $(( $(date +%s) - start )) s"
python3 scripts/bench_server.py lua "$work" "$SHOPPERS" 200000
summary() {
  awk -v name="$1" '
    /Requests\/sec/ { rps = $2 }
    /^ +50%/ { p50 = $2 } /^ +99%/ { p99 = $2 }
    /Non-2xx/ { bad = $NF }
    END { printf "%-34s %10s req/s   p50 %8s   p99 %8s   non-2xx %s\n", name, rps, p50, p99, (bad == "" ? 0 : bad) }'
}
echo
echo "wrk: 2 threads, $CONNECTIONS connections, $DURATION each, $SHOPPERS shoppers in the database"
wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -s "$work/me.lua" "http://127.0.0.1:$port" >"$work/me.txt"
wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -s "$work/orders.lua" "http://127.0.0.1:$port" >"$work/orders.txt"
summary "GET /v1/customers/me" <"$work/me.txt"
summary "POST /v1/webhooks/orders (new)" <"$work/orders.txt"
