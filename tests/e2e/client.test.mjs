// End-to-end: the headless client (createClient) in real headless Chromium against the reference server in
// demo mode, with faults injected between them by Playwright's request routing: a fresh load, a cached load
// revalidated by ETag, offline at load and back, offline mid-session and back, a 500, a 429 with Retry-After, a backend slower than the
// timeout, malformed JSON, a wrong-typed field, an oversized answer, and a redemption whose answer is lost
// on the way back (retried with its key: one debit on the server's ledger).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";

const BASE = process.env.DEMO_URL ?? "http://127.0.0.1:8080/";
const ORIGIN = new URL(BASE).origin;
const ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"];

let browser;
let page;
const pageErrors = [];

before(async () => {
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", args: ARGS });
  page = await browser.newPage();
  page.on("pageerror", (e) => pageErrors.push(e.message));
  // A same-origin document with the server's CSP; the module and the wasm load under it.
  await page.goto(`${ORIGIN}/healthz`);
  await page.evaluate(async () => {
    const module = await import("/pkg/storefront_loyalty.js");
    await module.default();
    globalThis.loyalty = module;
    globalThis.identityOf = async (customer) => {
      const signed = await (await fetch(`/demo/identity?customer=${encodeURIComponent(customer)}`)).json();
      return { customerId: signed.customerId, timestamp: signed.timestamp, digest: signed.digest };
    };
    // Runs a client to its first settled state; returns what the page would see.
    globalThis.run = async (customer, extra = {}, act = "ready") => {
      const identity = customer ? await identityOf(customer) : null;
      const client = loyalty.createClient({ apiBase: location.origin, identity, retry: { attempts: 2, baseMs: 50, capMs: 100 }, ...extra });
      const first = client.state();
      const started = Date.now();
      let outcome;
      try {
        outcome = { ok: true, state: await client[act]() };
      } catch (e) {
        outcome = { ok: false, code: e.code, message: e.message, name: e.name };
      }
      const last = client.state();
      client.destroy();
      return { first, outcome, last, ms: Date.now() - started };
    };
  });
});

after(async () => browser?.close());

const run = (customer, extra, act) => page.evaluate(([c, e, a]) => run(c, e, a), [customer, extra, act]);
const serverState = (customer) => page.evaluate(async (c) => {
  const signed = await (await fetch(`/demo/identity?customer=${encodeURIComponent(c)}`)).json();
  return (await fetch("/v1/customers/me", { headers: { authorization: signed.authorization } })).json();
}, customer);
const clearCache = () => page.evaluate(() => localStorage.clear());

test("a fresh load shows the server's numbers, then the next load shows the cache stale and revalidates by ETag", async () => {
  await clearCache();
  const expected = await serverState("demo-gold");
  const fresh = await run("demo-gold");
  assert.equal(fresh.first.status, "loading");
  assert.equal(fresh.outcome.ok, true, JSON.stringify(fresh.outcome));
  assert.equal(fresh.outcome.state.status, "fresh");
  assert.equal(fresh.outcome.state.shopper.balance.available, expected.balance.available);
  assert.equal(fresh.outcome.state.shopper.tier.currentTierId, expected.tier.currentTierId);

  const statuses = [];
  const listener = (response) => response.url().endsWith("/v1/program") && statuses.push(response.status());
  page.on("response", listener);
  const cached = await run("demo-gold", {}, "refresh");
  page.off("response", listener);
  assert.equal(cached.first.status, "stale", "cached data is shown at once, marked stale");
  assert.equal(cached.first.shopper.balance.available, expected.balance.available);
  assert.equal(cached.outcome.state.status, "fresh");
  assert.deepEqual(statuses, [304], "the program is revalidated with If-None-Match");
  assert.deepEqual(pageErrors, []);
});

test("offline at load shows the cached state as offline; back online it is fresh again", async () => {
  await run("demo-near-silver"); // warms the cache
  await page.route("**/v1/**", (route) => route.abort("internetdisconnected"));
  const offline = await run("demo-near-silver");
  await page.unroute("**/v1/**");
  assert.equal(offline.outcome.ok, true, "the cache is something to show");
  assert.equal(offline.outcome.state.status, "offline");
  assert.equal(offline.outcome.state.error.code, "offline");
  assert.ok(offline.outcome.state.shopper.balance.available >= 0);
  const back = await run("demo-near-silver", {}, "refresh");
  assert.equal(back.outcome.state.status, "fresh");

  // Going offline mid-session and back: the browser's "online" event revalidates without any call.
  await page.evaluate(async () => {
    globalThis.live = loyalty.createClient({ apiBase: location.origin, identity: await identityOf("demo-near-silver"), retry: { attempts: 1 } });
    await live.ready();
  });
  await page.context().setOffline(true);
  const during = await page.evaluate(() => live.refresh().then(() => "fresh", (e) => e.code));
  assert.equal(during, "offline");
  assert.equal(await page.evaluate(() => live.state().status), "offline");
  await page.context().setOffline(false);
  await page.waitForFunction(() => live.state().status === "fresh", null, { timeout: 5000 });
  await page.evaluate(() => live.destroy());

  await clearCache();
  await page.route("**/v1/**", (route) => route.abort("internetdisconnected"));
  const nothing = await run("demo-near-silver");
  await page.unroute("**/v1/**");
  assert.deepEqual([nothing.outcome.ok, nothing.outcome.code, nothing.outcome.name], [false, "offline", "LoyaltyError"]);
  assert.deepEqual(pageErrors, []);
});

test("a 500 is retried, a 429 waits for Retry-After, a slow backend times out", async () => {
  await clearCache();
  let failures = 1;
  await page.route("**/v1/customers/me", (route) =>
    failures-- > 0 ? route.fulfill({ status: 500, contentType: "application/json", body: '{"error":{"code":"internal","message":"boom"}}' }) : route.continue());
  const retried = await run("demo-gold");
  await page.unroute("**/v1/customers/me");
  assert.equal(retried.outcome.state.status, "fresh");

  await clearCache();
  const times = [];
  await page.route("**/v1/program", (route) => {
    times.push(Date.now());
    return times.length === 1
      ? route.fulfill({ status: 429, headers: { "retry-after": "1" }, contentType: "application/json", body: "{}" })
      : route.continue();
  });
  const limited = await run(null);
  await page.unroute("**/v1/program");
  assert.equal(limited.outcome.state.status, "fresh");
  assert.ok(times[1] - times[0] >= 950, `waited ${times[1] - times[0]} ms for Retry-After: 1`);

  await clearCache();
  await page.route("**/v1/program", async (route) => {
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await route.continue().catch(() => {}); // the client has aborted it by then
  });
  const slow = await run(null, { timeoutMs: 300, retry: { attempts: 1 } });
  await page.unroute("**/v1/program");
  assert.equal(slow.outcome.code, "timeout");
  assert.ok(slow.ms < 1400, `gave up after ${slow.ms} ms`);
  assert.deepEqual(pageErrors, []);
});

test("malformed JSON, a wrong-typed field and an oversized answer are refused, the field named", async () => {
  await clearCache();
  await page.route("**/v1/customers/me", (route) =>
    route.fulfill({ status: 200, contentType: "application/json", body: '{"customerId": "demo-gold", "bal' }));
  const truncated = await run("demo-gold");
  await page.unroute("**/v1/customers/me");
  assert.equal(truncated.last.error.code, "invalid_response");
  assert.match(truncated.last.error.message, /shopper: invalid JSON/);

  await page.route("**/v1/customers/me", async (route) => {
    const response = await route.fetch();
    const body = await response.json();
    body.balance.available = String(body.balance.available);
    await route.fulfill({ response, json: body });
  });
  const wrong = await run("demo-gold");
  await page.unroute("**/v1/customers/me");
  assert.match(wrong.last.error.message, /shopper\.balance\.available: must be a number, got a string/);
  assert.equal(wrong.last.shopper, null, "nothing unreadable is shown");

  await clearCache();
  await page.route("**/v1/program", (route) =>
    route.fulfill({ status: 200, contentType: "application/json", body: JSON.stringify({ padding: "x".repeat(3_000_000) }) }));
  const huge = await run(null);
  await page.unroute("**/v1/program");
  assert.equal(huge.outcome.code, "response_too_large");
  assert.deepEqual(pageErrors, []);
});

test("a redemption whose answer is lost is retried with its key and debits once", async () => {
  await clearCache();
  const before = await serverState("demo-gold");
  const cost = 500; // ten-off
  assert.ok(before.balance.available >= cost, "demo-gold can afford ten-off");
  const keys = [];
  await page.route("**/v1/redemptions", async (route) => {
    keys.push(route.request().headers()["idempotency-key"]);
    if (keys.length === 1) {
      await route.fetch(); // the server spends the points and answers...
      return route.abort("connectionreset"); // ...but the answer never reaches the page
    }
    return route.continue();
  });
  const result = await page.evaluate(async () => {
    const client = loyalty.createClient({ apiBase: location.origin, identity: await identityOf("demo-gold"), retry: { baseMs: 50, capMs: 100 } });
    await client.ready();
    try {
      const redemption = await client.redeem("ten-off");
      await new Promise((resolve) => setTimeout(resolve, 300)); // the balance is read again after a redemption
      return { redemption, state: client.state() };
    } finally {
      client.destroy();
    }
  });
  await page.unroute("**/v1/redemptions");
  assert.equal(keys.length, 2);
  assert.equal(keys[0], keys[1], "the retry reuses the idempotency key");
  assert.match(result.redemption.code, /^LOY-/);
  const after = await serverState("demo-gold");
  assert.equal(after.balance.available, before.balance.available - cost, "one debit on the server");
  assert.equal(after.codes.filter((c) => c.code === result.redemption.code).length, 1);
  assert.equal(after.codes.length, before.codes.length + 1, "one code issued");
  assert.equal(result.state.shopper.balance.available, after.balance.available, "the client shows the server's balance");
  assert.deepEqual(result.state.outbox, []);
  assert.deepEqual(pageErrors, []);
});
