// End-to-end: the product page's shell (js/loader.js and the shell's wasm) against hostile pages and answers, in
// real headless Chromium against the reference server in demo mode. Each test states what must hold of the
// shell as the script tag ships it: nothing thrown into the shop's page, the identity sent nowhere the settings
// refuse, answers bounded as the full client bounds them, and the badges right on pages with old libraries.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";

const BASE = process.env.DEMO_URL ?? "http://127.0.0.1:8080/";
const ORIGIN = new URL(BASE).origin;
const ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"];

let browser;
before(async () => {
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", args: ARGS });
});
after(async () => browser?.close());

// Serves `html` at a same-origin path (no CSP, so nothing the page does is stopped for it), and `scripts`
// ({ path: source }) beside it; `before` adds routes first. Page errors and console errors are kept.
async function hostPage(path, html, scripts = {}, before = async () => {}) {
  const p = await browser.newPage();
  p.messages = [];
  p.on("pageerror", (e) => p.messages.push(`pageerror: ${e.message}`));
  p.on("console", (m) => ["error", "warning"].includes(m.type()) && p.messages.push(`${m.type()}: ${m.text()}`));
  for (const [script, body] of Object.entries(scripts)) {
    await p.route(`${ORIGIN}${script}`, (route) => route.fulfill({ contentType: "text/javascript", body }));
  }
  await before(p);
  await p.route(`${ORIGIN}${path}`, (route) => route.fulfill({ contentType: "text/html", body: html }));
  await p.goto(`${ORIGIN}${path}`);
  return p;
}

const defined = (p) => p.waitForFunction(() => customElements.get("loyalty-points") !== undefined, null, { timeout: 15_000 });
const signIn = async (customer) => (await fetch(`${ORIGIN}/demo/identity?customer=${customer}`)).json();

test("a page language Intl refuses (lang=en_US) throws nothing into the page, and the badge names its minimum order", async () => {
  // The demo program's minimum order is ¥10: a ¥5 product's badge says "on orders from ¥10.00", which the loader
  // formats with Intl.NumberFormat in the element's locale, here the page's <html lang>, as shops write it.
  const p = await hostPage("/shell-locale.html", `<!doctype html><html lang="en_US"><head>
    <script type="module" src="/pkg/storefront-loyalty.js" data-api-base="/" data-launcher="false"></script></head>
    <body><p id="shop">Shop</p><loyalty-points product-id="longjing" price="500"></loyalty-points>
    <loyalty-points product-id="longjing" price="500" locale="zh_CN"></loyalty-points></body></html>`);
  await defined(p);
  await p.waitForTimeout(1500);
  const badges = await p.$$eval("loyalty-points", (els) => els.map((e) => e.shadowRoot?.querySelector(".badge")?.textContent ?? ""));
  assert.deepEqual(p.messages, [], "nothing thrown or logged");
  assert.match(badges[0], /on orders from .*10/, `the first badge says ${JSON.stringify(badges[0])}`);
  assert.match(badges[1], /订单满/, `the second badge says ${JSON.stringify(badges[1])}`);
  assert.equal(await p.textContent("#shop"), "Shop");
  await p.close();
});

test("an apiBase the settings refuse is sent no request and never the shopper's identity", async () => {
  const signed = await signIn("demo-gold");
  // A relative base ("loyalty", a scheme forgotten) resolves against the document's base URL, which a <base>
  // element (here one of the page's; injected markup can add one too) sends to another origin.
  const other = ORIGIN.replace("127.0.0.1", "localhost");
  const seen = [];
  const p = await hostPage("/shell/base.html", `<!doctype html><html lang="en"><head><base href="${other}/elsewhere/">
    <script type="module" src="${ORIGIN}/pkg/storefront-loyalty.js" data-api-base="loyalty" data-customer-id="${signed.customerId}"
      data-timestamp="${signed.timestamp}" data-digest="${signed.digest}"></script></head>
    <body><loyalty-points product-id="longjing" price="16800"></loyalty-points></body></html>`, {}, async (page) => {
    page.on("request", (r) => r.url().includes("/v1/") && seen.push(`${r.method()} ${r.url()} ${r.headers().authorization ?? ""}`));
    await page.route(`${other}/**`, (route) => route.fulfill({ status: 200, contentType: "application/json", body: "{}",
      headers: { "access-control-allow-origin": "*", "access-control-allow-headers": "authorization, if-none-match" } }));
  });
  await p.waitForTimeout(2000);
  assert.ok(p.messages.some((m) => m.includes("data-api-base")), `the console names data-api-base: ${p.messages.join(" | ")}`);
  assert.deepEqual(seen, [], "no request for a refused apiBase");
  await p.close();
});

// The demo's program, padded in a member the shell's projection passes over unread: `name.en` of `chars`
// two-byte characters.
async function paddedProgram(chars) {
  const program = await (await fetch(`${ORIGIN}/v1/program`)).json();
  program.name.en = "é".repeat(chars);
  return JSON.stringify(program);
}

test("an answer over 2,000,000 bytes is refused by the shell, as the full client refuses it", async () => {
  // 1,100,000 characters of "é" are 2,200,000 bytes of UTF-8: over the client's maxResponseBytes, under
  // 2,000,000 UTF-16 code units.
  const body = await paddedProgram(1_100_000);
  assert.ok(Buffer.byteLength(body) > 2_000_000 && body.length < 2_000_000);
  const p = await hostPage("/shell-large.html", `<!doctype html><html lang="en"><head>
    <script type="module" src="/pkg/storefront-loyalty.js" data-api-base="/" data-launcher="false"></script></head>
    <body><loyalty-points product-id="longjing" price="16800"></loyalty-points></body></html>`, {}, async (page) => {
    await page.route(`${ORIGIN}/v1/program`, (route) => route.fulfill({ status: 200, contentType: "application/json", body }));
  });
  await defined(p);
  await p.waitForTimeout(2500);
  const shown = await p.$eval("loyalty-points", (e) => e.getAttribute("data-points"));
  const full = await p.evaluate(async () => {
    const client = document.querySelector("loyalty-points").client;
    return client ? client.state().error?.code ?? client.state().status : "not loaded";
  });
  assert.equal(shown, null, `the badge shows ${shown} points from an answer the full client refuses (${full})`);
  await p.close();
});

test("an answer that is not UTF-8 is refused by the shell, as the full client refuses it", async () => {
  const text = await paddedProgram(1);
  const body = Buffer.from(text.replace("é", "\u0000"), "utf8");
  body[body.indexOf(0)] = 0xff; // a byte that is never UTF-8, inside the program's name
  const p = await hostPage("/shell-latin1.html", `<!doctype html><html lang="en"><head>
    <script type="module" src="/pkg/storefront-loyalty.js" data-api-base="/" data-launcher="false"></script></head>
    <body><loyalty-points product-id="longjing" price="16800"></loyalty-points></body></html>`, {}, async (page) => {
    await page.route(`${ORIGIN}/v1/program`, (route) => route.fulfill({ status: 200, contentType: "application/json", body }));
  });
  await defined(p);
  await p.waitForTimeout(2500);
  const shown = await p.$eval("loyalty-points", (e) => e.getAttribute("data-points"));
  assert.equal(shown, null, `the badge shows ${shown} points from an answer that is not UTF-8`);
  await p.close();
});

// Prototype.js (still on old shops) defines Array.prototype.toJSON, which makes JSON.stringify write every
// array as a string. tests/e2e/hostile.test.mjs holds the full widget to such a page; these hold the shell.
const PROTOTYPE_JS = `Array.prototype.toJSON = function () { return "hijacked"; };`;

test("a cart property's lines are read on a page whose Array.prototype.toJSON is Prototype.js's", async () => {
  const p = await hostPage("/shell-cart.html", `<!doctype html><html lang="en"><head><script src="/prototype.js"></script>
    <script type="module" src="/pkg/storefront-loyalty.js" data-api-base="/" data-launcher="false"></script></head>
    <body><loyalty-cart-points id="cart"></loyalty-cart-points>
    <script type="module">document.getElementById("cart").cart = { currency: "CNY", lines: [{ productId: "longjing", unitPrice: 16800, quantity: 2 }] };</script>
    </body></html>`, { "/prototype.js": PROTOTYPE_JS });
  await defined(p);
  await p.waitForTimeout(1500);
  const text = await p.$eval("loyalty-cart-points", (e) => e.shadowRoot.querySelector(".badge").textContent);
  assert.match(text, /This order earns \d/, `the cart badge says ${JSON.stringify(text)}`);
  assert.deepEqual(p.messages, []);
  await p.close();
});

test("badges keep following their attributes once the full widget runs on a page with Prototype.js's Array#toJSON", async () => {
  const p = await hostPage("/shell-follow.html", `<!doctype html><html lang="en"><head><script src="/prototype.js"></script>
    <script type="module" src="/pkg/storefront-loyalty.js" data-api-base="/" data-launcher="false"></script></head>
    <body><loyalty-points product-id="longjing" price="16800"></loyalty-points><loyalty-panel></loyalty-panel></body></html>`,
  { "/prototype.js": PROTOTYPE_JS });
  await p.waitForSelector("loyalty-points[data-points]");
  const before = Number(await p.getAttribute("loyalty-points", "data-points"));
  await p.waitForFunction(() => document.querySelector("loyalty-points").client?.state().status === "fresh", null, { timeout: 15_000 });
  await p.$eval("loyalty-points", (e) => e.setAttribute("price", "33600"));
  await p.waitForTimeout(500);
  const after = Number(await p.getAttribute("loyalty-points", "data-points"));
  const busy = await p.$eval("loyalty-points", (e) => e.shadowRoot.querySelector(".badge").hasAttribute("data-loading"));
  assert.equal(after, before * 2, `twice the price earns twice the points: ${before} then ${after}`);
  assert.equal(busy, false, "the badge is not left as a loading placeholder");
  await p.close();
});

// Two pages of one browser (one localStorage): the first signed in as `first`, the second as `second` (or a
// guest); each page runs the shell only (a product page: no panel, no launcher). The second page's keys after
// it has started.
async function leftBehind(first, second) {
  const context = await browser.newContext();
  const tag = (signed) => `<script type="module" src="/pkg/storefront-loyalty.js" data-api-base="/" data-launcher="false"${signed
    ? ` data-customer-id="${signed.customerId}" data-timestamp="${signed.timestamp}" data-digest="${signed.digest}"` : ""}></script>`;
  const open = async (path, signed) => {
    const p = await context.newPage();
    p.messages = [];
    p.on("pageerror", (e) => p.messages.push(`pageerror: ${e.message}`));
    await p.route(`${ORIGIN}${path}`, (route) => route.fulfill({ contentType: "text/html",
      body: `<!doctype html><html lang="en"><head>${tag(signed)}</head><body><loyalty-points product-id="longjing" price="16800"></loyalty-points></body></html>` }));
    await p.goto(`${ORIGIN}${path}`);
    await p.waitForSelector("loyalty-points[data-points]");
    await p.waitForTimeout(1500);
    return p;
  };
  const a = await open("/shell-first.html", first);
  const cached = await a.evaluate(() => Object.keys(localStorage).filter((k) => k.includes(":shopper:")));
  await a.close();
  const b = await open("/shell-second.html", second);
  const keys = await b.evaluate(() => Object.keys(localStorage).filter((k) => k.includes(":shopper:")));
  await context.close();
  return { cached, keys };
}

test("a product page that starts as a guest leaves no signed-out shopper's cached state (codes, birthday) on the device", async () => {
  const { cached, keys } = await leftBehind(await signIn("demo-gold"), null);
  assert.ok(cached.some((k) => k.endsWith(":shopper:demo-gold")), `the first page cached the shopper: ${cached}`);
  assert.deepEqual(keys, [], "the guest's page removed the shopper who signed out");
});

test("a product page that starts as another shopper leaves none of the one before on the device", async () => {
  const { cached, keys } = await leftBehind(await signIn("demo-gold"), await signIn("demo-new"));
  assert.ok(cached.some((k) => k.endsWith(":shopper:demo-gold")), `the first page cached the shopper: ${cached}`);
  assert.ok(keys.every((k) => !k.endsWith(":shopper:demo-gold")), `demo-gold's state stays: ${keys}`);
});

// The shell's worker (js/loader.js `connect`), from an adversarial read: a page that takes Worker away, stubs it
// or wraps it, a CSP that reports, and the history the worker's messages write.
const PREFIX = `storefront-loyalty:1:${ORIGIN}:`;
const STRICT = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; connect-src 'self'";
const BADGE = `<loyalty-points product-id="longjing" price="16800" categories="tea"></loyalty-points>`;
const shellPage = (body = BADGE) => `<!doctype html><html lang="en"><head>
  <script type="module" src="/pkg/storefront-loyalty.js" data-api-base="/" data-launcher="false"></script></head>
  <body><p id="shop">Shop</p>${body}</body></html>`;
const PRODUCT = `<script type="application/ld+json">{"@context":"https://schema.org","@type":"Product","productID":"longjing",
  "offers":{"@type":"Offer","price":"168.00","priceCurrency":"CNY"}}</script><loyalty-points></loyalty-points>`;

for (const [what, init] of [
  ["window.Worker is undefined", () => { window.Worker = undefined; }],
  ["window.Worker is deleted", () => { delete window.Worker; }],
  ["Worker is a stub that never answers", () => { window.Worker = class { postMessage() {} terminate() {} }; }],
]) {
  test(`a page where ${what} still gets its badge (the shell on the page), nothing thrown`, async () => {
    const p = await hostPage(`/shell-noworker-${what.length}.html`, shellPage(), {}, (page) => page.addInitScript(init));
    await p.waitForSelector("loyalty-points[data-points]", { timeout: 10_000 });
    assert.match(await p.$eval("loyalty-points", (e) => e.shadowRoot.querySelector(".badge").textContent), /Earn 168 points/);
    assert.deepEqual(p.messages, []);
    await p.close();
  });
}

test("a Worker wrapper under a CSP that refuses blob: workers: the shell on the page, and a day without asking again", async () => {
  const reports = [];
  const html = shellPage();
  const context = await browser.newContext();
  await context.route(`${ORIGIN}/csp-report`, (route) => (reports.push(route.request().postData()), route.fulfill({ status: 204 })));
  await context.route(/\/shell-wrapped\.html$/, (route) => route.fulfill({ contentType: "text/html", body: html, headers: { "content-security-policy": `${STRICT}; report-uri /csp-report` } }));
  await context.addInitScript(() => { const Real = window.Worker; window.Worker = function (url, options) { return new Real(url, options); }; });
  for (let load = 0; load < 2; load++) {
    const p = await context.newPage();
    await p.goto(`${ORIGIN}/shell-wrapped.html`);
    await p.waitForSelector("loyalty-points[data-points]", { timeout: 10_000 });
    await p.waitForTimeout(500);
    await p.close();
  }
  assert.equal(reports.length, 1, `one report for two page views: ${reports.join("\n")}`);
  await context.close();
});

test("a product page left by a shopper who turned personalisation off keeps no visit, nor its time", async () => {
  const context = await browser.newContext();
  const p = await context.newPage();
  await p.route(`${ORIGIN}/shell-optout.html`, (route) => route.fulfill({ contentType: "text/html", body: shellPage(PRODUCT) }));
  await p.goto(`${ORIGIN}/demo/identity?customer=demo-new`);
  await p.evaluate((prefix) => localStorage.setItem(`${prefix}preferences`, JSON.stringify({ personalised: false })), PREFIX);
  await p.goto(`${ORIGIN}/shell-optout.html`);
  await p.waitForSelector("loyalty-points[data-points]");
  await p.waitForTimeout(500);
  await p.goto(`${ORIGIN}/demo/identity?customer=demo-new`); // left: the page is hidden
  const keys = await p.evaluate(() => Object.keys(localStorage));
  assert.deepEqual(keys.filter((k) => k.includes(":visit") || k.endsWith(":history")), [], `kept: ${keys}`);
  await context.close();
});

test("time spent on product pages in two tabs is added to the history by the next page, and newer events stay", async () => {
  const context = await browser.newContext();
  const now = Math.floor(Date.now() / 1000);
  const product = (id) => shellPage(PRODUCT.replaceAll("longjing", id));
  const pages = [];
  for (const id of ["longjing", "gaiwan"]) {
    const p = await context.newPage();
    await p.route(`${ORIGIN}/shell-tab-${id}.html`, (route) => route.fulfill({ contentType: "text/html", body: product(id) }));
    await p.goto(`${ORIGIN}/shell-tab-${id}.html`);
    await p.waitForSelector("loyalty-points[data-points]");
    pages.push(p);
  }
  await pages[0].waitForTimeout(2100);
  // A cart event written meanwhile (another tab's full widget): folding the visits must not prune it.
  await pages[0].evaluate(([prefix, now]) => {
    const history = JSON.parse(localStorage.getItem(`${prefix}history`));
    history.events.push({ productId: "yirgacheffe", kind: "cart", at: now + 1, dwellSeconds: 0 });
    localStorage.setItem(`${prefix}history`, JSON.stringify(history));
  }, [PREFIX, now]);
  for (const p of pages) await p.close({ runBeforeUnload: true });
  const next = await context.newPage();
  await next.route(`${ORIGIN}/shell-next.html`, (route) => route.fulfill({ contentType: "text/html", body: shellPage() }));
  await next.goto(`${ORIGIN}/shell-next.html`);
  await next.waitForFunction((prefix) => Object.keys(localStorage).every((k) => !k.startsWith(`${prefix}visit:`)), PREFIX, { timeout: 10_000 });
  const events = await next.evaluate((prefix) => JSON.parse(localStorage.getItem(`${prefix}history`)).events, PREFIX);
  const dwell = Object.fromEntries(events.filter((e) => e.kind === "view").map((e) => [e.productId, e.dwellSeconds]));
  assert.ok(dwell.longjing >= 2 && dwell.gaiwan >= 2, `the time on both pages: ${JSON.stringify(events)}`);
  assert.ok(events.some((e) => e.productId === "yirgacheffe" && e.kind === "cart"), `the newer event stays: ${JSON.stringify(events)}`);
  await context.close();
});

test("a badge asked for 10,000 prices keeps a bounded memo and still says the last one", async () => {
  const p = await hostPage("/shell-memo.html", shellPage());
  await p.waitForSelector("loyalty-points[data-points]");
  const cdp = await p.context().newCDPSession(p);
  const heap = async () => {
    for (let i = 0; i < 3; i++) await cdp.send("HeapProfiler.collectGarbage");
    return (await cdp.send("Runtime.getHeapUsage")).usedSize;
  };
  const start = await heap();
  await p.evaluate(async () => {
    const badge = document.querySelector("loyalty-points");
    for (let i = 0; i < 10_000; i++) {
      badge.setAttribute("price", String(1000 + i));
      if (i % 100 === 0) await new Promise((r) => setTimeout(r, 0));
    }
  });
  await p.waitForFunction(() => document.querySelector("loyalty-points").dataset.points === "109");
  const grown = (await heap()) - start;
  assert.ok(grown < 2 * 1048576, `the heap grew by ${grown} bytes`);
  assert.deepEqual(p.messages, []);
  await p.close();
});
