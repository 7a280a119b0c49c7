// End-to-end faults, continued from client.test.mjs (which covers offline at load and mid-session, a 500, a 429,
// a slow backend, malformed JSON, a wrong-typed field, a 3 MB answer and a redemption whose answer is lost): the
// headless client in headless Chromium against the reference server in demo mode, with each fault asserted for
// what the page sees (status, error code and message, the cached data kept), for the page going on working (no
// page error, a later request fresh) and, where a write is involved, for the server's ledger afterwards (one
// debit, one code, nothing lost):
// - a 503 with Retry-After on a read and on a redemption: the wait before the retry is measured;
// - a valid answer cut in half, on a read and on a redemption's answer;
// - a 200 text/html page instead of JSON (a captive portal or a misrouted proxy), on reads and on a redemption
//   (once: re-sent with its key; always: refused after one re-send);
// - a 50 MB answer, with its Content-Length and streamed without one: refused unread, fast, memory measured;
// - the reference server killed (SIGKILL) during a redemption and restarted on the same port and database (a
//   second server process of this file's own): while the request is held on its way to it; after it has answered
//   but before the answer reaches the page; and inside the write, its points reserved while the shop's coupon
//   endpoint (LOYALTY_COUPON_ENDPOINT) holds its call open (the restarted server takes the key over after 60 s);
// - the shop's coupon endpoint down (503) for a redemption's first two attempts.
// Each test prints one line (the faults injected and the outcome); the run ends with the count. The two coupon
// tests also check that the server never lists its placeholders (`pending:<id>`, `failed:<id>`) among the
// shopper's discount codes (it did, until this suite found it).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const BASE = process.env.DEMO_URL ?? "http://127.0.0.1:8080/";
const ORIGIN = new URL(BASE).origin;
const ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"];
const ROOT = new URL("../../", import.meta.url).pathname;
const SERVER = `${process.env.CARGO_TARGET_DIR ?? `${process.env.HOME}/.cache/storefront-loyalty/target`}/debug/loyalty-server`;
const COST = 500; // ten-off

let browser;
let page;
let faults = 0;
const children = new Set(); // server processes this file started
const dirs = [];

// Prints the test's one-line summary and counts its faults.
function injected(count, line) {
  faults += count;
  console.log(`faults injected: ${count} | ${line}`);
}

// A page on `origin` (its document under the server's CSP) with the wasm loaded and a few helpers.
async function clientPage(origin) {
  const p = await browser.newPage();
  p.errors = [];
  p.on("pageerror", (e) => p.errors.push(e.message));
  await p.goto(`${origin}/healthz`);
  await p.evaluate(async () => {
    const module = await import("/pkg/storefront_loyalty.js");
    globalThis.wasmMemory = (await module.default()).memory;
    globalThis.loyalty = module;
    globalThis.identityOf = async (customer) => {
      const signed = await (await fetch(`/demo/identity?customer=${encodeURIComponent(customer)}`)).json();
      return { customerId: signed.customerId, timestamp: signed.timestamp, digest: signed.digest };
    };
    // A client with every error event it reports recorded (what a shop's toast would show).
    globalThis.openClient = async (customer, extra = {}) => {
      const identity = customer ? await identityOf(customer) : null;
      const client = loyalty.createClient({ apiBase: location.origin, identity, retry: { attempts: 2, baseMs: 50, capMs: 100 }, ...extra });
      client.reported = [];
      client.subscribe((state, event) => event.type === "error" && client.reported.push(event.error.code));
      return client;
    };
    globalThis.settle = (promise) => promise.then((value) => ({ ok: true, value }), (e) => ({ ok: false, code: e.code, message: e.message, name: e.name }));
    globalThis.sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
    // Waits (up to `ms`) until `check()` is true; returns whether it became true.
    globalThis.until = async (check, ms = 5000) => {
      for (const end = Date.now() + ms; Date.now() < end; await sleep(20)) if (check()) return true;
      return check();
    };
  });
  return p;
}

before(async () => {
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", args: ARGS });
  page = await clientPage(ORIGIN);
});

after(async () => {
  await browser?.close();
  for (const child of children) child.kill("SIGKILL");
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  console.log(`faults injected in all: ${faults}`);
});

const serverState = (p, customer) => p.evaluate(async (c) => {
  const signed = await (await fetch(`/demo/identity?customer=${encodeURIComponent(c)}`)).json();
  return (await fetch("/v1/customers/me", { headers: { authorization: signed.authorization } })).json();
}, customer);
const clearCache = () => page.evaluate(() => localStorage.clear());
// Reads the shopper once so the next client starts from the cache (shown at once, stale).
const warm = (customer) => page.evaluate(async (c) => {
  const client = await openClient(c);
  const state = await client.refresh();
  client.destroy();
  return state;
}, customer);
const keyOf = (route) => route.request().headers()["idempotency-key"];
const codesOf = (state, code) => state.codes.filter((c) => c.code === code).length;

// The checks every write test ends with: one debit and one code on the server, shown by the client.
function assertOneDebit(before, after, code, state) {
  assert.equal(after.balance.available, before.balance.available - COST, "one debit on the server's ledger");
  assert.equal(after.codes.length, before.codes.length + 1, "one code issued");
  assert.equal(codesOf(after, code), 1, `the code ${code} is the shopper's, once`);
  assert.equal(state.shopper.balance.available, after.balance.available, "the client shows the server's balance");
  assert.equal(codesOf(state.shopper, code), 1, "the client shows the code");
  assert.deepEqual(state.outbox, [], "nothing left to send");
}

// A reference server of this file's own (demo mode, its own database), to kill and restart.
async function freePort() {
  const probe = net.createServer().listen(0, "127.0.0.1");
  await once(probe, "listening");
  const { port } = probe.address();
  probe.close();
  await once(probe, "close");
  return port;
}

async function startServer(server) {
  const log = openSync(join(server.dir, "server.log"), "a");
  const child = spawn(SERVER, ["--demo"], {
    cwd: ROOT,
    env: { ...process.env, LOYALTY_LISTEN: `127.0.0.1:${server.port}`, LOYALTY_DATABASE_URL: `sqlite://${server.dir}/demo.db`,
      LOYALTY_STATIC_DIR: "www", LOYALTY_PKG_DIR: "pkg", RUST_LOG: "warn", ...server.env },
    stdio: ["ignore", log, log],
  });
  closeSync(log);
  children.add(child);
  child.on("exit", () => children.delete(child));
  for (let i = 0; i < 300 && child.exitCode === null; i++) {
    const up = await fetch(`${server.origin}/healthz`).then((r) => r.ok, () => false);
    if (up) {
      server.child = child;
      server.up = true;
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`the second server did not start:\n${readFileSync(join(server.dir, "server.log"), "utf8")}`);
}

async function kill(server) {
  const child = server.child;
  const exited = child.exitCode === null && child.signalCode === null ? once(child, "exit") : null;
  server.kills += 1;
  server.up = false;
  server.killedAt = Date.now();
  assert.equal(child.kill("SIGKILL"), true);
  await exited;
  assert.equal(child.signalCode, "SIGKILL");
  const down = await fetch(`${server.origin}/healthz`).then(() => false, () => true);
  assert.ok(down, "the server is gone");
}

async function secondServer(env = {}) {
  const dir = mkdtempSync(join(tmpdir(), "loyalty-faults-"));
  dirs.push(dir);
  const port = await freePort();
  const server = { dir, port, env, origin: `http://127.0.0.1:${port}`, up: false, kills: 0 };
  await startServer(server);
  return server;
}

// Runs a redemption on a page of a second server whose process is killed (SIGKILL) by `fault` (called with the
// first attempt's route and the server), then restarted on the same port and database. Returns what it saw.
async function redeemAcrossRestart(fault, { env = {}, retry = { baseMs: 100, capMs: 400 }, waitMs = 15000, restarted = null } = {}) {
  const server = await secondServer(env);
  const p = await clientPage(server.origin);
  const before = await serverState(p, "demo-gold");
  assert.ok(before.balance.available >= COST);
  const attempts = []; // every redemption request the page made: its key, and what became of it
  const statuses = []; // the status of every redemption answer the page received
  p.on("response", (response) => response.url().endsWith("/v1/redemptions") && statuses.push(response.status()));
  let killed;
  const dead = new Promise((resolve) => { killed = resolve; });
  await p.route("**/v1/redemptions", async (route) => {
    const attempt = { key: keyOf(route) };
    attempts.push(attempt);
    if (attempts.length === 1) {
      attempt.fate = await fault(route, server);
      killed();
    } else {
      Object.assign(attempt, { fate: server.up ? "sent" : "refused: the server is down", afterKillMs: Date.now() - server.killedAt });
      await route.continue().catch(() => {});
    }
  });
  // Demo mode makes new signing secrets at every start, so the new process refuses (401) identities the killed
  // one signed; a production server keeps its secrets across a restart. Requests still signed by the old process
  // are therefore held back as if the server were still down, until the page has a signature from the new one
  // (as a shop's page gets at its next render), so that the test sees what a production restart would.
  let oldDigest = null;
  await p.route("**/v1/**", (route) => {
    const authorization = route.request().headers().authorization ?? "";
    if (oldDigest && server.kills > 0 && authorization.endsWith(`.${oldDigest}`)) {
      if (route.request().url().endsWith("/v1/redemptions")) attempts.push({ key: keyOf(route), fate: "held back: signed by the killed process" });
      return route.abort("connectionrefused");
    }
    return route.fallback();
  });
  oldDigest = await p.evaluate(async (retry) => {
    globalThis.identity = await identityOf("demo-gold");
    globalThis.live = await openClient(null, { identity, retry });
    await live.ready();
    globalThis.redeemed = settle(live.redeem("ten-off"));
    return identity.digest;
  }, retry);
  await dead;
  // The server is down: the redemption waits in the outbox, its promise unsettled, the balance still shown.
  assert.ok(await p.evaluate(() => until(() => live.state().outbox[0]?.status === "waiting" && live.state().outbox[0].attempts >= 1)),
    "the redemption waits to be re-sent");
  const down = await p.evaluate(async () => ({ state: live.state(), settled: await Promise.race([redeemed, sleep(50).then(() => "pending")]) }));
  assert.equal(down.settled, "pending", "the redemption is neither resolved nor rejected while the server is down");
  assert.equal(down.state.outbox.length, 1);
  assert.equal(down.state.shopper.balance.available, before.balance.available, "the balance read before is still shown");

  await startServer(server);
  await p.evaluate(async () => live.setIdentity(await identityOf("demo-gold")));
  const restartedState = restarted ? await restarted(p, server) : null;
  const outcome = await p.evaluate((ms) => Promise.race([redeemed,
    sleep(ms).then(() => ({ ok: false, code: `hung: no answer within ${ms} ms`, state: live.state() }))]), waitMs);
  assert.equal(outcome.ok, true, JSON.stringify(outcome));
  assert.match(outcome.value.code, /^(LOY|SHOP)-[0-9A-Z-]+$/);
  assert.ok(await p.evaluate((code) => until(() => live.state().shopper?.codes.some((c) => c.code === code)), outcome.value.code),
    "the client reads the code back");
  const state = await p.evaluate(() => live.state());
  const refreshed = await p.evaluate(() => settle(live.refresh()));
  assert.equal(refreshed.ok, true, JSON.stringify(refreshed));
  assert.equal(refreshed.value.status, "fresh");
  assert.ok(attempts.length >= 2);
  assert.deepEqual(new Set(attempts.map((a) => a.key)).size, 1, `every attempt carries the first key: ${JSON.stringify(attempts)}`);
  const after = await serverState(p, "demo-gold");
  assertOneDebit(before, after, outcome.value.code, state);
  assert.deepEqual(p.errors, []);
  const log = readFileSync(join(server.dir, "server.log"), "utf8");
  assert.doesNotMatch(log, /panicked|ERROR/);
  await p.evaluate(() => live.destroy());
  await p.close();
  await kill(server);
  return { outcome, attempts, statuses, before, after, restartedState };
}

// The shop's coupon endpoint (LOYALTY_COUPON_ENDPOINT), of the test's own: the server reserves the points, then
// asks it for a code. `answer(call, redemptionId)` gives a code, a status to fail with, or null to hold the call
// open; the same redemption always gets the same code (a shop that dedupes by redemption id).
async function couponShop(answer) {
  const shop = http.createServer(async (request, response) => {
    let body = "";
    for await (const chunk of request) body += chunk;
    const { redemptionId } = JSON.parse(body);
    shop.calls.push(redemptionId);
    const given = await answer(shop.calls.length, redemptionId);
    if (given === null) return; // never answered
    if (typeof given === "number") {
      response.writeHead(given, { "content-type": "text/plain" });
      return response.end("the coupon service is down");
    }
    response.writeHead(200, { "content-type": "application/json" });
    response.end(JSON.stringify({ code: given }));
  });
  shop.calls = [];
  shop.listen(0, "127.0.0.1");
  await once(shop, "listening");
  shop.endpoint = `http://127.0.0.1:${shop.address().port}/coupons`;
  shop.stop = () => { shop.closeAllConnections(); shop.close(); };
  return shop;
}
const shopCode = (redemptionId) => `SHOP-${redemptionId.slice(4).toUpperCase()}`;
const placeholders = (state) => state.codes.map((c) => c.code).filter((code) => /^(pending|failed):/.test(code));

describe("faults", { concurrency: true }, () => {
  // The slow one (about a minute of the server's own waiting) runs beside the others: it has its own server,
  // page and browser context.
  test("the server killed mid-write (points reserved, the shop's coupon call open), then restarted: the retry completes the reservation, one debit, one code", async () => {
    // The shop holds the first call open, so the server is killed inside the redemption, its points reserved.
    let called;
    const firstCall = new Promise((resolve) => { called = resolve; });
    const shop = await couponShop((call, id) => (call === 1 ? (called(), null) : shopCode(id)));
    const me = async (server) => {
      const signed = await (await fetch(`${server.origin}/demo/identity?customer=demo-gold`)).json();
      return (await fetch(`${server.origin}/v1/customers/me`, { headers: { authorization: signed.authorization } })).json();
    };
    const started = Date.now();
    let reserved;
    try {
      const result = await redeemAcrossRestart(async (route, server) => {
        route.continue().catch(() => {});
        await firstCall;
        reserved = await me(server);
        await kill(server);
        return "reached the server, killed during the shop's coupon call";
      }, {
        env: { LOYALTY_COUPON_ENDPOINT: shop.endpoint },
        retry: { baseMs: 500, capMs: 2000 },
        waitMs: 90000,
        // The restarted server answers the key 409 idempotency_key_in_flight until it takes the first attempt to
        // have died (60 s after it began); meanwhile the page reads the shopper with its new signature.
        restarted: async (p, server) => {
          await p.evaluate(() => until(() => live.state().status === "fresh"));
          return { client: await p.evaluate(() => live.state()), server: await me(server) };
        },
      });
      const seconds = Math.round((Date.now() - started) / 1000);
      assert.equal(reserved.balance.available, result.before.balance.available - COST, "the points were reserved before the kill");
      assert.equal(result.restartedState.server.balance.available, reserved.balance.available, "the reservation survived the kill");
      assert.equal(result.restartedState.client.outbox.length, 1, "the redemption still waits in the outbox");
      assert.ok(result.statuses.includes(409), `the restarted server said the key was in flight: ${result.statuses}`);
      assert.equal(result.statuses.at(-1), 201);
      assert.deepEqual(shop.calls, [shop.calls[0], shop.calls[0]], "the shop was asked once more, after the restart, for the same redemption");
      assert.equal(result.outcome.value.code, shopCode(shop.calls[0]));
      const count = (status) => result.statuses.filter((s) => s === status).length;
      injected(1, `SIGKILL of the server inside POST /v1/redemptions (points reserved, the shop's coupon call open), restart on the same database -> ${result.attempts.length} attempts with one key (${count(409)} answered 409 in flight, ${count(429)} 429), completed after ${seconds} s: the shop asked twice for one redemption, one debit (${result.before.balance.available} -> ${result.after.balance.available}), one code ${result.outcome.value.code}`);
      // Last: the server's placeholder for a code it is still waiting for is never listed as a code (it was).
      assert.deepEqual(placeholders(reserved), [], "while the shop's call is open, /v1/customers/me lists only usable codes");
      assert.deepEqual(placeholders(result.restartedState.client.shopper), [], "after the restart, the page shows only usable codes");
    } finally {
      shop.stop();
    }
  });

  describe("one at a time", { concurrency: false }, () => {
    test("a 503 with Retry-After is waited out: a read shows the cache meanwhile, a redemption waits in the outbox and debits once", async () => {
      await clearCache();
      const cached = await warm("demo-gold");
      const unavailable = (route) => route.fulfill({ status: 503, headers: { "retry-after": "2" }, contentType: "application/json",
        body: '{"error":{"code":"unavailable","message":"down for maintenance"}}' });

      const reads = [];
      await page.route("**/v1/customers/me", (route) => {
        reads.push(Date.now());
        return reads.length === 1 ? unavailable(route) : route.continue();
      });
      const read = await page.evaluate(async () => {
        const client = await openClient("demo-gold", { retry: { attempts: 3, baseMs: 50, capMs: 100 } });
        await sleep(1000);
        const during = client.state();
        const state = await client.ready();
        const reported = client.reported;
        client.destroy();
        return { during, state, reported };
      });
      await page.unroute("**/v1/customers/me");
      assert.equal(reads.length, 2, "one retry");
      const readWait = reads[1] - reads[0];
      assert.ok(readWait >= 2000, `the read was retried after ${readWait} ms, before Retry-After: 2 was over`);
      assert.ok(readWait < 8000, `the read waited ${readWait} ms, far more than asked`);
      assert.equal(read.during.status, "stale", "while waiting, the cache is shown, marked stale");
      assert.equal(read.during.error, null, "a retry under way is no error for the shopper");
      assert.equal(read.during.shopper.balance.available, cached.shopper.balance.available);
      assert.equal(read.state.status, "fresh");
      assert.deepEqual(read.reported, []);

      const before = await serverState(page, "demo-gold");
      assert.ok(before.balance.available >= COST, "demo-gold can afford ten-off");
      const writes = [];
      await page.route("**/v1/redemptions", (route) => {
        writes.push({ at: Date.now(), key: keyOf(route) });
        return writes.length === 1 ? unavailable(route) : route.continue(); // the first never reaches the server
      });
      const write = await page.evaluate(async () => {
        const client = await openClient("demo-gold", { retry: { baseMs: 50, capMs: 100 } });
        await client.ready();
        const pending = settle(client.redeem("ten-off"));
        await sleep(1000);
        const during = client.state();
        const outcome = await pending;
        await until(() => client.state().shopper.codes.some((c) => c.code === outcome.value?.code));
        const state = client.state();
        const reported = client.reported;
        client.destroy();
        return { during, outcome, state, reported };
      });
      await page.unroute("**/v1/redemptions");
      assert.equal(writes.length, 2);
      assert.equal(writes[1].key, writes[0].key, "re-sent with its idempotency key");
      const writeWait = writes[1].at - writes[0].at;
      assert.ok(writeWait >= 2000, `the redemption was re-sent after ${writeWait} ms, before Retry-After: 2 was over`);
      assert.ok(writeWait < 8000, `the redemption waited ${writeWait} ms`);
      assert.deepEqual(write.during.outbox.map((w) => [w.key, w.status, w.rewardId]), [[writes[0].key, "waiting", "ten-off"]],
        "while waiting, the redemption is in the outbox");
      assert.equal(write.outcome.ok, true, JSON.stringify(write.outcome));
      assert.match(write.outcome.value.code, /^LOY-/);
      assert.deepEqual(write.reported, []);
      assertOneDebit(before, await serverState(page, "demo-gold"), write.outcome.value.code, write.state);
      assert.deepEqual(page.errors, []);
      injected(2, `503 Retry-After: 2 on GET /v1/customers/me and on POST /v1/redemptions -> retried after ${readWait} ms (cache shown stale meanwhile, then fresh) and ${writeWait} ms (same key): one debit, one code`);
    });

    test("a valid answer cut in half: the cached data stays with the error named; a redemption's cut answer leaves one debit and its code shown", async () => {
      await clearCache();
      const cached = await warm("demo-gold");
      // The server's real answer, cut in half (and its length with it).
      const halve = async (route) => {
        const response = await route.fetch();
        const text = await response.text();
        const cut = text.slice(0, Math.floor(text.length / 2));
        await route.fulfill({ status: 200, headers: { ...response.headers(), "content-length": String(Buffer.byteLength(cut)) }, body: cut });
        return text;
      };

      let reads = 0;
      await page.route("**/v1/customers/me", (route) => (reads += 1, halve(route)));
      const read = await page.evaluate(async () => {
        const client = await openClient("demo-gold");
        const outcome = await settle(client.ready());
        const state = client.state();
        const reported = client.reported;
        client.destroy();
        return { outcome, state, reported };
      });
      await page.unroute("**/v1/customers/me");
      assert.equal(reads, 1, "an unreadable answer is not asked for again");
      assert.equal(read.outcome.ok, true, "the cache is something to show");
      assert.equal(read.state.status, "error");
      assert.equal(read.state.error.code, "invalid_response");
      assert.match(read.state.error.message, /shopper: invalid JSON/);
      assert.equal(read.state.shopper.balance.available, cached.shopper.balance.available, "the cached balance stays shown");
      assert.deepEqual(read.reported, ["invalid_response"], "reported once");

      const before = await serverState(page, "demo-gold");
      assert.ok(before.balance.available >= COST);
      const keys = [];
      let answered;
      await page.route("**/v1/redemptions", async (route) => {
        keys.push(keyOf(route));
        if (keys.length === 1) answered = JSON.parse(await halve(route)); // the server redeems; half its answer arrives
        else await route.continue();
      });
      const write = await page.evaluate(async () => {
        globalThis.live = await openClient("demo-gold");
        await live.ready();
        globalThis.codes = () => live.state().shopper.codes.length;
        const count = codes();
        const outcome = await settle(live.redeem("ten-off"));
        await until(() => codes() === count + 1); // the balance and codes are read again after a definitive answer
        return { outcome, state: live.state(), reported: live.reported };
      });
      const middle = await serverState(page, "demo-gold");
      const next = await page.evaluate(async () => {
        const count = codes();
        const later = await settle(live.redeem("ten-off")); // the page keeps working
        await until(() => codes() === count + 1);
        const after = live.state();
        live.destroy();
        return { later, after };
      });
      await page.unroute("**/v1/redemptions");
      // Cut off on the way back, the answer is asked for once more with the same key: the server answers with
      // what it stored, so the shopper gets the code of the one debit.
      assert.equal(write.outcome.ok, true, JSON.stringify(write.outcome));
      assert.equal(write.outcome.value.code, answered.code, "the stored answer, asked for again with its key");
      assert.deepEqual(write.reported, []);
      assert.equal(keys.length, 3, "the cut answer, its re-send, then the later redemption");
      assert.equal(keys[1], keys[0], "re-sent with its key");
      assert.notEqual(keys[2], keys[0]);
      assertOneDebit(before, middle, answered.code, write.state);
      assert.equal(next.later.ok, true, JSON.stringify(next.later));
      assertOneDebit(middle, await serverState(page, "demo-gold"), next.later.value.code, next.after);
      assert.deepEqual(page.errors, []);
      injected(2, `GET /v1/customers/me and POST /v1/redemptions answered with the server's JSON cut in half -> invalid_response named (cached balance kept, not re-read); the redemption: asked again with its key, one debit, its code ${answered.code} shown; the next redemption fine`);
    });

    test("a 200 text/html page instead of JSON: refused by its content type, the cache kept; a redemption answered by it is asked once more, never debited twice", async () => {
      await clearCache();
      const cached = await warm("demo-gold");
      const portal = (route) => route.fulfill({ status: 200, contentType: "text/html; charset=utf-8",
        body: "<!doctype html><html><head><title>Sign in to the Wi-Fi</title></head><body><form>...</form></body></html>" });
      const seen = [];
      await page.route(/\/v1\/(program|customers\/me)$/, (route) => (seen.push(new URL(route.request().url()).pathname), portal(route)));
      const read = await page.evaluate(async () => {
        const client = await openClient("demo-gold");
        const outcome = await settle(client.ready());
        const state = client.state();
        const points = client.pointsForProduct({ productId: "longjing", price: 12800, currency: "CNY" }).points;
        const reported = client.reported;
        client.destroy();
        return { outcome, state, points, reported };
      });
      await page.unroute(/\/v1\/(program|customers\/me)$/);
      assert.deepEqual(seen.sort(), ["/v1/customers/me", "/v1/program"], "each asked once, not retried");
      assert.equal(read.outcome.ok, true);
      assert.equal(read.state.status, "error");
      assert.equal(read.state.error.code, "invalid_response");
      assert.match(read.state.error.message, /content-type: must be application\/json, got text\/html/);
      assert.equal(read.state.shopper.balance.available, cached.shopper.balance.available, "the cached balance stays shown");
      assert.ok(read.points > 0, "the cached program still computes points");
      assert.equal(read.reported.length, 1, "reported once");

      // A redemption answered once by the portal: asked again with its key, it reaches the server and debits once.
      const before = await serverState(page, "demo-gold");
      assert.ok(before.balance.available >= COST);
      const keys = [];
      await page.route("**/v1/redemptions", (route) => (keys.push(keyOf(route)), keys.length === 1 ? portal(route) : route.continue()));
      const write = await page.evaluate(async () => {
        const client = await openClient("demo-gold");
        await client.ready();
        const outcome = await settle(client.redeem("ten-off"));
        await until(() => client.state().shopper.codes.some((c) => c.code === outcome.value?.code));
        const state = client.state();
        client.destroy();
        return { outcome, state };
      });
      await page.unroute("**/v1/redemptions");
      assert.equal(write.outcome.ok, true, JSON.stringify(write.outcome));
      assert.deepEqual([keys.length, keys[1]], [2, keys[0]], "asked once more, with its key");
      const middle = await serverState(page, "demo-gold");
      assertOneDebit(before, middle, write.outcome.value.code, write.state);
      // Answered by the portal every time: after the one re-send the shopper hears of it, and nothing was spent.
      const always = [];
      await page.route("**/v1/redemptions", (route) => (always.push(keyOf(route)), portal(route)));
      const refused = await page.evaluate(async () => {
        const client = await openClient("demo-gold");
        await client.ready();
        const outcome = await settle(client.redeem("ten-off"));
        await sleep(300);
        const state = client.state();
        client.destroy();
        return { outcome, state };
      });
      await page.unroute("**/v1/redemptions");
      assert.deepEqual([refused.outcome.ok, refused.outcome.code], [false, "invalid_response"]);
      assert.match(refused.outcome.message, /content-type: must be application\/json, got text\/html/);
      assert.deepEqual([always.length, always[1]], [2, always[0]], "sent twice with one key, then given up");
      assert.deepEqual(refused.state.outbox, [], "a definitive answer: not re-sent again");
      const after = await serverState(page, "demo-gold");
      assert.equal(after.balance.available, middle.balance.available, "nothing reached the server: no debit");
      assert.deepEqual(page.errors, []);
      injected(4, "200 text/html on GET /v1/program, GET /v1/customers/me and POST /v1/redemptions (once, then always) -> invalid_response (content-type named), cached program and balance kept, reads not re-asked; a redemption answered once by it is re-sent with its key and debits once; answered always, refused after one re-send with no debit");
    });

    test("a 50 MB answer is refused unread, at once, with its Content-Length and streamed without one; the page's memory stays flat", async () => {
      await clearCache();
      const cached = await warm("demo-gold");
      const cdp = await page.context().newCDPSession(page);
      const memory = async () => {
        await cdp.send("HeapProfiler.collectGarbage");
        const { usedSize } = await cdp.send("Runtime.getHeapUsage");
        return { heap: usedSize, wasm: await page.evaluate(() => wasmMemory.buffer.byteLength) };
      };
      const MB = 1_000_000;
      const mb = (bytes) => (bytes / MB).toFixed(2);
      const start = await memory();

      // Generated in the route handler: 50 MB of valid JSON, sent with its length.
      let generated = 0;
      await page.route("**/v1/customers/me", (route) => {
        const body = Buffer.alloc(50 * MB, 0x20);
        body.write('{"customerId":"demo-gold","padding":"', 0);
        body.write('"}', body.length - 2);
        generated = body.length;
        return route.fulfill({ status: 200, contentType: "application/json", body });
      });
      const sized = await page.evaluate(async () => {
        const client = await openClient("demo-gold");
        const started = performance.now();
        const outcome = await settle(client.ready());
        const ms = performance.now() - started;
        const state = client.state();
        client.destroy();
        return { outcome, ms, state };
      });
      await page.unroute("**/v1/customers/me");
      const afterSized = await memory();
      assert.equal(generated, 50 * MB);
      assert.equal(sized.state.status, "error");
      assert.equal(sized.state.error.code, "response_too_large");
      assert.match(sized.state.error.message, /larger than 2000000 bytes; it was not read/);
      assert.equal(sized.state.shopper.balance.available, cached.shopper.balance.available, "the cached balance stays shown");
      // Most of this is the 50 MB crossing from Node to the browser; the client refuses it from the header.
      assert.ok(sized.ms < 10000, `refused after ${sized.ms} ms`);

      // Streamed without a Content-Length by a server of the test's own: the client stops reading past 2 MB and
      // hangs up; the server counts what it managed to write before that.
      const stream = { written: 0, finished: null };
      const source = http.createServer((request, response) => {
        response.writeHead(200, { "content-type": "application/json", "access-control-allow-origin": "*" });
        const chunk = Buffer.alloc(64 * 1024, 0x20);
        response.on("close", () => { stream.finished = response.writableFinished; });
        const pump = () => {
          while (stream.written < 50 * MB && !response.destroyed) {
            stream.written += chunk.length;
            if (!response.write(chunk)) return response.once("drain", pump);
          }
          response.end();
        };
        response.write('{"padding":"');
        pump();
      });
      source.listen(0, "127.0.0.1");
      await once(source, "listening");
      await clearCache(); // nothing to fall back on: the client has nothing to show
      await page.route("**/v1/program", (route) => route.continue({ url: `http://127.0.0.1:${source.address().port}/program` }));
      const streamed = await page.evaluate(async () => {
        const client = await openClient(null);
        const started = performance.now();
        const outcome = await settle(client.ready());
        const ms = performance.now() - started;
        client.destroy();
        return { outcome, ms };
      });
      await page.unroute("**/v1/program");
      for (let i = 0; i < 50 && stream.finished === null; i++) await new Promise((resolve) => setTimeout(resolve, 20));
      source.close();
      const afterStreamed = await memory();
      assert.deepEqual([streamed.outcome.ok, streamed.outcome.code], [false, "response_too_large"]);
      assert.ok(streamed.ms < 5000, `refused after ${streamed.ms} ms`);
      assert.equal(stream.finished, false, "the client hung up before the end");
      assert.ok(stream.written < 20 * MB, `the server wrote ${stream.written} bytes before the client hung up`);

      const heapGrowth = afterStreamed.heap - start.heap;
      const wasmGrowth = afterStreamed.wasm - start.wasm;
      assert.ok(heapGrowth < 5 * MB, `the JS heap grew by ${heapGrowth} bytes`);
      // Reading up to the 2 MB cap grows the wasm memory by a few MB at most (it never shrinks): far from 50 MB.
      assert.ok(wasmGrowth < 16 * MB, `the wasm memory grew by ${wasmGrowth} bytes`);

      const later = await page.evaluate(async () => {
        const client = await openClient("demo-gold");
        const outcome = await settle(client.refresh());
        client.destroy();
        return outcome;
      });
      assert.equal(later.ok, true, JSON.stringify(later));
      assert.equal(later.value.status, "fresh");
      assert.deepEqual(page.errors, []);
      await cdp.detach();
      injected(2, `50 MB on GET /v1/customers/me (Content-Length) and on GET /v1/program (streamed, no length) -> response_too_large in ${Math.round(sized.ms)} ms and ${Math.round(streamed.ms)} ms, the server wrote ${(stream.written / MB).toFixed(1)} MB of 50 before the hang-up; page memory growth: JS heap ${mb(afterSized.heap - start.heap)} then ${mb(heapGrowth)} MB, wasm ${mb(afterSized.wasm - start.wasm)} then ${mb(wasmGrowth)} MB; cached balance kept, then fresh`);
    });
    test("the server killed while a redemption is on its way to it, then restarted: the outbox re-sends it with its key, one debit, one code", async () => {
      const result = await redeemAcrossRestart(async (route, server) => {
        await kill(server); // the request has left the page but not reached the server
        await route.continue().catch(() => {}); // to a dead port: connection refused
        return "held until the server was killed, then refused";
      });
      const sent = result.attempts.filter((a) => a.fate === "sent");
      assert.equal(sent.length, 1, "one attempt reached the restarted server");
      injected(1, `SIGKILL of the server while POST /v1/redemptions was held on its way, restart on the same database -> ${result.attempts.length} attempts with one key (${sent.length} reached the restarted process, ${sent[0].afterKillMs} ms after the kill): one debit (${result.before.balance.available} -> ${result.after.balance.available}), one code ${result.outcome.value.code}`);
    });

    test("the server killed after it redeemed but before its answer reached the page, then restarted: the retry gets the same code, one debit", async () => {
      let first;
      const result = await redeemAcrossRestart(async (route, server) => {
        const response = await route.fetch(); // the server spends the points and answers...
        first = await response.json();
        await kill(server); // ...and dies before the answer reaches the page
        await route.abort("connectionreset");
        return `answered ${response.status()} ${first.code}, then killed`;
      });
      assert.match(first.code, /^LOY-/);
      assert.equal(result.outcome.value.code, first.code, "the restarted server answers the retried key with the stored redemption");
      injected(1, `SIGKILL of the server after it redeemed (code ${first.code}) and before the answer reached the page, restart on the same database -> the retry with the same key got the same code: one debit (${result.before.balance.available} -> ${result.after.balance.available})`);
    });

    test("the shop's coupon endpoint down (503) twice: the redemption is re-sent with its key until a code comes, one net debit", async () => {
      const shop = await couponShop((call, id) => (call <= 2 ? 503 : shopCode(id)));
      const server = await secondServer({ LOYALTY_COUPON_ENDPOINT: shop.endpoint });
      const p = await clientPage(server.origin);
      try {
        const before = await serverState(p, "demo-gold");
        const keys = [];
        const statuses = [];
        p.on("response", (response) => response.url().endsWith("/v1/redemptions") && statuses.push(response.status()));
        await p.route("**/v1/redemptions", (route) => (keys.push(keyOf(route)), route.continue()));
        const result = await p.evaluate(async () => {
          const client = await openClient("demo-gold", { retry: { baseMs: 100, capMs: 400 } });
          await client.ready();
          const outcome = await settle(client.redeem("ten-off"));
          await until(() => client.state().shopper.codes.some((c) => c.code === outcome.value?.code));
          const state = client.state();
          const reported = client.reported;
          client.destroy();
          return { outcome, state, reported };
        });
        assert.deepEqual(statuses, [502, 502, 201], "502 coupon_endpoint_failed twice, then the code");
        assert.equal(new Set(keys).size, 1, "one key for every attempt");
        assert.equal(result.outcome.ok, true, JSON.stringify(result.outcome));
        const code = result.outcome.value.code;
        assert.equal(code, shopCode(shop.calls[2]));
        assert.deepEqual(result.reported, [], "retried without troubling the shopper");
        const after = await serverState(p, "demo-gold");
        assert.equal(after.balance.available, before.balance.available - COST, "one net debit: the failed attempts' points came back");
        assert.equal(after.activity.filter((a) => a.reason === "redemption failed: points returned").length, 2);
        assert.equal(codesOf(after, code), 1);
        assert.equal(result.state.shopper.balance.available, after.balance.available);
        assert.equal(codesOf(result.state.shopper, code), 1, "the client shows the code");
        assert.deepEqual(result.state.outbox, []);
        assert.deepEqual(p.errors, []);
        injected(2, `the shop's coupon endpoint answering 503 to two calls -> POST /v1/redemptions 502 twice, re-sent with one key, then 201: one net debit (${before.balance.available} -> ${after.balance.available}, two refunds on the ledger), code ${code}; codes listed: ${after.codes.map((c) => c.code).join(", ")}`);
        // Last: no failed attempt's placeholder is listed as one of the shopper's codes (they were).
        assert.deepEqual(placeholders(after), [], "/v1/customers/me lists only usable codes");
        assert.deepEqual(placeholders(result.state.shopper), [], "the page shows only usable codes");
      } finally {
        await p.close();
        await kill(server);
        shop.stop();
      }
    });
  });
});
