"""Load benchmark helper for scripts/bench-server.sh: seeds shoppers through the real order webhook and
writes wrk Lua scripts with precomputed, validly signed requests (wrk cannot compute HMACs itself).

usage: bench_server.py seed BASE SHOPPERS   |   bench_server.py lua DIR SHOPPERS ORDERS
Secrets come from the same LOYALTY_* environment variables the server reads.
"""
import base64
import hashlib
import hmac
import http.client
import json
import os
import sys
import time
import urllib.parse

SHOP_ID = os.environ["LOYALTY_SHOP_ID"]
SHOP_SECRET = os.environ["LOYALTY_SHOP_SECRET"].encode()
WEBHOOK_SECRET = os.environ["LOYALTY_WEBHOOK_SECRET"].encode()


def identity(customer, now):
    digest = hmac.new(SHOP_SECRET, f"{SHOP_ID}\n{customer}\n{now}".encode(), hashlib.sha256).hexdigest()
    cid = base64.urlsafe_b64encode(customer.encode()).decode().rstrip("=")
    return f"LoyaltyShopper {cid}.{now}.{digest}"


def signed(body, now):
    mac = hmac.new(WEBHOOK_SECRET, f"{now}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={now},v1={mac}"


def order(order_id, customer, paid_at):
    return json.dumps({
        "event": "paid",
        "order": {"id": order_id, "customerId": customer, "paidAt": paid_at, "currency": "CNY",
                  "lines": [{"productId": "house-blend", "categories": ["coffee-beans", "blend"], "unitPrice": 12800,
                             "quantity": 1 + len(order_id) % 3}]},
    }, separators=(",", ":")).encode()


def seed(base, shoppers):
    url = urllib.parse.urlparse(base)
    conn = http.client.HTTPConnection(url.hostname, url.port)
    now = int(time.time())
    for i in range(shoppers):
        body = order(f"seed-{i}", f"shopper-{i}", now - 86400 * (1 + i % 300))
        conn.request("POST", "/v1/webhooks/orders", body, {"content-type": "application/json", "loyalty-signature": signed(body, now)})
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            sys.exit(f"seeding failed at shopper {i}: {response.status}")
    print(f"seeded {shoppers} shoppers, one order each")


# wrk gives each thread its own Lua state: `setup` numbers the threads, and each thread reads only its share
# of the precomputed requests from a file, so no two threads send the same order (which would be a replay).
LUA = """
local counter = 0
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end
function init(args)
  requests = {}
  local n = 0
  for line in io.lines("%(file)s") do
    if n %% %(threads)d == id then
      local tab = line:find("\t")
      requests[#requests + 1] = { line:sub(1, tab - 1), line:sub(tab + 1) }
    end
    n = n + 1
  end
  i = 0
end
function request()
  i = i + 1
  local r = requests[i]
  %(make)s
end
"""


def write_lua(directory, shoppers, orders, threads=2):
    now = int(time.time())
    me_file = os.path.join(directory, "me.txt.in")
    with open(me_file, "w") as f:
        for i in range(shoppers):
            f.write(f"{identity(f'shopper-{i}', now)}\t-\n")
    with open(os.path.join(directory, "me.lua"), "w") as f:
        make = ("if r == nil then i = 1; r = requests[1] end\n"
                "  return wrk.format('GET', '/v1/customers/me', { ['Authorization'] = r[1] })")
        f.write(LUA % {"file": me_file, "threads": threads, "make": make})
    orders_file = os.path.join(directory, "orders.txt.in")
    with open(orders_file, "w") as f:
        for i in range(orders):
            body = order(f"bench-{now}-{i}", f"shopper-{i % shoppers}", now - 60)
            f.write(f"{signed(body, now)}\t{body.decode()}\n")
    with open(os.path.join(directory, "orders.lua"), "w") as f:
        make = ("if r == nil then return wrk.format('GET', '/healthz') end\n"
                "  return wrk.format('POST', '/v1/webhooks/orders', { ['Content-Type'] = 'application/json', ['Loyalty-Signature'] = r[1] }, r[2])")
        f.write(LUA % {"file": orders_file, "threads": threads, "make": make})


if __name__ == "__main__":
    if sys.argv[1] == "seed":
        seed(sys.argv[2], int(sys.argv[3]))
    else:
        write_lua(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
