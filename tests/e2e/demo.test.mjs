// End-to-end: the demo shop with the widget's elements, in real headless Chromium against the reference
// server in demo mode, under the server's strict CSP. A guest and signed-in shoppers, the badges (from
// attributes and from JSON-LD), the cart, zh-CN and en, the launcher's dialog by keyboard, a redemption
// checked against the server's ledger, axe-core on the pages with the panel closed and open, layout shift,
// a hostile host page, and bad or doubled script tags.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { chromium } from "playwright-core";

const BASE = process.env.DEMO_URL ?? "http://127.0.0.1:8080/";
const ORIGIN = new URL(BASE).origin;
const ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"];
const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; connect-src 'self'; worker-src 'self' blob:";
const AXE = readFileSync(new URL("../../node_modules/axe-core/axe.min.js", import.meta.url), "utf8");

let browser;
let page;
const errors = [];

// A page that records errors, console errors and warnings, and CSP violations.
async function open(url, { width = 1100, height = 900 } = {}) {
  const p = await browser.newPage({ viewport: { width, height } });
  p.messages = [];
  p.on("pageerror", (e) => p.messages.push(`pageerror: ${e.message}`));
  p.on("console", (m) => ["error", "warning"].includes(m.type()) && p.messages.push(`${m.type()}: ${m.text()}`));
  await p.addInitScript(() => {
    window.__violations = [];
    document.addEventListener("securitypolicyviolation", (e) => window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  await p.goto(url);
  return p;
}

before(async () => {
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", args: ARGS });
  page = await open(BASE);
  await page.waitForSelector("body[data-ready=true]", { timeout: 15000 });
});

after(async () => browser?.close());

const badge = (id) => page.textContent(`.products li[data-product="${id}"] loyalty-points .badge`);
const signIn = async (who) => {
  await page.click(`#shoppers button:has-text('${who}')`);
  await page.waitForFunction((w) => document.querySelector("loyalty-panel")?.shadowRoot?.querySelector(".balance") !== null || w === null, who);
};
const serverState = (customer) => page.evaluate(async (c) => {
  const signed = await (await fetch(`/demo/identity?customer=${encodeURIComponent(c)}`)).json();
  return (await fetch("/v1/customers/me", { headers: { authorization: signed.authorization } })).json();
}, customer);
const axe = async (p, include) => {
  await p.evaluate(AXE);
  return p.evaluate(async (selector) => {
    const result = await window.axe.run(selector ? { include: [[selector]] } : document, { resultTypes: ["violations"] });
    return result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  }, include);
};

test("a guest sees what every product earns and what joining gives, with links to join and sign in", async () => {
  assert.equal(await page.$$eval(".products li", (items) => items.length), 60);
  await page.waitForFunction(() => document.querySelectorAll("loyalty-points[data-points]").length >= 59);
  assert.equal(await badge("longjing"), "购买可得 168 积分"); // ¥168 at 1 point per ¥1
  assert.equal(await badge("yirgacheffe"), "购买可得 196 积分"); // single-origin: double
  assert.equal(await badge("dahongpao"), "购买可得 594 积分"); // winter campaign: triple
  assert.equal(await badge("gift-card-100"), "此商品不参与积分"); // excluded
  assert.match(await page.textContent("loyalty-panel .join h3"), /^加入/);
  assert.equal(await page.getAttribute("loyalty-panel .join a.primary", "href"), "/?shopper=demo-new");
  assert.equal(await page.getAttribute("loyalty-panel .join a.secondary", "href"), "/?shopper=demo-gold");
  assert.equal(await page.$$eval("loyalty-launcher", (l) => l.length), 1); // added by the script tag
  assert.deepEqual(page.messages, []);
});

test("a signed-in shopper sees the server's numbers, their tier and earns with it", async () => {
  await signIn("demo-gold");
  await page.waitForFunction(() => document.querySelector("loyalty-panel")?.shadowRoot?.textContent.includes("黄金会员"));
  const state = await serverState("demo-gold");
  const shown = await page.textContent("loyalty-panel .balance .points");
  assert.equal(shown.replace(/[^\d]/g, ""), String(state.balance.available));
  assert.equal(await page.textContent("loyalty-panel .tier-name"), "黄金会员");
  const bar = await page.$("loyalty-panel [role=progressbar]");
  assert.equal(await bar.getAttribute("aria-valuenow"), String(Math.round(state.tier.progress * 100)));
  assert.match(await bar.getAttribute("aria-valuetext"), /黑金会员/);
  await page.waitForFunction(() => document.querySelector('.products li[data-product="longjing"] loyalty-points')?.getAttribute("data-points") === "252");
  assert.equal(await badge("longjing"), "购买可得 252 积分"); // Gold: 1.5x base
  assert.match(await page.textContent("loyalty-launcher .count"), /\d/);
  assert.deepEqual(page.messages, []);
});

test("points about to expire are shown", async () => {
  await signIn("demo-expiring");
  await page.waitForFunction(() => document.querySelector("loyalty-panel")?.shadowRoot?.querySelector(".expiring"));
  assert.match(await page.textContent("loyalty-panel .expiring"), /积分 将于 .+ 过期/);
  await signIn("demo-gold");
  // The tier's own name, not any mention of it: the shopper before may be on the way to Gold.
  await page.waitForFunction(() => document.querySelector("loyalty-panel")?.shadowRoot?.querySelector(".tier-name")?.textContent === "黄金会员");
});

test("switching the page to English re-renders every element", async () => {
  await page.click("#lang");
  assert.equal(await page.getAttribute("html", "lang"), "en");
  await page.waitForFunction(() => document.querySelector("loyalty-panel")?.shadowRoot?.textContent.includes("Gold"));
  assert.equal(await badge("longjing"), "Earn 252 points");
  assert.match(await page.textContent("loyalty-panel .tier .to-next"), /^Spend CN¥[\d,.]+ more to reach Black$/);
  assert.equal(await page.textContent("loyalty-launcher .name"), "Rewards");
  await page.click("#lang");
  await page.waitForFunction(() => document.querySelector("loyalty-panel")?.shadowRoot?.textContent.includes("黄金会员"));
});

test("the cart badge earns the sum of its parts", async () => {
  await page.waitForFunction(() => document.querySelector("loyalty-panel")?.shadowRoot?.querySelector(".tier-name")?.textContent === "黄金会员");
  const lines = () => page.$$eval("#cart-lines li", (items) => items.map((li) => li.textContent));
  await page.click('.products li[data-product="gaiwan"] button'); // ¥89: 89 base + 44 gold + 20 teaware bonus
  await page.waitForFunction(() => document.querySelector("#cart-lines")?.textContent.includes("盖碗"));
  await page.click('.products li[data-product="gift-card-100"] button'); // excluded
  await page.waitForFunction(() => document.querySelectorAll("#cart-lines li").length === 2);
  // What the page holds if the points never come (a failure seen once in a loaded run, not reproduced).
  const seen = async () => JSON.stringify(await page.evaluate(() => ({
    points: document.querySelector("#cart-points")?.getAttribute("data-points"),
    badge: document.querySelector("#cart-points")?.shadowRoot?.textContent,
    cart: document.querySelector("#cart-points")?.cart,
  })));
  await page.waitForFunction(() => document.querySelector("#cart-points")?.getAttribute("data-points") === "153", null, { timeout: 15000 })
    .catch(async (error) => assert.fail(`${error.message}: ${await seen()} lines ${JSON.stringify(await lines())}`));
  assert.equal(await page.textContent("#cart-points .badge"), "本单可得 153 积分");
  assert.deepEqual(page.messages, []);
});

test("the launcher's panel works by keyboard: a modal dialog, Escape closes and focus returns", async () => {
  await page.focus("loyalty-launcher");
  await page.keyboard.press("Tab");
  await page.evaluate(() => document.querySelector("loyalty-launcher").shadowRoot.querySelector(".launcher").focus());
  assert.equal(await page.getAttribute("loyalty-launcher .launcher", "aria-expanded"), "false");
  await page.keyboard.press("Enter");
  await page.waitForSelector("loyalty-launcher dialog[open]");
  assert.equal(await page.getAttribute("loyalty-launcher .launcher", "aria-expanded"), "true");
  const focused = () => page.evaluate(() => {
    const active = document.querySelector("loyalty-launcher").shadowRoot.activeElement;
    return active ? `${active.tagName.toLowerCase()}.${active.className}` : null;
  });
  assert.equal(await focused(), "h2.title");
  await page.keyboard.press("Tab");
  assert.equal(await focused(), "button.close");
  await page.keyboard.press("Tab");
  assert.equal(await focused(), "button.primary"); // the first redeem button
  await page.keyboard.press("Escape");
  await page.waitForSelector("loyalty-launcher dialog:not([open])", { state: "attached" });
  assert.equal(await focused(), "button.launcher");
  // The dialog's close event (after it closes) updates the launcher's state.
  await page.waitForFunction(() => document.querySelector("loyalty-launcher").shadowRoot.querySelector(".launcher")
    .getAttribute("aria-expanded") === "false", null, { timeout: 2000 });
});

test("a redemption asks for confirmation, shows the code, and the server debits once", async () => {
  const before = await serverState("demo-gold");
  await page.evaluate(() => {
    window.__redeemed = [];
    document.addEventListener("loyalty:redeem", (e) => window.__redeemed.push(e.detail));
  });
  await page.click("loyalty-panel button[data-action=redeem][data-id=ten-off]");
  await page.waitForSelector("loyalty-panel .confirm");
  assert.match(await page.textContent("loyalty-panel .confirm p"), /确定用 500 积分 兑换「立减 10 元」吗？/);
  await page.click("loyalty-panel button[data-action=confirm]");
  await page.waitForSelector("loyalty-panel .redeemed code", { timeout: 10000 });
  const code = await page.textContent("loyalty-panel .redeemed code");
  const events = await page.evaluate(() => window.__redeemed);
  assert.equal(events.length, 1);
  assert.deepEqual(events[0], { rewardId: "ten-off", code, cost: 500 });
  const after = await serverState("demo-gold");
  assert.equal(after.balance.available, before.balance.available - 500);
  assert.ok(after.codes.some((c) => c.code === code));
  // The balance shown follows the server's, and the change is announced.
  await page.waitForFunction((n) => document.querySelector("loyalty-panel").shadowRoot.querySelector(".balance .points").textContent.replace(/[^\d]/g, "") === String(n), after.balance.available);
  assert.match(await page.textContent("loyalty-panel [aria-live]"), /当前积分/);
  assert.deepEqual(page.messages, []);
});

// The launcher's dialog open and its slide-in over (mid-animation its text is faded, and contrast is not final).
async function settled() {
  await page.waitForFunction(() => {
    const dialog = document.querySelector("loyalty-launcher")?.shadowRoot?.querySelector("dialog[open]");
    return dialog && dialog.getAnimations().length === 0;
  });
}

test("axe-core finds no violations with the panel closed and open, in both languages", async () => {
  assert.deepEqual(await axe(page, "loyalty-panel"), []);
  assert.deepEqual(await axe(page, "loyalty-launcher"), []);
  await page.evaluate(() => document.querySelector("loyalty-launcher").open());
  await settled();
  assert.deepEqual(await axe(page, "loyalty-launcher"), []);
  await page.evaluate(() => document.querySelector("loyalty-launcher").close());
  await page.click("#lang");
  await page.waitForFunction(() => document.querySelector("loyalty-panel")?.shadowRoot?.textContent.includes("Gold"));
  assert.deepEqual(await axe(page, "loyalty-panel"), []);
  await page.click("#lang");
  // Dark theme: the contrast of every text against the dark background.
  await page.emulateMedia({ colorScheme: "dark" });
  assert.deepEqual(await axe(page, "loyalty-panel"), []);
  await page.evaluate(() => document.querySelector("loyalty-launcher").open());
  await settled();
  assert.deepEqual(await axe(page, "loyalty-launcher"), []);
  await page.evaluate(() => document.querySelector("loyalty-launcher").close());
  // theme="light" wins over a dark system setting, and theme="dark" over a light one.
  const background = () => page.evaluate(() => getComputedStyle(document.querySelector("loyalty-panel").shadowRoot.querySelector(".panel")).backgroundColor);
  assert.equal(await background(), "rgb(28, 28, 33)");
  await page.evaluate(() => document.querySelector("loyalty-panel").setAttribute("theme", "light"));
  assert.equal(await background(), "rgb(255, 255, 255)");
  await page.emulateMedia({ colorScheme: "light" });
  await page.evaluate(() => document.querySelector("loyalty-panel").setAttribute("theme", "dark"));
  assert.equal(await background(), "rgb(28, 28, 33)");
  assert.deepEqual(await axe(page, "loyalty-panel"), []);
  await page.evaluate(() => document.querySelector("loyalty-panel").removeAttribute("theme"));
  assert.equal(await background(), "rgb(255, 255, 255)");
  assert.deepEqual(await page.evaluate(() => window.__violations), []);
});

test("a shopper gives their birthday once, by keyboard, and the server keeps it", async () => {
  assert.equal((await serverState("demo-gold")).birthday, null);
  const panel = "loyalty-panel";
  await page.waitForSelector(`${panel} .birthday select[data-action=birthday-month]`);
  await page.focus(`${panel} select[data-action=birthday-month]`);
  await page.selectOption(`${panel} select[data-action=birthday-month]`, "8");
  await page.selectOption(`${panel} select[data-action=birthday-day]`, "31");
  await page.focus(`${panel} button[data-action=birthday]`);
  await page.keyboard.press("Enter");
  await page.waitForFunction(() => !document.querySelector("loyalty-panel").shadowRoot.querySelector(".birthday select"), null, { timeout: 10000 });
  assert.match(await page.textContent(`${panel} .birthday p`), /生日（8月31日）当天可得 200 积分/);
  assert.equal((await serverState("demo-gold")).birthday, "08-31");
  // The launcher's panel on the same client shows it too, and nothing was logged.
  await page.evaluate(() => document.querySelector("loyalty-launcher").open());
  await page.waitForSelector("loyalty-launcher dialog[open]");
  assert.match(await page.textContent("loyalty-launcher .birthday p"), /8月31日/);
  await page.evaluate(() => document.querySelector("loyalty-launcher").close());
  assert.deepEqual(page.messages, []);
});

test("a product page reads its price from JSON-LD, follows the quantity, and does not shift", async () => {
  const p = await open(`${ORIGIN}/product.html`, { width: 390, height: 844 });
  await p.evaluate(() => {
    window.__shift = 0;
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) if (!entry.hadRecentInput) window.__shift += entry.value;
    }).observe({ type: "layout-shift", buffered: true });
  });
  await p.waitForSelector("loyalty-points[data-points]");
  assert.equal(await p.textContent("loyalty-points .badge"), "购买可得 168 积分");
  await p.selectOption("#quantity", "2");
  await p.waitForFunction(() => document.querySelector("loyalty-points").getAttribute("data-points") === "336");
  await p.waitForTimeout(300);
  // The CLS budget (0) is a failing check of `make test`, with the measured value printed.
  const shift = await p.evaluate(() => window.__shift);
  console.log(`CLS on the product page (390x844, quantity changed): ${shift} (budget 0)`);
  assert.equal(shift, 0);
  assert.equal(await p.getAttribute("loyalty-launcher", "position"), "bottom-left");
  assert.deepEqual(await axe(p), []);
  assert.deepEqual(await p.evaluate(() => window.__violations), []);
  assert.deepEqual(p.messages, []);
  await p.close();
});

// size-budget's `first` modules are what a product page downloads before anyone touches the widget: checked
// against what Chromium fetches for it on the demo product page without its list, in a fresh context, until 3 s
// after the load event (no interaction; prefetch happens only on intent).
test("a product page downloads exactly size-budget's first-load files for the widget, and records its visit", async () => {
  const { budget } = await import("../../scripts/size-report.mjs");
  const { modules } = budget(readFileSync(new URL("../../size-budget", import.meta.url), "utf8"));
  const first = modules.filter((m) => m.first).map((m) => `/${m.file}`).sort();
  const html = (await (await fetch(`${ORIGIN}/product.html`)).text()).replace(/<section class="recommendations-row">.*<\/section>/s, "");
  assert.ok(!html.includes("loyalty-recommendations"), "the page without its list");
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const p = await context.newPage();
  const fetched = new Set();
  p.on("request", (r) => {
    const path = new URL(r.url()).pathname;
    if (path.startsWith("/pkg/")) fetched.add(path);
  });
  await p.route(`${ORIGIN}/product-alone.html`, (route) => route.fulfill({ contentType: "text/html", body: html }));
  await p.goto(`${ORIGIN}/product-alone.html`);
  await p.waitForSelector("loyalty-points[data-points]");
  await p.waitForTimeout(3000);
  assert.deepEqual([...fetched].sort(), first);
  // Without the full widget, the shell still records the product page's visit for later recommendations.
  const history = await p.evaluate(() => Object.entries(localStorage).find(([k]) => k.endsWith(":history"))?.[1]);
  assert.equal(JSON.parse(history).events.at(-1).productId, "longjing");
  await context.close();
});

// Serves `html` at a same-origin URL with the server's CSP (or `csp`).
async function hostPage(html, path = "/test-host.html", csp = CSP) {
  const p = await browser.newPage();
  p.messages = [];
  p.on("pageerror", (e) => p.messages.push(`pageerror: ${e.message}`));
  p.on("console", (m) => ["error", "warning"].includes(m.type()) && p.messages.push(`${m.type()}: ${m.text()}`));
  await p.route(`${ORIGIN}${path}`, (route) => route.fulfill({ contentType: "text/html", body: html, headers: { "content-security-policy": csp } }));
  await p.goto(`${ORIGIN}${path}`);
  return p;
}

// The shell runs in a worker made from a blob: URL; a policy that refuses blob: workers gets it on the page.
test("under a CSP without worker-src blob: the shell runs on the page, saying the same; the browser logs the refusal once", async () => {
  const html = `<!doctype html><html lang="en"><head><script type="module" src="/pkg/storefront-loyalty.js" data-api-base="/"></script></head>
    <body><p id="shop">Shop</p><loyalty-points product-id="longjing" price="16800" categories="tea"></loyalty-points>
    <loyalty-cart-points lines='[{"productId":"gaiwan","categories":["teaware"],"unitPrice":12800,"quantity":2}]'></loyalty-cart-points></body></html>`;
  const strict = CSP.replace(/; worker-src [^;]*/, "");
  assert.ok(!strict.includes("worker-src"));
  const shown = async (p) => {
    await p.waitForSelector("loyalty-points[data-points]");
    await p.waitForSelector("loyalty-cart-points[data-points]");
    await p.waitForFunction(() => document.querySelector("loyalty-launcher")?.shadowRoot?.querySelector(".name")?.textContent);
    return p.evaluate(() => [
      ...[...document.querySelectorAll("loyalty-points, loyalty-cart-points")].flatMap((e) => [e.dataset.points, e.shadowRoot.querySelector(".badge").textContent]),
      document.querySelector("loyalty-launcher").shadowRoot.querySelector(".launcher").textContent,
    ]);
  };
  const inWorker = await hostPage(html, "/csp-worker.html");
  const worker = await shown(inWorker);
  assert.equal(inWorker.workers().length, 1, "the shell's worker runs");
  assert.deepEqual(inWorker.messages, []);
  const onPage = await hostPage(html, "/csp-strict.html", strict);
  assert.deepEqual(await shown(onPage), worker);
  assert.equal(onPage.workers().length, 0, "no worker under the strict policy");
  assert.equal(onPage.messages.length, 1, onPage.messages.join("\n"));
  assert.match(onPage.messages[0], /worker from 'blob:.*Content Security Policy/);
  assert.match(worker[1], /Earn 168 points/);
  await inWorker.close();
  await onPage.close();
});

test("a hostile host page's global CSS cannot hide or restyle the widget", async () => {
  const css = `${ORIGIN}/hostile.css`;
  const p = await browser.newPage();
  p.messages = [];
  p.on("pageerror", (e) => p.messages.push(e.message));
  await p.route(css, (route) => route.fulfill({ contentType: "text/css", body: "* { all: unset !important; } div { display: none !important; } button { font-size: 40px !important; color: red !important; }" }));
  await p.route(`${ORIGIN}/hostile.html`, (route) => route.fulfill({ contentType: "text/html", headers: { "content-security-policy": CSP }, body: `<!doctype html><html lang="en"><head><link rel="stylesheet" href="/hostile.css">
    <script type="module" src="/pkg/storefront-loyalty.js" data-api-base="/"></script></head>
    <body><div><p>Shop</p><loyalty-points product-id="longjing" price="16800"></loyalty-points></div><loyalty-panel></loyalty-panel></body></html>` }));
  await p.goto(`${ORIGIN}/hostile.html`);
  await p.waitForSelector("loyalty-launcher");
  await p.waitForSelector("loyalty-panel .join");
  const box = await p.$eval("loyalty-launcher", (l) => {
    const r = l.shadowRoot.querySelector(".launcher").getBoundingClientRect();
    return { w: r.width, h: r.height, font: getComputedStyle(l.shadowRoot.querySelector(".launcher")).fontSize };
  });
  assert.ok(box.w > 40 && box.h >= 44, JSON.stringify(box));
  assert.equal(box.font, "14px");
  await p.evaluate(() => document.querySelector("loyalty-launcher").shadowRoot.querySelector(".launcher").click());
  await p.waitForSelector("loyalty-launcher dialog[open]");
  const dialog = await p.$eval("loyalty-launcher", (l) => l.shadowRoot.querySelector("dialog").getBoundingClientRect().width);
  assert.ok(dialog > 300, String(dialog));
  assert.deepEqual(p.messages, []);
  await p.close();
});

test("a bad setting gives one console error naming the attribute, and the page is untouched", async () => {
  const p = await hostPage(`<!doctype html><html lang="en"><head>
    <script type="module" src="/pkg/storefront-loyalty.js" data-api-base="/" data-customer-id="c1" data-timestamp="soon" data-digest="abc"></script>
    </head><body><p id="shop">Shop</p></body></html>`);
  await p.waitForFunction(() => window[Symbol.for("storefront-loyalty")] === true);
  await p.waitForTimeout(500);
  assert.equal(p.messages.length, 1, p.messages.join("\n"));
  assert.match(p.messages[0], /data-timestamp/);
  assert.equal(await p.$$eval("loyalty-launcher", (l) => l.length), 0);
  assert.equal(await p.textContent("#shop"), "Shop");
  await p.close();

  const q = await hostPage(`<!doctype html><html><head>
    <script type="module" src="/pkg/storefront-loyalty.js" data-api-base="/" data-position="middle"></script></head><body></body></html>`);
  await q.waitForTimeout(500);
  assert.equal(q.messages.length, 1);
  assert.match(q.messages[0], /data-position must be one of bottom-right, bottom-left, top-right, top-left, got "middle"/);
  await q.close();

  // The recommendation settings reach createClient, whose problems name the attributes.
  const r = await hostPage(`<!doctype html><html><head>
    <script type="module" src="/pkg/storefront-loyalty.js" data-api-base="/" data-catalog-limit="lots"
      data-history-half-life-days="0" data-require-consent="yes"></script></head><body></body></html>`);
  // The error comes once the wasm is loaded and createClient has run: wait for it, then a moment for any other.
  for (let i = 0; i < 100 && r.messages.length === 0; i++) await r.waitForTimeout(50);
  await r.waitForTimeout(200);
  assert.equal(r.messages.length, 1, r.messages.join("\n"));
  for (const expected of ["data-catalog-limit must be a whole number from 0 to 5000",
    "data-history-half-life-days must be a whole number from 1 to 365", "data-require-consent must be true or false"]) {
    assert.ok(r.messages[0].includes(expected), `${expected} in ${r.messages[0]}`);
  }
  await r.close();

  // So does the switch that keeps discount codes out of the page's events.
  const s = await hostPage(`<!doctype html><html><head>
    <script type="module" src="/pkg/storefront-loyalty.js" data-api-base="/" data-codes-in-events="no"></script></head><body></body></html>`);
  for (let i = 0; i < 100 && s.messages.length === 0; i++) await s.waitForTimeout(50);
  await s.waitForTimeout(200);
  assert.equal(s.messages.length, 1, s.messages.join("\n"));
  assert.match(s.messages[0], /data-codes-in-events must be true or false/);
  await s.close();
});

test("two script tags: one widget, one warning", async () => {
  const p = await hostPage(`<!doctype html><html lang="en"><head>
    <script type="module" src="/pkg/storefront-loyalty.js" data-api-base="/"></script>
    <script type="module" src="/pkg/storefront-loyalty.js?copy=2" data-api-base="/"></script>
    </head><body><loyalty-points product-id="longjing" price="16800"></loyalty-points></body></html>`);
  await p.waitForSelector("loyalty-points[data-points]");
  await p.waitForTimeout(300);
  assert.equal(await p.$$eval("loyalty-launcher", (l) => l.length), 1);
  assert.deepEqual(p.messages.filter((m) => !m.includes("already loaded")), []);
  assert.equal(p.messages.length, 1);
  await p.close();
});
