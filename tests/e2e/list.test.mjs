// The recommendations list ranked in the shell's worker by its own wasm (recs.wasm), against what an adversarial
// read of it tried: separators in a catalog's ids and terms, the switch without the full widget, two lists on one
// page, a program whose rewards the list cannot read, a product id a URL cannot hold, and leaving the page after
// opting out. Each failed before its fix.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";

const BASE = process.env.DEMO_URL ?? "http://127.0.0.1:8080/";
const ORIGIN = new URL(BASE).origin;
const ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"];
const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; connect-src 'self'; worker-src 'self' blob:";

let browser;
before(async () => {
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", args: ARGS });
});
after(async () => browser?.close());

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Serves `html` at a same-origin path under `csp`, and `scripts` ({ path: source }) beside it; `before` may route.
async function hostPage(path, html, { scripts = {}, before = async () => {}, csp = CSP } = {}) {
  const p = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  p.messages = [];
  p.requests = [];
  p.on("pageerror", (e) => p.messages.push(`pageerror: ${e.message}`));
  p.on("console", (m) => ["error", "warning"].includes(m.type()) && p.messages.push(`${m.type()}: ${m.text()}`));
  p.requested = [];
  p.on("request", (r) => (p.requests.push(r.url()), p.requested.push({ url: r.url(), referer: r.headers().referer })));
  for (const [script, body] of Object.entries(scripts)) {
    await p.route(`${ORIGIN}${script}`, (route) => route.fulfill({ contentType: "text/javascript", body }));
  }
  await before(p);
  await p.route(`${ORIGIN}${path}`, (route) => route.fulfill({ contentType: "text/html", body: html, headers: { "content-security-policy": csp } }));
  await p.goto(`${ORIGIN}${path}`);
  return p;
}

const head = (attrs = "") => `<script type="module" src="/pkg/storefront-loyalty.js" data-api-base="/" data-launcher="false" ${attrs}></script>`;
const itemsOf = (p, selector = "loyalty-recommendations") => p.$$eval(`${selector} .rec-item`, (list) =>
  list.map((li) => ({ title: li.querySelector(".rec-title").textContent, points: li.querySelector(".rec-points")?.textContent ?? "", href: li.querySelector("a").getAttribute("href") })));

// A catalog in columns of `n` products (ids p0..), each with two terms and a neighbour.
function bigCatalog(n, title = (i) => `Product ${i} ${"x".repeat(200)}`) {
  const ids = Array.from({ length: n }, (_, i) => `p${i}`);
  return {
    format: "columns-1",
    id: ids,
    title: { en: ids.map((_, i) => title(i)) },
    url: ids.map((id) => `/products/${id}`),
    image: ids.map(() => null),
    price: ids.map((_, i) => 1000 + i),
    popularity: ids.map((_, i) => i % 100),
    inStock: ids.map(() => 1),
    addedAt: ids.map(() => 1700000000),
    terms: Array.from({ length: 50 }, (_, t) => `c:cat${String(t).padStart(2, "0")}`),
    termCount: ids.map(() => 2),
    productTerms: ids.flatMap((_, i) => [i % 25, 25 + (i % 25)]),
    neighbourCount: ids.map(() => 1),
    neighbours: ids.map((_, i) => (i + 1) % n),
    neighbourWeights: ids.map(() => 500),
  };
}

test("a product-id holding a lone surrogate (set by a shop's script) still gets a list, not a skeleton for ever", async () => {
  const p = await hostPage("/rt-surrogate.html", `<!doctype html><html lang="en"><head>${head()}
    <script src="/rt-surrogate.js"></script></head><body><p id="shop">Shop</p><div id="here"></div></body></html>`,
  { scripts: { "/rt-surrogate.js": `addEventListener("DOMContentLoaded", () => { const l = document.createElement("loyalty-recommendations"); l.setAttribute("product-id", "longjing\\uD800"); document.getElementById("here").append(l); });` } });
  await p.waitForSelector("loyalty-recommendations .rec-item, loyalty-recommendations .empty", { timeout: 15000 });
  const errors = p.messages.filter((m) => m.startsWith("pageerror"));
  assert.deepEqual(errors, [], "an exception reached the page");
  await p.close();
});

test("two lists for different products on one page share one catalog, read once, not again at each new version", async () => {
  // With a panel, the full widget loads and tells the shell the program and the shopper it holds (new versions):
  // both lists are asked again.
  const p = await hostPage("/rt-two-lists.html", `<!doctype html><html lang="en"><head>${head()}</head><body>
    <loyalty-recommendations id="a" product-id="longjing"></loyalty-recommendations>
    <loyalty-recommendations id="b" product-id="mug" context="product"></loyalty-recommendations>
    <loyalty-panel></loyalty-panel></body></html>`);
  await p.waitForSelector("#a .rec-item", { timeout: 15000 });
  await p.waitForSelector("#b .rec-item", { timeout: 15000 });
  await p.waitForSelector("loyalty-panel .rewards", { timeout: 15000 });
  await sleep(1500);
  // The shell's worker asks without a Referer (no-referrer); the full widget's panel reads none.
  const catalogs = p.requested.filter((r) => r.url.includes("/v1/catalog") && !r.referer).map((r) => r.url);
  assert.deepEqual(catalogs, [`${ORIGIN}/v1/catalog?limit=2000&format=columns&near=longjing,mug`]);
  await p.close();
});

test("a program the shell accepts but whose rewards the list's projection cannot read: the list is not a silent skeleton for ever", async () => {
  const program = await (await fetch(`${ORIGIN}/v1/program`)).json();
  // Rewards are passed over by the shell's EarnConfig: a reward name given as a plain string.
  program.rewards[0].name = "Ten off";
  const p = await hostPage("/rt-reward-name.html", `<!doctype html><html lang="en"><head>${head()}</head><body>
    <loyalty-points product-id="longjing" price="16800"></loyalty-points>
    <loyalty-recommendations product-id="longjing"></loyalty-recommendations></body></html>`, {
    before: (page) => page.route(`${ORIGIN}/v1/program`, (route) => route.fulfill({ contentType: "application/json", body: JSON.stringify(program) })),
  });
  await p.waitForSelector("loyalty-points[data-points]", { timeout: 15000 });
  // The full widget is given the list, and says what is wrong with the program.
  for (const end = Date.now() + 15000; !p.messages.some((m) => m.includes("could not be read for the list")); await sleep(100)) {
    assert.ok(Date.now() < end, `the list is a skeleton and nothing says why: ${p.messages.join("; ")}`);
  }
  await p.close();
});

test("with personalisation turned off on a product page, leaving the page keeps no visit of that product on the device", async () => {
  const p = await hostPage("/rt-switch-off.html", `<!doctype html><html lang="en"><head>${head()}</head><body>
    <loyalty-recommendations product-id="longjing"></loyalty-recommendations></body></html>`);
  await p.waitForSelector("loyalty-recommendations .rec-item", { timeout: 15000 });
  await p.click("loyalty-recommendations input[role=switch]");
  await p.waitForFunction(() => document.querySelector("loyalty-recommendations").shadowRoot.querySelector(".note")?.textContent.startsWith("Not personalised"), null, { timeout: 20000 });
  // The shopper leaves for a page of the shop without the widget.
  await p.route(`${ORIGIN}/rt-elsewhere.html`, (route) => route.fulfill({ contentType: "text/html", body: "<!doctype html><p>elsewhere</p>" }));
  await p.goto(`${ORIGIN}/rt-elsewhere.html`);
  const kept = await p.evaluate(() => Object.entries(localStorage).filter(([k]) => k.includes(":visit:")));
  const prefs = await p.evaluate(() => Object.entries(localStorage).filter(([k]) => k.endsWith(":preferences")));
  assert.deepEqual(kept, [], "a visit of the product was written after the shopper turned personalisation off");
  await p.close();
});

// A custom backend's catalog in columns that holds the list's separators in an id or a category: refused as a
// catalog's objects refuse them (a product id or term holds no control character), so no product is listed with
// points computed on another price or another category; the console says why.
for (const [what, change] of [
  ["an id holding U+0000 and digits (another price)", (c) => ((c.id[3] = "cheap\u00009999999"), (c.price[3] = 100), (c.popularity[3] = 100))],
  ["a category holding U+0001 (a category with a bonus)", (c) => ((c.terms[0] = "c:a-coffee\u0001single-origin"), c.terms.sort())],
]) {
  test(`a catalog with ${what} is refused: no list with points the badge and the award would not give`, async () => {
    const catalog = bigCatalog(30, (i) => `Tea ${i}`);
    change(catalog);
    const p = await hostPage("/rt-separators.html", `<!doctype html><html lang="en"><head>${head()}</head><body>
      <loyalty-recommendations limit="12"></loyalty-recommendations></body></html>`, {
      before: (page) => page.route(`${ORIGIN}/v1/catalog?*`, (route) => route.fulfill({ contentType: "application/json", body: JSON.stringify(catalog) })),
    });
    for (const end = Date.now() + 15000; !p.messages.some((m) => m.includes("the catalog is not in the columns format")); await sleep(100)) {
      assert.ok(Date.now() < end, `no word of the refused catalog: ${p.messages.join("; ")}`);
    }
    await sleep(1500);
    assert.deepEqual(await itemsOf(p), [], "nothing listed from the refused catalog");
    await p.close();
  });
}

test("where the full widget cannot load, the list's personalisation switch still turns personalisation off", async () => {
  const p = await hostPage("/rt-switch-full-fails.html", `<!doctype html><html lang="en"><head>${head()}</head><body>
    <loyalty-recommendations product-id="longjing"></loyalty-recommendations></body></html>`, {
    before: (page) => page.route(`${ORIGIN}/pkg/storefront_loyalty_bg.wasm`, (route) => route.fulfill({ status: 503, body: "" })),
  });
  await p.waitForSelector("loyalty-recommendations .rec-item", { timeout: 15000 });
  await p.click("loyalty-recommendations input[role=switch]");
  await p.waitForFunction(() => document.querySelector("loyalty-recommendations").shadowRoot.querySelector(".note").textContent.startsWith("Not personalised"), null, { timeout: 15000 });
  const state = await p.evaluate(() => ({
    checked: document.querySelector("loyalty-recommendations").shadowRoot.querySelector("input[role=switch]").checked,
    note: document.querySelector("loyalty-recommendations").shadowRoot.querySelector(".note").textContent,
    preferences: Object.entries(localStorage).find(([k]) => k.endsWith(":preferences"))?.[1] ?? null,
  }));
  assert.equal(state.checked, false, "the switch springs back on: the shopper cannot opt out");
  assert.match(state.preferences ?? "", /"personalised":false/, "the choice is not kept");
  await p.close();
});

