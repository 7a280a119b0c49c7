// End-to-end: host pages that work against the widget, in real headless Chromium against the reference server
// in demo mode, under the strict CSP: a page whose scripts (loaded before the widget) pollute Array.prototype and
// Object.prototype, replace array methods, wrap window.fetch and JSON.parse; and a page that adds and removes the
// widget's elements 1,000 times, with the DOM's nodes and listeners and the JS heap measured before and after.
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

// Resolves once `ready()` holds, polled; fails after 30 s.
async function until(ready, ms = 30_000) {
  for (const end = Date.now() + ms; !ready(); ) {
    if (Date.now() > end) throw new Error(`not seen within ${ms} ms: ${ready}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

// Serves `html` at a same-origin path under the CSP, and `scripts` ({ path: source }) beside it.
async function hostPage(path, html, scripts = {}, before = async () => {}) {
  const p = await browser.newPage();
  p.messages = [];
  p.on("pageerror", (e) => p.messages.push(`pageerror: ${e.message}`));
  p.on("console", (m) => ["error", "warning"].includes(m.type()) && p.messages.push(`${m.type()}: ${m.text()}`));
  for (const [script, body] of Object.entries(scripts)) {
    await p.route(`${ORIGIN}${script}`, (route) => route.fulfill({ contentType: "text/javascript", body }));
  }
  await before(p);
  await p.route(`${ORIGIN}${path}`, (route) => route.fulfill({ contentType: "text/html", body: html, headers: { "content-security-policy": CSP } }));
  await p.addInitScript(() => {
    window.__violations = [];
    document.addEventListener("securitypolicyviolation", (e) => window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  await p.goto(`${ORIGIN}${path}`);
  return p;
}

// A shop's old libraries: enumerable additions to the prototypes (Prototype.js's Array#toJSON broke
// JSON.stringify of arrays), array methods replaced by hand-written versions, fetch and JSON.parse wrapped by
// an analytics script.
const HOSTILE = `
Array.prototype.toJSON = function () { return "hijacked"; };
Array.prototype.each = function (f) { for (let i = 0; i < this.length; i++) f(this[i], i); };
Object.prototype.polluted = "yes";
for (const name of ["map", "filter", "forEach", "indexOf", "includes", "find", "some", "every"]) {
  const original = Array.prototype[name];
  Array.prototype[name] = function (...args) { window.__arrayCalls = (window.__arrayCalls || 0) + 1; return original.apply(this, args); };
}
const realFetch = window.fetch;
window.fetch = function (input, init) { window.__fetches = (window.__fetches || 0) + 1; return realFetch.call(this, input, init); };
const realParse = JSON.parse;
JSON.parse = function (text, reviver) { window.__parses = (window.__parses || 0) + 1; return realParse(text, reviver); };
`;

test("a page that pollutes prototypes and wraps fetch and JSON.parse: the widget still shows the server's numbers", async () => {
  const signed = await (await fetch(`${ORIGIN}/demo/identity?customer=demo-gold`)).json();
  const p = await hostPage("/hostile-scripts.html", `<!doctype html><html lang="en"><head>
    <script src="/hostile.js"></script>
    <script type="module" src="/pkg/storefront-loyalty.js" data-api-base="/" data-customer-id="${signed.customerId}"
      data-timestamp="${signed.timestamp}" data-digest="${signed.digest}"></script></head>
    <body><p id="shop">Shop</p><loyalty-points product-id="longjing" price="16800"></loyalty-points>
    <loyalty-panel></loyalty-panel></body></html>`, { "/hostile.js": HOSTILE });
  await p.waitForSelector("loyalty-points[data-points]");
  await p.waitForSelector("loyalty-panel .balance");
  const server = await (await fetch(`${ORIGIN}/v1/customers/me`, { headers: { authorization: signed.authorization } })).json();
  const balance = await p.textContent("loyalty-panel .balance .points");
  assert.equal(balance.replace(/[^\d]/g, ""), String(server.balance.available), `${balance} shows ${server.balance.available}`);
  assert.match(await p.textContent("loyalty-points .badge"), /\d+/);
  const counts = await p.evaluate(() => ({ fetches: window.__fetches ?? 0 }));
  assert.ok(counts.fetches > 0, "the widget's requests went through the page's wrapper");
  assert.deepEqual(p.messages, []);
  assert.deepEqual(await p.evaluate(() => window.__violations), []);
  assert.equal(await p.textContent("#shop"), "Shop");
  console.log(`hostile scripts: Array.prototype.toJSON, enumerable Array/Object.prototype additions, 8 array methods replaced, fetch and JSON.parse wrapped: the panel shows ${server.balance.available} points as the server, ${counts.fetches} requests through the wrapper`);
  await p.close();
});

test("elements added and removed 1,000 times leave no nodes, listeners or heap behind", async () => {
  const p = await hostPage("/churn.html", `<!doctype html><html lang="en"><head>
    <script type="module" src="/pkg/storefront-loyalty.js" data-api-base="/" data-launcher="false"></script></head>
    <body><main id="shop"></main></body></html>`);
  await p.waitForFunction(() => customElements.get("loyalty-points") !== undefined);
  const cdp = await p.context().newCDPSession(p);
  const churn = (times) => p.evaluate(async (n) => {
    const shop = document.getElementById("shop");
    for (let i = 0; i < n; i++) {
      const points = document.createElement("loyalty-points");
      points.setAttribute("product-id", `p${i % 7}`);
      points.setAttribute("price", String(1000 + i));
      const panel = document.createElement("loyalty-panel");
      const cart = document.createElement("loyalty-cart-points");
      cart.setAttribute("lines", JSON.stringify([{ productId: "a", unitPrice: 1000, quantity: 1 }]));
      shop.append(points, panel, cart);
      if (i % 10 === 0) await new Promise((resolve) => requestAnimationFrame(resolve));
      points.remove();
      panel.remove();
      cart.remove();
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }, times);
  const measure = async () => {
    for (let i = 0; i < 3; i++) await cdp.send("HeapProfiler.collectGarbage");
    const counters = await cdp.send("Memory.getDOMCounters");
    const heap = await cdp.send("Runtime.getHeapUsage");
    return { nodes: counters.nodes, listeners: counters.jsEventListeners, heap: heap.usedSize };
  };
  await churn(100); // warm-up: caches, the program and the compiled code settle
  const start = await measure();
  await churn(1000);
  const end = await measure();
  console.log(`1,000 add/remove cycles of three elements: DOM nodes ${start.nodes} -> ${end.nodes}, JS listeners ${start.listeners} -> ${end.listeners}, JS heap ${(start.heap / 1048576).toFixed(2)} -> ${(end.heap / 1048576).toFixed(2)} MB`);
  // Tolerances: a handful of nodes (a text node the browser keeps), and 4 MB of heap for the JIT and caches
  // on a busy machine; a leak of one shadow root per cycle would be thousands of nodes and 3,000 listeners.
  assert.ok(end.nodes - start.nodes < 50, `nodes grew by ${end.nodes - start.nodes}`);
  assert.ok(end.listeners - start.listeners < 10, `listeners grew by ${end.listeners - start.listeners}`);
  assert.ok(end.heap - start.heap < 4 * 1048576, `heap grew by ${end.heap - start.heap} bytes`);
  assert.deepEqual(p.messages, []);
  await p.close();
});

// Markup a page lets through (a review, a product text rendered as HTML) can hold a <script> tag: inserted by
// innerHTML it never runs, but it is in the DOM when the loader looks for its own tag to read its settings.
test("a script tag injected as markup cannot choose the loader's settings: the widget stays off, named, the page works on", async () => {
  const requests = [];
  const inject = `document.head.insertAdjacentHTML("beforeend",
    '<script type="module" src="/pkg/storefront-loyalty.js" data-api-base="https://evil.example/" data-sign-in-url="https://evil.example/login"></' + 'script>');`;
  const p = await hostPage("/injected-tag.html", `<!doctype html><html lang="en"><head>
    <script src="/inject.js"></script>
    <script type="module" src="/pkg/storefront-loyalty.js" data-api-base="/" data-sign-in-url="/account/login"></script></head>
    <body><p id="shop">Shop</p><loyalty-panel></loyalty-panel></body></html>`, { "/inject.js": inject });
  p.on("request", (r) => requests.push(r.url()));
  await p.waitForFunction(() => document.querySelectorAll("script[type=module]").length === 2);
  await p.waitForTimeout(1500);
  assert.equal(await p.evaluate(() => customElements.get("loyalty-panel") === undefined), true, "the widget did not start");
  assert.ok(!requests.some((u) => u.startsWith("https://evil.example")), requests.join(", "));
  assert.equal(p.messages.length, 1, p.messages.join("\n"));
  assert.match(p.messages[0], /^error: storefront-loyalty: 2 <script> tags load the loader with different settings \(data-api-base, data-sign-in-url\)/);
  assert.deepEqual(await p.evaluate(() => window.__violations), []);
  assert.equal(await p.textContent("#shop"), "Shop");
  await p.close();

  // The same tag twice with the same settings (a theme and an app both add it) is not ambiguous: it starts.
  const tag = `<script type="module" src="/pkg/storefront-loyalty.js" data-api-base="/" data-launcher="false"></script>`;
  const twice = await hostPage("/twice.html", `<!doctype html><html lang="en"><head>${tag}${tag}</head>
    <body><loyalty-panel></loyalty-panel></body></html>`);
  await twice.waitForSelector("loyalty-panel .rewards");
  assert.deepEqual(twice.messages, []);
  await twice.close();
});

// A CDN (or anything between it and the shopper) serving a changed copy of a file the loader brings in: the shell's
// code stops the widget before it starts; the full widget's (loaded for the panel) leaves the shell's elements
// defined and the panel empty, with the reason in the console.
for (const [file, what, shell] of [["shell_bg.wasm", "the shell's wasm", true], ["elements.js", "the elements", false], ["storefront_loyalty.js", "the glue", false]]) {
  test(`a tampered copy of ${what} (${file}) is refused: its code never runs, the console says why, the page works on`, async () => {
    const original = await (await fetch(`${ORIGIN}/pkg/${file}`)).text();
    const tampered = `${original}\nglobalThis.__tampered = true;\n`;
    const p = await hostPage(`/tampered-${file}.html`, `<!doctype html><html lang="en"><head>
      <script type="module" src="/pkg/storefront-loyalty.js" data-api-base="/"></script></head>
      <body><p id="shop">Shop</p><loyalty-panel></loyalty-panel></body></html>`, { [`/pkg/${file}`]: tampered });
    // Refused once it has arrived (the shell's wasm arrives in the shell's worker, out of the page's resource
    // timing): the console says so.
    await until(() => p.messages.some((m) => m.includes("storefront-loyalty:")));
    await p.waitForTimeout(1000);
    assert.equal(await p.evaluate(() => globalThis.__tampered === undefined), true, "the tampered code never ran");
    assert.equal(await p.evaluate(() => customElements.get("loyalty-panel") === undefined), shell, "the widget started only with its shell intact");
    assert.equal(await p.evaluate(() => document.querySelector("loyalty-panel").shadowRoot?.querySelector(".rewards") ?? null), null, "no panel");
    const ours = p.messages.filter((m) => m.includes("storefront-loyalty:"));
    assert.equal(ours.length, 1, p.messages.join("\n"));
    assert.match(ours[0], new RegExp(`^error: storefront-loyalty: could not load its code: .*/pkg/${file.replace(".", "\\.")} does not match its integrity hash`));
    assert.equal(await p.textContent("#shop"), "Shop");
    assert.deepEqual(await p.evaluate(() => window.__violations), []);
    await p.close();
  });
}

// The list's module arrives in the shell's worker when a list comes near: a changed copy never runs, and the
// list is ranked by the full widget instead (the same rules), with the reason said once in the console.
test("a tampered copy of the list's wasm (recs.wasm) is refused: the full widget ranks the list, the console says why", async () => {
  const original = Buffer.from(await (await fetch(`${ORIGIN}/pkg/recs.wasm`)).arrayBuffer());
  const tampered = Buffer.from(original);
  tampered[tampered.length - 1] ^= 1;
  const p = await hostPage("/tampered-recs.html", `<!doctype html><html lang="en"><head>
    <script type="module" src="/pkg/storefront-loyalty.js" data-api-base="/" data-launcher="false"></script></head>
    <body><p id="shop">Shop</p><loyalty-recommendations product-id="longjing"></loyalty-recommendations></body></html>`, {},
  (page) => page.route(`${ORIGIN}/pkg/recs.wasm`, (route) => route.fulfill({ contentType: "application/wasm", body: tampered })));
  const requests = [];
  p.on("request", (r) => requests.push(r.url()));
  await p.waitForSelector("loyalty-recommendations .rec-item", { timeout: 15000 });
  const ours = p.messages.filter((m) => m.includes("storefront-loyalty:"));
  assert.equal(ours.length, 1, p.messages.join("\n"));
  assert.match(ours[0], /\/pkg\/recs\.wasm does not match its integrity hash/);
  assert.ok(requests.some((u) => u.endsWith("/storefront_loyalty_bg.wasm")), "ranked by the full widget");
  assert.equal(await p.textContent("#shop"), "Shop");
  assert.deepEqual(await p.evaluate(() => window.__violations), []);
  await p.close();
});

// A module's imports resolve against its response's URL, after redirects (the module map keys it by the request's):
// had the verified elements imported the glue by a relative name, a CDN redirecting elements.js to a copy
// elsewhere (with the genuine bytes, so it passes its check) would have had them import that place's glue, which
// nothing checked. The shop here is a server of the test's own (a route does not see a redirect's second request):
// it serves the page and the widget's files, and passes the API on to the demo server.
test("a redirected file cannot bring in an unchecked glue: the modules import nothing, the loader imports each", async () => {
  const { createServer } = await import("node:http");
  const { readFileSync } = await import("node:fs");
  const pkg = new URL("../../pkg/", import.meta.url);
  const types = { js: "text/javascript", wasm: "application/wasm", html: "text/html" };
  const page = `<!doctype html><html lang="en"><head>
    <script type="module" src="/pkg/storefront-loyalty.js" data-api-base="/" data-launcher="false"></script></head>
    <body><p id="shop">Shop</p><loyalty-panel></loyalty-panel></body></html>`;
  const shop = createServer(async (request, response) => {
    if (request.url.startsWith("/v1/")) {
      const answer = await fetch(`${ORIGIN}${request.url}`);
      response.writeHead(answer.status, { "content-type": answer.headers.get("content-type") ?? "application/json" });
      response.end(Buffer.from(await answer.arrayBuffer()));
      return;
    }
    if (request.url === "/pkg/elements.js") {
      response.writeHead(302, { location: "/moved/elements.js" }).end();
      return;
    }
    let body;
    try {
      body = request.url === "/cdn.html" ? page : readFileSync(new URL(request.url.split("/").pop(), pkg));
    } catch {
      response.writeHead(404).end();
      return;
    }
    if (request.url === "/moved/storefront_loyalty.js") body = `${body}\nglobalThis.__tampered = true;\n`;
    response.writeHead(200, { "content-type": types[request.url.split(".").pop()] ?? "application/octet-stream", "content-security-policy": CSP });
    response.end(body);
  });
  await new Promise((resolve) => shop.listen(0, "127.0.0.1", resolve));
  const p = await browser.newPage();
  const messages = [];
  p.on("console", (m) => ["error", "warning"].includes(m.type()) && messages.push(`${m.type()}: ${m.text()}`));
  try {
    await p.goto(`http://127.0.0.1:${shop.address().port}/cdn.html`);
    await p.waitForSelector("loyalty-panel .rewards");
    assert.equal(await p.evaluate(() => globalThis.__tampered === undefined), true, "the other place's glue never ran");
    // (The test's shop has no favicon: the browser's own 404 for it is not the widget's.)
    assert.deepEqual(messages.filter((m) => !m.includes("404")), []);
  } finally {
    await p.close();
    shop.close();
  }
});

// The module map keeps the first copy fetched for a URL and ignores a later link's integrity: a preload hint of
// the page's own without the hash (or a wrong one) would have emptied the check.
test("a modulepreload hint of the page's without the file's hash is refused, and its copy never runs", async () => {
  const original = await (await fetch(`${ORIGIN}/pkg/elements.js`)).text();
  const p = await hostPage("/hinted.html", `<!doctype html><html lang="en"><head>
    <link rel="modulepreload" href="/pkg/elements.js">
    <script type="module" src="/pkg/storefront-loyalty.js" data-api-base="/"></script></head>
    <body><p id="shop">Shop</p><loyalty-panel></loyalty-panel></body></html>`, { "/pkg/elements.js": `${original}\nglobalThis.__tampered = true;\n` });
  await until(() => p.messages.some((m) => m.includes("storefront-loyalty:")));
  await p.waitForTimeout(1000);
  assert.equal(await p.evaluate(() => globalThis.__tampered === undefined), true, "the tampered code never ran");
  assert.equal(await p.evaluate(() => document.querySelector("loyalty-panel").shadowRoot?.querySelector(".rewards") ?? null), null, "no panel");
  const ours = p.messages.filter((m) => m.includes("storefront-loyalty:"));
  assert.equal(ours.length, 1, p.messages.join("\n"));
  assert.match(ours[0], /modulepreload link for .*\/pkg\/elements\.js without its integrity hash/);
  assert.equal(await p.textContent("#shop"), "Shop");
  await p.close();
});

// Safari before 17 and Firefox before 115 ignore <link rel=modulepreload>: its load never came, so the loader
// waited for ever, silent. Such a browser is told apart and gets the one console message of an unsupported one.
test("a browser without modulepreload gets the unsupported message, not a silent wait", async () => {
  const infos = [];
  const p = await hostPage("/old-browser.html", `<!doctype html><html lang="en"><head>
    <script type="module" src="/pkg/storefront-loyalty.js" data-api-base="/"></script></head>
    <body><p id="shop">Shop</p><loyalty-panel></loyalty-panel></body></html>`, {}, async (page) => {
    page.on("console", (m) => m.text().includes("storefront-loyalty:") && infos.push(`${m.type()}: ${m.text()}`));
    await page.addInitScript(() => {
      const supports = DOMTokenList.prototype.supports;
      DOMTokenList.prototype.supports = function (token) { return token === "modulepreload" ? false : supports.call(this, token); };
    });
  });
  await p.waitForFunction(() => document.readyState === "complete");
  await p.waitForTimeout(1000);
  assert.equal(infos.length, 1, infos.join("\n"));
  assert.match(infos[0], /^info: storefront-loyalty: this browser lacks what the loyalty widget needs/);
  assert.equal(await p.evaluate(() => customElements.get("loyalty-panel") === undefined), true);
  await p.close();
});
